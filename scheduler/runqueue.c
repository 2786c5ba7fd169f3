/* The ready-queue containers of the scheduling policies (see runqueue.h). */
#include "runqueue.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xalloc.h"

#define RQ_LIST_MIN_CAP 16u

void rq_list_init(struct rq_list *l)
{
    memset(l, 0, sizeof *l);
}

void rq_list_deinit(struct rq_list *l)
{
    free(l->slots);
    memset(l, 0, sizeof *l);
}

static uint32_t rq_list_cap(const struct rq_list *l)
{
    return l->slots ? l->mask + 1 : 0;
}

/* Called when every slot is used: compacts the members into a new ring at
 * least twice their number, so the holes go and pushes stay amortized O(1). */
static void rq_list_regrow(struct rq_list *l)
{
    uint32_t cap = RQ_LIST_MIN_CAP;
    while (cap < 2 * (uint64_t)l->count + 1) {
        if (cap > UINT32_MAX / 2)
            abort();
        cap *= 2;
    }
    struct sched_entity **slots = xmalloc((size_t)cap * sizeof *slots);
    uint32_t n = 0;
    for (uint32_t pos = l->head; pos != l->tail; pos++) {
        struct sched_entity *se = l->slots[pos & l->mask];
        if (se) {
            se->link = n;
            slots[n++] = se;
        }
    }
    assert(n == l->count);
    free(l->slots);
    l->slots = slots;
    l->mask = cap - 1;
    l->head = 0;
    l->tail = n;
}

void rq_list_push_tail(struct rq_list *l, struct sched_entity *se)
{
    if (l->tail - l->head == rq_list_cap(l))
        rq_list_regrow(l);
    se->link = l->tail;
    l->slots[l->tail & l->mask] = se;
    l->tail++;
    l->count++;
}

void rq_list_push_head(struct rq_list *l, struct sched_entity *se)
{
    if (l->tail - l->head == rq_list_cap(l))
        rq_list_regrow(l);
    l->head--;
    se->link = l->head;
    l->slots[l->head & l->mask] = se;
    l->count++;
}

/* Restores the invariant that the ring starts and ends with members. */
static void rq_list_trim(struct rq_list *l)
{
    if (l->count == 0) {
        l->head = l->tail;
        return;
    }
    while (!l->slots[l->head & l->mask])
        l->head++;
    while (!l->slots[(l->tail - 1) & l->mask])
        l->tail--;
}

struct sched_entity *rq_list_pop_head(struct rq_list *l)
{
    if (l->count == 0)
        return NULL;
    struct sched_entity *se = l->slots[l->head & l->mask];
    l->slots[l->head & l->mask] = NULL;
    l->head++;
    l->count--;
    rq_list_trim(l);
    return se;
}

void rq_list_remove(struct rq_list *l, struct sched_entity *se)
{
    assert(l->count > 0 && se->link - l->head < l->tail - l->head &&
           l->slots[se->link & l->mask] == se);
    l->slots[se->link & l->mask] = NULL;
    l->count--;
    rq_list_trim(l);
}

void rq_list_append_all(struct rq_list *to, struct rq_list *from)
{
    for (uint32_t pos = from->head; pos != from->tail; pos++) {
        struct sched_entity *se = from->slots[pos & from->mask];
        if (se)
            rq_list_push_tail(to, se);
    }
    from->head = from->tail = 0;
    from->count = 0;
}

void rq_heap_init(struct rq_heap *h)
{
    memset(h, 0, sizeof *h);
}

void rq_heap_deinit(struct rq_heap *h)
{
    free(h->nodes);
    memset(h, 0, sizeof *h);
}

static inline int rq_node_less(const struct rq_heap_node *a, const struct rq_heap_node *b)
{
    return a->key < b->key || (a->key == b->key && a->order < b->order);
}

/* Moves the node `n` up from hole i to its place. */
static void rq_heap_up(struct rq_heap *h, uint32_t i, struct rq_heap_node n)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!rq_node_less(&n, &h->nodes[parent]))
            break;
        h->nodes[i] = h->nodes[parent];
        h->nodes[i].se->link = i;
        i = parent;
    }
    h->nodes[i] = n;
    n.se->link = i;
}

/* Moves the node `n` down from hole i to its place. */
static void rq_heap_down(struct rq_heap *h, uint32_t i, struct rq_heap_node n)
{
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && rq_node_less(&h->nodes[child + 1], &h->nodes[child]))
            child++;
        if (!rq_node_less(&h->nodes[child], &n))
            break;
        h->nodes[i] = h->nodes[child];
        h->nodes[i].se->link = i;
        i = child;
    }
    h->nodes[i] = n;
    n.se->link = i;
}

void rq_heap_push(struct rq_heap *h, struct sched_entity *se)
{
    h->nodes = xgrow(h->nodes, &h->cap, (size_t)h->count + 1, sizeof *h->nodes);
    struct rq_heap_node n = { se->key, se->order, se };
    rq_heap_up(h, h->count++, n);
}

/* Fills hole i with the last node. */
static void rq_heap_fill(struct rq_heap *h, uint32_t i)
{
    struct rq_heap_node last = h->nodes[--h->count];
    if (i == h->count)
        return;
    if (i > 0 && rq_node_less(&last, &h->nodes[(i - 1) / 2]))
        rq_heap_up(h, i, last);
    else
        rq_heap_down(h, i, last);
}

struct sched_entity *rq_heap_pop(struct rq_heap *h)
{
    if (h->count == 0)
        return NULL;
    struct sched_entity *se = h->nodes[0].se;
    rq_heap_fill(h, 0);
    return se;
}

void rq_heap_remove(struct rq_heap *h, struct sched_entity *se)
{
    assert(se->link < h->count && h->nodes[se->link].se == se);
    rq_heap_fill(h, se->link);
}

void *rq_ids_reserve(void *arr, size_t *cap, uint32_t id, size_t elem)
{
    size_t old = *cap;
    if ((size_t)id < old)
        return arr;
    arr = xgrow(arr, cap, (size_t)id + 1, elem);
    memset((char *)arr + old * elem, 0, (*cap - old) * elem);
    return arr;
}

void rq_fifo_enqueue(void *rq, struct sched_entity *se, enum enqueue_why why, int64_t now, uint64_t seq)
{
    struct rq_list *ready = rq;
    (void)now;
    if (why == ENQUEUE_PREEMPTED) {
        rq_list_push_head(ready, se);
        return;
    }
    se->order = seq;
    rq_list_push_tail(ready, se);
}

void rq_fifo_dequeue(void *rq, struct sched_entity *se)
{
    rq_list_remove(rq, se);
}

struct sched_entity *rq_fifo_pick_next(void *rq, int cpu, int64_t now)
{
    (void)cpu;
    (void)now;
    return rq_list_pop_head(rq);
}

struct sched_entity *rq_fifo_peek(void *rq)
{
    return rq_list_first(rq);
}
