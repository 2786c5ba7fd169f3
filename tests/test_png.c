/* Unit tests of the PNG renderer: an image of the requested size whose state
 * rectangles have exactly the palette's colours, made without a display. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <SDL.h>
#include <SDL_image.h>

#include "trace_fixture.h"
#include "viz/layout.h"
#include "viz/png.h"

/* Two threads passing a lock on one CPU: running, switch, ready, blocked on
 * the lock and asleep, each segment wide enough for its own rectangle. */
static struct trace *demo_trace(void)
{
    struct trace *tr = trace_create("png demo", NULL, "sim", "rr", 1, 0);
    uint32_t p = trace_add_process(tr, "main");
    trace_add_task(tr, "a", p);
    trace_add_task(tr, "b", p);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 2000000);
    add_seg(tr, 1, -1, TRACE_READY, REASON_NONE, 0, 2500000);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_SLEEP, 2000000, 6000000);
    add_seg(tr, 1, 0, TRACE_SWITCH, REASON_NONE, 2000000, 2500000);
    add_seg(tr, 1, 0, TRACE_RUNNING, REASON_NONE, 2500000, 4000000);
    add_seg(tr, 1, -1, TRACE_BLOCKED, REASON_LOCK, 4000000, 6000000);
    struct trace_instant pr = { .time = 1000000, .task = 0, .kind = INSTANT_PRINT,
                                .obj = UINT32_MAX };
    trace_instant_add(tr, &pr, "hello");
    tr->makespan = 6000000;
    return tr;
}

/* Writes the PNG of lay to a temporary file and loads it back as ARGB8888. */
static SDL_Surface *render_and_load(const struct layout *lay)
{
    char path[] = "/tmp/threadsim-test-png-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    struct error err;
    error_clear(&err);
    enum status st = png_write(lay, f, &err);
    assert_int_equal(fclose(f), 0);
    if (st != STATUS_OK)
        fail_msg("png_write: %s", err.msg);
    SDL_Surface *img = IMG_Load(path);
    unlink(path);
    if (!img)
        fail_msg("IMG_Load: %s", IMG_GetError());
    SDL_Surface *argb = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(img);
    assert_non_null(argb);
    return argb;
}

static uint32_t pixel_rgb(const SDL_Surface *s, int x, int y)
{
    const uint8_t *row = (const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch;
    uint32_t v;
    memcpy(&v, row + 4 * (size_t)x, sizeof v);
    return v & 0xFFFFFF;
}

static struct layout *make_layout(const struct trace *tr, int width, int height,
                                  enum layout_theme theme)
{
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = width;
    o.height = height;
    o.theme = theme;
    error_clear(&err);
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    return lay;
}

/* The centre of each rectangle of a state not seen before has that state's
 * palette colour, exactly: PNG is lossless and nothing is drawn over them. */
static void check_state_colours(enum layout_theme theme)
{
    struct trace *tr = demo_trace();
    struct layout *lay = make_layout(tr, 640, 240, theme);
    const struct layout_palette *pal = layout_palette(theme);
    SDL_Surface *img = render_and_load(lay);
    assert_int_equal(img->w, 640);
    assert_int_equal(img->h, 240);

    bool seen[LAYOUT_KEY_COUNT] = { false };
    int checked = 0;
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        if (seen[r->key])
            continue;
        seen[r->key] = true;
        const struct layout_lane *ln = &lay->lanes[r->lane];
        int x = (r->x0 + r->x1) / 2, y = ln->y + ln->h / 2;
        assert_int_equal(r->color, pal->key[r->key]);
        assert_int_equal(pixel_rgb(img, x, y), pal->key[r->key]);
        checked++;
    }
    assert_int_equal(checked, 5);
    assert_int_equal(pixel_rgb(img, 1, 1), pal->background);
    SDL_FreeSurface(img);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void png_should_draw_each_state_in_its_palette_colour(void **state)
{
    (void)state;
    check_state_colours(LAYOUT_THEME_LIGHT);
}

static void png_should_draw_the_dark_theme_in_its_palette_colours(void **state)
{
    (void)state;
    check_state_colours(LAYOUT_THEME_DARK);
}

/* Text is drawn: the title's and the first lane label's areas, empty in the
 * layout but for the text, hold pixels other than the background, and the
 * darkest of them is the text colour (anti-aliasing softens only edges). */
static void png_should_draw_the_title_and_lane_labels(void **state)
{
    (void)state;
    struct trace *tr = demo_trace();
    struct layout *lay = make_layout(tr, 800, 0, LAYOUT_THEME_LIGHT);
    const struct layout_palette *pal = layout_palette(LAYOUT_THEME_LIGHT);
    SDL_Surface *img = render_and_load(lay);
    assert_int_equal(img->w, lay->width);
    assert_int_equal(img->h, lay->height);
    int title_px = 0, label_px = 0, label_text_px = 0;
    for (int y = 0; y < lay->title_y + 4; y++)
        for (int x = 0; x < 200; x++)
            title_px += pixel_rgb(img, x, y) == pal->text;
    const struct layout_lane *ln = &lay->lanes[0];
    for (int y = ln->y; y < ln->y + ln->h; y++)
        for (int x = 0; x < lay->plot_x0; x++) {
            label_px += pixel_rgb(img, x, y) != pal->background;
            label_text_px += pixel_rgb(img, x, y) == pal->text;
        }
    assert_true(title_px > 20);
    assert_true(label_px > 20);
    assert_true(label_text_px > 0);
    SDL_FreeSurface(img);
    layout_destroy(lay);
    trace_destroy(tr);
}

/* True when a pixel within 1 of (x, y) has colour rgb. */
static bool near_colour(const SDL_Surface *s, int x, int y, uint32_t rgb)
{
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            if (pixel_rgb(s, x + dx, y + dy) == rgb)
                return true;
    return false;
}

/* The GIL lane shows its holders in their thread colours with the release
 * window as a gap, and the arrows are drawn in their kinds' colours over the
 * thread lanes. */
static void png_should_draw_the_gil_lane_and_arrows_in_their_colours(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    /* 1112 pixels: the plot spans 80 to 1080, a pixel per ns */
    struct layout *lay = make_layout(tr, 1112, 0, LAYOUT_THEME_LIGHT);
    const struct layout_palette *pal = layout_palette(LAYOUT_THEME_LIGHT);
    SDL_Surface *img = render_and_load(lay);
    const struct layout_lane *gil = &lay->lanes[2];
    assert_int_equal(gil->kind, LAYOUT_LANE_GIL);
    int gy = gil->y + gil->h / 2;
    assert_int_equal(pixel_rgb(img, 200, gy), pal->task[0]);
    assert_int_equal(pixel_rgb(img, 500, gy), pal->task[1]);
    assert_int_equal(pixel_rgb(img, 430, gy), pal->background); /* released */
    assert_int_equal(pixel_rgb(img, 1000, gy), pal->task[0]);

    int ya = lay->lanes[0].y + lay->lanes[0].h / 2, yb = lay->lanes[1].y + lay->lanes[1].h / 2;
    /* the lock's hand-over at 200 ns: a vertical line at x 280 */
    assert_int_equal(pixel_rgb(img, 280, (ya + yb) / 2), pal->arrow[LAYOUT_ARROW_HANDOVER]);
    /* the message from (580, ya) to (730, yb), at its middle */
    assert_true(near_colour(img, 655, (ya + yb) / 2, pal->arrow[LAYOUT_ARROW_MESSAGE]));
    SDL_FreeSurface(img);
    layout_destroy(lay);
    trace_destroy(tr);
}

static void png_should_report_a_write_error(void **state)
{
    (void)state;
    struct trace *tr = demo_trace();
    struct layout *lay = make_layout(tr, 400, 0, LAYOUT_THEME_LIGHT);
    FILE *f = fopen("/dev/full", "wb");
    if (!f) {
        layout_destroy(lay);
        trace_destroy(tr);
        skip();
    }
    struct error err;
    error_clear(&err);
    assert_int_equal(png_write(lay, f, &err), STATUS_INTERNAL);
    assert_true(err.msg[0] != '\0');
    fclose(f);
    layout_destroy(lay);
    trace_destroy(tr);
}

int main(void)
{
    /* No display at all: the renderer must never need the video subsystem. */
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_should_draw_each_state_in_its_palette_colour),
        cmocka_unit_test(png_should_draw_the_dark_theme_in_its_palette_colours),
        cmocka_unit_test(png_should_draw_the_title_and_lane_labels),
        cmocka_unit_test(png_should_draw_the_gil_lane_and_arrows_in_their_colours),
        cmocka_unit_test(png_should_report_a_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
