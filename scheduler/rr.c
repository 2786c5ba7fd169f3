/* rr: round robin. Tasks run in ready order for at most one quantum of their
 * own CPU time; a task whose quantum ends goes to the tail of the queue. A
 * task is never preempted by a newly ready one. */
#include <stdlib.h>

#include "policies.h"
#include "runqueue.h"
#include "sim/xalloc.h"

/* The quantum when the scenario gives none (or 0). */
#define RR_DEFAULT_QUANTUM 10000000LL

/* Tail insertion in enqueue order (rq_fifo_enqueue) gives ordering rule 2:
 * the engine enqueues a task whose quantum expired at t after the tasks
 * ready before t and before those that become ready at t. */
struct rr_rq {
    struct rq_list ready; /* first: the rq_fifo_* functions work on it */
    int64_t quantum;
};

static enum status rr_validate(const struct sched_config *config, struct error *err)
{
    if (config->quantum < 0)
        return error_set(err, STATUS_BAD_INPUT, "scheduler.quantum",
                         "the quantum must be a positive duration such as \"10ms\" "
                         "(or 0 for the default of 10ms)");
    return STATUS_OK;
}

static void *rr_create(const struct sched_env *env, struct error *err)
{
    if (rr_validate(env->config, err) != STATUS_OK)
        return NULL;
    struct rr_rq *rq = xmalloc(sizeof *rq);
    rq_list_init(&rq->ready);
    rq->quantum = env->config->quantum > 0 ? env->config->quantum : RR_DEFAULT_QUANTUM;
    return rq;
}

static void rr_destroy(void *p)
{
    struct rr_rq *rq = p;
    if (!rq)
        return;
    rq_list_deinit(&rq->ready);
    free(rq);
}

static void rr_task_new(void *p, struct sched_entity *se, int64_t now)
{
    struct rr_rq *rq = p;
    (void)now;
    se->slice_left = rq->quantum;
}

/* Every dispatch starts a full quantum. */
static int64_t rr_slice(void *p, struct sched_entity *se, int64_t now)
{
    struct rr_rq *rq = p;
    (void)now;
    se->slice_left = rq->quantum;
    return rq->quantum;
}

static void rr_account(void *p, struct sched_entity *se, int64_t delta,
                       enum sched_stop stop, int64_t now)
{
    (void)p;
    (void)stop;
    (void)now;
    se->slice_left -= delta;
}

const struct sched_policy sched_rr = {
    .name = "rr",
    .summary = "round robin with a fixed quantum (default 10ms)",
    .validate = rr_validate,
    .create = rr_create,
    .destroy = rr_destroy,
    .task_new = rr_task_new,
    .enqueue = rq_fifo_enqueue,
    .dequeue = rq_fifo_dequeue,
    .pick_next = rq_fifo_pick_next,
    .peek = rq_fifo_peek,
    .slice = rr_slice,
    .account = rr_account,
    .preempt_check = NULL,
    .task_cmp = NULL,
    .next_timer = NULL,
    .timer = NULL,
};
