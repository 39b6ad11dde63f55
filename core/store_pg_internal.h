/* store_pg_internal.h: what the PostgreSQL store's files share, private to them:
 * store_pg_conn.c (the connection, its statements and failures), store_pg_read.c
 * (reads and snapshots), store_pg.c (transactions, appends, waiting for the head,
 * the table of operations) and store_pg_schema.c (opening: the schema and its
 * format steps), each using only those before it. Nothing else includes this. */
#ifndef STRATA_STORE_PG_INTERNAL_H
#define STRATA_STORE_PG_INTERNAL_H

#include <libpq-fe.h>

#include "pg_util.h"
#include "store.h"
#include "store_pg_batch.h"
#include "store_sqlite_cache.h"

/* The statements prepared once per connection (PG_SQL in store_pg_conn.c). */
enum pg_stmt {
    P_LOCK,
    P_HEAD,
    P_STREAM_GET,
    P_STREAM_NEW,
    P_STREAM_SET,
    P_CMD_GET,
    P_CMD_INS,
    P_NOTIFY,
    P_RANGE,
    P_VERSION_AT,
    P_READ_STREAM,
    P_COUNT_STREAMS,
    P_AT_TIME,
    P_SNAP_PUT,
    P_TIME_INS,
    P_READ_STREAM_NAME,
    P_SNAP_LOAD,
    P_NSTMT
};

/* read_page's statements, one per combination of these bits, prepared on first use. */
enum {
    PGP_STREAM = 1,
    PGP_TYPE = 2,
    PGP_TEXT = 4,
    PGP_BACKWARD = 8,
    PGP_ENVELOPE = 16, /* envelope_only: data and meta not read */
    PGP_NSTMT = 32
};

enum pg_tx {
    PG_TX_NONE,   /* no transaction */
    PG_TX_OWN,    /* the store's own transaction of one append (or of begin, until it holds
                     the lock): a failure rolls it back and says only what failed */
    PG_TX_OPEN,   /* the caller's, between begin and commit (the append lock is held) */
    PG_TX_ABORTED /* a statement failed, and PostgreSQL dropped the whole transaction */
};

/* The append lock (store_pg.c explains it) and the lock that serialises creating
 * or upgrading the schema: transaction-scoped advisory locks, two-int form,
 * "STRA" and a number. Advisory locks are per database. */
#define PG_LOCK_SPACE 1398035009
#define PG_LOCK_APPEND 1
#define PG_LOCK_SCHEMA 2
/* The channel on which every append's commit announces the new head. */
#define PG_CHANNEL "strata_events"

struct pg_store {
    struct store base; /* base.path: the URI with any password masked */
    PGconn *conn;
    bool read_only;
    int busy_ms;
    enum pg_tx tx;
    int64_t next_pos;   /* while the append lock is held: the next position; -1 unknown */
    int64_t notify_pos; /* the last position appended in the open transaction; 0 none */
    bool listening;     /* LISTEN was sent on this connection */
    bool said_bye;      /* the server announced the end of the session (a FATAL notice) */
    int64_t known_head; /* while listening: the head as last heard of */
    bool prepared[P_NSTMT];
    bool page_prepared[PGP_NSTMT];
    bool ledger_prepared;    /* the import ledger's statement (store_pg_ops.c) */
    bool append_prepared[9]; /* an own append of n events, one statement (store_pg.c) */
    /* In the caller's transaction (PG_TX_OPEN) only: stream name -> (id, version),
     * and the streams rows its appends changed, written once at commit rather than
     * once per append (as the SQLite store does; the append lock is held, so no one
     * else can change them meanwhile). */
    struct stream_cache cache;
    bool time_logged; /* the open transaction's append time is recorded */
    /* In a transaction: the events appended but not yet sent (store_pg_batch.c),
     * sent before any other statement and at commit (pg_batch_flush). */
    struct pg_batch batch;
    bool hold_batch; /* the statement being run leaves the batch held (pg_run) */
    PGresult *ahead; /* rows read ahead of a front-to-back reader (store_pg_read.c) */
    /* The events a snapshot lookup read with it, for the stream read that follows
     * (store_pg_read.c): the stream, the first version, the bound, the rows. */
    struct {
        char *stream;
        int64_t from_version, max_position;
        size_t asked;
        struct event_list events;
    } loaded;
    int64_t format; /* the store's format (store_pg_schema.c) */
    char *conninfo; /* the path as given, password and all: for libpq only,
                     * never for a message (store_pg_ops.c's query connects
                     * with it) */
};

extern const struct store_ops store_pg_ops;

/* Runs prepared statement id with n text parameters (NULL for SQL NULL). On
 * failure returns NULL with e set ("doing" says what was being done); inside the
 * caller's transaction a failure also ends it (PostgreSQL drops a transaction at
 * its first error), which the message says. The caller PQclear()s the result. */
PGresult *pg_run(struct pg_store *ps, enum pg_stmt id, int n, const char *const *params, err *e,
                 const char *doing);
/* The same for a statement prepared under `name` from sql on first use (*done
 * remembers that it was). */
PGresult *pg_run_sql(struct pg_store *ps, const char *name, bool *done, const char *sql, int n,
                     const char *const *params, err *e, const char *doing);
/* One statement of a pipeline: prepared as `name` from sql on first use when
 * prepared is given (*prepared remembers it), else sent unprepared. */
struct pg_call {
    const char *name;
    bool *prepared;
    const char *sql;
    int n;
    const char *const *params;
};
/* Sends the calls in one pipeline, one round trip in all, ended by one Sync:
 * outside a transaction they run as one (implicit) transaction, committed at the
 * Sync unless a statement fails, when the rest are skipped and nothing is kept.
 * results[i] receives call i's result (the caller PQclear()s them). On failure all
 * are NULL, and the failure is reported as pg_run reports it. */
int pg_pipeline(struct pg_store *ps, const struct pg_call *calls, size_t n, PGresult **results,
                err *e, const char *doing);
/* The call of prepared statement id (PG_SQL), for pg_pipeline; name is its
 * buffer for the statement's name. */
void pg_stmt_call(struct pg_store *ps, enum pg_stmt id, int n, const char *const *params,
                  char name[16], struct pg_call *out);
/* A failure of r (or of the connection when r is NULL), as pg_run reports it. */
int pg_fail(struct pg_store *ps, const PGresult *r, err *e, const char *doing);
/* Runs sql (no parameters, possibly several statements) for its effect. */
int pg_exec(struct pg_store *ps, const char *sql, err *e, const char *doing);

int pg_read_only_error(struct pg_store *ps, err *e);
/* Opens a connection lost between transactions again (a server restart); inside
 * a transaction the loss is an error, since what it did is gone. */
int pg_ensure_connected(struct pg_store *ps, err *e);
/* Takes the server's notices on the connection (store_pg_conn.c says why). */
void pg_watch_notices(struct pg_store *ps);
/* Opens the connection again (a new session), and sets it up. */
int pg_reconnect(struct pg_store *ps, err *e);
/* Forgets what the append lock's holder knew (next position, head to announce). */
void pg_tx_forget(struct pg_store *ps);

/* Sends the events the transaction holds (ps->batch), if any; a failure ends the
 * transaction as any failed statement does. */
int pg_batch_flush(struct pg_store *ps, err *e);
/* Writes the events held and the streams rows the open transaction's appends
 * left dirty (the cache):
 * at commit, and before a read of the streams table itself. */
int pg_cache_flush(struct pg_store *ps, err *e);
/* The stream's id and current version; *found false (and no error) if unknown. */
int pg_stream_lookup(struct pg_store *ps, const char *name, int64_t *id, int64_t *version,
                     bool *found, err *e);
/* Forgets the rows read ahead and the events read with a snapshot (store_pg_read.c). */
void pg_ahead_forget(struct pg_store *ps);
/* Forgets the events read with a snapshot (any statement does, pg_ensure_connected). */
void pg_loaded_forget(struct pg_store *ps);
/* Appends the rows of r (EVENT_COLS, store_pg_read.c) to out. */
void pg_read_events(const PGresult *r, struct event_list *out);
/* Events first..last (positions, inclusive) into out. */
int pg_read_range(struct pg_store *ps, int64_t first, int64_t last, struct event_list *out, err *e);

/* The read operations (store_pg_read.c). */
int pg_command_events(struct store *s, const char *command_id, struct event_list *out, err *e);
int pg_read_page(struct store *s, const struct event_filter *f, int64_t after, bool backward,
                 size_t limit, struct event_list *out, err *e);
int pg_read_stream(struct store *s, const char *stream, int64_t from_version, int64_t max_position,
                   size_t limit, struct event_list *out, err *e);
int pg_head(struct store *s, int64_t *position, err *e);
int pg_stream_version(struct store *s, const char *stream, int64_t max_position, int64_t *version,
                      err *e);
int pg_list_streams(struct store *s, const char *prefix, size_t offset, size_t limit,
                    struct stream_info **out, size_t *n, err *e);
int pg_count_streams(struct store *s, int64_t *count, err *e);
/* strata_meta's rows: store.h's meta_get and meta_set (the store's domain). */
int pg_meta_get(struct store *s, const char *key, char **value, err *e);
int pg_meta_set(struct store *s, const char *key, const char *value, err *e);
int pg_position_at_time(struct store *s, const char *time, int64_t *position, err *e);
int pg_snapshot_put(struct store *s, const char *stream, const char *rules_hash,
                    const struct snapshot *snap, err *e);
int pg_snapshot_get(struct store *s, const char *stream, const char *rules_hash,
                    int64_t max_position, struct snapshot *out, err *e);

/* Looking at the log from outside the event model (store_pg_ops.c). */
int pg_ledger_claim(struct store *s, const unsigned char id[16], int64_t position, bool *fresh,
                    err *e);
int pg_type_counts(struct store *s, struct type_count **out, size_t *n, err *e);
int pg_type_totals(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                   err *e);
int pg_count_by(struct store *s, const struct event_filter *f, enum store_group by, int bucket_len,
                store_count_fn fn, void *ctx, err *e);
int pg_append_time(struct store *s, int64_t position, int64_t *ms, err *e);
int pg_health(struct store *s, struct store_health *out, err *e);
int pg_query(struct store *s, const char *sql, int64_t timeout_ms,
             const struct store_query_sink *sink, err *e);

/* What `strata copy` writes besides appends (store_pg_ops.c). */
int pg_copy_put(struct store *s, const char *table, const struct store_cell *cells, size_t n,
                err *e);
int pg_clear_times(struct store *s, int64_t from, int64_t to, err *e);

/* Connection settings every session of the store needs (store_pg_schema.c): the
 * client encoding, the lock timeout, read-only. Run again after a reconnect. */
int pg_session_setup(struct pg_store *ps, err *e);

#endif
