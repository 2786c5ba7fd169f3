/* Unit tests of the metrics computed from a trace: small hand-made traces
 * checked by hand, and agreement with the engine's own metrics on simulated
 * runs (so `real` and `compare` report what `run` reports). */
#include "sim_run.h"

#include "sim/trace_metrics.h"
#include "trace_fixture.h"

static void add_instant(struct trace *tr, uint32_t task, enum trace_instant_kind kind, int64_t time)
{
    struct trace_instant ev = {.time = time, .task = task, .kind = (uint16_t)kind, .obj = UINT32_MAX,
                               .text = UINT32_MAX};
    trace_instant_add(tr, &ev, NULL);
}

static void metrics_should_sum_states_per_thread(void **state)
{
    (void)state;
    struct trace *tr = trace_create("t", NULL, "real", "os", 2, 0);
    uint32_t p = trace_add_process(tr, "main");
    trace_add_task(tr, "a", p);
    trace_add_task(tr, "b", p);
    add_instant(tr, 0, INSTANT_ARRIVE, 0);
    add_instant(tr, 1, INSTANT_ARRIVE, 0);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_LOCK, 10, 30);
    add_seg(tr, 0, 1, TRACE_RUNNING, REASON_NONE, 30, 40);
    add_instant(tr, 0, INSTANT_EXIT, 40);
    add_seg(tr, 1, -1, TRACE_BLOCKED, REASON_GIL, 0, 5);
    add_seg(tr, 1, -1, TRACE_READY, REASON_NONE, 5, 7);
    add_seg(tr, 1, 1, TRACE_SWITCH, REASON_NONE, 7, 8);
    add_seg(tr, 1, 1, TRACE_RUNNING, REASON_NONE, 8, 20);
    add_seg(tr, 1, 1, TRACE_RUNNING, REASON_NONE, 20, 25);
    add_instant(tr, 1, INSTANT_EXIT, 25);

    struct task_metrics m[2];
    assert_int_equal(trace_metrics_compute(tr, m), 40);
    assert_int_equal(m[0].arrival, 0);
    assert_int_equal(m[0].first_run, 0);
    assert_int_equal(m[0].finish, 40);
    assert_int_equal(m[0].cpu, 20);
    assert_int_equal(m[0].blocked, 20);
    assert_int_equal(m[0].gil_wait, 0);
    assert_int_equal(m[0].context_switches, 2);
    assert_int_equal(m[1].first_run, 0); /* it ran to ask for the GIL */
    assert_int_equal(m[1].cpu, 17);
    assert_int_equal(m[1].wait, 3);
    assert_int_equal(m[1].blocked, 5);
    assert_int_equal(m[1].gil_wait, 5);
    /* the switch and the two running pieces are one stint on the CPU */
    assert_int_equal(m[1].context_switches, 1);
    trace_destroy(tr);
}

static void metrics_should_mark_a_thread_that_never_ran_or_finished(void **state)
{
    (void)state;
    struct trace *tr = trace_create("t", NULL, "real", "os", 1, 0);
    uint32_t p = trace_add_process(tr, "main");
    trace_add_task(tr, "stuck", p);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_EVENT, 3, 50);
    struct task_metrics m[1];
    assert_int_equal(trace_metrics_compute(tr, m), 50);
    assert_int_equal(m[0].arrival, 3);
    assert_int_equal(m[0].first_run, 3);
    assert_int_equal(m[0].finish, -1);
    assert_int_equal(m[0].blocked, 47);
    trace_destroy(tr);
    /* a new thread waits for its start blocked on a wake-up: it has not run
     * in it, so its first run is when it gets a CPU, its response 5 */
    struct trace *started = real_trace(1, 1);
    add_seg(started, 0, -1, TRACE_BLOCKED, REASON_WAKEUP, 2, 7);
    add_seg(started, 0, 0, TRACE_RUNNING, REASON_NONE, 7, 9);
    assert_int_equal(trace_metrics_compute(started, m), 9);
    assert_int_equal(m[0].arrival, 2);
    assert_int_equal(m[0].first_run, 7);
    assert_int_equal(m[0].blocked, 5);
    trace_destroy(started);
}

/* Two CPUs. a and b both run on CPU 0 over 0-10 (the OS shared it between
 * them) while CPU 1 is idle: 10 ns lost. Then b's time without the CPU,
 * shown as READY right after its running stretch, is still on CPU 0's queue
 * (10-14) while a runs there and CPU 1 is still idle: 4 more. From 14 to 20
 * nothing is runnable. c, ready from 20 to 25 with no CPU in use, loses 5;
 * from 25 to 30 it runs on CPU 1 beside a READY stretch of a's that follows
 * no running one (a thread waiting for a CPU) while CPU 0 is idle: 5 more. */
static void idle_while_ready_should_count_cpus_left_idle_by_placement(void **state)
{
    (void)state;
    struct trace *tr = real_trace(2, 3); /* a, b, c */
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
    add_seg(tr, 1, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
    add_seg(tr, 1, -1, TRACE_READY, REASON_NONE, 10, 14);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 10, 14);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_SLEEP, 14, 25);
    add_seg(tr, 2, -1, TRACE_READY, REASON_NONE, 20, 25);
    add_seg(tr, 2, 1, TRACE_RUNNING, REASON_NONE, 25, 30);
    add_seg(tr, 0, -1, TRACE_READY, REASON_NONE, 25, 30);
    assert_int_equal(trace_idle_while_ready(tr), 10 + 4 + 5 + 5);
    /* a and b on CPU 0 each run 0-10 and have a READY tail 10-20 (their
     * time without it): both tails stay CPU 0's, so CPU 1 was idle for 20
     * with two threads runnable, not 30 */
    struct trace *tails = real_trace(2, 2);
    for (uint32_t k = 0; k < 2; k++) {
        add_seg(tails, k, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
        add_seg(tails, k, -1, TRACE_READY, REASON_NONE, 10, 20);
    }
    assert_int_equal(trace_idle_while_ready(tails), 20);
    /* a real run whose thread b was recorded up to 5 only: past that, what
     * its trace shows is its last state going on, so only 0-5 counts */
    tails->tasks[1].recorded_until = 5;
    assert_int_equal(trace_recorded_until(tails), 5);
    assert_int_equal(trace_idle_while_ready(tails), 5);
    trace_destroy(tails);
    /* one thread alone, its tail on its own CPU: nothing lost */
    struct trace *alone = real_trace(2, 1);
    add_seg(alone, 0, 1, TRACE_RUNNING, REASON_NONE, 0, 10);
    add_seg(alone, 0, -1, TRACE_READY, REASON_NONE, 10, 14);
    assert_int_equal(trace_idle_while_ready(alone), 0);
    trace_destroy(alone);
    /* one CPU: two threads on it lose nothing */
    struct trace *one = real_trace(1, 2);
    add_seg(one, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
    add_seg(one, 1, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
    assert_int_equal(trace_idle_while_ready(one), 0);
    assert_int_equal(trace_idle_while_ready(NULL), 0);
    trace_destroy(one);
    trace_destroy(tr);
}

static void metrics_should_match_the_engine_on_simulated_runs(void **state)
{
    (void)state;
    static const char *const files[] = {
        "scenarios/scheduling/rr_q4.json",
        "scenarios/gil/count_threads.json",
        "scenarios/lectures/08_condition_producer_consumer.json",
        "scenarios/scheduling/fcfs_switch_cost.json",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        struct error err;
        snprintf(path, sizeof path, "%s/%s", THREADSIM_SOURCE_DIR, files[i]);
        struct scenario *sc = scenario_load_file(path, &err);
        assert_non_null(sc);
        struct run *r = run_scenario(sc, NULL, true);
        assert_int_equal(r->status, STATUS_OK);
        const struct trace *tr = engine_trace(r->eng);
        struct task_metrics *m = calloc(tr->ntasks, sizeof *m);
        assert_int_equal(trace_metrics_compute(tr, m), engine_stats(r->eng)->makespan);
        /* the simulator gives an idle CPU a ready thread at once */
        assert_int_equal(trace_idle_while_ready(tr), 0);
        for (uint32_t t = 0; t < tr->ntasks; t++) {
            const struct task_metrics *e = engine_task_metrics(r->eng, t);
            assert_int_equal(m[t].arrival, e->arrival);
            assert_int_equal(m[t].first_run, e->first_run);
            assert_int_equal(m[t].finish, e->finish);
            assert_int_equal(m[t].cpu, e->cpu);
            assert_int_equal(m[t].wait, e->wait);
            assert_int_equal(m[t].blocked, e->blocked);
            assert_int_equal(m[t].gil_wait, e->gil_wait);
            /* context switches are counted from segments, which a stint of
             * zero length does not leave: only ask for one when it ran */
            if (e->cpu > 0)
                assert_true(m[t].context_switches > 0);
        }
        free(m);
        run_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metrics_should_sum_states_per_thread),
        cmocka_unit_test(metrics_should_mark_a_thread_that_never_ran_or_finished),
        cmocka_unit_test(metrics_should_match_the_engine_on_simulated_runs),
        cmocka_unit_test(idle_while_ready_should_count_cpus_left_idle_by_placement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
