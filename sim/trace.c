/* The trace container (see trace.h). */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static char *trace_dup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

struct trace *trace_create(const char *scenario, const char *description,
                           const char *source, const char *policy,
                           uint32_t cpus, uint64_t seed)
{
    struct trace *tr = xcalloc(1, sizeof *tr);
    tr->scenario = trace_dup(scenario ? scenario : "");
    tr->description = trace_dup(description);
    tr->source = trace_dup(source ? source : "sim");
    tr->policy = trace_dup(policy ? policy : "");
    tr->cpus = cpus;
    tr->seed = seed;
    return tr;
}

void trace_destroy(struct trace *tr)
{
    if (!tr)
        return;
    free(tr->scenario);
    free(tr->description);
    free(tr->source);
    free(tr->policy);
    for (uint32_t i = 0; i < tr->nprocesses; i++)
        free(tr->processes[i]);
    free(tr->processes);
    for (uint32_t i = 0; i < tr->ntasks; i++)
        free(tr->tasks[i].name);
    free(tr->tasks);
    for (uint32_t i = 0; i < tr->nobjects; i++) {
        free(tr->objects[i].name);
        free(tr->objects[i].type);
    }
    free(tr->objects);
    free(tr->segments);
    free(tr->instants);
    free(tr->strings);
    free(tr);
}

uint32_t trace_add_process(struct trace *tr, const char *name)
{
    tr->processes = xgrow(tr->processes, &tr->processes_cap, tr->nprocesses + 1,
                          sizeof *tr->processes);
    tr->processes[tr->nprocesses] = xstrdup(name);
    return tr->nprocesses++;
}

uint32_t trace_add_task(struct trace *tr, const char *name, uint32_t process)
{
    tr->tasks = xgrow(tr->tasks, &tr->tasks_cap, tr->ntasks + 1, sizeof *tr->tasks);
    tr->tasks[tr->ntasks].name = xstrdup(name);
    tr->tasks[tr->ntasks].process = process;
    tr->tasks[tr->ntasks].recorded_until = -1;
    tr->tasks[tr->ntasks].unrecorded_events = 0;
    tr->tasks[tr->ntasks].instants_until = -1;
    tr->tasks[tr->ntasks].unrecorded_instants = 0;
    tr->tasks[tr->ntasks].unrecorded_writes = 0;
    tr->tasks[tr->ntasks].first_op = -1;
    return tr->ntasks++;
}

uint32_t trace_add_object(struct trace *tr, const char *name, const char *type, int32_t process)
{
    tr->objects = xgrow(tr->objects, &tr->objects_cap, tr->nobjects + 1, sizeof *tr->objects);
    tr->objects[tr->nobjects].name = xstrdup(name);
    tr->objects[tr->nobjects].type = xstrdup(type);
    tr->objects[tr->nobjects].process = process;
    return tr->nobjects++;
}

void trace_segment_add(struct trace *tr, const struct trace_segment *seg)
{
    if (seg->end <= seg->start)
        return;
    if (tr->nsegments == tr->segments_cap)
        tr->segments = xgrow(tr->segments, &tr->segments_cap, tr->nsegments + 1,
                             sizeof *tr->segments);
    tr->segments[tr->nsegments++] = *seg;
}

static uint32_t trace_intern(struct trace *tr, const char *text)
{
    size_t n = strlen(text) + 1;
    tr->strings = xgrow(tr->strings, &tr->strings_cap, tr->strings_len + n, 1);
    uint32_t off = (uint32_t)tr->strings_len;
    memcpy(tr->strings + off, text, n);
    tr->strings_len += n;
    return off;
}

void trace_instant_add(struct trace *tr, const struct trace_instant *ev, const char *text)
{
    if (tr->ninstants == tr->instants_cap)
        tr->instants = xgrow(tr->instants, &tr->instants_cap, tr->ninstants + 1,
                             sizeof *tr->instants);
    struct trace_instant *dst = &tr->instants[tr->ninstants++];
    *dst = *ev;
    dst->text = text ? trace_intern(tr, text) : UINT32_MAX;
}

const char *trace_string(const struct trace *tr, uint32_t offset)
{
    if (offset == UINT32_MAX || offset >= tr->strings_len)
        return "";
    return tr->strings + offset;
}

static const char *const trace_state_names[TRACE_STATE_COUNT] = {
    [TRACE_RUNNING] = "running",
    [TRACE_READY] = "ready",
    [TRACE_BLOCKED] = "blocked",
    [TRACE_SWITCH] = "switch",
};

static const char *const trace_reason_names[REASON_COUNT] = {
    [REASON_NONE] = "",
    [REASON_SLEEP] = "sleep",
    [REASON_IO] = "io",
    [REASON_JOIN] = "join",
    [REASON_WAKEUP] = "wakeup",
    [REASON_LOCK] = "lock",
    [REASON_SEMAPHORE] = "semaphore",
    [REASON_EVENT] = "event",
    [REASON_CONDITION] = "condition",
    [REASON_BARRIER] = "barrier",
    [REASON_QUEUE] = "queue",
    [REASON_PIPE] = "pipe",
    [REASON_GIL] = "gil",
    [REASON_PROCESS] = "process",
    [REASON_POOL] = "pool",
    [REASON_FORK] = "fork",
};

static const char *const trace_instant_names[INSTANT_KIND_COUNT] = {
    [INSTANT_ARRIVE] = "arrive",
    [INSTANT_EXIT] = "exit",
    [INSTANT_PRINT] = "print",
    [INSTANT_START] = "start",
    [INSTANT_JOIN] = "join",
    [INSTANT_PREEMPT] = "preempt",
    [INSTANT_DEADLOCK] = "deadlock",
    [INSTANT_ACQUIRE] = "acquire",
    [INSTANT_RELEASE] = "release",
    [INSTANT_WAIT] = "wait",
    [INSTANT_WAKE] = "wake",
    [INSTANT_NOTIFY] = "notify",
    [INSTANT_SET] = "set",
    [INSTANT_CLEAR] = "clear",
    [INSTANT_WRITE] = "write",
    [INSTANT_LOST_UPDATE] = "lost_update",
    [INSTANT_PUT] = "put",
    [INSTANT_GET] = "get",
    [INSTANT_SEND] = "send",
    [INSTANT_RECV] = "recv",
    [INSTANT_CLOSE] = "close",
    [INSTANT_SIGNAL] = "signal",
    [INSTANT_GIL_TAKE] = "gil_take",
    [INSTANT_GIL_DROP] = "gil_drop",
};

const char *trace_state_name(enum trace_state s)
{
    return (unsigned)s < TRACE_STATE_COUNT ? trace_state_names[s] : "?";
}

const char *trace_reason_name(enum trace_reason r)
{
    return (unsigned)r < REASON_COUNT ? trace_reason_names[r] : "?";
}

const char *trace_instant_name(enum trace_instant_kind k)
{
    return (unsigned)k < INSTANT_KIND_COUNT ? trace_instant_names[k] : "?";
}

/* The earliest of the tasks' recorded_until (and instants_until), or -1. */
static int64_t earliest_until(const struct trace *tr, bool instants)
{
    int64_t until = -1;
    for (uint32_t i = 0; tr && i < tr->ntasks; i++) {
        int64_t u[2] = {tr->tasks[i].recorded_until, instants ? tr->tasks[i].instants_until : -1};
        for (int k = 0; k < 2; k++)
            if (u[k] >= 0 && (until < 0 || u[k] < until))
                until = u[k];
    }
    return until;
}

int64_t trace_recorded_until(const struct trace *tr)
{
    return earliest_until(tr, false);
}

int64_t trace_instants_until(const struct trace *tr)
{
    return earliest_until(tr, true);
}
