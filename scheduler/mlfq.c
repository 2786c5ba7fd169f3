/* mlfq: the multi-level feedback queue of OSTEP (chapter 8). Levels are
 * round-robin queues, highest (0) first; a task uses up its allotment of
 * quanta at a level and moves down; every `boost` all tasks return to the
 * top. The rules are the scenario contract's ordering rules 3 and 4. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies.h"
#include "runqueue.h"
#include "sim/xalloc.h"

/* OSTEP's mlfq.py defaults: 3 levels of 10 ms, allotment 1. */
#define MLFQ_DEFAULT_LEVELS 3u
#define MLFQ_DEFAULT_QUANTUM 10000000LL
#define MLFQ_DEFAULT_ALLOTMENT 1u

/* Boosts reach blocked tasks lazily: a task's `key` holds the boost epoch its
 * level was last set in, and a task from an older epoch is reset to the top
 * when it next enters the ready queue. Ready and running tasks are reset by
 * the boost itself. */
struct mlfq_rq {
    uint32_t nlevels;
    struct mlfq_level *levels;
    struct rq_list *queues; /* one per level */
    int64_t boost;          /* period; 0: never */
    int64_t next_boost;     /* when the next boost is due */
    int64_t epoch;          /* boosts so far */
};

static enum status mlfq_validate(const struct sched_config *config, struct error *err)
{
    char path[64];
    if (config->nlevels > SCENARIO_MAX_MLFQ_LEVELS)
        return error_set(err, STATUS_BAD_INPUT, "scheduler.levels",
                         "mlfq takes at most %d levels, not %u",
                         SCENARIO_MAX_MLFQ_LEVELS, config->nlevels);
    for (uint32_t i = 0; i < config->nlevels; i++) {
        if (config->levels[i].quantum <= 0) {
            snprintf(path, sizeof path, "scheduler.levels[%u].quantum", i);
            return error_set(err, STATUS_BAD_INPUT, path,
                             "each level needs a positive quantum such as \"10ms\"");
        }
        if (config->levels[i].allotment < 1) {
            snprintf(path, sizeof path, "scheduler.levels[%u].allotment", i);
            return error_set(err, STATUS_BAD_INPUT, path,
                             "the allotment is a number of quanta, at least 1");
        }
    }
    if (config->boost < 0)
        return error_set(err, STATUS_BAD_INPUT, "scheduler.boost",
                         "the boost period must be a positive duration such as "
                         "\"100ms\" (or 0 for no boost)");
    return STATUS_OK;
}

static void *mlfq_create(const struct sched_env *env, struct error *err)
{
    const struct sched_config *config = env->config;
    if (mlfq_validate(config, err) != STATUS_OK)
        return NULL;
    struct mlfq_rq *rq = xmalloc(sizeof *rq);
    if (config->nlevels > 0) {
        rq->nlevels = config->nlevels;
        rq->levels = xmalloc(rq->nlevels * sizeof *rq->levels);
        memcpy(rq->levels, config->levels, rq->nlevels * sizeof *rq->levels);
    } else {
        rq->nlevels = MLFQ_DEFAULT_LEVELS;
        rq->levels = xmalloc(rq->nlevels * sizeof *rq->levels);
        for (uint32_t i = 0; i < rq->nlevels; i++) {
            rq->levels[i].quantum = MLFQ_DEFAULT_QUANTUM;
            rq->levels[i].allotment = MLFQ_DEFAULT_ALLOTMENT;
        }
    }
    rq->queues = xmalloc(rq->nlevels * sizeof *rq->queues);
    for (uint32_t i = 0; i < rq->nlevels; i++)
        rq_list_init(&rq->queues[i]);
    rq->boost = config->boost;
    rq->next_boost = config->boost;
    rq->epoch = 0;
    return rq;
}

static void mlfq_destroy(void *p)
{
    struct mlfq_rq *rq = p;
    if (!rq)
        return;
    for (uint32_t i = 0; i < rq->nlevels; i++)
        rq_list_deinit(&rq->queues[i]);
    free(rq->queues);
    free(rq->levels);
    free(rq);
}

/* A full quantum and allotment at `level`, in the current epoch. */
static void mlfq_enter_level(struct mlfq_rq *rq, struct sched_entity *se, uint32_t level)
{
    se->level = level;
    se->slice_left = rq->levels[level].quantum;
    se->allot_left = rq->levels[level].allotment;
    se->key = rq->epoch;
}

/* Rule 4: a quantum was used up at the task's level. */
static void mlfq_quantum_end(struct mlfq_rq *rq, struct sched_entity *se)
{
    if (se->allot_left > 0)
        se->allot_left--;
    if (se->allot_left > 0) {
        se->slice_left = rq->levels[se->level].quantum;
        return;
    }
    uint32_t lowest = rq->nlevels - 1;
    mlfq_enter_level(rq, se, se->level < lowest ? se->level + 1 : lowest);
}

static void mlfq_task_new(void *p, struct sched_entity *se, int64_t now)
{
    (void)now;
    mlfq_enter_level(p, se, 0);
}

/* NEW, WAKEUP and EXPIRED go to the tail of the task's level (a woken task
 * keeps its slice and allotment, as in mlfq.py without -S); PREEMPTED goes
 * to the head and keeps the rest of its slice (rule 3). */
static void mlfq_enqueue(void *p, struct sched_entity *se, enum enqueue_why why,
                         int64_t now, uint64_t seq)
{
    struct mlfq_rq *rq = p;
    (void)now;
    if (se->key != rq->epoch)
        mlfq_enter_level(rq, se, 0);
    if (why == ENQUEUE_PREEMPTED) {
        if (se->slice_left > 0) {
            rq_list_push_head(&rq->queues[se->level], se);
            return;
        }
        /* Preempted just as its quantum ran out: that is an expiry. */
        mlfq_quantum_end(rq, se);
    }
    se->order = seq;
    rq_list_push_tail(&rq->queues[se->level], se);
}

static void mlfq_dequeue(void *p, struct sched_entity *se)
{
    struct mlfq_rq *rq = p;
    rq_list_remove(&rq->queues[se->level], se);
}

static struct rq_list *mlfq_top(struct mlfq_rq *rq)
{
    for (uint32_t i = 0; i < rq->nlevels; i++)
        if (rq->queues[i].count)
            return &rq->queues[i];
    return NULL;
}

static struct sched_entity *mlfq_pick_next(void *p, int cpu, int64_t now)
{
    (void)cpu;
    (void)now;
    struct rq_list *top = mlfq_top(p);
    return top ? rq_list_pop_head(top) : NULL;
}

static struct sched_entity *mlfq_peek(void *p)
{
    struct rq_list *top = mlfq_top(p);
    return top ? rq_list_first(top) : NULL;
}

static int64_t mlfq_slice(void *p, struct sched_entity *se, int64_t now)
{
    (void)now;
    /* Only reachable if a quantum ran out without an expiry being accounted;
     * a zero slice would expire forever, so count the quantum as used. */
    if (se->slice_left <= 0)
        mlfq_quantum_end(p, se);
    return se->slice_left;
}

/* The quantum counts CPU time only. Its end is handled here when the task
 * expires or blocks at that instant (the oracle and mlfq.py do the same); a
 * preempted task is handled when it is enqueued. */
static void mlfq_account(void *p, struct sched_entity *se, int64_t delta,
                         enum sched_stop stop, int64_t now)
{
    (void)now;
    se->slice_left -= delta;
    if (stop == SCHED_STOP_EXPIRED || (stop == SCHED_STOP_BLOCKED && se->slice_left <= 0))
        mlfq_quantum_end(p, se);
}

static bool mlfq_preempt_check(void *p, const struct sched_entity *curr, int64_t ran,
                               const struct sched_entity *cand)
{
    (void)p;
    (void)ran;
    return cand->level < curr->level;
}

/* The running task at the lowest level (largest number) is the one to give
 * up its CPU. */
static int mlfq_task_cmp(void *p, const struct sched_entity *a, const struct sched_entity *b)
{
    (void)p;
    return (a->level > b->level) - (a->level < b->level);
}

static void mlfq_task_dead(void *p, struct sched_entity *se)
{
    (void)p;
    (void)se;
}

static int64_t mlfq_next_timer(void *p, int64_t now)
{
    struct mlfq_rq *rq = p;
    if (rq->boost <= 0)
        return SIM_TIME_NEVER;
    if (rq->next_boost < now)
        rq->next_boost = (now / rq->boost + 1) * rq->boost;
    return rq->next_boost;
}

/* The boost: the ready queue becomes the old levels concatenated from the
 * highest to the lowest, everyone refreshed at level 0; running tasks keep
 * their CPUs; blocked tasks follow when they wake (see struct mlfq_rq). */
static void mlfq_timer(void *p, int64_t now, struct sched_entity **running, uint32_t n)
{
    struct mlfq_rq *rq = p;
    if (rq->boost <= 0)
        return;
    rq->epoch++;
    for (uint32_t i = 1; i < rq->nlevels; i++)
        rq_list_append_all(&rq->queues[0], &rq->queues[i]);
    struct rq_list *top = &rq->queues[0];
    uint32_t span = rq_list_span(top);
    for (uint32_t i = 0; i < span; i++) {
        struct sched_entity *se = rq_list_slot(top, i);
        if (se)
            mlfq_enter_level(rq, se, 0);
    }
    for (uint32_t i = 0; i < n; i++)
        mlfq_enter_level(rq, running[i], 0);
    rq->next_boost = (now / rq->boost + 1) * rq->boost;
}

const struct sched_policy sched_mlfq = {
    .name = "mlfq",
    .summary = "multi-level feedback queue (OSTEP): levels, allotments, boost",
    .validate = mlfq_validate,
    .create = mlfq_create,
    .destroy = mlfq_destroy,
    .task_new = mlfq_task_new,
    .enqueue = mlfq_enqueue,
    .dequeue = mlfq_dequeue,
    .pick_next = mlfq_pick_next,
    .peek = mlfq_peek,
    .slice = mlfq_slice,
    .account = mlfq_account,
    .preempt_check = mlfq_preempt_check,
    .task_cmp = mlfq_task_cmp,
    .task_dead = mlfq_task_dead,
    .next_timer = mlfq_next_timer,
    .timer = mlfq_timer,
};
