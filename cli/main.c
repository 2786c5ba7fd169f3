/* The threadsim command: dispatches to a sub-command from the table below.
 * A new command is one cmd_<name>.c file and one line here. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "host/runner.h"

static const struct cmd_entry *const commands[] = {
    &cmd_run_entry,
    &cmd_validate_entry,
    &cmd_export_entry,
    &cmd_view_entry,
    &cmd_real_entry,
    &cmd_calibrate_entry,
    &cmd_compare_entry,
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct cmd_entry *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void print_commands(FILE *out)
{
    fputs("Commands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
}

static void print_usage(FILE *out)
{
    fputs("threadsim " THREADSIM_VERSION ": an educational simulator of processes and threads\n"
          "\n"
          "Usage: threadsim COMMAND [OPTIONS] FILE\n"
          "       threadsim help [COMMAND]\n"
          "       threadsim --help | --version\n"
          "\n", out);
    print_commands(out);
    fputs("\nRun 'threadsim COMMAND --help' for the options of a command.\n"
          "Exit status: 0 success, 1 internal error, 2 bad usage or bad scenario,\n"
          "3 deadlock, 4 run-time error in the scenario, 5 watchdog (real runs).\n", out);
}

/* `threadsim help [COMMAND]` and `threadsim --help`. */
static int help(int argc, char **argv)
{
    if (argc < 1) {
        print_usage(stdout);
        return STATUS_OK;
    }
    const struct cmd_entry *cmd = find_command(argv[0]);
    if (!cmd) {
        cli_warn("unknown command '%s'", argv[0]);
        print_commands(stderr);
        return STATUS_BAD_INPUT;
    }
    char help_opt[] = "--help";
    char *sub_argv[] = { argv[0], help_opt, NULL };
    return cmd->exec(2, sub_argv);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return STATUS_BAD_INPUT;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0)
        return help(argc - 2, argv + 2);
    if (strcmp(name, "--version") == 0) {
        puts("threadsim " THREADSIM_VERSION);
        return STATUS_OK;
    }
    /* a hidden command that only starts and exits: calibrate times spawn
     * (fork + exec of threadsim) with it */
    if (strcmp(name, "__noop") == 0)
        return STATUS_OK;
    /* another hidden one: a process that `threadsim real` spawns,
     * `threadsim __worker FD P` (host_worker_main) */
    if (strcmp(name, "__worker") == 0) {
        int fd;
        unsigned p;
        if (argc != 4 || sscanf(argv[2], "%d", &fd) != 1 || sscanf(argv[3], "%u", &p) != 1)
            return STATUS_BAD_INPUT;
        return host_worker_main(fd, p);
    }
    if (name[0] == '-') {
        cli_warn("unknown option '%s'", name);
        fputs("Try 'threadsim --help'.\n", stderr);
        return STATUS_BAD_INPUT;
    }
    const struct cmd_entry *cmd = find_command(name);
    if (!cmd) {
        cli_warn("unknown command '%s'", name);
        print_commands(stderr);
        return STATUS_BAD_INPUT;
    }
    return cmd->exec(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    int rc = dispatch(argc, argv);
    /* A full disk or a closed pipe must not pass for a successful report. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_warn("cannot write the output");
        if (rc == STATUS_OK)
            rc = STATUS_INTERNAL;
    }
    return rc;
}
