/* `threadsim export`: simulate a scenario and draw its timeline as an image. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "calib_cli.h"
#include "cli.h"
#include "scheduler/registry.h"
#include "sim/engine.h"
#include "viz/layout.h"
#include "viz/png.h"
#include "viz/svg.h"

enum export_format {
    EXPORT_SVG,
    EXPORT_PNG
};

/* Which runs the picture shows. */
enum export_source {
    EXPORT_SIM = 0,            /* the simulated run */
    EXPORT_REAL,               /* --real: the real run on this machine */
    EXPORT_COMPARE,            /* --compare: simulated above real */
    EXPORT_COMPARE_POLICY      /* --compare-policy P: simulated above simulated with P */
};

struct export_options {
    const char *file;
    const char *out;
    enum export_format format;
    enum export_source source;
    const struct sched_policy *compare_policy;
    struct cli_overrides ov;
    struct layout_options layout;
    uint32_t trace_events;     /* --trace-events of the real run, 0: the runner's default */
};

/* One run of the scenario and its trace. */
struct export_run {
    struct scenario *sc;
    struct engine *eng;
    enum status status;        /* of engine_run */
    struct error err;
};

static int export_exec(int argc, char **argv);

const struct cmd_entry cmd_export_entry = {
    .name = "export",
    .summary = "simulate a scenario and draw its timeline as an SVG or PNG image",
    .usage =
        "Usage: threadsim export FILE -o OUT.svg|OUT.png [--view threads|cpus]\n"
        "                        [--width W] [--height H] [--theme light|dark]\n"
        "                        [--from T] [--to T] [--policy P] [--cpus N] [--seed S]\n"
        "                        [--quantum D] [--profile F] [--no-owner-lanes]\n"
        "                        [--no-arrows] [--real | --compare | --compare-policy P]\n"
        "                        [--trace-events N]\n"
        "\n"
        "Simulates the scenario in FILE and draws its timeline (a Gantt chart) into\n"
        "OUT: one lane per thread, grouped by process, coloured by state (running,\n"
        "ready, switch, blocked and why), with a time axis, a legend and markers for\n"
        "printed lines and the deadlock, the GIL and lock owner lanes below, and\n"
        "arrows for messages and hand-overs. A scenario that deadlocks or fails\n"
        "still gets its picture, and the exit status says what happened.\n"
        "\n"
        "Options:\n"
        "  -o, --output OUT  the image to write: .svg (vector) or .png (raster, the\n"
        "                    same picture drawn with SDL, no display needed)\n"
        "  --view V          threads (default): a lane per thread; cpus: a lane per\n"
        "                    CPU, coloured by the thread running on it\n"
        "  --width W         width in pixels, 320 to 100000 (default 1200); text grows\n"
        "                    with it above 1440 (16 px at 1920)\n"
        "  --height H        height in pixels (default: fitted to the lanes)\n"
        "  --theme T         light (default) or dark\n"
        "  --from T          start of the time window, a duration such as 2ms (default 0)\n"
        "  --to T            end of the time window (default: the end of the run)\n"
        "  --policy P        scheduling policy (scheduler.policy)\n"
        "  --cpus N          number of CPUs, 1 to 1024 (machine.cpus)\n"
        "  --seed S          seed of the random choices, 0 to 2^64-1 (seed)\n"
        "  --quantum D       time slice as a duration such as 4ms (scheduler.quantum)\n"
        "  --profile F       calibration profile JSON file (machine.profile)\n"
        "  --no-owner-lanes  leave out the lanes of who holds each GIL and lock\n"
        "  --no-arrows       leave out the message and hand-over arrows\n"
        "  --real            draw the real run (the scenario run as threads and\n"
        "                    processes on this machine) instead of the simulated one\n"
        "  --compare         draw the simulated run above the real one, on one time axis\n"
        "  --compare-policy P  draw the simulated run above a simulated run with\n"
        "                    policy P, on one time axis\n"
        "  --trace-events N  events each declared thread of the real run records\n"
        "                    (default 16384; see threadsim real --help)\n"
        "  -h, --help        show this help\n"
        "\n"
        "Exit status: 0 success, 1 internal error, 2 bad usage or bad scenario,\n"
        "3 the scenario deadlocked, 4 a run-time error in the scenario.\n",
    .exec = export_exec,
};

enum {
    OPT_VIEW = 256,
    OPT_WIDTH,
    OPT_HEIGHT,
    OPT_THEME,
    OPT_FROM,
    OPT_TO,
    OPT_NO_OWNER_LANES,
    OPT_NO_ARROWS,
    OPT_REAL,
    OPT_COMPARE,
    OPT_COMPARE_POLICY,
    OPT_TRACE_EVENTS
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* Returns 0 and fills opts, or prints the usage error and returns its exit
 * code; -1 means --help was shown. */
static int parse_options(int argc, char **argv, struct export_options *opts)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "view", required_argument, NULL, OPT_VIEW },
        { "width", required_argument, NULL, OPT_WIDTH },
        { "height", required_argument, NULL, OPT_HEIGHT },
        { "theme", required_argument, NULL, OPT_THEME },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "no-owner-lanes", no_argument, NULL, OPT_NO_OWNER_LANES },
        { "no-arrows", no_argument, NULL, OPT_NO_ARROWS },
        { "real", no_argument, NULL, OPT_REAL },
        { "compare", no_argument, NULL, OPT_COMPARE },
        { "compare-policy", required_argument, NULL, OPT_COMPARE_POLICY },
        { "trace-events", required_argument, NULL, OPT_TRACE_EVENTS },
        CLI_OVERRIDE_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct cmd_entry *cmd = &cmd_export_entry;
    struct error err;
    long n;
    int c;

    memset(opts, 0, sizeof *opts);
    layout_options_init(&opts->layout);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_help(cmd);
            return -1;
        case 'o':
            opts->out = optarg;
            break;
        case OPT_VIEW:
            if (strcmp(optarg, "threads") == 0)
                opts->layout.view = LAYOUT_VIEW_THREADS;
            else if (strcmp(optarg, "cpus") == 0)
                opts->layout.view = LAYOUT_VIEW_CPUS;
            else
                return cli_usage_error(cmd, "--view wants threads or cpus, got '%s'", optarg);
            break;
        case OPT_WIDTH:
            if (!cli_parse_long(optarg, LAYOUT_MIN_WIDTH, LAYOUT_MAX_SIZE, &n))
                return cli_usage_error(cmd, "--width wants %d to %d pixels, got '%s'",
                                       LAYOUT_MIN_WIDTH, LAYOUT_MAX_SIZE, optarg);
            opts->layout.width = (int)n;
            break;
        case OPT_HEIGHT:
            if (!cli_parse_long(optarg, 1, LAYOUT_MAX_SIZE, &n))
                return cli_usage_error(cmd, "--height wants 1 to %d pixels, got '%s'",
                                       LAYOUT_MAX_SIZE, optarg);
            opts->layout.height = (int)n;
            break;
        case OPT_THEME:
            if (strcmp(optarg, "light") == 0)
                opts->layout.theme = LAYOUT_THEME_LIGHT;
            else if (strcmp(optarg, "dark") == 0)
                opts->layout.theme = LAYOUT_THEME_DARK;
            else
                return cli_usage_error(cmd, "--theme wants light or dark, got '%s'", optarg);
            break;
        case OPT_FROM:
        case OPT_TO: {
            sim_time t;
            error_clear(&err);
            if (cli_parse_duration(optarg, &t, &err) != STATUS_OK)
                return cli_usage_error(cmd, "--%s: %s", c == OPT_FROM ? "from" : "to", err.msg);
            if (c == OPT_TO && t <= 0)
                return cli_usage_error(cmd, "--to wants a time after 0, got '%s'", optarg);
            *(c == OPT_FROM ? &opts->layout.from : &opts->layout.to) = t;
            break;
        }
        case OPT_NO_OWNER_LANES:
            opts->layout.no_owner_lanes = true;
            break;
        case OPT_NO_ARROWS:
            opts->layout.no_arrows = true;
            break;
        case OPT_REAL:
        case OPT_COMPARE:
        case OPT_COMPARE_POLICY: {
            enum export_source src = c == OPT_REAL      ? EXPORT_REAL
                                     : c == OPT_COMPARE ? EXPORT_COMPARE
                                                        : EXPORT_COMPARE_POLICY;
            if (opts->source != EXPORT_SIM && opts->source != src)
                return cli_usage_error(cmd, "--real, --compare and --compare-policy exclude "
                                            "one another");
            opts->source = src;
            if (c == OPT_COMPARE_POLICY) {
                error_clear(&err);
                opts->compare_policy = cli_find_policy(optarg, "--compare-policy", &err);
                if (!opts->compare_policy)
                    return cli_usage_error(cmd, "%s", err.msg);
            }
            break;
        }
        case OPT_TRACE_EVENTS: {
            int rc = cli_trace_events_option(cmd, optarg, &opts->trace_events);
            if (rc)
                return rc;
            break;
        }
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
    if (!opts->out)
        return cli_usage_error(cmd, "missing the image to write (-o OUT.svg or -o OUT.png)");
    if (ends_with(opts->out, ".png"))
        opts->format = EXPORT_PNG;
    else if (ends_with(opts->out, ".svg"))
        opts->format = EXPORT_SVG;
    else
        return cli_usage_error(cmd, "the image '%s' must end in .svg or .png", opts->out);
    if (opts->layout.to > 0 && opts->layout.to <= opts->layout.from)
        return cli_usage_error(cmd, "--from must come before --to");
    return 0;
}

/* cli_write_file's writer for struct layout */
static enum status write_svg_writer(const void *obj, FILE *out, struct error *err)
{
    return svg_write(obj, out, err);
}

/* cli_write_file's writer for struct layout */
static enum status write_png_writer(const void *obj, FILE *out, struct error *err)
{
    return png_write(obj, out, err);
}

/* Draws the trace, or the two stacked, into opts->out. Returns an exit code. */
static int draw(const struct trace *first, const struct trace *second,
                const struct export_options *opts)
{
    struct error err;
    error_clear(&err);
    struct layout *lay = second ? layout_create_compare(first, second, &opts->layout, &err)
                                : layout_create(first, &opts->layout, &err);
    if (!lay)
        return cli_usage_error(&cmd_export_entry, "%s", err.msg);
    int rc = cli_write_file(opts->out, "the image",
                            opts->format == EXPORT_PNG ? write_png_writer : write_svg_writer, lay);
    layout_destroy(lay);
    return rc;
}

/* Loads the scenario, applies ov and simulates it into r. Returns 0, or the
 * exit code of a scenario that cannot be loaded or started (printed). A
 * run that stops with an error is not an error here: its picture is drawn. */
static int simulate(const struct export_options *opts, const struct cli_overrides *ov,
                    struct export_run *r)
{
    const struct sched_policy *policy = NULL;
    memset(r, 0, sizeof *r);
    error_clear(&r->err);
    r->sc = scenario_load_file(opts->file, &r->err);
    if (!r->sc)
        return cli_file_error(opts->file, &r->err);
    /* next to a real run, the simulation predicts this host */
    int rc = opts->source == EXPORT_COMPARE ? calib_cli_apply_as_host(r->sc, opts->file, ov, &policy, NULL, 0, NULL)
                                            : cli_apply_overrides(r->sc, opts->file, ov, &policy);
    if (rc != STATUS_OK)
        return rc;
    struct engine_options eo;
    memset(&eo, 0, sizeof eo);
    eo.record_trace = true;
    r->eng = engine_create(r->sc, policy, &eo, &r->err);
    if (!r->eng)
        return cli_file_error(opts->file, &r->err);
    r->status = engine_run(r->eng, &r->err);
    return 0;
}

static void run_free(struct export_run *r)
{
    engine_destroy(r->eng);
    scenario_destroy(r->sc);
}

static int export_exec(int argc, char **argv)
{
    struct export_options opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0)
        return rc < 0 ? STATUS_OK : rc;
    struct trace *real = NULL;
    int real_rc = STATUS_OK;
    if (opts.source == EXPORT_REAL || opts.source == EXPORT_COMPARE) {
        /* a real run that failed but left a trace is drawn up to where it stopped */
        real_rc = cli_real_trace(opts.file, opts.trace_events, &real);
        if (!real)
            return real_rc;
    }
    if (opts.source == EXPORT_REAL) {
        rc = draw(real, NULL, &opts);
        trace_destroy(real);
        return rc != STATUS_OK ? rc : real_rc;
    }

    struct export_run runs[2];
    memset(runs, 0, sizeof runs);
    size_t nruns = opts.source == EXPORT_COMPARE_POLICY ? 2 : 1;
    for (size_t i = 0; i < nruns && rc == 0; i++) {
        struct cli_overrides ov = opts.ov;
        if (i == 1)
            ov.policy = opts.compare_policy;
        rc = simulate(&opts, &ov, &runs[i]);
    }
    if (rc == 0) {
        /* A deadlocked or failing run is drawn too: the picture shows where
         * it stopped. The exit status still reports it. */
        const struct trace *second = real                 ? real
                                     : nruns > 1 ? engine_trace(runs[1].eng)
                                                 : NULL;
        rc = draw(engine_trace(runs[0].eng), second, &opts);
        for (size_t i = 0; i < nruns; i++)
            /* the second run's error is said once when it is the first's */
            if (runs[i].status != STATUS_OK &&
                (i == 0 || runs[0].status != runs[i].status ||
                 strcmp(runs[0].err.msg, runs[i].err.msg) != 0)) {
                int run_rc = cli_file_error(opts.file, &runs[i].err);
                if (rc == STATUS_OK)
                    rc = run_rc;
            }
    }
    for (size_t i = 0; i < nruns; i++)
        run_free(&runs[i]);
    trace_destroy(real);
    return rc != STATUS_OK ? rc : real_rc;
}
