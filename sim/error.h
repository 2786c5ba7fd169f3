/* Errors returned by threadsim's libraries: a status code, the JSON path of the
 * offending scenario element (when there is one) and a message a student can act
 * on. Libraries fill a caller-provided struct error and never print or exit. */
#ifndef THREADSIM_ERROR_H
#define THREADSIM_ERROR_H

#include <stdarg.h>

/* Status codes double as the contracted exit codes of the threadsim command. */
enum status {
    STATUS_OK = 0,
    STATUS_INTERNAL = 1, /* a bug or an environment failure (I/O, memory) */
    STATUS_BAD_INPUT = 2, /* bad usage or bad scenario */
    STATUS_DEADLOCK = 3, /* the scenario deadlocked or got stuck */
    STATUS_RUNTIME = 4,  /* a run-time error in the scenario (misuse) */
    STATUS_WATCHDOG = 5  /* a real run stopped by its watchdog */
};

#define ERROR_PATH_MAX 256
#define ERROR_MSG_MAX 1024

struct error {
    enum status status;
    char path[ERROR_PATH_MAX]; /* JSON path, "" when not about a scenario element */
    char msg[ERROR_MSG_MAX];   /* human-readable message, no trailing newline */
    int line;                  /* 1-based line for JSON syntax errors, else 0 */
    int column;                /* 1-based column for JSON syntax errors, else 0 */
};

/* Resets err to "no error". err may be NULL. */
void error_clear(struct error *err);

/* Fills err (may be NULL) with status, path (may be NULL) and a printf-style
 * message, and returns status so callers can `return error_set(...)`. */
enum status error_set(struct error *err, enum status status, const char *path,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

enum status error_setv(struct error *err, enum status status, const char *path,
                       const char *fmt, va_list ap);

/* A short name of a status ("bad input", "deadlock", ...). */
const char *status_name(enum status status);

#endif
