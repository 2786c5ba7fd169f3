/* Messages, help and option-value parsing shared by the sub-commands. */
#include "cli.h"

#include "sim/profile.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/runner.h"
#include "scheduler/registry.h"

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    fputs(CLI_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const struct cmd_entry *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, CLI_NAME ": %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '" CLI_NAME " %s --help'.\n", cmd->name);
    return STATUS_BAD_INPUT;
}

int cli_file_error(const char *file, const struct error *err)
{
    if (err->line > 0)
        fprintf(stderr, "%s:%d:%d: %s\n", file, err->line, err->column, err->msg);
    else if (err->path[0] != '\0')
        fprintf(stderr, "%s: %s: %s\n", file, err->path, err->msg);
    else
        fprintf(stderr, "%s: %s\n", file, err->msg);
    return err->status == STATUS_OK ? STATUS_INTERNAL : (int)err->status;
}

void cli_print_help(const struct cmd_entry *cmd)
{
    fputs(cmd->usage, stdout);
}

void cli_policy_names(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; sched_registry_at(i) && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                         sched_registry_at(i)->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

const struct sched_policy *cli_find_policy(const char *name, const char *path,
                                           struct error *err)
{
    const struct sched_policy *policy = sched_registry_find(name);
    if (!policy) {
        char names[256];
        cli_policy_names(names, sizeof names);
        error_set(err, STATUS_BAD_INPUT, path, "unknown policy '%s' (known policies: %s)",
                  name, names);
    }
    return policy;
}

enum status cli_parse_duration(const char *text, sim_time *out, struct error *err)
{
    /* A scenario may write the bare number 0 for a duration; on the command
     * line every value is text, so "0" plays that part. */
    if (text[0] != '\0' && strspn(text, "0") == strlen(text)) {
        *out = 0;
        return STATUS_OK;
    }
    return scenario_parse_duration(text, out, err);
}

bool cli_parse_long(const char *text, long lo, long hi, long *out)
{
    char *end;
    if (!isdigit((unsigned char)text[0]) && text[0] != '-')
        return false;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool cli_parse_u64(const char *text, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

int cli_apply_overrides(struct scenario *sc, const char *file, const struct cli_overrides *ov,
                        const struct sched_policy **policy)
{
    struct error err;
    error_clear(&err);
    if (ov->profile && profile_load_file(&sc->profile, ov->profile, &err) != STATUS_OK)
        return cli_file_error(ov->profile, &err);
    if (ov->policy) {
        *policy = ov->policy;
        snprintf(sc->sched.policy, sizeof sc->sched.policy, "%s", ov->policy->name);
    } else {
        *policy = cli_find_policy(sc->sched.policy, "scheduler.policy", &err);
        if (!*policy)
            return cli_file_error(file, &err);
    }
    if (ov->cpus)
        sc->machine.cpus = (uint32_t)ov->cpus;
    if (ov->has_seed)
        sc->seed = ov->seed;
    if (ov->has_quantum)
        sc->sched.quantum = ov->quantum;
    return STATUS_OK;
}

int cli_write_file(const char *path, const char *what, cli_writer write, const void *obj)
{
    struct error err;
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_warn("cannot write %s to %s: %s", what, path, strerror(errno));
        return STATUS_INTERNAL;
    }
    error_clear(&err);
    enum status st = write(obj, f, &err);
    if (fclose(f) != 0 && st == STATUS_OK) {
        cli_warn("cannot write %s to %s: %s", what, path, strerror(errno));
        return STATUS_INTERNAL;
    }
    if (st != STATUS_OK) {
        cli_warn("cannot write %s to %s: %s", what, path, err.msg);
        return STATUS_INTERNAL;
    }
    return STATUS_OK;
}

int cli_parse_override(const struct cmd_entry *cmd, int id, const char *value, struct cli_overrides *ov)
{
    struct error err;
    char names[256];
    switch (id) {
    case CLI_OPT_POLICY:
        ov->policy = sched_registry_find(value);
        if (!ov->policy) {
            cli_policy_names(names, sizeof names);
            return cli_usage_error(cmd, "unknown policy '%s' (known policies: %s)", value, names);
        }
        return 0;
    case CLI_OPT_CPUS:
        if (!cli_parse_long(value, 1, SCENARIO_MAX_CPUS, &ov->cpus))
            return cli_usage_error(cmd, "--cpus wants a number of CPUs from 1 to %d, got '%s'", SCENARIO_MAX_CPUS,
                                   value);
        return 0;
    case CLI_OPT_SEED:
        if (!cli_parse_u64(value, &ov->seed))
            return cli_usage_error(cmd, "--seed wants an integer from 0 to 2^64-1, got '%s'", value);
        ov->has_seed = true;
        return 0;
    case CLI_OPT_QUANTUM:
        error_clear(&err);
        if (cli_parse_duration(value, &ov->quantum, &err) != STATUS_OK)
            return cli_usage_error(cmd, "--quantum: %s", err.msg);
        ov->has_quantum = true;
        return 0;
    default:
        ov->profile = value;
        return 0;
    }
}

int cli_scenario_file(const struct cmd_entry *cmd, int argc, char **argv, const char **file)
{
    if (optind >= argc)
        return cli_usage_error(cmd, "missing the scenario FILE");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s' (one scenario FILE per %s)", argv[optind + 1], cmd->name);
    *file = argv[optind];
    return 0;
}

int cli_trace_events_option(const struct cmd_entry *cmd, const char *arg, uint32_t *out)
{
    long n;
    if (!cli_parse_long(arg, HOST_TRACE_EVENTS_MIN, HOST_TRACE_EVENTS_MAX, &n))
        return cli_usage_error(cmd, "--trace-events wants a number of events from %u to %u, got '%s'",
                               HOST_TRACE_EVENTS_MIN, HOST_TRACE_EVENTS_MAX, arg);
    *out = (uint32_t)n;
    return STATUS_OK;
}
