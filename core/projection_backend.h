/* projection_backend.h: private to projections: where read models are stored.
 *
 * projection.c and the files beside it hold the logic (projection_fold.c folding
 * events with failure isolation, projection_lag.c lag and rate,
 * projection_runner.c the runner) and reach storage only through this table of
 * operations, as the event store does (store.h): projection_sqlite*.c implement
 * it with tables in the store's own SQLite file, projection_pg*.c with tables in
 * the PostgreSQL store's database, with no change above it.
 *
 * What a backend stores, per projection NAME:
 * - one status record (the `projections` table in SQLite);
 * - the current rows, one column per declared column plus `key` (a projection
 *   without key keeps its single row under the key "");
 * - the row history: for every change, (key, valid_from = the position of the
 *   event that made it, the row or what changed in it, or "deleted"), so that the
 *   read model as of position P is, for each key, what its history entries with
 *   valid_from <= P add up to;
 * - the keys ever seen, with the first position they appeared at, so that a read
 *   at P visits each key once and seeks its history once;
 * - while rebuilding, a second set of the same tables that replaces the first in
 *   one transaction. */
#ifndef STRATA_PROJECTION_BACKEND_H
#define STRATA_PROJECTION_BACKEND_H

#include "domain.h"
#include "projection.h"
#include "store.h"
#include "value.h"

/* A projection's status record. Strings are owned (free with proj_record_done). */
struct proj_record {
    int64_t checkpoint; /* last position folded into the live tables */
    char status[16]; /* as last written: "live", "catching up", "paused", "failed", "rebuilding" */
    char rules_hash[17];   /* the definition the live tables were built with */
    char rebuild_hash[17]; /* the definition a rebuild in progress uses ("" when none) */
    bool paused;
    int64_t throttle;           /* events per second, 0 = unthrottled */
    char *error;                /* NULL unless failed */
    int64_t error_position;     /* 0 unless failed */
    char *error_event;          /* NULL unless failed: the event as NDJSON */
    int64_t updated_ms;         /* when progress was last written (0 = never) */
    int64_t rebuild_checkpoint; /* -1 when not rebuilding */
    char *samples; /* JSON [[ms, checkpoint], ...], recent progress for the rate; may be NULL */
};
void proj_record_done(struct proj_record *r);
/* Forgets a failure (error, its event and position), as a retry or a rebuild does. */
void proj_record_clear_error(struct proj_record *r);

/* The map of p's defaults: the row a key starts from (and a keyless projection's
 * single row until an event changes it). */
value proj_defaults_row(const struct projection_spec *p);

/* Prepared access to one projection's tables (live or rebuild) on one store
 * handle, valid across transactions of that handle. */
struct proj_writer;

struct proj_backend {
    const char *name;

    /* Creates the projection's tables and status record if missing (a new record
     * gets p's rules hash and checkpoint 0). A keyless projection gets its single
     * row of defaults. Runs in its own transaction unless one is open. */
    int (*ensure)(struct store *s, const struct projection_spec *p, err *e);

    /* The status record; ST_NOT_FOUND when there is none. */
    int (*record_get)(struct store *s, const char *name, struct proj_record *r, err *e);
    /* Writes everything but paused and throttle (those belong to people, see below). */
    int (*record_put)(struct store *s, const char *name, const struct proj_record *r, err *e);
    int (*set_paused)(struct store *s, const char *name, bool paused, err *e);
    int (*set_throttle)(struct store *s, const char *name, int64_t throttle, err *e);

    /* Opens access to the live tables, or to the rebuild tables when rebuild. */
    int (*writer_open)(struct store *s, const struct projection_spec *p, bool rebuild,
                       struct proj_writer **out, err *e);
    /* The current row of key: *found false (and *row null) when there is none. */
    int (*row_get)(struct proj_writer *w, const char *key, value *row, bool *found, err *e);
    /* Records that key had this row (NULL: was deleted) from `position` on: one
     * history entry, and the key in the keys table when is_new. prev is the row
     * just before (NULL when the key had none), as row_get or the previous
     * history_put of this writer gave it: the backend may store only what
     * changed from it. */
    int (*history_put)(struct proj_writer *w, const char *key, int64_t position, const value *prev,
                       const value *row, bool is_new, err *e);
    /* Writes the current row of key (NULL: deletes it) into the typed table. */
    int (*row_store)(struct proj_writer *w, const char *key, const value *row, err *e);
    /* May be NULL. The fold forgot the rows it held (another process folded the
     * projection meanwhile, or a batch rolled back): whatever the writer keeps of
     * the tables between batches must be read again before it writes. */
    void (*writer_forget)(struct proj_writer *w);
    void (*writer_close)(struct proj_writer *w);

    /* Drops any rebuild tables and creates empty ones (in a transaction of the caller). */
    int (*rebuild_reset)(struct store *s, const struct projection_spec *p, err *e);
    int (*rebuild_drop)(struct store *s, const struct projection_spec *p, err *e);
    /* Inside the caller's transaction: drops the live tables and renames the
     * rebuild tables in their place. */
    int (*rebuild_swap)(struct store *s, const struct projection_spec *p, err *e);

    /* Around a run of batches (outside any transaction): lets the backend trade
     * durability of the derived rows for speed, since a lost batch is refolded
     * (its checkpoint is lost with it). *saved receives what end restores. */
    void (*batches_begin)(struct store *s, int *saved);
    void (*batches_end)(struct store *s, int saved);

    /* Read snapshot: between read_begin and read_end every read sees one state of
     * the store. read_begin does nothing (and read_end too) when a transaction is
     * already open on s. */
    int (*read_begin)(struct store *s, bool *began, err *e);
    void (*read_end)(struct store *s, bool began);

    /* The rows as they were right after position `at` (> 0), ordered by key, each a
     * map {"key": k, columns...} ("key" left out when p has no key), appended to the
     * list *rows. key: only that one (NULL = all). Skips `offset` rows, returns at
     * most `limit` (0 = all). count (may be NULL) receives the number of rows there
     * were in all. */
    int (*rows_at)(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                   size_t offset, size_t limit, value *rows, int64_t *count, err *e);

    /* Optional (NULL: rows_at, each row written with json_write): the rows of
     * rows_at, lent to fn one by one as the JSON text json_write would give for
     * each map, without building it (projection_query_json). */
    int (*rows_at_json)(struct store *s, const struct projection_spec *p, const char *key,
                        int64_t at, size_t offset, size_t limit, proj_json_fn fn, void *ctx,
                        int64_t *count, err *e);

    /* The history of one key ("" for a keyless projection), oldest first, up to
     * position `at` (0 = all of it): fn gets each entry's position and the whole
     * row from then on (NULL: that event deleted it), rebuilt from whole and
     * change entries as the walk goes, so a walk costs one pass over the key's
     * entries. fn returns ST_OK to go on; anything else ends the walk and is
     * returned (provenance and bisect read this; core/provenance.h). */
    int (*history_walk)(struct store *s, const struct projection_spec *p, const char *key,
                        int64_t at,
                        int (*fn)(void *ctx, int64_t position, const value *row, err *e), void *ctx,
                        err *e);

    /* Events a projection passes over (a poison event it cannot fold, `strata
     * project --skip`): kept apart from its tables, so that a rebuild skips them
     * too. skip_add records (or re-records) one, in the caller's transaction;
     * skips_get gives the positions in order (*positions malloc'd, NULL when none);
     * skips_count says how many. */
    int (*skip_add)(struct store *s, const char *name, int64_t position, const char *reason,
                    err *e);
    int (*skips_get)(struct store *s, const char *name, int64_t **positions, size_t *n, err *e);
    int (*skips_count)(struct store *s, const char *name, int64_t *count, err *e);

    /* Optional (NULL: the store's write transaction, store_begin and
     * store_commit): the transaction of one fold batch over the n projections ps.
     * A backend whose write transaction would hold up every append (PostgreSQL's
     * append lock) opens one of its own, in which each of the n is folded by one
     * process at a time; commit writes anything the batch's writers still hold. */
    int (*batch_begin)(struct store *s, const struct projection_spec *const *ps, size_t n, err *e);
    int (*batch_commit)(struct store *s, err *e);
    void (*batch_rollback)(struct store *s);

    /* The keys p's live tables have seen (its keys table) by position at (0:
     * ever), as the map *out of key -> true; key: only that one (NULL = all). A
     * what-if branch's read model (projection_branch.c) tells the keys it changed
     * from those it still reads from main. */
    int (*keys_at)(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                   value *out, err *e);
};

/* The backend for s, or NULL with e set when there is none for its kind of store. */
const struct proj_backend *proj_backend_for(struct store *s, err *e);

extern const struct proj_backend proj_backend_sqlite;
extern const struct proj_backend proj_backend_pg;

#endif
