/* store_sqlite_copy.c: what the SQLite store gives `strata copy`
 * (core/store_copy.c): copy_put, one row of a table copies carry as it is
 * (store.h's store_copy_tables), and clear_times, which removes the append times
 * the copy's own appends wrote before the source's are put in their place. */
#include <stdio.h>

#include "sqlite_util.h"
#include "store_sqlite_internal.h"

/* sqlu_error directly: this file is below store_sqlite.c (check-cycles.py). */
static int fail(struct sq_store *ss, int rc, err *e, const char *doing)
{
    return sqlu_error(ss->db, rc, ss->base.path, ss->busy_ms, e, doing);
}

int sq_copy_put(struct store *s, const char *table, const struct store_cell *cells, size_t n,
                err *e)
{
    struct sq_store *ss = (struct sq_store *)s;
    if (ss->read_only)
        return err_set(e, ST_ERR, "%s: the store was opened read-only", s->path);
    const struct store_copy_table *t = store_copy_table(table);
    if (!t)
        return err_set(e, ST_USAGE, "%s is not a table a copy carries", table);
    if (ss->format < t->since_format)
        return err_set(e, ST_ERR,
                       "%s has no table %s (store format %d; it came with format %d): copy into "
                       "a store of a newer Strata",
                       s->path, table, ss->format, t->since_format);
    strbuf sql;
    sb_init(&sql);
    /* The table's name comes from store_copy_tables, never from input. */
    sb_addf(&sql, "INSERT OR IGNORE INTO %s(%s) VALUES(", t->name, t->columns);
    for (size_t i = 0; i < n; i++)
        sb_adds(&sql, i ? ", ?" : "?");
    sb_addc(&sql, ')');
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(ss->db, sql.buf, -1, &st, NULL);
    sb_done(&sql);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "copying a row");
    for (size_t i = 0; i < n; i++) {
        const struct store_cell *c = &cells[i];
        int k = (int)i + 1;
        switch (c->type) {
        case CELL_INT:
            sqlite3_bind_int64(st, k, c->i);
            break;
        case CELL_FLOAT:
            sqlite3_bind_double(st, k, c->f);
            break;
        case CELL_TEXT:
            sqlite3_bind_text(st, k, c->p, (int)c->len, SQLITE_TRANSIENT);
            break;
        case CELL_BLOB:
            sqlite3_bind_blob(st, k, c->p, (int)c->len, SQLITE_TRANSIENT);
            break;
        default:
            sqlite3_bind_null(st, k);
        }
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? ST_OK : fail(ss, rc, e, "copying a row");
}

int sq_clear_times(struct store *s, int64_t from, int64_t to, err *e)
{
    struct sq_store *ss = (struct sq_store *)s;
    if (ss->format < 3)
        return ST_OK;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        ss->db, "DELETE FROM append_times WHERE first_position >= ?1 AND first_position <= ?2", -1,
        &st, NULL);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "copying append times");
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? ST_OK : fail(ss, rc, e, "copying append times");
}
