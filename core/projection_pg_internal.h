/* projection_pg_internal.h: what the PostgreSQL read-model backend's files share,
 * private to them: projection_pg_sql.c (table names, the connection, statements),
 * projection_pg.c (records, writing rows and history, rebuilds, batches and their
 * locks) and projection_pg_read.c (rows now or at a past position, a key's
 * history, skipped events). The tables are described at the
 * top of projection_pg.c. */
#ifndef STRATA_PROJECTION_PG_INTERNAL_H
#define STRATA_PROJECTION_PG_INTERNAL_H

#include <libpq-fe.h>

#include "pg_util.h"
#include "projection_backend.h"

enum ppg_table { PPG_ROWS, PPG_HISTORY, PPG_KEYS };

/* Appends the quoted name of one of p's tables: "proj_NAME[__rebuild][_history|_keys]". */
void ppg_add_table(strbuf *sb, const char *name, bool rebuild, enum ppg_table kind);

/* The connection behind s (a PostgreSQL store). */
PGconn *ppg_conn(struct store *s);
/* A failed result (or the connection's failure when r is NULL) in words, saying
 * what was being done and naming the store without its password. Returns ST_ERR
 * (ST_CONFLICT for a deadlock or serialisation failure). */
int ppg_error(struct store *s, const PGresult *r, err *e, const char *doing);
/* Runs sql with n text parameters; NULL with e set on failure (PQclear the result). */
PGresult *ppg_run(struct store *s, const char *sql, int n, const char *const *params, err *e,
                  const char *doing);
int ppg_exec(struct store *s, const char *sql, err *e, const char *doing);
/* Opens the store's connection again when it was lost between transactions (the
 * store's own reconnect, through one of its operations). */
int ppg_ready(struct store *s, err *e);
/* Does the `projections` record table exist? */
int ppg_have_records(struct store *s, bool *have, err *e);

/* The backend's reads (projection_pg_read.c). */
int ppg_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                size_t offset, size_t limit, value *rows, int64_t *count, err *e);
int ppg_history_walk(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     int (*fn)(void *ctx, int64_t position, const value *row, err *e), void *ctx,
                     err *e);
int ppg_skip_add(struct store *s, const char *name, int64_t position, const char *reason, err *e);
int ppg_skips_get(struct store *s, const char *name, int64_t **positions, size_t *n, err *e);
int ppg_skips_count(struct store *s, const char *name, int64_t *count, err *e);
int ppg_keys_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                value *out, err *e);

#endif
