/* projection_sqlite_internal.h: what the SQLite read-model backend's files share,
 * private to them: projection_sqlite.c (records, writing rows and history,
 * rebuilds), projection_sqlite_history.c (reading rows back from the history, now
 * or at a past position), projection_sqlite_sql.c (table names and SQL
 * helpers, finding checkpoints), projection_sqlite_skips.c (events a projection passes over) and
 * projection_sqlite_ckpt.c (full checkpoints, and reads of every row from them). The tables
 * themselves are described at the top of projection_sqlite.c. */
#ifndef STRATA_PROJECTION_SQLITE_INTERNAL_H
#define STRATA_PROJECTION_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "projection_backend.h"

enum table_kind { T_ROWS, T_HISTORY, T_KEYS, T_COUNTS, T_CK_ROWS, T_CK_AT };

/* Appends the quoted name of one of p's tables:
 * "proj_NAME[__rebuild][_history|_keys|_counts|_ck_rows|_ck_at]". */
void psq_add_table(strbuf *sb, const char *name, bool rebuild, enum table_kind kind);
/* SELECT row, changes of one key's history, newest first, from position ?2 back
 * (?1 = the key); with epochs, of epoch ?3 only. */
void psq_add_history_walk_sql(strbuf *sql, const struct projection_spec *p, bool rebuild,
                              bool epochs);
/* Does s's history have epochs (store format 7 and later)? A store of an older
 * format opened read-only is read as it is: a key's entries are then all one run. */
bool psq_epochs(struct store *s);

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

/* Reading keys' rows back at one position. With epochs (projection_sqlite.c's
 * first comment), a key's row right after position P is its row in the newest
 * checkpoint C at or before P plus its entries of epoch C up to P: `epoch` is C
 * (0: no checkpoint). Without them, the whole history of the key is one run. */
struct psq_walk {
    sqlite3_stmt *entries; /* psq_add_history_walk_sql's statement */
    sqlite3_stmt *base;    /* a key's row in checkpoint ?1 (NULL: no epochs) */
    bool epochs;
    int64_t epoch;
};
/* Prepares w for p's (rebuild) tables, its epoch 0; finalize it with psq_walk_close. */
int psq_walk_open(struct store *s, const struct projection_spec *p, bool rebuild,
                  struct psq_walk *w, err *e);
/* Points w at the newest checkpoint at or before `at`. */
int psq_walk_to(struct store *s, const struct projection_spec *p, bool rebuild, struct psq_walk *w,
                int64_t at, err *e);
void psq_walk_close(struct psq_walk *w);

/* The row of key right after position `at` (at most a position of w's epoch's
 * run): the newest whole entry at or before `at` plus the change entries after
 * it, the epoch's checkpoint row standing for a whole entry before them. *found
 * false (and *row null) when the key had no row then. chain (may be NULL)
 * receives the entries that took. */
int psq_history_row_at(struct store *s, struct psq_walk *w, const struct projection_spec *p,
                       const char *key, int64_t at, value *row, bool *found, struct chain *chain,
                       err *e);

/* Where a read's rows go: pushed as values onto *rows (the backend's rows_at),
 * or lent to fn as JSON text (rows_at_json), byte for byte what json_write gives
 * for the value: a stored row is written by json_write, whose output reads back
 * and writes again as the same bytes, so the text is the stored row with the
 * key spliced in front and no value is built. */
struct psq_sink {
    const struct projection_spec *p;
    value *rows;     /* the value path; NULL: the text path */
    proj_json_fn fn; /* the text path */
    void *ctx;
    strbuf tmp;
};
void psq_sink_values(struct psq_sink *k, const struct projection_spec *p, value *rows);
void psq_sink_json(struct psq_sink *k, const struct projection_spec *p, proj_json_fn fn, void *ctx);
void psq_sink_done(struct psq_sink *k);
/* One row, key's stored JSON text (an object, without the key). */
int psq_sink_stored(struct psq_sink *k, const char *key, const char *text, size_t len, err *e);
/* One row {"key": ..., columns...} as a value (taken). */
int psq_sink_value(struct psq_sink *k, value row, err *e);

/* The backend's rows_at and rows_at_json (see projection_backend.h). */
int psq_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                size_t offset, size_t limit, value *rows, int64_t *count, err *e);
int psq_rows_at_json(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     size_t offset, size_t limit, proj_json_fn fn, void *ctx, int64_t *count,
                     err *e);

/* rows_at by one seek into the history per key (the only way for --key and
 * short pages, and for positions before a store's first checkpoint). */
int psq_rows_at_seek(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     size_t offset, size_t limit, value *rows, int64_t *count, err *e);
/* How many rows keyed p had right after position `at` (one seek in its counts
 * table). */
int psq_count_at(struct store *s, const struct projection_spec *p, int64_t at, int64_t *count,
                 err *e);
int psq_rows_at_seek_to(struct store *s, const struct projection_spec *p, const char *key,
                        int64_t at, size_t offset, size_t limit, struct psq_sink *out,
                        int64_t *count, err *e);
/* {"key": key, ...row} at `at` by walking key's history (walk, zeroed, is opened
 * on first use; psq_walk_close it). */
int psq_walked_keyed_row(struct store *s, struct psq_walk *walk, const struct projection_spec *p,
                         const char *key, int64_t at, value *out, err *e);

/* Checkpoints (projection_sqlite_ckpt.c says how they work; psq_ck_find and
 * psq_ck_find_after are in projection_sqlite_sql.c). */
/* History entries between two checkpoints of a read model of `rows` rows. */
int64_t psq_ck_every(int64_t rows);
/* The newest checkpoint at or before `at` (*found false: none). */
int psq_ck_find(struct store *s, const struct projection_spec *p, bool rebuild, int64_t at,
                int64_t *ck, int64_t *hr, int64_t *n, bool *found, err *e);
/* The oldest checkpoint after `at` of the live tables (*found false: none). */
int psq_ck_find_after(struct store *s, const struct projection_spec *p, int64_t at, int64_t *ck,
                      int64_t *hr, int64_t *n, bool *found, err *e);
/* Writes the checkpoint at `at` (every entry up to `at` written, none after);
 * *there: a checkpoint at `at` is there now (false: none was written, as for
 * rebuild tables without their mark, or a newer one was there already). log:
 * every entry written since the newest checkpoint, and log_last the rowid of the
 * newest (NULL: read them from the history). */
struct psq_ck_log;
int psq_ck_write(struct store *s, const struct projection_spec *p, bool rebuild, int64_t at,
                 const struct psq_ck_log *log, int64_t log_last, int64_t *rows, int64_t *hist_rowid,
                 bool *there, err *e);
/* A writer's log of the entries it wrote since the newest checkpoint: each key's
 * whole row as JSON text, a change entry (row NULL), or a delete. put returns
 * false once the log is too big to keep (then drop it). */
struct psq_ck_log *psq_ck_log_new(void);
void psq_ck_log_free(struct psq_ck_log *l);
void psq_ck_log_clear(struct psq_ck_log *l);
bool psq_ck_log_put(struct psq_ck_log *l, const char *key, const char *row, size_t rlen,
                    bool deleted);
/* The newest rowid of p's history (0 when it is empty). */
int psq_hist_max_rowid(struct store *s, const struct projection_spec *p, bool rebuild, int64_t *out,
                       err *e);
/* Every row at `at` from the newest checkpoint before it; *done false when there
 * is none (then nothing was read). */
int psq_rows_at_ck(struct store *s, const struct projection_spec *p, int64_t at, size_t offset,
                   size_t limit, struct psq_sink *out, int64_t *count, bool *done, err *e);

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
