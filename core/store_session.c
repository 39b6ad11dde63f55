/* store_session.c: store_session (store.h): which server session a store is on.
 * A PostgreSQL store opens a lost connection again by itself between transactions
 * (store_pg_conn.c); the new session has a new backend process, so a workbench
 * that remembers the number can tell that it happened and say so. */
#include <libpq-fe.h>

#include "store.h"
#include "store_pg.h"

int64_t store_session(struct store *s)
{
    PGconn *c = (PGconn *)store_pg_conn(s);
    if (!c || PQstatus(c) != CONNECTION_OK)
        return 0;
    return (int64_t)PQbackendPID(c);
}
