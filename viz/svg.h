/* The SVG renderer: a layout written as a standalone SVG 1.1 document (real
 * text elements), for slides and handouts. */
#ifndef THREADSIM_SVG_H
#define THREADSIM_SVG_H

#include <stdio.h>

#include "sim/error.h"
#include "viz/layout.h"

/* Writes lay as an SVG document to out. Deterministic: the same layout gives
 * the same bytes. Returns STATUS_OK, or STATUS_INTERNAL with err filled when
 * out reports a write error. */
enum status svg_write(const struct layout *lay, FILE *out, struct error *err);

#endif
