#!/usr/bin/python3
"""End-to-end tests of `threadsim view`: the real binary opens its window on
SDL's dummy (invisible) video driver and is driven by a script of input events;
--dump-state reports the visible range, the cursor and the side panel after
each step, and the tests check them against the textbook round-robin example
(scenarios/scheduling/rr_q4.json: P1 0-4 ms, P2 4-7, P3 7-10, P1 10-30).

Usage: test_view.py --threadsim PATH/TO/threadsim --source-dir PROJECT_DIR
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

THREADSIM = None
SOURCE_DIR = None


def setUpModule():
    """--real and --compare simulate with the cached host profile: give the
    tests a cache of their own holding a quick calibration, so they neither
    calibrate in full nor touch the user's cache."""
    cache = tempfile.mkdtemp(prefix="threadsim-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    os.makedirs(os.path.join(cache, "threadsim"))
    subprocess.run([THREADSIM, "calibrate", "--quick", "-o",
                    os.path.join(cache, "threadsim", "profile.json")],
                   stdin=subprocess.DEVNULL, capture_output=True, check=True, timeout=120)


def tearDownModule():
    shutil.rmtree(os.environ["XDG_CACHE_HOME"], ignore_errors=True)
MS = 1000000


def rr_q4():
    return os.path.join(SOURCE_DIR, "scenarios", "scheduling", "rr_q4.json")


def view(script, *args, env=None, scenario=None):
    """Runs threadsim view on a script (text); returns (process, steps) where
    steps is a list of dicts, one per step, with the panel as a list."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "steps.txt")
        with open(path, "w") as f:
            f.write(script)
        e = dict(os.environ)
        # The dummy driver loads no GL library (the off-screen one does, and
        # leaves allocations the leak checker reports).
        e["SDL_VIDEODRIVER"] = "dummy"
        e.update(env or {})
        proc = subprocess.run([THREADSIM, "view", scenario or rr_q4(), "--script", path,
                               "--dump-state", *args],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=120, env=e, cwd=tmp)
    return proc, parse(proc.stdout)


def parse(out):
    steps, cur, panel = [], None, False
    for line in out.splitlines():
        if line.startswith("step "):
            cur = {"panel": [], "saved": []}
            cur["step"] = line.split(": ", 1)[1]
            panel = False
        elif cur is None:
            continue
        elif line == "end":
            steps.append(cur)
            cur = None
        elif panel:
            cur["panel"].append(line.strip())
        elif line == "panel:":
            panel = True
        else:
            key, _, value = line.partition(" ")
            cur[key] = value
    return steps


def rng(step):
    a, b = step["range"].split()
    return int(a), int(b)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


class ViewTest(unittest.TestCase):
    def run_ok(self, script, *args, **kw):
        proc, steps = view(script, *args, **kw)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc, steps

    def test_the_window_should_open_on_the_whole_run(self):
        _, steps = self.run_ok("key f\n")
        self.assertEqual(rng(steps[0]), (0, 30 * MS))
        self.assertEqual(steps[0]["cursor"], "none")
        self.assertEqual(steps[0]["window"], "1280 720")

    def test_the_cursor_panel_should_show_the_run_queue_at_5ms(self):
        _, steps = self.run_ok("cursor 5ms\ncursor 12ms\n")
        self.assertEqual(steps[0]["cursor"], str(5 * MS))
        self.assertEqual(steps[0]["panel"],
                         ["at 5ms", "CPU 0: P2 / main", "ready: P3 / main, P1 / main"])
        self.assertEqual(steps[1]["panel"], ["at 12ms", "CPU 0: P1 / main", "ready: none"])

    def test_zoom_should_narrow_the_range_around_the_cursor_and_fit_restore_it(self):
        _, steps = self.run_ok("cursor 5ms\nkey +\nkey -\nkey +\nkey 0\n")
        # 30 ms / 1.25 = 24 ms, with 5 ms staying a sixth of the way across
        self.assertEqual(rng(steps[1]), (1 * MS, 25 * MS))
        self.assertEqual(rng(steps[2]), (0, 30 * MS))
        self.assertEqual(rng(steps[4]), (0, 30 * MS))

    def test_the_wheel_should_zoom_around_the_mouse(self):
        _, steps = self.run_ok("wheel 300 200 1\nwheel 800 200 1\nwheel 800 200 -5\n")
        a0, b0 = rng(steps[0])
        self.assertAlmostEqual(b0 - a0, 24 * MS, delta=2)
        # the time under x=300 stays put: from + r * span, the same before and after
        r0 = a0 / (30 * MS - (b0 - a0))
        self.assertGreater(r0, 0.1)
        self.assertLess(r0, 0.4)
        a1, b1 = rng(steps[1])
        self.assertAlmostEqual(b1 - a1, 19.2 * MS, delta=2)
        self.assertGreater(a1, a0)  # zooming right of the middle moves the start right
        self.assertEqual(rng(steps[2]), (0, 30 * MS))  # out past the whole run: fitted

    def test_drag_and_arrows_should_pan(self):
        _, steps = self.run_ok("cursor 5ms\nkey +\nkey Right\nkey Left\ndrag 600 300 500 300\n"
                               "drag 500 300 1200 300\n")
        self.assertEqual(rng(steps[2]), (3400000, 27400000))  # a tenth of 24 ms
        self.assertEqual(rng(steps[3]), (1 * MS, 25 * MS))
        a, b = rng(steps[4])
        self.assertEqual(b - a, 24 * MS)
        # 100 pixels of a plot of 700 to 1000 pixels
        self.assertGreater(a - 1 * MS, 100 * 24 * MS // 1000)
        self.assertLess(a - 1 * MS, 100 * 24 * MS // 700)
        self.assertEqual(rng(steps[5]), (0, 24 * MS))  # stops at the start of the run

    def test_step_keys_should_move_the_cursor_event_by_event(self):
        _, steps = self.run_ok("cursor 5ms\nkey .\nkey .\nkey ,\nkey ,\nkey End\n")
        self.assertEqual([s["cursor"] for s in steps],
                         [str(5 * MS), str(7 * MS), str(10 * MS), str(7 * MS), str(4 * MS),
                          str(30 * MS)])
        self.assertEqual(steps[1]["panel"], ["at 7ms", "CPU 0: P3 / main", "ready: P1 / main"])

    def test_space_should_play_the_cursor(self):
        _, steps = self.run_ok("cursor 5ms\nkey space\nframes 60\nkey space\nframes 10\n")
        self.assertEqual(steps[1]["playing"], "yes")
        # a frame is 1/60 s; the cursor crosses the 30 ms view in 8 s
        self.assertEqual(int(steps[1]["cursor"]), 5 * MS + 62500)
        self.assertEqual(int(steps[2]["cursor"]), 5 * MS + 61 * 62500)
        self.assertEqual(steps[3]["playing"], "no")
        self.assertEqual(steps[4]["cursor"], steps[3]["cursor"])

    def test_hover_should_show_the_segment_under_the_mouse(self):
        moves = "".join("move %d %d\n" % (x, y) for y in range(40, 300, 6) for x in (120, 230, 600))
        _, steps = self.run_ok(moves)
        tips = {s["tooltip"] for s in steps} - {"none"}
        self.assertIn("P1 / main|running on CPU 0|start 0|duration 4ms", tips)
        self.assertIn("P3 / main|ready|start 0|duration 7ms", tips)
        self.assertTrue(any(t.startswith("P2 / main|") for t in tips), tips)
        self.assertTrue(any(t.startswith("P3 / main|") for t in tips), tips)

    def test_click_should_highlight_a_thread_and_keys_switch_view_and_theme(self):
        clicks = "".join("click 20 %d\n" % y for y in range(40, 300, 6))
        _, steps = self.run_ok(clicks + "key v\nkey t\nkey ?\n")
        self.assertTrue(any(s["highlight"] == "P2 / main" for s in steps))
        self.assertEqual(steps[-3]["view"], "cpus")
        self.assertEqual(steps[-2]["theme"], "dark")
        self.assertEqual(steps[-1]["help"], "yes")

    def test_save_should_write_a_png_of_the_window(self):
        with tempfile.TemporaryDirectory() as out:
            prefix = os.path.join(out, "shot")
            proc, steps = self.run_ok("resize 1000 700\nsave\nkey t\nsave\n",
                                      "--save-prefix", prefix)
            self.assertEqual(steps[0]["window"], "1000 700")
            self.assertIn("saved %s-1.png (1000 x 700)" % prefix, proc.stdout)
            self.assertEqual(png_size(prefix + "-1.png"), (1000, 700))
            self.assertEqual(png_size(prefix + "-2.png"), (1000, 700))

    def test_two_runs_should_be_shown_on_one_axis(self):
        _, steps = self.run_ok("cursor 5ms\nkey s\nkey s\nkey s\n", "--compare-policy", "fifo")
        self.assertEqual(steps[0]["source"], "simulated, rr")
        self.assertEqual(steps[1]["source"], "simulated, fifo")
        self.assertEqual(steps[1]["panel"],
                         ["at 5ms", "CPU 0: P1 / main", "ready: P2 / main, P3 / main"])
        self.assertEqual(steps[2]["source"], "both")
        self.assertEqual(steps[2]["panel"],
                         ["simulated, rr:", "at 5ms", "CPU 0: P2 / main",
                          "ready: P3 / main, P1 / main",
                          "simulated, fifo:", "at 5ms", "CPU 0: P1 / main",
                          "ready: P2 / main, P3 / main"])
        self.assertEqual(steps[3]["source"], "simulated, rr")

    def test_without_a_display_view_should_say_so_and_exit_2(self):
        e = {k: v for k, v in os.environ.items()
             if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
        proc = subprocess.run([THREADSIM, "view", rr_q4()], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60, env=e)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no display", proc.stderr)

    def test_the_real_run_should_be_shown_next_to_the_simulated_one(self):
        _, steps = self.run_ok("key s\nkey s\nkey s\n", "--compare")
        self.assertEqual(steps[0]["source"], "real run")
        self.assertEqual(steps[1]["source"], "both")
        self.assertEqual(steps[2]["source"], "simulated, rr")
        _, steps = self.run_ok("key f\n", "--real")
        self.assertEqual(steps[0]["source"], "real run")
        # the real rr_q4 runs 30 ms of CPU on 2 CPUs: at least 24 ms, well under a second
        self.assertTrue(24 * MS <= rng(steps[0])[1] < 1000 * MS, steps[0])

    def test_bad_scripts_should_be_refused_with_exit_2(self):
        proc, _ = view("wheel 1 2\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("steps.txt:1: 'wheel' wants 3 arguments", proc.stderr)

    def test_a_deadlocked_run_should_still_be_shown_with_its_exit_status(self):
        scenario = os.path.join(SOURCE_DIR, "scenarios", "lectures", "19_deadlock.json")
        proc, steps = view("key End\n", scenario=scenario)
        self.assertEqual(proc.returncode, 3)
        self.assertEqual(len(steps), 1)
        panel = steps[0]["panel"]
        self.assertTrue(panel[1].startswith("deadlock: a cycle of threads"), panel)
        self.assertIn("lock lock_1: held by main / t1", panel)
        self.assertIn("lock lock_2: held by main / t2", panel)


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
