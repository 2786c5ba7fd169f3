/* The trace: what happened, as segments (a task in a state over [start, end),
 * on a CPU or off) and instant events. The simulator and the host runner both
 * produce it; the metrics report, the exporters and the viewer only read it.
 * Records are fixed-size and appended to growable arrays. */
#ifndef THREADSIM_TRACE_H
#define THREADSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

enum trace_state {
    TRACE_RUNNING = 0, /* on a CPU running its own ops */
    TRACE_READY,       /* runnable, waiting for a CPU */
    TRACE_BLOCKED,     /* waiting; see the reason */
    TRACE_SWITCH,      /* a CPU switching to this task (context/process switch cost) */
    TRACE_STATE_COUNT
};

/* Why a task is BLOCKED. The names (trace_reason_name) are the trace format. */
enum trace_reason {
    REASON_NONE = 0,
    REASON_SLEEP,
    REASON_IO,
    REASON_JOIN,
    REASON_WAKEUP,   /* made ready by another thread, waiting out wakeup_latency */
    REASON_LOCK,
    REASON_SEMAPHORE,
    REASON_EVENT,
    REASON_CONDITION,
    REASON_BARRIER,
    REASON_QUEUE,
    REASON_PIPE,
    REASON_GIL,
    REASON_PROCESS,  /* waiting for a process to end (join of a process) */
    REASON_POOL,     /* waiting for a pool's map to finish */
    REASON_FORK,     /* a made process's main thread while its fork makes it (real traces) */
    REASON_COUNT
};

enum trace_instant_kind {
    INSTANT_ARRIVE = 0, /* a task became ready for the first time */
    INSTANT_EXIT,       /* a task finished */
    INSTANT_PRINT,      /* text: the printed line */
    INSTANT_START,      /* a task started another: value = the started task */
    INSTANT_JOIN,       /* a join returned: value = the joined task */
    INSTANT_PREEMPT,    /* a task was preempted by value = the task that took its CPU */
    INSTANT_DEADLOCK,   /* text: the report */
    INSTANT_ACQUIRE,    /* obj acquired (flow pairs it with the release that handed it over) */
    INSTANT_RELEASE,    /* obj released: value = the task it was handed to, or -1 */
    INSTANT_WAIT,       /* a wait on obj (event, condition, barrier) began */
    INSTANT_WAKE,       /* a wait on obj ended: value 1 woken, 0 timed out */
    INSTANT_NOTIFY,     /* obj (condition) notified: value = threads woken */
    INSTANT_SET,        /* obj (event) set: value = threads woken */
    INSTANT_CLEAR,      /* obj (event) cleared */
    INSTANT_WRITE,      /* a memory write: obj = variable, value = the value written */
    INSTANT_LOST_UPDATE,/* a racy add overwrote another write: obj = variable */
    INSTANT_PUT,        /* a value put into obj (queue); flow pairs it with its get */
    INSTANT_GET,        /* a value got from obj (queue) */
    INSTANT_SEND,       /* a value sent into obj (pipe); flow pairs it with its recv */
    INSTANT_RECV,       /* a value received from obj (pipe); value -1 with no flow: EOF */
    INSTANT_CLOSE,      /* an end of obj (pipe) closed: value = the end */
    INSTANT_SIGNAL,     /* a signal handler starts in this task: value = the signal number */
    INSTANT_GIL_TAKE,   /* this task takes its process's GIL: value = the process (the GIL owner lane) */
    INSTANT_GIL_DROP,   /* this task drops it: value = the process; flow 1 when dropped on request */
    INSTANT_KIND_COUNT
};

struct trace_segment {
    int64_t start;
    int64_t end;
    uint32_t task;
    int32_t cpu;        /* -1 when not on a CPU (READY, BLOCKED) */
    uint8_t state;      /* enum trace_state */
    uint8_t reason;     /* enum trace_reason, REASON_NONE unless BLOCKED */
    uint16_t pad;
    uint32_t obj;       /* object waited for (issue-specific), UINT32_MAX: none */
};

struct trace_instant {
    int64_t time;
    int64_t value;
    uint32_t task;
    uint16_t kind;      /* enum trace_instant_kind */
    uint16_t pad;
    uint32_t obj;       /* UINT32_MAX: none */
    uint32_t flow;      /* pairs events (send->recv, release->acquire); 0: none */
    uint32_t text;      /* offset in the string pool, UINT32_MAX: none */
    uint32_t pad2;
};

struct trace_object {
    char *name;
    char *type;         /* "lock", "semaphore", ..., or "var" for memory */
    int32_t process;    /* owning process, -1: shared */
};

struct trace_task {
    char *name;
    uint32_t process;
    /* A real run's thread whose event buffer filled: from recorded_until on
     * its state changes and instants were not recorded (its last segment
     * goes on to its end as recorded, and its exit is still there);
     * unrecorded_events of them were counted. Before that, from
     * instants_until on, its hand-over and message instants (acquire,
     * release, put, get, send, recv, wait, wake, notify, set, clear, lost
     * updates) were not recorded, unrecorded_instants of them: the lock
     * owner lanes and the arrows stop there, the timeline goes on. -1 and 0:
     * all were recorded, as in every simulated trace. unrecorded_writes
     * counts memory writes past those a buffer keeps. */
    int64_t recorded_until;
    uint64_t unrecorded_events;
    int64_t instants_until;
    uint64_t unrecorded_instants;
    uint64_t unrecorded_writes;
    /* A real run's main thread of a process made by a `process` op or a
     * process pool: when its start-up in the runner ended and its first op
     * began (its first record); -1 otherwise, and in simulated traces. */
    int64_t first_op;
};

struct trace {
    char *scenario;     /* scenario name */
    char *description;  /* may be NULL */
    char *source;       /* "sim" or "real" */
    char *policy;
    uint32_t cpus;
    uint64_t seed;
    int64_t makespan;

    uint32_t nprocesses;
    char **processes;   /* process names */
    size_t processes_cap;
    uint32_t ntasks;
    struct trace_task *tasks;
    size_t tasks_cap;
    uint32_t nobjects;
    struct trace_object *objects;
    size_t objects_cap;

    size_t nsegments;
    struct trace_segment *segments;
    size_t segments_cap;
    size_t ninstants;
    struct trace_instant *instants;
    size_t instants_cap;
    char *strings;      /* NUL-terminated strings, referenced by offset */
    size_t strings_len;
    size_t strings_cap;
};

/* Makes an empty trace (free with trace_destroy). Strings are copied. */
struct trace *trace_create(const char *scenario, const char *description,
                           const char *source, const char *policy,
                           uint32_t cpus, uint64_t seed);
void trace_destroy(struct trace *tr);

uint32_t trace_add_process(struct trace *tr, const char *name);
uint32_t trace_add_task(struct trace *tr, const char *name, uint32_t process);
uint32_t trace_add_object(struct trace *tr, const char *name, const char *type, int32_t process);

/* Appends a segment; empty segments (end <= start) are dropped. */
void trace_segment_add(struct trace *tr, const struct trace_segment *seg);
/* Appends an instant; text (may be NULL) is copied into the string pool. */
void trace_instant_add(struct trace *tr, const struct trace_instant *ev, const char *text);

/* The string at a pool offset ("" for UINT32_MAX). */
const char *trace_string(const struct trace *tr, uint32_t offset);

const char *trace_state_name(enum trace_state s);
const char *trace_reason_name(enum trace_reason r);
const char *trace_instant_name(enum trace_instant_kind k);

/* The time up to which every task's events were recorded: the earliest
 * recorded_until of a task whose buffer filled, or -1 when all were (every
 * simulated trace). Past it, a cut-short task's last recorded state (and CPU)
 * only goes on. */
int64_t trace_recorded_until(const struct trace *tr);
/* The same for the hand-over and message instants: the earliest
 * instants_until or recorded_until of a task, or -1. */
int64_t trace_instants_until(const struct trace *tr);

/* Writes the trace as JSON (docs/trace-format.md). Deterministic: the same
 * trace gives the same bytes. Returns STATUS_OK or STATUS_INTERNAL on a write
 * error (err filled). */
enum status trace_write_json(const struct trace *tr, FILE *out, struct error *err);

#endif
