/* Chrome trace-event JSON for Perfetto (see perfetto.h). The format: "M"
 * metadata events name processes and threads; "X" complete events are the
 * segments (name = the state, or "blocked: reason"); "i" instant events mark
 * prints, signals, preemptions and the deadlock; "s"/"f" flow events join
 * the two ends of a hand-over or a message (the trace's flow ids), and a GIL
 * dropped on request with its next take by another thread (ids after the
 * trace's). Each GIL gets a "C" counter track, "GIL owner", whose value is
 * the holder's tid (0: free). CPUs get a process of their own ("CPUs") with
 * one track per CPU, so both views of the kernel are there. */
#include "perfetto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The pid of the "CPUs" pseudo-process, after the scenario's processes. */
static uint32_t cpus_pid(const struct trace *tr)
{
    return tr->nprocesses + 1;
}

static void pf_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Nanoseconds as microseconds with three decimals, exactly. */
static void pf_us(FILE *out, int64_t ns)
{
    if (ns < 0) {
        fputc('-', out);
        ns = -ns;
    }
    fprintf(out, "%" PRId64 ".%03" PRId64, ns / 1000, ns % 1000);
}

static void pf_state_name(char *buf, size_t cap, const struct trace_segment *s)
{
    if (s->state == TRACE_BLOCKED && s->reason != REASON_NONE)
        snprintf(buf, cap, "blocked: %s", trace_reason_name(s->reason));
    else
        snprintf(buf, cap, "%s", trace_state_name(s->state));
}

static void pf_sep(FILE *out, bool *first)
{
    fputs(*first ? "\n  " : ",\n  ", out);
    *first = false;
}

static void pf_metadata(const struct trace *tr, FILE *out, bool *first)
{
    for (uint32_t p = 0; p < tr->nprocesses; p++) {
        pf_sep(out, first);
        fprintf(out, "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": %" PRIu32 ", \"args\": {\"name\": ", p + 1);
        pf_string(out, tr->processes[p]);
        fputs("}}", out);
    }
    for (uint32_t t = 0; t < tr->ntasks; t++) {
        pf_sep(out, first);
        fprintf(out, "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": %" PRIu32 ", \"tid\": %" PRIu32
                     ", \"args\": {\"name\": ",
                tr->tasks[t].process + 1, t + 1);
        pf_string(out, tr->tasks[t].name);
        fputs("}}", out);
    }
    pf_sep(out, first);
    fprintf(out, "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": %" PRIu32 ", \"args\": {\"name\": \"CPUs\"}}",
            cpus_pid(tr));
    for (uint32_t c = 0; c < tr->cpus; c++) {
        pf_sep(out, first);
        fprintf(out, "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": %" PRIu32 ", \"tid\": %" PRIu32
                     ", \"args\": {\"name\": \"CPU %" PRIu32 "\"}}",
                cpus_pid(tr), c + 1, c);
    }
}

static void pf_segments(const struct trace *tr, FILE *out, bool *first)
{
    char name[64];
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        if (s->task >= tr->ntasks)
            continue;
        pf_state_name(name, sizeof name, s);
        pf_sep(out, first);
        fprintf(out, "{\"ph\": \"X\", \"name\": \"%s\", \"pid\": %" PRIu32 ", \"tid\": %" PRIu32 ", \"ts\": ", name,
                tr->tasks[s->task].process + 1, s->task + 1);
        pf_us(out, s->start);
        fputs(", \"dur\": ", out);
        pf_us(out, s->end - s->start);
        if (s->obj != UINT32_MAX && s->obj < tr->nobjects) {
            fputs(", \"args\": {\"object\": ", out);
            pf_string(out, tr->objects[s->obj].name);
            fputc('}', out);
        }
        fputc('}', out);
        /* the CPU view: what ran on each CPU */
        if (s->cpu >= 0 && (s->state == TRACE_RUNNING || s->state == TRACE_SWITCH)) {
            pf_sep(out, first);
            fputs("{\"ph\": \"X\", \"name\": ", out);
            if (s->state == TRACE_SWITCH) {
                fputs("\"switch\"", out);
            } else {
                char label[256];
                snprintf(label, sizeof label, "%s / %s", tr->processes[tr->tasks[s->task].process],
                         tr->tasks[s->task].name);
                pf_string(out, label);
            }
            fprintf(out, ", \"pid\": %" PRIu32 ", \"tid\": %" PRId32 ", \"ts\": ", cpus_pid(tr), s->cpu + 1);
            pf_us(out, s->start);
            fputs(", \"dur\": ", out);
            pf_us(out, s->end - s->start);
            fputc('}', out);
        }
    }
}

/* The GIL owner counter of a take or drop, and the hand-over flow of a
 * take after a drop on request. pending[p] is the drop waiting for its take. */
static void pf_gil(const struct trace *tr, const struct trace_instant *e, FILE *out, bool *first,
                   size_t *pending, uint32_t *next_flow)
{
    uint32_t p = e->value >= 0 && e->value < (int64_t)tr->nprocesses ? (uint32_t)e->value
                                                                      : tr->tasks[e->task].process;
    if (p >= tr->nprocesses)
        return;
    bool take = e->kind == INSTANT_GIL_TAKE;
    pf_sep(out, first);
    fprintf(out, "{\"ph\": \"C\", \"name\": \"GIL owner\", \"pid\": %" PRIu32 ", \"ts\": ", p + 1);
    pf_us(out, e->time);
    fprintf(out, ", \"args\": {\"tid\": %" PRIu32 "}}", take ? e->task + 1 : 0);
    if (!take) {
        pending[p] = e->flow ? (size_t)(e - tr->instants) : SIZE_MAX;
        return;
    }
    size_t d = pending[p];
    pending[p] = SIZE_MAX;
    if (d == SIZE_MAX || tr->instants[d].task == e->task)
        return;
    const struct trace_instant *drop = &tr->instants[d];
    uint32_t id = ++*next_flow;
    pf_sep(out, first);
    fprintf(out, "{\"ph\": \"s\", \"name\": \"GIL hand-over\", \"cat\": \"flow\", \"id\": %" PRIu32
                 ", \"pid\": %" PRIu32 ", \"tid\": %" PRIu32 ", \"ts\": ",
            id, p + 1, drop->task + 1);
    pf_us(out, drop->time);
    fputc('}', out);
    pf_sep(out, first);
    fprintf(out, "{\"ph\": \"f\", \"name\": \"GIL hand-over\", \"cat\": \"flow\", \"id\": %" PRIu32
                 ", \"pid\": %" PRIu32 ", \"tid\": %" PRIu32 ", \"ts\": ",
            id, p + 1, e->task + 1);
    pf_us(out, e->time);
    fputs(", \"bp\": \"e\"}", out);
}

static void pf_instants(const struct trace *tr, FILE *out, bool *first)
{
    uint32_t next_flow = 0;
    for (size_t i = 0; i < tr->ninstants; i++)
        next_flow = tr->instants[i].flow > next_flow ? tr->instants[i].flow : next_flow;
    size_t *pending = malloc(((size_t)tr->nprocesses + 1) * sizeof *pending);
    for (uint32_t p = 0; pending && p <= tr->nprocesses; p++)
        pending[p] = SIZE_MAX;
    for (size_t i = 0; i < tr->ninstants; i++) {
        const struct trace_instant *e = &tr->instants[i];
        bool global = e->task >= tr->ntasks;
        uint32_t pid = global ? 0 : tr->tasks[e->task].process + 1;
        uint32_t tid = global ? 0 : e->task + 1;
        if (pending && !global && (e->kind == INSTANT_GIL_TAKE || e->kind == INSTANT_GIL_DROP))
            pf_gil(tr, e, out, first, pending, &next_flow);
        pf_sep(out, first);
        fprintf(out, "{\"ph\": \"i\", \"s\": \"%s\", \"name\": \"%s\", \"pid\": %" PRIu32 ", \"tid\": %" PRIu32
                     ", \"ts\": ",
                global ? "g" : "t", trace_instant_name((enum trace_instant_kind)e->kind), pid, tid);
        pf_us(out, e->time);
        fprintf(out, ", \"args\": {\"value\": %" PRId64, e->value);
        if (e->obj != UINT32_MAX && e->obj < tr->nobjects) {
            fputs(", \"object\": ", out);
            pf_string(out, tr->objects[e->obj].name);
        }
        if (e->text != UINT32_MAX) {
            fputs(", \"text\": ", out);
            pf_string(out, trace_string(tr, e->text));
        }
        fputs("}}", out);
        /* flows: release/put/send start an arrow, acquire/get/recv end it */
        if (e->flow && !global) {
            bool start = e->kind == INSTANT_RELEASE || e->kind == INSTANT_PUT || e->kind == INSTANT_SEND;
            bool end = e->kind == INSTANT_ACQUIRE || e->kind == INSTANT_GET || e->kind == INSTANT_RECV;
            if (!start && !end)
                continue;
            pf_sep(out, first);
            fprintf(out, "{\"ph\": \"%s\", \"name\": \"hand-over\", \"cat\": \"flow\", \"id\": %" PRIu32
                         ", \"pid\": %" PRIu32 ", \"tid\": %" PRIu32 ", \"ts\": ",
                    start ? "s" : "f", e->flow, pid, tid);
            pf_us(out, e->time);
            fputs(end ? ", \"bp\": \"e\"}" : "}", out);
        }
    }
    free(pending);
}

/* A real run's thread whose event buffer filled: an instant where its
 * recording stopped, so its last slice is not read as what it did after. */
static void pf_unrecorded(const struct trace *tr, FILE *out, bool *first)
{
    for (uint32_t t = 0; t < tr->ntasks; t++) {
        if (tr->tasks[t].recorded_until < 0)
            continue;
        pf_sep(out, first);
        fprintf(out, "{\"ph\": \"i\", \"s\": \"t\", \"name\": \"not recorded from here (event buffer full)\", "
                     "\"pid\": %" PRIu32 ", \"tid\": %" PRIu32 ", \"ts\": ",
                tr->tasks[t].process + 1, t + 1);
        pf_us(out, tr->tasks[t].recorded_until);
        fprintf(out, ", \"args\": {\"unrecorded_events\": %" PRIu64 "}}", tr->tasks[t].unrecorded_events);
    }
}

enum status perfetto_write(const struct trace *tr, FILE *out, struct error *err)
{
    bool first = true;
    fputs("{\"displayTimeUnit\": \"ns\", \"otherData\": {\"scenario\": ", out);
    pf_string(out, tr->scenario);
    fputs(", \"policy\": ", out);
    pf_string(out, tr->policy);
    fprintf(out, ", \"cpus\": %" PRIu32 ", \"source\": ", tr->cpus);
    pf_string(out, tr->source);
    fputs("},\n\"traceEvents\": [", out);
    pf_metadata(tr, out, &first);
    pf_segments(tr, out, &first);
    pf_instants(tr, out, &first);
    pf_unrecorded(tr, out, &first);
    fputs("\n]}\n", out);
    if (fflush(out) != 0 || ferror(out))
        return error_set(err, STATUS_INTERNAL, NULL, "cannot write the Perfetto trace: %s", strerror(errno));
    return STATUS_OK;
}
