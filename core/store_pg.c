/* store_pg.c: the PostgreSQL backend of the event store (design.md, "PostgreSQL
 * (second round)"), through libpq and nothing else: running its statements,
 * transactions, appends, and waiting for the head with LISTEN/NOTIFY.
 *
 * The tables mirror the SQLite store's (store_pg_schema.c): event_log keyed by
 * position with an integer stream id, streams, commands, snapshots, and the view
 * `events` with the contract's columns. Data and meta are TEXT, not jsonb, so
 * that they come back byte for byte and an export from PostgreSQL is identical to
 * one from SQLite. Reads and snapshots are in store_pg_read.c.
 *
 * Positions without gaps, visible in order. PostgreSQL's sequences are the known
 * trap of event stores on it: under concurrent writers sequence values commit out
 * of order (writer A takes 7, writer B takes 8 and commits first; a reader that
 * has seen 8 moves its checkpoint past 7, and misses 7 when A commits), and a
 * rolled-back append (every conflict is one) burns its values, leaving a gap.
 * So positions come from no sequence. Every append runs under the append lock, a
 * transaction-scoped advisory lock (pg_advisory_xact_lock), and takes
 * max(position) + 1 after getting it. The lock is held until the transaction ends,
 * so the next writer reads max(position) only after this one has committed (its
 * commit is visible before its locks are released) or rolled back (and then
 * reuses the same numbers): no gaps, and positions become visible in order. The
 * expected version is checked under the same lock, so two writers never both
 * succeed. What the lock costs is that appends commit one at a time; what comes
 * before an append (loading the aggregate, deciding, validating, aggregate.c)
 * holds no lock, so concurrent writers still overlap in that work. store_begin
 * takes the lock too, as SQLite's BEGIN IMMEDIATE takes its write lock: the
 * retry path of aggregate.c relies on "after begin, nobody else appends".
 *
 * Round trips. An append of its own (outside the caller's transaction: every
 * `strata exec`) is one pipeline, one round trip: the lock and one statement that
 * does the rest (append_one below). In the caller's transaction the lock is held,
 * the head and the streams' versions are known, so the events are held and sent
 * as one INSERT per 1,000 (store_pg_batch.c); the streams rows are written once
 * at commit.
 *
 * Live across processes. Each append's transaction ends with pg_notify(PG_CHANNEL,
 * last position); PostgreSQL delivers it at commit, and never for a rollback. A
 * follower's wait_head LISTENs once and then sleeps in poll() on the connection's
 * socket, so it hears of a commit at once without asking the server every few
 * milliseconds. A transaction of many appends (an import) notifies once, at its
 * commit. */
#include "store_pg.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "store_pg_internal.h"

static struct pg_store *PS(struct store *s)
{
    return (struct pg_store *)s;
}

/* ---- transactions ---- */

/* BEGIN and the append lock (see the top of the file). Waiting for the lock is
 * bounded by lock_timeout (the store's busy timeout, pg_session_setup). */
static int tx_begin(struct pg_store *ps, err *e)
{
    if (pg_exec(ps, "BEGIN", e, "starting a transaction") != ST_OK)
        return ST_ERR;
    ps->tx = PG_TX_OWN; /* so that a failure below rolls back */
    pg_tx_forget(ps);
    PGresult *r = pg_run(ps, P_LOCK, 0, NULL, e, "waiting for the append lock");
    if (!r)
        return ST_ERR;
    PQclear(r);
    return ST_OK;
}

static void tx_rollback(struct pg_store *ps)
{
    if (ps->tx == PG_TX_OPEN || ps->tx == PG_TX_OWN) {
        PGresult *r = PQexec(ps->conn, "ROLLBACK");
        PQclear(r);
    }
    ps->tx = PG_TX_NONE;
    pg_tx_forget(ps);
}

/* Announces the new head (delivered at commit only) and commits. */
static int tx_commit(struct pg_store *ps, err *e)
{
    int rc = pg_cache_flush(ps, e);
    if (rc == ST_OK && ps->notify_pos > 0) {
        char pos[24];
        const char *params[1] = {pgu_i64(pos, ps->notify_pos)};
        PGresult *r = pg_run(ps, P_NOTIFY, 1, params, e, "announcing the new events");
        rc = r ? ST_OK : ST_ERR;
        PQclear(r);
    }
    if (rc == ST_OK && (ps->tx == PG_TX_OPEN || ps->tx == PG_TX_OWN)) {
        /* A COMMIT that fails (the connection lost on the way) leaves the
         * transaction ended either way: nothing to roll back. */
        PGresult *r = PQexec(ps->conn, "COMMIT");
        bool ok = pgu_ok(r) && strcmp(PQcmdStatus(r), "COMMIT") == 0;
        if (!ok) {
            ps->tx = PG_TX_NONE;
            rc = pgu_error(ps->conn, r, ps->base.path, ps->busy_ms, e, "committing");
            if (rc == ST_OK)
                rc = err_set(e, ST_ERR, "%s: the transaction was rolled back at commit",
                             ps->base.path);
        }
        PQclear(r);
    }
    if (rc != ST_OK)
        err_prefix(e, "nothing was committed");
    ps->tx = PG_TX_NONE;
    pg_tx_forget(ps);
    return rc;
}

static int pg_begin(struct store *s, err *e)
{
    struct pg_store *ps = PS(s);
    if (ps->read_only)
        return pg_read_only_error(ps, e);
    if (ps->tx != PG_TX_NONE)
        return err_set(e, ST_ERR, "a transaction is already open on %s", s->path);
    if (tx_begin(ps, e) != ST_OK) {
        tx_rollback(ps);
        return ST_ERR;
    }
    ps->tx = PG_TX_OPEN;
    return ST_OK;
}

static int pg_commit(struct store *s, err *e)
{
    struct pg_store *ps = PS(s);
    if (ps->tx == PG_TX_ABORTED)
        return store_aborted_error(e);
    if (ps->tx == PG_TX_NONE)
        return err_set(e, ST_ERR, "no transaction is open on %s", s->path);
    return tx_commit(ps, e);
}

static void pg_rollback(struct store *s)
{
    tx_rollback(PS(s));
}

/* ---- append ---- */

/* Runs a statement for its effect. */
static int run(struct pg_store *ps, enum pg_stmt id, int n, const char *const *params, err *e,
               const char *doing)
{
    PGresult *r = pg_run(ps, id, n, params, e, doing);
    PQclear(r);
    return r ? ST_OK : ST_ERR;
}

/* The body of an append, inside a transaction that holds the append lock. */
static int append_locked(struct pg_store *ps, const char *stream, int64_t expected,
                         const char *command_id, const struct new_event *events, size_t n,
                         char (*times)[TIME_TEXT_LEN + 1], struct event_list *appended, err *e)
{
    char b1[24], b2[24], b3[24], b4[24];
    PGresult *r;
    if (command_id) {
        const char *params[1] = {command_id};
        if (!(r = pg_run(ps, P_CMD_GET, 1, params, e, "looking up a command id")))
            return ST_ERR;
        if (PQntuples(r) > 0) {
            int64_t first = pgu_int(r, 0, 0), last = pgu_int(r, 0, 1);
            PQclear(r);
            if (appended && pg_read_range(ps, first, last, appended, e) != ST_OK)
                return ST_ERR;
            return err_set(e, ST_DUPLICATE,
                           "command %s was already processed (it appended positions %lld..%lld)",
                           command_id, (long long)first, (long long)last);
        }
        PQclear(r);
    }

    /* Under the lock max(position) is final until this transaction ends; later
     * appends of the same transaction go on from what this one took. */
    if (ps->next_pos < 0) {
        if (!(r = pg_run(ps, P_HEAD, 0, NULL, e, "reading the head position")))
            return ST_ERR;
        ps->next_pos = pgu_int(r, 0, 0) + 1;
        PQclear(r);
    }

    int64_t id = 0, version = 0;
    bool found;
    if (pg_stream_lookup(ps, stream, &id, &version, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        version = 0;
    if (expected == STORE_NO_STREAM && version != 0)
        return err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected a new stream",
                       stream, (long long)version);
    if (expected > 0 && version != expected)
        return err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected %lld", stream,
                       (long long)version, (long long)expected);

    if (!found) {
        const char *params[1] = {stream};
        if (!(r = pg_run(ps, P_STREAM_NEW, 1, params, e, "appending events")))
            return ST_ERR;
        id = pgu_int(r, 0, 0);
        PQclear(r);
    }
    int64_t first = ps->next_pos, last = first + (int64_t)n - 1;
    /* The transaction's append time (format 3): one row, at its first position. */
    if (!ps->time_logged && ps->format >= 3) {
        const char *tp[2] = {pgu_i64(b1, first), pgu_i64(b2, time_now_ms())};
        if (run(ps, P_TIME_INS, 2, tp, e, "recording the append time") != ST_OK)
            return ST_ERR;
        ps->time_logged = true;
    }
    /* The rows are held and sent in batches (store_pg_batch.c): under the lock
     * nothing the server could say about them changes what this append returns. */
    for (size_t i = 0; i < n; i++) {
        const struct new_event *ev = &events[i];
        pg_batch_add(&ps->batch, first + (int64_t)i, id, version + (int64_t)i + 1, ev->type,
                     ev->schema, times[i], ev->data, ev->meta);
        if (pg_batch_full(&ps->batch) && pg_batch_flush(ps, e) != ST_OK)
            return ST_ERR;
    }
    if (ps->tx == PG_TX_OPEN) {
        stream_cache_put(&ps->cache, stream, id, version + (int64_t)n, last, true);
    } else {
        const char *sp[3] = {pgu_i64(b1, id), pgu_i64(b2, version + (int64_t)n), pgu_i64(b3, last)};
        if (run(ps, P_STREAM_SET, 3, sp, e, "appending events") != ST_OK)
            return ST_ERR;
    }
    if (command_id) {
        const char *cp[4] = {command_id, pgu_i64(b2, id), pgu_i64(b3, first), pgu_i64(b4, last)};
        if (run(ps, P_CMD_INS, 4, cp, e, "recording the command id") != ST_OK)
            return ST_ERR;
    }
    ps->next_pos = last + 1;
    ps->notify_pos = last;
    if (appended)
        store_push_appended(appended, stream, first, version, events, n, times);
    return ST_OK;
}

/* ---- an append of its own: one round trip ----
 *
 * An append outside the caller's transaction (every `strata exec`) is one
 * pipeline: the append lock, then one statement that does the rest, ended by one
 * Sync, so the two run as one implicit transaction that commits at the Sync. The
 * statement takes its snapshot after the lock was granted (READ COMMITTED: each
 * statement its own), so it sees every earlier append committed, as the separate
 * statements did. Within it: the command id looked up, the stream's row read,
 * the expected version checked, and only if both pass (the CTE `go` has its one
 * row) the stream's row written or made, the events inserted at max(position) +
 * 1..n, the append time and the command id recorded, and the new head announced.
 * Otherwise it writes nothing and says why in its one row of output. Up to
 * APPEND_ONE_MAX events (a statement prepared per count); more take the
 * statement-by-statement path below. */
#define APPEND_ONE_MAX 8

static char *append_one_sql(size_t n)
{
    strbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "WITH cmd AS (SELECT first_position, last_position FROM commands WHERE id = $3),\n"
                 " st AS (SELECT id, version FROM streams WHERE name = $1),\n"
                 " cur AS (SELECT (SELECT id FROM st) AS sid,\n"
                 "   coalesce((SELECT version FROM st), 0) AS ver,\n"
                 "   (SELECT coalesce(max(position), 0) FROM event_log) AS h),\n"
                 " go AS (SELECT * FROM cur WHERE NOT EXISTS (SELECT 1 FROM cmd)\n"
                 "   AND ($2::bigint = -1 OR ver = $2::bigint)),\n");
    sb_addf(&sb,
            " new_st AS (INSERT INTO streams(name, version, last_position)\n"
            "   SELECT $1, ver + %zu, h + %zu FROM go WHERE sid IS NULL RETURNING id),\n"
            " upd_st AS (UPDATE streams SET version = go.ver + %zu, last_position = go.h + %zu\n"
            "   FROM go WHERE streams.id = go.sid RETURNING streams.id),\n",
            n, n, n, n);
    sb_adds(&sb, " sid AS (SELECT id FROM new_st UNION ALL SELECT id FROM upd_st),\n"
                 " ev AS (INSERT INTO event_log(position, stream_id, version, type, schema, time, "
                 "data, meta)\n"
                 "   SELECT go.h + v.i, sid.id, go.ver + v.i, v.type, v.schema, v.time, v.data, "
                 "v.meta\n"
                 "   FROM go, sid, (VALUES ");
    for (size_t i = 0; i < n; i++) {
        size_t b = 4 + 5 * i;
        sb_addf(&sb, "%s(%zu, $%zu::text, $%zu::int, $%zu::text, $%zu::text, $%zu::text)",
                i ? ", " : "", i + 1, b + 1, b + 2, b + 3, b + 4, b + 5);
    }
    sb_addf(&sb,
            ") AS v(i, type, schema, time, data, meta)),\n"
            " tm AS (INSERT INTO append_times(first_position, appended_at)\n"
            "   SELECT h + 1, $4::bigint FROM go ON CONFLICT (first_position) DO NOTHING),\n"
            " ci AS (INSERT INTO commands(id, stream_id, first_position, last_position)\n"
            "   SELECT $3, sid.id, go.h + 1, go.h + %zu FROM go, sid WHERE $3::text IS NOT NULL),\n"
            " nt AS (SELECT pg_notify('" PG_CHANNEL "', (h + %zu)::text) FROM go)\n"
            "SELECT (SELECT count(*) FROM go), cur.ver, cur.h, (SELECT count(*) FROM nt),\n"
            "  (SELECT first_position FROM cmd), (SELECT last_position FROM cmd) FROM cur",
            n, n);
    return sb_steal(&sb);
}

static int append_one(struct pg_store *ps, const char *stream, int64_t expected,
                      const char *command_id, const struct new_event *events, size_t n,
                      char (*times)[TIME_TEXT_LEN + 1], struct event_list *appended, err *e)
{
    char exp[24], now[24], sch[APPEND_ONE_MAX][24], name[48], lock[16];
    const char *params[4 + 5 * APPEND_ONE_MAX];
    params[0] = stream;
    params[1] = pgu_i64(exp, expected == STORE_ANY_VERSION ? -1 : expected);
    params[2] = command_id;
    params[3] = pgu_i64(now, time_now_ms());
    for (size_t i = 0; i < n; i++) {
        const char **p = &params[4 + 5 * i];
        p[0] = events[i].type;
        p[1] = pgu_i64(sch[i], events[i].schema);
        p[2] = times[i];
        p[3] = events[i].data;
        p[4] = events[i].meta;
    }
    snprintf(name, sizeof name, "strata_append_%zu", n);
    /* The text always goes along: a reconnect in pg_pipeline forgets what was
     * prepared, and then it is prepared again in the same round trip. */
    char *sql = append_one_sql(n);
    struct pg_call calls[2];
    pg_stmt_call(ps, P_LOCK, 0, NULL, lock, &calls[0]);
    calls[1] = (struct pg_call){name, &ps->append_prepared[n], sql, 4 + 5 * (int)n, params};
    PGresult *r[2];
    int rc = pg_pipeline(ps, calls, 2, r, e, "appending events");
    free(sql);
    if (rc != ST_OK)
        return rc;
    PQclear(r[0]);
    PGresult *o = r[1];
    bool go = pgu_int(o, 0, 0) > 0;
    int64_t version = pgu_int(o, 0, 1), head = pgu_int(o, 0, 2);
    bool repeat = !PQgetisnull(o, 0, 4);
    int64_t cfirst = pgu_int(o, 0, 4), clast = pgu_int(o, 0, 5);
    PQclear(o);
    if (repeat) {
        if (appended && pg_read_range(ps, cfirst, clast, appended, e) != ST_OK)
            return ST_ERR;
        return err_set(e, ST_DUPLICATE,
                       "command %s was already processed (it appended positions %lld..%lld)",
                       command_id, (long long)cfirst, (long long)clast);
    }
    if (!go && expected == STORE_NO_STREAM)
        return err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected a new stream",
                       stream, (long long)version);
    if (!go)
        return err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected %lld", stream,
                       (long long)version, (long long)expected);
    if (appended)
        store_push_appended(appended, stream, head + 1, version, events, n, times);
    return ST_OK;
}

static int pg_append(struct store *s, const char *stream, int64_t expected_version,
                     const char *command_id, const struct new_event *events, size_t n,
                     struct event_list *appended, err *e)
{
    struct pg_store *ps = PS(s);
    if (ps->read_only)
        return pg_read_only_error(ps, e);
    if (ps->tx == PG_TX_ABORTED)
        return store_aborted_error(e);
    pg_loaded_forget(ps); /* events read with a snapshot are not the stream's now */
    char small[4][TIME_TEXT_LEN + 1];
    char(*times)[TIME_TEXT_LEN + 1] = n <= 4 ? small : xmalloc(n * sizeof *times);
    int rc = store_append_check(stream, expected_version, command_id, events, n, times, e);
    if (rc != ST_OK)
        goto out;

    bool own = ps->tx == PG_TX_NONE;
    if (own && n <= APPEND_ONE_MAX && ps->format >= 3) {
        rc = append_one(ps, stream, expected_version, command_id, events, n, times, appended, e);
        goto out;
    }
    if (own && (rc = tx_begin(ps, e)) != ST_OK) {
        tx_rollback(ps);
        goto out;
    }
    size_t had = appended ? appended->len : 0;
    rc = append_locked(ps, stream, expected_version, command_id, events, n, times, appended, e);
    if (own && rc == ST_OK)
        rc = tx_commit(ps, e);
    else if (own)
        tx_rollback(ps); /* a conflict or a repeat wrote nothing; a failure is gone anyway */
    /* In the caller's transaction a conflict or a repeat writes nothing and the
     * transaction goes on; a failed statement has ended it (pg_fail). */
    if (rc != ST_OK && rc != ST_DUPLICATE && appended)
        store_drop_appended(appended, had);
out:
    if (times != small)
        free(times);
    return rc;
}

/* ---- waiting for the head ---- */

/* Takes every notification libpq has read; each carries a committed head. */
static void drain_notifications(struct pg_store *ps)
{
    PGnotify *n;
    while ((n = PQnotifies(ps->conn)) != NULL) {
        int64_t pos = strtoll(n->extra, NULL, 10);
        if (pos > ps->known_head)
            ps->known_head = pos;
        PQfreemem(n);
    }
}

static int pg_wait_head(struct store *s, int64_t after, int timeout_ms, int64_t *head, err *e)
{
    struct pg_store *ps = PS(s);
    /* Inside a transaction nothing is delivered, and no one else can append while
     * it holds the append lock: look, as SQLite does. */
    if (ps->tx != PG_TX_NONE)
        return store_poll_head(s, after, timeout_ms, head, e);
    if (pg_ensure_connected(ps, e) != ST_OK)
        return ST_ERR;
    if (!ps->listening) {
        /* LISTEN first, then read the head: a commit after the read is heard of. */
        if (pg_exec(ps, "LISTEN " PG_CHANNEL, e, "listening for new events") != ST_OK)
            return ST_ERR;
        ps->listening = true;
        if (pg_head(s, &ps->known_head, e) != ST_OK) {
            ps->listening = false;
            return ST_ERR;
        }
    }
    int64_t until = time_now_ms() + timeout_ms;
    for (;;) {
        if (!PQconsumeInput(ps->conn))
            return pg_fail(ps, NULL, e, "waiting for new events");
        drain_notifications(ps);
        int64_t left = until - time_now_ms();
        if (ps->known_head > after || left <= 0)
            break;
        struct pollfd pfd = {PQsocket(ps->conn), POLLIN, 0};
        if (pfd.fd < 0)
            return pg_fail(ps, NULL, e, "waiting for new events");
        poll(&pfd, 1, (int)left);
    }
    *head = ps->known_head;
    return ST_OK;
}

/* ---- close ---- */

static void pg_close(struct store *s)
{
    struct pg_store *ps = PS(s);
    if (ps->conn)
        PQfinish(ps->conn); /* an open transaction is rolled back by the server */
    stream_cache_clear(&ps->cache);
    pg_batch_done(&ps->batch);
    pg_ahead_forget(ps);
    free(ps->base.path);
    free(ps->conninfo);
    free(ps);
}

struct pg_conn *store_pg_conn(struct store *s)
{
    while (s && s->under) /* a branch lives in its main store's database */
        s = s->under;
    if (!s || s->ops != &store_pg_ops)
        return NULL;
    struct pg_store *ps = PS(s);
    if (ps->batch.n > 0 && ps->tx != PG_TX_NONE) {
        /* Whoever runs statements on the connection sees the transaction's
         * events; a failure ends the transaction, which its commit then says. */
        err e;
        err_clear(&e);
        pg_batch_flush(ps, &e);
    }
    return ps->conn;
}

const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .append = pg_append,
    .command_events = pg_command_events,
    .read_page = pg_read_page,
    .read_stream = pg_read_stream,
    .head = pg_head,
    .wait_head = pg_wait_head,
    .stream_version = pg_stream_version,
    .list_streams = pg_list_streams,
    .count_streams = pg_count_streams,
    .position_at_time = pg_position_at_time,
    .snapshot_put = pg_snapshot_put,
    .snapshot_get = pg_snapshot_get,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .count_by = pg_count_by,
    .append_time = pg_append_time,
    .health = pg_health,
    .type_counts = pg_type_counts,
    .ledger_claim = pg_ledger_claim,
    .type_totals = pg_type_totals,
    .query = pg_query,
    .copy_put = pg_copy_put,
    .clear_times = pg_clear_times,
};
