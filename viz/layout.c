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
        },
        .task = { 0x0072B2, 0xE69F00, 0x009E73, 0xCC79A7, 0x56B4E9,
                  0xD55E00, 0xF0E442, 0x332288, 0x882255, 0x44AA99 },
    },
    [LAYOUT_THEME_DARK] = {
        .background = 0x1E1E1E, .text = 0xEEEEEE, .muted_text = 0xAAAAAA,
        .grid = 0x3A3A3A, .lane_alt = 0x262626, .header = 0x333333,
        .marker = 0xFFFFFF, .deadlock = 0xFF5050,
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
};

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

struct order_item {
    int64_t start;
    size_t seg;
};

struct builder {
    const struct trace *tr;
    const struct layout_palette *pal;
    struct layout *lay;
    size_t rects_cap;
    double scale;                       /* pixels per ns */
};

static double time_x(const struct builder *b, int64_t t)
{
    return b->lay->plot_x0 + (double)(t - b->lay->from) * b->scale;
}

static uint32_t rect_color(const struct builder *b, enum layout_key key, uint32_t task)
{
    if (b->lay->view == LAYOUT_VIEW_CPUS && key == LAYOUT_KEY_RUNNING)
        return b->pal->task[task % LAYOUT_TASK_COLORS];
    return b->pal->key[key];
}

static void emit_rect(struct builder *b, uint32_t lane, int x0, int x1, size_t seg, uint32_t merged)
{
    struct layout *lay = b->lay;
    const struct trace_segment *s = &b->tr->segments[seg];
    enum layout_key key = layout_key_of((enum trace_state)s->state, (enum trace_reason)s->reason);
    lay->rects = xgrow(lay->rects, &b->rects_cap, lay->nrects + 1, sizeof *lay->rects);
    lay->rects[lay->nrects++] = (struct layout_rect){
        .lane = lane, .x0 = x0, .x1 = x1,
        .state = s->state, .reason = s->reason, .key = (uint8_t)key,
        .task = s->task, .color = rect_color(b, key, s->task),
        .segment = seg, .merged = merged,
    };
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
    if ((double)covered * b->scale >= 0.5)
        emit_rect(b, acc->lane, acc->col, acc->col + 1, acc->best_seg[best], acc->n);
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (acc->used >> k & 1u) {
            acc->dur[k] = 0;
            acc->best_dur[k] = 0;
        }
    acc->used = 0;
    acc->n = 0;
    acc->active = false;
}

/* Lays out one lane's segments, sorted by start. */
static void lay_lane(struct builder *b, uint32_t lane, const struct order_item *items, size_t n)
{
    struct layout *lay = b->lay;
    struct column_acc acc;
    memset(&acc, 0, sizeof acc);
    for (size_t i = 0; i < n; i++) {
        size_t si = items[i].seg;
        const struct trace_segment *s = &b->tr->segments[si];
        int64_t t0 = s->start > lay->from ? s->start : lay->from;
        int64_t t1 = s->end < lay->to ? s->end : lay->to;
        if (t1 <= t0)
            continue;
        double fx0 = time_x(b, t0), fx1 = time_x(b, t1);
        /* The slack keeps a boundary that lands on a column edge, up to
         * rounding of the scale, from spilling into the next column. */
        int c0 = (int)floor(fx0 + LAYOUT_EDGE_SLACK);
        int c1 = (int)ceil(fx1 - LAYOUT_EDGE_SLACK);
        if (c1 - c0 <= 1) {
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
        int x0 = (int)lround(fx0), x1 = (int)lround(fx1);
        if (x1 <= x0)
            x1 = x0 + 1;
        emit_rect(b, lane, x0, x1, si, 1);
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

/* Buckets the segments by lane (a counting sort, so O(segments)), sorts a
 * lane only when its segments are out of order, and lays out each lane. */
static void lay_rects(struct builder *b, const uint32_t *lane_of_task)
{
    const struct trace *tr = b->tr;
    struct layout *lay = b->lay;
    size_t nl = lay->nlanes;
    size_t *first = xcalloc(nl + 1, sizeof *first);
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        uint32_t lane;
        if (lay->view == LAYOUT_VIEW_THREADS)
            lane = s->task < tr->ntasks ? lane_of_task[s->task] : UINT32_MAX;
        else
            lane = s->cpu >= 0 && (size_t)s->cpu < nl ? (uint32_t)s->cpu : UINT32_MAX;
        if (lane != UINT32_MAX)
            first[lane + 1]++;
    }
    for (size_t l = 0; l < nl; l++)
        first[l + 1] += first[l];
    size_t total = first[nl];
    struct order_item *items = xmalloc((total ? total : 1) * sizeof *items);
    size_t *fill = xmalloc((nl ? nl : 1) * sizeof *fill);
    memcpy(fill, first, nl * sizeof *fill);
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        uint32_t lane;
        if (lay->view == LAYOUT_VIEW_THREADS)
            lane = s->task < tr->ntasks ? lane_of_task[s->task] : UINT32_MAX;
        else
            lane = s->cpu >= 0 && (size_t)s->cpu < nl ? (uint32_t)s->cpu : UINT32_MAX;
        if (lane != UINT32_MAX)
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
        lay_lane(b, (uint32_t)l, it, n);
    }
    free(fill);
    free(items);
    free(first);
}

static char *format_label(const char *fmt, const char *a, const char *b)
{
    int n = snprintf(NULL, 0, fmt, a, b);
    char *s = xmalloc((size_t)n + 1);
    snprintf(s, (size_t)n + 1, fmt, a, b);
    return s;
}

static const char *task_process_name(const struct trace *tr, uint32_t task)
{
    uint32_t p = tr->tasks[task].process;
    return p < tr->nprocesses && tr->processes[p] ? tr->processes[p] : "?";
}

/* Makes the lanes (rows not placed yet) and, for threads, the task-to-lane
 * map and the process groups. */
static uint32_t *make_lanes(struct builder *b)
{
    const struct trace *tr = b->tr;
    struct layout *lay = b->lay;
    if (lay->view == LAYOUT_VIEW_CPUS) {
        uint32_t ncpu = tr->cpus;
        for (size_t i = 0; i < tr->nsegments; i++)
            if (tr->segments[i].cpu >= 0 && (uint32_t)tr->segments[i].cpu >= ncpu)
                ncpu = (uint32_t)tr->segments[i].cpu + 1;
        lay->nlanes = ncpu;
        lay->lanes = xcalloc(ncpu ? ncpu : 1, sizeof *lay->lanes);
        for (uint32_t c = 0; c < ncpu; c++) {
            char name[32];
            snprintf(name, sizeof name, "CPU %u", c);
            lay->lanes[c].label = xstrdup(name);
            lay->lanes[c].index = c;
        }
        return NULL;
    }
    uint32_t nt = tr->ntasks, np = tr->nprocesses;
    uint32_t *lane_of_task = xmalloc((nt ? nt : 1) * sizeof *lane_of_task);
    /* Tasks of one process are listed together, in task order; tasks with an
     * unknown process go last, under no header. */
    size_t *count = xcalloc((size_t)np + 2, sizeof *count);
    for (uint32_t t = 0; t < nt; t++) {
        uint32_t p = tr->tasks[t].process < np ? tr->tasks[t].process : np;
        count[p + 1]++;
    }
    for (uint32_t p = 0; p <= np; p++)
        count[p + 1] += count[p];
    lay->nlanes = nt;
    lay->lanes = xcalloc(nt ? nt : 1, sizeof *lay->lanes);
    lay->groups = xcalloc(np ? np : 1, sizeof *lay->groups);
    for (uint32_t p = 0; p < np; p++)
        if (count[p + 1] > count[p]) {
            struct layout_group *g = &lay->groups[lay->ngroups++];
            g->label = xstrdup(tr->processes[p] ? tr->processes[p] : "?");
            g->process = p;
            g->first_lane = count[p];
            g->nlanes = count[p + 1] - count[p];
        }
    for (uint32_t t = 0; t < nt; t++) {
        uint32_t p = tr->tasks[t].process < np ? tr->tasks[t].process : np;
        size_t l = count[p]++;
        lane_of_task[t] = (uint32_t)l;
        lay->lanes[l].label = format_label("%s / %s", task_process_name(tr, t),
                                           tr->tasks[t].name ? tr->tasks[t].name : "?");
        lay->lanes[l].index = t;
    }
    free(count);
    return lane_of_task;
}

/* Gives the rows their y: a header row above each process's lanes. */
static void place_rows(struct layout *lay)
{
    int y = lay->lanes_y0;
    size_t g = 0;
    for (size_t l = 0; l < lay->nlanes; l++) {
        if (g < lay->ngroups && lay->groups[g].first_lane == l) {
            lay->groups[g].y = y;
            lay->groups[g].h = LAYOUT_HEADER_H;
            y += LAYOUT_HEADER_H;
            g++;
        }
        lay->lanes[l].y = y;
        lay->lanes[l].h = lay->row_h;
        y += lay->row_h;
    }
    lay->lanes_y1 = y;
}

static void add_legend(struct layout *lay, size_t *cap, const char *label, uint32_t color)
{
    lay->legend = xgrow(lay->legend, cap, lay->nlegend + 1, sizeof *lay->legend);
    struct layout_legend_item *it = &lay->legend[lay->nlegend++];
    memset(it, 0, sizeof *it);
    snprintf(it->label, sizeof it->label, "%s", label);
    it->color = color;
}

static void make_legend(struct builder *b)
{
    struct layout *lay = b->lay;
    const struct trace *tr = b->tr;
    size_t cap = 0;
    bool key_seen[LAYOUT_KEY_COUNT] = { false };
    for (size_t i = 0; i < lay->nrects; i++)
        key_seen[lay->rects[i].key] = true;
    if (lay->view == LAYOUT_VIEW_CPUS && tr->ntasks > 0) {
        bool *task_seen = xcalloc(tr->ntasks, sizeof *task_seen);
        size_t shown = 0;
        for (size_t i = 0; i < lay->nrects; i++)
            if (lay->rects[i].key == LAYOUT_KEY_RUNNING && lay->rects[i].task < tr->ntasks)
                task_seen[lay->rects[i].task] = true;
        for (uint32_t t = 0; t < tr->ntasks && shown < LAYOUT_MAX_LEGEND_TASKS; t++)
            if (task_seen[t]) {
                char label[64];
                snprintf(label, sizeof label, "%s / %s", task_process_name(tr, t),
                         tr->tasks[t].name ? tr->tasks[t].name : "?");
                add_legend(lay, &cap, label, b->pal->task[t % LAYOUT_TASK_COLORS]);
                shown++;
            }
        free(task_seen);
        key_seen[LAYOUT_KEY_RUNNING] = false;
    }
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (key_seen[k])
            add_legend(lay, &cap, layout_key_name((enum layout_key)k), b->pal->key[k]);
    bool print = false, deadlock = false;
    for (size_t i = 0; i < lay->nmarkers; i++) {
        print |= lay->markers[i].kind == LAYOUT_MARKER_PRINT;
        deadlock |= lay->markers[i].kind == LAYOUT_MARKER_DEADLOCK;
    }
    if (print)
        add_legend(lay, &cap, "printed line", b->pal->marker);
    if (deadlock)
        add_legend(lay, &cap, "deadlock", b->pal->deadlock);
}

/* Places the legend items in rows from the left margin; returns the rows. */
static int place_legend(struct layout *lay)
{
    int x = LAYOUT_PAD, row = 0;
    for (size_t i = 0; i < lay->nlegend; i++) {
        int w = LAYOUT_SWATCH + 6 + LAYOUT_CHAR_W * (int)strlen(lay->legend[i].label) + 18;
        if (x > LAYOUT_PAD && x + w > lay->width - LAYOUT_PAD) {
            x = LAYOUT_PAD;
            row++;
        }
        lay->legend[i].x = x;
        lay->legend[i].y = row;
        x += w;
    }
    return lay->nlegend ? row + 1 : 0;
}

static void make_markers(struct builder *b, const uint32_t *lane_of_task)
{
    struct layout *lay = b->lay;
    const struct trace *tr = b->tr;
    size_t cap = 0;
    for (size_t i = 0; i < tr->ninstants; i++) {
        const struct trace_instant *ev = &tr->instants[i];
        if (ev->time < lay->from || ev->time > lay->to)
            continue;
        struct layout_marker m = { .x = (int)lround(time_x(b, ev->time)), .instant = i,
                                   .text = trace_string(tr, ev->text) };
        if (ev->kind == INSTANT_DEADLOCK) {
            m.kind = LAYOUT_MARKER_DEADLOCK;
            m.lane = -1;
        } else if (ev->kind == INSTANT_PRINT && lane_of_task && ev->task < tr->ntasks) {
            m.kind = LAYOUT_MARKER_PRINT;
            m.lane = (int32_t)lane_of_task[ev->task];
        } else {
            continue;
        }
        lay->markers = xgrow(lay->markers, &cap, lay->nmarkers + 1, sizeof *lay->markers);
        lay->markers[lay->nmarkers++] = m;
    }
}

static void make_ticks(struct builder *b)
{
    struct layout *lay = b->lay;
    int plot_w = lay->plot_x1 - lay->plot_x0;
    int max_ticks = plot_w / LAYOUT_TICK_SPACING;
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

static char *make_title(const struct trace *tr)
{
    const char *src = tr->source && strcmp(tr->source, "real") == 0 ? "real run" : "simulated";
    const char *name = tr->scenario ? tr->scenario : "";
    const char *policy = tr->policy ? tr->policy : "?";
    int n = snprintf(NULL, 0, "%s \xE2\x80\x94 %s, %u CPU%s, %s", name, policy, tr->cpus,
                     tr->cpus == 1 ? "" : "s", src);
    char *s = xmalloc((size_t)n + 1);
    snprintf(s, (size_t)n + 1, "%s \xE2\x80\x94 %s, %u CPU%s, %s", name, policy, tr->cpus,
             tr->cpus == 1 ? "" : "s", src);
    return s;
}

struct layout *layout_create(const struct trace *tr, const struct layout_options *opts,
                             struct error *err)
{
    if (opts->width < LAYOUT_MIN_WIDTH || opts->width > LAYOUT_MAX_SIZE) {
        error_set(err, STATUS_BAD_INPUT, NULL, "the width must be %d to %d pixels, got %d",
                  LAYOUT_MIN_WIDTH, LAYOUT_MAX_SIZE, opts->width);
        return NULL;
    }
    if (opts->height < 0 || opts->height > LAYOUT_MAX_SIZE) {
        error_set(err, STATUS_BAD_INPUT, NULL, "the height must be 0 (fit) to %d pixels, got %d",
                  LAYOUT_MAX_SIZE, opts->height);
        return NULL;
    }
    int64_t to = opts->to > 0 ? opts->to : tr->makespan;
    if (opts->from < 0 || to <= opts->from) {
        if (opts->to <= 0 && tr->makespan <= opts->from)
            error_set(err, STATUS_BAD_INPUT, NULL,
                      "the time window starts at %lld ns, at or after the end of the run (%lld ns)",
                      (long long)opts->from, (long long)tr->makespan);
        else
            error_set(err, STATUS_BAD_INPUT, NULL,
                      "the time window [%lld, %lld] ns is empty: 'from' must be >= 0 and before 'to'",
                      (long long)opts->from, (long long)to);
        return NULL;
    }

    struct layout *lay = xcalloc(1, sizeof *lay);
    struct builder b = { .tr = tr, .pal = layout_palette(opts->theme), .lay = lay };
    lay->view = opts->view;
    lay->theme = opts->theme;
    lay->width = opts->width;
    lay->from = opts->from;
    lay->to = to;
    lay->title = make_title(tr);
    lay->title_y = 22;
    lay->font_px = LAYOUT_FONT_PX;

    uint32_t *lane_of_task = make_lanes(&b);
    size_t maxlen = 0;
    for (size_t l = 0; l < lay->nlanes; l++) {
        size_t n = strlen(lay->lanes[l].label);
        maxlen = n > maxlen ? n : maxlen;
    }
    int label_w = LAYOUT_CHAR_W * (int)maxlen + 2 * LAYOUT_PAD;
    label_w = label_w < 80 ? 80 : label_w;
    label_w = label_w > lay->width / 3 ? lay->width / 3 : label_w;
    lay->plot_x0 = label_w;
    /* The right margin leaves room for half of the last tick's label. */
    lay->plot_x1 = lay->width - LAYOUT_RIGHT_MARGIN;
    b.scale = (double)(lay->plot_x1 - lay->plot_x0) / (double)(to - lay->from);

    make_markers(&b, lane_of_task);
    lay_rects(&b, lane_of_task);
    make_legend(&b);
    int legend_rows = place_legend(lay);

    lay->lanes_y0 = LAYOUT_TITLE_H;
    int fixed = LAYOUT_TITLE_H + (int)lay->ngroups * LAYOUT_HEADER_H + LAYOUT_AXIS_H +
                legend_rows * LAYOUT_LEGEND_ROW_H + 2 * LAYOUT_PAD;
    lay->row_h = LAYOUT_ROW_H;
    if (opts->height > 0 && lay->nlanes > 0) {
        int avail = (opts->height - fixed) / (int)lay->nlanes;
        lay->row_h = avail < LAYOUT_MIN_ROW_H ? LAYOUT_MIN_ROW_H : avail;
    }
    place_rows(lay);
    lay->axis_y = lay->lanes_y1 + 2;
    lay->legend_y0 = lay->axis_y + LAYOUT_AXIS_H;
    for (size_t i = 0; i < lay->nlegend; i++)
        lay->legend[i].y = lay->legend_y0 + lay->legend[i].y * LAYOUT_LEGEND_ROW_H;
    int needed = lay->legend_y0 + legend_rows * LAYOUT_LEGEND_ROW_H + LAYOUT_PAD;
    lay->height = opts->height > needed ? opts->height : needed;
    make_ticks(&b);
    free(lane_of_task);
    return lay;
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
    free(lay->title);
    free(lay);
}
