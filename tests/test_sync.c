/* Unit tests of the simulated objects and memory: locks and hand-over,
 * rlocks, semaphores, events, conditions, barriers, racy adds, misuse and
 * deadlock reports, on small scenarios checked by hand. */
#include "sim_run.h"

#define MS 1000000LL

static struct run *run_json(const char *json)
{
    return run_json_with(json, NULL, true);
}

static int64_t var(struct run *r, const char *name, uint32_t index)
{
    for (uint32_t i = 0; i < r->sc->nvars; i++) {
        if (strcmp(r->sc->vars[i].name, name) == 0) {
            int64_t v;
            assert_true(engine_var_value(r->eng, i, index, &v));
            return v;
        }
    }
    fail_msg("no variable %s", name);
    return 0;
}

#define TWO_THREADS(objects, memory, prog_a, prog_b)                                                              \
    "{\"machine\": {\"cpus\": 2, \"profile\": {\"acquire_ns\": 0, \"release_ns\": 0}}, \"scheduler\": {\"policy\": \"rr\", \"quantum\": \"1ms\"}, "             \
    "\"objects\": {" objects "}, \"shared\": {" memory "}, \"processes\": [{\"name\": \"main\", "              \
    "\"threads\": [{\"name\": \"a\", \"program\": [" prog_a "]}, {\"name\": \"b\", \"program\": [" prog_b   \
    "]}]}]}"

static void a_lock_should_serialise_critical_sections_and_hand_over_in_order(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"L\": {\"type\": \"lock\"}", "\"x\": 0",
        "{\"op\": \"with\", \"obj\": \"L\", \"body\": [{\"op\": \"compute\", \"for\": \"3ms\"}]}",
        "{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"with\", \"obj\": \"L\", \"body\": "
        "[{\"op\": \"compute\", \"for\": \"2ms\"}]}"));
    assert_int_equal(r->status, STATUS_OK);
    /* b waits for the lock from 1 ms to 3 ms, then holds it 3-5 ms */
    assert_int_equal(engine_task_metrics(r->eng, 1)->blocked, 2 * MS);
    assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 5 * MS);
    /* the release by a hands the lock to b: a release and an acquire share a flow */
    const struct trace *tr = engine_trace(r->eng);
    uint32_t flow = 0;
    for (size_t i = 0; i < tr->ninstants; i++)
        if (tr->instants[i].kind == INSTANT_RELEASE && tr->instants[i].value == 1)
            flow = tr->instants[i].flow;
    assert_true(flow != 0);
    bool paired = false;
    for (size_t i = 0; i < tr->ninstants; i++)
        paired |= tr->instants[i].kind == INSTANT_ACQUIRE && tr->instants[i].flow == flow && tr->instants[i].task == 1;
    assert_true(paired);
    run_free(r);
}

/* a holds L 0-2 ms, computes 0.5 ms and takes L again for 2 ms; b wants L
 * at 1 ms and holds it 1 ms. Wake-up latency 1 ms, no switch costs. */
#define HANDOFF_SCENARIO(profile) HANDOFF_SCENARIO_OF("{\"type\": \"lock\"}", profile)
#define HANDOFF_SCENARIO_OF(object, profile)                                                                      \
    "{\"machine\": {\"cpus\": 2, \"context_switch\": 0, \"wakeup_latency\": \"1ms\", \"profile\": {"          \
    "\"acquire_ns\": 0, \"release_ns\": 0" profile "}}, \"scheduler\": {\"policy\": \"rr\", \"quantum\": \"10ms\"}, " \
    "\"objects\": {\"L\": " object "}, \"processes\": [{\"name\": \"main\", \"threads\": ["              \
    "{\"name\": \"a\", \"program\": [{\"op\": \"with\", \"obj\": \"L\", \"body\": [{\"op\": \"compute\", "     \
    "\"for\": \"2ms\"}]}, {\"op\": \"compute\", \"for\": \"500us\"}, {\"op\": \"with\", \"obj\": \"L\", "     \
    "\"body\": [{\"op\": \"compute\", \"for\": \"2ms\"}]}]}, "                                                   \
    "{\"name\": \"b\", \"program\": [{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"with\", \"obj\": "    \
    "\"L\", \"body\": [{\"op\": \"compute\", \"for\": \"1ms\"}]}]}]}]}"

static void a_fifo_lock_should_hand_over_to_the_waiter_before_the_releaser_can_retake_it(void **state)
{
    (void)state;
    /* the built-in profile and an explicit "fifo" give the same run: at 2 ms
     * L goes to b, which wakes at 3 ms and holds it to 4 ms; a wants it at
     * 2.5 ms, gets it at 4 ms, wakes at 5 ms and ends at 7 ms */
    const char *variants[] = {HANDOFF_SCENARIO(""), HANDOFF_SCENARIO(", \"lock_handoff\": \"fifo\"")};
    for (int v = 0; v < 2; v++) {
        struct run *r = run_json(variants[v]);
        assert_int_equal(r->status, STATUS_OK);
        assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 4 * MS);
        assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 7 * MS);
        assert_int_equal(engine_stats(r->eng)->lock_failed_wakeups, 0);
        run_free(r);
    }
}

static void a_barging_lock_should_let_the_releaser_retake_it_and_the_waiter_fail_its_wake_up(void **state)
{
    (void)state;
    /* at 2 ms a releases: L is free and b wakes at 3 ms; a takes L again at
     * 2.5 ms (2.5-4.5 ms), so b finds it taken (a failed wake-up) and waits
     * again; a's release at 4.5 ms wakes b at 5.5 ms, which holds L to 6.5 ms */
    struct run *r = run_json(HANDOFF_SCENARIO(", \"lock_handoff\": \"barging\""));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 4500000);
    assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 6500000);
    assert_int_equal(engine_task_metrics(r->eng, 1)->blocked, 4500000);
    assert_int_equal(engine_stats(r->eng)->lock_failed_wakeups, 1);
    run_free(r);
}

/* A barging hand-off is a race between the woken waiter and the thread that
 * tries the lock next; it is counted when the loser comes to the lock, and
 * close when it came less than the profile's futex_race_ns after the take. */
static void a_barging_hand_off_should_be_counted_as_a_race_and_as_close_within_the_profiles_window(void **state)
{
    (void)state;
    /* the releaser wins: a takes L again at 2.5 ms, b's wake-up at 3 ms
     * finds it taken: a race lost by 500 us */
    const char *windows[] = {"", ", \"futex_race_ns\": 400000", ", \"futex_race_ns\": 600000"};
    const uint64_t close[] = {0, 0, 1};
    for (int v = 0; v < 3; v++) {
        char json[4096];
        snprintf(json, sizeof json, HANDOFF_SCENARIO(", \"lock_handoff\": \"barging\"%s"), windows[v]);
        struct run *r = run_json(json);
        assert_int_equal(r->status, STATUS_OK);
        assert_int_equal(engine_stats(r->eng)->lock_races, 1);
        assert_int_equal(engine_stats(r->eng)->lock_close_races, close[v]);
        run_free(r);
    }
    /* the waiter wins: a computes 1.5 ms after its release, b is back at 3
     * ms and takes L; a's try at 3.5 ms fails, 500 us after b's take. a's
     * own wake-up at 5 ms finds L free: no one loses that one. */
    struct run *r = run_json(
        "{\"machine\": {\"cpus\": 2, \"context_switch\": 0, \"wakeup_latency\": \"1ms\", \"profile\": {"
        "\"acquire_ns\": 0, \"release_ns\": 0, \"lock_handoff\": \"barging\", \"futex_race_ns\": 600000}}, "
        "\"scheduler\": {\"policy\": \"rr\", \"quantum\": \"10ms\"}, \"objects\": {\"L\": {\"type\": \"lock\"}}, "
        "\"processes\": [{\"name\": \"main\", \"threads\": ["
        "{\"name\": \"a\", \"program\": [{\"op\": \"with\", \"obj\": \"L\", \"body\": [{\"op\": \"compute\", "
        "\"for\": \"2ms\"}]}, {\"op\": \"compute\", \"for\": \"1500us\"}, {\"op\": \"with\", \"obj\": \"L\", "
        "\"body\": [{\"op\": \"compute\", \"for\": \"2ms\"}]}]}, "
        "{\"name\": \"b\", \"program\": [{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"with\", \"obj\": "
        "\"L\", \"body\": [{\"op\": \"compute\", \"for\": \"1ms\"}]}]}]}]}");
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 4 * MS);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 7 * MS);
    assert_int_equal(engine_stats(r->eng)->lock_failed_wakeups, 0);
    assert_int_equal(engine_stats(r->eng)->lock_races, 1);
    assert_int_equal(engine_stats(r->eng)->lock_close_races, 1);
    run_free(r);
    /* handed over (fifo), no hand-off is a race */
    r = run_json(HANDOFF_SCENARIO(", \"futex_race_ns\": 600000"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_stats(r->eng)->lock_races, 0);
    run_free(r);
}

/* The same with a semaphore of value 1 (CPython's Semaphore is a lock and a
 * condition; the host runner's a mutex and a condition variable): handed
 * over, the value goes to b at 2 ms; barging, a takes it back at 2.5 ms and
 * b's wake-up at 3 ms fails. */
static void a_semaphore_should_hand_over_or_barge_as_the_profile_says(void **state)
{
    (void)state;
    struct run *r = run_json(HANDOFF_SCENARIO_OF("{\"type\": \"semaphore\", \"value\": 1}", ""));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 4 * MS);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 7 * MS);
    run_free(r);
    const char *barging[] = {
        HANDOFF_SCENARIO_OF("{\"type\": \"semaphore\", \"value\": 1}", ", \"lock_handoff\": \"barging\""),
        HANDOFF_SCENARIO_OF("{\"type\": \"bounded_semaphore\", \"value\": 1}", ", \"lock_handoff\": \"barging\"")};
    for (int v = 0; v < 2; v++) {
        r = run_json(barging[v]);
        assert_int_equal(r->status, STATUS_OK);
        assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 4500000);
        assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 6500000);
        assert_int_equal(engine_stats(r->eng)->lock_failed_wakeups, 1);
        run_free(r);
    }
}

static void a_barging_rlock_should_restore_its_depth_after_a_condition_wait(void **state)
{
    (void)state;
    /* a takes R twice and waits on C (releasing R fully); b notifies at 1 ms
     * under R and holds it to 2.5 ms; the notify wakes a at 2 ms (latency
     * 1 ms), which finds R taken and sleeps on it; b's release wakes a again,
     * which takes R at 3.5 ms with depth 2 and releases it twice without
     * error */
    struct run *r = run_json(
        "{\"machine\": {\"cpus\": 2, \"context_switch\": 0, \"wakeup_latency\": \"1ms\", \"profile\": "
        "{\"acquire_ns\": 0, \"release_ns\": 0, \"lock_handoff\": \"barging\"}}, "
        "\"objects\": {\"R\": {\"type\": \"rlock\"}, \"C\": {\"type\": \"condition\", \"lock\": \"R\"}}, "
        "\"processes\": [{\"name\": \"main\", \"threads\": ["
        "{\"name\": \"a\", \"program\": [{\"op\": \"acquire\", \"obj\": \"R\"}, {\"op\": \"acquire\", \"obj\": \"R\"}, "
        "{\"op\": \"wait\", \"obj\": \"C\"}, {\"op\": \"release\", \"obj\": \"R\"}, {\"op\": \"release\", \"obj\": \"R\"}]}, "
        "{\"name\": \"b\", \"program\": [{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"with\", \"obj\": \"C\", "
        "\"body\": [{\"op\": \"notify\", \"obj\": \"C\"}, {\"op\": \"compute\", \"for\": \"1500us\"}]}]}]}]}");
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 3500000);
    assert_int_equal(engine_stats(r->eng)->lock_failed_wakeups, 1);
    run_free(r);
}

static void racy_adds_on_two_cpus_should_lose_updates_and_a_lock_should_not(void **state)
{
    (void)state;
    const char *inc = "{\"op\": \"repeat\", \"times\": 1000, \"body\": [{\"op\": \"add\", \"var\": \"x\", \"value\": 1}]}";
    const char *dec = "{\"op\": \"repeat\", \"times\": 1000, \"body\": [{\"op\": \"add\", \"var\": \"x\", \"value\": -1}]}";
    char json[4096];
    snprintf(json, sizeof json, TWO_THREADS("\"L\": {\"type\": \"lock\"}", "\"x\": 0", "%s", "%s"), inc, dec);
    struct run *r = run_json(json);
    assert_int_equal(r->status, STATUS_OK);
    assert_true(engine_stats(r->eng)->lost_updates > 0);
    assert_true(var(r, "x", 0) != 0);
    run_free(r);
    const char *inc_l = "{\"op\": \"repeat\", \"times\": 1000, \"body\": [{\"op\": \"with\", \"obj\": \"L\", \"body\": [{\"op\": \"add\", \"var\": \"x\", \"value\": 1}]}]}";
    const char *dec_l = "{\"op\": \"repeat\", \"times\": 1000, \"body\": [{\"op\": \"with\", \"obj\": \"L\", \"body\": [{\"op\": \"add\", \"var\": \"x\", \"value\": -1}]}]}";
    snprintf(json, sizeof json, TWO_THREADS("\"L\": {\"type\": \"lock\"}", "\"x\": 0", "%s", "%s"), inc_l, dec_l);
    r = run_json(json);
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_stats(r->eng)->lost_updates, 0);
    assert_int_equal(var(r, "x", 0), 0);
    run_free(r);
}

static void an_atomic_add_should_never_lose_updates(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"L\": {\"type\": \"lock\"}", "\"x\": 0",
        "{\"op\": \"repeat\", \"times\": 500, \"body\": [{\"op\": \"add\", \"var\": \"x\", \"atomic\": true}]}",
        "{\"op\": \"repeat\", \"times\": 500, \"body\": [{\"op\": \"add\", \"var\": \"x\", \"atomic\": true}]}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "x", 0), 1000);
    run_free(r);
}

static void opposite_lock_order_should_be_reported_as_a_cycle(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"A\": {\"type\": \"lock\"}, \"B\": {\"type\": \"lock\"}", "",
        "{\"op\": \"acquire\", \"obj\": \"A\"}, {\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"acquire\", \"obj\": \"B\"}",
        "{\"op\": \"acquire\", \"obj\": \"B\"}, {\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"acquire\", \"obj\": \"A\"}"));
    assert_int_equal(r->status, STATUS_DEADLOCK);
    assert_non_null(strstr(r->err.msg, "lock 'B' held by 'b'"));
    assert_non_null(strstr(r->err.msg, "lock 'A' held by 'a'"));
    run_free(r);
}

static void a_plain_lock_taken_twice_should_deadlock_and_an_rlock_should_not(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"L\": {\"type\": \"lock\"}, \"R\": {\"type\": \"rlock\"}", "",
        "{\"op\": \"acquire\", \"obj\": \"R\"}, {\"op\": \"acquire\", \"obj\": \"R\"}, {\"op\": \"release\", \"obj\": \"R\"}, {\"op\": \"release\", \"obj\": \"R\"}",
        "{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"acquire\", \"obj\": \"L\"}, {\"op\": \"acquire\", \"obj\": \"L\"}"));
    assert_int_equal(r->status, STATUS_DEADLOCK);
    assert_non_null(strstr(r->err.msg, "not re-entrant"));
    assert_string_equal(r->err.path, "processes[0].threads[1].program[2]");
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 0);
    run_free(r);
}

static void releasing_an_unheld_lock_should_be_a_runtime_error(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS("\"L\": {\"type\": \"lock\"}", "",
                                         "{\"op\": \"release\", \"obj\": \"L\"}", "{\"op\": \"exit\"}"));
    assert_int_equal(r->status, STATUS_RUNTIME);
    assert_non_null(strstr(r->err.msg, "not held"));
    assert_string_equal(r->err.path, "processes[0].threads[0].program[0]");
    run_free(r);
}

static void a_bounded_semaphore_released_too_often_should_be_a_runtime_error(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS("\"S\": {\"type\": \"bounded_semaphore\", \"value\": 2}", "",
                                         "{\"op\": \"acquire\", \"obj\": \"S\"}, {\"op\": \"release\", \"obj\": \"S\"}, "
                                         "{\"op\": \"release\", \"obj\": \"S\"}",
                                         "{\"op\": \"exit\"}"));
    assert_int_equal(r->status, STATUS_RUNTIME);
    assert_non_null(strstr(r->err.msg, "ValueError"));
    run_free(r);
}

static void an_event_should_release_its_waiter_when_set(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS("\"E\": {\"type\": \"event\"}", "",
                                         "{\"op\": \"wait\", \"obj\": \"E\"}, {\"op\": \"compute\", \"for\": \"1ms\"}",
                                         "{\"op\": \"compute\", \"for\": \"4ms\"}, {\"op\": \"set\", \"obj\": \"E\"}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_task_metrics(r->eng, 0)->blocked, 4 * MS);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 5 * MS);
    run_free(r);
}

static void an_event_nobody_sets_should_be_reported_as_stuck(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS("\"E\": {\"type\": \"event\"}", "",
                                         "{\"op\": \"wait\", \"obj\": \"E\"}", "{\"op\": \"compute\", \"for\": \"1ms\"}"));
    assert_int_equal(r->status, STATUS_DEADLOCK);
    assert_non_null(strstr(r->err.msg, "stuck"));
    assert_non_null(strstr(r->err.msg, "event 'E', which no thread will set"));
    run_free(r);
}

static void a_wait_with_timeout_should_return_zero_into_its_local(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS("\"E\": {\"type\": \"event\"}", "\"got\": 7",
                                         "{\"op\": \"wait\", \"obj\": \"E\", \"timeout\": \"2ms\", \"into\": \"ok\"}, "
                                         "{\"op\": \"set\", \"var\": \"got\", \"value\": \"$ok\"}",
                                         "{\"op\": \"exit\"}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "got", 0), 0);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 2 * MS);
    run_free(r);
}

static void a_condition_should_hand_work_over_and_reacquire_its_lock(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"L\": {\"type\": \"lock\"}, \"C\": {\"type\": \"condition\", \"lock\": \"L\"}", "\"items\": 0, \"seen\": 0",
        "{\"op\": \"with\", \"obj\": \"C\", \"body\": [{\"op\": \"wait_for\", \"obj\": \"C\", \"until\": {\"var\": \"items\", \"gt\": 0}}, "
        "{\"op\": \"load\", \"var\": \"items\", \"into\": \"n\"}, {\"op\": \"set\", \"var\": \"seen\", \"value\": \"$n\"}]}",
        "{\"op\": \"compute\", \"for\": \"3ms\"}, {\"op\": \"with\", \"obj\": \"C\", \"body\": ["
        "{\"op\": \"set\", \"var\": \"items\", \"value\": 5}, {\"op\": \"notify\", \"obj\": \"C\"}, {\"op\": \"compute\", \"for\": \"1ms\"}]}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "seen", 0), 5);
    /* a gets the lock back only when b leaves its with block at 4 ms */
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 4 * MS);
    run_free(r);
}

static void waiting_on_a_condition_without_its_lock_should_be_a_runtime_error(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"L\": {\"type\": \"lock\"}, \"C\": {\"type\": \"condition\", \"lock\": \"L\"}", "",
        "{\"op\": \"wait\", \"obj\": \"C\"}", "{\"op\": \"exit\"}"));
    assert_int_equal(r->status, STATUS_RUNTIME);
    assert_non_null(strstr(r->err.msg, "un-acquired"));
    run_free(r);
}

static void a_barrier_should_release_everyone_when_the_last_arrives(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS("\"B\": {\"type\": \"barrier\", \"parties\": 2}", "",
                                         "{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"wait\", \"obj\": \"B\"}",
                                         "{\"op\": \"compute\", \"for\": \"6ms\"}, {\"op\": \"wait\", \"obj\": \"B\"}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 6 * MS);
    assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 6 * MS);
    run_free(r);
}

static void a_private_object_should_not_be_usable_from_another_process(void **state)
{
    (void)state;
    const char *json =
        "{\"processes\": [{\"name\": \"A\", \"objects\": {\"L\": {\"type\": \"lock\"}}, \"threads\": [{\"name\": \"t\", \"program\": []}]},"
        "{\"name\": \"B\", \"threads\": [{\"name\": \"t\", \"program\": [{\"op\": \"acquire\", \"obj\": \"L\"}]}]}]}";
    struct error err;
    struct scenario *sc = scenario_load_buffer(json, strlen(json), "t.json", &err);
    assert_null(sc);
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_string_equal(err.path, "processes[1].threads[0].program[0].obj");
    assert_non_null(strstr(err.msg, "private to process 'A'"));
}

static void a_queue_should_carry_values_in_order_and_join_when_all_are_done(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"Q\": {\"type\": \"queue\", \"maxsize\": 2}", "\"sum\": 0, \"last\": 0",
        "{\"op\": \"repeat\", \"times\": 5, \"body\": [{\"op\": \"put\", \"obj\": \"Q\", \"value\": 7}]}, "
        "{\"op\": \"put\", \"obj\": \"Q\", \"value\": 9}, {\"op\": \"join\", \"obj\": \"Q\"}",
        "{\"op\": \"repeat\", \"times\": 6, \"body\": [{\"op\": \"compute\", \"for\": \"1ms\"}, "
        "{\"op\": \"get\", \"obj\": \"Q\", \"into\": \"x\"}, {\"op\": \"add\", \"var\": \"sum\", \"value\": \"$x\", \"atomic\": true}, "
        "{\"op\": \"set\", \"var\": \"last\", \"value\": \"$x\"}, {\"op\": \"task_done\", \"obj\": \"Q\"}]}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "sum", 0), 5 * 7 + 9);
    assert_int_equal(var(r, "last", 0), 9);
    /* the producer blocks while the queue is full, then in join until the last task_done */
    assert_true(engine_task_metrics(r->eng, 0)->blocked > 3 * MS);
    assert_true(engine_task_metrics(r->eng, 0)->finish >= engine_task_metrics(r->eng, 1)->finish);
    run_free(r);
}

static void a_lifo_and_a_priority_queue_should_give_their_order(void **state)
{
    (void)state;
    const char *prog_a = "{\"op\": \"put\", \"obj\": \"L\", \"value\": 1}, {\"op\": \"put\", \"obj\": \"L\", \"value\": 2}, "
                         "{\"op\": \"put\", \"obj\": \"P\", \"value\": 5}, {\"op\": \"put\", \"obj\": \"P\", \"value\": 3}";
    const char *prog_b = "{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"get\", \"obj\": \"L\", \"into\": \"l\"}, "
                         "{\"op\": \"get\", \"obj\": \"P\", \"into\": \"p\"}, {\"op\": \"set\", \"var\": \"lifo\", \"value\": \"$l\"}, "
                         "{\"op\": \"set\", \"var\": \"prio\", \"value\": \"$p\"}";
    char json[4096];
    snprintf(json, sizeof json,
             TWO_THREADS("\"L\": {\"type\": \"queue\", \"kind\": \"lifo\"}, \"P\": {\"type\": \"queue\", \"kind\": \"priority\"}",
                         "\"lifo\": 0, \"prio\": 0", "%s", "%s"), prog_a, prog_b);
    struct run *r = run_json(json);
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "lifo", 0), 2);
    assert_int_equal(var(r, "prio", 0), 3);
    run_free(r);
}

static void a_pipe_should_block_the_writer_when_full_and_give_eof_after_close(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"P\": {\"type\": \"pipe\", \"capacity\": 100, \"duplex\": false}", "\"sum\": 0, \"eofs\": 0",
        "{\"op\": \"repeat\", \"times\": 4, \"body\": [{\"op\": \"send\", \"obj\": \"P\", \"end\": 1, \"value\": 2, \"bytes\": 60}]}, "
        "{\"op\": \"close\", \"obj\": \"P\", \"end\": 1}",
        "{\"op\": \"compute\", \"for\": \"5ms\"}, {\"op\": \"recv\", \"obj\": \"P\", \"end\": 0, \"into\": \"x\"}, "
        "{\"op\": \"while\", \"cond\": {\"var\": \"$x\", \"ne\": -1}, \"body\": [{\"op\": \"add\", \"var\": \"sum\", \"value\": \"$x\"}, "
        "{\"op\": \"recv\", \"obj\": \"P\", \"end\": 0, \"into\": \"x\"}]}, {\"op\": \"add\", \"var\": \"eofs\", \"value\": 1}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "sum", 0), 8);
    assert_int_equal(var(r, "eofs", 0), 1);
    /* 60-byte messages in a 100-byte pipe: the writer waits for the reader from the second one on */
    assert_true(engine_task_metrics(r->eng, 0)->blocked >= 4 * MS);
    run_free(r);
}

static void sending_on_the_receive_end_of_a_one_way_pipe_should_be_a_runtime_error(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS("\"P\": {\"type\": \"pipe\", \"duplex\": false}", "",
                                         "{\"op\": \"send\", \"obj\": \"P\", \"end\": 0, \"value\": 1}", "{\"op\": \"exit\"}"));
    assert_int_equal(r->status, STATUS_RUNTIME);
    assert_non_null(strstr(r->err.msg, "can only receive"));
    run_free(r);
}

static void an_mp_queue_item_should_arrive_after_the_feeder_latency(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"Q\": {\"type\": \"mp_queue\"}", "\"got\": 0",
        "{\"op\": \"put\", \"obj\": \"Q\", \"value\": 4, \"bytes\": 1000}",
        "{\"op\": \"get\", \"obj\": \"Q\", \"into\": \"x\"}, {\"op\": \"set\", \"var\": \"got\", \"value\": \"$x\"}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "got", 0), 4);
    /* the getter waits the built-in 30 us feeder latency */
    assert_int_equal(engine_task_metrics(r->eng, 1)->blocked, 30000);
    run_free(r);
}

static void a_get_from_a_queue_nobody_fills_should_be_reported_as_stuck(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS("\"Q\": {\"type\": \"queue\"}", "",
                                         "{\"op\": \"get\", \"obj\": \"Q\", \"into\": \"x\"}", "{\"op\": \"exit\"}"));
    assert_int_equal(r->status, STATUS_DEADLOCK);
    assert_non_null(strstr(r->err.msg, "queue 'Q' (empty), which no thread will put into"));
    run_free(r);
}

static int64_t proc_var(struct run *r, const char *proc, const char *name)
{
    for (uint32_t p = 0; p < engine_process_count(r->eng); p++) {
        if (strcmp(engine_process_name(r->eng, p), proc) != 0)
            continue;
        for (uint32_t i = 0; i < r->sc->nvars; i++) {
            int64_t v;
            if (strcmp(r->sc->vars[i].name, name) == 0 && engine_process_var(r->eng, p, i, 0, &v))
                return v;
        }
    }
    fail_msg("no variable %s in process %s", name, proc);
    return 0;
}

static const char *const fork_json =
    "{\"machine\": {\"cpus\": 2}, \"shared\": {\"s\": 0},"
    "\"functions\": {\"child\": {\"params\": [\"v\"], \"body\": [{\"op\": \"set\", \"var\": \"x\", \"value\": \"$v\"}, "
    "{\"op\": \"set\", \"var\": \"s\", \"value\": \"$v\"}, {\"op\": \"load\", \"var\": \"y\", \"into\": \"y\"}, "
    "{\"op\": \"set\", \"var\": \"seen\", \"value\": \"$y\"}, {\"op\": \"compute\", \"for\": \"3ms\"}]}},"
    "\"processes\": [{\"name\": \"main\", \"memory\": {\"x\": 5, \"y\": 1, \"seen\": 0}, \"threads\": [{\"name\": \"MainThread\", "
    "\"program\": [{\"op\": \"set\", \"var\": \"y\", \"value\": 42}, "
    "{\"op\": \"process\", \"name\": \"f\", \"call\": \"child\", \"args\": [7]}, "
    "{\"op\": \"process\", \"name\": \"g\", \"call\": \"child\", \"args\": [8], \"start_method\": \"spawn\"}, "
    "{\"op\": \"join\", \"process\": \"f\"}, {\"op\": \"join\", \"process\": \"g\"}]}]}]}";

static void a_forked_child_should_copy_memory_and_its_writes_should_stay_its_own(void **state)
{
    (void)state;
    struct run *r = run_json(fork_json);
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(proc_var(r, "main", "x"), 5);
    assert_int_equal(proc_var(r, "f", "x"), 7);
    /* fork copies y = 42 written before the fork; spawn starts from the declared 1 */
    assert_int_equal(proc_var(r, "f", "seen"), 42);
    assert_int_equal(proc_var(r, "g", "seen"), 1);
    /* shared memory is shared: the last writer wins */
    assert_true(var(r, "s", 0) == 7 || var(r, "s", 0) == 8);
    /* the parent waits for the spawned child, which pays the interpreter start-up */
    const struct task_metrics *m = engine_task_metrics(r->eng, 0);
    assert_true(m->finish >= 45 * MS);
    run_free(r);
}

static void terminate_should_stop_a_process_and_release_its_joiner(void **state)
{
    (void)state;
    struct run *r = run_json(
        "{\"machine\": {\"cpus\": 2}, \"functions\": {\"forever\": {\"params\": [], \"body\": [{\"op\": \"repeat\", "
        "\"times\": 1000000, \"body\": [{\"op\": \"sleep\", \"for\": \"1ms\"}]}]}},"
        "\"processes\": [{\"name\": \"main\", \"threads\": [{\"name\": \"MainThread\", \"program\": ["
        "{\"op\": \"process\", \"name\": \"w\", \"call\": \"forever\", \"start_method\": \"fork\"}, {\"op\": \"sleep\", \"for\": \"10ms\"}, "
        "{\"op\": \"terminate\", \"process\": \"w\"}, {\"op\": \"join\", \"process\": \"w\"}]}]}]}");
    assert_int_equal(r->status, STATUS_OK);
    assert_true(engine_stats(r->eng)->makespan < 12 * MS);
    assert_int_equal(engine_task_metrics(r->eng, 1)->finish, engine_task_metrics(r->eng, 0)->finish);
    run_free(r);
}

static void map_should_return_results_in_order_and_unordered_in_finish_order(void **state)
{
    (void)state;
    struct run *r = run_json(
        "{\"machine\": {\"cpus\": 2}, \"shared\": {\"a\": [0, 0, 0, 0, 0, 0], \"b\": [0, 0, 0, 0, 0, 0], "
        "\"c\": [0, 0, 0]},"
        "\"functions\": {\"cube\": {\"params\": [\"x\"], \"body\": [{\"op\": \"compute\", \"for\": \"1ms\"}, "
        "{\"op\": \"return\", \"value\": {\"mul\": [\"$x\", \"$x\", \"$x\"]}}]},"
        "\"late\": {\"params\": [\"x\"], \"body\": [{\"op\": \"let\", \"into\": \"t\", \"value\": {\"sub\": [4, \"$x\"]}}, "
        "{\"op\": \"repeat\", \"times\": \"$t\", \"body\": [{\"op\": \"sleep\", \"for\": \"1ms\"}]}, {\"op\": \"return\", \"value\": \"$x\"}]}},"
        "\"processes\": [{\"name\": \"main\", \"threads\": [{\"name\": \"MainThread\", \"program\": ["
        "{\"op\": \"map\", \"pool\": {\"kind\": \"process\", \"workers\": 2}, \"call\": \"cube\", \"over\": {\"range\": [1, 7]}, \"into\": \"a\"},"
        "{\"op\": \"map\", \"pool\": {\"kind\": \"thread\", \"workers\": 4}, \"call\": \"cube\", \"over\": [1, 2, 3, 4, 5, 6], \"into\": \"b\"},"
        "{\"op\": \"map\", \"pool\": {\"kind\": \"thread\", \"workers\": 3}, \"call\": \"late\", \"over\": [1, 2, 3], \"ordered\": false, \"into\": \"c\"}"
        "]}]}]}");
    assert_int_equal(r->status, STATUS_OK);
    int64_t cubes[] = {1, 8, 27, 64, 125, 216};
    for (uint32_t i = 0; i < 6; i++) {
        assert_int_equal(var(r, "a", i), cubes[i]);
        assert_int_equal(var(r, "b", i), cubes[i]);
    }
    /* item 3 sleeps 1 ms, item 1 sleeps 3 ms: they finish in reverse */
    assert_int_equal(var(r, "c", 0), 3);
    assert_int_equal(var(r, "c", 1), 2);
    assert_int_equal(var(r, "c", 2), 1);
    run_free(r);
}

static void return_should_leave_with_blocks_and_give_the_call_its_value(void **state)
{
    (void)state;
    struct run *r = run_json(
        "{\"machine\": {\"cpus\": 2}, \"objects\": {\"L\": {\"type\": \"lock\"}}, \"shared\": {\"got\": 0, \"q\": 0},"
        "\"functions\": {\"f\": {\"params\": [\"n\"], \"body\": [{\"op\": \"with\", \"obj\": \"L\", \"body\": ["
        "{\"op\": \"compute\", \"for\": \"2ms\"}, {\"op\": \"return\", \"value\": {\"div\": [{\"mul\": [\"$n\", 7]}, -4]}},"
        "{\"op\": \"compute\", \"for\": \"50ms\"}]}]}},"
        "\"processes\": [{\"name\": \"main\", \"threads\": ["
        "{\"name\": \"a\", \"program\": [{\"op\": \"call\", \"fn\": \"f\", \"args\": [6], \"into\": \"v\"}, "
        "{\"op\": \"set\", \"var\": \"got\", \"value\": \"$v\"}]},"
        "{\"name\": \"b\", \"program\": [{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"with\", \"obj\": \"L\", \"body\": ["
        "{\"op\": \"set\", \"var\": \"q\", \"value\": {\"mod\": [-7, 3]}}]}]}]}]}");
    assert_int_equal(r->status, STATUS_OK);
    /* Python's floor division and modulo: 42 // -4 == -11, -7 % 3 == 2 */
    assert_int_equal(var(r, "got", 0), -11);
    assert_int_equal(var(r, "q", 0), 2);
    /* the return released the lock: b got it after a's 2 ms, not after 52 ms */
    assert_true(engine_task_metrics(r->eng, 1)->finish < 3 * MS);
    run_free(r);
}

static void an_alarm_should_interrupt_a_sleep_that_then_resumes_and_sigterm_should_end_a_process(void **state)
{
    (void)state;
    struct run *r = run_json(
        "{\"machine\": {\"cpus\": 2, \"profile\": {\"fork_parent_ns\": 0, \"fork_child_ns\": 0}}, \"shared\": {\"alarms\": 0, \"usr1\": 0, \"at\": 0},"
        "\"functions\": {\"child\": {\"params\": [], \"body\": [{\"op\": \"sleep\", \"for\": \"10s\"}]}},"
        "\"processes\": [{\"name\": \"main\", \"handlers\": {"
        "\"SIGALRM\": [{\"op\": \"add\", \"var\": \"alarms\", \"value\": 1, \"atomic\": true}],"
        "\"SIGUSR1\": [{\"op\": \"add\", \"var\": \"usr1\", \"value\": 1, \"atomic\": true}]},"
        "\"threads\": [{\"name\": \"MainThread\", \"program\": ["
        "{\"op\": \"alarm\", \"after\": \"2s\"}, {\"op\": \"process\", \"name\": \"kid\", \"call\": \"child\"},"
        "{\"op\": \"sleep\", \"for\": \"5s\"}, {\"op\": \"kill\", \"process\": \"main\", \"signal\": \"SIGUSR1\"},"
        "{\"op\": \"kill\", \"process\": \"kid\", \"signal\": \"SIGTERM\"}, {\"op\": \"join\", \"process\": \"kid\"}]}]}]}");
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "alarms", 0), 1);
    assert_int_equal(var(r, "usr1", 0), 1);
    /* the 5 s sleep was cut by the alarm at 2 s and went on to its deadline;
     * then the SIGUSR1 handler's add (50 ns) */
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 5000 * MS + 50);
    /* SIGTERM ended the child long before its 10 s sleep */
    assert_true(engine_task_metrics(r->eng, 1)->finish < 6000 * MS);
    run_free(r);
}

static void a_signal_without_handler_should_end_the_process(void **state)
{
    (void)state;
    struct run *r = run_json(
        "{\"processes\": [{\"name\": \"main\", \"threads\": [{\"name\": \"MainThread\", \"program\": ["
        "{\"op\": \"alarm\", \"after\": \"1s\"}, {\"op\": \"compute\", \"for\": \"3s\"}]}]}]}");
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(engine_stats(r->eng)->makespan, 1000 * MS);
    run_free(r);
}

static void load_errors(const char *json, const char *path, const char *needle)
{
    struct error err;
    struct scenario *sc = scenario_load_buffer(json, strlen(json), "t.json", &err);
    assert_null(sc);
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_string_equal(err.path, path);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void object_misuse_should_be_a_load_error_with_its_path(void **state)
{
    (void)state;
    load_errors("{\"objects\": {\"E\": {\"type\": \"event\"}}, \"processes\": [{\"name\": \"m\", \"threads\": [{\"name\": \"t\", "
                "\"program\": [{\"op\": \"acquire\", \"obj\": \"E\"}]}]}]}",
                "processes[0].threads[0].program[0].obj", "'E' is of type event: the op 'acquire' works on lock, rlock");
    load_errors("{\"objects\": {\"C\": {\"type\": \"condition\"}}, \"processes\": [{\"name\": \"m\", \"threads\": [{\"name\": \"t\", "
                "\"program\": []}]}]}",
                "objects.C", "a condition needs its lock");
    load_errors("{\"processes\": [{\"name\": \"m\", \"threads\": [{\"name\": \"t\", "
                "\"program\": [{\"op\": \"release\", \"obj\": \"nope\"}]}]}]}",
                "processes[0].threads[0].program[0].obj", "no object named 'nope'");
    load_errors("{\"objects\": {\"Q\": {\"type\": \"queue\"}}, \"processes\": [{\"name\": \"m\", \"threads\": [{\"name\": \"t\", "
                "\"program\": [{\"op\": \"send\", \"obj\": \"Q\", \"value\": 1}]}]}]}",
                "processes[0].threads[0].program[0].obj", "works on pipe");
    load_errors("{\"shared\": {\"x\": 0}, \"processes\": [{\"name\": \"m\", \"threads\": [{\"name\": \"t\", "
                "\"program\": [{\"op\": \"set\", \"var\": \"x[1]\", \"value\": 1}]}]}]}",
                "processes[0].threads[0].program[0].var", "'x' is an integer, not an array");
    load_errors("{\"processes\": [{\"name\": \"a\", \"memory\": {\"v\": 1}, \"threads\": [{\"name\": \"t\", \"program\": []}]},"
                "{\"name\": \"b\", \"threads\": [{\"name\": \"t\", \"program\": [{\"op\": \"load\", \"var\": \"v\", \"into\": \"x\"}]}]}]}",
                "processes[1].threads[0].program[0].var", "private memory of process 'a'");
}

static void a_wait_for_timeout_should_bound_the_whole_wait_despite_notifies(void **state)
{
    (void)state;
    struct run *r = run_json(TWO_THREADS(
        "\"L\": {\"type\": \"lock\"}, \"C\": {\"type\": \"condition\", \"lock\": \"L\"}", "\"x\": 0, \"got\": 7",
        "{\"op\": \"with\", \"obj\": \"C\", \"body\": [{\"op\": \"wait_for\", \"obj\": \"C\", \"until\": {\"var\": \"x\", \"ge\": 100}, "
        "\"timeout\": \"5ms\", \"into\": \"ok\"}, {\"op\": \"set\", \"var\": \"got\", \"value\": \"$ok\"}]}",
        "{\"op\": \"repeat\", \"times\": 20, \"body\": [{\"op\": \"sleep\", \"for\": \"1ms\"}, {\"op\": \"with\", \"obj\": \"C\", "
        "\"body\": [{\"op\": \"add\", \"var\": \"x\", \"value\": 1}, {\"op\": \"notify\", \"obj\": \"C\"}]}]}"));
    assert_int_equal(r->status, STATUS_OK);
    assert_int_equal(var(r, "got", 0), 0);
    /* woken every millisecond, the predicate never holds: it gives up at 5 ms */
    assert_in_range(engine_task_metrics(r->eng, 0)->finish, 5 * MS, 5 * MS + 100000);
    run_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_lock_should_serialise_critical_sections_and_hand_over_in_order),
        cmocka_unit_test(racy_adds_on_two_cpus_should_lose_updates_and_a_lock_should_not),
        cmocka_unit_test(an_atomic_add_should_never_lose_updates),
        cmocka_unit_test(opposite_lock_order_should_be_reported_as_a_cycle),
        cmocka_unit_test(a_plain_lock_taken_twice_should_deadlock_and_an_rlock_should_not),
        cmocka_unit_test(releasing_an_unheld_lock_should_be_a_runtime_error),
        cmocka_unit_test(a_bounded_semaphore_released_too_often_should_be_a_runtime_error),
        cmocka_unit_test(an_event_should_release_its_waiter_when_set),
        cmocka_unit_test(an_event_nobody_sets_should_be_reported_as_stuck),
        cmocka_unit_test(a_wait_with_timeout_should_return_zero_into_its_local),
        cmocka_unit_test(a_condition_should_hand_work_over_and_reacquire_its_lock),
        cmocka_unit_test(waiting_on_a_condition_without_its_lock_should_be_a_runtime_error),
        cmocka_unit_test(a_barrier_should_release_everyone_when_the_last_arrives),
        cmocka_unit_test(a_private_object_should_not_be_usable_from_another_process),
        cmocka_unit_test(a_queue_should_carry_values_in_order_and_join_when_all_are_done),
        cmocka_unit_test(a_lifo_and_a_priority_queue_should_give_their_order),
        cmocka_unit_test(a_pipe_should_block_the_writer_when_full_and_give_eof_after_close),
        cmocka_unit_test(sending_on_the_receive_end_of_a_one_way_pipe_should_be_a_runtime_error),
        cmocka_unit_test(an_mp_queue_item_should_arrive_after_the_feeder_latency),
        cmocka_unit_test(a_get_from_a_queue_nobody_fills_should_be_reported_as_stuck),
        cmocka_unit_test(a_forked_child_should_copy_memory_and_its_writes_should_stay_its_own),
        cmocka_unit_test(terminate_should_stop_a_process_and_release_its_joiner),
        cmocka_unit_test(map_should_return_results_in_order_and_unordered_in_finish_order),
        cmocka_unit_test(return_should_leave_with_blocks_and_give_the_call_its_value),
        cmocka_unit_test(an_alarm_should_interrupt_a_sleep_that_then_resumes_and_sigterm_should_end_a_process),
        cmocka_unit_test(a_signal_without_handler_should_end_the_process),
        cmocka_unit_test(object_misuse_should_be_a_load_error_with_its_path),
        cmocka_unit_test(a_wait_for_timeout_should_bound_the_whole_wait_despite_notifies),
        cmocka_unit_test(a_fifo_lock_should_hand_over_to_the_waiter_before_the_releaser_can_retake_it),
        cmocka_unit_test(a_barging_lock_should_let_the_releaser_retake_it_and_the_waiter_fail_its_wake_up),
        cmocka_unit_test(a_barging_hand_off_should_be_counted_as_a_race_and_as_close_within_the_profiles_window),
        cmocka_unit_test(a_semaphore_should_hand_over_or_barge_as_the_profile_says),
        cmocka_unit_test(a_barging_rlock_should_restore_its_depth_after_a_condition_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
