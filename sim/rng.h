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

#endif
