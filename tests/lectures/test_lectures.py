#!/usr/bin/python3
"""Runs the lecture examples (scenarios/lectures/) and checks that each one
teaches its lesson: the numbers threadsim gives are asserted exactly where the
model makes them exact, and within bounds derived below where it does not.

Every scenario is run with `threadsim run FILE --format json` (and `--trace`
or the text output where the lesson is in the order of events or in what the
threads printed). docs/lectures.md explains each example and lists the
numbers next to the lecture's.

Usage: test_lectures.py --threadsim BIN [--scenarios DIR] [-v]
The last line is `N passed, N failed`; the exit status is 1 on any failure.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCENARIOS = os.path.join(HERE, "..", "..", "scenarios", "lectures")

MS = 1_000_000
S = 1_000_000_000

# Set from the command line before the tests run.
THREADSIM = None
SCENARIOS = DEFAULT_SCENARIOS

# Numbers the tests measured, printed before the summary line (docs/lectures.md
# quotes them).
NUMBERS = []


def note(text):
    NUMBERS.append(text)


class Run:
    """One `threadsim run`: exit status, parsed JSON (when printed), stderr,
    the trace (when asked for) and the printed lines of the text format."""

    def __init__(self, name, *args, trace=False, text=False):
        self.path = os.path.join(SCENARIOS, name)
        with open(self.path, encoding="utf-8") as f:
            self.scenario = json.load(f)
        cmd = [THREADSIM, "run", self.path] + list(args)
        self.trace = None
        self.json = None
        self.lines = None
        with tempfile.TemporaryDirectory() as tmp:
            trace_path = os.path.join(tmp, "trace.json")
            if trace:
                cmd += ["--trace", trace_path]
            if not text:
                cmd += ["--format", "json"]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if trace and os.path.exists(trace_path):
                with open(trace_path, encoding="utf-8") as f:
                    self.trace = json.load(f)
        self.rc = p.returncode
        self.stderr = p.stderr
        if text:
            self.lines = parse_printed(p.stdout)
        elif p.stdout.strip():
            self.json = json.loads(p.stdout)

    @property
    def makespan(self):
        return self.json["makespan_ns"]

    def thread(self, name, process=None):
        found = [t for t in self.json["threads"]
                 if t["name"] == name and (process is None or t["process"] == process)]
        if len(found) != 1:
            raise AssertionError("expected one thread %r, found %d" % (name, len(found)))
        return found[0]

    def memory(self, process="main"):
        return self.json["memory"][process]

    def wakeup_latency(self):
        return duration_ns(self.scenario["machine"].get("wakeup_latency", 0))

    # -- trace helpers --

    def object_id(self, name):
        ids = [o["id"] for o in self.trace["objects"] if o["name"] == name]
        if len(ids) != 1:
            raise AssertionError("expected one object %r in the trace" % name)
        return ids[0]

    def task_names(self):
        return {t["id"]: t["name"] for t in self.trace["tasks"]}

    def prints(self):
        """(time, thread name, text) of every print, in trace order."""
        names = self.task_names()
        return [(i["t"], names[i["task"]], i["text"]) for i in self.trace["instants"] if i["kind"] == "print"]

    def writes(self, var):
        oid = self.object_id(var)
        return [i["value"] for i in self.trace["instants"] if i["kind"] == "write" and i.get("obj") == oid]

    def blocked_time(self, task_name, reason):
        names = self.task_names()
        return sum(s[5] - s[4] for s in self.trace["segments"]
                   if names[s[0]] == task_name and s[2] == "blocked" and s[3] == reason)


LINE = re.compile(r"^\[([^\]]+)\] ([^:]+): (.*)$")


def parse_printed(stdout):
    """The `[time] thread: text` lines of the text format, as (thread, text)."""
    out = []
    for line in stdout.splitlines():
        m = LINE.match(line)
        if m:
            out.append((m.group(2), m.group(3)))
    return out


def duration_ns(text):
    if text == 0:
        return 0
    m = re.fullmatch(r"([0-9.]+)(ns|us|ms|s)", text)
    scale = {"ns": 1, "us": 1_000, "ms": MS, "s": S}[m.group(2)]
    return round(float(m.group(1)) * scale)


def primes_divisions(lo, hi):
    """The `primes` kernel's trial divisions over [lo, hi] (sim/profile.c)."""
    total = 0
    for k in range(max(lo, 2), hi + 1):
        d = 2
        while d <= k // d:
            total += 1
            if k % d == 0:
                break
            d += 1
    return total


class AllScenarios(unittest.TestCase):
    def test_every_scenario_validates_and_is_described(self):
        files = sorted(glob.glob(os.path.join(SCENARIOS, "*.json")))
        self.assertGreater(len(files), 0)
        numbers = set()
        for f in files:
            base = os.path.basename(f)
            numbers.add(int(base.split("_")[0]))
            p = subprocess.run([THREADSIM, "validate", f], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, "%s: %s" % (base, p.stderr))
            with open(f, encoding="utf-8") as fh:
                sc = json.load(fh)
            self.assertTrue(sc.get("name", "").startswith(base.split("_")[0] + " "), base)
            self.assertGreater(len(sc.get("description", "")), 80, base)
        self.assertEqual(numbers, set(range(1, 21)))


class Example01Sleep(unittest.TestCase):
    """Five sleeps of 1-5 s: sequential takes their sum, threads the longest."""

    def check(self, seed):
        seq = Run("01_sleep_sequential.json", "--seed", str(seed))
        thr = Run("01_sleep_threads.json", "--seed", str(seed))
        self.assertEqual((seq.rc, thr.rc), (0, 0))
        workers = [t for t in thr.json["threads"] if t["name"].startswith("Thread-")]
        self.assertEqual(len(workers), 5)
        sleeps = [t["blocked_ns"] for t in workers]
        for t in workers:
            self.assertTrue(1 * S <= t["blocked_ns"] <= 5 * S)
            self.assertEqual(t["finish_ns"] - t["arrival_ns"], t["blocked_ns"])
        # the same seed draws the same five durations in the same order
        self.assertEqual(seq.makespan, sum(sleeps))
        self.assertEqual(seq.thread("MainThread")["blocked_ns"], sum(sleeps))
        # the main thread's last join returns one wake-up latency after the longest sleep
        self.assertEqual(max(t["finish_ns"] for t in workers), max(sleeps))
        self.assertEqual(thr.makespan, max(sleeps) + thr.wakeup_latency())
        return seq.makespan, thr.makespan

    def test_sequential_takes_the_sum_and_threads_the_longest(self):
        for seed in (1, 2, 5):
            self.check(seed)
        seq, thr = self.check(3)  # the files' own seed
        note("01 sleeps (seed 3): sequential %.3f s, threads %.6f s (lecture 16 s vs 5 s)" % (seq / S, thr / S))


class Example02Count(unittest.TestCase):
    """count(80M) twice: 11.50 s sequential, half of it in parallel without a GIL."""

    def test_sequential_matches_the_lecture(self):
        r = Run("02_count_sequential.json")
        self.assertEqual(r.rc, 0)
        self.assertEqual(r.makespan, 11_500_000_000)
        self.assertEqual(r.thread("MainThread")["cpu_ns"], 11_500_000_000)

    def test_threads_and_processes_take_half_without_a_gil(self):
        thr = Run("02_count_threads.json")
        proc = Run("02_count_processes.json")
        self.assertEqual((thr.rc, proc.rc), (0, 0))
        for name in ("t1", "t2"):
            self.assertEqual(thr.thread(name)["cpu_ns"], 5_750_000_000)
            self.assertEqual(thr.thread(name)["finish_ns"], 5_750_000_000)
        self.assertEqual(thr.makespan, 5_750_000_000 + thr.wakeup_latency())
        self.assertEqual(proc.makespan, 5_750_000_000)
        note("02 count(80M) x2: sequential 11.500 s, threads %.6f s, processes %.3f s "
             "(lecture 11.50 / 11.66 with GIL / 6.96)" % (thr.makespan / S, proc.makespan / S))


class Example03BankAccount(unittest.TestCase):
    """Check-then-act without a lock can overdraw; with the lock it never does."""

    SEEDS = range(1, 21)

    def test_the_race_overdraws_under_some_seed(self):
        negative = []
        lost = 0
        for seed in self.SEEDS:
            r = Run("03_bank_account_race.json", "--seed", str(seed), trace=True)
            self.assertEqual(r.rc, 0)
            if min(r.writes("money")) < 0:
                negative.append(seed)
            if r.json["stats"]["lost_updates"] > 0:
                lost += 1
        self.assertGreaterEqual(len(negative), 1, "no seed overdrew the account without the lock")
        note("03 bank account without lock: balance < 0 under seeds %s, lost updates under %d of %d seeds"
             % (negative, lost, len(self.SEEDS)))

    def test_the_lock_keeps_the_balance_non_negative(self):
        for seed in self.SEEDS:
            r = Run("03_bank_account_lock.json", "--seed", str(seed), trace=True)
            self.assertEqual(r.rc, 0)
            self.assertGreaterEqual(min(r.writes("money")), 0, "seed %d" % seed)
            self.assertEqual(r.json["stats"]["lost_updates"], 0)
            mem = r.memory()
            self.assertEqual(mem["went_negative"], 0)
            # 5 activities x 4 puts of 5, minus 5 per successful get
            self.assertEqual(mem["money"], 10 + 100 - 5 * mem["gets_ok"], "seed %d" % seed)


class Example04Counter(unittest.TestCase):
    """+1/-1 a million times: lost updates without a lock; lock granularity."""

    def test_without_a_lock_updates_are_lost(self):
        r = Run("04_counter_race.json")
        self.assertEqual(r.rc, 0)
        self.assertNotEqual(r.memory()["share"], 0)
        self.assertGreater(r.json["stats"]["lost_updates"], 0)
        note("04 counter without lock: share = %d, lost_updates = %d, %.4f s"
             % (r.memory()["share"], r.json["stats"]["lost_updates"], r.makespan / S))

    def test_a_lock_gives_zero_and_its_granularity_costs(self):
        each = Run("04_counter_lock_each.json")
        once = Run("04_counter_lock_once.json")
        for r in (each, once):
            self.assertEqual(r.rc, 0)
            self.assertEqual(r.memory()["share"], 0)
            self.assertEqual(r.json["stats"]["lost_updates"], 0)
        # once: the two loops run one after the other, 2,000,000 x 55 ns
        self.assertLess(abs(once.makespan - 110 * MS), 0.001 * 110 * MS)
        ratio = each.makespan / once.makespan
        # each iteration hands the lock to the other CPU's thread, which first
        # wakes up: 2,000,000 x (wakeup_latency + ~100 ns); >= 5x for any
        # wake-up latency above about 0.2 us
        self.assertGreaterEqual(ratio, 5)
        self.assertGreaterEqual(each.makespan, 2_000_000 * each.wakeup_latency())
        note("04 lock per iteration %.3f s, once %.4f s, ratio %.1f (lecture 1.91 s vs 0.11 s, 17.4)"
             % (each.makespan / S, once.makespan / S, ratio))


class Example05RLock(unittest.TestCase):
    def test_an_rlock_can_be_re_entered(self):
        r = Run("05_rlock_reentry.json")
        self.assertEqual(r.rc, 0)
        self.assertEqual(r.memory()["share"], 0)
        note("05 RLock re-entry: exit 0, share 0, %.2f s (lecture 13.03 s with GIL)" % (r.makespan / S))

    def test_a_plain_lock_taken_twice_self_deadlocks(self):
        r = Run("05_lock_self_deadlock.json")
        self.assertEqual(r.rc, 3, r.stderr)
        self.assertIn("lock 'lock'", r.stderr)
        self.assertIn("already holds", r.stderr)
        self.assertIn("not re-entrant", r.json["stats"]["deadlock"])


class Example06Semaphore(unittest.TestCase):
    def test_the_consumer_waits_for_each_release(self):
        r = Run("06_semaphore_producer_consumer.json", trace=True)
        self.assertEqual(r.rc, 0)
        prints = r.prints()
        produced = [(t, int(x.split()[-1])) for t, who, x in prints if "produced item" in x]
        consumed = [(t, int(x.split()[-1])) for t, who, x in prints if "consumed item" in x]
        self.assertEqual([n for _, n in produced], [1, 2, 3, 4, 5])
        self.assertEqual([n for _, n in consumed], [1, 2, 3, 4, 5])
        # the built-in profile's cost of the acquire call, which the consumer
        # still pays when the unit is handed to it
        acquire_ns = 60
        for (tp, _), (tc, _) in zip(produced, consumed):
            # the producer prints and releases at once; the consumer, handed
            # the unit, runs a wake-up latency (and its acquire call) later
            self.assertEqual(tc - tp, r.wakeup_latency() + acquire_ns)
        for t in r.json["threads"]:
            if t["name"] == "consumer":
                self.assertGreaterEqual(t["blocked_ns"], 1 * S)
        self.assertTrue(5 * S <= r.makespan < 5 * S + 1 * MS)
        note("06 semaphore producer/consumer: %.6f s for 5 rounds of 1 s" % (r.makespan / S))

    def test_a_bounded_semaphore_admits_at_most_five(self):
        r = Run("06_bounded_semaphore.json", trace=True)
        self.assertEqual(r.rc, 0)
        sem = r.object_id("semaphore")
        inside = peak = acquires = 0
        for i in r.trace["instants"]:
            if i.get("obj") != sem:
                continue
            if i["kind"] == "acquire":
                inside += 1
                acquires += 1
            elif i["kind"] == "release":
                inside -= 1
            peak = max(peak, inside)
            self.assertLessEqual(inside, 5)
        self.assertEqual(acquires, 12)
        self.assertEqual(inside, 0)
        self.assertEqual(peak, 5)
        waited = [t["name"] for t in r.json["threads"]
                  if t["name"].startswith("user-") and r.blocked_time(t["name"], "semaphore") > 0]
        self.assertEqual(len(waited), 7)
        note("06 BoundedSemaphore(5): at most %d of 12 inside, %d waited, %.3f s" % (peak, len(waited), r.makespan / S))


class Example07Event(unittest.TestCase):
    def test_the_lectures_program_loses_the_first_set_and_hangs(self):
        r = Run("07_event_lecture.json", trace=True)
        self.assertEqual(r.rc, 3, r.stderr)
        self.assertIn("event 'event'", r.stderr)
        self.assertIn("'consumer'", r.stderr)
        got = [int(x.split()[-1]) for _, who, x in r.prints() if who == "consumer"]
        self.assertEqual(got, [1, 2, 3, 4])

    def test_a_waiting_consumer_gets_every_set(self):
        r = Run("07_event_producer_consumer.json", trace=True)
        self.assertEqual(r.rc, 0)
        sets = [(t, int(x.split()[-1])) for t, who, x in r.prints() if who == "producer" and "event set" in x]
        got = [(t, int(x.split()[-1])) for t, who, x in r.prints() if who == "consumer"]
        self.assertEqual([n for _, n in got], [0, 1, 2, 3, 4])
        for (ts, ns), (tg, ng) in zip(sets, got):
            self.assertEqual(ns, ng)
            self.assertEqual(tg - ts, r.wakeup_latency())
        note("07 event: lecture's program exit 3 (consumer got 1..4); repaired: 0..4, %.6f s" % (r.makespan / S))


class Example08Condition(unittest.TestCase):
    def check(self, name, producers, items):
        r = Run(name, trace=True)
        self.assertEqual(r.rc, 0)
        mem = r.memory()
        self.assertEqual(mem["produced"], producers * items)
        self.assertEqual(mem["consumed"], producers * items)
        self.assertEqual(mem["length"], 0)
        self.assertEqual(mem["max_seen"], 5)
        self.assertLessEqual(max(r.writes("length")), 5)
        self.assertGreaterEqual(min(r.writes("length")), 0)
        return r

    def test_one_producer_never_overfills(self):
        r = self.check("08_condition_producer_consumer.json", 1, 10)
        # the list just reaches 5 as the producer finishes: it never had to wait
        self.assertEqual(r.blocked_time("producer", "condition"), 0)
        self.assertEqual(r.makespan // S, 20)
        note("08 condition, 1 producer: max length 5, %.6f s" % (r.makespan / S))

    def test_two_producers_wait_for_room(self):
        r = self.check("08_condition_two_producers.json", 2, 10)
        waits = [r.blocked_time(p, "condition") for p in ("producer-1", "producer-2")]
        self.assertTrue(all(w > 1 * S for w in waits), waits)
        self.assertEqual(r.makespan // S, 40)
        note("08 condition, 2 producers: max length 5, producers waited %.1f s and %.1f s, %.6f s"
             % (waits[0] / S, waits[1] / S, r.makespan / S))


class Example09ABC(unittest.TestCase):
    def test_the_threads_print_abc_in_turn(self):
        r = Run("09_condition_abc.json", text=True)
        self.assertEqual(r.rc, 0)
        self.assertEqual([who for who, _ in r.lines], list("ABC" * 10))
        self.assertEqual("".join(text for _, text in r.lines), "ABC" * 10)


class Example10Barrier(unittest.TestCase):
    def test_barrier_threads_print_together_and_the_others_do_not_wait(self):
        r = Run("10_barrier.json", trace=True)
        self.assertEqual(r.rc, 0)
        when = {who: t for t, who, _ in r.prints()}
        lat = r.wakeup_latency()
        # p2 trips the barrier and prints; p1, woken by it, prints one wake-up later
        self.assertLessEqual(abs(when["p1"] - when["p2"]), lat)
        self.assertGreaterEqual(r.thread("p1")["blocked_ns"], 50_000)
        self.assertGreaterEqual(when["p4"] - when["p3"], 50_000)
        for name in ("p3", "p4"):
            self.assertEqual(r.thread(name)["blocked_ns"], 0)
        note("10 barrier: p1 %.3f us, p2 %.3f us, p3 %.3f us, p4 %.3f us"
             % tuple(when[p] / 1000 for p in ("p1", "p2", "p3", "p4")))


class Example16ThreadLocal(unittest.TestCase):
    def test_each_thread_sees_its_own_value(self):
        r = Run("16_thread_local.json", text=True)
        self.assertEqual(r.rc, 0)
        self.assertEqual(sorted(r.lines), [("Thread-A", "Hello student 1 in Thread-A"),
                                           ("Thread-B", "Hello student 2 in Thread-B")])

    def test_a_shared_global_is_overwritten(self):
        r = Run("16_thread_local_global.json", text=True)
        self.assertEqual(r.rc, 0)
        self.assertEqual(sorted(r.lines), [("Thread-A", "Hello student 2 in Thread-A"),
                                           ("Thread-B", "Hello student 2 in Thread-B")])


class Example17Daemon(unittest.TestCase):
    def test_a_daemon_thread_does_not_keep_the_process_alive(self):
        r = Run("17_daemon_thread.json")
        self.assertEqual(r.rc, 0)
        main = r.thread("MainThread")
        self.assertEqual(main["finish_ns"], 1 * S)
        self.assertEqual(r.makespan, main["finish_ns"])
        self.assertEqual(r.thread("Thread-1")["finish_ns"], 1 * S)


class Example19Deadlock(unittest.TestCase):
    def test_opposite_lock_order_is_reported_as_a_cycle(self):
        r = Run("19_deadlock.json")
        self.assertEqual(r.rc, 3, r.stderr)
        for part in ("cycle", "'t1'", "'t2'", "lock 'lock_2' held by 't2'", "lock 'lock_1' held by 't1'"):
            self.assertIn(part, r.stderr)
        self.assertEqual(r.memory(), {"balance_1": 100, "balance_2": 100})

    def test_one_lock_order_fixes_it(self):
        r = Run("19_deadlock_lock_order.json")
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertIsNone(r.json["stats"]["deadlock"])
        self.assertEqual(r.memory(), {"balance_1": 110, "balance_2": 90})


class Example20Primes(unittest.TestCase):
    RANGES = [(3, 10000), (10001, 20000), (20001, 30000)]

    def test_threads_and_processes_beat_sequential_without_a_gil(self):
        seq = Run("20_primes_sequential.json")
        thr = Run("20_primes_threads.json")
        proc = Run("20_primes_processes.json")
        self.assertEqual((seq.rc, thr.rc, proc.rc), (0, 0, 0))
        ns = 60  # primes_ns_per_division of the built-in profile
        work = sorted(round(primes_divisions(lo, hi) * ns) for lo, hi in self.RANGES)
        total = sum(work)
        self.assertEqual(seq.makespan, total)
        self.assertEqual(sorted(thr.thread("Thread-%d" % i)["cpu_ns"] for i in (1, 2, 3)), work)
        # Bounds for 3 jobs on 2 CPUs (no blocking), with W the total work and
        # D1 <= D2 <= D3 the jobs:
        # - no schedule beats max(W/2, D3);
        # - any work-conserving policy finishes by (W + D3) / 2 (Graham: a CPU
        #   is idle only while the last job runs alone), a speed-up >= 1.40;
        # - a fair policy (CFS) runs all three from the start, so the last job
        #   runs alone for at most D3 - D2 plus one scheduling period (6 ms):
        #   makespan <= (W + D3 - D2 + 6 ms) / 2, a speed-up >= 1.58.
        lower = max(total / 2, work[2])
        graham = (total + work[2]) / 2
        fair = (total + work[2] - work[1] + 6 * MS) / 2
        for r in (thr, proc):
            span = r.makespan - r.wakeup_latency()  # the main thread's join wake-up
            self.assertGreaterEqual(span, lower)
            self.assertLessEqual(span, graham)
            self.assertLessEqual(span, fair)
            self.assertGreaterEqual(total / r.makespan, 1.5)
        note("20 find_primes: sequential %.3f ms, threads %.3f ms (x%.2f), processes %.3f ms (x%.2f); "
             "bounds x%.2f (any work-conserving) .. x%.2f, fair x%.2f"
             % (seq.makespan / MS, thr.makespan / MS, total / thr.makespan, proc.makespan / MS,
                total / proc.makespan, total / graham, total / lower, total / fair))


class Example11Queue(unittest.TestCase):
    """A queue hands each item to one consumer; end markers and join end the run."""

    def consumed(self, r):
        """(time, consumer, item) of every item a consumer printed."""
        out = []
        for t, who, text in r.prints():
            m = re.fullmatch(r"Consumer notify: get item (\d+) by (\S+)", text)
            if m:
                self.assertEqual(m.group(2), who)
                out.append((t, who, int(m.group(1))))
        return out

    def test_every_item_is_consumed_once_and_join_waits_for_the_last_task_done(self):
        r = Run("11_queue_end_markers.json", trace=True)
        self.assertEqual(r.rc, 0, r.stderr)
        mem = r.memory()
        self.assertEqual(mem["seen"], [1] * 10)
        self.assertEqual(mem["consumed_sum"], sum(range(10)))
        self.assertEqual(mem["consumed_count"], 10)
        self.assertEqual(mem["consumers_ended"], 3)
        consumed = self.consumed(r)
        self.assertEqual(sorted(item for _, _, item in consumed), list(range(10)))
        put = {int(re.search(r"item number (\d+)", x).group(1)): t
               for t, who, x in r.prints() if who == "producer" and "item number" in x}
        for t, _, item in consumed:
            self.assertGreaterEqual(t, put[item] - 1 * MS)  # the put (1 us) precedes its print
            self.assertGreaterEqual(t, item * S)
        consumers = ["consumer-1", "consumer-2", "consumer-3"]
        for name in consumers:
            self.assertIsNotNone(r.thread(name)["finish_ns"])
        # each consumer marks its end marker done, then prints; the last one
        # releases the producer's q.join(), which returns one wake-up later
        ends = [t for t, who, x in r.prints() if who in consumers and "end marker" in x]
        self.assertEqual(len(ends), 3)
        done = [t for t, who, x in r.prints() if who == "producer" and "every item is done" in x]
        self.assertEqual(done, [max(ends) + r.wakeup_latency()])
        names = r.task_names()
        joined = [s for s in r.trace["segments"]
                  if names[s[0]] == "producer" and s[2] == "blocked" and s[3] == "queue"]
        self.assertEqual(len(joined), 1)
        self.assertEqual(joined[0][5], max(ends))
        share = {c: [i for _, who, i in consumed if who == c] for c in consumers}
        note("11 queue: items 0..9 consumed once each (%s), producer's join returned %.0f us after the last "
             "task_done, %.6f s" % ("; ".join("%s %s" % (c, share[c]) for c in consumers),
                                    (done[0] - max(ends)) / 1000, r.makespan / S))

    def test_the_lectures_consumers_wait_forever(self):
        r = Run("11_queue_lecture.json", trace=True)
        self.assertEqual(r.rc, 3, r.stderr)
        self.assertIn("stuck", r.stderr)
        self.assertIn("queue 'queue' (empty), which no thread will put into", r.stderr)
        for name in ("consumer-1", "consumer-2", "consumer-3"):
            self.assertIn("'%s'" % name, r.stderr)
            self.assertIsNone(r.thread(name)["finish_ns"])
        self.assertEqual(r.memory()["seen"], [1] * 10)
        self.assertEqual(sorted(i for _, _, i in self.consumed(r)), list(range(10)))


class Example12Pool(unittest.TestCase):
    """Pool.map keeps the items' order; imap_unordered gives finish order."""

    CUBES = [1, 8, 27, 64, 125, 216]

    def test_map_gives_the_cubes_in_a_thread_pool_and_in_a_process_pool(self):
        spans = {}
        for kind in ("threads", "processes"):
            r = Run("12_pool_map_%s.json" % kind, trace=True)
            self.assertEqual(r.rc, 0, r.stderr)
            self.assertEqual(r.memory()["res"], self.CUBES)
            self.assertEqual([x for _, who, x in r.prints() if who == "MainThread"], [str(self.CUBES)])
            spans[kind] = r.makespan
            if kind == "threads":
                workers = [t for t in r.json["threads"] if re.fullmatch(r"Thread-\d+ \(worker\)", t["name"])]
                self.assertEqual({t["process"] for t in workers}, {"main"})
            else:
                workers = [t for t in r.json["threads"] if t["process"].startswith("ForkPoolWorker-")]
                # forked workers: a copy of the caller's memory, which the results never touch
                for t in workers:
                    self.assertEqual(r.memory(t["process"])["res"], [0] * 6)
            self.assertEqual(len(workers), 4)
        # each process worker pays the fork start-up (0.4 ms); thread workers start at once
        self.assertGreaterEqual(spans["processes"], 400_000)
        self.assertLess(spans["threads"], 100_000)
        note("12 Pool.map(cube, range(1, 7)) = %s: thread pool %.1f us, process pool %.3f ms "
             "(lecture 003, squares of range(100): threads 0.76 ms, processes 12.2 ms)"
             % (self.CUBES, spans["threads"] / 1000, spans["processes"] / MS))

    def finish_order(self, r, first_task):
        """The items of the map whose workers are tasks >= first_task, in the
        order their calls ended: each worker takes the next item when it is
        free and sleeps at once, so ordering the sleeps by start gives the
        items and ordering them by end gives the finish order."""
        names = r.task_names()
        sleeps = [(s[4], s[0], s[5]) for s in r.trace["segments"]
                  if s[0] >= first_task and re.fullmatch(r"Thread-\d+ \(worker\)", names[s[0]])
                  and s[2] == "blocked" and s[3] == "sleep"]
        self.assertEqual(len(sleeps), 20)
        started = sorted(sleeps)
        ends = [end for _, _, end in started]
        self.assertEqual(len(set(ends)), 20, "two calls ended at the same instant")
        return [item for item, _ in sorted(enumerate(ends), key=lambda x: x[1])]

    def test_imap_unordered_returns_in_finish_order(self):
        for seed in (1, 2, 3):
            r = Run("12_pool_imap_unordered.json", "--seed", str(seed), trace=True)
            self.assertEqual(r.rc, 0, r.stderr)
            mem = r.memory()
            self.assertEqual(mem["ordered"], list(range(20)))
            self.assertEqual(sorted(mem["unordered"]), list(range(20)))
            # workers are numbered across the run: the second map's are the second half
            workers = sorted(t["id"] for t in r.trace["tasks"] if re.fullmatch(r"Thread-\d+ \(worker\)", t["name"]))
            second = workers[len(workers) // 2]
            self.assertEqual(mem["unordered"], self.finish_order(r, second))
            if seed == 1:  # the file's own seed
                self.assertNotEqual(mem["unordered"], list(range(20)))
                note("12 imap_unordered (seed 1): %s; imap: 0..19 in order" % mem["unordered"])


class Example13Pipes(unittest.TestCase):
    def test_the_chain_delivers_the_squares_and_ends_on_eof(self):
        r = Run("13_pipe_chain.json", trace=True)
        self.assertEqual(r.rc, 0, r.stderr)
        squares = [i * i for i in range(10)]
        mem = r.memory()
        self.assertEqual(mem["got"], squares)
        self.assertEqual(mem["received"], 10)
        prints = [(t, x) for t, who, x in r.prints() if who == "MainThread"]
        self.assertEqual([x for _, x in prints], [str(v) for v in squares] + ["End"])
        # the children are processes of their own
        self.assertEqual({t["process"] for t in r.json["threads"]}, {"main", "process_pipe_1", "process_pipe_2"})
        # every reader ends on EOF (a recv of -1) after its writer closed the pipe
        for pipe, reader in (("pipe_1", "process_pipe_1"), ("pipe_2", "main")):
            oid = r.object_id(pipe)
            closes = [i["t"] for i in r.trace["instants"] if i["kind"] == "close" and i.get("obj") == oid]
            recvs = [i for i in r.trace["instants"] if i["kind"] == "recv" and i.get("obj") == oid]
            self.assertEqual(len(closes), 1)
            self.assertEqual(len(recvs), 11)
            self.assertEqual([i["value"] for i in recvs], list(range(10)) + [-1] if pipe == "pipe_1" else squares + [-1])
            self.assertGreaterEqual(recvs[-1]["t"], closes[0])
        self.assertEqual(prints[-1][0], r.makespan)
        note("13 pipe chain: main received %s, then EOF; %.3f ms" % (squares, r.makespan / MS))

    def test_ping_pong_alternates_over_a_duplex_pipe(self):
        r = Run("13_pipe_ping_pong.json", trace=True)
        self.assertEqual(r.rc, 0, r.stderr)
        prints = r.prints()
        self.assertEqual(len(prints), 10)
        expected = []
        for i in range(1, 6):
            expected += ["Server receives: %d" % (10 * i + 1), "Client receives: %d" % (10 * i + 3)]
        self.assertEqual([x for _, _, x in prints], expected)
        times = [t for t, _, _ in prints]
        # each message wakes the other process: one wake-up latency at least
        for a, b in zip(times, times[1:]):
            self.assertGreaterEqual(b - a, r.wakeup_latency())
        self.assertEqual(r.json["shared"]["exchanges"], 5)
        rounds = [b - a for a, b in zip(times[::2], times[2::2])]
        note("13 pipe ping-pong: 5 exchanges, prints alternate; a round trip takes %.3f us" % (max(rounds) / 1000))


class Example14SharedMemory(unittest.TestCase):
    NEGATED = [-i for i in range(10)]

    def test_value_and_array_changed_by_the_child_are_seen_by_the_parent(self):
        r = Run("14_shared_value_array.json", text=True)
        self.assertEqual(r.rc, 0)
        # with several processes the text output names threads process/thread
        self.assertEqual(r.lines, [("Process-1/MainThread", "child: num=31415927 arr=%s" % self.NEGATED),
                                   ("main/MainThread", "num=31415927"), ("main/MainThread", "arr=%s" % self.NEGATED)])
        r = Run("14_shared_value_array.json")
        self.assertEqual(r.json["shared"], {"num": 31415927, "arr": self.NEGATED})
        self.assertEqual(r.memory("main"), {})
        self.assertEqual(r.memory("Process-1"), {})

    def test_a_forked_child_changes_only_its_own_copy(self):
        r = Run("14_private_memory_fork.json", text=True)
        self.assertEqual(r.rc, 0)
        self.assertEqual(r.lines, [("Process-1/MainThread", "child: num=31415927 arr=%s" % self.NEGATED),
                                   ("main/MainThread", "num=0"), ("main/MainThread", "arr=%s" % list(range(10)))])
        r = Run("14_private_memory_fork.json")
        self.assertEqual(r.memory("main"), {"num": 0, "arr": list(range(10))})
        self.assertEqual(r.memory("Process-1"), {"num": 31415927, "arr": self.NEGATED})
        self.assertEqual(r.json["shared"], {})
        note("14 shared Value/Array: parent sees num=31415927, arr=%s; plain variables: parent keeps 0 and 0..9, "
             "the forked child has the change; %.3f ms" % (self.NEGATED, r.makespan / MS))


class Example15SharedDict(unittest.TestCase):
    FULL = [2 * k for k in range(10)]

    def run_threads(self):
        r = Run("15_dict_threads.json", trace=True)
        self.assertEqual(r.rc, 0)
        self.assertEqual(r.memory()["dictionary"], self.FULL)
        self.assertEqual(r.prints()[-1][1:], ("MainThread", "Results: %s" % self.FULL))
        workers = sorted((who, x) for _, who, x in r.prints() if who != "MainThread")
        self.assertEqual(workers, sorted(("Thread-%d" % (k + 1), "key = %d value = %d" % (k, 2 * k))
                                         for k in range(10)))
        return r

    def test_threads_see_each_others_writes(self):
        self.run_threads()

    def test_processes_with_private_memory_do_not(self):
        r = Run("15_dict_processes.json", trace=True)
        self.assertEqual(r.rc, 0)
        self.assertEqual(r.memory()["dictionary"], [-1] * 10)
        self.assertEqual(r.prints()[-1][1:], ("MainThread", "Results: %s" % ([-1] * 10)))
        for k in range(10):
            own = [-1] * 10
            own[k] = 2 * k
            self.assertEqual(r.memory("Process-%d" % (k + 1))["dictionary"], own)
        self.assertEqual(r.json["shared"], {})

    def test_processes_with_a_manager_dict_do(self):
        r = Run("15_dict_manager.json", trace=True)
        self.assertEqual(r.rc, 0)
        self.assertEqual(r.json["shared"]["dictionary"], self.FULL)
        self.assertEqual(r.prints()[-1][1:], ("MainThread", "Results: %s" % self.FULL))
        for k in range(10):
            self.assertEqual(r.memory("Process-%d" % (k + 1)), {})
        threads = self.run_threads()
        note("15 dict: threads %.3f ms, processes with a manager dict %.3f ms (lecture 0.92 ms and 25.2 ms)"
             % (threads.makespan / MS, r.makespan / MS))


class Example18Signals(unittest.TestCase):
    def test_handlers_run_in_the_main_thread_and_its_sleeps_resume(self):
        r = Run("18_signals.json", trace=True)
        self.assertEqual(r.rc, 0, r.stderr)
        prints = r.prints()
        self.assertEqual({who for _, who, _ in prints}, {"MainThread"})
        texts = [x for _, _, x in prints]
        self.assertEqual(texts, ["My PID is: main"] + ["Waiting..."] * 5 + ["Received: 10"] + ["Waiting..."] * 5
                         + ["Received: 14"] + ["Waiting..."] * 20)
        # print, 2 us of I/O, sleep 1 s: the signals change none of these times
        period = 1 * S + 2_000
        waiting = [t for t, _, x in prints if x == "Waiting..."]
        self.assertEqual(waiting, [k * period for k in range(30)])
        self.assertEqual(r.makespan, 30 * period)
        usr1 = [t for t, _, x in prints if x == "Received: 10"][0]
        alrm = [t for t, _, x in prints if x == "Received: 14"][0]
        # SIGALRM comes from a timer; SIGUSR1 from Thread-1, woken by its own timer
        self.assertEqual(alrm, 10 * S)
        self.assertTrue(4_500 * MS <= usr1 <= 4_500 * MS + r.wakeup_latency(), usr1)
        signals = [(i["t"], i["value"]) for i in r.trace["instants"] if i["kind"] == "signal"]
        self.assertEqual([v for _, v in signals], [10, 14])
        # the main thread sleeps up to each handler and then for the rest of its second
        names = r.task_names()
        sleeps = [(s[4], s[5]) for s in r.trace["segments"]
                  if names[s[0]] == "MainThread" and s[2] == "blocked" and s[3] == "sleep"]
        # SIGUSR1 from a thread wakes the main thread a wake-up latency after
        # it cuts the sleep at 4.5 s; SIGALRM from a timer at once
        for cut, t, k in ((4_500 * MS, usr1, 4), (alrm, alrm, 9)):
            start = k * period + 2_000
            self.assertIn((start, cut), sleeps)
            self.assertIn((t, (k + 1) * period), sleeps)
        note("18 signals: SIGUSR1 handler at %.6f s, SIGALRM handler at %.6f s, the interrupted sleeps end at "
             "%.6f s and %.6f s as if uninterrupted; %.6f s" % (usr1 / S, alrm / S, 5 * period / S,
                                                                  10 * period / S, r.makespan / S))


def main():
    global THREADSIM, SCENARIOS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threadsim", required=True, help="the threadsim binary")
    ap.add_argument("--scenarios", default=DEFAULT_SCENARIOS, help="the scenarios/lectures directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    THREADSIM = os.path.abspath(args.threadsim)
    SCENARIOS = os.path.abspath(args.scenarios)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, stream=sys.stdout).run(suite)
    for line in NUMBERS:
        print(line)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
