/* Calibration: measures this host (workload kernels, thread and process
 * start-up, context switches, lock hand-off and wake-up latency, pipes,
 * queues) in repeated trials and turns the medians into a profile the
 * simulator loads, so that a simulation predicts this host. */
#ifndef THREADSIM_HOST_CALIBRATE_H
#define THREADSIM_HOST_CALIBRATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/error.h"
#include "sim/profile.h"

/* What is measured. Each figure's key is its profile key when it has one
 * (calibrate_figure_info). */
enum calib_figure_id {
    CALIB_COUNT_NS_PER_ITER = 0,
    CALIB_PRIMES_NS_PER_DIVISION,
    CALIB_PRIMES_NS_PER_NUMBER,
    CALIB_SPIN_NS_PER_NS,
    CALIB_CHUNK_NS,
    CALIB_THREAD_START,
    CALIB_THREAD_CREATE_JOIN,
    CALIB_FORK_PARENT,
    CALIB_FORK_CHILD,
    CALIB_SPAWN_PARENT,
    CALIB_SPAWN_CHILD,
    CALIB_FORKSERVER_START,
    CALIB_FORKSERVER_PARENT,
    CALIB_FORKSERVER_CHILD,
    CALIB_CONTEXT_SWITCH,
    CALIB_PROCESS_SWITCH,
    CALIB_MUTEX_HANDOFF,
    CALIB_CONDVAR_WAKEUP,
    CALIB_PIPE_OP,
    CALIB_PIPE_NS_PER_BYTE,
    CALIB_PIPE_LATENCY,
    CALIB_COPY_NS_PER_BYTE,
    CALIB_QUEUE_OP,
    CALIB_ACQUIRE,
    CALIB_RELEASE,
    CALIB_RUNNER_ADD,       /* the 7 figures of the runner's trial, in this order */
    CALIB_RUNNER_ACQUIRE,
    CALIB_RUNNER_RELEASE,
    CALIB_RUNNER_START,
    CALIB_RUNNER_FORK_PARENT,
    CALIB_RUNNER_FORK_CHILD,
    CALIB_RUNNER_COMPUTE,
    CALIB_TIMER_LATENCY,
    CALIB_ADD_CONTENDED,
    CALIB_RUNNER_THREAD_START, /* the 3 figures of the thread start trial */
    CALIB_THREAD_LATENCY,
    CALIB_THREAD_BOOT,
    CALIB_WAKE,          /* the 4 figures of the wake trial, in this order */
    CALIB_WAKE_LATENCY,
    CALIB_WAKE_EARLY,
    CALIB_WAKE_SETTLE,
    CALIB_FUTEX_RACE,
    CALIB_IDLE_WAKE,     /* the 3 figures of the idle CPU trial */
    CALIB_IDLE_POLL,
    CALIB_IDLE_KICK,
    CALIB_THREAD_EXIT,
    CALIB_PROCESS_EXIT,
    CALIB_GIL_CHECK,
    CALIB_FIGURE_COUNT
};

/* The fixed description of a figure. */
struct calib_figure_info {
    const char *key;     /* the profile key it sets, or a name for a raw figure */
    bool in_profile;     /* written as a profile key (else only under x-calibration) */
    const char *unit;    /* "ns", "ns/iter", "ns/byte", ... */
    const char *what;    /* one line for the table */
};

/* One figure's result over the trials. */
struct calib_figure {
    bool measured;       /* false: skipped (see calib_result.skipped) */
    uint32_t trials;
    double median;
    double min;
    double max;
};

struct calib_options {
    uint32_t trials;      /* trials per figure; 0: 11 (3 when quick) */
    bool quick;           /* smaller trials: the whole run in about a second */
    const char *self_exe; /* threadsim's executable, run as `threadsim __noop` to
                           * time spawn; NULL: spawn and forkserver start-up are
                           * not measured */
};

struct calib_result {
    char host[64];        /* host name */
    char date[32];        /* UTC, ISO 8601 */
    uint32_t cpus;        /* CPUs this process may run on */
    bool pinned;          /* the switch figures come from threads pinned to one CPU */
    struct calib_figure figures[CALIB_FIGURE_COUNT];
};

const struct calib_figure_info *calibrate_figure_info(enum calib_figure_id id);

/* Runs every measurement. Takes about 1 s with quick, a few seconds without
 * (more on a loaded machine). Returns STATUS_OK, or STATUS_INTERNAL with err
 * naming the system call that failed. Creates threads and child processes,
 * and waits for all of them before returning. */
enum status calibrate_run(const struct calib_options *opts, struct calib_result *res, struct error *err);

/* Sets the profile keys of every measured figure to its median (other keys
 * keep their value in p) and names the profile "HOST DATE". */
void calibrate_apply(const struct calib_result *res, struct profile *p);

/* The profile keys a calibration writes that the profile file at path does
 * not set (one written by an older threadsim, say): their number, the first
 * `max` of them in missing. -1 with err filled when the file does not load. */
int calibrate_profile_missing(const char *path, const char **missing, int max, struct error *err);

/* Writes the profile JSON for res: the name, every measured profile key, and
 * under "x-calibration" (ignored by the loader) each figure's median, min,
 * max, unit and trials. Returns STATUS_OK or STATUS_INTERNAL on a write error. */
enum status calibrate_write_profile(const struct calib_result *res, FILE *out, struct error *err);

#endif
