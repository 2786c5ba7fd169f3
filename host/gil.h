/* A real Global Interpreter Lock: CPython's new GIL (3.2+: a mutex and a
 * condition variable, timed waits of switch_interval, drop requests, forced
 * switching) and the old one (2.x: release and re-take every check_interval
 * ticks, no hand-over), as docs/gil.md and gil-model.md describe. The caller
 * provides the storage, which may live in memory shared between processes. */
#ifndef THREADSIM_HOST_GIL_H
#define THREADSIM_HOST_GIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/scenario.h"

struct host_gil_stats {
    uint64_t switches;        /* the GIL went to a different thread */
    uint64_t drop_requests;   /* a waiter's timed wait ran out and asked for a drop */
    uint64_t forced_switches; /* a holder dropped on request and waited for another to take it */
    uint64_t failed_wakeups;  /* old GIL: a waiter woken by a release found it taken again */
};

/* Invariants: `locked` and `holder` change only under `mutex`; `last_holder`
 * and `switch_number` change under both `mutex` and `switch_mutex`. */
struct host_gil {
    enum gil_mode mode;
    int64_t interval_ns;      /* new GIL: switch_interval */
    uint32_t check_interval;  /* old GIL: ticks between releases */
    pthread_mutex_t mutex;
    pthread_cond_t cond;      /* signalled when the GIL is dropped */
    pthread_mutex_t switch_mutex;
    pthread_cond_t switch_cond; /* signalled when a thread takes the GIL */
    int locked;
    int64_t holder;           /* thread id, -1: none */
    int64_t last_holder;
    uint64_t switch_number;
    atomic_int drop_request;  /* the eval breaker: read by the holder between bytecodes */
    uint32_t waiters;         /* threads waiting in take (old GIL: to count failed wake-ups) */
    struct host_gil_stats stats;
};

/* Prepares g (process-shared primitives, CLOCK_MONOTONIC waits) for cfg.
 * Returns 0 or an errno value. */
int host_gil_init(struct host_gil *g, const struct gil_config *cfg);
void host_gil_deinit(struct host_gil *g);

/* Called (at most once per take, with the GIL's mutex held) when a take has
 * to wait: lets the caller record the wait. May be NULL. */
typedef void (*host_gil_wait_fn)(void *arg);

/* Takes the GIL for thread `self` (any id unique among its users); blocks
 * as CPython's take_gil does. Returns true when the thread had to wait. */
bool host_gil_take(struct host_gil *g, int64_t self, host_gil_wait_fn on_wait, void *arg);

/* Drops the GIL held by `self`. With forced (new GIL, dropping because of a
 * drop request) waits until another thread has taken it. */
void host_gil_drop(struct host_gil *g, int64_t self, bool forced);

/* The eval breaker of the new GIL: true when the holder should drop and take
 * again at this check point. Cheap (one relaxed atomic load). */
static inline bool host_gil_drop_requested(struct host_gil *g)
{
    return atomic_load_explicit(&g->drop_request, memory_order_relaxed) != 0;
}

/* A check point for the holder `self` between bytecodes: new GIL: if a drop
 * was requested, drops (forced) and takes again; old GIL: every
 * check_interval ticks (counted in *ticks; the excess is kept for the next
 * interval) releases and immediately re-takes. Returns true when the GIL was released. */
bool host_gil_checkpoint(struct host_gil *g, int64_t self, uint64_t *ticks, host_gil_wait_fn on_wait, void *arg);

#endif
