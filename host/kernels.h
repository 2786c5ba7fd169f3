/* The workload kernels of the real runner: real C code the compiler cannot fold
 * away, run by host threads for `compute` ops and measured by calibration.
 * Under a GIL a kernel runs in chunks with the eval breaker checked between
 * them, so each kernel also has a resumable, bounded variant. */
#ifndef THREADSIM_HOST_KERNELS_H
#define THREADSIM_HOST_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/* The lecture's `while n > 0: n -= 1`, one iteration per unit of n. Returns a
 * value derived from the loop (the number of iterations done) so the loop is
 * kept; n <= 0 does nothing and returns 0. */
uint64_t host_count(int64_t n);

/* This thread's CPU time per iteration of host_count(n), n >= 1: what
 * calibrate's count_ns_per_iter measures, and what compare checks the
 * host's speed with. */
double host_count_ns_per_iter(int64_t n);

/* Trial division over [from, to], counting divisions exactly as
 * work_primes_divisions() in sim/profile.h does. Returns the number of primes
 * in the range. */
uint64_t host_primes(int64_t from, int64_t to);

/* Burns cpu_ns of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID); time spent
 * preempted does not count. cpu_ns <= 0 returns at once. Spins shorter than
 * HOST_SPIN_SHORT_NS are timed with CLOCK_MONOTONIC instead, because reading
 * the thread CPU clock costs a system call. */
#define HOST_SPIN_SHORT_NS 20000

/* How much of a kernel the host runner runs between two looks at the
 * thread's CPU (sched_getcpu, tens of ns; traced runs only) without a GIL:
 * about 20-30 us on a current CPU, so a look costs well under 1 % */
#define HOST_CPU_CHECK_ITERS 100000
#define HOST_CPU_CHECK_DIVISIONS 10000
void host_spin(int64_t cpu_ns);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t host_now_ns(void);

/* This thread's CPU time (CLOCK_THREAD_CPUTIME_ID) in nanoseconds. */
int64_t host_thread_cpu_ns(void);

/* This process's CPU time, all its threads (CLOCK_PROCESS_CPUTIME_ID), in
 * nanoseconds. */
int64_t host_process_cpu_ns(void);

/* A primes run that can stop after a number of divisions and resume: the
 * chunked form used under a GIL. Caller-owned storage. */
struct host_primes_state {
    int64_t k;          /* the candidate being tested */
    int64_t d;          /* the next divisor to try for k */
    int64_t to;         /* last candidate, inclusive */
    uint64_t primes;    /* primes found so far */
    uint64_t divisions; /* divisions done so far */
};

/* Prepares s for the range [from, to]. */
void host_primes_init(struct host_primes_state *s, int64_t from, int64_t to);

/* Runs at most max_divisions trial divisions. Returns true when the range is
 * finished (s->primes is then the result). The total number of divisions over
 * all steps equals work_primes_divisions(from, to). */
bool host_primes_step(struct host_primes_state *s, uint64_t max_divisions);

/* Chunked count: runs min(*n, max_iters) iterations of the countdown and
 * lowers *n accordingly. Returns true when *n has reached 0. */
bool host_count_step(int64_t *n, int64_t max_iters);

/* Chunked spin: burns CPU until this thread's CPU clock reaches until_cpu_ns
 * or chunk_ns more of CPU has been used, whichever is first. Returns true when
 * until_cpu_ns has been reached. */
bool host_spin_step(int64_t until_cpu_ns, int64_t chunk_ns);

#endif
