/* The kernel's view at one instant. See state_at.h.
 *
 * Segments are recorded when they close, so they are not in time order; each
 * thread has at most one segment covering an instant. Instants are recorded
 * in time order, which lets a binary search find those up to t. */
#include "state_at.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xalloc.h"
#include "viz/layout.h"

/* A thread found in a queue, before the queues are sorted. */
struct queued {
    uint64_t queue;            /* which queue: object, or GIL (after all objects) */
    int64_t since;
    uint64_t seq;              /* tie-break: the order the simulator recorded it */
    uint32_t task;
    uint8_t reason;
};

void state_view_init(struct state_view *v)
{
    memset(v, 0, sizeof *v);
}

void state_view_deinit(struct state_view *v)
{
    free(v->cpus);
    free(v->ready);
    free(v->objects);
    free(v->gils);
    free(v->waiters);
    free(v->blocked);
    free(v->vars);
    memset(v, 0, sizeof *v);
}

static int cmp_queued(const void *pa, const void *pb)
{
    const struct queued *a = pa, *b = pb;
    if (a->queue != b->queue)
        return a->queue < b->queue ? -1 : 1;
    if (a->since != b->since)
        return a->since < b->since ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return a->task < b->task ? -1 : a->task > b->task;
}

static bool is_lock_type(const char *type)
{
    return type && (strcmp(type, "lock") == 0 || strcmp(type, "rlock") == 0);
}

static bool is_var(const struct trace *tr, uint32_t obj)
{
    return obj < tr->nobjects && tr->objects[obj].type &&
           strcmp(tr->objects[obj].type, "var") == 0;
}

/* The number of instants at or before t. */
static size_t instants_until(const struct trace *tr, int64_t t)
{
    size_t lo = 0, hi = tr->ninstants;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tr->instants[mid].time <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* For each thread, the segment covering t (SIZE_MAX: none) and the one just
 * before it (ending where it starts), whose index orders threads that joined
 * a queue at the same time. */
static void find_segments(const struct trace *tr, int64_t t, size_t *cover, size_t *prev)
{
    for (uint32_t k = 0; k < tr->ntasks; k++)
        cover[k] = prev[k] = SIZE_MAX;
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        if (s->task < tr->ntasks && s->start <= t && t < s->end)
            cover[s->task] = i;
    }
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        if (s->task < tr->ntasks && cover[s->task] != SIZE_MAX &&
            s->end == tr->segments[cover[s->task]].start)
            prev[s->task] = i;
    }
}

static void fill_cpus(const struct trace *tr, const size_t *cover, struct state_view *out)
{
    uint32_t ncpu = tr->cpus;
    for (uint32_t k = 0; k < tr->ntasks; k++)
        if (cover[k] != SIZE_MAX && tr->segments[cover[k]].cpu >= 0 &&
            (uint32_t)tr->segments[cover[k]].cpu >= ncpu)
            ncpu = (uint32_t)tr->segments[cover[k]].cpu + 1;
    out->cpus = xgrow(out->cpus, &out->cpus_cap, ncpu ? ncpu : 1, sizeof *out->cpus);
    out->ncpus = ncpu;
    for (uint32_t c = 0; c < ncpu; c++)
        out->cpus[c] = (struct state_cpu){ .task = STATE_NONE, .state = TRACE_RUNNING };
    for (uint32_t k = 0; k < tr->ntasks; k++) {
        if (cover[k] == SIZE_MAX)
            continue;
        const struct trace_segment *s = &tr->segments[cover[k]];
        if (s->cpu >= 0 && (s->state == TRACE_RUNNING || s->state == TRACE_SWITCH))
            out->cpus[s->cpu] = (struct state_cpu){ .task = k, .state = s->state,
                                                    .since = s->start };
    }
}

/* Owners of locks, GILs and the last writes, from the instants up to t. */
static void replay_instants(const struct trace *tr, int64_t t, uint32_t *lock_owner,
                            uint32_t *gil_owner, bool *gil_used, struct state_view *out)
{
    size_t n = instants_until(tr, t);
    for (uint32_t o = 0; o < tr->nobjects; o++)
        lock_owner[o] = STATE_NONE;
    for (uint32_t p = 0; p < tr->nprocesses; p++) {
        gil_owner[p] = STATE_NONE;
        gil_used[p] = false;
    }
    out->nvars = 0;
    out->deadlock = NULL;
    for (uint32_t o = 0; o < tr->nobjects; o++)
        if (is_var(tr, o)) {
            out->vars = xgrow(out->vars, &out->vars_cap, out->nvars + 1, sizeof *out->vars);
            out->vars[out->nvars++] = (struct state_var){ .obj = o, .writer = STATE_NONE };
        }
    /* The variables are few and listed in object order: a map from object
     * to variable slot keeps the replay linear. */
    size_t *var_slot = xmalloc((tr->nobjects ? tr->nobjects : 1) * sizeof *var_slot);
    for (size_t i = 0; i < out->nvars; i++)
        var_slot[out->vars[i].obj] = i;
    for (size_t i = 0; i < n; i++) {
        const struct trace_instant *ev = &tr->instants[i];
        switch (ev->kind) {
        case INSTANT_ACQUIRE:
            if (ev->obj < tr->nobjects && is_lock_type(tr->objects[ev->obj].type))
                lock_owner[ev->obj] = ev->task;
            break;
        case INSTANT_RELEASE:
            if (ev->obj < tr->nobjects && is_lock_type(tr->objects[ev->obj].type))
                lock_owner[ev->obj] = STATE_NONE;
            break;
        case INSTANT_GIL_TAKE:
        case INSTANT_GIL_DROP:
            if (ev->value >= 0 && ev->value < (int64_t)tr->nprocesses) {
                gil_used[ev->value] = true;
                gil_owner[ev->value] = ev->kind == INSTANT_GIL_TAKE ? ev->task : STATE_NONE;
            }
            break;
        case INSTANT_DEADLOCK:
            out->deadlock = trace_string(tr, ev->text);
            break;
        case INSTANT_WRITE:
            if (is_var(tr, ev->obj)) {
                struct state_var *v = &out->vars[var_slot[ev->obj]];
                v->written = true;
                v->value = ev->value;
                v->writer = ev->task;
            }
            break;
        default:
            break;
        }
    }
    free(var_slot);
}

/* Collects the threads in the ready queue, in wait queues and blocked on
 * nothing; sorts each queue by arrival. */
static void fill_queues(const struct trace *tr, const size_t *cover, const size_t *prev,
                        const uint32_t *lock_owner, const uint32_t *gil_owner,
                        const bool *gil_used, struct state_view *out)
{
    struct queued *q = xmalloc((tr->ntasks ? tr->ntasks : 1) * sizeof *q);
    size_t nq = 0;
    uint64_t gil_queue0 = tr->nobjects, ready_queue = gil_queue0 + tr->nprocesses;
    uint64_t blocked_queue = ready_queue + 1;
    for (uint32_t k = 0; k < tr->ntasks; k++) {
        if (cover[k] == SIZE_MAX)
            continue;
        const struct trace_segment *s = &tr->segments[cover[k]];
        struct queued it = { .since = s->start, .task = k, .reason = s->reason,
                             .seq = prev[k] == SIZE_MAX ? 0 : (uint64_t)prev[k] + 1 };
        if (s->state == TRACE_READY)
            it.queue = ready_queue;
        else if (s->state != TRACE_BLOCKED)
            continue;
        else if (s->obj < tr->nobjects)
            it.queue = s->obj;
        else if (s->reason == REASON_GIL && tr->tasks[k].process < tr->nprocesses)
            it.queue = gil_queue0 + tr->tasks[k].process;
        else
            it.queue = blocked_queue;
        q[nq++] = it;
    }
    qsort(q, nq, sizeof *q, cmp_queued);

    out->nready = out->nobjects = out->ngils = out->nwaiters = out->nblocked = 0;
    size_t i = 0;
    for (uint64_t queue = 0; queue <= blocked_queue; queue++) {
        size_t first = out->nwaiters, start = i;
        for (; i < nq && q[i].queue == queue; i++) {
            struct state_entry e = { .task = q[i].task, .reason = q[i].reason,
                                     .since = q[i].since };
            if (queue == ready_queue) {
                out->ready = xgrow(out->ready, &out->ready_cap, out->nready + 1, sizeof e);
                out->ready[out->nready++] = e;
            } else if (queue == blocked_queue) {
                out->blocked = xgrow(out->blocked, &out->blocked_cap, out->nblocked + 1, sizeof e);
                out->blocked[out->nblocked++] = e;
            } else {
                out->waiters = xgrow(out->waiters, &out->waiters_cap, out->nwaiters + 1, sizeof e);
                out->waiters[out->nwaiters++] = e;
            }
        }
        size_t n = i - start;
        if (queue < gil_queue0) {
            uint32_t o = (uint32_t)queue;
            if (is_var(tr, o) || (n == 0 && lock_owner[o] == STATE_NONE))
                continue;
            out->objects = xgrow(out->objects, &out->objects_cap, out->nobjects + 1,
                                 sizeof *out->objects);
            out->objects[out->nobjects++] = (struct state_object){
                .obj = o, .owner = lock_owner[o], .first = first, .n = n };
        } else if (queue < ready_queue) {
            uint32_t p = (uint32_t)(queue - gil_queue0);
            if (n == 0 && !gil_used[p])
                continue;
            out->gils = xgrow(out->gils, &out->gils_cap, out->ngils + 1, sizeof *out->gils);
            out->gils[out->ngils++] = (struct state_gil){
                .process = p, .owner = gil_owner[p], .first = first, .n = n };
        }
    }
    free(q);
}

void state_at(const struct trace *tr, int64_t t, struct state_view *out)
{
    size_t nt = tr->ntasks ? tr->ntasks : 1;
    size_t no = tr->nobjects ? tr->nobjects : 1;
    size_t np = tr->nprocesses ? tr->nprocesses : 1;
    size_t *cover = xmalloc(nt * sizeof *cover);
    size_t *prev = xmalloc(nt * sizeof *prev);
    uint32_t *lock_owner = xmalloc(no * sizeof *lock_owner);
    uint32_t *gil_owner = xmalloc(np * sizeof *gil_owner);
    bool *gil_used = xmalloc(np * sizeof *gil_used);

    out->time = t;
    find_segments(tr, t, cover, prev);
    fill_cpus(tr, cover, out);
    replay_instants(tr, t, lock_owner, gil_owner, gil_used, out);
    fill_queues(tr, cover, prev, lock_owner, gil_owner, gil_used, out);

    free(gil_used);
    free(gil_owner);
    free(lock_owner);
    free(prev);
    free(cover);
}

void state_format_time(char *buf, size_t size, int64_t t)
{
    /* A step of 1 ns asks for every decimal the time needs, and no more. */
    layout_format_time(buf, size, t, layout_time_unit(0, t), 1);
}

void state_task_label(const struct trace *tr, uint32_t task, char *buf, size_t size)
{
    if (task >= tr->ntasks) {
        snprintf(buf, size, "?");
        return;
    }
    uint32_t p = tr->tasks[task].process;
    const char *pname = p < tr->nprocesses && tr->processes[p] ? tr->processes[p] : "?";
    snprintf(buf, size, "%s / %s", pname, tr->tasks[task].name ? tr->tasks[task].name : "?");
}

struct text {
    char *s;
    size_t len, cap;
};

static void text_add(struct text *tx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *tx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    tx->s = xgrow(tx->s, &tx->cap, tx->len + (size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(tx->s + tx->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    tx->len += (size_t)n;
}

/* ", "-separated thread labels of entries; with_reason adds "(sleep)". */
static void text_entries(struct text *tx, const struct trace *tr, const struct state_entry *e,
                         size_t n, bool with_reason)
{
    char label[160];
    if (n == 0) {
        text_add(tx, "none");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        state_task_label(tr, e[i].task, label, sizeof label);
        text_add(tx, "%s%s", i ? ", " : "", label);
        if (with_reason)
            text_add(tx, " (%s)", trace_reason_name((enum trace_reason)e[i].reason));
    }
}

char *state_view_text(const struct trace *tr, const struct state_view *v)
{
    struct text tx = { 0 };
    char label[160], when[32];

    state_format_time(when, sizeof when, v->time);
    text_add(&tx, "at %s\n", when);
    /* The threads caught in a deadlock block at the very instant it is
     * found, so no segment shows them waiting: the report says who. */
    if (v->deadlock)
        text_add(&tx, "%s%s\n", strncmp(v->deadlock, "deadlock", 8) ? "deadlock: " : "",
                 v->deadlock);
    /* a real run's thread whose event buffer was full by then: what follows
     * shows its last recorded state (and lock owners their last recorded
     * take) */
    int64_t until = trace_instants_until(tr);
    if (until >= 0 && v->time >= until) {
        char from[32];
        state_format_time(from, sizeof from, until);
        text_add(&tx, "not recorded from %s on (a thread's event buffer was full): last recorded states shown\n",
                 from);
    }
    for (size_t c = 0; c < v->ncpus; c++) {
        const struct state_cpu *cpu = &v->cpus[c];
        if (cpu->task == STATE_NONE) {
            text_add(&tx, "CPU %zu: idle\n", c);
            continue;
        }
        state_task_label(tr, cpu->task, label, sizeof label);
        text_add(&tx, "CPU %zu: %s%s\n", c, cpu->state == TRACE_SWITCH ? "switching to " : "",
                 label);
    }
    text_add(&tx, "ready: ");
    text_entries(&tx, tr, v->ready, v->nready, false);
    text_add(&tx, "\n");
    for (size_t i = 0; i < v->ngils; i++) {
        const struct state_gil *g = &v->gils[i];
        const char *pname = tr->processes[g->process] ? tr->processes[g->process] : "?";
        if (g->owner == STATE_NONE) {
            text_add(&tx, "GIL of %s: free", pname);
        } else {
            state_task_label(tr, g->owner, label, sizeof label);
            text_add(&tx, "GIL of %s: held by %s", pname, label);
        }
        if (g->n) {
            text_add(&tx, "; waiting: ");
            text_entries(&tx, tr, v->waiters + g->first, g->n, false);
        }
        text_add(&tx, "\n");
    }
    for (size_t i = 0; i < v->nobjects; i++) {
        const struct state_object *o = &v->objects[i];
        const struct trace_object *to = &tr->objects[o->obj];
        text_add(&tx, "%s %s:", to->type ? to->type : "object", to->name ? to->name : "?");
        if (o->owner != STATE_NONE) {
            state_task_label(tr, o->owner, label, sizeof label);
            text_add(&tx, " held by %s", label);
        } else if (is_lock_type(to->type)) {
            text_add(&tx, " free");
        }
        if (o->n) {
            text_add(&tx, "%s waiting: ", o->owner != STATE_NONE || is_lock_type(to->type) ? ";" : "");
            text_entries(&tx, tr, v->waiters + o->first, o->n, false);
        }
        text_add(&tx, "\n");
    }
    if (v->nblocked) {
        text_add(&tx, "blocked: ");
        text_entries(&tx, tr, v->blocked, v->nblocked, true);
        text_add(&tx, "\n");
    }
    for (size_t i = 0; i < v->nvars; i++) {
        const struct state_var *var = &v->vars[i];
        const char *name = tr->objects[var->obj].name ? tr->objects[var->obj].name : "?";
        if (var->written)
            text_add(&tx, "%s = %lld\n", name, (long long)var->value);
        else
            text_add(&tx, "%s: not written yet\n", name);
    }
    return tx.s;
}
