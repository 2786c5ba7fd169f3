#!/usr/bin/python3
"""A tick-based MLFQ oracle (1 tick = 1 ms), written from threadsim's contract.

It follows the scheduler rules of the scenario contract
(shared/design/scenario-format.md, "Ordering rules" 1-4) and the simulator's
documented choices, on one CPU with free context switches:

* A new task enters the highest level (0) with a full quantum and allotment.
* The highest non-empty level runs; within a level, round robin.
* A task's slice is consumed by its CPU time. When it reaches zero (even at the
  instant the task blocks or finishes) the allotment at that level drops by
  one and the slice is refilled; at zero allotment the task moves to the next
  lower level with that level's quantum and allotment (the lowest level keeps
  it, refreshed). A task still runnable then goes to the tail of its level.
* A running task preempted by a task of a higher level stays at the head of
  its level and keeps the rest of its slice (rule 3).
* A task that blocks for I/O keeps its slice and allotment and rejoins the
  tail of its level when the I/O ends.
* At every multiple of `boost` (t > 0) every task in the system goes to the
  highest level with a fresh quantum and allotment; the ready queue becomes
  the old levels concatenated from highest to lowest. The running task keeps
  its CPU (it is the first of that order: nothing above it was ready).

What happens at one instant t, in this order:
 1. the running task's last tick ends: op, slice and allotment bookkeeping;
    it finishes, blocks, or (slice expired) re-enters the tail of its level,
    which puts it after tasks ready before t (rule 2);
 2. the boost, if t is a multiple of it;
 3. arrivals and I/O completions at t, in declaration order (rule 1), after
    the task that expired at t (rule 2);
 4. preemption of the running task by a higher level;
 5. an idle CPU takes the head of the highest non-empty level.

A job is {"arrival": ms, "ops": [("compute", ms), ("io", ms), ...]}: computes
and I/Os alternate, starting and ending with a compute. `levels` is a list of
(quantum_ms, allotment), highest first. This file is stdlib-only and
independent of threadsim's code.

As a command, in the spirit of OSTEP's mlfq.py:

    mlfq_oracle.py -Q 10,10 -A 1,1 -B 50 -i 5 -l 0,120,0:50,20,2
"""

import argparse
import sys


def io_program(length, io_freq, io_time):
    """The op list of a job of `length` ms of CPU that does an I/O of
    `io_time` ms after every `io_freq` ms of CPU (io_freq 0: never), as
    OSTEP's mlfq.py jobs do; no I/O follows the last compute."""
    if length <= 0:
        raise ValueError("a job needs some CPU time")
    if io_freq <= 0 or io_time <= 0 or io_freq >= length:
        return [("compute", length)]
    ops = []
    left = length
    while left > 0:
        burst = min(io_freq, left)
        ops.append(("compute", burst))
        left -= burst
        if left > 0:
            ops.append(("io", io_time))
    return ops


def _check_job(i, job):
    ops = job["ops"]
    if job["arrival"] < 0:
        raise ValueError("job %d: negative arrival" % i)
    if not ops or ops[0][0] != "compute" or ops[-1][0] != "compute":
        raise ValueError("job %d: ops must start and end with a compute" % i)
    for k, (kind, dur) in enumerate(ops):
        want = "compute" if k % 2 == 0 else "io"
        if kind != want or int(dur) != dur or dur <= 0:
            raise ValueError("job %d op %d: expected %s with a positive "
                             "integer duration" % (i, k, want))


class _Task:
    __slots__ = ("idx", "arrival", "ops", "op", "op_left", "state", "level",
                 "slice_left", "allot_left", "wake_at", "first_run",
                 "finish", "wait", "cpu", "blocked")

    def __init__(self, idx, job):
        self.idx = idx
        self.arrival = job["arrival"]
        self.ops = job["ops"]
        self.op = 0
        self.op_left = self.ops[0][1]
        self.state = "new"
        self.level = 0
        self.slice_left = 0
        self.allot_left = 0
        self.wake_at = None
        self.first_run = None
        self.finish = None
        self.wait = 0
        self.cpu = 0
        self.blocked = 0


def simulate(jobs, levels, boost=0, trace=None):
    """Runs the jobs; returns one dict per job (in job order) with arrival,
    first_run, finish, response, turnaround, wait, cpu, blocked (ms).
    `trace`, if given, is a list that receives (t, job index) for every tick
    a job runs."""
    if not levels:
        raise ValueError("at least one level")
    for q, a in levels:
        if q <= 0 or a <= 0:
            raise ValueError("quantum and allotment must be positive")
    for i, job in enumerate(jobs):
        _check_job(i, job)

    tasks = [_Task(i, j) for i, j in enumerate(jobs)]
    lowest = len(levels) - 1
    queues = [[] for _ in levels]
    running = None
    done = 0
    t = 0

    def refresh(task, level):
        task.level = level
        task.slice_left = levels[level][0]
        task.allot_left = levels[level][1]

    while done < len(tasks):
        # 1. The running task ran [t-1, t).
        if running is not None:
            task = running
            task.slice_left -= 1
            task.op_left -= 1
            expired = task.slice_left == 0
            if expired:
                task.allot_left -= 1
                if task.allot_left == 0:
                    refresh(task, min(task.level + 1, lowest))
                else:
                    task.slice_left = levels[task.level][0]
            if task.op_left == 0:
                task.op += 1
                if task.op == len(task.ops):
                    task.state = "done"
                    task.finish = t
                    done += 1
                    running = None
                else:
                    # ops alternate: this one is an I/O, the next a compute
                    task.state = "blocked"
                    task.wake_at = t + task.ops[task.op][1]
                    task.op += 1
                    task.op_left = task.ops[task.op][1]
                    running = None
            if running is not None and expired:
                task.state = "ready"
                queues[task.level].append(task)
                running = None
            if done == len(tasks):
                break

        # 2. Boost.
        if boost and t > 0 and t % boost == 0:
            merged = [task for q in queues for task in q]
            queues = [[] for _ in levels]
            queues[0] = merged
            for task in tasks:
                if task.state in ("ready", "running", "blocked"):
                    refresh(task, 0)

        # 3. Arrivals and I/O completions, in declaration order.
        for task in tasks:
            if task.state == "new" and task.arrival == t:
                refresh(task, 0)
                task.state = "ready"
                queues[0].append(task)
            elif task.state == "blocked" and task.wake_at == t:
                task.state = "ready"
                queues[task.level].append(task)

        # 4. Preemption by a higher level.
        if running is not None:
            if any(queues[lv] for lv in range(running.level)):
                running.state = "ready"
                queues[running.level].insert(0, running)
                running = None

        # 5. Dispatch.
        if running is None:
            for q in queues:
                if q:
                    running = q.pop(0)
                    running.state = "running"
                    if running.first_run is None:
                        running.first_run = t
                    break

        # Account the tick [t, t+1).
        if running is not None:
            running.cpu += 1
            if trace is not None:
                trace.append((t, running.idx))
        for task in tasks:
            if task.state == "ready":
                task.wait += 1
            elif task.state == "blocked":
                task.blocked += 1
        t += 1

    return [
        {
            "arrival": task.arrival,
            "first_run": task.first_run,
            "finish": task.finish,
            "response": task.first_run - task.arrival,
            "turnaround": task.finish - task.arrival,
            "wait": task.wait,
            "cpu": task.cpu,
            "blocked": task.blocked,
        }
        for task in tasks
    ]


def gantt(trace):
    """Compresses a per-tick trace into (start, end, job) runs."""
    runs = []
    for t, j in trace:
        if runs and runs[-1][2] == j and runs[-1][1] == t:
            runs[-1] = (runs[-1][0], t + 1, j)
        else:
            runs.append((t, t + 1, j))
    return runs


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-Q", "--quanta", default="10",
                    help="quantum of each level, highest first (ms)")
    ap.add_argument("-A", "--allotments", default="1",
                    help="allotment of each level, highest first")
    ap.add_argument("-B", "--boost", type=int, default=0, help="boost period (ms)")
    ap.add_argument("-i", "--iotime", type=int, default=5, help="I/O time (ms)")
    ap.add_argument("-l", "--jobs", required=True,
                    help="arrival,length,io_freq per job, ':'-separated")
    args = ap.parse_args(argv)
    quanta = [int(x) for x in args.quanta.split(",")]
    allots = [int(x) for x in args.allotments.split(",")]
    if len(allots) == 1 and len(quanta) > 1:
        allots = allots * len(quanta)
    if len(allots) != len(quanta):
        ap.error("-Q and -A need as many entries")
    jobs = []
    for spec in args.jobs.split(":"):
        arrival, length, io_freq = (int(x) for x in spec.split(","))
        jobs.append({"arrival": arrival,
                     "ops": io_program(length, io_freq, args.iotime)})
    trace = []
    results = simulate(jobs, list(zip(quanta, allots)), args.boost, trace)
    for start, end, j in gantt(trace):
        print("[%4d, %4d) job %d" % (start, end, j))
    for j, r in enumerate(results):
        print("job %d: arrival %d  response %d  turnaround %d  wait %d"
              % (j, r["arrival"], r["response"], r["turnaround"], r["wait"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
