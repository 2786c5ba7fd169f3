/* Frame-time benchmark of the viewer: the work of one frame (the visible
 * window from the timeline index cut to the plot's pixel columns, its
 * layout, and draw_layout into a 1920 x 1080 surface) on a generated trace of 10^6 segments, at several
 * zoom levels, in both views. Medians over the runs are printed, with the
 * cost of laying out the whole trace instead, for comparison.
 *
 *   bench_viewer [--runs R] [--segments N]
 *
 * The trace: 16 threads in 4 processes on 4 CPUs, each CPU taking its 4
 * threads in turn for 20 to 200 us; a thread waits for its next turn ready,
 * or one time in three blocked on I/O. Target: under 16 ms a frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "viz/draw.h"
#include "viz/layout.h"
#include "viz/state_at.h"
#include "viz/timeline_index.h"

#define W 1920
#define H 1080

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct trace *make_trace(long nsegments)
{
    struct trace *tr = trace_create("bench", NULL, "sim", "rr", 4, 1);
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
    uint32_t seed = 12345;
    int64_t last_end[16] = { 0 };
    long turns = nsegments / 2 / 4;   /* a turn: one running and one waiting segment */
    int64_t end = 0;
    for (int c = 0; c < 4; c++) {
        int64_t t = 0;
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
            t += d;
            last_end[k] = t;
        }
        end = t > end ? t : end;
    }
    tr->makespan = end;
    return tr;
}

int main(int argc, char **argv)
{
    int runs = 11;
    long nseg = 1000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--segments") == 0)
            nseg = atol(argv[i + 1]);
    }
    if (runs < 1 || runs > 1000 || nseg < 100) {
        fprintf(stderr, "usage: bench_viewer [--runs R] [--segments N]\n");
        return 2;
    }
    struct error err;
    struct trace *tr = make_trace(nseg);
    if (SDL_Init(0) != 0)
        return 1;
    struct draw_fonts *fonts = draw_fonts_create(12, &err);
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!fonts || !surf) {
        fprintf(stderr, "bench_viewer: %s\n", fonts ? SDL_GetError() : err.msg);
        return 1;
    }
    double *t_win = malloc((size_t)runs * sizeof *t_win);
    double *t_lay = malloc((size_t)runs * sizeof *t_lay);
    double *t_draw = malloc((size_t)runs * sizeof *t_draw);
    double *t_all = malloc((size_t)runs * sizeof *t_all);

    printf("trace: %zu segments, %u threads, %u CPUs, %.3f s; frame %d x %d; %d runs, medians\n",
           tr->nsegments, tr->ntasks, tr->cpus, (double)tr->makespan / 1e9, W, H, runs);
    static const struct {
        const char *name;
        int64_t div;
    } zooms[] = { { "whole", 1 }, { "1/10", 10 }, { "1/1000", 1000 } };
    for (int view = LAYOUT_VIEW_THREADS; view <= LAYOUT_VIEW_CPUS; view++) {
        double t0 = now_ms();
        struct timeline_index *ix = timeline_index_create(tr, (enum layout_view)view);
        printf("%s view: index built in %.1f ms\n", view ? "cpus" : "threads", now_ms() - t0);
        printf("  %-8s %10s %10s %10s %10s %10s\n", "zoom", "segments", "window ms", "layout ms",
               "draw ms", "frame ms");
        for (size_t z = 0; z < sizeof zooms / sizeof zooms[0]; z++) {
            int64_t span = tr->makespan / zooms[z].div;
            int64_t from = (tr->makespan - span) / 2;
            size_t nwin = 0;
            int plot_x0 = 0, plot_x1 = 0;
            for (int r = -1; r < runs; r++) {
                struct layout_options o;
                layout_options_init(&o);
                o.view = (enum layout_view)view;
                o.width = W;
                o.height = H;
                o.from = from;
                o.to = from + span;
                /* as the viewer: the first frame learns the plot's columns,
                 * the next ones cut the window to them */
                double a = now_ms();
                const struct trace *win =
                    r < 0 ? timeline_index_window(ix, o.from, o.to, W)
                          : timeline_index_window_px(ix, o.from, o.to, plot_x0, plot_x1);
                double b = now_ms();
                struct layout *lay = layout_create(win, &o, &err);
                double c = now_ms();
                if (!lay || draw_layout(surf, lay, fonts, &err) != STATUS_OK) {
                    fprintf(stderr, "bench_viewer: %s\n", err.msg);
                    return 1;
                }
                double d = now_ms();
                nwin = win->nsegments;
                plot_x0 = lay->plot_x0;
                plot_x1 = lay->plot_x1;
                layout_destroy(lay);
                if (r < 0)
                    continue;
                t_win[r] = b - a;
                t_lay[r] = c - b;
                t_draw[r] = d - c;
                t_all[r] = d - a;
            }
            printf("  %-8s %10zu %10.2f %10.2f %10.2f %10.2f\n", zooms[z].name, nwin,
                   median(t_win, runs), median(t_lay, runs), median(t_draw, runs),
                   median(t_all, runs));
        }
        timeline_index_destroy(ix);
    }

    /* For comparison: the whole trace laid out every frame. */
    for (size_t z = 0; z < 3; z++) {
        int64_t div = z == 0 ? 1 : z == 1 ? 10 : 1000;
        int64_t span = tr->makespan / div;
        for (int r = 0; r < runs; r++) {
            struct layout_options o;
            layout_options_init(&o);
            o.width = W;
            o.height = H;
            o.from = (tr->makespan - span) / 2;
            o.to = o.from + span;
            double a = now_ms();
            struct layout *lay = layout_create(tr, &o, &err);
            t_lay[r] = now_ms() - a;
            layout_destroy(lay);
        }
        printf("without the index, threads view, zoom 1/%lld: layout %.2f ms\n", (long long)div,
               median(t_lay, runs));
    }

    /* The side panel's work when the cursor moves. */
    struct state_view sv;
    state_view_init(&sv);
    for (int r = 0; r < runs; r++) {
        double a = now_ms();
        state_at(tr, tr->makespan / 2 + r, &sv);
        t_all[r] = now_ms() - a;
    }
    printf("state_at (side panel): %.2f ms\n", median(t_all, runs));
    state_view_deinit(&sv);

    free(t_win);
    free(t_lay);
    free(t_draw);
    free(t_all);
    SDL_FreeSurface(surf);
    draw_fonts_destroy(fonts);
    SDL_Quit();
    trace_destroy(tr);
    return 0;
}
