/* Medians, spreads and errors of a simulated run against real runs. */
#include "compare.h"

#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace_metrics.h"
#include "xalloc.h"
#include "order.h"

static const char *const field_keys[COMPARE_FIELD_COUNT] = {
    "arrival_ns", "first_run_ns", "finish_ns", "response_ns", "turnaround_ns",
    "wait_ns", "cpu_ns", "blocked_ns", "gil_wait_ns", "context_switches",
};

const char *compare_field_key(enum compare_field f)
{
    return f < COMPARE_FIELD_COUNT ? field_keys[f] : "";
}

/* A difference of two instants, -1 when either never happened. */
static int64_t since(int64_t end, int64_t start)
{
    return end >= 0 && start >= 0 ? end - start : -1;
}

int64_t compare_field_value(const struct task_metrics *m, enum compare_field f)
{
    switch (f) {
    case COMPARE_ARRIVAL: return m->arrival;
    case COMPARE_FIRST_RUN: return m->first_run;
    case COMPARE_FINISH: return m->finish;
    case COMPARE_RESPONSE: return since(m->first_run, m->arrival);
    case COMPARE_TURNAROUND: return since(m->finish, m->arrival);
    case COMPARE_WAIT: return m->wait;
    case COMPARE_CPU: return m->cpu;
    case COMPARE_BLOCKED: return m->blocked;
    case COMPARE_GIL_WAIT: return m->gil_wait;
    case COMPARE_SWITCHES: return (int64_t)m->context_switches;
    case COMPARE_FIELD_COUNT: break;
    }
    return -1;
}

double compare_error_pct(int64_t sim, int64_t real)
{
    if (sim < 0 || real < 0)
        return NAN;
    if (real == 0)
        return sim == 0 ? 0.0 : NAN;
    return ((double)sim - (double)real) * 100.0 / (double)real;
}

struct compare_stat compare_stat_of(int64_t *v, uint32_t n)
{
    struct compare_stat s = {-1, -1, -1};
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (v[i] >= 0)
            v[k++] = v[i];
    if (k == 0)
        return s;
    qsort(v, k, sizeof v[0], order_int64);
    s.min = v[0];
    s.max = v[k - 1];
    /* halves first, so two values near INT64_MAX cannot overflow */
    s.median = k % 2 ? v[k / 2] : v[k / 2 - 1] / 2 + v[k / 2] / 2 + (v[k / 2 - 1] % 2 + v[k / 2] % 2) / 2;
    return s;
}

static bool same_thread(const struct compare_run *a, uint32_t i, const struct compare_run *b, uint32_t j)
{
    return strcmp(a->name[i], b->name[j]) == 0 && strcmp(a->process[i], b->process[j]) == 0;
}

/* The index in r of the occurrence-th thread named like sim's thread i, or
 * UINT32_MAX. */
static uint32_t find_thread(const struct compare_run *r, const struct compare_run *sim, uint32_t i,
                            uint32_t occurrence)
{
    for (uint32_t j = 0; j < r->nthreads; j++)
        if (same_thread(sim, i, r, j) && occurrence-- == 0)
            return j;
    return UINT32_MAX;
}

/* When the run's last thread finished; -1 when none did. */
static int64_t last_finish(const struct compare_run *run)
{
    int64_t end = -1;
    for (uint32_t i = 0; i < run->nthreads; i++)
        if (run->metrics[i].finish > end)
            end = run->metrics[i].finish;
    return end;
}

struct comparison *comparison_create(const struct compare_run *sim, const struct compare_run *real, uint32_t nreal)
{
    struct comparison *cmp = xcalloc(1, sizeof *cmp);
    int64_t *v = xcalloc(nreal ? nreal : 1, sizeof *v);
    /* Real runs that list the threads in the simulator's order are matched
     * index by index (the common case, and linear); a run leaves this fast
     * path at its first difference. */
    bool *in_order = xcalloc(nreal ? nreal : 1, sizeof *in_order);
    uint32_t *match = xcalloc(nreal ? nreal : 1, sizeof *match);

    cmp->repeat = nreal;
    cmp->sim_makespan = sim->makespan;
    for (uint32_t r = 0; r < nreal; r++)
        v[r] = real[r].makespan;
    cmp->real_makespan = compare_stat_of(v, nreal);
    cmp->makespan_pct = compare_error_pct(cmp->sim_makespan, cmp->real_makespan.median);
    struct {
        size_t offset;
        struct compare_stat *out;
    } counters[] = {
        {offsetof(struct compare_run, context_switches), &cmp->real_context_switches},
        {offsetof(struct compare_run, events), &cmp->real_events},
        {offsetof(struct compare_run, gil_switches), &cmp->real_gil_switches},
        {offsetof(struct compare_run, lost_updates), &cmp->real_lost_updates},
        {offsetof(struct compare_run, idle_while_ready), &cmp->real_idle_while_ready},
    };
    cmp->sim_idle_while_ready = (int64_t)sim->idle_while_ready;
    for (uint32_t r = 0; r < nreal; r++) {
        v[r] = real[r].recorded_until;
        cmp->truncated += real[r].recorded_until >= 0;
    }
    cmp->real_recorded_until = compare_stat_of(v, nreal);
    for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
        for (uint32_t r = 0; r < nreal; r++) {
            uint64_t x;
            memcpy(&x, (const char *)&real[r] + counters[c].offset, sizeof x);
            v[r] = (int64_t)x;
        }
        *counters[c].out = compare_stat_of(v, nreal);
    }

    /* when each run's last thread finished (-1: none did) */
    int64_t sim_end = last_finish(sim);
    int64_t *real_end = xcalloc(nreal ? nreal : 1, sizeof *real_end);
    bool *sim_last_seen = xcalloc(nreal ? nreal : 1, sizeof *sim_last_seen);
    for (uint32_t r = 0; r < nreal; r++)
        real_end[r] = last_finish(&real[r]);

    cmp->nthreads = sim->nthreads;
    cmp->threads = xcalloc(sim->nthreads ? sim->nthreads : 1, sizeof *cmp->threads);
    for (uint32_t r = 0; r < nreal; r++)
        in_order[r] = true;
    for (uint32_t i = 0; i < sim->nthreads; i++) {
        struct compare_thread *t = &cmp->threads[i];
        t->process = xstrdup(sim->process[i]);
        t->name = xstrdup(sim->name[i]);
        uint32_t occurrence = 0;
        bool counted = false;
        for (uint32_t r = 0; r < nreal; r++) {
            const struct compare_run *rr = &real[r];
            in_order[r] = in_order[r] && i < rr->nthreads && same_thread(sim, i, rr, i);
            if (in_order[r]) {
                match[r] = i;
            } else {
                if (!counted) {
                    for (uint32_t j = 0; j < i; j++)
                        occurrence += same_thread(sim, i, sim, j);
                    counted = true;
                }
                match[r] = find_thread(rr, sim, i, occurrence);
            }
            t->seen += match[r] != UINT32_MAX;
        }
        for (int f = 0; f < COMPARE_FIELD_COUNT; f++) {
            t->sim[f] = compare_field_value(&sim->metrics[i], (enum compare_field)f);
            for (uint32_t r = 0; r < nreal; r++)
                v[r] = match[r] == UINT32_MAX ? -1
                                               : compare_field_value(&real[r].metrics[match[r]], (enum compare_field)f);
            t->real[f] = compare_stat_of(v, nreal);
            t->error_pct[f] = compare_error_pct(t->sim[f], t->real[f].median);
        }
        t->sim_last = sim_end >= 0 && sim->metrics[i].finish == sim_end;
        for (uint32_t r = 0; r < nreal; r++) {
            bool last = match[r] != UINT32_MAX && real_end[r] >= 0 && real[r].metrics[match[r]].finish == real_end[r];
            t->real_last += last;
            sim_last_seen[r] = sim_last_seen[r] || (last && t->sim_last);
        }
    }
    for (uint32_t r = 0; r < nreal; r++)
        cmp->last_other_runs += sim_end >= 0 && real_end[r] >= 0 && !sim_last_seen[r];
    free(sim_last_seen);
    free(real_end);
    free(match);
    free(in_order);
    free(v);
    return cmp;
}

void comparison_destroy(struct comparison *cmp)
{
    if (!cmp)
        return;
    for (uint32_t i = 0; i < cmp->nthreads; i++) {
        free(cmp->threads[i].process);
        free(cmp->threads[i].name);
    }
    free(cmp->threads);
    free(cmp);
}

void compare_run_from_engine(struct compare_run *run, const struct engine *eng)
{
    uint32_t n = engine_task_count(eng);
    const char **process = xcalloc(n ? n : 1, sizeof *process);
    const char **name = xcalloc(n ? n : 1, sizeof *name);
    struct task_metrics *m = xcalloc(n ? n : 1, sizeof *m);
    for (uint32_t i = 0; i < n; i++) {
        process[i] = engine_task_process(eng, i);
        name[i] = engine_task_name(eng, i);
        m[i] = *engine_task_metrics(eng, i);
    }
    const struct engine_stats *st = engine_stats(eng);
    run->makespan = st->makespan;
    run->context_switches = st->context_switches + st->process_switches;
    run->events = st->events;
    run->gil_switches = st->gil_switches;
    run->lost_updates = st->lost_updates;
    run->idle_while_ready = (uint64_t)trace_idle_while_ready(engine_trace(eng));
    run->recorded_until = -1;
    run->nthreads = n;
    run->process = process;
    run->name = name;
    run->metrics = m;
}

/* Whether ev is a take of a GIL of one of the trace's processes. */
static bool gil_take_of(const struct trace *tr, const struct trace_instant *ev)
{
    return ev->kind == INSTANT_GIL_TAKE && ev->value >= 0 && (uint64_t)ev->value < tr->nprocesses;
}

void compare_run_from_trace(struct compare_run *run, const struct trace *tr)
{
    uint32_t n = tr->ntasks;
    const char **process = xcalloc(n ? n : 1, sizeof *process);
    const char **name = xcalloc(n ? n : 1, sizeof *name);
    struct task_metrics *m = xcalloc(n ? n : 1, sizeof *m);
    run->makespan = trace_metrics_compute(tr, m);
    run->context_switches = 0;
    run->events = tr->nsegments + tr->ninstants;
    run->gil_switches = 0;
    run->lost_updates = 0;
    run->idle_while_ready = (uint64_t)trace_idle_while_ready(tr);
    run->recorded_until = trace_recorded_until(tr);
    /* a GIL switch is a take by another thread than the process's last
     * taker, in time order (a real trace lists each thread's instants
     * together) */
    size_t ntakes = 0;
    for (size_t i = 0; i < tr->ninstants; i++) {
        run->lost_updates += tr->instants[i].kind == INSTANT_LOST_UPDATE;
        ntakes += gil_take_of(tr, &tr->instants[i]);
    }
    /* sized to the takes: a whole trace has millions of other instants */
    struct order_stamp *takes = xcalloc(ntakes ? ntakes : 1, sizeof *takes);
    for (size_t i = 0, k = 0; k < ntakes; i++)
        if (gil_take_of(tr, &tr->instants[i]))
            takes[k++] = (struct order_stamp){.time = tr->instants[i].time, .index = i};
    qsort(takes, ntakes, sizeof *takes, order_stamp);
    uint32_t *last_taker = xcalloc(tr->nprocesses ? tr->nprocesses : 1, sizeof *last_taker);
    for (uint32_t p = 0; p < tr->nprocesses; p++)
        last_taker[p] = UINT32_MAX;
    for (size_t k = 0; k < ntakes; k++) {
        const struct trace_instant *ev = &tr->instants[takes[k].index];
        run->gil_switches += last_taker[ev->value] != UINT32_MAX && last_taker[ev->value] != ev->task;
        last_taker[ev->value] = ev->task;
    }
    free(last_taker);
    free(takes);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = tr->tasks[i].process;
        process[i] = p < tr->nprocesses ? tr->processes[p] : "";
        name[i] = tr->tasks[i].name;
        run->context_switches += m[i].context_switches;
    }
    run->nthreads = n;
    run->process = process;
    run->name = name;
    run->metrics = m;
}

void compare_run_deinit(struct compare_run *run)
{
    free((void *)run->process);
    free((void *)run->name);
    free((void *)run->metrics);
    memset(run, 0, sizeof *run);
}
