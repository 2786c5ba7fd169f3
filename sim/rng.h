/* The run's seeded random number generator (xoshiro256**, seeded through
 * splitmix64). One per run, so a scenario and seed give one trace. */
#ifndef THREADSIM_RNG_H
#define THREADSIM_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [lo, hi] (inclusive), unbiased. Requires lo <= hi. */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi);
/* The n-th draw, uniform in [lo, hi], of the stream named by seed and the
 * strings a and b (a process's and a thread's name; both NULL: a stream
 * apart from every thread's, for draws keyed by n). It depends on nothing
 * else, so the simulator and the real runner draw the same values for a
 * thread whatever order the threads run in. Requires lo <= hi. */
int64_t rng_stream_range(uint64_t seed, const char *a, const char *b, uint64_t n, int64_t lo, int64_t hi);

#endif
