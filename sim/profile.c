/* The built-in profile and the primes cost model. */
#include "profile.h"

#include <string.h>

void profile_builtin(struct profile *p)
{
    memset(p, 0, sizeof *p);
    strcpy(p->name, "builtin");
    /* The lecture: count(80M) twice in 11.50 s, so 5.75 s / 8e7 iterations. */
    p->count_ns_per_iter = 71.875;
    /* CPython 3.9: LOAD_FAST LOAD_CONST COMPARE_OP POP_JUMP_IF_FALSE
     * LOAD_FAST LOAD_CONST INPLACE_SUBTRACT STORE_FAST JUMP_ABSOLUTE. */
    p->count_bytecodes_per_iter = 9.0;
    p->primes_ns_per_division = 60.0;
    p->primes_ns_per_number = 0;
    p->primes_bytecodes_per_division = 8.0;
    p->spin_ns_per_ns = 1.0;
    p->thread_start_ns = 0;
    /* `x += 1` in CPython is four bytecodes: LOAD_GLOBAL, LOAD_CONST,
     * INPLACE_ADD, STORE_GLOBAL. */
    p->add_ns = 50;
    /* lock.acquire() / lock.release(): an attribute look-up and a C call */
    p->acquire_ns = 60;
    p->release_ns = 60;
    /* queue.Queue is Python code around a Condition: about a microsecond */
    p->queue_op_ns = 1000;
    p->pipe_op_ns = 2000;
    p->pipe_ns_per_byte = 0.25;
    p->pickle_ns_per_byte = 2.0;
    p->mp_queue_latency_ns = 30000;
    p->fork_parent_ns = 600000;
    p->fork_child_ns = 400000;
    p->spawn_parent_ns = 300000;
    p->spawn_child_ns = 45000000;
    p->forkserver_parent_ns = 300000;
    p->forkserver_child_ns = 1000000;
    p->forkserver_start_ns = 45000000;
    /* a futex system call, and a futex wake of a sleeping thread, on the
     * dual-core machines of Beazley's measurements: about a microsecond */
    p->gil_signal_ns = 600;
    p->gil_wake_ns = 800;
    p->gil_check_ns = 0;
    /* the textbook model: threads start at their arrival, and a released
     * lock goes straight to its first waiter */
    p->process_start_ns = 0;
    p->timer_latency_ns = 0;
    p->compute_op_ns = 0;
    p->add_contended_ns = 0;
    p->thread_start_latency_ns = 0;
    p->thread_exit_ns = 0;
    p->thread_boot_ns = 0;
    p->process_exit_ns = 0;
    p->wake_ns = 0;
    p->wake_early_ns = 0;
    p->wake_settle_ns = 0;
    p->futex_race_ns = 0;
    p->idle_wake_ns = 0;
    p->idle_poll_ns = 0;
    p->idle_kick_ns = 0;
    p->lock_handoff = LOCK_HANDOFF_FIFO;
    p->thread_start_wait = false;
}

uint64_t work_primes_divisions(int64_t from, int64_t to)
{
    uint64_t total = 0;
    if (from < 2)
        from = 2;
    for (int64_t k = from; k <= to; k++) {
        for (int64_t d = 2; d <= k / d; d++) {
            total++;
            if (k % d == 0)
                break;
        }
    }
    return total;
}
