/* Shared by the viz tests: building small traces by hand. */
#ifndef THREADSIM_TESTS_TRACE_FIXTURE_H
#define THREADSIM_TESTS_TRACE_FIXTURE_H

#include <stdint.h>

#include "sim/trace.h"

/* Appends a segment of task over [start, end) in state (and reason), on cpu or -1. */
static inline void add_seg(struct trace *tr, uint32_t task, int32_t cpu, enum trace_state state,
                           enum trace_reason reason, int64_t start, int64_t end)
{
    struct trace_segment s = {.start = start, .end = end, .task = task, .cpu = cpu, .state = (uint8_t)state,
                              .reason = (uint8_t)reason, .obj = UINT32_MAX};
    trace_segment_add(tr, &s);
}

#endif
