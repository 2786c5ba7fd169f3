/* Unit tests of the scheduling policies and their run-queue containers. The
 * policies are driven through struct sched_policy with hand-made entities and
 * a fake engine, following the engine's calling protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/registry.h"
#include "scheduler/runqueue.h"

#define MS 1000000LL
#define MAX_TASKS 16

/* A fake engine: a fixed array of entities and the policy under test. */
struct fake {
    struct sched_entity se[MAX_TASKS];
    uint32_t ntasks;
    struct sched_config cfg;
    struct mlfq_level levels[8];
    const struct sched_policy *pol;
    void *rq;
    uint64_t seq;
    int64_t now;
};

static struct sched_entity *fake_entity(void *engine, uint32_t id)
{
    struct fake *f = engine;
    return id < f->ntasks ? &f->se[id] : NULL;
}

/* A fake with `policy` and default settings (as the loader fills them);
 * change f->cfg and call fake_start. */
static void fake_init(struct fake *f, const char *policy)
{
    memset(f, 0, sizeof *f);
    f->pol = sched_registry_find(policy);
    assert_non_null(f->pol);
    snprintf(f->cfg.policy, sizeof f->cfg.policy, "%s", policy);
    f->cfg.preemptive = true;
    f->cfg.latency = 6 * MS;
    f->cfg.min_granularity = 750000;
}

static void fake_start(struct fake *f, uint32_t cpus)
{
    struct error err;
    error_clear(&err);
    if (f->pol->validate)
        assert_int_equal(f->pol->validate(&f->cfg, &err), STATUS_OK);
    struct sched_env env = {
        .config = &f->cfg,
        .cpus = cpus,
        .max_tasks = 2, /* smaller than the tests use: side tables must grow */
        .entity = fake_entity,
        .engine = f,
    };
    f->rq = f->pol->create(&env, &err);
    assert_non_null(f->rq);
}

static void fake_end(struct fake *f)
{
    f->pol->destroy(f->rq);
}

/* Declares a task and makes it ready (task_new + enqueue NEW) at f->now. */
static uint32_t fake_new(struct fake *f, int64_t total, int32_t priority, int32_t nice)
{
    uint32_t id = f->ntasks++;
    assert_true(id < MAX_TASKS);
    struct sched_entity *se = &f->se[id];
    memset(se, 0, sizeof *se);
    se->id = id;
    se->total_compute = total;
    se->priority = priority;
    se->nice = nice;
    if (f->pol->task_new)
        f->pol->task_new(f->rq, se, f->now);
    f->pol->enqueue(f->rq, se, ENQUEUE_NEW, f->now, f->seq++);
    return id;
}

static void fake_enqueue(struct fake *f, uint32_t id, enum enqueue_why why)
{
    f->pol->enqueue(f->rq, &f->se[id], why, f->now, f->seq++);
}

/* The slice a policy grants, as the engine asks it (no hook: no slices). */
static int64_t fake_slice(struct fake *f, struct sched_entity *se)
{
    return f->pol->slice ? f->pol->slice(f->rq, se, f->now) : SIM_TIME_NEVER;
}

/* pick_next + slice on CPU `cpu`: the id picked (or -1) and its slice. */
static int fake_pick(struct fake *f, int cpu, int64_t *slice)
{
    struct sched_entity *se = f->pol->pick_next(f->rq, cpu, f->now);
    if (!se)
        return -1;
    int64_t s = fake_slice(f, se);
    if (slice)
        *slice = s;
    return (int)se->id;
}

static int fake_peek(struct fake *f)
{
    struct sched_entity *se = f->pol->peek(f->rq);
    return se ? (int)se->id : -1;
}

/* Task `id` ran `delta` ns and leaves its CPU (or not) for `stop`, at
 * f->now (the caller advances the clock). */
static void fake_account(struct fake *f, uint32_t id, int64_t delta, enum sched_stop stop)
{
    f->se[id].cpu_done += delta;
    if (f->pol->account)
        f->pol->account(f->rq, &f->se[id], delta, stop, f->now);
    if (stop == SCHED_STOP_EXITED && f->pol->task_dead)
        f->pol->task_dead(f->rq, &f->se[id]);
}

/* A slice ran out: account, enqueue EXPIRED and pick again. */
static int fake_expire(struct fake *f, uint32_t id, int64_t delta, int64_t *slice)
{
    fake_account(f, id, delta, SCHED_STOP_EXPIRED);
    fake_enqueue(f, id, ENQUEUE_EXPIRED);
    return fake_pick(f, 0, slice);
}

static bool fake_preempts(struct fake *f, uint32_t curr, int64_t ran, int cand)
{
    assert_true(cand >= 0);
    return f->pol->preempt_check(f->rq, &f->se[curr], ran, &f->se[cand]);
}

/* One CPU, free switches, CPU-only jobs: a small engine that follows the real
 * engine's protocol and order of work at an instant (the running task's end
 * or expiry, the policy timer, arrivals in declaration order, dispatch, then
 * preemption checks). Fills each job's finish time and the order in which
 * jobs were dispatched; returns the number of dispatches. */
struct job {
    int64_t arrival;
    int64_t burst;
    int32_t priority;
    int32_t nice;
};

static int drive(struct fake *f, const struct job *jobs, uint32_t n, int64_t *finish,
                 int *dispatch, int max_dispatch)
{
    int ndispatch = 0;
    int running = -1;
    int64_t run_from = 0, slice_end = 0, timer = SIM_TIME_NEVER;
    uint32_t arrived = 0, done = 0;
    f->now = 0;
    if (f->pol->next_timer)
        timer = f->pol->next_timer(f->rq, 0);
    while (done < n) {
        int64_t next = SIM_TIME_NEVER;
        if (arrived < n)
            next = jobs[arrived].arrival;
        if (running >= 0) {
            struct sched_entity *se = &f->se[running];
            int64_t end = run_from + (se->total_compute - se->cpu_done);
            next = end < next ? end : next;
            next = slice_end < next ? slice_end : next;
        }
        next = timer < next ? timer : next;
        assert_true(next != SIM_TIME_NEVER);
        f->now = next;
        if (running >= 0) {
            struct sched_entity *se = &f->se[running];
            int64_t ran = f->now - run_from;
            if (se->cpu_done + ran == se->total_compute) {
                fake_account(f, (uint32_t)running, ran, SCHED_STOP_EXITED);
                finish[running] = f->now;
                done++;
                running = -1;
            } else if (f->now >= slice_end) {
                fake_account(f, (uint32_t)running, ran, SCHED_STOP_EXPIRED);
                fake_enqueue(f, (uint32_t)running, ENQUEUE_EXPIRED);
                running = -1;
            }
        }
        if (f->now == timer) {
            struct sched_entity *list[1];
            uint32_t nrun = 0;
            if (running >= 0) {
                fake_account(f, (uint32_t)running, f->now - run_from, SCHED_STOP_NONE);
                run_from = f->now;
                list[nrun++] = &f->se[running];
            }
            f->pol->timer(f->rq, f->now, list, nrun);
            if (running >= 0)
                slice_end = f->now + fake_slice(f, &f->se[running]);
        }
        while (arrived < n && jobs[arrived].arrival == f->now) {
            fake_new(f, jobs[arrived].burst, jobs[arrived].priority, jobs[arrived].nice);
            arrived++;
        }
        for (;;) {
            if (running < 0) {
                int64_t s = 0;
                running = fake_pick(f, 0, &s);
                if (running < 0)
                    break;
                assert_true(ndispatch < max_dispatch);
                dispatch[ndispatch++] = running;
                run_from = f->now;
                slice_end = s == SIM_TIME_NEVER ? SIM_TIME_NEVER : f->now + s;
            }
            int cand = fake_peek(f);
            if (cand < 0 || !f->pol->preempt_check ||
                !fake_preempts(f, (uint32_t)running, f->now - run_from, cand))
                break;
            fake_account(f, (uint32_t)running, f->now - run_from, SCHED_STOP_PREEMPTED);
            fake_enqueue(f, (uint32_t)running, ENQUEUE_PREEMPTED);
            running = -1;
        }
        if (f->pol->next_timer)
            timer = f->pol->next_timer(f->rq, f->now);
    }
    return ndispatch;
}

/* Sum of waits (turnaround - burst) of CPU-only jobs, in ns. */
static int64_t total_wait(const struct job *jobs, uint32_t n, const int64_t *finish)
{
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += finish[i] - jobs[i].arrival - jobs[i].burst;
    return sum;
}

static void registry_should_list_the_seven_policies_in_order(void **state)
{
    (void)state;
    static const char *const names[] = {"fifo", "sjf", "srtf", "rr", "priority", "mlfq", "cfs"};
    for (size_t i = 0; i < 7; i++) {
        const struct sched_policy *p = sched_registry_at(i);
        assert_non_null(p);
        assert_string_equal(p->name, names[i]);
        assert_ptr_equal(sched_registry_find(names[i]), p);
        assert_non_null(p->summary);
        assert_non_null(p->create);
        assert_non_null(p->destroy);
        assert_non_null(p->enqueue);
        assert_non_null(p->dequeue);
        assert_non_null(p->pick_next);
        assert_non_null(p->peek);
    }
    assert_null(sched_registry_at(7));
    assert_null(sched_registry_find("FIFO"));
    assert_null(sched_registry_find("lottery"));
    assert_null(sched_registry_find(NULL));
}

static void rq_list_should_keep_order_through_removals_and_growth(void **state)
{
    (void)state;
    enum { N = 100 };
    struct sched_entity se[N];
    struct rq_list l;
    rq_list_init(&l);
    memset(se, 0, sizeof se);
    for (uint32_t i = 0; i < N; i++) {
        se[i].id = i;
        rq_list_push_tail(&l, &se[i]);
    }
    /* Holes in the middle, then more pushes at both ends force a regrow. */
    for (uint32_t i = 10; i < 90; i += 2)
        rq_list_remove(&l, &se[i]);
    rq_list_remove(&l, &se[0]);
    rq_list_remove(&l, &se[99]);
    assert_int_equal(l.count, N - 42);
    assert_ptr_equal(rq_list_first(&l), &se[1]);
    for (uint32_t i = 10; i < 90; i += 2)
        rq_list_push_tail(&l, &se[i]);
    rq_list_push_head(&l, &se[0]);
    rq_list_push_head(&l, &se[99]);
    uint32_t expect[N], k = 0;
    expect[k++] = 99;
    expect[k++] = 0;
    for (uint32_t i = 1; i < 99; i++)
        if (i < 10 || i >= 90 || i % 2)
            expect[k++] = i;
    for (uint32_t i = 10; i < 90; i += 2)
        expect[k++] = i;
    assert_int_equal(k, N);
    for (uint32_t i = 0; i < N; i++) {
        struct sched_entity *got = rq_list_pop_head(&l);
        assert_non_null(got);
        assert_int_equal(got->id, expect[i]);
    }
    assert_null(rq_list_pop_head(&l));
    assert_null(rq_list_first(&l));
    rq_list_deinit(&l);
}

static void rq_heap_should_pop_by_key_then_order(void **state)
{
    (void)state;
    enum { N = 500 };
    static struct sched_entity se[N];
    static bool in[N];
    struct rq_heap h;
    rq_heap_init(&h);
    memset(in, 0, sizeof in);
    uint64_t x = 12345;
    for (uint32_t step = 0; step < 20000; step++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t i = (uint32_t)(x >> 33) % N;
        int op = (int)((x >> 20) % 3);
        if (!in[i]) {
            se[i].id = i;
            se[i].key = (int64_t)((x >> 40) % 17) - 8; /* many equal keys */
            se[i].order = step;
            rq_heap_push(&h, &se[i]);
            in[i] = true;
        } else if (op == 0) {
            rq_heap_remove(&h, &se[i]);
            in[i] = false;
        } else if (op == 1) {
            /* Popping must give the smallest (key, order) of the members. */
            struct sched_entity *best = NULL;
            for (uint32_t j = 0; j < N; j++)
                if (in[j] && (!best || se[j].key < best->key ||
                              (se[j].key == best->key && se[j].order < best->order)))
                    best = &se[j];
            assert_ptr_equal(rq_heap_first(&h), best);
            assert_ptr_equal(rq_heap_pop(&h), best);
            in[best->id] = false;
        }
    }
    uint32_t members = 0;
    for (uint32_t j = 0; j < N; j++)
        members += in[j];
    assert_int_equal(h.count, members);
    rq_heap_deinit(&h);
}

static void fifo_should_run_tasks_in_ready_order_without_slices(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "fifo");
    fake_start(&f, 1);
    fake_new(&f, 24 * MS, 0, 0);
    fake_new(&f, 3 * MS, 0, 0);
    fake_new(&f, 3 * MS, 0, 0);
    int64_t slice = 0;
    assert_int_equal(fake_pick(&f, 0, &slice), 0);
    assert_true(slice == SIM_TIME_NEVER);
    assert_null(f.pol->preempt_check);
    /* Task 0 blocks and wakes while 1 and 2 wait: it goes behind them. */
    f.now = 5 * MS;
    fake_account(&f, 0, 5 * MS, SCHED_STOP_BLOCKED);
    f.now = 6 * MS;
    assert_int_equal(fake_pick(&f, 0, NULL), 1);
    fake_enqueue(&f, 0, ENQUEUE_WAKEUP);
    assert_int_equal(fake_pick(&f, 0, NULL), 2);
    assert_int_equal(fake_pick(&f, 0, NULL), 0);
    assert_int_equal(fake_pick(&f, 0, NULL), -1);
    fake_end(&f);
}

static void fifo_should_give_the_textbook_average_wait(void **state)
{
    (void)state;
    /* [SGG] 5.3.1: bursts 24, 3, 3 at t=0: average wait 17 ms. */
    const struct job jobs[] = {{0, 24 * MS, 0, 0}, {0, 3 * MS, 0, 0}, {0, 3 * MS, 0, 0}};
    int64_t finish[3];
    int order[8];
    struct fake f;
    fake_init(&f, "fifo");
    fake_start(&f, 1);
    assert_int_equal(drive(&f, jobs, 3, finish, order, 8), 3);
    assert_int_equal(total_wait(jobs, 3, finish), 51 * MS);
    fake_end(&f);
}

static void sjf_should_run_the_shortest_job_first(void **state)
{
    (void)state;
    /* [SGG] 5.3.2: bursts 6, 8, 7, 3 at t=0: P4 P1 P3 P2, average wait 7 ms. */
    const struct job jobs[] = {{0, 6 * MS, 0, 0}, {0, 8 * MS, 0, 0}, {0, 7 * MS, 0, 0},
                               {0, 3 * MS, 0, 0}};
    int64_t finish[4];
    int order[8];
    struct fake f;
    fake_init(&f, "sjf");
    fake_start(&f, 1);
    assert_int_equal(drive(&f, jobs, 4, finish, order, 8), 4);
    assert_int_equal(order[0], 3);
    assert_int_equal(order[1], 0);
    assert_int_equal(order[2], 2);
    assert_int_equal(order[3], 1);
    assert_int_equal(total_wait(jobs, 4, finish), 28 * MS);
    fake_end(&f);
}

static void sjf_should_break_ties_by_ready_order_and_rank_by_total_compute(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "sjf");
    fake_start(&f, 1);
    fake_new(&f, 5 * MS, 0, 0);
    fake_new(&f, 2 * MS, 0, 0);
    fake_new(&f, 5 * MS, 0, 0);
    fake_new(&f, 2 * MS, 0, 0);
    assert_int_equal(fake_pick(&f, 0, NULL), 1);
    /* Task 1 has done 1 ms of its 2 and comes back from I/O: still ranked by
     * its 2 ms total, behind task 3 (same total, ready earlier). */
    f.now = 1 * MS;
    fake_account(&f, 1, 1 * MS, SCHED_STOP_BLOCKED);
    fake_enqueue(&f, 1, ENQUEUE_WAKEUP);
    assert_int_equal(fake_pick(&f, 0, NULL), 3);
    assert_int_equal(fake_pick(&f, 0, NULL), 1);
    assert_int_equal(fake_pick(&f, 0, NULL), 0);
    assert_int_equal(fake_pick(&f, 0, NULL), 2);
    fake_end(&f);
}

static void srtf_should_preempt_only_for_a_strictly_shorter_remainder(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "srtf");
    fake_start(&f, 1);
    fake_new(&f, 8 * MS, 0, 0);
    assert_int_equal(fake_pick(&f, 0, NULL), 0);
    /* At t=4 task 0 has 4 ms left (all of it not yet accounted). */
    f.now = 4 * MS;
    int equal = (int)fake_new(&f, 4 * MS, 0, 0);
    assert_false(fake_preempts(&f, 0, 4 * MS, equal));
    f.pol->dequeue(f.rq, &f.se[equal]);
    int shorter = (int)fake_new(&f, 4 * MS - 1, 0, 0);
    assert_true(fake_preempts(&f, 0, 4 * MS, shorter));
    /* Before its 4 ms, task 0 still had more left: preempt too. */
    assert_true(fake_preempts(&f, 0, 1 * MS, shorter));
    fake_end(&f);
}

static void srtf_should_give_the_textbook_average_wait(void **state)
{
    (void)state;
    /* [SGG] 5.3.2: arrivals 0..3, bursts 8, 4, 9, 5: P1 P2 P4 P1 P3, 6.5 ms. */
    const struct job jobs[] = {{0, 8 * MS, 0, 0}, {1 * MS, 4 * MS, 0, 0},
                               {2 * MS, 9 * MS, 0, 0}, {3 * MS, 5 * MS, 0, 0}};
    int64_t finish[4];
    int order[8];
    struct fake f;
    fake_init(&f, "srtf");
    fake_start(&f, 1);
    assert_int_equal(drive(&f, jobs, 4, finish, order, 8), 5);
    const int expect[] = {0, 1, 3, 0, 2};
    for (int i = 0; i < 5; i++)
        assert_int_equal(order[i], expect[i]);
    assert_int_equal(total_wait(jobs, 4, finish), 26 * MS);
    fake_end(&f);
}

static void srtf_should_preempt_the_running_task_with_most_left(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "srtf");
    fake_start(&f, 2);
    fake_new(&f, 10 * MS, 0, 0);
    fake_new(&f, 6 * MS, 0, 0);
    assert_int_equal(fake_pick(&f, 0, NULL), 1);
    assert_int_equal(fake_pick(&f, 1, NULL), 0);
    /* Task 0 has run 9.5 ms of its 10 and task 1 only 1 ms of its 6 (it was
     * switched in later): a 0.4 ms task may preempt either, and the victim
     * must be task 1 with 5 ms left, although task 0 was longer at dispatch. */
    f.now = 9 * MS + MS / 2;
    int c = (int)fake_new(&f, 400000, 0, 0);
    assert_true(fake_preempts(&f, 1, 1 * MS, c));
    assert_true(fake_preempts(&f, 0, 9 * MS + MS / 2, c));
    assert_true(f.pol->task_cmp(f.rq, &f.se[0], &f.se[1]) < 0);
    assert_true(f.pol->task_cmp(f.rq, &f.se[1], &f.se[0]) > 0);
    fake_end(&f);
}

static void rr_should_put_an_expired_task_behind_the_ready_ones(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "rr");
    f.cfg.quantum = 4 * MS;
    fake_start(&f, 1);
    fake_new(&f, 24 * MS, 0, 0);
    fake_new(&f, 3 * MS, 0, 0);
    int64_t slice = 0;
    assert_int_equal(fake_pick(&f, 0, &slice), 0);
    assert_int_equal(slice, 4 * MS);
    f.now = 4 * MS;
    /* Rule 2: task 2 becomes ready at the instant task 0 expires; the engine
     * enqueues the expired task first. */
    assert_int_equal(fake_expire(&f, 0, 4 * MS, &slice), 1);
    assert_int_equal(slice, 4 * MS);
    fake_new(&f, 3 * MS, 0, 0);
    f.now = 7 * MS;
    fake_account(&f, 1, 3 * MS, SCHED_STOP_EXITED);
    assert_int_equal(fake_pick(&f, 0, NULL), 0);
    assert_int_equal(fake_pick(&f, 0, NULL), 2);
    fake_end(&f);
}

static void rr_should_give_the_textbook_average_wait(void **state)
{
    (void)state;
    /* [SGG] 5.3.3: quantum 4 ms, bursts 24, 3, 3: average wait 17/3 ms. */
    const struct job jobs[] = {{0, 24 * MS, 0, 0}, {0, 3 * MS, 0, 0}, {0, 3 * MS, 0, 0}};
    int64_t finish[3];
    int order[16];
    struct fake f;
    fake_init(&f, "rr");
    f.cfg.quantum = 4 * MS;
    fake_start(&f, 1);
    assert_int_equal(drive(&f, jobs, 3, finish, order, 16), 8);
    assert_int_equal(total_wait(jobs, 3, finish), 17 * MS);
    fake_end(&f);
}

static void rr_should_default_to_a_10ms_quantum_and_reject_a_negative_one(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "rr");
    fake_start(&f, 1);
    fake_new(&f, 50 * MS, 0, 0);
    int64_t slice = 0;
    assert_int_equal(fake_pick(&f, 0, &slice), 0);
    assert_int_equal(slice, 10 * MS);
    fake_end(&f);

    struct error err;
    error_clear(&err);
    f.cfg.quantum = -1;
    assert_int_equal(f.pol->validate(&f.cfg, &err), STATUS_BAD_INPUT);
    assert_string_equal(err.path, "scheduler.quantum");
}

static void priority_should_give_the_textbook_average_wait(void **state)
{
    (void)state;
    /* [SGG] 5.3.4: non-preemptive, bursts 10, 1, 2, 1, 5 with priorities
     * 3, 1, 4, 5, 2 at t=0: P2 P5 P1 P3 P4, average wait 8.2 ms. */
    const struct job jobs[] = {{0, 10 * MS, 3, 0}, {0, 1 * MS, 1, 0}, {0, 2 * MS, 4, 0},
                               {0, 1 * MS, 5, 0}, {0, 5 * MS, 2, 0}};
    int64_t finish[5];
    int order[8];
    struct fake f;
    fake_init(&f, "priority");
    f.cfg.preemptive = false;
    fake_start(&f, 1);
    assert_int_equal(drive(&f, jobs, 5, finish, order, 8), 5);
    const int expect[] = {1, 4, 0, 2, 3};
    for (int i = 0; i < 5; i++)
        assert_int_equal(order[i], expect[i]);
    assert_int_equal(total_wait(jobs, 5, finish), 41 * MS);
    fake_end(&f);
}

static void priority_should_preempt_only_for_a_strictly_higher_priority(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "priority");
    fake_start(&f, 1);
    fake_new(&f, 10 * MS, 3, 0);
    assert_int_equal(fake_pick(&f, 0, NULL), 0);
    int same = (int)fake_new(&f, 1 * MS, 3, 0);
    assert_false(fake_preempts(&f, 0, 0, same));
    int higher = (int)fake_new(&f, 1 * MS, 2, 0);
    assert_int_equal(fake_peek(&f), higher);
    assert_true(fake_preempts(&f, 0, 0, higher));
    fake_end(&f);

    fake_init(&f, "priority");
    f.cfg.preemptive = false;
    fake_start(&f, 1);
    fake_new(&f, 10 * MS, 3, 0);
    assert_int_equal(fake_pick(&f, 0, NULL), 0);
    higher = (int)fake_new(&f, 1 * MS, 0, 0);
    assert_false(fake_preempts(&f, 0, 0, higher));
    fake_end(&f);
}

static void priority_should_resume_a_preempted_task_first_with_the_rest_of_its_slice(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "priority");
    f.cfg.quantum = 4 * MS;
    fake_start(&f, 1);
    fake_new(&f, 10 * MS, 5, 0);
    fake_new(&f, 10 * MS, 5, 0);
    int64_t slice = 0;
    assert_int_equal(fake_pick(&f, 0, &slice), 0);
    assert_int_equal(slice, 4 * MS);
    /* At t=1 a priority-1 task preempts task 0, which has 3 ms of slice left
     * and goes back in front of task 1 (rule 3). */
    f.now = 1 * MS;
    int h = (int)fake_new(&f, 2 * MS, 1, 0);
    assert_true(fake_preempts(&f, 0, 1 * MS, h));
    fake_account(&f, 0, 1 * MS, SCHED_STOP_PREEMPTED);
    fake_enqueue(&f, 0, ENQUEUE_PREEMPTED);
    assert_int_equal(fake_pick(&f, 0, &slice), h);
    assert_int_equal(slice, 4 * MS);
    f.now = 3 * MS;
    fake_account(&f, (uint32_t)h, 2 * MS, SCHED_STOP_EXITED);
    assert_int_equal(fake_pick(&f, 0, &slice), 0);
    assert_int_equal(slice, 3 * MS);
    /* Its quantum ends: round robin among equals puts it behind task 1. */
    f.now = 6 * MS;
    assert_int_equal(fake_expire(&f, 0, 3 * MS, &slice), 1);
    assert_int_equal(slice, 4 * MS);
    /* A woken task gets a fresh slice and the tail. */
    f.now = 7 * MS;
    fake_account(&f, 1, 1 * MS, SCHED_STOP_BLOCKED);
    fake_enqueue(&f, 1, ENQUEUE_WAKEUP);
    assert_int_equal(fake_pick(&f, 0, &slice), 0);
    assert_int_equal(slice, 4 * MS);
    assert_int_equal(fake_pick(&f, 0, &slice), 1);
    assert_int_equal(slice, 4 * MS);
    fake_end(&f);
}

static void mlfq_should_use_ostep_defaults_and_demote_after_the_allotment(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "mlfq");
    fake_start(&f, 1);
    uint32_t a = fake_new(&f, 100 * MS, 0, 0);
    int64_t slice = 0;
    assert_int_equal(fake_pick(&f, 0, &slice), (int)a);
    assert_int_equal(slice, 10 * MS);
    assert_int_equal(f.se[a].level, 0);
    /* Allotment 1: one full quantum and it moves down, to the lowest of 3
     * levels, where it stays. */
    for (uint32_t lv = 1; lv <= 3; lv++) {
        f.now += 10 * MS;
        assert_int_equal(fake_expire(&f, a, 10 * MS, &slice), (int)a);
        assert_int_equal(f.se[a].level, lv < 2 ? lv : 2);
        assert_int_equal(slice, 10 * MS);
    }
    fake_end(&f);
}

static void mlfq_should_demote_after_allotment_quanta_and_rank_levels(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "mlfq");
    f.levels[0] = (struct mlfq_level){2 * MS, 2};
    f.levels[1] = (struct mlfq_level){4 * MS, 1};
    f.cfg.levels = f.levels;
    f.cfg.nlevels = 2;
    fake_start(&f, 1);
    uint32_t a = fake_new(&f, 100 * MS, 0, 0);
    uint32_t b = fake_new(&f, 100 * MS, 0, 0);
    int64_t slice = 0;
    assert_int_equal(fake_pick(&f, 0, &slice), (int)a);
    assert_int_equal(slice, 2 * MS);
    /* First quantum used: one of two allotted, a stays at level 0 behind b. */
    f.now = 2 * MS;
    assert_int_equal(fake_expire(&f, a, 2 * MS, &slice), (int)b);
    assert_int_equal(f.se[a].level, 0);
    assert_int_equal(f.se[a].allot_left, 1);
    f.now = 4 * MS;
    assert_int_equal(fake_expire(&f, b, 2 * MS, &slice), (int)a);
    f.now = 6 * MS;
    assert_int_equal(fake_expire(&f, a, 2 * MS, &slice), (int)b);
    assert_int_equal(f.se[a].level, 1);
    assert_int_equal(f.se[a].slice_left, 4 * MS);
    /* b blocks at 7 with 1 ms of its quantum left: it keeps it on wake-up. */
    f.now = 7 * MS;
    fake_account(&f, b, 1 * MS, SCHED_STOP_BLOCKED);
    assert_int_equal(fake_pick(&f, 0, &slice), (int)a);
    assert_int_equal(slice, 4 * MS);
    f.now = 8 * MS;
    fake_enqueue(&f, b, ENQUEUE_WAKEUP);
    assert_int_equal(fake_peek(&f), (int)b);
    /* A level-0 task preempts a level-1 one, which keeps the rest of its
     * quantum at the head of level 1. */
    assert_true(fake_preempts(&f, a, 1 * MS, (int)b));
    fake_account(&f, a, 1 * MS, SCHED_STOP_PREEMPTED);
    fake_enqueue(&f, a, ENQUEUE_PREEMPTED);
    assert_int_equal(fake_pick(&f, 0, &slice), (int)b);
    assert_int_equal(slice, 1 * MS);
    assert_false(fake_preempts(&f, b, 0, (int)a));
    uint32_t c = fake_new(&f, 100 * MS, 0, 0);
    assert_false(fake_preempts(&f, b, 0, (int)c));
    f.now = 9 * MS;
    fake_account(&f, b, 1 * MS, SCHED_STOP_EXPIRED);
    assert_int_equal(f.se[b].level, 1);
    fake_enqueue(&f, b, ENQUEUE_EXPIRED);
    assert_int_equal(fake_pick(&f, 0, &slice), (int)c);
    f.now = 10 * MS;
    fake_account(&f, c, 1 * MS, SCHED_STOP_EXITED);
    assert_int_equal(fake_pick(&f, 0, &slice), (int)a);
    assert_int_equal(slice, 3 * MS);
    assert_int_equal(fake_pick(&f, 0, &slice), (int)b);
    fake_end(&f);
}

static void mlfq_should_boost_every_task_to_the_top_in_level_order(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "mlfq");
    f.levels[0] = (struct mlfq_level){1 * MS, 1};
    f.levels[1] = (struct mlfq_level){1 * MS, 1};
    f.levels[2] = (struct mlfq_level){5 * MS, 1};
    f.cfg.levels = f.levels;
    f.cfg.nlevels = 3;
    f.cfg.boost = 18 * MS + 3 * MS / 4;
    fake_start(&f, 1);
    assert_int_equal(f.pol->next_timer(f.rq, 0), 18 * MS + 3 * MS / 4);
    int64_t slice = 0;
    fake_new(&f, 100 * MS, 0, 0);
    fake_new(&f, 100 * MS, 0, 0);
    fake_new(&f, 100 * MS, 0, 0);
    /* 0, 1, 2 each use a quantum at level 0, then 0 and 1 one at level 1. */
    assert_int_equal(fake_pick(&f, 0, NULL), 0);
    const int seq[] = {1, 2, 0, 1, 2};
    for (int i = 0; i < 5; i++) {
        f.now += 1 * MS;
        assert_int_equal(fake_expire(&f, (uint32_t)(i ? seq[i - 1] : 0), 1 * MS, NULL), seq[i]);
    }
    /* t=5: 2 (level 1) blocks after 0.5 ms; 0 and 1 take turns at level 2. */
    f.now = 5 * MS + MS / 2;
    fake_account(&f, 2, MS / 2, SCHED_STOP_BLOCKED);
    assert_int_equal(fake_pick(&f, 0, &slice), 0);
    assert_int_equal(slice, 5 * MS);
    f.now += 5 * MS;
    assert_int_equal(fake_expire(&f, 0, 5 * MS, NULL), 1);
    f.now += 5 * MS;
    assert_int_equal(fake_expire(&f, 1, 5 * MS, NULL), 0);
    assert_int_equal(f.se[0].level, 2);
    /* t=16: task 3 arrives at level 0 and preempts 0, which goes back to
     * the head of level 2 with 4.5 ms of its quantum; 3 sinks to level 1 at
     * t=17 and runs on there. */
    f.now = 16 * MS;
    uint32_t t3 = fake_new(&f, 100 * MS, 0, 0);
    assert_true(fake_preempts(&f, 0, MS / 2, (int)t3));
    fake_account(&f, 0, MS / 2, SCHED_STOP_PREEMPTED);
    fake_enqueue(&f, 0, ENQUEUE_PREEMPTED);
    assert_int_equal(f.se[0].slice_left, 4 * MS + MS / 2);
    assert_int_equal(fake_pick(&f, 0, NULL), (int)t3);
    f.now = 17 * MS;
    assert_int_equal(fake_expire(&f, t3, 1 * MS, &slice), (int)t3);
    assert_int_equal(f.se[t3].level, 1);
    /* t=17.5: task 4 arrives and preempts 3; at t=18.5 it sinks to level 1
     * behind 3, which resumes with the 0.5 ms it had left. */
    f.now = 17 * MS + MS / 2;
    uint32_t t4 = fake_new(&f, 100 * MS, 0, 0);
    assert_true(fake_preempts(&f, t3, MS / 2, (int)t4));
    fake_account(&f, t3, MS / 2, SCHED_STOP_PREEMPTED);
    fake_enqueue(&f, t3, ENQUEUE_PREEMPTED);
    assert_int_equal(fake_pick(&f, 0, NULL), (int)t4);
    f.now = 18 * MS + MS / 2;
    assert_int_equal(fake_expire(&f, t4, 1 * MS, &slice), (int)t3);
    assert_int_equal(slice, MS / 2);
    /* The boost at t=18.75: level 1 holds 4, level 2 holds 0 then 1, task 2
     * is blocked at level 1 and task 3 runs at level 1. */
    f.now = 18 * MS + 3 * MS / 4;
    fake_account(&f, t3, MS / 4, SCHED_STOP_NONE);
    struct sched_entity *running[] = {&f.se[t3]};
    f.pol->timer(f.rq, f.now, running, 1);
    assert_int_equal(f.pol->next_timer(f.rq, f.now), 37 * MS + MS / 2);
    assert_int_equal(f.se[t3].level, 0);
    assert_int_equal(f.pol->slice(f.rq, &f.se[t3], f.now), 1 * MS);
    const int expect[] = {(int)t4, 0, 1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fake_peek(&f), expect[i]);
        assert_int_equal(f.se[expect[i]].level, 0);
        assert_int_equal(f.se[expect[i]].slice_left, 1 * MS);
        assert_int_equal(fake_pick(&f, 0, NULL), expect[i]);
    }
    /* The blocked task learns of the boost when it wakes. */
    assert_int_equal(f.se[2].level, 1);
    f.now = 20 * MS;
    fake_enqueue(&f, 2, ENQUEUE_WAKEUP);
    assert_int_equal(f.se[2].level, 0);
    assert_int_equal(f.se[2].slice_left, 1 * MS);
    assert_int_equal(fake_pick(&f, 0, NULL), 2);
    fake_end(&f);
}

static void mlfq_should_match_the_oracle_on_a_boosted_run(void **state)
{
    (void)state;
    /* tests/oracle/mlfq_oracle.py -Q 10,10,10 -A 1,1,1 -B 50
     * -l 0,100,0:5,45,0:20,30,0 (CPU-only jobs) finishes them at 175, 125
     * and 90 ms, dispatching 0 2 1 0 2 1 0 2 1 0 2 0 2 0. */
    const struct job jobs[] = {{0, 100 * MS, 0, 0}, {5 * MS, 45 * MS, 0, 0},
                               {20 * MS, 30 * MS, 0, 0}};
    int64_t finish[3];
    int order[32];
    struct fake f;
    fake_init(&f, "mlfq");
    f.cfg.boost = 50 * MS;
    fake_start(&f, 1);
    int n = drive(&f, jobs, 3, finish, order, 32);
    assert_int_equal(finish[0], 175 * MS);
    assert_int_equal(finish[1], 125 * MS);
    assert_int_equal(finish[2], 90 * MS);
    /* The oracle draws a task re-dispatched after its own expiry as one run. */
    int runs = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || order[i] != order[i - 1])
            order[runs++] = order[i];
    const int expect[] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 0, 1, 0};
    assert_int_equal(runs, 14);
    for (int i = 0; i < runs; i++)
        assert_int_equal(order[i], expect[i]);
    fake_end(&f);
}

static void mlfq_should_reject_a_level_without_quantum_or_allotment(void **state)
{
    (void)state;
    const struct sched_policy *p = sched_registry_find("mlfq");
    struct mlfq_level levels[2] = {{1 * MS, 1}, {0, 1}};
    struct sched_config cfg = {.policy = "mlfq", .nlevels = 2, .levels = levels};
    struct error err;
    error_clear(&err);
    assert_int_equal(p->validate(&cfg, &err), STATUS_BAD_INPUT);
    assert_string_equal(err.path, "scheduler.levels[1].quantum");
    levels[1] = (struct mlfq_level){1 * MS, 0};
    assert_int_equal(p->validate(&cfg, &err), STATUS_BAD_INPUT);
    assert_string_equal(err.path, "scheduler.levels[1].allotment");
    levels[1].allotment = 3;
    cfg.boost = -1;
    assert_int_equal(p->validate(&cfg, &err), STATUS_BAD_INPUT);
    assert_string_equal(err.path, "scheduler.boost");
    cfg.boost = 0;
    assert_int_equal(p->validate(&cfg, &err), STATUS_OK);
}

static void cfs_should_grow_vruntime_inversely_to_weight(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "cfs");
    fake_start(&f, 2);
    uint32_t n0 = fake_new(&f, 1000 * MS, 0, 0);
    uint32_t n5 = fake_new(&f, 1000 * MS, 0, 5);
    assert_int_equal(f.se[n0].weight, 1024);
    assert_int_equal(f.se[n5].weight, 335);
    assert_int_equal(f.se[n0].key, f.se[n5].key);
    int64_t start = f.se[n0].key;
    /* Both run 1 ms at a time, 1000 times, on two CPUs: equal CPU time. */
    for (int i = 0; i < 1000; i++) {
        int a = fake_pick(&f, 0, NULL);
        int b = fake_pick(&f, 1, NULL);
        f.now += 1 * MS;
        fake_account(&f, (uint32_t)a, 1 * MS, SCHED_STOP_EXPIRED);
        fake_account(&f, (uint32_t)b, 1 * MS, SCHED_STOP_EXPIRED);
        fake_enqueue(&f, (uint32_t)a, ENQUEUE_EXPIRED);
        fake_enqueue(&f, (uint32_t)b, ENQUEUE_EXPIRED);
    }
    int64_t v0 = f.se[n0].key - start, v5 = f.se[n5].key - start;
    assert_int_equal(v0, 1000 * MS);
    /* Exactly floor(1 s * 1024 / 335): remainders carried, no drift. */
    assert_int_equal(v5, 1000 * MS * 1024 / 335);
    fake_end(&f);
}

static void cfs_should_size_slices_by_share_of_runnable_weight(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "cfs");
    fake_start(&f, 1);
    uint32_t n0 = fake_new(&f, 1000 * MS, 0, 0);
    uint32_t n5 = fake_new(&f, 1000 * MS, 0, 5);
    int64_t slice = 0;
    assert_int_equal(fake_pick(&f, 0, &slice), (int)n0);
    /* 6 ms latency shared 1024 : 335. */
    assert_int_equal(slice, 6 * MS * 1024 / 1359);
    f.now += slice;
    assert_int_equal(fake_expire(&f, n0, slice, &slice), (int)n5);
    assert_int_equal(slice, 6 * MS * 335 / 1359);
    fake_end(&f);

    /* Twelve nice-0 tasks: more than latency / min_granularity = 8, so the
     * period stretches to 12 * 0.75 ms and each gets 0.75 ms. */
    fake_init(&f, "cfs");
    fake_start(&f, 1);
    for (int i = 0; i < 12; i++)
        fake_new(&f, 1000 * MS, 0, 0);
    assert_int_equal(fake_pick(&f, 0, &slice), 0);
    assert_int_equal(slice, 750000);
    fake_end(&f);

    /* A nice 19 task beside a nice -20 one would get 6 ms * 15 / 88776, about
     * 1 us: the floor is min_granularity. */
    fake_init(&f, "cfs");
    fake_start(&f, 1);
    uint32_t high = fake_new(&f, 1000 * MS, 0, -20);
    uint32_t low = fake_new(&f, 1000 * MS, 0, 19);
    assert_int_equal(fake_pick(&f, 0, &slice), (int)high);
    assert_int_equal(slice, 6 * MS * 88761 / 88776);
    f.now += 1 * MS;
    assert_int_equal(fake_expire(&f, high, 1 * MS, &slice), (int)low);
    assert_int_equal(slice, 750000);
    fake_end(&f);
}

static void cfs_should_preempt_only_for_a_woken_task_far_enough_behind(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "cfs");
    fake_start(&f, 1);
    uint32_t a = fake_new(&f, 1000 * MS, 0, 0);
    uint32_t b = fake_new(&f, 1000 * MS, 0, 0);
    assert_int_equal(fake_pick(&f, 0, NULL), (int)a);
    assert_false(fake_preempts(&f, a, 0, (int)b));
    /* At t=2 (the engine checks again after some event of a's own) b has
     * been waiting since t=0: it does not preempt; a keeps its 3 ms slice. */
    f.now = 2 * MS;
    assert_false(fake_preempts(&f, a, 2 * MS, (int)b));
    /* A task created at t=2 at min_vruntime (0) preempts a, which is 2 ms of
     * virtual time ahead, more than min_granularity. */
    uint32_t c = fake_new(&f, 1000 * MS, 0, 0);
    f.pol->dequeue(f.rq, &f.se[b]);
    assert_int_equal(fake_peek(&f), (int)c);
    assert_true(fake_preempts(&f, a, 2 * MS, (int)c));
    /* Later, with nothing else happening, c is no longer newly woken. */
    assert_false(fake_preempts(&f, a, 3 * MS, (int)c));
    fake_end(&f);

    /* The threshold: ahead by exactly min_granularity is not enough. */
    fake_init(&f, "cfs");
    fake_start(&f, 1);
    a = fake_new(&f, 1000 * MS, 0, 0);
    assert_int_equal(fake_pick(&f, 0, NULL), (int)a);
    f.now = 750000;
    b = fake_new(&f, 1000 * MS, 0, 0);
    assert_false(fake_preempts(&f, a, 750000, (int)b));
    f.pol->dequeue(f.rq, &f.se[b]);
    f.now = 750001;
    c = fake_new(&f, 1000 * MS, 0, 0);
    assert_true(fake_preempts(&f, a, 750001, (int)c));
    f.pol->dequeue(f.rq, &f.se[c]);
    /* A nice 5 waker needs a lead of 0.75 ms * 1024 / 335 = 2.29 ms. */
    f.now = 2 * MS;
    uint32_t d = fake_new(&f, 1000 * MS, 0, 5);
    assert_false(fake_preempts(&f, a, 2 * MS, (int)d));
    f.pol->dequeue(f.rq, &f.se[d]);
    f.now = 2300000;
    uint32_t e = fake_new(&f, 1000 * MS, 0, 5);
    assert_true(fake_preempts(&f, a, 2300000, (int)e));
    fake_end(&f);
}

static void cfs_should_place_new_and_woken_tasks_near_min_vruntime(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "cfs");
    fake_start(&f, 1);
    uint32_t a = fake_new(&f, 1000 * MS, 0, 0);
    uint32_t s = fake_new(&f, 1000 * MS, 0, 0);
    f.pol->dequeue(f.rq, &f.se[s]); /* s "sleeps" from the start */
    assert_int_equal(fake_pick(&f, 0, NULL), (int)a);
    f.now = 100 * MS;
    fake_account(&f, a, 100 * MS, SCHED_STOP_NONE);
    /* A new task starts at min_vruntime = a's vruntime: no head start. */
    uint32_t n = fake_new(&f, 1000 * MS, 0, 0);
    assert_int_equal(f.se[n].key, f.se[a].key);
    /* The long sleeper gets half a latency of credit, not 100 ms. */
    fake_enqueue(&f, s, ENQUEUE_WAKEUP);
    assert_int_equal(f.se[s].key, f.se[a].key - 3 * MS);
    assert_int_equal(fake_peek(&f), (int)s);
    fake_end(&f);
}

static void cfs_should_reject_negative_latency(void **state)
{
    (void)state;
    const struct sched_policy *p = sched_registry_find("cfs");
    struct sched_config cfg = {.policy = "cfs", .latency = -1};
    struct error err;
    error_clear(&err);
    assert_int_equal(p->validate(&cfg, &err), STATUS_BAD_INPUT);
    assert_string_equal(err.path, "scheduler.latency");
    cfg.latency = 0;
    cfg.min_granularity = -5;
    assert_int_equal(p->validate(&cfg, &err), STATUS_BAD_INPUT);
    assert_string_equal(err.path, "scheduler.min_granularity");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_should_list_the_seven_policies_in_order),
        cmocka_unit_test(rq_list_should_keep_order_through_removals_and_growth),
        cmocka_unit_test(rq_heap_should_pop_by_key_then_order),
        cmocka_unit_test(fifo_should_run_tasks_in_ready_order_without_slices),
        cmocka_unit_test(fifo_should_give_the_textbook_average_wait),
        cmocka_unit_test(sjf_should_run_the_shortest_job_first),
        cmocka_unit_test(sjf_should_break_ties_by_ready_order_and_rank_by_total_compute),
        cmocka_unit_test(srtf_should_preempt_only_for_a_strictly_shorter_remainder),
        cmocka_unit_test(srtf_should_give_the_textbook_average_wait),
        cmocka_unit_test(srtf_should_preempt_the_running_task_with_most_left),
        cmocka_unit_test(rr_should_put_an_expired_task_behind_the_ready_ones),
        cmocka_unit_test(rr_should_give_the_textbook_average_wait),
        cmocka_unit_test(rr_should_default_to_a_10ms_quantum_and_reject_a_negative_one),
        cmocka_unit_test(priority_should_give_the_textbook_average_wait),
        cmocka_unit_test(priority_should_preempt_only_for_a_strictly_higher_priority),
        cmocka_unit_test(priority_should_resume_a_preempted_task_first_with_the_rest_of_its_slice),
        cmocka_unit_test(mlfq_should_use_ostep_defaults_and_demote_after_the_allotment),
        cmocka_unit_test(mlfq_should_demote_after_allotment_quanta_and_rank_levels),
        cmocka_unit_test(mlfq_should_boost_every_task_to_the_top_in_level_order),
        cmocka_unit_test(mlfq_should_match_the_oracle_on_a_boosted_run),
        cmocka_unit_test(mlfq_should_reject_a_level_without_quantum_or_allotment),
        cmocka_unit_test(cfs_should_grow_vruntime_inversely_to_weight),
        cmocka_unit_test(cfs_should_size_slices_by_share_of_runnable_weight),
        cmocka_unit_test(cfs_should_preempt_only_for_a_woken_task_far_enough_behind),
        cmocka_unit_test(cfs_should_place_new_and_woken_tasks_near_min_vruntime),
        cmocka_unit_test(cfs_should_reject_negative_latency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
