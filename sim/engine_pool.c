/* map with a thread pool (multiprocessing.pool.ThreadPool) or a process pool
 * (multiprocessing.Pool): N workers take chunks of `chunksize` items in
 * order, call the function on each item and hand its return value back.
 * Ordered, results land in the caller's array at their item's index (map);
 * unordered, in the order they finish (imap_unordered). The caller blocks
 * until every item is done; the workers then end. Process workers are
 * children made like a `process` op (fork by default) and pay its start-up. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "xalloc.h"

/* The caller's time to start one thread worker: thread_start_ns, or with
 * profile.thread_start_wait the wait for the worker to run and the caller's
 * own wake-up (counted as the caller's time, as the workers are made while
 * the CPUs are otherwise free). */
static int64_t thread_start_step(const struct engine *e)
{
    const struct profile *pr = &e->sc->profile;
    if (!pr->thread_start_wait)
        return pr->thread_start_ns;
    int64_t waited = pr->thread_start_latency_ns + e->sc->machine.wakeup_latency;
    return waited > pr->thread_start_ns ? waited : pr->thread_start_ns;
}

#define POOL_WORKER_BITS 16

void engine_pools_deinit(struct engine *e)
{
    for (size_t i = 0; i < e->npools; i++) {
        free(e->pools[i].cur);
        free(e->pools[i].end);
        free(e->pools[i].busy);
        free(e->pools[i].results);
    }
    free(e->pools);
}

/* A worker's base frame runs the map's POOL_STEP op; its `remaining` says
 * which pool and which worker it is. */
static void worker_program(struct engine *e, struct task *w, const struct op_map *m, uint32_t id)
{
    struct op_block b = {.first = m->step_op, .count = 1};
    engine_push_frame(e, w, b, FRAME_BLOCK, NULL);
    w->frames[0].remaining = id;
}

/* Comes back to the map op after cost ns of the caller's CPU (at once
 * when 0). */
static enum step again(struct task *t, int64_t cost)
{
    engine_redo(t);
    if (cost <= 0)
        return STEP_NEXT;
    t->op_left = cost;
    return STEP_TIMED;
}

/* The pool this map op of t started and has not finished with, or NULL. */
static struct pool *open_pool(struct engine *e, const struct task *t, const struct op *op)
{
    for (size_t i = e->npools; i-- > 0;)
        if (e->pools[i].caller == t->se.id && e->pools[i].op == op && !e->pools[i].collected)
            return &e->pools[i];
    return NULL;
}

/* Makes worker w of pool pid, started by t: a thread of t's process, or
 * the main thread of a new process. Returns t's time to make it. */
static int64_t make_worker(struct engine *e, struct task *t, const struct op_map *m, uint32_t pid, uint32_t w)
{
    const struct profile *pr = &e->sc->profile;
    static const char *const worker_kind[] = {"ForkPoolWorker", "SpawnPoolWorker", "ForkServerPoolWorker"};
    /* numbered across the run, as multiprocessing and ThreadPool name them */
    char name[64];
    uint32_t number = ++e->pool_workers_named;
    if (m->process_pool)
        snprintf(name, sizeof name, "%s-%u", worker_kind[m->method], number);
    else
        snprintf(name, sizeof name, "Thread-%u (worker)", number);
    uint32_t process = t->process;
    if (m->process_pool)
        process = engine_new_process(e, engine_keep_string(e, name), t->process, m->method);
    struct task *wt = engine_new_task(e, process, NONE);
    size_t idx = wt->se.id - e->sc->nthreads;
    e->created_names = xgrow(e->created_names, &e->created_names_cap, idx + 1, sizeof *e->created_names);
    e->created_names[idx] = m->process_pool ? "MainThread" : engine_keep_string(e, name);
    worker_program(e, wt, m, pid << POOL_WORKER_BITS | w);
    if (e->opts.record_trace)
        trace_add_task(e->trace, m->process_pool ? "MainThread" : name, process);
    if (m->process_pool) {
        e->procs[process].main_task = wt->se.id;
        return engine_child_arrive(e, wt, m->method);
    }
    /* thread workers are daemon threads of the caller's process: each can
     * run its start latency after its making began */
    wt->daemon = 1;
    wt->op_left = pr->thread_boot_ns;
    struct proc *p = &e->procs[t->process];
    wt->proc_next = p->created_head;
    p->created_head = wt->se.id;
    engine_task_arrive_late(e, wt, pr->thread_start_latency_ns);
    return thread_start_step(e);
}

/* map runs in steps: the first starts the pool and makes its first worker,
 * paying the caller's share; then the op runs again, once per further
 * worker (each arrives as the caller's making of it begins: a fork, or a
 * Thread.start(), so a caller that is slowed down or ended makes them
 * later or never), and then to wait for the results. */
enum step op_map(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_map *m = &op->u.map;
    if (m->nitems == 0)
        return STEP_NEXT;
    struct pool *pl = open_pool(e, t, op);
    if (pl && pl->made < m->workers)
        return again(t, make_worker(e, t, m, (uint32_t)(pl - e->pools), pl->made++));
    if (pl) {
        if (pl->done == m->nitems) {
            /* the results reach the caller's array as map returns, as
             * Python assigns the list it returns (a worker forked after
             * some items were done does not find them in its copy) */
            if (m->has_into) {
                int64_t *base = engine_var_addr(e, t, op, &m->into);
                if (!base)
                    return STEP_ERROR;
                memcpy(base, pl->results, m->nitems * sizeof *base);
            }
            free(pl->results);
            pl->results = NULL;
            pl->collected = true;
            return STEP_NEXT;
        }
        /* wait, then run this op again to collect the results */
        engine_task_block(e, t, REASON_POOL);
        engine_redo(t);
        return STEP_OFF_CPU;
    }
    if (e->npools >= (1u << (32 - POOL_WORKER_BITS)) - 1)
        return engine_fail(e, STATUS_RUNTIME, t, op, "more than %u maps in one run", (1u << (32 - POOL_WORKER_BITS)) - 1);
    if (e->ntasks + m->workers > SCENARIO_MAX_THREADS)
        return engine_fail(e, STATUS_RUNTIME, t, op, "the scenario creates more than %d threads", SCENARIO_MAX_THREADS);
    e->pools = xgrow(e->pools, &e->pools_cap, e->npools + 1, sizeof *e->pools);
    uint32_t pid = (uint32_t)e->npools++;
    pl = &e->pools[pid];
    memset(pl, 0, sizeof *pl);
    pl->op = op;
    pl->caller = t->se.id;
    pl->cur = xcalloc(m->workers, sizeof *pl->cur);
    pl->end = xcalloc(m->workers, sizeof *pl->end);
    pl->busy = xcalloc(m->workers, sizeof *pl->busy);
    if (m->has_into)
        pl->results = xcalloc(m->nitems, sizeof *pl->results);
    pl->made = 1;
    return again(t, make_worker(e, t, m, pid, 0));
}

/* A finished item's result, kept for the caller's array. */
static void pool_result(struct engine *e, struct pool *pl, uint32_t item, int64_t value)
{
    const struct op_map *m = &pl->op->u.map;
    uint32_t pos = m->ordered ? item : pl->slot++;
    if (pl->results)
        pl->results[pos] = value;
    /* the caller may still be starting the pool: wake it only if it waits */
    struct task *caller = engine_task_at(e, pl->caller);
    if (++pl->done == m->nitems && caller->state == TRACE_BLOCKED && caller->reason == REASON_POOL)
        engine_task_wake(e, caller, true);
}

enum step op_pool_step(struct engine *e, struct task *t, const struct op *op)
{
    uint32_t id = t->frames[0].remaining;
    struct pool *pl = &e->pools[id >> POOL_WORKER_BITS];
    uint32_t w = id & ((1u << POOL_WORKER_BITS) - 1);
    const struct op_map *m = &pl->op->u.map;
    if (pl->busy[w]) {
        pl->busy[w] = false;
        pool_result(e, pl, pl->cur[w]++, t->ret);
    }
    if (pl->cur[w] >= pl->end[w]) {
        if (pl->next >= m->nitems)
            return engine_exit_thread(e, t);
        pl->cur[w] = pl->next;
        pl->end[w] = pl->next + m->chunksize < m->nitems ? pl->next + m->chunksize : m->nitems;
        pl->next = pl->end[w];
    }
    /* call the function on the item, then run this op again */
    pl->busy[w] = true;
    t->frames[t->nframes - 1].pc--;
    const struct function *fn = &e->sc->functions[m->fn];
    bool own = fn->nlocals > 0;
    if (!engine_push_frame(e, t, fn->body, own ? FRAME_CALL : FRAME_PLAIN_CALL, op))
        return STEP_ERROR;
    /* a call frame: `return` stops here (this op is no call op, so no `into`) */
    t->frames[t->nframes - 1].remaining = (uint32_t)(op - e->sc->ops) + 1;
    t->ret = 0;
    if (own) {
        struct locals *l = xcalloc(1, sizeof *l + fn->nlocals * sizeof l->v[0]);
        l->parent = t->locals;
        l->v[0] = m->items[pl->cur[w]];
        t->locals = l;
    }
    return STEP_NEXT;
}
