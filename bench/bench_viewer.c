/* Frame-time benchmark of the viewer: the work of one frame as the viewer
 * does it (the visible window from the timeline index cut to the plot's
 * pixel columns, its layout, and draw_layout into a 1920 x 1080 surface) on
 * generated traces of 10^6 segments, at four zoom levels, in both views.
 * For each, the median and the worst of the runs are printed for the window,
 * the layout and the drawing separately and for the whole frame.
 *
 *   bench_viewer [--runs R] [--segments N] [--only plain|locks] [--zoom Z] [--no-whole]
 *                [--save DIR]
 *
 * The traces: 16 threads in 4 processes on 4 CPUs, each CPU taking its 4
 * threads in turn for 20 to 200 us; a thread waits for its next turn ready,
 * or one time in three blocked on I/O. "locks" adds a lock per CPU that each
 * turn acquires at its start and hands over at its end (half a million
 * instants, a hand-over arrow and an owner lane per CPU). --no-whole skips
 * the comparison with laying out the whole trace; --zoom (whole, 1/10, 1/100
 * or 1/1000) measures that zoom only, for a profiler; --save DIR writes each
 * zoom's last frame as DIR/TRACE-VIEW-ZOOM.png, and at the whole zoom the
 * whole trace laid out directly as ...-full.png, to look at. Target: under 16 ms a
 * frame at every zoom (aim: 10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "viz/draw.h"
#include "viz/layout.h"
#include "viz/png.h"
#include "viz/state_at.h"
#include "viz/timeline_index.h"
#include "sim/order.h"

#define W 1920
#define H 1080

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_instant(const void *pa, const void *pb)
{
    const struct trace_instant *a = pa, *b = pb;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    /* at a hand-over, the release before the acquire */
    return (a->kind == INSTANT_ACQUIRE) - (b->kind == INSTANT_ACQUIRE);
}

static struct trace *make_trace(long nsegments, bool locks)
{
    struct trace *tr = trace_create(locks ? "bench-locks" : "bench", NULL, "sim", "rr", 4, 1);
    for (int p = 0; p < 4; p++) {
        char name[16];
        snprintf(name, sizeof name, "P%d", p);
        trace_add_process(tr, name);
    }
    for (int k = 0; k < 16; k++) {
        char name[16];
        snprintf(name, sizeof name, "worker%d", k);
        trace_add_task(tr, name, (uint32_t)(k / 4));
    }
    uint32_t lock[4] = { 0 };
    for (int c = 0; c < 4 && locks; c++) {
        char name[16];
        snprintf(name, sizeof name, "L%d", c);
        lock[c] = trace_add_object(tr, name, "lock", -1);
    }
    uint32_t seed = 12345, flow = 1;
    int64_t last_end[16] = { 0 };
    long turns = nsegments / 2 / 4;   /* a turn: one running and one waiting segment */
    size_t nev = 0;
    struct trace_instant *ev = locks ? malloc((size_t)turns * 4 * 2 * sizeof *ev) : NULL;
    int64_t end = 0;
    for (int c = 0; c < 4; c++) {
        int64_t t = 0;
        uint32_t pending = 0;
        for (long i = 0; i < turns; i++) {
            uint32_t k = (uint32_t)(c + 4 * (i % 4));
            seed = seed * 1103515245u + 12345u;
            int64_t d = 20000 + (int64_t)((seed >> 8) % 180000);
            if (t > last_end[k]) {
                bool io = (seed >> 20) % 3 == 0;
                struct trace_segment w = { .start = last_end[k], .end = t, .task = k, .cpu = -1,
                                           .state = io ? TRACE_BLOCKED : TRACE_READY,
                                           .reason = io ? REASON_IO : REASON_NONE,
                                           .obj = UINT32_MAX };
                trace_segment_add(tr, &w);
            }
            struct trace_segment r = { .start = t, .end = t + d, .task = k, .cpu = c,
                                       .state = TRACE_RUNNING, .obj = UINT32_MAX };
            trace_segment_add(tr, &r);
            if (ev) {
                /* the CPU's lock: taken for the turn, handed to the next turn */
                ev[nev++] = (struct trace_instant){ .time = t, .task = k, .kind = INSTANT_ACQUIRE,
                                                    .obj = lock[c], .flow = pending,
                                                    .text = UINT32_MAX };
                pending = flow++;
                ev[nev++] = (struct trace_instant){ .time = t + d, .task = k,
                                                    .kind = INSTANT_RELEASE, .value = -1,
                                                    .obj = lock[c], .flow = pending,
                                                    .text = UINT32_MAX };
            }
            t += d;
            last_end[k] = t;
        }
        end = t > end ? t : end;
    }
    /* in time order, as the simulator writes them */
    if (ev)
        qsort(ev, nev, sizeof *ev, cmp_instant);
    for (size_t i = 0; i < nev; i++)
        trace_instant_add(tr, &ev[i], NULL);
    free(ev);
    tr->makespan = end;
    return tr;
}

/* One phase's times over the runs. */
struct times {
    double *v;
    int n;
};

static void report(const char *zoom, size_t nwin, size_t nrects, struct times t[4])
{
    printf("  %-7s %8zu %7zu", zoom, nwin, nrects);
    for (int p = 0; p < 4; p++) {
        double worst = 0;
        for (int r = 0; r < t[p].n; r++)
            worst = t[p].v[r] > worst ? t[p].v[r] : worst;
        printf("  %6.2f %6.2f", order_median(t[p].v, (size_t)t[p].n), worst);
    }
    printf("\n");
}

/* Writes lay as DIR/TRACE-VIEW-ZOOM[SUFFIX].png. */
static int save_png(const char *dir, const struct trace *tr, const struct layout *lay,
                    const char *zoom, const char *suffix)
{
    char path[1024], z[16];
    snprintf(z, sizeof z, "%s", zoom);
    for (char *c = z; *c; c++)
        *c = *c == '/' ? '_' : *c;
    snprintf(path, sizeof path, "%s/%s-%s-%s%s.png", dir, tr->scenario,
             lay->view == LAYOUT_VIEW_CPUS ? "cpus" : "threads", z, suffix);
    FILE *f = fopen(path, "wb");
    struct error err;
    if (!f || png_write(lay, f, &err) != STATUS_OK) {
        fprintf(stderr, "bench_viewer: cannot write %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    fclose(f);
    return 0;
}

static int bench_trace(const struct trace *tr, int runs, const char *only_zoom,
                       SDL_Surface *surf, struct draw_fonts *fonts, const char *save)
{
    static const struct {
        const char *name;
        int64_t div;
    } zooms[] = { { "whole", 1 }, { "1/10", 10 }, { "1/100", 100 }, { "1/1000", 1000 } };
    struct error err;
    struct times t[4];
    for (int p = 0; p < 4; p++)
        t[p] = (struct times){ .v = malloc((size_t)runs * sizeof(double)), .n = runs };
    printf("trace %s: %zu segments, %zu instants, %u threads, %u CPUs, %.3f s; frame %d x %d; "
           "%d frames a row\n",
           tr->scenario, tr->nsegments, tr->ninstants, tr->ntasks, tr->cpus,
           (double)tr->makespan / 1e9, W, H, runs);
    for (int view = LAYOUT_VIEW_THREADS; view <= LAYOUT_VIEW_CPUS; view++) {
        double t0 = now_ms();
        struct timeline_index *ix = timeline_index_create(tr, (enum layout_view)view);
        printf("%s view (index built in %.0f ms), ms: median worst\n",
               view ? "cpus" : "threads", now_ms() - t0);
        printf("  %-7s %8s %7s  %13s  %13s  %13s  %13s\n", "zoom", "segments", "rects",
               "window", "layout", "draw", "frame");
        int plot_x0 = 0, plot_x1 = 0;
        struct layout *lay = NULL;
        for (size_t z = 0; z < sizeof zooms / sizeof zooms[0]; z++) {
            if (only_zoom && strcmp(only_zoom, zooms[z].name) != 0)
                continue;
            int64_t span = tr->makespan / zooms[z].div;
            int64_t from = (tr->makespan - span) / 2;
            size_t nwin = 0, nrects = 0;
            struct layout_options o;
            for (int r = -1; r < runs; r++) {
                layout_options_init(&o);
                o.view = (enum layout_view)view;
                o.width = W;
                o.height = H;
                /* each frame a little further, as when panning */
                o.from = from + (r + 1) * (span / 1000);
                o.to = o.from + span;
                /* as the viewer: the first frame learns the plot's columns,
                 * the next ones cut the window to them */
                double a = now_ms();
                const struct trace *win =
                    plot_x1 <= plot_x0 ? timeline_index_window(ix, o.from, o.to, W)
                                       : timeline_index_window_px(ix, o.from, o.to, plot_x0,
                                                                  plot_x1);
                for (int k = 0; k < LAYOUT_ARROW_KIND_COUNT; k++)
                    o.arrows_left_out[k] =
                        timeline_index_arrows_left_out(ix, (enum layout_arrow_kind)k);
                double b = now_ms();
                lay = layout_update(lay, win, NULL, &o, &err);
                double c = now_ms();
                if (!lay || draw_layout(surf, lay, fonts, &err) != STATUS_OK) {
                    fprintf(stderr, "bench_viewer: %s\n", err.msg);
                    return 1;
                }
                double d = now_ms();
                nwin = win->nsegments;
                nrects = lay->nrects;
                plot_x0 = lay->plot_x0;
                plot_x1 = lay->plot_x1;
                if (r < 0)
                    continue;
                t[0].v[r] = b - a;
                t[1].v[r] = c - b;
                t[2].v[r] = d - c;
                t[3].v[r] = d - a;
            }
            report(zooms[z].name, nwin, nrects, t);
            if (save && save_png(save, tr, lay, zooms[z].name, ""))
                return 1;
            if (save && z == 0) {
                memset(o.arrows_left_out, 0, sizeof o.arrows_left_out);
                struct layout *full = layout_create(tr, &o, &err);
                int bad = !full || save_png(save, tr, full, zooms[z].name, "-full");
                layout_destroy(full);
                if (bad)
                    return 1;
            }
        }
        layout_destroy(lay);
        timeline_index_destroy(ix);
    }
    for (int p = 0; p < 4; p++)
        free(t[p].v);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 11;
    long nseg = 1000000;
    const char *only = NULL, *zoom = NULL, *save = NULL;
    bool whole = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--segments") == 0 && i + 1 < argc)
            nseg = atol(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--zoom") == 0 && i + 1 < argc)
            zoom = argv[++i];
        else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
            save = argv[++i];
        else if (strcmp(argv[i], "--no-whole") == 0)
            whole = false;
        else
            runs = 0;
    }
    if (runs < 1 || runs > 1000 || nseg < 100) {
        fprintf(stderr, "usage: bench_viewer [--runs R] [--segments N] [--only plain|locks] "
                        "[--zoom Z] [--no-whole] [--save DIR]\n");
        return 2;
    }
    struct error err;
    if (SDL_Init(0) != 0)
        return 1;
    struct draw_fonts *fonts = draw_fonts_create(16, &err);
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!fonts || !surf) {
        fprintf(stderr, "bench_viewer: %s\n", fonts ? SDL_GetError() : err.msg);
        return 1;
    }
    int rc = 0;
    for (int locks = 0; locks < 2 && rc == 0; locks++) {
        if (only && strcmp(only, locks ? "locks" : "plain") != 0)
            continue;
        struct trace *tr = make_trace(nseg, locks);
        rc = bench_trace(tr, runs, zoom, surf, fonts, save);
        if (rc == 0 && whole && !locks) {
            /* For comparison: the whole trace laid out for one frame. */
            double *v = malloc((size_t)runs * sizeof *v);
            for (int r = 0; r < runs; r++) {
                struct layout_options o;
                layout_options_init(&o);
                o.width = W;
                o.height = H;
                o.from = tr->makespan / 2 - tr->makespan / 20;
                o.to = o.from + tr->makespan / 10;
                double a = now_ms();
                struct layout *lay = layout_create(tr, &o, &err);
                v[r] = now_ms() - a;
                layout_destroy(lay);
            }
            printf("without the index, threads view, zoom 1/10: layout %.2f ms\n",
                   order_median(v, (size_t)runs));
            /* The side panel's work when the cursor moves. */
            struct state_view sv;
            state_view_init(&sv);
            for (int r = 0; r < runs; r++) {
                double a = now_ms();
                state_at(tr, tr->makespan / 2 + r, &sv);
                v[r] = now_ms() - a;
            }
            printf("state_at (side panel): %.2f ms\n", order_median(v, (size_t)runs));
            state_view_deinit(&sv);
            free(v);
        }
        trace_destroy(tr);
    }
    SDL_FreeSurface(surf);
    draw_fonts_destroy(fonts);
    SDL_Quit();
    return rc;
}
