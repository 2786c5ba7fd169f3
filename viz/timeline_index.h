/* An index of a trace's segments by lane and time, with coarser levels, so
 * that the viewer lays out only the visible window of a long trace, at most
 * a few segments per pixel column: a frame costs about the same at any zoom.
 * Pure C, no display. */
#ifndef THREADSIM_TIMELINE_INDEX_H
#define THREADSIM_TIMELINE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/trace.h"
#include "viz/layout.h"

struct timeline_index;

/* Indexes tr's segments for one view: lanes are threads (LAYOUT_VIEW_THREADS)
 * or CPUs. tr must outlive the index. O(segments log) time. */
struct timeline_index *timeline_index_create(const struct trace *tr, enum layout_view view);
void timeline_index_destroy(struct timeline_index *ix);

/* A trace to lay out [from, to) with plot_w pixel columns: it borrows all of
 * the indexed trace but its segments, which are those overlapping the window,
 * and its instants: those in the window, preceded by the history its owner
 * lanes and arrows need (the takes of the GILs and locks held at its start,
 * the starts of the arrows ending in it, and at most about a thousand
 * instants before it), so the layout's work does not grow with the time
 * before the window. (When the trace's instants are not in time order, all
 * those up to the window's end.) The instants are copies: the index of one
 * in the trace is timeline_index_instant_origin. When a column spans many
 * segments, runs of segments shorter than a time bucket (at most a column
 * wide) are replaced by one summary segment per bucket, of the state that
 * covers most of it and as long as the time they cover, so the layout's
 * per-column summary draws the same picture. Valid until the next call or
 * timeline_index_destroy; never pass it to trace_destroy. */
const struct trace *timeline_index_window(struct timeline_index *ix, int64_t from, int64_t to,
                                          int plot_w);

/* The window as timeline_index_window gives it, then cut to at most about
 * one segment per pixel column and lane for a layout whose plot spans
 * columns [plot_x0, plot_x1) (those of a previous layout of the same width,
 * view and traces): the segments too short for a rectangle of their own in
 * one column become one segment of the key covering most of the column, as
 * long as the time they cover, so the layout draws exactly what it would
 * draw from the window. */
const struct trace *timeline_index_window_px(struct timeline_index *ix, int64_t from, int64_t to,
                                             int plot_x0, int plot_x1);

/* The original segment of lane (a task, or a CPU number in the cpus view)
 * covering time t, or NULL. */
const struct trace_segment *timeline_index_find(const struct timeline_index *ix, uint32_t lane,
                                                int64_t t);

/* The arrows of kind in the last window that it leaves out: when a window
 * holds many instants a pixel column (threads view), its instants are made
 * from a level of detail built with the index (the times each GIL and lock
 * was held, summarised per column as segments are; the prints, at most a
 * few a column; the arrows of the thread pairs the layout would draw), and
 * the arrows of a pair the layout would drop as too dense are left out of
 * it: pass them in layout_options.arrows_left_out so the legend counts them. */
size_t timeline_index_arrows_left_out(const struct timeline_index *ix,
                                      enum layout_arrow_kind kind);

/* Whether the last window's owner lanes are made from summarised holder
 * times (a level of detail coarser than the times held, above): a column
 * then shows the holder that held most of a time bucket at most half a
 * column long, placed at the bucket's first take, rather than the one that
 * held most of the column, and layout_rect.merged counts summaries. Else
 * the window gives the picture of the whole trace exactly. */
bool timeline_index_instants_summarised(const struct timeline_index *ix);

/* The index in the indexed trace of the last window's instant i. */
size_t timeline_index_instant_origin(const struct timeline_index *ix, size_t i);

/* The number of segments the last window holds. */
size_t timeline_index_window_size(const struct timeline_index *ix);

#endif
