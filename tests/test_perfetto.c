/* Tests of the Perfetto / Chrome trace-event writer on a simulated run. */
#include <cjson/cJSON.h>

#include "sim_run.h"
#include "trace_fixture.h"
#include "viz/perfetto.h"

/* tr written as a Perfetto trace and parsed back (cJSON_Delete it). */
static cJSON *perfetto_doc(const struct trace *tr)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(perfetto_write(tr, f, NULL), STATUS_OK);
    fclose(f);
    cJSON *doc = cJSON_Parse(buf);
    free(buf);
    assert_non_null(doc);
    return doc;
}

/* Two threads handing a lock over, on 2 CPUs: the JSON parses, names the
 * process, the threads and the CPUs, has a slice per segment (plus one per
 * CPU stretch), and pairs each hand-over's flow start with its end. */
static void perfetto_should_write_processes_threads_slices_and_flows(void **state)
{
    (void)state;
    struct run *r = run_json_with(
        "{\"name\": \"hand-over\", \"machine\": {\"cpus\": 2}, \"objects\": {\"L\": {\"type\": \"lock\"}}, \"processes\": [{\"name\": \"main\", "
        "\"threads\": [{\"name\": \"a\", \"program\": [{\"op\": \"with\", \"obj\": \"L\", \"body\": [{\"op\": \"compute\", \"for\": \"3ms\"}]}]},"
        "{\"name\": \"b\", \"program\": [{\"op\": \"compute\", \"for\": \"1ms\"}, {\"op\": \"with\", \"obj\": \"L\", \"body\": "
        "[{\"op\": \"print\", \"text\": \"got it\"}]}]}]}]}",
        NULL, true);
    assert_int_equal(r->status, STATUS_OK);
    cJSON *doc = perfetto_doc(engine_trace(r->eng));
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "traceEvents");
    assert_true(cJSON_IsArray(events));
    int names = 0, slices = 0, flow_s = 0, flow_f = 0, prints = 0;
    int64_t flow_id = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        const char *ph = cJSON_GetObjectItemCaseSensitive(e, "ph")->valuestring;
        const char *name = cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring;
        if (strcmp(ph, "M") == 0) {
            const char *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "args"), "name")->valuestring;
            names += strcmp(n, "main") == 0 || strcmp(n, "a") == 0 || strcmp(n, "b") == 0 || strcmp(n, "CPUs") == 0 ||
                     strcmp(n, "CPU 0") == 0 || strcmp(n, "CPU 1") == 0;
        } else if (strcmp(ph, "X") == 0) {
            slices++;
        } else if (strcmp(ph, "s") == 0) {
            flow_s++;
            flow_id = (int64_t)cJSON_GetObjectItemCaseSensitive(e, "id")->valuedouble;
        } else if (strcmp(ph, "f") == 0) {
            flow_f++;
            assert_int_equal((int64_t)cJSON_GetObjectItemCaseSensitive(e, "id")->valuedouble, flow_id);
        } else if (strcmp(ph, "i") == 0 && strcmp(name, "print") == 0) {
            prints++;
        }
    }
    assert_int_equal(names, 6);
    /* one slice per segment, one more per running or switching segment (the CPU tracks) */
    const struct trace *tr = engine_trace(r->eng);
    int expect = 0;
    for (size_t i = 0; i < tr->nsegments; i++)
        expect += 1 + (tr->segments[i].cpu >= 0);
    assert_int_equal(slices, expect);
    assert_int_equal(flow_s, 1);
    assert_int_equal(flow_f, 1);
    assert_int_equal(prints, 1);
    cJSON_Delete(doc);
    run_free(r);
}

/* A GIL handed over on request is a flow from the drop to the take, and the
 * GIL owner counter follows the holder's tid (0 while free). */
static void perfetto_should_write_gil_hand_overs_and_the_owner_counter(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    cJSON *doc = perfetto_doc(tr);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "traceEvents");
    int owners[8], nowners = 0, gil_s = 0, gil_f = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        const char *ph = cJSON_GetObjectItemCaseSensitive(e, "ph")->valuestring;
        const char *name = cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring;
        if (strcmp(ph, "C") == 0 && strcmp(name, "GIL owner") == 0 && nowners < 8)
            owners[nowners++] = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(e, "args"), "tid")->valueint;
        gil_s += strcmp(ph, "s") == 0 && strcmp(name, "GIL hand-over") == 0;
        gil_f += strcmp(ph, "f") == 0 && strcmp(name, "GIL hand-over") == 0;
    }
    /* A takes (tid 1), drops, B takes (2), drops, A takes */
    int expect[] = { 1, 0, 2, 0, 1 };
    assert_int_equal(nowners, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(owners[i], expect[i]);
    /* only the drop on request hands over */
    assert_int_equal(gil_s, 1);
    assert_int_equal(gil_f, 1);
    cJSON_Delete(doc);
    trace_destroy(tr);
}

/* A real run's thread whose event buffer filled gets an instant where its
 * recording stopped, on its own track, with the count of lost events. */
static void perfetto_should_mark_where_a_thread_stopped_being_recorded(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    tr->tasks[1].recorded_until = 450;
    tr->tasks[1].unrecorded_events = 1234;
    cJSON *doc = perfetto_doc(tr);
    const cJSON *e;
    int marks = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "traceEvents")) {
        const char *name = cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring;
        if (!strstr(name, "not recorded"))
            continue;
        marks++;
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "tid")->valueint, 2); /* B */
        assert_float_equal(cJSON_GetObjectItemCaseSensitive(e, "ts")->valuedouble, 0.45, 1e-9);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "args"),
                                                          "unrecorded_events")->valueint, 1234);
    }
    assert_int_equal(marks, 1);
    cJSON_Delete(doc);
    trace_destroy(tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(perfetto_should_write_processes_threads_slices_and_flows),
        cmocka_unit_test(perfetto_should_write_gil_hand_overs_and_the_owner_counter),
        cmocka_unit_test(perfetto_should_mark_where_a_thread_stopped_being_recorded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
