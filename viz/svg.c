/* The SVG renderer. See svg.h. Sizes are those at 12-pixel text, scaled by
 * layout_px with the layout's text size. */
#include "svg.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SVG_FONT "DejaVu Sans, Helvetica, Arial, sans-serif"
#define SVG_MARKER_W 4
/* The hatching of an owner lane's holder, as the PNG and the window draw it
 * (viz/draw.c: draw_hatch): stripes every 8 pixels
 * along x + y, 3 pixels wide, of the colour half mixed with the background. */
#define SVG_HATCH_PERIOD 8
#define SVG_MAX_HATCHES 64

static bool is_owner_lane(const struct layout_lane *ln)
{
    return ln->kind == LAYOUT_LANE_GIL || ln->kind == LAYOUT_LANE_LOCK;
}

static uint32_t svg_mix_half(uint32_t a, uint32_t b)
{
    uint32_t out = 0;
    for (int sh = 0; sh <= 16; sh += 8)
        out |= ((((a >> sh) & 0xFFu) + ((b >> sh) & 0xFFu)) >> 1) << sh;
    return out;
}

/* Adds color to the set of hatched colours (at most SVG_MAX_HATCHES: beyond
 * them a holder is filled plain). Returns whether it is in the set. */
static bool hatch_add(uint32_t *set, size_t *n, uint32_t color)
{
    for (size_t i = 0; i < *n; i++)
        if (set[i] == color)
            return true;
    if (*n == SVG_MAX_HATCHES)
        return false;
    set[(*n)++] = color;
    return true;
}

static bool hatch_has(const uint32_t *set, size_t n, uint32_t color)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == color)
            return true;
    return false;
}

/* One <pattern> per holder colour: a holder's rectangles and legend swatch
 * are hatched, so that a holder whose colour is also a state's is not read
 * as a thread in that state. The pattern is fixed to the picture (user
 * space), so neighbouring rectangles of one holder join up. */
static size_t svg_hatch_defs(FILE *out, const struct layout *lay, const struct layout_palette *pal,
                             uint32_t *set)
{
    size_t n = 0;
    for (size_t i = 0; i < lay->nrects; i++)
        if (is_owner_lane(&lay->lanes[lay->rects[i].lane]))
            hatch_add(set, &n, lay->rects[i].color);
    for (size_t i = 0; i < lay->nlegend; i++)
        if (lay->legend[i].shape == LAYOUT_LEGEND_HOLDER)
            hatch_add(set, &n, lay->legend[i].color);
    if (!n)
        return 0;
    fputs("<defs>\n", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "<pattern id=\"h%06X\" width=\"%d\" height=\"%d\" "
                     "patternUnits=\"userSpaceOnUse\"><rect width=\"%d\" height=\"%d\" "
                     "fill=\"#%06X\"/><path d=\"M0 0h3L0 3zM8 0v3L3 8H0z\" fill=\"#%06X\"/>"
                     "</pattern>\n",
                (unsigned)set[i], SVG_HATCH_PERIOD, SVG_HATCH_PERIOD, SVG_HATCH_PERIOD,
                SVG_HATCH_PERIOD, (unsigned)set[i],
                (unsigned)svg_mix_half(set[i], pal->background));
    fputs("</defs>\n", out);
    return n;
}

/* Writes the fill attribute's value of a rectangle of color. */
static void svg_fill(FILE *out, uint32_t color, bool hatched)
{
    if (hatched)
        fprintf(out, "url(#h%06X)", (unsigned)color);
    else
        fprintf(out, "#%06X", (unsigned)color);
}

/* Writes s as XML character data. Control characters other than tab and
 * newline are not allowed in XML 1.0, so they become '?'. */
static void svg_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(c < 0x20 && c != '\t' && c != '\n' ? '?' : c, out);
        }
    }
}

static void svg_text(FILE *out, int x, int y, uint32_t color, const char *extra,
                     const char *text)
{
    fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#%06X\"%s>", x, y, (unsigned)color, extra);
    svg_escape(out, text);
    fputs("</text>\n", out);
}

static void svg_rows(FILE *out, const struct layout *lay, const struct layout_palette *pal)
{
    int label_baseline = lay->row_h / 2 + layout_px(lay, 4);
    int label_x = layout_px(lay, 8);
    char title_font[64];
    snprintf(title_font, sizeof title_font, " font-size=\"%d\" font-weight=\"bold\"",
             lay->title_px);
    for (size_t i = 0; i < lay->nsections; i++) {
        const struct layout_section *sc = &lay->sections[i];
        svg_text(out, label_x, sc->y + sc->h - layout_px(lay, 6), pal->text, title_font,
                 sc->label);
    }
    for (size_t i = 0; i < lay->ngroups; i++) {
        const struct layout_group *g = &lay->groups[i];
        fprintf(out, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/>\n",
                g->y, lay->width, g->h, (unsigned)pal->header);
        svg_text(out, label_x, g->y + g->h - layout_px(lay, 5), pal->muted_text,
                 " font-weight=\"bold\"", g->label);
    }
    for (size_t i = 0; i < lay->nlanes; i++) {
        const struct layout_lane *ln = &lay->lanes[i];
        if (i % 2 == 1)
            fprintf(out, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/>\n",
                    ln->y, lay->width, ln->h, (unsigned)pal->lane_alt);
        /* Labels need a row tall enough to be read; thinner rows go without. */
        if (ln->h >= 10)
            svg_text(out, label_x, ln->y + label_baseline, pal->text, "", ln->label);
    }
    for (size_t i = 0; i < lay->nticks; i++)
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%06X\"/>\n",
                lay->ticks[i].x, lay->lanes_y0, lay->ticks[i].x, lay->axis_y,
                (unsigned)pal->grid);
}

static void svg_rects(FILE *out, const struct layout *lay, const uint32_t *hatch, size_t nhatch)
{
    int inset = lay->row_h >= 8 ? layout_px(lay, 3) : 0;
    fputs("<g shape-rendering=\"crispEdges\">\n", out);
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        const struct layout_lane *ln = &lay->lanes[r->lane];
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"", r->x0,
                ln->y + inset, r->x1 - r->x0, ln->h - 2 * inset);
        svg_fill(out, r->color, is_owner_lane(ln) && hatch_has(hatch, nhatch, r->color));
        fputs("\"/>\n", out);
    }
    fputs("</g>\n", out);
    /* the holder's name on a GIL or lock lane */
    int baseline = lay->row_h / 2 + layout_px(lay, 4);
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        if (r->text && lay->row_h >= 10)
            svg_text(out, (r->x0 + r->x1) / 2, lay->lanes[r->lane].y + baseline,
                     layout_text_color_on(r->color), " text-anchor=\"middle\"", r->text);
    }
}

/* One arrowhead marker per arrow kind, in the kind's colour. */
static void svg_arrow_defs(FILE *out, const struct layout *lay, const struct layout_palette *pal)
{
    bool used[LAYOUT_ARROW_KIND_COUNT] = { false };
    bool any = false;
    for (size_t i = 0; i < lay->narrows; i++)
        any = used[lay->arrows[i].kind] = true;
    if (!any)
        return;
    fputs("<defs>\n", out);
    for (int k = 0; k < LAYOUT_ARROW_KIND_COUNT; k++)
        if (used[k])
            fprintf(out, "<marker id=\"arrow%d\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
                         "markerWidth=\"%d\" markerHeight=\"%d\" markerUnits=\"userSpaceOnUse\" "
                         "orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" fill=\"#%06X\"/></marker>\n",
                    k, layout_px(lay, 8), layout_px(lay, 8), (unsigned)pal->arrow[k]);
    fputs("</defs>\n", out);
}

static void svg_arrows(FILE *out, const struct layout *lay, const struct layout_palette *pal)
{
    if (!lay->narrows)
        return;
    int w = layout_px(lay, 12) >= 16 ? 2 : 1;
    /* a halo in the background colour keeps an arrow visible on any state */
    fprintf(out, "<g stroke-width=\"%d\" stroke=\"#%06X\" stroke-opacity=\"0.8\">\n", w + 2,
            (unsigned)pal->background);
    for (size_t i = 0; i < lay->narrows; i++) {
        const struct layout_arrow *a = &lay->arrows[i];
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", a->x0, a->y0, a->x1, a->y1);
    }
    fputs("</g>\n", out);
    fprintf(out, "<g stroke-width=\"%d\">\n", w);
    for (size_t i = 0; i < lay->narrows; i++) {
        const struct layout_arrow *a = &lay->arrows[i];
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%06X\" "
                     "marker-end=\"url(#arrow%d)\"/>\n",
                a->x0, a->y0, a->x1, a->y1, (unsigned)pal->arrow[a->kind], (int)a->kind);
    }
    fputs("</g>\n", out);
}

/* The stripes over what a real run did not record (LAYOUT_MARKER_UNRECORDED),
 * as the PNG and the window draw them: 1 pixel wide, every SVG_HATCH_PERIOD
 * along x - y, in the muted text colour. Written when the layout has any. */
static void svg_unrecorded_def(FILE *out, const struct layout *lay, const struct layout_palette *pal)
{
    bool any = false;
    for (size_t i = 0; i < lay->nmarkers; i++)
        any |= lay->markers[i].kind == LAYOUT_MARKER_UNRECORDED;
    if (!any)
        return;
    fprintf(out, "<defs><pattern id=\"unrecorded\" width=\"%d\" height=\"%d\" patternUnits=\"userSpaceOnUse\">"
                 "<path d=\"M0 0L%d %dM-1 %dL1 %dM%d -1L%d 1\" stroke=\"#%06X\" stroke-width=\"1\"/></pattern></defs>\n",
            SVG_HATCH_PERIOD, SVG_HATCH_PERIOD, SVG_HATCH_PERIOD, SVG_HATCH_PERIOD, SVG_HATCH_PERIOD - 1,
            SVG_HATCH_PERIOD + 1, SVG_HATCH_PERIOD - 1, SVG_HATCH_PERIOD + 1, (unsigned)pal->muted_text);
}

static void svg_markers(FILE *out, const struct layout *lay, const struct layout_palette *pal)
{
    int mw = layout_px(lay, SVG_MARKER_W);
    for (size_t i = 0; i < lay->nmarkers; i++) {
        const struct layout_marker *m = &lay->markers[i];
        if (m->kind == LAYOUT_MARKER_UNRECORDED) {
            int inset = lay->row_h >= 8 ? layout_px(lay, 3) : 0;
            int y0 = m->lane >= 0 ? lay->lanes[m->lane].y + inset : m->y0;
            int y1 = m->lane >= 0 ? lay->lanes[m->lane].y + lay->lanes[m->lane].h - inset : m->y1;
            fprintf(out, "<g><title>not recorded: the event buffer was full</title>"
                         "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"url(#unrecorded)\"/>"
                         "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/></g>\n",
                    m->x, y0, m->x_end - m->x, y1 - y0, m->x, y0, layout_px(lay, 2), y1 - y0,
                    (unsigned)pal->muted_text);
            continue;
        }
        if (m->kind == LAYOUT_MARKER_DEADLOCK) {
            fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%06X\" "
                         "stroke-width=\"2\" stroke-dasharray=\"6 3\"><title>",
                    m->x, m->y0, m->x, m->y1, (unsigned)pal->deadlock);
            svg_escape(out, m->text);
            fputs("</title></line>\n", out);
            svg_text(out, m->x - layout_px(lay, 4), m->y0 - layout_px(lay, 4), pal->deadlock,
                     " text-anchor=\"end\" font-weight=\"bold\"", "deadlock");
            continue;
        }
        const struct layout_lane *ln = &lay->lanes[m->lane];
        int h = ln->h / 2 < layout_px(lay, 8) ? ln->h / 2 : layout_px(lay, 8);
        fprintf(out, "<path d=\"M%d %dh%dl-%d %dz\" fill=\"#%06X\" stroke=\"#%06X\"><title>",
                m->x - mw, ln->y, 2 * mw, mw, h, (unsigned)pal->marker,
                (unsigned)pal->background);
        svg_escape(out, m->text);
        fputs("</title></path>\n", out);
    }
}

static void svg_axis(FILE *out, const struct layout *lay, const struct layout_palette *pal)
{
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%06X\"/>\n",
            lay->plot_x0, lay->axis_y, lay->plot_x1, lay->axis_y, (unsigned)pal->text);
    for (size_t i = 0; i < lay->nticks; i++) {
        const struct layout_tick *t = &lay->ticks[i];
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%06X\"/>\n",
                t->x, lay->axis_y, t->x, lay->axis_y + layout_px(lay, 4), (unsigned)pal->text);
        svg_text(out, t->x, lay->axis_y + layout_px(lay, 17), pal->muted_text,
                 " text-anchor=\"middle\"", t->label);
    }
}

static void svg_legend(FILE *out, const struct layout *lay, const struct layout_palette *pal,
                       const uint32_t *hatch, size_t nhatch)
{
    int sw = layout_px(lay, 12);
    for (size_t i = 0; i < lay->nlegend; i++) {
        const struct layout_legend_item *it = &lay->legend[i];
        if (it->shape == LAYOUT_LEGEND_ARROW) {
            int y = it->y + sw / 2;
            fprintf(out, "<path d=\"M%d %dh%d\" stroke=\"#%06X\" stroke-width=\"2\"/>"
                         "<path d=\"M%d %dl-%d -%dv%dz\" fill=\"#%06X\"/>\n",
                    it->x, y, sw - sw / 3, (unsigned)it->color, it->x + sw, y, sw / 2, sw / 3,
                    2 * (sw / 3), (unsigned)it->color);
        } else {
            fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"", it->x,
                    it->y, sw, sw);
            if (it->shape == LAYOUT_LEGEND_UNRECORDED)
                fputs("url(#unrecorded)", out);
            else
                svg_fill(out, it->color,
                         it->shape == LAYOUT_LEGEND_HOLDER && hatch_has(hatch, nhatch, it->color));
            fprintf(out, "\" stroke=\"#%06X\"/>\n", (unsigned)pal->muted_text);
        }
        svg_text(out, it->x + layout_px(lay, 18), it->y + layout_px(lay, 11), pal->text, "",
                 it->label);
    }
}

enum status svg_write(const struct layout *lay, FILE *out, struct error *err)
{
    const struct layout_palette *pal = layout_palette(lay->theme);
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                 "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\" font-size=\"%d\">\n",
            lay->width, lay->height, lay->width, lay->height, SVG_FONT, lay->font_px);
    fputs("<title>", out);
    svg_escape(out, lay->title);
    fputs("</title>\n", out);
    svg_arrow_defs(out, lay, pal);
    uint32_t hatch[SVG_MAX_HATCHES];
    size_t nhatch = svg_hatch_defs(out, lay, pal, hatch);
    svg_unrecorded_def(out, lay, pal);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/>\n",
            lay->width, lay->height, (unsigned)pal->background);
    char title_font[64];
    snprintf(title_font, sizeof title_font, " font-size=\"%d\" font-weight=\"bold\"",
             lay->title_px);
    svg_text(out, layout_px(lay, 8), lay->title_y, pal->text, title_font, lay->title);
    if (lay->description)
        svg_text(out, layout_px(lay, 8), lay->description_y, pal->muted_text, "",
                 lay->description);
    svg_rows(out, lay, pal);
    svg_rects(out, lay, hatch, nhatch);
    svg_arrows(out, lay, pal);
    svg_markers(out, lay, pal);
    svg_axis(out, lay, pal);
    svg_legend(out, lay, pal, hatch, nhatch);
    fputs("</svg>\n", out);
    if (ferror(out))
        return error_set(err, STATUS_INTERNAL, NULL, "cannot write the SVG document");
    return STATUS_OK;
}
