/* The discrete-event simulation kernel (see engine.h).
 *
 * Tasks are state machines: a program counter (a small stack of frames) into
 * the scenario's flat op array. Time advances from event to event; at each
 * instant all events are handled first, then free CPUs pick tasks and the
 * policy may preempt running ones. Events at one instant are ordered by class
 * (CPU events, then policy timers, then tasks becoming ready) and then by task
 * or CPU index, which yields the contract's ready-queue order. */
#include "engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "xalloc.h"


static struct sched_entity *engine_entity_cb(void *engine, uint32_t id)
{
    struct engine *e = engine;
    return id < e->ntasks ? &engine_task_at(e, id)->se : NULL;
}

static inline struct task *task_of(struct sched_entity *se)
{
    return (struct task *)((char *)se - offsetof(struct task, se));
}

const char *engine_name_of(const struct engine *e, const struct task *t)
{
    if (t->decl != NONE)
        return e->sc->threads[t->decl].name;
    return e->created_names[t->se.id - e->sc->nthreads];
}

/* Raises a run-time error about task t at op (may be NULL). */
enum step engine_fail(struct engine *e, enum status status, const struct task *t,
                             const struct op *op, const char *fmt, ...)
{
    if (e->failed != STATUS_OK)
        return STEP_ERROR;
    char msg[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    e->failed = status;
    if (t)
        error_set(e->err, status, op ? op->path : NULL, "at %.3f ms, thread '%s' of process '%s': %s",
                  (double)e->now / 1e6, engine_name_of(e, t), e->procs[t->process].name, msg);
    else
        error_set(e->err, status, op ? op->path : NULL, "%s", msg);
    return STEP_ERROR;
}

static void engine_trace_record_limit(struct engine *e)
{
    if (e->trace->nsegments + e->trace->ninstants > ENGINE_MAX_TRACE_RECORDS) {
        e->opts.record_trace = false;
        engine_fail(e, STATUS_RUNTIME, NULL, NULL,
                    "the trace grew past %u records; run without a trace or shorten the scenario",
                    ENGINE_MAX_TRACE_RECORDS);
    }
}

void engine_instant(struct engine *e, const struct task *t, enum trace_instant_kind kind,
                           int64_t value, const char *text)
{
    if (!e->opts.record_trace)
        return;
    struct trace_instant ev = {
        .time = e->now, .value = value, .task = t->se.id, .kind = (uint16_t)kind,
        .obj = NONE, .flow = 0,
    };
    trace_instant_add(e->trace, &ev, text);
    engine_trace_record_limit(e);
}

/* Moves t to a new state at e->now, closing the old state's segment and
 * adding its length to the metric it counts towards. */
/* The trace object a blocked task waits for: an object, or none (joins,
 * sleeps and processes name no object). */
static uint32_t segment_object(const struct engine *e, const struct task *t)
{
    if (t->state != TRACE_BLOCKED || t->waiting_for == NONE)
        return NONE;
    switch (t->reason) {
    case REASON_LOCK:
    case REASON_SEMAPHORE:
    case REASON_EVENT:
    case REASON_CONDITION:
    case REASON_BARRIER:
    case REASON_QUEUE:
    case REASON_PIPE: return e->objects[t->waiting_for].trace_id;
    default: return NONE;
    }
}

void engine_set_state(struct engine *e, struct task *t, uint8_t state, uint8_t reason, int32_t cpu)
{
    /* whatever it does next, it is no longer in its start op's wait
     * (start_waits sets it again after this) */
    t->start_blocked = 0;
    int64_t len = e->now - t->state_since;
    switch (t->state) {
    case TRACE_RUNNING: t->m.cpu += len; break;
    case TRACE_READY:
    case TRACE_SWITCH: t->m.wait += len; break;
    case TRACE_BLOCKED:
        t->m.blocked += len;
        if (t->reason == REASON_GIL || (t->reason == REASON_WAKEUP && (t->gil_flags & TASK_GIL_WAKE_WAIT)))
            t->m.gil_wait += len;
        break;
    default: break;
    }
    if (e->opts.record_trace && t->state < TRACE_STATE_COUNT && len > 0) {
        struct trace_segment seg = {
            .start = t->state_since, .end = e->now, .task = t->se.id, .cpu = t->cpu,
            .state = t->state, .reason = t->reason, .obj = segment_object(e, t),
        };
        trace_segment_add(e->trace, &seg);
        engine_trace_record_limit(e);
    }
    t->state = state;
    t->reason = reason;
    t->cpu = cpu;
    t->state_since = e->now;
}

uint32_t engine_push(struct engine *e, int64_t time, enum ev_class cls, uint32_t sub,
                            enum ev_kind kind, uint32_t target)
{
    if (kind != EV_POLICY)
        e->pending_task_events++;
    return event_queue_push(&e->eq, time, ev_key(cls, sub), kind, target, 0);
}

void engine_cancel(struct engine *e, uint32_t handle, bool task_event)
{
    event_queue_cancel(&e->eq, handle);
    if (task_event)
        e->pending_task_events--;
}

void engine_task_ready(struct engine *e, struct task *t, enum enqueue_why why)
{
    engine_set_state(e, t, TRACE_READY, REASON_NONE, -1);
    e->pol->enqueue(e->rq, &t->se, why, e->now, e->enqueue_seq++);
}

/* ---- frames ---- */

static inline enum frame_kind frame_kind(const struct frame *f)
{
    return (enum frame_kind)(f->end >> FRAME_KIND_SHIFT);
}

static inline uint32_t frame_end(const struct frame *f)
{
    return f->end & FRAME_END_MASK;
}

bool engine_push_frame(struct engine *e, struct task *t, struct op_block b,
                            enum frame_kind kind, const struct op *op)
{
    if (t->nframes >= SCENARIO_MAX_NEST + 1) {
        engine_fail(e, STATUS_RUNTIME, t, op,
                    "ops nest deeper than %d levels (a call that recurses without end?)",
                    SCENARIO_MAX_NEST);
        return false;
    }
    if (t->nframes == t->frames_cap) {
        uint16_t cap = (uint16_t)(t->frames_cap * 2);
        if (t->frames == t->inline_frames) {
            t->frames = xmalloc(cap * sizeof *t->frames);
            memcpy(t->frames, t->inline_frames, sizeof t->inline_frames);
        } else {
            t->frames = xrealloc(t->frames, cap * sizeof *t->frames);
        }
        t->frames_cap = cap;
    }
    struct frame *f = &t->frames[t->nframes++];
    f->pc = b.first;
    f->first = b.first;
    f->end = (b.first + b.count) | ((uint32_t)kind << FRAME_KIND_SHIFT);
    f->remaining = 0;
    return true;
}

static struct locals *locals_new(uint32_t n, struct locals *parent)
{
    struct locals *l = xcalloc(1, sizeof *l + n * sizeof l->v[0]);
    l->parent = parent;
    return l;
}

struct locals *engine_locals_new(uint32_t n, struct locals *parent)
{
    return locals_new(n, parent);
}

/* Frees t's locals up to and including the innermost code unit's. */
static void locals_pop(struct task *t)
{
    struct locals *l = t->locals;
    t->locals = l ? l->parent : NULL;
    free(l);
}

static void task_free_frames(struct task *t)
{
    while (t->locals)
        locals_pop(t);
    t->nframes = 0;
    if (t->frames != t->inline_frames)
        free(t->frames);
    t->frames = t->inline_frames;
    t->frames_cap = TASK_INLINE_FRAMES;
}

int64_t engine_operand(const struct task *t, const struct operand *o)
{
    if (o->kind == OPERAND_LOCAL)
        return t->locals ? t->locals->v[o->slot] : 0;
    return o->value;
}

/* ---- task life cycle ---- */

struct task *engine_new_task(struct engine *e, uint32_t process, uint32_t decl)
{
    uint32_t id = e->ntasks;
    if (id >> TASK_CHUNK_BITS >= e->nchunks) {
        e->chunks = xgrow(e->chunks, &e->chunks_cap, e->nchunks + 1, sizeof *e->chunks);
        e->chunks[e->nchunks++] = xmalloc(TASK_CHUNK * sizeof(struct task));
    }
    e->ntasks++;
    struct task *t = engine_task_at(e, id);
    memset(t, 0, sizeof *t);
    const struct process_decl *pd = &e->sc->processes[e->procs[process].decl];
    t->se.id = id;
    t->se.priority = pd->priority;
    t->se.nice = pd->nice;
    t->se.link = NONE;
    t->m.arrival = -1;
    t->m.first_run = -1;
    t->m.finish = -1;
    t->frames = t->inline_frames;
    t->frames_cap = TASK_INLINE_FRAMES;
    t->process = process;
    t->decl = decl;
    t->timer = NONE;
    t->joiners = NONE;
    t->wait_next = NONE;
    t->waiting_for = NONE;
    t->lock_retry = NONE;
    t->start_wait = NONE;
    t->start_waiter = NONE;
    t->proc_next = NONE;
    t->cpu = -1;
    t->state = TASK_NEW;
    e->procs[process].unfinished++;
    if (decl != NONE) {
        const struct thread_decl *td = &e->sc->threads[decl];
        if (td->has_priority)
            t->se.priority = td->priority;
        t->daemon = td->daemon;
        t->se.total_compute = scenario_thread_compute(e->sc, decl);
        if (td->nlocals)
            t->locals = locals_new(td->nlocals, NULL);
        engine_push_frame(e, t, td->program, FRAME_BLOCK, NULL);
    }
    return t;
}

/* A NEW task becomes ready: arrival, or a start/thread op. */
void engine_task_arrive(struct engine *e, struct task *t)
{
    t->m.arrival = e->now;
    t->state_since = e->now;
    e->live_tasks++;
    if (!t->daemon)
        e->procs[t->process].live_nondaemon++;
    engine_instant(e, t, INSTANT_ARRIVE, 0, NULL);
    if (e->pol->task_new)
        e->pol->task_new(e->rq, &t->se, e->now);
    t->state = TRACE_READY;
    t->reason = REASON_NONE;
    e->pol->enqueue(e->rq, &t->se, ENQUEUE_NEW, e->now, e->enqueue_seq++);
}

void engine_task_arrive_late(struct engine *e, struct task *t, sim_time delay)
{
    engine_task_arrive(e, t);
    if (delay <= 0)
        return;
    /* out of the run queue, and woken as a thread made ready by another */
    e->pol->dequeue(e->rq, &t->se);
    engine_task_wake_after(e, t, delay);
}

/* Wakes a blocked task; `by_thread`: made ready by another thread (pays the
 * machine's wakeup_latency) rather than by a timer. */
void engine_task_wake(struct engine *e, struct task *t, bool by_thread)
{
    if (by_thread) {
        engine_task_wake_after(e, t, e->sc->machine.wakeup_latency);
        return;
    }
    if (t->timer != NONE) {
        engine_cancel(e, t->timer, true);
        t->timer = NONE;
    }
    engine_task_ready(e, t, ENQUEUE_WAKEUP);
    t->waiting_for = NONE;
}

void engine_task_wake_after(struct engine *e, struct task *t, sim_time lat)
{
    if (t->timer != NONE) {
        engine_cancel(e, t->timer, true);
        t->timer = NONE;
    }
    /* through an event even with no latency, so that threads woken at one
     * instant become ready in declaration order (ordering rule 1) */
    if (lat > 0) {
        engine_set_state(e, t, TRACE_BLOCKED, REASON_WAKEUP, -1);
        t->waiting_for = NONE;
    }
    t->timer = engine_push(e, e->now + lat, CLASS_READY, t->se.id, EV_WAKE, t->se.id);
}

static void joiners_remove(struct engine *e, struct task *target, struct task *t)
{
    uint32_t *link = &target->joiners;
    while (*link != NONE) {
        if (*link == t->se.id) {
            *link = t->wait_next;
            t->wait_next = NONE;
            return;
        }
        link = &engine_task_at(e, *link)->wait_next;
    }
}

static void cpu_release(struct engine *e, uint32_t c, enum sched_stop stop);
static bool start_waits(struct engine *e, struct task *t);
static void engine_process_end(struct engine *e, uint32_t process);

/* Finishes t at e->now. The caller has taken it off its CPU. */
static void task_finish(struct engine *e, struct task *t)
{
    engine_gil_release(e, t, false);
    bool was_started = t->state != TASK_NEW;
    engine_set_state(e, t, TASK_DONE, REASON_NONE, -1);
    t->m.finish = e->now;
    if (e->now > e->stats.makespan)
        e->stats.makespan = e->now;
    task_free_frames(t);
    engine_instant(e, t, INSTANT_EXIT, 0, NULL);
    struct proc *p = &e->procs[t->process];
    p->unfinished--;
    if (was_started) {
        e->live_tasks--;
        if (e->pol->task_dead)
            e->pol->task_dead(e->rq, &t->se);
        if (!t->daemon)
            p->live_nondaemon--;
    }
    while (t->joiners != NONE) {
        struct task *j = engine_task_at(e, t->joiners);
        t->joiners = j->wait_next;
        j->wait_next = NONE;
        t->joined = 1;
        engine_instant(e, j, INSTANT_JOIN, t->se.id, NULL);
        engine_task_wake(e, j, true);
    }
    if (!p->ended && p->live_nondaemon == 0 && was_started && !t->daemon)
        engine_process_end(e, t->process);
}

/* Stops a task that is not running its own ops to the end: a daemon thread
 * when its process ends. */
void engine_task_kill(struct engine *e, struct task *t)
{
    if (t->state == TASK_DONE)
        return;
    if (t->gil_flags)
        engine_gil_forget(e, t);
    if (t->lock_retry != NONE) {
        e->objects[t->lock_retry].retrying--;
        t->lock_retry = NONE;
    }
    if (t->cpu >= 0) {
        cpu_release(e, (uint32_t)t->cpu, SCHED_STOP_EXITED);
    } else if (t->state == TRACE_READY) {
        e->pol->dequeue(e->rq, &t->se);
    } else if (t->state == TRACE_BLOCKED) {
        if (t->timer != NONE) {
            engine_cancel(e, t->timer, true);
            t->timer = NONE;
        }
        if (t->waiting_for != NONE && t->reason == REASON_JOIN)
            joiners_remove(e, engine_task_at(e, t->waiting_for), t);
        else if (t->waiting_for != NONE && t->reason == REASON_PROCESS)
            engine_waitq_remove(e, &e->procs[t->waiting_for].joiners, t);
        else if (t->reason == REASON_GIL)
            engine_gil_forget(e, t);
        else if (t->waiting_for != NONE)
            engine_object_forget(e, t);
        t->waiting_for = NONE;
    } else if (t->state == TASK_NEW) {
        /* never started: it just disappears with its process */
        struct proc *p = &e->procs[t->process];
        t->state = TASK_DONE;
        p->unfinished--;
        return;
    }
    task_finish(e, t);
}

/* The process's last non-daemon thread ended: its daemon threads stop. */
static void engine_process_end(struct engine *e, uint32_t process)
{
    struct proc *p = &e->procs[process];
    p->ended = true;
    if (process < e->sc->nprocesses) {
        const struct process_decl *pd = &e->sc->processes[process];
        for (uint32_t i = 0; i < pd->nthreads; i++)
            engine_task_kill(e, engine_task_at(e, pd->first_thread + i));
    }
    for (uint32_t id = e->procs[process].created_head; id != NONE; id = engine_task_at(e, id)->proc_next)
        engine_task_kill(e, engine_task_at(e, id));
    engine_process_ended(e, process);
}

/* ---- CPUs ---- */

static void cpu_arm(struct engine *e, uint32_t c, int64_t when)
{
    struct cpu *cpu = &e->cpus[c];
    if (cpu->event != NONE)
        engine_cancel(e, cpu->event, true);
    cpu->event = engine_push(e, when, CLASS_CPU, c, EV_CPU, c);
}

/* Brings the op in progress on CPU c up to date at e->now. */
static void cpu_progress(struct engine *e, struct cpu *cpu, struct task *t)
{
    if (t->op_left > 0) {
        t->op_left -= e->now - cpu->progress_from;
        if (t->op_left < 0)
            t->op_left = 0;
    }
    cpu->progress_from = e->now;
}

static int64_t engine_slice(struct engine *e, struct task *t)
{
    return e->pol->slice ? e->pol->slice(e->rq, &t->se, e->now) : SIM_TIME_NEVER;
}

/* The absolute end of a slice granted now. */
static int64_t slice_end(int64_t now, int64_t slice)
{
    return slice == SIM_TIME_NEVER || slice > SIM_TIME_NEVER - now ? SIM_TIME_NEVER : now + slice;
}

/* Takes the task on CPU c off it, accounting its CPU time to the policy. */
static void cpu_release(struct engine *e, uint32_t c, enum sched_stop stop)
{
    struct cpu *cpu = &e->cpus[c];
    struct task *t = engine_task_at(e, cpu->task);
    if (cpu->event != NONE) {
        engine_cancel(e, cpu->event, true);
        cpu->event = NONE;
    }
    int64_t delta = 0;
    if (!cpu->switching) {
        cpu_progress(e, cpu, t);
        delta = e->now - cpu->run_from;
        t->se.cpu_done += delta;
        e->stats.busy += delta;
    }
    if (e->pol->account)
        e->pol->account(e->rq, &t->se, delta, stop, e->now);
    cpu->task = NONE;
    cpu->switching = false;
    cpu->idle_since = e->now;
}

static enum step task_run_ops(struct engine *e, struct task *t);

/* The task on CPU c is running at e->now: run its ops until it starts a
 * compute op, then arm the CPU for the op's end or the slice's end. */
static void cpu_continue(struct engine *e, uint32_t c)
{
    struct cpu *cpu = &e->cpus[c];
    struct task *t = engine_task_at(e, cpu->task);
    if (t->op_left <= 0) {
        t->nogil = 0;
        /* an add whose CPU time is over writes now, before anything else
         * (a compute just set aside for a signal handler has not finished) */
        struct proc *pr = &e->procs[t->process];
        bool set_aside = pr->resume == RESUME_COMPUTE && pr->main_task == t->se.id && !engine_in_handler(t);
        if (e->nadds && !set_aside)
            engine_add_complete(e, t);
    }
    /* a waiter woken by a barging lock tries it first, as the futex call
     * returns (before the GIL: its rlock depth is in wait_value) */
    if (t->lock_retry != NONE && !engine_lock_retry(e, t))
        return;
    if (t->op_left <= 0 && t->start_wait != NONE && start_waits(e, t))
        return;
    /* interpreted code needs the GIL; a drop request is honoured at a check
     * point: an op boundary, or the check point armed in gil_check */
    struct gil *g = engine_gil_needed(e, t);
    if (g && g->cfg.mode == GIL_OLD) {
        if (!engine_gil_old_run(e, t, cpu))
            return;
    } else if (g) {
        if (g->holder != t->se.id && !engine_gil_take(e, t))
            return;
        if (g->drop_request && (t->op_left <= 0 || e->now >= cpu->gil_check)) {
            engine_gil_release(e, t, true);
            if (t->state != TRACE_RUNNING)
                return;
        }
    }
    if (t->op_left <= 0) {
        enum step s = task_run_ops(e, t);
        if (s != STEP_TIMED)
            return;
        g = engine_gil_needed(e, t);
    }
    if (cpu->slice_end <= e->now) {
        cpu_release(e, c, SCHED_STOP_EXPIRED);
        engine_task_ready(e, t, ENQUEUE_EXPIRED);
        return;
    }
    int64_t when = e->now + t->op_left;
    if (cpu->slice_end < when)
        when = cpu->slice_end;
    if (g && g->cfg.mode == GIL_OLD)
        when = engine_gil_old_until(e, t, cpu, when);
    else if (g && g->drop_request && g->holder == t->se.id && cpu->gil_check < when)
        when = cpu->gil_check > e->now ? cpu->gil_check : e->now;
    cpu_arm(e, c, when);
}

void engine_cpu_gil_request(struct engine *e, struct task *t)
{
    if (t->state != TRACE_RUNNING || t->cpu < 0)
        return;
    struct cpu *cpu = &e->cpus[t->cpu];
    if (cpu->switching || cpu->task != t->se.id)
        return;
    if (e->procs[t->process].gil.cfg.mode == GIL_OLD) {
        /* its ticks have been counting since it took the GIL */
        if (cpu->gil_check != SIM_TIME_NEVER)
            return;
        cpu->gil_check = engine_gil_old_next_check(e, t, cpu);
    } else {
        int64_t spacing = engine_gil_spacing(e, t);
        if (spacing == SIM_TIME_NEVER) {
            cpu->gil_check = SIM_TIME_NEVER; /* no check point before the op ends */
            return;
        }
        int64_t into = (e->now - cpu->run_from) % spacing;
        cpu->gil_check = e->now + (into ? spacing - into : 0);
    }
    cpu_progress(e, cpu, t);
    int64_t when = e->now + t->op_left;
    if (cpu->slice_end < when)
        when = cpu->slice_end;
    if (cpu->gil_check < when)
        when = cpu->gil_check;
    cpu_arm(e, (uint32_t)t->cpu, when);
}

void engine_interrupt_running(struct engine *e, struct task *t)
{
    if (t->cpu < 0)
        return;
    uint32_t c = (uint32_t)t->cpu;
    struct cpu *cpu = &e->cpus[c];
    if (cpu->switching || cpu->task != t->se.id)
        return;
    cpu_progress(e, cpu, t);
    struct proc *pr = &e->procs[t->process];
    if (t->op_left > 0) {
        pr->resume_value = t->op_left;
        pr->resume_nogil = t->nogil;
        t->op_left = 0;
        pr->resume = RESUME_COMPUTE;
    }
    cpu_continue(e, c);
}

/* Whether CPU c has had no thread for the profile's idle_poll_ns or more:
 * it has stopped polling for work and sleeps deeper (profile.h). */
static bool cpu_sleeps_deep(const struct engine *e, const struct cpu *c)
{
    return c->task == NONE && e->now - c->idle_since >= e->sc->profile.idle_poll_ns;
}

int64_t engine_idle_kick(const struct engine *e)
{
    if (e->sc->profile.idle_kick_ns <= 0)
        return 0;
    for (uint32_t c = 0; c < e->sc->machine.cpus; c++)
        if (cpu_sleeps_deep(e, &e->cpus[c]))
            return e->sc->profile.idle_kick_ns;
    return 0;
}

/* A new thread runs for the first time: the thread whose start op waits
 * for this (profile.thread_start_wait) is woken, if it already blocked. */
static void start_seen(struct engine *e, struct task *n)
{
    if (n->start_waiter == NONE)
        return;
    struct task *w = engine_task_at(e, n->start_waiter);
    n->start_waiter = NONE;
    /* still paying for the op, or blocked in it for something else (the
     * GIL, dropped on request during the op's CPU time): it goes on, and
     * sees the thread has run, when the op is done */
    if (w->start_wait != n->se.id || !w->start_blocked)
        return;
    w->start_wait = NONE;
    w->start_blocked = 0;
    engine_task_wake(e, w, true);
}

/* At the end of a start op's CPU time: blocks t until the thread it started
 * has run (returns true), keeping the GIL, as the host runner's
 * Thread.start() waits for it; else goes on. */
static bool start_waits(struct engine *e, struct task *t)
{
    struct task *n = engine_task_at(e, t->start_wait);
    if (n->m.first_run >= 0 || n->state == TASK_DONE) {
        t->start_wait = NONE;
        return false;
    }
    cpu_release(e, (uint32_t)t->cpu, SCHED_STOP_BLOCKED);
    engine_set_state(e, t, TRACE_BLOCKED, REASON_WAKEUP, -1);
    t->waiting_for = NONE;
    t->start_blocked = 1;
    return true;
}

static void cpu_start_running(struct engine *e, uint32_t c)
{
    struct cpu *cpu = &e->cpus[c];
    struct task *t = engine_task_at(e, cpu->task);
    cpu->switching = false;
    engine_set_state(e, t, TRACE_RUNNING, REASON_NONE, (int32_t)c);
    if (t->m.first_run < 0) {
        t->m.first_run = e->now;
        start_seen(e, t);
    }
    cpu->run_from = e->now;
    cpu->progress_from = e->now;
    cpu->slice_end = slice_end(e->now, cpu->slice);
    /* a GIL holder asked to drop while it was off the CPU drops at its next
     * check point: at once, unless it is inside an op without one */
    cpu->gil_check = SIM_TIME_NEVER;
    if (e->procs[t->process].gil.drop_request && e->procs[t->process].gil.holder == t->se.id)
        cpu->gil_check = engine_gil_spacing(e, t) == SIM_TIME_NEVER ? SIM_TIME_NEVER : e->now;
    else if (e->procs[t->process].gil.cfg.mode == GIL_OLD && e->procs[t->process].gil.holder == t->se.id)
        cpu->gil_check = engine_gil_old_next_check(e, t, cpu);
    /* a main thread with a signal waiting handles it before finishing its compute */
    struct proc *pr = &e->procs[t->process];
    if (pr->pending && t->op_left > 0 && pr->resume == RESUME_NONE && pr->main_task == t->se.id &&
        !engine_in_handler(t)) {
        pr->resume_value = t->op_left;
        pr->resume_nogil = t->nogil;
        t->op_left = 0;
        pr->resume = RESUME_COMPUTE;
    }
    cpu_continue(e, c);
}

static void cpu_dispatch(struct engine *e, uint32_t c, struct task *t)
{
    struct cpu *cpu = &e->cpus[c];
    const struct machine *m = &e->sc->machine;
    int64_t cost = 0;
    if (cpu->last_task != t->se.id) {
        t->m.context_switches++;
        if (cpu->last_task != NONE) {
            if (engine_task_at(e, cpu->last_task)->process == t->process) {
                cost = m->context_switch;
                e->stats.context_switches++;
            } else {
                cost = m->process_switch;
                e->stats.process_switches++;
            }
        }
    }
    e->stats.switching += cost;
    /* a CPU idle long enough to sleep deeper wakes up first */
    if (e->sc->profile.idle_wake_ns > 0 && cpu_sleeps_deep(e, cpu))
        cost += e->sc->profile.idle_wake_ns;
    cpu->task = t->se.id;
    cpu->last_task = t->se.id;
    cpu->slice = engine_slice(e, t);
    if (cost > 0) {
        cpu->switching = true;
        engine_set_state(e, t, TRACE_SWITCH, REASON_NONE, (int32_t)c);
        cpu_arm(e, c, e->now + cost);
        return;
    }
    cpu_start_running(e, c);
}

static void cpu_event(struct engine *e, uint32_t c)
{
    struct cpu *cpu = &e->cpus[c];
    cpu->event = NONE;
    if (cpu->task == NONE)
        return; /* a thread's exit is over: engine_schedule may use the CPU */
    if (cpu->switching) {
        cpu_start_running(e, c);
        return;
    }
    cpu_progress(e, cpu, engine_task_at(e, cpu->task));
    cpu_continue(e, c);
}

/* ---- ops ---- */

typedef enum step (*op_exec_fn)(struct engine *e, struct task *t, const struct op *op);

/* Blocks the running task t (taking it off its CPU) with reason. */
void engine_task_block(struct engine *e, struct task *t, enum trace_reason reason)
{
    /* a blocking op releases the GIL (Py_BEGIN_ALLOW_THREADS) */
    if (reason != REASON_GIL)
        engine_gil_release(e, t, false);
    cpu_release(e, (uint32_t)t->cpu, SCHED_STOP_BLOCKED);
    engine_set_state(e, t, TRACE_BLOCKED, (uint8_t)reason, -1);
}

static enum step op_compute(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_compute *c = &op->u.compute;
    int64_t cost = scenario_compute_cost(e->sc, c, engine_operand(t, &c->n),
                                         engine_operand(t, &c->from), engine_operand(t, &c->to));
    if (cost <= 0)
        return STEP_NEXT;
    if (c->release_gil) {
        engine_gil_release(e, t, false);
        t->nogil = 1;
    }
    t->op_left = cost + engine_gil_old_check_cost(e, t, cost);
    return STEP_TIMED;
}

static enum step op_sleep(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_sleep *s = &op->u.sleep;
    int64_t d = s->dur;
    /* a draw depends on the seed and the thread (its n-th draw) or the key
     * only, never on the order threads run in: the real runner draws the
     * same durations */
    if (s->random && s->keyed)
        d = rng_stream_range(e->sc->seed, NULL, NULL, (uint64_t)engine_operand(t, &s->key), s->dur, s->dur_hi);
    else if (s->random)
        d = rng_stream_range(e->sc->seed, e->procs[t->process].name, engine_name_of(e, t), t->sleep_draws++,
                             s->dur, s->dur_hi);
    /* a real timer ends the sleep a little late */
    if (d > 0)
        d += e->sc->profile.timer_latency_ns;
    engine_task_block(e, t, op->kind == OP_IO ? REASON_IO : REASON_SLEEP);
    t->timer = engine_push(e, e->now + d, CLASS_READY, t->se.id, EV_WAKE, t->se.id);
    return STEP_OFF_CPU;
}

static enum step op_repeat(struct engine *e, struct task *t, const struct op *op)
{
    int64_t times = engine_operand(t, &op->u.repeat.times);
    if (times <= 0 || op->u.repeat.body.count == 0)
        return STEP_NEXT;
    if (times > SCENARIO_MAX_REPEAT)
        return engine_fail(e, STATUS_RUNTIME, t, op, "repeat of %" PRId64 " times is over the limit of %lld",
                           times, SCENARIO_MAX_REPEAT);
    if (!engine_push_frame(e, t, op->u.repeat.body, FRAME_REPEAT, op))
        return STEP_ERROR;
    t->frames[t->nframes - 1].remaining = (uint32_t)(times - 1);
    return STEP_NEXT;
}

/* The callee's locals: its parameters bound to the argument values. */
static struct locals *call_locals(const struct task *t, const struct function *fn, uint32_t nargs,
                                  const struct operand *args, struct locals *parent)
{
    struct locals *l = locals_new(fn->nlocals, parent);
    for (uint32_t i = 0; i < nargs && i < fn->nlocals; i++)
        l->v[i] = engine_operand(t, &args[i]);
    return l;
}

/* A function without locals runs as a plain block: it cannot see the
 * caller's locals, so they need not be swapped. */
static enum step op_call(struct engine *e, struct task *t, const struct op *op)
{
    const struct function *fn = &e->sc->functions[op->u.call.fn];
    bool own = fn->nlocals > 0;
    if (!engine_push_frame(e, t, fn->body, own ? FRAME_CALL : FRAME_PLAIN_CALL, op))
        return STEP_ERROR;
    t->frames[t->nframes - 1].remaining = (uint32_t)(op - e->sc->ops) + 1;
    t->ret = 0;
    if (own)
        t->locals = call_locals(t, fn, op->u.call.nargs, op->u.call.args, t->locals);
    return STEP_NEXT;
}

/* Pops t's top frame: a call's locals go (and its `into` gets the return
 * value), a with block releases its object. */
static enum step frame_pop(struct engine *e, struct task *t)
{
    struct frame *f = &t->frames[t->nframes - 1];
    enum frame_kind kind = frame_kind(f);
    uint32_t extra = f->remaining;
    if (kind == FRAME_CALL)
        locals_pop(t);
    t->nframes--;
    if ((kind == FRAME_CALL || kind == FRAME_PLAIN_CALL) && extra > 0) {
        const struct op *call = &e->sc->ops[extra - 1];
        if (call->kind == OP_CALL && call->u.call.has_into && t->locals)
            t->locals->v[call->u.call.into] = t->ret;
    }
    if (kind == FRAME_WITH)
        return engine_with_release(e, t, extra);
    if (kind == FRAME_HANDLER) {
        if (extra & HANDLER_HAS_LOCALS)
            locals_pop(t);
        return engine_signal_resume(e, t);
    }
    return STEP_NEXT;
}

/* return: leaves the innermost function (releasing the with blocks it is
 * in) with a value; at a thread's top level it ends the thread. */
static enum step op_return(struct engine *e, struct task *t, const struct op *op)
{
    int64_t v;
    if (!engine_value(e, t, op, &op->u.let.value, &v))
        return STEP_ERROR;
    t->ret = v;
    while (t->nframes > 0) {
        enum frame_kind kind = frame_kind(&t->frames[t->nframes - 1]);
        /* a function's frame, or a signal handler's: a handler returns like a function */
        bool call = ((kind == FRAME_CALL || kind == FRAME_PLAIN_CALL) && t->frames[t->nframes - 1].remaining > 0) ||
                    kind == FRAME_HANDLER;
        if (t->nframes == 1) {
            /* the thread's own program: end it */
            t->frames[0].pc = frame_end(&t->frames[0]);
            return STEP_NEXT;
        }
        enum step st = frame_pop(e, t);
        if (st == STEP_ERROR)
            return st;
        if (call)
            return st;
    }
    return STEP_NEXT;
}

static void print_append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    *buf = xgrow(*buf, cap, *len + n + 1, 1);
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

/* Appends a memory variable's value: an integer, or an array as [a, b, c]. */
void engine_format_var(struct engine *e, const struct task *t, uint32_t name, const int64_t *a, char *num,
                       size_t numcap, char **buf, size_t *len, size_t *cap)
{
    int32_t d = e->var_map[(size_t)e->procs[t->process].decl * e->sc->nvar_names + name];
    uint32_t n = d >= 0 ? e->sc->vars[d].length : 0;
    if (n == 0) {
        snprintf(num, numcap, "%" PRId64, *a);
        print_append(buf, len, cap, num);
        return;
    }
    print_append(buf, len, cap, "[");
    for (uint32_t i = 0; i < n; i++) {
        snprintf(num, numcap, "%s%" PRId64, i ? ", " : "", a[i]);
        print_append(buf, len, cap, num);
    }
    print_append(buf, len, cap, "]");
}

static enum step op_print(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_print *p = &op->u.print;
    if (e->nprints >= ENGINE_MAX_PRINTS)
        return engine_fail(e, STATUS_RUNTIME, t, op, "more than %u lines printed", ENGINE_MAX_PRINTS);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char num[64];
    print_append(&buf, &len, &cap, "");
    for (uint32_t i = 0; i < p->npieces; i++) {
        const struct print_piece *pc = &p->pieces[i];
        switch (pc->kind) {
        case PRINT_TEXT:
            print_append(&buf, &len, &cap, pc->text);
            break;
        case PRINT_LOCAL:
            snprintf(num, sizeof num, "%" PRId64, t->locals ? t->locals->v[pc->slot] : 0);
            print_append(&buf, &len, &cap, num);
            break;
        case PRINT_BUILTIN:
            if (strcmp(pc->text, "thread") == 0) {
                print_append(&buf, &len, &cap, engine_name_of(e, t));
            } else if (strcmp(pc->text, "process") == 0) {
                print_append(&buf, &len, &cap, e->procs[t->process].name);
            } else {
                snprintf(num, sizeof num, "%.3fms", (double)e->now / 1e6);
                print_append(&buf, &len, &cap, num);
            }
            break;
        case PRINT_VAR: {
            struct var_ref ref = {.name = pc->slot, .indexed = false};
            int64_t *a = engine_var_addr(e, t, op, &ref);
            if (!a) {
                free(buf);
                return STEP_ERROR;
            }
            engine_format_var(e, t, pc->slot, a, num, sizeof num, &buf, &len, &cap);
            break;
        }
        }
    }
    e->prints = xgrow(e->prints, &e->prints_cap, e->nprints + 1, sizeof *e->prints);
    e->prints[e->nprints].time = e->now;
    e->prints[e->nprints].task = t->se.id;
    e->prints[e->nprints].text = buf;
    e->nprints++;
    engine_instant(e, t, INSTANT_PRINT, 0, buf);
    return STEP_NEXT;
}

/* Thread.start(), of a declared thread or a new one: the new thread arrives
 * after the profile's start latency, and the starting thread pays for
 * making it */
static enum step start_task(struct engine *e, struct task *t, struct task *n)
{
    engine_instant(e, t, INSTANT_START, n->se.id, NULL);
    /* its first run begins with its start-up's CPU time */
    n->op_left = e->sc->profile.thread_boot_ns;
    engine_task_arrive_late(e, n, e->sc->profile.thread_start_latency_ns);
    if (e->sc->profile.thread_start_wait) {
        t->start_wait = n->se.id;
        n->start_waiter = t->se.id;
    }
    int64_t cost = e->sc->profile.thread_start_ns > 0 ? e->sc->profile.thread_start_ns + engine_idle_kick(e) : 0;
    if (cost > 0) {
        t->op_left = cost;
        return STEP_TIMED;
    }
    return t->start_wait != NONE && start_waits(e, t) ? STEP_OFF_CPU : STEP_NEXT;
}

static enum step op_start(struct engine *e, struct task *t, const struct op *op)
{
    struct task *n = engine_task_at(e, op->u.start.thread);
    if (n->state != TASK_NEW)
        return engine_fail(e, STATUS_RUNTIME, t, op,
                           "thread '%s' was already started (a thread can be started only once)",
                           engine_name_of(e, n));
    if (e->procs[n->process].ended)
        return STEP_NEXT;
    return start_task(e, t, n);
}

static enum step op_thread(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_thread *o = &op->u.thread;
    if (e->ntasks >= SCENARIO_MAX_THREADS)
        return engine_fail(e, STATUS_RUNTIME, t, op, "the scenario creates more than %d threads",
                           SCENARIO_MAX_THREADS);
    const struct function *fn = &e->sc->functions[o->fn];
    struct locals *locals = fn->nlocals ? call_locals(t, fn, o->nargs, o->args, NULL) : NULL;
    struct task *n = engine_new_task(e, t->process, NONE);
    size_t idx = n->se.id - e->sc->nthreads;
    e->created_names = xgrow(e->created_names, &e->created_names_cap, idx + 1, sizeof *e->created_names);
    e->created_names[idx] = o->name;
    n->daemon = o->daemon;
    n->locals = locals;
    n->se.total_compute = scenario_function_compute(e->sc, o->fn, locals ? locals->v : NULL,
                                                    locals ? fn->nparams : 0);
    engine_push_frame(e, n, fn->body, locals ? FRAME_CALL : FRAME_BLOCK, op);
    struct proc *p = &e->procs[t->process];
    n->proc_next = p->created_head;
    p->created_head = n->se.id;
    if (e->opts.record_trace)
        trace_add_task(e->trace, o->name, t->process);
    return start_task(e, t, n);
}

/* The thread a join names: a declared one, or the oldest created thread of
 * that name in the joiner's process not joined yet (else the newest). */
static struct task *join_target(struct engine *e, const struct task *t, const struct op_join *j)
{
    if (j->thread >= 0)
        return engine_task_at(e, (uint32_t)j->thread);
    struct task *oldest_unjoined = NULL, *newest = NULL;
    for (uint32_t id = e->procs[t->process].created_head; id != NONE; id = engine_task_at(e, id)->proc_next) {
        struct task *c = engine_task_at(e, id);
        if (strcmp(e->created_names[id - e->sc->nthreads], j->name) != 0)
            continue;
        if (!newest)
            newest = c;
        if (!c->joined)
            oldest_unjoined = c;
    }
    return oldest_unjoined ? oldest_unjoined : newest;
}

static enum step op_join(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_join *j = &op->u.join;
    struct task *target = join_target(e, t, j);
    if (!target)
        return engine_fail(e, STATUS_RUNTIME, t, op, "join: no thread named '%s' has been created in this process",
                           j->name);
    if (target == t)
        return engine_fail(e, STATUS_RUNTIME, t, op, "a thread cannot join itself (it would wait forever)");
    if (target->state == TASK_NEW)
        return engine_fail(e, STATUS_RUNTIME, t, op,
                           "join: thread '%s' was never started (start it before joining it)",
                           engine_name_of(e, target));
    if (target->state == TASK_DONE) {
        target->joined = 1;
        engine_instant(e, t, INSTANT_JOIN, target->se.id, NULL);
        return STEP_NEXT;
    }
    engine_task_block(e, t, REASON_JOIN);
    t->waiting_for = target->se.id;
    t->wait_next = target->joiners;
    target->joiners = t->se.id;
    if (j->timeout >= 0)
        t->timer = engine_push(e, e->now + j->timeout, CLASS_READY, t->se.id, EV_JOIN_TIMEOUT, t->se.id);
    return STEP_OFF_CPU;
}

bool engine_in_handler(const struct task *t)
{
    for (uint16_t i = 0; i < t->nframes; i++)
        if (frame_kind(&t->frames[i]) == FRAME_HANDLER)
            return true;
    return false;
}

const char *engine_keep_string(struct engine *e, const char *s)
{
    e->kept = xgrow(e->kept, &e->kept_cap, e->nkept + 1, sizeof *e->kept);
    e->kept[e->nkept] = xstrdup(s);
    return e->kept[e->nkept++];
}

/* t has run its last op: it finishes now, and its CPU stays busy for the
 * profile's thread_exit_ns, or process_exit_ns when its process ends with
 * it (no thread is dispatched there meanwhile, so a ready thread the policy
 * lets preempt may take another CPU instead; not drawn, as in the host
 * runner's trace, whose threads stop recording at their exit). Not when no
 * thread is left and none is due: nothing could wait for that CPU. */
enum step engine_exit_thread(struct engine *e, struct task *t)
{
    uint32_t c = (uint32_t)t->cpu;
    cpu_release(e, c, SCHED_STOP_EXITED);
    task_finish(e, t);
    /* a running thread's process was alive: ended now, it ended with it */
    int64_t exit_ns = e->sc->profile.thread_exit_ns;
    if (e->procs[t->process].ended && e->sc->profile.process_exit_ns > 0)
        exit_ns = e->sc->profile.process_exit_ns;
    struct cpu *cpu = &e->cpus[c];
    if (exit_ns > 0 && (e->live_tasks > 0 || e->pending_task_events > 0) && cpu->task == NONE) {
        cpu->idle_since = e->now + exit_ns;
        cpu_arm(e, c, e->now + exit_ns);
    }
    return STEP_OFF_CPU;
}

/* exit (Python's sys.exit in a thread raises SystemExit, which unwinds):
 * the with blocks the thread is in release what they hold. */
static enum step op_exit(struct engine *e, struct task *t, const struct op *op)
{
    (void)op;
    while (t->nframes > 0) {
        struct frame *f = &t->frames[t->nframes - 1];
        enum frame_kind kind = frame_kind(f);
        if (kind == FRAME_CALL || (kind == FRAME_HANDLER && (f->remaining & HANDLER_HAS_LOCALS)))
            locals_pop(t);
        if (kind == FRAME_HANDLER)
            e->procs[t->process].resume = RESUME_NONE;
        t->nframes--;
        if (kind == FRAME_WITH && engine_with_release(e, t, f->remaining) == STEP_ERROR)
            return STEP_ERROR;
    }
    t->op_left = 0;
    return engine_exit_thread(e, t);
}

static const op_exec_fn op_exec[OP_KIND_COUNT] = {
    [OP_COMPUTE] = op_compute,
    [OP_SLEEP] = op_sleep,
    [OP_IO] = op_sleep,
    [OP_REPEAT] = op_repeat,
    [OP_CALL] = op_call,
    [OP_PRINT] = op_print,
    [OP_START] = op_start,
    [OP_THREAD] = op_thread,
    [OP_JOIN] = op_join,
    [OP_EXIT] = op_exit,
    [OP_ACQUIRE] = op_acquire,
    [OP_RELEASE] = op_release,
    [OP_WITH] = op_with,
    [OP_WAIT] = op_wait,
    [OP_WAIT_FOR] = op_wait_for,
    [OP_EVENT_SET] = op_event_set,
    [OP_EVENT_CLEAR] = op_event_clear,
    [OP_NOTIFY] = op_notify,
    [OP_NOTIFY_ALL] = op_notify,
    [OP_VAR_SET] = op_var_set,
    [OP_ADD] = op_add,
    [OP_LOAD] = op_load,
    [OP_IF] = op_if,
    [OP_WHILE] = op_while,
    [OP_PUT] = op_put,
    [OP_GET] = op_get,
    [OP_TASK_DONE] = op_task_done,
    [OP_QUEUE_JOIN] = op_queue_join,
    [OP_SEND] = op_send,
    [OP_RECV] = op_recv,
    [OP_CLOSE] = op_close,
    [OP_PROCESS] = op_process,
    [OP_PROCESS_JOIN] = op_process_join,
    [OP_TERMINATE] = op_terminate,
    [OP_LET] = op_let,
    [OP_RETURN] = op_return,
    [OP_MAP] = op_map,
    [OP_POOL_STEP] = op_pool_step,
    [OP_KILL] = op_kill,
    [OP_ALARM] = op_alarm,
};

void engine_redo(struct task *t)
{
    t->frames[t->nframes - 1].pc--;
    t->redo = 1;
}

const struct op *engine_current_op(const struct engine *e, const struct task *t)
{
    if (t->nframes == 0)
        return NULL;
    const struct frame *f = &t->frames[t->nframes - 1];
    if (t->redo)
        return &e->sc->ops[f->pc];
    return f->pc > f->first ? &e->sc->ops[f->pc - 1] : NULL;
}

/* Interprets t's ops from its pc while it is on a CPU at e->now. */
static enum step task_run_ops(struct engine *e, struct task *t)
{
    const struct op *ops = e->sc->ops;
    uint64_t limit = e->opts.max_events;
    for (;;) {
        if (t->nframes == 0)
            return op_exit(e, t, NULL);
        struct frame *f = &t->frames[t->nframes - 1];
        if (f->pc == frame_end(f)) {
            enum frame_kind kind = frame_kind(f);
            if (kind == FRAME_REPEAT && f->remaining > 0) {
                f->remaining--;
                f->pc = f->first;
            } else if (kind == FRAME_WHILE) {
                bool again;
                if (!engine_while_again(e, t, f->remaining, &again))
                    return STEP_ERROR;
                if (!again) {
                    t->nframes--;
                    continue;
                }
                f->pc = f->first;
            } else {
                enum step st = frame_pop(e, t);
                if (st != STEP_NEXT)
                    return st;
                continue;
            }
        }
        t->redo = 0;
        if (e->procs[t->process].pending && engine_signal_take(e, t))
            continue;
        if (++e->ops_executed > limit) {
            engine_fail(e, STATUS_RUNTIME, t, NULL,
                        "stopped after %" PRIu64 " ops: the scenario runs too long (a loop without end?)", limit);
            return STEP_ERROR;
        }
        const struct op *op = &ops[f->pc++];
        enum step s = op_exec[op->kind](e, t, op);
        if (s != STEP_NEXT)
            return s;
    }
}

/* ---- events and scheduling ---- */

/* The policy's timer (mlfq's boost): account every task on a CPU, let the
 * policy act, then re-arm the slices it may have changed. */
static void engine_policy_timer(struct engine *e)
{
    e->policy_timer = NONE;
    uint32_t n = 0;
    for (uint32_t c = 0; c < e->sc->machine.cpus; c++) {
        struct cpu *cpu = &e->cpus[c];
        if (cpu->task == NONE)
            continue;
        struct task *t = engine_task_at(e, cpu->task);
        int64_t delta = 0;
        if (!cpu->switching) {
            cpu_progress(e, cpu, t);
            delta = e->now - cpu->run_from;
            t->se.cpu_done += delta;
            e->stats.busy += delta;
            cpu->run_from = e->now;
        }
        if (e->pol->account)
            e->pol->account(e->rq, &t->se, delta, SCHED_STOP_NONE, e->now);
        e->running_scratch[n] = c;
        e->running_entities[n] = &t->se;
        n++;
    }
    e->pol->timer(e->rq, e->now, e->running_entities, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = e->running_scratch[i];
        struct cpu *cpu = &e->cpus[c];
        /* an earlier CPU's thread may have ended its process, and with it
         * a daemon thread that was on this one */
        if (cpu->task == NONE)
            continue;
        cpu->slice = engine_slice(e, engine_task_at(e, cpu->task));
        if (cpu->switching)
            continue;
        cpu->slice_end = slice_end(e->now, cpu->slice);
        cpu_continue(e, c);
    }
}

static void engine_handle(struct engine *e, const struct event *ev)
{
    e->stats.events++;
    if (ev->kind != EV_POLICY)
        e->pending_task_events--;
    switch ((enum ev_kind)ev->kind) {
    case EV_ARRIVE: {
        struct task *t = engine_task_at(e, ev->target);
        if (t->state == TASK_NEW && !e->procs[t->process].ended)
            engine_task_arrive(e, t);
        break;
    }
    case EV_WAKE: {
        struct task *t = engine_task_at(e, ev->target);
        t->timer = NONE;
        engine_task_ready(e, t, ENQUEUE_WAKEUP);
        t->waiting_for = NONE;
        break;
    }
    case EV_JOIN_TIMEOUT: {
        struct task *t = engine_task_at(e, ev->target);
        t->timer = NONE;
        if (t->waiting_for != NONE && t->reason == REASON_PROCESS)
            engine_waitq_remove(e, &e->procs[t->waiting_for].joiners, t);
        else if (t->waiting_for != NONE)
            joiners_remove(e, engine_task_at(e, t->waiting_for), t);
        t->waiting_for = NONE;
        engine_task_ready(e, t, ENQUEUE_WAKEUP);
        break;
    }
    case EV_CPU:
        cpu_event(e, ev->target);
        break;
    case EV_OBJ_TIMEOUT:
        engine_object_timeout(e, engine_task_at(e, ev->target));
        break;
    case EV_DELIVER:
        engine_ipc_deliver(e, ev->target);
        break;
    case EV_SIGNAL:
        engine_signal_arrive(e, ev->target >> 5, (int)(ev->target & 31));
        break;
    case EV_GIL_TIMEOUT:
        engine_gil_timeout(e, engine_task_at(e, ev->target));
        break;
    case EV_REAPED:
        engine_process_reaped(e, ev->target);
        break;
    case EV_POLICY:
        engine_policy_timer(e);
        break;
    }
}

/* Preempts the task on CPU c in favour of the policy's next pick. */
static void cpu_preempt(struct engine *e, uint32_t c)
{
    struct task *t = engine_task_at(e, e->cpus[c].task);
    struct sched_entity *next = e->pol->peek(e->rq);
    cpu_release(e, c, SCHED_STOP_PREEMPTED);
    e->stats.preemptions++;
    engine_instant(e, t, INSTANT_PREEMPT, next ? (int64_t)next->id : -1, NULL);
    engine_task_ready(e, t, ENQUEUE_PREEMPTED);
}

/* Gives free CPUs work and lets better ready tasks preempt running ones,
 * until nothing changes at this instant. */
static void engine_schedule(struct engine *e)
{
    uint32_t ncpus = e->sc->machine.cpus;
    bool changed = true;
    while (changed && e->failed == STATUS_OK) {
        changed = false;
        for (uint32_t c = 0; c < ncpus && e->failed == STATUS_OK; c++) {
            /* taken, or still busy with a thread's exit (its event pending) */
            if (e->cpus[c].task != NONE || e->cpus[c].event != NONE)
                continue;
            struct sched_entity *se = e->pol->pick_next(e->rq, (int)c, e->now);
            if (!se)
                break;
            cpu_dispatch(e, c, task_of(se));
            changed = true;
        }
        if (!e->pol->preempt_check || e->failed != STATUS_OK)
            continue;
        struct sched_entity *cand = e->pol->peek(e->rq);
        if (!cand)
            continue;
        int32_t victim = -1;
        for (uint32_t c = 0; c < ncpus; c++) {
            struct cpu *cpu = &e->cpus[c];
            if (cpu->task == NONE || cpu->switching)
                continue;
            struct task *cur = engine_task_at(e, cpu->task);
            int64_t ran = e->now - cpu->run_from;
            if (!e->pol->preempt_check(e->rq, &cur->se, ran, cand))
                continue;
            if (victim < 0 ||
                (e->pol->task_cmp &&
                 e->pol->task_cmp(e->rq, &cur->se, &engine_task_at(e, e->cpus[victim].task)->se) > 0))
                victim = (int32_t)c;
        }
        if (victim >= 0) {
            cpu_preempt(e, (uint32_t)victim);
            changed = true;
        }
    }
}

static void engine_arm_policy_timer(struct engine *e)
{
    if (!e->pol->next_timer || !e->pol->timer)
        return;
    int64_t when = e->pol->next_timer(e->rq, e->now);
    if (when == e->policy_timer_time && e->policy_timer != NONE)
        return;
    if (e->policy_timer != NONE)
        engine_cancel(e, e->policy_timer, false);
    e->policy_timer = NONE;
    e->policy_timer_time = when;
    if (when != SIM_TIME_NEVER)
        e->policy_timer = engine_push(e, when > e->now ? when : e->now, CLASS_POLICY, 0, EV_POLICY, 0);
}

/* ---- deadlock and stuck threads ---- */

static void report_append(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report_append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* The thread a blocked task waits for, when one thread alone can free it (a
 * joined thread, a lock's holder), else NONE; `what` describes the wait. */
static uint32_t wait_edge(const struct engine *e, const struct task *t, char *what, size_t cap)
{
    if (t->reason == REASON_JOIN && t->waiting_for != NONE) {
        snprintf(what, cap, "to join '%s'", engine_name_of(e, engine_task_at(e, t->waiting_for)));
        return t->waiting_for;
    }
    if (t->reason == REASON_PROCESS && t->waiting_for != NONE) {
        snprintf(what, cap, "for process '%s' to end", e->procs[t->waiting_for].name);
        return NONE;
    }
    if (t->waiting_for != NONE && t->reason != REASON_WAKEUP) {
        char obj[256];
        uint32_t owner = engine_object_wait_edge(e, t, obj, sizeof obj);
        snprintf(what, cap, "for %s", obj);
        return owner;
    }
    snprintf(what, cap, "on %s", trace_reason_name(t->reason));
    return NONE;
}

/* Nothing can happen any more but threads are blocked: report a cycle of
 * the wait-for graph (threads and what they wait for and hold) as a
 * deadlock, or else the threads that wait forever and for what. */
static void engine_report_stuck(struct engine *e)
{
    char msg[ERROR_MSG_MAX] = "";
    char what[320];
    for (uint32_t id = 0; id < e->ntasks && !msg[0]; id++) {
        struct task *t = engine_task_at(e, id);
        if (t->state != TRACE_BLOCKED)
            continue;
        /* Each blocked thread has at most one edge: walk it looking for a cycle through t. */
        uint32_t cur = wait_edge(e, t, what, sizeof what);
        uint32_t steps = 0;
        while (cur != NONE && cur != id && steps++ < e->ntasks) {
            struct task *c = engine_task_at(e, cur);
            cur = c->state == TRACE_BLOCKED ? wait_edge(e, c, what, sizeof what) : NONE;
        }
        if (cur != id)
            continue;
        report_append(msg, sizeof msg, "deadlock: a cycle of threads waiting for each other: ");
        uint32_t x = id;
        do {
            struct task *xt = engine_task_at(e, x);
            x = wait_edge(e, xt, what, sizeof what);
            report_append(msg, sizeof msg, "'%s' (process '%s') waits %s; ", engine_name_of(e, xt),
                          e->procs[xt->process].name, what);
        } while (x != id);
        msg[strlen(msg) - 2] = '\0';
    }
    if (!msg[0]) {
        report_append(msg, sizeof msg, "stuck: no thread can ever run again, but these wait forever:");
        for (uint32_t id = 0; id < e->ntasks; id++) {
            struct task *t = engine_task_at(e, id);
            if (t->state != TRACE_BLOCKED)
                continue;
            wait_edge(e, t, what, sizeof what);
            report_append(msg, sizeof msg, " '%s' (process '%s') waits %s;", engine_name_of(e, t),
                          e->procs[t->process].name, what);
        }
        msg[strlen(msg) - 1] = '\0';
    }
    e->failed = STATUS_DEADLOCK;
    error_set(e->err, STATUS_DEADLOCK, NULL, "at %.3f ms, %s", (double)e->now / 1e6, msg);
    if (e->opts.record_trace) {
        struct trace_instant ev = {.time = e->now, .task = NONE, .kind = INSTANT_DEADLOCK, .obj = NONE};
        trace_instant_add(e->trace, &ev, msg);
    }
}

static bool engine_cpus_busy(const struct engine *e)
{
    for (uint32_t c = 0; c < e->sc->machine.cpus; c++)
        if (e->cpus[c].task != NONE)
            return true;
    return false;
}

/* ---- public API ---- */

struct engine *engine_create(const struct scenario *sc, const struct sched_policy *policy,
                             const struct engine_options *opts, struct error *err)
{
    if (policy->validate && policy->validate(&sc->sched, err) != STATUS_OK)
        return NULL;
    struct engine *e = xcalloc(1, sizeof *e);
    e->sc = sc;
    e->pol = policy;
    if (opts)
        e->opts = *opts;
    if (!e->opts.max_events)
        e->opts.max_events = ENGINE_DEFAULT_MAX_EVENTS;
    event_queue_init(&e->eq);
    rng_seed(&e->rng, sc->seed);
    e->policy_timer = NONE;
    e->policy_timer_time = SIM_TIME_NEVER;
    struct sched_env env = {
        .config = &sc->sched,
        .cpus = sc->machine.cpus,
        .max_tasks = sc->nthreads,
        .entity = engine_entity_cb,
        .engine = e,
    };
    e->rq = policy->create(&env, err);
    if (!e->rq) {
        event_queue_deinit(&e->eq);
        free(e);
        return NULL;
    }
    e->cpus = xcalloc(sc->machine.cpus, sizeof *e->cpus);
    for (uint32_t c = 0; c < sc->machine.cpus; c++) {
        e->cpus[c].task = NONE;
        e->cpus[c].last_task = NONE;
        e->cpus[c].event = NONE;
    }
    e->running_scratch = xcalloc(sc->machine.cpus, sizeof *e->running_scratch);
    e->running_entities = xcalloc(sc->machine.cpus, sizeof *e->running_entities);
    e->procs_cap = sc->nprocesses ? sc->nprocesses : 1;
    e->procs = xcalloc(e->procs_cap, sizeof *e->procs);
    e->nprocs = sc->nprocesses;
    e->trace = trace_create(sc->name, sc->description, "sim", policy->name,
                            sc->machine.cpus, sc->seed);
    for (uint32_t p = 0; p < sc->nprocesses; p++) {
        struct proc *pr = &e->procs[p];
        pr->name = sc->processes[p].name;
        pr->decl = p;
        pr->parent = NONE;
        pr->created_head = NONE;
        pr->main_task = sc->processes[p].first_thread;
        pr->alarm = NONE;
        pr->joiners.head = pr->joiners.tail = NONE;
        engine_gil_init(e, p, &sc->processes[p].gil);
        trace_add_process(e->trace, sc->processes[p].name);
    }
    for (uint32_t i = 0; i < sc->nthreads; i++) {
        engine_new_task(e, sc->threads[i].process, i);
        trace_add_task(e->trace, sc->threads[i].name, sc->threads[i].process);
    }
    engine_objects_init(e);
    engine_memory_init(e);
    return e;
}

void engine_destroy(struct engine *eng)
{
    if (!eng)
        return;
    for (uint32_t id = 0; id < eng->ntasks; id++)
        task_free_frames(engine_task_at(eng, id));
    for (size_t i = 0; i < eng->nchunks; i++)
        free(eng->chunks[i]);
    free(eng->chunks);
    free(eng->created_names);
    if (eng->rq)
        eng->pol->destroy(eng->rq);
    event_queue_deinit(&eng->eq);
    free(eng->cpus);
    free(eng->running_scratch);
    free(eng->running_entities);
    engine_pools_deinit(eng);
    engine_objects_deinit(eng);
    engine_memory_deinit(eng);
    free(eng->procs);
    for (size_t i = 0; i < eng->nkept; i++)
        free(eng->kept[i]);
    free(eng->kept);
    trace_destroy(eng->trace);
    for (size_t i = 0; i < eng->nprints; i++)
        free(eng->prints[i].text);
    free(eng->prints);
    free(eng);
}

enum status engine_run(struct engine *e, struct error *err)
{
    if (e->ran)
        return error_set(err, STATUS_INTERNAL, NULL, "engine_run called twice");
    e->ran = true;
    e->err = err;
    e->failed = STATUS_OK;
    const struct scenario *sc = e->sc;
    /* a declared process's threads are ready process_start_ns after its
     * arrival: the time a real runner takes to fork it and start them */
    for (uint32_t i = 0; i < sc->nthreads; i++) {
        const struct thread_decl *td = &sc->threads[i];
        if (td->autostart)
            engine_push(e, sc->processes[td->process].arrival + sc->profile.process_start_ns, CLASS_READY, i,
                        EV_ARRIVE, i);
    }
    uint64_t max_events = e->opts.max_events;
    struct event ev;
    engine_arm_policy_timer(e);
    for (;;) {
        if (e->live_tasks == 0 && e->pending_task_events == 0)
            break;
        if (e->pending_task_events == 0 && !engine_cpus_busy(e)) {
            engine_report_stuck(e);
            break;
        }
        e->now = event_queue_next_time(&e->eq);
        if (e->opts.max_time > 0 && e->now > e->opts.max_time) {
            engine_fail(e, STATUS_RUNTIME, NULL, NULL,
                        "stopped at the simulated time limit of %.3f s", (double)e->opts.max_time / 1e9);
            break;
        }
        while (event_queue_next_time(&e->eq) == e->now && e->failed == STATUS_OK) {
            event_queue_pop(&e->eq, &ev);
            engine_handle(e, &ev);
        }
        if (e->failed == STATUS_OK)
            engine_schedule(e);
        if (e->failed != STATUS_OK)
            break;
        if (e->stats.events > max_events) {
            engine_fail(e, STATUS_RUNTIME, NULL, NULL,
                        "stopped after %" PRIu64 " events: the scenario runs too long", max_events);
            break;
        }
        engine_arm_policy_timer(e);
    }
    /* Close the open segments so the trace and metrics cover the whole run. */
    for (uint32_t id = 0; id < e->ntasks; id++) {
        struct task *t = engine_task_at(e, id);
        if (t->state < TRACE_STATE_COUNT)
            engine_set_state(e, t, t->state, t->reason, t->cpu);
    }
    /* a run cut short (deadlock, error) lasts until it stopped */
    if (e->failed != STATUS_OK && e->now > e->stats.makespan && e->now != INT64_MAX)
        e->stats.makespan = e->now;
    e->trace->makespan = e->stats.makespan;
    e->err = NULL;
    return e->failed;
}

const struct trace *engine_trace(const struct engine *eng)
{
    return eng->trace;
}

const struct engine_stats *engine_stats(const struct engine *eng)
{
    return &eng->stats;
}

uint32_t engine_task_count(const struct engine *eng)
{
    return eng->ntasks;
}

const struct task_metrics *engine_task_metrics(const struct engine *eng, uint32_t task)
{
    return &engine_task_at(eng, task)->m;
}

const char *engine_task_name(const struct engine *eng, uint32_t task)
{
    return engine_name_of(eng, engine_task_at(eng, task));
}

const char *engine_task_process(const struct engine *eng, uint32_t task)
{
    return eng->procs[engine_task_at(eng, task)->process].name;
}

uint32_t engine_print_count(const struct engine *eng)
{
    return (uint32_t)eng->nprints;
}

const struct engine_print *engine_print_at(const struct engine *eng, uint32_t i)
{
    return &eng->prints[i];
}

bool engine_var_value(const struct engine *eng, uint32_t var, uint32_t index, int64_t *out)
{
    const struct scenario *sc = eng->sc;
    if (var >= sc->nvars)
        return false;
    const struct var_decl *v = &sc->vars[var];
    if (index >= (v->length ? v->length : 1))
        return false;
    const int64_t *base = v->process < 0 ? eng->shared_mem : eng->procs[v->process].mem;
    *out = base[eng->var_off[var] + index];
    return true;
}

uint32_t engine_process_count(const struct engine *eng)
{
    return eng->nprocs;
}

const char *engine_process_name(const struct engine *eng, uint32_t p)
{
    return eng->procs[p].name;
}

uint32_t engine_process_template(const struct engine *eng, uint32_t p)
{
    return eng->procs[p].decl;
}

bool engine_process_var(const struct engine *eng, uint32_t p, uint32_t var, uint32_t index, int64_t *out)
{
    const struct scenario *sc = eng->sc;
    if (p >= eng->nprocs || var >= sc->nvars)
        return false;
    const struct var_decl *v = &sc->vars[var];
    if (v->process >= 0 && (uint32_t)v->process != eng->procs[p].decl)
        return false;
    if (index >= (v->length ? v->length : 1))
        return false;
    const int64_t *base = v->process < 0 ? eng->shared_mem : eng->procs[p].mem;
    *out = base[eng->var_off[var] + index];
    return true;
}
