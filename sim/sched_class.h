/* The scheduling-policy interface, in the spirit of Linux's struct
 * sched_class. The engine owns tasks and CPUs and calls a policy through this
 * table; each policy (scheduler/<name>.c) fills one in and keeps its ready
 * queue in its own state. The engine never looks at a policy's name. */
#ifndef THREADSIM_SCHED_CLASS_H
#define THREADSIM_SCHED_CLASS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "scenario.h"

#define SIM_TIME_NEVER INT64_MAX

/* Why a task is being put on the ready queue. */
enum enqueue_why {
    ENQUEUE_NEW = 0,   /* first time ready (arrival or start) */
    ENQUEUE_WAKEUP,    /* was blocked */
    ENQUEUE_EXPIRED,   /* its time slice ended (ordering rule 2) */
    ENQUEUE_PREEMPTED  /* a better task took its CPU (ordering rule 3) */
};

/* Why a running task's stretch on a CPU is being accounted. */
enum sched_stop {
    SCHED_STOP_NONE = 0,  /* it keeps running (accounting before a policy timer) */
    SCHED_STOP_EXPIRED,   /* its slice ran out; it is enqueued EXPIRED right
                             after, then the CPU picks (maybe it again) */
    SCHED_STOP_PREEMPTED, /* it will be enqueued PREEMPTED */
    SCHED_STOP_BLOCKED,   /* it blocks (sleep, I/O, join, ...) */
    SCHED_STOP_EXITED     /* it finished; task_dead follows */
};

/* The policy's view of a task. The engine fills the fields marked (engine);
 * the rest belong to the policy. */
struct sched_entity {
    uint32_t id;            /* (engine) task index, declaration order */
    int32_t priority;       /* (engine) lower number = higher priority */
    int32_t nice;           /* (engine) -20..19 */
    int64_t total_compute;  /* (engine) static compute estimate of the program */
    int64_t cpu_done;       /* (engine) CPU time consumed so far */

    uint64_t order;         /* ready order: policy-assigned sequence number */
    int64_t key;            /* sort key: vruntime, remaining time, ... */
    int64_t slice_left;     /* remaining time slice carried across preemption */
    uint32_t link;          /* intrusive list/heap link (policy-owned) */
    uint32_t level;         /* mlfq level (0 = highest) */
    uint32_t allot_left;    /* mlfq allotment left at this level */
    uint32_t weight;        /* cfs load weight */
};

/* What a policy is told when it is created. */
struct sched_env {
    const struct sched_config *config; /* the scenario's scheduler settings */
    uint32_t cpus;
    uint32_t max_tasks;     /* upper bound of task ids */
    /* Task lookup: the entity of task `id` (valid for the engine's lifetime). */
    struct sched_entity *(*entity)(void *engine, uint32_t id);
    void *engine;
};

struct sched_policy {
    const char *name;
    const char *summary;    /* one line for --help and docs */

    /* Checks the scheduler settings (path "scheduler"); returns STATUS_OK or
     * STATUS_BAD_INPUT with err filled. May be NULL. */
    enum status (*validate)(const struct sched_config *config, struct error *err);
    /* Makes the policy state; returns NULL only with err filled. */
    void *(*create)(const struct sched_env *env, struct error *err);
    void (*destroy)(void *rq);

    /* A task enters the system (before its first enqueue). May be NULL. */
    void (*task_new)(void *rq, struct sched_entity *se, int64_t now);
    /* Puts a task on the ready queue. `seq` is the engine's ready order: a
     * number that grows with every enqueue, in the contract's ready order. */
    void (*enqueue)(void *rq, struct sched_entity *se, enum enqueue_why why,
                    int64_t now, uint64_t seq);
    /* Removes a READY task from the queue without running it. */
    void (*dequeue)(void *rq, struct sched_entity *se);
    /* The task that should run next on `cpu`, removed from the queue; NULL if
     * none is ready. */
    struct sched_entity *(*pick_next)(void *rq, int cpu, int64_t now);
    /* The task pick_next would return, left in the queue; NULL if none. */
    struct sched_entity *(*peek)(void *rq);
    /* The time slice of a task being dispatched (SIM_TIME_NEVER: run until it
     * blocks or finishes). NULL: no slices. */
    int64_t (*slice)(void *rq, struct sched_entity *se, int64_t now);
    /* A running task ran for `delta` ns of CPU since it was dispatched or last
     * accounted, and now `stop` says what happens to it. Called exactly once
     * each time a task leaves a CPU (delta may be 0), and with SCHED_STOP_NONE
     * while it keeps running (before `timer`). The engine has already added
     * delta to se->cpu_done. May be NULL. */
    void (*account)(void *rq, struct sched_entity *se, int64_t delta,
                    enum sched_stop stop, int64_t now);
    /* Should `cand` (ready) take the CPU of `curr` (running for `ran` ns of its
     * current slice)? NULL: never preempt. */
    bool (*preempt_check)(void *rq, const struct sched_entity *curr, int64_t ran,
                          const struct sched_entity *cand);
    /* <0 when a should keep a CPU rather than b (used to choose which CPU to
     * preempt). NULL: the engine takes the first CPU that may be preempted. */
    int (*task_cmp)(void *rq, const struct sched_entity *a, const struct sched_entity *b);
    /* A task left the system. May be NULL. */
    void (*task_dead)(void *rq, struct sched_entity *se);
    /* The next time the policy needs a timer (mlfq boost), at or after `now`, or
     * SIM_TIME_NEVER; then `timer` is called at that time. May be NULL. */
    int64_t (*next_timer)(void *rq, int64_t now);
    /* A policy timer fired. Running tasks are listed in running[0..n); each
     * was just accounted with SCHED_STOP_NONE. They keep their CPUs and the
     * engine asks `slice` for each of them again afterwards. May be NULL. */
    void (*timer)(void *rq, int64_t now, struct sched_entity **running, uint32_t n);
};

#endif
