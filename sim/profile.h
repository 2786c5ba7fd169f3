/* A host profile: the CPU cost of each workload kernel and of the kernel-level
 * operations threadsim models. The built-in profile describes the machine the
 * lecture notes were measured on (CPython 3, count(80M) in 5.75 s); `threadsim
 * calibrate` writes one for the host, loaded with machine.profile. */
#ifndef THREADSIM_PROFILE_H
#define THREADSIM_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* What a release of a lock (or rlock) with waiters does. */
enum lock_handoff {
    LOCK_HANDOFF_FIFO = 0, /* the first waiter gets the lock at once, then wakes */
    LOCK_HANDOFF_BARGING   /* the lock is free; the first waiter wakes and tries
                              again, and any thread may take it before it runs */
};

struct profile {
    char name[64];                 /* "builtin" or the profile's "name" */
    double count_ns_per_iter;      /* one iteration of `while n > 0: n -= 1` */
    double count_bytecodes_per_iter;
    double primes_ns_per_division; /* one trial division step */
    /* each number tested, besides its divisions: the loop around them (0 in
     * the built-in profile; a calibrated profile measures it, and it is
     * most of the cost difference between small and large numbers) */
    double primes_ns_per_number;
    double primes_bytecodes_per_division;
    double spin_ns_per_ns;         /* CPU ns per requested ns of spin (1.0) */
    int64_t thread_start_ns;       /* CPU cost of creating and starting a thread */
    int64_t add_ns;                /* CPU time of a racy `add` (x += 1) */
    int64_t acquire_ns;            /* CPU time of an acquire (the lock call itself) */
    int64_t release_ns;            /* CPU time of a release */
    int64_t queue_op_ns;           /* CPU time of queue.Queue put or get */
    int64_t pipe_op_ns;            /* CPU time of a pipe send or recv (the system call) */
    double pipe_ns_per_byte;       /* CPU time per byte copied through a pipe */
    double pickle_ns_per_byte;     /* CPU time per byte to pickle or unpickle */
    int64_t mp_queue_latency_ns;   /* mp_queue: put to visible (feeder thread and pipe) */
    /* Starting a process: CPU time of the parent in start(), and of the
     * child before it runs its function (a forked child is ready at once; a
     * spawned one starts a new interpreter and imports; a forkserver child
     * is forked from a server that the first start launches). */
    int64_t fork_parent_ns;
    int64_t fork_child_ns;
    int64_t spawn_parent_ns;
    int64_t spawn_child_ns;
    int64_t forkserver_parent_ns;
    int64_t forkserver_child_ns;
    int64_t forkserver_start_ns;
    /* The old GIL's release at a check point when a thread wants the GIL: a
     * system call (the semaphore post) that lets go of the GIL, and the extra
     * time of waking a thread asleep on it (docs/gil.md). */
    int64_t gil_signal_ns;
    int64_t gil_wake_ns;
    /* The old GIL's check point when no thread wants the GIL: the holder
     * still releases it and takes it back (two uncontended lock calls), CPU
     * time added at every check point of a count, primes, spin or `for`
     * compute that holds it. 0 in the built-in profile (at CPython's speed
     * it is about 1 % of the 100 bytecodes between check points); calibrate
     * measures the host runner's, which at the C kernels' speed is most of
     * the time (docs/gil.md). */
    int64_t gil_check_ns;
    /* Measured by calibrate; 0 in the built-in profile, meaning "not
     * measured". The engine does not read them: `threadsim compare` puts
     * them into machine.context_switch, process_switch and wakeup_latency
     * when the scenario leaves those at 0. */
    int64_t context_switch_ns;
    int64_t process_switch_ns;
    int64_t wakeup_latency_ns;
    /* The delay from a declared process's arrival to its threads being
     * ready: the host runner forks the process and starts its threads
     * first. 0 in the built-in profile; calibrate measures it. */
    int64_t process_start_ns;
    /* How late a timer ends a sleep or an io op: the thread runs again this
     * long after the duration (the host's timer and wake-up latency). 0 in
     * the built-in profile; calibrate measures it. */
    int64_t timer_latency_ns;
    /* What a `compute` op given as a duration (`for`, `spin`) costs beyond
     * it: the host runner times it by reading a clock. 0 in the built-in
     * profile; calibrate measures it. */
    int64_t compute_op_ns;
    /* A racy add while another thread is in the middle of an add to the same
     * variable: the cache line goes back and forth between the CPUs. 0 in
     * the built-in profile: such an add costs add_ns like any other. */
    int64_t add_contended_ns;
    /* A thread made by a `thread` op can run this long after the op begins
     * (it waits as a thread being woken meanwhile). 0 in the built-in
     * profile: at once. calibrate measures it. */
    int64_t thread_start_latency_ns;
    /* CPU time a thread made in the run (by a `thread` or `start` op, or a
     * thread pool) spends when it first runs, before its first op: its
     * stack's first pages, the first calls of the code it runs. 0 in the
     * built-in profile; calibrate measures it. */
    int64_t thread_boot_ns;
    /* A thread that ends keeps its CPU this long after its last op: the C
     * library gives its stack's pages back and the kernel tears it down, so
     * a ready thread waiting for that CPU runs this much later. Its finish
     * and its joiners' wake-up are at the end of its last op, as in the
     * host runner's trace. 0 in the built-in profile; calibrate measures
     * it. */
    int64_t thread_exit_ns;
    /* A process whose last thread has run its last op keeps that CPU this
     * long instead (the kernel tears its address space down), and a thread
     * joining it wakes only then, as a parent's waitpid returns. 0 in the
     * built-in profile; calibrate measures it, and takes it out of
     * fork_child_ns, whose measured round holds it. */
    int64_t process_exit_ns;
    /* A release that wakes a thread waiting for the lock or semaphore: the
     * releaser's futex wake system call. A waiter blocked for wake_settle_ns
     * or longer has left its CPU: waking it costs the releaser wake_ns (the
     * call and the interrupt to the waiter's CPU) and the waiter the
     * machine's wakeup_latency. One blocked for less is still in its futex
     * wait call, on its CPU: wake_early_ns (the call alone), and it runs
     * when its call has returned, wake_settle_ns after it blocked. All 0 in
     * the built-in profile: a release costs release_ns, and every waiter is
     * asleep. */
    int64_t wake_ns;
    int64_t wake_early_ns;
    int64_t wake_settle_ns;
    /* How far apart, on this host, a woken waiter's return and its waker's
     * next try at the lock can come out from one hand-off to the next (half
     * the 1-99 % range calibrate measures). The simulation's futex calls
     * take fixed times, so it decides every such race the same way; a race
     * it decides by less than this is counted as close
     * (engine_stats.lock_close_races), because real runs decide those
     * either way. 0 in the built-in profile: none is counted as close. */
    int64_t futex_race_ns;
    /* A CPU that has been idle for idle_poll_ns or more has stopped polling
     * for work and sleeps deeper (a virtual CPU the hypervisor has halted, a
     * C-state): the next thread it runs starts idle_wake_ns later, and
     * waking a sleeping thread (or starting one) while a CPU is idle that
     * long costs the waker idle_kick_ns more (the interrupt that wakes it).
     * All 0 in the built-in profile: an idle CPU runs a ready thread at
     * once. */
    int64_t idle_wake_ns;
    int64_t idle_poll_ns;
    int64_t idle_kick_ns;
    enum lock_handoff lock_handoff; /* FIFO in the built-in profile */
    /* Thread.start() (a `thread` or `start` op) returns only once the new
     * thread has run, as Python's does: after thread_start_ns of CPU time
     * the starting thread blocks until then, and is woken as by another
     * thread. false in the built-in profile: it goes on at once. */
    bool thread_start_wait;
};

/* Fills p with the built-in profile. */
void profile_builtin(struct profile *p);

/* Loads a profile JSON file over the built-in values (keys absent from the
 * file keep their built-in value). Returns STATUS_OK or fills err. */
enum status profile_load_file(struct profile *p, const char *path, struct error *err);

/* Trial divisions done by the `primes` kernel over [from, to]: for each k,
 * divisors d = 2, 3, ... while d*d <= k, stopping at the first that divides k.
 * The simulator's cost model and the host kernel share this definition. */
uint64_t work_primes_divisions(int64_t from, int64_t to);

#endif
