/* bench_pg.c: the PostgreSQL figures of `make bench` (bench/README.md), against the
 * server BENCH_PG_URI names (bench/run.sh starts a throw-away one, or skips these
 * with a line saying so when none can be started). Each figure sets Strata on
 * PostgreSQL against raw libpq doing the same work in the same run:
 *   pg_append_batch     store_append, 10,000 events a transaction  vs a bulk writer's
 *                                                                    unnest INSERTs
 *   pg_replay           events decoded and folded through apply    vs reading the rows
 *   pg_project_catchup  AccountList folded from position 0         vs the same fold by
 *                                                                    hand (catchup_raw)
 *   pg_project_catchup_scan_limit  the same                        vs reading the rows
 *   pg_exec_latency     one Deposit end to end (a durable commit)  vs one command by
 *                                                                    hand: a read, then
 *                                                                    a pipelined append
 * Each baseline is written as a competent libpq programmer would write that job,
 * with the same guarantees (gapless positions under the append lock, the expected
 * version checked, the append time, the notification), not as a straw man.
 * and durable commands per second with 1, 4 and 8 writer processes, Strata on
 * PostgreSQL against Strata on SQLite (synchronous=FULL) in the same run:
 *   pg_writers_N        N processes, each its own connection, Deposit on random
 *                       accounts for BENCH_WRITER_SECONDS (default 3)
 * Every store is a schema of its own in the server's database, dropped at the end. */
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/aggregate.h"
#include "core/domain.h"
#include "core/projection.h"
#include "core/store.h"
#include "core/util.h"
#include "core/value.h"

#define APPEND_TXN 10000
#define ACCOUNTS 200 /* accounts the writers deposit to */

static const char *base_uri;
static PGconn *admin;
static int nschemas;

static PGresult *pq_ok(PGconn *c, PGresult *r, const char *what)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        bench_die("%s: %s", what, PQerrorMessage(c));
    return r;
}

static void pq_exec(PGconn *c, const char *sql)
{
    PQclear(pq_ok(c, PQexec(c, sql), sql));
}

/* A new empty schema and the URI of a store in it. */
static char *fresh_pg(const char *name)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS bench_%s CASCADE; CREATE SCHEMA bench_%s",
             name, name);
    pq_exec(admin, sql);
    nschemas++;
    char sep = strchr(base_uri, '?') ? '&' : '?';
    return xasprintf("%s%coptions=-csearch_path%%3Dbench_%s", base_uri, sep, name);
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* DROP SCHEMA ... CASCADE's notices */
}

static PGconn *raw_connect(const char *uri)
{
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK)
        bench_die("raw connection: %s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

/* ---- append_batch ---- */

static struct rate append_strata(const struct dataset *ds, const char *uri)
{
    struct store *s = bench_open_store(uri, true);
    struct rate r = bench_append(s, ds);
    store_close(s);
    return r;
}

/* An array literal being built, for a text-format array parameter. */
static void arr_int(strbuf *sb, bool first, long long v)
{
    sb_addf(sb, "%s%lld", first ? "{" : ",", v);
}

static void arr_text(strbuf *sb, bool first, const char *s)
{
    sb_addc(sb, first ? '{' : ',');
    if (!s) {
        sb_adds(sb, "NULL");
        return;
    }
    sb_addc(sb, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_addc(sb, '\\');
        sb_addc(sb, *s);
    }
    sb_addc(sb, '"');
}

#define RAW_BATCH 1000

/* The same rows into the same schema (made by Strata), as a competent hand-written
 * bulk writer does it: positions, stream ids and versions kept in memory, the
 * events sent RAW_BATCH at a time as one prepared INSERT ... SELECT FROM unnest of
 * eight arrays, the streams rows written at commit as one upsert of arrays. */
static void raw_send_events(PGconn *c, strbuf *col, size_t *rows)
{
    if (*rows == 0)
        return;
    const char *p[8];
    for (int k = 0; k < 8; k++) {
        sb_addc(&col[k], '}');
        p[k] = col[k].buf;
    }
    PQclear(pq_ok(c, PQexecPrepared(c, "ins", 8, p, NULL, NULL, 0), "insert"));
    for (int k = 0; k < 8; k++)
        sb_reset(&col[k]);
    *rows = 0;
}

static struct rate append_raw(const struct dataset *ds, const char *uri)
{
    store_close(bench_open_store(uri, true));
    PGconn *c = raw_connect(uri);
    PQclear(pq_ok(c,
                  PQprepare(c, "ins",
                            "INSERT INTO event_log(position, stream_id, version, type, schema, "
                            "time, data, meta) SELECT * FROM unnest($1::bigint[], $2::bigint[], "
                            "$3::bigint[], $4::text[], $5::int[], $6::text[], $7::text[], "
                            "$8::text[])",
                            0, NULL),
                  "prepare"));
    PQclear(pq_ok(c,
                  PQprepare(c, "stream",
                            "INSERT INTO streams(id, name, version, last_position) "
                            "SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], "
                            "$4::bigint[]) ON CONFLICT (id) DO UPDATE SET version = "
                            "EXCLUDED.version, last_position = EXCLUDED.last_position",
                            0, NULL),
                  "prepare"));
    int64_t *version = xcalloc(ds->nstreams, sizeof *version);
    int64_t *last = xcalloc(ds->nstreams, sizeof *last);
    bool *dirty = xcalloc(ds->nstreams, sizeof *dirty);
    strbuf col[8], sc[4];
    for (int k = 0; k < 8; k++)
        sb_init(&col[k]);
    for (int k = 0; k < 4; k++)
        sb_init(&sc[k]);
    double t0 = bench_now(), c0 = bench_cpu();
    for (size_t i = 0; i < ds->n; i += APPEND_TXN) {
        pq_exec(c, "BEGIN");
        size_t end = i + APPEND_TXN < ds->n ? i + APPEND_TXN : ds->n, rows = 0, ns = 0;
        for (size_t j = i; j < end; j++) {
            uint32_t si = ds->stream[j];
            ++version[si];
            last[si] = (int64_t)j + 1;
            if (version[si] == 1) { /* a new stream's row goes before its events */
                raw_send_events(c, col, &rows);
                char sid[24];
                snprintf(sid, sizeof sid, "%u", si + 1);
                const char *sp[4] = {sid, ds->stream_names[si], "0", "0"};
                PQclear(pq_ok(c,
                              PQexecParams(c,
                                           "INSERT INTO streams(id, name, version, "
                                           "last_position) VALUES($1, $2, $3, $4)",
                                           4, NULL, sp, NULL, NULL, 0),
                              "stream"));
            }
            dirty[si] = true;
            bool first = rows == 0;
            arr_int(&col[0], first, (long long)j + 1);
            arr_int(&col[1], first, (long long)si + 1);
            arr_int(&col[2], first, (long long)version[si]);
            arr_text(&col[3], first, ds->type[j]);
            arr_int(&col[4], first, ds->schema[j]);
            arr_text(&col[5], first, ds->time[j]);
            arr_text(&col[6], first, ds->data[j]);
            arr_text(&col[7], first, ds->meta[j]);
            if (++rows == RAW_BATCH)
                raw_send_events(c, col, &rows);
        }
        raw_send_events(c, col, &rows);
        for (size_t si = 0; si < ds->nstreams; si++) {
            if (!dirty[si])
                continue;
            dirty[si] = false;
            bool first = ns++ == 0;
            arr_int(&sc[0], first, (long long)si + 1);
            arr_text(&sc[1], first, ds->stream_names[si]);
            arr_int(&sc[2], first, (long long)version[si]);
            arr_int(&sc[3], first, (long long)last[si]);
        }
        if (ns) {
            const char *p[4];
            for (int k = 0; k < 4; k++) {
                sb_addc(&sc[k], '}');
                p[k] = sc[k].buf;
            }
            PQclear(pq_ok(c, PQexecPrepared(c, "stream", 4, p, NULL, NULL, 0), "streams"));
            for (int k = 0; k < 4; k++)
                sb_reset(&sc[k]);
        }
        pq_exec(c, "COMMIT");
    }
    struct rate r = bench_rate((double)ds->n, t0, c0);
    for (int k = 0; k < 8; k++)
        sb_done(&col[k]);
    for (int k = 0; k < 4; k++)
        sb_done(&sc[k]);
    free(version);
    free(last);
    free(dirty);
    PQfinish(c);
    return r;
}

/* ---- reading the same rows raw: the baseline of replay and catch-up ---- */

static struct rate read_rows_raw(const char *uri, int64_t *rows_out)
{
    PGconn *c = raw_connect(uri);
    double t0 = bench_now(), c0 = bench_cpu();
    PGresult *r = pq_ok(c,
                        PQexec(c, "SELECT e.position, s.name, e.version, e.type, e.schema, "
                                  "e.time, e.data, e.meta FROM event_log e JOIN streams s ON "
                                  "s.id = e.stream_id ORDER BY e.position"),
                        "read all");
    int64_t rows = PQntuples(r);
    volatile size_t touched = 0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < 8; j++)
            touched += (size_t)PQgetlength(r, i, j) + (PQgetvalue(r, i, j)[0] != 0);
    struct rate rt = bench_rate((double)rows, t0, c0);
    PQclear(r);
    PQfinish(c);
    if (rows_out)
        *rows_out = rows;
    return rt;
}

/* ---- a fair catch-up baseline: the same fold by hand ----
 *
 * What a competent engineer writes to keep AccountList up to date with raw libpq
 * and jansson, doing the job Strata's catch-up does (without the history that
 * `query --at` needs, which is Strata's own extra): per batch of CATCHUP_BATCH
 * events one transaction that takes the projection's advisory lock, reads the
 * checkpoint, reads the events after it, loads the current rows of the batch's
 * keys in one statement, parses each payload and folds it into the row, then
 * writes the changed rows as one upsert of arrays, deletes the closed accounts,
 * and moves the checkpoint, committing with synchronous_commit off (as Strata's
 * batches do). The inner loop:
 *
 *   for each event of the page:
 *       row = rows[key of stream]           (hash table, loaded per batch)
 *       payload = json_loadb(data)
 *       AccountOpened:  owner, balance = initialDeposit, status = 'open'
 *       MoneyDeposited: balance += amount, lastActivity = time
 *       MoneyWithdrawn: balance -= amount, lastActivity = time
 *       AccountClosed:  deleted
 */
#include <jansson.h>

#define CATCHUP_BATCH 10000

struct acct {
    char *key, *owner, *status, *last;
    long long balance;
    bool dirty, deleted;
};

struct accts {
    struct acct *slot;
    size_t cap, n;
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct acct *acct_get(struct accts *t, const char *key, bool *fresh)
{
    if (2 * (t->n + 1) > t->cap) {
        struct accts g = {xcalloc(t->cap ? 2 * t->cap : 1024, sizeof *g.slot),
                          t->cap ? 2 * t->cap : 1024, 0};
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slot[i].key)
                continue;
            size_t j = str_hash(t->slot[i].key) & (g.cap - 1);
            while (g.slot[j].key)
                j = (j + 1) & (g.cap - 1);
            g.slot[j] = t->slot[i];
            g.n++;
        }
        free(t->slot);
        *t = g;
    }
    size_t j = str_hash(key) & (t->cap - 1);
    while (t->slot[j].key) {
        if (strcmp(t->slot[j].key, key) == 0) {
            *fresh = false;
            return &t->slot[j];
        }
        j = (j + 1) & (t->cap - 1);
    }
    *fresh = true;
    t->n++;
    struct acct *a = &t->slot[j];
    memset(a, 0, sizeof *a);
    a->key = xstrdup(key);
    return a;
}

static void accts_clear(struct accts *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        struct acct *a = &t->slot[i];
        if (!a->key)
            continue;
        free(a->key);
        free(a->owner);
        free(a->status);
        free(a->last);
        memset(a, 0, sizeof *a);
    }
    t->n = 0;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static struct rate catchup_raw(const char *uri, int64_t *folded)
{
    PGconn *c = raw_connect(uri);
    pq_exec(c, "DROP TABLE IF EXISTS raw_accounts; DROP TABLE IF EXISTS raw_checkpoint; "
               "CREATE TABLE raw_accounts(key text COLLATE \"C\" PRIMARY KEY, owner text, "
               "balance bigint, status text, \"lastActivity\" text); "
               "CREATE TABLE raw_checkpoint(name text PRIMARY KEY, position bigint NOT NULL); "
               "INSERT INTO raw_checkpoint VALUES('AccountList', 0)");
    PQclear(pq_ok(c,
                  PQprepare(c, "page",
                            "SELECT e.position, s.name, e.type, e.time, e.data FROM event_log e "
                            "JOIN streams s ON s.id = e.stream_id WHERE e.position > $1 "
                            "ORDER BY e.position LIMIT $2",
                            0, NULL),
                  "prepare"));
    PQclear(pq_ok(c,
                  PQprepare(c, "rows",
                            "SELECT key, owner, balance, status, \"lastActivity\" FROM "
                            "raw_accounts WHERE key = ANY($1::text[])",
                            0, NULL),
                  "prepare"));
    PQclear(
        pq_ok(c,
              PQprepare(c, "upsert",
                        "INSERT INTO raw_accounts SELECT * FROM unnest($1::text[], "
                        "$2::text[], $3::bigint[], $4::text[], $5::text[]) ON CONFLICT (key) "
                        "DO UPDATE SET owner = EXCLUDED.owner, balance = EXCLUDED.balance, "
                        "status = EXCLUDED.status, \"lastActivity\" = EXCLUDED.\"lastActivity\"",
                        0, NULL),
              "prepare"));
    PQclear(pq_ok(
        c, PQprepare(c, "delete", "DELETE FROM raw_accounts WHERE key = ANY($1::text[])", 0, NULL),
        "prepare"));
    struct accts t = {NULL, 0, 0};
    strbuf col[5], keys, del;
    for (int k = 0; k < 5; k++)
        sb_init(&col[k]);
    sb_init(&keys);
    sb_init(&del);
    int64_t n = 0;
    double t0 = bench_now(), c0 = bench_cpu();
    for (;;) {
        pq_exec(c, "BEGIN; SET LOCAL synchronous_commit = off; "
                   "SELECT pg_advisory_xact_lock(1398035024, 7)");
        PGresult *ck =
            pq_ok(c, PQexec(c, "SELECT position FROM raw_checkpoint WHERE name = 'AccountList'"),
                  "checkpoint");
        char after[24], lim[24];
        snprintf(after, sizeof after, "%s", PQgetvalue(ck, 0, 0));
        PQclear(ck);
        snprintf(lim, sizeof lim, "%d", CATCHUP_BATCH);
        const char *pp[2] = {after, lim};
        PGresult *page = pq_ok(c, PQexecPrepared(c, "page", 2, pp, NULL, NULL, 0), "page");
        int rows = PQntuples(page);
        if (rows == 0) {
            PQclear(page);
            pq_exec(c, "COMMIT");
            break;
        }
        /* The batch's keys, their rows loaded in one statement. */
        sb_reset(&keys);
        for (int i = 0; i < rows; i++) {
            const char *name = PQgetvalue(page, i, 1), *dash = strchr(name, '-');
            if (strncmp(name, "Account-", 8) != 0 || !dash)
                continue;
            bool fresh;
            acct_get(&t, dash + 1, &fresh);
            if (fresh)
                arr_text(&keys, t.n == 1, dash + 1);
        }
        if (t.n) {
            sb_addc(&keys, '}');
            const char *kp[1] = {keys.buf};
            PGresult *cur = pq_ok(c, PQexecPrepared(c, "rows", 1, kp, NULL, NULL, 0), "rows");
            for (int i = 0; i < PQntuples(cur); i++) {
                bool fresh;
                struct acct *a = acct_get(&t, PQgetvalue(cur, i, 0), &fresh);
                a->owner = PQgetisnull(cur, i, 1) ? NULL : xstrdup(PQgetvalue(cur, i, 1));
                a->balance = atoll(PQgetvalue(cur, i, 2));
                a->status = PQgetisnull(cur, i, 3) ? NULL : xstrdup(PQgetvalue(cur, i, 3));
                a->last = PQgetisnull(cur, i, 4) ? NULL : xstrdup(PQgetvalue(cur, i, 4));
            }
            PQclear(cur);
        }
        for (int i = 0; i < rows; i++) {
            const char *name = PQgetvalue(page, i, 1), *type = PQgetvalue(page, i, 2);
            if (strncmp(name, "Account-", 8) != 0)
                continue;
            bool fresh;
            struct acct *a = acct_get(&t, name + 8, &fresh);
            json_error_t je;
            json_t *d = json_loadb(PQgetvalue(page, i, 4), (size_t)PQgetlength(page, i, 4), 0, &je);
            if (!d)
                bench_die("catch-up baseline: bad payload at %s", PQgetvalue(page, i, 0));
            if (strcmp(type, "AccountOpened") == 0) {
                free(a->owner);
                free(a->status);
                a->owner = dup_or_null(json_string_value(json_object_get(d, "owner")));
                a->balance = json_integer_value(json_object_get(d, "initialDeposit"));
                a->status = xstrdup("open");
                a->deleted = false;
                a->dirty = true;
            } else if (strcmp(type, "MoneyDeposited") == 0 || strcmp(type, "MoneyWithdrawn") == 0) {
                long long amount = json_integer_value(json_object_get(d, "amount"));
                a->balance += type[5] == 'D' ? amount : -amount;
                free(a->last);
                a->last = xstrdup(PQgetvalue(page, i, 3));
                a->dirty = true;
            } else if (strcmp(type, "AccountClosed") == 0) {
                a->deleted = true;
                a->dirty = true;
            }
            json_decref(d);
        }
        char last[24];
        snprintf(last, sizeof last, "%s", PQgetvalue(page, rows - 1, 0));
        PQclear(page);
        /* The changed rows, one upsert; the closed accounts, one delete. */
        size_t nu = 0, nd = 0;
        for (size_t i = 0; i < t.cap; i++) {
            struct acct *a = &t.slot[i];
            if (!a->key || !a->dirty)
                continue;
            if (a->deleted) {
                arr_text(&del, nd++ == 0, a->key);
                continue;
            }
            bool first = nu++ == 0;
            arr_text(&col[0], first, a->key);
            arr_text(&col[1], first, a->owner);
            arr_int(&col[2], first, a->balance);
            arr_text(&col[3], first, a->status);
            arr_text(&col[4], first, a->last);
        }
        if (nu) {
            const char *up[5];
            for (int k = 0; k < 5; k++) {
                sb_addc(&col[k], '}');
                up[k] = col[k].buf;
            }
            PQclear(pq_ok(c, PQexecPrepared(c, "upsert", 5, up, NULL, NULL, 0), "upsert"));
        }
        if (nd) {
            sb_addc(&del, '}');
            const char *dp[1] = {del.buf};
            PQclear(pq_ok(c, PQexecPrepared(c, "delete", 1, dp, NULL, NULL, 0), "delete"));
        }
        for (int k = 0; k < 5; k++)
            sb_reset(&col[k]);
        sb_reset(&del);
        accts_clear(&t);
        const char *cp[1] = {last};
        PQclear(pq_ok(c,
                      PQexecParams(c,
                                   "UPDATE raw_checkpoint SET position = $1 WHERE name = "
                                   "'AccountList'",
                                   1, NULL, cp, NULL, NULL, 0),
                      "checkpoint"));
        pq_exec(c, "COMMIT");
        n += rows;
    }
    struct rate rt = bench_rate((double)n, t0, c0);
    free(t.slot);
    for (int k = 0; k < 5; k++)
        sb_done(&col[k]);
    sb_done(&keys);
    sb_done(&del);
    PQfinish(c);
    *folded = n;
    return rt;
}

/* ---- exec_latency ---- */

/* One command by hand, as a competent libpq programmer would write it with the
 * same guarantees: the stream's events read (to decide on), then one pipeline, one
 * round trip: the append lock, and one statement that checks the expected version,
 * moves the stream on, inserts the event at max(position) + 1, records the append
 * time and announces the new head, committed at the Sync (an implicit
 * transaction). */
static const char RAW_APPEND_SQL[] =
    "WITH s AS (UPDATE streams SET version = version + 1, last_position = "
    "(SELECT coalesce(max(position), 0) + 1 FROM event_log) WHERE id = $1 AND version = $2 "
    "RETURNING id, version, last_position), "
    "i AS (INSERT INTO event_log(position, stream_id, version, type, schema, time, data, meta) "
    "SELECT last_position, id, version, 'MoneyDeposited', 1, $3, '{\"amount\":5}', "
    "'{\"command\":\"Deposit\"}' FROM s), "
    "t AS (INSERT INTO append_times(first_position, appended_at) SELECT last_position, $4 "
    "FROM s) "
    "SELECT pg_notify('strata_events', last_position::text) FROM s";

static double raw_exec_once(PGconn *c, int64_t stream_id)
{
    char tm[TIME_TEXT_LEN + 1], sid[24], now[24];
    time_format_ms(time_now_ms(), tm);
    snprintf(sid, sizeof sid, "%lld", (long long)stream_id);
    double t0 = bench_now();
    const char *p1[1] = {sid};
    PGresult *v = pq_ok(c, PQexecPrepared(c, "read", 1, p1, NULL, NULL, 0), "read");
    int rows = PQntuples(v);
    char ver[24];
    snprintf(ver, sizeof ver, "%s", rows ? PQgetvalue(v, rows - 1, 2) : "0");
    volatile size_t touched = 0;
    for (int i = 0; i < rows; i++)
        touched += (size_t)PQgetlength(v, i, 6);
    PQclear(v);
    snprintf(now, sizeof now, "%lld", (long long)time_now_ms());
    const char *p[4] = {sid, ver, tm, now};
    if (!PQenterPipelineMode(c))
        bench_die("pipeline: %s", PQerrorMessage(c));
    if (!PQsendQueryPrepared(c, "lock", 0, NULL, NULL, NULL, 0) ||
        !PQsendQueryPrepared(c, "append", 4, p, NULL, NULL, 0) || !PQpipelineSync(c))
        bench_die("pipeline: %s", PQerrorMessage(c));
    int appended = -1;
    for (int got = 0; got < 2;) {
        PGresult *r = PQgetResult(c);
        if (!r) {
            got++;
            continue;
        }
        if (got == 1)
            appended = PQntuples(pq_ok(c, r, "append"));
        else
            pq_ok(c, r, "lock");
        PQclear(r);
    }
    PGresult *sync = PQgetResult(c);
    if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
        bench_die("pipeline: no sync");
    PQclear(sync);
    if (!PQexitPipelineMode(c))
        bench_die("pipeline: %s", PQerrorMessage(c));
    if (appended != 1)
        bench_die("raw append: version conflict");
    return (bench_now() - t0) * 1000;
}

static void raw_exec_prepare(PGconn *c)
{
    PQclear(pq_ok(c,
                  PQprepare(c, "read",
                            "SELECT e.position, s.name, e.version, e.type, e.schema, e.time, "
                            "e.data, e.meta FROM event_log e JOIN streams s ON s.id = "
                            "e.stream_id WHERE e.stream_id = $1 ORDER BY e.version",
                            0, NULL),
                  "prepare"));
    PQclear(pq_ok(c, PQprepare(c, "lock", "SELECT pg_advisory_xact_lock(1398035009, 1)", 0, NULL),
                  "prepare"));
    PQclear(pq_ok(c, PQprepare(c, "append", RAW_APPEND_SQL, 0, NULL), "prepare"));
}

/* ---- concurrent writers ---- */

static int writer_seconds(void)
{
    const char *v = getenv("BENCH_WRITER_SECONDS");
    int s = v && *v ? atoi(v) : 3;
    return s < 0 ? 0 : s; /* 0: no writer figures (profiling the rest) */
}

/* A store with ACCOUNTS open accounts. */
static void writers_setup(const char *path, const struct domain *bank)
{
    struct store *s = bench_open_store(path, true);
    const struct command_spec *open = domain_command(bank, "OpenAccount");
    err e;
    err_clear(&e);
    for (int i = 0; i < ACCOUNTS; i++) {
        char id[16];
        snprintf(id, sizeof id, "w%d", i);
        value payload = value_map(2);
        value_map_set(&payload, "accountId", value_cstring(id));
        value_map_set(&payload, "owner", value_cstring("W"));
        struct command_request req;
        memset(&req, 0, sizeof req);
        req.command = open;
        req.payload = payload;
        req.expected_version = STORE_ANY_VERSION;
        struct command_result res;
        command_result_init(&res);
        if (command_execute(s, bank, &req, &res, &e) != ST_OK)
            bench_die("open account: %s", e.msg);
        command_result_done(&res);
        value_free(payload);
    }
    store_close(s);
}

/* n processes, each with its own store handle, depositing on random accounts for
 * the given seconds; returns commands acknowledged per second in all. */
static double writers_run(const char *path, const struct domain *bank, int n, int seconds)
{
    int fds[2];
    if (pipe(fds) != 0)
        bench_die("pipe");
    pid_t *pids = xcalloc((size_t)n, sizeof *pids);
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            bench_die("fork");
        if (pids[i] == 0) {
            close(fds[0]);
            struct store *s = bench_open_store(path, false);
            uint64_t rng = 0x1234567ULL * (uint64_t)(i + 1);
            long done = 0;
            err e;
            err_clear(&e);
            double until = bench_now() + seconds;
            while (bench_now() < until) {
                char id[16];
                snprintf(id, sizeof id, "w%d", (int)(bench_rand(&rng) % ACCOUNTS));
                if (bench_deposit(s, bank, id, &e) >= 0)
                    done++;
            }
            store_close(s);
            if (write(fds[1], &done, sizeof done) != (ssize_t)sizeof done)
                _exit(1);
            _exit(0);
        }
    }
    close(fds[1]);
    long total = 0, one;
    for (int i = 0; i < n; i++) {
        if (read(fds[0], &one, sizeof one) == (ssize_t)sizeof one)
            total += one;
    }
    for (int i = 0; i < n; i++)
        waitpid(pids[i], NULL, 0);
    double took = bench_now() - t0;
    close(fds[0]);
    free(pids);
    return (double)total / took;
}

int main(void)
{
    base_uri = getenv("BENCH_PG_URI");
    if (!base_uri || !*base_uri)
        bench_die("BENCH_PG_URI is not set (bench/run.sh sets it)");
    admin = raw_connect(base_uri);
    int64_t want = bench_scale();
    const char *ps = getenv("BENCH_PG_SCALE");
    if (ps && *ps)
        want = atoll(ps);
    else if (want > 100000)
        want = 100000; /* a round trip per append: the PostgreSQL figures at 100,000 */
    size_t n = (size_t)want;
    int reps = bench_reps();
    err e;
    err_clear(&e);
    struct dataset ds;
    dataset_make(&ds, n);
    bench_note("postgresql: %zu events (BENCH_PG_SCALE), server %d", n, PQserverVersion(admin));

    struct rate *sa = xcalloc((size_t)reps, sizeof *sa), *ra = xcalloc((size_t)reps, sizeof *ra);
    char *uri = NULL, *rawuri = NULL;
    for (int r = 0; r < reps; r++) {
        free(rawuri);
        rawuri = fresh_pg("raw");
        ra[r] = append_raw(&ds, rawuri);
        free(uri);
        uri = fresh_pg("main");
        sa[r] = append_strata(&ds, uri);
        bench_note("pg_append_batch run %d: strata %.0f/s raw %.0f/s", r + 1, sa[r].wall,
                   ra[r].wall);
    }
    bench_rates("pg_append_batch", sa, ra, reps, "events/s");

    struct domain *bank = bench_load_domain("domains/bank.yaml");
    struct domain *counter = bench_load_domain("bench/counter.yaml");
    const struct domain *doms[2] = {bank, counter};
    struct store *s = bench_open_store(uri, false);
    int64_t head = 0;
    if (store_head(s, &head, &e) != ST_OK || head != (int64_t)n)
        bench_die("the store's head is %lld, expected %zu (%s)", (long long)head, n, e.msg);
    for (int r = 0; r < reps; r++) {
        int64_t folded = 0, rows = 0;
        ra[r] = read_rows_raw(uri, &rows);
        sa[r] = bench_replay(s, doms, 2, &folded);
        if (folded != head || rows != head)
            bench_die("replay folded %lld and read %lld of %lld", (long long)folded,
                      (long long)rows, (long long)head);
    }
    bench_rates("pg_replay", sa, ra, reps, "events/s");

    if (projection_setup(s, bank, &e) != ST_OK)
        bench_die("projection setup: %s", e.msg);
    struct rate *scan = xcalloc((size_t)reps, sizeof *scan);
    for (int r = 0; r < reps; r++) {
        int64_t folded = 0;
        scan[r] = read_rows_raw(uri, NULL);
        ra[r] = catchup_raw(uri, &folded);
        if (folded != head)
            bench_die("the catch-up baseline folded %lld of %lld", (long long)folded,
                      (long long)head);
        double t0 = bench_now(), c0 = bench_cpu();
        int rc = r == 0 ? projection_catch_up(s, bank, "AccountList", 0, true, NULL, &e)
                        : projection_rebuild(s, bank, "AccountList", &e);
        if (rc != ST_OK)
            bench_die("catch-up: %s", e.msg);
        sa[r] = bench_rate((double)head, t0, c0);
        bench_note("pg_project_catchup run %d: strata %.0f/s fold by hand %.0f/s scan %.0f/s",
                   r + 1, sa[r].wall, ra[r].wall, scan[r].wall);
    }
    bench_rates("pg_project_catchup", sa, ra, reps, "events/s");
    /* The physical limit beside it: reading the rows, nothing folded. */
    bench_rates("pg_project_catchup_scan_limit", sa, scan, reps, "events/s");
    free(scan);

    /* exec_latency: Deposit on random accounts, the raw transaction on a stream of its own */
    {
        int ns = bench_samples(n >= 100000 ? 300 : 60);
        uint64_t rng = 0x9e3779b97f4a7c15ULL;
        double *st = xcalloc((size_t)ns, sizeof *st), *bt = xcalloc((size_t)ns, sizeof *bt);
        PGconn *c = raw_connect(uri);
        pq_exec(c, "INSERT INTO streams(name, version, last_position) VALUES('Account-raw', 0, 0)");
        PGresult *idr =
            pq_ok(c, PQexec(c, "SELECT id FROM streams WHERE name = 'Account-raw'"), "raw stream");
        int64_t sid = atoll(PQgetvalue(idr, 0, 0));
        PQclear(idr);
        raw_exec_prepare(c);
        for (int i = 0; i < ns; i++) {
            char id[24];
            snprintf(id, sizeof id, "%llu", (unsigned long long)(bench_rand(&rng) % ds.naccounts));
            bt[i] = raw_exec_once(c, sid);
            st[i] = bench_deposit(s, bank, id, &e);
            if (st[i] < 0)
                bench_die("exec Deposit %s: %s", id, e.msg);
        }
        PQfinish(c);
        bench_note_tail("pg_exec_latency", st, bt, (size_t)ns);
        bench_latency_pair("pg_exec_latency", st, (size_t)ns, bt, (size_t)ns);
        free(st);
        free(bt);
    }
    store_close(s);

    /* durable commands per second, N writer processes: PostgreSQL beside SQLite */
    if (writer_seconds() > 0) {
        int secs = writer_seconds();
        char *pgw = fresh_pg("writers");
        char *sqw = bench_path("writers.db");
        bench_remove_db(sqw);
        writers_setup(pgw, bank);
        writers_setup(sqw, bank);
        static const int counts[] = {1, 4, 8};
        for (size_t k = 0; k < 3; k++) {
            double *pv = xcalloc((size_t)reps, sizeof *pv), *sv = xcalloc((size_t)reps, sizeof *sv);
            for (int r = 0; r < reps; r++) {
                pv[r] = writers_run(pgw, bank, counts[k], secs);
                sv[r] = writers_run(sqw, bank, counts[k], secs);
                bench_note("pg_writers_%d run %d: postgresql %.0f/s sqlite %.0f/s", counts[k],
                           r + 1, pv[r], sv[r]);
            }
            char name[32];
            snprintf(name, sizeof name, "pg_writers_%d", counts[k]);
            bench_throughput(name, bench_median(pv, (size_t)reps), bench_median(sv, (size_t)reps),
                             "cmds/s");
            free(pv);
            free(sv);
        }
        bench_remove_db(sqw);
        free(sqw);
        free(pgw);
    }

    pq_exec(admin, "DROP SCHEMA IF EXISTS bench_raw CASCADE; DROP SCHEMA IF EXISTS bench_main "
                   "CASCADE; DROP SCHEMA IF EXISTS bench_writers CASCADE");
    PQfinish(admin);
    domain_free(bank);
    domain_free(counter);
    dataset_done(&ds);
    free(sa);
    free(ra);
    free(uri);
    free(rawuri);
    return 0;
}
