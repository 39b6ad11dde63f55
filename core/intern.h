/* intern.h: a table that gives each distinct key (a string, or any bytes) a
 * small dense id, 0, 1, 2, ... in order of first sight (core/intern.c). The
 * analyses of a log (inspect_*.c) key their per-type, per-stream and per-variant
 * state by these ids, so that an event costs one hash probe and a sequence of types
 * is an array of ids, not of strings. */
#ifndef STRATA_INTERN_H
#define STRATA_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct intern {
    char **keys;     /* keys[id]: a copy, NUL-terminated (bytes keys too) */
    size_t *lens;    /* lens[id] */
    size_t n, cap;   /* ids in use; room in keys */
    uint32_t *slots; /* open addressing: id + 1, 0 = empty */
    size_t nslots;   /* a power of two */
};

void intern_init(struct intern *t);
void intern_done(struct intern *t);
/* The id of key[0..len), added when new (*added set when not NULL). */
uint32_t intern_put(struct intern *t, const void *key, size_t len, int *added);
/* The id of key, or -1 when absent. */
int64_t intern_find(const struct intern *t, const void *key, size_t len);

#endif
