/* cfs: Linux's completely fair scheduler (before EEVDF), on one shared ready
 * queue. Each task's virtual runtime grows by its CPU time scaled by
 * 1024 / weight (weights from nice, as Linux's sched_prio_to_weight); the
 * smallest virtual runtime runs next, for a slice proportional to its share
 * of the runnable weight. */
#include <stdlib.h>

#include "policies.h"
#include "runqueue.h"
#include "sim/xalloc.h"

#define CFS_DEFAULT_LATENCY 6000000LL      /* sysctl_sched_latency */
#define CFS_DEFAULT_MIN_GRANULARITY 750000LL /* sysctl_sched_min_granularity */
#define CFS_NICE_0_WEIGHT 1024

/* Linux kernel/sched/core.c, sched_prio_to_weight: nice -20 .. 19. Each step
 * is about 1.25x, so one nice level is about 10% of CPU between two tasks. */
static const uint32_t cfs_prio_to_weight[40] = {
    88761, 71755, 56483, 46273, 36291,
    29154, 23254, 18705, 14949, 11916,
    9548,  7620,  6100,  4904,  3906,
    3121,  2501,  1991,  1586,  1277,
    1024,  820,   655,   526,   423,
    335,   272,   215,   172,   137,
    110,   87,    70,    56,    45,
    36,    29,    23,    18,    15,
};

/* Per-task bookkeeping the entity has no field for. */
struct cfs_task {
    int64_t woke;     /* when it was last enqueued NEW or WAKEUP, else INT64_MIN */
    int64_t ran;      /* `ran` seen at its last preempt_check while running */
    int64_t ran_clock; /* rq clock at that check; INT64_MIN after an account */
    uint32_t rem;     /* remainder of delta * 1024 not yet in its vruntime */
};

/* Invariants: ready_weight and running_weight are the sums of the weights in
 * `ready` and `running`; min_vruntime never decreases. A running task is in
 * `running`, keyed by its vruntime at its last account. */
struct cfs_rq {
    struct rq_heap ready;   /* by (vruntime, ready order) */
    struct rq_heap running; /* by vruntime: for min_vruntime */
    uint64_t ready_weight;
    uint64_t running_weight;
    int64_t min_vruntime;
    int64_t latency;
    int64_t min_granularity;
    /* The latest `now` the engine passed. preempt_check gets no time, so
     * this tells whether a candidate was woken at the current instant; it
     * goes stale (clock_stale) when a running task is seen to have run on
     * since, with no call in between. */
    int64_t clock;
    bool clock_stale;
    struct cfs_task *tasks; /* by task id */
    size_t ntasks;
};

static enum status cfs_validate(const struct sched_config *config, struct error *err)
{
    if (config->latency < 0)
        return error_set(err, STATUS_BAD_INPUT, "scheduler.latency",
                         "the target latency must be a positive duration such as "
                         "\"6ms\" (or 0 for the default of 6ms)");
    if (config->min_granularity < 0)
        return error_set(err, STATUS_BAD_INPUT, "scheduler.min_granularity",
                         "the minimum granularity must be a positive duration such "
                         "as \"0.75ms\" (or 0 for the default of 0.75ms)");
    return STATUS_OK;
}

static void *cfs_create(const struct sched_env *env, struct error *err)
{
    const struct sched_config *config = env->config;
    if (cfs_validate(config, err) != STATUS_OK)
        return NULL;
    struct cfs_rq *rq = xmalloc(sizeof *rq);
    rq_heap_init(&rq->ready);
    rq_heap_init(&rq->running);
    rq->ready_weight = 0;
    rq->running_weight = 0;
    rq->min_vruntime = 0;
    rq->latency = config->latency > 0 ? config->latency : CFS_DEFAULT_LATENCY;
    rq->min_granularity = config->min_granularity > 0 ? config->min_granularity
                                                      : CFS_DEFAULT_MIN_GRANULARITY;
    rq->clock = 0;
    rq->clock_stale = false;
    rq->ntasks = env->max_tasks ? env->max_tasks : 1;
    rq->tasks = xcalloc(rq->ntasks, sizeof *rq->tasks);
    return rq;
}

static void cfs_destroy(void *p)
{
    struct cfs_rq *rq = p;
    if (!rq)
        return;
    rq_heap_deinit(&rq->ready);
    rq_heap_deinit(&rq->running);
    free(rq->tasks);
    free(rq);
}

static void cfs_tick(struct cfs_rq *rq, int64_t now)
{
    rq->clock = now;
    rq->clock_stale = false;
}

/* The vruntime of a task after `delta` more ns of CPU, and the new
 * remainder: exact integer division with the remainder carried, so a task's
 * vruntime is always floor(total CPU * 1024 / weight). */
static int64_t cfs_vruntime_after(const struct sched_entity *se, uint32_t rem,
                                  int64_t delta, uint32_t *rem_out)
{
    int64_t w = se->weight;
    int64_t r = (delta % w) * CFS_NICE_0_WEIGHT + rem;
    if (rem_out)
        *rem_out = (uint32_t)(r % w);
    return se->key + (delta / w) * CFS_NICE_0_WEIGHT + r / w;
}

/* As Linux's update_min_vruntime: follow the smallest vruntime among the
 * running tasks and the leftmost ready one, never going back. */
static void cfs_update_min_vruntime(struct cfs_rq *rq)
{
    bool any = false;
    int64_t v = 0;
    if (rq->running.count) {
        v = rq_heap_first_key(&rq->running);
        any = true;
    }
    if (rq->ready.count) {
        int64_t left = rq_heap_first_key(&rq->ready);
        v = any && v < left ? v : left;
        any = true;
    }
    if (any && v > rq->min_vruntime)
        rq->min_vruntime = v;
}

static void cfs_task_new(void *p, struct sched_entity *se, int64_t now)
{
    struct cfs_rq *rq = p;
    cfs_tick(rq, now);
    rq->tasks = rq_ids_reserve(rq->tasks, &rq->ntasks, se->id, sizeof *rq->tasks);
    struct cfs_task *t = &rq->tasks[se->id];
    t->woke = INT64_MIN;
    t->ran = 0;
    t->ran_clock = INT64_MIN;
    t->rem = 0;
    int32_t nice = se->nice < -20 ? -20 : se->nice > 19 ? 19 : se->nice;
    se->weight = cfs_prio_to_weight[nice + 20];
    se->key = 0;
    se->slice_left = 0;
}

/* A new task starts at min_vruntime; a woken one at no less than
 * min_vruntime - latency/2, so a long sleep earns half a latency of credit
 * and no more (Linux's GENTLE_FAIR_SLEEPERS). Others keep their vruntime. */
static void cfs_enqueue(void *p, struct sched_entity *se, enum enqueue_why why,
                        int64_t now, uint64_t seq)
{
    struct cfs_rq *rq = p;
    cfs_tick(rq, now);
    cfs_update_min_vruntime(rq);
    struct cfs_task *t = &rq->tasks[se->id];
    if (why == ENQUEUE_NEW) {
        se->key = rq->min_vruntime;
        t->rem = 0;
    } else if (why == ENQUEUE_WAKEUP) {
        int64_t credit_floor = rq->min_vruntime - rq->latency / 2;
        if (se->key < credit_floor) {
            se->key = credit_floor;
            t->rem = 0;
        }
    }
    t->woke = why == ENQUEUE_NEW || why == ENQUEUE_WAKEUP ? now : INT64_MIN;
    se->order = seq;
    rq_heap_push(&rq->ready, se);
    rq->ready_weight += se->weight;
}

static void cfs_dequeue(void *p, struct sched_entity *se)
{
    struct cfs_rq *rq = p;
    rq_heap_remove(&rq->ready, se);
    rq->ready_weight -= se->weight;
    cfs_update_min_vruntime(rq);
}

static struct sched_entity *cfs_pick_next(void *p, int cpu, int64_t now)
{
    struct cfs_rq *rq = p;
    (void)cpu;
    cfs_tick(rq, now);
    struct sched_entity *se = rq_heap_pop(&rq->ready);
    if (!se)
        return NULL;
    rq->ready_weight -= se->weight;
    rq_heap_push(&rq->running, se);
    rq->running_weight += se->weight;
    rq->tasks[se->id].ran_clock = INT64_MIN;
    return se;
}

static struct sched_entity *cfs_peek(void *p)
{
    struct cfs_rq *rq = p;
    return rq_heap_first(&rq->ready);
}

/* Linux's sched_slice: the period is the target latency, stretched to
 * nr_runnable * min_granularity when more tasks are runnable than fit in
 * it; each task gets the period times its share of the runnable weight (the
 * task itself is already counted as running), and never less than
 * min_granularity. */
static int64_t cfs_slice(void *p, struct sched_entity *se, int64_t now)
{
    struct cfs_rq *rq = p;
    cfs_tick(rq, now);
    uint64_t nr = (uint64_t)rq->ready.count + rq->running.count;
    uint64_t total = rq->ready_weight + rq->running_weight;
    int64_t period = rq->latency;
    if (nr > (uint64_t)(rq->latency / rq->min_granularity))
        period = (int64_t)nr * rq->min_granularity;
    int64_t slice = total ? rq_mul_div(period, se->weight, (int64_t)total) : period;
    if (slice < rq->min_granularity)
        slice = rq->min_granularity;
    se->slice_left = slice;
    return slice;
}

static void cfs_account(void *p, struct sched_entity *se, int64_t delta,
                        enum sched_stop stop, int64_t now)
{
    struct cfs_rq *rq = p;
    cfs_tick(rq, now);
    struct cfs_task *t = &rq->tasks[se->id];
    rq_heap_remove(&rq->running, se);
    se->key = cfs_vruntime_after(se, t->rem, delta, &t->rem);
    se->slice_left -= delta;
    t->ran_clock = INT64_MIN;
    if (stop == SCHED_STOP_NONE)
        rq_heap_push(&rq->running, se);
    else
        rq->running_weight -= se->weight;
    cfs_update_min_vruntime(rq);
}

/* Wake-up preemption (Linux's wakeup_preempt_entity): only a task woken or
 * created at this instant may preempt, and only when the running task's
 * vruntime, counting what it has run since its last account, is ahead of it
 * by more than min_granularity in the woken task's virtual time. Waiting
 * tasks never preempt: the running task keeps its slice. */
static bool cfs_preempt_check(void *p, const struct sched_entity *curr, int64_t ran,
                              const struct sched_entity *cand)
{
    struct cfs_rq *rq = p;
    struct cfs_task *c = &rq->tasks[curr->id];
    if (c->ran_clock == rq->clock && c->ran != ran)
        rq->clock_stale = true;
    c->ran = ran;
    c->ran_clock = rq->clock;
    if (rq->clock_stale || rq->tasks[cand->id].woke != rq->clock)
        return false;
    int64_t curr_v = cfs_vruntime_after(curr, c->rem, ran, NULL);
    int64_t gran = rq_mul_div(rq->min_granularity, CFS_NICE_0_WEIGHT, cand->weight);
    return curr_v - cand->key > gran;
}

/* The running task furthest ahead in vruntime is the one to give up its
 * CPU. */
static int cfs_task_cmp(void *p, const struct sched_entity *a, const struct sched_entity *b)
{
    struct cfs_rq *rq = p;
    const struct cfs_task *ta = &rq->tasks[a->id];
    const struct cfs_task *tb = &rq->tasks[b->id];
    int64_t va = cfs_vruntime_after(a, ta->rem, ta->ran_clock == rq->clock ? ta->ran : 0, NULL);
    int64_t vb = cfs_vruntime_after(b, tb->rem, tb->ran_clock == rq->clock ? tb->ran : 0, NULL);
    return (va > vb) - (va < vb);
}

static void cfs_task_dead(void *p, struct sched_entity *se)
{
    (void)p;
    (void)se;
}

const struct sched_policy sched_cfs = {
    .name = "cfs",
    .summary = "completely fair scheduler: virtual runtime, weights from nice",
    .validate = cfs_validate,
    .create = cfs_create,
    .destroy = cfs_destroy,
    .task_new = cfs_task_new,
    .enqueue = cfs_enqueue,
    .dequeue = cfs_dequeue,
    .pick_next = cfs_pick_next,
    .peek = cfs_peek,
    .slice = cfs_slice,
    .account = cfs_account,
    .preempt_check = cfs_preempt_check,
    .task_cmp = cfs_task_cmp,
    .task_dead = cfs_task_dead,
    .next_timer = NULL,
    .timer = NULL,
};
