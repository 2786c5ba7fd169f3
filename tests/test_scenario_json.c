/* Unit tests of the scenario loader (sim/scenario_json.c) and of the scenario
 * helpers (sim/scenario.c): what a good scenario becomes, and for each kind
 * of mistake the JSON path and the message a student sees. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/scenario.h"

/* JSON written as C tokens: J({"a": [1, "x"]}) is the string "{\"a\": [1, \"x\"]}". */
#define J(...) #__VA_ARGS__

#define MS 1000000LL

static struct scenario *load_ok_as(const char *json, const char *origin)
{
    struct error err;
    struct scenario *sc = scenario_load_buffer(json, strlen(json), origin, &err);
    if (!sc)
        fail_msg("expected the scenario to load, got %s: %s", err.path, err.msg);
    assert_int_equal(err.status, STATUS_OK);
    return sc;
}

static struct scenario *load_ok(const char *json)
{
    return load_ok_as(json, "tests/case.json");
}

/* Loads json (len bytes), which must fail with STATUS_BAD_INPUT at exactly
 * `path` with a message containing each of the NULL-ended fragments. */
static void expect_error_len(const char *json, size_t len, const char *path, ...)
{
    struct error err;
    struct scenario *sc = scenario_load_buffer(json, len, "tests/case.json", &err);
    if (sc) {
        scenario_destroy(sc);
        fail_msg("expected an error at '%s', but the scenario loaded", path);
    }
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_string_equal(err.path, path);
    va_list ap;
    va_start(ap, path);
    for (const char *frag = va_arg(ap, const char *); frag; frag = va_arg(ap, const char *))
        if (!strstr(err.msg, frag))
            fail_msg("message \"%s\" should contain \"%s\"", err.msg, frag);
    va_end(ap);
}

#define expect_error(json, path, ...) expect_error_len(json, strlen(json), path, __VA_ARGS__, (const char *)NULL)

/* One process "p" with one thread "main" running `program` (JSON text). */
#define ONE_THREAD(program) "{\"processes\": [{\"name\": \"p\", \"threads\": [{\"name\": \"main\", \"program\": " program "}]}]}"

static const struct op *op_at(const struct scenario *sc, struct op_block b, uint32_t i)
{
    assert_true(i < b.count);
    assert_true(b.first + i < sc->nops);
    return &sc->ops[b.first + i];
}

static void load_buffer_should_read_every_key_of_a_full_scenario(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(J({
        "name": "full", "description": "all the keys", "seed": 42,
        "machine": {"cpus": 4, "context_switch": "5us", "process_switch": "8us", "wakeup_latency": "2us"},
        "scheduler": {"policy": "mlfq", "quantum": "4ms", "preemptive": false, "boost": "50ms",
                      "latency": "12ms", "min_granularity": "1ms",
                      "levels": [{"quantum": "1ms", "allotment": 3}, {"quantum": "2ms"}]},
        "processes": [
            {"name": "A", "arrival": "1ms", "priority": 3, "nice": -5, "threads": [
                {"name": "main", "program": []},
                {"name": "helper", "autostart": false, "daemon": true, "priority": -2, "program": []}]},
            {"name": "B", "gil": "none", "threads": [{"name": "main", "program": []}]}]
    }));
    assert_string_equal(sc->name, "full");
    assert_string_equal(sc->description, "all the keys");
    assert_int_equal(sc->seed, 42);
    assert_int_equal(sc->machine.cpus, 4);
    assert_int_equal(sc->machine.context_switch, 5000);
    assert_int_equal(sc->machine.process_switch, 8000);
    assert_int_equal(sc->machine.wakeup_latency, 2000);
    assert_null(sc->machine.profile_path);
    assert_string_equal(sc->sched.policy, "mlfq");
    assert_int_equal(sc->sched.quantum, 4 * MS);
    assert_false(sc->sched.preemptive);
    assert_int_equal(sc->sched.boost, 50 * MS);
    assert_int_equal(sc->sched.latency, 12 * MS);
    assert_int_equal(sc->sched.min_granularity, 1 * MS);
    assert_int_equal(sc->sched.nlevels, 2);
    assert_int_equal(sc->sched.levels[0].quantum, 1 * MS);
    assert_int_equal(sc->sched.levels[0].allotment, 3);
    assert_int_equal(sc->sched.levels[1].quantum, 2 * MS);
    assert_int_equal(sc->sched.levels[1].allotment, 1);

    assert_int_equal(sc->nprocesses, 2);
    assert_int_equal(sc->nthreads, 3);
    const struct process_decl *a = &sc->processes[0], *b = &sc->processes[1];
    assert_string_equal(a->name, "A");
    assert_int_equal(a->arrival, 1 * MS);
    assert_int_equal(a->priority, 3);
    assert_int_equal(a->nice, -5);
    assert_int_equal(a->first_thread, 0);
    assert_int_equal(a->nthreads, 2);
    assert_string_equal(b->name, "B");
    assert_int_equal(b->first_thread, 2);
    assert_int_equal(b->nthreads, 1);

    const struct thread_decl *main_a = &sc->threads[0], *helper = &sc->threads[1], *main_b = &sc->threads[2];
    assert_string_equal(main_a->name, "main");
    assert_int_equal(main_a->process, 0);
    assert_true(main_a->autostart);
    assert_false(main_a->daemon);
    assert_false(main_a->has_priority);
    assert_string_equal(helper->name, "helper");
    assert_int_equal(helper->process, 0);
    assert_false(helper->autostart);
    assert_true(helper->daemon);
    assert_true(helper->has_priority);
    assert_int_equal(helper->priority, -2);
    assert_int_equal(main_b->process, 1);
    assert_int_equal(scenario_find_thread(sc, 0, "helper"), 1);
    assert_int_equal(scenario_find_thread(sc, 1, "main"), 2);
    assert_int_equal(scenario_find_thread(sc, 1, "helper"), -1);
    scenario_destroy(sc);
}

static void load_buffer_should_apply_the_defaults(void **state)
{
    (void)state;
    struct scenario *sc = load_ok_as(J({"processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}],
                                        "scheduler": {"levels": [{"quantum": "3ms"}]}}),
                                     "some/dir/round_robin.json");
    assert_string_equal(sc->name, "round_robin");
    assert_null(sc->description);
    assert_int_equal(sc->seed, 0);
    assert_int_equal(sc->machine.cpus, 1);
    assert_int_equal(sc->machine.context_switch, 0);
    assert_int_equal(sc->machine.process_switch, 0);
    assert_int_equal(sc->machine.wakeup_latency, 0);
    assert_string_equal(sc->profile.name, "builtin");
    assert_string_equal(sc->sched.policy, "fifo");
    assert_int_equal(sc->sched.quantum, 0);
    assert_true(sc->sched.preemptive);
    assert_int_equal(sc->sched.boost, 0);
    assert_int_equal(sc->sched.latency, 6 * MS);
    assert_int_equal(sc->sched.min_granularity, 750000);
    assert_int_equal(sc->sched.levels[0].allotment, 1);
    assert_int_equal(sc->processes[0].arrival, 0);
    assert_int_equal(sc->processes[0].priority, 0);
    assert_int_equal(sc->processes[0].nice, 0);
    assert_true(sc->threads[0].autostart);
    assert_false(sc->threads[0].daemon);
    assert_int_equal(sc->threads[0].program.count, 0);
    scenario_destroy(sc);

    /* an origin without a directory or without ".json" is the name as it is */
    sc = load_ok_as(J({"processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}]}), "stdin");
    assert_string_equal(sc->name, "stdin");
    scenario_destroy(sc);
}

static void load_buffer_should_convert_durations_to_nanoseconds(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(ONE_THREAD(J([
        {"op": "compute", "for": "1.5s"}, {"op": "compute", "for": "0.75ms"}, {"op": "compute", "for": "40us"},
        {"op": "compute", "for": "250ns"}, {"op": "compute", "for": 0}, {"op": "sleep", "for": "2s"},
        {"op": "io", "for": "3ms"}, {"op": "sleep", "random": ["1ms", "5ms"]}
    ])));
    struct op_block b = sc->threads[0].program;
    assert_int_equal(b.count, 8);
    sim_time want[] = {1500000000, 750000, 40000, 250, 0};
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(op_at(sc, b, i)->kind, OP_COMPUTE);
        assert_int_equal(op_at(sc, b, i)->u.compute.kind, COMPUTE_FOR);
        assert_int_equal(op_at(sc, b, i)->u.compute.dur, want[i]);
    }
    const struct op *sleep = op_at(sc, b, 5), *io = op_at(sc, b, 6), *rnd = op_at(sc, b, 7);
    assert_int_equal(sleep->kind, OP_SLEEP);
    assert_int_equal(sleep->u.sleep.dur, 2000000000);
    assert_int_equal(sleep->u.sleep.dur_hi, 2000000000);
    assert_false(sleep->u.sleep.random);
    assert_int_equal(io->kind, OP_IO);
    assert_int_equal(io->u.sleep.dur, 3 * MS);
    assert_true(rnd->u.sleep.random);
    assert_int_equal(rnd->u.sleep.dur, 1 * MS);
    assert_int_equal(rnd->u.sleep.dur_hi, 5 * MS);
    scenario_destroy(sc);
}

static void load_buffer_should_read_each_kind_of_compute(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(ONE_THREAD(J([
        {"op": "compute", "work": "count", "n": 80000000},
        {"op": "compute", "work": "primes", "from": 2, "to": 1000, "gil": "release"},
        {"op": "compute", "work": "spin", "for": "10ms", "gil": "hold"}
    ])));
    struct op_block b = sc->threads[0].program;
    const struct op_compute *count = &op_at(sc, b, 0)->u.compute;
    const struct op_compute *primes = &op_at(sc, b, 1)->u.compute;
    const struct op_compute *spin = &op_at(sc, b, 2)->u.compute;
    assert_int_equal(count->kind, COMPUTE_COUNT);
    assert_int_equal(count->n.kind, OPERAND_CONST);
    assert_int_equal(count->n.value, 80000000);
    assert_false(count->release_gil);
    assert_int_equal(primes->kind, COMPUTE_PRIMES);
    assert_int_equal(primes->from.value, 2);
    assert_int_equal(primes->to.value, 1000);
    assert_true(primes->release_gil);
    assert_int_equal(spin->kind, COMPUTE_SPIN);
    assert_int_equal(spin->dur, 10 * MS);
    assert_false(spin->release_gil);
    scenario_destroy(sc);
}

static void load_buffer_should_give_each_op_its_json_path(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(J({
        "functions": {"f": {"params": ["n"], "body": [{"op": "compute", "work": "count", "n": "$n"},
                                                       {"op": "repeat", "times": 2, "body": [{"op": "exit"}]}]}},
        "processes": [{"name": "p", "threads": [
            {"name": "first", "program": []},
            {"name": "second", "program": [
                {"op": "compute", "for": "1ms"}, {"op": "io", "for": "1ms"},
                {"op": "repeat", "times": 3, "body": [{"op": "sleep", "for": "1ms"},
                    {"op": "repeat", "times": 2, "body": [{"op": "call", "fn": "f", "args": [1]}]}]},
                {"op": "print", "text": "done"}]}]}]
    }));
    const struct thread_decl *second = &sc->threads[1];
    assert_string_equal(op_at(sc, second->program, 0)->path, "processes[0].threads[1].program[0]");
    assert_string_equal(op_at(sc, second->program, 3)->path, "processes[0].threads[1].program[3]");
    const struct op *rep = op_at(sc, second->program, 2);
    assert_string_equal(rep->path, "processes[0].threads[1].program[2]");
    assert_string_equal(op_at(sc, rep->u.repeat.body, 0)->path, "processes[0].threads[1].program[2].body[0]");
    const struct op *inner = op_at(sc, rep->u.repeat.body, 1);
    assert_string_equal(op_at(sc, inner->u.repeat.body, 0)->path,
                        "processes[0].threads[1].program[2].body[1].body[0]");
    const struct function *f = &sc->functions[0];
    assert_string_equal(op_at(sc, f->body, 0)->path, "functions.f.body[0]");
    assert_string_equal(op_at(sc, op_at(sc, f->body, 1)->u.repeat.body, 0)->path, "functions.f.body[1].body[0]");
    scenario_destroy(sc);
}

static void load_buffer_should_store_repeat_bodies_as_contiguous_blocks(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(ONE_THREAD(J([
        {"op": "compute", "for": "1ms"},
        {"op": "repeat", "times": 3, "body": [
            {"op": "compute", "for": "2ms"},
            {"op": "repeat", "times": 4, "body": [{"op": "io", "for": "3ms"}, {"op": "sleep", "for": "4ms"}]},
            {"op": "compute", "for": "5ms"}]},
        {"op": "exit"}
    ])));
    struct op_block prog = sc->threads[0].program;
    assert_int_equal(prog.count, 3);
    assert_int_equal(op_at(sc, prog, 2)->kind, OP_EXIT);
    const struct op *outer = op_at(sc, prog, 1);
    assert_int_equal(outer->kind, OP_REPEAT);
    assert_int_equal(outer->u.repeat.times.kind, OPERAND_CONST);
    assert_int_equal(outer->u.repeat.times.value, 3);
    struct op_block body = outer->u.repeat.body;
    assert_int_equal(body.count, 3);
    /* a block is a run of consecutive ops, in the order written */
    assert_int_equal(op_at(sc, body, 0)->u.compute.dur, 2 * MS);
    assert_int_equal(op_at(sc, body, 2)->u.compute.dur, 5 * MS);
    const struct op *inner = op_at(sc, body, 1);
    assert_int_equal(inner->u.repeat.times.value, 4);
    assert_int_equal(inner->u.repeat.body.count, 2);
    assert_int_equal(op_at(sc, inner->u.repeat.body, 0)->kind, OP_IO);
    assert_int_equal(op_at(sc, inner->u.repeat.body, 0)->u.sleep.dur, 3 * MS);
    assert_int_equal(op_at(sc, inner->u.repeat.body, 1)->kind, OP_SLEEP);
    assert_int_equal(op_at(sc, inner->u.repeat.body, 1)->u.sleep.dur, 4 * MS);
    scenario_destroy(sc);
}

static void load_buffer_should_resolve_params_as_locals(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(J({
        "functions": {
            "work": {"params": ["n", "lo", "hi"], "body": [
                {"op": "compute", "work": "count", "n": "$n"},
                {"op": "compute", "work": "primes", "from": "$lo", "to": "$hi"},
                {"op": "repeat", "times": "$n", "body": []}]},
            "spawn": {"params": ["k"], "body": [
                {"op": "thread", "name": "child", "call": "work", "args": ["$k", 2, 100], "daemon": true}]}},
        "processes": [{"name": "p", "threads": [{"name": "main", "program": [
            {"op": "call", "fn": "work", "args": [10, 2, 50]}, {"op": "call", "fn": "spawn", "args": [7]},
            {"op": "join", "thread": "child"}]}]}]
    }));
    assert_int_equal(sc->nfunctions, 2);
    const struct function *work = &sc->functions[0], *spawn = &sc->functions[1];
    assert_string_equal(work->name, "work");
    assert_int_equal(work->nparams, 3);
    assert_int_equal(work->nlocals, 3);
    assert_string_equal(work->local_names[0], "n");
    assert_string_equal(work->local_names[2], "hi");
    const struct op_compute *count = &op_at(sc, work->body, 0)->u.compute;
    assert_int_equal(count->n.kind, OPERAND_LOCAL);
    assert_int_equal(count->n.slot, 0);
    const struct op_compute *primes = &op_at(sc, work->body, 1)->u.compute;
    assert_int_equal(primes->from.kind, OPERAND_LOCAL);
    assert_int_equal(primes->from.slot, 1);
    assert_int_equal(primes->to.slot, 2);
    const struct op *rep = op_at(sc, work->body, 2);
    assert_int_equal(rep->u.repeat.times.kind, OPERAND_LOCAL);
    assert_int_equal(rep->u.repeat.times.slot, 0);

    const struct op *th = op_at(sc, spawn->body, 0);
    assert_int_equal(th->kind, OP_THREAD);
    assert_string_equal(th->u.thread.name, "child");
    assert_int_equal(th->u.thread.fn, 0);
    assert_true(th->u.thread.daemon);
    assert_int_equal(th->u.thread.nargs, 3);
    assert_int_equal(th->u.thread.args[0].kind, OPERAND_LOCAL);
    assert_int_equal(th->u.thread.args[0].slot, 0);
    assert_int_equal(th->u.thread.args[1].kind, OPERAND_CONST);
    assert_int_equal(th->u.thread.args[2].value, 100);

    struct op_block prog = sc->threads[0].program;
    const struct op *call = op_at(sc, prog, 0);
    assert_int_equal(call->kind, OP_CALL);
    assert_int_equal(call->u.call.fn, 0);
    assert_int_equal(call->u.call.nargs, 3);
    assert_int_equal(call->u.call.args[0].kind, OPERAND_CONST);
    assert_int_equal(call->u.call.args[0].value, 10);
    assert_int_equal(call->u.call.args[2].value, 50);
    /* a thread created by a `thread` op is joined by name at run time */
    const struct op *join = op_at(sc, prog, 2);
    assert_string_equal(join->u.join.name, "child");
    assert_int_equal(join->u.join.thread, -1);
    scenario_destroy(sc);
}

static void load_buffer_should_split_print_text_into_pieces(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(J({
        "shared": {"total": 0, "n": 5},
        "functions": {"show": {"params": ["n"], "body": [
            {"op": "print", "text": "{thread} has {n} items, {{literal}} {total} at {time}"}]}},
        "processes": [{"name": "p", "threads": [{"name": "main", "program": [
            {"op": "call", "fn": "show", "args": [1]}, {"op": "print", "text": "plain"},
            {"op": "print", "text": "{n} in {process}"}]}]}]
    }));
    const struct op_print *pr = &op_at(sc, sc->functions[0].body, 0)->u.print;
    assert_string_equal(pr->text, "{thread} has {n} items, {{literal}} {total} at {time}");
    assert_int_equal(pr->npieces, 7);
    struct { enum print_piece_kind kind; const char *text; } want[] = {
        {PRINT_BUILTIN, "thread"}, {PRINT_TEXT, " has "}, {PRINT_LOCAL, "n"},
        {PRINT_TEXT, " items, {literal} "}, {PRINT_VAR, "total"}, {PRINT_TEXT, " at "}, {PRINT_BUILTIN, "time"},
    };
    for (uint32_t i = 0; i < 7; i++) {
        assert_int_equal(pr->pieces[i].kind, want[i].kind);
        assert_string_equal(pr->pieces[i].text, want[i].text);
    }
    /* a parameter hides the memory variable of the same name */
    assert_int_equal(pr->pieces[2].slot, 0);

    struct op_block prog = sc->threads[0].program;
    const struct op_print *plain = &op_at(sc, prog, 1)->u.print;
    assert_int_equal(plain->npieces, 1);
    assert_int_equal(plain->pieces[0].kind, PRINT_TEXT);
    assert_string_equal(plain->pieces[0].text, "plain");
    /* a thread's program has no params: {n} there is the memory variable */
    const struct op_print *var = &op_at(sc, prog, 2)->u.print;
    assert_int_equal(var->pieces[0].kind, PRINT_VAR);
    assert_int_equal(var->pieces[2].kind, PRINT_BUILTIN);
    assert_string_equal(var->pieces[2].text, "process");
    scenario_destroy(sc);

    expect_error(ONE_THREAD(J([{"op": "print", "text": "{nothing}"}])), "processes[0].threads[0].program[0].text",
                 "'{nothing}' names no local variable here and no memory variable");
}

static void load_buffer_should_resolve_start_and_join_targets(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(J({
        "processes": [
            {"name": "other", "threads": [{"name": "main", "program": []}]},
            {"name": "p", "threads": [
                {"name": "main", "program": [{"op": "start", "thread": "worker"},
                                             {"op": "join", "thread": "worker", "timeout": "10ms"},
                                             {"op": "join", "thread": "main"}]},
                {"name": "worker", "autostart": false, "program": []}]}]
    }));
    struct op_block prog = sc->threads[1].program;
    const struct op *start = op_at(sc, prog, 0), *join = op_at(sc, prog, 1), *join_main = op_at(sc, prog, 2);
    assert_int_equal(start->kind, OP_START);
    assert_string_equal(start->u.start.name, "worker");
    assert_int_equal(start->u.start.thread, 2);
    assert_int_equal(join->kind, OP_JOIN);
    assert_int_equal(join->u.join.target, JOIN_THREAD);
    assert_int_equal(join->u.join.thread, 2);
    assert_int_equal(join->u.join.timeout, 10 * MS);
    /* the name is looked up in the joining thread's own process */
    assert_int_equal(join_main->u.join.thread, 1);
    assert_int_equal(join_main->u.join.timeout, -1);
    scenario_destroy(sc);
}

static void load_buffer_should_ignore_x_keys_everywhere(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(J({
        "x-author": "me", "machine": {"x-note": 1}, "scheduler": {"x-why": [1, 2]},
        "functions": {"f": {"x-doc": "a function", "body": []}},
        "processes": [{"name": "p", "x-colour": "red", "threads": [{"name": "main", "x-role": {"a": 1}, "program": [
            {"op": "compute", "for": "1ms", "x-comment": "one millisecond"}]}]}]
    }));
    assert_int_equal(sc->threads[0].program.count, 1);
    scenario_destroy(sc);
}

static void load_buffer_should_locate_truncated_json(void **state)
{
    (void)state;
    const char *text = "{\n  \"processes\": [\n    {\"name\": \"p\",";
    struct error err;
    assert_null(scenario_load_buffer(text, strlen(text), "t.json", &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_string_equal(err.path, "");
    assert_non_null(strstr(err.msg, "ends too early"));
    /* the end of the text: line 3, after its 17 characters */
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 18);

    /* cut after a newline: the error is at the very end, on the empty last line */
    const char *cut = "{\"processes\": [{\"name\": \"p\", \"threads\": [\n";
    assert_null(scenario_load_buffer(cut, strlen(cut), "t.json", &err));
    assert_non_null(strstr(err.msg, "ends too early"));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 1);
}

static void load_buffer_should_locate_a_json_syntax_error(void **state)
{
    (void)state;
    const char *text = "{\n  \"seed\": 1,,\n  \"processes\": []\n}\n";
    struct error err;
    assert_null(scenario_load_buffer(text, strlen(text), "t.json", &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    /* cJSON stops at the end of the line: the message shows how it ends */
    assert_non_null(strstr(err.msg, "JSON syntax error at the end of the line, after '\"seed\": 1,,'"));
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 14);

    const char *mid = "{\"seed\": 1 \"name\": \"x\"}";
    assert_null(scenario_load_buffer(mid, strlen(mid), "t.json", &err));
    assert_non_null(strstr(err.msg, "JSON syntax error near '\"name\": \"x\"}'"));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 12);

    /* a wrong last byte is not a truncation */
    const char *last = "{\"seed\": 1]";
    assert_null(scenario_load_buffer(last, strlen(last), "t.json", &err));
    assert_non_null(strstr(err.msg, "near ']'"));
    assert_int_equal(err.column, 11);
}

static void load_buffer_should_reject_text_that_is_not_json(void **state)
{
    (void)state;
    const char *text = "name = \"toml?\"\n";
    struct error err;
    assert_null(scenario_load_buffer(text, strlen(text), "t.json", &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_non_null(strstr(err.msg, "JSON syntax error near 'name = \"toml?\"'"));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 1);
    expect_error(J([1, 2]), "", "a scenario is a JSON object, got an array");

    /* a buffer is not a string: the message must not read past its end
     * (ASan builds catch it) */
    const char bytes[] = {'n', 'o', 'p', 'e'};
    char *exact = malloc(sizeof bytes);
    assert_non_null(exact);
    memcpy(exact, bytes, sizeof bytes);
    assert_null(scenario_load_buffer(exact, sizeof bytes, "t.json", &err));
    assert_non_null(strstr(err.msg, "JSON syntax error"));
    free(exact);
}

static void load_buffer_should_reject_an_empty_file(void **state)
{
    (void)state;
    expect_error_len("", 0, "", "the file is empty", (const char *)NULL);
    expect_error_len(" \n\t\n", 4, "", "the file is empty", (const char *)NULL);
}

static void load_buffer_should_reject_text_after_the_scenario(void **state)
{
    (void)state;
    const char *text = "{\"processes\": [{\"name\": \"p\", \"threads\": [{\"name\": \"m\", \"program\": []}]}]}\n"
                       "  {\"seed\": 1}\n";
    struct error err;
    assert_null(scenario_load_buffer(text, strlen(text), "t.json", &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_non_null(strstr(err.msg, "unexpected text after the scenario object"));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 3);
}

static void load_buffer_should_name_the_expected_type(void **state)
{
    (void)state;
    expect_error(J({"machine": {"cpus": "two"}, "processes": []}), "machine.cpus", "expected an integer, got a string");
    expect_error(J({"machine": {"cpus": 1.5}, "processes": []}), "machine.cpus", "expected an integer, got 1.5");
    expect_error(ONE_THREAD(J([{"op": "sleep", "for": true}])), "processes[0].threads[0].program[0].for",
                 "expected a duration string like \"5ms\", got a boolean");
    expect_error(J({"scheduler": {"preemptive": "yes"}, "processes": []}), "scheduler.preemptive",
                 "expected true or false, got a string");
    expect_error(ONE_THREAD(J({"op": "exit"})), "processes[0].threads[0].program", "expected an array of ops, got an object");
    expect_error(ONE_THREAD(J(["exit"])), "processes[0].threads[0].program[0]", "expected an op", "got a string");
    expect_error(J({"name": 7, "processes": []}), "name", "expected a string, got a number");
    expect_error(J({"processes": {}}), "processes", "expected an array of at least one process");
    expect_error(J({"seed": -1, "processes": []}), "seed", "out of range");
}

static void load_buffer_should_list_the_known_ops_for_an_unknown_one(void **state)
{
    (void)state;
    expect_error(ONE_THREAD(J([{"op": "compute", "for": "1ms"}, {"op": "computee", "for": "1ms"}])),
                 "processes[0].threads[0].program[1].op", "unknown op 'computee'", "known ops: compute, sleep, io");
    expect_error(ONE_THREAD(J([{"for": "1ms"}])), "processes[0].threads[0].program[0]", "missing required key 'op'");
}

static void load_buffer_should_suggest_a_close_known_key(void **state)
{
    (void)state;
    expect_error(J({"scheduler": {"policy": "rr", "quantom": "4ms"}, "processes": []}), "scheduler.quantom",
                 "unknown key 'quantom'", "did you mean 'quantum'?");
    expect_error(ONE_THREAD(J([{"op": "compute", "fro": "1ms"}])), "processes[0].threads[0].program[0].fro",
                 "did you mean 'for'?");
    expect_error(J({"procesess": []}), "procesess", "did you mean 'processes'?");
    /* nothing close: the known keys, and how to keep a note */
    expect_error(J({"machine": {"colour": "red"}, "processes": []}), "machine.colour", "unknown key 'colour'",
                 "known keys: cpus", "'x-' are ignored");
}

static void load_buffer_should_reject_a_key_given_twice(void **state)
{
    (void)state;
    expect_error(J({"processes": [{"name": "a", "name": "b", "threads": [{"name": "m", "program": []}]}]}),
                 "processes[0].name", "appears twice");
    expect_error(J({"seed": 1, "processes": [], "seed": 2}), "seed", "appears twice");
}

static void load_buffer_should_reject_a_join_of_an_unknown_thread(void **state)
{
    (void)state;
    expect_error(J({"processes": [{"name": "p", "threads": [
                     {"name": "main", "program": [{"op": "join", "thread": "wroker"}]},
                     {"name": "worker", "program": []}]}]}),
                 "processes[0].threads[0].program[0].thread", "does not exist", "'wroker'", "threads: main, worker");
    /* a thread of another process is not joinable by name */
    expect_error(J({"processes": [{"name": "p", "threads": [{"name": "main", "program": [{"op": "join", "thread": "w"}]}]},
                                  {"name": "q", "threads": [{"name": "w", "program": []}]}]}),
                 "processes[0].threads[0].program[0].thread", "does not exist");
}

static void load_buffer_should_reject_a_start_of_an_unknown_thread(void **state)
{
    (void)state;
    expect_error(ONE_THREAD(J([{"op": "start", "thread": "ghost"}])), "processes[0].threads[0].program[0].thread",
                 "no declared thread named 'ghost'");
    expect_error(J({"functions": {"f": {"body": []}},
                    "processes": [{"name": "p", "threads": [{"name": "main", "program": [
                        {"op": "thread", "name": "t", "call": "f"}, {"op": "start", "thread": "t"}]}]}]}),
                 "processes[0].threads[0].program[1].thread", "created by a thread op");
}

static void load_buffer_should_reject_a_start_of_an_autostart_thread(void **state)
{
    (void)state;
    expect_error(J({"processes": [{"name": "p", "threads": [
                     {"name": "main", "program": [{"op": "start", "thread": "worker"}]},
                     {"name": "worker", "program": []}]}]}),
                 "processes[0].threads[0].program[0].thread", "starts by itself", "\"autostart\": false");
}

static void load_buffer_should_reject_durations_without_a_unit(void **state)
{
    (void)state;
    expect_error(ONE_THREAD(J([{"op": "compute", "for": 5}])), "processes[0].threads[0].program[0].for",
                 "a bare number has no unit", "\"5ms\"");
    expect_error(ONE_THREAD(J([{"op": "sleep", "for": "5"}])), "processes[0].threads[0].program[0].for",
                 "has no unit");
    expect_error(J({"machine": {"context_switch": 0.5}, "processes": []}), "machine.context_switch",
                 "a bare number has no unit");
}

static void load_buffer_should_reject_negative_durations(void **state)
{
    (void)state;
    expect_error(ONE_THREAD(J([{"op": "sleep", "for": "-5ms"}])), "processes[0].threads[0].program[0].for",
                 "cannot be negative");
    expect_error(J({"scheduler": {"quantum": -4}, "processes": []}), "scheduler.quantum", "cannot be negative");
    expect_error(ONE_THREAD(J([{"op": "sleep", "random": ["5ms", "1ms"]}])),
                 "processes[0].threads[0].program[0].random", "high bound is below the low bound");
}

static void load_buffer_should_reject_unknown_units(void **state)
{
    (void)state;
    expect_error(ONE_THREAD(J([{"op": "io", "for": "5h"}])), "processes[0].threads[0].program[0].for",
                 "'5h'", "unknown unit: use ns, us, ms or s");
    expect_error(J({"processes": [{"name": "p", "arrival": "2 days", "threads": [{"name": "m", "program": []}]}]}),
                 "processes[0].arrival", "unknown unit");
    expect_error(ONE_THREAD(J([{"op": "io", "for": "1001days"}])), "processes[0].threads[0].program[0].for",
                 "unknown unit");
    expect_error(ONE_THREAD(J([{"op": "io", "for": "86400001s"}])), "processes[0].threads[0].program[0].for",
                 "too large");
}

static void load_buffer_should_reject_a_repeat_of_ten_to_the_eighteen(void **state)
{
    (void)state;
    expect_error(ONE_THREAD(J([{"op": "repeat", "times": 1000000000000000000, "body": []}])),
                 "processes[0].threads[0].program[0].times", "out of range", "1000000000");
    expect_error(ONE_THREAD(J([{"op": "repeat", "times": 1e18, "body": []}])),
                 "processes[0].threads[0].program[0].times", "out of range");
    expect_error(ONE_THREAD(J([{"op": "repeat", "times": 2.5, "body": []}])),
                 "processes[0].threads[0].program[0].times", "expected an integer");
}

static void load_buffer_should_reject_a_thread_op_creating_ten_to_the_eight_threads(void **state)
{
    (void)state;
    expect_error(J({"functions": {"w": {"body": []}},
                    "processes": [{"name": "p", "threads": [{"name": "main", "program": [
                        {"op": "repeat", "times": 10000, "body": [
                            {"op": "repeat", "times": 10000, "body": [{"op": "thread", "name": "t", "call": "w"}]}]}]}]}]}),
                 "processes[0].threads[0].program[0].body[0].body[0]", "100000000 threads", "limit is 2000000");
    /* through a function: the call site is named */
    expect_error(J({"functions": {"w": {"body": []},
                                  "spawn": {"body": [{"op": "repeat", "times": 10000, "body": [
                                      {"op": "thread", "name": "t", "call": "w"}]}]}},
                    "processes": [{"name": "p", "threads": [{"name": "main", "program": [
                        {"op": "repeat", "times": 10000, "body": [{"op": "call", "fn": "spawn"}]}]}]}]}),
                 "processes[0].threads[0].program[0].body[0]", "100000000 threads");
    /* many ops, each within the limit: the program is named */
    expect_error(J({"functions": {"w": {"body": []}},
                    "processes": [{"name": "p", "threads": [{"name": "main", "program": [
                        {"op": "repeat", "times": 1500000, "body": [{"op": "thread", "name": "a", "call": "w"}]},
                        {"op": "repeat", "times": 1500000, "body": [{"op": "thread", "name": "b", "call": "w"}]}]}]}]}),
                 "processes[0].threads[0].program", "3000000 threads");
}

static void load_buffer_should_stop_recursive_calls_quickly(void **state)
{
    (void)state;
    /* each call of f calls f twice: followed call by call that is 2^64 calls */
    struct scenario *sc = load_ok(J({
        "functions": {"f": {"params": ["n"], "body": [
            {"op": "compute", "work": "count", "n": "$n"},
            {"op": "call", "fn": "f", "args": ["$n"]}, {"op": "call", "fn": "f", "args": ["$n"]}]}},
        "processes": [{"name": "p", "threads": [{"name": "main", "program": [{"op": "call", "fn": "f", "args": [1]}]}]}]
    }));
    assert_true(scenario_thread_compute(sc, 0) > 0);
    scenario_destroy(sc);
    expect_error(J({"functions": {"f": {"body": [{"op": "thread", "name": "t", "call": "f"},
                                                 {"op": "call", "fn": "f"}, {"op": "call", "fn": "f"}]}},
                    "processes": [{"name": "p", "threads": [{"name": "main", "program": [{"op": "call", "fn": "f"}]}]}]}),
                 "processes[0].threads[0].program[0]", "threads");
}

static void load_buffer_should_reject_too_many_cpus(void **state)
{
    (void)state;
    expect_error(J({"machine": {"cpus": 1025}, "processes": []}), "machine.cpus", "out of range: expected 1 to 1024");
    expect_error(J({"machine": {"cpus": 0}, "processes": []}), "machine.cpus", "out of range");
}

static void load_buffer_should_reject_duplicate_names(void **state)
{
    (void)state;
    expect_error(J({"processes": [{"name": "p", "threads": [{"name": "main", "program": []}]},
                                  {"name": "p", "threads": [{"name": "main", "program": []}]}]}),
                 "processes[1].name", "already a process named 'p'");
    expect_error(J({"processes": [{"name": "p", "threads": [{"name": "main", "program": []},
                                                            {"name": "main", "program": []}]}]}),
                 "processes[0].threads[1].name", "already has a thread named 'main'");
    expect_error(J({"functions": {"f": {"params": ["n", "n"], "body": []}}, "processes": [{"name": "p", "threads": [{"name": "m", "program": []}]}]}),
                 "functions.f.params[1]", "'n' is declared twice");
    expect_error(J({"processes": [{"name": "9lives", "threads": [{"name": "main", "program": []}]}]}),
                 "processes[0].name", "not a valid name");
}

static void load_buffer_should_reject_an_unknown_local(void **state)
{
    (void)state;
    expect_error(J({"functions": {"f": {"params": ["n"], "body": [{"op": "compute", "work": "count", "n": "$x"}]}},
                    "processes": [{"name": "p", "threads": [{"name": "m", "program": []}]}]}),
                 "functions.f.body[0].n", "'$x' is not a local variable here", "known: $n");
    expect_error(ONE_THREAD(J([{"op": "repeat", "times": "$x", "body": []}])),
                 "processes[0].threads[0].program[0].times", "'$x' is not a local variable");
}

static void load_buffer_should_reject_a_wrong_argument_count(void **state)
{
    (void)state;
    expect_error(J({"functions": {"f": {"params": ["n"], "body": []}},
                    "processes": [{"name": "p", "threads": [{"name": "main", "program": [
                        {"op": "call", "fn": "f", "args": [1, 2]}]}]}]}),
                 "processes[0].threads[0].program[0].args", "function 'f' takes 1 argument, not 2");
    expect_error(J({"functions": {"f": {"params": ["a", "b"], "body": []}},
                    "processes": [{"name": "p", "threads": [{"name": "main", "program": [
                        {"op": "thread", "name": "t", "call": "f"}]}]}]}),
                 "processes[0].threads[0].program[0].args", "takes 2 arguments, not 0");
    expect_error(ONE_THREAD(J([{"op": "call", "fn": "nope"}])), "processes[0].threads[0].program[0].fn",
                 "no function named 'nope'");
}

static void load_buffer_should_check_gil_settings(void **state)
{
    (void)state;
    /* the old GIL loads; its check interval is a number of ticks */
    struct scenario *old = load_ok(J({"processes": [{"name": "p", "gil": {"mode": "old", "check_interval": 1000,
                                                                          "jitter": false},
                                                     "threads": [{"name": "main", "program": []}]}]}));
    assert_int_equal(old->processes[0].gil.mode, GIL_OLD);
    assert_int_equal(old->processes[0].gil.check_interval, 1000);
    assert_true(old->processes[0].gil.no_jitter);
    scenario_destroy(old);
    old = load_ok(J({"processes": [{"name": "p", "gil": {"mode": "old"}, "threads": [{"name": "main", "program": []}]}]}));
    assert_int_equal(old->processes[0].gil.check_interval, 100);
    assert_false(old->processes[0].gil.no_jitter);
    scenario_destroy(old);
    expect_error(J({"processes": [{"name": "p", "gil": {"mode": "old", "check_interval": 0},
                                   "threads": [{"name": "main", "program": []}]}]}),
                 "processes[0].gil.check_interval", "0 is out of range: the check interval counts ticks");
    expect_error(J({"processes": [{"name": "p", "gil": {"mode": "old", "check_interval": 1000001},
                                   "threads": [{"name": "main", "program": []}]}]}),
                 "processes[0].gil.check_interval", "1 to 1000000");
    expect_error(J({"processes": [{"name": "p", "gil": {"mode": "old", "check_interval": 2.5},
                                   "threads": [{"name": "main", "program": []}]}]}),
                 "processes[0].gil.check_interval", "expected an integer");
    expect_error(J({"processes": [{"name": "p", "gil": {"mode": "old", "checkpoints": "backedge"},
                                   "threads": [{"name": "main", "program": []}]}]}),
                 "processes[0].gil.checkpoints", "belongs to the new GIL");
    expect_error(J({"processes": [{"name": "p", "gil": {"mode": "new", "jitter": false},
                                   "threads": [{"name": "main", "program": []}]}]}),
                 "processes[0].gil.jitter", "belongs to the old GIL");
    expect_error(J({"processes": [{"name": "p", "gil": {"mode": "old", "jitter": "no"},
                                   "threads": [{"name": "main", "program": []}]}]}),
                 "processes[0].gil.jitter", "expected true or false");
    expect_error(J({"machine": {"profile": {"gil_wake_ns": -1}}, "processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}]}),
                 "machine.profile", "gil_wake_ns");
    expect_error(J({"machine": {"profile": {"lock_handoff": "fair"}}, "processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}]}),
                 "machine.profile", "'lock_handoff' must be \"fifo\" or \"barging\"");
    expect_error(J({"machine": {"profile": {"thread_start_wait": 1}}, "processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}]}),
                 "machine.profile", "'thread_start_wait' must be true or false");
    expect_error(J({"machine": {"profile": {"primes_ns_per_number": -1}}, "processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}]}),
                 "machine.profile", "'primes_ns_per_number' must be a non-negative number");
    expect_error(J({"machine": {"profile": {"primes_ns_per_number": "3ns"}}, "processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}]}),
                 "machine.profile", "'primes_ns_per_number' must be a non-negative number");
    expect_error(J({"machine": {"profile": {"process_start_ns": -5}}, "processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}]}),
                 "machine.profile", "process_start_ns");
    expect_error(J({"processes": [{"name": "p", "gil": {"mode": "new", "check_interval": 100},
                                   "threads": [{"name": "main", "program": []}]}]}),
                 "processes[0].gil.check_interval", "belongs to the old GIL");
    /* the new GIL loads, in a process and for a child process */
    struct scenario *gil = load_ok(J({"functions": {"f": {"body": []}},
                                      "processes": [{"name": "p", "gil": {"mode": "new", "switch_interval": "100us",
                                                                          "wakeup": "random", "checkpoints": "backedge"},
                                                     "threads": [{"name": "main", "program": [
                                                         {"op": "process", "name": "c", "call": "f", "gil": {"mode": "new"}}]}]}]}));
    assert_int_equal(gil->processes[0].gil.mode, GIL_NEW);
    assert_int_equal(gil->processes[0].gil.switch_interval, 100000);
    assert_true(gil->processes[0].gil.random_wakeup);
    assert_true(gil->processes[0].gil.backedge_checks);
    assert_int_equal(gil->ops[gil->threads[0].program.first].u.process.gil.switch_interval, 5000000);
    scenario_destroy(gil);
    /* "none" is what this version simulates */
    struct scenario *sc = load_ok(J({"processes": [{"name": "p", "gil": "none",
                                                    "threads": [{"name": "main", "program": []}]}]}));
    scenario_destroy(sc);
}

static void load_buffer_should_check_objects_memory_and_values(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(J({
        "objects": {"L": {"type": "lock"}, "C": {"type": "condition", "lock": "L"}, "x-note": 1},
        "shared": {"total": 0, "slots": [1, 2, 3]},
        "processes": [{"name": "p", "memory": {"mine": 7}, "threads": [{"name": "main", "program": [
            {"op": "with", "obj": "C", "body": [{"op": "add", "var": "slots[2]", "value": {"mul": [{"var": "mine"}, 2]}}]},
            {"op": "load", "var": "total", "into": "t"},
            {"op": "while", "cond": {"var": "$t", "lt": 3}, "body": [{"op": "let", "into": "t", "value": {"add": ["$t", 1]}}]}]}]}]
    }));
    assert_int_equal(sc->nobjects, 2);
    assert_string_equal(sc->objects[1].name, "C");
    assert_int_equal(sc->objects[1].type, OBJ_CONDITION);
    assert_int_equal(sc->objects[1].lock, 0);
    assert_int_equal(sc->objects[0].process, -1);
    assert_int_equal(sc->nvars, 3);
    assert_int_equal(sc->vars[1].length, 3);
    assert_int_equal(sc->vars[1].init[2], 3);
    assert_int_equal(sc->vars[2].process, 0);
    assert_int_equal(sc->threads[0].nlocals, 1);
    assert_string_equal(sc->threads[0].local_names[0], "t");
    scenario_destroy(sc);

    expect_error(ONE_THREAD(J([{"op": "acquire", "obj": "L"}])), "processes[0].threads[0].program[0].obj",
                 "no object named 'L'");
    expect_error(J({"objects": {"E": {"type": "event"}}, "processes": [{"name": "p", "threads": [{"name": "m",
                   "program": [{"op": "acquire", "obj": "E"}]}]}]}),
                 "processes[0].threads[0].program[0].obj", "the op 'acquire' works on lock, rlock");
    expect_error(J({"objects": {"C": {"type": "condition"}}, "processes": [{"name": "p", "threads": [
                     {"name": "m", "program": []}]}]}),
                 "objects.C", "a condition needs its lock");
    expect_error(J({"processes": [{"name": "a", "memory": {"balance": 1}, "threads": [{"name": "m", "program": []}]},
                                  {"name": "b", "threads": [{"name": "m", "program": [{"op": "add", "var": "balance"}]}]}]}),
                 "processes[1].threads[0].program[0].var", "private memory of process 'a'", "\"shared\"");
    expect_error(J({"shared": {"slots": [0, 0]}, "processes": [{"name": "p", "threads": [{"name": "m", "program": [
                     {"op": "add", "var": "slots[2]"}]}]}]}),
                 "processes[0].threads[0].program[0].var", "index 2 is past the end of 'slots' (length 2)");
    /* "x-" keys are ignored inside values too: the contract says so for every object */
    const char *noted = ONE_THREAD(J([{"op": "let", "into": "x", "value": {"add": [1, 2], "x-note": 1}}]));
    struct error noted_err;
    struct scenario *noted_sc = scenario_load_buffer(noted, strlen(noted), "t.json", &noted_err);
    assert_non_null(noted_sc);
    assert_int_equal(noted_sc->ops[noted_sc->threads[0].program.first].u.let.value.kind, VALUE_EXPR);
    scenario_destroy(noted_sc);
    expect_error(ONE_THREAD(J([{"op": "let", "into": "x", "value": {"add": [1, 2], "mul": [1, 2]}}])),
                 "processes[0].threads[0].program[0].value", "one arithmetic key");
}

static void load_buffer_should_enforce_the_other_limits(void **state)
{
    (void)state;
    expect_error(ONE_THREAD(J([{"op": "compute", "work": "primes", "from": 0, "to": 100000000}])),
                 "processes[0].threads[0].program[0].to", "range of primes is too wide");
    expect_error(ONE_THREAD(J([{"op": "compute", "work": "count", "n": 1e16}])),
                 "processes[0].threads[0].program[0].n", "out of range");
    expect_error(J({"scheduler": {"levels": []}, "processes": []}), "scheduler.levels", "expected 1 to 64 levels");
    expect_error(J({"scheduler": {"levels": [{"quantum": "1ms", "allotment": 0}]}, "processes": []}),
                 "scheduler.levels[0].allotment", "out of range");
    expect_error(J({"processes": [{"name": "p", "nice": 20, "threads": [{"name": "m", "program": []}]}]}),
                 "processes[0].nice", "expected -20 to 19");

    /* nesting: 70 repeats one inside the other */
    char deep[4096] = "";
    strcat(deep, "{\"processes\": [{\"name\": \"p\", \"threads\": [{\"name\": \"m\", \"program\": ");
    for (int i = 0; i < 70; i++)
        strcat(deep, "[{\"op\": \"repeat\", \"times\": 1, \"body\": ");
    strcat(deep, "[]");
    for (int i = 0; i < 70; i++)
        strcat(deep, "}]");
    strcat(deep, "}]}]}");
    struct error err;
    assert_null(scenario_load_buffer(deep, strlen(deep), "deep.json", &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_non_null(strstr(err.msg, "nest deeper than 64 levels"));
    assert_non_null(strstr(err.path, "processes[0].threads[0].program[0].body[0].body[0]"));

    /* a print text of SCENARIO_MAX_TEXT + 1 bytes */
    size_t n = SCENARIO_MAX_TEXT + 1;
    char *big = malloc(n + 200);
    assert_non_null(big);
    strcpy(big, "{\"processes\": [{\"name\": \"p\", \"threads\": [{\"name\": \"m\", \"program\": [{\"op\": \"print\", \"text\": \"");
    size_t len = strlen(big);
    memset(big + len, 'a', n);
    strcpy(big + len + n, "\"}]}]}]}");
    expect_error(big, "processes[0].threads[0].program[0].text", "longer than 4096 bytes");
    free(big);
}

static void load_buffer_should_reject_malformed_print_text(void **state)
{
    (void)state;
    expect_error(ONE_THREAD(J([{"op": "print", "text": "a {b"}])), "processes[0].threads[0].program[0].text",
                 "unclosed '{'");
    expect_error(ONE_THREAD(J([{"op": "print", "text": "a } b"}])), "processes[0].threads[0].program[0].text",
                 "lone '}'");
    expect_error(ONE_THREAD(J([{"op": "print", "text": "{}"}])), "processes[0].threads[0].program[0].text",
                 "must name a variable");
}

static void load_file_should_report_a_missing_file(void **state)
{
    (void)state;
    struct error err;
    const char *path = THREADSIM_SOURCE_DIR "/tests/data/no-such-scenario.json";
    assert_null(scenario_load_file(path, &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_string_equal(err.path, "");
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_non_null(strstr(err.msg, "no-such-scenario.json"));
    assert_non_null(strstr(err.msg, "No such file or directory"));
}

static void load_file_should_refuse_a_directory(void **state)
{
    (void)state;
    struct error err;
    assert_null(scenario_load_file(THREADSIM_SOURCE_DIR "/tests/data", &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    assert_non_null(strstr(err.msg, "is a directory"));
}

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void load_file_should_find_the_profile_next_to_the_scenario(void **state)
{
    (void)state;
    char dir[] = "/tmp/threadsim-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "slow.json", J({"name": "slow", "count_ns_per_iter": 100.0, "spin_ns_per_ns": 2.0,
                                    "primes_ns_per_number": 2.75}));
    write_file(dir, "scenario.json", J({"machine": {"profile": "slow.json"},
                                        "processes": [{"name": "p", "threads": [{"name": "m", "program": [
                                            {"op": "compute", "work": "count", "n": 10}]}]}]}));
    write_file(dir, "bad.json", J({"machine": {"profile": "missing.json"}, "processes": []}));
    char path[1024];
    snprintf(path, sizeof path, "%s/scenario.json", dir);
    struct error err;
    struct scenario *sc = scenario_load_file(path, &err);
    if (!sc)
        fail_msg("%s: %s", err.path, err.msg);
    assert_string_equal(sc->name, "scenario");
    assert_string_equal(sc->profile.name, "slow");
    assert_true(sc->profile.count_ns_per_iter == 100.0);
    assert_true(sc->profile.spin_ns_per_ns == 2.0);
    assert_true(sc->profile.primes_ns_per_number == 2.75);
    /* keys the profile does not give keep their built-in value */
    assert_true(sc->profile.primes_ns_per_division == 60.0);
    assert_non_null(strstr(sc->machine.profile_path, "/slow.json"));
    assert_int_equal(scenario_thread_compute(sc, 0), 1000);
    scenario_destroy(sc);

    snprintf(path, sizeof path, "%s/bad.json", dir);
    assert_null(scenario_load_file(path, &err));
    assert_string_equal(err.path, "machine.profile");
    assert_non_null(strstr(err.msg, "cannot open"));

    const char *names[] = {"slow.json", "scenario.json", "bad.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void parse_duration_should_read_each_unit(void **state)
{
    (void)state;
    struct { const char *text; sim_time ns; } cases[] = {
        {"1.5s", 1500000000}, {"0.75ms", 750000}, {"40us", 40000}, {"250ns", 250}, {"5ms", 5000000},
        {"0s", 0}, {".5ms", 500000}, {"2 ms", 2000000}, {"3\xc2\xb5s", 3000}, {"86400000s", SCENARIO_MAX_DURATION},
        /* rounded to the nearest nanosecond */
        {"1.4ns", 1}, {"1.5ns", 2}, {"0.0000000015s", 2}, {"1.9999999999s", 2000000000},
        {"0.1234567891ms", 123457},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct error err;
        sim_time ns = -1;
        if (scenario_parse_duration(cases[i].text, &ns, &err) != STATUS_OK)
            fail_msg("'%s': %s", cases[i].text, err.msg);
        if (ns != cases[i].ns)
            fail_msg("'%s' gave %lld ns, expected %lld", cases[i].text, (long long)ns, (long long)cases[i].ns);
    }
}

static void parse_duration_should_explain_what_is_wrong(void **state)
{
    (void)state;
    struct { const char *text; const char *fact; } cases[] = {
        {"5", "has no unit"}, {"-5ms", "cannot be negative"}, {"5h", "unknown unit"}, {"ms", "expected a duration"},
        {"", "expected a duration"}, {"5.ms", "digits after the decimal point"}, {"86400000.000000001s", "too large"},
        {"99999999999999999999999s", "too large"}, {"1e3ms", "unknown unit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct error err;
        sim_time ns = 0;
        assert_int_equal(scenario_parse_duration(cases[i].text, &ns, &err), STATUS_BAD_INPUT);
        if (!strstr(err.msg, cases[i].fact))
            fail_msg("'%s': message \"%s\" should contain \"%s\"", cases[i].text, err.msg, cases[i].fact);
    }
}

static void thread_compute_should_follow_repeats_and_calls(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(J({
        "functions": {
            "count": {"params": ["n"], "body": [{"op": "compute", "work": "count", "n": "$n"}]},
            "twice": {"params": ["k"], "body": [{"op": "repeat", "times": 2, "body": [
                {"op": "call", "fn": "count", "args": ["$k"]}]}]}},
        "processes": [{"name": "p", "threads": [
            {"name": "main", "program": [
                {"op": "repeat", "times": 3, "body": [{"op": "compute", "for": "1ms"},
                                                       {"op": "call", "fn": "count", "args": [1000]},
                                                       {"op": "sleep", "for": "1s"}]},
                {"op": "call", "fn": "twice", "args": [8]},
                {"op": "compute", "work": "spin", "for": "2ms"}]},
            {"name": "io_only", "program": [{"op": "io", "for": "5ms"}, {"op": "sleep", "for": "5ms"}]}]}]
    }));
    /* 3 x (1 ms + 1000 x 71.875 ns) + 2 x 8 x 71.875 ns + 2 ms; sleeping is not computing */
    assert_int_equal(scenario_thread_compute(sc, 0), 3 * (1000000 + 71875) + 1150 + 2000000);
    assert_int_equal(scenario_thread_compute(sc, 1), 0);
    int64_t args[] = {100};
    assert_int_equal(scenario_function_compute(sc, 0, args, 1), 7188); /* llround(7187.5) */
    /* an argument that is not known counts as 0 */
    assert_int_equal(scenario_function_compute(sc, 0, NULL, 0), 0);
    scenario_destroy(sc);
}

static void compute_cost_should_follow_the_profile(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(ONE_THREAD(J([])));
    struct op_compute count = {.kind = COMPUTE_COUNT};
    assert_int_equal(scenario_compute_cost(sc, &count, 80000000, 0, 0), 5750000000LL);
    assert_int_equal(scenario_compute_cost(sc, &count, 3, 0, 0), 216); /* llround(215.625) */
    assert_int_equal(scenario_compute_cost(sc, &count, 0, 0, 0), 0);
    assert_int_equal(scenario_compute_cost(sc, &count, -5, 0, 0), 0);

    struct op_compute spin = {.kind = COMPUTE_SPIN, .dur = 1000};
    assert_int_equal(scenario_compute_cost(sc, &spin, 0, 0, 0), 1000);
    sc->profile.spin_ns_per_ns = 2.5;
    assert_int_equal(scenario_compute_cost(sc, &spin, 0, 0, 0), 2500);

    struct op_compute primes = {.kind = COMPUTE_PRIMES};
    assert_int_equal(scenario_compute_cost(sc, &primes, 0, 2, 100),
                     (sim_time)llround((double)work_primes_divisions(2, 100) * 60.0));
    /* 2..10: 4, 6, 8, 10 take one division, 9 two, 5 and 7 one each */
    assert_int_equal(work_primes_divisions(2, 10), 8);
    assert_int_equal(scenario_compute_cost(sc, &primes, 0, 2, 10), 480);
    assert_int_equal(scenario_compute_cost(sc, &primes, 0, 50, 10), 0);
    assert_int_equal(scenario_compute_cost(sc, &primes, 0, -100, 1), 0);
    /* each number tested costs primes_ns_per_number more: 2..10 is nine
     * numbers, 8 * 60 + 9 * 2.5 = 502.5 ns; a range from below 2 starts at 2 */
    sc->profile.primes_ns_per_number = 2.5;
    assert_int_equal(scenario_compute_cost(sc, &primes, 0, 2, 10), 503);
    assert_int_equal(scenario_compute_cost(sc, &primes, 0, -7, 10), 503);
    assert_int_equal(scenario_compute_cost(sc, &primes, 0, 50, 10), 0);
    sc->profile.primes_ns_per_number = 0;

    struct op_compute fixed = {.kind = COMPUTE_FOR, .dur = 12345};
    assert_int_equal(scenario_compute_cost(sc, &fixed, 0, 0, 0), 12345);
    scenario_destroy(sc);
}

static void compute_cost_should_count_wide_primes_ranges_exactly_and_fast(void **state)
{
    (void)state;
    struct scenario *sc = load_ok(ONE_THREAD(J([])));
    sc->profile.primes_ns_per_division = 1.0;
    struct op_compute primes = {.kind = COMPUTE_PRIMES};
    /* ranges too costly to count one division at a time take the sieve:
     * it must give the same count */
    int64_t ranges[][2] = {{0, 1000000}, {990000, 1010000}, {1000000007, 1000020000}, {123456789, 123556789}};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        assert_int_equal(scenario_compute_cost(sc, &primes, 0, ranges[i][0], ranges[i][1]),
                         (sim_time)work_primes_divisions(ranges[i][0], ranges[i][1]));
    /* the widest range the loader accepts, at its highest: counted one by
     * one that is hours; the test's timeout would catch a regression */
    sim_time top = scenario_compute_cost(sc, &primes, 0, SCENARIO_MAX_WORK_N - SCENARIO_MAX_PRIMES_RANGE,
                                         SCENARIO_MAX_WORK_N);
    assert_true(top > 0);
    /* run-time values beyond the loader's limits are clamped to them */
    assert_int_equal(scenario_compute_cost(sc, &primes, 0, SCENARIO_MAX_WORK_N - SCENARIO_MAX_PRIMES_RANGE, INT64_MAX),
                     top);
    scenario_destroy(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_buffer_should_read_every_key_of_a_full_scenario),
        cmocka_unit_test(load_buffer_should_apply_the_defaults),
        cmocka_unit_test(load_buffer_should_convert_durations_to_nanoseconds),
        cmocka_unit_test(load_buffer_should_read_each_kind_of_compute),
        cmocka_unit_test(load_buffer_should_give_each_op_its_json_path),
        cmocka_unit_test(load_buffer_should_store_repeat_bodies_as_contiguous_blocks),
        cmocka_unit_test(load_buffer_should_resolve_params_as_locals),
        cmocka_unit_test(load_buffer_should_split_print_text_into_pieces),
        cmocka_unit_test(load_buffer_should_resolve_start_and_join_targets),
        cmocka_unit_test(load_buffer_should_ignore_x_keys_everywhere),
        cmocka_unit_test(load_buffer_should_locate_truncated_json),
        cmocka_unit_test(load_buffer_should_locate_a_json_syntax_error),
        cmocka_unit_test(load_buffer_should_reject_text_that_is_not_json),
        cmocka_unit_test(load_buffer_should_reject_an_empty_file),
        cmocka_unit_test(load_buffer_should_reject_text_after_the_scenario),
        cmocka_unit_test(load_buffer_should_name_the_expected_type),
        cmocka_unit_test(load_buffer_should_list_the_known_ops_for_an_unknown_one),
        cmocka_unit_test(load_buffer_should_suggest_a_close_known_key),
        cmocka_unit_test(load_buffer_should_reject_a_key_given_twice),
        cmocka_unit_test(load_buffer_should_reject_a_join_of_an_unknown_thread),
        cmocka_unit_test(load_buffer_should_reject_a_start_of_an_unknown_thread),
        cmocka_unit_test(load_buffer_should_reject_a_start_of_an_autostart_thread),
        cmocka_unit_test(load_buffer_should_reject_durations_without_a_unit),
        cmocka_unit_test(load_buffer_should_reject_negative_durations),
        cmocka_unit_test(load_buffer_should_reject_unknown_units),
        cmocka_unit_test(load_buffer_should_reject_a_repeat_of_ten_to_the_eighteen),
        cmocka_unit_test(load_buffer_should_reject_a_thread_op_creating_ten_to_the_eight_threads),
        cmocka_unit_test(load_buffer_should_stop_recursive_calls_quickly),
        cmocka_unit_test(load_buffer_should_reject_too_many_cpus),
        cmocka_unit_test(load_buffer_should_reject_duplicate_names),
        cmocka_unit_test(load_buffer_should_reject_an_unknown_local),
        cmocka_unit_test(load_buffer_should_reject_a_wrong_argument_count),
        cmocka_unit_test(load_buffer_should_check_gil_settings),
        cmocka_unit_test(load_buffer_should_check_objects_memory_and_values),
        cmocka_unit_test(load_buffer_should_enforce_the_other_limits),
        cmocka_unit_test(load_buffer_should_reject_malformed_print_text),
        cmocka_unit_test(load_file_should_report_a_missing_file),
        cmocka_unit_test(load_file_should_refuse_a_directory),
        cmocka_unit_test(load_file_should_find_the_profile_next_to_the_scenario),
        cmocka_unit_test(parse_duration_should_read_each_unit),
        cmocka_unit_test(parse_duration_should_explain_what_is_wrong),
        cmocka_unit_test(thread_compute_should_follow_repeats_and_calls),
        cmocka_unit_test(compute_cost_should_follow_the_profile),
        cmocka_unit_test(compute_cost_should_count_wide_primes_ranges_exactly_and_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
