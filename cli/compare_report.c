/* compare's report writers: an aligned text table and the contracted JSON. */
#include "compare_report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Writes s as a JSON string (names and the scenario's title; UTF-8 is passed
 * through, as the loader accepted it). */
static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void json_ns(FILE *out, int64_t v)
{
    if (v < 0)
        fputs("null", out);
    else
        fprintf(out, "%" PRId64, v);
}

static void json_pct(FILE *out, double v)
{
    if (isnan(v))
        fputs("null", out);
    else
        fprintf(out, "%.2f", v);
}

/* The real runs in the shape of run --format json, with medians; each
 * thread also has its spreads as [min, max]. */
/* The real values of variable var in process p (nprocesses: the shared
 * memory); NULL when there are none. */
static const int64_t *real_var(const struct compare_memory *mem, const struct scenario *sc, uint32_t p, uint32_t var)
{
    if (!mem || p > mem->nprocesses)
        return NULL;
    return mem->values[(size_t)p * sc->nvars + var];
}

/* The real memory of process p (nprocesses: the shared memory) as JSON. */
static void write_real_memory(FILE *out, const struct scenario *sc, const struct compare_memory *mem, uint32_t p)
{
    bool first = true;
    fputc('{', out);
    for (uint32_t v = 0; mem && v < sc->nvars; v++) {
        const int64_t *x = real_var(mem, sc, p, v);
        if (!x)
            continue;
        fputs(first ? "" : ", ", out);
        first = false;
        json_str(out, sc->vars[v].name);
        fputs(": ", out);
        if (!sc->vars[v].length) {
            fprintf(out, "%" PRId64, x[0]);
            continue;
        }
        fputc('[', out);
        for (uint32_t k = 0; k < sc->vars[v].length; k++)
            fprintf(out, "%s%" PRId64, k ? ", " : "", x[k]);
        fputc(']', out);
    }
    fputc('}', out);
}

static void write_real_json(FILE *out, const struct scenario *sc, const char *policy, const struct comparison *cmp,
                            const struct compare_memory *mem)
{
    fputs("{\"scenario\": ", out);
    json_str(out, sc->name);
    fputs(", \"policy\": ", out);
    json_str(out, policy);
    fprintf(out, ", \"cpus\": %" PRIu32 ", \"seed\": %" PRIu64 ", \"repeat\": %" PRIu32 ", \"makespan_ns\": ",
            sc->machine.cpus, sc->seed, cmp->repeat);
    json_ns(out, cmp->real_makespan.median);
    fputs(", \"makespan_spread_ns\": [", out);
    json_ns(out, cmp->real_makespan.min);
    fputs(", ", out);
    json_ns(out, cmp->real_makespan.max);
    fputs("],\n    \"threads\": [", out);
    for (uint32_t i = 0; i < cmp->nthreads; i++) {
        const struct compare_thread *t = &cmp->threads[i];
        fputs(i ? ",\n      {\"process\": " : "\n      {\"process\": ", out);
        json_str(out, t->process);
        fputs(", \"name\": ", out);
        json_str(out, t->name);
        for (int f = 0; f < COMPARE_FIELD_COUNT; f++) {
            fprintf(out, ", \"%s\": ", compare_field_key((enum compare_field)f));
            json_ns(out, t->real[f].median);
        }
        fputs(", \"spread\": {", out);
        for (int f = 0; f < COMPARE_FIELD_COUNT; f++) {
            fprintf(out, "%s\"%s\": [", f ? ", " : "", compare_field_key((enum compare_field)f));
            json_ns(out, t->real[f].min);
            fputs(", ", out);
            json_ns(out, t->real[f].max);
            fputc(']', out);
        }
        fprintf(out, "}, \"runs\": %" PRIu32 "}", t->seen);
    }
    fputs(cmp->nthreads ? "\n    ],\n    \"memory\": {" : "],\n    \"memory\": {", out);
    for (uint32_t p = 0; mem && p < mem->nprocesses; p++) {
        fputs(p ? ", " : "", out);
        json_str(out, mem->process[p]);
        fputs(": ", out);
        write_real_memory(out, sc, mem, p);
    }
    fputs("}, \"shared\": ", out);
    write_real_memory(out, sc, mem, mem ? mem->nprocesses : 0);
    fputs(",\n    \"stats\": {\"events\": ", out);
    json_ns(out, cmp->real_events.median);
    fputs(", \"context_switches\": ", out);
    json_ns(out, cmp->real_context_switches.median);
    fputs(", \"gil_switches\": ", out);
    json_ns(out, cmp->real_gil_switches.median);
    fputs(", \"lost_updates\": ", out);
    json_ns(out, cmp->real_lost_updates.median);
    fputs(", \"idle_while_ready_ns\": ", out);
    json_ns(out, cmp->real_idle_while_ready.median);
    fputs(", \"recorded_until_ns\": ", out);
    json_ns(out, cmp->real_recorded_until.min);
    fprintf(out, ", \"truncated_runs\": %" PRIu32, cmp->truncated);
    fputs(", \"deadlock\": null}}", out);
}

/* Whether the simulation decided enough of its lock hand-off races by less
 * than the profile's futex_race_ns (how far the same race moves on the
 * host) to matter to its makespan: at least 100, and those races times that
 * window a twentieth of the makespan or more. Real runs decide such races
 * either way, so the makespan error is then not one the model predicts. */
static bool close_races_decide(const struct engine *eng, const struct profile *prof, int64_t sim_makespan)
{
    const struct engine_stats *st = engine_stats(eng);
    int64_t window = prof->futex_race_ns;
    return st->lock_close_races >= 100 && window > 0 &&
           (double)st->lock_close_races * (double)window * 20 >= (double)sim_makespan;
}

/* The per-thread errors written in the "error" object, with their keys. */
static const struct {
    enum compare_field field;
    const char *key;
} error_keys[] = {
    {COMPARE_TURNAROUND, "turnaround_pct"},
    {COMPARE_CPU, "cpu_pct"},
    {COMPARE_RESPONSE, "response_pct"},
    {COMPARE_WAIT, "wait_pct"},
    {COMPARE_BLOCKED, "blocked_pct"},
    {COMPARE_FINISH, "finish_pct"},
};

static void write_json(FILE *out, const struct compare_report *r)
{
    const struct report_run *sim = r->sim;
    const struct comparison *cmp = r->cmp;
    const struct profile *prof = r->profile;
    const struct compare_fit *hm = &r->fit;
    char *sim_text = NULL;
    size_t sim_len = 0;
    FILE *sim_out = open_memstream(&sim_text, &sim_len);
    if (!sim_out)
        return;
    report_write(sim_out, REPORT_JSON, sim);
    fclose(sim_out);
    while (sim_len > 0 && sim_text[sim_len - 1] == '\n')
        sim_text[--sim_len] = '\0';

    fputs("{\n  \"profile\": {\"path\": ", out);
    json_str(out, r->profile_path);
    fputs(", \"name\": ", out);
    json_str(out, prof->name);
    fprintf(out, ", \"cpus_in_scenario\": %" PRIu32 ", \"context_switch_from_profile\": %s"
                 ", \"process_switch_from_profile\": %s, \"wakeup_latency_from_profile\": %s},\n",
            hm->cpus_before, hm->context_switch ? "true" : "false", hm->process_switch ? "true" : "false",
            hm->wakeup_latency ? "true" : "false");
    /* the host's speed around the real runs (docs/host-compare.md) */
    fprintf(out, "  \"count_ns_per_iter\": {\"profile\": %.6g, \"before\": %.6g, \"after\": %.6g},\n",
            prof->count_ns_per_iter, r->count_before, r->count_after);
    fprintf(out, "  \"sim\": %s,\n  \"real\": ", sim_text);
    write_real_json(out, sim->sc, sim->policy, cmp, r->memory);
    fputs(",\n  \"error\": {\"makespan_pct\": ", out);
    json_pct(out, cmp->makespan_pct);
    fprintf(out, ", \"close_races\": %s",
            close_races_decide(sim->eng, prof, cmp->sim_makespan) ? "true" : "false");
    fputs(", \"threads\": [", out);
    for (uint32_t i = 0; i < cmp->nthreads; i++) {
        const struct compare_thread *t = &cmp->threads[i];
        fputs(i ? ",\n    {\"process\": " : "\n    {\"process\": ", out);
        json_str(out, t->process);
        fputs(", \"name\": ", out);
        json_str(out, t->name);
        for (size_t k = 0; k < sizeof error_keys / sizeof error_keys[0]; k++) {
            fprintf(out, ", \"%s\": ", error_keys[k].key);
            json_pct(out, t->error_pct[error_keys[k].field]);
        }
        fprintf(out, ", \"last_to_end\": {\"sim\": %s, \"real_runs\": %" PRIu32 "}", t->sim_last ? "true" : "false",
                t->real_last);
        fputc('}', out);
    }
    fputs(cmp->nthreads ? "\n  ]}\n}\n" : "]}\n}\n", out);
    free(sim_text);
}

/* When real runs ended with another thread than the simulation did: which
 * ones, and in how many runs. Each thread's real figures are medians over
 * the runs, so one that waited in some runs and not in others has a median
 * of neither; this says that the order itself changed. */
static void write_text_last(FILE *out, const struct comparison *cmp)
{
    if (cmp->last_other_runs == 0)
        return;
    const struct compare_thread *sim_last = NULL;
    for (uint32_t i = 0; i < cmp->nthreads && !sim_last; i++)
        if (cmp->threads[i].sim_last)
            sim_last = &cmp->threads[i];
    if (!sim_last)
        return;
    fprintf(out, "  the last thread to end was %s/%s in the simulation, and another in %" PRIu32 " of the %" PRIu32
                 " real runs (",
            sim_last->process, sim_last->name, cmp->last_other_runs, cmp->repeat);
    bool first = true;
    for (uint32_t i = 0; i < cmp->nthreads; i++) {
        const struct compare_thread *t = &cmp->threads[i];
        if (t->sim_last || t->real_last == 0)
            continue;
        fprintf(out, "%s%s/%s in %" PRIu32, first ? "" : ", ", t->process, t->name, t->real_last);
        first = false;
    }
    fputs("): the host orders the threads differently from run to run, so a thread's real median above may mix "
          "runs in which it waited with runs in which it did not\n",
          out);
}

/* "12.345 ms" for a duration, "-" for none. */
static void fmt_ms(char *buf, size_t size, int64_t ns)
{
    if (ns < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.3f ms", (double)ns / 1e6);
}

static void fmt_spread(char *buf, size_t size, const struct compare_stat *s)
{
    if (s->min < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.3f-%.3f", (double)s->min / 1e6, (double)s->max / 1e6);
}

static void fmt_pct(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%+.1f%%", v);
}

/* The simulated values of variable var in the simulated process named
 * `process` (NULL: the shared memory) into x (its length or 1 cells).
 * Returns false when the simulation has no such variable there. */
static bool sim_var(const struct report_run *run, const char *process, uint32_t var, int64_t *x)
{
    const struct var_decl *d = &run->sc->vars[var];
    uint32_t n = d->length ? d->length : 1;
    if (!process) {
        if (d->process >= 0)
            return false;
        for (uint32_t k = 0; k < n; k++)
            engine_var_value(run->eng, var, k, &x[k]);
        return true;
    }
    for (uint32_t p = 0; p < engine_process_count(run->eng); p++) {
        if (strcmp(engine_process_name(run->eng, p), process) != 0)
            continue;
        if (d->process < 0 || (uint32_t)d->process != engine_process_template(run->eng, p))
            return false;
        for (uint32_t k = 0; k < n; k++)
            engine_process_var(run->eng, p, var, k, &x[k]);
        return true;
    }
    return false;
}

static void text_values(FILE *out, const int64_t *x, uint32_t length)
{
    if (!length) {
        fprintf(out, "%" PRId64, x[0]);
        return;
    }
    fputc('[', out);
    for (uint32_t k = 0; k < length; k++)
        fprintf(out, "%s%" PRId64, k ? ", " : "", x[k]);
    fputc(']', out);
}

/* One line per variable whose final value differs between the simulation
 * and the real runs (medians): a lost update shows up here. */
static void write_text_memory(FILE *out, const struct report_run *run, const struct compare_memory *mem)
{
    const struct scenario *sc = run->sc;
    for (uint32_t p = 0; mem && p <= mem->nprocesses; p++) {
        const char *process = p < mem->nprocesses ? mem->process[p] : NULL;
        for (uint32_t v = 0; v < sc->nvars; v++) {
            const int64_t *real = real_var(mem, sc, p, v);
            uint32_t n = sc->vars[v].length ? sc->vars[v].length : 1;
            int64_t *simx = calloc(n, sizeof *simx);
            if (real && simx && sim_var(run, process, v, simx) && memcmp(real, simx, n * sizeof *simx) != 0) {
                fprintf(out, "memory %s.%s differs: sim ", process ? process : "shared", sc->vars[v].name);
                text_values(out, simx, sc->vars[v].length);
                fputs(", real (median) ", out);
                text_values(out, real, sc->vars[v].length);
                fputc('\n', out);
            }
            free(simx);
        }
    }
}

void compare_fit_write_text(FILE *out, const char *profile_path, const char *profile_name,
                            const struct scenario *sc, const struct compare_fit *fit)
{
    fprintf(out, "profile %s (%s)\n", profile_path, profile_name);
    fprintf(out, "simulated as this host: cpus %" PRIu32 " (scenario: %" PRIu32 ")", sc->machine.cpus,
            fit->cpus_before);
    fprintf(out, ", context_switch %.1f us%s", (double)sc->machine.context_switch / 1e3,
            fit->context_switch ? " (profile)" : "");
    fprintf(out, ", process_switch %.1f us%s", (double)sc->machine.process_switch / 1e3,
            fit->process_switch ? " (profile)" : "");
    fprintf(out, ", wakeup_latency %.1f us%s\n\n", (double)sc->machine.wakeup_latency / 1e3,
            fit->wakeup_latency ? " (profile)" : " (scenario)");
}

static void write_text(FILE *out, const struct compare_report *r)
{
    const struct report_run *run = r->sim;
    const struct comparison *cmp = r->cmp;
    const struct profile *prof = r->profile;
    const struct scenario *sc = run->sc;
    const char *policy = run->policy;
    fputs("scenario ", out);
    json_str(out, sc->name);
    fprintf(out, ": policy %s, %" PRIu32 " CPU%s, %" PRIu32 " real run%s\n", policy, sc->machine.cpus,
            sc->machine.cpus == 1 ? "" : "s", cmp->repeat, cmp->repeat == 1 ? "" : "s");
    compare_fit_write_text(out, r->profile_path, prof->name, sc, &r->fit);

    fprintf(out, "%-10s %-12s %-36s   %s\n", "", "", "turnaround (ms): sim, real median, min-max, error",
            "CPU (ms): sim, real median, error");
    char a[32], b[32], c[48], d[32], e[32], f[32], g[32];
    for (uint32_t i = 0; i < cmp->nthreads; i++) {
        const struct compare_thread *t = &cmp->threads[i];
        fmt_ms(a, sizeof a, t->sim[COMPARE_TURNAROUND]);
        fmt_ms(b, sizeof b, t->real[COMPARE_TURNAROUND].median);
        fmt_spread(c, sizeof c, &t->real[COMPARE_TURNAROUND]);
        fmt_pct(d, sizeof d, t->error_pct[COMPARE_TURNAROUND]);
        fmt_ms(e, sizeof e, t->sim[COMPARE_CPU]);
        fmt_ms(f, sizeof f, t->real[COMPARE_CPU].median);
        fmt_pct(g, sizeof g, t->error_pct[COMPARE_CPU]);
        fprintf(out, "%-10s %-12s %12s %12s %15s %8s   %12s %12s %8s\n", t->process, t->name, a, b, c, d, e, f, g);
    }
    fmt_ms(a, sizeof a, cmp->sim_makespan);
    fmt_ms(b, sizeof b, cmp->real_makespan.median);
    fmt_spread(c, sizeof c, &cmp->real_makespan);
    fmt_pct(d, sizeof d, cmp->makespan_pct);
    fprintf(out, "%-23s %12s %12s %15s %8s\n", "makespan", a, b, c, d);
    /* CPU time the host's placement lost (trace_idle_while_ready) */
    fmt_ms(a, sizeof a, cmp->sim_idle_while_ready);
    fmt_ms(b, sizeof b, cmp->real_idle_while_ready.median);
    fmt_spread(c, sizeof c, &cmp->real_idle_while_ready);
    fprintf(out, "%-23s %12s %12s %15s\n", "CPU idle, thread ready", a, b, c);
    /* the stretch the idle figure covers: the whole run, or what a full
     * event buffer left of it */
    int64_t seen = cmp->real_makespan.median;
    if (cmp->truncated > 0 && cmp->real_recorded_until.median < seen)
        seen = cmp->real_recorded_until.median;
    if (seen > 0 && cmp->real_idle_while_ready.median * 10 >= seen)
        fprintf(out, "  the real runs left a CPU idle while a thread waited for one (%.3f ms of CPU time in %.3f ms): "
                     "the host's scheduler kept threads on a busy CPU, which the simulation does not model\n",
                (double)cmp->real_idle_while_ready.median / 1e6, (double)seen / 1e6);
    if (cmp->truncated > 0)
        fprintf(out, "  the traces of %" PRIu32 " of the %" PRIu32 " real runs are whole only up to %.3f ms (median; "
                     "%.3f ms at the earliest): a thread's event buffer filled. The CPU idle figure covers that "
                     "part; past it a thread's CPU, wait and blocked times count its last recorded state "
                     "(--trace-events records more, at the cost of slowing a run that makes many events)\n",
                cmp->truncated, cmp->repeat, (double)cmp->real_recorded_until.median / 1e6,
                (double)cmp->real_recorded_until.min / 1e6);
    write_text_last(out, cmp);
    const struct engine_stats *st = engine_stats(run->eng);
    int64_t window = prof->futex_race_ns;
    if (close_races_decide(run->eng, prof, cmp->sim_makespan))
        fprintf(out, "  the simulation decided %" PRIu64 " of its %" PRIu64 " lock hand-off races (a woken waiter "
                     "against another thread trying the lock) by less than %" PRId64 " ns, the profile's "
                     "futex_race_ns: real runs decide such races either way, in a mix the simulation does not "
                     "predict, and a run made of them can be far from it (docs/host-compare.md)\n",
                st->lock_close_races, st->lock_races, window);
    write_text_memory(out, run, r->memory);
}

void compare_report_write(FILE *out, enum report_format format, const struct compare_report *r)
{
    if (format == REPORT_JSON)
        write_json(out, r);
    else
        write_text(out, r);
}
