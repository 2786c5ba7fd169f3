/* Unit tests of the Gantt layout: lanes, pixel rectangles, level of detail,
 * the time axis, the cpus view, markers and the legend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace_fixture.h"
#include "viz/layout.h"

/* A width that gives the plot exactly 1000 pixels: labels take the minimum
 * 80 pixels on the left, the margin 32 on the right. */
#define WIDTH_1000PX 1112

/* Processes P (threads A and C) and Q (thread B) on one CPU over 1000 ns. */
static struct trace *small_trace(void)
{
    struct trace *tr = trace_create("demo", NULL, "sim", "rr", 1, 0);
    uint32_t p = trace_add_process(tr, "P");
    uint32_t q = trace_add_process(tr, "Q");
    trace_add_task(tr, "A", p);
    trace_add_task(tr, "B", q);
    trace_add_task(tr, "C", p);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 100);
    add_seg(tr, 1, -1, TRACE_READY, REASON_NONE, 0, 100);
    add_seg(tr, 2, -1, TRACE_READY, REASON_NONE, 0, 400);
    add_seg(tr, 0, -1, TRACE_READY, REASON_NONE, 100, 300);
    add_seg(tr, 1, 0, TRACE_RUNNING, REASON_NONE, 100, 300);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 300, 400);
    add_seg(tr, 1, -1, TRACE_BLOCKED, REASON_SLEEP, 300, 1000);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_LOCK, 400, 1000);
    add_seg(tr, 2, 0, TRACE_RUNNING, REASON_NONE, 400, 1000);
    struct trace_instant pr = { .time = 200, .task = 1, .kind = INSTANT_PRINT,
                                .obj = UINT32_MAX };
    trace_instant_add(tr, &pr, "hello");
    struct trace_instant dl = { .time = 1000, .task = UINT32_MAX, .kind = INSTANT_DEADLOCK,
                                .obj = UINT32_MAX };
    trace_instant_add(tr, &dl, "A waits for L held by A");
    tr->makespan = 1000;
    return tr;
}

static struct layout *lay_out(const struct trace *tr, enum layout_view view, int width)
{
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.view = view;
    o.width = width;
    error_clear(&err);
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    return lay;
}

static void assert_rect(const struct layout_rect *r, uint32_t lane, int x0, int x1,
                        enum layout_key key, uint32_t task, uint32_t merged)
{
    assert_int_equal(r->lane, lane);
    assert_int_equal(r->x0, x0);
    assert_int_equal(r->x1, x1);
    assert_int_equal(r->key, key);
    assert_int_equal(r->task, task);
    assert_int_equal(r->merged, merged);
}

static void layout_should_group_thread_lanes_by_process(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    assert_int_equal(lay->plot_x0, 80);
    assert_int_equal(lay->plot_x1, 1080);
    assert_int_equal(lay->nlanes, 3);
    assert_string_equal(lay->lanes[0].label, "P / A");
    assert_string_equal(lay->lanes[1].label, "P / C");
    assert_string_equal(lay->lanes[2].label, "Q / B");
    assert_int_equal(lay->ngroups, 2);
    assert_string_equal(lay->groups[0].label, "P");
    assert_int_equal(lay->groups[0].first_lane, 0);
    assert_int_equal(lay->groups[0].nlanes, 2);
    assert_string_equal(lay->groups[1].label, "Q");
    assert_int_equal(lay->groups[1].first_lane, 2);
    /* Each header row sits right above its first lane; lanes do not overlap. */
    assert_int_equal(lay->groups[0].y + lay->groups[0].h, lay->lanes[0].y);
    assert_int_equal(lay->lanes[0].y + lay->lanes[0].h, lay->lanes[1].y);
    assert_int_equal(lay->groups[1].y, lay->lanes[1].y + lay->lanes[1].h);
    assert_int_equal(lay->groups[1].y + lay->groups[1].h, lay->lanes[2].y);
    assert_true(lay->axis_y >= lay->lanes[2].y + lay->lanes[2].h);
    assert_true(lay->height > lay->axis_y);
    assert_string_equal(lay->title, "demo \xE2\x80\x94 rr, 1 CPU, simulated");
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_place_rectangles_at_exact_pixels(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    assert_int_equal(lay->nrects, 9);
    assert_rect(&lay->rects[0], 0, 80, 180, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[1], 0, 180, 380, LAYOUT_KEY_READY, 0, 1);
    assert_rect(&lay->rects[2], 0, 380, 480, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[3], 0, 480, 1080, LAYOUT_KEY_BLOCKED + REASON_LOCK, 0, 1);
    assert_rect(&lay->rects[4], 1, 80, 480, LAYOUT_KEY_READY, 2, 1);
    assert_rect(&lay->rects[5], 1, 480, 1080, LAYOUT_KEY_RUNNING, 2, 1);
    assert_rect(&lay->rects[6], 2, 80, 180, LAYOUT_KEY_READY, 1, 1);
    assert_rect(&lay->rects[7], 2, 180, 380, LAYOUT_KEY_RUNNING, 1, 1);
    assert_rect(&lay->rects[8], 2, 380, 1080, LAYOUT_KEY_BLOCKED + REASON_SLEEP, 1, 1);
    const struct layout_palette *pal = layout_palette(LAYOUT_THEME_LIGHT);
    assert_int_equal(lay->rects[3].color, pal->key[LAYOUT_KEY_BLOCKED + REASON_LOCK]);
    assert_int_equal(lay->rects[3].segment, 7);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_clip_rectangles_to_the_time_window(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = WIDTH_1000PX;
    o.from = 200;
    o.to = 700;
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    /* 500 ns over 1000 pixels: A's ready [100, 300) shows as [200, 300). */
    assert_rect(&lay->rects[0], 0, 80, 280, LAYOUT_KEY_READY, 0, 1);
    assert_rect(&lay->rects[1], 0, 280, 480, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[2], 0, 480, 1080, LAYOUT_KEY_BLOCKED + REASON_LOCK, 0, 1);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_merge_segments_sharing_a_pixel_column(void **state)
{
    (void)state;
    struct trace *tr = trace_create("lod", NULL, "sim", "rr", 1, 0);
    trace_add_task(tr, "T", trace_add_process(tr, "P"));
    /* 10000 ns over 1000 pixels: 10 ns per pixel column. */
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 3);
    add_seg(tr, 0, -1, TRACE_READY, REASON_NONE, 3, 5);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 5, 8);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_LOCK, 8, 10);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 10, 1000);
    add_seg(tr, 0, -1, TRACE_READY, REASON_NONE, 1000, 1004);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_IO, 1004, 1010);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 1010, 10000);
    tr->makespan = 10000;
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    assert_int_equal(lay->nrects, 4);
    /* Running covers 6 of the first column's 10 ns: the summary is running. */
    assert_rect(&lay->rects[0], 0, 80, 81, LAYOUT_KEY_RUNNING, 0, 4);
    assert_int_equal(lay->rects[0].segment, 0);
    assert_rect(&lay->rects[1], 0, 81, 180, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[2], 0, 180, 181, LAYOUT_KEY_BLOCKED + REASON_IO, 0, 2);
    assert_int_equal(lay->rects[2].segment, 6);
    assert_rect(&lay->rects[3], 0, 181, 1080, LAYOUT_KEY_RUNNING, 0, 1);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_leave_mostly_idle_columns_empty(void **state)
{
    (void)state;
    struct trace *tr = trace_create("idle", NULL, "sim", "rr", 1, 0);
    trace_add_task(tr, "T", trace_add_process(tr, "P"));
    /* 10 ns per column: 2 ns of work in column 0, 6 ns in column 1. */
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 2);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 12, 15);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 15, 18);
    tr->makespan = 10000;
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_CPUS, WIDTH_1000PX);
    assert_int_equal(lay->nrects, 1);
    assert_rect(&lay->rects[0], 0, 81, 82, LAYOUT_KEY_RUNNING, 0, 2);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_bound_rectangles_by_pixels_for_a_million_segments(void **state)
{
    (void)state;
    struct trace *tr = trace_create("big", NULL, "sim", "rr", 4, 0);
    uint32_t p = trace_add_process(tr, "P");
    enum { TASKS = 50, PER_TASK = 20000 };
    for (uint32_t t = 0; t < TASKS; t++)
        trace_add_task(tr, "T", p);
    for (int64_t i = 0; i < PER_TASK; i++)
        for (uint32_t t = 0; t < TASKS; t++)
            add_seg(tr, t, (i % 2) ? -1 : (int32_t)(t % 4),
                    (i % 2) ? TRACE_READY : TRACE_RUNNING, REASON_NONE, i * 100, i * 100 + 100);
    tr->makespan = PER_TASK * 100;
    assert_int_equal(tr->nsegments, 1000000);
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    /* 20000 segments over 1000 columns: a summary per column and lane, each
     * running (a tie goes to the first key), joined into one per lane. */
    assert_int_equal(lay->nrects, TASKS);
    for (size_t i = 0; i < lay->nrects; i++) {
        assert_int_equal(lay->rects[i].x0, 80);
        assert_int_equal(lay->rects[i].x1, 1080);
        assert_int_equal(lay->rects[i].merged, PER_TASK);
    }
    layout_destroy(lay);
    lay = lay_out(tr, LAYOUT_VIEW_CPUS, WIDTH_1000PX);
    assert_int_equal(lay->nlanes, 4);
    assert_true(lay->nrects <= 4 * 1000);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_colour_cpu_lanes_by_thread(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_CPUS, WIDTH_1000PX);
    const struct layout_palette *pal = layout_palette(LAYOUT_THEME_LIGHT);
    assert_int_equal(lay->nlanes, 1);
    assert_string_equal(lay->lanes[0].label, "CPU 0");
    assert_int_equal(lay->ngroups, 0);
    assert_int_equal(lay->nrects, 4);
    assert_rect(&lay->rects[0], 0, 80, 180, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[1], 0, 180, 380, LAYOUT_KEY_RUNNING, 1, 1);
    assert_rect(&lay->rects[2], 0, 380, 480, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[3], 0, 480, 1080, LAYOUT_KEY_RUNNING, 2, 1);
    assert_int_equal(lay->rects[0].color, pal->task[0]);
    assert_int_equal(lay->rects[1].color, pal->task[1]);
    assert_int_equal(lay->rects[3].color, pal->task[2]);
    /* The legend names the threads, not the states. */
    assert_string_equal(lay->legend[0].label, "P / A");
    assert_string_equal(lay->legend[1].label, "Q / B");
    assert_string_equal(lay->legend[2].label, "P / C");
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_mark_prints_and_the_deadlock(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    assert_int_equal(lay->nmarkers, 2);
    assert_int_equal(lay->markers[0].kind, LAYOUT_MARKER_PRINT);
    assert_int_equal(lay->markers[0].lane, 2);
    assert_int_equal(lay->markers[0].x, 280);
    assert_string_equal(lay->markers[0].text, "hello");
    assert_int_equal(lay->markers[1].kind, LAYOUT_MARKER_DEADLOCK);
    assert_int_equal(lay->markers[1].lane, -1);
    assert_int_equal(lay->markers[1].x, 1080);
    layout_destroy(lay);
    trace_destroy(tr);
}

/* A real run's thread whose event buffer filled at 350: its lane is marked
 * from there to its last segment's end (1000), with a legend entry; the
 * cpus view marks every CPU lane from the first such thread; a window that
 * starts later clips the mark. */
static void layout_should_mark_what_a_full_event_buffer_left_unrecorded(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    tr->tasks[0].recorded_until = 350;
    tr->tasks[0].unrecorded_events = 99;
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    const struct layout_marker *m = NULL;
    size_t n = 0;
    for (size_t i = 0; i < lay->nmarkers; i++)
        if (lay->markers[i].kind == LAYOUT_MARKER_UNRECORDED) {
            m = &lay->markers[i];
            n++;
        }
    assert_int_equal(n, 1);
    assert_int_equal(m->lane, 0); /* P / A */
    assert_int_equal(m->x, 80 + 350);
    assert_int_equal(m->x_end, 80 + 1000);
    bool legend = false;
    for (size_t i = 0; i < lay->nlegend; i++)
        legend |= lay->legend[i].shape == LAYOUT_LEGEND_UNRECORDED &&
                  strstr(lay->legend[i].label, "not recorded") != NULL;
    assert_true(legend);
    layout_destroy(lay);

    lay = lay_out(tr, LAYOUT_VIEW_CPUS, WIDTH_1000PX);
    n = 0;
    for (size_t i = 0; i < lay->nmarkers; i++)
        if (lay->markers[i].kind == LAYOUT_MARKER_UNRECORDED) {
            n++;
            assert_int_equal(lay->markers[i].lane, -1);
            assert_true(lay->markers[i].y1 > lay->markers[i].y0);
        }
    assert_int_equal(n, 1);
    layout_destroy(lay);

    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = WIDTH_1000PX;
    o.from = 500;
    error_clear(&err);
    lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    n = 0;
    for (size_t i = 0; i < lay->nmarkers; i++)
        if (lay->markers[i].kind == LAYOUT_MARKER_UNRECORDED) {
            n++;
            assert_int_equal(lay->markers[i].x, lay->plot_x0);
            assert_int_equal(lay->markers[i].x_end, lay->plot_x1);
        }
    assert_int_equal(n, 1);
    layout_destroy(lay);
    /* only A's hand-over instants stopped, at 500: the lock's owner lane is
     * marked from there, the GIL's and the threads' lanes are whole */
    struct trace *own = owner_trace();
    own->tasks[0].instants_until = 500;
    lay = lay_out(own, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    n = 0;
    for (size_t i = 0; i < lay->nmarkers; i++)
        if (lay->markers[i].kind == LAYOUT_MARKER_UNRECORDED) {
            n++;
            assert_true(lay->markers[i].lane >= 0);
            assert_int_equal(lay->lanes[lay->markers[i].lane].kind, LAYOUT_LANE_LOCK);
            assert_int_equal(lay->markers[i].x, lay->plot_x0 + (lay->plot_x1 - lay->plot_x0) / 2);
        }
    assert_int_equal(n, 1);
    layout_destroy(lay);
    trace_destroy(own);
    /* a whole trace has none */
    tr->tasks[0].recorded_until = -1;
    lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    for (size_t i = 0; i < lay->nmarkers; i++)
        assert_int_not_equal(lay->markers[i].kind, LAYOUT_MARKER_UNRECORDED);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_list_the_states_present_in_the_legend(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    const char *expect[] = { "running", "ready", "blocked: sleep", "blocked: lock",
                             "printed line", "deadlock" };
    assert_int_equal(lay->nlegend, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(lay->legend[i].label, expect[i]);
        assert_true(lay->legend[i].y >= lay->legend_y0);
        assert_true(lay->legend[i].y < lay->height);
    }
    layout_destroy(lay);
    trace_destroy(tr);
}

/* The owner lanes follow the thread lanes under their own header: the GIL
 * held by A, released (a gap), by B, then by A again to the end; the lock
 * held by A, then by B (its nested acquire ignored) until its release. */
static void layout_should_draw_gil_and_lock_owner_lanes(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    const struct layout_palette *pal = layout_palette(LAYOUT_THEME_LIGHT);
    assert_int_equal(lay->nlanes, 4);
    assert_string_equal(lay->lanes[2].label, "GIL (P)");
    assert_int_equal(lay->lanes[2].kind, LAYOUT_LANE_GIL);
    assert_string_equal(lay->lanes[3].label, "lock L");
    assert_int_equal(lay->lanes[3].kind, LAYOUT_LANE_LOCK);
    assert_int_equal(lay->ngroups, 2);
    assert_string_equal(lay->groups[1].label, "GIL and lock owners");
    assert_int_equal(lay->groups[1].first_lane, 2);
    assert_int_equal(lay->groups[1].nlanes, 2);
    assert_int_equal(lay->groups[1].process, UINT32_MAX);
    assert_true(lay->lanes[2].y > lay->lanes[1].y + lay->lanes[1].h);

    /* 6 thread rectangles, then the owner lanes' */
    assert_int_equal(lay->nrects, 11);
    assert_rect(&lay->rects[6], 2, 80, 380, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[7], 2, 480, 780, LAYOUT_KEY_RUNNING, 1, 1);
    assert_rect(&lay->rects[8], 2, 880, 1080, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[9], 3, 180, 280, LAYOUT_KEY_RUNNING, 0, 1);
    assert_rect(&lay->rects[10], 3, 280, 680, LAYOUT_KEY_RUNNING, 1, 1);
    assert_int_equal(lay->rects[6].color, pal->task[0]);
    assert_int_equal(lay->rects[7].color, pal->task[1]);
    assert_int_equal(lay->rects[6].segment, 0); /* the instant of the take */
    assert_string_equal(lay->rects[7].text, "B");
    layout_destroy(lay);
    trace_destroy(tr);
}

/* Arrows join the lane centres: the lock's hand-over at 200 (vertical), the
 * GIL dropped on request at 300 and taken at 400, and the message put at
 * 500 and got at 650; the GIL dropped of itself at 700 makes none. */
static void layout_should_draw_message_and_hand_over_arrows(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    int ya = lay->lanes[0].y + lay->lanes[0].h / 2, yb = lay->lanes[1].y + lay->lanes[1].h / 2;
    assert_int_equal(lay->narrows, 3);
    const struct layout_arrow *a = lay->arrows;
    assert_int_equal(a[0].kind, LAYOUT_ARROW_HANDOVER);
    assert_int_equal(a[0].x0, 280);
    assert_int_equal(a[0].x1, 280);
    assert_int_equal(a[0].y0, ya);
    assert_int_equal(a[0].y1, yb);
    assert_int_equal(a[0].from_instant, 2);
    assert_int_equal(a[0].to_instant, 3);
    assert_int_equal(a[1].kind, LAYOUT_ARROW_HANDOVER);
    assert_int_equal(a[1].x0, 380);
    assert_int_equal(a[1].x1, 480);
    assert_int_equal(a[1].from_task, 0);
    assert_int_equal(a[1].to_task, 1);
    assert_int_equal(a[2].kind, LAYOUT_ARROW_MESSAGE);
    assert_int_equal(a[2].x0, 580);
    assert_int_equal(a[2].x1, 730);
    assert_int_equal(a[2].merged, 1);
    bool message = false, handover = false;
    for (size_t i = 0; i < lay->nlegend; i++) {
        message |= strcmp(lay->legend[i].label, "message") == 0 &&
                   lay->legend[i].shape == LAYOUT_LEGEND_ARROW;
        handover |= strcmp(lay->legend[i].label, "hand-over") == 0;
    }
    assert_true(message);
    assert_true(handover);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_leave_out_owner_lanes_and_arrows_on_request(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.no_owner_lanes = true;
    o.no_arrows = true;
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    assert_int_equal(lay->nlanes, 2);
    assert_int_equal(lay->ngroups, 1);
    assert_int_equal(lay->narrows, 0);
    layout_destroy(lay);
    trace_destroy(tr);
}

/* 100 hand-overs 1 ns (1 pixel) apart: one arrow per 6 pixels stands for
 * the others, and the legend says how many are drawn. */
static struct layout *handover_layout(struct trace **tr, uint32_t n, uint32_t spacing)
{
    *tr = trace_create("many", NULL, "sim", "fifo", 1, 0);
    uint32_t p = trace_add_process(*tr, "P");
    trace_add_task(*tr, "A", p);
    trace_add_task(*tr, "B", p);
    uint32_t lock = trace_add_object(*tr, "L", "lock", 0);
    for (uint32_t i = 0; i < n; i++) {
        add_inst(*tr, (int64_t)(i * spacing), 0, INSTANT_RELEASE, lock, 1, i + 1);
        add_inst(*tr, (int64_t)(i * spacing), 1, INSTANT_ACQUIRE, lock, 0, i + 1);
    }
    (*tr)->makespan = 1000;
    return lay_out(*tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
}

static bool has_legend(const struct layout *lay, const char *label)
{
    for (size_t i = 0; i < lay->nlegend; i++)
        if (strcmp(lay->legend[i].label, label) == 0)
            return true;
    return false;
}

/* Arrows closer than a few pixels are folded into one; a lane pair whose
 * arrows are mostly folded away is left out, and the legend says why. */
static void layout_should_thin_arrows_packed_into_few_pixels(void **state)
{
    (void)state;
    struct trace *tr;
    /* 12 hand-overs 9 ns (over 6 px) apart: all drawn */
    struct layout *lay = handover_layout(&tr, 12, 9);
    assert_int_equal(lay->narrows, 12);
    assert_true(has_legend(lay, "hand-over"));
    layout_destroy(lay);
    trace_destroy(tr);
    /* 20 hand-overs 4 ns apart: folded in pairs, 10 drawn */
    lay = handover_layout(&tr, 20, 4);
    assert_int_equal(lay->arrow_pairs[LAYOUT_ARROW_HANDOVER], 20);
    assert_int_equal(lay->narrows, 10);
    uint32_t total = 0;
    for (size_t i = 0; i < lay->narrows; i++) {
        assert_int_equal(lay->arrows[i].x0, 80 + 8 * (int)i);
        total += lay->arrows[i].merged;
    }
    assert_int_equal(total, 20);
    assert_true(has_legend(lay, "hand-over (10 of 20 drawn)"));
    layout_destroy(lay);
    trace_destroy(tr);
    /* 100 hand-overs 1 ns apart fold into 17: too dense, none drawn */
    lay = handover_layout(&tr, 100, 1);
    assert_int_equal(lay->arrow_pairs[LAYOUT_ARROW_HANDOVER], 100);
    assert_int_equal(lay->narrows, 0);
    assert_true(has_legend(lay, "hand-over: 100, too dense to draw here (zoom in)"));
    layout_destroy(lay);
    trace_destroy(tr);
}

/* Two runs stacked on one axis to the longer makespan: the second's lanes
 * in the first's order, its new thread after its process's known ones. */
/* A critical section far shorter than a pixel column still marks its
 * column of the lock's lane, in its holder's colour. */
static void layout_should_show_a_brief_lock_hold_in_its_column(void **state)
{
    (void)state;
    struct trace *tr = trace_create("brief", NULL, "sim", "fifo", 1, 0);
    uint32_t p = trace_add_process(tr, "P");
    trace_add_task(tr, "A", p);
    uint32_t lock = trace_add_object(tr, "L", "lock", 0);
    /* 1 ms over 1000 pixels: 1000 ns per column; held 100 ns at 500 us */
    add_inst(tr, 500000, 0, INSTANT_ACQUIRE, lock, 0, 0);
    add_inst(tr, 500100, 0, INSTANT_RELEASE, lock, -1, 0);
    tr->makespan = 1000000;
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    assert_int_equal(lay->nlanes, 2);
    assert_int_equal(lay->nrects, 1);
    assert_rect(&lay->rects[0], 1, 580, 581, LAYOUT_KEY_RUNNING, 0, 1);
    assert_int_equal(lay->rects[0].color, layout_palette(LAYOUT_THEME_LIGHT)->task[0]);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_stack_two_runs_on_one_time_axis(void **state)
{
    (void)state;
    struct trace *sim = small_trace();
    struct trace *real = trace_create("demo", NULL, "real", "rr", 1, 0);
    uint32_t q = trace_add_process(real, "Q");
    uint32_t p = trace_add_process(real, "P");
    trace_add_task(real, "B", q);
    trace_add_task(real, "X", p);
    trace_add_task(real, "A", p);
    add_seg(real, 2, 0, TRACE_RUNNING, REASON_NONE, 0, 2000);
    real->makespan = 2000;
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = WIDTH_1000PX;
    struct layout *lay = layout_create_compare(sim, real, &o, &err);
    assert_non_null(lay);
    assert_int_equal(lay->to, 2000);
    assert_int_equal(lay->nsections, 2);
    assert_string_equal(lay->sections[0].label, "simulated: rr, 1 CPU");
    assert_string_equal(lay->sections[1].label, "real: rr, 1 CPU");
    assert_int_equal(lay->sections[1].first_lane, 3);
    assert_int_equal(lay->nlanes, 6);
    const char *expect[] = { "P / A", "P / C", "Q / B", "P / A", "P / X", "Q / B" };
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(lay->lanes[i].label, expect[i]);
        assert_int_equal(lay->lanes[i].section, i >= 3);
    }
    assert_true(lay->sections[1].y >= lay->lanes[2].y + lay->lanes[2].h);
    assert_int_equal(lay->sections[1].lanes_y0, lay->groups[2].y);
    /* the real run's A runs the whole 2000 ns: the whole plot */
    const struct layout_rect *last = &lay->rects[lay->nrects - 1];
    assert_int_equal(last->lane, 3);
    assert_int_equal(last->x0, 80);
    assert_int_equal(last->x1, 1080);
    /* the deadlock line stays in its section */
    assert_int_equal(lay->markers[1].kind, LAYOUT_MARKER_DEADLOCK);
    assert_int_equal(lay->markers[1].y1, lay->sections[0].lanes_y1);
    assert_string_equal(lay->title, "demo \xE2\x80\x94 simulated and real run, compared");
    layout_destroy(lay);
    /* in the cpus view a thread keeps its first run's colour: the real A
     * (task 2 there) runs in the simulated A's (task 0) */
    o.view = LAYOUT_VIEW_CPUS;
    lay = layout_create_compare(sim, real, &o, &err);
    assert_non_null(lay);
    last = &lay->rects[lay->nrects - 1];
    assert_int_equal(lay->lanes[last->lane].section, 1);
    assert_int_equal(last->task, 2);
    assert_int_equal(last->color, layout_palette(LAYOUT_THEME_LIGHT)->task[0]);
    layout_destroy(lay);
    trace_destroy(real);
    trace_destroy(sim);
}

/* A 1920-pixel slide gets 16-pixel text and rows to match; the default
 * width keeps 12. The description is on its own line, cut to fit. */
static void layout_should_scale_text_with_the_width_and_show_the_description(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    free(tr->description);
    tr->description = strdup("A long description of the demo that goes on and on and on, "
                             "longer than any picture of 320 pixels can hold on one line.");
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, 1920);
    assert_int_equal(lay->font_px, 16);
    assert_true(lay->title_px >= 20);
    assert_true(lay->row_h >= 29);
    assert_non_null(lay->description);
    assert_true(lay->description_y > lay->title_y);
    assert_true(lay->lanes_y0 > lay->description_y);
    assert_string_equal(lay->description, tr->description);
    layout_destroy(lay);
    lay = lay_out(tr, LAYOUT_VIEW_THREADS, 320);
    assert_int_equal(lay->font_px, 12);
    assert_non_null(strstr(lay->description, "\xE2\x80\xA6"));
    assert_true(strlen(lay->description) < 50);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void nice_step_should_pick_1_2_5_steps(void **state)
{
    (void)state;
    assert_int_equal(layout_nice_step(1000, 10), 100);
    assert_int_equal(layout_nice_step(1000, 11), 100);
    assert_int_equal(layout_nice_step(1000000, 3), 500000);
    assert_int_equal(layout_nice_step(7, 10), 1);
    assert_int_equal(layout_nice_step(37000000, 10), 5000000);
    assert_int_equal(layout_nice_step(12000000000LL, 12), 1000000000);
    assert_int_equal(layout_nice_step(15000, 10), 2000);
}

static void format_time_should_use_units_and_few_decimals(void **state)
{
    (void)state;
    char buf[32];
    layout_format_time(buf, sizeof buf, 0, 1000000, 500000);
    assert_string_equal(buf, "0");
    layout_format_time(buf, sizeof buf, 1500000, 1000000, 500000);
    assert_string_equal(buf, "1.5ms");
    layout_format_time(buf, sizeof buf, 2000000, 1000000, 500000);
    assert_string_equal(buf, "2ms");
    layout_format_time(buf, sizeof buf, 250000, 1000, 50000);
    assert_string_equal(buf, "250us");
    layout_format_time(buf, sizeof buf, 3000000000LL, 1000000000, 1000000000);
    assert_string_equal(buf, "3s");
    layout_format_time(buf, sizeof buf, 5, 1, 1);
    assert_string_equal(buf, "5ns");
    layout_format_time(buf, sizeof buf, 1020000, 1000000, 20000);
    assert_string_equal(buf, "1.02ms");
    assert_int_equal(layout_time_unit(0, 999), 1);
    assert_int_equal(layout_time_unit(0, 999999), 1000);
    assert_int_equal(layout_time_unit(0, 20000000), 1000000);
    assert_int_equal(layout_time_unit(0, 2000000000), 1000000000);
}

static void layout_should_label_axis_ticks_over_the_window(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    struct layout *lay = lay_out(tr, LAYOUT_VIEW_THREADS, WIDTH_1000PX);
    /* 1000 pixels hold 11 ticks 90 pixels apart: a step of 100 ns. */
    assert_int_equal(lay->nticks, 11);
    assert_int_equal(lay->ticks[0].x, 80);
    assert_string_equal(lay->ticks[0].label, "0");
    assert_int_equal(lay->ticks[1].x, 180);
    assert_string_equal(lay->ticks[1].label, "0.1us");
    assert_int_equal(lay->ticks[10].x, 1080);
    assert_string_equal(lay->ticks[10].label, "1us");
    layout_destroy(lay);

    tr->makespan = 37000000;
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = 1200;
    o.from = 3000000;
    lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    assert_string_equal(lay->ticks[0].label, "5ms");
    assert_string_equal(lay->ticks[lay->nticks - 1].label, "35ms");
    for (size_t i = 1; i < lay->nticks; i++)
        assert_true(lay->ticks[i].x > lay->ticks[i - 1].x);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void layout_should_refuse_an_empty_window_or_tiny_width(void **state)
{
    (void)state;
    struct trace *tr = small_trace();
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.from = 1000;
    error_clear(&err);
    assert_null(layout_create(tr, &o, &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    layout_options_init(&o);
    o.width = 10;
    error_clear(&err);
    assert_null(layout_create(tr, &o, &err));
    assert_int_equal(err.status, STATUS_BAD_INPUT);
    layout_destroy(NULL);
    trace_destroy(tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_should_group_thread_lanes_by_process),
        cmocka_unit_test(layout_should_place_rectangles_at_exact_pixels),
        cmocka_unit_test(layout_should_clip_rectangles_to_the_time_window),
        cmocka_unit_test(layout_should_merge_segments_sharing_a_pixel_column),
        cmocka_unit_test(layout_should_leave_mostly_idle_columns_empty),
        cmocka_unit_test(layout_should_bound_rectangles_by_pixels_for_a_million_segments),
        cmocka_unit_test(layout_should_colour_cpu_lanes_by_thread),
        cmocka_unit_test(layout_should_mark_prints_and_the_deadlock),
        cmocka_unit_test(layout_should_mark_what_a_full_event_buffer_left_unrecorded),
        cmocka_unit_test(layout_should_list_the_states_present_in_the_legend),
        cmocka_unit_test(layout_should_draw_gil_and_lock_owner_lanes),
        cmocka_unit_test(layout_should_draw_message_and_hand_over_arrows),
        cmocka_unit_test(layout_should_leave_out_owner_lanes_and_arrows_on_request),
        cmocka_unit_test(layout_should_thin_arrows_packed_into_few_pixels),
        cmocka_unit_test(layout_should_show_a_brief_lock_hold_in_its_column),
        cmocka_unit_test(layout_should_stack_two_runs_on_one_time_axis),
        cmocka_unit_test(layout_should_scale_text_with_the_width_and_show_the_description),
        cmocka_unit_test(nice_step_should_pick_1_2_5_steps),
        cmocka_unit_test(format_time_should_use_units_and_few_decimals),
        cmocka_unit_test(layout_should_label_axis_ticks_over_the_window),
        cmocka_unit_test(layout_should_refuse_an_empty_window_or_tiny_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
