#!/usr/bin/python3
"""How far the lecture table moves on its own on this host.

A row of the lecture table (bench/compare_lectures.py) sets one simulated
makespan, made with one calibration, against the median of a few real runs
made just after. Both halves move: a calibration made a minute later gives
other figures (the host's speed and where its scheduler puts threads
change), and so does the next set of real runs. This script measures both
halves apart, on the same host and in the same session:

- it makes --sets quick calibrations, and after each one runs `threadsim
  compare` on every lecture scenario with it (--repeat real runs,
  --short-repeat for the short ones, those `threadsim run --as-host`
  simulates to less than --short-ms), as the lecture table does, and keeps
  the simulated makespan and the real runs' median;
- for each row it pairs every calibration's simulated makespan with every
  set's real median: each pair is a row this host could have printed in a
  table, the pairs of one set being the tables it did print.

It prints a Markdown table: the simulated makespans' range and swing
(max / min - 1), the real sets' medians and their swing, the error of the
pairs (median, min-max) and the share of pairs within the row's bound
(10 % for the CPU-bound lectures, 20 % for the others, as in
compare_lectures.py). A row whose median error is out of its bound is off
in the model (bias); a row whose median error is within but whose pairs
are not all within is moved by the host (noise). The summary gives the
expected number of rows within in one table (the sum of the shares) and
the chance that all are (their product, taking the rows as independent).

Usage: bench/lecture_noise.py --threadsim build/cli/threadsim
                              [--sets 3] [--repeat 3] [--short-repeat 9]
                              [--short-ms 100] [--only SUBSTRING]
                              [--timeout 60s] [--calibrate quick|full]
It takes about --sets x --repeat times as long as one real run of every
lecture (about 3 minutes here: 9 minutes a set with --repeat 3); run it on
a quiet machine.
"""
import argparse
import glob
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

from compare_lectures import ROOT, bound_of, compare as compare_json

DEADLOCK = 3


def failed(proc):
    """Says on stderr why a threadsim command failed; None."""
    sys.stderr.write("%s: exit %d: %s\n" % (" ".join(proc.args), proc.returncode, proc.stderr.strip()[:300]))


def simulate(threadsim, path, profile):
    """The makespan of `run --as-host`; "deadlock" when the simulation
    deadlocked; None when it failed (printed)."""
    proc = subprocess.run([threadsim, "run", path, "--as-host", "--profile", profile, "--format", "json"],
                          capture_output=True, text=True)
    if proc.returncode == DEADLOCK:
        return "deadlock"
    if proc.returncode != 0:
        return failed(proc)
    return json.loads(proc.stdout)["makespan_ns"]


def compare(threadsim, path, profile, repeat, timeout):
    """compare's simulated makespan and real median, both "deadlock" when
    it deadlocked, or (None, None) when compare failed (printed). The real
    runs are compare's own, not `threadsim real`'s: compare simulates and
    times the count kernel first, so its real runs start on a CPU that has
    just been busy, as they do in the lecture table."""
    out, proc = compare_json(threadsim, path, profile, repeat, timeout)
    if proc.returncode == DEADLOCK:
        return "deadlock", "deadlock"
    if out is None:
        failed(proc)
        return None, None
    return out["sim"]["makespan_ns"], out["real"]["makespan_ns"]


def calibrate(threadsim, path, mode):
    cmd = [threadsim, "calibrate", "-o", path] + (["--quick"] if mode == "quick" else [])
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def pct(x):
    return "%+.1f %%" % (100 * x)


def ms_range(values):
    return "%.2f-%.2f" % (min(values) / 1e6, max(values) / 1e6)


def row_of(name, sims, reals):
    """The row's figures, or None when a half is missing. Both halves
    deadlocking is a row within, as in the lecture table."""
    if None in sims or None in reals:
        return None
    if "deadlock" in sims or "deadlock" in reals:
        agree = all(s == "deadlock" for s in sims) and all(r == "deadlock" for r in reals)
        return {"name": name, "deadlock": True, "share": 1.0 if agree else 0.0, "tables": [agree] * len(reals)}
    errors = [s / r - 1 for s in sims for r in reals]
    bound = bound_of(name) / 100
    return {
        "name": name,
        "deadlock": False,
        "sims": sims,
        "reals": reals,
        "errors": errors,
        "bias": statistics.median(errors),
        "share": sum(abs(e) <= bound for e in errors) / len(errors),
        "bound": bound,
        # the rows the sets' own compare runs printed (simulation j, set j)
        "tables": [abs(s / r - 1) <= bound for s, r in zip(sims, reals)],
    }


def print_table(rows, sets):
    print("| scenario | sim makespan (ms), %d calibrations | sim swing | real set medians (ms), %d sets | real swing "
          "| error median | error min-max | bound | pairs within | sets' own rows within |" % (sets, sets))
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        if r["deadlock"]:
            print("| %s | deadlock | | deadlock | | | | | %.0f %% | %d of %d |" % (
                r["name"], 100 * r["share"], sum(r["tables"]), len(r["tables"])))
            continue
        s, q, e = r["sims"], r["reals"], r["errors"]
        print("| %s | %s | %s | %s | %s | %s | %s..%s | %d %% | %.0f %% | %d of %d |" % (
            r["name"], ms_range(s), pct(max(s) / min(s) - 1), ms_range(q), pct(max(q) / min(q) - 1),
            pct(r["bias"]), pct(min(e)), pct(max(e)), round(100 * r["bound"]), 100 * r["share"],
            sum(r["tables"]), len(r["tables"])))
    expected = sum(r["share"] for r in rows)
    chance = math.prod(r["share"] for r in rows)
    biased = [r["name"] for r in rows if not r["deadlock"] and abs(r["bias"]) > r["bound"]]
    noisy = [r["name"] for r in rows
             if not r["deadlock"] and abs(r["bias"]) <= r["bound"] and r["share"] < 1.0]
    print()
    print("rows: %d; expected within in one table: %.1f; chance that all are: %.1f %%" % (
        len(rows), expected, 100 * chance))
    print("the sets' own tables (each set against its own calibration): %s of %d within" % (
        ", ".join(str(sum(r["tables"][j] for r in rows)) for j in range(sets)), len(rows)))
    print("median error out of bound (the model is off): %d%s" % (len(biased), ": " + ", ".join(biased) if biased else ""))
    print("median error within, some pairs out (the host moves the row): %d%s" % (
        len(noisy), ": " + ", ".join(noisy) if noisy else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threadsim", default=os.path.join(ROOT, "build", "cli", "threadsim"))
    parser.add_argument("--sets", type=int, default=3, help="calibrations, each followed by a set of real runs")
    parser.add_argument("--repeat", type=int, default=3, help="real runs of a scenario in a set")
    parser.add_argument("--short-repeat", type=int, default=9,
                        help="real runs in a set of a scenario simulated to less than --short-ms")
    parser.add_argument("--short-ms", type=float, default=100)
    parser.add_argument("--only", default="", help="only scenarios whose file name holds this")
    parser.add_argument("--timeout", default="60s", help="bound of each real run")
    parser.add_argument("--calibrate", choices=["quick", "full"], default="quick")
    args = parser.parse_args()
    if args.sets < 1 or args.repeat < 1 or args.short_repeat < 1:
        parser.error("--sets, --repeat and --short-repeat want 1 or more")

    paths = sorted(p for p in glob.glob(os.path.join(ROOT, "scenarios", "lectures", "*.json"))
                   if args.only in os.path.basename(p))
    if not paths:
        parser.error("no lecture scenario matches --only %r" % args.only)
    names = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    with tempfile.TemporaryDirectory() as tmp:
        profiles = [os.path.join(tmp, "profile%d.json" % j) for j in range(args.sets)]
        reals = {n: [] for n in names}
        sims = {n: [] for n in names}
        short = {}
        for j, profile in enumerate(profiles):
            t0 = time.time()
            calibrate(args.threadsim, profile, args.calibrate)
            for path, name in zip(paths, names):
                if name not in short:
                    sim = simulate(args.threadsim, path, profile)
                    short[name] = isinstance(sim, int) and sim < args.short_ms * 1e6
                repeat = args.short_repeat if short[name] else args.repeat
                sim, real = compare(args.threadsim, path, profile, repeat, args.timeout)
                sims[name].append(sim)
                reals[name].append(real)
            sys.stderr.write("set %d of %d: %.0f s\n" % (j + 1, args.sets, time.time() - t0))
        rows = []
        for name in names:
            row = row_of(name, sims[name], reals[name])
            if row is None:
                sys.stderr.write("%s: left out (a run failed)\n" % name)
            else:
                rows.append(row)
    print_table(rows, args.sets)


if __name__ == "__main__":
    main()
