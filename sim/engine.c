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

#include "event_queue.h"
#include "rng.h"
#include "xalloc.h"

#define NONE UINT32_MAX
#define ENGINE_DEFAULT_MAX_EVENTS 200000000ULL
#define ENGINE_MAX_PRINTS 1000000u
#define ENGINE_MAX_TRACE_RECORDS 50000000u
#define TASK_CHUNK_BITS 12
#define TASK_CHUNK (1u << TASK_CHUNK_BITS)

enum ev_kind {
    EV_ARRIVE = 0,   /* target task becomes ready for the first time */
    EV_WAKE,         /* target task's sleep, I/O or wake-up latency ended */
    EV_JOIN_TIMEOUT, /* target task's join timed out */
    EV_CPU,          /* target CPU: switch done, op done or slice end */
    EV_POLICY        /* the policy's timer */
};

/* Classes order simultaneous events (ordering rules 1 and 2). */
enum ev_class { CLASS_CPU = 0, CLASS_POLICY = 1, CLASS_READY = 2 };

static inline uint64_t ev_key(enum ev_class cls, uint32_t sub)
{
    return ((uint64_t)cls << 32) | sub;
}

/* Task states: the trace's states while alive, plus NEW and DONE. */
enum { TASK_NEW = TRACE_STATE_COUNT, TASK_DONE };

enum frame_kind { FRAME_BLOCK = 0, FRAME_REPEAT = 1, FRAME_CALL = 2 };
#define FRAME_KIND_SHIFT 30
#define FRAME_END_MASK ((1u << FRAME_KIND_SHIFT) - 1)

/* One level of a task's program counter: the block [first, end) being run.
 * `end` carries the frame kind in its top bits. Repeat frames count the
 * iterations left after the current one. A call frame's caller locals are
 * found through the callee's locals header (struct locals). */
struct frame {
    uint32_t pc;
    uint32_t first;
    uint32_t end;
    uint32_t remaining;
};

/* Thread-local variables of one code unit, chained to the caller's. */
struct locals {
    struct locals *parent;
    int64_t v[];
};

#define TASK_INLINE_FRAMES 2

/* A simulated thread. Kept small: 10^6 of them must fit in a few hundred MB. */
struct task {
    struct sched_entity se;
    struct task_metrics m;
    int64_t state_since;   /* when the current state began */
    int64_t op_left;       /* CPU time left of the compute op in progress, or 0 */
    struct frame *frames;  /* inline_frames or a heap array */
    struct locals *locals; /* locals of the current code unit, or NULL */
    uint32_t process;
    uint32_t decl;         /* declared thread index, or NONE for created threads */
    uint32_t timer;        /* pending wake-up/timeout event, or NONE */
    uint32_t joiners;      /* first task blocked joining this one, or NONE */
    uint32_t wait_next;    /* next task in the joiners list it is in */
    uint32_t waiting_for;  /* task it joins while blocked on join, or NONE */
    uint32_t proc_next;    /* next created task of the same process */
    int32_t cpu;           /* CPU it is on (RUNNING or SWITCH), else -1 */
    uint16_t nframes;
    uint16_t frames_cap;
    uint8_t state;
    uint8_t reason;
    uint8_t daemon;
    uint8_t joined;        /* some join has returned for it */
    struct frame inline_frames[TASK_INLINE_FRAMES];
};

struct cpu {
    uint32_t task;         /* task on it (switching or running), or NONE */
    uint32_t last_task;    /* the task that ran last, or NONE */
    uint32_t event;        /* pending EV_CPU, or NONE */
    bool switching;        /* paying the switch cost before `task` runs */
    int64_t run_from;      /* start of the stretch not yet accounted to the policy */
    int64_t progress_from; /* when op_left was last brought up to date */
    int64_t slice;         /* slice granted at dispatch */
    int64_t slice_end;     /* absolute end of the slice, or SIM_TIME_NEVER */
};

struct proc {
    uint32_t live_nondaemon; /* started, unfinished non-daemon threads */
    uint32_t unfinished;     /* threads not DONE (started or not) */
    uint32_t created_head;   /* created tasks, newest first */
    bool ended;
};

struct engine {
    const struct scenario *sc;
    const struct sched_policy *pol;
    void *rq;
    struct engine_options opts;
    struct event_queue eq;
    struct rng rng;

    struct task **chunks;  /* tasks in fixed chunks: entities never move */
    size_t nchunks;
    size_t chunks_cap;
    uint32_t ntasks;
    char **created_names;  /* names of created tasks, by id - sc->nthreads */
    size_t created_names_cap;

    struct cpu *cpus;
    struct proc *procs;
    struct trace *trace;
    struct engine_stats stats;
    struct engine_print *prints;
    size_t nprints;
    size_t prints_cap;

    int64_t now;
    uint64_t enqueue_seq;
    uint64_t ops_executed;
    uint32_t live_tasks;   /* tasks not DONE that have started */
    uint32_t pending_task_events; /* queued events other than the policy timer */
    uint32_t policy_timer;
    int64_t policy_timer_time;
    uint32_t *running_scratch;          /* CPUs with a task, at a policy timer */
    struct sched_entity **running_entities; /* their tasks */
    bool ran;

    enum status failed;    /* first error raised while handling an instant */
    struct error *err;
};

/* Results of interpreting ops. */
enum step {
    STEP_NEXT = 0, /* go on with the next op */
    STEP_TIMED,    /* a compute op started: op_left is set */
    STEP_OFF_CPU,  /* the task blocked or finished; its CPU is free */
    STEP_ERROR     /* e->failed is set */
};

static inline struct task *task_at(const struct engine *e, uint32_t id)
{
    return &e->chunks[id >> TASK_CHUNK_BITS][id & (TASK_CHUNK - 1)];
}

static struct sched_entity *engine_entity_cb(void *engine, uint32_t id)
{
    struct engine *e = engine;
    return id < e->ntasks ? &task_at(e, id)->se : NULL;
}

static inline struct task *task_of(struct sched_entity *se)
{
    return (struct task *)((char *)se - offsetof(struct task, se));
}

static const char *task_name(const struct engine *e, const struct task *t)
{
    if (t->decl != NONE)
        return e->sc->threads[t->decl].name;
    return e->created_names[t->se.id - e->sc->nthreads];
}

/* Raises a run-time error about task t at op (may be NULL). */
__attribute__((format(printf, 5, 6)))
static enum step engine_fail(struct engine *e, enum status status, const struct task *t,
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
                  (double)e->now / 1e6, task_name(e, t), e->sc->processes[t->process].name, msg);
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

static void engine_instant(struct engine *e, const struct task *t, enum trace_instant_kind kind,
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
static void task_set_state(struct engine *e, struct task *t, uint8_t state, uint8_t reason, int32_t cpu)
{
    int64_t len = e->now - t->state_since;
    switch (t->state) {
    case TRACE_RUNNING: t->m.cpu += len; break;
    case TRACE_READY:
    case TRACE_SWITCH: t->m.wait += len; break;
    case TRACE_BLOCKED:
        t->m.blocked += len;
        if (t->reason == REASON_GIL)
            t->m.gil_wait += len;
        break;
    default: break;
    }
    if (e->opts.record_trace && t->state < TRACE_STATE_COUNT && len > 0) {
        struct trace_segment seg = {
            .start = t->state_since, .end = e->now, .task = t->se.id, .cpu = t->cpu,
            .state = t->state, .reason = t->reason, .obj = NONE,
        };
        trace_segment_add(e->trace, &seg);
        engine_trace_record_limit(e);
    }
    t->state = state;
    t->reason = reason;
    t->cpu = cpu;
    t->state_since = e->now;
}

static uint32_t engine_push(struct engine *e, int64_t time, enum ev_class cls, uint32_t sub,
                            enum ev_kind kind, uint32_t target)
{
    if (kind != EV_POLICY)
        e->pending_task_events++;
    return event_queue_push(&e->eq, time, ev_key(cls, sub), kind, target, 0);
}

static void engine_cancel(struct engine *e, uint32_t handle, bool task_event)
{
    event_queue_cancel(&e->eq, handle);
    if (task_event)
        e->pending_task_events--;
}

static void task_make_ready(struct engine *e, struct task *t, enum enqueue_why why)
{
    task_set_state(e, t, TRACE_READY, REASON_NONE, -1);
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

static bool task_push_frame(struct engine *e, struct task *t, struct op_block b,
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

static int64_t operand_value(const struct task *t, const struct operand *o)
{
    if (o->kind == OPERAND_LOCAL)
        return t->locals ? t->locals->v[o->slot] : 0;
    return o->value;
}

/* ---- task life cycle ---- */

static struct task *engine_new_task(struct engine *e, uint32_t process, uint32_t decl)
{
    uint32_t id = e->ntasks;
    if (id >> TASK_CHUNK_BITS >= e->nchunks) {
        e->chunks = xgrow(e->chunks, &e->chunks_cap, e->nchunks + 1, sizeof *e->chunks);
        e->chunks[e->nchunks++] = xmalloc(TASK_CHUNK * sizeof(struct task));
    }
    e->ntasks++;
    struct task *t = task_at(e, id);
    memset(t, 0, sizeof *t);
    const struct process_decl *pd = &e->sc->processes[process];
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
        task_push_frame(e, t, td->program, FRAME_BLOCK, NULL);
    }
    return t;
}

/* A NEW task becomes ready: arrival, or a start/thread op. */
static void task_arrive(struct engine *e, struct task *t)
{
    t->m.arrival = e->now;
    t->state_since = e->now;
    e->live_tasks++;
    if (!t->daemon)
        e->procs[t->process].live_nondaemon++;
    engine_instant(e, t, INSTANT_ARRIVE, 0, NULL);
    e->pol->task_new(e->rq, &t->se, e->now);
    t->state = TRACE_READY;
    t->reason = REASON_NONE;
    e->pol->enqueue(e->rq, &t->se, ENQUEUE_NEW, e->now, e->enqueue_seq++);
}

/* Wakes a blocked task; `by_thread`: made ready by another thread (pays the
 * machine's wakeup_latency) rather than by a timer. */
static void task_wake(struct engine *e, struct task *t, bool by_thread)
{
    if (t->timer != NONE) {
        engine_cancel(e, t->timer, true);
        t->timer = NONE;
    }
    t->waiting_for = NONE;
    sim_time lat = e->sc->machine.wakeup_latency;
    if (by_thread && lat > 0) {
        task_set_state(e, t, TRACE_BLOCKED, REASON_WAKEUP, -1);
        t->timer = engine_push(e, e->now + lat, CLASS_READY, t->se.id, EV_WAKE, t->se.id);
        return;
    }
    task_make_ready(e, t, ENQUEUE_WAKEUP);
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
        link = &task_at(e, *link)->wait_next;
    }
}

static void cpu_release(struct engine *e, uint32_t c, enum sched_stop stop);
static void engine_process_end(struct engine *e, uint32_t process);

/* Finishes t at e->now. The caller has taken it off its CPU. */
static void task_finish(struct engine *e, struct task *t)
{
    bool was_started = t->state != TASK_NEW;
    task_set_state(e, t, TASK_DONE, REASON_NONE, -1);
    t->m.finish = e->now;
    if (e->now > e->stats.makespan)
        e->stats.makespan = e->now;
    task_free_frames(t);
    engine_instant(e, t, INSTANT_EXIT, 0, NULL);
    struct proc *p = &e->procs[t->process];
    p->unfinished--;
    if (was_started) {
        e->live_tasks--;
        e->pol->task_dead(e->rq, &t->se);
        if (!t->daemon)
            p->live_nondaemon--;
    }
    while (t->joiners != NONE) {
        struct task *j = task_at(e, t->joiners);
        t->joiners = j->wait_next;
        j->wait_next = NONE;
        t->joined = 1;
        engine_instant(e, j, INSTANT_JOIN, t->se.id, NULL);
        task_wake(e, j, true);
    }
    if (!p->ended && p->live_nondaemon == 0 && was_started && !t->daemon)
        engine_process_end(e, t->process);
}

/* Stops a task that is not running its own ops to the end: a daemon thread
 * when its process ends. */
static void task_kill(struct engine *e, struct task *t)
{
    if (t->state == TASK_DONE)
        return;
    if (t->cpu >= 0) {
        cpu_release(e, (uint32_t)t->cpu, SCHED_STOP_EXITED);
    } else if (t->state == TRACE_READY) {
        e->pol->dequeue(e->rq, &t->se);
    } else if (t->state == TRACE_BLOCKED) {
        if (t->timer != NONE) {
            engine_cancel(e, t->timer, true);
            t->timer = NONE;
        }
        if (t->waiting_for != NONE)
            joiners_remove(e, task_at(e, t->waiting_for), t);
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
    const struct process_decl *pd = &e->sc->processes[process];
    for (uint32_t i = 0; i < pd->nthreads; i++)
        task_kill(e, task_at(e, pd->first_thread + i));
    for (uint32_t id = p->created_head; id != NONE; id = task_at(e, id)->proc_next)
        task_kill(e, task_at(e, id));
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

/* Takes the task on CPU c off it, accounting its CPU time to the policy. */
static void cpu_release(struct engine *e, uint32_t c, enum sched_stop stop)
{
    struct cpu *cpu = &e->cpus[c];
    struct task *t = task_at(e, cpu->task);
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
    e->pol->account(e->rq, &t->se, delta, stop, e->now);
    cpu->task = NONE;
    cpu->switching = false;
}

static enum step task_run_ops(struct engine *e, struct task *t);

/* The task on CPU c is running at e->now: run its ops until it starts a
 * compute op, then arm the CPU for the op's end or the slice's end. */
static void cpu_continue(struct engine *e, uint32_t c)
{
    struct cpu *cpu = &e->cpus[c];
    struct task *t = task_at(e, cpu->task);
    if (t->op_left <= 0) {
        enum step s = task_run_ops(e, t);
        if (s != STEP_TIMED)
            return;
    }
    if (cpu->slice_end <= e->now) {
        cpu_release(e, c, SCHED_STOP_EXPIRED);
        task_make_ready(e, t, ENQUEUE_EXPIRED);
        return;
    }
    int64_t when = e->now + t->op_left;
    if (cpu->slice_end < when)
        when = cpu->slice_end;
    cpu_arm(e, c, when);
}

static void cpu_start_running(struct engine *e, uint32_t c)
{
    struct cpu *cpu = &e->cpus[c];
    struct task *t = task_at(e, cpu->task);
    cpu->switching = false;
    task_set_state(e, t, TRACE_RUNNING, REASON_NONE, (int32_t)c);
    if (t->m.first_run < 0)
        t->m.first_run = e->now;
    cpu->run_from = e->now;
    cpu->progress_from = e->now;
    cpu->slice_end = cpu->slice == SIM_TIME_NEVER || cpu->slice > SIM_TIME_NEVER - e->now
                         ? SIM_TIME_NEVER
                         : e->now + cpu->slice;
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
            if (task_at(e, cpu->last_task)->process == t->process) {
                cost = m->context_switch;
                e->stats.context_switches++;
            } else {
                cost = m->process_switch;
                e->stats.process_switches++;
            }
        }
    }
    cpu->task = t->se.id;
    cpu->last_task = t->se.id;
    cpu->slice = e->pol->slice(e->rq, &t->se, e->now);
    if (cost > 0) {
        cpu->switching = true;
        e->stats.switching += cost;
        task_set_state(e, t, TRACE_SWITCH, REASON_NONE, (int32_t)c);
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
        return;
    if (cpu->switching) {
        cpu_start_running(e, c);
        return;
    }
    cpu_progress(e, cpu, task_at(e, cpu->task));
    cpu_continue(e, c);
}

/* ---- ops ---- */

typedef enum step (*op_exec_fn)(struct engine *e, struct task *t, const struct op *op);

/* Blocks the running task t (taking it off its CPU) with reason. */
static void task_block(struct engine *e, struct task *t, enum trace_reason reason)
{
    cpu_release(e, (uint32_t)t->cpu, SCHED_STOP_BLOCKED);
    task_set_state(e, t, TRACE_BLOCKED, (uint8_t)reason, -1);
}

static enum step op_compute(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_compute *c = &op->u.compute;
    int64_t cost = scenario_compute_cost(e->sc, c, operand_value(t, &c->n),
                                         operand_value(t, &c->from), operand_value(t, &c->to));
    if (cost <= 0)
        return STEP_NEXT;
    t->op_left = cost;
    return STEP_TIMED;
}

static enum step op_sleep(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_sleep *s = &op->u.sleep;
    int64_t d = s->random ? rng_range(&e->rng, s->dur, s->dur_hi) : s->dur;
    task_block(e, t, op->kind == OP_IO ? REASON_IO : REASON_SLEEP);
    t->timer = engine_push(e, e->now + d, CLASS_READY, t->se.id, EV_WAKE, t->se.id);
    return STEP_OFF_CPU;
}

static enum step op_repeat(struct engine *e, struct task *t, const struct op *op)
{
    int64_t times = operand_value(t, &op->u.repeat.times);
    if (times <= 0 || op->u.repeat.body.count == 0)
        return STEP_NEXT;
    if (times > SCENARIO_MAX_REPEAT)
        return engine_fail(e, STATUS_RUNTIME, t, op, "repeat of %" PRId64 " times is over the limit of %lld",
                           times, SCENARIO_MAX_REPEAT);
    if (!task_push_frame(e, t, op->u.repeat.body, FRAME_REPEAT, op))
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
        l->v[i] = operand_value(t, &args[i]);
    return l;
}

/* A function without locals runs as a plain block: it cannot see the
 * caller's locals, so they need not be swapped. */
static enum step op_call(struct engine *e, struct task *t, const struct op *op)
{
    const struct function *fn = &e->sc->functions[op->u.call.fn];
    bool own = fn->nlocals > 0;
    if (!task_push_frame(e, t, fn->body, own ? FRAME_CALL : FRAME_BLOCK, op))
        return STEP_ERROR;
    if (own)
        t->locals = call_locals(t, fn, op->u.call.nargs, op->u.call.args, t->locals);
    return STEP_NEXT;
}

static void print_append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    *buf = xgrow(*buf, cap, *len + n + 1, 1);
    memcpy(*buf + *len, s, n + 1);
    *len += n;
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
                print_append(&buf, &len, &cap, task_name(e, t));
            } else if (strcmp(pc->text, "process") == 0) {
                print_append(&buf, &len, &cap, e->sc->processes[t->process].name);
            } else {
                snprintf(num, sizeof num, "%.3fms", (double)e->now / 1e6);
                print_append(&buf, &len, &cap, num);
            }
            break;
        case PRINT_VAR:
            free(buf);
            return engine_fail(e, STATUS_RUNTIME, t, op, "print: '{%s}' names no local variable of this thread",
                               pc->text);
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

static enum step op_start(struct engine *e, struct task *t, const struct op *op)
{
    struct task *n = task_at(e, op->u.start.thread);
    if (n->state != TASK_NEW)
        return engine_fail(e, STATUS_RUNTIME, t, op,
                           "thread '%s' was already started (a thread can be started only once)",
                           task_name(e, n));
    if (e->procs[n->process].ended)
        return STEP_NEXT;
    engine_instant(e, t, INSTANT_START, n->se.id, NULL);
    task_arrive(e, n);
    return STEP_NEXT;
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
    task_push_frame(e, n, fn->body, locals ? FRAME_CALL : FRAME_BLOCK, op);
    struct proc *p = &e->procs[t->process];
    n->proc_next = p->created_head;
    p->created_head = n->se.id;
    if (e->opts.record_trace)
        trace_add_task(e->trace, o->name, t->process);
    engine_instant(e, t, INSTANT_START, n->se.id, NULL);
    task_arrive(e, n);
    return STEP_NEXT;
}

/* The thread a join names: a declared one, or the oldest created thread of
 * that name in the joiner's process not joined yet (else the newest). */
static struct task *join_target(struct engine *e, const struct task *t, const struct op_join *j)
{
    if (j->thread >= 0)
        return task_at(e, (uint32_t)j->thread);
    struct task *oldest_unjoined = NULL, *newest = NULL;
    for (uint32_t id = e->procs[t->process].created_head; id != NONE; id = task_at(e, id)->proc_next) {
        struct task *c = task_at(e, id);
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
                           task_name(e, target));
    if (target->state == TASK_DONE) {
        target->joined = 1;
        engine_instant(e, t, INSTANT_JOIN, target->se.id, NULL);
        return STEP_NEXT;
    }
    task_block(e, t, REASON_JOIN);
    t->waiting_for = target->se.id;
    t->wait_next = target->joiners;
    target->joiners = t->se.id;
    if (j->timeout >= 0)
        t->timer = engine_push(e, e->now + j->timeout, CLASS_READY, t->se.id, EV_JOIN_TIMEOUT, t->se.id);
    return STEP_OFF_CPU;
}

static enum step op_exit(struct engine *e, struct task *t, const struct op *op)
{
    (void)op;
    cpu_release(e, (uint32_t)t->cpu, SCHED_STOP_EXITED);
    task_finish(e, t);
    return STEP_OFF_CPU;
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
};

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
            } else {
                if (kind == FRAME_CALL)
                    locals_pop(t);
                t->nframes--;
                continue;
            }
        }
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
        struct task *t = task_at(e, cpu->task);
        int64_t delta = 0;
        if (!cpu->switching) {
            cpu_progress(e, cpu, t);
            delta = e->now - cpu->run_from;
            t->se.cpu_done += delta;
            e->stats.busy += delta;
            cpu->run_from = e->now;
        }
        e->pol->account(e->rq, &t->se, delta, SCHED_STOP_NONE, e->now);
        e->running_scratch[n] = c;
        e->running_entities[n] = &t->se;
        n++;
    }
    e->pol->timer(e->rq, e->now, e->running_entities, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = e->running_scratch[i];
        struct cpu *cpu = &e->cpus[c];
        cpu->slice = e->pol->slice(e->rq, &task_at(e, cpu->task)->se, e->now);
        if (cpu->switching)
            continue;
        cpu->slice_end = cpu->slice == SIM_TIME_NEVER || cpu->slice > SIM_TIME_NEVER - e->now
                             ? SIM_TIME_NEVER
                             : e->now + cpu->slice;
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
        struct task *t = task_at(e, ev->target);
        if (t->state == TASK_NEW && !e->procs[t->process].ended)
            task_arrive(e, t);
        break;
    }
    case EV_WAKE: {
        struct task *t = task_at(e, ev->target);
        t->timer = NONE;
        task_make_ready(e, t, ENQUEUE_WAKEUP);
        break;
    }
    case EV_JOIN_TIMEOUT: {
        struct task *t = task_at(e, ev->target);
        t->timer = NONE;
        if (t->waiting_for != NONE)
            joiners_remove(e, task_at(e, t->waiting_for), t);
        t->waiting_for = NONE;
        task_make_ready(e, t, ENQUEUE_WAKEUP);
        break;
    }
    case EV_CPU:
        cpu_event(e, ev->target);
        break;
    case EV_POLICY:
        engine_policy_timer(e);
        break;
    }
}

/* Preempts the task on CPU c in favour of the policy's next pick. */
static void cpu_preempt(struct engine *e, uint32_t c)
{
    struct task *t = task_at(e, e->cpus[c].task);
    struct sched_entity *next = e->pol->peek(e->rq);
    cpu_release(e, c, SCHED_STOP_PREEMPTED);
    e->stats.preemptions++;
    engine_instant(e, t, INSTANT_PREEMPT, next ? (int64_t)next->id : -1, NULL);
    task_make_ready(e, t, ENQUEUE_PREEMPTED);
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
            if (e->cpus[c].task != NONE)
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
            struct task *cur = task_at(e, cpu->task);
            int64_t ran = e->now - cpu->run_from;
            if (!e->pol->preempt_check(e->rq, &cur->se, ran, cand))
                continue;
            if (victim < 0 ||
                (e->pol->task_cmp &&
                 e->pol->task_cmp(e->rq, &cur->se, &task_at(e, e->cpus[victim].task)->se) > 0))
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
    if (when != SIM_TIME_NEVER && when > e->now)
        e->policy_timer = engine_push(e, when, CLASS_POLICY, 0, EV_POLICY, 0);
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

/* Nothing can happen any more but threads are blocked: report a join cycle
 * as a deadlock, or the threads waiting forever. */
static void engine_report_stuck(struct engine *e)
{
    char msg[ERROR_MSG_MAX] = "";
    for (uint32_t id = 0; id < e->ntasks; id++) {
        struct task *t = task_at(e, id);
        if (t->state != TRACE_BLOCKED || t->waiting_for == NONE)
            continue;
        /* Walk the wait-for chain (one edge per joining task) looking for a cycle through t. */
        uint32_t cur = t->waiting_for;
        uint32_t steps = 0;
        while (cur != NONE && cur != id && steps++ < e->ntasks)
            cur = task_at(e, cur)->waiting_for;
        if (cur != id)
            continue;
        report_append(msg, sizeof msg, "deadlock: a cycle of threads joining each other: ");
        uint32_t x = id;
        do {
            struct task *xt = task_at(e, x);
            struct task *y = task_at(e, xt->waiting_for);
            report_append(msg, sizeof msg, "'%s' (process '%s') waits to join '%s'; ", task_name(e, xt),
                          e->sc->processes[xt->process].name, task_name(e, y));
            x = xt->waiting_for;
        } while (x != id);
        msg[strlen(msg) - 2] = '\0';
        break;
    }
    if (!msg[0]) {
        report_append(msg, sizeof msg, "stuck: no thread can ever run again, but these wait forever:");
        for (uint32_t id = 0; id < e->ntasks; id++) {
            struct task *t = task_at(e, id);
            if (t->state != TRACE_BLOCKED)
                continue;
            report_append(msg, sizeof msg, " '%s' (process '%s') blocked on %s", task_name(e, t),
                          e->sc->processes[t->process].name, trace_reason_name(t->reason));
            if (t->waiting_for != NONE)
                report_append(msg, sizeof msg, " of '%s'", task_name(e, task_at(e, t->waiting_for)));
            report_append(msg, sizeof msg, ";");
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
    e->procs = xcalloc(sc->nprocesses ? sc->nprocesses : 1, sizeof *e->procs);
    e->trace = trace_create(sc->name, sc->description, "sim", policy->name,
                            sc->machine.cpus, sc->seed);
    for (uint32_t p = 0; p < sc->nprocesses; p++) {
        e->procs[p].created_head = NONE;
        trace_add_process(e->trace, sc->processes[p].name);
    }
    for (uint32_t i = 0; i < sc->nthreads; i++) {
        engine_new_task(e, sc->threads[i].process, i);
        trace_add_task(e->trace, sc->threads[i].name, sc->threads[i].process);
    }
    return e;
}

void engine_destroy(struct engine *eng)
{
    if (!eng)
        return;
    for (uint32_t id = 0; id < eng->ntasks; id++)
        task_free_frames(task_at(eng, id));
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
    free(eng->procs);
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
    for (uint32_t i = 0; i < sc->nthreads; i++) {
        const struct thread_decl *td = &sc->threads[i];
        if (td->autostart)
            engine_push(e, sc->processes[td->process].arrival, CLASS_READY, i, EV_ARRIVE, i);
    }
    uint64_t max_events = e->opts.max_events;
    struct event ev;
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
        struct task *t = task_at(e, id);
        if (t->state < TRACE_STATE_COUNT)
            task_set_state(e, t, t->state, t->reason, t->cpu);
    }
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
    return &task_at(eng, task)->m;
}

const char *engine_task_name(const struct engine *eng, uint32_t task)
{
    return task_name(eng, task_at(eng, task));
}

const char *engine_task_process(const struct engine *eng, uint32_t task)
{
    return eng->sc->processes[task_at(eng, task)->process].name;
}

uint32_t engine_print_count(const struct engine *eng)
{
    return (uint32_t)eng->nprints;
}

const struct engine_print *engine_print_at(const struct engine *eng, uint32_t i)
{
    return &eng->prints[i];
}
