#!/usr/bin/python3
"""End-to-end tests of `threadsim real`: the real binary runs small scenarios
for real and the tests check what a user sees: the contracted JSON shape
(the same as `run`), CSV, text, traces, and the exit codes of refusals (2),
deadlocks (3), run-time errors (4) and the watchdog (5), with no process
left behind.

Usage: test_real.py --threadsim PATH/TO/threadsim --source-dir PROJECT_DIR
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

THREADSIM = None
SOURCE_DIR = None
CONTRACT_KEYS = ["scenario", "policy", "cpus", "seed", "makespan_ns", "threads",
                 "memory", "shared", "stats"]
THREAD_KEYS = ["process", "name", "arrival_ns", "first_run_ns", "finish_ns",
               "response_ns", "turnaround_ns", "wait_ns", "cpu_ns", "blocked_ns",
               "gil_wait_ns", "context_switches"]
STATS_KEYS = ["events", "context_switches", "gil_switches", "lost_updates", "deadlock"]
MS = 1000000

LOCKED = {
    "name": "locked counter",
    "machine": {"cpus": 2},
    "objects": {"L": {"type": "lock"}},
    "shared": {"total": 0},
    "functions": {"work": {"params": ["n"], "body": [
        {"op": "repeat", "times": "$n", "body": [
            {"op": "with", "obj": "L", "body": [{"op": "add", "var": "total", "value": 1}]}]}]}},
    "processes": [{"name": "main", "gil": {"mode": "new", "switch_interval": "5ms"}, "threads": [
        {"name": "MainThread", "program": [
            {"op": "thread", "name": "a", "call": "work", "args": [2000]},
            {"op": "thread", "name": "b", "call": "work", "args": [2000]},
            {"op": "join", "thread": "a"}, {"op": "join", "thread": "b"},
            {"op": "sleep", "for": "10ms"},
            {"op": "print", "text": "total = {total}"}]}]}],
}

DEADLOCK = {
    "name": "deadlock",
    "objects": {"A": {"type": "lock"}, "B": {"type": "lock"},
                "both": {"type": "barrier", "parties": 2}},
    "processes": [{"name": "main", "threads": [
        {"name": "t1", "program": [{"op": "acquire", "obj": "A"}, {"op": "wait", "obj": "both"},
                                   {"op": "acquire", "obj": "B"}]},
        {"name": "t2", "program": [{"op": "acquire", "obj": "B"}, {"op": "wait", "obj": "both"},
                                   {"op": "acquire", "obj": "A"}]}]}],
}

ENDLESS = {
    "name": "endless",
    "shared": {"x": 0},
    "processes": [{"name": "main", "threads": [
        {"name": "t", "program": [{"op": "while", "cond": {"var": "x", "eq": 0},
                                   "body": [{"op": "compute", "for": "1ms"}]}]}]}],
}

MISUSE = {
    "name": "misuse",
    "objects": {"L": {"type": "lock"}},
    "processes": [{"name": "main", "threads": [
        {"name": "t", "program": [{"op": "release", "obj": "L"}]}]}],
}

BARRIER_TIMEOUT = {
    "name": "barrier_timeout",
    "objects": {"B": {"type": "barrier", "parties": 2}},
    "processes": [{"name": "main", "threads": [
        {"name": "t", "program": [{"op": "wait", "obj": "B", "timeout": "1s"}]}]}],
}


LONG = {
    "name": "long",
    "functions": {"nap": {"params": [], "body": [{"op": "sleep", "for": "30s"}]}},
    "processes": [{"name": "main", "threads": [
        {"name": "MainThread", "program": [
            {"op": "process", "name": "child", "call": "nap"},
            {"op": "sleep", "for": "30s"}]}]}],
}


def running_with(word):
    """Processes (not zombies) whose command line holds word."""
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        if word.encode() in cmd and stat[stat.rfind(")") + 2] != "Z":
            n += 1
    return n


def children():
    """Processes whose parent is this test (none should outlive a run)."""
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == os.getpid():
            n += 1
    return n


def scaled_lecture(name, factor):
    """The lecture scenario scenarios/lectures/NAME.json with every duration
    in seconds ("1s", "4.5s") multiplied by factor, so a 30 s lecture runs
    in a fraction of a second with the same order of events."""
    with open(os.path.join(SOURCE_DIR, "scenarios", "lectures", name + ".json")) as f:
        doc = json.load(f)

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("for", "after") and isinstance(v, str) and v.endswith("s") \
                        and v[:-1].replace(".", "", 1).isdigit():
                    x[k] = "%dus" % round(float(v[:-1]) * factor * 1e6)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc)
    doc["name"] = name + " scaled"
    return doc


class RealTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def scenario(self, doc):
        path = os.path.join(self.dir.name, doc["name"].replace(" ", "_") + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def real(self, doc, *args, code=0):
        proc = subprocess.run([THREADSIM, "real", self.scenario(doc), *args],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, code,
                         "exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s"
                         % (proc.returncode, code, proc.stdout, proc.stderr))
        self.assertEqual(children(), 0)
        return proc

    def test_json_should_have_the_shape_of_run(self):
        out = json.loads(self.real(LOCKED, "--format", "json").stdout)
        self.assertEqual(list(out.keys()), CONTRACT_KEYS)
        self.assertEqual(out["policy"], "os")
        self.assertEqual([t["name"] for t in out["threads"]], ["MainThread", "a", "b"])
        for t in out["threads"]:
            self.assertEqual(list(t.keys()), THREAD_KEYS)
            self.assertEqual(t["response_ns"], t["first_run_ns"] - t["arrival_ns"])
            self.assertEqual(t["turnaround_ns"], t["finish_ns"] - t["arrival_ns"])
            self.assertLessEqual(t["finish_ns"], out["makespan_ns"])
        self.assertEqual(list(out["stats"].keys())[:5], STATS_KEYS)
        self.assertEqual(out["memory"], {"main": {}})
        self.assertEqual(out["shared"], {"total": 4000})
        self.assertIsNone(out["stats"]["deadlock"])
        self.assertIn("gil", out["stats"])
        main = out["threads"][0]
        self.assertGreaterEqual(main["blocked_ns"] + main["wait_ns"], 10 * MS)

    def test_repeat_should_report_medians_of_successful_runs(self):
        out = json.loads(self.real(LOCKED, "--format", "json", "--repeat", "3").stdout)
        self.assertEqual(out["shared"], {"total": 4000})
        self.assertGreaterEqual(out["makespan_ns"], 10 * MS)

    def test_csv_should_have_the_header_and_one_row_per_thread(self):
        rows = list(csv.reader(io.StringIO(self.real(LOCKED, "--format", "csv").stdout)))
        self.assertEqual(rows[0], THREAD_KEYS)
        self.assertEqual([r[1] for r in rows[1:]], ["MainThread", "a", "b"])

    def test_text_should_show_the_table_and_printed_lines(self):
        out = self.real(LOCKED).stdout
        self.assertIn("real run on", out)
        self.assertIn("main/MainThread", out)
        self.assertIn("total = 4000", out)
        self.assertIn("makespan:", out)

    def test_printed_lines_should_come_in_the_order_of_their_times(self):
        # two threads take turns printing, 20 ms apart (so a loaded
        # machine's delays do not swap them): a real trace keeps each
        # thread's instants together, the report interleaves them
        turns = {
            "name": "turns", "machine": {"cpus": 2},
            "functions": {"say": {"params": [], "body": [
                {"op": "repeat", "times": 3, "body": [
                    {"op": "print", "text": "turn"}, {"op": "sleep", "for": "40ms"}]}]}},
            "processes": [{"name": "main", "threads": [
                {"name": "a", "program": [{"op": "call", "fn": "say"}]},
                {"name": "b", "program": [{"op": "sleep", "for": "20ms"}, {"op": "call", "fn": "say"}]}]}]}
        out = self.real(turns).stdout
        printed = out.split("printed:\n", 1)[1].splitlines()
        self.assertEqual([line.split()[2] for line in printed],
                         ["main/a:", "main/b:", "main/a:", "main/b:", "main/a:", "main/b:"], printed)
        times = [float(line.split()[0]) for line in printed]
        self.assertEqual(times, sorted(times))

    def test_trace_should_be_the_common_format_with_source_real(self):
        path = os.path.join(self.dir.name, "trace.json")
        self.real(LOCKED, "--format", "csv", "--trace", path)
        with open(path) as f:
            tr = json.load(f)
        self.assertEqual(tr["source"], "real")
        self.assertGreater(len(tr["segments"]), 3)
        self.assertGreater(tr["makespan_ns"], 0)

    def test_perfetto_should_write_chrome_trace_json(self):
        path = os.path.join(self.dir.name, "perfetto.json")
        self.real(LOCKED, "--format", "csv", "--perfetto", path)
        with open(path) as f:
            self.assertTrue(json.load(f))

    def test_deadlock_should_exit_3_naming_who_waits(self):
        proc = self.real(DEADLOCK, "--format", "json", code=3)
        self.assertIn("main/t1 waits for lock 'B' held by main/t2", proc.stderr)
        self.assertIn("waits for lock", json.loads(proc.stdout)["stats"]["deadlock"])

    def test_endless_loop_should_exit_5_after_the_timeout(self):
        proc = self.real(ENDLESS, "--timeout", "300ms", code=5)
        self.assertIn("watchdog", proc.stderr)

    def test_misuse_should_exit_4_with_the_op_path(self):
        proc = self.real(MISUSE, code=4)
        self.assertIn("processes[0].threads[0].program[0]", proc.stderr)
        self.assertIn("not held", proc.stderr)

    def test_unsupported_objects_should_exit_2_before_running(self):
        proc = self.real(BARRIER_TIMEOUT, code=2)
        self.assertIn("processes[0].threads[0].program[0]", proc.stderr)
        self.assertIn("barrier waits with a timeout", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_interrupting_the_runner_should_leave_no_process(self):
        import signal
        import time
        path = self.scenario(LONG)
        proc = subprocess.Popen([THREADSIM, "real", path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while running_with(path) < 3 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(running_with(path), 3)  # the runner, main, child
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        deadline = time.time() + 5
        while running_with(path) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(running_with(path), 0)

    def test_trace_should_follow_a_thread_the_os_moves_to_another_cpu(self):
        # a 400 ms compute; the test moves every thread of the run to one
        # CPU, then to the other: the trace must show the compute running
        # on both, as two running stretches
        import time
        cpus = sorted(os.sched_getaffinity(0))[:2]
        if len(cpus) < 2:
            self.skipTest("needs two CPUs")
        doc = {"name": "moved", "machine": {"cpus": 2}, "processes": [{"name": "main", "threads": [
            {"name": "MainThread", "program": [{"op": "compute", "for": "400ms"}]}]}]}
        path = self.scenario(doc)
        out = os.path.join(self.dir.name, "moved_trace.json")
        proc = subprocess.Popen([THREADSIM, "real", path, "--trace", out], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        def move_all(cpu):
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        if path.encode() not in f.read():
                            continue
                    for tid in os.listdir("/proc/%s/task" % pid):
                        os.sched_setaffinity(int(tid), {cpu})
                except OSError:
                    continue
        deadline = time.time() + 10
        while running_with(path) < 2 and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        move_all(cpus[0])
        time.sleep(0.1)
        move_all(cpus[1])
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        with open(out) as f:
            tr = json.load(f)
        cols = tr["segments_columns"]
        main = [t["id"] for t in tr["tasks"] if t["name"] == "MainThread"][0]
        ran_on = {s[cols.index("cpu")] for s in tr["segments"]
                  if s[cols.index("task")] == main and s[cols.index("state")] == "running"}
        self.assertEqual(ran_on, {0, 1}, tr["segments"])

    def test_condition_two_producers_should_end_with_every_item_consumed(self):
        # lecture 08 at 1/50 of its times (a producer every 20 ms, the
        # consumer every 40 ms): the list fills up to 5, never more, and
        # the consumer paces the run
        out = json.loads(self.real(scaled_lecture("08_condition_two_producers", 0.02),
                                   "--format", "json", "--timeout", "20s").stdout)
        self.assertEqual(out["memory"]["main"],
                         {"length": 0, "max_seen": 5, "produced": 20, "consumed": 20})
        self.assertGreaterEqual(out["makespan_ns"], 19 * 40 * MS)

    def test_signals_should_run_each_handler_once_in_the_main_thread_between_sleeps(self):
        # lecture 18 at 1/10 of its times: SIGUSR1 from Thread-1 at 450 ms,
        # SIGALRM at 1 s, thirty 100 ms sleeps that the handlers do not
        # shorten (PEP 475); 1/10 leaves each sleep 10 ms of late wake-ups
        # on a loaded machine before the alarm could come after the tenth
        out = self.real(scaled_lecture("18_signals", 0.1), "--timeout", "20s").stdout
        lines = [ln.split(": ", 1)[1] for ln in out.splitlines() if "MainThread: " in ln]
        self.assertEqual(lines.count("Waiting..."), 30)
        self.assertEqual(lines.count("Received: 10"), 1)
        self.assertEqual(lines.count("Received: 14"), 1)
        self.assertNotIn("Received: 12", lines)
        waits = [i for i, ln in enumerate(lines) if ln == "Waiting..."]
        # after the 5th Waiting... and the 10th, before the next one
        self.assertTrue(waits[4] < lines.index("Received: 10") < waits[5], out)
        self.assertTrue(waits[9] < lines.index("Received: 14") < waits[10], out)
        self.assertIn("makespan: ", out)
        makespan_ms = float(out.split("makespan: ", 1)[1].split(" ms", 1)[0])
        self.assertGreaterEqual(makespan_ms, 30 * 100)

    def test_bad_options_should_exit_2(self):
        self.real(LOCKED, "--repeat", "0", code=2)
        self.real(LOCKED, "--timeout", "5", code=2)
        self.real(LOCKED, "--format", "xml", code=2)
        self.real(LOCKED, "--trace-events", "10", code=2)
        self.real(LOCKED, "--trace-events", "many", code=2)

    def test_trace_buffers_too_large_for_the_run_should_exit_2_before_running(self):
        # three threads of 2 GiB each: more than the 4 GiB trace buffers
        # may take in all (and than half the 4 GiB address-space bound of
        # a build without sanitizers)
        proc = self.real(LOCKED, "--trace-events", "67108864", code=2)
        self.assertIn("trace buffers of 67108864 events for 3 threads need 6144 MiB", proc.stderr)
        self.assertNotIn("total =", proc.stdout)

    def test_a_cut_short_trace_should_say_which_buffer_records_it_whole(self):
        trace = os.path.join(self.dir.name, "t.json")
        proc = self.real(LOCKED, "--trace-events", "256", "--trace", trace)
        # under the GIL the threads rarely block, so their acquires and
        # releases usually fill three quarters of a buffer first (a note);
        # a slower run (a sanitizer build) blocks more and fills it with
        # state changes (a warning)
        self.assertTrue("hand-over instants" in proc.stderr or "(256 events a thread)" in proc.stderr,
                        proc.stderr)
        hint = proc.stderr.split("(--trace-events ")[1].split()[0]
        self.assertGreater(int(hint), 256)
        with open(trace) as f:
            cut = json.load(f)
        self.assertTrue(any("instants_until" in t or "recorded_until" in t for t in cut["tasks"]))
        # the next run makes about as many events, not exactly as many:
        # twice the hint leaves room for a slower (sanitizer) build
        proc = self.real(LOCKED, "--trace-events", str(2 * int(hint)), "--trace", trace)
        self.assertNotIn("warning", proc.stderr)
        self.assertNotIn("note", proc.stderr)
        with open(trace) as f:
            whole = json.load(f)
        for t in whole["tasks"]:
            self.assertNotIn("recorded_until", t)
            self.assertNotIn("instants_until", t)
        # every acquire of both threads is there
        acquires = [i for i in whole["instants"] if i["kind"] == "acquire"]
        self.assertEqual(len(acquires), 4000)


def main():
    global THREADSIM, SOURCE_DIR
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threadsim", required=True, help="the threadsim binary")
    parser.add_argument("--source-dir", required=True, help="the project's root")
    args = parser.parse_args()
    THREADSIM = os.path.abspath(args.threadsim)
    SOURCE_DIR = os.path.abspath(args.source_dir)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print("%d passed, %d failed" % (result.testsRun - failed - len(result.skipped), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
