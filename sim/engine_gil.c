/* CPython's new GIL (3.2 and later) in the simulated kernel, as
 * /work/shared/design/gil-model.md and docs/gil.md describe it.
 *
 * A thread of a process with a GIL holds it to run interpreted code: its ops
 * and its compute unless the compute releases it ("gil": "release").
 * Blocking ops release it. A thread that wants it while another holds it
 * waits, BLOCKED with reason gil, off the CPU, with a timed wait of
 * `switch_interval`: when the wait runs out and no switch happened in the
 * meantime, it sets the drop request; the holder drops at its next check
 * point (between bytecodes, or only on back edges) and then waits until
 * another thread has taken the GIL (forced switching). A release signals one
 * waiter (FIFO, or random from the seed), which pays the wake-up latency and
 * may find the GIL taken again: a failed wake-up. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

void engine_gil_init(struct engine *e, uint32_t p, const struct gil_config *cfg)
{
    struct gil *g = &e->procs[p].gil;
    memset(g, 0, sizeof *g);
    g->cfg = *cfg;
    g->holder = NONE;
    g->last_holder = NONE;
    g->forced = NONE;
    g->waiters.head = g->waiters.tail = NONE;
}

struct gil *engine_gil_needed(struct engine *e, struct task *t)
{
    struct gil *g = &e->procs[t->process].gil;
    if (g->cfg.mode == GIL_NONE)
        return NULL;
    if (t->op_left > 0 && t->nogil)
        return NULL;
    return g;
}

static void gil_instant(struct engine *e, const struct task *t, enum trace_instant_kind kind, uint32_t flow)
{
    if (!e->opts.record_trace)
        return;
    struct trace_instant ev = {.time = e->now, .value = t->process, .task = t->se.id, .kind = (uint16_t)kind,
                               .obj = NONE, .flow = flow};
    trace_instant_add(e->trace, &ev, NULL);
}

static void gil_lock(struct engine *e, struct gil *g, struct task *t)
{
    /* the switch number noted for its timed wait must not outlive the wait:
     * wait_value also carries an rlock depth across condition waits */
    t->wait_value = 0;
    g->locked = true;
    g->holder = t->se.id;
    g->drop_request = false;
    if (g->last_holder != t->se.id) {
        g->last_holder = t->se.id;
        g->switch_number++;
        g->stats.switches++;
        e->stats.gil_switches++;
    }
    gil_instant(e, t, INSTANT_GIL_TAKE, 0);
    /* the thread that dropped on request may go on once another took it */
    if (g->forced != NONE && g->forced != t->se.id) {
        struct task *f = engine_task_at(e, g->forced);
        g->forced = NONE;
        engine_task_wake(e, f, true);
    }
}

static void gil_arm_wait(struct engine *e, struct gil *g, struct task *t)
{
    t->wait_value = g->switch_number;
    t->timer = engine_push(e, e->now + g->cfg.switch_interval, CLASS_READY, t->se.id, EV_GIL_TIMEOUT, t->se.id);
}

bool engine_gil_take(struct engine *e, struct task *t)
{
    struct gil *g = &e->procs[t->process].gil;
    bool signaled = t->gil_signaled;
    t->gil_signaled = 0;
    if (g->holder == t->se.id)
        return true;
    if (!g->locked) {
        gil_lock(e, g, t);
        return true;
    }
    if (signaled)
        g->stats.failed_wakeups++;
    engine_task_block(e, t, REASON_GIL);
    engine_waitq_push(e, &g->waiters, t);
    gil_arm_wait(e, g, t);
    return false;
}

/* Signals one waiter: it wakes after the wake-up latency and tries again. */
static void gil_signal(struct engine *e, struct gil *g)
{
    if (g->waiters.head == NONE)
        return;
    struct task *w;
    if (g->cfg.random_wakeup) {
        uint32_t n = 0;
        for (uint32_t id = g->waiters.head; id != NONE; id = engine_task_at(e, id)->wait_next)
            n++;
        uint32_t k = (uint32_t)rng_range(&e->rng, 0, n - 1);
        uint32_t id = g->waiters.head;
        while (k--)
            id = engine_task_at(e, id)->wait_next;
        w = engine_task_at(e, id);
        engine_waitq_remove(e, &g->waiters, w);
    } else {
        w = engine_waitq_pop(e, &g->waiters);
    }
    w->gil_signaled = 1;
    engine_task_wake(e, w, true);
}

void engine_gil_release(struct engine *e, struct task *t, bool forced)
{
    struct gil *g = &e->procs[t->process].gil;
    if (g->cfg.mode == GIL_NONE || g->holder != t->se.id)
        return;
    if (forced && g->waiters.head == NONE) {
        /* the one who asked is gone: nothing to hand over */
        g->drop_request = false;
        return;
    }
    g->locked = false;
    g->holder = NONE;
    gil_instant(e, t, INSTANT_GIL_DROP, forced);
    gil_signal(e, g);
    if (!forced)
        return;
    /* forced switching: wait until another thread has taken the GIL */
    g->stats.forced_switches++;
    g->forced = t->se.id;
    engine_task_block(e, t, REASON_GIL);
}

void engine_gil_timeout(struct engine *e, struct task *t)
{
    t->timer = NONE;
    struct gil *g = &e->procs[t->process].gil;
    if (t->state != TRACE_BLOCKED || t->reason != REASON_GIL || g->forced == t->se.id)
        return;
    if (g->locked && g->switch_number == t->wait_value && !g->drop_request) {
        g->drop_request = true;
        g->stats.drop_requests++;
        engine_cpu_gil_request(e, engine_task_at(e, g->holder));
    }
    /* each pass restarts the timer */
    gil_arm_wait(e, g, t);
}

int64_t engine_gil_spacing(const struct engine *e, const struct task *t)
{
    const struct profile *pr = &e->sc->profile;
    const struct gil *g = &e->procs[t->process].gil;
    const struct op *op = engine_current_op(e, t);
    double iter = pr->count_ns_per_iter, bytecodes = pr->count_bytecodes_per_iter;
    if (op && op->kind == OP_COMPUTE && op->u.compute.kind == COMPUTE_PRIMES) {
        iter = pr->primes_ns_per_division;
        bytecodes = pr->primes_bytecodes_per_division;
    } else if (op && op->kind == OP_ADD) {
        /* x += 1: four bytecodes, no back edge inside */
        iter = (double)(op->u.var.cost >= 0 ? op->u.var.cost : pr->add_ns);
        bytecodes = g->cfg.backedge_checks ? 1 : 4;
        if (g->cfg.backedge_checks)
            return SIM_TIME_NEVER;
    }
    double ns = g->cfg.backedge_checks ? iter : iter / (bytecodes > 0 ? bytecodes : 1);
    return ns >= 1 ? (int64_t)ns : 1;
}

void engine_gil_forget(struct engine *e, struct task *t)
{
    struct gil *g = &e->procs[t->process].gil;
    if (g->forced == t->se.id)
        g->forced = NONE;
    else
        engine_waitq_remove(e, &g->waiters, t);
}

enum gil_mode engine_process_gil(const struct engine *eng, uint32_t p, struct engine_gil_stats *stats)
{
    if (stats)
        *stats = eng->procs[p].gil.stats;
    return eng->procs[p].gil.cfg.mode;
}
