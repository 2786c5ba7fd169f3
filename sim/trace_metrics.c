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
             * RUNNING segment ran for no time just then */
            if (m->first_run < 0)
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
