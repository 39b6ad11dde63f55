/* pg_util.h: what PostgreSQL code shares: the event store's backend (store_pg*.c)
 * and, later, the read models' keep their tables in the same database, so they run
 * statements, read results and turn libpq's failures into messages the same way
 * (the counterpart of sqlite_util.h). */
#ifndef STRATA_PG_UTIL_H
#define STRATA_PG_UTIL_H

#include <libpq-fe.h>

#include "util.h"

/* Appends name double-quoted with every '"' doubled (names come from domain files). */
void pgu_add_ident(strbuf *sb, const char *prefix, const char *name, const char *suffix);

/* Turns a failed result (r may be NULL: then the connection's message) into a
 * message a user can act on: a lock not had in busy_ms ("the store is locked by
 * another process"), a lost connection, a read-only session, a full disk, ...,
 * saying what was being done and naming the store by `display` (no password).
 * Returns the status: ST_CONFLICT for a serialisation failure or a deadlock (a
 * retry can succeed), ST_ERR otherwise. */
int pgu_error(PGconn *c, const PGresult *r, const char *display, int busy_ms, err *e,
              const char *doing);

/* True when r is a result of the kind wanted (PGRES_COMMAND_OK or PGRES_TUPLES_OK). */
bool pgu_ok(const PGresult *r);

/* Column `col` of row `row` as an integer (0 for NULL) or a copy of its text (NULL
 * for NULL). */
int64_t pgu_int(const PGresult *r, int row, int col);
char *pgu_dup(const PGresult *r, int row, int col);

/* Decimal text of v into buf (at least 24 bytes), for a text-format parameter. */
const char *pgu_i64(char *buf, int64_t v);

#endif
