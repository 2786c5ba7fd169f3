#!/usr/bin/python3
"""Checks threadsim's FIFO, SJF, RR and MLFQ against the independent oracles.

For seeded random job sets it writes a scenario, runs
`threadsim run FILE --format json` and compares every job's response,
turnaround and wait with the oracle's, exactly, in nanoseconds:

* FIFO, SJF and RR (ostep_sched.py): 1-8 jobs at t=0, lengths 1-100 ms,
  RR quanta 1-20 ms;
* MLFQ (mlfq_oracle.py): 1-6 jobs with arrivals 0-50 ms, lengths 1-80 ms,
  1-4 levels with quanta 1-20 ms and allotments 1-4, an optional boost and
  optional I/O (every io_freq ms of CPU an I/O of io_time ms, as OSTEP's
  mlfq.py).

On a mismatch it prints the job set, both results and the first differing
job, with a command that replays the oracle. A few fixed MLFQ cases at the
instants where the ordering rules decide run first. The last line is
`N passed, N failed`; the exit status is 1 when anything failed.
"""

import argparse
import json
import os
import random
import sys
import tempfile

# Keep the source tree free of __pycache__ when CTest runs the oracles.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mlfq_oracle  # noqa: E402
import ostep_sched  # noqa: E402
from threadsim_run import (NS_PER_MS, RunError, job_process, ms,  # noqa: E402
                           run_json, scenario, threads_by_process,
                           write_scenario)

METRICS = ("response", "turnaround", "wait")
DETAILED_FAILURES = 10


class Case:
    """One scenario run: what was asked, the oracle's answer in ms, and a
    command that replays the oracle."""

    def __init__(self, label, doc, job_names, expected, replay, jobs_text):
        self.label = label
        self.doc = doc
        self.job_names = job_names
        self.expected = expected
        self.replay = replay
        self.jobs_text = jobs_text


def ostep_cases(rng, index):
    n = rng.randint(1, 8)
    lengths = [rng.randint(1, 100) for _ in range(n)]
    quantum = rng.randint(1, 20)
    names = ["J%d" % j for j in range(n)]
    procs = [job_process(names[j], [("compute", lengths[j])]) for j in range(n)]
    jobs_text = "lengths (ms) %s" % ",".join(str(x) for x in lengths)
    cases = []
    for policy in ("fifo", "sjf", "rr"):
        sched = {"policy": policy}
        replay = "ostep_sched.py -p %s -l %s" % (policy, ",".join(str(x) for x in lengths))
        if policy == "rr":
            sched["quantum"] = ms(quantum)
            replay += " -q %d" % quantum
        label = "ostep set %d %s%s" % (index, policy,
                                       " q=%dms" % quantum if policy == "rr" else "")
        doc = scenario(label, sched, procs)
        expected = ostep_sched.schedule(policy, lengths, quantum)
        cases.append(Case(label, doc, names, expected, replay, jobs_text))
    return cases


def mlfq_case(rng, index):
    nlevels = rng.randint(1, 4)
    levels = [(rng.randint(1, 20), rng.randint(1, 4)) for _ in range(nlevels)]
    boost = rng.choice([0, rng.randint(5, 100)])
    with_io = rng.random() < 0.6
    io_time = rng.randint(1, 10)
    n = rng.randint(1, 6)
    specs = []
    for _ in range(n):
        arrival = rng.randint(0, 50)
        length = rng.randint(1, 80)
        io_freq = rng.randint(1, 15) if with_io and rng.random() < 0.7 else 0
        specs.append((arrival, length, io_freq))
    jobs = [{"arrival": a, "ops": mlfq_oracle.io_program(length, f, io_time)}
            for a, length, f in specs]
    names = ["J%d" % j for j in range(n)]
    procs = [job_process(names[j], jobs[j]["ops"], arrival=jobs[j]["arrival"])
             for j in range(n)]
    sched = {"policy": "mlfq",
             "levels": [{"quantum": ms(q), "allotment": a} for q, a in levels]}
    if boost:
        sched["boost"] = ms(boost)
    label = "mlfq set %d" % index
    doc = scenario(label, sched, procs)
    expected = mlfq_oracle.simulate(jobs, levels, boost)
    replay = "mlfq_oracle.py -Q %s -A %s -B %d -i %d -l %s" % (
        ",".join(str(q) for q, _ in levels), ",".join(str(a) for _, a in levels),
        boost, io_time, ":".join("%d,%d,%d" % s for s in specs))
    jobs_text = ("levels (quantum ms, allotment) %s, boost %s, io_time %d ms; "
                 "jobs (arrival, length, io_freq) %s"
                 % (levels, "%d ms" % boost if boost else "none", io_time, specs))
    return Case(label, doc, names, expected, replay, jobs_text)


# Fixed MLFQ cases at the instants where the ordering rules decide: each is a
# name, levels (quantum ms, allotment), boost ms, and jobs (arrival, ops).
MLFQ_EDGE_CASES = [
    ("first arrival at the first boost instant: later boosts still refresh "
     "the running job's slice",
     [(12, 4)], 6,
     [(6, [("compute", 30)]), (6, [("compute", 30)])]),
    ("boost at the instant a slice expires: the expired job is boosted too",
     [(10, 1), (10, 1)], 20,
     [(0, [("compute", 50)]), (0, [("compute", 50)])]),
    ("an I/O ends at a boost instant: the boost comes first, so the woken job "
     "queues behind the lower-level job the boost lifted",
     [(5, 1), (3, 1), (5, 1)], 13,
     [(3, [("compute", 3), ("io", 3), ("compute", 2)]), (3, [("compute", 5)]),
      (2, [("compute", 9)])]),
    ("two I/Os end together, issued in the opposite of declaration order",
     [(10, 1)], 0,
     [(1, [("compute", 1), ("io", 3), ("compute", 3)]),
      (0, [("compute", 1), ("io", 4), ("compute", 3)])]),
    ("a higher-level arrival preempts a lower-level job, which stays at the head "
     "of its level with the rest of its slice",
     [(1, 1), (6, 1)], 0,
     [(3, [("compute", 4)]), (1, [("compute", 3)]), (0, [("compute", 10)])]),
    ("a slice that expires at the instant its job blocks counts as a full quantum",
     [(3, 1), (3, 1)], 0,
     [(0, [("compute", 3), ("io", 2), ("compute", 3)]), (0, [("compute", 10)])]),
]


def mlfq_edge_cases():
    cases = []
    for k, (title, levels, boost, specs) in enumerate(MLFQ_EDGE_CASES):
        jobs = [{"arrival": a, "ops": ops} for a, ops in specs]
        names = ["J%d" % j for j in range(len(jobs))]
        procs = [job_process(names[j], jobs[j]["ops"], arrival=jobs[j]["arrival"])
                 for j in range(len(jobs))]
        sched = {"policy": "mlfq",
                 "levels": [{"quantum": ms(q), "allotment": a} for q, a in levels]}
        if boost:
            sched["boost"] = ms(boost)
        label = "mlfq edge case %d: %s" % (k, title)
        doc = scenario("mlfq edge case %d" % k, sched, procs, description=title)
        expected = mlfq_oracle.simulate(jobs, levels, boost)
        jobs_text = ("levels (quantum ms, allotment) %s, boost %s; jobs (arrival, ops) %s"
                     % (levels, "%d ms" % boost if boost else "none", specs))
        cases.append(Case(label, doc, names, expected,
                          "MLFQ_EDGE_CASES[%d] in test_ostep.py" % k, jobs_text))
    return cases


def compare(case, report):
    """Returns None when every job matches, else a failure text."""
    got = threads_by_process(report)
    first_diff = None
    rows = []
    for j, name in enumerate(case.job_names):
        want = {m: case.expected[j][m] * NS_PER_MS for m in METRICS}
        t = got.get(name)
        if t is None:
            have = None
        else:
            have = {m: t.get(m + "_ns") for m in METRICS}
        bad = have != want
        if bad and first_diff is None:
            first_diff = name
        rows.append("  %s%-4s oracle %s\n        threadsim %s"
                    % ("*" if bad else " ", name, _fmt(want),
                       _fmt(have) if have else "(no such thread in the report)"))
    if first_diff is None:
        return None
    return ("first differing job: %s (marked *; times in ns)\n%s"
            % (first_diff, "\n".join(rows)))


def _fmt(values):
    return "  ".join("%s=%s" % (m, values[m]) for m in METRICS)


def run_case(case, threadsim, tmpdir, save_dir, index):
    path = write_scenario(tmpdir, "case%04d.json" % index, case.doc)
    try:
        report = run_json(threadsim, path)
        problem = compare(case, report)
    except RunError as e:
        problem = str(e)
    if problem is None:
        return None
    saved = ""
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
        saved_path = write_scenario(save_dir, "fail%04d.json" % index, case.doc)
        saved = "\nscenario saved as %s" % saved_path
    return ("FAIL %s\n%s\noracle: %s\n%s%s\nscenario: %s"
            % (case.label, case.jobs_text, case.replay, problem, saved,
               json.dumps(case.doc, separators=(",", ":"))))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threadsim", required=True, help="path of the threadsim binary")
    ap.add_argument("--sets", type=int, default=200,
                    help="random job sets for FIFO, SJF and RR (each runs under all three)")
    ap.add_argument("--mlfq-sets", type=int, default=200, help="random MLFQ job sets")
    ap.add_argument("--seed", type=int, default=1, help="seed of the job generator")
    ap.add_argument("--save-failures", metavar="DIR",
                    help="write every failing scenario into DIR")
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    cases = mlfq_edge_cases()
    for i in range(args.sets):
        cases.extend(ostep_cases(rng, i))
    for i in range(args.mlfq_sets):
        cases.append(mlfq_case(rng, i))

    print("seed %d: %d MLFQ edge cases, %d FIFO/SJF/RR job sets (3 runs each), "
          "%d MLFQ job sets"
          % (args.seed, len(MLFQ_EDGE_CASES), args.sets, args.mlfq_sets))
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="threadsim-oracle-") as tmpdir:
        for index, case in enumerate(cases):
            problem = run_case(case, args.threadsim, tmpdir, args.save_failures, index)
            if problem is None:
                passed += 1
                continue
            failed += 1
            if failed <= DETAILED_FAILURES:
                print(problem + "\n")
            else:
                print("FAIL %s (%s)" % (case.label, case.replay))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
