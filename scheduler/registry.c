/* The table of scheduling policies (see registry.h). */
#include "scheduler/registry.h"

#include <string.h>

#include "policies.h"

/* The order is the one --help and the docs list. */
static const struct sched_policy *const sched_registry[] = {
    &sched_fifo,
    &sched_sjf,
    &sched_srtf,
    &sched_rr,
    &sched_priority,
    &sched_mlfq,
    &sched_cfs,
};

#define SCHED_REGISTRY_COUNT (sizeof sched_registry / sizeof sched_registry[0])

const struct sched_policy *sched_registry_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < SCHED_REGISTRY_COUNT; i++)
        if (strcmp(sched_registry[i]->name, name) == 0)
            return sched_registry[i];
    return NULL;
}

const struct sched_policy *sched_registry_at(size_t i)
{
    return i < SCHED_REGISTRY_COUNT ? sched_registry[i] : NULL;
}
