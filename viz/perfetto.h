/* The Perfetto / Chrome trace-event writer: a trace as the JSON that
 * ui.perfetto.dev and chrome://tracing open, with a process per simulated
 * process, a thread per task, a slice per state segment, instants for
 * prints, signals and deadlocks, and flow arrows from each hand-over or
 * message to where it is taken. */
#ifndef THREADSIM_PERFETTO_H
#define THREADSIM_PERFETTO_H

#include <stdio.h>

#include "sim/error.h"
#include "sim/trace.h"

/* Writes tr as Chrome trace-event JSON ({"traceEvents": [...]}, times in
 * microseconds with nanosecond decimals). Deterministic. Returns STATUS_OK,
 * or STATUS_INTERNAL with err filled on a write error. */
enum status perfetto_write(const struct trace *tr, FILE *out, struct error *err);

#endif
