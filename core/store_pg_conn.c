/* store_pg_conn.c: the PostgreSQL store's connection: its statements (prepared
 * once per connection, run with text parameters), the session's settings, a
 * connection lost between transactions opened again, and failures in words a
 * user can act on, ending the caller's transaction as PostgreSQL does. The
 * operations are in store_pg.c (appends, transactions, waiting) and
 * store_pg_read.c (reads); opening a store in store_pg_schema.c. */
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"

#define STR(x) #x
#define XSTR(x) STR(x)

/* The columns every event read selects, in the order pg_read_events expects. */
#define EVENT_COLS                                                                                 \
    "SELECT e.position, s.name, e.version, e.type, e.schema, e.time, e.data, e.meta "              \
    "FROM event_log e JOIN streams s ON s.id = e.stream_id "
#define STR(x) #x
#define XSTR(x) STR(x)

static const char *const PG_SQL[P_NSTMT] = {
    [P_LOCK] = "SELECT pg_advisory_xact_lock(" XSTR(PG_LOCK_SPACE) ", " XSTR(PG_LOCK_APPEND) ")",
    [P_HEAD] = "SELECT coalesce(max(position), 0) FROM event_log",
    [P_STREAM_GET] = "SELECT id, version FROM streams WHERE name = $1",
    [P_STREAM_NEW] = "INSERT INTO streams(name, version, last_position) VALUES($1, 0, 0) "
                     "RETURNING id",
    [P_STREAM_SET] = "UPDATE streams SET version = $2, last_position = $3 WHERE id = $1",
    [P_CMD_GET] = "SELECT first_position, last_position FROM commands WHERE id = $1",
    [P_CMD_INS] = "INSERT INTO commands(id, stream_id, first_position, last_position) "
                  "VALUES($1, $2, $3, $4)",
    [P_NOTIFY] = "SELECT pg_notify('" PG_CHANNEL "', $1)",
    [P_RANGE] = EVENT_COLS "WHERE e.position >= $1 AND e.position <= $2 ORDER BY e.position",
    /* The stream's version as of a position: one probe of (stream_id, position). */
    [P_VERSION_AT] = "SELECT version FROM event_log WHERE stream_id = $1 AND position <= $2 "
                     "ORDER BY position DESC LIMIT 1",
    [P_READ_STREAM] = EVENT_COLS "WHERE e.stream_id = $1 AND e.version >= $2 AND e.version <= $3 "
                                 "ORDER BY e.version LIMIT $4",
    [P_COUNT_STREAMS] = "SELECT count(*) FROM streams",
    [P_AT_TIME] = "SELECT position FROM event_log WHERE time <= $1 "
                  "ORDER BY time DESC, position DESC LIMIT 1",
    [P_SNAP_PUT] = "INSERT INTO snapshots(stream_id, rules_hash, version, position, state) "
                   "VALUES($1, $2, $3, $4, $5) ON CONFLICT (stream_id, rules_hash, version) "
                   "DO UPDATE SET position = EXCLUDED.position, state = EXCLUDED.state",
    /* The stream read by its name, one round trip without its id. */
    [P_READ_STREAM_NAME] = EVENT_COLS "WHERE s.name = $1 AND e.version >= $2 "
                                      "ORDER BY e.version LIMIT $3",
    /* An aggregate's load in one round trip: its newest snapshot (a row with
     * position -1: version, the snapshot's position as text in time, the state in
     * data) and up to $4 events after it, in one statement, so one snapshot of the
     * database (store_pg_read.c, pg_snapshot_get). */
    [P_SNAP_LOAD] = "WITH sn AS (SELECT n.version, n.position, n.state FROM snapshots n "
                    "JOIN streams s ON s.id = n.stream_id WHERE s.name = $1 AND "
                    "n.rules_hash = $2 AND n.position <= $3 ORDER BY n.version DESC LIMIT 1) "
                    "(SELECT -1::bigint, NULL::text, version, NULL::text, 0, position::text, "
                    "state, NULL::text FROM sn) UNION ALL (" EVENT_COLS
                    "WHERE s.name = $1 AND e.version > coalesce((SELECT version FROM sn), 0) "
                    "AND e.position <= $3 ORDER BY e.version LIMIT $4)",
    [P_TIME_INS] = "INSERT INTO append_times(first_position, appended_at) VALUES($1, $2) "
                   "ON CONFLICT (first_position) DO NOTHING",
};

/* ---- running statements ---- */

void pg_tx_forget(struct pg_store *ps)
{
    pg_batch_clear(&ps->batch);
    ps->next_pos = -1;
    ps->notify_pos = 0;
    ps->time_logged = false;
    stream_cache_clear(&ps->cache);
}

int pg_fail(struct pg_store *ps, const PGresult *r, err *e, const char *doing)
{
    int rc = pgu_error(ps->conn, r, ps->base.path, ps->busy_ms, e, doing);
    if (ps->tx == PG_TX_OWN) {
        PGresult *rb = PQexec(ps->conn, "ROLLBACK");
        PQclear(rb);
        ps->tx = PG_TX_NONE;
        pg_tx_forget(ps);
    } else if (ps->tx == PG_TX_OPEN) {
        /* PostgreSQL has dropped the transaction at its first error: say so, and
         * refuse further work in it until the caller rolls back. */
        PGresult *rb = PQexec(ps->conn, "ROLLBACK");
        PQclear(rb);
        ps->tx = PG_TX_ABORTED;
        pg_tx_forget(ps);
        if (e) {
            size_t l = strlen(e->msg);
            snprintf(e->msg + l, sizeof e->msg - l, "; the whole transaction was rolled back");
        }
    }
    return rc;
}

/* True when the server has closed the connection and libpq has not noticed yet:
 * a server restarted (or a backend terminated) since the last statement sends its
 * goodbye, and the socket reads as ready. A look at the socket, no round trip. */
static bool conn_dropped(struct pg_store *ps)
{
    if (PQstatus(ps->conn) != CONNECTION_OK)
        return true;
    /* Something to read between statements: a notification, a notice, or the
     * server's goodbye (an error message, then the end of the connection, which
     * PQconsumeInput reports once it reads it). */
    for (int i = 0; i < 8; i++) {
        struct pollfd pfd = {PQsocket(ps->conn), POLLIN, 0};
        if (pfd.fd < 0)
            return true;
        if (poll(&pfd, 1, 0) <= 0)
            return false;
        if (!PQconsumeInput(ps->conn))
            return true;
        PQisBusy(ps->conn); /* which parses what was read: a notice goes to on_notice */
        if (PQstatus(ps->conn) != CONNECTION_OK || ps->said_bye)
            return true;
    }
    return false;
}

/* Messages the server sends outside a statement come to libpq as notices: among
 * them the FATAL one a server sends as it ends a session ("terminating connection
 * due to administrator command"), often before the connection's end can be
 * read. Notices are otherwise not shown (the store's messages come through err). */
static void on_notice(void *arg, const PGresult *r)
{
    struct pg_store *ps = arg;
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        ps->said_bye = true;
}

void pg_watch_notices(struct pg_store *ps)
{
    ps->said_bye = false;
    PQsetNoticeReceiver(ps->conn, on_notice, ps);
}

/* A transaction the store did not open is open on the connection (a read
 * model's batch, projection_pg.c): losing the session loses it, which is its
 * error to report, never a reason to carry on in a new session. */
static bool in_other_tx(struct pg_store *ps)
{
    PGTransactionStatusType ts = PQtransactionStatus(ps->conn);
    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR || ts == PQTRANS_ACTIVE;
}

/* A connection lost between transactions (a server restart) is opened again
 * before the next statement; inside a transaction the loss is an error, since
 * what the transaction did is gone. */
void pg_loaded_forget(struct pg_store *ps)
{
    if (!ps->loaded.stream)
        return;
    free(ps->loaded.stream);
    ps->loaded.stream = NULL;
    event_list_done(&ps->loaded.events);
    event_list_init(&ps->loaded.events);
}

int pg_ensure_connected(struct pg_store *ps, err *e)
{
    /* Events read with a snapshot serve only the stream read right after it
     * (store_pg_read.c): any other statement first, and they are forgotten. */
    pg_loaded_forget(ps);
    if (ps->batch.n > 0 && ps->tx != PG_TX_NONE && !ps->hold_batch)
        return pg_batch_flush(ps, e); /* the transaction's events go first */
    if (ps->tx != PG_TX_NONE || in_other_tx(ps) || !conn_dropped(ps))
        return ST_OK;
    return pg_reconnect(ps, e);
}

int pg_batch_flush(struct pg_store *ps, err *e)
{
    PGresult *r = pg_batch_send(&ps->batch, ps->conn);
    if (!r || pgu_ok(r)) {
        PQclear(r);
        return ST_OK;
    }
    int rc = pg_fail(ps, r, e, "appending events");
    PQclear(r);
    return rc;
}

int pg_reconnect(struct pg_store *ps, err *e)
{
    PQreset(ps->conn);
    pg_watch_notices(ps);
    memset(ps->prepared, 0, sizeof ps->prepared);
    memset(ps->page_prepared, 0, sizeof ps->page_prepared);
    memset(ps->append_prepared, 0, sizeof ps->append_prepared);
    ps->ledger_prepared = false;
    ps->listening = false;
    if (PQstatus(ps->conn) != CONNECTION_OK)
        return pg_fail(ps, NULL, e, "connecting again");
    return pg_session_setup(ps, e);
}

/* Whether a failed statement may be sent again on a new connection: it ran
 * outside any transaction (so nothing of the caller's is lost) and failed because
 * the connection did (a server restarted between our look at the socket and the
 * statement, or a backend terminated). The statements run that way are reads,
 * BEGIN and idempotent upserts; an own append is one pipeline and is never sent
 * twice (store_pg.c). */
static bool may_retry(struct pg_store *ps, bool outside)
{
    return outside && ps->tx == PG_TX_NONE && PQstatus(ps->conn) == CONNECTION_BAD;
}

/* The connection was lost under a statement that may be sent again: connect
 * again, saying so if that fails too. */
static int retry_connect(struct pg_store *ps, err *e, const char *doing)
{
    err first;
    err_clear(&first);
    pgu_error(ps->conn, NULL, ps->base.path, ps->busy_ms, &first, doing);
    if (pg_reconnect(ps, e) == ST_OK)
        return ST_OK;
    err_prefix(e, "%s", first.msg);
    return ST_ERR;
}

/* Leaves pipeline mode whatever happened: a pipeline cut short (a statement that
 * could not be sent) is synced and its results dropped; on a dead connection the
 * reconnect resets the mode. */
static bool pipeline_leave(PGconn *c, bool synced)
{
    if (PQexitPipelineMode(c))
        return true;
    if (PQstatus(c) != CONNECTION_OK || (!synced && !PQpipelineSync(c)))
        return false;
    for (int nulls = 0; nulls < 10000;) {
        PGresult *r = PQgetResult(c);
        if (!r) {
            if (PQstatus(c) != CONNECTION_OK)
                break;
            nulls++;
            continue;
        }
        bool end = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (end)
            break;
    }
    PQexitPipelineMode(c);
    return false;
}

int pg_pipeline(struct pg_store *ps, const struct pg_call *calls, size_t n, PGresult **results,
                err *e, const char *doing)
{
    PGconn *c = ps->conn;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if (pg_ensure_connected(ps, e) != ST_OK)
        return ST_ERR;
    if (!PQenterPipelineMode(c))
        return pg_fail(ps, NULL, e, doing);
    /* What each result answers: a prepare (-1 - i) or the execution of call i. */
    long *slot = xcalloc(2 * n + 1, sizeof *slot);
    size_t nslots = 0;
    bool sent = true, synced = false;
    for (size_t i = 0; i < n && sent; i++) {
        const struct pg_call *k = &calls[i];
        if (k->prepared && !*k->prepared) {
            sent = PQsendPrepare(c, k->name, k->sql, 0, NULL);
            slot[nslots++] = -1 - (long)i;
        }
        if (sent && k->prepared)
            sent = PQsendQueryPrepared(c, k->name, k->n, k->params, NULL, NULL, 0);
        else if (sent)
            sent = PQsendQueryParams(c, k->sql, k->n, NULL, k->params, NULL, NULL, 0);
        slot[nslots++] = (long)i;
    }
    if (sent)
        sent = synced = PQpipelineSync(c);
    PGresult *failed = NULL;
    size_t at = 0;
    while (sent) {
        PGresult *r = PQgetResult(c);
        if (!r) { /* the end of one statement's results */
            if (PQstatus(c) == CONNECTION_BAD)
                break;
            at++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        long who = at < nslots ? slot[at] : LONG_MAX;
        if (st == PGRES_PIPELINE_ABORTED || who == LONG_MAX) {
            PQclear(r);
        } else if (!pgu_ok(r)) {
            if (!failed)
                failed = r;
            else
                PQclear(r);
        } else if (who < 0) {
            *calls[-1 - who].prepared = true;
            PQclear(r);
        } else {
            PQclear(results[who]);
            results[who] = r;
        }
    }
    free(slot);
    int rc = ST_OK;
    if (!pipeline_leave(c, synced) || !sent || failed || PQstatus(c) != CONNECTION_OK) {
        for (size_t i = 0; i < n; i++) {
            PQclear(results[i]);
            results[i] = NULL;
        }
        rc = pg_fail(ps, failed, e, doing);
        if (rc == ST_OK)
            rc = err_set(e, ST_ERR, "%s: the pipeline ended early while %s", ps->base.path, doing);
    }
    PQclear(failed);
    return rc;
}

PGresult *pg_run_sql(struct pg_store *ps, const char *name, bool *done, const char *sql, int n,
                     const char *const *params, err *e, const char *doing)
{
    bool outside = ps->tx == PG_TX_NONE && !in_other_tx(ps);
    for (int attempt = 0;; attempt++) {
        PGresult *r = NULL;
        if (!*done) {
            /* Prepared and run in one round trip. */
            struct pg_call call = {name, done, sql, n, params};
            if (pg_pipeline(ps, &call, 1, &r, e, doing) == ST_OK)
                return r;
        } else {
            if (pg_ensure_connected(ps, e) != ST_OK)
                return NULL;
            r = PQexecPrepared(ps->conn, name, n, params, NULL, NULL, 0);
            if (pgu_ok(r))
                return r;
            if (attempt == 0 && may_retry(ps, outside)) {
                PQclear(r);
                if (retry_connect(ps, e, doing) != ST_OK)
                    return NULL;
                continue;
            }
            pg_fail(ps, r, e, doing);
            PQclear(r);
            return NULL;
        }
        if (attempt > 0 || !may_retry(ps, outside))
            return NULL;
        if (retry_connect(ps, e, doing) != ST_OK)
            return NULL;
    }
}

void pg_stmt_call(struct pg_store *ps, enum pg_stmt id, int n, const char *const *params,
                  char name[16], struct pg_call *out)
{
    snprintf(name, 16, "strata_%d", (int)id);
    *out = (struct pg_call){name, &ps->prepared[id], PG_SQL[id], n, params};
}

PGresult *pg_run(struct pg_store *ps, enum pg_stmt id, int n, const char *const *params, err *e,
                 const char *doing)
{
    char name[16];
    snprintf(name, sizeof name, "strata_%d", (int)id);
    /* Statements that neither read event_log nor depend on its rows leave the
     * transaction's held events where they are (a new stream's lookup and row,
     * the command ids, the append time): the batch stays whole. */
    ps->hold_batch = id == P_STREAM_GET || id == P_STREAM_NEW || id == P_CMD_GET ||
                     id == P_CMD_INS || id == P_TIME_INS;
    PGresult *r = pg_run_sql(ps, name, &ps->prepared[id], PG_SQL[id], n, params, e, doing);
    ps->hold_batch = false;
    return r;
}

int pg_exec(struct pg_store *ps, const char *sql, err *e, const char *doing)
{
    bool outside = ps->tx == PG_TX_NONE && !in_other_tx(ps);
    if (pg_ensure_connected(ps, e) != ST_OK)
        return ST_ERR;
    PGresult *r = PQexec(ps->conn, sql);
    if (!pgu_ok(r) && may_retry(ps, outside)) {
        /* A BEGIN (or a session's setting) on a connection that had died: once
         * more on a new one. */
        PQclear(r);
        if (retry_connect(ps, e, doing) != ST_OK)
            return ST_ERR;
        r = PQexec(ps->conn, sql);
    }
    int rc = pgu_ok(r) ? ST_OK : pg_fail(ps, r, e, doing);
    PQclear(r);
    return rc;
}

int pg_read_only_error(struct pg_store *ps, err *e)
{
    return err_set(e, ST_ERR, "the store is read-only: %s", ps->base.path);
}

int pg_session_setup(struct pg_store *ps, err *e)
{
    if (PQsetClientEncoding(ps->conn, "UTF8") != 0)
        return pg_fail(ps, NULL, e, "setting the client encoding");
    char sql[160];
    /* Waiting for the append lock is bounded as SQLite's busy timeout bounds it. */
    snprintf(sql, sizeof sql, "SET lock_timeout = %d; SET default_transaction_read_only = %s",
             ps->busy_ms, ps->read_only ? "on" : "off");
    return pg_exec(ps, sql, e, "setting the session up");
}

int pg_stream_lookup(struct pg_store *ps, const char *name, int64_t *id, int64_t *version,
                     bool *found, err *e)
{
    struct cache_entry *ce = ps->tx == PG_TX_OPEN ? stream_cache_find(&ps->cache, name) : NULL;
    if (ce) {
        *found = true;
        *id = ce->id;
        *version = ce->version;
        return ST_OK;
    }
    const char *params[1] = {name};
    PGresult *r = pg_run(ps, P_STREAM_GET, 1, params, e, "looking up a stream");
    if (!r)
        return ST_ERR;
    *found = PQntuples(r) > 0;
    if (*found) {
        *id = pgu_int(r, 0, 0);
        *version = pgu_int(r, 0, 1);
        if (ps->tx == PG_TX_OPEN)
            stream_cache_put(&ps->cache, name, *id, *version, 0, false);
    }
    PQclear(r);
    return ST_OK;
}

int pg_cache_flush(struct pg_store *ps, err *e)
{
    if (pg_batch_flush(ps, e) != ST_OK)
        return ST_ERR;
    struct stream_cache *c = &ps->cache;
    for (size_t i = 0; i < c->cap; i++) {
        struct cache_entry *ce = &c->slots[i];
        if (!ce->name || !ce->dirty)
            continue;
        char b1[24], b2[24], b3[24];
        const char *sp[3] = {pgu_i64(b1, ce->id), pgu_i64(b2, ce->version),
                             pgu_i64(b3, ce->last_position)};
        PGresult *r = pg_run(ps, P_STREAM_SET, 3, sp, e, "appending events");
        if (!r)
            return ST_ERR;
        PQclear(r);
        ce->dirty = false;
    }
    c->ndirty = 0; /* nothing is dirty now (store_sqlite_cache.h) */
    return ST_OK;
}
