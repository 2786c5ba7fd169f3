/* `threadsim real`: run a scenario for real on this host (host/runner.h) and
 * report the same per-thread metrics as `run`, medians over --repeat runs. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_cli.h"
#include "cli.h"
#include "host/runner.h"
#include "report.h"
#include "sim/trace_metrics.h"
#include "viz/perfetto.h"
#include "sim/order.h"
#include "sim/xalloc.h"

#define REAL_MAX_REPEAT 1000

struct real_options {
    const char *file;
    long repeat;
    enum report_format format;
    const char *trace_path;
    const char *perfetto_path;
    sim_time timeout;
    uint32_t trace_events;     /* --trace-events, or 0: the runner's default */
};

static int real_exec(int argc, char **argv);

const struct cmd_entry cmd_real_entry = {
    .name = "real",
    .summary = "run a scenario for real (processes, pthreads, a real GIL) and print its metrics",
    .usage =
        "Usage: threadsim real FILE [--repeat N] [--format text|json|csv] [--trace OUT.json]\n"
        "                      [--perfetto OUT.json] [--timeout D] [--trace-events N]\n"
        "\n"
        "Runs the scenario in FILE on this machine: every process a real process\n"
        "(forked; a spawn execs threadsim again), every thread a pthread, every lock\n"
        "a real process-shared lock, every GIL a C implementation of CPython's,\n"
        "every compute op a real C loop. Prints the same per-thread metrics as\n"
        "`threadsim run` (medians over the repeats). Ctrl-C stops the run and\n"
        "kills its processes.\n"
        "\n"
        "Options:\n"
        "  --repeat N      run N times (1 to 1000, default 1) and report medians\n"
        "  --format F      text (default), json or csv\n"
        "  --trace OUT     write the trace of the run closest to the median makespan\n"
        "  --perfetto OUT  write it as a Perfetto/Chrome trace (ui.perfetto.dev)\n"
        "  --timeout D     watchdog: stop a run after this wall time (default 60s)\n"
        "  --trace-events N  events each declared thread's trace buffer holds\n"
        "                  (default 16384; a long run's trace is cut short past\n"
        "                  them, and a warning says what would record it whole)\n"
        "  -h, --help      show this help\n"
        "\n"
        "Exit status: 0 success, 1 internal error, 2 bad usage or a scenario the real\n"
        "runner cannot run, 3 the scenario deadlocked, 4 a run-time error in the\n"
        "scenario or a crashed process, 5 the watchdog stopped the run.\n",
    .exec = real_exec,
};

enum { OPT_REPEAT = 256, OPT_FORMAT, OPT_TRACE, OPT_PERFETTO, OPT_TIMEOUT, OPT_TRACE_EVENTS };

static int parse_options(int argc, char **argv, struct real_options *opts)
{
    static const struct option longopts[] = {
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"perfetto", required_argument, NULL, OPT_PERFETTO},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"trace-events", required_argument, NULL, OPT_TRACE_EVENTS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct cmd_entry *cmd = &cmd_real_entry;
    struct error err;
    int c;
    memset(opts, 0, sizeof *opts);
    opts->repeat = 1;
    opts->format = REPORT_TEXT;
    opts->timeout = 60LL * 1000000000;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_help(cmd);
            return -1;
        case OPT_REPEAT:
            if (!cli_parse_long(optarg, 1, REAL_MAX_REPEAT, &opts->repeat))
                return cli_usage_error(cmd, "--repeat wants a number from 1 to %d, got '%s'", REAL_MAX_REPEAT,
                                       optarg);
            break;
        case OPT_FORMAT:
            if (!report_format_parse(optarg, &opts->format))
                return cli_usage_error(cmd, "--format wants text, json or csv, got '%s'", optarg);
            break;
        case OPT_TRACE:
            opts->trace_path = optarg;
            break;
        case OPT_PERFETTO:
            opts->perfetto_path = optarg;
            break;
        case OPT_TIMEOUT:
            if (cli_parse_duration(optarg, &opts->timeout, &err) != STATUS_OK || opts->timeout <= 0)
                return cli_usage_error(cmd, "--timeout wants a positive duration such as 10s, got '%s'", optarg);
            break;
        case OPT_TRACE_EVENTS:
        {
            int rc = cli_trace_events_option(cmd, optarg, &opts->trace_events);
            if (rc != STATUS_OK)
                return rc;
            break;
        }
        case ':':
            return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    return cli_scenario_file(cmd, argc, argv, &opts->file);
}

/* Median of n values (sorted in place); -1 stays -1 when most are -1. */
static int64_t median(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, order_int64);
    return v[n / 2];
}

static void json_string(FILE *out, const char *s)
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

static void json_time(FILE *out, const char *key, int64_t v)
{
    if (v < 0)
        fprintf(out, "\"%s\": null", key);
    else
        fprintf(out, "\"%s\": %" PRId64, key, v);
}

/* The report's inputs: medians over the runs, the memory of the last run. */
struct real_report {
    const struct scenario *sc;
    const struct host_result *res; /* the representative run */
    const struct trace *tr;
    uint32_t ntasks;
    struct task_metrics *m;        /* medians */
    int64_t makespan;              /* median */
    uint64_t lost_updates;         /* median */
    long repeat;
    const char *deadlock;
};

/* The final memory of process p (UINT32_MAX: the shared memory) as JSON. */
static void write_memory(FILE *out, const struct real_report *rr, uint32_t p)
{
    bool first = true;
    fputc('{', out);
    for (uint32_t v = 0; v < rr->sc->nvars; v++) {
        const struct var_decl *d = &rr->sc->vars[v];
        const int64_t *x = host_result_var(rr->res, rr->sc, p, v);
        if (!x)
            continue;
        fputs(first ? "" : ", ", out);
        first = false;
        json_string(out, d->name);
        fputs(": ", out);
        if (!d->length) {
            fprintf(out, "%" PRId64, x[0]);
            continue;
        }
        fputc('[', out);
        for (uint32_t k = 0; k < d->length; k++)
            fprintf(out, "%s%" PRId64, k ? ", " : "", x[k]);
        fputc(']', out);
    }
    fputc('}', out);
}

static uint64_t total_switches(const struct real_report *rr)
{
    uint64_t n = 0;
    for (uint32_t t = 0; t < rr->ntasks; t++)
        n += rr->m[t].context_switches;
    return n;
}

static void write_json(FILE *out, const struct real_report *rr)
{
    const struct trace *tr = rr->tr;
    uint64_t gil_switches = 0;
    for (uint32_t p = 0; p < rr->res->nprocesses; p++)
        gil_switches += rr->res->gil[p].switches;
    fputs("{\n  \"scenario\": ", out);
    json_string(out, rr->sc->name);
    fprintf(out, ",\n  \"policy\": \"os\",\n  \"cpus\": %" PRIu32 ",\n  \"seed\": %" PRIu64
                 ",\n  \"makespan_ns\": %" PRId64 ",\n  \"threads\": [",
            tr->cpus, rr->sc->seed, rr->makespan);
    for (uint32_t t = 0; t < rr->ntasks; t++) {
        const struct task_metrics *m = &rr->m[t];
        fputs(t ? ",\n    {\"process\": " : "\n    {\"process\": ", out);
        json_string(out, tr->processes[tr->tasks[t].process]);
        fputs(", \"name\": ", out);
        json_string(out, tr->tasks[t].name);
        fputs(", ", out);
        json_time(out, "arrival_ns", m->arrival);
        fputs(", ", out);
        json_time(out, "first_run_ns", m->first_run);
        fputs(", ", out);
        json_time(out, "finish_ns", m->finish);
        fputs(", ", out);
        json_time(out, "response_ns", m->first_run >= 0 && m->arrival >= 0 ? m->first_run - m->arrival : -1);
        fputs(", ", out);
        json_time(out, "turnaround_ns", m->finish >= 0 && m->arrival >= 0 ? m->finish - m->arrival : -1);
        fprintf(out, ", \"wait_ns\": %" PRId64 ", \"cpu_ns\": %" PRId64 ", \"blocked_ns\": %" PRId64
                     ", \"gil_wait_ns\": %" PRId64 ", \"context_switches\": %" PRIu64 "}",
                m->wait, m->cpu, m->blocked, m->gil_wait, m->context_switches);
    }
    fputs(rr->ntasks ? "\n  ],\n  \"memory\": {" : "],\n  \"memory\": {", out);
    for (uint32_t p = 0; p < rr->res->nprocesses; p++) {
        fputs(p ? ", " : "", out);
        json_string(out, tr->processes[p]);
        fputs(": ", out);
        write_memory(out, rr, p);
    }
    fputs("},\n  \"shared\": ", out);
    write_memory(out, rr, UINT32_MAX);
    fprintf(out, ",\n  \"stats\": {\"events\": %zu, \"context_switches\": %" PRIu64 ", \"gil_switches\": %" PRIu64
                 ", \"lost_updates\": %" PRIu64 ", \"deadlock\": ",
            tr->nsegments + tr->ninstants, total_switches(rr), gil_switches, rr->lost_updates);
    if (rr->deadlock)
        json_string(out, rr->deadlock);
    else
        fputs("null", out);
    bool any = false;
    for (uint32_t p = 0; p < rr->res->nprocesses; p++) {
        if (rr->res->gil_mode[p] == GIL_NONE)
            continue;
        const struct host_gil_stats *g = &rr->res->gil[p];
        fputs(any ? ", " : ", \"gil\": {", out);
        any = true;
        json_string(out, tr->processes[p]);
        fprintf(out, ": {\"switches\": %" PRIu64 ", \"drop_requests\": %" PRIu64 ", \"forced_switches\": %" PRIu64
                     ", \"failed_wakeups\": %" PRIu64 "}",
                g->switches, g->drop_requests, g->forced_switches, g->failed_wakeups);
    }
    fputs(any ? "}}\n}\n" : "}\n}\n", out);
}

static void csv_time(FILE *out, int64_t v)
{
    fputc(',', out);
    if (v >= 0)
        fprintf(out, "%" PRId64, v);
}

static void write_csv(FILE *out, const struct real_report *rr)
{
    fputs("process,name,arrival_ns,first_run_ns,finish_ns,response_ns,turnaround_ns,"
          "wait_ns,cpu_ns,blocked_ns,gil_wait_ns,context_switches\n", out);
    for (uint32_t t = 0; t < rr->ntasks; t++) {
        const struct task_metrics *m = &rr->m[t];
        fprintf(out, "%s,%s", rr->tr->processes[rr->tr->tasks[t].process], rr->tr->tasks[t].name);
        csv_time(out, m->arrival);
        csv_time(out, m->first_run);
        csv_time(out, m->finish);
        csv_time(out, m->first_run >= 0 && m->arrival >= 0 ? m->first_run - m->arrival : -1);
        csv_time(out, m->finish >= 0 && m->arrival >= 0 ? m->finish - m->arrival : -1);
        fprintf(out, ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRIu64 "\n", m->wait, m->cpu, m->blocked,
                m->gil_wait, m->context_switches);
    }
}

static void ms(char *buf, size_t size, int64_t ns)
{
    if (ns < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.3f", (double)ns / 1e6);
}

static void write_text(FILE *out, const struct real_report *rr)
{
    const struct trace *tr = rr->tr;
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32];
    fprintf(out, "scenario: %s (real run on %u CPU%s, %s%ld run%s)\n", rr->sc->name, tr->cpus, tr->cpus == 1 ? "" : "s",
            rr->repeat > 1 ? "medians of " : "", rr->repeat, rr->repeat > 1 ? "s" : "");
    fprintf(out, "%-24s %10s %10s %10s %10s %10s %10s %10s %8s\n", "thread", "arrival", "response", "turnaround",
            "wait", "cpu", "blocked", "gil_wait", "switches");
    for (uint32_t t = 0; t < rr->ntasks; t++) {
        const struct task_metrics *m = &rr->m[t];
        char name[160];
        snprintf(name, sizeof name, "%s/%s", tr->processes[tr->tasks[t].process], tr->tasks[t].name);
        ms(a, sizeof a, m->arrival);
        ms(b, sizeof b, m->first_run >= 0 ? m->first_run - m->arrival : -1);
        ms(c, sizeof c, m->finish >= 0 ? m->finish - m->arrival : -1);
        ms(d, sizeof d, m->wait);
        ms(e, sizeof e, m->cpu);
        ms(f, sizeof f, m->blocked);
        ms(g, sizeof g, m->gil_wait);
        fprintf(out, "%-24s %10s %10s %10s %10s %10s %10s %10s %8" PRIu64 "\n", name, a, b, c, d, e, f, g,
                m->context_switches);
    }
    fputs("(times in ms)\n", out);
    ms(a, sizeof a, rr->makespan);
    fprintf(out, "makespan: %s ms; lost updates: %" PRIu64 "\n", a, rr->lost_updates);
    for (uint32_t p = 0; p < rr->res->nprocesses; p++) {
        if (rr->res->gil_mode[p] == GIL_NONE)
            continue;
        const struct host_gil_stats *gs = &rr->res->gil[p];
        fprintf(out, "GIL of %s: %" PRIu64 " switches, %" PRIu64 " drop requests, %" PRIu64
                     " forced switches, %" PRIu64 " failed wake-ups\n",
                tr->processes[p], gs->switches, gs->drop_requests, gs->forced_switches, gs->failed_wakeups);
    }
    if (rr->sc->nvars) {
        fputs("memory: shared ", out);
        write_memory(out, rr, UINT32_MAX);
        for (uint32_t p = 0; p < rr->res->nprocesses; p++) {
            fprintf(out, ", %s ", tr->processes[p]);
            write_memory(out, rr, p);
        }
        fputc('\n', out);
    }
    /* the printed lines in the order of their times: a real trace keeps
     * each thread's instants together */
    size_t nprints = 0;
    for (size_t i = 0; i < tr->ninstants; i++)
        nprints += tr->instants[i].kind == INSTANT_PRINT;
    /* printed lines by time, then by place in the trace */
    struct order_stamp *order = nprints ? xcalloc(nprints, sizeof *order) : NULL;
    for (size_t i = 0, k = 0; i < tr->ninstants; i++)
        if (tr->instants[i].kind == INSTANT_PRINT)
            order[k++] = (struct order_stamp){tr->instants[i].time, i};
    if (nprints) {
        qsort(order, nprints, sizeof *order, order_stamp);
        fputs("printed:\n", out);
    }
    for (size_t k = 0; k < nprints; k++) {
        const struct trace_instant *ev = &tr->instants[order[k].index];
        ms(a, sizeof a, ev->time);
        const struct trace_task *task = &tr->tasks[ev->task];
        fprintf(out, "  %10s ms  %s/%s: %s\n", a, tr->processes[task->process], task->name,
                trace_string(tr, ev->text));
    }
    free(order);
    if (rr->deadlock)
        fprintf(out, "%s\n", rr->deadlock);
}

static enum status trace_writer(const void *obj, FILE *out, struct error *err)
{
    return trace_write_json(obj, out, err);
}

static enum status perfetto_writer(const void *obj, FILE *out, struct error *err)
{
    return perfetto_write(obj, out, err);
}

/* Events a thread's buffer would need to record the largest of the
 * cut-short threads' timelines and hand-over instants whole (they stop at
 * three quarters of a buffer), with a tenth more for the next run to make
 * a few more, rounded up to two significant digits; 0 when
 * none of the first `sized` threads (host_trace_threads, whose buffers
 * --trace-events sizes) was cut short. */
static uint64_t trace_events_needed(const struct trace *tr, uint32_t sized, uint32_t cap)
{
    uint64_t need = 0;
    for (uint32_t i = 0; i < tr->ntasks && i < sized; i++) {
        const struct trace_task *t = &tr->tasks[i];
        if (t->recorded_until < 0 && t->instants_until < 0)
            continue;
        uint64_t all = (uint64_t)cap + t->unrecorded_events + t->unrecorded_instants + t->unrecorded_writes;
        uint64_t n = (all * 4 * 11 + 29) / 30;
        if (n > need)
            need = n;
    }
    uint64_t unit = 1;
    while (need / unit >= 100)
        unit *= 10;
    return (need + unit - 1) / unit * unit;
}

/* The option that would record it whole, for the warnings below. */
static void suggest_trace_events(char *buf, size_t size, const struct trace *tr, uint32_t sized, uint32_t cap)
{
    uint64_t need = trace_events_needed(tr, sized, cap);
    if (need == 0)
        buf[0] = '\0';
    else if (need <= HOST_TRACE_EVENTS_MAX)
        snprintf(buf, size, " (--trace-events %" PRIu64 " should record it whole)", need);
    else
        snprintf(buf, size, " (it would need about %" PRIu64 " events a thread, more than a buffer holds: shorten "
                 "the scenario to see it whole)", need);
}

/* Says which threads' traces a full event buffer cut short, and what of the
 * report that leaves as recorded (the times the runner measures whole); or,
 * when only their hand-over instants were, that the owner lanes stop there.
 * sized: the threads whose buffers held cap events (host_trace_threads, the
 * trace's first tasks). */
static void warn_truncated(const struct trace *tr, uint32_t sized, uint32_t cap)
{
    char hint[160];
    suggest_trace_events(hint, sizeof hint, tr, sized, cap);
    int64_t until = trace_recorded_until(tr);
    if (until < 0) {
        int64_t instants = trace_instants_until(tr);
        if (instants >= 0)
            cli_warn("note: the trace's hand-over instants (acquires and releases, puts and gets, sends and "
                     "receives, waits, wake-ups, lost updates) are recorded up to %.3f ms of %.3f ms only: a "
                     "thread recorded as many as its buffer keeps for them. The lock owner lanes and the hand-over "
                     "arrows stop there; the timeline is whole%s",
                     (double)instants / 1e6, (double)tr->makespan / 1e6, hint);
        return;
    }
    uint32_t n = 0;
    uint64_t lost = 0;
    char names[256] = "";
    size_t len = 0;
    for (uint32_t i = 0; i < tr->ntasks; i++) {
        const struct trace_task *t = &tr->tasks[i];
        if (t->recorded_until < 0)
            continue;
        lost += t->unrecorded_events;
        if (n++ < 4 && len < sizeof names) {
            int w = snprintf(names + len, sizeof names - len, "%s'%s' at %.3f ms", len ? ", " : "", t->name,
                             (double)t->recorded_until / 1e6);
            len += w > 0 ? (size_t)w : 0;
        }
    }
    cli_warn("warning: the trace is whole only up to %.3f ms of %.3f ms: the event buffers (%" PRIu32 " events a "
             "thread) of %" PRIu32 " thread%s filled (%s%s; %" PRIu64 " events not recorded). Past that, a thread's "
             "timeline and its CPU, wait and blocked times show its last recorded state; the makespan, turnarounds "
             "and memory are measured whole%s",
             (double)until / 1e6, (double)tr->makespan / 1e6, cap, n, n == 1 ? "" : "s", names, n > 4 ? ", ..." : "",
             lost, hint);
}

int cli_real_trace(const char *file, uint32_t trace_events, struct trace **out)
{
    struct error err;
    error_clear(&err);
    *out = NULL;
    struct scenario *sc = scenario_load_file(file, &err);
    if (!sc)
        return cli_file_error(file, &err);
    struct host_options ho;
    host_options_init(&ho);
    ho.source_file = file;
    if (trace_events)
        ho.trace_events = trace_events;
    enum status st = host_run(sc, &ho, out, &err);
    if (st == STATUS_OK)
        warn_truncated(*out, host_trace_threads(sc, &ho), ho.trace_events);
    scenario_destroy(sc);
    return st == STATUS_OK ? STATUS_OK : cli_file_error(file, &err);
}

/* Ctrl-C (or a SIGTERM, SIGHUP) while processes run: the runner stops the
 * run and cleans up (host_options.stop), then threadsim ends by that signal
 * as an interrupted program does. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int signo)
{
    interrupted = signo;
}

static const int interrupt_signals[] = {SIGINT, SIGTERM, SIGHUP};

static void interrupts_catch(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof interrupt_signals / sizeof interrupt_signals[0]; i++)
        sigaction(interrupt_signals[i], &sa, NULL);
}

static void interrupts_release(void)
{
    for (size_t i = 0; i < sizeof interrupt_signals / sizeof interrupt_signals[0]; i++)
        signal(interrupt_signals[i], SIG_DFL);
    if (interrupted)
        raise(interrupted);
}

static int real_exec(int argc, char **argv)
{
    struct real_options opts;
    struct error err;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0)
        return rc < 0 ? STATUS_OK : rc;
    error_clear(&err);
    struct scenario *sc = scenario_load_file(opts.file, &err);
    if (!sc)
        return cli_file_error(opts.file, &err);
    struct host_options ho;
    host_options_init(&ho);
    ho.timeout_ns = opts.timeout;
    ho.source_file = opts.file;
    if (opts.trace_events)
        ho.trace_events = opts.trace_events;
    ho.stop = &interrupted;

    size_t n = (size_t)opts.repeat;
    struct host_result *res = calloc(n, sizeof *res);
    enum status st = STATUS_OK;
    size_t done = 0;
    interrupts_catch();
    for (; done < n; done++) {
        st = host_run_result(sc, &ho, &res[done], &err);
        if (st != STATUS_OK) {
            done++;
            break;
        }
    }
    if (interrupted) {
        for (size_t i = 0; i < done; i++)
            host_result_deinit(&res[i]);
        free(res);
        scenario_destroy(sc);
        interrupts_release();
        return STATUS_WATCHDOG;
    }
    interrupts_release();
    if (res[0].note[0])
        cli_warn("warning: %s", res[0].note);
    if (!res[done - 1].trace) {
        rc = cli_file_error(opts.file, &err);
        goto out;
    }
    /* medians over the successful runs (or the failed one alone) */
    size_t first = st == STATUS_OK ? 0 : done - 1;
    size_t runs = done - first;
    uint32_t ntasks = res[first].trace->ntasks;
    for (size_t i = first; i < done; i++)
        if (res[i].trace->ntasks < ntasks)
            ntasks = res[i].trace->ntasks;
    struct task_metrics *all = calloc(runs * (ntasks + 1), sizeof *all);
    int64_t *col = calloc(runs, sizeof *col);
    int64_t *spans = calloc(runs, sizeof *spans);
    for (size_t i = 0; i < runs; i++) {
        struct task_metrics *m = calloc(res[first + i].trace->ntasks + 1, sizeof *m);
        spans[i] = trace_metrics_compute(res[first + i].trace, m);
        memcpy(&all[i * (ntasks + 1)], m, ntasks * sizeof *m);
        free(m);
    }
    struct task_metrics *med = calloc(ntasks + 1, sizeof *med);
#define MEDIAN_OF(field)                                                                                          \
    do {                                                                                                          \
        for (size_t i = 0; i < runs; i++)                                                                         \
            col[i] = (int64_t)all[i * (ntasks + 1) + t].field;                                                    \
        med[t].field = median(col, runs);                                                                         \
    } while (0)
    for (uint32_t t = 0; t < ntasks; t++) {
        MEDIAN_OF(arrival);
        MEDIAN_OF(first_run);
        MEDIAN_OF(finish);
        MEDIAN_OF(cpu);
        MEDIAN_OF(wait);
        MEDIAN_OF(blocked);
        MEDIAN_OF(gil_wait);
        MEDIAN_OF(context_switches);
    }
#undef MEDIAN_OF
    for (size_t i = 0; i < runs; i++)
        col[i] = (int64_t)res[first + i].lost_updates;
    uint64_t lost = (uint64_t)median(col, runs);
    memcpy(col, spans, runs * sizeof *col);
    int64_t span = median(col, runs);
    size_t pick = first;
    for (size_t i = 0; i < runs; i++)
        if (llabs(spans[i] - span) < llabs(spans[pick - first] - span))
            pick = first + i;
    struct real_report rr = {
        .sc = sc, .res = &res[pick], .tr = res[pick].trace, .ntasks = ntasks, .m = med, .makespan = span,
        .lost_updates = lost, .repeat = (long)runs, .deadlock = st == STATUS_DEADLOCK ? err.msg : NULL,
    };
    if (opts.format == REPORT_JSON)
        write_json(stdout, &rr);
    else if (opts.format == REPORT_CSV)
        write_csv(stdout, &rr);
    else
        write_text(stdout, &rr);
    fflush(stdout);
    rc = st == STATUS_OK ? STATUS_OK : cli_file_error(opts.file, &err);
    warn_truncated(rr.tr, host_trace_threads(sc, &ho), ho.trace_events);
    if (opts.trace_path && cli_write_file(opts.trace_path, "the trace", trace_writer, rr.tr) != STATUS_OK)
        rc = rc ? rc : STATUS_INTERNAL;
    if (opts.perfetto_path &&
        cli_write_file(opts.perfetto_path, "the Perfetto trace", perfetto_writer, rr.tr) != STATUS_OK)
        rc = rc ? rc : STATUS_INTERNAL;
    free(med);
    free(all);
    free(col);
    free(spans);
out:
    for (size_t i = 0; i < done; i++)
        host_result_deinit(&res[i]);
    free(res);
    scenario_destroy(sc);
    return rc;
}
