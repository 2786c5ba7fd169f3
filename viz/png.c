/* The PNG renderer. See png.h. The picture is draw_layout's; this file only
 * makes the off-screen surface and saves it. */
#include "png.h"

#include <stdbool.h>

#include <SDL.h>
#include <SDL_image.h>

#include "draw.h"

static enum status png_save(SDL_Surface *surface, FILE *out, struct error *err)
{
    SDL_RWops *rw = SDL_RWFromFP(out, SDL_FALSE);
    if (!rw)
        return error_set(err, STATUS_INTERNAL, NULL, "cannot write the PNG image: %s",
                         SDL_GetError());
    /* IMG_SavePNG_RW closes rw (freeclose 1) but not out (autoclose false). */
    if (IMG_SavePNG_RW(surface, rw, 1) != 0)
        return error_set(err, STATUS_INTERNAL, NULL, "cannot write the PNG image: %s",
                         IMG_GetError());
    if (fflush(out) != 0 || ferror(out))
        return error_set(err, STATUS_INTERNAL, NULL, "cannot write the PNG image");
    return STATUS_OK;
}

enum status png_write(const struct layout *lay, FILE *out, struct error *err)
{
    enum status st = STATUS_OK;
    /* Only SDL's core, never the video subsystem: surfaces, fonts and PNG
     * files work without a display. Someone else's SDL (a viewer) stays up. */
    bool sdl_was_up = SDL_WasInit(SDL_INIT_EVERYTHING) != 0;
    if (SDL_Init(0) != 0)
        return error_set(err, STATUS_INTERNAL, NULL, "cannot start SDL: %s", SDL_GetError());
    struct draw_fonts *fonts = draw_fonts_create(lay->font_px, err);
    if (!fonts) {
        st = STATUS_INTERNAL;
        goto quit_sdl;
    }
    SDL_Surface *surface = SDL_CreateRGBSurfaceWithFormat(0, lay->width, lay->height, 32,
                                                          SDL_PIXELFORMAT_ARGB8888);
    if (!surface) {
        st = error_set(err, STATUS_INTERNAL, NULL, "cannot make a %d x %d image: %s",
                       lay->width, lay->height, SDL_GetError());
        goto close_fonts;
    }
    st = draw_layout(surface, lay, fonts, err);
    if (st == STATUS_OK)
        st = png_save(surface, out, err);
    SDL_FreeSurface(surface);
close_fonts:
    draw_fonts_destroy(fonts);
quit_sdl:
    if (!sdl_was_up)
        SDL_Quit();
    return st;
}
