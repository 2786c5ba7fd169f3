/* Comparing a simulated run of a scenario with repeated real runs of it: the
 * median, min and max of each real per-thread figure over the runs, and the
 * simulator's error against the median. Pure arithmetic over run summaries,
 * so it is tested on hand-made figures; `threadsim compare` prints it. */
#ifndef THREADSIM_COMPARE_H
#define THREADSIM_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "trace.h"

/* The per-thread figures compared, in report order. Their JSON keys are
 * compare_field_key(): "<name>_ns", and "context_switches". */
enum compare_field {
    COMPARE_ARRIVAL = 0,
    COMPARE_FIRST_RUN,
    COMPARE_FINISH,
    COMPARE_RESPONSE,
    COMPARE_TURNAROUND,
    COMPARE_WAIT,
    COMPARE_CPU,
    COMPARE_BLOCKED,
    COMPARE_GIL_WAIT,
    COMPARE_SWITCHES,
    COMPARE_FIELD_COUNT
};

/* One run's results (sim or real). Everything is borrowed from the caller;
 * a metric of -1 means "never" (as in struct task_metrics). */
struct compare_run {
    int64_t makespan;
    uint64_t context_switches;  /* all threads together */
    uint64_t events;            /* engine events, or trace records of a real run */
    uint64_t gil_switches;      /* the GIL went to another thread */
    uint64_t lost_updates;
    uint64_t idle_while_ready;  /* trace_idle_while_ready of its trace, ns */
    int64_t recorded_until;     /* trace_recorded_until of its trace: -1, all recorded */
    uint32_t nthreads;
    const char *const *process; /* process name of each thread */
    const char *const *name;    /* thread name of each thread */
    const struct task_metrics *metrics;
};

/* Median, min and max of one figure over the real runs; all -1 when no run
 * had a value (a thread that never finished, or was not seen). */
struct compare_stat {
    int64_t median;
    int64_t min;
    int64_t max;
};

struct compare_thread {
    char *process;
    char *name;
    uint32_t seen;                            /* real runs in which this thread was found */
    int64_t sim[COMPARE_FIELD_COUNT];         /* the simulated figure, -1: none */
    struct compare_stat real[COMPARE_FIELD_COUNT];
    double error_pct[COMPARE_FIELD_COUNT];    /* (sim - real median) / real median, in %; NAN: undefined */
    bool sim_last;                            /* no simulated thread finished later */
    uint32_t real_last;                       /* real runs in which no thread finished later */
};

struct comparison {
    uint32_t repeat;                 /* real runs */
    int64_t sim_makespan;
    struct compare_stat real_makespan;
    double makespan_pct;             /* NAN when undefined */
    struct compare_stat real_context_switches;
    struct compare_stat real_events;
    struct compare_stat real_gil_switches;
    struct compare_stat real_lost_updates;
    int64_t sim_idle_while_ready;    /* trace_idle_while_ready, ns */
    struct compare_stat real_idle_while_ready;
    /* over the real runs whose trace a full event buffer cut short (-1: no
     * run's was): when the first of their threads stopped being recorded;
     * truncated counts those runs */
    struct compare_stat real_recorded_until;
    uint32_t truncated;
    /* real runs whose last thread to finish was none of the simulation's
     * last (the host ordered the threads' ends otherwise) */
    uint32_t last_other_runs;
    uint32_t nthreads;               /* the simulated threads, in the simulator's order */
    struct compare_thread *threads;
};

/* The key of a field in run --format json ("turnaround_ns"). */
const char *compare_field_key(enum compare_field f);

/* The value of field f for one thread's metrics; -1 when it never happened. */
int64_t compare_field_value(const struct task_metrics *m, enum compare_field f);

/* (sim - real) / real in percent; NAN when either is -1 or real is 0 while
 * sim is not (0 against 0 is no error). */
double compare_error_pct(int64_t sim, int64_t real);

/* Median, min and max of the n values that are not -1 (v is reordered). The
 * median of an even count is the mean of the middle two, rounded down. */
struct compare_stat compare_stat_of(int64_t *v, uint32_t n);

/* Compares sim with nreal real runs. A simulated thread is matched in each
 * real run by process and thread name (the k-th thread of a name with the
 * k-th of that name), so the real runs may list threads in any order; a thread
 * missing from a run does not count in its statistics. Returns the
 * comparison (free with comparison_destroy). */
struct comparison *comparison_create(const struct compare_run *sim, const struct compare_run *real, uint32_t nreal);
void comparison_destroy(struct comparison *cmp);

/* Fills run with the results of a finished engine. The arrays are allocated:
 * release them with compare_run_deinit. */
void compare_run_from_engine(struct compare_run *run, const struct engine *eng);
/* The same from a trace (a real run's), with trace_metrics_compute. */
void compare_run_from_trace(struct compare_run *run, const struct trace *tr);
void compare_run_deinit(struct compare_run *run);

#endif
