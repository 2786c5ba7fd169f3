/* `threadsim view`: simulate a scenario and explore its timeline in a window. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_cli.h"
#include "cli.h"
#include "scheduler/registry.h"
#include "sim/engine.h"
#include "viz/viewer.h"

struct view_options {
    const char *file;
    const char *script;
    const char *compare_policy;
    bool real, compare;
    struct cli_overrides ov;
    struct viewer_options viewer;
    uint32_t trace_events;     /* --trace-events of the real run, 0: the runner's default */
};

static int view_exec(int argc, char **argv);

const struct cmd_entry cmd_view_entry = {
    .name = "view",
    .summary = "simulate a scenario and explore its timeline in a window",
    .usage =
        "Usage: threadsim view FILE [--view threads|cpus] [--theme light|dark]\n"
        "                      [--real | --compare | --compare-policy P] [--trace-events N]\n"
        "                      [--width W] [--height H] [--scale S]\n"
        "                      [--script STEPS] [--dump-state] [--save-prefix P]\n"
        "                      [--policy P] [--cpus N] [--seed S] [--quantum D] [--profile F]\n"
        "\n"
        "Simulates the scenario in FILE and opens a window on its timeline: zoom with\n"
        "the wheel, drag to pan, hover for the state under the mouse, click a lane to\n"
        "highlight its thread, click the time axis for a time cursor whose side panel\n"
        "shows the kernel's view at that instant (CPUs, ready queue, wait queues, GIL\n"
        "and lock owners, variables); space plays it, . and , step event by event.\n"
        "Press ? in the window for all the keys (docs/viewer.md).\n"
        "\n"
        "Options:\n"
        "  --view V          threads (default) or cpus; v switches in the window\n"
        "  --theme T         light (default) or dark; t switches\n"
        "  --compare-policy P  also simulate under policy P and stack both runs on\n"
        "                    one time axis (s switches: first, second, both)\n"
        "  --real            show the real run (needs the real runner)\n"
        "  --compare         stack the simulated and real runs on one time axis\n"
        "                    (needs the real runner)\n"
        "  --trace-events N  events each declared thread of the real run records\n"
        "                    (default 16384; see threadsim real --help)\n"
        "  --width W, --height H  the window's first size (default 1280 x 720)\n"
        "  --scale S         screen pixels per layout pixel (default: 1, or more on\n"
        "                    large windows so the text stays readable)\n"
        "  --script STEPS    drive the window with the input events in file STEPS\n"
        "                    (for tests and demos), then exit\n"
        "  --dump-state      after each script step, print the visible range, the\n"
        "                    cursor and the panel's text\n"
        "  --save-prefix P   snapshots (key p) are P-1.png, P-2.png... (default\n"
        "                    threadsim-view)\n"
        "  --policy P, --cpus N, --seed S, --quantum D, --profile F\n"
        "                    override the scenario's settings, as for run\n"
        "  -h, --help        show this help\n"
        "\n"
        "Needs a display (or a virtual one: xvfb-run threadsim view FILE). Exit\n"
        "status: 0 success, 1 internal error (such as no font), 2 bad usage, bad\n"
        "scenario or no display. A run that deadlocks or fails is shown up to where\n"
        "it stopped.\n",
    .exec = view_exec,
};

enum {
    OPT_VIEW = 256,
    OPT_THEME,
    OPT_REAL,
    OPT_COMPARE,
    OPT_COMPARE_POLICY,
    OPT_WIDTH,
    OPT_HEIGHT,
    OPT_SCALE,
    OPT_SCRIPT,
    OPT_DUMP,
    OPT_SAVE_PREFIX,
    OPT_TRACE_EVENTS
};

static int parse_options(int argc, char **argv, struct view_options *opts)
{
    static const struct option longopts[] = {
        { "view", required_argument, NULL, OPT_VIEW },
        { "theme", required_argument, NULL, OPT_THEME },
        { "real", no_argument, NULL, OPT_REAL },
        { "compare", no_argument, NULL, OPT_COMPARE },
        { "compare-policy", required_argument, NULL, OPT_COMPARE_POLICY },
        { "width", required_argument, NULL, OPT_WIDTH },
        { "height", required_argument, NULL, OPT_HEIGHT },
        { "scale", required_argument, NULL, OPT_SCALE },
        { "script", required_argument, NULL, OPT_SCRIPT },
        { "dump-state", no_argument, NULL, OPT_DUMP },
        { "save-prefix", required_argument, NULL, OPT_SAVE_PREFIX },
        { "trace-events", required_argument, NULL, OPT_TRACE_EVENTS },
        CLI_OVERRIDE_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct cmd_entry *cmd = &cmd_view_entry;
    long n;
    int c;

    memset(opts, 0, sizeof *opts);
    viewer_options_init(&opts->viewer);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_help(cmd);
            return -1;
        case OPT_VIEW:
            if (strcmp(optarg, "threads") == 0)
                opts->viewer.view = LAYOUT_VIEW_THREADS;
            else if (strcmp(optarg, "cpus") == 0)
                opts->viewer.view = LAYOUT_VIEW_CPUS;
            else
                return cli_usage_error(cmd, "--view wants threads or cpus, got '%s'", optarg);
            break;
        case OPT_THEME:
            if (strcmp(optarg, "light") == 0)
                opts->viewer.theme = LAYOUT_THEME_LIGHT;
            else if (strcmp(optarg, "dark") == 0)
                opts->viewer.theme = LAYOUT_THEME_DARK;
            else
                return cli_usage_error(cmd, "--theme wants light or dark, got '%s'", optarg);
            break;
        case OPT_REAL:
            opts->real = true;
            break;
        case OPT_COMPARE:
            opts->compare = true;
            break;
        case OPT_COMPARE_POLICY:
            opts->compare_policy = optarg;
            break;
        case OPT_TRACE_EVENTS: {
            int rc = cli_trace_events_option(cmd, optarg, &opts->trace_events);
            if (rc)
                return rc;
            break;
        }
        case OPT_WIDTH:
        case OPT_HEIGHT:
            if (!cli_parse_long(optarg, c == OPT_WIDTH ? 640 : 400, 16384, &n))
                return cli_usage_error(cmd, "--%s wants %d to 16384 pixels, got '%s'",
                                       c == OPT_WIDTH ? "width" : "height",
                                       c == OPT_WIDTH ? 640 : 400, optarg);
            *(c == OPT_WIDTH ? &opts->viewer.width : &opts->viewer.height) = (int)n;
            break;
        case OPT_SCALE: {
            char *end;
            errno = 0;
            double s = strtod(optarg, &end);
            if (errno || *end || end == optarg || !(s >= 0.5 && s <= 4))
                return cli_usage_error(cmd, "--scale wants 0.5 to 4, got '%s'", optarg);
            opts->viewer.scale = s;
            break;
        }
        case OPT_SCRIPT:
            opts->script = optarg;
            break;
        case OPT_DUMP:
            opts->viewer.dump_state = true;
            break;
        case OPT_SAVE_PREFIX:
            opts->viewer.save_prefix = optarg;
            break;
        CLI_OVERRIDE_CASES: {
            int rc = cli_parse_override(cmd, c, optarg, &opts->ov);
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
    int rc = cli_scenario_file(cmd, argc, argv, &opts->file);
    if (rc)
        return rc;
    if ((opts->real ? 1 : 0) + (opts->compare ? 1 : 0) + (opts->compare_policy ? 1 : 0) > 1)
        return cli_usage_error(cmd, "--real, --compare and --compare-policy exclude each other");
    if (opts->viewer.dump_state && !opts->script)
        return cli_usage_error(cmd, "--dump-state goes with --script");
    return 0;
}

/* Reads a whole (small) text file; NULL with a message printed. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_warn("%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *bigger = cap < (1u << 24) ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int failed = ferror(f) || !buf;
    fclose(f);
    if (failed) {
        cli_warn("%s: cannot read the script", path);
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* One simulated run kept for the window. */
struct view_run {
    struct scenario *sc;
    struct engine *eng;
};

/* Loads and simulates FILE under the overrides (and policy, if not NULL).
 * Returns 0, or prints the error and returns its exit code; a deadlock or a
 * run-time error is reported but still shown (its status in *run_rc). */
static int simulate(const struct view_options *opts, const char *policy, struct view_run *run,
                    int *run_rc)
{
    const struct sched_policy *pol = NULL;
    struct error err;
    error_clear(&err);
    run->sc = scenario_load_file(opts->file, &err);
    if (!run->sc)
        return cli_file_error(opts->file, &err);
    struct cli_overrides ov = opts->ov;
    if (policy) {
        ov.policy = cli_find_policy(policy, NULL, &err);
        if (!ov.policy)
            return cli_usage_error(&cmd_view_entry, "--compare-policy: %s", err.msg);
    }
    /* next to a real run, the simulation predicts this host */
    int rc = opts->compare ? calib_cli_apply_as_host(run->sc, opts->file, &ov, &pol, NULL, 0, NULL)
                           : cli_apply_overrides(run->sc, opts->file, &ov, &pol);
    if (rc != STATUS_OK)
        return rc;
    struct engine_options eo;
    memset(&eo, 0, sizeof eo);
    eo.record_trace = true;
    run->eng = engine_create(run->sc, pol, &eo, &err);
    if (!run->eng)
        return cli_file_error(opts->file, &err);
    if (engine_run(run->eng, &err) != STATUS_OK) {
        int r = cli_file_error(opts->file, &err);
        if (*run_rc == STATUS_OK)
            *run_rc = r;
    }
    return STATUS_OK;
}

/* viewer_report_fn: what the window has to say goes to stdout at once, so a
 * script's reader sees each step as it happens. */
static void print_report(void *ctx, const char *text)
{
    (void)ctx;
    fputs(text, stdout);
    fflush(stdout);
}

static int view_exec(int argc, char **argv)
{
    struct view_options opts;
    struct view_run runs[2];
    memset(runs, 0, sizeof runs);
    char *script = NULL;
    int run_rc = STATUS_OK;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0)
        return rc < 0 ? STATUS_OK : rc;
    if (opts.script) {
        script = read_text(opts.script);
        if (!script)
            return STATUS_BAD_INPUT;
        opts.viewer.script = script;
        opts.viewer.script_name = opts.script;
    }
    struct trace *real = NULL;
    if (opts.real || opts.compare) {
        /* a real run that failed but left a trace is shown up to where it stopped */
        int real_rc = cli_real_trace(opts.file, opts.trace_events, &real);
        if (!real)
            rc = real_rc;
        else
            run_rc = real_rc;
    }
    if (rc == STATUS_OK && !opts.real)
        rc = simulate(&opts, NULL, &runs[0], &run_rc);
    if (rc == STATUS_OK && opts.compare_policy)
        rc = simulate(&opts, opts.compare_policy, &runs[1], &run_rc);
    if (rc == STATUS_OK) {
        struct error err;
        error_clear(&err);
        opts.viewer.report = print_report;
        /* --real: the real run alone; --compare: simulated, then real */
        const struct trace *first = opts.real ? real : engine_trace(runs[0].eng);
        const struct trace *second = opts.compare ? real
                                     : runs[1].eng ? engine_trace(runs[1].eng)
                                                   : NULL;
        struct viewer *v = viewer_create(first, second, &opts.viewer, &err);
        if (!v || viewer_run(v, &err) != STATUS_OK) {
            cli_warn("view: %s", err.msg);
            rc = err.status != STATUS_OK ? (int)err.status : STATUS_INTERNAL;
        }
        viewer_destroy(v);
    }
    trace_destroy(real);
    for (int i = 0; i < 2; i++) {
        engine_destroy(runs[i].eng);
        scenario_destroy(runs[i].sc);
    }
    free(script);
    /* The window showed the failed run; the exit status still says so. */
    return rc != STATUS_OK ? rc : run_rc;
}
