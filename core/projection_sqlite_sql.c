/* projection_sqlite_sql.c: the names of a projection's tables in the store's
 * SQLite file and the SQL helpers the backend's files share (see
 * projection_sqlite_internal.h), and finding a read model's checkpoints; errors go
 * through the store's own messages. */
#include "projection_sqlite_internal.h"

#include "sqlite_util.h"
#include "store_migrate.h"
#include "store_sqlite.h"

/* Appends the quoted name of one of p's tables:
 * "proj_NAME[__rebuild][_history|_keys|_counts|_ck_rows|_ck_at]". */
void psq_add_table(strbuf *sb, const char *name, bool rebuild, enum table_kind kind)
{
    static const char *const suffix[2][6] = {
        {"", "_history", "_keys", "_counts", "_ck_rows", "_ck_at"},
        {"__rebuild", "__rebuild_history", "__rebuild_keys", "__rebuild_counts",
         "__rebuild_ck_rows", "__rebuild_ck_at"}};
    sqlu_add_ident(sb, "proj_", name, suffix[rebuild][kind]);
}

sqlite3 *psq_db(struct store *s)
{
    return (sqlite3 *)store_sqlite_db(s);
}

/* The store's own message for the last failure on db (a locked store, a full
 * disk, a read-only file, ...), saying what was being done. */
int psq_error(struct store *s, err *e, const char *doing)
{
    return store_sqlite_error(s, sqlite3_extended_errcode(psq_db(s)), e, doing);
}

int psq_exec(struct store *s, const char *sql, err *e, const char *doing)
{
    if (sqlite3_exec(psq_db(s), sql, NULL, NULL, NULL) != SQLITE_OK)
        return psq_error(s, e, doing);
    return ST_OK;
}

sqlite3_stmt *psq_prepare(struct store *s, const char *sql, err *e, const char *doing)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(psq_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
        psq_error(s, e, doing);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* The history of one key, newest first, from position ?2 back (?1 = the key),
 * with epochs of epoch ?3 only: one descending seek in the (epoch, key,
 * valid_from) index. */
void psq_add_history_walk_sql(strbuf *sql, const struct projection_spec *p, bool rebuild,
                              bool epochs)
{
    sb_adds(sql, "SELECT row, changes FROM ");
    psq_add_table(sql, p->name, rebuild, T_HISTORY);
    sb_adds(sql, epochs ? " WHERE epoch = ?3 AND key = ?1 AND valid_from <= ?2"
                        : " WHERE key = ?1 AND valid_from <= ?2");
    sb_adds(sql, " ORDER BY valid_from DESC");
}

bool psq_epochs(struct store *s)
{
    return store_sqlite_format(s) >= store_migration_number("projection_history_epochs");
}

/* ---- finding checkpoints (projection_sqlite_ckpt.c says what they are) ---- */

/* Runs st (a query of one checkpoint: at, hist_rowid, n, given `at` as ?1) and
 * finalizes it; *found false when it gives no row. */
static int ck_read(struct store *s, sqlite3_stmt *st, int64_t at, int64_t *ck, int64_t *hr,
                   int64_t *n, bool *found, err *e)
{
    sqlite3_bind_int64(st, 1, at);
    int step = sqlite3_step(st), rc = ST_OK;
    if (step == SQLITE_ROW) {
        *ck = sqlite3_column_int64(st, 0);
        *hr = sqlite3_column_int64(st, 1);
        *n = sqlite3_column_int64(st, 2);
        *found = true;
    } else if (step != SQLITE_DONE) {
        rc = psq_error(s, e, "reading a projection's checkpoints");
    }
    sqlite3_finalize(st);
    return rc;
}

/* The newest checkpoint at or before `at`: *found false when none (or when the
 * tables are not there: a store from before them, not yet folded). */
int psq_ck_find(struct store *s, const struct projection_spec *p, bool rebuild, int64_t at,
                int64_t *ck, int64_t *hr, int64_t *n, bool *found, err *e)
{
    *found = false;
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT at, hist_rowid, n FROM ");
    psq_add_table(&sql, p->name, rebuild, T_CK_AT);
    sb_adds(&sql, " WHERE at <= ?1 ORDER BY at DESC LIMIT 1");
    sqlite3_stmt *st = NULL;
    int prc = sqlite3_prepare_v2(psq_db(s), sql.buf, -1, &st, NULL);
    sb_done(&sql);
    if (prc != SQLITE_OK) {
        sqlite3_finalize(st);
        return ST_OK;
    }
    return ck_read(s, st, at, ck, hr, n, found, e);
}

/* The oldest checkpoint after `at` (*found false: none). */
int psq_ck_find_after(struct store *s, const struct projection_spec *p, int64_t at, int64_t *ck,
                      int64_t *hr, int64_t *n, bool *found, err *e)
{
    *found = false;
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT at, hist_rowid, n FROM ");
    psq_add_table(&sql, p->name, false, T_CK_AT);
    sb_adds(&sql, " WHERE at > ?1 ORDER BY at LIMIT 1");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's checkpoints");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    return ck_read(s, st, at, ck, hr, n, found, e);
}
