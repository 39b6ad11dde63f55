/* store_pg.h: the PostgreSQL backend of the event store (see store.h), through
 * libpq.
 *
 * Only store.c (to open a store) and modules that keep their own tables in the
 * same database (read models, when they get a PostgreSQL backend) include this;
 * everything else talks to `struct store` through store.h. */
#ifndef STRATA_STORE_PG_H
#define STRATA_STORE_PG_H

#include "store.h"

struct pg_conn;

/* Opens the PostgreSQL store that path names (a URI or "postgresql:" + conninfo,
 * see store_kind_of), creating the schema in the database when opt->create says
 * so and it has none. opt must not be NULL. On error returns NULL with e set to a
 * message that names the store without its password. */
struct store *store_pg_open(const char *path, const struct store_options *opt, err *e);

/* What to hand libpq for path: a URI as it is, a conninfo string without its
 * "postgresql:" prefix (store_url.c). */
const char *store_pg_conninfo(const char *path);

/* The connection behind a PostgreSQL store (a libpq PGconn), for modules that keep
 * their own tables in the same database; NULL if s is not one. Owned by the store. */
struct pg_conn *store_pg_conn(struct store *s);

/* The schema as numbered format steps (store_pg_schema.c): the SQL that takes a
 * store from format n - 1 to n (NULL outside 1..latest), and the latest format.
 * The tests build stores of every earlier format from them. */
const char *store_pg_format_step(int n);
int store_pg_format_latest(void);

#endif
