/* `threadsim compare`: simulate a scenario with this host's profile, run it
 * for real a few times, and print how far the simulation is from the real
 * runs, per thread and overall. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib_cli.h"
#include "cli.h"
#include "host/kernels.h"
#include "host/runner.h"
#include "compare_report.h"
#include "report.h"
#include "sim/compare.h"
#include "sim/engine.h"
#include "sim/profile.h"
#include "sim/xalloc.h"
#include "sim/order.h"

#define COMPARE_DEFAULT_REPEAT 5

struct compare_options {
    const char *file;
    long repeat;
    const char *profile;       /* --profile, or NULL: the cached host profile */
    enum report_format format; /* text or json */
    sim_time timeout;          /* --timeout of each real run, 0: the runner's default */
    uint32_t trace_events;     /* --trace-events of each real run, 0: the runner's default */
};

static int compare_exec(int argc, char **argv);

const struct cmd_entry cmd_compare_entry = {
    .name = "compare",
    .summary = "simulate a scenario and run it for real, and print the error",
    .usage =
        "Usage: threadsim compare FILE [--repeat N] [--profile F] [--format text|json]\n"
        "                         [--timeout D] [--trace-events N]\n"
        "\n"
        "Simulates the scenario in FILE with this host's calibration profile, runs it\n"
        "for real N times (real processes and threads), and prints for every thread\n"
        "and for the whole run the simulated figure, the median and the spread\n"
        "(min-max) of the real runs, and the error (sim - real) / real in %.\n"
        "\n"
        "The simulation predicts this host: the profile's costs replace the\n"
        "scenario's, machine.cpus becomes the number of CPUs this process may use,\n"
        "and machine.context_switch, process_switch and wakeup_latency take the\n"
        "measured values.\n"
        "\n"
        "Options:\n"
        "  --repeat N      real runs, 1 to 1000 (default 5)\n"
        "  --profile F     the host profile to use (default: the cached one,\n"
        "                  $XDG_CACHE_HOME/threadsim/profile.json or\n"
        "                  ~/.cache/threadsim/profile.json, made by a calibration the\n"
        "                  first time)\n"
        "  --format F      text (default) or json\n"
        "  --timeout D     bound of each real run, a duration such as 10s (default 60s)\n"
        "  --trace-events N  events each declared thread's trace buffer holds in the\n"
        "                  real runs (default 16384; see threadsim real --help)\n"
        "  -h, --help      show this help\n"
        "\n"
        "Exit status: 0 success, 1 internal error, 2 bad usage or bad scenario,\n"
        "3 deadlock, 4 run-time error in the scenario, 5 a real run stopped by its\n"
        "watchdog.\n",
    .exec = compare_exec,
};

enum {
    OPT_REPEAT = 256,
    OPT_PROFILE,
    OPT_FORMAT,
    OPT_TIMEOUT,
    OPT_TRACE_EVENTS
};

/* Returns 0 and fills opts, or the exit code of a usage error; -1: --help. */
static int parse_options(int argc, char **argv, struct compare_options *opts)
{
    static const struct option longopts[] = {
        { "repeat", required_argument, NULL, OPT_REPEAT },
        { "profile", required_argument, NULL, OPT_PROFILE },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "trace-events", required_argument, NULL, OPT_TRACE_EVENTS },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct cmd_entry *cmd = &cmd_compare_entry;
    struct error err;
    int c;

    memset(opts, 0, sizeof *opts);
    opts->repeat = COMPARE_DEFAULT_REPEAT;
    opts->format = REPORT_TEXT;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_help(cmd);
            return -1;
        case OPT_REPEAT:
            if (!cli_parse_long(optarg, 1, 1000, &opts->repeat))
                return cli_usage_error(cmd, "--repeat wants a number from 1 to 1000, got '%s'", optarg);
            break;
        case OPT_PROFILE:
            opts->profile = optarg;
            break;
        case OPT_FORMAT:
            if (!report_format_parse(optarg, &opts->format) || opts->format == REPORT_CSV)
                return cli_usage_error(cmd, "--format wants text or json, got '%s'", optarg);
            break;
        case OPT_TIMEOUT:
            error_clear(&err);
            if (cli_parse_duration(optarg, &opts->timeout, &err) != STATUS_OK || opts->timeout <= 0)
                return cli_usage_error(cmd, "--timeout wants a positive duration such as 10s, got '%s'", optarg);
            break;
        case OPT_TRACE_EVENTS: {
            int rc = cli_trace_events_option(cmd, optarg, &opts->trace_events);
            if (rc)
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

/* A real run's timings include the time other programs take the CPUs from
 * it; the simulation knows nothing of them. Say so when the host is busy. */
static void warn_if_loaded(uint32_t cpus)
{
    double load;
    if (getloadavg(&load, 1) == 1 && load > 0.5 * cpus)
        cli_warn("the host is busy (load average %.1f on %" PRIu32 " CPU%s): other programs slow the real runs down",
                 load, cpus, cpus == 1 ? "" : "s");
}

/* The count kernel's CPU time per iteration now: the least of three runs of
 * about 2 ms at the profile's speed. */
static double count_speed_now(const struct profile *pf)
{
    double per = pf->count_ns_per_iter > 0 ? pf->count_ns_per_iter : 1;
    int64_t n = (int64_t)(2e6 / per);
    if (n < 1000)
        n = 1000;
    double best = host_count_ns_per_iter(n);
    for (int i = 1; i < 3; i++) {
        double ns = host_count_ns_per_iter(n);
        if (ns < best)
            best = ns;
    }
    return best;
}

/* A shared or power-managed machine changes speed: this one switched
 * between 0.28 and 0.45-0.50 ns a count iteration within seconds. Say so
 * when the speed before or after the real runs is a seventh or more off the
 * profile's: the real times moved with it and the simulation's did not. */
static void warn_if_speed_moved(const struct profile *pf, double before, double after)
{
    if (strcmp(pf->name, "builtin") == 0 || !(pf->count_ns_per_iter > 0))
        return;
    double worst = fabs(before - pf->count_ns_per_iter) > fabs(after - pf->count_ns_per_iter) ? before : after;
    double ratio = worst / pf->count_ns_per_iter;
    if (ratio < 1.15 && ratio > 1 / 1.15)
        return;
    cli_warn("this CPU ran the count kernel at %.3g ns an iteration around the real runs (%.3g before, %.3g after), "
             "%.2f times the profile's %.3g: the real times moved with it and the simulation's did not "
             "(calibrate again if it lasts)",
             worst, before, after, ratio, pf->count_ns_per_iter);
}

/* The real runs' final memory: each cell's median over the runs that have
 * it (the lower middle value of an even count, so it is a value one run
 * ended with), on the first run's processes. Free with memory_free. */
static struct compare_memory *memory_of(const struct scenario *sc, const struct host_result *res, long nres)
{
    struct compare_memory *mem = xcalloc(1, sizeof *mem);
    const struct host_result *r0 = &res[0];
    mem->nprocesses = r0->trace ? r0->nprocesses : 0;
    mem->process = (const char *const *)(r0->trace ? r0->trace->processes : NULL);
    mem->values = xcalloc(((size_t)mem->nprocesses + 1) * sc->nvars + 1, sizeof *mem->values);
    int64_t *col = xcalloc((size_t)nres, sizeof *col);
    for (uint32_t p = 0; p <= mem->nprocesses; p++) {
        uint32_t hp = p < mem->nprocesses ? p : UINT32_MAX;
        for (uint32_t v = 0; v < sc->nvars; v++) {
            if (!host_result_var(r0, sc, hp, v))
                continue;
            uint32_t n = sc->vars[v].length ? sc->vars[v].length : 1;
            int64_t *out = xcalloc(n, sizeof *out);
            for (uint32_t k = 0; k < n; k++) {
                size_t m = 0;
                for (long i = 0; i < nres; i++) {
                    if (hp != UINT32_MAX && hp >= res[i].nprocesses)
                        continue;
                    const int64_t *x = host_result_var(&res[i], sc, hp, v);
                    if (x)
                        col[m++] = x[k];
                }
                qsort(col, m, sizeof *col, order_int64);
                out[k] = m ? col[(m - 1) / 2] : 0;
            }
            mem->values[(size_t)p * sc->nvars + v] = out;
        }
    }
    free(col);
    return mem;
}

static void memory_free(struct compare_memory *mem, const struct scenario *sc)
{
    if (!mem)
        return;
    for (size_t i = 0; i < ((size_t)mem->nprocesses + 1) * sc->nvars; i++)
        free(mem->values[i]);
    free(mem->values);
    free(mem);
}

/* Runs the scenario for real opts->repeat times into res/runs (the traces
 * stay in res). Returns STATUS_OK or the first failing run's status with
 * err filled. */
static enum status run_real(const struct scenario *sc, const struct compare_options *opts, struct host_result *res,
                            struct compare_run *runs, struct error *err)
{
    struct host_options ho;
    host_options_init(&ho);
    ho.record = true;
    /* a spawned process execs threadsim, which loads the scenario again */
    ho.source_file = opts->file;
    if (opts->timeout > 0)
        ho.timeout_ns = opts->timeout;
    if (opts->trace_events)
        ho.trace_events = opts->trace_events;
    for (long r = 0; r < opts->repeat; r++) {
        error_clear(err);
        enum status st = host_run_result(sc, &ho, &res[r], err);
        if (st != STATUS_OK)
            return st;
        if (!res[r].trace)
            return error_set(err, STATUS_INTERNAL, NULL, "the real run made no trace");
        compare_run_from_trace(&runs[r], res[r].trace);
    }
    return STATUS_OK;
}

static int compare_exec(int argc, char **argv)
{
    struct compare_options opts;
    struct error err;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0)
        return rc < 0 ? STATUS_OK : rc;

    error_clear(&err);
    struct scenario *sc = scenario_load_file(opts.file, &err);
    if (!sc)
        return cli_file_error(opts.file, &err);
    const struct sched_policy *policy = NULL;
    struct cli_overrides none;
    memset(&none, 0, sizeof none);
    rc = cli_apply_overrides(sc, opts.file, &none, &policy);
    char profile[PATH_MAX];
    struct compare_fit hm;
    memset(&hm, 0, sizeof hm);
    if (rc == STATUS_OK)
        rc = calib_cli_profile(opts.profile, profile, sizeof profile);
    if (rc == STATUS_OK)
        rc = calib_cli_fit(sc, profile, &hm);
    if (rc != STATUS_OK) {
        scenario_destroy(sc);
        return rc;
    }

    struct engine_options eo;
    memset(&eo, 0, sizeof eo);
    error_clear(&err);
    struct engine *eng = engine_create(sc, policy, &eo, &err);
    if (!eng) {
        rc = cli_file_error(opts.file, &err);
        scenario_destroy(sc);
        return rc;
    }
    enum status sim_status = engine_run(eng, &err);
    struct error sim_err = err;

    warn_if_loaded(sc->machine.cpus);
    struct host_result *res = xcalloc((size_t)opts.repeat, sizeof *res);
    struct compare_run *runs = xcalloc((size_t)opts.repeat, sizeof *runs);
    struct error real_err;
    /* the real runs run the scenario as written (its add_ns is the spin of
     * a racy add, not the host's whole cost of the op): only the simulation
     * is fitted to the host */
    struct scenario *as_written = scenario_load_file(opts.file, &real_err);
    double count_before = count_speed_now(&sc->profile);
    enum status real_status = as_written ? run_real(as_written, &opts, res, runs, &real_err) : real_err.status;
    double count_after = count_speed_now(&sc->profile);
    warn_if_speed_moved(&sc->profile, count_before, count_after);

    if (real_status == STATUS_OK) {
        struct compare_run sim_run;
        compare_run_from_engine(&sim_run, eng);
        struct comparison *cmp = comparison_create(&sim_run, runs, (uint32_t)opts.repeat);
        struct report_run rr = {
            .sc = sc,
            .policy = policy->name,
            .eng = eng,
            .deadlock = sim_status == STATUS_DEADLOCK ? sim_err.msg : NULL,
        };
        struct compare_memory *mem = memory_of(sc, res, opts.repeat);
        struct compare_report report = {.sim = &rr,
                                         .cmp = cmp,
                                         .profile_path = profile,
                                         .profile = &sc->profile,
                                         .fit = hm,
                                         .memory = mem,
                                         .count_before = count_before,
                                         .count_after = count_after};
        compare_report_write(stdout, opts.format, &report);
        memory_free(mem, sc);
        comparison_destroy(cmp);
        compare_run_deinit(&sim_run);
        rc = sim_status == STATUS_OK ? STATUS_OK : cli_file_error(opts.file, &sim_err);
    } else {
        /* the real run's outcome decides: a deadlock (3) or a watchdog stop
         * (5) is what happened on this host */
        if (sim_status != STATUS_OK)
            cli_warn("the simulation also stopped: %s", sim_err.msg);
        cli_warn("a real run stopped:");
        rc = cli_file_error(opts.file, &real_err);
    }
    for (long r = 0; r < opts.repeat; r++) {
        compare_run_deinit(&runs[r]);
        host_result_deinit(&res[r]);
    }
    free(runs);
    free(res);
    engine_destroy(eng);
    scenario_destroy(as_written);
    scenario_destroy(sc);
    return rc;
}
