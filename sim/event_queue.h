/* The engine's event queue: a 4-ary min-heap ordered by (time, key, sequence)
 * so simultaneous events come out in a deterministic order, with O(log n)
 * cancellation by handle. Handles index a slot table that records each
 * event's heap position; the caller owns the struct (event_queue_init). */
#ifndef THREADSIM_EVENT_QUEUE_H
#define THREADSIM_EVENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_NONE UINT32_MAX /* "no handle" */

struct event_entry {
    int64_t time;
    uint64_t key;   /* caller's tie-break (class and target) */
    uint32_t seq;   /* then insertion order (wraps after 2^32 pushes: callers
                       keep keys of simultaneous events distinct) */
    uint32_t slot;
};

struct event_slot {
    uint32_t pos;   /* heap position while queued; next free slot otherwise */
    uint32_t kind;
    uint32_t target;
    uint32_t aux;
};

/* A popped event. */
struct event {
    int64_t time;
    uint32_t kind;
    uint32_t target;
    uint32_t aux;
};

struct event_queue {
    struct event_entry *heap;
    size_t size;
    size_t cap;
    struct event_slot *slots;
    size_t nslots;
    size_t slots_cap;
    uint32_t free_slot;
    uint32_t seq;
};

void event_queue_init(struct event_queue *q);
void event_queue_deinit(struct event_queue *q);

/* Queues an event; returns its handle, valid until it is popped or cancelled. */
uint32_t event_queue_push(struct event_queue *q, int64_t time, uint64_t key,
                          uint32_t kind, uint32_t target, uint32_t aux);
/* Cancels a queued event. The handle must be live. */
void event_queue_cancel(struct event_queue *q, uint32_t handle);
/* Removes the earliest event into *ev; false when empty. */
bool event_queue_pop(struct event_queue *q, struct event *ev);
/* Time of the earliest event, or INT64_MAX when empty. */
int64_t event_queue_next_time(const struct event_queue *q);

static inline size_t event_queue_size(const struct event_queue *q)
{
    return q->size;
}

#endif
