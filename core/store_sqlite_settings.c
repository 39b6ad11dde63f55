/* store_sqlite_settings.c: the page cache each SQLite connection opened from now
 * on gets (store_set_cache_kib, store.h): 32 MB by default, for appends and
 * catch-up; the workbench asks for a small one (bench/RESULTS.md, tui_rss). A
 * leaf: the connection code reads it, nothing here calls back. */
#include <stdio.h>

#include "store_sqlite_internal.h"

static char cache_pragma[64] = "PRAGMA cache_size=" STORE_SQLITE_CACHE_SIZE;
static int cache_kib = 0;

void store_set_cache_kib(int kib)
{
    cache_kib = kib > 0 ? kib : 0;
    if (kib > 0)
        snprintf(cache_pragma, sizeof cache_pragma, "PRAGMA cache_size=-%d", kib);
    else
        snprintf(cache_pragma, sizeof cache_pragma, "PRAGMA cache_size=%s",
                 STORE_SQLITE_CACHE_SIZE);
}

const char *sq_cache_pragma(void)
{
    return cache_pragma;
}

bool sq_cache_small(int kib)
{
    return cache_kib > 0 && cache_kib <= kib;
}
