/* sjf: shortest job first, non-preemptive. The ready task whose program has
 * the least total compute runs next (ties by ready order) until it blocks or
 * finishes. */
#include <stdlib.h>

#include "policies.h"
#include "runqueue.h"
#include "sim/xalloc.h"

struct sjf_rq {
    struct rq_heap ready; /* by (total_compute, ready order) */
};

static void *sjf_create(const struct sched_env *env, struct error *err)
{
    (void)env;
    (void)err;
    struct sjf_rq *rq = xmalloc(sizeof *rq);
    rq_heap_init(&rq->ready);
    return rq;
}

static void sjf_destroy(void *p)
{
    struct sjf_rq *rq = p;
    if (!rq)
        return;
    rq_heap_deinit(&rq->ready);
    free(rq);
}

/* The job length is the whole program's compute, not what is left of it: a
 * task coming back from I/O is ranked as when it first arrived. */
static void sjf_enqueue(void *p, struct sched_entity *se, enum enqueue_why why,
                        int64_t now, uint64_t seq)
{
    struct sjf_rq *rq = p;
    (void)why;
    (void)now;
    se->key = se->total_compute;
    se->order = seq;
    rq_heap_push(&rq->ready, se);
}

static void sjf_dequeue(void *p, struct sched_entity *se)
{
    struct sjf_rq *rq = p;
    rq_heap_remove(&rq->ready, se);
}

static struct sched_entity *sjf_pick_next(void *p, int cpu, int64_t now)
{
    struct sjf_rq *rq = p;
    (void)cpu;
    (void)now;
    return rq_heap_pop(&rq->ready);
}

static struct sched_entity *sjf_peek(void *p)
{
    struct sjf_rq *rq = p;
    return rq_heap_first(&rq->ready);
}

const struct sched_policy sched_sjf = {
    .name = "sjf",
    .summary = "shortest job first (total compute), non-preemptive",
    .validate = NULL,
    .create = sjf_create,
    .destroy = sjf_destroy,
    .enqueue = sjf_enqueue,
    .dequeue = sjf_dequeue,
    .pick_next = sjf_pick_next,
    .peek = sjf_peek,
    .preempt_check = NULL,
    .task_cmp = NULL,
    .next_timer = NULL,
    .timer = NULL,
};
