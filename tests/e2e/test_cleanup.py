#!/usr/bin/python3
"""End-to-end tests of what `threadsim real` leaves behind: a run with a
forked, a spawned (exec'd `threadsim __worker`) and a forkserver child is
ended by a crashed child, by Ctrl-C (SIGINT to the process group) and by
the watchdog; each time the exit is the contracted one and no process of
the run is left (no zombie, no forkserver, no worker), nothing in /dev/shm
and no System V semaphore.

Usage: test_cleanup.py --threadsim PATH/TO/threadsim
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

THREADSIM = None

# MainThread starts three children that sleep, one per start method, then
# joins the spawned one: every kind of process of a run is alive at once.
THREE_STARTS = {
    "name": "three starts",
    "functions": {"nap": {"params": [], "body": [{"op": "sleep", "for": "30s"}]}},
    "processes": [{"name": "main", "threads": [
        {"name": "MainThread", "program": [
            {"op": "process", "name": "forked", "call": "nap"},
            {"op": "process", "name": "spawned", "call": "nap", "start_method": "spawn"},
            {"op": "process", "name": "served", "call": "nap", "start_method": "forkserver"},
            {"op": "join", "process": "spawned"},
            {"op": "sleep", "for": "30s"}]}]}],
}
# the runner, main, forked, spawned, the forkserver and its child
RUN_PROCESSES = 6


def session(sid):
    """The processes of session sid (zombies too): [(pid, state, cmdline)]."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[3]) == sid:
            found.append((int(pid), fields[0], cmd))
    return found


def shm_files():
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()


def semaphores():
    """Keys and ids of the System V semaphore sets (ipcs -s), if ipcs exists."""
    try:
        out = subprocess.run(["ipcs", "-s"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {ln for ln in out.splitlines() if ln.startswith("0x")}


class CleanupTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.shm = shm_files()
        self.sems = semaphores()
        self.runs = []

    def tearDown(self):
        # a failed test must not leave its run behind
        for proc in self.runs:
            for pid, _, _ in session(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            proc.wait()
        self.dir.cleanup()

    def start(self, doc, *args):
        path = os.path.join(self.dir.name, "run.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        # a session of its own: every process of the run is in it, whoever
        # its parent is, and a signal to its group is a Ctrl-C
        # in a sanitizer build the crash is the signal's, not AddressSanitizer's
        # report (which symbolizes the stack and took over 30 s once on a
        # loaded machine)
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS", ""), "handle_segv=0") if o)
        proc = subprocess.Popen([THREADSIM, "real", path, *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, env=env)
        self.runs.append(proc)
        return proc

    def wait_all_started(self, proc):
        deadline = time.time() + 20
        while time.time() < deadline:
            procs = session(proc.pid)
            if len(procs) >= RUN_PROCESSES and any("__worker" in c for _, _, c in procs):
                return procs
            time.sleep(0.05)
        self.fail("the run did not start its processes: %s" % session(proc.pid))

    def assert_nothing_left(self, proc, code):
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, code, "stdout:\n%s\nstderr:\n%s" % (out, err))
        # the runner waits for every process it made before it exits; a
        # process whose own parent was ended first (a forkserver's child
        # after Ctrl-C) is an orphan that init reaps a moment later: it may
        # be seen as a zombie for that moment (once in CI), not after
        deadline = time.time() + 3
        while session(proc.pid) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(session(proc.pid), [])
        self.assertEqual(shm_files() - self.shm, set())
        self.assertEqual(semaphores() - self.sems, set())
        return err

    def test_a_crashed_spawned_child_should_exit_4_and_leave_nothing(self):
        proc = self.start(THREE_STARTS)
        procs = self.wait_all_started(proc)
        worker = [pid for pid, _, cmd in procs if "__worker" in cmd]
        self.assertEqual(len(worker), 1, procs)
        # the spawned process is a new image of the threadsim binary, which
        # maps the run through the memfd it inherited
        self.assertEqual(os.path.realpath("/proc/%d/exe" % worker[0]), os.path.realpath(THREADSIM))
        # (it may still be loading its libraries, whose descriptors come and
        # go while they are listed: look again until the run's is there)
        fds, deadline = [], time.time() + 5
        while "/memfd:threadsim-run (deleted)" not in fds and time.time() < deadline:
            fds = []
            for fd in os.listdir("/proc/%d/fd" % worker[0]):
                try:
                    fds.append(os.readlink("/proc/%d/fd/%s" % (worker[0], fd)))
                except FileNotFoundError:
                    pass
            time.sleep(0.01)
        self.assertIn("/memfd:threadsim-run (deleted)", fds)
        os.kill(worker[0], signal.SIGSEGV)
        err = self.assert_nothing_left(proc, 4)
        # a sanitizer build reports the crash itself and exits with its own
        # status: 1 under ASan, 66 under TSan (once its handlers are in
        # place, which depends on how far the worker got when it was killed)
        self.assertRegex(err, "process 'spawned' (crashed: killed by signal 11|exited with status (1|66))")

    def test_ctrl_c_should_stop_the_run_and_leave_nothing(self):
        proc = self.start(THREE_STARTS)
        self.wait_all_started(proc)
        os.killpg(proc.pid, signal.SIGINT)
        # an interrupted program ends by the signal (a shell shows 130)
        self.assert_nothing_left(proc, -signal.SIGINT)

    def test_the_watchdog_should_exit_5_and_leave_nothing(self):
        proc = self.start(THREE_STARTS, "--timeout", "1500ms")
        self.wait_all_started(proc)
        err = self.assert_nothing_left(proc, 5)
        self.assertIn("watchdog", err)


def main():
    global THREADSIM
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threadsim", required=True, help="the threadsim binary")
    args = parser.parse_args()
    THREADSIM = os.path.abspath(args.threadsim)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print("%d passed, %d failed" % (result.testsRun - failed - len(result.skipped), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
