/* Regression tests of the simulated kernel: each scenario in
 * tests/data/regress/ once went wrong in a way a review found; the test
 * states what must happen instead (the printed lines with their times, the
 * exit status, the final memory). */
#include "sim_run.h"

#define MS 1000000LL
#define US 1000LL

static struct run *run_file(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/regress/%s", THREADSIM_SOURCE_DIR, name);
    struct error err;
    struct scenario *sc = scenario_load_file(path, &err);
    if (!sc)
        fail_msg("%s did not load: %s: %s", name, err.path, err.msg);
    return run_scenario(sc, NULL, true);
}

struct line {
    int64_t time;
    const char *text;
};

/* The run printed exactly these lines at these times. */
static void expect_prints(struct run *r, const struct line *want, uint32_t n)
{
    if (engine_print_count(r->eng) != n)
        fail_msg("%u lines printed, expected %u", engine_print_count(r->eng), n);
    for (uint32_t i = 0; i < n; i++) {
        const struct engine_print *p = engine_print_at(r->eng, i);
        if (p->time != want[i].time || strcmp(p->text, want[i].text) != 0)
            fail_msg("line %u: '%s' at %lld ns, expected '%s' at %lld ns", i, p->text, (long long)p->time,
                     want[i].text, (long long)want[i].time);
    }
}

static void return_in_a_handler_should_leave_only_the_handler(void **state)
{
    (void)state;
    const struct line want[] = {{5 * MS, "handler"}, {10 * MS, "tick"}, {20 * MS, "tick"}, {30 * MS, "tick"},
                                {30 * MS, "main done"}};
    const char *files[] = {"return_in_handler_sleep.json", "return_in_handler_compute.json"};
    for (int i = 0; i < 2; i++) {
        struct run *r = run_file(files[i]);
        assert_int_equal(r->status, STATUS_OK);
        expect_prints(r, want, 5);
        run_free(r);
    }
}

static void a_handler_that_waits_for_a_lock_should_resume_the_interrupted_compute(void **state)
{
    (void)state;
    struct run *r = run_file("handler_waits_for_lock.json");
    assert_int_equal(r->status, STATUS_OK);
    /* the handler gets L when t releases it at 5 ms (plus the lock calls' costs);
     * main's 10 ms of compute (1 ms done) ends 9 ms after the handler */
    assert_in_range(engine_print_at(r->eng, 0)->time, 5 * MS, 5 * MS + 1 * US);
    assert_string_equal(engine_print_at(r->eng, engine_print_count(r->eng) - 1)->text, "main done");
    assert_true(engine_print_at(r->eng, engine_print_count(r->eng) - 1)->time >= 14 * MS);
    run_free(r);
}

static void a_signal_in_the_middle_of_an_add_should_not_move_its_write(void **state)
{
    (void)state;
    struct run *r = run_file("signal_mid_add.json");
    assert_int_equal(r->status, STATUS_OK);
    const struct line want[] = {{1 * MS, "handler x=0"}, {10 * MS, "main x=1"}};
    expect_prints(r, want, 2);
    assert_int_equal(engine_stats(r->eng)->lost_updates, 1);
    run_free(r);
}

static void a_signal_during_a_handler_should_wait_for_it(void **state)
{
    (void)state;
    struct run *r = run_file("signal_during_handler.json");
    assert_int_equal(r->status, STATUS_OK);
    assert_string_equal(engine_print_at(r->eng, 0)->text, "USR1 handler done");
    assert_int_equal(engine_print_at(r->eng, 0)->time, 6 * MS);
    run_free(r);
}

static void an_mp_queue_with_maxsize_should_stay_fifo(void **state)
{
    (void)state;
    struct run *r = run_file("mp_queue_maxsize_order.json");
    assert_int_equal(r->status, STATUS_OK);
    assert_string_equal(engine_print_at(r->eng, engine_print_count(r->eng) - 1)->text, "got 1 2 3");
    run_free(r);
}

static void closing_a_pipe_under_a_blocked_writer_should_be_a_broken_pipe(void **state)
{
    (void)state;
    struct run *r = run_file("pipe_close_with_blocked_writer.json");
    assert_int_equal(r->status, STATUS_RUNTIME);
    assert_non_null(strstr(r->err.msg, "BrokenPipeError"));
    run_free(r);
}

static void threads_woken_together_should_run_in_declaration_order(void **state)
{
    (void)state;
    const char *files[] = {"join_wake_order.json", "event_wake_order.json"};
    for (int i = 0; i < 2; i++) {
        struct run *r = run_file(files[i]);
        assert_int_equal(r->status, STATUS_OK);
        assert_string_equal(engine_print_at(r->eng, 0)->text, "A runs");
        assert_string_equal(engine_print_at(r->eng, 1)->text, "B runs");
        run_free(r);
    }
}

static void exit_inside_with_should_release_the_lock(void **state)
{
    (void)state;
    struct run *r = run_file("exit_inside_with.json");
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_print_count(r->eng), 1);
    assert_string_equal(engine_print_at(r->eng, 0)->text, "main has L");
    run_free(r);
}

static void a_signal_during_native_compute_should_not_make_its_rest_hold_the_gil(void **state)
{
    (void)state;
    struct run *r = run_file("gil_signal_during_native_compute.json");
    assert_int_equal(r->status, STATUS_OK);
    /* 100 ms of native code beside 100 ms of Python code on 2 CPUs: about
     * 100 ms plus one switch interval, not 200 ms */
    assert_true(engine_stats(r->eng)->makespan < 110 * MS);
    run_free(r);
}

static void a_thread_that_waited_for_the_gil_should_take_an_rlock_once(void **state)
{
    (void)state;
    struct run *r = run_file("gil_waiter_then_rlock.json");
    assert_int_equal(r->status, STATUS_OK);
    run_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(return_in_a_handler_should_leave_only_the_handler),
        cmocka_unit_test(a_handler_that_waits_for_a_lock_should_resume_the_interrupted_compute),
        cmocka_unit_test(a_signal_in_the_middle_of_an_add_should_not_move_its_write),
        cmocka_unit_test(a_signal_during_a_handler_should_wait_for_it),
        cmocka_unit_test(an_mp_queue_with_maxsize_should_stay_fifo),
        cmocka_unit_test(closing_a_pipe_under_a_blocked_writer_should_be_a_broken_pipe),
        cmocka_unit_test(threads_woken_together_should_run_in_declaration_order),
        cmocka_unit_test(exit_inside_with_should_release_the_lock),
        cmocka_unit_test(a_signal_during_native_compute_should_not_make_its_rest_hold_the_gil),
        cmocka_unit_test(a_thread_that_waited_for_the_gil_should_take_an_rlock_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
