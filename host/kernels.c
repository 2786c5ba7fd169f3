/* The workload kernels. An empty asm statement with the loop variable as an
 * operand keeps the compiler from computing the loops' results in closed form,
 * so a unit of work is a real iteration on every optimisation level. */
#include "kernels.h"

#include <stdatomic.h>
#include <time.h>

#define KEEP(x) __asm__ volatile("" : "+r"(x))

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t host_now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

int64_t host_thread_cpu_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

int64_t host_process_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

uint64_t host_count(int64_t n)
{
    uint64_t iters = 0;
    while (n > 0) {
        n -= 1;
        KEEP(n);
        iters++;
    }
    return iters;
}

double host_count_ns_per_iter(int64_t n)
{
    int64_t t0 = host_thread_cpu_ns();
    host_count(n);
    return (double)(host_thread_cpu_ns() - t0) / (double)n;
}

bool host_count_step(int64_t *n, int64_t max_iters)
{
    int64_t step = *n < max_iters ? *n : max_iters;
    if (step > 0)
        *n -= (int64_t)host_count(step);
    return *n <= 0;
}

void host_primes_init(struct host_primes_state *s, int64_t from, int64_t to)
{
    s->k = from < 2 ? 2 : from;
    s->d = 2;
    s->to = to;
    s->primes = 0;
    s->divisions = 0;
}

bool host_primes_step(struct host_primes_state *s, uint64_t max_divisions)
{
    uint64_t budget = max_divisions;
    int64_t k = s->k, d = s->d;
    while (k <= s->to) {
        bool composite = false;
        while (d <= k / d) {
            if (budget == 0)
                goto out;
            budget--;
            int64_t r = k % d;
            KEEP(r);
            if (r == 0) {
                composite = true;
                break;
            }
            d++;
        }
        if (!composite)
            s->primes++;
        k++;
        d = 2;
    }
out:
    s->divisions += max_divisions - budget;
    s->k = k;
    s->d = d;
    return k > s->to;
}

uint64_t host_primes(int64_t from, int64_t to)
{
    struct host_primes_state s;
    host_primes_init(&s, from, to);
    while (!host_primes_step(&s, UINT64_MAX))
        ;
    return s.primes;
}

/* What one read of the thread CPU clock takes (a system call: 0.3-1.3 us),
 * measured once; a racing first measurement by two threads is harmless. */
static int64_t cpu_clock_read_ns(void)
{
    static _Atomic int64_t cached;
    int64_t v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v > 0)
        return v;
    int64_t t0 = host_now_ns();
    for (int i = 0; i < 8; i++)
        (void)host_thread_cpu_ns();
    v = (host_now_ns() - t0) / 8;
    if (v < 1)
        v = 1;
    atomic_store_explicit(&cached, v, memory_order_relaxed);
    return v;
}

/* Spins until the monotonic clock (vDSO: tens of ns) reaches until. */
static void spin_wall_until(int64_t until)
{
    while (host_now_ns() < until)
        host_count(16);
}

bool host_spin_step(int64_t until_cpu_ns, int64_t chunk_ns)
{
    int64_t now = host_thread_cpu_ns();
    int64_t stop = now + chunk_ns < until_cpu_ns ? now + chunk_ns : until_cpu_ns;
    int64_t read = cpu_clock_read_ns();
    while (now < stop) {
        /* The thread's CPU time never runs ahead of the monotonic clock, so
         * spinning on the cheap clock for what is left cannot overshoot;
         * if the thread was preempted meanwhile, the CPU clock then says
         * what is still left. Half a look is left out, as the clock is read
         * about half way through the call. Looking at the CPU clock every
         * few hundred iterations instead overshot a spin by 2.5-3 us on a
         * host where a look costs 1.3 us. */
        int64_t left = stop - now - read / 2;
        if (left > 0)
            spin_wall_until(host_now_ns() + left);
        now = host_thread_cpu_ns();
    }
    return now >= until_cpu_ns;
}

void host_spin(int64_t cpu_ns)
{
    if (cpu_ns <= 0)
        return;
    if (cpu_ns < HOST_SPIN_SHORT_NS) {
        /* the thread CPU clock is a system call of a few hundred ns: a short
         * spin reads the (vDSO) monotonic clock instead */
        spin_wall_until(host_now_ns() + cpu_ns);
        return;
    }
    int64_t until = host_thread_cpu_ns() + cpu_ns;
    while (!host_spin_step(until, INT64_MAX / 4))
        ;
}
