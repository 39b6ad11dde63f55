/* store_pg_branch.c: how a what-if branch (store_branch.c) runs its statements on
 * a PostgreSQL main store (store_branch_sql.h): on the store's connection, inside
 * its open transaction if there is one, with text parameters. A failure ends the
 * caller's transaction as any of the store's own statements' failures do
 * (pg_fail). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "store_branch_sql.h"
#include "store_pg_internal.h"

/* sql with each '?' turned into $1, $2, ... */
static void number_params(strbuf *out, const char *sql)
{
    int k = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '?')
            sb_addf(out, "$%d", ++k);
        else
            sb_addc(out, *p);
    }
}

static int pgb_run(struct store *main, const char *sql, const struct br_arg *args, size_t nargs,
                   br_row_fn fn, void *ctx, int64_t *changes, err *e, const char *doing)
{
    struct pg_store *ps = (struct pg_store *)main;
    if (ps->tx == PG_TX_ABORTED)
        return store_aborted_error(e);
    if (pg_ensure_connected(ps, e) != ST_OK)
        return ST_ERR;
    strbuf q;
    sb_init(&q);
    number_params(&q, sql);
    const char **params = xcalloc(nargs + 1, sizeof *params);
    char(*nums)[24] = xcalloc(nargs + 1, sizeof *nums);
    for (size_t i = 0; i < nargs; i++)
        params[i] = args[i].is_num ? pgu_i64(nums[i], args[i].num) : args[i].text;
    PGresult *r = PQexecParams(ps->conn, q.buf, (int)nargs, NULL, params, NULL, NULL, 0);
    sb_done(&q);
    free(params);
    free(nums);
    int rc = ST_OK;
    if (!pgu_ok(r)) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        bool unique = state && strcmp(state, "23505") == 0;
        rc = pg_fail(ps, r, e, doing);
        if (unique)
            rc = ST_DUPLICATE;
        PQclear(r);
        return rc;
    }
    int rows = PQntuples(r), ncol = PQnfields(r);
    const char *small[16];
    const char **cells = ncol <= 16 ? small : xmalloc((size_t)ncol * sizeof *cells);
    for (int i = 0; fn && rc == ST_OK && i < rows; i++) {
        for (int c = 0; c < ncol; c++)
            cells[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
        rc = fn(ctx, cells, ncol, e);
    }
    if (cells != small)
        free(cells);
    if (changes) {
        const char *t = PQcmdTuples(r);
        *changes = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(r);
    return rc;
}

static int pgb_format(struct store *main)
{
    return (int)((struct pg_store *)main)->format;
}

const struct br_sql br_sql_pg = {pgb_run, pgb_format, "ILIKE"};
