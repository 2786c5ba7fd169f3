/* The policies the registry lists, one per file. Private to scheduler/: the
 * rest of the program finds them through registry.h. */
#ifndef THREADSIM_SCHED_POLICIES_H
#define THREADSIM_SCHED_POLICIES_H

#include "sim/sched_class.h"

extern const struct sched_policy sched_fifo;
extern const struct sched_policy sched_sjf;
extern const struct sched_policy sched_srtf;
extern const struct sched_policy sched_rr;
extern const struct sched_policy sched_priority;
extern const struct sched_policy sched_mlfq;
extern const struct sched_policy sched_cfs;

#endif
