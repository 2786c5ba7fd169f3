/* Unit tests of the sim-versus-real comparison: medians and spreads of the
 * real runs, the error in percent, and thread matching by name, on runs
 * built by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/compare.h"
#include "sim/trace.h"

#define MS 1000000LL

static const char *const procs[] = {"main", "main", "child"};
static const char *const names[] = {"MainThread", "worker", "MainThread"};
static const char *const procs_rev[] = {"child", "main", "main"};
static const char *const names_rev[] = {"MainThread", "worker", "MainThread"};

/* A thread that arrived at 0, ran first at first_run, finished at finish. */
static struct task_metrics thread_at(int64_t first_run, int64_t finish, int64_t cpu)
{
    struct task_metrics m = {.arrival = 0, .first_run = first_run, .finish = finish, .cpu = cpu,
                             .wait = 0, .blocked = 0, .gil_wait = 0, .context_switches = 1};
    return m;
}

static struct compare_run run_of(const struct task_metrics *m, int64_t makespan)
{
    struct compare_run r = {.makespan = makespan, .context_switches = 3, .recorded_until = -1, .nthreads = 3,
                            .process = procs, .name = names, .metrics = m};
    return r;
}

static void stat_should_give_the_median_min_and_max_ignoring_missing_values(void **state)
{
    (void)state;
    int64_t odd[] = {30, -1, 10, 20};
    struct compare_stat s = compare_stat_of(odd, 4);
    assert_int_equal(s.median, 20);
    assert_int_equal(s.min, 10);
    assert_int_equal(s.max, 30);
    int64_t even[] = {40, 10, 30, 20};
    s = compare_stat_of(even, 4);
    assert_int_equal(s.median, 25);
    int64_t none[] = {-1, -1};
    s = compare_stat_of(none, 2);
    assert_int_equal(s.median, -1);
    assert_int_equal(s.max, -1);
}

static void error_pct_should_be_relative_to_the_real_value(void **state)
{
    (void)state;
    assert_true(fabs(compare_error_pct(110, 100) - 10.0) < 1e-9);
    assert_true(fabs(compare_error_pct(90, 100) + 10.0) < 1e-9);
    assert_true(compare_error_pct(0, 0) == 0.0);
    assert_true(isnan(compare_error_pct(5, 0)));
    assert_true(isnan(compare_error_pct(-1, 100)));
}

static void comparison_should_take_medians_over_real_runs_and_report_the_error(void **state)
{
    (void)state;
    struct task_metrics sim_m[] = {thread_at(0, 10 * MS, 10 * MS), thread_at(1 * MS, 6 * MS, 5 * MS),
                                   thread_at(2 * MS, 12 * MS, 10 * MS)};
    struct task_metrics r1[] = {thread_at(0, 11 * MS, 10 * MS), thread_at(1 * MS, 5 * MS, 4 * MS),
                                thread_at(2 * MS, 14 * MS, 12 * MS)};
    struct task_metrics r2[] = {thread_at(0, 8 * MS, 8 * MS), thread_at(1 * MS, 5 * MS, 4 * MS),
                                thread_at(2 * MS, 16 * MS, 12 * MS)};
    struct task_metrics r3[] = {thread_at(0, 9 * MS, 9 * MS), thread_at(1 * MS, 5 * MS, 4 * MS),
                                thread_at(2 * MS, 15 * MS, 12 * MS)};
    struct compare_run sim = run_of(sim_m, 12 * MS);
    struct compare_run real[] = {run_of(r1, 14 * MS), run_of(r2, 16 * MS), run_of(r3, 15 * MS)};
    real[0].idle_while_ready = 2 * MS;
    real[1].idle_while_ready = 0;
    real[2].idle_while_ready = 5 * MS;
    struct comparison *cmp = comparison_create(&sim, real, 3);

    assert_int_equal(cmp->repeat, 3);
    assert_int_equal(cmp->real_makespan.median, 15 * MS);
    assert_int_equal(cmp->real_makespan.min, 14 * MS);
    assert_int_equal(cmp->real_makespan.max, 16 * MS);
    assert_true(fabs(cmp->makespan_pct - (-20.0)) < 1e-9);
    assert_int_equal(cmp->nthreads, 3);
    const struct compare_thread *main_thread = &cmp->threads[0];
    assert_string_equal(main_thread->process, "main");
    assert_int_equal(main_thread->seen, 3);
    assert_int_equal(main_thread->real[COMPARE_TURNAROUND].median, 9 * MS);
    assert_int_equal(main_thread->real[COMPARE_TURNAROUND].min, 8 * MS);
    assert_int_equal(main_thread->real[COMPARE_TURNAROUND].max, 11 * MS);
    /* the simulator said 10 ms against a median of 9 ms: +11.1 % */
    assert_true(fabs(main_thread->error_pct[COMPARE_TURNAROUND] - 100.0 / 9.0) < 1e-9);
    /* the worker: 5 ms of CPU simulated, 4 ms measured: +25 % */
    assert_true(fabs(cmp->threads[1].error_pct[COMPARE_CPU] - 25.0) < 1e-9);
    assert_int_equal(cmp->threads[1].real[COMPARE_RESPONSE].median, 1 * MS);
    assert_int_equal(cmp->real_context_switches.median, 3);
    /* a CPU left idle while a thread waited: per run, as the counters */
    assert_int_equal(cmp->sim_idle_while_ready, 0);
    assert_int_equal(cmp->real_idle_while_ready.median, 2 * MS);
    assert_int_equal(cmp->real_idle_while_ready.min, 0);
    assert_int_equal(cmp->real_idle_while_ready.max, 5 * MS);
    comparison_destroy(cmp);
}

static void comparison_should_match_threads_by_name_when_real_runs_list_them_in_another_order(void **state)
{
    (void)state;
    struct task_metrics sim_m[] = {thread_at(0, 10 * MS, 10 * MS), thread_at(0, 20 * MS, 20 * MS),
                                   thread_at(0, 30 * MS, 30 * MS)};
    /* the same figures with the child process listed first */
    struct task_metrics rev_m[] = {thread_at(0, 33 * MS, 30 * MS), thread_at(0, 22 * MS, 20 * MS),
                                   thread_at(0, 11 * MS, 10 * MS)};
    struct compare_run sim = run_of(sim_m, 30 * MS);
    struct compare_run rev = {.makespan = 33 * MS, .nthreads = 3, .process = procs_rev, .name = names_rev,
                              .metrics = rev_m};
    struct comparison *cmp = comparison_create(&sim, &rev, 1);
    assert_int_equal(cmp->threads[0].real[COMPARE_FINISH].median, 11 * MS);
    assert_int_equal(cmp->threads[1].real[COMPARE_FINISH].median, 22 * MS);
    assert_int_equal(cmp->threads[2].real[COMPARE_FINISH].median, 33 * MS);
    assert_string_equal(cmp->threads[2].process, "child");
    comparison_destroy(cmp);
}

/* As 20_primes_processes: which of the processes ends last is the host's
 * choice in each run, and the simulation's is one of them. */
static void comparison_should_count_the_runs_that_ended_with_another_thread(void **state)
{
    (void)state;
    /* the simulation: the child ends last */
    struct task_metrics sim_m[] = {thread_at(0, 10 * MS, 10 * MS), thread_at(0, 20 * MS, 20 * MS),
                                   thread_at(0, 30 * MS, 30 * MS)};
    /* the real runs: the child last once, the worker last twice (the second
     * time listed in another order), and the main thread and the child
     * together once */
    struct task_metrics child_last[] = {thread_at(0, 11 * MS, 10 * MS), thread_at(0, 21 * MS, 20 * MS),
                                        thread_at(0, 31 * MS, 30 * MS)};
    struct task_metrics worker_last[] = {thread_at(0, 11 * MS, 10 * MS), thread_at(0, 35 * MS, 20 * MS),
                                         thread_at(0, 31 * MS, 30 * MS)};
    /* listed as child, worker, main */
    struct task_metrics worker_last_rev[] = {thread_at(0, 31 * MS, 30 * MS), thread_at(0, 36 * MS, 20 * MS),
                                             thread_at(0, 11 * MS, 10 * MS)};
    struct task_metrics tie[] = {thread_at(0, 32 * MS, 10 * MS), thread_at(0, 21 * MS, 20 * MS),
                                 thread_at(0, 32 * MS, 30 * MS)};
    struct compare_run sim = run_of(sim_m, 30 * MS);
    struct compare_run real[] = {run_of(child_last, 31 * MS), run_of(worker_last, 35 * MS),
                                 {.makespan = 36 * MS, .nthreads = 3, .process = procs_rev, .name = names_rev,
                                  .metrics = worker_last_rev},
                                 run_of(tie, 32 * MS)};
    struct comparison *cmp = comparison_create(&sim, real, 4);
    assert_false(cmp->threads[0].sim_last);
    assert_false(cmp->threads[1].sim_last);
    assert_true(cmp->threads[2].sim_last);
    assert_int_equal(cmp->threads[0].real_last, 1);
    assert_int_equal(cmp->threads[1].real_last, 2);
    assert_int_equal(cmp->threads[2].real_last, 2);
    /* the tie ended with the simulation's last thread too */
    assert_int_equal(cmp->last_other_runs, 2);
    comparison_destroy(cmp);

    /* runs that all end as the simulation does */
    struct compare_run same[] = {run_of(child_last, 31 * MS), run_of(sim_m, 30 * MS)};
    cmp = comparison_create(&sim, same, 2);
    assert_int_equal(cmp->last_other_runs, 0);
    assert_int_equal(cmp->threads[2].real_last, 2);
    comparison_destroy(cmp);
}

static void comparison_should_leave_a_thread_missing_from_the_real_runs_without_figures(void **state)
{
    (void)state;
    struct task_metrics sim_m[] = {thread_at(0, 10 * MS, 10 * MS), thread_at(0, 20 * MS, 20 * MS),
                                   thread_at(0, 30 * MS, 30 * MS)};
    struct compare_run sim = run_of(sim_m, 30 * MS);
    struct compare_run two = run_of(sim_m, 30 * MS);
    two.nthreads = 2; /* the child never appeared */
    struct comparison *cmp = comparison_create(&sim, &two, 1);
    assert_int_equal(cmp->threads[1].seen, 1);
    assert_int_equal(cmp->threads[2].seen, 0);
    assert_int_equal(cmp->threads[2].real[COMPARE_FINISH].median, -1);
    assert_true(isnan(cmp->threads[2].error_pct[COMPARE_TURNAROUND]));
    assert_true(cmp->threads[0].error_pct[COMPARE_TURNAROUND] == 0.0);
    comparison_destroy(cmp);
}

/* A real trace lists each thread's instants together, not in time order:
 * the GIL switches are counted in time order. a and b take the GIL in turn
 * at 1, 2, 3 and 4 ms (3 switches), but a's takes come first in the list. */
static void gil_switches_of_a_trace_should_follow_time_not_the_list(void **state)
{
    (void)state;
    struct trace *tr = trace_create("t", "", "real", "os", 2, 0);
    trace_add_process(tr, "main");
    uint32_t a = trace_add_task(tr, "a", 0), b = trace_add_task(tr, "b", 0);
    const int64_t at[2][2] = {{1 * MS, 3 * MS}, {2 * MS, 4 * MS}};
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < 2; k++) {
            struct trace_segment seg = {.task = t ? b : a, .cpu = 0, .state = TRACE_RUNNING, .obj = UINT32_MAX,
                                        .start = at[t][k], .end = at[t][k] + MS / 2};
            trace_segment_add(tr, &seg);
            struct trace_instant take = {.time = at[t][k], .task = t ? b : a, .kind = INSTANT_GIL_TAKE,
                                         .value = 0, .obj = UINT32_MAX, .text = UINT32_MAX};
            trace_instant_add(tr, &take, NULL);
        }
    }
    struct compare_run run;
    compare_run_from_trace(&run, tr);
    assert_int_equal(run.gil_switches, 3);
    compare_run_deinit(&run);
    trace_destroy(tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stat_should_give_the_median_min_and_max_ignoring_missing_values),
        cmocka_unit_test(error_pct_should_be_relative_to_the_real_value),
        cmocka_unit_test(comparison_should_take_medians_over_real_runs_and_report_the_error),
        cmocka_unit_test(comparison_should_match_threads_by_name_when_real_runs_list_them_in_another_order),
        cmocka_unit_test(comparison_should_count_the_runs_that_ended_with_another_thread),
        cmocka_unit_test(comparison_should_leave_a_thread_missing_from_the_real_runs_without_figures),
        cmocka_unit_test(gil_switches_of_a_trace_should_follow_time_not_the_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
