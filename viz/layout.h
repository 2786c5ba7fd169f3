/* The Gantt layout: a trace laid out into lanes, pixel rectangles, arrows, a
 * time axis, a legend and markers, for a picture of a given size. Pure C without a
 * display, so every renderer (SVG now, SDL and PNG later) draws the same
 * picture and the geometry is unit-tested. */
#ifndef THREADSIM_LAYOUT_H
#define THREADSIM_LAYOUT_H

#include <stdbool.h>
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

/* What an arrow joins: a value passed from one thread to another (put->get,
 * send->recv), or an object handed from its holder to a waiter (a lock's
 * release->acquire, a GIL dropped on request -> taken). */
enum layout_arrow_kind {
    LAYOUT_ARROW_MESSAGE = 0,
    LAYOUT_ARROW_HANDOVER,
    LAYOUT_ARROW_KIND_COUNT
};

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
    uint32_t arrow[LAYOUT_ARROW_KIND_COUNT];
    uint32_t key[LAYOUT_KEY_COUNT];
    uint32_t task[LAYOUT_TASK_COLORS]; /* cpus view: thread i gets task[i % N] */
};

/* Defaults: threads view, whole run, 1200 pixels wide, height fitted to the
 * lanes (height 0), light theme, with the owner lanes and the arrows. */
struct layout_options {
    enum layout_view view;
    int64_t from;              /* window start, ns */
    int64_t to;                /* window end, ns; <= 0: the makespan */
    int width;                 /* pixels, at least LAYOUT_MIN_WIDTH */
    int height;                /* pixels; 0: fitted to the lanes */
    enum layout_theme theme;
    bool no_owner_lanes;       /* leave out the GIL and lock owner lanes */
    bool no_arrows;            /* leave out the message and hand-over arrows */
    size_t arrows_left_out[LAYOUT_ARROW_KIND_COUNT]; /* arrows in the window the trace
                                * given leaves out as too dense to draw (a timeline
                                * index's window: timeline_index_arrows_left_out),
                                * counted in the legend with those in the trace */
};

#define LAYOUT_MIN_WIDTH 320
#define LAYOUT_MAX_SIZE 100000

enum layout_lane_kind {
    LAYOUT_LANE_THREAD = 0,    /* a thread's states */
    LAYOUT_LANE_CPU,           /* what ran on a CPU */
    LAYOUT_LANE_GIL,           /* who holds a process's GIL */
    LAYOUT_LANE_LOCK           /* who holds a lock or rlock */
};

struct layout_lane {
    char *label;               /* "process / thread", "CPU n", "GIL (process)", "lock L" */
    enum layout_lane_kind kind;
    uint32_t index;            /* task, CPU, process (GIL) or object (lock) number */
    uint32_t section;          /* the trace it shows: 0, or 1 for the second of a comparison */
    int y, h;
};

/* A process header row above its threads' lanes (threads view only), or the
 * "owners" row above the GIL and lock lanes (process UINT32_MAX). */
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
 * segment of that key. Neighbouring summaries of one lane with the same key,
 * colour and task are joined into one wider rectangle (merged counts all
 * their segments), so a dense run of one state stays one rectangle.
 * In an owner lane (GIL or lock) a rectangle is a time the lock or GIL was
 * held: task is the holder, colour the holder's task colour, state running,
 * and segment the index of the instant that took it (merged columns show the
 * holder holding most of the column). */
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
    const char *text;          /* the holder's name inside an owner rectangle
                                * wide enough for it (borrowed from the trace); else NULL */
};

struct layout_tick {
    int64_t time;
    int x;
    char label[32];            /* "1.5ms" */
};

enum layout_legend_shape {
    LAYOUT_LEGEND_SWATCH = 0,  /* a filled square */
    LAYOUT_LEGEND_ARROW,       /* a left-to-right arrow across the swatch */
    LAYOUT_LEGEND_HOLDER,      /* a swatch of an owner lane's holder: hatched where
                                * the renderer hatches owner rectangles (SVG, PNG
                                * and window), so a holder's colour is not read as a
                                * state of the same colour; else a filled square */
    LAYOUT_LEGEND_UNRECORDED   /* a swatch of the stripes over what was not recorded */
};

struct layout_legend_item {
    char label[96];
    uint32_t color;
    enum layout_legend_shape shape;
    int x, y;                  /* swatch's top-left corner */
};

/* An arrow from (x0, y0) to (x1, y1), lane centres at the two instants. When
 * more arrows of one kind between the same two lanes start within a few
 * pixels than can be told apart, one stands for them all (merged > 1). */
struct layout_arrow {
    enum layout_arrow_kind kind;
    int x0, y0, x1, y1;
    uint32_t from_lane, to_lane;
    uint32_t from_task, to_task;
    size_t from_instant, to_instant; /* indices in the trace's instants */
    uint32_t merged;
};

/* A heading row above each trace's lanes when two traces are compared. */
struct layout_section {
    char label[128];           /* "simulated: rr, 2 CPUs" */
    size_t first_lane, nlanes;
    int y, h;                  /* the heading row */
    int lanes_y0, lanes_y1;    /* the section's lanes */
};

enum layout_marker_kind {
    LAYOUT_MARKER_PRINT = 0,   /* a printed line, on its thread's lane */
    LAYOUT_MARKER_DEADLOCK,    /* the deadlock, across all lanes */
    LAYOUT_MARKER_UNRECORDED   /* a real run's thread past its full event buffer
                                * (trace_task.recorded_until), over [x, x_end) of
                                * its lane; lane -1 (cpus view): of every lane of
                                * its section, from the first thread's */
};

struct layout_marker {
    enum layout_marker_kind kind;
    int x;
    int x_end;                 /* unrecorded: where the stretch ends (else x) */
    int32_t lane;              /* -1: all lanes of its section */
    uint32_t section;          /* the trace it comes from: 0, or 1 when compared */
    int y0, y1;                /* deadlock: the vertical extent of its line */
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
    char *description;         /* the scenario's description, cut to fit the
                                * width with "…"; NULL: none */
    int description_y;         /* its baseline */
    int plot_x0, plot_x1;      /* pixel columns of from and to */
    int lanes_y0, lanes_y1;    /* the lanes' area */
    int axis_y;                /* the axis line; labels below it */
    int legend_y0;
    int row_h;                 /* a lane's height */
    int font_px;               /* body text size in pixels; the title is 5/4 of it.
                                * Grows with the width: 12 up to 1440, 16 at 1920 */
    int title_px;

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
    size_t narrows;
    struct layout_arrow *arrows;
    size_t arrow_pairs[LAYOUT_ARROW_KIND_COUNT]; /* pairs in the window, before thinning */
    size_t nsections;          /* 0 unless two traces are compared */
    struct layout_section *sections;
    int fixed_h;               /* the height of all but the lanes: height - nlanes
                                * * row_h when the height is fitted to the lanes */

    /* Kept by layout_update for the next layout (layout.c's own). */
    size_t rects_cap, markers_cap, arrows_cap;
};

/* Fills opts with the defaults above. */
void layout_options_init(struct layout_options *opts);

/* Lays out tr (which must outlive the layout: markers and owner rectangles
 * borrow its strings). Time is O(segments + instants + tasks) for a trace
 * whose instants are in time order, as the simulator writes them (else
 * they are sorted first), plus O(arrows log arrows). Returns a layout to free with
 * layout_destroy, or NULL with err filled (STATUS_BAD_INPUT) for a bad size
 * or an empty time window. */
struct layout *layout_create(const struct trace *tr, const struct layout_options *opts,
                             struct error *err);
void layout_destroy(struct layout *lay);

/* Lays out tr (with second, non-NULL: both, as layout_create_compare) again
 * into old's arrays, which a previous layout_create* or layout_update made
 * (old NULL: a new layout): a viewer's frame then allocates no big array.
 * old is consumed: the result replaces it, or on error (NULL, err filled as
 * layout_create) it is freed. */
struct layout *layout_update(struct layout *old, const struct trace *tr,
                             const struct trace *second, const struct layout_options *opts,
                             struct error *err);

/* Lays out two runs of one scenario stacked on one shared time axis (to the
 * longer makespan unless opts->to is set), each under its heading
 * ("simulated: policy, N CPUs" or "real: ..."), the second's thread lanes in
 * the first's order (tasks matched by process and thread name; unmatched
 * ones after). Both traces must outlive the layout. Errors as layout_create. */
struct layout *layout_create_compare(const struct trace *first, const struct trace *second,
                                     const struct layout_options *opts, struct error *err);

/* The colour of text written on a fill colour: black or white, whichever
 * stands out more. */
uint32_t layout_text_color_on(uint32_t fill);

/* px, a size in pixels at the 12-pixel body text, at lay's text size. */
int layout_px(const struct layout *lay, int px);

/* The legend name of an arrow kind: "message", "hand-over". */
const char *layout_arrow_name(enum layout_arrow_kind kind);

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
