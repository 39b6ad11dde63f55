/* projection_pg_sql.c: the names of a projection's tables in the PostgreSQL
 * store's database and the helpers the backend's files share (see
 * projection_pg_internal.h): the store's connection, statements with text
 * parameters, and failures in the store's words. */
#include <string.h>

#include "projection_pg_internal.h"
#include "store_pg.h"

void ppg_add_table(strbuf *sb, const char *name, bool rebuild, enum ppg_table kind)
{
    static const char *const suffix[2][3] = {{"", "_history", "_keys"},
                                             {"__rebuild", "__rebuild_history", "__rebuild_keys"}};
    pgu_add_ident(sb, "proj_", name, suffix[rebuild][kind]);
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation ... already exists, skipping" and the like */
}

PGconn *ppg_conn(struct store *s)
{
    PGconn *c = (PGconn *)store_pg_conn(s);
    PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

int ppg_error(struct store *s, const PGresult *r, err *e, const char *doing)
{
    return pgu_error(ppg_conn(s), r, s->path, STORE_BUSY_TIMEOUT_MS, e, doing);
}

PGresult *ppg_run(struct store *s, const char *sql, int n, const char *const *params, err *e,
                  const char *doing)
{
    PGresult *r = PQexecParams(ppg_conn(s), sql, n, NULL, params, NULL, NULL, 0);
    if (!pgu_ok(r)) {
        ppg_error(s, r, e, doing);
        PQclear(r);
        return NULL;
    }
    return r;
}

int ppg_exec(struct store *s, const char *sql, err *e, const char *doing)
{
    PGresult *r = PQexec(ppg_conn(s), sql);
    int rc = pgu_ok(r) ? ST_OK : ppg_error(s, r, e, doing);
    PQclear(r);
    return rc;
}

int ppg_ready(struct store *s, err *e)
{
    PGconn *c = ppg_conn(s);
    if (PQstatus(c) == CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE)
        return ST_OK;
    int64_t head;
    return store_head(s, &head, e); /* the store opens it again and sets the session up */
}
