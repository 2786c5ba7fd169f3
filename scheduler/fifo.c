/* fifo: first come, first served. Tasks run in ready order until they block
 * or finish; a running task is never preempted. */
#include <stdlib.h>

#include "policies.h"
#include "runqueue.h"
#include "sim/xalloc.h"

struct fifo_rq {
    struct rq_list ready;
};

static void *fifo_create(const struct sched_env *env, struct error *err)
{
    (void)env;
    (void)err;
    struct fifo_rq *rq = xmalloc(sizeof *rq);
    rq_list_init(&rq->ready);
    return rq;
}

static void fifo_destroy(void *p)
{
    struct fifo_rq *rq = p;
    if (!rq)
        return;
    rq_list_deinit(&rq->ready);
    free(rq);
}

static void fifo_enqueue(void *p, struct sched_entity *se, enum enqueue_why why,
                         int64_t now, uint64_t seq)
{
    struct fifo_rq *rq = p;
    (void)now;
    /* fifo never preempts; a preemption the engine makes for its own reasons
     * still follows ordering rule 3. */
    if (why == ENQUEUE_PREEMPTED) {
        rq_list_push_head(&rq->ready, se);
        return;
    }
    se->order = seq;
    rq_list_push_tail(&rq->ready, se);
}

static void fifo_dequeue(void *p, struct sched_entity *se)
{
    struct fifo_rq *rq = p;
    rq_list_remove(&rq->ready, se);
}

static struct sched_entity *fifo_pick_next(void *p, int cpu, int64_t now)
{
    struct fifo_rq *rq = p;
    (void)cpu;
    (void)now;
    return rq_list_pop_head(&rq->ready);
}

static struct sched_entity *fifo_peek(void *p)
{
    struct fifo_rq *rq = p;
    return rq_list_first(&rq->ready);
}

const struct sched_policy sched_fifo = {
    .name = "fifo",
    .summary = "first come, first served: run in ready order until block or exit",
    .validate = NULL,
    .create = fifo_create,
    .destroy = fifo_destroy,
    .enqueue = fifo_enqueue,
    .dequeue = fifo_dequeue,
    .pick_next = fifo_pick_next,
    .peek = fifo_peek,
    .preempt_check = NULL,
    .task_cmp = NULL,
    .next_timer = NULL,
    .timer = NULL,
};
