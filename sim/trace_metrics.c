/* Metrics from a trace: one pass over the segments and one over the instants.
 * Segments of one task are taken in the order they were appended, which both
 * the engine and the host runner keep chronological per task. */
#include "trace_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static bool on_cpu(uint8_t state)
{
    return state == TRACE_RUNNING || state == TRACE_SWITCH;
}

int64_t trace_metrics_compute(const struct trace *tr, struct task_metrics *out)
{
    int64_t makespan = 0;
    if (tr->ntasks == 0)
        return 0;
    /* end of the task's previous segment when it was on a CPU, else -1 */
    int64_t *cpu_end = xmalloc(tr->ntasks * sizeof *cpu_end);
    int64_t *last_end = xmalloc(tr->ntasks * sizeof *last_end);
    for (uint32_t t = 0; t < tr->ntasks; t++) {
        memset(&out[t], 0, sizeof out[t]);
        out[t].arrival = -1;
        out[t].first_run = -1;
        out[t].finish = -1;
        cpu_end[t] = -1;
        last_end[t] = -1;
    }
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        if (s->task >= tr->ntasks)
            continue;
        struct task_metrics *m = &out[s->task];
        int64_t d = s->end - s->start;
        if (m->arrival < 0 || s->start < m->arrival)
            m->arrival = s->start;
        switch ((enum trace_state)s->state) {
        case TRACE_RUNNING:
            m->cpu += d;
            if (m->first_run < 0)
                m->first_run = s->start;
            break;
        case TRACE_SWITCH:
            if (m->first_run < 0)
                m->first_run = s->end;
            m->wait += d;
            break;
        case TRACE_READY:
            m->wait += d;
            break;
        case TRACE_BLOCKED:
            /* only a running thread can block: one that blocks before any
             * RUNNING segment ran for no time just then; but a thread being
             * woken has not run in it (a new thread waits so for its start:
             * the simulator's start latency, the real runner's start-up),
             * nor has a made process while its fork makes it */
            if (m->first_run < 0 && s->reason != REASON_WAKEUP && s->reason != REASON_FORK)
                m->first_run = s->start;
            m->blocked += d;
            if (s->reason == REASON_GIL)
                m->gil_wait += d;
            break;
        case TRACE_STATE_COUNT:
            break;
        }
        if (on_cpu(s->state)) {
            if (cpu_end[s->task] != s->start)
                m->context_switches++;
            cpu_end[s->task] = s->end;
        } else {
            cpu_end[s->task] = -1;
        }
        if (s->end > last_end[s->task])
            last_end[s->task] = s->end;
    }
    for (size_t i = 0; i < tr->ninstants; i++) {
        const struct trace_instant *ev = &tr->instants[i];
        if (ev->task >= tr->ntasks)
            continue;
        struct task_metrics *m = &out[ev->task];
        if (ev->kind == INSTANT_ARRIVE)
            m->arrival = ev->time;
        else if (ev->kind == INSTANT_EXIT && ev->time > m->finish)
            m->finish = ev->time;
    }
    for (uint32_t t = 0; t < tr->ntasks; t++) {
        /* a task that ends the instant it gets a CPU leaves no segment */
        if (out[t].first_run < 0 && out[t].finish >= 0)
            out[t].first_run = out[t].finish;
        int64_t end = out[t].finish >= 0 ? out[t].finish : last_end[t];
        if (end > makespan)
            makespan = end;
    }
    free(cpu_end);
    free(last_end);
    return makespan;
}

/* ---- a CPU idle while a thread waited for one ---- */

struct span_edge {
    int64_t t;
    int32_t cpu;   /* -1: the span had no CPU */
    int8_t delta;  /* +1 at a start, -1 at an end */
};

static int segment_by_task_cmp(const void *a, const void *b)
{
    const struct trace_segment *x = a, *y = b;
    if (x->task != y->task)
        return x->task < y->task ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);
}

static int edge_cmp(const void *a, const void *b)
{
    const struct span_edge *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->delta - y->delta; /* ends first: back-to-back spans never overlap */
}

int64_t trace_idle_while_ready(const struct trace *tr)
{
    if (!tr || tr->nsegments == 0 || tr->cpus == 0)
        return 0;
    int64_t limit = trace_recorded_until(tr);
    struct trace_segment *seg = xcalloc(tr->nsegments, sizeof *seg);
    size_t n = 0;
    for (size_t i = 0; i < tr->nsegments; i++) {
        uint8_t s = tr->segments[i].state;
        if ((s == TRACE_RUNNING || s == TRACE_SWITCH || s == TRACE_READY) && tr->segments[i].end > tr->segments[i].start)
            seg[n++] = tr->segments[i];
    }
    qsort(seg, n, sizeof *seg, segment_by_task_cmp);
    /* a READY segment right after its task's stretch on a CPU is still on
     * that CPU's queue: in a real trace it is the part of a running stretch
     * the thread spent without the CPU, placed at the stretch's end */
    for (size_t i = 1; i < n; i++)
        if (seg[i].state == TRACE_READY && seg[i - 1].task == seg[i].task && seg[i - 1].end == seg[i].start &&
            seg[i - 1].cpu >= 0)
            seg[i].cpu = seg[i - 1].cpu;
    struct span_edge *edge = xcalloc(2 * n + 1, sizeof *edge);
    int32_t maxcpu = 0;
    for (size_t i = 0; i < n; i++) {
        edge[2 * i] = (struct span_edge){seg[i].start, seg[i].cpu, +1};
        edge[2 * i + 1] = (struct span_edge){seg[i].end, seg[i].cpu, -1};
        if (seg[i].cpu > maxcpu)
            maxcpu = seg[i].cpu;
    }
    free(seg);
    qsort(edge, 2 * n, sizeof *edge, edge_cmp);
    uint32_t *on = xcalloc((size_t)maxcpu + 1, sizeof *on);
    int64_t runnable = 0, used = 0, idle = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        if (i > 0 && edge[i].t > edge[i - 1].t) {
            int64_t want = runnable < (int64_t)tr->cpus ? runnable : (int64_t)tr->cpus;
            int64_t to = limit >= 0 && edge[i].t > limit ? limit : edge[i].t;
            if (want > used && to > edge[i - 1].t)
                idle += (want - used) * (to - edge[i - 1].t);
        }
        runnable += edge[i].delta;
        if (edge[i].cpu >= 0) {
            uint32_t *c = &on[edge[i].cpu];
            if (edge[i].delta > 0 && (*c)++ == 0)
                used++;
            else if (edge[i].delta < 0 && --(*c) == 0)
                used--;
        }
    }
    free(on);
    free(edge);
    return idle;
}
