/* Ready-queue containers shared by the scheduling policies: a double-ended
 * FIFO list and an indexed min-heap, both holding engine-owned entities and
 * using the entity's `link` field, so a task sits in at most one of them at a
 * time. Plus a helper for per-task side tables indexed by task id. */
#ifndef THREADSIM_SCHED_RUNQUEUE_H
#define THREADSIM_SCHED_RUNQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/sched_class.h"

/* A FIFO list with O(1) push at either end, pop at the head and removal of any
 * member. It is a ring of entity pointers indexed by free-running 32-bit
 * positions (wrapping is harmless: the capacity is a power of two); a member's
 * `link` is its position. Removing a member in the middle leaves a hole (NULL)
 * that the head skips later, which keeps removal O(1) and pops amortized O(1).
 * Invariants: tail - head <= mask + 1; count = non-NULL slots in [head, tail);
 * slots[head & mask] is never a hole when count > 0. */
struct rq_list {
    struct sched_entity **slots;
    uint32_t mask;   /* capacity - 1; 0 with no storage yet */
    uint32_t head;   /* position of the first member */
    uint32_t tail;   /* position after the last member */
    uint32_t count;  /* members (holes excluded) */
};

/* Makes an empty list in caller-provided storage; allocates nothing yet. */
void rq_list_init(struct rq_list *l);
/* Frees the list's storage (not the entities). */
void rq_list_deinit(struct rq_list *l);
/* Appends se, which must not be in any container. */
void rq_list_push_tail(struct rq_list *l, struct sched_entity *se);
/* Puts se in front of every member; se must not be in any container. */
void rq_list_push_head(struct rq_list *l, struct sched_entity *se);
/* Removes and returns the first member, or NULL if the list is empty. */
struct sched_entity *rq_list_pop_head(struct rq_list *l);
/* Removes se, which must be a member of l. */
void rq_list_remove(struct rq_list *l, struct sched_entity *se);
/* Appends every member of `from`, in order, to `to` and empties `from`. */
void rq_list_append_all(struct rq_list *to, struct rq_list *from);

/* The first member, left in place; NULL if the list is empty. */
static inline struct sched_entity *rq_list_first(const struct rq_list *l)
{
    return l->count ? l->slots[l->head & l->mask] : NULL;
}

/* The i-th slot from the head (0 <= i < tail - head); NULL for a hole. For
 * walking the list in order. */
static inline struct sched_entity *rq_list_slot(const struct rq_list *l, uint32_t i)
{
    return l->slots[(l->head + i) & l->mask];
}

/* Slots from head to tail, holes included: the bound of rq_list_slot. */
static inline uint32_t rq_list_span(const struct rq_list *l)
{
    return l->tail - l->head;
}

/* An indexed binary min-heap ordered by (key, order), copied from the entity
 * when it is pushed: change an entity's key or order only while it is out of
 * the heap. A member's `link` is its index in `nodes`. Orders are expected to
 * be unique, which makes the order of equal keys deterministic. */
struct rq_heap_node {
    int64_t key;
    uint64_t order;
    struct sched_entity *se;
};

struct rq_heap {
    struct rq_heap_node *nodes;
    size_t cap;
    uint32_t count;
};

/* Makes an empty heap in caller-provided storage; allocates nothing yet. */
void rq_heap_init(struct rq_heap *h);
/* Frees the heap's storage (not the entities). */
void rq_heap_deinit(struct rq_heap *h);
/* Inserts se by (se->key, se->order); se must not be in any container. */
void rq_heap_push(struct rq_heap *h, struct sched_entity *se);
/* Removes and returns the entity with the smallest (key, order), or NULL. */
struct sched_entity *rq_heap_pop(struct rq_heap *h);
/* Removes se, which must be a member of h. */
void rq_heap_remove(struct rq_heap *h, struct sched_entity *se);

/* The entity with the smallest (key, order), left in place; NULL if empty. */
static inline struct sched_entity *rq_heap_first(const struct rq_heap *h)
{
    return h->count ? h->nodes[0].se : NULL;
}

/* The smallest key; the heap must not be empty. */
static inline int64_t rq_heap_first_key(const struct rq_heap *h)
{
    return h->nodes[0].key;
}

/* The ready queue of fifo and rr: policy state that begins with a struct
 * rq_list kept in ready order. A task preempted by the engine goes back to
 * the head (ordering rule 3); others to the tail. These fill the policy
 * table's enqueue, dequeue, pick_next and peek. */
void rq_fifo_enqueue(void *rq, struct sched_entity *se, enum enqueue_why why, int64_t now, uint64_t seq);
void rq_fifo_dequeue(void *rq, struct sched_entity *se);
struct sched_entity *rq_fifo_pick_next(void *rq, int cpu, int64_t now);
struct sched_entity *rq_fifo_peek(void *rq);

/* Grows a per-task array `arr` of `elem`-byte elements so that index `id` is
 * valid, zero-filling the new elements; updates *cap (elements). Tasks created
 * at run time may have ids past the size a policy was created with. Returns
 * the (possibly moved) array. */
void *rq_ids_reserve(void *arr, size_t *cap, uint32_t id, size_t elem);

/* a * b / c rounded down, for non-negative a, b and positive c, without
 * overflowing when the result fits and b * c does. */
static inline int64_t rq_mul_div(int64_t a, int64_t b, int64_t c)
{
    return (a / c) * b + (a % c) * b / c;
}

#endif
