/* The Gantt layout: lanes, pixel rectangles with level of detail, time axis,
 * legend and markers from a trace. See layout.h. */
#include "layout.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xalloc.h"

#define LAYOUT_PAD 8
#define LAYOUT_TITLE_H 36
#define LAYOUT_HEADER_H 18
#define LAYOUT_ROW_H 22
#define LAYOUT_MIN_ROW_H 2
#define LAYOUT_AXIS_H 28
#define LAYOUT_LEGEND_ROW_H 18
#define LAYOUT_SWATCH 12
#define LAYOUT_FONT_PX 12
/* Text widths are estimated, not measured: layout has no font. 7 pixels is
 * the average advance of a 12-pixel sans-serif face. */
#define LAYOUT_CHAR_W 7
#define LAYOUT_TICK_SPACING 90
#define LAYOUT_MAX_LEGEND_TASKS 24
#define LAYOUT_EDGE_SLACK 1e-6
#define LAYOUT_RIGHT_MARGIN 32

static const struct layout_palette layout_palettes[LAYOUT_THEME_COUNT] = {
    [LAYOUT_THEME_LIGHT] = {
        .background = 0xFFFFFF, .text = 0x1A1A1A, .muted_text = 0x555555,
        .grid = 0xDDDDDD, .lane_alt = 0xF4F4F4, .header = 0xE6E6E6,
        .marker = 0x000000, .deadlock = 0xD00000,
        .arrow = { [LAYOUT_ARROW_MESSAGE] = 0x0044AA, [LAYOUT_ARROW_HANDOVER] = 0x222222 },
        .key = {
            [LAYOUT_KEY_RUNNING] = 0x009E73,
            [LAYOUT_KEY_READY] = 0xF0E442,
            [LAYOUT_KEY_SWITCH] = 0x000000,
            [LAYOUT_KEY_BLOCKED] = 0x999999,
            [LAYOUT_KEY_BLOCKED + REASON_SLEEP] = 0x56B4E9,
            [LAYOUT_KEY_BLOCKED + REASON_IO] = 0x0072B2,
            [LAYOUT_KEY_BLOCKED + REASON_JOIN] = 0xCC79A7,
            [LAYOUT_KEY_BLOCKED + REASON_WAKEUP] = 0xA6D8F5,
            [LAYOUT_KEY_BLOCKED + REASON_LOCK] = 0xD55E00,
            [LAYOUT_KEY_BLOCKED + REASON_SEMAPHORE] = 0xE69F00,
            [LAYOUT_KEY_BLOCKED + REASON_EVENT] = 0x882255,
            [LAYOUT_KEY_BLOCKED + REASON_CONDITION] = 0xAA4499,
            [LAYOUT_KEY_BLOCKED + REASON_BARRIER] = 0x44AA99,
            [LAYOUT_KEY_BLOCKED + REASON_QUEUE] = 0x117733,
            [LAYOUT_KEY_BLOCKED + REASON_PIPE] = 0x332288,
            [LAYOUT_KEY_BLOCKED + REASON_GIL] = 0x661100,
            [LAYOUT_KEY_BLOCKED + REASON_PROCESS] = 0x88CCEE,
            [LAYOUT_KEY_BLOCKED + REASON_POOL] = 0x999933,
            [LAYOUT_KEY_BLOCKED + REASON_FORK] = 0xC5B0D5,
        },
        .task = { 0x0072B2, 0xE69F00, 0x009E73, 0xCC79A7, 0x56B4E9,
                  0xD55E00, 0xF0E442, 0x332288, 0x882255, 0x44AA99 },
    },
    [LAYOUT_THEME_DARK] = {
        .background = 0x1E1E1E, .text = 0xEEEEEE, .muted_text = 0xAAAAAA,
        .grid = 0x3A3A3A, .lane_alt = 0x262626, .header = 0x333333,
        .marker = 0xFFFFFF, .deadlock = 0xFF5050,
        .arrow = { [LAYOUT_ARROW_MESSAGE] = 0x66CCFF, [LAYOUT_ARROW_HANDOVER] = 0xEEEEEE },
        .key = {
            [LAYOUT_KEY_RUNNING] = 0x009E73,
            [LAYOUT_KEY_READY] = 0xF0E442,
            [LAYOUT_KEY_SWITCH] = 0xFFFFFF,
            [LAYOUT_KEY_BLOCKED] = 0x888888,
            [LAYOUT_KEY_BLOCKED + REASON_SLEEP] = 0x56B4E9,
            [LAYOUT_KEY_BLOCKED + REASON_IO] = 0x3A9BE0,
            [LAYOUT_KEY_BLOCKED + REASON_JOIN] = 0xCC79A7,
            [LAYOUT_KEY_BLOCKED + REASON_WAKEUP] = 0xA6D8F5,
            [LAYOUT_KEY_BLOCKED + REASON_LOCK] = 0xD55E00,
            [LAYOUT_KEY_BLOCKED + REASON_SEMAPHORE] = 0xE69F00,
            [LAYOUT_KEY_BLOCKED + REASON_EVENT] = 0xCC6677,
            [LAYOUT_KEY_BLOCKED + REASON_CONDITION] = 0xAA4499,
            [LAYOUT_KEY_BLOCKED + REASON_BARRIER] = 0x44AA99,
            [LAYOUT_KEY_BLOCKED + REASON_QUEUE] = 0x2E9E4F,
            [LAYOUT_KEY_BLOCKED + REASON_PIPE] = 0x7766CC,
            [LAYOUT_KEY_BLOCKED + REASON_GIL] = 0xB5651D,
            [LAYOUT_KEY_BLOCKED + REASON_PROCESS] = 0x88CCEE,
            [LAYOUT_KEY_BLOCKED + REASON_POOL] = 0xBBBB55,
            [LAYOUT_KEY_BLOCKED + REASON_FORK] = 0xB39DDB,
        },
        .task = { 0x3A9BE0, 0xE69F00, 0x009E73, 0xCC79A7, 0x56B4E9,
                  0xD55E00, 0xF0E442, 0x7766CC, 0xCC6677, 0x44AA99 },
    },
};

static const char *const layout_key_names[LAYOUT_KEY_COUNT] = {
    [LAYOUT_KEY_RUNNING] = "running",
    [LAYOUT_KEY_READY] = "ready",
    [LAYOUT_KEY_SWITCH] = "switch",
    [LAYOUT_KEY_BLOCKED] = "blocked",
    [LAYOUT_KEY_BLOCKED + REASON_SLEEP] = "blocked: sleep",
    [LAYOUT_KEY_BLOCKED + REASON_IO] = "blocked: io",
    [LAYOUT_KEY_BLOCKED + REASON_JOIN] = "blocked: join",
    [LAYOUT_KEY_BLOCKED + REASON_WAKEUP] = "blocked: wakeup",
    [LAYOUT_KEY_BLOCKED + REASON_LOCK] = "blocked: lock",
    [LAYOUT_KEY_BLOCKED + REASON_SEMAPHORE] = "blocked: semaphore",
    [LAYOUT_KEY_BLOCKED + REASON_EVENT] = "blocked: event",
    [LAYOUT_KEY_BLOCKED + REASON_CONDITION] = "blocked: condition",
    [LAYOUT_KEY_BLOCKED + REASON_BARRIER] = "blocked: barrier",
    [LAYOUT_KEY_BLOCKED + REASON_QUEUE] = "blocked: queue",
    [LAYOUT_KEY_BLOCKED + REASON_PIPE] = "blocked: pipe",
    [LAYOUT_KEY_BLOCKED + REASON_GIL] = "blocked: gil",
    [LAYOUT_KEY_BLOCKED + REASON_PROCESS] = "blocked: process",
    [LAYOUT_KEY_BLOCKED + REASON_POOL] = "blocked: pool",
    [LAYOUT_KEY_BLOCKED + REASON_FORK] = "blocked: fork",
};

static const char *const layout_arrow_names[LAYOUT_ARROW_KIND_COUNT] = {
    [LAYOUT_ARROW_MESSAGE] = "message",
    [LAYOUT_ARROW_HANDOVER] = "hand-over",
};

const char *layout_arrow_name(enum layout_arrow_kind kind)
{
    return (unsigned)kind < LAYOUT_ARROW_KIND_COUNT ? layout_arrow_names[kind] : "?";
}

void layout_options_init(struct layout_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->view = LAYOUT_VIEW_THREADS;
    opts->width = 1200;
    opts->theme = LAYOUT_THEME_LIGHT;
}

const struct layout_palette *layout_palette(enum layout_theme theme)
{
    return &layout_palettes[(unsigned)theme < LAYOUT_THEME_COUNT ? theme : LAYOUT_THEME_LIGHT];
}

enum layout_key layout_key_of(enum trace_state state, enum trace_reason reason)
{
    switch (state) {
    case TRACE_RUNNING:
        return LAYOUT_KEY_RUNNING;
    case TRACE_READY:
        return LAYOUT_KEY_READY;
    case TRACE_SWITCH:
        return LAYOUT_KEY_SWITCH;
    default:
        return (enum layout_key)(LAYOUT_KEY_BLOCKED +
                                 ((unsigned)reason < REASON_COUNT ? reason : REASON_NONE));
    }
}

const char *layout_key_name(enum layout_key key)
{
    return (unsigned)key < LAYOUT_KEY_COUNT ? layout_key_names[key] : "?";
}

int64_t layout_nice_step(int64_t span, int max_ticks)
{
    static const int64_t mult[] = { 1, 2, 5 };
    if (max_ticks < 1)
        max_ticks = 1;
    int64_t raw = span / max_ticks + (span % max_ticks != 0);
    if (raw < 1)
        raw = 1;
    for (int64_t p = 1;; p *= 10) {
        for (int i = 0; i < 3; i++)
            if (mult[i] * p >= raw)
                return mult[i] * p;
        if (p > INT64_MAX / 100)
            return p * 10;
    }
}

int64_t layout_time_unit(int64_t from, int64_t to)
{
    int64_t a = from < 0 ? -from : from;
    int64_t b = to < 0 ? -to : to;
    int64_t m = a > b ? a : b;
    if (m >= 1000000000)
        return 1000000000;
    if (m >= 1000000)
        return 1000000;
    if (m >= 1000)
        return 1000;
    return 1;
}

static const char *unit_name(int64_t unit)
{
    switch (unit) {
    case 1000000000:
        return "s";
    case 1000000:
        return "ms";
    case 1000:
        return "us";
    default:
        return "ns";
    }
}

void layout_format_time(char *buf, size_t size, int64_t t, int64_t unit, int64_t step)
{
    if (t == 0) {
        snprintf(buf, size, "0");
        return;
    }
    if (unit < 1)
        unit = 1;
    int decimals = 0;
    int64_t scale = 1;
    while (decimals < 9 && step > 0 && (step % unit) * scale % unit != 0) {
        decimals++;
        scale *= 10;
    }
    uint64_t mag = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
    uint64_t whole = mag / (uint64_t)unit;
    uint64_t frac = (mag % (uint64_t)unit) * (uint64_t)scale / (uint64_t)unit;
    while (decimals > 0 && frac % 10 == 0) {
        frac /= 10;
        decimals--;
    }
    char digits[12] = ".";
    for (int i = decimals; i > 0; i--) {
        digits[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    digits[decimals > 0 ? decimals + 1 : 0] = '\0';
    snprintf(buf, size, "%s%llu%s%s", t < 0 ? "-" : "", (unsigned long long)whole, digits,
             unit_name(unit));
}

/* Sizes of the layout at the 12-pixel body text, scaled by px() with it. */
#define LAYOUT_TITLE_Y 22
#define LAYOUT_DESC_H 18
#define LAYOUT_SECTION_H 24
#define LAYOUT_MIN_LABEL_W 80
#define LAYOUT_MAX_FONT_PX 48
/* Two arrows of one kind between the same lanes closer than this many
 * pixels cannot be told apart: one is drawn for both. */
#define LAYOUT_ARROW_GAP 6
/* A lane pair with at least this many arrows drawn, standing for more than
 * twice as many, has them all left out (see drop_dense_arrows). */
#define LAYOUT_ARROW_DENSE 8
/* Holders tracked in one pixel column of an owner lane; more are rare and
 * only lose the contest for the column's colour. */
#define LAYOUT_OWNER_SLOTS 8
#define LAYOUT_NONE UINT32_MAX
/* Rectangles this many pixels wide or less are level-of-detail material:
 * joined with a touching one of the same colour. */
#define LAYOUT_NARROW 2

uint32_t layout_text_color_on(uint32_t fill)
{
    unsigned r = fill >> 16 & 0xFF, g = fill >> 8 & 0xFF, b = fill & 0xFF;
    /* ITU-R BT.601 luma */
    return 299 * r + 587 * g + 114 * b > 150000 ? 0x000000 : 0xFFFFFF;
}

int layout_px(const struct layout *lay, int px)
{
    return (px * lay->font_px + LAYOUT_FONT_PX / 2) / LAYOUT_FONT_PX;
}

/* The state of the pixel column being filled with segments too short to get
 * a column of their own. */
struct column_acc {
    bool active;
    int col;
    uint32_t lane;
    uint32_t used;                      /* bit per key with a duration */
    uint32_t n;
    int64_t dur[LAYOUT_KEY_COUNT];
    int64_t best_dur[LAYOUT_KEY_COUNT]; /* longest segment of each key */
    size_t best_seg[LAYOUT_KEY_COUNT];
};

/* The same for an owner lane, by holder instead of by key. */
struct owner_acc {
    bool active;
    int col;
    uint32_t n;
    int nslots;
    size_t last_rect;                   /* the last summary made, to join the next to */
    uint32_t task[LAYOUT_OWNER_SLOTS];
    int64_t dur[LAYOUT_OWNER_SLOTS];
    int64_t best_dur[LAYOUT_OWNER_SLOTS];
    size_t best_inst[LAYOUT_OWNER_SLOTS];
};

/* Who holds a GIL or lock now, while the instants are walked in time order. */
struct owner_state {
    uint32_t owner;                     /* LAYOUT_NONE: free */
    int64_t since;
    size_t instant;                     /* the take or acquire */
    struct owner_acc acc;
};

struct order_item {
    int64_t start;
    size_t seg;
};

/* One trace being laid out, and where its lanes went. */
struct source {
    const struct trace *tr;
    uint32_t section;
    uint32_t *lane_of_task;             /* threads view; NULL in the cpus view */
    size_t lane0, nlanes;               /* its thread or CPU lanes */
    uint32_t *lane_of_gil;              /* per process; LAYOUT_NONE: no lane */
    uint32_t *lane_of_obj;              /* per object; LAYOUT_NONE: no lane */
    uint32_t *match;                    /* per task: the first trace's task with its
                                         * process and thread names; NULL for the first */
    size_t *order;                      /* instants by time; NULL: already in order */
};

struct builder {
    const struct layout_options *opts;
    const struct trace *tr;             /* the trace being laid out */
    const struct layout_palette *pal;
    struct layout *lay;
    size_t lanes_cap, groups_cap, legend_cap;
    size_t *pair_last;                  /* per arrow kind and lane pair hash slot: the
                                         * pair's last arrow + 1 (0: none) */
    size_t pair_cap;                    /* slots, a power of two */
    size_t pair_used;                   /* pairs in it */
    double scale;                       /* pixels per ns */
    size_t last_summary;                /* the lane's last summary rectangle, or SIZE_MAX */
    const uint32_t *match;              /* the source's match, for thread colours */
    uint32_t first_ntasks;              /* tasks of the first trace */
};

static int px(const struct layout *lay, int n)
{
    return layout_px(lay, n);
}

static double time_x(const struct builder *b, int64_t t)
{
    return b->lay->plot_x0 + (double)(t - b->lay->from) * b->scale;
}

/* A thread's colour; a compared run's thread has the colour of the first
 * run's thread of the same name. */
static uint32_t task_color(const struct builder *b, uint32_t task)
{
    if (b->match)
        task = b->match[task] != LAYOUT_NONE ? b->match[task] : b->first_ntasks + task;
    return b->pal->task[task % LAYOUT_TASK_COLORS];
}

static uint32_t rect_color(const struct builder *b, enum layout_key key, uint32_t task)
{
    if (b->lay->view == LAYOUT_VIEW_CPUS && key == LAYOUT_KEY_RUNNING)
        return task_color(b, task);
    return b->pal->key[key];
}

static void push_rect(struct builder *b, const struct layout_rect *r)
{
    struct layout *lay = b->lay;
    if (lay->nrects == lay->rects_cap)
        lay->rects = xgrow(lay->rects, &lay->rects_cap, lay->nrects + 1, sizeof *lay->rects);
    lay->rects[lay->nrects++] = *r;
}

static void emit_rect(struct builder *b, uint32_t lane, int x0, int x1, size_t seg, uint32_t merged)
{
    const struct trace_segment *s = &b->tr->segments[seg];
    enum layout_key key = layout_key_of((enum trace_state)s->state, (enum trace_reason)s->reason);
    push_rect(b, &(struct layout_rect){
        .lane = lane, .x0 = x0, .x1 = x1,
        .state = s->state, .reason = s->reason, .key = (uint8_t)key,
        .task = s->task, .color = rect_color(b, key, s->task),
        .segment = seg, .merged = merged,
    });
}

static void emit_owner_rect(struct builder *b, uint32_t lane, int x0, int x1, uint32_t task,
                            size_t instant, uint32_t merged)
{
    const char *name = task < b->tr->ntasks && b->tr->tasks[task].name ? b->tr->tasks[task].name
                                                                         : NULL;
    int need = name ? px(b->lay, LAYOUT_CHAR_W) * (int)strlen(name) + px(b->lay, 8) : 0;
    push_rect(b, &(struct layout_rect){
        .text = merged == 1 && name && x1 - x0 >= need ? name : NULL,
        .lane = lane, .x0 = x0, .x1 = x1,
        .state = TRACE_RUNNING, .reason = REASON_NONE, .key = LAYOUT_KEY_RUNNING,
        .task = task, .color = task_color(b, task),
        .segment = instant, .merged = merged,
    });
}

/* Widens the narrow rectangle `last` to x1 when [x0, x1) touches it and
 * looks the same: a run of busy columns of one colour is one rectangle, which
 * keeps the SVG of a dense trace small. Returns false when it cannot. */
static bool join_summary(struct builder *b, size_t last, uint32_t lane, int x0, int x1,
                         const struct layout_rect *r)
{
    if (last >= b->lay->nrects)
        return false;
    struct layout_rect *p = &b->lay->rects[last];
    if (p->lane != lane || p->x1 < x0 || p->x0 > x0 || p->key != r->key ||
        p->color != r->color || p->task != r->task)
        return false;
    p->x1 = x1 > p->x1 ? x1 : p->x1;
    p->merged += r->merged;
    return true;
}

static void flush_column(struct builder *b, struct column_acc *acc)
{
    if (!acc->active)
        return;
    int best = -1;
    int64_t covered = 0;
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (acc->used >> k & 1u) {
            covered += acc->dur[k];
            if (best < 0 || acc->dur[k] > acc->dur[best])
                best = k;
        }
    /* Time without a segment (an idle CPU, a thread not yet started) counts
     * as a state too: a column mostly idle stays empty, or a CPU running
     * 2% of the time would look busy. */
    if ((double)covered * b->scale >= 0.5) {
        const struct trace_segment *s = &b->tr->segments[acc->best_seg[best]];
        struct layout_rect r = { .key = (uint8_t)best, .task = s->task, .merged = acc->n,
                                 .color = rect_color(b, (enum layout_key)best, s->task) };
        if (!join_summary(b, b->last_summary, acc->lane, acc->col, acc->col + 1, &r)) {
            emit_rect(b, acc->lane, acc->col, acc->col + 1, acc->best_seg[best], acc->n);
            b->last_summary = b->lay->nrects - 1;
        }
    }
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (acc->used >> k & 1u) {
            acc->dur[k] = 0;
            acc->best_dur[k] = 0;
        }
    acc->used = 0;
    acc->n = 0;
    acc->active = false;
}

/* The span [t0, t1) in fractional pixels and its first column; true when it
 * touches only one column, too short for a rectangle of its own. */
static bool span_columns(const struct builder *b, int64_t t0, int64_t t1, double *fx0,
                         double *fx1, int *c0)
{
    *fx0 = time_x(b, t0);
    *fx1 = time_x(b, t1);
    /* The slack keeps a boundary that lands on a column edge, up to
     * rounding of the scale, from spilling into the next column. */
    *c0 = (int)floor(*fx0 + LAYOUT_EDGE_SLACK);
    int c1 = (int)ceil(*fx1 - LAYOUT_EDGE_SLACK);
    return c1 - *c0 <= 1;
}

static void span_pixels(double fx0, double fx1, int *x0, int *x1)
{
    *x0 = (int)lround(fx0);
    *x1 = (int)lround(fx1);
    if (*x1 <= *x0)
        *x1 = *x0 + 1;
}

/* Lays out one lane's segments, sorted by start: items, or (items NULL)
 * the trace's n segments from base. */
static void lay_lane(struct builder *b, uint32_t lane, const struct order_item *items,
                     size_t base, size_t n)
{
    struct layout *lay = b->lay;
    struct column_acc acc;
    memset(&acc, 0, sizeof acc);
    b->last_summary = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t si = items ? items[i].seg : base + i;
        const struct trace_segment *s = &b->tr->segments[si];
        int64_t t0 = s->start > lay->from ? s->start : lay->from;
        int64_t t1 = s->end < lay->to ? s->end : lay->to;
        if (t1 <= t0)
            continue;
        double fx0, fx1;
        int c0;
        if (span_columns(b, t0, t1, &fx0, &fx1, &c0)) {
            if (acc.active && acc.col != c0)
                flush_column(b, &acc);
            enum layout_key key = layout_key_of((enum trace_state)s->state,
                                                (enum trace_reason)s->reason);
            int64_t d = t1 - t0;
            acc.active = true;
            acc.col = c0 < lay->plot_x1 ? c0 : lay->plot_x1 - 1;
            acc.lane = lane;
            acc.n++;
            acc.used |= 1u << key;
            acc.dur[key] += d;
            if (d > acc.best_dur[key]) {
                acc.best_dur[key] = d;
                acc.best_seg[key] = si;
            }
            continue;
        }
        flush_column(b, &acc);
        int x0, x1;
        span_pixels(fx0, fx1, &x0, &x1);
        /* a segment of a pixel or two joins a summary just like it */
        if (x1 - x0 <= LAYOUT_NARROW) {
            enum layout_key key = layout_key_of((enum trace_state)s->state,
                                                (enum trace_reason)s->reason);
            struct layout_rect r = { .key = (uint8_t)key, .task = s->task, .merged = 1,
                                     .color = rect_color(b, key, s->task) };
            if (join_summary(b, b->last_summary, lane, x0, x1, &r))
                continue;
            emit_rect(b, lane, x0, x1, si, 1);
            b->last_summary = lay->nrects - 1;
            continue;
        }
        emit_rect(b, lane, x0, x1, si, 1);
        b->last_summary = SIZE_MAX;
    }
    flush_column(b, &acc);
}

static int cmp_order(const void *pa, const void *pb)
{
    const struct order_item *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->seg < b->seg ? -1 : a->seg > b->seg;
}

/* The lane of a segment among the source's own lanes (0-based), or LAYOUT_NONE. */
static uint32_t segment_lane(const struct builder *b, const struct source *src,
                             const struct trace_segment *s)
{
    if (b->lay->view == LAYOUT_VIEW_THREADS)
        return s->task < src->tr->ntasks ? src->lane_of_task[s->task] - (uint32_t)src->lane0
                                         : LAYOUT_NONE;
    return s->cpu >= 0 && (size_t)s->cpu < src->nlanes ? (uint32_t)s->cpu : LAYOUT_NONE;
}

/* When each lane's segments lie together and in time order (a window from
 * viz/timeline_index.h: lane after lane), fills first[l] and count[l] and
 * returns true: the lanes are laid out in place, without a copy. */
static bool lanes_in_place(const struct builder *b, const struct source *src, size_t *first,
                           size_t *count)
{
    const struct trace *tr = src->tr;
    for (size_t l = 0; l < src->nlanes; l++)
        count[l] = 0;
    uint32_t cur = LAYOUT_NONE;
    for (size_t i = 0; i < tr->nsegments; i++) {
        uint32_t lane = segment_lane(b, src, &tr->segments[i]);
        if (lane == LAYOUT_NONE)
            return false;
        if (lane != cur) {
            if (count[lane])
                return false; /* the lane's segments are split */
            first[lane] = i;
            cur = lane;
        } else if (tr->segments[i].start < tr->segments[i - 1].start) {
            return false;
        }
        count[lane]++;
    }
    return true;
}

/* Buckets the segments by lane (a counting sort, so O(segments)), sorts a
 * lane only when its segments are out of order, and lays out each lane. */
static void lay_rects(struct builder *b, const struct source *src)
{
    const struct trace *tr = src->tr;
    size_t nl = src->nlanes;
    size_t *first = xcalloc(nl + 1, sizeof *first);
    size_t *fill = xmalloc((nl ? nl : 1) * sizeof *fill);
    if (lanes_in_place(b, src, first, fill)) {
        for (size_t l = 0; l < nl; l++)
            lay_lane(b, (uint32_t)(src->lane0 + l), NULL, first[l], fill[l]);
        free(fill);
        free(first);
        return;
    }
    memset(first, 0, (nl + 1) * sizeof *first);
    for (size_t i = 0; i < tr->nsegments; i++) {
        uint32_t lane = segment_lane(b, src, &tr->segments[i]);
        if (lane != LAYOUT_NONE)
            first[lane + 1]++;
    }
    for (size_t l = 0; l < nl; l++)
        first[l + 1] += first[l];
    size_t total = first[nl];
    struct order_item *items = xmalloc((total ? total : 1) * sizeof *items);
    memcpy(fill, first, nl * sizeof *fill);
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        uint32_t lane = segment_lane(b, src, s);
        if (lane != LAYOUT_NONE)
            items[fill[lane]++] = (struct order_item){ .start = s->start, .seg = i };
    }
    for (size_t l = 0; l < nl; l++) {
        struct order_item *it = items + first[l];
        size_t n = first[l + 1] - first[l];
        for (size_t i = 1; i < n; i++)
            if (it[i].start < it[i - 1].start) {
                qsort(it, n, sizeof *it, cmp_order);
                break;
            }
        lay_lane(b, (uint32_t)(src->lane0 + l), it, 0, n);
    }
    free(fill);
    free(items);
    free(first);
}

static void flush_owner(struct builder *b, struct owner_acc *acc, uint32_t lane)
{
    if (!acc->active)
        return;
    int best = 0;
    int64_t covered = 0;
    for (int k = 0; k < acc->nslots; k++) {
        covered += acc->dur[k];
        if (acc->dur[k] > acc->dur[best])
            best = k;
    }
    /* A column held at all is drawn: a lock held for 100 ns in a 1 ms
     * column still shows that it was taken. (The GIL's short release windows
     * show as gaps when zoomed in.) */
    size_t last = acc->last_rect;
    if (covered > 0) {
        struct layout_rect r = { .key = LAYOUT_KEY_RUNNING, .task = acc->task[best],
                                 .merged = acc->n,
                                 .color = task_color(b, acc->task[best]) };
        if (!join_summary(b, last, lane, acc->col, acc->col + 1, &r)) {
            emit_owner_rect(b, lane, acc->col, acc->col + 1, acc->task[best],
                            acc->best_inst[best], acc->n);
            last = b->lay->nrects - 1;
        }
    }
    memset(acc, 0, sizeof *acc);
    acc->last_rect = last;
}

/* Lays out a time [start, end) that task held the lane's GIL or lock. */
static void feed_owner(struct builder *b, struct owner_state *st, uint32_t lane, int64_t end)
{
    struct layout *lay = b->lay;
    struct owner_acc *acc = &st->acc;
    int64_t t0 = st->since > lay->from ? st->since : lay->from;
    int64_t t1 = end < lay->to ? end : lay->to;
    if (t1 <= t0)
        return;
    double fx0, fx1;
    int c0;
    if (span_columns(b, t0, t1, &fx0, &fx1, &c0)) {
        if (acc->active && acc->col != c0)
            flush_owner(b, acc, lane);
        int64_t d = t1 - t0;
        int k = 0;
        while (k < acc->nslots && acc->task[k] != st->owner)
            k++;
        if (k == acc->nslots) {
            if (k == LAYOUT_OWNER_SLOTS)
                return;
            acc->nslots++;
            acc->task[k] = st->owner;
        }
        acc->active = true;
        acc->col = c0 < lay->plot_x1 ? c0 : lay->plot_x1 - 1;
        acc->n++;
        acc->dur[k] += d;
        if (d > acc->best_dur[k]) {
            acc->best_dur[k] = d;
            acc->best_inst[k] = st->instant;
        }
        return;
    }
    flush_owner(b, acc, lane);
    int x0, x1;
    span_pixels(fx0, fx1, &x0, &x1);
    if (x1 - x0 <= LAYOUT_NARROW) {
        struct layout_rect r = { .key = LAYOUT_KEY_RUNNING, .task = st->owner, .merged = 1,
                                 .color = task_color(b, st->owner) };
        if (join_summary(b, acc->last_rect, lane, x0, x1, &r))
            return;
        emit_owner_rect(b, lane, x0, x1, st->owner, st->instant, 1);
        acc->last_rect = b->lay->nrects - 1;
        return;
    }
    emit_owner_rect(b, lane, x0, x1, st->owner, st->instant, 1);
    acc->last_rect = SIZE_MAX;
}

static void owner_take(struct builder *b, struct owner_state *st, uint32_t lane, uint32_t task,
                       int64_t time, size_t instant)
{
    if (st->owner == task)
        return; /* an rlock taken again by its holder */
    if (st->owner != LAYOUT_NONE)
        feed_owner(b, st, lane, time);
    st->owner = task;
    st->since = time;
    st->instant = instant;
}

static void owner_drop(struct builder *b, struct owner_state *st, uint32_t lane, uint32_t task,
                       int64_t time)
{
    if (st->owner != task)
        return;
    feed_owner(b, st, lane, time);
    st->owner = LAYOUT_NONE;
}

static const struct trace_instant *instant_at(const struct source *src, size_t i)
{
    return &src->tr->instants[src->order ? src->order[i] : i];
}

static size_t instant_index(const struct source *src, size_t i)
{
    return src->order ? src->order[i] : i;
}

/* The process whose GIL a gil_take or gil_drop is about. */
static uint32_t gil_process(const struct trace *tr, const struct trace_instant *ev)
{
    if (ev->value >= 0 && ev->value < (int64_t)tr->nprocesses)
        return (uint32_t)ev->value;
    return ev->task < tr->ntasks ? tr->tasks[ev->task].process : LAYOUT_NONE;
}

static bool is_lock_type(const char *type)
{
    return type && (strcmp(type, "lock") == 0 || strcmp(type, "rlock") == 0);
}

/* Lays out the owner lanes: walks the instants in time order, turning takes
 * and drops into times held. An rlock's instants are an acquire per level
 * and one release when it is free, so a holder's second acquire is ignored. */
static void lay_owners(struct builder *b, const struct source *src)
{
    const struct trace *tr = src->tr;
    struct layout *lay = b->lay;
    size_t first_owner_lane = lay->nlanes;
    size_t last = 0;
    for (uint32_t p = 0; p < tr->nprocesses; p++)
        if (src->lane_of_gil[p] != LAYOUT_NONE) {
            first_owner_lane = src->lane_of_gil[p] < first_owner_lane ? src->lane_of_gil[p]
                                                                       : first_owner_lane;
            last = src->lane_of_gil[p] > last ? src->lane_of_gil[p] : last;
        }
    for (uint32_t o = 0; o < tr->nobjects; o++)
        if (src->lane_of_obj[o] != LAYOUT_NONE) {
            first_owner_lane = src->lane_of_obj[o] < first_owner_lane ? src->lane_of_obj[o]
                                                                       : first_owner_lane;
            last = src->lane_of_obj[o] > last ? src->lane_of_obj[o] : last;
        }
    if (first_owner_lane >= lay->nlanes)
        return;
    size_t n = last - first_owner_lane + 1;
    struct owner_state *st = xcalloc(n, sizeof *st);
    for (size_t i = 0; i < n; i++) {
        st[i].owner = LAYOUT_NONE;
        st[i].acc.last_rect = SIZE_MAX;
    }
    for (size_t i = 0; i < tr->ninstants; i++) {
        const struct trace_instant *ev = instant_at(src, i);
        if (ev->task >= tr->ntasks)
            continue;
        uint32_t lane = LAYOUT_NONE;
        if (ev->kind == INSTANT_GIL_TAKE || ev->kind == INSTANT_GIL_DROP) {
            uint32_t p = gil_process(tr, ev);
            lane = p < tr->nprocesses ? src->lane_of_gil[p] : LAYOUT_NONE;
        } else if (ev->kind == INSTANT_ACQUIRE || ev->kind == INSTANT_RELEASE) {
            lane = ev->obj < tr->nobjects ? src->lane_of_obj[ev->obj] : LAYOUT_NONE;
        }
        if (lane == LAYOUT_NONE)
            continue;
        struct owner_state *s = &st[lane - first_owner_lane];
        if (ev->kind == INSTANT_GIL_TAKE || ev->kind == INSTANT_ACQUIRE)
            owner_take(b, s, lane, ev->task, ev->time, instant_index(src, i));
        else
            owner_drop(b, s, lane, ev->task, ev->time);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t lane = (uint32_t)(first_owner_lane + i);
        /* held at the end of the run (a deadlock): up to the makespan */
        if (st[i].owner != LAYOUT_NONE)
            feed_owner(b, &st[i], lane, tr->makespan);
        flush_owner(b, &st[i].acc, lane);
    }
    free(st);
}

/* Owner rectangles come out in time order across lanes; lanes first, like
 * the thread lanes' rectangles, makes the output easy to read and test. */
static int cmp_rect_lane(const void *pa, const void *pb)
{
    const struct layout_rect *a = pa, *b = pb;
    if (a->lane != b->lane)
        return a->lane < b->lane ? -1 : 1;
    if (a->x0 != b->x0)
        return a->x0 < b->x0 ? -1 : 1;
    return 0;
}

static char *format_label(const char *fmt, const char *a, const char *b)
{
    int n = snprintf(NULL, 0, fmt, a, b);
    char *s = xmalloc((size_t)n + 1);
    snprintf(s, (size_t)n + 1, fmt, a, b);
    return s;
}

static const char *process_name(const struct trace *tr, uint32_t p)
{
    return p < tr->nprocesses && tr->processes[p] ? tr->processes[p] : "?";
}

static const char *task_process_name(const struct trace *tr, uint32_t task)
{
    return process_name(tr, tr->tasks[task].process);
}

static const char *task_name(const struct trace *tr, uint32_t task)
{
    return tr->tasks[task].name ? tr->tasks[task].name : "?";
}

static struct layout_lane *add_lane(struct builder *b, char *label, enum layout_lane_kind kind,
                                    uint32_t index, uint32_t section)
{
    struct layout *lay = b->lay;
    lay->lanes = xgrow(lay->lanes, &b->lanes_cap, lay->nlanes + 1, sizeof *lay->lanes);
    struct layout_lane *ln = &lay->lanes[lay->nlanes++];
    memset(ln, 0, sizeof *ln);
    ln->label = label;
    ln->kind = kind;
    ln->index = index;
    ln->section = section;
    return ln;
}

static struct layout_group *add_group(struct builder *b, const char *label, uint32_t process)
{
    struct layout *lay = b->lay;
    lay->groups = xgrow(lay->groups, &b->groups_cap, lay->ngroups + 1, sizeof *lay->groups);
    struct layout_group *g = &lay->groups[lay->ngroups++];
    memset(g, 0, sizeof *g);
    g->label = xstrdup(label);
    g->process = process;
    g->first_lane = lay->nlanes;
    return g;
}

struct task_key {
    uint64_t process_rank;
    uint64_t rank;
    uint32_t task;
    uint32_t process;
};

static int cmp_task_key(const void *pa, const void *pb)
{
    const struct task_key *a = pa, *b = pb;
    if (a->process_rank != b->process_rank)
        return a->process_rank < b->process_rank ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->task < b->task ? -1 : a->task > b->task;
}

/* Matches each task of src with the first unmatched task of ref that has
 * the same process and thread names (O(tasks^2), a few thousand at most). */
static uint32_t *match_tasks(const struct trace *tr, const struct trace *rt)
{
    uint32_t *match = xmalloc(((size_t)tr->ntasks + 1) * sizeof *match);
    bool *used = xcalloc((size_t)rt->ntasks + 1, sizeof *used);
    for (uint32_t t = 0; t < tr->ntasks; t++) {
        match[t] = LAYOUT_NONE;
        for (uint32_t u = 0; u < rt->ntasks; u++)
            if (!used[u] && strcmp(task_name(rt, u), task_name(tr, t)) == 0 &&
                strcmp(task_process_name(rt, u), task_process_name(tr, t)) == 0) {
                used[u] = true;
                match[t] = u;
                break;
            }
    }
    free(used);
    return match;
}

/* The rank of each task of src: its own order (process, then task), or, to
 * follow ref, the lane of its match in ref, unmatched tasks after them. */
static void rank_tasks(const struct source *src, const struct source *ref, struct task_key *keys)
{
    const struct trace *tr = src->tr;
    uint32_t nt = tr->ntasks, np = tr->nprocesses;
    for (uint32_t t = 0; t < nt; t++) {
        uint32_t p = tr->tasks[t].process < np ? tr->tasks[t].process : np;
        keys[t] = (struct task_key){ .rank = t, .task = t, .process = p };
        if (!ref)
            continue;
        keys[t].rank = src->match[t] != LAYOUT_NONE ? ref->lane_of_task[src->match[t]]
                                                   : (uint64_t)UINT32_MAX + t;
    }
    /* A process goes where its first task goes; tasks of no known process last. */
    uint64_t *prank = xmalloc(((size_t)np + 1) * sizeof *prank);
    for (uint32_t p = 0; p <= np; p++)
        prank[p] = ref ? UINT64_MAX : p;
    if (ref)
        for (uint32_t t = 0; t < nt; t++)
            if (keys[t].process < np && keys[t].rank < prank[keys[t].process])
                prank[keys[t].process] = keys[t].rank;
    prank[np] = UINT64_MAX;
    for (uint32_t t = 0; t < nt; t++)
        keys[t].process_rank = prank[keys[t].process];
    free(prank);
}

/* Makes src's thread or CPU lanes (rows not placed yet), with, for threads,
 * the task-to-lane map and the process groups. */
static void make_lanes(struct builder *b, struct source *src, const struct source *ref)
{
    const struct trace *tr = src->tr;
    struct layout *lay = b->lay;
    src->lane0 = lay->nlanes;
    if (lay->view == LAYOUT_VIEW_CPUS) {
        uint32_t ncpu = tr->cpus;
        for (size_t i = 0; i < tr->nsegments; i++)
            if (tr->segments[i].cpu >= 0 && (uint32_t)tr->segments[i].cpu >= ncpu)
                ncpu = (uint32_t)tr->segments[i].cpu + 1;
        for (uint32_t c = 0; c < ncpu; c++) {
            char name[32];
            snprintf(name, sizeof name, "CPU %u", c);
            add_lane(b, xstrdup(name), LAYOUT_LANE_CPU, c, src->section);
        }
        src->nlanes = ncpu;
        return;
    }
    uint32_t nt = tr->ntasks, np = tr->nprocesses;
    src->lane_of_task = xmalloc((nt ? nt : 1) * sizeof *src->lane_of_task);
    struct task_key *keys = xmalloc((nt ? nt : 1) * sizeof *keys);
    rank_tasks(src, ref, keys);
    qsort(keys, nt, sizeof *keys, cmp_task_key);
    struct layout_group *g = NULL;
    for (uint32_t i = 0; i < nt; i++) {
        uint32_t t = keys[i].task, p = keys[i].process;
        if (p < np && (!g || g->process != p))
            g = add_group(b, process_name(tr, p), p);
        src->lane_of_task[t] = (uint32_t)lay->nlanes;
        add_lane(b, format_label("%s / %s", task_process_name(tr, t), task_name(tr, t)),
                 LAYOUT_LANE_THREAD, t, src->section);
        if (g && g->process == p)
            g->nlanes++;
    }
    free(keys);
    src->nlanes = nt;
}

/* Makes the GIL lane of each process whose GIL was taken and the lane of
 * each lock or rlock that was acquired, under an "owners" row. */
static void make_owner_lanes(struct builder *b, struct source *src)
{
    const struct trace *tr = src->tr;
    struct layout *lay = b->lay;
    src->lane_of_gil = xmalloc(((size_t)tr->nprocesses + 1) * sizeof *src->lane_of_gil);
    src->lane_of_obj = xmalloc(((size_t)tr->nobjects + 1) * sizeof *src->lane_of_obj);
    bool *gil = xcalloc((size_t)tr->nprocesses + 1, sizeof *gil);
    bool *lock = xcalloc((size_t)tr->nobjects + 1, sizeof *lock);
    for (uint32_t p = 0; p < tr->nprocesses; p++)
        src->lane_of_gil[p] = LAYOUT_NONE;
    for (uint32_t o = 0; o < tr->nobjects; o++)
        src->lane_of_obj[o] = LAYOUT_NONE;
    bool any = false;
    if (lay->view == LAYOUT_VIEW_THREADS && !b->opts->no_owner_lanes)
        for (size_t i = 0; i < tr->ninstants; i++) {
            const struct trace_instant *ev = &tr->instants[i];
            if (ev->kind == INSTANT_GIL_TAKE) {
                uint32_t p = gil_process(tr, ev);
                if (p < tr->nprocesses)
                    any = gil[p] = true;
            } else if (ev->kind == INSTANT_ACQUIRE && ev->obj < tr->nobjects &&
                       is_lock_type(tr->objects[ev->obj].type)) {
                any = lock[ev->obj] = true;
            }
        }
    if (any) {
        add_group(b, "GIL and lock owners", LAYOUT_NONE);
        for (uint32_t p = 0; p < tr->nprocesses; p++)
            if (gil[p]) {
                src->lane_of_gil[p] = (uint32_t)lay->nlanes;
                add_lane(b, format_label("GIL (%s)%s", process_name(tr, p), ""), LAYOUT_LANE_GIL,
                         p, src->section);
                lay->groups[lay->ngroups - 1].nlanes++;
            }
        for (uint32_t o = 0; o < tr->nobjects; o++)
            if (lock[o]) {
                const struct trace_object *ob = &tr->objects[o];
                src->lane_of_obj[o] = (uint32_t)lay->nlanes;
                add_lane(b, format_label("%s %s", ob->type, ob->name ? ob->name : "?"),
                         LAYOUT_LANE_LOCK, o, src->section);
                lay->groups[lay->ngroups - 1].nlanes++;
            }
    }
    free(gil);
    free(lock);
}

/* Gives the rows their y: a section heading above each compared trace's
 * lanes, a header row above each group's lanes. */
static void place_rows(struct layout *lay)
{
    int y = lay->lanes_y0;
    size_t g = 0, sc = 0;
    for (size_t l = 0; l < lay->nlanes; l++) {
        if (sc < lay->nsections && lay->sections[sc].first_lane == l) {
            if (sc > 0)
                y += px(lay, LAYOUT_PAD);
            lay->sections[sc].y = y;
            lay->sections[sc].h = px(lay, LAYOUT_SECTION_H);
            y += lay->sections[sc].h;
            lay->sections[sc].lanes_y0 = y;
            sc++;
        }
        if (g < lay->ngroups && lay->groups[g].first_lane == l) {
            lay->groups[g].y = y;
            lay->groups[g].h = px(lay, LAYOUT_HEADER_H);
            y += lay->groups[g].h;
            g++;
        }
        lay->lanes[l].y = y;
        lay->lanes[l].h = lay->row_h;
        y += lay->row_h;
        if (sc > 0 && l + 1 == lay->sections[sc - 1].first_lane + lay->sections[sc - 1].nlanes)
            lay->sections[sc - 1].lanes_y1 = y;
    }
    lay->lanes_y1 = y;
}

static void add_legend(struct builder *b, const char *label, uint32_t color,
                       enum layout_legend_shape shape)
{
    struct layout *lay = b->lay;
    lay->legend = xgrow(lay->legend, &b->legend_cap, lay->nlegend + 1, sizeof *lay->legend);
    struct layout_legend_item *it = &lay->legend[lay->nlegend++];
    memset(it, 0, sizeof *it);
    snprintf(it->label, sizeof it->label, "%s", label);
    it->color = color;
    it->shape = shape;
}

/* The thread colours in the legend: of the threads running on a CPU (cpus
 * view) or holding a GIL or lock (owner lanes), as "holder: process / thread". */
static void legend_tasks(struct builder *b, const struct trace *tr, bool owners)
{
    struct layout *lay = b->lay;
    if (tr->ntasks == 0)
        return;
    bool *seen = xcalloc(tr->ntasks, sizeof *seen);
    bool any = false;
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        enum layout_lane_kind k = lay->lanes[r->lane].kind;
        bool wanted = owners ? (k == LAYOUT_LANE_GIL || k == LAYOUT_LANE_LOCK)
                             : (k == LAYOUT_LANE_CPU && r->key == LAYOUT_KEY_RUNNING);
        /* the colour is task % LAYOUT_TASK_COLORS in every trace: name the
         * first trace's threads */
        if (wanted && lay->lanes[r->lane].section == 0 && r->task < tr->ntasks)
            any = seen[r->task] = true;
    }
    size_t shown = 0;
    for (uint32_t t = 0; any && t < tr->ntasks && shown < LAYOUT_MAX_LEGEND_TASKS; t++)
        if (seen[t]) {
            char label[96];
            snprintf(label, sizeof label, "%s%s / %s", owners ? "held by " : "",
                     task_process_name(tr, t), task_name(tr, t));
            add_legend(b, label, b->pal->task[t % LAYOUT_TASK_COLORS],
                       owners ? LAYOUT_LEGEND_HOLDER : LAYOUT_LEGEND_SWATCH);
            shown++;
        }
    free(seen);
}

static void make_legend(struct builder *b, const struct trace *first)
{
    struct layout *lay = b->lay;
    bool key_seen[LAYOUT_KEY_COUNT] = { false };
    for (size_t i = 0; i < lay->nrects; i++) {
        enum layout_lane_kind k = lay->lanes[lay->rects[i].lane].kind;
        if (k == LAYOUT_LANE_THREAD || (k == LAYOUT_LANE_CPU && lay->rects[i].key != LAYOUT_KEY_RUNNING))
            key_seen[lay->rects[i].key] = true;
    }
    if (lay->view == LAYOUT_VIEW_CPUS)
        legend_tasks(b, first, false);
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (key_seen[k])
            add_legend(b, layout_key_name((enum layout_key)k), b->pal->key[k],
                       LAYOUT_LEGEND_SWATCH);
    legend_tasks(b, first, true);
    size_t drawn[LAYOUT_ARROW_KIND_COUNT] = { 0 };
    for (size_t i = 0; i < lay->narrows; i++)
        drawn[lay->arrows[i].kind]++;
    for (int k = 0; k < LAYOUT_ARROW_KIND_COUNT; k++) {
        if (!lay->arrow_pairs[k])
            continue;
        char label[96];
        if (!drawn[k])
            snprintf(label, sizeof label, "%s: %zu, too dense to draw here (zoom in)",
                     layout_arrow_name((enum layout_arrow_kind)k), lay->arrow_pairs[k]);
        else if (drawn[k] < lay->arrow_pairs[k])
            snprintf(label, sizeof label, "%s (%zu of %zu drawn)",
                     layout_arrow_name((enum layout_arrow_kind)k), drawn[k], lay->arrow_pairs[k]);
        else
            snprintf(label, sizeof label, "%s", layout_arrow_name((enum layout_arrow_kind)k));
        add_legend(b, label, b->pal->arrow[k], LAYOUT_LEGEND_ARROW);
    }
    bool print = false, deadlock = false, unrecorded = false;
    for (size_t i = 0; i < lay->nmarkers; i++) {
        print |= lay->markers[i].kind == LAYOUT_MARKER_PRINT;
        deadlock |= lay->markers[i].kind == LAYOUT_MARKER_DEADLOCK;
        unrecorded |= lay->markers[i].kind == LAYOUT_MARKER_UNRECORDED;
    }
    if (print)
        add_legend(b, "printed line", b->pal->marker, LAYOUT_LEGEND_SWATCH);
    if (deadlock)
        add_legend(b, "deadlock", b->pal->deadlock, LAYOUT_LEGEND_SWATCH);
    if (unrecorded)
        add_legend(b, "not recorded: the thread's event buffer was full (last recorded state shown)",
                   b->pal->muted_text, LAYOUT_LEGEND_UNRECORDED);
}

/* Places the legend items in rows from the left margin; returns the rows. */
static int place_legend(struct layout *lay)
{
    int pad = px(lay, LAYOUT_PAD), x = pad, row = 0;
    for (size_t i = 0; i < lay->nlegend; i++) {
        int w = px(lay, LAYOUT_SWATCH + 6 + 18) +
                px(lay, LAYOUT_CHAR_W) * (int)strlen(lay->legend[i].label);
        if (x > pad && x + w > lay->width - pad) {
            x = pad;
            row++;
        }
        lay->legend[i].x = x;
        lay->legend[i].y = row;
        x += w;
    }
    return lay->nlegend ? row + 1 : 0;
}

/* Adds an unrecorded marker over [from, to) of lane (-1: all of the
 * section's), clipped to the window; nothing when it is outside. */
static void add_unrecorded(struct builder *b, const struct source *src, int32_t lane, int64_t from, int64_t to)
{
    struct layout *lay = b->lay;
    if (from >= to || to <= lay->from || from >= lay->to)
        return;
    struct layout_marker m = { .kind = LAYOUT_MARKER_UNRECORDED, .lane = lane, .section = src->section,
                               .instant = SIZE_MAX, .text = NULL };
    m.x = (int)lround(time_x(b, from > lay->from ? from : lay->from));
    m.x_end = (int)lround(time_x(b, to < lay->to ? to : lay->to));
    if (m.x_end <= m.x)
        m.x_end = m.x + 1;
    lay->markers = xgrow(lay->markers, &lay->markers_cap, lay->nmarkers + 1, sizeof *lay->markers);
    lay->markers[lay->nmarkers++] = m;
}

/* What a real run's full event buffers left out (trace_task.recorded_until):
 * in the threads view, each such thread's lane from then to its last
 * segment's end; in the cpus view, every CPU lane from the first of them to
 * the end of the run. */
static void make_unrecorded(struct builder *b, const struct source *src)
{
    const struct trace *tr = src->tr;
    int64_t first = trace_recorded_until(tr);
    if (!src->lane_of_task) {
        if (first >= 0)
            add_unrecorded(b, src, -1, first, tr->makespan);
        return;
    }
    /* who holds a GIL or a lock comes from every thread's takes and drops:
     * a GIL's are recorded as long as the timeline is, a lock's as long as
     * the hand-over instants are */
    for (uint32_t p = 0; first >= 0 && src->lane_of_gil && p < tr->nprocesses; p++)
        if (src->lane_of_gil[p] != LAYOUT_NONE)
            add_unrecorded(b, src, (int32_t)src->lane_of_gil[p], first, tr->makespan);
    int64_t owners = trace_instants_until(tr);
    for (uint32_t o = 0; owners >= 0 && src->lane_of_obj && o < tr->nobjects; o++)
        if (src->lane_of_obj[o] != LAYOUT_NONE)
            add_unrecorded(b, src, (int32_t)src->lane_of_obj[o], owners, tr->makespan);
    if (first < 0)
        return;
    int64_t *end = xcalloc(tr->ntasks, sizeof *end);
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *sg = &tr->segments[i];
        if (sg->task < tr->ntasks && sg->end > end[sg->task])
            end[sg->task] = sg->end;
    }
    for (uint32_t t = 0; t < tr->ntasks; t++)
        if (tr->tasks[t].recorded_until >= 0)
            add_unrecorded(b, src, (int32_t)src->lane_of_task[t], tr->tasks[t].recorded_until, end[t]);
    free(end);
}

static void make_markers(struct builder *b, const struct source *src)
{
    struct layout *lay = b->lay;
    const struct trace *tr = src->tr;
    for (size_t i = 0; i < tr->ninstants; i++) {
        const struct trace_instant *ev = &tr->instants[i];
        /* most instants are no marker: they cost a test, not a position */
        if ((ev->kind != INSTANT_DEADLOCK && ev->kind != INSTANT_PRINT) || ev->time < lay->from ||
            ev->time > lay->to)
            continue;
        struct layout_marker m = { .x = (int)lround(time_x(b, ev->time)), .instant = i,
                                   .text = trace_string(tr, ev->text),
                                   .section = src->section };
        if (ev->kind == INSTANT_DEADLOCK) {
            m.kind = LAYOUT_MARKER_DEADLOCK;
            m.lane = -1;
        } else if (ev->kind == INSTANT_PRINT && src->lane_of_task && ev->task < tr->ntasks) {
            m.kind = LAYOUT_MARKER_PRINT;
            m.lane = (int32_t)src->lane_of_task[ev->task];
        } else {
            continue;
        }
        lay->markers = xgrow(lay->markers, &lay->markers_cap, lay->nmarkers + 1, sizeof *lay->markers);
        lay->markers[lay->nmarkers++] = m;
    }
    make_unrecorded(b, src);
}

/* The x of t, kept inside the plot for arrows that start or end outside the
 * window. */
static int clamp_x(const struct builder *b, int64_t t)
{
    double x = time_x(b, t);
    if (x < b->lay->plot_x0)
        return b->lay->plot_x0;
    if (x > b->lay->plot_x1)
        return b->lay->plot_x1;
    return (int)lround(x);
}

static bool same_pair(const struct layout_arrow *a, enum layout_arrow_kind kind, uint32_t la,
                      uint32_t lz)
{
    return a->kind == kind && a->from_lane == la && a->to_lane == lz;
}

/* The hash slot of an arrow kind and lane pair: 0, or its last arrow + 1.
 * The table doubles when half full. */
static size_t *pair_slot(struct builder *b, enum layout_arrow_kind kind, uint32_t la, uint32_t lz)
{
    if (2 * (b->pair_used + 1) > b->pair_cap) {
        size_t cap = b->pair_cap ? 2 * b->pair_cap : 64;
        size_t *t = xcalloc(cap, sizeof *t);
        for (size_t i = 0; i < b->pair_cap; i++)
            if (b->pair_last[i]) {
                const struct layout_arrow *a = &b->lay->arrows[b->pair_last[i] - 1];
                uint64_t h = ((uint64_t)a->from_lane * 0x9E3779B97F4A7C15u) ^
                             ((uint64_t)a->to_lane * 0xC2B2AE3D27D4EB4Fu) ^ a->kind;
                size_t j = (size_t)(h >> 20) & (cap - 1);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = b->pair_last[i];
            }
        free(b->pair_last);
        b->pair_last = t;
        b->pair_cap = cap;
    }
    uint64_t h = ((uint64_t)la * 0x9E3779B97F4A7C15u) ^ ((uint64_t)lz * 0xC2B2AE3D27D4EB4Fu) ^ kind;
    size_t j = (size_t)(h >> 20) & (b->pair_cap - 1);
    while (b->pair_last[j] && !same_pair(&b->lay->arrows[b->pair_last[j] - 1], kind, la, lz))
        j = (j + 1) & (b->pair_cap - 1);
    return &b->pair_last[j];
}

static void add_arrow(struct builder *b, const struct source *src, enum layout_arrow_kind kind,
                      size_t from, size_t to)
{
    const struct trace *tr = src->tr;
    struct layout *lay = b->lay;
    const struct trace_instant *a = &tr->instants[from], *z = &tr->instants[to];
    if (a->task >= tr->ntasks || z->task >= tr->ntasks || z->time < lay->from ||
        a->time > lay->to)
        return;
    uint32_t la = src->lane_of_task[a->task], lz = src->lane_of_task[z->task];
    if (la == lz)
        return;
    lay->arrow_pairs[kind]++;
    int x0 = clamp_x(b, a->time);
    /* Arrows of one lane pair that start in the same few columns would be
     * drawn over one another: the first one stands for them. Pairs come
     * nearly in time order, so folding into the pair's last arrow (found in
     * a small hash table, whatever the number of pairs) catches nearly all;
     * thin_arrows catches the rest. */
    size_t *slot = pair_slot(b, kind, la, lz);
    if (*slot) {
        struct layout_arrow *p = &lay->arrows[*slot - 1];
        if (x0 - p->x0 < px(lay, LAYOUT_ARROW_GAP) && x0 >= p->x0) {
            p->merged++;
            return;
        }
    }
    if (lay->narrows == lay->arrows_cap)
        lay->arrows = xgrow(lay->arrows, &lay->arrows_cap, lay->narrows + 1, sizeof *lay->arrows);
    lay->arrows[lay->narrows++] = (struct layout_arrow){
        .kind = kind, .x0 = x0, .x1 = clamp_x(b, z->time),
        .from_lane = la, .to_lane = lz, .from_task = a->task, .to_task = z->task,
        .from_instant = from, .to_instant = to, .merged = 1,
    };
    if (!*slot)
        b->pair_used++;
    *slot = lay->narrows;
}

/* Which start of a flow an end pairs with: the same flow id, object and
 * class of event. */
static int flow_class(enum trace_instant_kind k, bool *start)
{
    switch (k) {
    case INSTANT_RELEASE:
    case INSTANT_PUT:
    case INSTANT_SEND:
        *start = true;
        break;
    case INSTANT_ACQUIRE:
    case INSTANT_GET:
    case INSTANT_RECV:
        *start = false;
        break;
    default:
        return -1;
    }
    return k == INSTANT_RELEASE || k == INSTANT_ACQUIRE ? 0 : k == INSTANT_PUT || k == INSTANT_GET ? 1 : 2;
}

/* The last start of each flow id: a table over the ids' range, or a hash
 * table of ids (open addressing, at most half full). */
struct flow_map {
    bool hashed;
    uint32_t min;                       /* table: the id of start[0] */
    size_t n;
    uint32_t *keys;                     /* hashed: the id of each slot, 0 free */
    size_t *start;                      /* the start's instant, or SIZE_MAX */
};

static size_t *flow_start(struct flow_map *fm, uint32_t flow)
{
    if (!fm->hashed)
        return &fm->start[flow - fm->min];
    size_t j = (size_t)((flow * 0x9E3779B97F4A7C15u) >> 20) & (fm->n - 1);
    while (fm->keys[j] && fm->keys[j] != flow)
        j = (j + 1) & (fm->n - 1);
    fm->keys[j] = flow;
    return &fm->start[j];
}

/* The arrows of src: flows paired by id (the simulator counts them up, so
 * a table indexed by id pairs them in one pass), and each GIL dropped on
 * request to the next take of that GIL by another thread. */
static void make_arrows(struct builder *b, const struct source *src)
{
    const struct trace *tr = src->tr;
    if (b->lay->view != LAYOUT_VIEW_THREADS || b->opts->no_arrows || tr->ninstants == 0)
        return;
    /* Flow ids are a counter, so a table indexed by id pairs them in one
     * pass; a window of a long trace holds a range of ids far from 0 (the
     * table covers the range of its flow events), and ids far apart (a value
     * put early and got late, or ids that are no counter) go to a hash
     * table instead. */
    struct flow_map fm = { .min = UINT32_MAX };
    size_t nevents = 0;
    uint32_t max_flow = 0;
    for (size_t i = 0; i < tr->ninstants; i++) {
        const struct trace_instant *ev = &tr->instants[i];
        bool start;
        if (ev->flow && flow_class((enum trace_instant_kind)ev->kind, &start) >= 0) {
            max_flow = ev->flow > max_flow ? ev->flow : max_flow;
            fm.min = ev->flow < fm.min ? ev->flow : fm.min;
            nevents++;
        }
    }
    fm.min = max_flow ? fm.min : 1;
    if ((size_t)(max_flow - fm.min) + 1 <= 4 * nevents + 1024) {
        fm.n = (size_t)(max_flow - fm.min) + 1;
    } else {
        fm.hashed = true;
        for (fm.n = 64; fm.n < 2 * nevents; fm.n *= 2)
            ;
        fm.keys = xcalloc(fm.n, sizeof *fm.keys);
    }
    fm.start = xmalloc(fm.n * sizeof *fm.start);
    for (size_t f = 0; f < fm.n; f++)
        fm.start[f] = SIZE_MAX;
    size_t *gil_drop = xmalloc(((size_t)tr->nprocesses + 1) * sizeof *gil_drop);
    for (uint32_t p = 0; p <= tr->nprocesses; p++)
        gil_drop[p] = SIZE_MAX;
    for (size_t i = 0; i < tr->ninstants; i++) {
        size_t idx = instant_index(src, i);
        const struct trace_instant *ev = &tr->instants[idx];
        if (ev->kind == INSTANT_GIL_DROP || ev->kind == INSTANT_GIL_TAKE) {
            uint32_t p = gil_process(tr, ev);
            if (p >= tr->nprocesses)
                continue;
            if (ev->kind == INSTANT_GIL_DROP) {
                gil_drop[p] = ev->flow ? idx : SIZE_MAX;
                continue;
            }
            if (gil_drop[p] != SIZE_MAX && tr->instants[gil_drop[p]].task != ev->task)
                add_arrow(b, src, LAYOUT_ARROW_HANDOVER, gil_drop[p], idx);
            gil_drop[p] = SIZE_MAX;
            continue;
        }
        bool start;
        int cls = flow_class((enum trace_instant_kind)ev->kind, &start);
        if (cls < 0 || ev->flow == 0)
            continue;
        size_t *start_of = flow_start(&fm, ev->flow);
        if (start) {
            *start_of = idx;
            continue;
        }
        size_t s = *start_of;
        if (s == SIZE_MAX)
            continue;
        const struct trace_instant *sv = &tr->instants[s];
        bool s_start;
        if (sv->obj != ev->obj || flow_class((enum trace_instant_kind)sv->kind, &s_start) != cls)
            continue;
        *start_of = SIZE_MAX;
        add_arrow(b, src, cls == 0 ? LAYOUT_ARROW_HANDOVER : LAYOUT_ARROW_MESSAGE, s, idx);
    }
    free(gil_drop);
    free(fm.start);
    free(fm.keys);
}

static int cmp_arrow_pair(const void *pa, const void *pb)
{
    const struct layout_arrow *a = pa, *b = pb;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->from_lane != b->from_lane)
        return a->from_lane < b->from_lane ? -1 : 1;
    if (a->to_lane != b->to_lane)
        return a->to_lane < b->to_lane ? -1 : 1;
    if (a->x0 != b->x0)
        return a->x0 < b->x0 ? -1 : 1;
    return a->from_instant < b->from_instant ? -1 : a->from_instant > b->from_instant;
}

static int cmp_arrow_time(const void *pa, const void *pb)
{
    const struct layout_arrow *a = pa, *b = pb;
    if (a->x0 != b->x0)
        return a->x0 < b->x0 ? -1 : 1;
    return cmp_arrow_pair(pa, pb);
}

/* Drops the arrows of a lane pair that stand for more than twice as many as
 * are drawn, LAYOUT_ARROW_DENSE or more of them: they would only hatch the
 * lanes (two GIL threads over a whole run make thousands). The legend says
 * how many there are; zooming in shows them. lay->arrows is sorted by pair. */
static void drop_dense_arrows(struct layout *lay)
{
    size_t kept = 0;
    for (size_t i = 0; i < lay->narrows;) {
        size_t j = i;
        uint32_t merged = 0;
        const struct layout_arrow *a = &lay->arrows[i];
        for (; j < lay->narrows && lay->arrows[j].kind == a->kind &&
               lay->arrows[j].from_lane == a->from_lane && lay->arrows[j].to_lane == a->to_lane;
             j++)
            merged += lay->arrows[j].merged;
        size_t drawn = j - i;
        if (drawn < LAYOUT_ARROW_DENSE || merged <= 2 * drawn) {
            memmove(&lay->arrows[kept], &lay->arrows[i], drawn * sizeof *lay->arrows);
            kept += drawn;
        }
        i = j;
    }
    lay->narrows = kept;
}

/* Folds the arrows of one lane pair closer than LAYOUT_ARROW_GAP into one,
 * then orders them by time. */
static void thin_arrows(struct layout *lay)
{
    if (lay->narrows < 2)
        return;
    qsort(lay->arrows, lay->narrows, sizeof *lay->arrows, cmp_arrow_pair);
    size_t kept = 0;
    for (size_t i = 0; i < lay->narrows; i++) {
        struct layout_arrow *a = &lay->arrows[i];
        struct layout_arrow *p = kept ? &lay->arrows[kept - 1] : NULL;
        if (p && p->kind == a->kind && p->from_lane == a->from_lane && p->to_lane == a->to_lane &&
            a->x0 - p->x0 < px(lay, LAYOUT_ARROW_GAP)) {
            p->merged += a->merged;
            continue;
        }
        lay->arrows[kept++] = *a;
    }
    lay->narrows = kept;
    drop_dense_arrows(lay);
    qsort(lay->arrows, lay->narrows, sizeof *lay->arrows, cmp_arrow_time);
}

static void make_ticks(struct builder *b)
{
    struct layout *lay = b->lay;
    int plot_w = lay->plot_x1 - lay->plot_x0;
    int max_ticks = plot_w / px(lay, LAYOUT_TICK_SPACING);
    int64_t span = lay->to - lay->from;
    int64_t step = layout_nice_step(span, max_ticks > 0 ? max_ticks : 1);
    int64_t unit = layout_time_unit(lay->from, lay->to);
    int64_t t = lay->from / step * step;
    if (t < lay->from)
        t += step;
    size_t cap = 0;
    for (; t <= lay->to; t += step) {
        lay->ticks = xgrow(lay->ticks, &cap, lay->nticks + 1, sizeof *lay->ticks);
        struct layout_tick *tk = &lay->ticks[lay->nticks++];
        tk->time = t;
        tk->x = (int)lround(time_x(b, t));
        layout_format_time(tk->label, sizeof tk->label, t, unit, step);
        if (t > INT64_MAX - step)
            break;
    }
}

static const char *source_word(const struct trace *tr)
{
    return tr->source && strcmp(tr->source, "real") == 0 ? "real run" : "simulated";
}

static char *make_title(const struct trace *tr, const struct trace *second)
{
    const char *name = tr->scenario ? tr->scenario : "";
    const char *policy = tr->policy ? tr->policy : "?";
    char buf[512];
    if (second && strcmp(source_word(tr), source_word(second)) == 0)
        snprintf(buf, sizeof buf, "%s \xE2\x80\x94 two %s runs, compared", name,
                 strcmp(source_word(tr), "simulated") == 0 ? "simulated" : "real");
    else if (second)
        snprintf(buf, sizeof buf, "%s \xE2\x80\x94 %s and %s, compared", name, source_word(tr),
                 source_word(second));
    else
        snprintf(buf, sizeof buf, "%s \xE2\x80\x94 %s, %u CPU%s, %s", name, policy, tr->cpus,
                 tr->cpus == 1 ? "" : "s", source_word(tr));
    return xstrdup(buf);
}

/* The description on one line, cut at a character boundary to the width
 * the text is estimated to take, with an ellipsis. NULL when there is none. */
static char *make_description(const struct layout *lay, const char *desc)
{
    if (!desc || !desc[0])
        return NULL;
    size_t fit = (size_t)((lay->width - 2 * px(lay, LAYOUT_PAD)) / px(lay, LAYOUT_CHAR_W));
    char *s = xmalloc(strlen(desc) + 4);
    size_t chars = 0, n = 0;
    for (const char *p = desc; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c & 0xC0) != 0x80 && ++chars > fit) {
            /* room for the ellipsis: drop one more character */
            while (n > 0 && ((unsigned char)s[n - 1] & 0xC0) == 0x80)
                n--;
            if (n > 0)
                n--;
            memcpy(s + n, "\xE2\x80\xA6", 3);
            n += 3;
            break;
        }
        s[n++] = c == '\n' || c == '\t' ? ' ' : (char)c;
    }
    s[n] = '\0';
    return s;
}

static void add_section(struct layout *lay, const struct trace *tr)
{
    struct layout_section *sc = &lay->sections[lay->nsections++];
    memset(sc, 0, sizeof *sc);
    snprintf(sc->label, sizeof sc->label, "%s: %s, %u CPU%s",
             tr->source && strcmp(tr->source, "real") == 0 ? "real" : "simulated",
             tr->policy ? tr->policy : "?", tr->cpus, tr->cpus == 1 ? "" : "s");
}

static void free_source(struct source *src)
{
    free(src->lane_of_task);
    free(src->lane_of_gil);
    free(src->lane_of_obj);
    free(src->order);
    free(src->match);
}

/* The instants of tr in time order (ties in trace order), or NULL when they
 * already are, as the simulator writes them. */
static size_t *instant_order(const struct trace *tr)
{
    size_t i = 1;
    while (i < tr->ninstants && tr->instants[i].time >= tr->instants[i - 1].time)
        i++;
    if (i >= tr->ninstants)
        return NULL;
    struct order_item *items = xmalloc(tr->ninstants * sizeof *items);
    for (size_t k = 0; k < tr->ninstants; k++)
        items[k] = (struct order_item){ .start = tr->instants[k].time, .seg = k };
    qsort(items, tr->ninstants, sizeof *items, cmp_order);
    size_t *order = xmalloc(tr->ninstants * sizeof *order);
    for (size_t k = 0; k < tr->ninstants; k++)
        order[k] = items[k].seg;
    free(items);
    return order;
}

/* A new layout with old's big arrays (emptied) when old is not NULL; old is
 * freed. */
static struct layout *recycle(struct layout *old)
{
    struct layout *lay = xcalloc(1, sizeof *lay);
    if (!old)
        return lay;
    lay->rects = old->rects;
    lay->rects_cap = old->rects_cap;
    lay->markers = old->markers;
    lay->markers_cap = old->markers_cap;
    lay->arrows = old->arrows;
    lay->arrows_cap = old->arrows_cap;
    old->rects = NULL;
    old->markers = NULL;
    old->arrows = NULL;
    layout_destroy(old);
    return lay;
}

static struct layout *build(const struct trace *const *traces, size_t ntraces,
                            const struct layout_options *opts, struct layout *old,
                            struct error *err)
{
    if (opts->width < LAYOUT_MIN_WIDTH || opts->width > LAYOUT_MAX_SIZE) {
        layout_destroy(old);
        error_set(err, STATUS_BAD_INPUT, NULL, "the width must be %d to %d pixels, got %d",
                  LAYOUT_MIN_WIDTH, LAYOUT_MAX_SIZE, opts->width);
        return NULL;
    }
    if (opts->height < 0 || opts->height > LAYOUT_MAX_SIZE) {
        layout_destroy(old);
        error_set(err, STATUS_BAD_INPUT, NULL, "the height must be 0 (fit) to %d pixels, got %d",
                  LAYOUT_MAX_SIZE, opts->height);
        return NULL;
    }
    int64_t makespan = 0;
    for (size_t k = 0; k < ntraces; k++)
        makespan = traces[k]->makespan > makespan ? traces[k]->makespan : makespan;
    int64_t to = opts->to > 0 ? opts->to : makespan;
    if (opts->from < 0 || to <= opts->from) {
        layout_destroy(old);
        if (opts->to <= 0 && makespan <= opts->from)
            error_set(err, STATUS_BAD_INPUT, NULL,
                      "the time window starts at %lld ns, at or after the end of the run (%lld ns)",
                      (long long)opts->from, (long long)makespan);
        else
            error_set(err, STATUS_BAD_INPUT, NULL,
                      "the time window [%lld, %lld] ns is empty: 'from' must be >= 0 and before 'to'",
                      (long long)opts->from, (long long)to);
        return NULL;
    }

    struct layout *lay = recycle(old);
    struct builder b = { .opts = opts, .pal = layout_palette(opts->theme), .lay = lay };
    struct source srcs[2];
    memset(srcs, 0, sizeof srcs);
    lay->view = opts->view;
    lay->theme = opts->theme;
    lay->width = opts->width;
    lay->from = opts->from;
    lay->to = to;
    /* Text grows with the picture, so a 1920-pixel slide has 16-pixel text. */
    lay->font_px = opts->width / 120;
    lay->font_px = lay->font_px < LAYOUT_FONT_PX ? LAYOUT_FONT_PX : lay->font_px;
    lay->font_px = lay->font_px > LAYOUT_MAX_FONT_PX ? LAYOUT_MAX_FONT_PX : lay->font_px;
    lay->title_px = px(lay, 15);
    lay->title = make_title(traces[0], ntraces > 1 ? traces[1] : NULL);
    lay->title_y = px(lay, LAYOUT_TITLE_Y);
    lay->description = make_description(lay, traces[0]->description);
    lay->description_y = px(lay, LAYOUT_TITLE_Y + LAYOUT_DESC_H);
    if (ntraces > 1)
        lay->sections = xcalloc(ntraces, sizeof *lay->sections);

    for (size_t k = 0; k < ntraces; k++) {
        srcs[k].tr = traces[k];
        srcs[k].section = (uint32_t)k;
        if (ntraces > 1) {
            add_section(lay, traces[k]);
            lay->sections[k].first_lane = lay->nlanes;
        }
        if (k > 0)
            srcs[k].match = match_tasks(traces[k], traces[0]);
        make_lanes(&b, &srcs[k], k > 0 && lay->view == LAYOUT_VIEW_THREADS ? &srcs[0] : NULL);
        make_owner_lanes(&b, &srcs[k]);
        if (ntraces > 1)
            lay->sections[k].nlanes = lay->nlanes - lay->sections[k].first_lane;
        srcs[k].order = instant_order(traces[k]);
    }

    size_t maxlen = 0;
    for (size_t l = 0; l < lay->nlanes; l++) {
        size_t n = strlen(lay->lanes[l].label);
        maxlen = n > maxlen ? n : maxlen;
    }
    int label_w = px(lay, LAYOUT_CHAR_W) * (int)maxlen + 2 * px(lay, LAYOUT_PAD);
    label_w = label_w < px(lay, LAYOUT_MIN_LABEL_W) ? px(lay, LAYOUT_MIN_LABEL_W) : label_w;
    label_w = label_w > lay->width / 3 ? lay->width / 3 : label_w;
    lay->plot_x0 = label_w;
    /* The right margin leaves room for half of the last tick's label. */
    lay->plot_x1 = lay->width - px(lay, LAYOUT_RIGHT_MARGIN);
    b.scale = (double)(lay->plot_x1 - lay->plot_x0) / (double)(to - lay->from);

    b.first_ntasks = traces[0]->ntasks;
    for (size_t k = 0; k < ntraces; k++) {
        b.tr = traces[k];
        b.match = srcs[k].match;
        make_markers(&b, &srcs[k]);
        lay_rects(&b, &srcs[k]);
        size_t owners_from = lay->nrects;
        lay_owners(&b, &srcs[k]);
        if (lay->nrects > owners_from)
            qsort(lay->rects + owners_from, lay->nrects - owners_from, sizeof *lay->rects,
                  cmp_rect_lane);
        make_arrows(&b, &srcs[k]);
    }
    free(b.pair_last);
    thin_arrows(lay);
    if (lay->view == LAYOUT_VIEW_THREADS && !opts->no_arrows)
        for (int k = 0; k < LAYOUT_ARROW_KIND_COUNT; k++)
            lay->arrow_pairs[k] += opts->arrows_left_out[k];
    make_legend(&b, traces[0]);
    int legend_rows = place_legend(lay);

    int title_h = px(lay, LAYOUT_TITLE_H + (lay->description ? LAYOUT_DESC_H : 0));
    int section_h = (int)lay->nsections * px(lay, LAYOUT_SECTION_H) +
                    (lay->nsections > 1 ? (int)(lay->nsections - 1) * px(lay, LAYOUT_PAD) : 0);
    lay->lanes_y0 = title_h;
    int fixed = title_h + section_h + (int)lay->ngroups * px(lay, LAYOUT_HEADER_H) +
                px(lay, LAYOUT_AXIS_H) + legend_rows * px(lay, LAYOUT_LEGEND_ROW_H) +
                2 * px(lay, LAYOUT_PAD);
    lay->row_h = px(lay, LAYOUT_ROW_H);
    if (opts->height > 0 && lay->nlanes > 0) {
        int avail = (opts->height - fixed) / (int)lay->nlanes;
        lay->row_h = avail < LAYOUT_MIN_ROW_H ? LAYOUT_MIN_ROW_H : avail;
    }
    place_rows(lay);
    lay->axis_y = lay->lanes_y1 + 2;
    lay->legend_y0 = lay->axis_y + px(lay, LAYOUT_AXIS_H);
    for (size_t i = 0; i < lay->nlegend; i++)
        lay->legend[i].y = lay->legend_y0 + lay->legend[i].y * px(lay, LAYOUT_LEGEND_ROW_H);
    int needed = lay->legend_y0 + legend_rows * px(lay, LAYOUT_LEGEND_ROW_H) + px(lay, LAYOUT_PAD);
    lay->height = opts->height > needed ? opts->height : needed;
    lay->fixed_h = needed - (int)lay->nlanes * lay->row_h;
    for (size_t i = 0; i < lay->narrows; i++) {
        struct layout_arrow *a = &lay->arrows[i];
        a->y0 = lay->lanes[a->from_lane].y + lay->lanes[a->from_lane].h / 2;
        a->y1 = lay->lanes[a->to_lane].y + lay->lanes[a->to_lane].h / 2;
    }
    for (size_t i = 0; i < lay->nmarkers; i++) {
        struct layout_marker *m = &lay->markers[i];
        bool sectioned = m->section < lay->nsections;
        m->y0 = sectioned ? lay->sections[m->section].lanes_y0 : lay->lanes_y0;
        m->y1 = sectioned ? lay->sections[m->section].lanes_y1 : lay->axis_y;
    }
    make_ticks(&b);
    for (size_t k = 0; k < ntraces; k++)
        free_source(&srcs[k]);
    return lay;
}

struct layout *layout_create(const struct trace *tr, const struct layout_options *opts,
                             struct error *err)
{
    const struct trace *traces[1] = { tr };
    return build(traces, 1, opts, NULL, err);
}

struct layout *layout_create_compare(const struct trace *first, const struct trace *second,
                                     const struct layout_options *opts, struct error *err)
{
    const struct trace *traces[2] = { first, second };
    return build(traces, second ? 2 : 1, opts, NULL, err);
}

struct layout *layout_update(struct layout *old, const struct trace *tr,
                             const struct trace *second, const struct layout_options *opts,
                             struct error *err)
{
    const struct trace *traces[2] = { tr, second };
    return build(traces, second ? 2 : 1, opts, old, err);
}

void layout_destroy(struct layout *lay)
{
    if (!lay)
        return;
    for (size_t i = 0; i < lay->nlanes; i++)
        free(lay->lanes[i].label);
    for (size_t i = 0; i < lay->ngroups; i++)
        free(lay->groups[i].label);
    free(lay->lanes);
    free(lay->groups);
    free(lay->rects);
    free(lay->ticks);
    free(lay->legend);
    free(lay->markers);
    free(lay->arrows);
    free(lay->sections);
    free(lay->description);
    free(lay->title);
    free(lay);
}
