/* `threadsim validate`: check a scenario without running it. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int validate_exec(int argc, char **argv);

const struct cmd_entry cmd_validate_entry = {
    .name = "validate",
    .summary = "check a scenario without running it",
    .usage =
        "Usage: threadsim validate FILE\n"
        "\n"
        "Loads the scenario in FILE and checks it as `threadsim run` would: JSON\n"
        "syntax, keys, types, durations, names, limits and the scheduler settings.\n"
        "Prints \"FILE: ok (...)\" and exits with 0, or prints where the problem is\n"
        "(FILE: JSON.PATH: MESSAGE, or FILE:LINE:COLUMN: MESSAGE for a JSON syntax\n"
        "error) and exits with 2.\n"
        "\n"
        "Options:\n"
        "  -h, --help      show this help\n",
    .exec = validate_exec,
};

static int validate_exec(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct cmd_entry *cmd = &cmd_validate_entry;
    struct error err;
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_help(cmd);
            return STATUS_OK;
        }
        return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    }
    const char *file;
    int rc = cli_scenario_file(cmd, argc, argv, &file);
    if (rc)
        return rc;

    error_clear(&err);
    struct scenario *sc = scenario_load_file(file, &err);
    if (!sc)
        return cli_file_error(file, &err);
    const struct sched_policy *policy = cli_find_policy(sc->sched.policy, "scheduler.policy", &err);
    if (policy && policy->validate && policy->validate(&sc->sched, &err) != STATUS_OK)
        policy = NULL;
    rc = STATUS_OK;
    if (policy)
        printf("%s: ok (%" PRIu32 " process%s, %" PRIu32 " thread%s, policy %s, CPUs %" PRIu32 ")\n", file,
               sc->nprocesses, sc->nprocesses == 1 ? "" : "es", sc->nthreads, sc->nthreads == 1 ? "" : "s",
               policy->name, sc->machine.cpus);
    else
        rc = cli_file_error(file, &err);
    scenario_destroy(sc);
    return rc;
}
