/* The SDL drawing of a layout. See draw.h. The drawing follows svg.c element
 * by element, so every export and the viewer show the same picture. */
#include "draw.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Each face has a fallback for the characters DejaVu lacks (the lecture
 * notes' Chinese), or NULL when no such font is installed. */
struct draw_fonts {
    int body_px;
    TTF_Font *regular;
    TTF_Font *bold;
    TTF_Font *title;
    TTF_Font *fallback_regular;
    TTF_Font *fallback_bold;
    TTF_Font *fallback_title;
};

struct draw_canvas {
    SDL_Surface *surface;
    const struct draw_fonts *fonts;
    struct error *err;
};

bool draw_font_path(const char *pattern, char *buf, size_t size)
{
    bool found = false;
    FcConfig *cfg = FcInitLoadConfigAndFonts();
    if (!cfg)
        return false;
    FcPattern *pat = FcNameParse((const FcChar8 *)pattern);
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

/* Opens the fallback faces: fontconfig's font for Chinese, kept only when it
 * really has Chinese glyphs (without one installed fontconfig answers
 * DejaVu again). Without it such text shows as boxes, as before. */
static void draw_open_fallback(struct draw_fonts *f, int title_px)
{
    char path[4096];
    if (!draw_font_path(DRAW_FALLBACK_PATTERN, path, sizeof path))
        return;
    TTF_Font *probe = TTF_OpenFont(path, f->body_px);
    if (!probe)
        return;
    if (!TTF_GlyphIsProvided32(probe, 0x4E2D)) {
        TTF_CloseFont(probe);
        return;
    }
    f->fallback_regular = probe;
    f->fallback_bold = TTF_OpenFont(path, f->body_px);
    f->fallback_title = TTF_OpenFont(path, title_px);
    if (f->fallback_bold)
        TTF_SetFontStyle(f->fallback_bold, TTF_STYLE_BOLD);
    if (f->fallback_title)
        TTF_SetFontStyle(f->fallback_title, TTF_STYLE_BOLD);
}

struct draw_fonts *draw_fonts_create(int body_px, struct error *err)
{
    char path[4096];
    if (body_px < 4 || body_px > 1000) {
        error_set(err, STATUS_INTERNAL, NULL, "no font size %d px", body_px);
        return NULL;
    }
    if (!draw_font_path(DRAW_FONT_FAMILY, path, sizeof path)) {
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
    /* The title is a quarter larger than the body, as layout_px(lay, 15). */
    int title_px = (15 * body_px + 6) / 12;
    f->regular = draw_open_font(path, body_px, TTF_STYLE_NORMAL, err);
    f->bold = f->regular ? draw_open_font(path, body_px, TTF_STYLE_BOLD, err) : NULL;
    f->title = f->bold ? draw_open_font(path, title_px, TTF_STYLE_BOLD, err) : NULL;
    if (!f->title) {
        draw_fonts_destroy(f);
        return NULL;
    }
    draw_open_fallback(f, title_px);
    return f;
}

void draw_fonts_destroy(struct draw_fonts *fonts)
{
    if (!fonts)
        return;
    TTF_Font *faces[] = { fonts->title, fonts->bold, fonts->regular, fonts->fallback_title,
                          fonts->fallback_bold, fonts->fallback_regular };
    for (size_t i = 0; i < sizeof faces / sizeof faces[0]; i++)
        if (faces[i])
            TTF_CloseFont(faces[i]);
    free(fonts);
    TTF_Quit();
}

bool draw_fonts_covers(const struct draw_fonts *fonts, uint32_t cp)
{
    return TTF_GlyphIsProvided32(fonts->regular, cp) ||
           (fonts->fallback_regular && TTF_GlyphIsProvided32(fonts->fallback_regular, cp));
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

/* The fallback face of one of the fonts' faces, or NULL. */
static TTF_Font *draw_fallback_of(const struct draw_fonts *fonts, const TTF_Font *font)
{
    if (font == fonts->regular)
        return fonts->fallback_regular;
    if (font == fonts->bold)
        return fonts->fallback_bold;
    return font == fonts->title ? fonts->fallback_title : NULL;
}

/* Decodes the UTF-8 character at s into *cp; returns its length in bytes
 * (1 for a byte that starts no valid sequence, drawn as it comes). */
static size_t draw_utf8_next(const char *s, Uint32 *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = u[0] < 0x80 ? 1 : (u[0] >> 5) == 6 ? 2 : (u[0] >> 4) == 14 ? 3 : (u[0] >> 3) == 30 ? 4 : 1;
    Uint32 v = n == 1 ? u[0] : n == 2 ? (u[0] & 0x1Fu) : n == 3 ? (u[0] & 0x0Fu) : (u[0] & 0x07u);
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = u[0];
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3Fu);
    }
    *cp = v;
    return n;
}

/* The face for character cp: the font, or its fallback when only that has it. */
static TTF_Font *draw_face_for(TTF_Font *font, TTF_Font *fallback, Uint32 cp)
{
    if (fallback && cp >= 0x80 && !TTF_GlyphIsProvided32(font, cp) &&
        TTF_GlyphIsProvided32(fallback, cp))
        return fallback;
    return font;
}

/* Draws one run of text in one face with its baseline at y and its left at x. */
static enum status draw_run(struct draw_canvas *c, TTF_Font *face, int x, int y, SDL_Color col,
                            const char *run)
{
    SDL_Surface *s = TTF_RenderUTF8_Blended(face, run, col);
    if (!s)
        return error_set(c->err, STATUS_INTERNAL, NULL, "cannot draw the text '%s': %s", run,
                         TTF_GetError());
    SDL_Rect at = { x, y - TTF_FontAscent(face), s->w, s->h };
    int rc = SDL_BlitSurface(s, NULL, c->surface, &at);
    SDL_FreeSurface(s);
    if (rc != 0)
        return error_set(c->err, STATUS_INTERNAL, NULL, "cannot draw the text '%s': %s", run,
                         SDL_GetError());
    return STATUS_OK;
}

/* Copies into run the longest stretch of text from *i (of len bytes) set in
 * one face (font, or fallback for what font lacks), moves *i past it and
 * returns that face. */
static TTF_Font *draw_next_run(TTF_Font *font, TTF_Font *fallback, const char *text, size_t *i, size_t len,
                               char *run)
{
    Uint32 cp;
    draw_utf8_next(text + *i, &cp);
    TTF_Font *face = draw_face_for(font, fallback, cp);
    size_t rl = 0;
    while (*i < len) {
        size_t n = draw_utf8_next(text + *i, &cp);
        if (draw_face_for(font, fallback, cp) != face)
            break;
        memcpy(run + rl, text + *i, n);
        rl += n;
        *i += n;
    }
    run[rl] = '\0';
    return face;
}

/* The width of text in font, characters it lacks measured in its fallback. */
static int draw_width(const struct draw_fonts *fonts, TTF_Font *font, const char *text)
{
    TTF_Font *fallback = draw_fallback_of(fonts, font);
    size_t len = strlen(text);
    char *run = malloc(len + 1);
    if (!run)
        return 0;
    int width = 0;
    for (size_t i = 0; i < len;) {
        TTF_Font *face = draw_next_run(font, fallback, text, &i, len, run);
        int w = 0, h = 0;
        if (TTF_SizeUTF8(face, run, &w, &h) == 0)
            width += w;
    }
    free(run);
    return width;
}

/* Draws text with its baseline at y, anchored at x as SVG's text-anchor.
 * Characters the font lacks are set in its fallback face, run by run. */
static enum status draw_text(struct draw_canvas *c, TTF_Font *font, int x, int y,
                            enum draw_anchor anchor, uint32_t rgb, const char *text)
{
    /* SDL2_ttf refuses an empty string as "zero width" text. */
    if (!text[0])
        return STATUS_OK;
    SDL_Color col = { (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255 };
    TTF_Font *fallback = draw_fallback_of(c->fonts, font);
    size_t len = strlen(text);
    char *run = malloc(len + 1);
    if (!run)
        return error_set(c->err, STATUS_INTERNAL, NULL, "out of memory");
    enum status st = STATUS_OK;
    /* Two passes over the runs: their widths place the anchor, then they are drawn. */
    int width = 0;
    for (int pass = 0; pass < 2 && st == STATUS_OK; pass++) {
        int at = x - (anchor == DRAW_ANCHOR_MIDDLE ? width / 2 : anchor == DRAW_ANCHOR_END ? width : 0);
        for (size_t i = 0; i < len && st == STATUS_OK;) {
            TTF_Font *face = draw_next_run(font, fallback, text, &i, len, run);
            int w = 0, h = 0;
            if (TTF_SizeUTF8(face, run, &w, &h) != 0)
                st = error_set(c->err, STATUS_INTERNAL, NULL, "cannot measure the text '%s': %s",
                               run, TTF_GetError());
            else if (pass == 0)
                width += w;
            else
                st = draw_run(c, face, at, y, col, run);
            at += w;
        }
    }
    free(run);
    return st;
}

static enum status draw_rows(struct draw_canvas *c, const struct layout *lay,
                             const struct layout_palette *pal)
{
    int label_baseline = lay->row_h / 2 + layout_px(lay, 4);
    int label_x = layout_px(lay, 8);
    enum status st = STATUS_OK;
    for (size_t i = 0; i < lay->nsections && st == STATUS_OK; i++) {
        const struct layout_section *sc = &lay->sections[i];
        st = draw_text(c, c->fonts->title, label_x, sc->y + sc->h - layout_px(lay, 6),
                       DRAW_ANCHOR_START, pal->text, sc->label);
    }
    for (size_t i = 0; i < lay->ngroups && st == STATUS_OK; i++) {
        const struct layout_group *g = &lay->groups[i];
        draw_fill(c, 0, g->y, lay->width, g->h, pal->header);
        st = draw_text(c, c->fonts->bold, label_x, g->y + g->h - layout_px(lay, 5),
                       DRAW_ANCHOR_START, pal->muted_text, g->label);
    }
    for (size_t i = 0; i < lay->nlanes && st == STATUS_OK; i++) {
        const struct layout_lane *ln = &lay->lanes[i];
        if (i % 2 == 1)
            draw_fill(c, 0, ln->y, lay->width, ln->h, pal->lane_alt);
        /* Labels need a row tall enough to be read; thinner rows go without. */
        if (ln->h >= 10)
            st = draw_text(c, c->fonts->regular, label_x, ln->y + label_baseline,
                           DRAW_ANCHOR_START, pal->text, ln->label);
    }
    for (size_t i = 0; i < lay->nticks; i++)
        draw_fill(c, lay->ticks[i].x, lay->lanes_y0, 1, lay->axis_y - lay->lanes_y0 + 1,
                  pal->grid);
    return st;
}

/* A mix of a and b, weight of b w/256. */
static uint32_t draw_mix(uint32_t a, uint32_t b, unsigned w)
{
    uint32_t out = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        unsigned x = (a >> sh) & 0xFF, y = (b >> sh) & 0xFF;
        out |= ((x * (256 - w) + y * w) >> 8) << sh;
    }
    return out;
}

#define DRAW_HATCH_PERIOD 8
#define DRAW_HATCH_WIDTH 3

/* Fills [x, x+w) x [y, y+h) with rgb crossed by diagonal stripes of rgb
 * half mixed with the background: an owner lane's holder, so that a thread
 * of the running state's colour holding the GIL does not read as a running
 * thread. The stripes are fixed to the surface, so neighbouring rectangles
 * of one holder join up. */
/* Paints stripes of rgb over [x, x+w) x [y, y+h), leaving the pixels
 * between them: every DRAW_HATCH_PERIOD pixels along x + y (rising to the
 * right: `rising`) or x - y, `width` pixels wide, fixed to the surface. */
static void draw_stripes(struct draw_canvas *c, int x, int y, int w, int h, uint32_t rgb, int width, bool rising)
{
    SDL_Surface *s = c->surface;
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > s->w ? s->w : x + w, y1 = y + h > s->h ? s->h : y + h;
    if (x1 <= x0 || y1 <= y0)
        return;
    /* the phase of (col, row): (col + row) or (col - row), mod the period */
    int big = DRAW_HATCH_PERIOD * (s->h / DRAW_HATCH_PERIOD + 1);
    if (s->format->BytesPerPixel != 4 || SDL_LockSurface(s) != 0) {
        for (int row = y0; row < y1; row++)
            for (int col = x0; col < x1; col++)
                if ((rising ? col + row : col - row + big) % DRAW_HATCH_PERIOD < width)
                    draw_fill(c, col, row, 1, 1, rgb);
        return;
    }
    Uint32 tint = draw_map(c, rgb);
    for (int row = y0; row < y1; row++) {
        Uint32 *p = (Uint32 *)((Uint8 *)s->pixels + (size_t)row * (size_t)s->pitch);
        int phase = (rising ? x0 + row : x0 - row + big) % DRAW_HATCH_PERIOD;
        for (int col = x0; col < x1; col++) {
            if (phase < width)
                p[col] = tint;
            phase = phase + 1 == DRAW_HATCH_PERIOD ? 0 : phase + 1;
        }
    }
    SDL_UnlockSurface(s);
}

static void draw_hatch(struct draw_canvas *c, int x, int y, int w, int h, uint32_t rgb,
                       uint32_t background)
{
    draw_fill(c, x, y, w, h, rgb);
    draw_stripes(c, x, y, w, h, draw_mix(rgb, background, 128), DRAW_HATCH_WIDTH, true);
}

static enum status draw_rects(struct draw_canvas *c, const struct layout *lay)
{
    const struct layout_palette *pal = layout_palette(lay->theme);
    int inset = lay->row_h >= 8 ? layout_px(lay, 3) : 0;
    int baseline = lay->row_h / 2 + layout_px(lay, 4);
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        const struct layout_lane *ln = &lay->lanes[r->lane];
        if (ln->kind == LAYOUT_LANE_GIL || ln->kind == LAYOUT_LANE_LOCK)
            draw_hatch(c, r->x0, ln->y + inset, r->x1 - r->x0, ln->h - 2 * inset, r->color,
                       pal->background);
        else
            draw_fill(c, r->x0, ln->y + inset, r->x1 - r->x0, ln->h - 2 * inset, r->color);
    }
    /* the holder's name on a GIL or lock lane */
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        if (!r->text || lay->row_h < 10)
            continue;
        enum status st = draw_text(c, c->fonts->regular, (r->x0 + r->x1) / 2,
                                   lay->lanes[r->lane].y + baseline, DRAW_ANCHOR_MIDDLE,
                                   layout_text_color_on(r->color), r->text);
        if (st != STATUS_OK)
            return st;
    }
    return STATUS_OK;
}

/* A line w pixels thick from (x0, y0) to (x1, y1), by Bresenham's steps. */
static void draw_line(struct draw_canvas *c, int x0, int y0, int x1, int y1, int w, uint32_t rgb)
{
    if (x0 == x1 || y0 == y1) {
        int lx = x0 < x1 ? x0 : x1, ly = y0 < y1 ? y0 : y1;
        draw_fill(c, lx - (w - 1) / 2, ly - (w - 1) / 2, abs(x1 - x0) + w, abs(y1 - y0) + w, rgb);
        return;
    }
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    /* A frame may hold thousands of arrows: on a 32-bit surface the squares
     * are written directly rather than by a fill call each. */
    SDL_Surface *s = c->surface;
    bool direct = s->format->BytesPerPixel == 4 && SDL_LockSurface(s) == 0;
    Uint32 px = draw_map(c, rgb);
    for (;;) {
        if (direct) {
            int bx0 = x0 - (w - 1) / 2, by0 = y0 - (w - 1) / 2;
            int bx1 = bx0 + w > s->w ? s->w : bx0 + w, by1 = by0 + w > s->h ? s->h : by0 + w;
            for (int y = by0 < 0 ? 0 : by0; y < by1; y++) {
                Uint32 *row = (Uint32 *)((Uint8 *)s->pixels + (size_t)y * (size_t)s->pitch);
                for (int x = bx0 < 0 ? 0 : bx0; x < bx1; x++)
                    row[x] = px;
            }
        } else {
            draw_fill(c, x0 - (w - 1) / 2, y0 - (w - 1) / 2, w, w, rgb);
        }
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
    if (direct)
        SDL_UnlockSurface(s);
}

/* A filled arrowhead len pixels long with its tip at (x1, y1), pointing
 * along (x0, y0) -> (x1, y1): the pixels of its bounding box whose centre
 * is inside the triangle. */
static void draw_head(struct draw_canvas *c, int x0, int y0, int x1, int y1, int len,
                      uint32_t rgb)
{
    double dx = x1 - x0, dy = y1 - y0, d = sqrt(dx * dx + dy * dy);
    if (d < 1)
        return;
    dx /= d;
    dy /= d;
    double half = len / 2.0;
    double px[3] = { x1, x1 - dx * len - dy * half, x1 - dx * len + dy * half };
    double py[3] = { y1, y1 - dy * len + dx * half, y1 - dy * len - dx * half };
    int bx0 = (int)floor(fmin(px[0], fmin(px[1], px[2]))), bx1 = (int)ceil(fmax(px[0], fmax(px[1], px[2])));
    int by0 = (int)floor(fmin(py[0], fmin(py[1], py[2]))), by1 = (int)ceil(fmax(py[0], fmax(py[1], py[2])));
    /* the pixels inside, filled a run of a row at a time */
    for (int y = by0; y <= by1; y++) {
        int run = -1;
        for (int x = bx0; x <= bx1 + 1; x++) {
            bool inside = false;
            if (x <= bx1) {
                double qx = x + 0.5, qy = y + 0.5;
                int pos = 0, neg = 0;
                for (int k = 0; k < 3; k++) {
                    int n = (k + 1) % 3;
                    double cr = (px[n] - px[k]) * (qy - py[k]) - (py[n] - py[k]) * (qx - px[k]);
                    pos += cr >= 0;
                    neg += cr <= 0;
                }
                inside = pos == 3 || neg == 3;
            }
            if (inside && run < 0)
                run = x;
            else if (!inside && run >= 0) {
                draw_fill(c, run, y, x - run, 1, rgb);
                run = -1;
            }
        }
    }
}

static void draw_arrows(struct draw_canvas *c, const struct layout *lay,
                        const struct layout_palette *pal)
{
    int w = layout_px(lay, 12) >= 16 ? 2 : 1, len = layout_px(lay, 8);
    for (size_t i = 0; i < lay->narrows; i++) {
        const struct layout_arrow *a = &lay->arrows[i];
        /* a halo in the background colour keeps an arrow visible on any state */
        draw_line(c, a->x0, a->y0, a->x1, a->y1, w + 2, pal->background);
    }
    for (size_t i = 0; i < lay->narrows; i++) {
        const struct layout_arrow *a = &lay->arrows[i];
        uint32_t rgb = pal->arrow[a->kind];
        draw_line(c, a->x0, a->y0, a->x1, a->y1, w, rgb);
        draw_head(c, a->x0, a->y0, a->x1, a->y1, len, rgb);
    }
}

/* A downward triangle, mw on each side of x at the top and h tall, one scan
 * line at a time. */
static void draw_triangle(struct draw_canvas *c, int x, int y, int h, int mw, int grow,
                          uint32_t rgb)
{
    for (int row = 0; row < h; row++) {
        int half = (mw * (h - row) + h / 2) / h + grow;
        draw_fill(c, x - half, y + row, 2 * half, 1, rgb);
    }
}

static enum status draw_markers(struct draw_canvas *c, const struct layout *lay,
                                const struct layout_palette *pal)
{
    int mw = layout_px(lay, DRAW_MARKER_W);
    for (size_t i = 0; i < lay->nmarkers; i++) {
        const struct layout_marker *m = &lay->markers[i];
        if (m->kind == LAYOUT_MARKER_UNRECORDED) {
            /* thin stripes falling to the right over what the lane shows as
             * its last recorded state, and a line where recording stopped */
            int inset = lay->row_h >= 8 ? layout_px(lay, 3) : 0;
            int y0 = m->lane >= 0 ? lay->lanes[m->lane].y + inset : m->y0;
            int y1 = m->lane >= 0 ? lay->lanes[m->lane].y + lay->lanes[m->lane].h - inset : m->y1;
            draw_stripes(c, m->x, y0, m->x_end - m->x, y1 - y0, pal->muted_text, 1, false);
            draw_fill(c, m->x, y0, layout_px(lay, 2), y1 - y0, pal->muted_text);
            continue;
        }
        if (m->kind == LAYOUT_MARKER_DEADLOCK) {
            for (int y = m->y0; y < m->y1; y += DRAW_DASH_ON + DRAW_DASH_OFF) {
                int len = m->y1 - y < DRAW_DASH_ON ? m->y1 - y : DRAW_DASH_ON;
                draw_fill(c, m->x - 1, y, 2, len, pal->deadlock);
            }
            enum status st = draw_text(c, c->fonts->bold, m->x - layout_px(lay, 4),
                                       m->y0 - layout_px(lay, 4), DRAW_ANCHOR_END,
                                       pal->deadlock, "deadlock");
            if (st != STATUS_OK)
                return st;
            continue;
        }
        const struct layout_lane *ln = &lay->lanes[m->lane];
        int h = ln->h / 2 < layout_px(lay, 8) ? ln->h / 2 : layout_px(lay, 8);
        if (h <= 0)
            continue;
        /* The background-coloured rim keeps the marker visible on any state. */
        draw_triangle(c, m->x, ln->y, h + 1, mw, 1, pal->background);
        draw_triangle(c, m->x, ln->y, h, mw, 0, pal->marker);
    }
    return STATUS_OK;
}

static enum status draw_axis(struct draw_canvas *c, const struct layout *lay,
                             const struct layout_palette *pal)
{
    draw_fill(c, lay->plot_x0, lay->axis_y, lay->plot_x1 - lay->plot_x0 + 1, 1, pal->text);
    for (size_t i = 0; i < lay->nticks; i++) {
        const struct layout_tick *t = &lay->ticks[i];
        draw_fill(c, t->x, lay->axis_y, 1, layout_px(lay, 5), pal->text);
        enum status st = draw_text(c, c->fonts->regular, t->x, lay->axis_y + layout_px(lay, 17),
                                   DRAW_ANCHOR_MIDDLE, pal->muted_text, t->label);
        if (st != STATUS_OK)
            return st;
    }
    return STATUS_OK;
}

static enum status draw_legend(struct draw_canvas *c, const struct layout *lay,
                               const struct layout_palette *pal)
{
    int sw = layout_px(lay, 12);
    for (size_t i = 0; i < lay->nlegend; i++) {
        const struct layout_legend_item *it = &lay->legend[i];
        if (it->shape == LAYOUT_LEGEND_ARROW) {
            int y = it->y + sw / 2;
            draw_fill(c, it->x, y - 1, sw - sw / 3, 2, it->color);
            draw_head(c, it->x, y, it->x + sw, y, sw / 2, it->color);
        } else {
            draw_fill(c, it->x, it->y, sw + 1, sw + 1, pal->muted_text);
            if (it->shape == LAYOUT_LEGEND_HOLDER)
                draw_hatch(c, it->x + 1, it->y + 1, sw - 1, sw - 1, it->color, pal->background);
            else if (it->shape == LAYOUT_LEGEND_UNRECORDED) {
                draw_fill(c, it->x + 1, it->y + 1, sw - 1, sw - 1, pal->background);
                draw_stripes(c, it->x + 1, it->y + 1, sw - 1, sw - 1, it->color, 1, false);
            } else
                draw_fill(c, it->x + 1, it->y + 1, sw - 1, sw - 1, it->color);
        }
        enum status st = draw_text(c, c->fonts->regular, it->x + layout_px(lay, 18),
                                   it->y + layout_px(lay, 11), DRAW_ANCHOR_START, pal->text,
                                   it->label);
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
    enum status st = draw_text(c, c->fonts->title, layout_px(lay, 8), lay->title_y,
                               DRAW_ANCHOR_START, pal->text, lay->title);
    if (st == STATUS_OK && lay->description)
        st = draw_text(c, c->fonts->regular, layout_px(lay, 8), lay->description_y,
                       DRAW_ANCHOR_START, pal->muted_text, lay->description);
    if (st == STATUS_OK)
        st = draw_rows(c, lay, pal);
    if (st == STATUS_OK)
        st = draw_rects(c, lay);
    if (st == STATUS_OK) {
        draw_arrows(c, lay, pal);
        st = draw_markers(c, lay, pal);
    }
    if (st == STATUS_OK)
        st = draw_axis(c, lay, pal);
    if (st == STATUS_OK)
        st = draw_legend(c, lay, pal);
    return st;
}

int draw_text_width(const struct draw_fonts *fonts, bool bold, const char *text)
{
    return draw_width(fonts, bold ? fonts->bold : fonts->regular, text);
}

enum status draw_string(SDL_Surface *dst, const struct draw_fonts *fonts, bool bold, int x,
                        int top, uint32_t rgb, const char *text, struct error *err)
{
    struct draw_canvas c = { .surface = dst, .fonts = fonts, .err = err };
    TTF_Font *font = bold ? fonts->bold : fonts->regular;
    return draw_text(&c, font, x, top + TTF_FontAscent(font), DRAW_ANCHOR_START, rgb, text);
}
