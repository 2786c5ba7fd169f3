/* One drawing routine for every SDL target: a layout drawn into any
 * SDL_Surface, the PNG export's off-screen surface or a window's surface.
 * Text is set by SDL2_ttf in DejaVu Sans, found through fontconfig. Only the
 * surface and the fonts are needed: no video subsystem, no window. */
#ifndef THREADSIM_DRAW_H
#define THREADSIM_DRAW_H

#include <SDL.h>

#include "sim/error.h"
#include "viz/layout.h"

#define DRAW_FONT_FAMILY "DejaVu Sans"

/* The fonts of a picture: regular and bold body text, and the bold title.
 * Opaque; one per size of text, reused for every frame. */
struct draw_fonts;

/* Finds DRAW_FONT_FAMILY (or fontconfig's nearest sans font) and opens it at
 * body_px for the body text (title a quarter larger). body_px is the
 * layout's font_px: the positions of the text are laid out for it. Starts
 * SDL_ttf (reference counted) but not SDL. Returns the fonts, or NULL with
 * err filled (STATUS_INTERNAL) when no font is installed or cannot be
 * opened: the message names the package to install. */
struct draw_fonts *draw_fonts_create(int body_px, struct error *err);

/* Closes the fonts and stops SDL_ttf if they started it. NULL is allowed. */
void draw_fonts_destroy(struct draw_fonts *fonts);

/* The body text size the fonts were opened at. */
int draw_fonts_px(const struct draw_fonts *fonts);

/* Draws the whole layout (background, title, lanes, rectangles, markers,
 * axis and legend) into dst at its top-left corner, clipped to dst. dst may
 * have any pixel format SDL can fill and blit to. Returns STATUS_OK, or
 * STATUS_INTERNAL with err filled when SDL fails to draw text. */
enum status draw_layout(SDL_Surface *dst, const struct layout *lay,
                        const struct draw_fonts *fonts, struct error *err);

#endif
