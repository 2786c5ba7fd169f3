/* Unit tests of draw_layout, the one SDL drawing routine shared by the PNG
 * export and the viewer: any surface format gets the palette's colours, and a
 * machine without fonts gets an error instead of a crash. */
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

#include "trace_fixture.h"
#include "viz/draw.h"
#include "viz/layout.h"

static struct trace *two_state_trace(void)
{
    struct trace *tr = trace_create("draw demo", NULL, "sim", "fifo", 1, 0);
    uint32_t p = trace_add_process(tr, "main");
    trace_add_task(tr, "a", p);
    add_seg(tr, 0, 0, TRACE_RUNNING, REASON_NONE, 0, 2000000);
    add_seg(tr, 0, -1, TRACE_BLOCKED, REASON_SLEEP, 2000000, 4000000);
    tr->makespan = 4000000;
    return tr;
}

static uint32_t surface_rgb(SDL_Surface *s, int x, int y)
{
    Uint32 px = 0;
    const uint8_t *p = (const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch +
                       (size_t)x * s->format->BytesPerPixel;
    memcpy(&px, p, s->format->BytesPerPixel);
    Uint8 r, g, b;
    SDL_GetRGB(px, s->format, &r, &g, &b);
    return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

/* A window's surface is often XRGB8888 or ABGR8888, not the PNG's ARGB8888:
 * the rectangles still have the palette's exact colours. */
static void draw_layout_should_draw_palette_colours_into_any_surface_format(void **state)
{
    (void)state;
    static const Uint32 formats[] = { SDL_PIXELFORMAT_RGB888, SDL_PIXELFORMAT_ABGR8888,
                                      SDL_PIXELFORMAT_ARGB8888 };
    struct trace *tr = two_state_trace();
    struct layout_options o;
    struct error err;
    layout_options_init(&o);
    o.width = 480;
    error_clear(&err);
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    struct draw_fonts *fonts = draw_fonts_create(lay->font_px, &err);
    if (!fonts)
        fail_msg("draw_fonts_create: %s", err.msg);
    assert_int_equal(draw_fonts_px(fonts), lay->font_px);
    const struct layout_palette *pal = layout_palette(lay->theme);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, lay->width, lay->height, 32,
                                                        formats[f]);
        assert_non_null(s);
        assert_int_equal(draw_layout(s, lay, fonts, &err), STATUS_OK);
        assert_int_equal(lay->nrects, 2);
        for (size_t i = 0; i < lay->nrects; i++) {
            const struct layout_rect *r = &lay->rects[i];
            const struct layout_lane *ln = &lay->lanes[r->lane];
            assert_int_equal(surface_rgb(s, (r->x0 + r->x1) / 2, ln->y + ln->h / 2),
                             pal->key[r->key]);
        }
        SDL_FreeSurface(s);
    }
    draw_fonts_destroy(fonts);
    layout_destroy(lay);
    trace_destroy(tr);
}

/* fontconfig pointed at a configuration with no font directory finds no
 * font: the caller gets STATUS_INTERNAL and a message naming the package. */
static void draw_fonts_create_should_fail_clearly_without_fonts(void **state)
{
    (void)state;
    char dir[] = "/tmp/threadsim-test-draw-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf[512], cache[512];
    snprintf(conf, sizeof conf, "%s/fonts.conf", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "<?xml version=\"1.0\"?>\n<fontconfig><cachedir>%s</cachedir></fontconfig>\n",
            cache);
    assert_int_equal(fclose(f), 0);
    const char *old = getenv("FONTCONFIG_FILE");
    char *saved = old ? strdup(old) : NULL;
    setenv("FONTCONFIG_FILE", conf, 1);

    struct error err;
    error_clear(&err);
    struct draw_fonts *fonts = draw_fonts_create(12, &err);

    if (saved) {
        setenv("FONTCONFIG_FILE", saved, 1);
        free(saved);
    } else {
        unsetenv("FONTCONFIG_FILE");
    }
    unlink(conf);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);

    assert_null(fonts);
    assert_int_equal(err.status, STATUS_INTERNAL);
    assert_non_null(strstr(err.msg, "fonts-dejavu-core"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(draw_layout_should_draw_palette_colours_into_any_surface_format),
        cmocka_unit_test(draw_fonts_create_should_fail_clearly_without_fonts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
