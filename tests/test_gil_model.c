/* Unit tests of the old GIL model (engine_gil.c): small runs worked out by
 * hand, the lone-thread identity with no GIL, determinism, and the one-CPU
 * hand-over rules. The machines here use a profile where a tick (one
 * bytecode of `compute`) takes 10 ns, so check_interval 10 puts a check point
 * every 100 ns of work; a release costs 50 ns, 150 ns when it wakes a sleeper
 * (60/160 where said), and a wake-up takes 320 ns, without jitter. */
#include "sim_run.h"

/* Scenario text written with ' for " (readable in C), the profile above, and
 * the given machine, scheduler and GIL. */
static struct run *run_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct run *run_text(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct run *r = run_json_with(buf, NULL, true);
    assert_int_equal(r->status, STATUS_OK);
    return r;
}

#define PROFILE "'profile': {'count_ns_per_iter': 10, 'count_bytecodes_per_iter': 1, 'gil_signal_ns': %d, 'gil_wake_ns': 100}"
#define OLD_GIL "{'mode': 'old', 'check_interval': 10, 'jitter': false}"

static struct engine_gil_stats gil_stats(const struct run *r)
{
    struct engine_gil_stats g;
    assert_int_equal(engine_process_gil(r->eng, 0, &g), GIL_OLD);
    return g;
}

/* The times at which the GIL was taken, and by whom (at most n). */
static size_t gil_takes(const struct run *r, int64_t *when, uint32_t *who, size_t n)
{
    const struct trace *tr = engine_trace(r->eng);
    size_t k = 0;
    for (size_t i = 0; i < tr->ninstants; i++) {
        const struct trace_instant *ev = &tr->instants[i];
        if (ev->kind != INSTANT_GIL_TAKE)
            continue;
        if (k > 0 && who[k - 1] == ev->task)
            continue; /* taken back after its own release: no hand-over */
        assert_true(k < n);
        when[k] = ev->time;
        who[k] = ev->task;
        k++;
    }
    return k;
}

/* The state task enters at time `at` (the segment starting then), or -1. */
static int state_from(const struct run *r, uint32_t task, int64_t at)
{
    const struct trace *tr = engine_trace(r->eng);
    for (size_t i = 0; i < tr->nsegments; i++)
        if (tr->segments[i].task == task && tr->segments[i].start == at)
            return tr->segments[i].state;
    return -1;
}

static void old_gil_should_let_the_woken_thread_lose_every_race_on_two_cpus(void **state)
{
    (void)state;
    /* a holds the GIL from 0; b sleeps on it; a's check points come every
     * 100 ns of work. Each release that wakes b lasts 150 ns; b arrives 320 ns
     * later, while a holds the GIL again (a's releases without a sleeper last
     * 50 ns, at +250 and +400): b fails, sleeps, and the next check point
     * wakes it again. a does 200 ns of work per 400 ns and ends at 1950; b
     * fails 4 times, gets the GIL at 2020, alone, and ends at 3020. */
    struct run *r = run_text("{'machine': {'cpus': 2, 'wakeup_latency': '320ns', " PROFILE "},"
                             " 'scheduler': {'policy': 'fifo'},"
                             " 'processes': [{'name': 'p', 'gil': " OLD_GIL ", 'threads': ["
                             "  {'name': 'a', 'program': [{'op': 'compute', 'for': '1us'}]},"
                             "  {'name': 'b', 'program': [{'op': 'compute', 'for': '1us'}]}]}]}",
                             50);
    struct engine_gil_stats g = gil_stats(r);
    assert_int_equal(g.failed_wakeups, 4);
    assert_int_equal(g.check_releases, 9);
    assert_int_equal(g.switches, 2);
    assert_int_equal(g.drop_requests, 0);
    assert_int_equal(g.forced_switches, 0);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 1950);
    assert_int_equal(engine_task_metrics(r->eng, 0)->cpu, 1950); /* its releases are its CPU time */
    assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 3020);
    /* b waited for the GIL all along: asleep on it or waking up */
    assert_int_equal(engine_task_metrics(r->eng, 1)->gil_wait, 2020);
    assert_int_equal(engine_stats(r->eng)->makespan, 3020);
    /* the battle in the trace: b's failed attempts are wake-up segments
     * followed by gil segments */
    const struct trace *tr = engine_trace(r->eng);
    int wakeups = 0, drops = 0;
    for (size_t i = 0; i < tr->nsegments; i++)
        if (tr->segments[i].task == 1 && tr->segments[i].reason == REASON_WAKEUP)
            wakeups++;
    for (size_t i = 0; i < tr->ninstants; i++)
        if (tr->instants[i].kind == INSTANT_GIL_DROP && tr->instants[i].task == 0)
            drops++;
    assert_int_equal(wakeups, 5);
    assert_int_equal(drops, 10); /* 9 releases at check points and its exit */
    run_free(r);
}

static void old_gil_should_cost_a_lone_thread_nothing(void **state)
{
    (void)state;
    const char *fmt = "{'machine': {'cpus': 1, " PROFILE "}, 'scheduler': {'policy': 'rr', 'quantum': '1ms'},"
                      " 'processes': [{'name': 'p', 'gil': %s, 'threads': [{'name': 'main', 'program': ["
                      "  {'op': 'compute', 'work': 'count', 'n': 1000000}, {'op': 'sleep', 'for': '3ms'},"
                      "  {'op': 'repeat', 'times': 1000, 'body': [{'op': 'add', 'var': 'x'}]},"
                      "  {'op': 'compute', 'for': '2500us'}]}]}], 'shared': {'x': 0}}";
    struct run *none = run_text(fmt, 50, "'none'");
    struct run *old = run_text(fmt, 50, OLD_GIL);
    assert_int_equal(engine_stats(old->eng)->makespan, engine_stats(none->eng)->makespan);
    assert_int_equal(engine_task_metrics(old->eng, 0)->cpu, engine_task_metrics(none->eng, 0)->cpu);
    assert_int_equal(engine_stats(old->eng)->makespan, 10 * 1000000 + 3000000 + 1000 * 50 + 2500000);
    assert_int_equal(gil_stats(old).check_releases, 0);
    run_free(none);
    run_free(old);
}

/* With a price on a check point no one waits at (gil_check_ns, 20 ns here),
 * a lone holder pays it at each check point of its computes: every 100 ns
 * of count (10 ticks), every 200 ns of a `for` (the least spacing), never
 * in a compute that releases the GIL, and never without an old GIL. */
static void old_gil_should_charge_a_lone_thread_its_check_points_when_the_profile_prices_them(void **state)
{
    (void)state;
    const char *fmt = "{'machine': {'cpus': 1, 'profile': {'count_ns_per_iter': 10, 'count_bytecodes_per_iter': 1,"
                      " 'gil_check_ns': 20}}, 'scheduler': {'policy': 'rr', 'quantum': '1ms'},"
                      " 'processes': [{'name': 'p', 'gil': %s, 'threads': [{'name': 'main', 'program': ["
                      "  {'op': 'compute', 'work': 'count', 'n': 1000000}, {'op': 'sleep', 'for': '3ms'},"
                      "  {'op': 'compute', 'for': '2500us'},"
                      "  {'op': 'compute', 'work': 'count', 'n': 100000, 'gil': 'release'}]}]}]}";
    struct run *none = run_text(fmt, "'none'");
    struct run *old = run_text(fmt, OLD_GIL);
    struct run *fresh = run_text(fmt, "{'mode': 'new'}");
    int64_t plain = 10 * 1000000 + 3000000 + 2500000 + 10 * 100000;
    assert_int_equal(engine_stats(none->eng)->makespan, plain);
    assert_int_equal(engine_stats(fresh->eng)->makespan, plain);
    /* 100,000 check points of the count, 12,500 of the `for` */
    assert_int_equal(engine_stats(old->eng)->makespan, plain + 100000 * 20 + 12500 * 20);
    assert_int_equal(engine_task_metrics(old->eng, 0)->cpu, engine_task_metrics(none->eng, 0)->cpu + 112500 * 20);
    run_free(none);
    run_free(old);
    run_free(fresh);
}

/* A contended check point's release window takes the place of the price
 * its compute already holds for it: with the window priced as an
 * uncontended check point (gil_signal_ns = gil_check_ns, no wake cost), two
 * threads taking turns on one CPU use exactly their work and 20 ns per
 * check point, contended or not. */
static void old_gil_should_not_charge_a_contended_check_point_twice(void **state)
{
    (void)state;
    struct run *r = run_text(
        "{'machine': {'cpus': 1, 'wakeup_latency': '1us', 'profile': {'count_ns_per_iter': 10,"
        " 'count_bytecodes_per_iter': 1, 'gil_check_ns': 20, 'gil_signal_ns': 20, 'gil_wake_ns': 0}},"
        " 'scheduler': {'policy': 'rr', 'quantum': '300us'},"
        " 'processes': [{'name': 'p', 'gil': %s, 'threads': ["
        "  {'name': 'a', 'program': [{'op': 'compute', 'work': 'count', 'n': 100000}]},"
        "  {'name': 'b', 'program': [{'op': 'compute', 'work': 'count', 'n': 100000}]}]}]}",
        OLD_GIL);
    struct engine_gil_stats g = gil_stats(r);
    assert_true(g.check_releases > 100);
    int64_t cpu = engine_task_metrics(r->eng, 0)->cpu + engine_task_metrics(r->eng, 1)->cpu;
    /* 1 ms of count each, a check point every 100 ns of it */
    assert_int_equal(cpu, 2 * (1000000 + 10000 * 20));
    run_free(r);
}

static char *trace_bytes(struct run *r, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    assert_int_equal(trace_write_json(engine_trace(r->eng), f, NULL), STATUS_OK);
    fclose(f);
    return buf;
}

static void old_gil_should_give_the_same_trace_for_the_same_seed(void **state)
{
    (void)state;
    /* with jitter: the seed decides the races */
    const char *fmt = "{'seed': %d, 'machine': {'cpus': 2, 'wakeup_latency': '5us'},"
                      " 'scheduler': {'policy': 'rr', 'quantum': '1ms'},"
                      " 'processes': [{'name': 'p', 'gil': {'mode': 'old', 'check_interval': 100}, 'threads': ["
                      "  {'name': 'a', 'program': [{'op': 'compute', 'work': 'count', 'n': 20000}]},"
                      "  {'name': 'b', 'program': [{'op': 'compute', 'work': 'count', 'n': 20000}]}]}]}";
    size_t la, lb, lc;
    struct run *ra = run_text(fmt, 3), *rb = run_text(fmt, 3), *rc = run_text(fmt, 4);
    char *a = trace_bytes(ra, &la), *b = trace_bytes(rb, &lb), *c = trace_bytes(rc, &lc);
    assert_true(gil_stats(ra).failed_wakeups > 0);
    assert_true(la == lb && memcmp(a, b, la) == 0);
    assert_false(la == lc && memcmp(a, c, la) == 0);
    free(a);
    free(b);
    free(c);
    run_free(ra);
    run_free(rb);
    run_free(rc);
}

static void old_gil_should_hand_over_on_one_cpu_only_at_a_slice_end_inside_a_release(void **state)
{
    (void)state;
    /* rr 1030 ns. a runs alone to 1030; b then finds the GIL held and sleeps;
     * a's check points: 1130 (wakes b: release to 1290), then every 160 ns a
     * 60 ns release: [2030, 2090] holds a's slice end at 2060. b takes the
     * GIL there; a, preempted inside its release, is not waiting for the GIL,
     * so b runs without releases. At 3090 a finishes its release, finds the
     * GIL taken and sleeps; b's releases begin (3220, wakes a) and its slice
     * ends at 4150 inside [4120, 4180]: a takes the GIL, ends at 4520; b
     * finishes its release, takes the GIL at 4550 and ends at 4920. No thread
     * ever wakes to find the GIL taken. */
    struct run *r = run_text("{'machine': {'cpus': 1, 'wakeup_latency': '320ns', " PROFILE "},"
                             " 'scheduler': {'policy': 'rr', 'quantum': '1030ns'},"
                             " 'processes': [{'name': 'p', 'gil': " OLD_GIL ", 'threads': ["
                             "  {'name': 'a', 'program': [{'op': 'compute', 'for': '2us'}]},"
                             "  {'name': 'b', 'program': [{'op': 'compute', 'for': '2us'}]}]}]}",
                             60);
    int64_t when[8];
    uint32_t who[8];
    size_t n = gil_takes(r, when, who, 8);
    assert_int_equal(n, 4);
    const int64_t expect[4] = {0, 2060, 4150, 4550};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(when[i], expect[i]);
        assert_int_equal(who[i], i % 2);
    }
    /* at 2060 and 4150 the holder was preempted (READY), not blocked */
    assert_int_equal(state_from(r, 0, 2060), TRACE_READY);
    assert_int_equal(state_from(r, 1, 4150), TRACE_READY);
    struct engine_gil_stats g = gil_stats(r);
    assert_int_equal(g.failed_wakeups, 0);
    assert_int_equal(g.check_releases, 12);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 4520);
    assert_int_equal(engine_stats(r->eng)->makespan, 4920);
    run_free(r);
}

static void old_gil_should_hand_over_on_one_cpu_when_the_holder_blocks(void **state)
{
    (void)state;
    /* rr 1000 ns. b finds the GIL held at 1000 and sleeps; a's releases at
     * 1100 (wakes b), 1360, 1520, 1680 do not fall on a slice end; a's
     * compute ends at 1840 and its sleep releases the GIL: b takes it then. */
    struct run *r = run_text("{'machine': {'cpus': 1, 'wakeup_latency': '320ns', " PROFILE "},"
                             " 'scheduler': {'policy': 'rr', 'quantum': '1us'},"
                             " 'processes': [{'name': 'p', 'gil': " OLD_GIL ", 'threads': ["
                             "  {'name': 'a', 'program': [{'op': 'compute', 'for': '1500ns'}, {'op': 'sleep', 'for': '100us'}]},"
                             "  {'name': 'b', 'program': [{'op': 'compute', 'for': '3us'}]}]}]}",
                             60);
    int64_t when[8];
    uint32_t who[8];
    size_t n = gil_takes(r, when, who, 8);
    assert_int_equal(n, 3);
    assert_int_equal(when[1], 1840);
    assert_int_equal(who[1], 1);
    assert_int_equal(state_from(r, 0, 1840), TRACE_BLOCKED);
    struct engine_gil_stats g = gil_stats(r);
    assert_int_equal(g.check_releases, 4);
    assert_int_equal(g.failed_wakeups, 0);
    assert_int_equal(engine_task_metrics(r->eng, 1)->finish, 1840 + 3000);
    assert_int_equal(engine_task_metrics(r->eng, 0)->finish, 1840 + 100000);
    run_free(r);
}

static void old_gil_should_lose_racy_updates_when_a_release_falls_inside_an_add(void **state)
{
    (void)state;
    const char *fmt = "{'seed': 5, 'machine': {'cpus': 2, 'wakeup_latency': '5us'}, 'shared': {'x': 0},"
                      " 'functions': {'inc': {'params': ['d'], 'body': [{'op': 'repeat', 'times': 20000, 'body': ["
                      "   {'op': 'add', 'var': 'x', 'value': '$d'}, {'op': 'compute', 'work': 'count', 'n': 1}]}]}},"
                      " 'processes': [{'name': 'p', 'gil': %s, 'threads': ["
                      "  {'name': 'up', 'program': [{'op': 'call', 'fn': 'inc', 'args': [1]}]},"
                      "  {'name': 'down', 'program': [{'op': 'call', 'fn': 'inc', 'args': [-1]}]}]}]}";
    struct run *r = run_text(fmt, "{'mode': 'old', 'check_interval': 100}");
    assert_true(engine_stats(r->eng)->lost_updates > 0);
    int64_t x = 0;
    assert_true(engine_var_value(r->eng, 0, 0, &x));
    assert_int_not_equal(x, 0);
    run_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(old_gil_should_let_the_woken_thread_lose_every_race_on_two_cpus),
        cmocka_unit_test(old_gil_should_cost_a_lone_thread_nothing),
        cmocka_unit_test(old_gil_should_charge_a_lone_thread_its_check_points_when_the_profile_prices_them),
        cmocka_unit_test(old_gil_should_not_charge_a_contended_check_point_twice),
        cmocka_unit_test(old_gil_should_give_the_same_trace_for_the_same_seed),
        cmocka_unit_test(old_gil_should_hand_over_on_one_cpu_only_at_a_slice_end_inside_a_release),
        cmocka_unit_test(old_gil_should_hand_over_on_one_cpu_when_the_holder_blocks),
        cmocka_unit_test(old_gil_should_lose_racy_updates_when_a_release_falls_inside_an_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
