/* The kernel's view at one instant of a trace, for teaching: which thread
 * each CPU runs, the ready queue, who waits on which object, the GIL owner of
 * each process, lock owners and the values of variables. Pure C: the viewer's
 * side panel shows it and the tests check it without a display. */
#ifndef THREADSIM_STATE_AT_H
#define THREADSIM_STATE_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/trace.h"

#define STATE_NONE UINT32_MAX

struct state_cpu {
    uint32_t task;             /* STATE_NONE: idle */
    uint8_t state;             /* TRACE_RUNNING or TRACE_SWITCH (switching to task) */
    int64_t since;             /* start of the segment */
};

/* A thread in a queue (ready or waiting): queues are listed in the order the
 * threads joined them. */
struct state_entry {
    uint32_t task;
    uint8_t reason;            /* enum trace_reason (waiters and blocked) */
    int64_t since;             /* when it joined the queue */
};

/* An object (lock, condition, queue...) with an owner or waiters. */
struct state_object {
    uint32_t obj;              /* index in the trace's objects */
    uint32_t owner;            /* locks and rlocks: the holder, else STATE_NONE */
    size_t first, n;           /* its waiters: entries [first, first + n) of waiters */
};

/* The GIL of a process that has one in use. */
struct state_gil {
    uint32_t process;
    uint32_t owner;            /* STATE_NONE: free */
    size_t first, n;           /* threads blocked for it, in waiters */
};

struct state_var {
    uint32_t obj;              /* index in the trace's objects (type "var") */
    bool written;              /* false: no write recorded yet */
    int64_t value;             /* the last value written */
    uint32_t writer;           /* the thread that wrote it */
};

/* The state at `time`: after every change at `time` took effect (a segment
 * [start, end) covers start; instants at `time` have happened). */
struct state_view {
    int64_t time;
    size_t ncpus;
    struct state_cpu *cpus;
    size_t nready;
    struct state_entry *ready;     /* READY threads, first in first */
    size_t nobjects;
    struct state_object *objects;  /* in object order */
    size_t ngils;
    struct state_gil *gils;        /* in process order */
    size_t nwaiters;
    struct state_entry *waiters;   /* waiters of objects and GILs, by queue */
    size_t nblocked;
    struct state_entry *blocked;   /* blocked on no object: sleep, io, join, wakeup... */
    size_t nvars;
    struct state_var *vars;        /* every variable, in object order */
    const char *deadlock;          /* the report of a deadlock found by time (the
                                    * trace's string), or NULL */

    size_t cpus_cap, ready_cap, objects_cap, gils_cap, waiters_cap, blocked_cap, vars_cap;
};

/* Storage the caller provides; state_view_deinit frees what state_at grew. */
void state_view_init(struct state_view *v);
void state_view_deinit(struct state_view *v);

/* Fills out with the state of tr at time t (any t; before 0 or after the end
 * everything is empty or idle). Reuses out's arrays. O(segments + instants).
 * The ready queue and the wait queues are in the order the threads joined
 * them (ties: the order the simulator recorded them), which is the order of
 * the FIFO and round-robin run queue and of every wait queue; other policies
 * pick from the ready queue by their own rule. */
void state_at(const struct trace *tr, int64_t t, struct state_view *out);

/* The view as text, one line per CPU, queue or object, for the side panel and
 * --dump-state. Returns a string to free(). */
char *state_view_text(const struct trace *tr, const struct state_view *v);

/* "P1 / main": a thread's label as the timeline shows it, into buf. */
void state_task_label(const struct trace *tr, uint32_t task, char *buf, size_t size);

/* Writes t exactly ("5ms", "4.25ms", "0") into buf. */
void state_format_time(char *buf, size_t size, int64_t t);

#endif
