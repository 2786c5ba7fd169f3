/* Shared by the viz tests: building small traces by hand. */
#ifndef THREADSIM_TESTS_TRACE_FIXTURE_H
#define THREADSIM_TESTS_TRACE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>

#include "sim/trace.h"

/* Appends a segment of task over [start, end) in state (and reason), on cpu or -1. */
static inline void add_seg(struct trace *tr, uint32_t task, int32_t cpu, enum trace_state state,
                           enum trace_reason reason, int64_t start, int64_t end)
{
    struct trace_segment s = {.start = start, .end = end, .task = task, .cpu = cpu, .state = (uint8_t)state,
                              .reason = (uint8_t)reason, .obj = UINT32_MAX};
    trace_segment_add(tr, &s);
}

/* A real run's trace on `cpus` CPUs with process "main" and its threads
 * t0 .. t(ntasks - 1), no segment yet. */
static inline struct trace *real_trace(uint32_t cpus, uint32_t ntasks)
{
    struct trace *tr = trace_create("t", NULL, "real", "os", cpus, 0);
    uint32_t p = trace_add_process(tr, "main");
    for (uint32_t i = 0; i < ntasks; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%u", (unsigned)i);
        trace_add_task(tr, name, p);
    }
    return tr;
}

/* Appends an instant without text. */
static inline void add_inst(struct trace *tr, int64_t time, uint32_t task,
                            enum trace_instant_kind kind, uint32_t obj, int64_t value,
                            uint32_t flow)
{
    struct trace_instant ev = {.time = time, .value = value, .task = task, .kind = (uint16_t)kind,
                               .obj = obj, .flow = flow, .text = UINT32_MAX};
    trace_instant_add(tr, &ev, NULL);
}

/* Process P with threads A and B over 1000 ns sharing P's GIL, lock L and
 * queue Q. The GIL: A holds it over [0, 300) and drops it on request, B
 * takes it at 400 and drops it at 700 of itself, A holds it from 800 on.
 * The lock: A holds it over [100, 200) and hands it to B, which takes it
 * once more (nested, ignored) and holds it to 600. The queue: A puts at 500,
 * B gets at 650. */
static inline struct trace *owner_trace(void)
{
    struct trace *tr = trace_create("owners", NULL, "sim", "fifo", 2, 0);
    uint32_t p = trace_add_process(tr, "P");
    trace_add_task(tr, "A", p);
    trace_add_task(tr, "B", p);
    uint32_t lock = trace_add_object(tr, "L", "lock", (int32_t)p);
    uint32_t queue = trace_add_object(tr, "Q", "queue", (int32_t)p);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 300);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_GIL, 300, 800);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 800, 1000);
    add_seg(tr, 1, -1, TRACE_BLOCKED, REASON_GIL, 0, 400);
    add_seg(tr, 1, 1, TRACE_RUNNING, REASON_NONE, 400, 700);
    add_seg(tr, 1, -1, TRACE_BLOCKED, REASON_SLEEP, 700, 1000);
    add_inst(tr, 0, 0, INSTANT_GIL_TAKE, UINT32_MAX, p, 0);
    add_inst(tr, 100, 0, INSTANT_ACQUIRE, lock, 0, 0);
    add_inst(tr, 200, 0, INSTANT_RELEASE, lock, 1, 5);
    add_inst(tr, 200, 1, INSTANT_ACQUIRE, lock, 0, 5);
    add_inst(tr, 250, 1, INSTANT_ACQUIRE, lock, 0, 0);
    add_inst(tr, 300, 0, INSTANT_GIL_DROP, UINT32_MAX, p, 1);
    add_inst(tr, 400, 1, INSTANT_GIL_TAKE, UINT32_MAX, p, 0);
    add_inst(tr, 500, 0, INSTANT_PUT, queue, 42, 7);
    add_inst(tr, 600, 1, INSTANT_RELEASE, lock, -1, 0);
    add_inst(tr, 650, 1, INSTANT_GET, queue, 42, 7);
    add_inst(tr, 700, 1, INSTANT_GIL_DROP, UINT32_MAX, p, 0);
    add_inst(tr, 800, 0, INSTANT_GIL_TAKE, UINT32_MAX, p, 0);
    tr->makespan = 1000;
    return tr;
}

#endif
