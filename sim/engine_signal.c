/* Signals of the simulated kernel: kill sends one to a process, alarm sends
 * SIGALRM to one's own process later, and a process's handlers run in its
 * main thread, as in Python. A handler runs at the main thread's next op
 * boundary; a main thread sleeping or computing is interrupted at once and
 * goes back to its sleep (until its deadline, as PEP 475 has it) or its
 * computation when the handler returns. A signal without a handler ends the
 * process (the default action of SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGUSR1
 * and SIGUSR2). A signal arriving during a handler waits until it returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

static const struct handler *handler_of(const struct engine *e, uint32_t p, int signo)
{
    const struct process_decl *pd = &e->sc->processes[e->procs[p].decl];
    for (uint32_t i = 0; i < pd->nhandlers; i++)
        if (pd->handlers[i].signo == signo)
            return &pd->handlers[i];
    return NULL;
}

/* A signal reaches process p; `self` is the sending thread (NULL for an alarm). */
static void arrive(struct engine *e, uint32_t p, int signo, const struct task *self)
{
    struct proc *pr = &e->procs[p];
    if (pr->ended)
        return;
    if (!handler_of(e, p, signo)) {
        engine_process_kill(e, p);
        return;
    }
    if (pr->main_task == NONE)
        return;
    struct task *m = engine_task_at(e, pr->main_task);
    if (m->state == TASK_DONE)
        return;
    pr->pending |= 1u << signo;
    /* during a handler the signal waits for it to return */
    if (m == self || pr->resume != RESUME_NONE || engine_in_handler(m))
        return;
    if (m->state == TRACE_BLOCKED && (m->reason == REASON_SLEEP || m->reason == REASON_IO) && m->timer != NONE) {
        /* PEP 475: the sleep goes on to its deadline after the handler */
        pr->resume_value = e->eq.heap[e->eq.slots[m->timer].pos].time;
        pr->resume = RESUME_SLEEP;
        /* a signal sent by a thread wakes it like any wake-up by another thread */
        engine_task_wake(e, m, self != NULL);
    } else if (m->state == TRACE_RUNNING) {
        engine_interrupt_running(e, m);
    }
}

void engine_signal_arrive(struct engine *e, uint32_t process, int signo)
{
    if (signo == SIG_ALRM)
        e->procs[process].alarm = NONE;
    arrive(e, process, signo, NULL);
}

enum step op_kill(struct engine *e, struct task *t, const struct op *op)
{
    int32_t p = engine_find_process(e, t, op->u.signal.process);
    if (p < 0)
        return engine_fail(e, STATUS_RUNTIME, t, op, "kill: no process named '%s'", op->u.signal.process);
    arrive(e, (uint32_t)p, op->u.signal.signo, t);
    return t->state == TASK_DONE ? STEP_OFF_CPU : STEP_NEXT;
}

enum step op_alarm(struct engine *e, struct task *t, const struct op *op)
{
    struct proc *pr = &e->procs[t->process];
    if (pr->alarm != NONE) {
        engine_cancel(e, pr->alarm, true);
        pr->alarm = NONE;
    }
    if (op->u.signal.after > 0)
        pr->alarm = engine_push(e, e->now + op->u.signal.after, CLASS_READY, UINT32_MAX - 1 - t->process, EV_SIGNAL,
                                t->process << 5 | SIG_ALRM);
    return STEP_NEXT;
}

bool engine_signal_take(struct engine *e, struct task *t)
{
    struct proc *pr = &e->procs[t->process];
    if (pr->main_task != t->se.id)
        return false;
    if (engine_in_handler(t))
        return false;
    int signo = __builtin_ctz(pr->pending);
    pr->pending &= ~(1u << signo);
    const struct handler *h = handler_of(e, t->process, signo);
    if (!h)
        return false;
    /* an empty handler is a frame that ends at once: the interrupted op resumes as usual */
    if (!engine_push_frame(e, t, h->body, FRAME_HANDLER, NULL))
        return false;
    uint32_t extra = (uint32_t)signo;
    if (h->nlocals) {
        t->locals = engine_locals_new(h->nlocals, t->locals);
        extra |= HANDLER_HAS_LOCALS;
    }
    t->frames[t->nframes - 1].remaining = extra;
    engine_instant(e, t, INSTANT_SIGNAL, signo, NULL);
    return true;
}

enum step engine_signal_resume(struct engine *e, struct task *t)
{
    struct proc *pr = &e->procs[t->process];
    int kind = pr->resume;
    int64_t value = pr->resume_value;
    pr->resume = RESUME_NONE;
    if (kind == RESUME_COMPUTE && value > 0) {
        /* native code that had released the GIL releases it again */
        if (pr->resume_nogil) {
            engine_gil_release(e, t, false);
            t->nogil = 1;
        }
        t->op_left = value;
        return STEP_TIMED;
    }
    if (kind == RESUME_SLEEP && value > e->now) {
        engine_task_block(e, t, REASON_SLEEP);
        t->timer = engine_push(e, value, CLASS_READY, t->se.id, EV_WAKE, t->se.id);
        return STEP_OFF_CPU;
    }
    return STEP_NEXT;
}
