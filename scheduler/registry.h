/* The table of scheduling policies. A new policy is one file and one line in
 * registry.c. */
#ifndef THREADSIM_SCHED_REGISTRY_H
#define THREADSIM_SCHED_REGISTRY_H

#include <stddef.h>

#include "sim/sched_class.h"

/* The policy named `name`, or NULL. */
const struct sched_policy *sched_registry_find(const char *name);
/* The i-th policy (0-based), or NULL past the end; for --help and docs. */
const struct sched_policy *sched_registry_at(size_t i);

#endif
