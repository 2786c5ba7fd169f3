/* Shared by `calibrate` and `compare`: where the cached host profile lives,
 * and running a calibration from the command line. */
#ifndef THREADSIM_CLI_CALIB_H
#define THREADSIM_CLI_CALIB_H

#include <stdbool.h>
#include <stddef.h>

#include "host/calibrate.h"

/* The cached profile's path: $XDG_CACHE_HOME/threadsim/profile.json, else
 * ~/.cache/threadsim/profile.json. Returns false (and prints why) when
 * neither variable is set or the path does not fit. */
bool calib_cli_cache_path(char *buf, size_t size);

/* Calibrates this host and writes the profile to path (creating the cache
 * directory when path is the cache); with `table`, prints the table of
 * figures to stdout. Returns an exit code. On success res holds the figures. */
int calib_cli_run(const char *path, bool quick, bool table, struct calib_result *res);

#endif
