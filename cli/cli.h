/* The threadsim command's shared pieces: the sub-command table entry, error
 * messages in the one format users see, and option-value parsers. Only cli/
 * prints and chooses exit codes; an exit code is an enum status (sim/error.h). */
#ifndef THREADSIM_CLI_H
#define THREADSIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/error.h"
#include "sim/scenario.h"
#include "sim/sched_class.h"
#include "sim/trace.h"

#define CLI_NAME "threadsim"

/* One sub-command (cmd_<name>.c); main.c lists them in a table. */
struct cmd_entry {
    const char *name;
    const char *usage;   /* the full --help text: usage lines, then options */
    const char *summary; /* one line for the command list */
    /* Runs the command; argv[0] is the command's name. Returns the exit code.
     * Handles its own --help. */
    int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_view_entry;
extern const struct cmd_entry cmd_real_entry;
extern const struct cmd_entry cmd_calibrate_entry;
extern const struct cmd_entry cmd_compare_entry;

/* The options `run` and `export` share: overrides of the scenario for one run. */
struct cli_overrides {
    const struct sched_policy *policy; /* --policy, or NULL */
    long cpus;                         /* --cpus, or 0 */
    uint64_t seed;                     /* --seed, when has_seed */
    bool has_seed;
    sim_time quantum;                  /* --quantum, when has_quantum */
    bool has_quantum;
    const char *profile;               /* --profile, or NULL */
};

/* Runs the scenario in `file` once for real (host_run, default limits) for
 * the commands that draw it (export, view); trace_events: the events of a
 * declared thread's trace buffer, 0: the runner's default. Returns 0 with
 * *out the trace (free with trace_destroy), or the exit code of what went
 * wrong, printed; *out is then still the trace when the run made one (a
 * deadlocked run is drawn up to where it stopped), else NULL. */
int cli_real_trace(const char *file, uint32_t trace_events, struct trace **out);

/* Parses the value of --trace-events (real, compare, export, view) into
 * *out. Returns STATUS_OK, or the usage error's exit code (printed). */
int cli_trace_events_option(const struct cmd_entry *cmd, const char *arg, uint32_t *out);

/* getopt_long ids and entries of the override options, shared by the
 * commands that take them: put CLI_OVERRIDE_OPTIONS in the option table and
 * hand each id it returns to cli_parse_override. */
enum {
    CLI_OPT_POLICY = 1000,
    CLI_OPT_CPUS,
    CLI_OPT_SEED,
    CLI_OPT_QUANTUM,
    CLI_OPT_PROFILE
};
#define CLI_OVERRIDE_OPTIONS                                          \
    {"policy", required_argument, NULL, CLI_OPT_POLICY},              \
    {"cpus", required_argument, NULL, CLI_OPT_CPUS},                  \
    {"seed", required_argument, NULL, CLI_OPT_SEED},                  \
    {"quantum", required_argument, NULL, CLI_OPT_QUANTUM},            \
    {"profile", required_argument, NULL, CLI_OPT_PROFILE}

/* The case labels of the override options in a command's getopt switch,
 * each to be handed to cli_parse_override. */
#define CLI_OVERRIDE_CASES                                            \
    case CLI_OPT_POLICY:                                              \
    case CLI_OPT_CPUS:                                                \
    case CLI_OPT_SEED:                                                \
    case CLI_OPT_QUANTUM:                                             \
    case CLI_OPT_PROFILE

/* Parses the value of override option `id` into ov. Returns 0, or prints a
 * usage error of cmd and returns its exit code. */
int cli_parse_override(const struct cmd_entry *cmd, int id, const char *value, struct cli_overrides *ov);

/* Applies the overrides to a scenario loaded from `file` and finds the policy
 * to run. Returns STATUS_OK, or prints the error and returns its code. */
int cli_apply_overrides(struct scenario *sc, const char *file, const struct cli_overrides *ov,
                        const struct sched_policy **policy);

/* A library writer of some object into a stream (trace_write_json, svg_write, ...). */
typedef enum status (*cli_writer)(const void *obj, FILE *out, struct error *err);

/* Writes obj to the file at path with `write`; `what` names it in messages
 * ("the trace"). Returns an exit code. */
int cli_write_file(const char *path, const char *what, cli_writer write, const void *obj);

/* Prints "threadsim: MESSAGE" and a newline to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "threadsim: CMD: MESSAGE" and a hint to read the command's --help to
 * stderr. Returns STATUS_BAD_INPUT, the exit code of bad usage. */
int cli_usage_error(const struct cmd_entry *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints an error about `file` to stderr as "FILE:LINE:COLUMN: MESSAGE" for
 * JSON syntax errors, "FILE: PATH: MESSAGE" when the error names a JSON path,
 * else "FILE: MESSAGE". Returns err->status (STATUS_INTERNAL if it is OK). */
int cli_file_error(const char *file, const struct error *err);

/* The one scenario FILE left in argv after getopt_long: *file, and 0; or a
 * usage error of cmd (none, or more than one) and its exit code. */
int cli_scenario_file(const struct cmd_entry *cmd, int argc, char **argv, const char **file);

/* Prints the command's help text to stdout. */
void cli_print_help(const struct cmd_entry *cmd);

/* The policy named `name`; NULL with err filled (STATUS_BAD_INPUT, `path`,
 * a message listing the known policies) when there is none. */
const struct sched_policy *cli_find_policy(const char *name, const char *path,
                                           struct error *err);

/* Writes the names of all policies, comma-separated, into buf. */
void cli_policy_names(char *buf, size_t size);

/* Parses a duration as a scenario writes it ("4ms", "1.5s", "0"). Returns
 * STATUS_OK, or STATUS_BAD_INPUT with err->msg saying why. */
enum status cli_parse_duration(const char *text, sim_time *out, struct error *err);

/* Parses a decimal integer in [lo, hi]; false if text is anything else. */
bool cli_parse_long(const char *text, long lo, long hi, long *out);

/* Parses a decimal unsigned 64-bit integer; false if text is anything else. */
bool cli_parse_u64(const char *text, uint64_t *out);

#endif
