/* sqlite_util.h: what the two SQLite files share: the event store's backend
 * (store_sqlite*.c) and the read models' backend (projection_sqlite*.c) keep their
 * tables in the same SQLite file, so they quote names, read results and turn
 * SQLite's failures into messages the same way. A PostgreSQL backend gets its own
 * counterpart. */
#ifndef STRATA_SQLITE_UTIL_H
#define STRATA_SQLITE_UTIL_H

#include <sqlite3.h>

#include "util.h"

/* Appends the identifier prefix + name + suffix double-quoted, with every '"' of
 * it doubled, since names come from domain files. prefix and suffix may be NULL. */
void sqlu_add_ident(strbuf *sb, const char *prefix, const char *name, const char *suffix);

/* Turns SQLite result code rc on db into a message a user can act on (a locked
 * store and how long it waited, a full disk, a read-only file or folder, a damaged
 * file, ...), naming the store file `path` and what was being done (`doing`:
 * "appending to Account-A"). busy_ms is the store's busy timeout. Returns ST_ERR. */
int sqlu_error(sqlite3 *db, int rc, const char *path, int busy_ms, err *e, const char *doing);

/* Reads one integer (a pragma, a count) with a statement of its own; returns the
 * SQLite result code (*out untouched when there is no row). */
int sqlu_query_int(sqlite3 *db, const char *sql, int64_t *out);

/* A copy of a text column (NULL for SQL NULL). */
char *sqlu_column_dup(sqlite3_stmt *st, int col);

/* Resets a statement and clears its bindings, so that no read snapshot outlives a
 * call and no borrowed string stays bound. */
void sqlu_reset(sqlite3_stmt *st);

#endif
