/* srtf: shortest remaining time first, the preemptive form of sjf. The ready
 * task with the least compute left runs next (ties by ready order); a task
 * that becomes ready preempts a running one only if it has strictly less
 * left than the running one has at that instant. */
#include <stdlib.h>

#include "policies.h"
#include "runqueue.h"
#include "sim/xalloc.h"

struct srtf_rq {
    struct rq_heap ready; /* by (remaining compute, ready order) */
    /* CPU time each running task had not yet been accounted for at its last
     * preempt_check, by task id: task_cmp gets no `ran`, and without it two
     * running tasks would be compared by their remaining time at dispatch. */
    int64_t *ran;
    size_t nran;
};

/* Compute still to do once `ran` more ns are counted; the total is a static
 * estimate, so a task may outrun it: it then has nothing left, not less. */
static int64_t srtf_remaining(const struct sched_entity *se, int64_t ran)
{
    int64_t left = se->total_compute - se->cpu_done - ran;
    return left > 0 ? left : 0;
}

static void *srtf_create(const struct sched_env *env, struct error *err)
{
    (void)err;
    struct srtf_rq *rq = xmalloc(sizeof *rq);
    rq_heap_init(&rq->ready);
    rq->nran = env->max_tasks ? env->max_tasks : 1;
    rq->ran = xcalloc(rq->nran, sizeof *rq->ran);
    return rq;
}

static void srtf_destroy(void *p)
{
    struct srtf_rq *rq = p;
    if (!rq)
        return;
    rq_heap_deinit(&rq->ready);
    free(rq->ran);
    free(rq);
}

static void srtf_task_new(void *p, struct sched_entity *se, int64_t now)
{
    struct srtf_rq *rq = p;
    (void)now;
    rq->ran = rq_ids_reserve(rq->ran, &rq->nran, se->id, sizeof *rq->ran);
    rq->ran[se->id] = 0;
    se->slice_left = SIM_TIME_NEVER;
}

/* Every kind of enqueue is ranked by what is left and, among equals, by the
 * instant the task became ready: a preempted task has no claim to the head. */
static void srtf_enqueue(void *p, struct sched_entity *se, enum enqueue_why why,
                         int64_t now, uint64_t seq)
{
    struct srtf_rq *rq = p;
    (void)why;
    (void)now;
    se->key = srtf_remaining(se, 0);
    se->order = seq;
    rq_heap_push(&rq->ready, se);
}

static void srtf_dequeue(void *p, struct sched_entity *se)
{
    struct srtf_rq *rq = p;
    rq_heap_remove(&rq->ready, se);
}

static struct sched_entity *srtf_pick_next(void *p, int cpu, int64_t now)
{
    struct srtf_rq *rq = p;
    (void)cpu;
    (void)now;
    struct sched_entity *se = rq_heap_pop(&rq->ready);
    if (se)
        rq->ran[se->id] = 0;
    return se;
}

static struct sched_entity *srtf_peek(void *p)
{
    struct srtf_rq *rq = p;
    return rq_heap_first(&rq->ready);
}

static void srtf_account(void *p, struct sched_entity *se, int64_t delta,
                         enum sched_stop stop, int64_t now)
{
    struct srtf_rq *rq = p;
    (void)delta;
    (void)stop;
    (void)now;
    rq->ran[se->id] = 0;
}

static bool srtf_preempt_check(void *p, const struct sched_entity *curr, int64_t ran,
                               const struct sched_entity *cand)
{
    struct srtf_rq *rq = p;
    rq->ran[curr->id] = ran;
    return srtf_remaining(cand, 0) < srtf_remaining(curr, ran);
}

/* The running task with more left is the one to give up its CPU. */
static int srtf_task_cmp(void *p, const struct sched_entity *a, const struct sched_entity *b)
{
    struct srtf_rq *rq = p;
    int64_t ra = srtf_remaining(a, rq->ran[a->id]);
    int64_t rb = srtf_remaining(b, rq->ran[b->id]);
    return (ra > rb) - (ra < rb);
}

static void srtf_task_dead(void *p, struct sched_entity *se)
{
    (void)p;
    (void)se;
}

const struct sched_policy sched_srtf = {
    .name = "srtf",
    .summary = "shortest remaining time first, preemptive",
    .validate = NULL,
    .create = srtf_create,
    .destroy = srtf_destroy,
    .task_new = srtf_task_new,
    .enqueue = srtf_enqueue,
    .dequeue = srtf_dequeue,
    .pick_next = srtf_pick_next,
    .peek = srtf_peek,
    .account = srtf_account,
    .preempt_check = srtf_preempt_check,
    .task_cmp = srtf_task_cmp,
    .task_dead = srtf_task_dead,
    .next_timer = NULL,
    .timer = NULL,
};
