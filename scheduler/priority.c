/* priority: static priorities, lower number first, ties by ready order. By
 * default a task that becomes ready preempts a running task of strictly lower
 * priority; with a quantum, tasks of equal priority take turns (round robin
 * within a level). */
#include <assert.h>
#include <stdlib.h>

#include "policies.h"
#include "runqueue.h"
#include "sim/xalloc.h"

/* Ready orders are split in two ranges: a task put back at the head of its
 * level (ordering rule 3) gets an order below PRIO_ORDER_BASE, counting down,
 * so it precedes every task of its priority, including tasks preempted
 * earlier; every other enqueue gets PRIO_ORDER_BASE + seq. */
#define PRIO_ORDER_BASE (UINT64_C(1) << 62)

struct prio_rq {
    struct rq_heap ready; /* by (priority, order) */
    int64_t quantum;      /* 0: none, a task runs until it blocks or exits */
    bool preemptive;
    uint64_t heads;       /* head insertions so far */
};

static enum status prio_validate(const struct sched_config *config, struct error *err)
{
    if (config->quantum < 0)
        return error_set(err, STATUS_BAD_INPUT, "scheduler.quantum",
                         "the quantum must be a positive duration such as \"10ms\" "
                         "(or 0 for none)");
    return STATUS_OK;
}

static void *prio_create(const struct sched_env *env, struct error *err)
{
    if (prio_validate(env->config, err) != STATUS_OK)
        return NULL;
    struct prio_rq *rq = xmalloc(sizeof *rq);
    rq_heap_init(&rq->ready);
    rq->quantum = env->config->quantum;
    rq->preemptive = env->config->preemptive;
    rq->heads = 0;
    return rq;
}

static void prio_destroy(void *p)
{
    struct prio_rq *rq = p;
    if (!rq)
        return;
    rq_heap_deinit(&rq->ready);
    free(rq);
}

static int64_t prio_full_slice(const struct prio_rq *rq)
{
    return rq->quantum > 0 ? rq->quantum : SIM_TIME_NEVER;
}

static void prio_task_new(void *p, struct sched_entity *se, int64_t now)
{
    struct prio_rq *rq = p;
    (void)now;
    se->slice_left = prio_full_slice(rq);
}

static void prio_enqueue(void *p, struct sched_entity *se, enum enqueue_why why,
                         int64_t now, uint64_t seq)
{
    struct prio_rq *rq = p;
    (void)now;
    se->key = se->priority;
    /* A task preempted just as its slice ran out has no rest to keep: it is
     * an expiry, and goes to the tail. */
    if (why == ENQUEUE_PREEMPTED && se->slice_left > 0) {
        se->order = PRIO_ORDER_BASE - ++rq->heads;
    } else {
        assert(seq < PRIO_ORDER_BASE);
        se->order = PRIO_ORDER_BASE + seq;
        se->slice_left = prio_full_slice(rq);
    }
    rq_heap_push(&rq->ready, se);
}

static void prio_dequeue(void *p, struct sched_entity *se)
{
    struct prio_rq *rq = p;
    rq_heap_remove(&rq->ready, se);
}

static struct sched_entity *prio_pick_next(void *p, int cpu, int64_t now)
{
    struct prio_rq *rq = p;
    (void)cpu;
    (void)now;
    return rq_heap_pop(&rq->ready);
}

static struct sched_entity *prio_peek(void *p)
{
    struct prio_rq *rq = p;
    return rq_heap_first(&rq->ready);
}

/* What is left of the slice: a preempted task resumes where it stopped. */
static int64_t prio_slice(void *p, struct sched_entity *se, int64_t now)
{
    struct prio_rq *rq = p;
    (void)now;
    if (se->slice_left <= 0)
        se->slice_left = prio_full_slice(rq);
    return se->slice_left;
}

static void prio_account(void *p, struct sched_entity *se, int64_t delta,
                         enum sched_stop stop, int64_t now)
{
    struct prio_rq *rq = p;
    (void)stop;
    (void)now;
    if (rq->quantum > 0)
        se->slice_left -= delta;
}

static bool prio_preempt_check(void *p, const struct sched_entity *curr, int64_t ran,
                               const struct sched_entity *cand)
{
    struct prio_rq *rq = p;
    (void)ran;
    return rq->preemptive && cand->priority < curr->priority;
}

/* The running task of lowest priority (largest number) is the one to give
 * up its CPU. */
static int prio_task_cmp(void *p, const struct sched_entity *a, const struct sched_entity *b)
{
    (void)p;
    return (a->priority > b->priority) - (a->priority < b->priority);
}

static void prio_task_dead(void *p, struct sched_entity *se)
{
    (void)p;
    (void)se;
}

const struct sched_policy sched_priority = {
    .name = "priority",
    .summary = "static priority (lower number first), preemptive by default, optional quantum",
    .validate = prio_validate,
    .create = prio_create,
    .destroy = prio_destroy,
    .task_new = prio_task_new,
    .enqueue = prio_enqueue,
    .dequeue = prio_dequeue,
    .pick_next = prio_pick_next,
    .peek = prio_peek,
    .slice = prio_slice,
    .account = prio_account,
    .preempt_check = prio_preempt_check,
    .task_cmp = prio_task_cmp,
    .task_dead = prio_task_dead,
    .next_timer = NULL,
    .timer = NULL,
};
