/* 4-ary heap with a slot table for cancellation (see event_queue.h). */
#include "event_queue.h"

#include <stdlib.h>

#include "xalloc.h"

#define EQ_ARITY 4

void event_queue_init(struct event_queue *q)
{
    q->heap = NULL;
    q->size = 0;
    q->cap = 0;
    q->slots = NULL;
    q->nslots = 0;
    q->slots_cap = 0;
    q->free_slot = EVENT_NONE;
    q->seq = 0;
}

void event_queue_deinit(struct event_queue *q)
{
    free(q->heap);
    free(q->slots);
    event_queue_init(q);
}

static inline bool eq_less(const struct event_entry *a, const struct event_entry *b)
{
    if (a->time != b->time)
        return a->time < b->time;
    if (a->key != b->key)
        return a->key < b->key;
    return a->seq < b->seq;
}

static inline void eq_place(struct event_queue *q, size_t pos, const struct event_entry *e)
{
    q->heap[pos] = *e;
    q->slots[e->slot].pos = (uint32_t)pos;
}

static void eq_sift_up(struct event_queue *q, size_t pos)
{
    struct event_entry e = q->heap[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / EQ_ARITY;
        if (!eq_less(&e, &q->heap[parent]))
            break;
        eq_place(q, pos, &q->heap[parent]);
        pos = parent;
    }
    eq_place(q, pos, &e);
}

static void eq_sift_down(struct event_queue *q, size_t pos)
{
    struct event_entry e = q->heap[pos];
    size_t n = q->size;
    for (;;) {
        size_t first = pos * EQ_ARITY + 1;
        if (first >= n)
            break;
        size_t best = first;
        size_t last = first + EQ_ARITY < n ? first + EQ_ARITY : n;
        for (size_t c = first + 1; c < last; c++)
            if (eq_less(&q->heap[c], &q->heap[best]))
                best = c;
        if (!eq_less(&q->heap[best], &e))
            break;
        eq_place(q, pos, &q->heap[best]);
        pos = best;
    }
    eq_place(q, pos, &e);
}

uint32_t event_queue_push(struct event_queue *q, int64_t time, uint64_t key,
                          uint32_t kind, uint32_t target, uint32_t aux)
{
    uint32_t slot;
    if (q->free_slot != EVENT_NONE) {
        slot = q->free_slot;
        q->free_slot = q->slots[slot].pos;
    } else {
        q->slots = xgrow(q->slots, &q->slots_cap, q->nslots + 1, sizeof *q->slots);
        slot = (uint32_t)q->nslots++;
    }
    q->slots[slot].kind = kind;
    q->slots[slot].target = target;
    q->slots[slot].aux = aux;
    q->heap = xgrow(q->heap, &q->cap, q->size + 1, sizeof *q->heap);
    struct event_entry *e = &q->heap[q->size];
    e->time = time;
    e->key = key;
    e->seq = q->seq++;
    e->slot = slot;
    q->slots[slot].pos = (uint32_t)q->size;
    q->size++;
    eq_sift_up(q, q->size - 1);
    return slot;
}

static void eq_free_slot(struct event_queue *q, uint32_t slot)
{
    q->slots[slot].pos = q->free_slot;
    q->free_slot = slot;
}

static void eq_remove_at(struct event_queue *q, size_t pos)
{
    q->size--;
    if (pos == q->size)
        return;
    q->heap[pos] = q->heap[q->size];
    q->slots[q->heap[pos].slot].pos = (uint32_t)pos;
    if (pos > 0 && eq_less(&q->heap[pos], &q->heap[(pos - 1) / EQ_ARITY]))
        eq_sift_up(q, pos);
    else
        eq_sift_down(q, pos);
}

void event_queue_cancel(struct event_queue *q, uint32_t handle)
{
    size_t pos = q->slots[handle].pos;
    eq_remove_at(q, pos);
    eq_free_slot(q, handle);
}

bool event_queue_pop(struct event_queue *q, struct event *ev)
{
    if (q->size == 0)
        return false;
    uint32_t slot = q->heap[0].slot;
    ev->time = q->heap[0].time;
    ev->kind = q->slots[slot].kind;
    ev->target = q->slots[slot].target;
    ev->aux = q->slots[slot].aux;
    eq_remove_at(q, 0);
    eq_free_slot(q, slot);
    return true;
}

int64_t event_queue_next_time(const struct event_queue *q)
{
    return q->size ? q->heap[0].time : INT64_MAX;
}
