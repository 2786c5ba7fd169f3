#!/usr/bin/python3
"""Runs the textbook scheduling scenarios (scenarios/scheduling/) and checks
threadsim's answers against the published ones (docs/textbook-answers.md).

Each scenario is run with `threadsim run FILE --format json`; every job's
response, turnaround and wait must equal the textbook's exactly (in ns), and
so must the averages. The CFS case checks the CPU share of nice 0 against
nice 5 to within one time slice.

Before that, the oracles (ostep_sched.py, mlfq_oracle.py) are run on the same
scenario files and must give the same numbers: this catches a wrong scenario
file, a wrong oracle or a wrong hand calculation. `--self-check` does only
that part and needs no threadsim binary.

The last line is `N passed, N failed`; the exit status is 1 on any failure.
"""

import argparse
import json
import os
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
# Keep the source tree free of __pycache__ when CTest runs the oracles.
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

import mlfq_oracle  # noqa: E402
import ostep_sched  # noqa: E402
from threadsim_run import NS_PER_MS, RunError, run_json, threads_by_process  # noqa: E402

DEFAULT_SCENARIOS = os.path.join(HERE, "..", "..", "scenarios", "scheduling")


def J(response, turnaround, wait):
    """Expected numbers of one job, in ms (None: not asserted)."""
    return {"response": response, "turnaround": turnaround, "wait": wait}


# Per-job answers in ms, keyed by process name, and the averages the
# textbooks quote (Fraction: exact). Sources in docs/textbook-answers.md.
CASES = [
    {"file": "fcfs.json", "oracle": "ostep",
     "jobs": {"P1": J(0, 24, 0), "P2": J(24, 27, 24), "P3": J(27, 30, 27)},
     "averages": {"wait": Fraction(17), "turnaround": Fraction(27)}},
    {"file": "sjf.json", "oracle": "ostep",
     "jobs": {"P1": J(3, 9, 3), "P2": J(16, 24, 16), "P3": J(9, 16, 9), "P4": J(0, 3, 0)},
     "averages": {"wait": Fraction(7)}},
    {"file": "srtf.json",
     "jobs": {"P1": J(0, 17, 9), "P2": J(0, 4, 0), "P3": J(15, 24, 15), "P4": J(2, 7, 2)},
     "averages": {"wait": Fraction(13, 2), "turnaround": Fraction(13)}},
    {"file": "priority.json",
     "jobs": {"P1": J(6, 16, 6), "P2": J(0, 1, 0), "P3": J(16, 18, 16),
              "P4": J(18, 19, 18), "P5": J(1, 6, 1)},
     "averages": {"wait": Fraction(41, 5)}},
    {"file": "rr_q4.json", "oracle": "ostep",
     "jobs": {"P1": J(0, 30, 6), "P2": J(4, 7, 4), "P3": J(7, 10, 7)},
     "averages": {"wait": Fraction(17, 3)}},
    {"file": "rr_response.json", "oracle": "ostep",
     "jobs": {"A": J(0, 13, 8), "B": J(1, 14, 9), "C": J(2, 15, 10)},
     "averages": {"response": Fraction(1), "turnaround": Fraction(14)}},
    {"file": "fcfs_switch_cost.json",
     "jobs": {"P1": J(None, 24, 0), "P2": J(None, 28, 25), "P3": J(None, 32, 29)},
     "averages": {"wait": Fraction(18), "turnaround": Fraction(28)},
     "makespan": 32},
    {"file": "mlfq.json", "oracle": "mlfq",
     "jobs": {"A": J(0, 160, 60), "B": J(0, 57, 0), "C": J(3, 60, 3)},
     "averages": {"turnaround": Fraction(277, 3)}},
    {"file": "mlfq_boost.json", "oracle": "mlfq",
     "jobs": {"A": J(0, 139, 39), "B": J(0, 117, 60), "C": J(3, 120, 63)},
     "averages": {"turnaround": Fraction(376, 3)}},
    {"file": "cfs_nice.json", "cfs": {"fast": "N0", "slow": "N5", "weights": (1024, 335),
                                      "work": 300, "latency": 6}},
]


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def result(self, what, problems):
        if problems:
            self.failed += 1
            print("FAIL %s" % what)
            for p in problems:
                print("  " + p)
        else:
            self.passed += 1
            print("ok   %s" % what)


def load(scenarios, case):
    with open(os.path.join(scenarios, case["file"])) as f:
        return json.load(f)


def parse_ms(text):
    """A whole number of ms from a contract duration ("24ms", 0)."""
    if text == 0:
        return 0
    if not isinstance(text, str) or not text.endswith("ms") or not text[:-2].isdigit():
        raise ValueError("%r: the oracles take whole milliseconds" % (text,))
    return int(text[:-2])


def expand_ops(program):
    """The ("compute"|"io", ms) list of a program made of compute, io and repeat."""
    ops = []
    for op in program:
        if op["op"] == "repeat":
            for _ in range(op["times"]):
                ops.extend(expand_ops(op["body"]))
        elif op["op"] in ("compute", "io"):
            ops.append((op["op"], parse_ms(op["for"])))
        else:
            raise ValueError("op %r is outside what the oracles model" % op["op"])
    merged = []
    for kind, dur in ops:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + dur)
        else:
            merged.append((kind, dur))
    return merged


def oracle_answer(doc, kind):
    """Runs the case's oracle on the scenario; {process: {metric: ms}}."""
    procs = doc["processes"]
    names = [p["name"] for p in procs]
    jobs = [{"arrival": parse_ms(p.get("arrival", 0)),
             "ops": expand_ops(p["threads"][0]["program"])} for p in procs]
    sched = doc["scheduler"]
    if kind == "ostep":
        if any(j["arrival"] for j in jobs) or any(len(j["ops"]) != 1 for j in jobs):
            raise ValueError("ostep_sched models CPU-only jobs arriving at 0")
        quantum = parse_ms(sched["quantum"]) if "quantum" in sched else None
        res = ostep_sched.schedule(sched["policy"], [j["ops"][0][1] for j in jobs], quantum)
    else:
        levels = [(parse_ms(lv["quantum"]), lv["allotment"]) for lv in sched["levels"]]
        res = mlfq_oracle.simulate(jobs, levels, parse_ms(sched.get("boost", 0)))
    return dict(zip(names, res))


def self_check(scenarios, checker):
    for case in CASES:
        if "oracle" not in case:
            continue
        what = "oracle %s on %s" % (
            "ostep_sched.py" if case["oracle"] == "ostep" else "mlfq_oracle.py", case["file"])
        problems = []
        try:
            got = oracle_answer(load(scenarios, case), case["oracle"])
        except (OSError, ValueError, KeyError) as e:
            checker.result(what, ["cannot run the oracle: %s" % e])
            continue
        for name, want in case["jobs"].items():
            for metric, value in want.items():
                if value is not None and got[name][metric] != value:
                    problems.append("%s %s: textbook %d ms, oracle %d ms"
                                    % (name, metric, value, got[name][metric]))
        checker.result(what, problems)


def fmt_ms(ns):
    if ns % NS_PER_MS == 0:
        return "%d ms" % (ns // NS_PER_MS)
    return "%.6f ms (%d ns)" % (ns / NS_PER_MS, ns)


def check_jobs(case, threads):
    problems = []
    for name, want in case["jobs"].items():
        t = threads.get(name)
        if t is None:
            problems.append("%s: no thread of process %s in the report" % (name, name))
            continue
        for metric, value in want.items():
            if value is None:
                continue
            got = t.get(metric + "_ns")
            if got != value * NS_PER_MS:
                problems.append("%s %s: expected %d ms, got %s"
                                % (name, metric, value,
                                   fmt_ms(got) if isinstance(got, int) else repr(got)))
    for metric, avg in case.get("averages", {}).items():
        values = [threads[n].get(metric + "_ns") for n in case["jobs"] if n in threads]
        if len(values) != len(case["jobs"]) or not all(isinstance(v, int) for v in values):
            continue
        got = Fraction(sum(values), len(values) * NS_PER_MS)
        if got != avg:
            problems.append("average %s: expected %.2f ms (%s), got %.4f ms"
                            % (metric, float(avg), avg, float(got)))
    return problems


def check_cfs(case, report, threads):
    """Both jobs need `work` ms. While both run, the nice 0 job must get
    w0/(w0+w5) of the CPU: it finishes at work*(w0+w5)/w0, within one slice
    (latency * w0/(w0+w5)) of it. Then the nice 5 job runs alone."""
    c = case["cfs"]
    w_fast, w_slow = c["weights"]
    problems = []
    fast, slow = threads.get(c["fast"]), threads.get(c["slow"])
    if fast is None or slow is None:
        return ["the report lacks process %s or %s" % (c["fast"], c["slow"])]
    work_ns = c["work"] * NS_PER_MS
    for name, t in ((c["fast"], fast), (c["slow"], slow)):
        if t.get("cpu_ns") != work_ns:
            problems.append("%s cpu: expected %d ms, got %r" % (name, c["work"], t.get("cpu_ns")))
    ideal = Fraction(work_ns * (w_fast + w_slow), w_fast)
    slice_ns = Fraction(c["latency"] * NS_PER_MS * w_fast, w_fast + w_slow)
    finish = fast.get("finish_ns")
    if not isinstance(finish, int) or finish <= 0:
        return problems + ["%s finish_ns: %r" % (c["fast"], finish)]
    share = Fraction(work_ns, finish)
    want_share = Fraction(w_fast, w_fast + w_slow)
    print("     %s got %.2f%% of the CPU while both ran (ideal %.2f%%), finished at %.3f ms "
          "(ideal %.3f ms, tolerance one slice = %.3f ms)"
          % (c["fast"], 100 * float(share), 100 * float(want_share), finish / NS_PER_MS,
             float(ideal) / NS_PER_MS, float(slice_ns) / NS_PER_MS))
    if abs(finish - ideal) > slice_ns:
        problems.append("%s's share while both ran: expected %.2f%% (finish at %.3f ms +- %.3f), "
                        "got %.2f%% (finish at %.3f ms)"
                        % (c["fast"], 100 * float(want_share), float(ideal) / NS_PER_MS,
                           float(slice_ns) / NS_PER_MS, 100 * float(share), finish / NS_PER_MS))
    if fast.get("wait_ns") != finish - work_ns:
        problems.append("%s wait: expected finish - cpu = %s, got %r"
                        % (c["fast"], fmt_ms(finish - work_ns), fast.get("wait_ns")))
    if slow.get("wait_ns") != work_ns:
        problems.append("%s wait: expected %d ms (it waits exactly while %s runs), got %r"
                        % (c["slow"], c["work"], c["fast"], slow.get("wait_ns")))
    if report.get("makespan_ns") != 2 * work_ns:
        problems.append("makespan: expected %d ms, got %r" % (2 * c["work"], report.get("makespan_ns")))
    return problems


def run_cases(threadsim, scenarios, checker):
    for case in CASES:
        path = os.path.join(scenarios, case["file"])
        try:
            report = run_json(threadsim, path)
        except RunError as e:
            checker.result(case["file"], [line for line in str(e).splitlines()])
            continue
        threads = threads_by_process(report)
        if "cfs" in case:
            problems = check_cfs(case, report, threads)
        else:
            problems = check_jobs(case, threads)
        if "makespan" in case and report.get("makespan_ns") != case["makespan"] * NS_PER_MS:
            problems.append("makespan: expected %d ms, got %r"
                            % (case["makespan"], report.get("makespan_ns")))
        checker.result(case["file"], problems)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threadsim", help="path of the threadsim binary")
    ap.add_argument("--scenarios", default=DEFAULT_SCENARIOS,
                    help="directory of the textbook scenarios")
    ap.add_argument("--self-check", action="store_true",
                    help="only check the oracles against the textbook answers")
    args = ap.parse_args(argv)
    if not args.self_check and not args.threadsim:
        ap.error("--threadsim is required unless --self-check is given")

    checker = Checker()
    self_check(args.scenarios, checker)
    if not args.self_check:
        run_cases(args.threadsim, args.scenarios, checker)
    print("%d passed, %d failed" % (checker.passed, checker.failed))
    return 1 if checker.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
