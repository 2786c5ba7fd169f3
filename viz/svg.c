/* The SVG renderer. See svg.h. */
#include "svg.h"

#include <stdint.h>
#include <string.h>

#define SVG_FONT "DejaVu Sans, Helvetica, Arial, sans-serif"
#define SVG_MARKER_W 4

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
    int label_baseline = lay->row_h / 2 + 4;
    for (size_t i = 0; i < lay->ngroups; i++) {
        const struct layout_group *g = &lay->groups[i];
        fprintf(out, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/>\n",
                g->y, lay->width, g->h, (unsigned)pal->header);
        svg_text(out, 8, g->y + g->h - 5, pal->muted_text, " font-weight=\"bold\"", g->label);
    }
    for (size_t i = 0; i < lay->nlanes; i++) {
        const struct layout_lane *ln = &lay->lanes[i];
        if (i % 2 == 1)
            fprintf(out, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/>\n",
                    ln->y, lay->width, ln->h, (unsigned)pal->lane_alt);
        /* Labels need a row tall enough to be read; thinner rows go without. */
        if (ln->h >= 10)
            svg_text(out, 8, ln->y + label_baseline, pal->text, "", ln->label);
    }
    for (size_t i = 0; i < lay->nticks; i++)
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%06X\"/>\n",
                lay->ticks[i].x, lay->lanes_y0, lay->ticks[i].x, lay->axis_y,
                (unsigned)pal->grid);
}

static void svg_rects(FILE *out, const struct layout *lay)
{
    int inset = lay->row_h >= 8 ? 3 : 0;
    fputs("<g shape-rendering=\"crispEdges\">\n", out);
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        const struct layout_lane *ln = &lay->lanes[r->lane];
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/>\n",
                r->x0, ln->y + inset, r->x1 - r->x0, ln->h - 2 * inset, (unsigned)r->color);
    }
    fputs("</g>\n", out);
}

static void svg_markers(FILE *out, const struct layout *lay, const struct layout_palette *pal)
{
    for (size_t i = 0; i < lay->nmarkers; i++) {
        const struct layout_marker *m = &lay->markers[i];
        if (m->kind == LAYOUT_MARKER_DEADLOCK) {
            fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%06X\" "
                         "stroke-width=\"2\" stroke-dasharray=\"6 3\"><title>",
                    m->x, lay->lanes_y0, m->x, lay->axis_y, (unsigned)pal->deadlock);
            svg_escape(out, m->text);
            fputs("</title></line>\n", out);
            svg_text(out, m->x - 4, lay->lanes_y0 - 4, pal->deadlock,
                     " text-anchor=\"end\" font-weight=\"bold\"", "deadlock");
            continue;
        }
        const struct layout_lane *ln = &lay->lanes[m->lane];
        int h = ln->h / 2 < 8 ? ln->h / 2 : 8;
        fprintf(out, "<path d=\"M%d %dh%dl-%d %dz\" fill=\"#%06X\" stroke=\"#%06X\"><title>",
                m->x - SVG_MARKER_W, ln->y, 2 * SVG_MARKER_W, SVG_MARKER_W, h,
                (unsigned)pal->marker, (unsigned)pal->background);
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
                t->x, lay->axis_y, t->x, lay->axis_y + 4, (unsigned)pal->text);
        svg_text(out, t->x, lay->axis_y + 17, pal->muted_text, " text-anchor=\"middle\"",
                 t->label);
    }
}

static void svg_legend(FILE *out, const struct layout *lay, const struct layout_palette *pal)
{
    for (size_t i = 0; i < lay->nlegend; i++) {
        const struct layout_legend_item *it = &lay->legend[i];
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"#%06X\" "
                     "stroke=\"#%06X\"/>\n",
                it->x, it->y, (unsigned)it->color, (unsigned)pal->muted_text);
        svg_text(out, it->x + 18, it->y + 11, pal->text, "", it->label);
    }
}

enum status svg_write(const struct layout *lay, FILE *out, struct error *err)
{
    const struct layout_palette *pal = layout_palette(lay->theme);
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                 "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\" font-size=\"12\">\n",
            lay->width, lay->height, lay->width, lay->height, SVG_FONT);
    fputs("<title>", out);
    svg_escape(out, lay->title);
    fputs("</title>\n", out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/>\n",
            lay->width, lay->height, (unsigned)pal->background);
    svg_text(out, 8, lay->title_y, pal->text, " font-size=\"15\" font-weight=\"bold\"",
             lay->title);
    svg_rows(out, lay, pal);
    svg_rects(out, lay);
    svg_markers(out, lay, pal);
    svg_axis(out, lay, pal);
    svg_legend(out, lay, pal);
    fputs("</svg>\n", out);
    if (ferror(out))
        return error_set(err, STATUS_INTERNAL, NULL, "cannot write the SVG document");
    return STATUS_OK;
}
