/* CPython's new GIL (3.2 and later) and old GIL (2.x, 3.0-3.1) in the
 * simulated kernel, as
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
 * may find the GIL taken again: a failed wake-up.
 *
 * Old GIL: every check_interval ticks (bytecodes) the holder releases the
 * GIL and takes it straight back, handing nothing over. A release nobody
 * waits for costs nothing and is not simulated, so a lone thread pays
 * nothing. When a thread wants the GIL, the release is a system call: for
 * the profile's gil_signal_ns (plus gil_wake_ns when it wakes a thread asleep
 * on the GIL) the holder spends CPU time with the GIL free: its release
 * window. A woken thread that runs inside a window takes the GIL; one that
 * runs after it finds it taken again, counts a failed wake-up and sleeps
 * again (the GIL battle). On one CPU the waiter gets the GIL when the holder
 * is preempted inside a window, or blocks. Wake-up latency and call times
 * vary in [1/2, 3/2] of their mean (from the scenario's seed) unless
 * "jitter" is false, so that no fixed phase decides every race. */
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

static bool gil_contended(const struct gil *g)
{
    return g->waiting + g->woken > 0;
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

static void gil_old_took(struct engine *e, struct gil *g, struct task *t);
static void gil_old_wanted(struct engine *e, struct gil *g);

bool engine_gil_take(struct engine *e, struct task *t)
{
    struct gil *g = &e->procs[t->process].gil;
    bool signaled = t->gil_flags & TASK_GIL_SIGNALED;
    if (signaled && g->cfg.mode == GIL_OLD)
        g->woken--;
    t->gil_flags = 0;
    if (g->holder == t->se.id)
        return true;
    if (!g->locked) {
        gil_lock(e, g, t);
        if (g->cfg.mode == GIL_OLD)
            gil_old_took(e, g, t);
        return true;
    }
    if (signaled)
        g->stats.failed_wakeups++;
    engine_task_block(e, t, REASON_GIL);
    engine_waitq_push(e, &g->waiters, t);
    if (g->cfg.mode == GIL_OLD) {
        g->waiting++;
        gil_old_wanted(e, g);
    } else {
        gil_arm_wait(e, g, t);
    }
    return false;
}

/* Takes the waiter a release wakes out of the wait queue (FIFO, or random). */
static struct task *gil_pick_waiter(struct engine *e, struct gil *g)
{
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
    return w;
}

/* Signals one waiter: it wakes after the wake-up latency and tries again. */
static void gil_signal(struct engine *e, struct gil *g)
{
    if (g->waiters.head == NONE)
        return;
    struct task *w = gil_pick_waiter(e, g);
    w->gil_flags = TASK_GIL_SIGNALED;
    engine_task_wake(e, w, true);
}

/* A duration of the old GIL's race around its mean: uniform in [1/2, 3/2]
 * of it, or the mean itself without jitter. */
static int64_t gil_old_vary(struct engine *e, const struct gil *g, int64_t mean)
{
    if (g->cfg.no_jitter || mean <= 1)
        return mean;
    return rng_range(&e->rng, mean - mean / 2, mean + mean / 2);
}

/* Old GIL: wakes one thread asleep on the GIL, if any; true if it did. */
static bool gil_old_signal(struct engine *e, struct gil *g)
{
    if (g->waiters.head == NONE)
        return false;
    struct task *w = gil_pick_waiter(e, g);
    g->waiting--;
    g->woken++;
    w->gil_flags = TASK_GIL_SIGNALED | TASK_GIL_WAKE_WAIT;
    engine_task_wake_after(e, w, gil_old_vary(e, g, e->sc->machine.wakeup_latency));
    return true;
}

/* The CPU time of one iteration of what t runs and its bytecodes. */
static void gil_op_cost(const struct engine *e, const struct task *t, const struct op **opp, double *iter,
                        double *bytecodes)
{
    const struct profile *pr = &e->sc->profile;
    const struct op *op = engine_current_op(e, t);
    *iter = pr->count_ns_per_iter;
    *bytecodes = pr->count_bytecodes_per_iter;
    if (op && op->kind == OP_COMPUTE && op->u.compute.kind == COMPUTE_PRIMES) {
        *iter = pr->primes_ns_per_division;
        *bytecodes = pr->primes_bytecodes_per_division;
    } else if (op && op->kind == OP_ADD) {
        /* x += 1: four bytecodes, no back edge inside */
        *iter = (double)(op->u.var.cost >= 0 ? op->u.var.cost : pr->add_ns);
        *bytecodes = 4;
    }
    *opp = op;
}

/* Old GIL: CPU time of check_interval ticks of what t runs (gil_op_cost:
 * count and primes by their bytecodes, anything else as count's). */
static double gil_old_ticks_ns(const struct engine *e, const struct task *t, const struct op **op)
{
    double iter, bytecodes;
    gil_op_cost(e, t, op, &iter, &bytecodes);
    return iter / (bytecodes > 0 ? bytecodes : 1) * e->procs[t->process].gil.cfg.check_interval;
}

/* Whether op is a compute that holds the GIL and whose check points the
 * profile prices (gil_check_ns). */
static bool gil_check_priced(const struct profile *pr, const struct op *op)
{
    return op && op->kind == OP_COMPUTE && !op->u.compute.release_gil && pr->gil_check_ns > 0;
}

/* Old GIL: CPU time between two check points of t: check_interval ticks,
 * and the check point's own release and re-take (gil_check_ns). */
static int64_t gil_old_period(const struct engine *e, const struct task *t)
{
    const struct op *op;
    double ns = gil_old_ticks_ns(e, t, &op);
    if (gil_check_priced(&e->sc->profile, op))
        ns += (double)e->sc->profile.gil_check_ns;
    return ns >= 1 ? (int64_t)ns : 1;
}

int64_t engine_gil_old_check_cost(const struct engine *e, const struct task *t, int64_t cost)
{
    const struct profile *pr = &e->sc->profile;
    /* every compute op asks: most have no old GIL to price */
    if (e->procs[t->process].gil.cfg.mode != GIL_OLD || pr->gil_check_ns <= 0 || cost <= 0)
        return 0;
    const struct op *op;
    double between = gil_old_ticks_ns(e, t, &op);
    if (!gil_check_priced(pr, op))
        return 0;
    /* the host runner checks a spin or a `for` at least 200 ns apart */
    const struct op_compute *c = &op->u.compute;
    if (c->kind != COMPUTE_COUNT && c->kind != COMPUTE_PRIMES && between < 200)
        between = 200;
    if (!(between > 0))
        return 0;
    double extra = (double)cost / between * (double)pr->gil_check_ns;
    return extra < (double)SCENARIO_MAX_DURATION ? (int64_t)extra : SCENARIO_MAX_DURATION;
}

int64_t engine_gil_old_next_check(const struct engine *e, const struct task *t, const struct cpu *cpu)
{
    const struct gil *g = &e->procs[t->process].gil;
    if (!gil_contended(g))
        return SIM_TIME_NEVER;
    /* ticks count from the take (or last release), or from when it got the CPU */
    int64_t from = cpu->run_from > g->tick_from ? cpu->run_from : g->tick_from;
    int64_t period = gil_old_period(e, t);
    int64_t n = (e->now - from + period - 1) / period;
    return from + (n > 0 ? n : 1) * period;
}

/* Old GIL: t (running) has just taken the GIL: its ticks start again. */
static void gil_old_took(struct engine *e, struct gil *g, struct task *t)
{
    struct cpu *cpu = &e->cpus[t->cpu];
    g->tick_from = e->now;
    cpu->gil_check = engine_gil_old_next_check(e, t, cpu);
}

/* Old GIL: a thread went to sleep on the GIL: a holder on a CPU now releases
 * at its check points. */
static void gil_old_wanted(struct engine *e, struct gil *g)
{
    if (g->holder != NONE)
        engine_cpu_gil_request(e, engine_task_at(e, g->holder));
}

/* Old GIL: the running holder t is at a check point and someone wants the
 * GIL: it lets go of it for the time of the release call (its window), and
 * wakes a sleeper if there is one. The window is CPU time added to the op in
 * progress; wait_value notes where in the op it ends. */
static void gil_old_release_at_check(struct engine *e, struct gil *g, struct task *t, struct cpu *cpu)
{
    const struct profile *pr = &e->sc->profile;
    g->stats.check_releases++;
    g->locked = false;
    g->holder = NONE;
    gil_instant(e, t, INSTANT_GIL_DROP, 0);
    int64_t d = gil_old_vary(e, g, pr->gil_signal_ns);
    if (gil_old_signal(e, g))
        d += gil_old_vary(e, g, pr->gil_wake_ns);
    /* wait_value keeps 32 bits of the window's end: about a second at most */
    if (d > (INT64_C(1) << 30))
        d = INT64_C(1) << 30;
    /* a compute priced with its check points (gil_check_ns) already holds
     * this one's release and re-take: the window takes its place */
    if (gil_check_priced(pr, engine_current_op(e, t)))
        t->op_left -= t->op_left > pr->gil_check_ns ? pr->gil_check_ns : t->op_left;
    t->wait_value = (uint32_t)t->op_left;
    t->op_left += d;
    t->gil_flags |= TASK_GIL_WINDOW;
    cpu->gil_check = SIM_TIME_NEVER;
}

/* Old GIL: CPU time left of t's release window (0 or less: over). */
static int64_t gil_old_window_left(const struct task *t)
{
    if (t->op_left <= 0)
        return 0;
    return (int32_t)((uint32_t)t->op_left - t->wait_value);
}

bool engine_gil_old_run(struct engine *e, struct task *t, struct cpu *cpu)
{
    struct gil *g = &e->procs[t->process].gil;
    if (t->gil_flags & TASK_GIL_WINDOW) {
        if (gil_old_window_left(t) > 0)
            return true;
        t->gil_flags = 0;
        t->wait_value = 0;
    }
    if (g->holder != t->se.id && !engine_gil_take(e, t))
        return false;
    if (t->op_left > 0 && cpu->gil_check <= e->now) {
        if (gil_contended(g)) {
            gil_old_release_at_check(e, g, t, cpu);
        } else {
            /* nobody wants it any more: the release costs nothing */
            g->tick_from = e->now;
            cpu->gil_check = SIM_TIME_NEVER;
        }
    }
    return true;
}

int64_t engine_gil_old_until(const struct engine *e, const struct task *t, const struct cpu *cpu, int64_t when)
{
    if (t->gil_flags & TASK_GIL_WINDOW) {
        int64_t end = e->now + gil_old_window_left(t);
        return end < when ? end : when;
    }
    const struct gil *g = &e->procs[t->process].gil;
    if (g->holder == t->se.id && cpu->gil_check < when)
        return cpu->gil_check > e->now ? cpu->gil_check : e->now;
    return when;
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
    if (g->cfg.mode == GIL_OLD) {
        gil_old_signal(e, g);
        return;
    }
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
    const struct gil *g = &e->procs[t->process].gil;
    const struct op *op;
    double iter, bytecodes;
    gil_op_cost(e, t, &op, &iter, &bytecodes);
    if (op && op->kind == OP_ADD && g->cfg.backedge_checks)
        return SIM_TIME_NEVER;
    double ns = g->cfg.backedge_checks ? iter : iter / (bytecodes > 0 ? bytecodes : 1);
    return ns >= 1 ? (int64_t)ns : 1;
}

/* Removes t from q if it is there; true if it was. */
static bool gil_waitq_take(struct engine *e, struct waitq *q, struct task *t)
{
    for (uint32_t id = q->head; id != NONE; id = engine_task_at(e, id)->wait_next) {
        if (id == t->se.id) {
            engine_waitq_remove(e, q, t);
            return true;
        }
    }
    return false;
}

void engine_gil_forget(struct engine *e, struct task *t)
{
    struct gil *g = &e->procs[t->process].gil;
    if (g->cfg.mode == GIL_OLD) {
        if (t->gil_flags & TASK_GIL_SIGNALED)
            g->woken--;
        else if (gil_waitq_take(e, &g->waiters, t))
            g->waiting--;
        t->gil_flags = 0;
        return;
    }
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
