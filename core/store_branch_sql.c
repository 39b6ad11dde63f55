/* store_branch_sql.c: how a what-if branch runs its statements on an SQLite
 * main store (store_branch_sql.h), and which way serves a main store. */
#include "store_branch_sql.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "store_pg.h"
#include "store_sqlite.h"

static int sq_run(struct store *main, const char *sql, const struct br_arg *args, size_t nargs,
                  br_row_fn fn, void *ctx, int64_t *changes, err *e, const char *doing)
{
    sqlite3 *db = store_sqlite_db(main);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_sqlite_error(main, rc, e, doing);
    }
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].is_num)
            sqlite3_bind_int64(st, (int)i + 1, args[i].num);
        else if (args[i].text)
            sqlite3_bind_text(st, (int)i + 1, args[i].text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, (int)i + 1);
    }
    int out = ST_OK, ncol = sqlite3_column_count(st);
    const char *small[16];
    const char **cells = ncol <= 16 ? small : xmalloc((size_t)ncol * sizeof *cells);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncol; i++)
            cells[i] = (const char *)sqlite3_column_text(st, i);
        if (fn && (out = fn(ctx, cells, ncol, e)) != ST_OK)
            break;
    }
    if (cells != small)
        free(cells);
    if (out == ST_OK && rc != SQLITE_DONE) {
        out = store_sqlite_error(main, rc, e, doing);
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            out = ST_DUPLICATE;
    }
    if (out == ST_OK && changes)
        *changes = sqlite3_changes(db);
    sqlite3_finalize(st);
    return out;
}

const struct br_sql br_sql_sqlite = {sq_run, store_sqlite_format, "LIKE"};

const struct br_sql *br_sql_for(struct store *main)
{
    if (store_sqlite_db(main))
        return &br_sql_sqlite;
    if (store_pg_conn(main))
        return &br_sql_pg;
    return NULL;
}
