/* store_sqlite_cache.c: the SQLite store's stream cache, an open-addressing hash
 * table of stream name -> (id, version) for the length of one transaction (see
 * store_sqlite_cache.h). */
#include "store_sqlite_cache.h"

#include <stdlib.h>
#include <string.h>

void stream_cache_clear(struct stream_cache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].name);
    free(c->slots);
    free(c->dirty_at);
    c->slots = NULL;
    c->dirty_at = NULL;
    c->cap = c->len = c->ndirty = c->dirty_cap = 0;
}

static void dirty_push(struct stream_cache *c, size_t at)
{
    if (c->ndirty == c->dirty_cap) {
        c->dirty_cap = c->dirty_cap ? c->dirty_cap * 2 : 16;
        c->dirty_at = xrealloc(c->dirty_at, c->dirty_cap * sizeof *c->dirty_at);
    }
    c->dirty_at[c->ndirty++] = at;
}

static struct cache_entry *cache_slot(struct stream_cache *c, const char *name)
{
    uint64_t h = hash_fnv1a(HASH_FNV_INIT, name, strlen(name));
    size_t i = (size_t)h & (c->cap - 1);
    while (c->slots[i].name && strcmp(c->slots[i].name, name) != 0)
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

struct cache_entry *stream_cache_find(struct stream_cache *c, const char *name)
{
    if (!c->cap)
        return NULL;
    struct cache_entry *ce = cache_slot(c, name);
    return ce->name ? ce : NULL;
}

void stream_cache_put(struct stream_cache *c, const char *name, int64_t id, int64_t version,
                      int64_t last_position, bool dirty)
{
    if ((c->len + 1) * 4 > c->cap * 3) {
        struct stream_cache bigger = {xcalloc(c->cap ? c->cap * 2 : 64, sizeof(struct cache_entry)),
                                      c->cap ? c->cap * 2 : 64,
                                      0,
                                      c->dirty_at,
                                      0,
                                      c->dirty_cap};
        for (size_t i = 0; i < c->cap; i++)
            if (c->slots[i].name) {
                struct cache_entry *to = cache_slot(&bigger, c->slots[i].name);
                *to = c->slots[i];
                bigger.len++;
                if (to->dirty) /* the slots moved: list them again */
                    dirty_push(&bigger, (size_t)(to - bigger.slots));
            }
        free(c->slots);
        *c = bigger;
    }
    struct cache_entry *ce = cache_slot(c, name);
    if (!ce->name) {
        ce->name = xstrdup(name);
        c->len++;
    }
    stream_cache_set(c, ce, id, version, last_position, dirty);
}

void stream_cache_set(struct stream_cache *c, struct cache_entry *ce, int64_t id, int64_t version,
                      int64_t last_position, bool dirty)
{
    ce->id = id;
    ce->version = version;
    ce->last_position = last_position;
    if (dirty && !ce->dirty)
        dirty_push(c, (size_t)(ce - c->slots));
    ce->dirty = dirty;
}
