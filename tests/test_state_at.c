/* Unit tests of state_at: the kernel's view at one instant of small traces
 * built by hand, and of a simulated textbook scenario, checked exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim_run.h"
#include "trace_fixture.h"
#include "viz/state_at.h"

#define MS 1000000

static void add_wait(struct trace *tr, uint32_t task, enum trace_reason reason, uint32_t obj,
                     int64_t start, int64_t end)
{
    struct trace_segment s = { .start = start, .end = end, .task = task, .cpu = -1,
                               .state = TRACE_BLOCKED, .reason = (uint8_t)reason, .obj = obj };
    trace_segment_add(tr, &s);
}

static void add_instant(struct trace *tr, int64_t time, uint32_t task,
                        enum trace_instant_kind kind, uint32_t obj, int64_t value)
{
    struct trace_instant ev = { .time = time, .task = task, .kind = (uint16_t)kind, .obj = obj,
                                .value = value };
    trace_instant_add(tr, &ev, NULL);
}

/* Round robin, 4 ms quantum, one CPU: P1 0-4 and 10-30, P2 4-7, P3 7-10
 * (scenarios/scheduling/rr_q4.json), segments in the order the simulator
 * closes them. */
static struct trace *rr_trace(void)
{
    struct trace *tr = trace_create("rr", NULL, "sim", "rr", 1, 0);
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "P%d", i + 1);
        trace_add_task(tr, "main", trace_add_process(tr, name));
    }
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 4 * MS);
    add_seg(tr, 1, -1, TRACE_READY, REASON_NONE, 0, 4 * MS);
    add_seg(tr, 1, 0, TRACE_RUNNING, REASON_NONE, 4 * MS, 7 * MS);
    add_seg(tr, 2, -1, TRACE_READY, REASON_NONE, 0, 7 * MS);
    add_seg(tr, 2, 0, TRACE_RUNNING, REASON_NONE, 7 * MS, 10 * MS);
    add_seg(tr, 0, -1, TRACE_READY, REASON_NONE, 4 * MS, 10 * MS);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 10 * MS, 30 * MS);
    tr->makespan = 30 * MS;
    return tr;
}

static void state_at_should_list_the_ready_queue_in_arrival_order(void **state)
{
    (void)state;
    struct trace *tr = rr_trace();
    struct state_view v;
    state_view_init(&v);

    state_at(tr, 5 * MS, &v);
    assert_int_equal(v.ncpus, 1);
    assert_int_equal(v.cpus[0].task, 1);
    assert_int_equal(v.cpus[0].state, TRACE_RUNNING);
    assert_int_equal(v.cpus[0].since, 4 * MS);
    assert_int_equal(v.nready, 2);
    assert_int_equal(v.ready[0].task, 2); /* P3, ready since 0 */
    assert_int_equal(v.ready[1].task, 0); /* P1, back in the queue at 4 ms */
    assert_int_equal(v.ready[1].since, 4 * MS);

    /* At 0 both P2 and P3 joined at once: the simulator's order (task). */
    state_at(tr, 0, &v);
    assert_int_equal(v.cpus[0].task, 0);
    assert_int_equal(v.nready, 2);
    assert_int_equal(v.ready[0].task, 1);
    assert_int_equal(v.ready[1].task, 2);

    state_view_deinit(&v);
    trace_destroy(tr);
}

static void state_at_should_count_a_segment_from_its_start(void **state)
{
    (void)state;
    struct trace *tr = rr_trace();
    struct state_view v;
    state_view_init(&v);

    state_at(tr, 7 * MS, &v); /* P2 ends, P3 starts exactly now */
    assert_int_equal(v.cpus[0].task, 2);
    assert_int_equal(v.nready, 1);
    assert_int_equal(v.ready[0].task, 0);

    state_at(tr, 30 * MS, &v); /* the end of the run: nothing left */
    assert_int_equal(v.cpus[0].task, STATE_NONE);
    assert_int_equal(v.nready, 0);

    state_at(tr, -5, &v);
    assert_int_equal(v.cpus[0].task, STATE_NONE);
    state_view_deinit(&v);
    trace_destroy(tr);
}

/* Two threads made ready at the same time are ordered by when the simulator
 * recorded the end of what they did before. */
static void state_at_should_break_ties_by_the_recorded_order(void **state)
{
    (void)state;
    struct trace *tr = trace_create("tie", NULL, "sim", "fifo", 1, 0);
    uint32_t p = trace_add_process(tr, "P");
    trace_add_task(tr, "a", p);
    trace_add_task(tr, "b", p);
    trace_add_task(tr, "c", p);
    add_seg(tr, 2, 0, TRACE_RUNNING, REASON_NONE, 0, 50);
    add_seg(tr, 1, -1, TRACE_BLOCKED, REASON_SLEEP, 0, 10); /* b woke first */
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_SLEEP, 0, 10);
    add_seg(tr, 0, -1, TRACE_READY, REASON_NONE, 10, 50);
    add_seg(tr, 1, -1, TRACE_READY, REASON_NONE, 10, 60);
    tr->makespan = 60;
    struct state_view v;
    state_view_init(&v);
    state_at(tr, 20, &v);
    assert_int_equal(v.nready, 2);
    assert_int_equal(v.ready[0].task, 1);
    assert_int_equal(v.ready[1].task, 0);
    state_at(tr, 5, &v);
    assert_int_equal(v.nready, 0);
    assert_int_equal(v.nblocked, 2);
    assert_int_equal(v.blocked[0].reason, REASON_SLEEP);
    state_view_deinit(&v);
    trace_destroy(tr);
}

/* t1 holds lock L from 1; t2 then t3 block on it at 2 and 3; at 5 t1 hands
 * it to t2. Condition c has one waiter. */
static struct trace *lock_trace(uint32_t *lock, uint32_t *cond)
{
    struct trace *tr = trace_create("locks", NULL, "sim", "fifo", 2, 0);
    uint32_t p = trace_add_process(tr, "P");
    trace_add_task(tr, "t1", p);
    trace_add_task(tr, "t2", p);
    trace_add_task(tr, "t3", p);
    trace_add_task(tr, "t4", p);
    *lock = trace_add_object(tr, "L", "lock", -1);
    *cond = trace_add_object(tr, "c", "condition", -1);
    add_instant(tr, 1, 0, INSTANT_ACQUIRE, *lock, 0);
    add_instant(tr, 5, 0, INSTANT_RELEASE, *lock, 1);
    add_instant(tr, 5, 1, INSTANT_ACQUIRE, *lock, 0);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
    add_seg(tr, 1, 1, TRACE_RUNNING, REASON_NONE, 0, 2);
    add_wait(tr, 1, REASON_LOCK, *lock, 2, 5);
    add_seg(tr, 2, -1, TRACE_READY, REASON_NONE, 0, 2);
    add_seg(tr, 2, 1, TRACE_RUNNING, REASON_NONE, 2, 3);
    add_wait(tr, 2, REASON_LOCK, *lock, 3, 10);
    add_seg(tr, 1, 1, TRACE_RUNNING, REASON_NONE, 5, 10);
    add_wait(tr, 3, REASON_CONDITION, *cond, 0, 10);
    tr->makespan = 10;
    return tr;
}

static void state_at_should_show_lock_owners_and_wait_queues(void **state)
{
    (void)state;
    uint32_t lock, cond;
    struct trace *tr = lock_trace(&lock, &cond);
    struct state_view v;
    state_view_init(&v);

    state_at(tr, 4, &v);
    assert_int_equal(v.nobjects, 2);
    assert_int_equal(v.objects[0].obj, lock);
    assert_int_equal(v.objects[0].owner, 0);
    assert_int_equal(v.objects[0].n, 2);
    assert_int_equal(v.waiters[v.objects[0].first].task, 1);
    assert_int_equal(v.waiters[v.objects[0].first + 1].task, 2);
    assert_int_equal(v.objects[1].obj, cond);
    assert_int_equal(v.objects[1].owner, STATE_NONE);
    assert_int_equal(v.objects[1].n, 1);
    assert_int_equal(v.waiters[v.objects[1].first].task, 3);

    state_at(tr, 5, &v); /* handed over to t2 */
    assert_int_equal(v.objects[0].owner, 1);
    assert_int_equal(v.objects[0].n, 1);
    assert_int_equal(v.waiters[v.objects[0].first].task, 2);
    assert_int_equal(v.cpus[1].task, 1);

    state_at(tr, 0, &v); /* nobody holds L yet, so only c is listed */
    assert_int_equal(v.nobjects, 1);
    assert_int_equal(v.objects[0].obj, cond);
    state_view_deinit(&v);
    trace_destroy(tr);
}

static void state_view_text_should_read_as_the_panel_shows_it(void **state)
{
    (void)state;
    uint32_t lock, cond;
    struct trace *tr = lock_trace(&lock, &cond);
    struct state_view v;
    state_view_init(&v);
    state_at(tr, 4, &v);
    char *text = state_view_text(tr, &v);
    assert_string_equal(text, "at 4ns\n"
                              "CPU 0: P / t1\n"
                              "CPU 1: idle\n"
                              "ready: none\n"
                              "lock L: held by P / t1; waiting: P / t2, P / t3\n"
                              "condition c: waiting: P / t4\n");
    free(text);
    /* a real run whose thread t2 was recorded up to 3 ns: from then on the
     * panel says the states are the last recorded ones; before, nothing */
    tr->tasks[1].instants_until = 3;
    text = state_view_text(tr, &v);
    assert_non_null(strstr(text, "at 4ns\nnot recorded from 3ns on (a thread's event buffer was full): last "
                                 "recorded states shown\nCPU 0: P / t1\n"));
    free(text);
    state_at(tr, 2, &v);
    text = state_view_text(tr, &v);
    assert_null(strstr(text, "not recorded"));
    free(text);
    state_view_deinit(&v);
    trace_destroy(tr);
}

static void state_at_should_follow_the_gil_and_its_waiters(void **state)
{
    (void)state;
    struct trace *tr = trace_create("gil", NULL, "sim", "fifo", 2, 0);
    uint32_t p = trace_add_process(tr, "Py");
    trace_add_process(tr, "NoGil");
    trace_add_task(tr, "t1", p);
    trace_add_task(tr, "t2", p);
    trace_add_task(tr, "u", 1);
    add_instant(tr, 0, 0, INSTANT_GIL_TAKE, UINT32_MAX, p);
    add_instant(tr, 5, 0, INSTANT_GIL_DROP, UINT32_MAX, p);
    add_instant(tr, 6, 1, INSTANT_GIL_TAKE, UINT32_MAX, p);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 5);
    add_wait(tr, 1, REASON_GIL, UINT32_MAX, 1, 6);
    add_seg(tr, 2, 1, TRACE_RUNNING, REASON_NONE, 0, 10);
    tr->makespan = 10;
    struct state_view v;
    state_view_init(&v);

    state_at(tr, 3, &v);
    assert_int_equal(v.ngils, 1);
    assert_int_equal(v.gils[0].process, p);
    assert_int_equal(v.gils[0].owner, 0);
    assert_int_equal(v.gils[0].n, 1);
    assert_int_equal(v.waiters[v.gils[0].first].task, 1);
    assert_int_equal(v.nblocked, 0);

    state_at(tr, 5, &v); /* dropped, t2 still waking up */
    assert_int_equal(v.gils[0].owner, STATE_NONE);
    char *text = state_view_text(tr, &v);
    assert_non_null(strstr(text, "GIL of Py: free; waiting: Py / t2\n"));
    free(text);

    state_at(tr, 6, &v);
    assert_int_equal(v.gils[0].owner, 1);
    assert_int_equal(v.gils[0].n, 0);
    state_view_deinit(&v);
    trace_destroy(tr);
}

static void state_at_should_give_the_last_value_written(void **state)
{
    (void)state;
    struct trace *tr = trace_create("vars", NULL, "sim", "fifo", 1, 0);
    uint32_t p = trace_add_process(tr, "P");
    trace_add_task(tr, "w", p);
    uint32_t x = trace_add_object(tr, "x", "var", -1);
    uint32_t y = trace_add_object(tr, "y", "var", -1);
    add_instant(tr, 10, 0, INSTANT_WRITE, x, 1);
    add_instant(tr, 20, 0, INSTANT_WRITE, x, 2);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 30);
    tr->makespan = 30;
    struct state_view v;
    state_view_init(&v);

    state_at(tr, 15, &v);
    assert_int_equal(v.nvars, 2);
    assert_int_equal(v.vars[0].obj, x);
    assert_true(v.vars[0].written);
    assert_int_equal(v.vars[0].value, 1);
    assert_int_equal(v.vars[0].writer, 0);
    assert_int_equal(v.vars[1].obj, y);
    assert_false(v.vars[1].written);
    assert_int_equal(v.nobjects, 0); /* variables are not wait queues */

    state_at(tr, 20, &v);
    assert_int_equal(v.vars[0].value, 2);
    char *text = state_view_text(tr, &v);
    assert_non_null(strstr(text, "\nx = 2\ny: not written yet\n"));
    free(text);
    state_view_deinit(&v);
    trace_destroy(tr);
}

static void state_at_should_report_a_deadlock_from_when_it_is_found(void **state)
{
    (void)state;
    struct trace *tr = trace_create("dl", NULL, "sim", "fifo", 1, 0);
    trace_add_task(tr, "t", trace_add_process(tr, "P"));
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
    struct trace_instant dl = { .time = 10, .task = UINT32_MAX, .kind = INSTANT_DEADLOCK,
                                .obj = UINT32_MAX };
    trace_instant_add(tr, &dl, "t waits for L held by t");
    tr->makespan = 10;
    struct state_view v;
    state_view_init(&v);
    state_at(tr, 9, &v);
    assert_null(v.deadlock);
    state_at(tr, 10, &v);
    char *text = state_view_text(tr, &v);
    assert_string_equal(text, "at 10ns\n"
                              "deadlock: t waits for L held by t\n"
                              "CPU 0: idle\n"
                              "ready: none\n");
    free(text);
    state_view_deinit(&v);
    trace_destroy(tr);
}

/* The simulator's own trace of the round-robin textbook example. */
static void state_at_should_match_the_simulated_round_robin(void **state)
{
    (void)state;
    struct error err;
    struct scenario *sc = scenario_load_file(THREADSIM_SOURCE_DIR "/scenarios/scheduling/rr_q4.json",
                                             &err);
    assert_non_null(sc);
    struct run *r = run_scenario(sc, NULL, true);
    assert_int_equal(r->status, STATUS_OK);
    const struct trace *tr = engine_trace(r->eng);
    struct state_view v;
    state_view_init(&v);
    state_at(tr, 5 * MS, &v);
    char *text = state_view_text(tr, &v);
    assert_string_equal(text, "at 5ms\n"
                              "CPU 0: P2 / main\n"
                              "ready: P3 / main, P1 / main\n");
    free(text);
    state_at(tr, 12 * MS, &v);
    assert_int_equal(v.cpus[0].task, 0);
    assert_int_equal(v.nready, 0);
    state_view_deinit(&v);
    run_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_at_should_list_the_ready_queue_in_arrival_order),
        cmocka_unit_test(state_at_should_count_a_segment_from_its_start),
        cmocka_unit_test(state_at_should_break_ties_by_the_recorded_order),
        cmocka_unit_test(state_at_should_show_lock_owners_and_wait_queues),
        cmocka_unit_test(state_view_text_should_read_as_the_panel_shows_it),
        cmocka_unit_test(state_at_should_follow_the_gil_and_its_waiters),
        cmocka_unit_test(state_at_should_give_the_last_value_written),
        cmocka_unit_test(state_at_should_report_a_deadlock_from_when_it_is_found),
        cmocka_unit_test(state_at_should_match_the_simulated_round_robin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
