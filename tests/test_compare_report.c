/* Unit tests of compare's report: the JSON has the contracted shape
 * ({"sim": run's JSON, "real": the same shape with medians, "error": ...})
 * and the text names every thread and the makespan, on a simulated run
 * compared with real runs built by hand. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli/compare_report.h"
#include "sim_run.h"

#define TWO_THREADS                                                                                            \
    "{\"name\": \"two workers\", \"machine\": {\"cpus\": 2}, \"processes\": [{\"name\": \"main\", \"threads\": [" \
    "{\"name\": \"a\", \"program\": [{\"op\": \"compute\", \"for\": \"10ms\"}]},"                              \
    "{\"name\": \"b\", \"program\": [{\"op\": \"compute\", \"for\": \"20ms\"}]}]}]}"

static const char *const contract_keys[] = {"scenario", "policy", "cpus", "seed", "makespan_ns",
                                            "threads", "memory", "shared", "stats"};
static const char *const thread_keys[] = {"process", "name", "arrival_ns", "first_run_ns", "finish_ns",
                                          "response_ns", "turnaround_ns", "wait_ns", "cpu_ns",
                                          "blocked_ns", "gil_wait_ns", "context_switches"};

/* The report of the simulated TWO_THREADS against two real runs that each
 * took 25 % longer than simulated. */

/* The report written in format, as a string (the caller frees it). */
static char *report_text(enum report_format format, const struct compare_report *rep)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    compare_report_write(out, format, rep);
    fclose(out);
    return text;
}

/* When >= 0, the real runs of report_of were recorded up to this share
 * (in %) of their makespan (a full event buffer), the first run only. */
static int64_t truncate_pct = -1;

/* When set, thread a ends after b in the first real run of report_of
 * (the simulation ends with b). */
static bool a_ends_last = false;

static char *report_of(enum report_format format)
{
    struct run *r = run_json_with(TWO_THREADS, NULL, false);
    assert_int_equal(r->status, STATUS_OK);
    struct compare_run sim;
    compare_run_from_engine(&sim, r->eng);
    struct task_metrics slow[2];
    for (int i = 0; i < 2; i++) {
        slow[i] = sim.metrics[i];
        slow[i].finish = sim.metrics[i].finish * 5 / 4;
        slow[i].cpu = sim.metrics[i].cpu * 5 / 4;
    }
    struct task_metrics swapped[2] = {slow[0], slow[1]};
    swapped[0].finish = slow[1].finish + 1000000;
    struct compare_run real[2];
    for (int i = 0; i < 2; i++) {
        real[i] = sim;
        real[i].metrics = a_ends_last && i == 0 ? swapped : slow;
        real[i].makespan = sim.makespan * 5 / 4;
        real[i].recorded_until = truncate_pct >= 0 && i == 0 ? real[i].makespan * truncate_pct / 100 : -1;
    }
    struct comparison *cmp = comparison_create(&sim, real, 2);
    struct report_run rr = {.sc = r->sc, .policy = "fifo", .eng = r->eng, .deadlock = NULL};
    struct profile prof;
    profile_builtin(&prof);
    struct compare_report rep = {.sim = &rr, .cmp = cmp, .profile_path = "/tmp/p.json", .profile = &prof,
                                 .fit = {.cpus_before = 2, .wakeup_latency = true}};
    char *text = report_text(format, &rep);
    comparison_destroy(cmp);
    compare_run_deinit(&sim);
    run_free(r);
    return text;
}

static void assert_run_shape(const cJSON *run)
{
    for (size_t k = 0; k < sizeof contract_keys / sizeof contract_keys[0]; k++)
        if (!cJSON_GetObjectItemCaseSensitive(run, contract_keys[k]))
            fail_msg("missing key %s", contract_keys[k]);
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(run, "threads");
    assert_int_equal(cJSON_GetArraySize(threads), 2);
    for (const cJSON *t = threads->child; t; t = t->next)
        for (size_t k = 0; k < sizeof thread_keys / sizeof thread_keys[0]; k++)
            if (!cJSON_GetObjectItemCaseSensitive(t, thread_keys[k]))
                fail_msg("a thread misses key %s", thread_keys[k]);
}

static void json_report_should_have_sim_real_and_error_in_the_contracted_shape(void **state)
{
    (void)state;
    char *text = report_of(REPORT_JSON);
    cJSON *root = cJSON_Parse(text);
    if (!root)
        fail_msg("not JSON:\n%s", text);
    const cJSON *sim = cJSON_GetObjectItemCaseSensitive(root, "sim");
    const cJSON *real = cJSON_GetObjectItemCaseSensitive(root, "real");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    assert_non_null(sim);
    assert_non_null(real);
    assert_non_null(err);
    assert_run_shape(sim);
    assert_run_shape(real);
    /* the real figures are the medians: 25 % over the simulated ones */
    double sim_makespan = cJSON_GetObjectItemCaseSensitive(sim, "makespan_ns")->valuedouble;
    double real_makespan = cJSON_GetObjectItemCaseSensitive(real, "makespan_ns")->valuedouble;
    assert_true(fabs(real_makespan - sim_makespan * 1.25) < 2);
    /* (sim - real) / real = 1 / 1.25 - 1 = -20 % */
    assert_true(fabs(cJSON_GetObjectItemCaseSensitive(err, "makespan_pct")->valuedouble + 20.0) < 0.01);
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(err, "threads");
    assert_int_equal(cJSON_GetArraySize(threads), 2);
    const cJSON *b = cJSON_GetArrayItem(threads, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(b, "process")->valuestring, "main");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(b, "name")->valuestring, "b");
    assert_true(fabs(cJSON_GetObjectItemCaseSensitive(b, "turnaround_pct")->valuedouble + 20.0) < 0.01);
    assert_true(fabs(cJSON_GetObjectItemCaseSensitive(b, "cpu_pct")->valuedouble + 20.0) < 0.01);
    /* the spreads of the real runs and the profile used are there too */
    const cJSON *rb = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(real, "threads"), 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(rb, "spread"), "turnaround_ns")), 2);
    const cJSON *prof = cJSON_GetObjectItemCaseSensitive(root, "profile");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(prof, "path")->valuestring, "/tmp/p.json");
    cJSON_Delete(root);
    free(text);
}

static void text_report_should_list_each_thread_and_the_makespan_error(void **state)
{
    (void)state;
    char *text = report_of(REPORT_TEXT);
    assert_non_null(strstr(text, "two workers"));
    assert_non_null(strstr(text, "/tmp/p.json"));
    assert_non_null(strstr(text, "\nmain       a "));
    assert_non_null(strstr(text, "\nmain       b "));
    assert_non_null(strstr(text, "makespan"));
    assert_non_null(strstr(text, "-20.0%"));
    free(text);
}

/* One of the two real runs was recorded up to 40 % of its makespan: the
 * text says how much of the traces the CPU-idle figure covers, and the JSON
 * gives it with the number of such runs. */
static void report_should_say_how_much_of_the_real_traces_a_full_buffer_left(void **state)
{
    (void)state;
    truncate_pct = 40;
    char *text = report_of(REPORT_TEXT);
    char *json = report_of(REPORT_JSON);
    truncate_pct = -1;
    assert_non_null(strstr(text, "the traces of 1 of the 2 real runs are whole only up to "));
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    const cJSON *real = cJSON_GetObjectItemCaseSensitive(root, "real");
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(real, "stats");
    double makespan = cJSON_GetObjectItemCaseSensitive(real, "makespan_ns")->valuedouble;
    double until = cJSON_GetObjectItemCaseSensitive(stats, "recorded_until_ns")->valuedouble;
    assert_true(fabs(until - makespan * 0.4) <= 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(stats, "truncated_runs")->valueint, 1);
    cJSON_Delete(root);
    free(json);
    free(text);
    /* whole traces: no note, and null */
    text = report_of(REPORT_TEXT);
    assert_null(strstr(text, "are whole only up to"));
    free(text);
    json = report_of(REPORT_JSON);
    root = cJSON_Parse(json);
    stats = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "real"), "stats");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(stats, "recorded_until_ns")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(stats, "truncated_runs")->valueint, 0);
    cJSON_Delete(root);
    free(json);
}

#define COUNTER                                                                                              \
    "{\"name\": \"counter\", \"processes\": [{\"name\": \"main\", \"memory\": {\"counter\": 0, \"same\": 7},"  \
    "\"threads\": [{\"name\": \"a\", \"program\": [{\"op\": \"add\", \"var\": \"counter\", \"value\": 3}]}]}]}"

/* COUNTER simulated (counter = 3) against real runs whose median counter is
 * 2, as after a lost update. */
static char *memory_report_of(enum report_format format)
{
    struct run *r = run_json_with(COUNTER, NULL, false);
    assert_int_equal(r->status, STATUS_OK);
    struct compare_run sim;
    compare_run_from_engine(&sim, r->eng);
    struct comparison *cmp = comparison_create(&sim, &sim, 1);
    struct report_run rr = {.sc = r->sc, .policy = "fifo", .eng = r->eng, .deadlock = NULL};
    struct profile prof;
    profile_builtin(&prof);
    int64_t counter = 2, same = 7;
    int64_t *values[6] = {NULL};
    for (uint32_t v = 0; v < r->sc->nvars; v++)
        values[v] = strcmp(r->sc->vars[v].name, "counter") == 0 ? &counter : &same;
    const char *names[] = {"main"};
    struct compare_memory mem = {.nprocesses = 1, .process = names, .values = values};
    struct compare_report rep = {.sim = &rr, .cmp = cmp, .profile_path = "/tmp/p.json", .profile = &prof,
                                 .memory = &mem};
    char *text = report_text(format, &rep);
    comparison_destroy(cmp);
    compare_run_deinit(&sim);
    run_free(r);
    return text;
}

static void json_report_should_give_the_real_final_memory_next_to_the_simulated_one(void **state)
{
    (void)state;
    char *text = memory_report_of(REPORT_JSON);
    cJSON *root = cJSON_Parse(text);
    if (!root)
        fail_msg("not JSON:\n%s", text);
    const cJSON *sim = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "sim"), "memory"), "main");
    const cJSON *real = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "real"), "memory"), "main");
    assert_non_null(real);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sim, "counter")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(real, "counter")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(real, "same")->valueint, 7);
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "real"),
                                                                "shared")));
    cJSON_Delete(root);
    free(text);
}

static void text_report_should_name_each_variable_whose_real_value_differs(void **state)
{
    (void)state;
    char *text = memory_report_of(REPORT_TEXT);
    if (!strstr(text, "memory main.counter differs: sim 3, real (median) 2\n"))
        fail_msg("no counter line in:\n%s", text);
    /* a variable that ends the same is not listed */
    assert_null(strstr(text, "main.same"));
    free(text);
}

/* error.threads[i].last_to_end of a JSON report: whether the thread ended
 * last in the simulation (*sim) and in how many real runs. */
static int json_last_to_end(const char *text, int i, bool *sim)
{
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "error"), "threads");
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(threads, i), "last_to_end");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(last, "sim");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(last, "real_runs");
    assert_true(cJSON_IsBool(s));
    assert_true(cJSON_IsNumber(runs));
    *sim = cJSON_IsTrue(s);
    int n = runs->valueint;
    cJSON_Delete(root);
    return n;
}

/* report_of's JSON: the simulation ends with b, and a and b ended last in
 * a_runs and b_runs of the real runs. */
static void assert_json_last_to_end(int a_runs, int b_runs)
{
    bool sim;
    char *text = report_of(REPORT_JSON);
    assert_int_equal(json_last_to_end(text, 0, &sim), a_runs);
    assert_false(sim);
    assert_int_equal(json_last_to_end(text, 1, &sim), b_runs);
    assert_true(sim);
    free(text);
}

static void report_should_say_when_real_runs_ended_with_another_thread(void **state)
{
    (void)state;
    /* both real runs end with b, as the simulation: no line */
    char *text = report_of(REPORT_TEXT);
    assert_null(strstr(text, "the last thread to end"));
    free(text);
    assert_json_last_to_end(0, 2);

    a_ends_last = true;
    text = report_of(REPORT_TEXT);
    if (!strstr(text, "the last thread to end was main/b in the simulation, and another in 1 of the 2 real runs "
                      "(main/a in 1): the host orders the threads differently from run to run"))
        fail_msg("no line on the last thread in:\n%s", text);
    free(text);
    assert_json_last_to_end(1, 1);
    a_ends_last = false;
}

/* Two threads on two CPUs that take a barging lock around every add, with
 * the futex costs of a calibrated profile: the simulation falls into a
 * lockstep where the woken waiter takes the lock shortly before the other
 * thread tries it again (by 40-50 ns in half the hand-offs, by 110-150 ns
 * in the other half), every hand-off a race. */
#define PING_PONG(window)                                                                                      \
    "{\"name\": \"ping-pong\", \"machine\": {\"cpus\": 2, \"wakeup_latency\": \"10us\", \"profile\": {"        \
    "\"lock_handoff\": \"barging\", \"acquire_ns\": 25, \"release_ns\": 25, \"add_ns\": 100, "                \
    "\"compute_op_ns\": 55, \"wake_ns\": 6000, \"wake_early_ns\": 1124, \"wake_settle_ns\": 1173, "          \
    "\"futex_race_ns\": " window "}}, \"objects\": {\"L\": {\"type\": \"lock\"}}, \"shared\": {\"x\": 0}, "  \
    "\"functions\": {\"loop\": {\"params\": [], \"body\": [{\"op\": \"repeat\", \"times\": 200, \"body\": ["   \
    "{\"op\": \"compute\", \"for\": \"5ns\"}, {\"op\": \"acquire\", \"obj\": \"L\"}, {\"op\": \"add\", "       \
    "\"var\": \"x\", \"value\": 1}, {\"op\": \"release\", \"obj\": \"L\"}]}]}}, \"processes\": [{\"name\": "  \
    "\"main\", \"threads\": [{\"name\": \"a\", \"program\": [{\"op\": \"call\", \"fn\": \"loop\"}]}, "        \
    "{\"name\": \"b\", \"program\": [{\"op\": \"call\", \"fn\": \"loop\"}]}]}]}"

/* The report (text or JSON) of a ping-pong scenario compared with its own
 * run. */
static char *race_report_of(const char *json, enum report_format format, uint64_t *races, uint64_t *close)
{
    struct run *r = run_json_with(json, NULL, false);
    assert_int_equal(r->status, STATUS_OK);
    *races = engine_stats(r->eng)->lock_races;
    *close = engine_stats(r->eng)->lock_close_races;
    struct compare_run sim;
    compare_run_from_engine(&sim, r->eng);
    struct comparison *cmp = comparison_create(&sim, &sim, 1);
    struct report_run rr = {.sc = r->sc, .policy = "fifo", .eng = r->eng, .deadlock = NULL};
    struct compare_report rep = {.sim = &rr, .cmp = cmp, .profile_path = "/tmp/p.json", .profile = &r->sc->profile};
    char *text = report_text(format, &rep);
    comparison_destroy(cmp);
    compare_run_deinit(&sim);
    run_free(r);
    return text;
}

/* error.close_races of a JSON report. */
static bool json_close_races(const char *text)
{
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    const cJSON *flag = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "error"), "close_races");
    assert_true(cJSON_IsBool(flag));
    bool on = cJSON_IsTrue(flag);
    cJSON_Delete(root);
    return on;
}

static void text_report_should_say_when_the_simulation_decided_its_lock_races_by_less_than_a_real_race_moves(
    void **state)
{
    (void)state;
    uint64_t races, close;
    char *text = race_report_of(PING_PONG("300"), REPORT_TEXT, &races, &close);
    /* nearly every one of the 400 acquires after the first few is a race */
    assert_true(races >= 390 && races <= 400);
    assert_int_equal(close, races);
    char expect[128];
    snprintf(expect, sizeof expect, "the simulation decided %" PRIu64 " of its %" PRIu64 " lock hand-off races",
             close, races);
    if (!strstr(text, expect) || !strstr(text, "by less than 300 ns"))
        fail_msg("no race line in:\n%s", text);
    free(text);
    /* the JSON flags the makespan error as one the model does not predict */
    text = race_report_of(PING_PONG("300"), REPORT_JSON, &races, &close);
    assert_true(json_close_races(text));
    free(text);
    /* none decided by less than 40 ns: no close race, and no line */
    text = race_report_of(PING_PONG("40"), REPORT_TEXT, &races, &close);
    assert_true(races >= 390);
    assert_int_equal(close, 0);
    assert_null(strstr(text, "lock hand-off races"));
    free(text);
    text = race_report_of(PING_PONG("40"), REPORT_JSON, &races, &close);
    assert_false(json_close_races(text));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_report_should_have_sim_real_and_error_in_the_contracted_shape),
        cmocka_unit_test(text_report_should_list_each_thread_and_the_makespan_error),
        cmocka_unit_test(report_should_say_how_much_of_the_real_traces_a_full_buffer_left),
        cmocka_unit_test(json_report_should_give_the_real_final_memory_next_to_the_simulated_one),
        cmocka_unit_test(text_report_should_name_each_variable_whose_real_value_differs),
        cmocka_unit_test(report_should_say_when_real_runs_ended_with_another_thread),
        cmocka_unit_test(text_report_should_say_when_the_simulation_decided_its_lock_races_by_less_than_a_real_race_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
