/* The one allocation path of threadsim: out of memory is not recoverable for a
 * simulator, so these abort with a message instead of returning NULL. */
#ifndef THREADSIM_XALLOC_H
#define THREADSIM_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array to hold at least `need` elements of `elem` bytes, doubling;
 * updates *cap. Returns the (possibly moved) array. */
void *xgrow(void *ptr, size_t *cap, size_t need, size_t elem);
char *xstrdup(const char *s);

#endif
