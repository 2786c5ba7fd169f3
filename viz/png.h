/* The PNG renderer: a layout drawn by draw_layout (draw.h) into an
 * off-screen SDL2 surface, text by SDL2_ttf in DejaVu Sans, saved by
 * SDL2_image. Headless: no video
 * subsystem and no window, so it runs on servers and in CI. */
#ifndef THREADSIM_PNG_H
#define THREADSIM_PNG_H

#include <stdio.h>

#include "sim/error.h"
#include "viz/layout.h"

/* Draws lay, lay->width by lay->height pixels, the same picture as
 * svg_write, and writes it as a PNG image to out (opened for writing in
 * binary; the caller closes it). The font is DejaVu Sans as fontconfig finds
 * it. Returns STATUS_OK, or STATUS_INTERNAL with err filled when no font is
 * found, SDL fails or out reports a write error. */
enum status png_write(const struct layout *lay, FILE *out, struct error *err);

#endif
