/* Per-thread metrics computed from any trace, simulated or real, so `run`,
 * `real` and `compare` report the same numbers by the same definitions
 * (scenario-format.md: response, turnaround, wait, cpu, blocked, gil_wait). */
#ifndef THREADSIM_TRACE_METRICS_H
#define THREADSIM_TRACE_METRICS_H

#include <stdint.h>

#include "engine.h"
#include "trace.h"

/* Fills out[0 .. tr->ntasks) (caller-provided) and returns the makespan: the
 * latest finish (or segment end when a task never finished).
 * - arrival: the task's INSTANT_ARRIVE, else the start of its first segment;
 * - first_run: the start of its first RUNNING or BLOCKED segment (only a
 *   running thread blocks; not BLOCKED on a wake-up, which a new thread
 *   waits in for its start, nor on a fork, which a real run's made process
 *   waits in while it is made) or the end of its first SWITCH; a task that
 *   finished without any ran for no time at its finish; -1: never ran;
 * - finish: its INSTANT_EXIT, else -1;
 * - cpu, wait, blocked, gil_wait: sums of RUNNING, READY + SWITCH, BLOCKED,
 *   BLOCKED on the GIL segments;
 * - context_switches: the times it went onto a CPU, i.e. SWITCH or RUNNING
 *   segments not continuing a previous on-CPU segment of the same task
 *   (stints of zero length leave no segment, so this can be lower than the
 *   simulator's own count). */
int64_t trace_metrics_compute(const struct trace *tr, struct task_metrics *out);

/* CPU time lost to placement: the time integral of how many CPUs stood idle
 * while as many threads of the run were runnable (RUNNING, SWITCH or READY)
 * but waited, min(runnable, cpus) - CPUs in use, in ns. A READY segment right
 * after its task's RUNNING one counts as queued on that CPU (how the host
 * runner shows a running stretch's time without the CPU). The simulator
 * never leaves a CPU idle while a thread is ready, so this is about 0 for
 * its traces; a real run gets it when the OS keeps two threads on one CPU
 * while another is idle. */
int64_t trace_idle_while_ready(const struct trace *tr); /* up to trace_recorded_until */

#endif
