/* libFuzzer entry point for the scenario loader: any byte string must either
 * load or be rejected with an error, without crashing, leaking or hanging.
 * A scenario that loads also goes through scenario_thread_compute, which
 * walks repeats and calls and so shares the loader's limits. */
#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct error err;
    struct scenario *sc = scenario_load_buffer((const char *)data, size, "fuzz.json", &err);
    if (!sc)
        return 0;
    for (uint32_t t = 0; t < sc->nthreads; t++)
        (void)scenario_thread_compute(sc, t);
    scenario_destroy(sc);
    return 0;
}
