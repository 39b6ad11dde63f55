/* projection_sqlite_sql.c: the names of a projection's tables in the store's
 * SQLite file and the SQL helpers the backend's files share (see
 * projection_sqlite_internal.h); errors go through the store's own messages. */
#include "projection_sqlite_internal.h"

#include "sqlite_util.h"
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

/* The history of one key, newest first, from position ?2 back (?1 = the key). */
void psq_add_history_walk_sql(strbuf *sql, const struct projection_spec *p, bool rebuild)
{
    sb_adds(sql, "SELECT row, changes FROM ");
    psq_add_table(sql, p->name, rebuild, T_HISTORY);
    sb_adds(sql, " WHERE key = ?1 AND valid_from <= ?2 ORDER BY valid_from DESC");
}
