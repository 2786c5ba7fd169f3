/* One drawing routine for every SDL target: a layout drawn into any
 * SDL_Surface, the PNG export's off-screen surface or a window's surface.
 * Text is set by SDL2_ttf in DejaVu Sans, found through fontconfig, with a
 * fallback font for the characters DejaVu lacks. Only the
 * surface and the fonts are needed: no video subsystem, no window. */
#ifndef THREADSIM_DRAW_H
#define THREADSIM_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include <SDL.h>

#include "sim/error.h"
#include "viz/layout.h"

#define DRAW_FONT_FAMILY "DejaVu Sans"
/* Characters DejaVu lacks (Chinese in the lecture scenarios) come from
 * fontconfig's font for this pattern when one is installed. */
#define DRAW_FALLBACK_PATTERN "sans-serif:lang=zh-cn"

/* Finds the font file fontconfig matches to a pattern (DRAW_FONT_FAMILY, or
 * its nearest font) into buf. Returns false when fontconfig knows no font at
 * all or the path does not fit. */
bool draw_font_path(const char *pattern, char *buf, size_t size);

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

/* True when the body face or its fallback has a glyph for the Unicode
 * character cp (so it is drawn, not shown as a box). */
bool draw_fonts_covers(const struct draw_fonts *fonts, uint32_t cp);

/* The body text size the fonts were opened at. */
int draw_fonts_px(const struct draw_fonts *fonts);

/* The width in pixels of a line of body text (bold or regular), with the
 * characters DejaVu lacks measured in the fallback font. */
int draw_text_width(const struct draw_fonts *fonts, bool bold, const char *text);

/* Draws a line of body text (bold or regular) with its top-left corner at
 * (x, top), the characters DejaVu lacks in the fallback font, as the
 * picture's own text (a viewer's panel and tooltips). Returns STATUS_OK, or
 * STATUS_INTERNAL with err filled when SDL_ttf fails. */
enum status draw_string(SDL_Surface *dst, const struct draw_fonts *fonts, bool bold, int x,
                        int top, uint32_t rgb, const char *text, struct error *err);

/* Draws the whole layout (background, title, lanes, rectangles, markers,
 * axis and legend) into dst at its top-left corner, clipped to dst. dst may
 * have any pixel format SDL can fill and blit to. Returns STATUS_OK, or
 * STATUS_INTERNAL with err filled when SDL fails to draw text. */
enum status draw_layout(SDL_Surface *dst, const struct layout *lay,
                        const struct draw_fonts *fonts, struct error *err);

#endif
