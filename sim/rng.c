/* xoshiro256** by Blackman and Vigna (public domain algorithm). */
#include "rng.h"

static uint64_t rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix(&x);
}

static inline uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span == UINT64_MAX)
        return (int64_t)rng_next(r);
    uint64_t n = span + 1;
    /* Rejection sampling: drop the top partial bucket so every value is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n) - 1;
    uint64_t v;
    do {
        v = rng_next(r);
    } while (v > limit);
    return (int64_t)((uint64_t)lo + v % n);
}

/* FNV-1a over s and its terminating zero, so ("ab", "c") and ("a", "bc")
 * name different streams. */
static uint64_t rng_hash_string(uint64_t h, const char *s)
{
    do {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    } while (*s++);
    return h;
}

int64_t rng_stream_range(uint64_t seed, const char *a, const char *b, uint64_t n, int64_t lo, int64_t hi)
{
    uint64_t x = seed;
    uint64_t h = rng_splitmix(&x);
    /* no names: a stream of its own (a keyed draw), apart from every thread's */
    h ^= 0xcbf29ce484222325ULL;
    if (a || b) {
        h = rng_hash_string(h, a ? a : "");
        h = rng_hash_string(h, b ? b : "");
    }
    x = h ^ n;
    struct rng r;
    rng_seed(&r, rng_splitmix(&x));
    return rng_range(&r, lo, hi);
}
