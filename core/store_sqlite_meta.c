/* store_sqlite_meta.c: the SQLite store's notes about itself (store.h's meta_get
 * and meta_set): rows of strata_meta(key, value), the table every format has, so
 * a new note (the domain a store is used with) needs no format migration and an
 * older Strata simply ignores it. */
#include <sqlite3.h>

#include "sqlite_util.h"
#include "store_sqlite_internal.h"

/* sqlu_error directly, not sq_fail: this file is below store_sqlite.c. */
static int fail(struct sq_store *ss, int rc, err *e, const char *doing)
{
    return sqlu_error(ss->db, rc, ss->base.path, ss->busy_ms, e, doing);
}

int sq_meta_get(struct store *s, const char *key, char **value, err *e)
{
    struct sq_store *ss = (struct sq_store *)s;
    *value = NULL;
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(ss->db, "SELECT value FROM strata_meta WHERE key = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "reading strata_meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *value = sqlu_column_dup(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return *value ? ST_OK : ST_NOT_FOUND;
    if (rc == SQLITE_DONE)
        return ST_NOT_FOUND;
    return fail(ss, rc, e, "reading strata_meta");
}

int sq_meta_set(struct store *s, const char *key, const char *value, err *e)
{
    struct sq_store *ss = (struct sq_store *)s;
    if (ss->read_only)
        return err_set(e, ST_ERR, "%s: the store was opened read-only", s->path);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        ss->db, "INSERT OR REPLACE INTO strata_meta(key, value) VALUES(?1, ?2)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "writing strata_meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? ST_OK : fail(ss, rc, e, "writing strata_meta");
}
