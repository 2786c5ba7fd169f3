/* The SDL drawing of a layout. See draw.h. The drawing follows svg.c element
 * by element, so every export and the viewer show the same picture. */
#include "draw.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>

#define DRAW_MARKER_W 4
#define DRAW_DASH_ON 6
#define DRAW_DASH_OFF 3

enum draw_anchor {
    DRAW_ANCHOR_START,
    DRAW_ANCHOR_MIDDLE,
    DRAW_ANCHOR_END
};

struct draw_fonts {
    int body_px;
    TTF_Font *regular;
    TTF_Font *bold;
    TTF_Font *title;
};

struct draw_canvas {
    SDL_Surface *surface;
    const struct draw_fonts *fonts;
    struct error *err;
};

/* Finds the font file of DRAW_FONT_FAMILY (or fontconfig's nearest sans
 * font) into buf. Returns false when fontconfig knows no font at all. */
static bool draw_find_font(char *buf, size_t size)
{
    bool found = false;
    FcConfig *cfg = FcInitLoadConfigAndFonts();
    if (!cfg)
        return false;
    FcPattern *pat = FcNameParse((const FcChar8 *)DRAW_FONT_FAMILY);
    if (pat) {
        FcConfigSubstitute(cfg, pat, FcMatchPattern);
        FcDefaultSubstitute(pat);
        FcResult result = FcResultNoMatch;
        FcPattern *match = FcFontMatch(cfg, pat, &result);
        FcChar8 *file = NULL;
        if (match && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch && file &&
            (size_t)snprintf(buf, size, "%s", (const char *)file) < size)
            found = true;
        if (match)
            FcPatternDestroy(match);
        FcPatternDestroy(pat);
    }
    FcConfigDestroy(cfg);
    return found;
}

static TTF_Font *draw_open_font(const char *path, int size, int style, struct error *err)
{
    TTF_Font *f = TTF_OpenFont(path, size);
    if (!f) {
        error_set(err, STATUS_INTERNAL, NULL, "cannot open the font %s: %s", path,
                  TTF_GetError());
        return NULL;
    }
    TTF_SetFontStyle(f, style);
    return f;
}

struct draw_fonts *draw_fonts_create(int body_px, struct error *err)
{
    char path[4096];
    if (body_px < 4 || body_px > 1000) {
        error_set(err, STATUS_INTERNAL, NULL, "no font size %d px", body_px);
        return NULL;
    }
    if (!draw_find_font(path, sizeof path)) {
        error_set(err, STATUS_INTERNAL, NULL,
                  "no font found to draw text: install the " DRAW_FONT_FAMILY
                  " font (Debian package fonts-dejavu-core)");
        return NULL;
    }
    struct draw_fonts *f = calloc(1, sizeof *f);
    if (!f) {
        error_set(err, STATUS_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    /* TTF_Init counts its callers, so a viewer's own use of SDL_ttf is safe. */
    if (TTF_Init() != 0) {
        error_set(err, STATUS_INTERNAL, NULL, "cannot start SDL_ttf: %s", TTF_GetError());
        free(f);
        return NULL;
    }
    f->body_px = body_px;
    /* The title is a quarter larger than the body: 15 px over 12. */
    int title_px = (body_px * 5 + 2) / 4;
    f->regular = draw_open_font(path, body_px, TTF_STYLE_NORMAL, err);
    f->bold = f->regular ? draw_open_font(path, body_px, TTF_STYLE_BOLD, err) : NULL;
    f->title = f->bold ? draw_open_font(path, title_px, TTF_STYLE_BOLD, err) : NULL;
    if (!f->title) {
        draw_fonts_destroy(f);
        return NULL;
    }
    return f;
}

void draw_fonts_destroy(struct draw_fonts *fonts)
{
    if (!fonts)
        return;
    if (fonts->title)
        TTF_CloseFont(fonts->title);
    if (fonts->bold)
        TTF_CloseFont(fonts->bold);
    if (fonts->regular)
        TTF_CloseFont(fonts->regular);
    free(fonts);
    TTF_Quit();
}

int draw_fonts_px(const struct draw_fonts *fonts)
{
    return fonts->body_px;
}

static Uint32 draw_map(const struct draw_canvas *c, uint32_t rgb)
{
    return SDL_MapRGB(c->surface->format, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb);
}

/* Fills [x, x+w) x [y, y+h), clipped to the surface. */
static void draw_fill(struct draw_canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
    if (w <= 0 || h <= 0)
        return;
    SDL_Rect r = { x, y, w, h };
    SDL_FillRect(c->surface, &r, draw_map(c, rgb));
}

/* Draws text with its baseline at y, anchored at x as SVG's text-anchor. */
static enum status draw_text(struct draw_canvas *c, TTF_Font *font, int x, int y,
                            enum draw_anchor anchor, uint32_t rgb, const char *text)
{
    /* SDL2_ttf refuses an empty string as "zero width" text. */
    if (!text[0])
        return STATUS_OK;
    SDL_Color col = { (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255 };
    SDL_Surface *s = TTF_RenderUTF8_Blended(font, text, col);
    if (!s)
        return error_set(c->err, STATUS_INTERNAL, NULL, "cannot draw the text '%s': %s", text,
                         TTF_GetError());
    SDL_Rect at = { x, y - TTF_FontAscent(font), s->w, s->h };
    if (anchor == DRAW_ANCHOR_MIDDLE)
        at.x -= s->w / 2;
    else if (anchor == DRAW_ANCHOR_END)
        at.x -= s->w;
    int rc = SDL_BlitSurface(s, NULL, c->surface, &at);
    SDL_FreeSurface(s);
    if (rc != 0)
        return error_set(c->err, STATUS_INTERNAL, NULL, "cannot draw the text '%s': %s", text,
                         SDL_GetError());
    return STATUS_OK;
}

static enum status draw_rows(struct draw_canvas *c, const struct layout *lay,
                            const struct layout_palette *pal)
{
    int label_baseline = lay->row_h / 2 + 4;
    enum status st = STATUS_OK;
    for (size_t i = 0; i < lay->ngroups && st == STATUS_OK; i++) {
        const struct layout_group *g = &lay->groups[i];
        draw_fill(c, 0, g->y, lay->width, g->h, pal->header);
        st = draw_text(c, c->fonts->bold, 8, g->y + g->h - 5, DRAW_ANCHOR_START, pal->muted_text,
                      g->label);
    }
    for (size_t i = 0; i < lay->nlanes && st == STATUS_OK; i++) {
        const struct layout_lane *ln = &lay->lanes[i];
        if (i % 2 == 1)
            draw_fill(c, 0, ln->y, lay->width, ln->h, pal->lane_alt);
        /* Labels need a row tall enough to be read; thinner rows go without. */
        if (ln->h >= 10)
            st = draw_text(c, c->fonts->regular, 8, ln->y + label_baseline, DRAW_ANCHOR_START,
                          pal->text, ln->label);
    }
    for (size_t i = 0; i < lay->nticks; i++)
        draw_fill(c, lay->ticks[i].x, lay->lanes_y0, 1, lay->axis_y - lay->lanes_y0 + 1,
                 pal->grid);
    return st;
}

static void draw_rects(struct draw_canvas *c, const struct layout *lay)
{
    int inset = lay->row_h >= 8 ? 3 : 0;
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        const struct layout_lane *ln = &lay->lanes[r->lane];
        draw_fill(c, r->x0, ln->y + inset, r->x1 - r->x0, ln->h - 2 * inset, r->color);
    }
}

/* A downward triangle, DRAW_MARKER_W on each side of x at the top and h tall,
 * one scan line at a time. */
static void draw_triangle(struct draw_canvas *c, int x, int y, int h, int grow, uint32_t rgb)
{
    for (int row = 0; row < h; row++) {
        int half = (DRAW_MARKER_W * (h - row) + h / 2) / h + grow;
        draw_fill(c, x - half, y + row, 2 * half, 1, rgb);
    }
}

static enum status draw_markers(struct draw_canvas *c, const struct layout *lay,
                               const struct layout_palette *pal)
{
    for (size_t i = 0; i < lay->nmarkers; i++) {
        const struct layout_marker *m = &lay->markers[i];
        if (m->kind == LAYOUT_MARKER_DEADLOCK) {
            for (int y = lay->lanes_y0; y < lay->axis_y; y += DRAW_DASH_ON + DRAW_DASH_OFF) {
                int len = lay->axis_y - y < DRAW_DASH_ON ? lay->axis_y - y : DRAW_DASH_ON;
                draw_fill(c, m->x - 1, y, 2, len, pal->deadlock);
            }
            enum status st = draw_text(c, c->fonts->bold, m->x - 4, lay->lanes_y0 - 4, DRAW_ANCHOR_END,
                                      pal->deadlock, "deadlock");
            if (st != STATUS_OK)
                return st;
            continue;
        }
        const struct layout_lane *ln = &lay->lanes[m->lane];
        int h = ln->h / 2 < 8 ? ln->h / 2 : 8;
        if (h <= 0)
            continue;
        /* The background-coloured rim keeps the marker visible on any state. */
        draw_triangle(c, m->x, ln->y, h + 1, 1, pal->background);
        draw_triangle(c, m->x, ln->y, h, 0, pal->marker);
    }
    return STATUS_OK;
}

static enum status draw_axis(struct draw_canvas *c, const struct layout *lay,
                            const struct layout_palette *pal)
{
    draw_fill(c, lay->plot_x0, lay->axis_y, lay->plot_x1 - lay->plot_x0 + 1, 1, pal->text);
    for (size_t i = 0; i < lay->nticks; i++) {
        const struct layout_tick *t = &lay->ticks[i];
        draw_fill(c, t->x, lay->axis_y, 1, 5, pal->text);
        enum status st = draw_text(c, c->fonts->regular, t->x, lay->axis_y + 17, DRAW_ANCHOR_MIDDLE,
                                  pal->muted_text, t->label);
        if (st != STATUS_OK)
            return st;
    }
    return STATUS_OK;
}

static enum status draw_legend(struct draw_canvas *c, const struct layout *lay,
                              const struct layout_palette *pal)
{
    for (size_t i = 0; i < lay->nlegend; i++) {
        const struct layout_legend_item *it = &lay->legend[i];
        draw_fill(c, it->x, it->y, 13, 13, pal->muted_text);
        draw_fill(c, it->x + 1, it->y + 1, 11, 11, it->color);
        enum status st = draw_text(c, c->fonts->regular, it->x + 18, it->y + 11, DRAW_ANCHOR_START,
                                  pal->text, it->label);
        if (st != STATUS_OK)
            return st;
    }
    return STATUS_OK;
}

enum status draw_layout(SDL_Surface *dst, const struct layout *lay,
                        const struct draw_fonts *fonts, struct error *err)
{
    struct draw_canvas canvas = { .surface = dst, .fonts = fonts, .err = err };
    struct draw_canvas *c = &canvas;
    const struct layout_palette *pal = layout_palette(lay->theme);
    draw_fill(c, 0, 0, lay->width, lay->height, pal->background);
    enum status st = draw_text(c, c->fonts->title, 8, lay->title_y, DRAW_ANCHOR_START, pal->text,
                              lay->title);
    if (st == STATUS_OK)
        st = draw_rows(c, lay, pal);
    if (st == STATUS_OK) {
        draw_rects(c, lay);
        st = draw_markers(c, lay, pal);
    }
    if (st == STATUS_OK)
        st = draw_axis(c, lay, pal);
    if (st == STATUS_OK)
        st = draw_legend(c, lay, pal);
    return st;
}

