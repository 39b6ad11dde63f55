/* projection_sqlite_internal.h: what the SQLite read-model backend's files share,
 * private to them: projection_sqlite.c (records, writing rows and history,
 * rebuilds), projection_sqlite_history.c (reading rows back from the history, now
 * or at a past position), projection_sqlite_sql.c (table names and SQL
 * helpers) and projection_sqlite_skips.c (events a projection passes over). The tables themselves
 * are described at the top of projection_sqlite.c. */
#ifndef STRATA_PROJECTION_SQLITE_INTERNAL_H
#define STRATA_PROJECTION_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "projection_backend.h"

enum table_kind { T_ROWS, T_HISTORY, T_KEYS, T_COUNTS };

/* Appends the quoted name of one of p's tables:
 * "proj_NAME[__rebuild][_history|_keys|_counts]". */
void psq_add_table(strbuf *sb, const char *name, bool rebuild, enum table_kind kind);
/* SELECT row, changes of one key's history, newest first, from position ?2 back
 * (?1 = the key). */
void psq_add_history_walk_sql(strbuf *sql, const struct projection_spec *p, bool rebuild);

sqlite3 *psq_db(struct store *s);
/* The store's own message for the last failure on s's connection (a locked store,
 * a full disk, a read-only file, ...), saying what was being done. Returns ST_ERR. */
int psq_error(struct store *s, err *e, const char *doing);
int psq_exec(struct store *s, const char *sql, err *e, const char *doing);
/* A prepared statement (finalize it), or NULL with e set. */
sqlite3_stmt *psq_prepare(struct store *s, const char *sql, err *e, const char *doing);

/* A key's entries since its newest whole one. */
struct chain {
    size_t n;        /* change entries */
    size_t bytes;    /* their length in all */
    size_t full_len; /* the length of the whole entry */
};

/* The row of key right after position `at`, from its history through st (a
 * statement of psq_add_history_walk_sql): the newest whole entry at or before `at`
 * plus the change entries after it. *found false (and *row null) when the key had
 * no row then. chain (may be NULL) receives the entries that took. */
int psq_history_row_at(struct store *s, sqlite3_stmt *st, const struct projection_spec *p,
                       const char *key, int64_t at, value *row, bool *found, struct chain *chain,
                       err *e);

/* The backend's rows_at (see projection_backend.h). */
int psq_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                size_t offset, size_t limit, value *rows, int64_t *count, err *e);

/* The backend's history_walk (see projection_backend.h). */
int psq_history_walk(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     int (*fn)(void *ctx, int64_t position, const value *row, err *e), void *ctx,
                     err *e);

/* The backend's skip_add, skips_get and skips_count (projection_sqlite_skips.c). */
int psq_skip_add(struct store *s, const char *name, int64_t position, const char *reason, err *e);
int psq_skips_get(struct store *s, const char *name, int64_t **positions, size_t *n, err *e);
int psq_skips_count(struct store *s, const char *name, int64_t *count, err *e);

/* The backend's keys_at (projection_sqlite_history.c). */
int psq_keys_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                value *out, err *e);

#endif
