/* store_sqlite.h: the SQLite backend of the event store (see store.h).
 *
 * Only store.c (to open a store) and modules that keep their own tables in the
 * same SQLite file (projections) include this; everything else talks to
 * `struct store` through store.h. */
#ifndef STRATA_STORE_SQLITE_H
#define STRATA_STORE_SQLITE_H

#include "store.h"

struct sqlite3;

/* Opens (or, with opt->create, creates) the SQLite store at path; ":memory:" is a
 * private in-memory store. opt must not be NULL. On error returns NULL with e set
 * to a message naming the file: not an SQLite database, an SQLite database that is
 * not a Strata store, a newer store format, no such store, ... */
struct store *store_sqlite_open(const char *path, const struct store_options *opt, err *e);

/* The connection behind an SQLite store, for modules that keep their own tables in
 * the same file. Owned by the store: do not close it, and leave no statement
 * un-reset across store calls. Returns NULL if s is not an SQLite store.
 * Inside a store transaction (store_begin), the streams table's version and
 * last_position columns are brought up to date at commit; event_log and the
 * events view are always current. */
struct sqlite3 *store_sqlite_db(struct store *s);

/* The store's message for SQLite result code rc on its connection (a locked store
 * and how long it waited, a full disk, a read-only file, ...), saying what was
 * being done, for modules that keep their own tables in the file. Returns ST_ERR. */
int store_sqlite_error(struct store *s, int rc, err *e, const char *doing);

/* The format of the open file (store_migrate.h): the newest, unless the store was
 * opened read-only and is older (then what newer formats add is absent, and
 * readers treat it as empty). 0 if s is not an SQLite store. */
int store_sqlite_format(struct store *s);

#endif
