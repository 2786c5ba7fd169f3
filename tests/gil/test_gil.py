#!/usr/bin/env python3
"""The GIL scenarios of scenarios/gil/ against the acceptance table of the GIL
model (new GIL rows), and the table of published measurements next to what
threadsim predicts.

    test_gil.py --threadsim BUILD/cli/threadsim --scenarios scenarios/gil [--table]

Prints a final line 'N passed, N failed'; --table prints the Markdown table
used in docs/gil.md instead of testing."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

ARGS = None
S = 1e9


def run(name, *extra, scenario=None):
    path = scenario or os.path.join(ARGS.scenarios, name)
    proc = subprocess.run([ARGS.threadsim, "run", path, "--format", "json", *extra],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (name, proc.returncode, proc.stderr))
    return json.loads(proc.stdout)


def thread(doc, name):
    return [t for t in doc["threads"] if t["name"] == name][0]


class NewGil(unittest.TestCase):
    def test_cpu_bound_threads_give_no_speed_up(self):
        ratio = run("count_threads.json")["makespan_ns"] / run("count_sequential.json")["makespan_ns"]
        self.assertGreaterEqual(ratio, 0.95)
        self.assertLessEqual(ratio, 1.10)

    def test_processes_do(self):
        ratio = run("count_processes.json")["makespan_ns"] / run("count_sequential.json")["makespan_ns"]
        self.assertLessEqual(ratio, 0.60)

    def test_threads_without_a_gil_do(self):
        ratio = run("count_threads_nogil.json")["makespan_ns"] / run("count_sequential.json")["makespan_ns"]
        self.assertLessEqual(ratio, 0.60)

    def test_threads_take_turns_every_switch_interval(self):
        doc = run("count_threads.json")
        stats = doc["stats"]["gil"]["main"]
        # 11.5 s of work handed over about every 5 ms
        self.assertGreater(stats["switches"], 2000)
        self.assertEqual(stats["drop_requests"], stats["forced_switches"])
        for name in ("t1", "t2"):
            self.assertGreater(thread(doc, name)["gil_wait_ns"], 5 * S)

    def test_native_code_that_releases_the_gil_scales(self):
        # two threads of 2 s of native code: 4 s one after the other
        self.assertLessEqual(run("native_release.json")["makespan_ns"] / (4 * S), 0.60)

    def test_io_bound_threads_overlap(self):
        doc = run("io_overlap.json")
        longest = max(t["blocked_ns"] for t in doc["threads"] if t["name"] != "MainThread")
        self.assertLess(doc["makespan_ns"] - longest, 0.001 * S)

    def test_the_convoy_effect_costs_about_one_interval_per_io(self):
        slow = thread(run("convoy_5ms.json"), "io")["turnaround_ns"]
        fast = thread(run("convoy_100us.json"), "io")["turnaround_ns"]
        # 100 I/Os, each waiting up to one 5 ms interval for the GIL
        self.assertGreater(slow, 100 * 2.5e6)
        self.assertLess(slow, 100 * 6e6)
        self.assertLess(fast * 10, slow)

    def test_small_intervals_cost_cpu(self):
        spans = [run("switch_interval_%s.json" % i)["makespan_ns"] for i in ("5ms", "100us", "10us", "1us")]
        self.assertEqual(spans, sorted(spans))
        self.assertGreater(spans[3], 1.5 * spans[0])

    def test_a_racy_add_loses_updates_only_where_a_check_point_falls_inside(self):
        byte = run("racy_counter_bytecode.json")
        edge = run("racy_counter_backedge.json")
        self.assertGreater(byte["stats"]["lost_updates"], 0)
        self.assertNotEqual(byte["shared"]["x"], 0)
        self.assertEqual(edge["stats"]["lost_updates"], 0)
        self.assertEqual(edge["shared"]["x"], 0)

    def test_a_single_thread_pays_nothing_for_the_gil(self):
        with open(os.path.join(ARGS.scenarios, "single_thread.json")) as f:
            doc = json.load(f)
        doc["processes"][0]["gil"] = "none"
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        try:
            without = run("single_thread.json (no GIL)", scenario=f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(run("single_thread.json")["makespan_ns"], without["makespan_ns"])


def table():
    seq = run("count_sequential.json")["makespan_ns"] / S
    rows = [
        ("count(80M) twice, sequential", "11.50 s (lecture)", "%.2f s" % seq),
        ("two threads, new GIL, 2 CPUs", "11.66 s (lecture); ratio 1.01", "%.2f s; ratio %.3f" % (
            run("count_threads.json")["makespan_ns"] / S, run("count_threads.json")["makespan_ns"] / S / seq)),
        ("two processes, 2 CPUs", "6.96 s (lecture); ratio 0.61", "%.2f s; ratio %.3f" % (
            run("count_processes.json")["makespan_ns"] / S, run("count_processes.json")["makespan_ns"] / S / seq)),
        ("two threads, no GIL, 2 CPUs", "-", "%.2f s" % (run("count_threads_nogil.json")["makespan_ns"] / S)),
    ]
    sweep = [run("switch_interval_%s.json" % i)["makespan_ns"] / S for i in ("5ms", "100us", "10us", "1us")]
    rows.append(("2 threads, interval 5 ms / 100 us / 10 us / 1 us",
                 "6.58 / 9.20 / 12.29 / 17.16 s (CPython 3.9); x1 / 1.40 / 1.87 / 2.61",
                 " / ".join("%.3f" % x for x in sweep) + " s; x" + " / ".join("%.2f" % (x / sweep[0]) for x in sweep)))
    rows.append(("I/O thread with 100 I/Os next to a CPU-bound thread", "~1 interval per I/O",
                 "%.0f ms at 5 ms, %.1f ms at 100 us" % (thread(run("convoy_5ms.json"), "io")["turnaround_ns"] / 1e6,
                                                         thread(run("convoy_100us.json"), "io")["turnaround_ns"] / 1e6)))
    print("| setting | published | threadsim |")
    print("| --- | --- | --- |")
    for r in rows:
        print("| %s | %s | %s |" % r)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--threadsim", required=True)
    parser.add_argument("--scenarios", required=True)
    parser.add_argument("--table", action="store_true")
    ARGS, rest = parser.parse_known_args()
    if ARGS.table:
        table()
        return 0
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(NewGil)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
