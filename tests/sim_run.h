/* Shared by the simulator's unit tests: load a scenario, run it with its own
 * policy (or another), and keep what the assertions need. */
#ifndef THREADSIM_TESTS_SIM_RUN_H
#define THREADSIM_TESTS_SIM_RUN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/registry.h"
#include "sim/engine.h"
#include "sim/scenario.h"

struct run {
    struct scenario *sc;
    struct engine *eng;
    enum status status;
    struct error err;
};

/* Runs a loaded scenario (owned by the run from now on). */
static inline struct run *run_scenario(struct scenario *sc, const char *policy, bool trace)
{
    struct run *r = calloc(1, sizeof *r);
    r->sc = sc;
    const struct sched_policy *pol = sched_registry_find(policy ? policy : sc->sched.policy);
    assert_non_null(pol);
    struct engine_options opts = {.record_trace = trace};
    r->eng = engine_create(sc, pol, &opts, &r->err);
    if (!r->eng)
        fail_msg("engine_create failed: %s", r->err.msg);
    r->status = engine_run(r->eng, &r->err);
    return r;
}

/* Loads a scenario from JSON text and runs it with its own policy (or `policy`). */
static inline struct run *run_json_with(const char *json, const char *policy, bool trace)
{
    struct error err;
    struct scenario *sc = scenario_load_buffer(json, strlen(json), "test.json", &err);
    if (!sc)
        fail_msg("scenario did not load: %s: %s", err.path, err.msg);
    return run_scenario(sc, policy, trace);
}

static inline void run_free(struct run *r)
{
    engine_destroy(r->eng);
    scenario_destroy(r->sc);
    free(r);
}

#endif
