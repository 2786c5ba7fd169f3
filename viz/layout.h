/* The Gantt layout: a trace laid out into lanes, pixel rectangles, a time axis,
 * a legend and markers, for a picture of a given size. Pure C without a
 * display, so every renderer (SVG now, SDL and PNG later) draws the same
 * picture and the geometry is unit-tested. */
#ifndef THREADSIM_LAYOUT_H
#define THREADSIM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/error.h"
#include "sim/trace.h"

enum layout_view {
    LAYOUT_VIEW_THREADS = 0, /* one lane per thread, grouped by process */
    LAYOUT_VIEW_CPUS         /* one lane per CPU, rectangles coloured by thread */
};

enum layout_theme {
    LAYOUT_THEME_LIGHT = 0,
    LAYOUT_THEME_DARK,
    LAYOUT_THEME_COUNT
};

/* What a rectangle's colour stands for: a state, or blocked for a reason. */
enum layout_key {
    LAYOUT_KEY_RUNNING = 0,
    LAYOUT_KEY_READY,
    LAYOUT_KEY_SWITCH,
    LAYOUT_KEY_BLOCKED,        /* blocked without a reason */
    LAYOUT_KEY_SLEEP,          /* then one key per trace_reason, in its order */
    LAYOUT_KEY_COUNT = LAYOUT_KEY_BLOCKED + REASON_COUNT
};

#define LAYOUT_TASK_COLORS 10

/* Colours as 0xRRGGBB. State colours follow the Okabe-Ito colour-blind-safe
 * palette for the common states, completed from Paul Tol's muted scheme. */
struct layout_palette {
    uint32_t background;
    uint32_t text;
    uint32_t muted_text;       /* axis labels, header rows */
    uint32_t grid;
    uint32_t lane_alt;         /* every other lane's background */
    uint32_t header;           /* a process header row's background */
    uint32_t marker;           /* print markers */
    uint32_t deadlock;
    uint32_t key[LAYOUT_KEY_COUNT];
    uint32_t task[LAYOUT_TASK_COLORS]; /* cpus view: thread i gets task[i % N] */
};

/* Defaults: threads view, whole run, 1200 pixels wide, height fitted to the
 * lanes (height 0), light theme. */
struct layout_options {
    enum layout_view view;
    int64_t from;              /* window start, ns */
    int64_t to;                /* window end, ns; <= 0: the makespan */
    int width;                 /* pixels, at least LAYOUT_MIN_WIDTH */
    int height;                /* pixels; 0: fitted to the lanes */
    enum layout_theme theme;
};

#define LAYOUT_MIN_WIDTH 320
#define LAYOUT_MAX_SIZE 100000

struct layout_lane {
    char *label;               /* "process / thread" or "CPU n" */
    uint32_t index;            /* task or CPU number */
    int y, h;
};

/* A process header row above its threads' lanes (threads view only). */
struct layout_group {
    char *label;
    uint32_t process;
    int y, h;
    size_t first_lane, nlanes;
};

/* A rectangle [x0, x1) x lane. Consecutive segments too short to span more
 * than one pixel column and lying in the same column become one summary
 * rectangle one pixel wide (merged > 1) showing the key that covers most of
 * the column; segment, task, state and reason are then those of the longest
 * segment of that key. */
struct layout_rect {
    uint32_t lane;
    int x0, x1;
    uint8_t state;             /* enum trace_state */
    uint8_t reason;            /* enum trace_reason */
    uint8_t key;               /* enum layout_key */
    uint32_t task;
    uint32_t color;            /* 0xRRGGBB */
    size_t segment;            /* index in the trace's segments */
    uint32_t merged;           /* number of segments shown by this rectangle */
};

struct layout_tick {
    int64_t time;
    int x;
    char label[32];            /* "1.5ms" */
};

struct layout_legend_item {
    char label[64];
    uint32_t color;
    int x, y;                  /* swatch's top-left corner */
};

enum layout_marker_kind {
    LAYOUT_MARKER_PRINT = 0,   /* a printed line, on its thread's lane */
    LAYOUT_MARKER_DEADLOCK     /* the deadlock, across all lanes */
};

struct layout_marker {
    enum layout_marker_kind kind;
    int x;
    int32_t lane;              /* -1: all lanes */
    size_t instant;            /* index in the trace's instants */
    const char *text;          /* the trace's string (borrowed from the trace) */
};

struct layout {
    enum layout_view view;
    enum layout_theme theme;
    int width, height;
    int64_t from, to;
    char *title;               /* "scenario — policy, N CPUs, simulated" */
    int title_y;               /* baseline of the title */
    int plot_x0, plot_x1;      /* pixel columns of from and to */
    int lanes_y0, lanes_y1;    /* the lanes' area */
    int axis_y;                /* the axis line; labels below it */
    int legend_y0;
    int row_h;                 /* a lane's height */
    int font_px;               /* body text size in pixels; the title is 5/4 of it */

    size_t nlanes;
    struct layout_lane *lanes;
    size_t ngroups;
    struct layout_group *groups;
    size_t nrects;
    struct layout_rect *rects;
    size_t nticks;
    struct layout_tick *ticks;
    size_t nlegend;
    struct layout_legend_item *legend;
    size_t nmarkers;
    struct layout_marker *markers;
};

/* Fills opts with the defaults above. */
void layout_options_init(struct layout_options *opts);

/* Lays out tr (which must outlive the layout: markers borrow its strings).
 * Time is O(segments + instants + tasks). Returns a layout to free with
 * layout_destroy, or NULL with err filled (STATUS_BAD_INPUT) for a bad size
 * or an empty time window. */
struct layout *layout_create(const struct trace *tr, const struct layout_options *opts,
                             struct error *err);
void layout_destroy(struct layout *lay);

/* The palette of a theme (static storage). */
const struct layout_palette *layout_palette(enum layout_theme theme);

/* The colour key of a segment's state and reason. */
enum layout_key layout_key_of(enum trace_state state, enum trace_reason reason);

/* The legend name of a key: "running", "ready", "switch", "blocked: lock"... */
const char *layout_key_name(enum layout_key key);

/* Picks a tick step of 1, 2 or 5 times a power of ten, the smallest that
 * gives at most max_ticks intervals over span ns (span > 0, max_ticks >= 1). */
int64_t layout_nice_step(int64_t span, int max_ticks);

/* Writes t as a time label in unit (1, 1e3, 1e6 or 1e9 ns) with as many
 * decimals as step needs, trailing zeros dropped: "0", "1.5ms", "250us". */
void layout_format_time(char *buf, size_t size, int64_t t, int64_t unit, int64_t step);

/* The largest of ns, us, ms and s not above the largest |time| in [from, to]. */
int64_t layout_time_unit(int64_t from, int64_t to);

#endif
