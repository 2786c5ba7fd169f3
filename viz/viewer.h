/* The interactive timeline viewer: an SDL2 window showing one or two traces
 * (simulated, real, or both stacked on one time axis) with zoom, pan, hover
 * tooltips, thread highlighting, a time cursor whose side panel shows the
 * kernel's view at that instant (viz/state_at.h), play and step, and PNG
 * snapshots. The timeline is drawn by draw_layout, the PNG export's code. A
 * script of synthetic input events drives it for tests. No globals: two
 * viewers are two values (SDL itself allows one video subsystem). */
#ifndef THREADSIM_VIEWER_H
#define THREADSIM_VIEWER_H

#include <stdbool.h>

#include "sim/error.h"
#include "sim/trace.h"
#include "viz/layout.h"

struct viewer;

/* Receives what the viewer has to tell its user (a saved file's name, the
 * --dump-state text): the viewer never prints. text ends in a newline. */
typedef void (*viewer_report_fn)(void *ctx, const char *text);

struct viewer_options {
    enum layout_view view;
    enum layout_theme theme;
    int width, height;          /* the window's first size; 0: 1280 x 720 */
    double scale;               /* pixels per layout pixel; 0: from the window
                                 * size, so text is >= 16 px at 1080 lines */
    const char *script;         /* script text (docs/viewer.md), or NULL */
    const char *script_name;    /* its file name, for error messages */
    bool dump_state;            /* report the state after each script step */
    const char *save_prefix;    /* snapshots are PREFIX-N.png; NULL: "threadsim-view" */
    viewer_report_fn report;    /* may be NULL */
    void *report_ctx;
};

/* Fills opts with the defaults above. */
void viewer_options_init(struct viewer_options *opts);

/* Opens the window for sim (required) and real (NULL: none); both traces
 * must outlive the viewer. Returns NULL with err filled: STATUS_BAD_INPUT when
 * there is no display or the script is malformed (the message says which
 * line), STATUS_INTERNAL when no font is installed or SDL fails. */
struct viewer *viewer_create(const struct trace *sim, const struct trace *real,
                             const struct viewer_options *opts, struct error *err);

/* Runs until the window is closed (or q), or the script ends. Returns
 * STATUS_OK, or STATUS_INTERNAL with err filled when drawing fails. */
enum status viewer_run(struct viewer *v, struct error *err);

/* Closes the window. NULL is allowed. */
void viewer_destroy(struct viewer *v);

#endif
