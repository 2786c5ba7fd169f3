/* Throughput and memory benchmark of the simulation kernel.
 *
 * N threads, each alternating `compute 1ms` and `sleep 1ms` K times, under rr
 * (quantum 4 ms) on 4 CPUs, with no trace; then the lock-heavy variant: each
 * thread K times computes 1 ms and holds one shared lock for 10 us, on 2 CPUs. The threads are created by a main
 * thread with `thread` ops, so the scenario stays small at N = 10^6. Each run
 * happens in a child process so that its peak RSS is its own; the figures
 * printed are medians over the runs.
 *
 *   bench_throughput [--runs R] [--events E] [N ...]
 *
 * Memory per thread is (peak RSS - peak RSS of the same scenario with N = 1)
 * / N: the engine's tasks, frames, ready queue and pending events; at small
 * N the page granularity of RSS makes it noisy, so "marginal" also gives the
 * slope of peak RSS from the previous N. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scheduler/registry.h"
#include "sim/engine.h"
#include "sim/scenario.h"
#include "sim/order.h"

struct result {
    double seconds;      /* engine_run wall time */
    double events;
    double peak_rss_kb;
    double makespan_s;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The compute-only workload (compute 1 ms, sleep 1 ms; 4 CPUs) or the
 * lock-heavy one (compute 1 ms, then hold one shared lock for 10 us; 2 CPUs). */
static bool lock_heavy;

static char *scenario_text(long n, long k)
{
    const char *fmt =
        "{\"name\": \"throughput\", \"machine\": {\"cpus\": %d},"
        " \"scheduler\": {\"policy\": \"rr\", \"quantum\": \"4ms\"},"
        " \"objects\": {\"L\": {\"type\": \"lock\"}},"
        " \"functions\": {\"worker\": {\"params\": [], \"body\": ["
        "   {\"op\": \"repeat\", \"times\": %ld, \"body\": [%s]}]}},"
        " \"processes\": [{\"name\": \"main\", \"threads\": [{\"name\": \"MainThread\", \"program\": ["
        "   {\"op\": \"repeat\", \"times\": %ld, \"body\": ["
        "     {\"op\": \"thread\", \"name\": \"w\", \"call\": \"worker\", \"args\": []}]}]}]}]}";
    const char *body = lock_heavy
                           ? "{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"with\", \"obj\": \"L\", \"body\": "
                             "[{\"op\": \"compute\", \"for\": \"10us\"}]}"
                           : "{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"sleep\", \"for\": \"1ms\"}";
    size_t len = strlen(fmt) + strlen(body) + 64;
    char *buf = malloc(len);
    snprintf(buf, len, fmt, lock_heavy ? 2 : 4, k, body, n);
    return buf;
}

/* Runs one configuration in this process and writes a result to fd. */
static int run_child(long n, long k, int fd)
{
    struct error err;
    char *text = scenario_text(n, k);
    struct scenario *sc = scenario_load_buffer(text, strlen(text), "throughput.json", &err);
    free(text);
    if (!sc) {
        fprintf(stderr, "bench: %s: %s\n", err.path, err.msg);
        return 1;
    }
    struct engine_options opts = {.record_trace = false, .max_events = UINT64_MAX / 2};
    struct engine *eng = engine_create(sc, sched_registry_find("rr"), &opts, &err);
    if (!eng) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    double t0 = now_seconds();
    enum status st = engine_run(eng, &err);
    double t1 = now_seconds();
    if (st != STATUS_OK) {
        fprintf(stderr, "bench: run failed: %s\n", err.msg);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct result r = {
        .seconds = t1 - t0,
        .events = (double)engine_stats(eng)->events,
        .peak_rss_kb = (double)ru.ru_maxrss,
        .makespan_s = (double)engine_stats(eng)->makespan / 1e9,
    };
    engine_destroy(eng);
    scenario_destroy(sc);
    return write(fd, &r, sizeof r) == (ssize_t)sizeof r ? 0 : 1;
}

static int run_once(long n, long k, struct result *out)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        _exit(run_child(n, k, fds[1]));
    }
    close(fds[1]);
    ssize_t got = read(fds[0], out, sizeof *out);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof *out && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Median figures of `runs` runs of one configuration: time and RSS are
 * medians; events are the same in every run (the engine is deterministic). */
static int run_config(long n, long k, int runs, struct result *med)
{
    double secs[64], rss[64];
    for (int i = 0; i < runs; i++) {
        struct result r;
        if (run_once(n, k, &r) != 0)
            return -1;
        secs[i] = r.seconds;
        rss[i] = r.peak_rss_kb;
        med->events = r.events;
        med->makespan_s = r.makespan_s;
    }
    med->seconds = order_median(secs, (size_t)runs);
    med->peak_rss_kb = order_median(rss, (size_t)runs);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 3;
    double target_events = 1e7;
    long ns[16];
    int nn = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
            target_events = atof(argv[++i]);
        else if (nn < 16)
            ns[nn++] = atol(argv[i]);
    }
    if (runs < 1 || runs > 64)
        runs = 3;
    if (nn == 0) {
        long def[] = {1000, 10000, 100000, 1000000};
        memcpy(ns, def, sizeof def);
        nn = 4;
    }
    for (int pass = 0; pass < 2; pass++) {
    lock_heavy = pass == 1;
    /* Baseline: the same process image with one worker thread. */
    struct result base;
    if (run_config(1, 4, runs, &base) != 0) {
        fprintf(stderr, "bench: baseline run failed\n");
        return 1;
    }
    if (lock_heavy)
        printf("\nlock-heavy: N threads x K (compute 1ms, then one shared lock held 10us), rr 4ms, 2 CPUs, no trace\n");
    else
        printf("threadsim kernel throughput: N threads x K (compute 1ms, sleep 1ms), rr 4ms, 4 CPUs, no trace\n");
    printf("medians of %d runs; baseline peak RSS %.1f MB\n\n", runs, base.peak_rss_kb / 1024);
    printf("%10s %8s %12s %10s %14s %12s %12s %12s\n", "N", "K", "events", "time_s", "events_per_s",
           "peak_rss_MB", "bytes/thread", "marginal");
    double prev_rss = 0;
    long prev_n = 0;
    for (int i = 0; i < nn; i++) {
        long n = ns[i];
        long k = (long)(target_events / (2.0 * (double)n));
        if (k < 4)
            k = 4;
        struct result r;
        if (run_config(n, k, runs, &r) != 0) {
            fprintf(stderr, "bench: run with N=%ld failed\n", n);
            return 1;
        }
        double per_thread = (r.peak_rss_kb - base.peak_rss_kb) * 1024.0 / (double)n;
        /* marginal: the RSS slope from the previous N, free of the baseline's page-size noise */
        char marginal[32] = "-";
        if (prev_n > 0 && n > prev_n)
            snprintf(marginal, sizeof marginal, "%.0f", (r.peak_rss_kb - prev_rss) * 1024.0 / (double)(n - prev_n));
        prev_rss = r.peak_rss_kb;
        prev_n = n;
        printf("%10ld %8ld %12.0f %10.3f %14.0f %12.1f %12.0f %12s\n", n, k, r.events, r.seconds,
               r.events / r.seconds, r.peak_rss_kb / 1024, per_thread, marginal);
        fflush(stdout);
    }
    if (lock_heavy)
        continue;
    /* Scaling: the same work per thread (K = 4) for every N. Under n log n
     * growth the last column stays flat or falls. */
    printf("\nscaling with K = 4 for every N (time / (N log2 N) should not grow):\n");
    printf("%10s %12s %10s %18s\n", "N", "events", "time_s", "ns/(N*log2 N)");
    for (int i = 0; i < nn; i++) {
        long n = ns[i];
        struct result r;
        if (run_config(n, 4, runs, &r) != 0) {
            fprintf(stderr, "bench: run with N=%ld failed\n", n);
            return 1;
        }
        printf("%10ld %12.0f %10.3f %18.3f\n", n, r.events, r.seconds,
               r.seconds * 1e9 / ((double)n * log2((double)n)));
        fflush(stdout);
    }
    }
    return 0;
}
