#!/usr/bin/python3
"""End-to-end tests of `threadsim calibrate` and `threadsim compare`: a quick
calibration writes a profile that `run --profile` uses, and compare prints
the contracted JSON.

Usage: test_calibrate.py --threadsim PATH/TO/threadsim --source-dir PROJECT_DIR
"""
import argparse
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


def threadsim(*args, env=None):
    """Runs threadsim with args; returns the CompletedProcess (text output)."""
    return subprocess.run([THREADSIM, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace",
                          timeout=120, env=env)


class CalibrateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.profile = os.path.join(cls.tmp.name, "host.json")
        cls.proc = threadsim("calibrate", "--quick", "-o", cls.profile)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_calibrate_should_print_a_table_and_write_a_profile(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertIn("median", self.proc.stdout)
        self.assertIn("count_ns_per_iter", self.proc.stdout)
        self.assertIn("Profile written to " + self.profile, self.proc.stdout)
        with open(self.profile) as f:
            prof = json.load(f)
        self.assertGreater(prof["count_ns_per_iter"], 0)
        figures = prof["x-calibration"]["figures"]
        for key, fig in figures.items():
            self.assertLessEqual(fig["min"], fig["median"], key)
            self.assertLessEqual(fig["median"], fig["max"], key)

    def test_run_with_the_calibrated_profile_should_predict_this_host(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "02_count_sequential.json")
        builtin = threadsim("run", scenario, "--format", "json")
        host = threadsim("run", scenario, "--format", "json", "--profile", self.profile)
        self.assertEqual(host.returncode, 0, host.stderr)
        with open(self.profile) as f:
            prof = json.load(f)
        per_iter = prof["count_ns_per_iter"]
        # count(80M) twice after the process's start-up delay: the makespan
        # follows the measured cost per iteration
        self.assertGreater(prof["process_start_ns"], 0)
        makespan = json.loads(host.stdout)["makespan_ns"]
        self.assertAlmostEqual((makespan - prof["process_start_ns"]) / (2 * 80e6 * per_iter), 1.0, delta=0.05)
        self.assertNotEqual(makespan, json.loads(builtin.stdout)["makespan_ns"])

    def test_calibrate_without_o_should_write_the_cached_profile(self):
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.tmp.name, "cache"))
        proc = threadsim("calibrate", "--quick", env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        cached = os.path.join(self.tmp.name, "cache", "threadsim", "profile.json")
        self.assertTrue(os.path.exists(cached))

    def test_compare_json_should_have_sim_real_and_error(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "03_bank_account_lock.json")
        proc = threadsim("compare", scenario, "--repeat", "2", "--profile", self.profile, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout)
        for part in ("sim", "real"):
            for key in CONTRACT_KEYS:
                self.assertIn(key, out[part], part)
            names = [(t["process"], t["name"]) for t in out[part]["threads"]]
            self.assertIn(("main", "worker-4"), names)
            for t in out[part]["threads"]:
                for key in THREAD_KEYS:
                    self.assertIn(key, t, part)
        self.assertEqual(out["real"]["repeat"], 2)
        self.assertGreater(out["real"]["makespan_ns"], 0)
        err = out["error"]
        sim, real = out["sim"]["makespan_ns"], out["real"]["makespan_ns"]
        self.assertAlmostEqual(err["makespan_pct"], (sim - real) * 100.0 / real, delta=0.01)
        self.assertEqual(len(err["threads"]), len(out["sim"]["threads"]))
        for t in err["threads"]:
            for key in ("process", "name", "turnaround_pct", "cpu_pct"):
                self.assertIn(key, t)
        self.assertEqual(out["profile"]["path"], self.profile)
        # CPU time the real runs' placement lost: never more than the CPUs
        # could have given in the run
        idle = out["real"]["stats"]["idle_while_ready_ns"]
        self.assertGreaterEqual(idle, 0)
        self.assertLessEqual(idle, out["real"]["makespan_ns"] * out["real"]["cpus"])

    def test_compare_text_should_name_the_profile_and_each_thread(self):
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "02_count_threads.json")
        proc = threadsim("compare", scenario, "--repeat", "1", "--profile", self.profile)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("profile " + self.profile, proc.stdout)
        for name in ("MainThread", "t1", "t2", "makespan", "CPU idle, thread ready"):
            self.assertIn(name, proc.stdout)

    def test_compare_should_simulate_with_this_hosts_machine_costs(self):
        # the lecture sets wakeup_latency 5us; the real run wakes threads as
        # fast as this host does, so the simulation takes the measured value
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "03_bank_account_lock.json")
        proc = threadsim("compare", scenario, "--repeat", "1", "--profile", self.profile, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout)
        with open(self.profile) as f:
            prof = json.load(f)
        self.assertEqual(out["profile"]["wakeup_latency_from_profile"], prof["wakeup_latency_ns"] > 0)
        for key in ("timer_latency_ns", "compute_op_ns", "add_contended_ns"):
            self.assertIn(key, prof)

    def test_run_as_host_should_simulate_what_compare_simulates(self):
        # a racy add's spin of its own (400 ns, in an inline profile) and a
        # wake-up latency of 5 us: compare puts the spin into the measured
        # add and takes the host's wake-up latency, and so does run --as-host
        scenario = os.path.join(self.tmp.name, "adds.json")
        with open(scenario, "w") as f:
            json.dump({"machine": {"cpus": 2, "wakeup_latency": "5us", "profile": {"add_ns": 400}},
                       "processes": [{"name": "main", "memory": {"x": 0}, "threads": [
                           {"name": "MainThread", "program": [
                               {"op": "repeat", "times": 1000, "body": [{"op": "add", "var": "x"}]}]}]}]}, f)
        proc = threadsim("compare", scenario, "--repeat", "1", "--profile", self.profile, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        sim = json.loads(proc.stdout)["sim"]
        host = threadsim("run", scenario, "--as-host", "--profile", self.profile, "--format", "json")
        self.assertEqual(host.returncode, 0, host.stderr)
        as_host = json.loads(host.stdout)
        self.assertEqual(as_host["makespan_ns"], sim["makespan_ns"])
        self.assertEqual([t["cpu_ns"] for t in as_host["threads"]], [t["cpu_ns"] for t in sim["threads"]])
        # each add costs the host's add with the scenario's spin in it
        with open(self.profile) as f:
            prof = json.load(f)
        self.assertGreaterEqual(as_host["threads"][0]["cpu_ns"], 1000 * (prof["add_ns"] + 400 - 50))
        # the text says what it took from the host
        text = threadsim("run", scenario, "--as-host", "--profile", self.profile)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("profile " + self.profile, text.stdout)
        self.assertIn("simulated as this host: cpus", text.stdout)
        # the profile alone keeps the scenario's machine and spin
        plain = threadsim("run", scenario, "--profile", self.profile, "--format", "json")
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertLess(json.loads(plain.stdout)["threads"][0]["cpu_ns"], as_host["threads"][0]["cpu_ns"])
        self.assertNotIn("simulated as this host", threadsim("run", scenario, "--profile", self.profile).stdout)

    def test_run_as_host_should_name_a_missing_profile(self):
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "03_bank_account_lock.json")
        missing = os.path.join(self.tmp.name, "no_such_profile.json")
        proc = threadsim("run", scenario, "--as-host", "--profile", missing)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("no_such_profile.json", proc.stderr)

    def test_real_runs_should_sleep_the_simulated_random_durations(self):
        # three threads each draw a random sleep of 2-12 ms (the k-th draw of
        # their own stream) and one keyed sleep: the real threads sleep what
        # the simulated ones do, not one another's durations (with seed 13
        # the three draws are 2 ms or more apart)
        prog = [{"op": "sleep", "random": ["2ms", "12ms"]},
                {"op": "sleep", "random": ["1ms", "3ms"], "key": 5}]
        scenario = {"seed": 13, "processes": [{"name": "main", "threads": [
            {"name": "t%d" % i, "program": prog} for i in range(3)]}]}
        path = os.path.join(self.tmp.name, "sleeps.json")
        with open(path, "w") as f:
            json.dump(scenario, f)
        sim = threadsim("run", path, "--format", "json")
        self.assertEqual(sim.returncode, 0, sim.stderr)
        simulated = {t["name"]: t["blocked_ns"] for t in json.loads(sim.stdout)["threads"]}
        self.assertEqual(len(set(simulated.values())), 3, simulated)

        def check():
            real = threadsim("real", path, "--format", "json")
            self.assertEqual(real.returncode, 0, real.stderr)
            # a thread that only sleeps is blocked for its sleeps' time and
            # for the wait for a CPU after each (ready, in the real run,
            # only when the OS preempts it while it runs); its turnaround
            # would add its start too
            threads = json.loads(real.stdout)["threads"]
            measured = {t["name"]: t["blocked_ns"] + t["wait_ns"] for t in threads}
            blocked = {t["name"]: t["blocked_ns"] for t in threads}
            for name, ns in simulated.items():
                # a timer ends a sleep late, never early; 3 ms of slack is
                # above the draws' spread only together with the
                # closest-match check
                closest = min(simulated, key=lambda n: abs(simulated[n] - measured[name]))
                self.assertEqual(closest, name, (simulated, measured))
                self.assertGreaterEqual(measured[name], ns - 100000, (simulated, measured))
                self.assertLess(blocked[name] - ns, 3000000, (simulated, blocked))

        # a machine loaded by the tests run beside this one can wake a
        # sleeper more than 3 ms late now and then (3.7 ms once in CI):
        # one of three runs must hold
        for attempt in range(3):
            try:
                check()
                break
            except AssertionError:
                if attempt == 2:
                    raise

    def test_compare_should_warn_when_the_cpu_runs_at_another_speed_than_the_profile(self):
        # a profile ten times slower than this CPU: the real runs cannot
        # match it, and compare says why
        with open(self.profile) as f:
            prof = json.load(f)
        prof["count_ns_per_iter"] *= 10
        slow = os.path.join(self.tmp.name, "slow_profile.json")
        with open(slow, "w") as f:
            json.dump(prof, f)
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "20_primes_sequential.json")
        proc = threadsim("compare", scenario, "--repeat", "1", "--profile", slow)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("count kernel", proc.stderr)
        self.assertIn("times the profile's", proc.stderr)
        # the JSON gives the three figures the warning compares
        proc = threadsim("compare", scenario, "--repeat", "1", "--profile", slow, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        speed = json.loads(proc.stdout)["count_ns_per_iter"]
        self.assertAlmostEqual(speed["profile"], prof["count_ns_per_iter"], delta=prof["count_ns_per_iter"] * 1e-4)
        self.assertLess(speed["before"], speed["profile"])
        self.assertLess(speed["after"], speed["profile"])

    def test_compare_should_exit_3_when_the_scenario_deadlocks(self):
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "19_deadlock.json")
        proc = threadsim("compare", scenario, "--repeat", "1", "--profile", self.profile, "--timeout", "10s")
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("deadlock", proc.stderr)

    def test_compare_without_profile_should_calibrate_once_and_reuse_the_cache(self):
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.tmp.name, "cache2"))
        cached = os.path.join(self.tmp.name, "cache2", "threadsim", "profile.json")
        os.makedirs(os.path.dirname(cached))
        # a cached profile (the quick one, so the test stays fast) is used as is
        with open(self.profile) as src, open(cached, "w") as dst:
            dst.write(src.read())
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "02_count_threads.json")
        proc = threadsim("compare", scenario, "--repeat", "1", env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("profile " + cached, proc.stdout)
        self.assertNotIn("calibrating", proc.stderr)

    def test_compare_should_calibrate_again_when_the_cached_profile_lacks_a_figure(self):
        # a profile cached by an older threadsim: one figure this one
        # measures is missing, and would keep its built-in value
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.tmp.name, "cache3"))
        cached = os.path.join(self.tmp.name, "cache3", "threadsim", "profile.json")
        os.makedirs(os.path.dirname(cached))
        with open(self.profile) as f:
            prof = json.load(f)
        del prof["gil_check_ns"]
        with open(cached, "w") as f:
            json.dump(prof, f)
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "16_thread_local.json")
        proc = threadsim("compare", scenario, "--repeat", "1", env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("lacks 1 figure this threadsim measures (gil_check_ns)", proc.stderr)
        self.assertIn("calibrating this host again", proc.stderr)
        with open(cached) as f:
            self.assertIn("gil_check_ns", json.load(f))
        # and once made whole, it is used as is
        proc = threadsim("compare", scenario, "--repeat", "1", env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("calibrating", proc.stderr)

    def test_compare_should_reject_a_bad_repeat(self):
        proc = threadsim("compare", "x.json", "--repeat", "0")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--repeat", proc.stderr)

    def test_calibrate_should_reject_a_stray_argument(self):
        proc = threadsim("calibrate", "extra")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unexpected argument", proc.stderr)


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
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
