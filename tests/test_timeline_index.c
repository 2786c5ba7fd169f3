/* Unit tests of the timeline index: the window of a trace the viewer lays out
 * holds the segments it shows, stays small at any zoom, and draws the same
 * picture as the whole trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace_fixture.h"
#include "viz/layout.h"
#include "viz/timeline_index.h"

#define NTASKS 4
#define PER_TASK 20000

/* Four threads, each on its own CPU, in phases of 300 segments of 2 to 20 us (a few
 * columns of the whole picture): in each phase one state (running, ready or
 * sleeping) takes two segments in three, the others share the rest. */
static struct trace *busy_trace(void)
{
    struct trace *tr = trace_create("busy", NULL, "sim", "rr", NTASKS, 0);
    uint32_t p = trace_add_process(tr, "P");
    for (int k = 0; k < NTASKS; k++) {
        char name[8];
        snprintf(name, sizeof name, "t%d", k);
        trace_add_task(tr, name, p);
    }
    uint32_t seed = 7;
    int64_t end = 0;
    for (uint32_t k = 0; k < NTASKS; k++) {
        int64_t t = 0;
        for (int i = 0; i < PER_TASK; i++) {
            seed = seed * 1103515245u + 12345u;
            int64_t d = 2000 + (seed >> 8) % 18000;
            int phase = (i / 300 + (int)k) % 3, pick = (int)(seed >> 20) % 3 ? phase : i % 3;
            enum trace_state st = pick == 0 ? TRACE_RUNNING : pick == 1 ? TRACE_READY : TRACE_BLOCKED;
            add_seg(tr, k, st == TRACE_RUNNING ? (int32_t)k : -1, st,
                    st == TRACE_BLOCKED ? REASON_SLEEP : REASON_NONE, t, t + d);
            t += d;
        }
        end = t > end ? t : end;
    }
    tr->makespan = end;
    return tr;
}

static struct layout *lay(const struct trace *tr, int64_t from, int64_t to)
{
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = 1112; /* a 1000-pixel plot */
    o.from = from;
    o.to = to;
    struct layout *l = layout_create(tr, &o, &err);
    assert_non_null(l);
    return l;
}

/* The key of each (lane, column): 0xFF where nothing is drawn. */
static uint8_t *columns(const struct layout *l)
{
    size_t w = (size_t)l->width;
    uint8_t *c = malloc(l->nlanes * w);
    memset(c, 0xFF, l->nlanes * w);
    for (size_t i = 0; i < l->nrects; i++)
        for (int x = l->rects[i].x0; x < l->rects[i].x1; x++)
            if (x >= 0 && x < l->width)
                c[l->rects[i].lane * w + (size_t)x] = l->rects[i].key;
    return c;
}

static void timeline_index_window_should_hold_exactly_the_visible_segments_when_zoomed_in(void **state)
{
    (void)state;
    struct trace *tr = busy_trace();
    struct timeline_index *ix = timeline_index_create(tr, LAYOUT_VIEW_THREADS);
    int64_t from = tr->makespan / 2, to = from + 200000; /* 200 us: 10 to 100 segments a lane */
    const struct trace *win = timeline_index_window(ix, from, to, 1000);
    size_t expected = 0;
    for (size_t i = 0; i < tr->nsegments; i++)
        expected += tr->segments[i].end > from && tr->segments[i].start < to;
    assert_int_equal(win->nsegments, expected);
    for (size_t i = 0; i < win->nsegments; i++) {
        assert_true(win->segments[i].end > from);
        assert_true(win->segments[i].start < to);
    }
    assert_int_equal(win->ntasks, tr->ntasks);
    timeline_index_destroy(ix);
    trace_destroy(tr);
}

static void timeline_index_window_should_stay_small_and_draw_the_same_picture(void **state)
{
    (void)state;
    struct trace *tr = busy_trace();
    for (int view = LAYOUT_VIEW_THREADS; view <= LAYOUT_VIEW_CPUS; view++) {
        struct timeline_index *ix = timeline_index_create(tr, (enum layout_view)view);
        struct layout_options o;
        layout_options_init(&o);
        const struct trace *win = timeline_index_window(ix, 0, tr->makespan, 1000);
        /* 80,000 segments in; out at most about 16 a column a lane, and far
         * fewer when the segments are much shorter than a column. */
        assert_true(win->nsegments <= 16 * 1000 * NTASKS);
        assert_true(win->nsegments * 2 < tr->nsegments);

        struct layout *whole = lay(tr, 0, tr->makespan);
        struct layout *part = lay(win, 0, tr->makespan);
        if (view == LAYOUT_VIEW_CPUS) {
            layout_destroy(whole);
            layout_destroy(part);
            o.view = LAYOUT_VIEW_CPUS;
            o.width = 1112;
            struct error err;
            whole = layout_create(tr, &o, &err);
            part = layout_create(win, &o, &err);
        }
        assert_int_equal(whole->nlanes, part->nlanes);
        uint8_t *a = columns(whole), *b = columns(part);
        size_t n = 0, same = 0, w = (size_t)whole->width;
        for (size_t l = 0; l < whole->nlanes; l++)
            for (int x = whole->plot_x0; x < whole->plot_x1; x++, n++)
                same += a[l * w + (size_t)x] == b[l * w + (size_t)x];
        /* Summaries move part of a bucket across a column edge now and then. */
        assert_true(same * 100 >= n * 95);
        free(a);
        free(b);
        layout_destroy(whole);
        layout_destroy(part);
        timeline_index_destroy(ix);
    }
    trace_destroy(tr);
}

static void timeline_index_window_px_should_draw_exactly_what_the_window_draws(void **state)
{
    (void)state;
    struct trace *tr = busy_trace();
    int64_t spans[] = { tr->makespan, tr->makespan / 10, tr->makespan / 300 };
    for (int view = LAYOUT_VIEW_THREADS; view <= LAYOUT_VIEW_CPUS; view++) {
        struct timeline_index *ix = timeline_index_create(tr, (enum layout_view)view);
        for (size_t z = 0; z < sizeof spans / sizeof spans[0]; z++) {
            struct layout_options o;
            struct error err;
            layout_options_init(&o);
            o.view = (enum layout_view)view;
            o.width = 1112;
            o.from = (tr->makespan - spans[z]) / 3;
            o.to = o.from + spans[z];
            const struct trace *win = timeline_index_window(ix, o.from, o.to, 1000);
            size_t before = win->nsegments;
            struct layout *full = layout_create(win, &o, &err);
            assert_non_null(full);
            const struct trace *cut =
                timeline_index_window_px(ix, o.from, o.to, full->plot_x0, full->plot_x1);
            /* per lane, at most a summary a column and the segments longer than one */
            assert_true(cut->nsegments <= before);
            if (z == 0)
                assert_true(cut->nsegments <= 2 * 1000 * (size_t)full->nlanes);
            struct layout *part = layout_create(cut, &o, &err);
            assert_non_null(part);
            assert_int_equal(part->plot_x0, full->plot_x0);
            uint8_t *a = columns(full), *b = columns(part);
            size_t n = full->nlanes * (size_t)full->width;
            assert_memory_equal(a, b, n);
            free(a);
            free(b);
            layout_destroy(full);
            layout_destroy(part);
        }
        timeline_index_destroy(ix);
    }
    trace_destroy(tr);
}

static void timeline_index_find_should_give_the_segment_under_a_time(void **state)
{
    (void)state;
    struct trace *tr = trace_create("t", NULL, "sim", "fifo", 1, 0);
    uint32_t p = trace_add_process(tr, "P");
    trace_add_task(tr, "a", p);
    trace_add_task(tr, "b", p);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 10);
    add_seg(tr, 1, -1, TRACE_READY, REASON_NONE, 0, 10);
    add_seg(tr, 1, 0, TRACE_RUNNING, REASON_NONE, 10, 30);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_IO, 20, 40);
    tr->makespan = 40;
    struct timeline_index *ix = timeline_index_create(tr, LAYOUT_VIEW_THREADS);
    const struct trace_segment *s = timeline_index_find(ix, 0, 25);
    assert_non_null(s);
    assert_int_equal(s->reason, REASON_IO);
    assert_null(timeline_index_find(ix, 0, 15)); /* a gap */
    s = timeline_index_find(ix, 1, 10);
    assert_int_equal(s->state, TRACE_RUNNING);
    assert_null(timeline_index_find(ix, 7, 10));
    timeline_index_destroy(ix);
    ix = timeline_index_create(tr, LAYOUT_VIEW_CPUS);
    s = timeline_index_find(ix, 0, 12);
    assert_int_equal(s->task, 1);
    timeline_index_destroy(ix);
    trace_destroy(tr);
}


/* Three threads of one process taking turns of 20 to 60 us under its GIL,
 * each turn's end a GIL hand-over; lock L handed from holder to holder every
 * 50 turns, held for 42; rlock R taken twice and held for 150 turns; lock M
 * held from turn 100 to turn 3700; queue Q with a value put at turn 10 and
 * got at turn 3000, another put at 2000 and got at 2600; a print every 37
 * turns. 8,000 instants and more: a window late in the run needs history
 * from far before it. */
#define TURNS 4000
static struct trace *handover_trace(void)
{
    struct trace *tr = trace_create("handovers", NULL, "sim", "rr", 1, 0);
    uint32_t p = trace_add_process(tr, "P");
    for (int k = 0; k < 3; k++)
        trace_add_task(tr, k == 0 ? "A" : k == 1 ? "B" : "C", p);
    uint32_t L = trace_add_object(tr, "L", "lock", (int32_t)p);
    uint32_t R = trace_add_object(tr, "R", "rlock", (int32_t)p);
    uint32_t M = trace_add_object(tr, "M", "lock", (int32_t)p);
    uint32_t Q = trace_add_object(tr, "Q", "queue", (int32_t)p);
    uint32_t seed = 3, flow = 4, l_flow = 0;
    int64_t t = 0, last_end[3] = { 0 };
    for (int i = 0; i < TURNS; i++) {
        uint32_t k = (uint32_t)(i % 3);
        seed = seed * 1103515245u + 12345u;
        int64_t d = 20000 + (seed >> 8) % 40000;
        if (t > last_end[k])
            add_seg(tr, k, -1, TRACE_BLOCKED, REASON_GIL, last_end[k], t);
        add_seg(tr, k, 0, TRACE_RUNNING, REASON_NONE, t, t + d);
        add_inst(tr, t, k, INSTANT_GIL_TAKE, UINT32_MAX, p, 0);
        if (i % 50 == 0)
            add_inst(tr, t + 1000, k, INSTANT_ACQUIRE, L, 0, l_flow);
        if (i % 200 == 0) {
            add_inst(tr, t + 1000, k, INSTANT_ACQUIRE, R, 0, 0);
            add_inst(tr, t + 1500, k, INSTANT_ACQUIRE, R, 0, 0);
        }
        if (i == 100)
            add_inst(tr, t + 1000, k, INSTANT_ACQUIRE, M, 0, 0);
        if (i % 50 == 42) {
            /* ids step by 200: a late window's ids span more than a table
             * of its flow events would (the layout hashes them) */
            l_flow = flow;
            flow += 200;
            add_inst(tr, t + 2000, k, INSTANT_RELEASE, L, -1, l_flow);
        }
        if (i % 200 == 150)
            add_inst(tr, t + 2000, k, INSTANT_RELEASE, R, -1, 0);
        if (i == 3700)
            add_inst(tr, t + 2000, k, INSTANT_RELEASE, M, -1, 0);
        if (i == 10 || i == 2000)
            add_inst(tr, t + 3000, k, INSTANT_PUT, Q, i, i == 10 ? 2 : 3);
        if (i == 3000 || i == 2600)
            add_inst(tr, t + 3000, k, INSTANT_GET, Q, 0, i == 3000 ? 2 : 3);
        if (i % 37 == 0) {
            struct trace_instant ev = { .time = t + 4000, .task = k, .kind = INSTANT_PRINT,
                                        .obj = UINT32_MAX };
            trace_instant_add(tr, &ev, "tick");
        }
        add_inst(tr, t + d, k, INSTANT_GIL_DROP, UINT32_MAX, p, 1);
        t += d;
        last_end[k] = t;
    }
    tr->makespan = t;
    return tr;
}

/* The fast path's layout (fast, of the index's last window) shows what the
 * whole trace's layout (full) shows: the same rectangles (only in the owner
 * lanes with owners_only), arrows and markers, instants told by their index
 * in the trace. */
/* lane's rectangle over column x, or NULL. */
static const struct layout_rect *column_rect(const struct layout *lay, uint32_t lane, int x)
{
    for (size_t i = 0; i < lay->nrects; i++)
        if (lay->rects[i].lane == lane && lay->rects[i].x0 <= x && x < lay->rects[i].x1)
            return &lay->rects[i];
    return NULL;
}

/* Owner lanes made from summarised holder times (the window's instants are
 * a level of detail: too many a column): the lanes are held in the same
 * columns; a column the whole trace gives to one holder (a time held over
 * more than a column) shows it; a column where the holder flips faster
 * than a pixel is a summary whose holder, the one that held most of a time
 * bucket rather than of the column, is one of those the whole trace shows
 * next to it. */
static void assert_same_owner_columns(const struct layout *full, const struct layout *fast)
{
    for (uint32_t l = 0; l < full->nlanes; l++) {
        if (full->lanes[l].kind < LAYOUT_LANE_GIL)
            continue;
        int cols = 0, presence = 0, whole = 0, whole_same = 0, summaries = 0, summaries_near = 0;
        for (int x = full->plot_x0; x < full->plot_x1; x++) {
            const struct layout_rect *a = column_rect(full, l, x), *b = column_rect(fast, l, x);
            cols++;
            presence += (a == NULL) == (b == NULL);
            if (!a || !b)
                continue;
            if (a->merged == 1 && a->x1 - a->x0 > 2) {
                whole++;
                whole_same += a->color == b->color;
                continue;
            }
            bool near = false;
            for (int d = -2; d <= 2 && !near; d++) {
                const struct layout_rect *c = column_rect(full, l, x + d);
                near = c && c->color == b->color;
            }
            summaries++;
            summaries_near += near;
        }
        assert_true(presence * 100 >= cols * 99);
        assert_true(summaries_near * 100 >= summaries * 95);
        assert_true(whole_same * 100 >= whole * 99);
    }
}

static void assert_same_picture(const struct layout *full, const struct layout *fast,
                                const struct timeline_index *ix, bool owners_only)
{
    assert_int_equal(full->nlanes, fast->nlanes);
    /* summarised owner lanes are compared column by column */
    bool summarised = timeline_index_instants_summarised(ix);
    if (summarised)
        assert_same_owner_columns(full, fast);
    size_t i = 0, j = 0;
    for (;;) {
        while (i < full->nrects &&
               (full->lanes[full->rects[i].lane].kind < LAYOUT_LANE_GIL ? owners_only
                                                                         : summarised))
            i++;
        while (j < fast->nrects &&
               (fast->lanes[fast->rects[j].lane].kind < LAYOUT_LANE_GIL ? owners_only
                                                                         : summarised))
            j++;
        if (i == full->nrects || j == fast->nrects)
            break;
        const struct layout_rect *a = &full->rects[i++], *b = &fast->rects[j++];
        assert_int_equal(a->lane, b->lane);
        assert_int_equal(a->x0, b->x0);
        assert_int_equal(a->x1, b->x1);
        assert_int_equal(a->key, b->key);
        assert_int_equal(a->color, b->color);
        assert_int_equal(a->task, b->task);
        assert_int_equal(a->state, b->state);
        assert_ptr_equal(a->text, b->text);
        assert_int_equal(a->merged, b->merged);
        if (full->lanes[a->lane].kind >= LAYOUT_LANE_GIL)
            assert_int_equal(a->segment, timeline_index_instant_origin(ix, b->segment));
    }
    assert_int_equal(i, full->nrects);
    assert_int_equal(j, fast->nrects);
    assert_int_equal(full->narrows, fast->narrows);
    for (size_t k = 0; k < full->narrows; k++) {
        const struct layout_arrow *a = &full->arrows[k], *b = &fast->arrows[k];
        assert_int_equal(a->kind, b->kind);
        assert_int_equal(a->x0, b->x0);
        assert_int_equal(a->x1, b->x1);
        assert_int_equal(a->y0, b->y0);
        assert_int_equal(a->from_lane, b->from_lane);
        assert_int_equal(a->to_lane, b->to_lane);
        assert_int_equal(a->merged, b->merged);
        assert_int_equal(a->from_instant, timeline_index_instant_origin(ix, b->from_instant));
        assert_int_equal(a->to_instant, timeline_index_instant_origin(ix, b->to_instant));
    }
    for (int k = 0; k < LAYOUT_ARROW_KIND_COUNT; k++)
        assert_int_equal(full->arrow_pairs[k], fast->arrow_pairs[k]);
    assert_int_equal(full->nmarkers, fast->nmarkers);
    for (size_t k = 0; k < full->nmarkers; k++) {
        assert_int_equal(full->markers[k].x, fast->markers[k].x);
        assert_int_equal(full->markers[k].lane, fast->markers[k].lane);
        assert_int_equal(full->markers[k].instant,
                         timeline_index_instant_origin(ix, fast->markers[k].instant));
    }
    assert_int_equal(full->nlegend, fast->nlegend);
}

static void timeline_index_fast_path_should_lay_out_what_the_whole_trace_shows(void **state)
{
    (void)state;
    struct trace *tr = handover_trace();
    int64_t spans[] = { tr->makespan, tr->makespan / 10, tr->makespan / 100,
                        tr->makespan / 1000 };
    double offsets[] = { 0.0, 0.35, 0.72, 1.0 };
    for (int view = LAYOUT_VIEW_THREADS; view <= LAYOUT_VIEW_CPUS; view++) {
        struct timeline_index *ix = timeline_index_create(tr, (enum layout_view)view);
        struct layout *fast = NULL;
        int plot_x0 = 0, plot_x1 = 0;
        for (size_t z = 0; z < sizeof spans / sizeof spans[0]; z++)
            /* the whole run twice: as a first frame, then cut to the
             * plot's columns (its owner lanes summed a column at a time) */
            for (size_t f = 0; f < (z ? 4u : 2u); f++) {
                struct layout_options o;
                struct error err;
                layout_options_init(&o);
                o.view = (enum layout_view)view;
                o.width = 1112;
                o.from = (int64_t)((double)(tr->makespan - spans[z]) * offsets[f]);
                o.to = o.from + spans[z];
                /* as the viewer: the first window learns the plot's columns */
                const struct trace *win =
                    plot_x1 > plot_x0 ? timeline_index_window_px(ix, o.from, o.to, plot_x0, plot_x1)
                                      : timeline_index_window(ix, o.from, o.to, 1000);
                /* the arrows the window leaves out as too dense, for the legend */
                struct layout_options of = o;
                for (int k = 0; k < LAYOUT_ARROW_KIND_COUNT; k++)
                    of.arrows_left_out[k] =
                        timeline_index_arrows_left_out(ix, (enum layout_arrow_kind)k);
                fast = layout_update(fast, win, NULL, &of, &err);
                assert_non_null(fast);
                plot_x0 = fast->plot_x0;
                plot_x1 = fast->plot_x1;
                /* the whole run has more instants than columns: its owner
                 * lanes, markers and arrows come from the level of detail */
                if (view == LAYOUT_VIEW_THREADS)
                    assert_true(timeline_index_instants_summarised(ix) == (z == 0));
                /* a narrow window late in the run: its instants, those of
                 * a checkpoint interval and the history it needs only */
                if (z >= 2 && f >= 1)
                    assert_true(win->ninstants < 1500);
                struct layout *full = layout_create(tr, &o, &err);
                assert_non_null(full);
                /* The whole run's segments are summarised a little
                 * differently (its thread lanes are not compared), and its
                 * owner lanes come from summarised holder times: they are
                 * compared column by column (assert_same_owner_columns);
                 * at the other zooms no summary happens and all is equal. */
                assert_same_picture(full, fast, ix, z == 0);
                layout_destroy(full);
            }
        layout_destroy(fast);
        timeline_index_destroy(ix);
    }
    trace_destroy(tr);
}

/* A run of 10 ms with 30000 prints (three a column of a 1000-column plot,
 * by two threads), a lock held twice, handed over once, and twelve locks
 * held once. */
static struct trace *prints_trace(void)
{
    struct trace *tr = trace_create("prints", NULL, "sim", "rr", 2, 0);
    uint32_t p = trace_add_process(tr, "P");
    trace_add_task(tr, "A", p);
    trace_add_task(tr, "B", p);
    uint32_t L = trace_add_object(tr, "L", "lock", (int32_t)p);
    /* twelve more locks, each held once for 2 ms from 0.5 ms apart: more
     * owners than a window merges in one pass */
    uint32_t K[12];
    for (int k = 0; k < 12; k++) {
        char name[8];
        snprintf(name, sizeof name, "K%d", k);
        K[k] = trace_add_object(tr, name, "lock", (int32_t)p);
    }
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 10000000);
    add_seg(tr, 1, 1, TRACE_RUNNING, REASON_NONE, 0, 10000000);
    for (int i = 0; i < 30000; i++) {
        int64_t t = (int64_t)i * 333, before = t - 333;
        /* in time order, as the simulator writes them */
        if (before < 1000000 && 1000000 <= t)
            add_inst(tr, 1000000, 0, INSTANT_ACQUIRE, L, 0, 0);
        if (before < 4995000 && 4995000 <= t) {
            add_inst(tr, 4995000, 0, INSTANT_RELEASE, L, -1, 7);
            add_inst(tr, 4995000, 1, INSTANT_ACQUIRE, L, 0, 7);
        }
        if (before < 8991000 && 8991000 <= t)
            add_inst(tr, 8991000, 1, INSTANT_RELEASE, L, -1, 0);
        for (int k = 0; k < 12; k++) {
            int64_t take = 500000 * (k + 1) + 100, drop = take + 2000000;
            if (before < take && take <= t)
                add_inst(tr, take, (uint32_t)(k % 2), INSTANT_ACQUIRE, K[k], 0, 0);
            if (before < drop && drop <= t)
                add_inst(tr, drop, (uint32_t)(k % 2), INSTANT_RELEASE, K[k], -1, 0);
        }
        struct trace_instant ev = { .time = t, .task = (uint32_t)(i % 2), .kind = INSTANT_PRINT,
                                    .obj = UINT32_MAX };
        trace_instant_add(tr, &ev, "tick");
    }
    tr->makespan = 10000000;
    return tr;
}

/* Far more prints than pixel columns: the window keeps one a thread and
 * column, so the viewer draws the same markers (the first print at each x
 * of each lane, where the rest fall on it) from a few instants a column,
 * with the owner lane and the hand-over exactly as the whole trace's. */
static void timeline_index_window_should_keep_a_print_a_thread_and_column(void **state)
{
    (void)state;
    struct trace *tr = prints_trace();
    struct timeline_index *ix = timeline_index_create(tr, LAYOUT_VIEW_THREADS);
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = 1112;
    struct layout *full = layout_create(tr, &o, &err);
    assert_non_null(full);
    const struct trace *win = timeline_index_window_px(ix, 0, tr->makespan, full->plot_x0,
                                                       full->plot_x1);
    assert_true(win->ninstants < tr->ninstants / 4);
    assert_false(timeline_index_instants_summarised(ix));
    struct layout *fast = layout_create(win, &o, &err);
    assert_non_null(fast);
    /* the whole trace's markers, one per lane and x: the fast ones */
    size_t distinct = 0;
    for (size_t k = 0; k < full->nmarkers; k++) {
        bool seen = false;
        for (size_t j = k; j-- > 0 && full->markers[j].x == full->markers[k].x && !seen;)
            seen = full->markers[j].lane == full->markers[k].lane;
        if (seen)
            continue;
        assert_true(distinct < fast->nmarkers);
        const struct layout_marker *m = &fast->markers[distinct++];
        assert_int_equal(m->x, full->markers[k].x);
        assert_int_equal(m->lane, full->markers[k].lane);
        assert_int_equal(timeline_index_instant_origin(ix, m->instant), full->markers[k].instant);
    }
    assert_int_equal(distinct, fast->nmarkers);
    assert_true(distinct < full->nmarkers / 2);
    /* the owner lane and the hand-over, exactly */
    size_t i = 0, j = 0;
    for (;; i++, j++) {
        while (i < full->nrects && full->lanes[full->rects[i].lane].kind < LAYOUT_LANE_GIL)
            i++;
        while (j < fast->nrects && fast->lanes[fast->rects[j].lane].kind < LAYOUT_LANE_GIL)
            j++;
        if (i == full->nrects || j == fast->nrects)
            break;
        assert_int_equal(full->rects[i].x0, fast->rects[j].x0);
        assert_int_equal(full->rects[i].x1, fast->rects[j].x1);
        assert_int_equal(full->rects[i].color, fast->rects[j].color);
        assert_int_equal(full->rects[i].segment,
                         timeline_index_instant_origin(ix, fast->rects[j].segment));
    }
    assert_int_equal(i, full->nrects);
    assert_int_equal(j, fast->nrects);
    assert_int_equal(full->nlanes, 2 + 13);
    assert_int_equal(full->narrows, 1);
    assert_int_equal(fast->narrows, 1);
    assert_int_equal(full->arrows[0].x0, fast->arrows[0].x0);
    assert_int_equal(full->arrows[0].from_instant,
                     timeline_index_instant_origin(ix, fast->arrows[0].from_instant));
    layout_destroy(fast);
    layout_destroy(full);
    timeline_index_destroy(ix);
    trace_destroy(tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeline_index_window_should_hold_exactly_the_visible_segments_when_zoomed_in),
        cmocka_unit_test(timeline_index_window_should_stay_small_and_draw_the_same_picture),
        cmocka_unit_test(timeline_index_window_px_should_draw_exactly_what_the_window_draws),
        cmocka_unit_test(timeline_index_find_should_give_the_segment_under_a_time),
        cmocka_unit_test(timeline_index_fast_path_should_lay_out_what_the_whole_trace_shows),
        cmocka_unit_test(timeline_index_window_should_keep_a_print_a_thread_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
