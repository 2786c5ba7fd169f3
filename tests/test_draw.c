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
/* The lecture scenarios' descriptions quote the notes in Russian and Chinese:
 * DejaVu has the Cyrillic, the fallback (fonts-wqy-microhei, installed by
 * scripts/install-deps.sh) the Chinese. */
static void draw_fonts_should_cover_the_lecture_notes_languages(void **state)
{
    (void)state;
    struct error err = {0};
    struct draw_fonts *fonts = draw_fonts_create(16, &err);
    assert_non_null(fonts);
    assert_true(draw_fonts_covers(fonts, 'A'));
    assert_true(draw_fonts_covers(fonts, 0x0416));  /* Ж */
    assert_true(draw_fonts_covers(fonts, 0x4E2D));  /* 中 */
    assert_true(draw_fonts_covers(fonts, 0x6761));  /* 条 */
    assert_false(draw_fonts_covers(fonts, 0xE000)); /* private use: no font has it */
    draw_fonts_destroy(fonts);
}

/* The pixels text leaves on a white 200 x 40 surface, as a mask. */
static uint8_t *string_pixels(const struct draw_fonts *fonts, const char *text)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, 200, 40, 32, SDL_PIXELFORMAT_ARGB8888);
    assert_non_null(s);
    SDL_FillRect(s, NULL, 0xFFFFFFFFu);
    struct error err = {0};
    assert_int_equal(draw_string(s, fonts, false, 2, 2, 0x000000, text, &err), STATUS_OK);
    uint8_t *mask = malloc(200 * 40);
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < 200; x++)
            mask[y * 200 + x] = surface_rgb(s, x, y) != 0xFFFFFF;
    SDL_FreeSurface(s);
    return mask;
}

/* A viewer's panel and tooltips set Chinese in the fallback font, as the
 * picture does: the glyph drawn is not the box of a character no font has,
 * and its width is measured in the font that draws it. */
static void draw_string_should_set_chinese_in_the_fallback_font(void **state)
{
    (void)state;
    struct error err = {0};
    struct draw_fonts *fonts = draw_fonts_create(16, &err);
    assert_non_null(fonts);
    uint8_t *zh = string_pixels(fonts, "\xe4\xb8\xad"), *box = string_pixels(fonts, "\xee\x80\x80");
    size_t ink = 0;
    for (size_t i = 0; i < 200 * 40; i++)
        ink += zh[i];
    assert_true(ink > 20);
    assert_memory_not_equal(zh, box, 200 * 40);
    /* a CJK glyph is about a square of the text size, wider than a Latin letter */
    assert_true(draw_text_width(fonts, false, "\xe4\xb8\xad") > draw_text_width(fonts, false, "a"));
    assert_true(draw_text_width(fonts, true, "lock \xe4\xb8\xad") >
                draw_text_width(fonts, true, "lock "));
    free(zh);
    free(box);
    draw_fonts_destroy(fonts);
}

/* A GIL or lock holder's colour is a thread colour, which may be a state's
 * (the third thread's is running's green): owner rectangles and their legend
 * swatches are hatched, thread rectangles and state swatches are not. */
static void draw_layout_should_hatch_owner_lanes_but_not_thread_lanes(void **state)
{
    (void)state;
    struct trace *tr = owner_trace();
    struct layout_options o;
    struct error err = {0};
    layout_options_init(&o);
    o.width = 800;
    struct layout *lay = layout_create(tr, &o, &err);
    assert_non_null(lay);
    struct draw_fonts *fonts = draw_fonts_create(lay->font_px, &err);
    assert_non_null(fonts);
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, lay->width, lay->height, 32,
                                                    SDL_PIXELFORMAT_ARGB8888);
    assert_int_equal(draw_layout(s, lay, fonts, &err), STATUS_OK);
    int hatched = 0, plain = 0;
    for (size_t i = 0; i < lay->nrects; i++) {
        const struct layout_rect *r = &lay->rects[i];
        const struct layout_lane *ln = &lay->lanes[r->lane];
        if (r->x1 - r->x0 < 16)
            continue;
        /* a row across the rectangle above the holder's name: one colour, or two */
        int y = ln->y + ln->h / 5, other = 0;
        for (int x = r->x0 + 1; x < r->x1 - 1; x++)
            other += surface_rgb(s, x, y) != r->color;
        if (ln->kind == LAYOUT_LANE_GIL || ln->kind == LAYOUT_LANE_LOCK) {
            assert_true(other > (r->x1 - r->x0) / 5);
            hatched++;
        } else {
            assert_true(other * 10 < r->x1 - r->x0); /* an arrow may cross it */
            plain++;
        }
    }
    assert_true(hatched > 0 && plain > 0);
    bool holder = false;
    for (size_t i = 0; i < lay->nlegend; i++) {
        bool held = strncmp(lay->legend[i].label, "held by ", 8) == 0;
        assert_int_equal(lay->legend[i].shape == LAYOUT_LEGEND_HOLDER, held);
        holder |= held;
    }
    assert_true(holder);
    SDL_FreeSurface(s);
    draw_fonts_destroy(fonts);
    layout_destroy(lay);
    trace_destroy(tr);
}

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
        cmocka_unit_test(draw_fonts_should_cover_the_lecture_notes_languages),
        cmocka_unit_test(draw_string_should_set_chinese_in_the_fallback_font),
        cmocka_unit_test(draw_layout_should_hatch_owner_lanes_but_not_thread_lanes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
