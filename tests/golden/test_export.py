#!/usr/bin/python3
"""End-to-end tests of `threadsim export`: golden SVG images of a few small
scenarios (valid XML, the same bytes as tests/golden/*.svg), the refusal of
--real and --compare while the real runner is not built in, and a gallery
(docs/gallery.md and docs/gallery/) that is up to date and small.

Usage: test_export.py --threadsim PATH/TO/threadsim --source-dir PROJECT_DIR
                      [--regenerate] [--skip-gallery]

After a deliberate change to the pictures, regenerate the golden files with
    python3 tests/golden/test_export.py --threadsim build/cli/threadsim \\
        --source-dir . --regenerate
and look at the changed images before committing them.
"""
import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

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
REGENERATE = False
SKIP_GALLERY = False
GOLDEN_DIR = os.path.dirname(os.path.abspath(__file__))
GOLDEN_MAX_BYTES = 60 * 1024
GALLERY_MAX_BYTES = 3 * 1024 * 1024

# golden file -> (scenario, extra export options)
GOLDEN = {
    "lectures_03_bank_account_lock.svg":
        ("scenarios/lectures/03_bank_account_lock.json", []),
    "lectures_13_pipe_ping_pong.svg":
        ("scenarios/lectures/13_pipe_ping_pong.json", []),
    "gil_count_threads_30ms.svg":
        ("scenarios/gil/count_threads.json", ["--to", "30ms"]),
    "scheduling_rr_q4_cpus_dark.svg":
        ("scenarios/scheduling/rr_q4.json", ["--view", "cpus", "--theme", "dark"]),
    "gil_count_threads_fifo_vs_rr_1920.svg":
        ("scenarios/gil/count_threads.json",
         ["--compare-policy", "rr", "--to", "30ms", "--width", "1920"]),
}


def threadsim(*args):
    return subprocess.run([THREADSIM, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300,
                          cwd=SOURCE_DIR)


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="threadsim-export-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def export(self, scenario, options, out):
        proc = threadsim("export", os.path.join(SOURCE_DIR, scenario), "-o", out, *options)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc

    def test_golden_svgs_should_be_valid_xml_and_unchanged(self):
        for name, (scenario, options) in sorted(GOLDEN.items()):
            with self.subTest(golden=name):
                out = os.path.join(self.tmp, name)
                self.export(scenario, options, out)
                lint = subprocess.run(["xmllint", "--noout", out], capture_output=True,
                                      text=True)
                self.assertEqual(lint.returncode, 0, lint.stderr)
                golden = os.path.join(GOLDEN_DIR, name)
                if REGENERATE:
                    shutil.copyfile(out, golden)
                self.assertLess(os.path.getsize(golden), GOLDEN_MAX_BYTES)
                if not filecmp.cmp(out, golden, shallow=False):
                    with open(out, encoding="utf-8") as a, open(golden, encoding="utf-8") as b:
                        new, old = a.read().splitlines(), b.read().splitlines()
                    line = next((i for i, (x, y) in enumerate(zip(new, old)) if x != y),
                                min(len(new), len(old)))
                    self.fail("%s differs from the golden file at line %d:\n  new: %s\n"
                              "  old: %s\n(regenerate: see this script's docstring)"
                              % (name, line + 1, new[line] if line < len(new) else "<end>",
                                 old[line] if line < len(old) else "<end>"))

    def test_every_golden_svg_should_carry_title_legend_and_axis(self):
        ns = "{http://www.w3.org/2000/svg}"
        for name, (scenario, _) in GOLDEN.items():
            with self.subTest(golden=name):
                root = ET.parse(os.path.join(GOLDEN_DIR, name)).getroot()
                texts = [(int(t.get("y")), "".join(t.itertext())) for t in root.iter(ns + "text")]
                with open(os.path.join(SOURCE_DIR, scenario), encoding="utf-8") as f:
                    sc = json.load(f)
                # the title: the scenario's name; the policy and CPUs in it or
                # in the section headings
                self.assertTrue(texts[0][1].startswith(sc["name"]), texts[0])
                self.assertTrue(any(" CPU" in t for _, t in texts[:4]), texts[:4])
                if sc.get("description"):
                    self.assertTrue(sc["description"].startswith(texts[1][1].rstrip("\u2026")))
                # the axis starts at 0; the legend's labels are below it
                axis_y = max(y for y, t in texts if t == "0")
                self.assertTrue(any(y > axis_y for y, _ in texts), "no legend")

    def test_real_and_compare_should_draw_the_real_run(self):
        out = os.path.join(self.tmp, "real.svg")
        self.export("scenarios/scheduling/rr_q4.json", ["--real"], out)
        with open(out, encoding="utf-8") as f:
            svg = f.read()
        self.assertIn("real run", svg)
        self.assertEqual(svg.count(">P1 / main</text>"), 1)
        out = os.path.join(self.tmp, "both.svg")
        self.export("scenarios/scheduling/rr_q4.json", ["--compare"], out)
        with open(out, encoding="utf-8") as f:
            svg = f.read()
        self.assertIn(">simulated: rr, 1 CPU</text>", svg)
        self.assertIn(">real: os, ", svg)
        self.assertEqual(svg.count(">P1 / main</text>"), 2)

    def test_compare_policy_should_stack_two_headed_runs(self):
        out = os.path.join(self.tmp, "cmp.svg")
        self.export("scenarios/scheduling/rr_q4.json", ["--compare-policy", "fifo"], out)
        with open(out, encoding="utf-8") as f:
            svg = f.read()
        self.assertIn(">simulated: rr, 1 CPU</text>", svg)
        self.assertIn(">simulated: fifo, 1 CPU</text>", svg)
        self.assertEqual(svg.count(">P1 / main</text>"), 2)

    def test_gallery_should_be_current_and_small(self):
        if SKIP_GALLERY:
            self.skipTest("--skip-gallery")
        out = os.path.join(self.tmp, "docs")
        proc = subprocess.run(["sh", "scripts/gallery.sh", THREADSIM, out], cwd=SOURCE_DIR,
                              capture_output=True, text=True, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        committed = os.path.join(SOURCE_DIR, "docs")
        self.assertTrue(filecmp.cmp(os.path.join(out, "gallery.md"),
                                    os.path.join(committed, "gallery.md"), shallow=False),
                        "docs/gallery.md is out of date: run `make gallery`")
        new = sorted(os.listdir(os.path.join(out, "gallery")))
        old = sorted(os.listdir(os.path.join(committed, "gallery")))
        self.assertEqual(new, old, "docs/gallery/ is out of date: run `make gallery`")
        match, mismatch, errors = filecmp.cmpfiles(os.path.join(out, "gallery"),
                                                   os.path.join(committed, "gallery"), new,
                                                   shallow=False)
        self.assertEqual(mismatch + errors, [], "out of date images: run `make gallery`")
        total = sum(os.path.getsize(os.path.join(committed, "gallery", n)) for n in old)
        self.assertLess(total, GALLERY_MAX_BYTES)


def main():
    global THREADSIM, SOURCE_DIR, REGENERATE, SKIP_GALLERY
    parser = argparse.ArgumentParser()
    parser.add_argument("--threadsim", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--skip-gallery", action="store_true")
    args, rest = parser.parse_known_args()
    THREADSIM = os.path.abspath(args.threadsim)
    SOURCE_DIR = os.path.abspath(args.source_dir)
    REGENERATE = args.regenerate
    SKIP_GALLERY = args.skip_gallery
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
