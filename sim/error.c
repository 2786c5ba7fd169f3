/* struct error helpers. */
#include "error.h"

#include <stdio.h>
#include <string.h>

void error_clear(struct error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
}

enum status error_setv(struct error *err, enum status status, const char *path,
                       const char *fmt, va_list ap)
{
    if (!err)
        return status;
    err->status = status;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    err->line = 0;
    err->column = 0;
    return status;
}

enum status error_set(struct error *err, enum status status, const char *path,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(err, status, path, fmt, ap);
    va_end(ap);
    return status;
}

const char *status_name(enum status status)
{
    switch (status) {
    case STATUS_OK: return "ok";
    case STATUS_INTERNAL: return "internal error";
    case STATUS_BAD_INPUT: return "bad input";
    case STATUS_DEADLOCK: return "deadlock";
    case STATUS_RUNTIME: return "run-time error";
    case STATUS_WATCHDOG: return "watchdog";
    }
    return "unknown";
}
