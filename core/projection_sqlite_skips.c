/* projection_sqlite_skips.c: the events each projection was told to pass over,
 * in the store's projection_skips table (store format 2, store_migrate.c): the
 * SQLite backend's skip_add, skips_get and skips_count (projection_backend.h). A
 * store opened read-only at format 1 has no such table and has skipped nothing. */
#include <stdlib.h>
#include <string.h>

#include "projection_sqlite_internal.h"
#include "store_sqlite.h"

static bool has_table(struct store *s)
{
    return store_sqlite_format(s) >= 2;
}

int psq_skip_add(struct store *s, const char *name, int64_t position, const char *reason, err *e)
{
    if (!has_table(s))
        return err_set(e, ST_ERR,
                       "%s: this store's format records no skipped events; open it "
                       "with write access to upgrade it",
                       s->path);
    sqlite3_stmt *st = psq_prepare(
        s,
        "INSERT OR REPLACE INTO projection_skips(projection, position, reason, skipped_at) "
        "VALUES(?, ?, ?, ?)",
        e, "recording a skipped event");
    if (!st)
        return ST_ERR;
    char now[TIME_TEXT_LEN + 1];
    time_format_ms(time_now_ms(), now);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, position);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? ST_OK : psq_error(s, e, "recording a skipped event");
    sqlite3_finalize(st);
    return rc;
}

int psq_skips_get(struct store *s, const char *name, int64_t **positions, size_t *n, err *e)
{
    *positions = NULL;
    *n = 0;
    if (!has_table(s))
        return ST_OK;
    sqlite3_stmt *st = psq_prepare(
        s, "SELECT position FROM projection_skips WHERE projection = ? ORDER BY position", e,
        "reading skipped events");
    if (!st)
        return ST_ERR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *positions = xrealloc(*positions, cap * sizeof **positions);
        }
        (*positions)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    int rc = step == SQLITE_DONE ? ST_OK : psq_error(s, e, "reading skipped events");
    sqlite3_finalize(st);
    if (rc != ST_OK) {
        free(*positions);
        *positions = NULL;
        *n = 0;
    }
    return rc;
}

int psq_skips_count(struct store *s, const char *name, int64_t *count, err *e)
{
    *count = 0;
    if (!has_table(s))
        return ST_OK;
    sqlite3_stmt *st = psq_prepare(s, "SELECT count(*) FROM projection_skips WHERE projection = ?",
                                   e, "counting skipped events");
    if (!st)
        return ST_ERR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = ST_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        rc = psq_error(s, e, "counting skipped events");
    sqlite3_finalize(st);
    return rc;
}
