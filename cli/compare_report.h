/* The report of `threadsim compare`: the simulated run, the real runs'
 * medians and spreads, and the error, as text or as the contracted JSON
 * ({"sim": ..., "real": ..., "error": ...}). */
#ifndef THREADSIM_CLI_COMPARE_REPORT_H
#define THREADSIM_CLI_COMPARE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "calib_cli.h"
#include "report.h"
#include "sim/compare.h"
#include "sim/profile.h"

/* What compare changed in the scenario so the simulation predicts this host. */

/* The final memory of the real runs, per cell the median over the runs (an
 * even count: the lower middle one). Processes are the first real run's
 * (declared ones, then those made by `process` ops); the shared memory
 * comes after them, at index nprocesses. */
struct compare_memory {
    uint32_t nprocesses;
    const char *const *process;  /* names, nprocesses of them */
    int64_t **values;            /* [p * nvars + var]: scenario.vars[var]'s length (or 1)
                                    medians, NULL where process p has no var */
};

struct compare_report {
    const struct report_run *sim;   /* the simulation (its scenario has the fitted machine) */
    const struct comparison *cmp;
    const char *profile_path;
    const struct profile *profile;  /* the profile the simulation used */
    struct compare_fit fit;
    const struct compare_memory *memory; /* NULL: none known (printed as {}) */
    /* the count kernel's time per iteration just before and just after the
     * real runs, against the profile's count_ns_per_iter */
    double count_before;
    double count_after;
};

/* Writes the report in format (REPORT_TEXT or REPORT_JSON) to out. */
void compare_report_write(FILE *out, enum report_format format, const struct compare_report *r);

/* The text report's lines on the fit: the profile's path and name, and what
 * the simulation of sc (already fitted) took from the host, then a blank
 * line. `run --as-host` prints them too. */
void compare_fit_write_text(FILE *out, const char *profile_path, const char *profile_name,
                            const struct scenario *sc, const struct compare_fit *fit);

#endif
