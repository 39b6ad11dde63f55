/* store_sqlite_cache.h: the stores' stream cache, stream name -> (id, version),
 * private to the backends (store_sqlite*.c, and store_pg*.c, which keeps one the
 * same way).
 *
 * Valid only inside an explicit transaction: while the store holds the write lock
 * nobody else can append, so an import of a million events need not look each
 * stream up again. The streams row of a stream appended to in the transaction is
 * written once at commit (dirty) instead of once per append, which is a tenth of
 * the append rate. Open addressing, cleared at rollback. A commit keeps up to
 * STREAM_CACHE_KEEP streams for the store's next transaction, which drops them
 * unless the file's data version is still the one the commit left (nothing,
 * in this process or another, changed the file in between). */
#ifndef STRATA_STORE_SQLITE_CACHE_H
#define STRATA_STORE_SQLITE_CACHE_H

#include "util.h"

#define STREAM_CACHE_KEEP 16384 /* streams a commit keeps: at most about 2 MB */

struct cache_entry {
    char *name; /* NULL = empty slot */
    int64_t id, version;
    int64_t last_position; /* meaningful when dirty */
    bool dirty;            /* streams row not yet updated to version/last_position */
};

struct stream_cache {
    struct cache_entry *slots;
    size_t cap, len;  /* cap is 0 or a power of two */
    size_t *dirty_at; /* the slots put dirty since the list was last emptied, so that a
                       * commit writes them without scanning a large kept table */
    size_t ndirty, dirty_cap;
};

void stream_cache_clear(struct stream_cache *c);
/* The entry of name, or NULL. */
struct cache_entry *stream_cache_find(struct stream_cache *c, const char *name);
/* Sets an entry stream_cache_find gave (no put since), as stream_cache_put would
 * for its name, without looking it up again. */
void stream_cache_set(struct stream_cache *c, struct cache_entry *ce, int64_t id, int64_t version,
                      int64_t last_position, bool dirty);
void stream_cache_put(struct stream_cache *c, const char *name, int64_t id, int64_t version,
                      int64_t last_position, bool dirty);

#endif
