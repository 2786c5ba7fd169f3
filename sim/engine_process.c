/* Processes created at run time (multiprocessing.Process): `process` starts
 * a child whose main thread runs a function, `join` with `process` waits for
 * it to end, `terminate` ends it.
 *
 * A child takes the memory layout and private objects of the declared
 * process it descends from. With "fork" its private memory is a copy of the
 * parent's at that instant, so later writes on either side are not seen by
 * the other; "spawn" and "forkserver" start from the declared initial values,
 * like a fresh interpreter importing the module. Shared memory and top-level
 * objects are the same for all. Each start method has its own cost: CPU time
 * of the parent in start() and of the child before it runs its function
 * (the profile's fork_*, spawn_* and forkserver_* values). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "xalloc.h"

uint32_t engine_new_process(struct engine *e, const char *name, uint32_t parent, enum start_method method)
{
    /* a name already taken gets "#2", "#3", ...: reports key processes by name */
    uint32_t same = 0;
    for (uint32_t i = 0; i < e->nprocs; i++)
        same += strncmp(e->procs[i].name, name, strlen(name)) == 0 &&
                (e->procs[i].name[strlen(name)] == '\0' || e->procs[i].name[strlen(name)] == '#');
    if (same) {
        char buf[160];
        snprintf(buf, sizeof buf, "%.120s#%u", name, same + 1);
        name = engine_keep_string(e, buf);
    }
    struct gil_config gil = e->procs[parent].gil.cfg;
    e->procs = xgrow(e->procs, &e->procs_cap, e->nprocs + 1, sizeof *e->procs);
    uint32_t p = e->nprocs++;
    struct proc *pr = &e->procs[p];
    memset(pr, 0, sizeof *pr);
    pr->name = name;
    pr->decl = e->procs[parent].decl;
    pr->parent = parent;
    pr->created_head = NONE;
    pr->main_task = NONE;
    pr->alarm = NONE;
    pr->joiners.head = pr->joiners.tail = NONE;
    engine_gil_init(e, p, &gil);
    trace_add_process(e->trace, name);
    engine_memory_for_process(e, p, method == START_FORK ? parent : NONE);
    engine_objects_for_process(e, p);
    return p;
}

enum step op_process(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_process *o = &op->u.process;
    if (e->nprocs >= SCENARIO_MAX_PROCESSES)
        return engine_fail(e, STATUS_RUNTIME, t, op, "the scenario creates more than %d processes",
                           SCENARIO_MAX_PROCESSES);
    if (e->ntasks >= SCENARIO_MAX_THREADS)
        return engine_fail(e, STATUS_RUNTIME, t, op, "the scenario creates more than %d threads",
                           SCENARIO_MAX_THREADS);
    uint32_t parent = t->process;
    uint32_t p = engine_new_process(e, o->name, parent, o->method);
    if (o->has_gil)
        engine_gil_init(e, p, &o->gil);

    const struct function *fn = &e->sc->functions[o->fn];
    struct task *m = engine_new_task(e, p, NONE);
    e->procs[p].main_task = m->se.id;
    size_t idx = m->se.id - e->sc->nthreads;
    e->created_names = xgrow(e->created_names, &e->created_names_cap, idx + 1, sizeof *e->created_names);
    e->created_names[idx] = "MainThread";
    if (fn->nlocals) {
        m->locals = xcalloc(1, sizeof *m->locals + fn->nlocals * sizeof m->locals->v[0]);
        for (uint32_t i = 0; i < o->nargs && i < fn->nlocals; i++)
            m->locals->v[i] = engine_operand(t, &o->args[i]);
    }
    m->se.total_compute = scenario_function_compute(e->sc, o->fn, m->locals ? m->locals->v : NULL,
                                                    m->locals ? fn->nparams : 0);
    engine_push_frame(e, m, fn->body, m->locals ? FRAME_CALL : FRAME_BLOCK, op);
    if (e->opts.record_trace)
        trace_add_task(e->trace, "MainThread", p);

    engine_instant(e, t, INSTANT_START, m->se.id, NULL);
    int64_t parent_ns = engine_child_arrive(e, m, o->method);
    if (parent_ns <= 0)
        return STEP_NEXT;
    t->op_left = parent_ns;
    return STEP_TIMED;
}

int64_t engine_child_arrive(struct engine *e, struct task *m, enum start_method method)
{
    const struct profile *pr = &e->sc->profile;
    int64_t parent_ns, child_ns;
    switch (method) {
    case START_SPAWN:
        parent_ns = pr->spawn_parent_ns;
        child_ns = pr->spawn_child_ns;
        break;
    case START_FORKSERVER:
        parent_ns = pr->forkserver_parent_ns;
        child_ns = pr->forkserver_child_ns;
        if (!e->forkserver_up) {
            /* the first start launches the server: its start-up delays this child */
            e->forkserver_up = true;
            child_ns += pr->forkserver_start_ns;
        }
        break;
    default:
        parent_ns = pr->fork_parent_ns;
        child_ns = pr->fork_child_ns;
        break;
    }
    /* The child's start-up is CPU work it does before its function, from
     * its arrival on. For real the child exists only once its parent's
     * fork is done, and then runs its start-up (docs/host.md); but blocking
     * it for parent_ns and charging the rest made the forking lectures
     * 6-11 % shorter, further from the real runs, whose children used
     * 1.3-4 ms of CPU each in their start-ups beside a forking parent
     * against 1.0-1.3 ms alone: the whole figure as CPU stands for that. */
    m->op_left = child_ns;
    engine_task_arrive(e, m);
    return parent_ns;
}

/* The process a join or terminate names: the newest child of that name
 * created by the caller's process, else any process of that name. */
int32_t engine_find_process(const struct engine *e, const struct task *t, const char *name)
{
    int32_t any = -1;
    size_t n = strlen(name);
    for (uint32_t p = e->nprocs; p-- > 0;) {
        /* "kid" also names "kid#2", the second process called kid */
        const char *pn = e->procs[p].name;
        if (strncmp(pn, name, n) != 0 || (pn[n] != '\0' && pn[n] != '#'))
            continue;
        if (e->procs[p].parent == t->process)
            return (int32_t)p;
        if (any < 0)
            any = (int32_t)p;
    }
    return any;
}

/* The other process a join or terminate names; -1 with the error raised. */
static int32_t target_process(struct engine *e, struct task *t, const struct op *op, const char *verb)
{
    int32_t p = engine_find_process(e, t, op->u.proc.name);
    if (p < 0)
        engine_fail(e, STATUS_RUNTIME, t, op, "%s: no process named '%s' has been created", verb, op->u.proc.name);
    else if ((uint32_t)p == t->process)
        engine_fail(e, STATUS_RUNTIME, t, op, "a process cannot %s itself%s", verb,
                    op->kind == OP_TERMINATE ? " (use exit)" : " (it would wait forever)");
    else
        return p;
    return -1;
}

enum step op_process_join(struct engine *e, struct task *t, const struct op *op)
{
    int32_t p = target_process(e, t, op, "join");
    if (p < 0)
        return STEP_ERROR;
    struct proc *pr = &e->procs[p];
    if (pr->ended && !pr->reaping)
        return STEP_NEXT;
    engine_task_block(e, t, REASON_PROCESS);
    t->waiting_for = (uint32_t)p;
    engine_waitq_push(e, &pr->joiners, t);
    if (op->u.proc.timeout >= 0)
        t->timer = engine_push(e, e->now + op->u.proc.timeout, CLASS_READY, t->se.id, EV_JOIN_TIMEOUT, t->se.id);
    return STEP_OFF_CPU;
}

enum step op_terminate(struct engine *e, struct task *t, const struct op *op)
{
    int32_t p = target_process(e, t, op, "terminate");
    if (p < 0)
        return STEP_ERROR;
    engine_process_kill(e, (uint32_t)p);
    return STEP_NEXT;
}

void engine_process_kill(struct engine *e, uint32_t p)
{
    if (e->procs[p].ended)
        return;
    for (uint32_t id = 0; id < e->ntasks; id++) {
        struct task *x = engine_task_at(e, id);
        if (x->process == p)
            engine_task_kill(e, x);
    }
    if (!e->procs[p].ended) {
        e->procs[p].ended = true;
        engine_process_ended(e, p);
    }
}

/* The process has ended (its threads have, or it was terminated): its
 * alarm stops, and its joiners wake once the kernel's teardown is over,
 * the profile's process_exit_ns later (EV_REAPED), unless no thread is
 * left or due to wait for it. */
void engine_process_ended(struct engine *e, uint32_t process)
{
    struct proc *pr = &e->procs[process];
    if (pr->alarm != NONE) {
        engine_cancel(e, pr->alarm, true);
        pr->alarm = NONE;
    }
    int64_t exit_ns = e->sc->profile.process_exit_ns;
    if (exit_ns > 0 && (e->live_tasks > 0 || e->pending_task_events > 0)) {
        pr->reaping = true;
        engine_push(e, e->now + exit_ns, CLASS_READY, process, EV_REAPED, process);
        return;
    }
    engine_process_reaped(e, process);
}

/* The process's teardown is over: its joiners wake. */
void engine_process_reaped(struct engine *e, uint32_t process)
{
    struct task *j;
    e->procs[process].reaping = false;
    while ((j = engine_waitq_pop(e, &e->procs[process].joiners))) {
        if (j->timer != NONE) {
            engine_cancel(e, j->timer, true);
            j->timer = NONE;
        }
        engine_instant(e, j, INSTANT_JOIN, e->procs[process].main_task, NULL);
        engine_task_wake(e, j, true);
    }
}
