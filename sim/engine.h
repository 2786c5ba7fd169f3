/* The discrete-event simulation kernel: runs a scenario on N simulated CPUs
 * under a scheduling policy and records a trace and per-thread metrics.
 * Deterministic: the same scenario, policy and seed give the same trace. */
#ifndef THREADSIM_ENGINE_H
#define THREADSIM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "scenario.h"
#include "sched_class.h"
#include "trace.h"

struct engine;

struct engine_options {
    bool record_trace;      /* keep segments and instants (metrics are always kept) */
    uint64_t max_events;    /* stop with STATUS_RUNTIME past this many events; 0: 2^40 */
    int64_t max_time;       /* stop with STATUS_RUNTIME past this simulated time; 0: none */
};

/* Per-thread results (contract: run --format json). Times in ns; -1 = never. */
struct task_metrics {
    int64_t arrival;
    int64_t first_run;
    int64_t finish;
    int64_t cpu;
    int64_t wait;           /* READY plus switch time */
    int64_t blocked;        /* BLOCKED for any reason (includes gil_wait) */
    int64_t gil_wait;
    uint64_t context_switches; /* times switched onto a CPU */
};

struct engine_stats {
    uint64_t events;
    uint64_t context_switches; /* switches that cost context_switch */
    uint64_t process_switches; /* switches that cost process_switch */
    uint64_t preemptions;
    uint64_t gil_switches;
    uint64_t lost_updates;
    uint64_t lock_failed_wakeups; /* barging: a waiter woken by a release found the lock taken again */
    /* barging: hand-offs that were races, a woken waiter against another
     * thread trying the lock or semaphore: counted when the loser comes to
     * it. Close: decided by less than the profile's futex_race_ns. */
    uint64_t lock_races;
    uint64_t lock_close_races;
    int64_t makespan;       /* time the last thread finished */
    int64_t busy;           /* CPU time spent running tasks' ops, all CPUs */
    int64_t switching;      /* CPU time spent switching, all CPUs */
};

/* GIL statistics of one process. */
struct engine_gil_stats {
    uint64_t switches;        /* the GIL went to a different thread */
    uint64_t drop_requests;   /* a waiter's timed wait ran out and asked the holder to drop */
    uint64_t forced_switches; /* the holder dropped on request and waited for another to take it */
    uint64_t failed_wakeups;  /* a thread woken by a release found the GIL taken again */
    uint64_t check_releases;  /* old GIL: releases at a check point while another thread wanted it */
};

/* A line printed by a thread, in simulated-time order. */
struct engine_print {
    int64_t time;
    uint32_t task;
    char *text;
};

/* Makes an engine for a loaded scenario and a policy (the scenario's, or an
 * override chosen by the caller). Neither is copied: both must outlive the
 * engine. Returns NULL with err filled if the policy rejects the settings. */
struct engine *engine_create(const struct scenario *sc, const struct sched_policy *policy,
                             const struct engine_options *opts, struct error *err);
void engine_destroy(struct engine *eng);

/* Runs the scenario to the end. Returns STATUS_OK, or STATUS_DEADLOCK /
 * STATUS_RUNTIME with err naming the thread, the op path and the reason. The
 * results below are valid after either. */
enum status engine_run(struct engine *eng, struct error *err);

/* Results. The trace is owned by the engine (empty of segments unless
 * record_trace). */
const struct trace *engine_trace(const struct engine *eng);
const struct engine_stats *engine_stats(const struct engine *eng);
uint32_t engine_task_count(const struct engine *eng);
const struct task_metrics *engine_task_metrics(const struct engine *eng, uint32_t task);
const char *engine_task_name(const struct engine *eng, uint32_t task);
const char *engine_task_process(const struct engine *eng, uint32_t task);
uint32_t engine_print_count(const struct engine *eng);
const struct engine_print *engine_print_at(const struct engine *eng, uint32_t i);

/* The final value of element `index` (0 for an integer) of the declared
 * variable `var` (an index in scenario.vars); false when out of range. */
bool engine_var_value(const struct engine *eng, uint32_t var, uint32_t index, int64_t *out);

/* Processes at the end of the run: the declared ones (0..n-1, in file order)
 * and the children created by `process` ops, in creation order. */
uint32_t engine_process_count(const struct engine *eng);
const char *engine_process_name(const struct engine *eng, uint32_t p);
/* The declared process whose memory layout and private objects p has. */
uint32_t engine_process_template(const struct engine *eng, uint32_t p);
/* Final value of a variable in process p's memory (or the shared memory);
 * false when p does not have that variable or index is out of range. */
bool engine_process_var(const struct engine *eng, uint32_t p, uint32_t var, uint32_t index, int64_t *out);

/* The GIL mode and statistics of process p (mode GIL_NONE: no GIL). */
enum gil_mode engine_process_gil(const struct engine *eng, uint32_t p, struct engine_gil_stats *stats);

#endif
