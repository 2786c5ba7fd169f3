/* The results of a simulation run as the user sees them: per-thread metrics
 * as an aligned text table (with printed lines and a text Gantt chart), as
 * the contracted JSON object, or as CSV. Reads the engine's results only. */
#ifndef THREADSIM_REPORT_H
#define THREADSIM_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "sim/engine.h"
#include "sim/scenario.h"

/* A text Gantt chart is drawn for runs of at most this many threads. */
#define REPORT_GANTT_MAX_THREADS 20

enum report_format {
    REPORT_TEXT = 0,
    REPORT_JSON,
    REPORT_CSV
};

/* What a report describes. */
struct report_run {
    const struct scenario *sc;
    const char *policy;         /* the policy the run used */
    const struct engine *eng;   /* after engine_run */
    const char *deadlock;       /* the deadlock report, or NULL */
};

/* Parses "text", "json" or "csv"; false for anything else. */
bool report_format_parse(const char *name, enum report_format *out);

/* Writes the report in `format` to out. The text report includes a Gantt
 * chart when the engine recorded a trace and the run has at most
 * REPORT_GANTT_MAX_THREADS threads. */
void report_write(FILE *out, enum report_format format, const struct report_run *run);

#endif
