/* Unit tests of the real workload kernels: they do the work they claim, the
 * chunked forms add up to the whole, and spin burns the CPU time asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "host/kernels.h"
#include "sim/profile.h"

static void count_should_run_n_iterations(void **state)
{
    (void)state;
    assert_int_equal(host_count(1000), 1000);
    assert_int_equal(host_count(0), 0);
    assert_int_equal(host_count(-5), 0);
}

static void count_should_take_time_proportional_to_n(void **state)
{
    (void)state;
    /* Folded into a closed form, 10^8 iterations would take no time at all. */
    int64_t t0 = host_thread_cpu_ns();
    host_count(100000000);
    int64_t t1 = host_thread_cpu_ns();
    assert_true(t1 - t0 > 10000000);
}

static void primes_should_count_the_primes_of_a_range(void **state)
{
    (void)state;
    assert_int_equal(host_primes(1, 100), 25);
    assert_int_equal(host_primes(2, 2), 1);
    assert_int_equal(host_primes(90, 96), 0);
    assert_int_equal(host_primes(1, 100000), 9592);
}

static void primes_step_should_do_as_many_divisions_as_the_cost_model(void **state)
{
    (void)state;
    struct host_primes_state s;
    host_primes_init(&s, 1, 5000);
    int steps = 0;
    while (!host_primes_step(&s, 7))
        steps++;
    assert_int_equal(s.primes, 669);
    assert_int_equal(s.divisions, work_primes_divisions(1, 5000));
    assert_true(steps > 100);
}

static void count_step_should_stop_at_zero(void **state)
{
    (void)state;
    int64_t n = 25;
    assert_false(host_count_step(&n, 10));
    assert_int_equal(n, 15);
    assert_false(host_count_step(&n, 10));
    assert_true(host_count_step(&n, 10));
    assert_int_equal(n, 0);
}

static void spin_should_burn_the_cpu_time_asked(void **state)
{
    (void)state;
    int64_t t0 = host_thread_cpu_ns();
    host_spin(20000000);
    int64_t used = host_thread_cpu_ns() - t0;
    assert_true(used >= 20000000);
    assert_true(used < 30000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(count_should_run_n_iterations),
        cmocka_unit_test(count_should_take_time_proportional_to_n),
        cmocka_unit_test(primes_should_count_the_primes_of_a_range),
        cmocka_unit_test(primes_step_should_do_as_many_divisions_as_the_cost_model),
        cmocka_unit_test(count_step_should_stop_at_zero),
        cmocka_unit_test(spin_should_burn_the_cpu_time_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
