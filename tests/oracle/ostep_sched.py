#!/usr/bin/python3
"""FIFO, SJF and RR as OSTEP's homework scheduler.py computes them.

The model (OSTEP, chapter 7 "Scheduling: Introduction"): every job arrives at
time 0 and is pure CPU work of an integer length; there is one CPU and
switching costs nothing. For each job:

    response   = the instant it first runs
    turnaround = the instant it completes
    wait       = turnaround - length   (time spent ready but not running)

FIFO runs the jobs in the order given. SJF runs them shortest first; jobs of
equal length keep the order given. RR keeps a queue in the order given; the
job at its head runs for min(quantum, what it has left) and, if unfinished,
goes to the tail.

This file is written from those definitions, independently of threadsim, so
that the tests can check the simulator against it. It is stdlib-only.

As a command, it prints the schedule and the metrics of one job list:

    ostep_sched.py --policy RR --quantum 4 --jobs 24,3,3
"""

import argparse
import sys


def _run_in_order(lengths, order):
    """Runs jobs back to back in `order`; returns one metrics dict per job."""
    results = [None] * len(lengths)
    now = 0
    for j in order:
        results[j] = {
            "response": now,
            "turnaround": now + lengths[j],
            "wait": now,
        }
        now += lengths[j]
    return results


def fifo(lengths):
    """First in, first out: one metrics dict per job, in job order."""
    return _run_in_order(lengths, range(len(lengths)))


def sjf(lengths):
    """Shortest job first; sorted() is stable, so equal lengths keep job order."""
    order = sorted(range(len(lengths)), key=lambda j: lengths[j])
    return _run_in_order(lengths, order)


def rr(lengths, quantum):
    """Round robin with an integer quantum, the queue starting in job order."""
    if quantum <= 0:
        raise ValueError("quantum must be positive")
    left = list(lengths)
    first_run = [None] * len(lengths)
    finish = [None] * len(lengths)
    queue = list(range(len(lengths)))
    now = 0
    while queue:
        j = queue.pop(0)
        if first_run[j] is None:
            first_run[j] = now
        ran = min(quantum, left[j])
        now += ran
        left[j] -= ran
        if left[j] > 0:
            queue.append(j)
        else:
            finish[j] = now
    return [
        {
            "response": first_run[j],
            "turnaround": finish[j],
            "wait": finish[j] - lengths[j],
        }
        for j in range(len(lengths))
    ]


def schedule(policy, lengths, quantum=None):
    """Dispatches on the policy name ("fifo", "sjf" or "rr", any case)."""
    name = policy.lower()
    if name == "fifo":
        return fifo(lengths)
    if name == "sjf":
        return sjf(lengths)
    if name == "rr":
        return rr(lengths, quantum)
    raise ValueError("unknown policy %r (fifo, sjf, rr)" % policy)


def averages(results):
    """Average response, turnaround and wait over the jobs (floats)."""
    n = len(results)
    return {k: sum(r[k] for r in results) / n
            for k in ("response", "turnaround", "wait")}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", "-p", default="fifo", help="fifo, sjf or rr")
    ap.add_argument("--quantum", "-q", type=int, default=1, help="RR quantum")
    ap.add_argument("--jobs", "-l", required=True,
                    help="comma-separated job lengths, e.g. 24,3,3")
    args = ap.parse_args(argv)
    lengths = [int(x) for x in args.jobs.split(",")]
    results = schedule(args.policy, lengths, args.quantum)
    for j, r in enumerate(results):
        print("job %d (length %d): response %d  turnaround %d  wait %d"
              % (j, lengths[j], r["response"], r["turnaround"], r["wait"]))
    avg = averages(results)
    print("average: response %.2f  turnaround %.2f  wait %.2f"
          % (avg["response"], avg["turnaround"], avg["wait"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
