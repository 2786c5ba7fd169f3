/* Benchmark of the PNG export of a huge trace.
 *
 * Builds, in memory, a trace of N segments (default 10^6): 50 threads of
 * one process on 4 CPUs alternating 100 ns running and 100 ns ready, with a
 * lock handed from thread to thread every 1 us (release/acquire pairs, so the
 * lock's owner lane and the hand-over arrows are drawn too); then lays it
 * out and writes the PNG (to /dev/null) R times (default 5), and prints the
 * median, min and max of the layout, the drawing plus PNG encoding, and the
 * total. Target: a median total under 2 s for 10^6 segments.
 *
 *   bench_png [--runs R] [--segments N] [--width W] [--height H]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/trace.h"
#include "viz/layout.h"
#include "viz/png.h"
#include "sim/order.h"

enum { TASKS = 50, CPUS = 4 };

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct trace *make_trace(long nsegments)
{
    struct trace *tr = trace_create("bench_png", "10^6 segments of 50 threads", "sim", "rr",
                                    CPUS, 0);
    uint32_t p = trace_add_process(tr, "main");
    for (int t = 0; t < TASKS; t++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", t);
        trace_add_task(tr, name, p);
    }
    uint32_t lock = trace_add_object(tr, "L", "lock", 0);
    long per_task = nsegments / TASKS;
    uint32_t flow = 0;
    for (long i = 0; i < per_task; i++) {
        for (uint32_t t = 0; t < TASKS; t++) {
            bool run = (i + t) % 2 == 0;
            struct trace_segment s = { .start = i * 100, .end = i * 100 + 100, .task = t,
                                       .cpu = run ? (int32_t)(t % CPUS) : -1,
                                       .state = run ? TRACE_RUNNING : TRACE_READY,
                                       .obj = UINT32_MAX };
            trace_segment_add(tr, &s);
        }
        if (i % 10 == 0) {
            uint32_t from = (uint32_t)(i / 10) % TASKS, to = (from + 1) % TASKS;
            flow++;
            struct trace_instant rel = { .time = i * 100, .value = to, .task = from,
                                         .kind = INSTANT_RELEASE, .obj = lock, .flow = flow,
                                         .text = UINT32_MAX };
            struct trace_instant acq = rel;
            acq.task = to;
            acq.kind = INSTANT_ACQUIRE;
            acq.value = 0;
            trace_instant_add(tr, &rel, NULL);
            trace_instant_add(tr, &acq, NULL);
        }
    }
    tr->makespan = per_task * 100;
    return tr;
}

static void report(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, order_double);
    printf("  %-22s median %7.3f s   min %7.3f s   max %7.3f s\n", what, v[n / 2], v[0],
           v[n - 1]);
}

int main(int argc, char **argv)
{
    int runs = 5;
    long nsegments = 1000000;
    struct layout_options o;
    layout_options_init(&o);
    o.width = 1920;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--segments") == 0 && i + 1 < argc)
            nsegments = atol(argv[++i]);
        else if (strcmp(argv[i], "--width") == 0 && i + 1 < argc)
            o.width = atoi(argv[++i]);
        else if (strcmp(argv[i], "--height") == 0 && i + 1 < argc)
            o.height = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_png [--runs R] [--segments N] [--width W] [--height H]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 1000 || nsegments < TASKS) {
        fprintf(stderr, "bench_png: runs 1 to 1000 and at least %d segments\n", TASKS);
        return 2;
    }
    double t0 = now_seconds();
    struct trace *tr = make_trace(nsegments);
    printf("bench_png: %zu segments, %zu instants, %d x %s, generated in %.2f s; %d runs\n",
           tr->nsegments, tr->ninstants, o.width, o.height ? "H" : "fitted height",
           now_seconds() - t0, runs);
    double *lay_s = calloc((size_t)runs, sizeof *lay_s);
    double *png_s = calloc((size_t)runs, sizeof *png_s);
    double *all_s = calloc((size_t)runs, sizeof *all_s);
    size_t nrects = 0, narrows = 0;
    for (int r = 0; r < runs; r++) {
        struct error err;
        error_clear(&err);
        FILE *out = fopen("/dev/null", "wb");
        if (!out) {
            perror("bench_png: /dev/null");
            return 1;
        }
        double a = now_seconds();
        struct layout *lay = layout_create(tr, &o, &err);
        double b = now_seconds();
        if (!lay || png_write(lay, out, &err) != STATUS_OK) {
            fprintf(stderr, "bench_png: %s\n", err.msg);
            return 1;
        }
        double c = now_seconds();
        fclose(out);
        nrects = lay->nrects;
        narrows = lay->narrows;
        layout_destroy(lay);
        lay_s[r] = b - a;
        png_s[r] = c - b;
        all_s[r] = c - a;
    }
    printf("  layout: %zu rectangles, %zu arrows\n", nrects, narrows);
    report("layout_create", lay_s, runs);
    report("draw + PNG encode", png_s, runs);
    report("total", all_s, runs);
    printf("  target: total median < 2 s: %s\n", all_s[runs / 2] < 2.0 ? "met" : "NOT met");
    free(lay_s);
    free(png_s);
    free(all_s);
    trace_destroy(tr);
    return 0;
}
