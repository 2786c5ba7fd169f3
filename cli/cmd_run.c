/* `threadsim run`: simulate a scenario and report per-thread metrics. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "calib_cli.h"
#include "cli.h"
#include "compare_report.h"
#include "report.h"
#include "scheduler/registry.h"
#include "sim/engine.h"
#include "sim/profile.h"
#include "viz/perfetto.h"

/* A text report draws its Gantt chart from a trace. Recording one costs
 * memory in proportion to the events, which are known only after the run, so
 * runs up to this many events are simply run again with the trace on (the
 * engine is deterministic) and larger ones go without a chart. */
#define RUN_GANTT_MAX_EVENTS 200000

struct run_options {
    const char *file;
    struct cli_overrides ov;
    enum report_format format;
    const char *trace_path;
    const char *perfetto_path;
    bool as_host;
};

static int run_exec(int argc, char **argv);

const struct cmd_entry cmd_run_entry = {
    .name = "run",
    .summary = "simulate a scenario and print per-thread metrics",
    .usage =
        "Usage: threadsim run FILE [--policy P] [--cpus N] [--seed S] [--quantum D]\n"
        "                     [--profile F] [--format text|json|csv] [--trace OUT.json]\n"
        "                     [--perfetto OUT.json] [--as-host]\n"
        "\n"
        "Simulates the scenario in FILE and prints, for every thread, its arrival,\n"
        "response, turnaround, wait, CPU and blocked times and its context switches.\n"
        "The text format adds the lines the threads printed and, for up to 20\n"
        "threads, a Gantt chart of the run.\n"
        "\n"
        "Options (each overrides the scenario's setting for this run):\n"
        "  --policy P      scheduling policy (scheduler.policy), one of the list below\n"
        "  --cpus N        number of CPUs, 1 to 1024 (machine.cpus)\n"
        "  --seed S        seed of the random choices, 0 to 2^64-1 (seed)\n"
        "  --quantum D     time slice as a duration such as 4ms (scheduler.quantum)\n"
        "  --profile F     calibration profile JSON file (machine.profile)\n"
        "  --format F      text (default), json or csv\n"
        "  --trace OUT     also write the full trace of the run to OUT as JSON\n"
        "  --perfetto OUT  also write it as a Perfetto/Chrome trace (open it in ui.perfetto.dev)\n"
        "  --as-host       simulate it as `threadsim compare` does, as this host: with\n"
        "                  the host profile (--profile F, else the cached calibration),\n"
        "                  machine.cpus at most this host's CPUs, and the measured\n"
        "                  context switch, process switch and wake-up latency\n"
        "  -h, --help      show this help\n"
        "\n"
        "Exit status: 0 success, 1 internal error, 2 bad usage or bad scenario,\n"
        "3 the scenario deadlocked, 4 a run-time error in the scenario.\n",
    .exec = run_exec,
};

static void print_help(void)
{
    cli_print_help(&cmd_run_entry);
    fputs("\nPolicies:\n", stdout);
    for (size_t i = 0; sched_registry_at(i); i++) {
        const struct sched_policy *p = sched_registry_at(i);
        printf("  %-10s %s\n", p->name, p->summary ? p->summary : "");
    }
}

enum {
    OPT_FORMAT = 256,
    OPT_TRACE,
    OPT_PERFETTO,
    OPT_AS_HOST
};

/* Returns 0 and fills opts, or prints the usage error and returns its exit
 * code; -1 means --help was shown. */
static int parse_options(int argc, char **argv, struct run_options *opts)
{
    static const struct option longopts[] = {
        CLI_OVERRIDE_OPTIONS,
        { "format", required_argument, NULL, OPT_FORMAT },
        { "trace", required_argument, NULL, OPT_TRACE },
        { "perfetto", required_argument, NULL, OPT_PERFETTO },
        { "as-host", no_argument, NULL, OPT_AS_HOST },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct cmd_entry *cmd = &cmd_run_entry;
    int c;

    memset(opts, 0, sizeof *opts);
    opts->format = REPORT_TEXT;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_help();
            return -1;
        CLI_OVERRIDE_CASES: {
            int rc = cli_parse_override(cmd, c, optarg, &opts->ov);
            if (rc)
                return rc;
            break;
        }
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
        case OPT_AS_HOST:
            opts->as_host = true;
            break;
        case ':':
            return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    int rc = cli_scenario_file(cmd, argc, argv, &opts->file);
    if (rc)
        return rc;
    return 0;
}

/* Creates an engine and runs it. Returns NULL when the engine could not be
 * made (err filled); otherwise *status is engine_run's result. */
static struct engine *simulate(const struct scenario *sc, const struct sched_policy *policy,
                               bool record_trace, enum status *status, struct error *err)
{
    struct engine_options eo;
    memset(&eo, 0, sizeof eo);
    eo.record_trace = record_trace;
    error_clear(err);
    struct engine *eng = engine_create(sc, policy, &eo, err);
    if (!eng) {
        *status = err->status;
        return NULL;
    }
    *status = engine_run(eng, err);
    return eng;
}

/* cli_write_file's writer for struct trace */
static enum status write_trace_writer(const void *obj, FILE *out, struct error *err)
{
    return trace_write_json(obj, out, err);
}

/* cli_write_file's writer for the Perfetto JSON */
static enum status perfetto_writer(const void *obj, FILE *out, struct error *err)
{
    return perfetto_write(obj, out, err);
}

static int write_trace(const char *path, const struct trace *tr)
{
    return cli_write_file(path, "the trace", write_trace_writer, tr);
}

static int run_exec(int argc, char **argv)
{
    struct run_options opts;
    const struct sched_policy *policy = NULL;
    struct error err;
    enum status status;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0)
        return rc < 0 ? STATUS_OK : rc;

    error_clear(&err);
    struct scenario *sc = scenario_load_file(opts.file, &err);
    if (!sc)
        return cli_file_error(opts.file, &err);
    char profile[PATH_MAX];
    struct compare_fit fit;
    if (opts.as_host)
        rc = calib_cli_apply_as_host(sc, opts.file, &opts.ov, &policy, profile, sizeof profile, &fit);
    else
        rc = cli_apply_overrides(sc, opts.file, &opts.ov, &policy);
    if (rc != STATUS_OK) {
        scenario_destroy(sc);
        return rc;
    }

    bool record = opts.trace_path != NULL || opts.perfetto_path != NULL;
    struct engine *eng = simulate(sc, policy, record, &status, &err);
    if (eng && !record && opts.format == REPORT_TEXT &&
        engine_task_count(eng) <= REPORT_GANTT_MAX_THREADS &&
        engine_stats(eng)->events <= RUN_GANTT_MAX_EVENTS) {
        engine_destroy(eng);
        eng = simulate(sc, policy, true, &status, &err);
    }
    if (!eng) {
        rc = cli_file_error(opts.file, &err);
        scenario_destroy(sc);
        return rc;
    }

    struct report_run run = {
        .sc = sc,
        .policy = policy->name,
        .eng = eng,
        .deadlock = status == STATUS_DEADLOCK ? err.msg : NULL,
    };
    if (opts.as_host && opts.format == REPORT_TEXT)
        compare_fit_write_text(stdout, profile, sc->profile.name, sc, &fit);
    report_write(stdout, opts.format, &run);
    rc = status == STATUS_OK ? STATUS_OK : cli_file_error(opts.file, &err);
    if (opts.perfetto_path &&
        cli_write_file(opts.perfetto_path, "the Perfetto trace", perfetto_writer, engine_trace(eng)) != STATUS_OK)
        rc = rc ? rc : STATUS_INTERNAL;
    if (opts.trace_path && write_trace(opts.trace_path, engine_trace(eng)) != STATUS_OK)
        rc = STATUS_INTERNAL;
    engine_destroy(eng);
    scenario_destroy(sc);
    return rc;
}
