/* Shared by `calibrate` and `compare`: where the cached host profile lives,
 * and running a calibration from the command line. */
#ifndef THREADSIM_CLI_CALIB_H
#define THREADSIM_CLI_CALIB_H

#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

#include "host/calibrate.h"
#include "sim/scenario.h"

/* The cached profile's path: $XDG_CACHE_HOME/threadsim/profile.json, else
 * ~/.cache/threadsim/profile.json. Returns false (and prints why) when
 * neither variable is set or the path does not fit. */
bool calib_cli_cache_path(char *buf, size_t size);

/* Calibrates this host and writes the profile to path (creating the cache
 * directory when path is the cache); with `table`, prints the table of
 * figures to stdout. Returns an exit code. On success res holds the figures. */
int calib_cli_run(const char *path, bool quick, bool table, struct calib_result *res);

/* How the simulation was fitted to this host (see calib_cli_fit). */
struct compare_fit {
    uint32_t cpus_before;  /* machine.cpus in the scenario */
    bool context_switch;   /* machine.context_switch taken from the profile */
    bool process_switch;   /* machine.process_switch taken from the profile */
    bool wakeup_latency;   /* machine.wakeup_latency taken from the profile */
};

/* The host profile to simulate with: `given` (--profile) when not NULL, else
 * the cached one, calibrating this host first when there is none (said on
 * stderr). Fills path. Returns an exit code. */
int calib_cli_profile(const char *given, char *path, size_t size);

/* Fits a scenario to this host, to predict a real run of it: loads the
 * profile over the scenario's, caps machine.cpus at the host's CPUs, and
 * takes the switch costs and the wake-up latency from the profile where the
 * profile has them (docs/host-compare.md). Returns an exit code. */
int calib_cli_fit(struct scenario *sc, const char *profile, struct compare_fit *fit);

struct cli_overrides;
struct sched_policy;

/* For a simulation that predicts this host (run --as-host, and export and
 * view next to a real run): fits the scenario loaded from `file` to the
 * host as `compare` does, with the profile given with --profile in ov, else
 * the cached one (its path into profile, unless NULL), then applies ov's
 * other overrides and finds the policy. The profile is loaded once, by the
 * fit: loading it again would undo the fit's add_ns adjustment. fit may be
 * NULL. Returns an exit code (printed). */
int calib_cli_apply_as_host(struct scenario *sc, const char *file, const struct cli_overrides *ov,
                            const struct sched_policy **policy, char *profile, size_t size,
                            struct compare_fit *fit);

#endif
