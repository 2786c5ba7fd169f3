/* Unit tests of the event queue: order, deterministic ties, cancellation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sim/event_queue.h"
#include "sim/rng.h"

static void pop_should_return_events_in_time_order(void **state)
{
    (void)state;
    struct event_queue q;
    event_queue_init(&q);
    int64_t times[] = {50, 10, 40, 10, 30, 20};
    for (uint32_t i = 0; i < 6; i++)
        event_queue_push(&q, times[i], 0, 0, i, 0);
    int64_t expect[] = {10, 10, 20, 30, 40, 50};
    uint32_t expect_target[] = {1, 3, 5, 4, 2, 0};
    struct event ev;
    for (int i = 0; i < 6; i++) {
        assert_true(event_queue_pop(&q, &ev));
        assert_int_equal(ev.time, expect[i]);
        assert_int_equal(ev.target, expect_target[i]);
    }
    assert_false(event_queue_pop(&q, &ev));
    event_queue_deinit(&q);
}

static void ties_should_break_by_key_then_insertion_order(void **state)
{
    (void)state;
    struct event_queue q;
    event_queue_init(&q);
    event_queue_push(&q, 5, 2, 0, 100, 0);
    event_queue_push(&q, 5, 1, 0, 101, 0);
    event_queue_push(&q, 5, 2, 0, 102, 0);
    event_queue_push(&q, 5, 1, 0, 103, 0);
    uint32_t expect[] = {101, 103, 100, 102};
    struct event ev;
    for (int i = 0; i < 4; i++) {
        assert_true(event_queue_pop(&q, &ev));
        assert_int_equal(ev.target, expect[i]);
    }
    event_queue_deinit(&q);
}

static void cancel_should_remove_exactly_that_event(void **state)
{
    (void)state;
    struct event_queue q;
    event_queue_init(&q);
    uint32_t h[8];
    for (uint32_t i = 0; i < 8; i++)
        h[i] = event_queue_push(&q, (int64_t)(i * 10), 0, 0, i, 0);
    event_queue_cancel(&q, h[0]);
    event_queue_cancel(&q, h[5]);
    event_queue_cancel(&q, h[7]);
    assert_int_equal(event_queue_size(&q), 5);
    uint32_t expect[] = {1, 2, 3, 4, 6};
    struct event ev;
    for (int i = 0; i < 5; i++) {
        assert_true(event_queue_pop(&q, &ev));
        assert_int_equal(ev.target, expect[i]);
    }
    assert_int_equal(event_queue_next_time(&q), INT64_MAX);
    event_queue_deinit(&q);
}

/* Random pushes, pops and cancels checked against a sorted reference. */
static void random_operations_should_match_a_reference_model(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct event_queue q;
    event_queue_init(&q);
    struct rng r;
    rng_seed(&r, 42);
    int64_t *ref_time = calloc(N, sizeof *ref_time);
    uint32_t *handle = calloc(N, sizeof *handle);
    unsigned char *live = calloc(N, 1);
    uint32_t n = 0;
    for (int step = 0; step < 60000; step++) {
        uint64_t op = rng_next(&r) % 10;
        if (op < 5 && n < N) {
            ref_time[n] = rng_range(&r, 0, 1000);
            handle[n] = event_queue_push(&q, ref_time[n], 0, 0, n, 0);
            live[n] = 1;
            n++;
        } else if (op < 7 && n > 0) {
            uint32_t i = (uint32_t)rng_range(&r, 0, n - 1);
            if (live[i]) {
                event_queue_cancel(&q, handle[i]);
                live[i] = 0;
            }
        } else {
            struct event ev;
            int64_t best = INT64_MAX;
            uint32_t best_i = UINT32_MAX;
            for (uint32_t i = 0; i < n; i++)
                if (live[i] && ref_time[i] < best) {
                    best = ref_time[i];
                    best_i = i;
                }
            if (best_i == UINT32_MAX) {
                assert_false(event_queue_pop(&q, &ev));
                continue;
            }
            assert_true(event_queue_pop(&q, &ev));
            assert_int_equal(ev.time, best);
            /* equal times come out in insertion order: the lowest index */
            assert_int_equal(ev.target, best_i);
            live[ev.target] = 0;
        }
    }
    free(ref_time);
    free(handle);
    free(live);
    event_queue_deinit(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pop_should_return_events_in_time_order),
        cmocka_unit_test(ties_should_break_by_key_then_insertion_order),
        cmocka_unit_test(cancel_should_remove_exactly_that_event),
        cmocka_unit_test(random_operations_should_match_a_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
