/* Writes a trace as JSON (format: docs/trace-format.md). Written with plain
 * stdio and integer formatting so that the same trace gives the same bytes. */
#include "trace.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static void tj_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void tj_opt_string(FILE *out, const char *s)
{
    if (s)
        tj_string(out, s);
    else
        fputs("null", out);
}

static void tj_header(const struct trace *tr, FILE *out)
{
    fputs("{\n  \"format\": \"threadsim-trace\",\n  \"version\": 1,\n  \"source\": ", out);
    tj_string(out, tr->source);
    fputs(",\n  \"scenario\": ", out);
    tj_string(out, tr->scenario);
    fputs(",\n  \"description\": ", out);
    tj_opt_string(out, tr->description);
    fputs(",\n  \"policy\": ", out);
    tj_string(out, tr->policy);
    fprintf(out, ",\n  \"cpus\": %" PRIu32 ",\n  \"seed\": %" PRIu64
                 ",\n  \"time_unit\": \"ns\",\n  \"makespan_ns\": %" PRId64 ",\n",
            tr->cpus, tr->seed, tr->makespan);
}

static void tj_names(const struct trace *tr, FILE *out)
{
    fputs("  \"processes\": [", out);
    for (uint32_t i = 0; i < tr->nprocesses; i++) {
        fprintf(out, "%s\n    {\"id\": %" PRIu32 ", \"name\": ", i ? "," : "", i);
        tj_string(out, tr->processes[i]);
        fputc('}', out);
    }
    fputs("\n  ],\n  \"tasks\": [", out);
    for (uint32_t i = 0; i < tr->ntasks; i++) {
        fprintf(out, "%s\n    {\"id\": %" PRIu32 ", \"name\": ", i ? "," : "", i);
        tj_string(out, tr->tasks[i].name);
        fprintf(out, ", \"process\": %" PRIu32, tr->tasks[i].process);
        if (tr->tasks[i].recorded_until >= 0)
            fprintf(out, ", \"recorded_until\": %" PRId64 ", \"unrecorded_events\": %" PRIu64,
                    tr->tasks[i].recorded_until, tr->tasks[i].unrecorded_events);
        if (tr->tasks[i].instants_until >= 0)
            fprintf(out, ", \"instants_until\": %" PRId64 ", \"unrecorded_instants\": %" PRIu64,
                    tr->tasks[i].instants_until, tr->tasks[i].unrecorded_instants);
        if (tr->tasks[i].first_op >= 0)
            fprintf(out, ", \"first_op\": %" PRId64, tr->tasks[i].first_op);
        if (tr->tasks[i].unrecorded_writes > 0)
            fprintf(out, ", \"unrecorded_writes\": %" PRIu64, tr->tasks[i].unrecorded_writes);
        fputc('}', out);
    }
    fputs("\n  ],\n  \"objects\": [", out);
    for (uint32_t i = 0; i < tr->nobjects; i++) {
        fprintf(out, "%s\n    {\"id\": %" PRIu32 ", \"name\": ", i ? "," : "", i);
        tj_string(out, tr->objects[i].name);
        fputs(", \"type\": ", out);
        tj_string(out, tr->objects[i].type);
        fprintf(out, ", \"process\": %" PRId32 "}", tr->objects[i].process);
    }
    fputs("\n  ],\n", out);
}

static void tj_segments(const struct trace *tr, FILE *out)
{
    fputs("  \"segments_columns\": [\"task\", \"cpu\", \"state\", \"reason\", \"start\", \"end\", \"obj\"],\n"
          "  \"segments\": [",
          out);
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        fprintf(out, "%s\n    [%" PRIu32 ", %" PRId32 ", \"%s\", \"%s\", %" PRId64 ", %" PRId64 ", ",
                i ? "," : "", s->task, s->cpu, trace_state_name(s->state),
                trace_reason_name(s->reason), s->start, s->end);
        if (s->obj == UINT32_MAX)
            fputs("null]", out);
        else
            fprintf(out, "%" PRIu32 "]", s->obj);
    }
    fputs("\n  ],\n", out);
}

static void tj_instants(const struct trace *tr, FILE *out)
{
    fputs("  \"instants\": [", out);
    for (size_t i = 0; i < tr->ninstants; i++) {
        const struct trace_instant *e = &tr->instants[i];
        fprintf(out, "%s\n    {\"t\": %" PRId64 ", \"task\": %" PRIu32 ", \"kind\": \"%s\", \"value\": %" PRId64,
                i ? "," : "", e->time, e->task, trace_instant_name(e->kind), e->value);
        if (e->obj != UINT32_MAX)
            fprintf(out, ", \"obj\": %" PRIu32, e->obj);
        if (e->flow)
            fprintf(out, ", \"flow\": %" PRIu32, e->flow);
        if (e->text != UINT32_MAX) {
            fputs(", \"text\": ", out);
            tj_string(out, trace_string(tr, e->text));
        }
        fputc('}', out);
    }
    fputs("\n  ]\n}\n", out);
}

enum status trace_write_json(const struct trace *tr, FILE *out, struct error *err)
{
    tj_header(tr, out);
    tj_names(tr, out);
    tj_segments(tr, out);
    tj_instants(tr, out);
    if (fflush(out) != 0 || ferror(out))
        return error_set(err, STATUS_INTERNAL, NULL, "cannot write the trace: %s",
                         strerror(errno));
    return STATUS_OK;
}
