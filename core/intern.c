/* intern.c: the id table of intern.h: open addressing on FNV-1a hashes, grown at
 * half full; the keys are copied, each in its own allocation. */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void intern_init(struct intern *t)
{
    memset(t, 0, sizeof *t);
}

void intern_done(struct intern *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->lens);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static uint64_t hash_of(const void *key, size_t len)
{
    return hash_fnv1a(1469598103934665603ULL, key, len);
}

static void grow(struct intern *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 64;
    uint32_t *slots = xcalloc(ns, sizeof *slots);
    for (size_t id = 0; id < t->n; id++) {
        size_t i = (size_t)hash_of(t->keys[id], t->lens[id]) & (ns - 1);
        while (slots[i])
            i = (i + 1) & (ns - 1);
        slots[i] = (uint32_t)id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = ns;
}

int64_t intern_find(const struct intern *t, const void *key, size_t len)
{
    if (!t->nslots)
        return -1;
    size_t i = (size_t)hash_of(key, len) & (t->nslots - 1);
    for (; t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
        uint32_t id = t->slots[i] - 1;
        if (t->lens[id] == len && memcmp(t->keys[id], key, len) == 0)
            return id;
    }
    return -1;
}

uint32_t intern_put(struct intern *t, const void *key, size_t len, int *added)
{
    if ((t->n + 1) * 2 > t->nslots)
        grow(t);
    size_t i = (size_t)hash_of(key, len) & (t->nslots - 1);
    for (; t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
        uint32_t id = t->slots[i] - 1;
        if (t->lens[id] == len && memcmp(t->keys[id], key, len) == 0) {
            if (added)
                *added = 0;
            return id;
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->keys = xrealloc(t->keys, t->cap * sizeof *t->keys);
        t->lens = xrealloc(t->lens, t->cap * sizeof *t->lens);
    }
    char *copy = xmalloc(len + 1);
    memcpy(copy, key, len);
    copy[len] = 0;
    t->keys[t->n] = copy;
    t->lens[t->n] = len;
    t->slots[i] = (uint32_t)t->n + 1;
    if (added)
        *added = 1;
    return (uint32_t)t->n++;
}
