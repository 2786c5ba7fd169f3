/* The real runner: runs a scenario on the host with one real process per
 * simulated process (fork; a spawn execs threadsim), one pthread per thread,
 * process-shared pthread primitives in one MAP_SHARED mapping, a real GIL
 * per process, and records every state change into the common trace format
 * (source "real"). */
#ifndef THREADSIM_HOST_RUNNER_H
#define THREADSIM_HOST_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/error.h"
#include "sim/scenario.h"
#include "sim/trace.h"

#include "gil.h"

/* Events (state changes and instants) a thread's trace buffer holds by
 * default: 512 KiB a thread. Past them a thread's trace is cut short, and the
 * trace says from when (trace_task.recorded_until). The buffers of a run's
 * first threads (host_trace_threads) can be made larger or smaller
 * (host_options.trace_events); the threads made past them keep the
 * default. */
#define HOST_EVENTS_PER_THREAD 16384
#define HOST_TRACE_EVENTS_MIN 64
#define HOST_TRACE_EVENTS_MAX (1u << 26)
/* Bytes of one recorded event, and of the trace buffers of a run's first
 * threads in all, at most (host_check). */
#define HOST_EVENT_BYTES 32
#define HOST_TRACE_BYTES_MAX ((uint64_t)4 << 30)

struct host_options {
    int64_t timeout_ns;      /* wall-time bound of one run; default 60 s */
    uint32_t max_threads;    /* threads alive or ever created, all processes; default 256 */
    uint32_t max_processes;  /* default 64 */
    uint64_t max_memory;     /* address-space bound per process in bytes (RLIMIT_AS); 0: none */
    bool record;             /* record the trace (default true) */
    /* events the trace buffer of each of the run's first threads holds
     * (host_trace_threads), HOST_TRACE_EVENTS_MIN to HOST_TRACE_EVENTS_MAX
     * (default HOST_EVENTS_PER_THREAD); the buffers are made and touched
     * before the run, so host_check refuses a size whose buffers would take
     * more than HOST_TRACE_BYTES_MAX, or half of this host's memory or of
     * max_memory */
    uint32_t trace_events;
    const char *self_exe;    /* the threadsim executable, for spawn; NULL: /proc/self/exe */
    /* Where the scenario came from, so a spawned process (a new image of
     * threadsim, `threadsim __worker`) can load the same one: the file given
     * to scenario_load_file, or the text and origin given to
     * scenario_load_buffer. Changes made to the scenario after loading (seed,
     * machine, scheduler, profile) are passed on by the runner. Neither set:
     * spawn forks as fork does, and host_result.note says so. */
    const char *source_file;
    const char *source_text;
    size_t source_len;
    const char *source_origin;
    /* The caller's interruption flag (set by its SIGINT handler, say), or
     * NULL: once non-zero the run is stopped and cleaned up as by the
     * watchdog, and host_run returns STATUS_WATCHDOG. */
    const volatile sig_atomic_t *stop;
};

/* Fills o with the defaults. */
void host_options_init(struct host_options *o);

/* How many threads of a run of sc get trace buffers of opt->trace_events:
 * its declared threads, then one per `thread` op and per thread pool worker
 * of its ops, in the order the run makes them (slots, and the trace's tasks,
 * are numbered in that order), at most the run's thread limit. A `thread` op
 * run more than once makes threads past them, which keep the default. */
uint32_t host_trace_threads(const struct scenario *sc, const struct host_options *opt);

/* Checks that every object and op of sc can be run for real. Returns
 * STATUS_OK, or STATUS_BAD_INPUT with err naming the JSON path of the first
 * one that cannot. host_run calls it first. */
enum status host_check(const struct scenario *sc, const struct host_options *opt, struct error *err);

/* Runs sc once for real. On STATUS_OK *out is the merged trace (source
 * "real", makespan set; the caller frees it with trace_destroy). On a
 * deadlock returns STATUS_DEADLOCK with err saying which thread waits for
 * what (and *out filled up to that point); a run stopped by the time or
 * resource limits returns STATUS_WATCHDOG; a scenario misuse or a crashed
 * child STATUS_RUNTIME. Every child is killed and reaped and the shared
 * mapping unmapped before it returns, whatever the outcome. *out is NULL when
 * no trace could be made. */
enum status host_run(const struct scenario *sc, const struct host_options *opt, struct trace **out,
                     struct error *err);

/* Everything a real run leaves besides the trace: final memory, lost
 * updates and GIL statistics (the extras of the `real` report). */
struct host_result {
    struct trace *trace;         /* owned; NULL when none could be made */
    uint32_t nvars;              /* = scenario.nvars */
    uint32_t *var_off;           /* layout of memory: read it with host_result_var */
    int64_t *memory;             /* final values of every variable of every process */
    uint32_t *cell_base;         /* per process: its private memory in `memory` */
    uint32_t *template_proc;     /* per process: the declared process whose layout it has */
    uint32_t *tcell;             /* per declared process: its first private cell */
    uint64_t lost_updates;       /* racy adds that overwrote another write */
    int64_t finish_ns;           /* when the last thread finished (from time 0),
                                    measured with or without a trace; -1: none did */
    uint32_t nprocesses;         /* declared ones, then those made by `process` ops
                                    (the trace's processes, in the same order) */
    enum gil_mode *gil_mode;     /* per process */
    struct host_gil_stats *gil;  /* per process */
    int32_t *pid;                /* per process: its pid (0: never started) */
    int32_t *ppid;               /* per process: its parent's pid as it started */
    bool *execd;                 /* per process: a spawned, exec'd image of threadsim */
    int32_t forkserver_pid;      /* the run's forkserver, 0: none was started */
    uint32_t cpus;               /* CPUs the run was pinned to (the trace's cpus) */
    char note[ERROR_MSG_MAX];    /* a caveat for the user ("" none): fewer CPUs than asked */
};

/* host_run, keeping the extras. res is caller storage; free its contents
 * with host_result_deinit whatever the status. */
enum status host_run_result(const struct scenario *sc, const struct host_options *opt,
                            struct host_result *res, struct error *err);
void host_result_deinit(struct host_result *res);

/* The final values of variable `var` (scenario.vars; `length` or 1 of them)
 * in process `process` (an index in res->trace->processes), or in the shared
 * memory with UINT32_MAX; NULL when that process does not have it. */
const int64_t *host_result_var(const struct host_result *res, const struct scenario *sc, uint32_t process,
                               uint32_t var);

/* The hidden `threadsim __worker FD P` mode: maps the run whose memfd is FD
 * and runs process P of it (made by a spawn start) until it ends; exits the
 * process with the runner's codes. Returns only when the run cannot be
 * joined (an exit code, the failure reported to the runner when possible). */
int host_worker_main(int fd, uint32_t p);

#endif
