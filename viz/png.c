/* The PNG renderer. See png.h. The drawing follows svg.c element by element,
 * so both exports show the same picture. */
#include "png.h"

#include <stdbool.h>
#include <stdint.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>

#define PNG_FONT_FAMILY "DejaVu Sans"
#define PNG_FONT_SIZE 12
#define PNG_TITLE_SIZE 15
#define PNG_MARKER_W 4
#define PNG_DASH_ON 6
#define PNG_DASH_OFF 3

enum png_anchor {
    PNG_ANCHOR_START,
    PNG_ANCHOR_MIDDLE,
    PNG_ANCHOR_END
};

struct png_canvas {
    SDL_Surface *surface;
    TTF_Font *regular;
    TTF_Font *bold;
    TTF_Font *title;
    struct error *err;
};

/* Finds the font file of PNG_FONT_FAMILY (or fontconfig's nearest sans
 * font) into buf. Returns false when fontconfig knows no font at all. */
static bool png_find_font(char *buf, size_t size)
{
    bool found = false;
    FcConfig *cfg = FcInitLoadConfigAndFonts();
    if (!cfg)
        return false;
    FcPattern *pat = FcNameParse((const FcChar8 *)PNG_FONT_FAMILY);
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

static Uint32 png_map(const struct png_canvas *c, uint32_t rgb)
{
    return SDL_MapRGB(c->surface->format, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb);
}

/* Fills [x, x+w) x [y, y+h), clipped to the surface. */
static void png_fill(struct png_canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
    if (w <= 0 || h <= 0)
        return;
    SDL_Rect r = { x, y, w, h };
    SDL_FillRect(c->surface, &r, png_map(c, rgb));
}

/* Draws text with its baseline at y, anchored at x as SVG's text-anchor. */
static enum status png_text(struct png_canvas *c, TTF_Font *font, int x, int y,
                            enum png_anchor anchor, uint32_t rgb, const char *text)
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
    if (anchor == PNG_ANCHOR_MIDDLE)
        at.x -= s->w / 2;
    else if (anchor == PNG_ANCHOR_END)
        at.x -= s->w;
    int rc = SDL_BlitSurface(s, NULL, c->surface, &at);
    SDL_FreeSurface(s);
    if (rc != 0)
        return error_set(c->err, STATUS_INTERNAL, NULL, "cannot draw the text '%s': %s", text,
                         SDL_GetError());
    return STATUS_OK;
}

static enum status png_rows(struct png_canvas *c, const struct layout *lay,
                            const struct layout_palette *pal)
{
    int label_baseline = lay->row_h / 2 + 4;
    enum status st = STATUS_OK;
    for (size_t i = 0; i < lay->ngroups && st == STATUS_OK; i++) {
        const struct layout_group *g = &lay->groups[i];
        png_fill(c, 0, g->y, lay->width, g->h, pal->header);
        st = png_text(c, c->bold, 8, g->y + g->h - 5, PNG_ANCHOR_START, pal->muted_text,
                      g->label);
    }
    for (size_t i = 0; i < lay->nlanes && st == STATUS_OK; i++) {
        const struct layout_lane *ln = &lay->lanes[i];
        if (i % 2 == 1)
            png_fill(c, 0, ln->y, lay->width, ln->h, pal->lane_alt);
        /* Labels need a row tall enough to be read; thinner rows go without. */
        if (ln->h >= 10)
            st = png_text(c, c->regular, 8, ln->y + label_baseline, PNG_ANCHOR_START,
                          pal->text, ln->label);
    }
    for (size_t i = 0; i < lay->nticks; i++)
        png_fill(c, lay->ticks[i].x, lay->lanes_y0, 1, lay->axis_y - lay->lanes_y0 + 1,
                 pal->grid);
    return st;
}

static void png_rects(struct png_canvas *c, const struct layout *lay)
{
    int inset = lay->row_h >= 8 ? 3 : 0;
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        const struct layout_lane *ln = &lay->lanes[r->lane];
        png_fill(c, r->x0, ln->y + inset, r->x1 - r->x0, ln->h - 2 * inset, r->color);
    }
}

/* A downward triangle, PNG_MARKER_W on each side of x at the top and h tall,
 * one scan line at a time. */
static void png_triangle(struct png_canvas *c, int x, int y, int h, int grow, uint32_t rgb)
{
    for (int row = 0; row < h; row++) {
        int half = (PNG_MARKER_W * (h - row) + h / 2) / h + grow;
        png_fill(c, x - half, y + row, 2 * half, 1, rgb);
    }
}

static enum status png_markers(struct png_canvas *c, const struct layout *lay,
                               const struct layout_palette *pal)
{
    for (size_t i = 0; i < lay->nmarkers; i++) {
        const struct layout_marker *m = &lay->markers[i];
        if (m->kind == LAYOUT_MARKER_DEADLOCK) {
            for (int y = lay->lanes_y0; y < lay->axis_y; y += PNG_DASH_ON + PNG_DASH_OFF) {
                int len = lay->axis_y - y < PNG_DASH_ON ? lay->axis_y - y : PNG_DASH_ON;
                png_fill(c, m->x - 1, y, 2, len, pal->deadlock);
            }
            enum status st = png_text(c, c->bold, m->x - 4, lay->lanes_y0 - 4, PNG_ANCHOR_END,
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
        png_triangle(c, m->x, ln->y, h + 1, 1, pal->background);
        png_triangle(c, m->x, ln->y, h, 0, pal->marker);
    }
    return STATUS_OK;
}

static enum status png_axis(struct png_canvas *c, const struct layout *lay,
                            const struct layout_palette *pal)
{
    png_fill(c, lay->plot_x0, lay->axis_y, lay->plot_x1 - lay->plot_x0 + 1, 1, pal->text);
    for (size_t i = 0; i < lay->nticks; i++) {
        const struct layout_tick *t = &lay->ticks[i];
        png_fill(c, t->x, lay->axis_y, 1, 5, pal->text);
        enum status st = png_text(c, c->regular, t->x, lay->axis_y + 17, PNG_ANCHOR_MIDDLE,
                                  pal->muted_text, t->label);
        if (st != STATUS_OK)
            return st;
    }
    return STATUS_OK;
}

static enum status png_legend(struct png_canvas *c, const struct layout *lay,
                              const struct layout_palette *pal)
{
    for (size_t i = 0; i < lay->nlegend; i++) {
        const struct layout_legend_item *it = &lay->legend[i];
        png_fill(c, it->x, it->y, 13, 13, pal->muted_text);
        png_fill(c, it->x + 1, it->y + 1, 11, 11, it->color);
        enum status st = png_text(c, c->regular, it->x + 18, it->y + 11, PNG_ANCHOR_START,
                                  pal->text, it->label);
        if (st != STATUS_OK)
            return st;
    }
    return STATUS_OK;
}

static enum status png_draw(struct png_canvas *c, const struct layout *lay)
{
    const struct layout_palette *pal = layout_palette(lay->theme);
    png_fill(c, 0, 0, lay->width, lay->height, pal->background);
    enum status st = png_text(c, c->title, 8, lay->title_y, PNG_ANCHOR_START, pal->text,
                              lay->title);
    if (st == STATUS_OK)
        st = png_rows(c, lay, pal);
    if (st == STATUS_OK) {
        png_rects(c, lay);
        st = png_markers(c, lay, pal);
    }
    if (st == STATUS_OK)
        st = png_axis(c, lay, pal);
    if (st == STATUS_OK)
        st = png_legend(c, lay, pal);
    return st;
}

static TTF_Font *png_open_font(const char *path, int size, int style, struct error *err)
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

static enum status png_save(struct png_canvas *c, FILE *out)
{
    SDL_RWops *rw = SDL_RWFromFP(out, SDL_FALSE);
    if (!rw)
        return error_set(c->err, STATUS_INTERNAL, NULL, "cannot write the PNG image: %s",
                         SDL_GetError());
    /* IMG_SavePNG_RW closes rw (freeclose 1) but not out (autoclose false). */
    if (IMG_SavePNG_RW(c->surface, rw, 1) != 0)
        return error_set(c->err, STATUS_INTERNAL, NULL, "cannot write the PNG image: %s",
                         IMG_GetError());
    if (fflush(out) != 0 || ferror(out))
        return error_set(c->err, STATUS_INTERNAL, NULL, "cannot write the PNG image");
    return STATUS_OK;
}

enum status png_write(const struct layout *lay, FILE *out, struct error *err)
{
    char font_path[4096];
    struct png_canvas c = { .err = err };
    enum status st = STATUS_OK;

    if (!png_find_font(font_path, sizeof font_path))
        return error_set(err, STATUS_INTERNAL, NULL,
                         "no font found for the PNG image: install the " PNG_FONT_FAMILY
                         " font (Debian package fonts-dejavu-core)");
    /* Only SDL's core, never the video subsystem: surfaces, fonts and PNG
     * files work without a display. Someone else's SDL (a viewer) stays up. */
    bool sdl_was_up = SDL_WasInit(SDL_INIT_EVERYTHING) != 0;
    if (SDL_Init(0) != 0)
        return error_set(err, STATUS_INTERNAL, NULL, "cannot start SDL: %s", SDL_GetError());
    if (TTF_Init() != 0) {
        st = error_set(err, STATUS_INTERNAL, NULL, "cannot start SDL_ttf: %s", TTF_GetError());
        goto quit_sdl;
    }
    c.surface = SDL_CreateRGBSurfaceWithFormat(0, lay->width, lay->height, 32,
                                               SDL_PIXELFORMAT_ARGB8888);
    if (!c.surface) {
        st = error_set(err, STATUS_INTERNAL, NULL, "cannot make a %d x %d image: %s",
                       lay->width, lay->height, SDL_GetError());
        goto quit_ttf;
    }
    c.regular = png_open_font(font_path, PNG_FONT_SIZE, TTF_STYLE_NORMAL, err);
    c.bold = c.regular ? png_open_font(font_path, PNG_FONT_SIZE, TTF_STYLE_BOLD, err) : NULL;
    c.title = c.bold ? png_open_font(font_path, PNG_TITLE_SIZE, TTF_STYLE_BOLD, err) : NULL;
    if (!c.title)
        st = STATUS_INTERNAL;
    if (st == STATUS_OK)
        st = png_draw(&c, lay);
    if (st == STATUS_OK)
        st = png_save(&c, out);
    if (c.title)
        TTF_CloseFont(c.title);
    if (c.bold)
        TTF_CloseFont(c.bold);
    if (c.regular)
        TTF_CloseFont(c.regular);
    SDL_FreeSurface(c.surface);
quit_ttf:
    TTF_Quit();
quit_sdl:
    if (!sdl_was_up)
        SDL_Quit();
    return st;
}
