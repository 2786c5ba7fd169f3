/* Ascending order for qsort, and the median of a sample: shared by the
 * comparison, the calibration, the command line, the tests and the
 * benchmarks, which all take medians of repeated measurements. */
#ifndef THREADSIM_ORDER_H
#define THREADSIM_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* qsort comparators of int64_t and double values, ascending. */
int order_int64(const void *a, const void *b);
int order_double(const void *a, const void *b);

/* A time and a place in a list (an instant's index in a trace): sorted with
 * order_stamp, by time, then by place, they visit a trace's instants in
 * time order (a real trace lists each thread's instants together). */
struct order_stamp {
    int64_t time;
    size_t index;
};
int order_stamp(const void *a, const void *b);

/* The median of v[0 .. n) (sorted in place): the middle value, or the mean
 * of the two middle ones when n is even; 0 when n is 0. */
double order_median(double *v, size_t n);

#endif
