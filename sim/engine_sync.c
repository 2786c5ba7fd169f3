/* Synchronisation objects of the simulated kernel: lock, rlock, semaphore,
 * bounded semaphore, event, condition and barrier, each with a FIFO wait
 * queue. A release hands a lock or a semaphore unit straight to the first
 * waiter, which then pays the machine's wake-up latency; with the profile's
 * lock_handoff "barging", a lock's release only wakes the first waiter,
 * which tries again when it runs (engine_lock_retry). Misuse (releasing a
 * lock one does not hold, waiting on a condition without its lock, ...) is a
 * run-time error naming the thread and the op, as Python would raise. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "xalloc.h"

static const enum trace_reason object_reason[OBJ_TYPE_COUNT] = {
    [OBJ_LOCK] = REASON_LOCK,
    [OBJ_RLOCK] = REASON_LOCK,
    [OBJ_SEMAPHORE] = REASON_SEMAPHORE,
    [OBJ_BOUNDED_SEMAPHORE] = REASON_SEMAPHORE,
    [OBJ_EVENT] = REASON_EVENT,
    [OBJ_CONDITION] = REASON_CONDITION,
    [OBJ_BARRIER] = REASON_BARRIER,
    [OBJ_QUEUE] = REASON_QUEUE,
    [OBJ_MP_QUEUE] = REASON_QUEUE,
    [OBJ_PIPE] = REASON_PIPE,
};

/* A fresh instance of declared object d (its initial state), owned by
 * process `process` (-1: shared). */
static uint32_t object_instance(struct engine *e, uint32_t d, int32_t process)
{
    if (e->nobjects == e->objects_cap) {
        e->objects_cap = e->objects_cap ? e->objects_cap * 2 : 8;
        e->objects = xrealloc(e->objects, e->objects_cap * sizeof *e->objects);
    }
    struct object *o = &e->objects[e->nobjects];
    memset(o, 0, sizeof *o);
    o->decl = &e->sc->objects[d];
    o->owner = NONE;
    o->waiters.head = o->waiters.tail = NONE;
    for (int q = 0; q < 4; q++)
        o->q[q].head = o->q[q].tail = NONE;
    if (o->decl->type == OBJ_SEMAPHORE || o->decl->type == OBJ_BOUNDED_SEMAPHORE)
        o->count = o->decl->value;
    o->trace_id = trace_add_object(e->trace, o->decl->name, scenario_object_type_name(o->decl->type), process);
    return e->nobjects++;
}

/* Declared objects are instances 0..n-1; children of processes add theirs later. */
void engine_objects_init(struct engine *e)
{
    const struct scenario *sc = e->sc;
    for (uint32_t i = 0; i < sc->nobjects; i++)
        object_instance(e, i, sc->objects[i].process);
    for (uint32_t p = 0; p < sc->nprocesses; p++)
        engine_objects_for_process(e, p);
}

void engine_objects_for_process(struct engine *e, uint32_t p)
{
    const struct scenario *sc = e->sc;
    struct proc *pr = &e->procs[p];
    pr->obj_map = xmalloc((sc->nobj_names ? sc->nobj_names : 1) * sizeof *pr->obj_map);
    for (uint32_t k = 0; k < sc->nobj_names; k++) {
        int32_t found = -1;
        for (uint32_t i = 0; i < sc->nobjects; i++) {
            const struct object_decl *d = &sc->objects[i];
            if (strcmp(d->name, sc->obj_names[k]) != 0)
                continue;
            if (d->process == (int32_t)pr->decl) {
                /* a declared process owns the declared instance; a child gets its own copy */
                found = p < sc->nprocesses ? (int32_t)i : (int32_t)object_instance(e, i, (int32_t)p);
                break;
            }
            if (d->process < 0 && found < 0)
                found = (int32_t)i;
        }
        pr->obj_map[k] = found;
    }
}

void engine_objects_deinit(struct engine *e)
{
    engine_ipc_deinit(e);
    free(e->deadlines);
    for (uint32_t p = 0; p < e->nprocs; p++)
        free(e->procs[p].obj_map);
    free(e->objects);
}

/* The object an op names, as seen from t's process; NULL with the error raised. */
struct object *engine_object_of(struct engine *e, struct task *t, uint32_t name, const struct op *op)
{
    const struct scenario *sc = e->sc;
    int32_t i = e->procs[t->process].obj_map[name];
    if (i < 0) {
        const char *owner = "another process";
        for (uint32_t k = 0; k < sc->nobjects; k++)
            if (strcmp(sc->objects[k].name, sc->obj_names[name]) == 0 && sc->objects[k].process >= 0)
                owner = sc->processes[sc->objects[k].process].name;
        engine_fail(e, STATUS_RUNTIME, t, op,
                    "'%s' is private to process '%s': declare it in the top-level \"objects\" to share it",
                    sc->obj_names[name], owner);
        return NULL;
    }
    return &e->objects[i];
}

/* A task queued twice would cut the queue short behind it, and the tasks it
 * dropped would wait forever: the run stops instead. True if t may be
 * queued. */
static bool waitq_may_queue(struct engine *e, struct task *t)
{
    if (!t->queued) {
        t->queued = 1;
        return true;
    }
    engine_fail(e, STATUS_INTERNAL, t, NULL,
                "queued while already in a wait queue (a threadsim bug: please report it with the scenario)");
    return false;
}

void engine_waitq_push(struct engine *e, struct waitq *q, struct task *t)
{
    if (!waitq_may_queue(e, t))
        return;
    t->wait_next = NONE;
    if (q->tail == NONE)
        q->head = t->se.id;
    else
        engine_task_at(e, q->tail)->wait_next = t->se.id;
    q->tail = t->se.id;
}

struct task *engine_waitq_pop(struct engine *e, struct waitq *q)
{
    if (q->head == NONE)
        return NULL;
    struct task *t = engine_task_at(e, q->head);
    q->head = t->wait_next;
    if (q->head == NONE)
        q->tail = NONE;
    t->wait_next = NONE;
    t->queued = 0;
    return t;
}

static void engine_waitq_push_front(struct engine *e, struct waitq *q, struct task *t)
{
    if (!waitq_may_queue(e, t))
        return;
    t->wait_next = q->head;
    q->head = t->se.id;
    if (q->tail == NONE)
        q->tail = t->se.id;
}

void engine_waitq_remove(struct engine *e, struct waitq *q, struct task *t)
{
    uint32_t prev = NONE;
    for (uint32_t id = q->head; id != NONE; id = engine_task_at(e, id)->wait_next) {
        if (id == t->se.id) {
            if (prev == NONE)
                q->head = t->wait_next;
            else
                engine_task_at(e, prev)->wait_next = t->wait_next;
            if (q->tail == id)
                q->tail = prev;
            t->wait_next = NONE;
            t->queued = 0;
            return;
        }
        prev = id;
    }
}

static uint32_t object_id(const struct engine *e, const struct object *o)
{
    return (uint32_t)(o - e->objects);
}

void engine_object_instant(struct engine *e, const struct task *t, enum trace_instant_kind kind,
                           const struct object *o, int64_t value, uint32_t flow)
{
    if (!e->opts.record_trace)
        return;
    struct trace_instant ev = {
        .time = e->now, .value = value, .task = t->se.id, .kind = (uint16_t)kind,
        .obj = o->trace_id, .flow = flow,
    };
    trace_instant_add(e->trace, &ev, NULL);
}

/* Writes v into the `into` local of op, when op is a waiting op that has one. */
static void op_into(struct task *t, const struct op *op, int64_t v)
{
    if (!op || !t->locals)
        return;
    if (op->kind != OP_ACQUIRE && op->kind != OP_WAIT && op->kind != OP_WAIT_FOR)
        return;
    if (op->u.sync.has_into)
        t->locals->v[op->u.sync.into] = v;
}

/* The same for the op a blocked task waits in. */
static void set_into(struct engine *e, struct task *t, int64_t v)
{
    op_into(t, engine_current_op(e, t), v);
}

enum step engine_block_on(struct engine *e, struct task *t, struct object *o, struct waitq *q,
                          enum trace_reason reason, sim_time timeout)
{
    engine_task_block(e, t, reason);
    t->waiting_for = object_id(e, o);
    engine_waitq_push(e, q, t);
    if (timeout >= 0)
        t->timer = engine_push(e, e->now + timeout, CLASS_READY, t->se.id, EV_OBJ_TIMEOUT, t->se.id);
    return STEP_OFF_CPU;
}

void engine_grant(struct engine *e, struct task *t)
{
    if (t->timer != NONE) {
        engine_cancel(e, t->timer, true);
        t->timer = NONE;
    }
    engine_task_wake(e, t, true);
}

/* ---- locks and semaphores ---- */

static bool is_lock(const struct object *o)
{
    return o->decl->type == OBJ_LOCK || o->decl->type == OBJ_RLOCK;
}

static bool is_semaphore(const struct object *o)
{
    return o->decl->type == OBJ_SEMAPHORE || o->decl->type == OBJ_BOUNDED_SEMAPHORE;
}

/* Whether a release of o with waiters leaves o free and wakes the first
 * waiter to try again (a barging lock or semaphore) rather than giving o
 * to it. */
static bool barges(const struct engine *e, const struct object *o)
{
    return (is_lock(o) || is_semaphore(o)) && e->sc->profile.lock_handoff == LOCK_HANDOFF_BARGING;
}

/* Tries to take o for t. Returns true when taken (or re-entered). A plain
 * lock taken twice by its holder is a self-deadlock, reported as one. */
static bool try_take(struct engine *e, struct task *t, struct object *o, const struct op *op, bool *failed)
{
    *failed = false;
    switch (o->decl->type) {
    case OBJ_LOCK:
        if (o->owner == t->se.id) {
            e->failed = STATUS_DEADLOCK;
            error_set(e->err, STATUS_DEADLOCK, op ? op->path : NULL,
                      "deadlock at %.3f ms: thread '%s' acquires lock '%s', which it already holds; a Lock is not "
                      "re-entrant, so it waits for itself forever (an RLock can be acquired again by its holder)",
                      (double)e->now / 1e6, engine_name_of(e, t), o->decl->name);
            *failed = true;
            return false;
        }
        if (o->owner != NONE)
            return false;
        o->owner = t->se.id;
        o->count = 1;
        return true;
    case OBJ_RLOCK:
        if (o->owner == t->se.id) {
            o->count++;
            return true;
        }
        if (o->owner != NONE)
            return false;
        o->owner = t->se.id;
        o->count = 1;
        return true;
    default:
        if (o->count <= 0)
            return false;
        o->count--;
        return true;
    }
}

/* Charges the running task `ns` of CPU time for the op it just did. */
static enum step cpu_cost(struct task *t, int64_t ns)
{
    if (ns <= 0)
        return STEP_NEXT;
    t->op_left = ns;
    return STEP_TIMED;
}

/* A thread (a woken waiter or any other) has taken barging object o: a
 * race when a woken waiter was still on its way to it (or this is one). */
static void race_taken(struct engine *e, struct object *o, bool retry)
{
    o->race_open = retry || o->retrying > 0;
    o->race_at = e->now;
}

/* A thread finds o taken: if the take was a race, this thread lost it, by
 * the time since the take. */
static void race_lost(struct engine *e, struct object *o)
{
    if (!o->race_open)
        return;
    o->race_open = false;
    e->stats.lock_races++;
    if (e->now - o->race_at < e->sc->profile.futex_race_ns)
        e->stats.lock_close_races++;
}

/* Acquires o for the running task t: at once, or by blocking (with the op's
 * timeout). into gets 1 when acquired, 0 when the timeout passed. */
static enum step acquire(struct engine *e, struct task *t, struct object *o, const struct op *op, sim_time timeout)
{
    bool failed;
    if (try_take(e, t, o, op, &failed)) {
        if (!(o->decl->type == OBJ_RLOCK && o->count > 1))
            race_taken(e, o, false); /* not a re-entry */
        o->release_flow = 0;
        engine_object_instant(e, t, INSTANT_ACQUIRE, o, 0, 0);
        op_into(t, op, 1);
        return cpu_cost(t, e->sc->profile.acquire_ns);
    }
    if (failed)
        return STEP_ERROR;
    race_lost(e, o);
    if (timeout == 0) {
        op_into(t, op, 0);
        return STEP_NEXT;
    }
    return engine_block_on(e, t, o, &o->waiters, object_reason[o->decl->type], timeout);
}

/* What waking waiter w costs its waker (the futex wake call), and the
 * latency before w runs: a waiter blocked for less than wake_settle_ns is
 * still in its futex wait call, on its CPU, and runs when that call has
 * returned (profile.h). */
static sim_time wake_waiter(struct engine *e, const struct task *w, int64_t *cost)
{
    const struct profile *pf = &e->sc->profile;
    sim_time settled = w->state_since + pf->wake_settle_ns;
    if (e->now < settled) {
        *cost += pf->wake_early_ns;
        return settled - e->now;
    }
    *cost += pf->wake_ns + engine_idle_kick(e);
    return e->sc->machine.wakeup_latency;
}

/* Gives a freed lock or semaphore unit to the first waiter, if any; with a
 * barging lock or semaphore, wakes the first waiter to try again instead.
 * Returns whether the waiter was given it (else o is free); adds the wake's
 * cost to the releaser's *cost. */
static bool hand_over(struct engine *e, struct task *from, struct object *o, int64_t *cost)
{
    struct task *w = engine_waitq_pop(e, &o->waiters);
    if (!w) {
        /* a woken waiter still counts as one for the futex: the release
         * makes the wake call, which finds no one asleep; the waiter that
         * takes it then draws as handed it by this release */
        o->release_flow = 0;
        if (o->retrying > 0) {
            *cost += e->sc->profile.wake_early_ns;
            o->release_flow = ++e->next_flow;
        }
        engine_object_instant(e, from, INSTANT_RELEASE, o, -1, o->release_flow);
        return false;
    }
    uint32_t flow = ++e->next_flow;
    sim_time latency = wake_waiter(e, w, cost);
    /* A glibc mutex (and CPython's lock) is not handed over: the lock is
     * free, the releaser or any running thread may take it before the woken
     * waiter runs; a semaphore built on one (CPython's, the host runner's)
     * likewise. A waiter with a timeout is still handed the lock: its timer
     * would not survive the wake-up. */
    if (barges(e, o) && w->timer == NONE) {
        /* a waiter back from a condition wait keeps its rlock depth */
        w->wait_value = w->reason == REASON_LOCK && w->wait_value > 0 ? w->wait_value : 1;
        w->lock_retry = object_id(e, o);
        o->retrying++;
        o->release_flow = flow;
        engine_object_instant(e, from, INSTANT_RELEASE, o, -1, flow);
        engine_object_instant(e, w, INSTANT_WAKE, o, 1, flow);
        engine_task_wake_after(e, w, latency);
        return false;
    }
    if (is_lock(o)) {
        o->owner = w->se.id;
        /* a waiter coming back from a condition wait restores its rlock depth */
        o->count = w->reason == REASON_LOCK && w->wait_value > 0 ? w->wait_value : 1;
        w->wait_value = 0;
    }
    /* the waiter's acquire call returns now: it still pays for the call */
    w->op_left = e->sc->profile.acquire_ns;
    engine_object_instant(e, from, INSTANT_RELEASE, o, w->se.id, flow);
    engine_object_instant(e, w, INSTANT_ACQUIRE, o, 0, flow);
    set_into(e, w, 1);
    engine_task_wake_after(e, w, latency);
    return true;
}

bool engine_lock_retry(struct engine *e, struct task *t)
{
    struct object *o = &e->objects[t->lock_retry];
    t->lock_retry = NONE;
    o->retrying--;
    if (is_semaphore(o) ? o->count > 0 : o->owner == NONE) {
        if (is_semaphore(o)) {
            o->count--;
        } else {
            o->owner = t->se.id;
            o->count = t->wait_value;
        }
        t->wait_value = 0;
        race_taken(e, o, true);
        /* the acquire call returns now: it still pays for the call */
        t->op_left = e->sc->profile.acquire_ns;
        engine_object_instant(e, t, INSTANT_ACQUIRE, o, 0, o->release_flow);
        o->release_flow = 0;
        set_into(e, t, 1);
        return true;
    }
    /* taken while it woke up: back to sleep, first in line (wait_value
     * keeps the depth to restore) */
    e->stats.lock_failed_wakeups++;
    race_lost(e, o);
    engine_task_block(e, t, object_reason[o->decl->type]);
    t->waiting_for = object_id(e, o);
    engine_waitq_push_front(e, &o->waiters, t);
    return false;
}

/* Releases o held by t; `depth_all` releases an rlock completely (a
 * condition wait). Returns false with the error raised on misuse. Adds what
 * waking a waiter costs t to *cost. */
static bool release(struct engine *e, struct task *t, struct object *o, const struct op *op, bool depth_all,
                    int64_t *cost)
{
    switch (o->decl->type) {
    case OBJ_LOCK:
    case OBJ_RLOCK:
        if (o->owner == NONE) {
            engine_fail(e, STATUS_RUNTIME, t, op, "release of '%s', which is not held (Python: RuntimeError: release "
                                                  "unlocked lock)", o->decl->name);
            return false;
        }
        if (o->owner != t->se.id) {
            engine_fail(e, STATUS_RUNTIME, t, op,
                        "release of '%s', which thread '%s' holds: only the holder may release it",
                        o->decl->name, engine_name_of(e, engine_task_at(e, o->owner)));
            return false;
        }
        if (!depth_all && --o->count > 0)
            return true;
        o->owner = NONE;
        o->count = 0;
        hand_over(e, t, o, cost);
        return true;
    case OBJ_BOUNDED_SEMAPHORE:
        if (o->waiters.head == NONE && o->count + 1 > o->decl->value) {
            engine_fail(e, STATUS_RUNTIME, t, op,
                        "bounded semaphore '%s' released too many times: its value would exceed %" PRId64
                        " (Python: ValueError)", o->decl->name, o->decl->value);
            return false;
        }
        /* fall through */
    case OBJ_SEMAPHORE:
        /* handed over, the value goes straight to the first waiter; else it
         * goes up (and a woken barging waiter takes it if still there) */
        if (!hand_over(e, t, o, cost))
            o->count++;
        return true;
    default:
        return true;
    }
}

enum step op_acquire(struct engine *e, struct task *t, const struct op *op)
{
    struct object *o = engine_object_of(e, t, op->u.sync.obj.name, op);
    if (!o)
        return STEP_ERROR;
    return acquire(e, t, o, op, op->u.sync.timeout);
}

enum step op_release(struct engine *e, struct task *t, const struct op *op)
{
    struct object *o = engine_object_of(e, t, op->u.sync.obj.name, op);
    if (!o)
        return STEP_ERROR;
    int64_t cost = e->sc->profile.release_ns;
    if (!release(e, t, o, op, false, &cost))
        return STEP_ERROR;
    return cpu_cost(t, cost);
}

/* The lock a `with` takes: the object itself, or a condition's lock. */
static struct object *with_target(struct engine *e, struct object *o)
{
    return o->decl->type == OBJ_CONDITION ? &e->objects[o->decl->lock] : o;
}

enum step op_with(struct engine *e, struct task *t, const struct op *op)
{
    struct object *o = engine_object_of(e, t, op->u.sync.obj.name, op);
    if (!o)
        return STEP_ERROR;
    o = with_target(e, o);
    if (!engine_push_frame(e, t, op->u.sync.body, FRAME_WITH, op))
        return STEP_ERROR;
    t->frames[t->nframes - 1].remaining = object_id(e, o);
    /* the frame is in place first, so its end releases what this takes */
    return acquire(e, t, o, op, -1);
}

enum step engine_with_release(struct engine *e, struct task *t, uint32_t obj)
{
    int64_t cost = e->sc->profile.release_ns;
    if (!release(e, t, &e->objects[obj], engine_current_op(e, t), false, &cost))
        return STEP_ERROR;
    return cpu_cost(t, cost);
}

/* ---- events ---- */

static enum step event_wait(struct engine *e, struct task *t, struct object *o, const struct op *op)
{
    if (o->count) {
        op_into(t, op, 1);
        return STEP_NEXT;
    }
    engine_object_instant(e, t, INSTANT_WAIT, o, 0, 0);
    if (op->u.sync.timeout == 0) {
        op_into(t, op, 0);
        return STEP_NEXT;
    }
    return engine_block_on(e, t, o, &o->waiters, REASON_EVENT, op->u.sync.timeout);
}

enum step op_event_set(struct engine *e, struct task *t, const struct op *op)
{
    struct object *o = engine_object_of(e, t, op->u.sync.obj.name, op);
    if (!o)
        return STEP_ERROR;
    o->count = 1;
    int64_t woken = 0;
    struct task *w;
    while ((w = engine_waitq_pop(e, &o->waiters))) {
        engine_object_instant(e, w, INSTANT_WAKE, o, 1, 0);
        set_into(e, w, 1);
        engine_grant(e, w);
        woken++;
    }
    engine_object_instant(e, t, INSTANT_SET, o, woken, 0);
    return STEP_NEXT;
}

enum step op_event_clear(struct engine *e, struct task *t, const struct op *op)
{
    struct object *o = engine_object_of(e, t, op->u.sync.obj.name, op);
    if (!o)
        return STEP_ERROR;
    o->count = 0;
    engine_object_instant(e, t, INSTANT_CLEAR, o, 0, 0);
    return STEP_NEXT;
}

/* ---- conditions ---- */

/* Whether t holds condition c's lock; if not, raises Python's RuntimeError
 * for `what` ("wait", "notify", ...). */
static bool holds(struct engine *e, struct task *t, const struct object *c, const struct op *op, const char *what)
{
    const struct object *lock = &e->objects[c->decl->lock];
    if (lock->owner == t->se.id)
        return true;
    engine_fail(e, STATUS_RUNTIME, t, op,
                "%s on condition '%s' without holding its lock '%s' (Python: RuntimeError: cannot %s on un-acquired "
                "lock)", what, c->decl->name, lock->decl->name, what);
    return false;
}

/* Waits on a condition: releases its lock completely, sleeps until notified
 * (or the timeout), then takes the lock again before going on. */
static enum step cond_wait(struct engine *e, struct task *t, struct object *c, const struct op *op,
                           sim_time timeout)
{
    if (!holds(e, t, c, op, "wait"))
        return STEP_ERROR;
    struct object *lock = &e->objects[c->decl->lock];
    int64_t depth = lock->count;
    /* the wake of a lock waiter is not charged: t blocks at once */
    int64_t uncharged = 0;
    if (!release(e, t, lock, op, true, &uncharged))
        return STEP_ERROR;
    engine_object_instant(e, t, INSTANT_WAIT, c, 0, 0);
    enum step s = engine_block_on(e, t, c, &c->waiters, REASON_CONDITION, timeout);
    t->wait_value = (uint32_t)depth;
    return s;
}

/* A condition waiter was notified or timed out: it now competes for the lock
 * and resumes once it holds it. Notified (`cost` given: the notifier's, to
 * which the wake is added), it is woken as a sleeper on a semaphore is, as
 * CPython's waiter lock and the host runner's condition variable are, and
 * tries the lock when it runs: the notifier usually holds it still and has
 * let it go by then. Timed out, it competes at once (still blocked, reason
 * lock). */
static void cond_to_lock(struct engine *e, struct task *w, struct object *c, int64_t into, int64_t *cost)
{
    struct object *lock = &e->objects[c->decl->lock];
    if (w->timer != NONE) {
        engine_cancel(e, w->timer, true);
        w->timer = NONE;
    }
    set_into(e, w, into);
    engine_object_instant(e, w, INSTANT_WAKE, c, into, 0);
    if (cost) {
        sim_time latency = wake_waiter(e, w, cost);
        w->lock_retry = object_id(e, lock);
        lock->retrying++;
        engine_task_wake_after(e, w, latency);
        return;
    }
    if (lock->owner == NONE) {
        lock->owner = w->se.id;
        lock->count = w->wait_value > 0 ? w->wait_value : 1;
        w->wait_value = 0;
        engine_object_instant(e, w, INSTANT_ACQUIRE, lock, 0, 0);
        engine_task_wake(e, w, true);
        return;
    }
    engine_set_state(e, w, TRACE_BLOCKED, REASON_LOCK, -1);
    w->waiting_for = object_id(e, lock);
    engine_waitq_push(e, &lock->waiters, w);
}

enum step op_notify(struct engine *e, struct task *t, const struct op *op)
{
    struct object *c = engine_object_of(e, t, op->u.sync.obj.name, op);
    if (!c)
        return STEP_ERROR;
    if (!holds(e, t, c, op, "notify"))
        return STEP_ERROR;
    int64_t n = op->kind == OP_NOTIFY_ALL ? INT64_MAX : op->u.sync.n, woken = 0, cost = 0;
    struct task *w;
    while (woken < n && (w = engine_waitq_pop(e, &c->waiters))) {
        cond_to_lock(e, w, c, 1, &cost);
        woken++;
    }
    engine_object_instant(e, t, INSTANT_NOTIFY, c, woken, 0);
    return cpu_cost(t, cost);
}

/* The deadline of t's wait_for in progress, set on its first wait. */
static int64_t *wait_for_deadline(struct engine *e, struct task *t, sim_time timeout)
{
    for (size_t i = 0; i < e->ndeadlines; i++)
        if (e->deadlines[i].task == t->se.id)
            return &e->deadlines[i].when;
    e->deadlines = xgrow(e->deadlines, &e->deadlines_cap, e->ndeadlines + 1, sizeof *e->deadlines);
    e->deadlines[e->ndeadlines].task = t->se.id;
    e->deadlines[e->ndeadlines].when = e->now + timeout;
    return &e->deadlines[e->ndeadlines++].when;
}

static void wait_for_done(struct engine *e, const struct task *t)
{
    for (size_t i = 0; i < e->ndeadlines; i++)
        if (e->deadlines[i].task == t->se.id) {
            e->deadlines[i] = e->deadlines[--e->ndeadlines];
            return;
        }
}

enum step op_wait_for(struct engine *e, struct task *t, const struct op *op)
{
    struct object *c = engine_object_of(e, t, op->u.sync.obj.name, op);
    if (!c)
        return STEP_ERROR;
    if (!holds(e, t, c, op, "wait"))
        return STEP_ERROR;
    bool ok;
    if (!engine_condition(e, t, op, &op->u.sync.until, &ok))
        return STEP_ERROR;
    /* a timeout bounds the whole wait_for, over all its waits */
    int64_t *deadline = op->u.sync.timeout >= 0 ? wait_for_deadline(e, t, op->u.sync.timeout) : NULL;
    if (ok || t->timed_out || (deadline && *deadline <= e->now)) {
        op_into(t, op, ok);
        t->timed_out = 0;
        if (deadline)
            wait_for_done(e, t);
        return STEP_NEXT;
    }
    /* wait, then run this op again to re-check the predicate */
    enum step st = cond_wait(e, t, c, op, deadline ? *deadline - e->now : -1);
    if (st == STEP_OFF_CPU)
        engine_redo(t);
    return st;
}

/* ---- barriers ---- */

static enum step barrier_wait(struct engine *e, struct task *t, struct object *b, const struct op *op)
{
    engine_object_instant(e, t, INSTANT_WAIT, b, 0, 0);
    if (b->count + 1 >= b->decl->parties) {
        b->count = 0;
        struct task *w;
        while ((w = engine_waitq_pop(e, &b->waiters))) {
            engine_object_instant(e, w, INSTANT_WAKE, b, 1, 0);
            set_into(e, w, 1);
            engine_grant(e, w);
        }
        if (op->u.sync.has_into && t->locals)
            t->locals->v[op->u.sync.into] = 1;
        return STEP_NEXT;
    }
    b->count++;
    sim_time timeout = op->u.sync.timeout >= 0 ? op->u.sync.timeout : b->decl->timeout;
    return engine_block_on(e, t, b, &b->waiters, REASON_BARRIER, timeout);
}

enum step op_wait(struct engine *e, struct task *t, const struct op *op)
{
    struct object *o = engine_object_of(e, t, op->u.sync.obj.name, op);
    if (!o)
        return STEP_ERROR;
    switch (o->decl->type) {
    case OBJ_EVENT: return event_wait(e, t, o, op);
    case OBJ_CONDITION: return cond_wait(e, t, o, op, op->u.sync.timeout);
    default: return barrier_wait(e, t, o, op);
    }
}

/* ---- timeouts, killing, deadlock reports ---- */

void engine_object_timeout(struct engine *e, struct task *t)
{
    t->timer = NONE;
    struct object *o = &e->objects[t->waiting_for];
    if (o->decl->type >= OBJ_QUEUE) {
        engine_ipc_timeout(e, t, o);
        return;
    }
    engine_waitq_remove(e, &o->waiters, t);
    const struct op *op = engine_current_op(e, t);
    switch (o->decl->type) {
    case OBJ_CONDITION:
        /* a timed-out wait_for stops re-checking its predicate */
        t->timed_out = op && op->kind == OP_WAIT_FOR;
        cond_to_lock(e, t, o, 0, NULL);
        return;
    case OBJ_BARRIER:
        engine_fail(e, STATUS_RUNTIME, t, op,
                    "barrier '%s' broke: %" PRId64 " of %" PRId64 " threads arrived before the timeout (Python: "
                    "threading.BrokenBarrierError)", o->decl->name, o->count, o->decl->parties);
        return;
    default:
        set_into(e, t, 0);
        engine_object_instant(e, t, INSTANT_WAKE, o, 0, 0);
        t->waiting_for = NONE;
        engine_task_ready(e, t, ENQUEUE_WAKEUP);
        return;
    }
}

void engine_object_forget(struct engine *e, struct task *t)
{
    struct object *o = &e->objects[t->waiting_for];
    if (o->decl->type >= OBJ_QUEUE) {
        engine_ipc_forget(e, t, o);
        return;
    }
    engine_waitq_remove(e, &o->waiters, t);
    if (o->decl->type == OBJ_BARRIER && o->count > 0)
        o->count--;
}

uint32_t engine_object_wait_edge(const struct engine *e, const struct task *t, char *buf, size_t cap)
{
    const struct object *o = &e->objects[t->waiting_for];
    const char *type = scenario_object_type_name(o->decl->type);
    if (is_lock(o) && o->owner != NONE) {
        const struct task *holder = engine_task_at(e, o->owner);
        if (holder->state == TASK_DONE) {
            snprintf(buf, cap, "%s '%s' held by '%s', which ended without releasing it", type, o->decl->name,
                     engine_name_of(e, holder));
            return NONE;
        }
        snprintf(buf, cap, "%s '%s' held by '%s'", type, o->decl->name, engine_name_of(e, holder));
        return o->owner;
    }
    switch (o->decl->type) {
    case OBJ_QUEUE:
    case OBJ_MP_QUEUE:
    case OBJ_PIPE: engine_ipc_describe(e, t, o, buf, cap); break;
    case OBJ_EVENT: snprintf(buf, cap, "event '%s', which no thread will set", o->decl->name); break;
    case OBJ_CONDITION:
        snprintf(buf, cap, "condition '%s', which no thread will notify", o->decl->name);
        break;
    case OBJ_BARRIER:
        snprintf(buf, cap, "barrier '%s' (%" PRId64 " of %" PRId64 " parties arrived)", o->decl->name, o->count,
                 o->decl->parties);
        break;
    default: snprintf(buf, cap, "%s '%s', which no thread will release", type, o->decl->name); break;
    }
    return NONE;
}
