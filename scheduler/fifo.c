/* fifo: first come, first served. Tasks run in ready order until they block
 * or finish; a running task is never preempted. */
#include <stdlib.h>

#include "policies.h"
#include "runqueue.h"
#include "sim/xalloc.h"

struct fifo_rq {
    struct rq_list ready; /* first: the rq_fifo_* functions work on it */
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

const struct sched_policy sched_fifo = {
    .name = "fifo",
    .summary = "first come, first served: run in ready order until block or exit",
    .validate = NULL,
    .create = fifo_create,
    .destroy = fifo_destroy,
    .enqueue = rq_fifo_enqueue,
    .dequeue = rq_fifo_dequeue,
    .pick_next = rq_fifo_pick_next,
    .peek = rq_fifo_peek,
    .preempt_check = NULL,
    .task_cmp = NULL,
    .next_timer = NULL,
    .timer = NULL,
};
