#!/usr/bin/python3
"""End-to-end tests of the threadsim command: they run the real binary and
check what a user sees: exit codes, messages naming the file and the JSON
path, and the contracted JSON, CSV and trace outputs.

Usage: test_cli.py --threadsim PATH/TO/threadsim --source-dir PROJECT_DIR
"""
import argparse
import csv
import glob
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

THREADSIM = None
SOURCE_DIR = None
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

CONTRACT_KEYS = ["scenario", "policy", "cpus", "seed", "makespan_ns", "threads",
                 "memory", "shared", "stats"]
THREAD_KEYS = ["process", "name", "arrival_ns", "first_run_ns", "finish_ns",
               "response_ns", "turnaround_ns", "wait_ns", "cpu_ns", "blocked_ns",
               "gil_wait_ns", "context_switches"]
STATS_KEYS = ["events", "context_switches", "gil_switches", "lost_updates", "deadlock"]
POLICIES = ["fifo", "sjf", "srtf", "rr", "priority", "mlfq", "cfs"]
MS = 1000000


def threadsim(*args):
    """Runs threadsim with args; returns the CompletedProcess (text output)."""
    return subprocess.run([THREADSIM, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace",
                          timeout=120)


def data(name):
    return os.path.join(DATA, name)


def ordered(text):
    """Parses JSON keeping every object as a list of (key, value) pairs."""
    return json.loads(text, object_pairs_hook=lambda pairs: pairs)


class CliTestCase(unittest.TestCase):
    def assertExit(self, proc, code):
        self.assertEqual(proc.returncode, code,
                         "exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s"
                         % (proc.returncode, code, proc.stdout, proc.stderr))

    def assertScenarioError(self, name, *facts):
        """validate and run both reject data/name with exit 2 and an error
        line "FILE: ..." holding every fact (a path, a word of the message)."""
        for command in ("validate", "run"):
            proc = threadsim(command, data(name))
            self.assertExit(proc, 2)
            self.assertEqual(proc.stdout, "", command)
            self.assertTrue(proc.stderr.startswith(data(name) + ":"),
                            "%s: the message should start with the file name:\n%s"
                            % (command, proc.stderr))
            for fact in facts:
                self.assertIn(fact, proc.stderr, command)


class GlobalOptionsTest(CliTestCase):
    def test_version_should_print_the_project_version(self):
        proc = threadsim("--version")
        self.assertExit(proc, 0)
        self.assertEqual(proc.stdout, "threadsim 0.1.0\n")

    def test_help_should_list_the_commands(self):
        for args in (["--help"], ["-h"], ["help"]):
            proc = threadsim(*args)
            self.assertExit(proc, 0)
            self.assertIn("Usage: threadsim", proc.stdout)
            for command in ("run", "validate"):
                self.assertIn("  " + command + " ", proc.stdout)

    def test_help_of_each_command_should_show_its_usage(self):
        for command in ("run", "validate"):
            for args in ([command, "--help"], [command, "-h"], ["help", command]):
                proc = threadsim(*args)
                self.assertExit(proc, 0)
                self.assertIn("Usage: threadsim " + command + " FILE", proc.stdout)

    def test_run_help_should_list_options_and_policies(self):
        proc = threadsim("run", "--help")
        for option in ("--policy", "--cpus", "--seed", "--quantum", "--profile",
                       "--format", "--trace"):
            self.assertIn(option, proc.stdout)
        for policy in POLICIES:
            self.assertIn("  " + policy + " ", proc.stdout)

    def test_no_arguments_should_print_usage_and_exit_2(self):
        proc = threadsim()
        self.assertExit(proc, 2)
        self.assertIn("Usage: threadsim", proc.stderr)

    def test_unknown_command_should_exit_2_listing_the_commands(self):
        proc = threadsim("simulate", "x.json")
        self.assertExit(proc, 2)
        self.assertIn("threadsim: unknown command 'simulate'", proc.stderr)
        self.assertIn("run", proc.stderr)
        self.assertIn("validate", proc.stderr)

    def test_unknown_global_option_should_exit_2(self):
        proc = threadsim("--verbose")
        self.assertExit(proc, 2)
        self.assertIn("threadsim: unknown option '--verbose'", proc.stderr)


class ValidateTest(CliTestCase):
    def test_good_scenario_should_be_ok(self):
        proc = threadsim("validate", data("good.json"))
        self.assertExit(proc, 0)
        self.assertEqual(proc.stdout, "%s: ok (2 processes, 3 threads, policy rr, CPUs 1)\n"
                         % data("good.json"))

    def test_bundled_scenarios_should_be_ok(self):
        files = sorted(glob.glob(os.path.join(SOURCE_DIR, "scenarios", "**", "*.json"),
                                 recursive=True))
        for path in files:
            proc = threadsim("validate", path)
            self.assertExit(proc, 0)
            self.assertIn(": ok (", proc.stdout)

    def test_missing_file_should_exit_2_naming_it(self):
        path = os.path.join(DATA, "does_not_exist.json")
        for command in ("validate", "run"):
            proc = threadsim(command, path)
            self.assertExit(proc, 2)
            self.assertIn(path, proc.stderr)
            self.assertIn("No such file or directory", proc.stderr)

    def test_missing_file_argument_should_be_a_usage_error(self):
        for command in ("validate", "run"):
            proc = threadsim(command)
            self.assertExit(proc, 2)
            self.assertIn("threadsim: %s: missing the scenario FILE" % command, proc.stderr)

    def test_malformed_json_should_give_line_and_column(self):
        proc = threadsim("validate", data("syntax_error.json"))
        self.assertExit(proc, 2)
        self.assertRegex(proc.stderr, "^" + data("syntax_error.json") + r":\d+:\d+: ")

    def test_unknown_key_should_name_its_path_and_suggest(self):
        self.assertScenarioError("unknown_key.json", "scheduler.quantom", "quantum")

    def test_unknown_op_should_name_its_path(self):
        self.assertScenarioError("unknown_op.json", "processes[0].threads[0].program[1]",
                                 "computee")

    def test_unknown_policy_should_name_its_path_and_the_known_ones(self):
        self.assertScenarioError("unknown_policy.json", "scheduler.policy", "lottery",
                                 ", ".join(POLICIES))

    def test_unknown_thread_should_name_its_path(self):
        self.assertScenarioError("unknown_thread.json",
                                 "processes[0].threads[0].program[0]", "wroker")

    def test_duration_without_unit_should_suggest_one(self):
        self.assertScenarioError("bare_duration.json",
                                 "processes[0].threads[0].program[0].for", "ms")

    def test_negative_duration_should_be_rejected(self):
        self.assertScenarioError("negative_duration.json",
                                 "processes[0].threads[0].program[0].for", "negative")

    def test_huge_repeat_should_fail_cleanly(self):
        self.assertScenarioError("huge_repeat.json",
                                 "processes[0].threads[0].program[0].times")


class RunOptionsTest(CliTestCase):
    def test_unknown_policy_option_should_exit_2_listing_policies(self):
        proc = threadsim("run", data("good.json"), "--policy", "bogus")
        self.assertExit(proc, 2)
        self.assertIn("unknown policy 'bogus'", proc.stderr)
        self.assertIn(", ".join(POLICIES), proc.stderr)

    def test_bad_cpus_should_exit_2(self):
        for value in ("0", "1025", "two", "-1", "1.5", ""):
            proc = threadsim("run", data("good.json"), "--cpus", value)
            self.assertExit(proc, 2)
            self.assertIn("--cpus", proc.stderr)

    def test_bad_seed_should_exit_2(self):
        for value in ("-1", "x", "18446744073709551616"):
            proc = threadsim("run", data("good.json"), "--seed", value)
            self.assertExit(proc, 2)
            self.assertIn("--seed", proc.stderr)

    def test_bad_format_should_exit_2(self):
        proc = threadsim("run", data("good.json"), "--format", "xml")
        self.assertExit(proc, 2)
        self.assertIn("--format", proc.stderr)

    def test_quantum_without_unit_should_exit_2(self):
        proc = threadsim("run", data("good.json"), "--quantum", "4")
        self.assertExit(proc, 2)
        self.assertIn("--quantum", proc.stderr)
        self.assertIn("ms", proc.stderr)

    def test_unknown_option_should_exit_2(self):
        proc = threadsim("run", data("good.json"), "--colour")
        self.assertExit(proc, 2)
        self.assertIn("unknown option '--colour'", proc.stderr)

    def test_option_without_value_should_exit_2(self):
        proc = threadsim("run", data("good.json"), "--policy")
        self.assertExit(proc, 2)
        self.assertIn("'--policy' needs a value", proc.stderr)

    def test_two_files_should_exit_2(self):
        proc = threadsim("run", data("good.json"), data("good.json"))
        self.assertExit(proc, 2)

    def test_missing_profile_should_exit_2_naming_it(self):
        path = os.path.join(DATA, "no_such_profile.json")
        proc = threadsim("run", data("good.json"), "--profile", path)
        self.assertExit(proc, 2)
        self.assertIn(path, proc.stderr)


class RunOutputTest(CliTestCase):
    def run_json(self, *args, code=0):
        proc = threadsim("run", *args, "--format", "json")
        self.assertExit(proc, code)
        return proc, json.loads(proc.stdout)

    def test_json_should_have_the_contracted_keys_in_order(self):
        proc, _ = self.run_json(data("good.json"))
        doc = ordered(proc.stdout)
        self.assertEqual([k for k, _ in doc], CONTRACT_KEYS)
        doc = dict(doc)
        self.assertEqual(len(doc["threads"]), 3)
        for thread in doc["threads"]:
            self.assertEqual([k for k, _ in thread], THREAD_KEYS)
        self.assertEqual([k for k, _ in doc["stats"]], STATS_KEYS)
        self.assertEqual(doc["memory"], [("A", []), ("B", [])])
        self.assertEqual(doc["shared"], [])

    def test_json_values_should_follow_the_definitions(self):
        _, doc = self.run_json(data("good.json"))
        self.assertEqual(doc["scenario"], "two processes, three threads")
        self.assertEqual((doc["policy"], doc["cpus"], doc["seed"]), ("rr", 1, 7))
        self.assertIsNone(doc["stats"]["deadlock"])
        self.assertEqual([(t["process"], t["name"]) for t in doc["threads"]],
                         [("A", "main"), ("A", "worker"), ("B", "main")])
        self.assertEqual([t["arrival_ns"] for t in doc["threads"]], [0, 0, 1 * MS])
        self.assertEqual([t["cpu_ns"] for t in doc["threads"]], [5 * MS, 4 * MS, 4 * MS])
        for t in doc["threads"]:
            self.assertEqual(t["response_ns"], t["first_run_ns"] - t["arrival_ns"])
            self.assertEqual(t["turnaround_ns"], t["finish_ns"] - t["arrival_ns"])
            self.assertEqual(t["turnaround_ns"],
                             t["cpu_ns"] + t["wait_ns"] + t["blocked_ns"])
        self.assertEqual(doc["makespan_ns"], max(t["finish_ns"] for t in doc["threads"]))

    def test_overrides_should_change_the_run(self):
        _, doc = self.run_json(data("good.json"), "--policy", "fifo", "--cpus", "2",
                               "--seed", "18446744073709551615", "--quantum", "1ms")
        self.assertEqual((doc["policy"], doc["cpus"], doc["seed"]),
                         ("fifo", 2, 18446744073709551615))

    def test_quantum_should_change_round_robin(self):
        _, q2 = self.run_json(data("good.json"))
        _, q1 = self.run_json(data("good.json"), "--quantum", "1ms")
        self.assertGreater(q1["stats"]["context_switches"], q2["stats"]["context_switches"])

    def test_profile_should_set_the_cost_of_work(self):
        _, builtin = self.run_json(data("spin.json"))
        _, slow = self.run_json(data("spin.json"), "--profile", data("profile_slow.json"))
        self.assertEqual(builtin["threads"][0]["cpu_ns"], 1 * MS)
        self.assertEqual(slow["threads"][0]["cpu_ns"], 2 * MS)

    def test_never_started_thread_should_have_null_times(self):
        _, doc = self.run_json(data("no_work.json"))
        idle = doc["threads"][1]
        for key in ("first_run_ns", "finish_ns", "response_ns", "turnaround_ns"):
            self.assertIsNone(idle[key], key)

    def test_csv_should_have_the_header_and_one_row_per_thread(self):
        proc = threadsim("run", data("good.json"), "--format", "csv")
        self.assertExit(proc, 0)
        rows = list(csv.reader(io.StringIO(proc.stdout)))
        self.assertEqual(rows[0], THREAD_KEYS)
        self.assertEqual(len(rows), 4)
        _, doc = self.run_json(data("good.json"))
        for row, thread in zip(rows[1:], doc["threads"]):
            self.assertEqual(row, [str(thread[k]) for k in THREAD_KEYS])

    def test_text_should_show_table_prints_and_gantt(self):
        proc = threadsim("run", data("good.json"))
        self.assertExit(proc, 0)
        out = proc.stdout
        self.assertIn('scenario "two processes, three threads": policy rr, 1 CPU, seed 7', out)
        self.assertIn("] A/worker: worker starts", out)
        for title in ("process", "thread", "arrival", "response", "turnaround", "wait",
                      "CPU", "blocked", "switches"):
            self.assertIn(title, out)
        self.assertIn("average", out)
        self.assertIn("makespan", out)
        gantt = [line for line in out.splitlines() if line.startswith(("A/", "B/"))]
        self.assertEqual(len(gantt), 3, out)
        self.assertTrue(all("#" in line for line in gantt), out)
        self.assertIn("# running", out)

    def test_text_should_give_the_textbook_round_robin_answer(self):
        path = os.path.join(SOURCE_DIR, "scenarios", "scheduling", "rr_q4.json")
        if not os.path.exists(path):
            self.skipTest("no rr_q4.json")
        proc = threadsim("run", path)
        self.assertExit(proc, 0)
        average = [line for line in proc.stdout.splitlines() if line.startswith("average")]
        self.assertEqual(len(average), 1, proc.stdout)
        self.assertIn("5.67 ms", average[0])

    def test_deadlock_should_exit_3_and_report_it(self):
        proc, doc = self.run_json(data("join_cycle.json"), code=3)
        self.assertIsInstance(doc["stats"]["deadlock"], str)
        self.assertTrue(proc.stderr.startswith(data("join_cycle.json") + ":"), proc.stderr)
        self.assertEqual([t["finish_ns"] for t in doc["threads"]], [None, None])

    def test_trace_should_be_json_and_identical_for_the_same_seed(self):
        with tempfile.TemporaryDirectory() as tmp:
            paths = [os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")]
            for path in paths:
                proc = threadsim("run", data("good.json"), "--seed", "3", "--trace", path)
                self.assertExit(proc, 0)
            with open(paths[0], "rb") as a, open(paths[1], "rb") as b:
                first, second = a.read(), b.read()
            self.assertEqual(first, second)
            self.assertIsInstance(json.loads(first), dict)

    def test_trace_to_an_unwritable_place_should_exit_1(self):
        path = os.path.join(DATA, "no_such_dir", "trace.json")
        proc = threadsim("run", data("good.json"), "--format", "csv", "--trace", path)
        self.assertExit(proc, 1)
        self.assertIn("threadsim: cannot write the trace to " + path, proc.stderr)


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
    passed = result.testsRun - failed - len(result.skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
