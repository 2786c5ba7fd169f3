/* `threadsim calibrate`: measure this host and write a profile for it. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib_cli.h"
#include "cli.h"

static int calibrate_exec(int argc, char **argv);

const struct cmd_entry cmd_calibrate_entry = {
    .name = "calibrate",
    .summary = "measure this host and write a profile the simulator can use",
    .usage =
        "Usage: threadsim calibrate [-o PROFILE.json] [--quick]\n"
        "\n"
        "Measures this host in repeated trials: the workload kernels (count, primes,\n"
        "spin), thread creation, fork, spawn and forkserver start-up, context and\n"
        "process switches, mutex hand-off and condition-variable wake-up latency,\n"
        "how far a lock hand-off race moves, the old GIL's check point, pipe cost,\n"
        "latency and bandwidth, queue operations and lock calls. Prints\n"
        "a table of the median, min and max of each figure and writes a profile\n"
        "(the medians) that `run --profile`, machine.profile and `compare` load.\n"
        "\n"
        "Options:\n"
        "  -o FILE         write the profile to FILE (default: the cached profile that\n"
        "                  `threadsim compare` uses, $XDG_CACHE_HOME/threadsim/profile.json\n"
        "                  or ~/.cache/threadsim/profile.json)\n"
        "  --quick         fewer and shorter trials (about a second; for tests)\n"
        "  -h, --help      show this help\n"
        "\n"
        "Exit status: 0 success, 1 a measurement or the file failed, 2 bad usage.\n",
    .exec = calibrate_exec,
};

bool calib_cli_cache_path(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "%s/threadsim/profile.json", xdg);
    else if (home && home[0])
        n = snprintf(buf, size, "%s/.cache/threadsim/profile.json", home);
    else {
        cli_warn("neither XDG_CACHE_HOME nor HOME is set: no place for the cached profile (use --profile)");
        return false;
    }
    if (n < 0 || (size_t)n >= size) {
        cli_warn("the cache directory's path is too long");
        return false;
    }
    return true;
}

/* Creates the parent directories of path (as mkdir -p on its dirname). */
static bool make_parents(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            cli_warn("cannot create %s: %s", dir, strerror(errno));
            return false;
        }
        *p = '/';
    }
    return true;
}

static void print_table(const struct calib_result *res)
{
    printf("Calibration of %s (%" PRIu32 " CPU%s) at %s\n\n", res->host, res->cpus, res->cpus == 1 ? "" : "s",
           res->date);
    printf("%-22s %12s %12s %12s  %-8s %s\n", "figure", "median", "min", "max", "unit", "what");
    for (int i = 0; i < CALIB_FIGURE_COUNT; i++) {
        const struct calib_figure *f = &res->figures[i];
        const struct calib_figure_info *info = calibrate_figure_info((enum calib_figure_id)i);
        if (!f->measured) {
            printf("%-22s %12s %12s %12s  %-8s %s (not measured)\n", info->key, "-", "-", "-", info->unit,
                   info->what);
            continue;
        }
        printf("%-22s %12.4g %12.4g %12.4g  %-8s %s\n", info->key, f->median, f->min, f->max, info->unit,
               info->what);
    }
    if (res->cpus < 2)
        puts("\nOnly one CPU is available: the hand-off and wake-up figures are on one CPU.");
}

/* calibrate_write_profile as a cli_writer */
static enum status profile_writer(const void *obj, FILE *out, struct error *err)
{
    return calibrate_write_profile(obj, out, err);
}

int calib_cli_run(const char *path, bool quick, bool table, struct calib_result *res)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    struct calib_options opts = {.quick = quick, .self_exe = NULL};
    if (n > 0) {
        exe[n] = '\0';
        opts.self_exe = exe;
    }
    struct error err;
    error_clear(&err);
    enum status st = calibrate_run(&opts, res, &err);
    if (st != STATUS_OK) {
        cli_warn("%s", err.msg);
        return st;
    }
    if (table)
        print_table(res);
    if (!make_parents(path))
        return STATUS_INTERNAL;
    return cli_write_file(path, "the profile", profile_writer, res);
}

static int calibrate_exec(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "quick", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct cmd_entry *cmd = &cmd_calibrate_entry;
    const char *out = NULL;
    bool quick = false;
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_help(cmd);
            return STATUS_OK;
        case 'o':
            out = optarg;
            break;
        case 'q':
            quick = true;
            break;
        case ':':
            return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    char cache[PATH_MAX];
    if (!out) {
        if (!calib_cli_cache_path(cache, sizeof cache))
            return STATUS_INTERNAL;
        out = cache;
    }
    struct calib_result res;
    int rc = calib_cli_run(out, quick, true, &res);
    if (rc == STATUS_OK)
        printf("\nProfile written to %s\n", out);
    return rc;
}

int calib_cli_profile(const char *given, char *path, size_t size)
{
    if (given) {
        snprintf(path, size, "%s", given);
        return STATUS_OK;
    }
    if (!calib_cli_cache_path(path, size))
        return STATUS_INTERNAL;
    if (access(path, R_OK) == 0) {
        /* a profile cached by an older threadsim lacks what this one
         * measures: those figures would keep their built-in values */
        const char *missing[4];
        struct error err;
        error_clear(&err);
        int n = calibrate_profile_missing(path, missing, 4, &err);
        if (n == 0)
            return STATUS_OK;
        if (n < 0)
            fprintf(stderr, "threadsim: the cached host profile %s does not load (%s): calibrating this host again "
                            "(a few seconds)...\n", path, err.msg);
        else
            fprintf(stderr, "threadsim: the cached host profile %s lacks %d figure%s this threadsim measures (%s%s%s%s): "
                            "calibrating this host again (a few seconds)...\n",
                    path, n, n == 1 ? "" : "s", missing[0], n > 1 ? ", " : "", n > 1 ? missing[1] : "",
                    n > 2 ? ", ..." : "");
    } else {
        fprintf(stderr, "threadsim: no host profile yet: calibrating this host once (a few seconds)...\n");
    }
    struct calib_result res;
    return calib_cli_run(path, false, false, &res);
}

static uint32_t host_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? (uint32_t)n : 1;
}

int calib_cli_fit(struct scenario *sc, const char *profile, struct compare_fit *hm)
{
    struct error err;
    error_clear(&err);
    /* the runner's add spins the scenario's add_ns between its read and its
     * write; calibrate measured the whole op with the built-in spin, so the
     * prediction is the measured op with the scenario's spin in its place */
    int64_t spin = sc->profile.add_ns;
    if (profile_load_file(&sc->profile, profile, &err) != STATUS_OK)
        return cli_file_error(profile, &err);
    struct profile builtin;
    profile_builtin(&builtin);
    if (sc->profile.add_ns != spin && sc->profile.add_ns > builtin.add_ns)
        sc->profile.add_ns += spin - builtin.add_ns;
    if (sc->profile.add_contended_ns > builtin.add_ns)
        sc->profile.add_contended_ns += spin - builtin.add_ns;
    struct machine *m = &sc->machine;
    hm->cpus_before = m->cpus;
    /* the real run is pinned to the scenario's CPUs, or has all of the host's */
    if (m->cpus > host_cpus())
        m->cpus = host_cpus();
    /* the real run switches and wakes threads as fast as this host does,
     * whatever the scenario says its machine does: the measured values win */
    hm->context_switch = sc->profile.context_switch_ns > 0;
    if (hm->context_switch)
        m->context_switch = sc->profile.context_switch_ns;
    hm->process_switch = sc->profile.process_switch_ns > 0;
    if (hm->process_switch)
        m->process_switch = sc->profile.process_switch_ns;
    hm->wakeup_latency = sc->profile.wakeup_latency_ns > 0;
    if (hm->wakeup_latency)
        m->wakeup_latency = sc->profile.wakeup_latency_ns;
    return STATUS_OK;
}

int calib_cli_apply_as_host(struct scenario *sc, const char *file, const struct cli_overrides *ov,
                            const struct sched_policy **policy, char *profile, size_t size,
                            struct compare_fit *fit)
{
    struct compare_fit unused;
    char own[PATH_MAX];
    if (!profile) {
        profile = own;
        size = sizeof own;
    }
    int rc = calib_cli_profile(ov->profile, profile, size);
    if (rc == STATUS_OK)
        rc = calib_cli_fit(sc, profile, fit ? fit : &unused);
    if (rc != STATUS_OK)
        return rc;
    struct cli_overrides rest = *ov;
    rest.profile = NULL;
    return cli_apply_overrides(sc, file, &rest, policy);
}
