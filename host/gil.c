/* The real GIL. take/drop follow CPython's Python/ceval_gil.h (3.2-3.12) for
 * the new GIL and Python 2's ceval.c periodic release for the old one. */
#include "gil.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int host_gil_init(struct host_gil *g, const struct gil_config *cfg)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    int rc;
    memset(g, 0, sizeof *g);
    g->mode = cfg->mode;
    g->interval_ns = cfg->switch_interval > 0 ? cfg->switch_interval : 5000000;
    g->check_interval = cfg->check_interval > 0 ? cfg->check_interval : 100;
    g->holder = -1;
    g->last_holder = -1;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if ((rc = pthread_mutex_init(&g->mutex, &ma)) == 0 &&
        (rc = pthread_mutex_init(&g->switch_mutex, &ma)) == 0 &&
        (rc = pthread_cond_init(&g->cond, &ca)) == 0)
        rc = pthread_cond_init(&g->switch_cond, &ca);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_destroy(&ca);
    return rc;
}

void host_gil_deinit(struct host_gil *g)
{
    pthread_mutex_destroy(&g->mutex);
    pthread_mutex_destroy(&g->switch_mutex);
    pthread_cond_destroy(&g->cond);
    pthread_cond_destroy(&g->switch_cond);
}

static void deadline_after(struct timespec *ts, int64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t total = ts->tv_nsec + ns;
    ts->tv_sec += (time_t)(total / 1000000000);
    ts->tv_nsec = (long)(total % 1000000000);
}

bool host_gil_take(struct host_gil *g, int64_t self, host_gil_wait_fn on_wait, void *arg)
{
    bool waited = false;
    pthread_mutex_lock(&g->mutex);
    if (g->mode == GIL_OLD) {
        /* Python 2's lock: a waiter sleeps until a release signals it; the
         * releaser usually re-takes first and the woken waiter loses */
        bool woken = false;
        while (g->locked) {
            if (woken)
                g->stats.failed_wakeups++;
            if (!waited && on_wait)
                on_wait(arg);
            waited = true;
            g->waiters++;
            pthread_cond_wait(&g->cond, &g->mutex);
            g->waiters--;
            woken = true;
        }
    } else {
        while (g->locked) {
            uint64_t saved = g->switch_number;
            struct timespec ts;
            if (!waited && on_wait)
                on_wait(arg);
            waited = true;
            deadline_after(&ts, g->interval_ns);
            int rc = pthread_cond_timedwait(&g->cond, &g->mutex, &ts);
            /* a timeout with no switch since the wait began: ask for a drop */
            if (rc == ETIMEDOUT && g->locked && g->switch_number == saved &&
                !atomic_load_explicit(&g->drop_request, memory_order_relaxed)) {
                atomic_store_explicit(&g->drop_request, 1, memory_order_relaxed);
                g->stats.drop_requests++;
            }
        }
    }
    g->locked = 1;
    g->holder = self;
    pthread_mutex_lock(&g->switch_mutex);
    if (g->last_holder != self) {
        g->last_holder = self;
        g->switch_number++;
        g->stats.switches++;
    }
    pthread_cond_signal(&g->switch_cond);
    pthread_mutex_unlock(&g->switch_mutex);
    if (g->mode != GIL_OLD)
        atomic_store_explicit(&g->drop_request, 0, memory_order_relaxed);
    pthread_mutex_unlock(&g->mutex);
    return waited;
}

void host_gil_drop(struct host_gil *g, int64_t self, bool forced)
{
    pthread_mutex_lock(&g->mutex);
    g->locked = 0;
    g->holder = -1;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->mutex);
    if (!forced || g->mode != GIL_NEW)
        return;
    /* forced switching: do not race the waiter that asked for the drop */
    pthread_mutex_lock(&g->switch_mutex);
    if (g->last_holder == self) {
        g->stats.forced_switches++;
        while (g->last_holder == self)
            pthread_cond_wait(&g->switch_cond, &g->switch_mutex);
    }
    pthread_mutex_unlock(&g->switch_mutex);
}

bool host_gil_checkpoint(struct host_gil *g, int64_t self, uint64_t *ticks, host_gil_wait_fn on_wait, void *arg)
{
    if (g->mode == GIL_NEW) {
        if (!host_gil_drop_requested(g))
            return false;
        host_gil_drop(g, self, true);
        host_gil_take(g, self, on_wait, arg);
        return true;
    }
    if (g->mode != GIL_OLD || *ticks < g->check_interval)
        return false;
    /* the ticks past the interval carry over: CPython checks at every
     * bytecode, these check points are coarser, and dropping the excess
     * would lock every release to one place of a loop (never inside
     * x += 1, say) */
    *ticks %= g->check_interval;
    host_gil_drop(g, self, false);
    host_gil_take(g, self, on_wait, arg);
    return true;
}
