/* Unit tests of the SVG renderer: a well-formed document with the title, the
 * labels and the axis as text, escaped, and the same bytes every time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace_fixture.h"
#include "viz/layout.h"
#include "viz/svg.h"

/* Names with XML's special characters, a print and a deadlock. */
static struct trace *demo_trace(void)
{
    struct trace *tr = trace_create("locks & <threads>", NULL, "sim", "rr", 2, 0);
    uint32_t p = trace_add_process(tr, "main");
    trace_add_task(tr, "worker \"1\"", p);
    trace_add_task(tr, "worker 2", p);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 2000000);
    add_seg(tr, 1, 1, TRACE_RUNNING, REASON_NONE, 0, 1000000);
    add_seg(tr, 1, -1, TRACE_BLOCKED, REASON_LOCK, 1000000, 3000000);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_LOCK, 2000000, 3000000);
    struct trace_instant pr = { .time = 500000, .task = 0, .kind = INSTANT_PRINT,
                                .obj = UINT32_MAX };
    trace_instant_add(tr, &pr, "x < y & z");
    struct trace_instant dl = { .time = 3000000, .task = UINT32_MAX, .kind = INSTANT_DEADLOCK,
                                .obj = UINT32_MAX };
    trace_instant_add(tr, &dl, "cycle");
    tr->makespan = 3000000;
    return tr;
}

/* The SVG of tr as a NUL-terminated string (free it). */
static char *render(const struct trace *tr, enum layout_view view, enum layout_theme theme)
{
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.view = view;
    o.theme = theme;
    error_clear(&err);
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(svg_write(lay, f, &err), STATUS_OK);
    assert_int_equal(fclose(f), 0);
    layout_destroy(lay);
    return buf;
}

static void svg_should_write_text_elements_for_title_labels_and_axis(void **state)
{
    (void)state;
    struct trace *tr = demo_trace();
    char *svg = render(tr, LAYOUT_VIEW_THREADS, LAYOUT_THEME_LIGHT);
    assert_non_null(strstr(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
    assert_non_null(strstr(svg, "version=\"1.1\""));
    assert_non_null(strstr(svg, ">locks &amp; &lt;threads&gt; \xE2\x80\x94 rr, 2 CPUs, simulated</text>"));
    assert_non_null(strstr(svg, ">main / worker &quot;1&quot;</text>"));
    assert_non_null(strstr(svg, ">main / worker 2</text>"));
    assert_non_null(strstr(svg, ">1.5ms</text>"));
    assert_non_null(strstr(svg, ">blocked: lock</text>"));
    assert_non_null(strstr(svg, "<title>x &lt; y &amp; z</title>"));
    assert_non_null(strstr(svg, ">deadlock</text>"));
    /* The lock colour of the palette fills the blocked rectangles. */
    assert_non_null(strstr(svg, "fill=\"#D55E00\""));
    assert_null(strstr(svg, "x < y"));
    assert_non_null(strstr(svg, "</svg>\n"));
    free(svg);
    trace_destroy(tr);
}

static void svg_should_be_the_same_bytes_every_time(void **state)
{
    (void)state;
    struct trace *tr = demo_trace();
    char *a = render(tr, LAYOUT_VIEW_THREADS, LAYOUT_THEME_DARK);
    char *b = render(tr, LAYOUT_VIEW_THREADS, LAYOUT_THEME_DARK);
    assert_string_equal(a, b);
    char *c = render(tr, LAYOUT_VIEW_THREADS, LAYOUT_THEME_LIGHT);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
    trace_destroy(tr);
}

static void svg_should_be_well_formed_xml(void **state)
{
    (void)state;
    if (system("command -v xmllint >/dev/null 2>&1") != 0) {
        print_message("xmllint not found (apt-get install libxml2-utils): "
                      "well-formedness not checked\n");
        skip();
    }
    struct trace *tr = demo_trace();
    enum layout_view views[] = { LAYOUT_VIEW_THREADS, LAYOUT_VIEW_CPUS };
    for (size_t i = 0; i < 2; i++) {
        char *svg = render(tr, views[i], LAYOUT_THEME_LIGHT);
        char path[] = "/tmp/threadsim-test-svg-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        size_t len = strlen(svg);
        assert_int_equal(write(fd, svg, len), (ssize_t)len);
        assert_int_equal(close(fd), 0);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "xmllint --noout %s", path);
        int rc = system(cmd);
        unlink(path);
        free(svg);
        assert_int_equal(rc, 0);
    }
    trace_destroy(tr);
}

static void svg_should_label_cpu_lanes_in_the_cpus_view(void **state)
{
    (void)state;
    struct trace *tr = demo_trace();
    char *svg = render(tr, LAYOUT_VIEW_CPUS, LAYOUT_THEME_LIGHT);
    assert_non_null(strstr(svg, ">CPU 0</text>"));
    assert_non_null(strstr(svg, ">CPU 1</text>"));
    assert_null(strstr(svg, ">blocked: lock</text>"));
    free(svg);
    trace_destroy(tr);
}

/* The owner lanes are labelled, the arrows are lines with an arrowhead
 * marker per kind, and the legend names them. */
static void svg_should_draw_owner_lanes_and_arrows(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    char *svg = render(tr, LAYOUT_VIEW_THREADS, LAYOUT_THEME_LIGHT);
    assert_non_null(strstr(svg, ">GIL (P)</text>"));
    assert_non_null(strstr(svg, ">lock L</text>"));
    assert_non_null(strstr(svg, ">GIL and lock owners</text>"));
    assert_non_null(strstr(svg, "<marker id=\"arrow0\""));
    assert_non_null(strstr(svg, "<marker id=\"arrow1\""));
    assert_non_null(strstr(svg, "marker-end=\"url(#arrow1)\""));
    assert_non_null(strstr(svg, ">hand-over</text>"));
    assert_non_null(strstr(svg, ">message</text>"));
    free(svg);
    trace_destroy(tr);
}

/* A holder's rectangles on an owner lane and its legend swatch are filled
 * with a hatching pattern of the holder's colour (as the PNG and the window
 * hatch them), so that a holder is not read as a thread of the state of
 * that colour; thread lanes stay plain. */
static void svg_should_hatch_owner_rectangles_and_their_legend_swatches(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    error_clear(&err);
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    uint32_t holder = UINT32_MAX;
    for (size_t i = 0; i < lay->nrects && holder == UINT32_MAX; i++)
        if (lay->lanes[lay->rects[i].lane].kind == LAYOUT_LANE_LOCK)
            holder = lay->rects[i].color;
    assert_int_not_equal(holder, UINT32_MAX);
    layout_destroy(lay);
    char *svg = render(tr, LAYOUT_VIEW_THREADS, LAYOUT_THEME_LIGHT);
    char want[64];
    snprintf(want, sizeof want, "<pattern id=\"h%06X\"", (unsigned)holder);
    const char *def = strstr(svg, want);
    assert_non_null(def);
    /* the pattern lies under the colour, then stripes of it half mixed with
     * the white background */
    snprintf(want, sizeof want, "fill=\"#%06X\"/><path", (unsigned)holder);
    assert_non_null(strstr(def, want));
    snprintf(want, sizeof want, "fill=\"url(#h%06X)\"", (unsigned)holder);
    const char *first = strstr(svg, want);
    assert_non_null(first);
    const char *swatch = strstr(svg, ">held by ");
    assert_non_null(swatch);
    /* a hatched rectangle before the legend (a lane) and one in it */
    assert_true(first < swatch);
    assert_non_null(strstr(swatch, "fill=\"url(#h"));
    free(svg);
    trace_destroy(tr);
}

/* What a real run's full event buffer left unrecorded is striped with a
 * pattern defined once, on the lane and in the legend's swatch. */
static void svg_should_stripe_what_was_not_recorded(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    char *plain = render(tr, LAYOUT_VIEW_THREADS, LAYOUT_THEME_LIGHT);
    assert_null(strstr(plain, "unrecorded"));
    free(plain);
    tr->tasks[1].recorded_until = 500;
    char *svg = render(tr, LAYOUT_VIEW_THREADS, LAYOUT_THEME_LIGHT);
    const char *def = strstr(svg, "<pattern id=\"unrecorded\"");
    assert_non_null(def);
    assert_null(strstr(def + 1, "<pattern id=\"unrecorded\""));
    const char *lane = strstr(svg, "fill=\"url(#unrecorded)\"");
    const char *swatch = strstr(svg, ">not recorded: the thread");
    assert_non_null(lane);
    assert_non_null(swatch);
    assert_true(def < lane && lane < swatch);
    free(svg);
    trace_destroy(tr);
}

/* At 1920 pixels (a projector) the body text is 16 pixels. */
static void svg_should_scale_text_for_a_1920_pixel_slide(void **state)
{
    (void)state;
    struct trace *tr = demo_trace();
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = 1920;
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(svg_write(lay, f, &err), STATUS_OK);
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(buf, "font-size=\"16\">"));
    assert_non_null(strstr(buf, "font-size=\"20\" font-weight=\"bold\""));
    free(buf);
    layout_destroy(lay);
    trace_destroy(tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(svg_should_write_text_elements_for_title_labels_and_axis),
        cmocka_unit_test(svg_should_be_the_same_bytes_every_time),
        cmocka_unit_test(svg_should_be_well_formed_xml),
        cmocka_unit_test(svg_should_label_cpu_lanes_in_the_cpus_view),
        cmocka_unit_test(svg_should_draw_owner_lanes_and_arrows),
        cmocka_unit_test(svg_should_hatch_owner_rectangles_and_their_legend_swatches),
        cmocka_unit_test(svg_should_stripe_what_was_not_recorded),
        cmocka_unit_test(svg_should_scale_text_for_a_1920_pixel_slide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
