/* store_sqlite_internal.h: what the SQLite store's two halves share, private to
 * them: store_sqlite.c (the operations) and store_sqlite_schema.c (opening a file:
 * what it is, its schema, its connection settings), store_sqlite_meta.c and
 * store_sqlite_settings.c (the page cache's size). Nothing else includes this. */
#ifndef STRATA_STORE_SQLITE_INTERNAL_H
#define STRATA_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"
#include "store_sqlite_cache.h"

/* The page cache a store connection keeps (PRAGMA cache_size: KiB when negative). */
#define STORE_SQLITE_CACHE_SIZE "-32768"
/* "PRAGMA cache_size=N": the default above, or what store_set_cache_kib set. */
const char *sq_cache_pragma(void);
/* Was the cache set to kib KiB or less (store_set_cache_kib)? */
bool sq_cache_small(int kib);

/* The statements prepared once per connection (STMT_SQL in store_sqlite.c). */
enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_STREAM_GET,
    S_STREAM_NEW,
    S_STREAM_SET,
    S_EVENT_INS,
    S_CMD_GET,
    S_CMD_INS,
    S_RANGE,
    S_HEAD,
    S_POS_OF_VERSION,
    S_READ_STREAM,
    S_LIST_RANGE,
    S_LIST_FROM,
    S_COUNT_STREAMS,
    S_AT_TIME,
    S_SNAP_PUT,
    S_SNAP_GET,
    S_TIME_INS,
    S_NSTMT
};

/* read_page's statements, one per combination of these bits, built on first use. */
enum {
    PAGE_STREAM = 1,
    PAGE_TYPE = 2,
    PAGE_TEXT = 4,
    PAGE_BACKWARD = 8,
    PAGE_ENVELOPE = 16, /* envelope_only: data and meta not read */
    PAGE_BY_ID = 32,    /* the stream id, not its name (store_sqlite_read.c) */
    PAGE_NSTMT = 64
};

enum tx_state {
    TX_NONE,   /* autocommit: each append is its own transaction */
    TX_OPEN,   /* between begin and commit */
    TX_ABORTED /* a write failed mid-way and the whole transaction was rolled back */
};

struct sq_store {
    struct store base;
    sqlite3 *db;
    bool read_only;
    int format; /* the file's store format (older than the newest only when read-only) */
    int busy_ms;
    enum tx_state tx;
    sqlite3_stmt *stmt[S_NSTMT];
    sqlite3_stmt *page[PAGE_NSTMT];
    struct stream_cache cache;     /* used inside a transaction of the store's own (TX_OPEN) */
    bool cache_kept;               /* cache holds what the last commit left (see sq_tx_begin) */
    unsigned cache_version;        /* the file's data version right after that commit */
    bool time_logged;              /* this transaction's append time is written */
    int time_format;               /* the format that keeps append times (0: unknown yet) */
    sqlite3_stmt *ledger_ins;      /* store_sqlite_query.c's, prepared on first use */
    sqlite3_stmt *ledger_has;      /* the same */
    sqlite3_stmt *ledger_ins_many; /* the same: LEDGER_ROWS claims a statement */
    sqlite3_stmt *stream_name;     /* store_sqlite_read.c's, prepared on first use */
};

extern const struct store_ops store_sqlite_ops;

/* strata_meta's rows (store_sqlite_meta.c): store.h's meta_get and meta_set. */
int sq_meta_get(struct store *s, const char *key, char **value, err *e);
int sq_meta_set(struct store *s, const char *key, const char *value, err *e);
/* store_sqlite_query.c: the import ledger, type counts and `strata sql`. */
int sq_ledger_has(struct store *s, const unsigned char id[16], bool *present, err *e);
int sq_ledger_claim_many(struct store *s, const struct ledger_claim *claims, size_t n, err *e);
int sq_ledger_claim(struct store *s, const unsigned char id[16], int64_t position, bool *fresh,
                    err *e);
int sq_type_totals(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                   err *e);
int sq_query(struct store *s, const char *sql, int64_t timeout_ms,
             const struct store_query_sink *sink, err *e);

/* store_sqlite_copy.c: what `strata copy` writes besides appends. */
int sq_copy_put(struct store *s, const char *table, const struct store_cell *cells, size_t n,
                err *e);
int sq_clear_times(struct store *s, int64_t from, int64_t to, err *e);

/* Turns an SQLite failure into a message a user can act on (sqlu_error with the
 * store's path and busy timeout). `doing` says what was being attempted. Returns
 * ST_ERR. */
int sq_fail(struct sq_store *ss, int rc, err *e, const char *doing);

/* BEGIN IMMEDIATE, COMMIT (writing the streams rows the cache left dirty first) and
 * ROLLBACK of the store's own transactions. */
int sq_tx_begin(struct sq_store *ss, err *e);
int sq_tx_commit(struct sq_store *ss, err *e);
void sq_tx_rollback(struct sq_store *ss);

/* store_sqlite_read.c: steps st (selecting EVENT_COLS, or with PAGE_BY_ID the
 * stream id in the name's place, its names then looked up through nm) to the end,
 * appending each row to out (its strings in out's arena); returns SQLITE_DONE or
 * the failure; st is left to the caller to reset. A read by id (nm and gave_up
 * not NULL) may stop early (a page of mostly new streams, a stream without its
 * row) with *gave_up set: the caller reads the rest after out's last event with
 * the join. */
struct sq_names;
struct sq_names *sq_names_open(struct sq_store *ss, int *rc);
void sq_names_close(struct sq_names *nm);
int sq_read_rows(sqlite3_stmt *st, struct sq_names *nm, struct event_list *out, bool *gave_up);

/* store_sqlite_count.c: the count_by operation. */
int sq_count_by(struct store *s, const struct event_filter *f, enum store_group by, int bucket_len,
                store_count_fn fn, void *ctx, err *e);
/* The append-time operation (store_sqlite_health.c), and its store health check. */
int sq_append_time(struct store *s, int64_t position, int64_t *ms, err *e);
int sq_health(struct store *s, struct store_health *out, err *e);
int sq_type_counts(struct store *s, struct type_count **out, size_t *n, err *e);

#endif
