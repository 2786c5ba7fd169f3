#!/usr/bin/python3
"""How well the simulator predicts this host on the lecture scenarios.

Runs `threadsim compare FILE --repeat N --format json` on every
scenarios/lectures/*.json with one host profile and prints a Markdown table:
scenario, simulated makespan, real median (and spread), error in %, and
whether the error is within the bound (10 % for CPU-bound scenarios: the
count and primes ones; 20 % for the others, which are dominated by
synchronisation, sleeps or process start-up).

Usage: bench/compare_lectures.py --threadsim build/cli/threadsim
                                 [--profile P] [--repeat 3] [--only SUBSTRING]
                                 [--short-repeat N [--short-ms 100]]
The CPU share column is the share of a CPU a busy loop got just before the
scenario ran (1.00 on an idle host): on a shared machine the real runs are
slowed by other programs and the simulation is not. The last column is the
real runs' median time with a CPU idle while a thread of the run was
runnable on another one (`compare`'s "CPU idle, thread ready"): time the
host's scheduler lost by keeping threads together, which the simulation
does not model; "(first X)" when a thread's event buffer filled and the
traces are whole only up to X ms, the part it covers. The last column is the count kernel's time per iteration
just before or just after the real runs (compare measures both; the one
further off), over the profile's: far from 1.00, the host's speed moved
since the profile was measured (just before, with --calibrate-each).
The "close races" column is the simulation's lock hand-off races decided by
less than the profile's futex_race_ns, of all its races (compare's
close-race line fires for the row when there are enough to matter): real
runs decide those races either way (docs/host-compare.md). A row out of its
bound for which compare flags them (error.close_races) says "no (close
races)", and the summary counts such rows apart: their error is not one the
model claims to predict.
With --steady-tries N a row whose count kernel was more than 10 % off
before or after its real runs is calibrated and measured again, up to N
times in all; the table shows the last try and how many there were, and
the summary says how many rows never had a steady try.
Without --profile it runs a full `threadsim calibrate -o` into a temporary
file first (a few seconds).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# CPU-bound lectures (count in threads/processes, the primes practice): 10 %
CPU_BOUND = ("02_count", "20_primes")
EXIT_NAMES = {1: "internal error", 2: "bad scenario", 3: "deadlock", 4: "run-time error", 5: "watchdog"}


def ms(ns):
    return "-" if ns is None else "%.2f" % (ns / 1e6)


def bound_of(name):
    return 10.0 if name.startswith(CPU_BOUND) else 20.0


def cpu_share(seconds=0.1):
    """The share of one CPU a busy loop gets right now (CPU time / wall time):
    1.0 on an idle host; lower when other programs compete for the CPUs.
    Real runs are slowed by the same factor; the simulation is not."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < seconds:
        pass
    return (time.process_time() - cpu0) / (time.perf_counter() - wall0)


def speed_ratio(out):
    """The count kernel's time per iteration just before or just after the
    real runs, whichever is further off the profile's, over the profile's:
    None when compare did not say."""
    if out is None or "count_ns_per_iter" not in out:
        return None
    speed = out["count_ns_per_iter"]
    if not speed.get("profile"):
        return None
    worst = max((speed["before"], speed["after"]), key=lambda v: abs(v - speed["profile"]))
    return worst / speed["profile"]


def compare(threadsim, path, profile, repeat, timeout):
    proc = subprocess.run([threadsim, "compare", path, "--repeat", str(repeat), "--profile", profile,
                           "--format", "json", "--timeout", timeout],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None, proc
    return json.loads(proc.stdout), proc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threadsim", default=os.path.join(ROOT, "build", "cli", "threadsim"))
    parser.add_argument("--profile", help="host profile (default: calibrate now)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", default="30s", help="bound of each real run")
    parser.add_argument("--only", default="", help="only scenarios whose file name holds this")
    parser.add_argument("--calibrate-each", choices=["quick", "full"],
                        help="calibrate again (into a temporary profile) before each scenario: a shared "
                             "virtual machine's speed drifts over minutes")
    parser.add_argument("--max-ms", type=float, default=0,
                        help="skip scenarios whose simulated makespan is longer (0: none skipped)")
    parser.add_argument("--short-repeat", type=int, default=0,
                        help="real runs for scenarios whose simulated makespan is under --short-ms (0: --repeat): "
                             "their real median moves by a third from one minute to the next on a shared "
                             "machine, and more runs of a millisecond cost nothing")
    parser.add_argument("--short-ms", type=float, default=100)
    parser.add_argument("--steady-tries", type=int, default=1,
                        help="with --calibrate-each: calibrate and measure a row again while the count kernel was "
                             "more than 10 %% off the profile's speed before or after its real runs, up to this "
                             "many tries in all (1: one try)")
    args = parser.parse_args()

    tmp = None
    profile = args.profile
    if not profile or args.calibrate_each:
        tmp = tempfile.TemporaryDirectory()
        profile = os.path.join(tmp.name, "profile.json")
        subprocess.run([args.threadsim, "calibrate", "-o", profile], check=True, stdout=subprocess.DEVNULL)
    with open(profile) as f:
        print("profile: %s (%s)\n" % (profile, json.load(f).get("name", "?")))

    print("| scenario | sim makespan (ms) | real median (ms) | real min-max (ms) | error | bound | within | CPU share "
          "| CPU idle, thread ready (ms) | count kernel around / profile | tries | close races |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    within = total = flagged = 0
    steady_within = steady = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "lectures", "*.json"))):
        name = os.path.basename(path)[:-5]
        if args.only not in name:
            continue
        bound = bound_of(name)
        repeat = args.repeat
        if args.max_ms > 0 or args.short_repeat > 0:
            sim = subprocess.run([args.threadsim, "run", path, "--profile", profile, "--format", "json"],
                                 capture_output=True, text=True, timeout=600)
            span = json.loads(sim.stdout)["makespan_ns"] if sim.returncode == 0 else None
            if args.max_ms > 0 and span is not None and span > args.max_ms * 1e6:
                continue
            if args.short_repeat > 0 and span is not None and span < args.short_ms * 1e6:
                repeat = args.short_repeat
        tries = 0
        while True:
            tries += 1
            if args.calibrate_each:
                subprocess.run([args.threadsim, "calibrate", "-o", profile] +
                               (["--quick"] if args.calibrate_each == "quick" else []),
                               check=True, stdout=subprocess.DEVNULL)
            share = "%.2f" % cpu_share()
            out, proc = compare(args.threadsim, path, profile, repeat, args.timeout)
            ratio = speed_ratio(out)
            if (out is None or not args.calibrate_each or tries >= args.steady_tries
                    or (ratio is not None and 0.9 <= ratio <= 1.1)):
                break
        if out is None:
            what = EXIT_NAMES.get(proc.returncode, "exit %d" % proc.returncode)
            # the simulation's own outcome: a deadlock in both is agreement
            sim = subprocess.run([args.threadsim, "run", path, "--profile", profile, "--format", "json"],
                                 capture_output=True, text=True, timeout=600)
            agree = proc.returncode == sim.returncode and proc.returncode in (3, 4)
            why = [line for line in proc.stderr.splitlines() if "host is busy" not in line
                   and "a real run stopped" not in line and "simulation also stopped" not in line
                   and "count kernel" not in line]
            why = why[-1].split(": ", 1)[-1] if why else ""
            if len(why) > 90:
                why = why[:87] + "..."
            print("| %s | - | - | - | %s | | %s | %s | - | - | %d | - |" % (
                name, what, ("yes (sim: %s too)" % what) if agree else "no: " + why.replace("|", "/"), share,
                tries))
            total += 1
            within += agree
            continue
        drift = "-" if ratio is None else "%.2f" % ratio
        sim, real, err = out["sim"], out["real"], out["error"]
        spread = real.get("makespan_spread_ns", [None, None])
        pct = err["makespan_pct"]
        ok = pct is not None and abs(pct) <= bound
        races = err.get("close_races", False) and not ok
        total += 1
        within += ok
        flagged += races
        if ratio is not None and 0.9 <= ratio <= 1.1:
            steady += 1
            steady_within += ok
        print("| %s | %s | %s | %s-%s | %s | %d %% | %s | %s | %s | %s | %d | %s |" % (
            name, ms(sim["makespan_ns"]), ms(real["makespan_ns"]), ms(spread[0]), ms(spread[1]),
            "-" if pct is None else "%+.1f %%" % pct, bound,
            "yes" if ok else "**no** (close races)" if races else "**no**", share,
            idle_of(real["stats"]), drift, tries, races_of(sim["stats"])))
        sys.stdout.flush()
    print("\n%d of %d within their bound" % (within, total))
    if flagged:
        print("%d more out of it where compare flags the makespan as decided by close lock races" % flagged)
    print("%d of the %d rows measured at a steady host speed (count kernel before and after the real runs "
          "within 10 %% of the profile's) within their bound" % (steady_within, steady))
    runs = "%d real runs a row" % args.repeat
    if args.short_repeat > 0:
        runs += ", %d for those simulated under %g ms" % (args.short_repeat, args.short_ms)
    print(runs)
    if tmp:
        tmp.cleanup()
    return 0


def races_of(stats):
    """The simulation's close lock races of all its races, "-" for none."""
    races = stats.get("lock_races")
    if not races:
        return "-"
    return "%d of %d (< %d ns)" % (races["close"], races["total"], races["window_ns"])


def idle_of(stats):
    """The CPU-idle figure, with how much of the run it covers when a
    thread's event buffer filled (the figure stops there)."""
    idle = ms(stats.get("idle_while_ready_ns"))
    until = stats.get("recorded_until_ns")
    if until is not None:
        idle += " (first %s)" % ms(until)
    return idle


if __name__ == "__main__":
    sys.exit(main())
