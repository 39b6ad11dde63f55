/* projection_pg.c: read-model tables in the PostgreSQL store's own database (the
 * PostgreSQL implementation of projection_backend.h), through libpq on the
 * store's connection.
 *
 * Per projection NAME (identifiers double-quoted, quotes doubled; PostgreSQL
 * cuts names at 63 bytes, so NAME may have at most 41):
 *
 *   projections        one status record per projection, as on SQLite.
 *   proj_NAME          (key text PRIMARY KEY, one typed column per declared column)
 *                      the read model now, for anyone with psql: bigint, double
 *                      precision, boolean, text, or jsonb for lists and maps, by the
 *                      column's type; a column of any type holds its value as JSON
 *                      text (a string as it is). A projection without key keeps its
 *                      one row under key ''.
 *   proj_NAME_history  (key, valid_from, row) PRIMARY KEY (key, valid_from): one
 *                      entry per change, at the position of the event that made it,
 *                      the whole row as JSON text (exact types), NULL when the event
 *                      deleted the row.
 *   proj_NAME_keys     (key PRIMARY KEY, first_position) every key ever seen.
 *
 * Keys use the "C" collation, so rows come back in byte order as on SQLite. The
 * row at position P is the newest entry with valid_from <= P: one backward index
 * seek per key (a LATERAL join over proj_NAME_keys for a read of every key), so
 * `query --at` gives the rows SQLite gives. The history holds whole rows only:
 * SQLite's change entries (projection_sqlite.c) spare a row that keeps a growing
 * list from being written whole at every event; PostgreSQL could take the same
 * later, and reads would only have to apply them.
 *
 * While rebuilding, the same tables exist with __rebuild in their names; the swap
 * drops the live ones and renames these in one transaction (PostgreSQL's DDL is
 * transactional), so a reader sees the old read model or the new one.
 *
 * Batches. A fold batch must not run in the store's write transaction:
 * store_begin takes the append lock (store_pg.c), and a catch-up would stop every
 * writer for as long as it folds. A batch is a transaction of its own on the same
 * connection (batch_begin below) that first takes, for each projection in it, a
 * transaction-scoped advisory lock of its own (pg_advisory_xact_lock in the space
 * PPG_LOCK_SPACE, the projection's name hashed), in ascending order so two
 * processes never wait for each other in a circle. Holding it, the batch reads the
 * projection's record (READ COMMITTED: the checkpoint committed last), folds the
 * events after it, and writes rows, history and the new checkpoint; COMMIT makes
 * them visible together and then releases the lock. So several workbenches and
 * `strata project` processes fold each projection one at a time, the second
 * starting from the checkpoint the first committed (the same queueing SQLite's
 * write lock gives), and a batch is counted exactly once: a crash or a lost
 * connection rolls back rows and checkpoint together. Batches commit with
 * synchronous_commit off (atomic, not flushed at once: a lost batch is refolded,
 * its checkpoint lost with it), as SQLite's batches run with synchronous=NORMAL.
 * The locks are transaction-scoped rather than held for a session so that no
 * process owns a projection for good: a workbench left open does not stop
 * `strata project` elsewhere, and a process that dies holds nothing.
 *
 * A connection lost inside a batch is an error, never a reconnect: what the
 * transaction did is gone. Every write checks that its transaction is still
 * open, so nothing is written outside one.
 *
 * Writing. History entries, keys and rows are held and sent many to a statement
 * (one text array per column, unnest()ed: up to PPG_PARAMS_MAX values a round
 * trip) rather than one statement per row: on a network a round trip costs more
 * than the row. They are sent at the latest by record_put, which a batch calls for
 * each projection after writing its rows, and by the swap, drop and commit; a
 * row read (row_get) sends them first only when they are about its key. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "projection_pg_internal.h"
#include "store_pg.h"

/* Advisory locks of read models: "STRP" and the projection's name hashed. */
#define PPG_LOCK_SPACE 1398035024
#define PPG_NAME_MAX 41
#define PPG_PARAMS_MAX 30000 /* values held before they are sent, at most */

static const char RECORD_TABLE_SQL[] =
    "CREATE TABLE IF NOT EXISTS projections(name text COLLATE \"C\" PRIMARY KEY, checkpoint "
    "bigint NOT NULL DEFAULT 0, status text, rules_hash text, paused integer NOT NULL DEFAULT 0, "
    "throttle bigint NOT NULL DEFAULT 0, error text, error_position bigint, error_event text, "
    "updated_at text, rebuild_checkpoint bigint, rebuild_hash text, rate_samples text)";

/* ---- the connection ---- */

static bool idle(struct store *s)
{
    return PQtransactionStatus(ppg_conn(s)) == PQTRANS_IDLE;
}

/* Writes are refused outside a transaction: a connection lost and opened again
 * in the middle of a batch has none, and a write there would stand alone. */
static int in_tx(struct store *s, err *e, const char *doing)
{
    PGconn *c = ppg_conn(s);
    if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_INTRANS)
        return ST_OK;
    if (PQstatus(c) != CONNECTION_OK)
        return ppg_error(s, NULL, e, doing);
    return err_set(e, ST_ERR,
                   "lost the connection to the store %s while %s: the batch was rolled back",
                   s->path, doing);
}

int ppg_have_records(struct store *s, bool *have, err *e)
{
    PGresult *r = ppg_run(s, "SELECT to_regclass('projections') IS NOT NULL", 0, NULL, e,
                          "looking for the projections table");
    if (!r)
        return ST_ERR;
    *have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return ST_OK;
}

static int32_t lock_id(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int32_t)h;
}

/* Takes p's lock (see the top of the file) in the open transaction. */
static int lock_projection(struct store *s, const char *name, err *e)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d, %d)", PPG_LOCK_SPACE,
             (int)lock_id(name));
    return ppg_exec(s, sql, e, "waiting for another process folding the projection");
}

/* Runs f in a transaction of its own unless the caller has one open. */
static int in_transaction(struct store *s,
                          int (*f)(struct store *, const struct projection_spec *, err *),
                          const struct projection_spec *p, err *e)
{
    if (!idle(s))
        return f(s, p, e);
    if (ppg_ready(s, e) != ST_OK || ppg_exec(s, "BEGIN", e, "starting a transaction") != ST_OK)
        return ST_ERR;
    int rc = f(s, p, e);
    if (rc == ST_OK) {
        PGresult *r = PQexec(ppg_conn(s), "COMMIT");
        if (!pgu_ok(r) || strcmp(PQcmdStatus(r), "COMMIT") != 0)
            rc = ppg_error(s, r, e, "committing a projection's tables");
        PQclear(r);
        return rc;
    }
    PQclear(PQexec(ppg_conn(s), "ROLLBACK"));
    return rc;
}

/* ---- typed columns ---- */

static const char *column_type(const struct projection_spec *p, size_t i)
{
    switch (p->coltypes ? p->coltypes[i].type : F_ANY) {
    case F_INT:
        return " bigint";
    case F_FLOAT:
        return " double precision";
    case F_BOOL:
        return " boolean";
    case F_STRING:
    case F_TIMESTAMP:
    case F_DURATION:
        return " text COLLATE \"C\"";
    case F_LIST:
    case F_MAP:
        return " jsonb";
    default:
        return " text";
    }
}

/* v as the text of a parameter for column i (NULL for SQL NULL), in out; a value
 * its column's type cannot hold (the fold's checks keep them out) is NULL. */
static bool column_text(const struct projection_spec *p, size_t i, const value *v, strbuf *out)
{
    ftype t = p->coltypes ? p->coltypes[i].type : F_ANY;
    if (v->type == V_NULL)
        return false;
    switch (t) {
    case F_INT:
        if (v->type == V_INT)
            return sb_addf(out, "%lld", (long long)v->u.i), true;
        if (v->type == V_DOUBLE && v->u.d == (double)(long long)v->u.d)
            return sb_addf(out, "%lld", (long long)v->u.d), true;
        if (v->type == V_BOOL)
            return sb_adds(out, v->u.b ? "1" : "0"), true;
        return false;
    case F_FLOAT:
        if (v->type == V_INT || v->type == V_DOUBLE)
            return json_write(out, v), true;
        return false;
    case F_BOOL:
        if (v->type == V_BOOL)
            return sb_adds(out, v->u.b ? "true" : "false"), true;
        if (v->type == V_INT)
            return sb_adds(out, v->u.i ? "true" : "false"), true;
        return false;
    case F_LIST:
    case F_MAP:
        return json_write(out, v), true;
    default:
        if (v->type == V_STRING)
            sb_add(out, value_str(v), value_strlen(v));
        else
            json_write(out, v);
        return true;
    }
}

/* ---- records and tables ---- */

static int check_name(const struct projection_spec *p, err *e)
{
    if (strlen(p->name) <= PPG_NAME_MAX)
        return ST_OK;
    return err_set(e, ST_ERR,
                   "projection %s: the name is too long for a PostgreSQL store (its tables are "
                   "named proj_NAME__rebuild_history, and PostgreSQL keeps 63 bytes of a name: "
                   "at most %d bytes)",
                   p->name, PPG_NAME_MAX);
}

static void add_create_sql(strbuf *sql, const struct projection_spec *p, bool rebuild)
{
    sb_adds(sql, "CREATE TABLE IF NOT EXISTS ");
    ppg_add_table(sql, p->name, rebuild, PPG_ROWS);
    sb_adds(sql, "(key text COLLATE \"C\" PRIMARY KEY");
    for (size_t i = 0; i < p->ncolumns; i++) {
        sb_adds(sql, ", ");
        pgu_add_ident(sql, NULL, p->columns[i], NULL);
        sb_adds(sql, column_type(p, i));
    }
    sb_adds(sql, ");\nCREATE TABLE IF NOT EXISTS ");
    ppg_add_table(sql, p->name, rebuild, PPG_HISTORY);
    sb_adds(sql, "(key text COLLATE \"C\" NOT NULL, valid_from bigint NOT NULL, row text, "
                 "PRIMARY KEY (key, valid_from));\nCREATE TABLE IF NOT EXISTS ");
    ppg_add_table(sql, p->name, rebuild, PPG_KEYS);
    sb_adds(sql, "(key text COLLATE \"C\" PRIMARY KEY, first_position bigint NOT NULL);\n");
}

/* A keyless projection's single row of defaults in the typed table. */
static int insert_keyless_row(struct store *s, const struct projection_spec *p, bool rebuild,
                              err *e)
{
    if (p->keyed)
        return ST_OK;
    strbuf sql, vals;
    sb_init(&sql);
    sb_init(&vals);
    sb_adds(&sql, "INSERT INTO ");
    ppg_add_table(&sql, p->name, rebuild, PPG_ROWS);
    sb_adds(&sql, " VALUES(''");
    const char **params = xcalloc(p->ncolumns + 1, sizeof *params);
    size_t *offs = xcalloc(p->ncolumns + 1, sizeof *offs);
    bool *has = xcalloc(p->ncolumns + 1, sizeof *has);
    for (size_t i = 0; i < p->ncolumns; i++) {
        sb_addf(&sql, ", $%zu", i + 1);
        offs[i] = vals.len;
        has[i] = column_text(p, i, &p->defaults[i], &vals);
        sb_addc(&vals, '\0');
    }
    sb_adds(&sql, ") ON CONFLICT (key) DO NOTHING");
    for (size_t i = 0; i < p->ncolumns; i++)
        params[i] = has[i] ? vals.buf + offs[i] : NULL;
    PGresult *r = ppg_run(s, sql.buf, (int)p->ncolumns, params, e,
                          "creating the row of a projection without key");
    PQclear(r);
    free(params);
    free(offs);
    free(has);
    sb_done(&sql);
    sb_done(&vals);
    return r ? ST_OK : ST_ERR;
}

static int ensure_in_tx(struct store *s, const struct projection_spec *p, err *e)
{
    int rc = check_name(p, e);
    if (rc == ST_OK)
        rc = lock_projection(s, p->name, e);
    if (rc == ST_OK)
        rc = ppg_exec(s, RECORD_TABLE_SQL, e, "creating the projections table");
    if (rc != ST_OK)
        return rc;
    strbuf sql;
    sb_init(&sql);
    add_create_sql(&sql, p, false);
    rc = ppg_exec(s, sql.buf, e, "creating a projection's tables");
    sb_done(&sql);
    if (rc != ST_OK)
        return err_prefix(e, "projection %s", p->name), rc;
    if ((rc = insert_keyless_row(s, p, false, e)) != ST_OK)
        return rc;
    const char *params[2] = {p->name, p->rules_hash};
    PGresult *r = ppg_run(s,
                          "INSERT INTO projections(name, checkpoint, status, rules_hash, paused, "
                          "throttle) VALUES($1, 0, 'catching up', $2, 0, 0) "
                          "ON CONFLICT (name) DO NOTHING",
                          2, params, e, "creating a projection's record");
    PQclear(r);
    return r ? ST_OK : ST_ERR;
}

static int pg_ensure(struct store *s, const struct projection_spec *p, err *e)
{
    return in_transaction(s, ensure_in_tx, p, e);
}

static void copy_text(const PGresult *r, int col, char *out, size_t cap)
{
    snprintf(out, cap, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

static int pg_record_get(struct store *s, const char *name, struct proj_record *r, err *e)
{
    memset(r, 0, sizeof *r);
    r->rebuild_checkpoint = -1;
    bool have;
    if (ppg_ready(s, e) != ST_OK || ppg_have_records(s, &have, e) != ST_OK)
        return ST_ERR;
    if (!have)
        return ST_NOT_FOUND;
    const char *params[1] = {name};
    PGresult *q = ppg_run(s,
                          "SELECT checkpoint, status, rules_hash, paused, throttle, error, "
                          "error_position, error_event, updated_at, rebuild_checkpoint, "
                          "rebuild_hash, rate_samples FROM projections WHERE name = $1",
                          1, params, e, "reading a projection's record");
    if (!q)
        return ST_ERR;
    if (PQntuples(q) == 0) {
        PQclear(q);
        return ST_NOT_FOUND;
    }
    r->checkpoint = pgu_int(q, 0, 0);
    copy_text(q, 1, r->status, sizeof r->status);
    copy_text(q, 2, r->rules_hash, sizeof r->rules_hash);
    r->paused = pgu_int(q, 0, 3) != 0;
    r->throttle = pgu_int(q, 0, 4);
    r->error = pgu_dup(q, 0, 5);
    r->error_position = pgu_int(q, 0, 6);
    r->error_event = pgu_dup(q, 0, 7);
    int64_t ms = 0;
    const char *t = PQgetvalue(q, 0, 8);
    if (!PQgetisnull(q, 0, 8) && time_parse(t, strlen(t), 0, &ms))
        r->updated_ms = ms;
    r->rebuild_checkpoint = PQgetisnull(q, 0, 9) ? -1 : pgu_int(q, 0, 9);
    copy_text(q, 10, r->rebuild_hash, sizeof r->rebuild_hash);
    r->samples = pgu_dup(q, 0, 11);
    PQclear(q);
    return ST_OK;
}

static int flush_all(struct store *s, err *e);

static const char *text_or_null(const char *t)
{
    return t && *t ? t : NULL;
}

static int pg_record_put(struct store *s, const char *name, const struct proj_record *r, err *e)
{
    if (flush_all(s, e) != ST_OK)
        return ST_ERR;
    char when[TIME_TEXT_LEN + 1] = "", cp[24], ep[24], rc_[24];
    if (r->updated_ms > 0)
        time_format_ms(r->updated_ms, when);
    const char *params[11] = {pgu_i64(cp, r->checkpoint),
                              r->status,
                              r->rules_hash,
                              text_or_null(r->error),
                              r->error_position > 0 ? pgu_i64(ep, r->error_position) : NULL,
                              text_or_null(r->error_event),
                              text_or_null(when),
                              r->rebuild_checkpoint >= 0 ? pgu_i64(rc_, r->rebuild_checkpoint)
                                                         : NULL,
                              text_or_null(r->rebuild_hash),
                              text_or_null(r->samples),
                              name};
    PGresult *q = ppg_run(s,
                          "UPDATE projections SET checkpoint = $1, status = $2, rules_hash = $3, "
                          "error = $4, error_position = $5, error_event = $6, updated_at = $7, "
                          "rebuild_checkpoint = $8, rebuild_hash = $9, rate_samples = $10 "
                          "WHERE name = $11",
                          11, params, e, "writing a projection's record");
    PQclear(q);
    return q ? ST_OK : ST_ERR;
}

static int set_control(struct store *s, const char *name, const char *sql, int64_t v, err *e)
{
    char buf[24];
    const char *params[2] = {pgu_i64(buf, v), name};
    if (ppg_ready(s, e) != ST_OK)
        return ST_ERR;
    PGresult *q = ppg_run(s, sql, 2, params, e, "changing a projection's controls");
    PQclear(q);
    return q ? ST_OK : ST_ERR;
}

static int pg_set_paused(struct store *s, const char *name, bool paused, err *e)
{
    return set_control(s, name, "UPDATE projections SET paused = $1 WHERE name = $2",
                       paused ? 1 : 0, e);
}

static int pg_set_throttle(struct store *s, const char *name, int64_t throttle, err *e)
{
    return set_control(s, name, "UPDATE projections SET throttle = $1 WHERE name = $2", throttle,
                       e);
}

/* ---- writing rows ---- */

/* What a writer holds until it sends it: parameters as text, NUL-separated in
 * buf (offs[i] < 0: SQL NULL). */
struct pending {
    strbuf buf;
    long *offs;
    size_t n, cap;
};

static void pending_add(struct pending *q, const char *t, size_t len)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        q->offs = xrealloc(q->offs, q->cap * sizeof *q->offs);
    }
    if (!t) {
        q->offs[q->n++] = -1;
        return;
    }
    q->offs[q->n++] = (long)q->buf.len;
    sb_add(&q->buf, t, len);
    sb_addc(&q->buf, '\0');
}

static void pending_clear(struct pending *q)
{
    sb_reset(&q->buf);
    q->n = 0;
}

struct proj_writer {
    struct store *s;
    const struct projection_spec *p;
    bool rebuild;
    struct pending hist, keys, rows, dels; /* 3, 2, 1 + ncolumns, 1 parameters per entry */
    value held;                            /* the keys the pending entries are about (a set) */
    strbuf tmp;
    struct proj_writer *next; /* in the list of open writers */
};

static void held_clear(struct proj_writer *w)
{
    if (value_map_len(&w->held) == 0)
        return;
    value_free(w->held);
    w->held = value_map(64);
}

static void held_add(struct proj_writer *w, const char *key)
{
    value_map_setn(&w->held, key, strlen(key), value_bool(true));
}

static pthread_mutex_t writers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct proj_writer *writers;

/* Adds s (NULL: SQL NULL) to an array literal, quoted with '"' and '\' escaped. */
static void array_add(strbuf *a, const char *s)
{
    sb_addc(a, a->len ? ',' : '{');
    if (!s) {
        sb_adds(a, "NULL");
        return;
    }
    sb_addc(a, '"');
    for (;;) {
        size_t run = strcspn(s, "\"\\");
        sb_add(a, s, run);
        s += run;
        if (!*s)
            break;
        sb_addc(a, '\\');
        sb_addc(a, *s++);
    }
    sb_addc(a, '"');
}

/* Sends q's entries (per parameters each) as one statement: head, then
 * "SELECT u.c1::T1, ... FROM unnest($1::text[], ...) AS u(c1, ...)", then tail,
 * one text array per column (casts[i] its type, NULL for text). Arrays rather than
 * a VALUES list of thousands of parameters: the server parses and plans a short
 * statement, whatever the number of rows. */
static int pending_send(struct proj_writer *w, struct pending *q, size_t per,
                        const char *const *casts, const char *head, const char *tail,
                        const char *doing, err *e)
{
    if (q->n == 0)
        return ST_OK;
    int rc = in_tx(w->s, e, doing);
    if (rc != ST_OK)
        return rc;
    strbuf *cols = xcalloc(per, sizeof *cols);
    const char **params = xcalloc(per, sizeof *params);
    for (size_t i = 0; i < q->n; i++)
        array_add(&cols[i % per], q->offs[i] < 0 ? NULL : q->buf.buf + q->offs[i]);
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, head);
    sb_adds(&sql, " SELECT ");
    for (size_t k = 0; k < per; k++) {
        sb_addf(&sql, "%su.c%zu", k ? ", " : "", k + 1);
        if (casts && casts[k])
            sb_addf(&sql, "::%s", casts[k]);
    }
    sb_adds(&sql, " FROM unnest(");
    for (size_t k = 0; k < per; k++)
        sb_addf(&sql, "%s$%zu::text[]", k ? ", " : "", k + 1);
    sb_adds(&sql, ") AS u(");
    for (size_t k = 0; k < per; k++)
        sb_addf(&sql, "%sc%zu", k ? ", " : "", k + 1);
    sb_addf(&sql, ")%s", tail);
    for (size_t k = 0; k < per; k++) {
        sb_addc(&cols[k], '}');
        params[k] = cols[k].buf;
    }
    PGresult *r = ppg_run(w->s, sql.buf, (int)per, params, e, doing);
    if (!r)
        rc = ST_ERR;
    PQclear(r);
    for (size_t k = 0; k < per; k++)
        sb_done(&cols[k]);
    free(cols);
    free(params);
    sb_done(&sql);
    return rc;
}

/* Sends everything w holds, history and keys before rows. */
static int writer_flush(struct proj_writer *w, err *e)
{
    const struct projection_spec *p = w->p;
    strbuf head, tail;
    sb_init(&head);
    sb_init(&tail);
    int rc = ST_OK;
    if (w->hist.n) {
        sb_adds(&head, "INSERT INTO ");
        ppg_add_table(&head, p->name, w->rebuild, PPG_HISTORY);
        sb_adds(&head, "(key, valid_from, row)");
        static const char *const casts[3] = {NULL, "bigint", NULL};
        rc = pending_send(w, &w->hist, 3, casts, head.buf,
                          " ON CONFLICT (key, valid_from) DO UPDATE SET row = EXCLUDED.row",
                          "writing a projection's history", e);
    }
    if (rc == ST_OK && w->keys.n) {
        sb_reset(&head);
        sb_adds(&head, "INSERT INTO ");
        ppg_add_table(&head, p->name, w->rebuild, PPG_KEYS);
        sb_adds(&head, "(key, first_position)");
        static const char *const casts[2] = {NULL, "bigint"};
        rc = pending_send(w, &w->keys, 2, casts, head.buf, " ON CONFLICT (key) DO NOTHING",
                          "writing a projection's keys", e);
    }
    if (rc == ST_OK && w->dels.n) {
        sb_reset(&head);
        sb_adds(&head, "DELETE FROM ");
        ppg_add_table(&head, p->name, w->rebuild, PPG_ROWS);
        sb_adds(&head, " WHERE key IN (");
        rc = pending_send(w, &w->dels, 1, NULL, head.buf, ")", "deleting projection rows", e);
    }
    if (rc == ST_OK && w->rows.n) {
        sb_reset(&head);
        sb_adds(&head, "INSERT INTO ");
        ppg_add_table(&head, p->name, w->rebuild, PPG_ROWS);
        sb_adds(&head, "(key");
        for (size_t i = 0; i < p->ncolumns; i++) {
            sb_adds(&head, ", ");
            pgu_add_ident(&head, NULL, p->columns[i], NULL);
        }
        sb_adds(&head, ")");
        const char **casts = xcalloc(1 + p->ncolumns, sizeof *casts);
        for (size_t i = 0; i < p->ncolumns; i++)
            casts[1 + i] = column_type(p, i) + 1; /* without its leading space */
        sb_adds(&tail, " ON CONFLICT (key) DO ");
        if (p->ncolumns == 0)
            sb_adds(&tail, "NOTHING");
        for (size_t i = 0; i < p->ncolumns; i++) {
            sb_adds(&tail, i ? ", " : "UPDATE SET ");
            pgu_add_ident(&tail, NULL, p->columns[i], NULL);
            sb_adds(&tail, " = EXCLUDED.");
            pgu_add_ident(&tail, NULL, p->columns[i], NULL);
        }
        rc = pending_send(w, &w->rows, 1 + p->ncolumns, casts, head.buf, tail.buf,
                          "writing projection rows", e);
        free(casts);
    }
    sb_done(&head);
    sb_done(&tail);
    pending_clear(&w->hist);
    pending_clear(&w->keys);
    pending_clear(&w->dels);
    pending_clear(&w->rows);
    held_clear(w);
    if (rc != ST_OK)
        err_prefix(e, "projection %s", p->name);
    return rc;
}

static int flush_all(struct store *s, err *e)
{
    int rc = ST_OK;
    pthread_mutex_lock(&writers_lock);
    for (struct proj_writer *w = writers; w && rc == ST_OK; w = w->next)
        if (w->s == s)
            rc = writer_flush(w, e);
    pthread_mutex_unlock(&writers_lock);
    return rc;
}

static void pending_done(struct pending *q)
{
    sb_done(&q->buf);
    free(q->offs);
}

static void pg_writer_close(struct proj_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&writers_lock);
    for (struct proj_writer **at = &writers; *at; at = &(*at)->next)
        if (*at == w) {
            *at = w->next;
            break;
        }
    pthread_mutex_unlock(&writers_lock);
    pending_done(&w->hist);
    pending_done(&w->keys);
    pending_done(&w->rows);
    pending_done(&w->dels);
    value_free(w->held);
    sb_done(&w->tmp);
    free(w);
}

static int pg_writer_open(struct store *s, const struct projection_spec *p, bool rebuild,
                          struct proj_writer **out, err *e)
{
    if (check_name(p, e) != ST_OK)
        return ST_ERR;
    struct proj_writer *w = xcalloc(1, sizeof *w);
    w->s = s;
    w->p = p;
    w->rebuild = rebuild;
    sb_init(&w->hist.buf);
    sb_init(&w->keys.buf);
    sb_init(&w->rows.buf);
    sb_init(&w->dels.buf);
    sb_init(&w->tmp);
    w->held = value_map(64);
    pthread_mutex_lock(&writers_lock);
    w->next = writers;
    writers = w;
    pthread_mutex_unlock(&writers_lock);
    *out = w;
    return ST_OK;
}

static int pg_row_get(struct proj_writer *w, const char *key, value *row, bool *found, err *e)
{
    *row = value_null();
    *found = false;
    /* The fold asks only for rows it has not cached, which it wrote none of since;
     * should it ask for one it wrote, what is held is sent first. Otherwise the
     * held entries stay held: a catch-up misses each key once, and sending at
     * every miss would cut its batch into a statement per key. */
    if (value_map_getn(&w->held, key, strlen(key)) && writer_flush(w, e) != ST_OK)
        return ST_ERR;
    sb_reset(&w->tmp);
    sb_adds(&w->tmp, "SELECT row FROM ");
    ppg_add_table(&w->tmp, w->p->name, w->rebuild, PPG_HISTORY);
    sb_adds(&w->tmp, " WHERE key = $1 ORDER BY valid_from DESC LIMIT 1");
    const char *params[1] = {key};
    PGresult *r = ppg_run(w->s, w->tmp.buf, 1, params, e, "reading a projection row");
    if (!r)
        return err_prefix(e, "projection %s", w->p->name), ST_ERR;
    int rc = ST_OK;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        err je;
        if (json_parse(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), row, &je) != ST_OK)
            rc = err_set(e, ST_ERR,
                         "projection %s: a stored history entry of key '%s' is not JSON: %s",
                         w->p->name, key, je.msg);
        else
            *found = true;
    }
    PQclear(r);
    return rc;
}

static int pg_history_put(struct proj_writer *w, const char *key, int64_t position,
                          const value *prev, const value *row, bool is_new, err *e)
{
    (void)prev;
    char pos[24];
    pgu_i64(pos, position);
    held_add(w, key);
    pending_add(&w->hist, key, strlen(key));
    pending_add(&w->hist, pos, strlen(pos));
    if (row) {
        sb_reset(&w->tmp);
        json_write(&w->tmp, row);
        pending_add(&w->hist, w->tmp.buf, w->tmp.len);
    } else {
        pending_add(&w->hist, NULL, 0);
    }
    if (is_new) {
        pending_add(&w->keys, key, strlen(key));
        pending_add(&w->keys, pos, strlen(pos));
    }
    if (w->hist.n >= PPG_PARAMS_MAX)
        return writer_flush(w, e);
    return ST_OK;
}

static int pg_row_store(struct proj_writer *w, const char *key, const value *row, err *e)
{
    held_add(w, key);
    if (!row) {
        pending_add(&w->dels, key, strlen(key));
    } else {
        pending_add(&w->rows, key, strlen(key));
        for (size_t i = 0; i < w->p->ncolumns; i++) {
            const value *v = value_map_get(row, w->p->columns[i]);
            sb_reset(&w->tmp);
            if (v && column_text(w->p, i, v, &w->tmp))
                pending_add(&w->rows, w->tmp.buf ? w->tmp.buf : "", w->tmp.len);
            else
                pending_add(&w->rows, NULL, 0);
        }
    }
    if (w->rows.n + w->dels.n >= PPG_PARAMS_MAX)
        return writer_flush(w, e);
    return ST_OK;
}

/* ---- rebuilding ---- */

static void add_drop_sql(strbuf *sql, const char *name, bool rebuild)
{
    static const enum ppg_table kinds[] = {PPG_ROWS, PPG_HISTORY, PPG_KEYS};
    for (size_t i = 0; i < 3; i++) {
        sb_adds(sql, "DROP TABLE IF EXISTS ");
        ppg_add_table(sql, name, rebuild, kinds[i]);
        sb_adds(sql, ";\n");
    }
}

static int pg_rebuild_drop(struct store *s, const struct projection_spec *p, err *e)
{
    if (flush_all(s, e) != ST_OK)
        return ST_ERR;
    strbuf sql;
    sb_init(&sql);
    add_drop_sql(&sql, p->name, true);
    int rc = ppg_exec(s, sql.buf, e, "dropping a rebuild's tables");
    sb_done(&sql);
    return rc;
}

static int pg_rebuild_reset(struct store *s, const struct projection_spec *p, err *e)
{
    int rc = check_name(p, e);
    if (rc == ST_OK)
        rc = lock_projection(s, p->name, e); /* not in the middle of someone's batch */
    if (rc != ST_OK)
        return rc;
    strbuf sql;
    sb_init(&sql);
    add_drop_sql(&sql, p->name, true);
    add_create_sql(&sql, p, true);
    rc = ppg_exec(s, sql.buf, e, "creating a rebuild's tables");
    sb_done(&sql);
    if (rc == ST_OK)
        rc = insert_keyless_row(s, p, true, e);
    return rc;
}

static int pg_rebuild_swap(struct store *s, const struct projection_spec *p, err *e)
{
    static const enum ppg_table kinds[] = {PPG_ROWS, PPG_HISTORY, PPG_KEYS};
    if (flush_all(s, e) != ST_OK)
        return ST_ERR;
    strbuf sql;
    sb_init(&sql);
    add_drop_sql(&sql, p->name, false);
    for (size_t i = 0; i < 3; i++) {
        sb_adds(&sql, "ALTER TABLE ");
        ppg_add_table(&sql, p->name, true, kinds[i]);
        sb_adds(&sql, " RENAME TO ");
        ppg_add_table(&sql, p->name, false, kinds[i]);
        sb_adds(&sql, ";\n");
    }
    int rc = ppg_exec(s, sql.buf, e, "swapping a rebuilt projection in");
    sb_done(&sql);
    return rc;
}

/* ---- batches (see the top of the file) ---- */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

static void pg_batch_rollback(struct store *s)
{
    pthread_mutex_lock(&writers_lock);
    for (struct proj_writer *w = writers; w; w = w->next)
        if (w->s == s) {
            pending_clear(&w->hist);
            pending_clear(&w->keys);
            pending_clear(&w->rows);
            pending_clear(&w->dels);
            held_clear(w);
        }
    pthread_mutex_unlock(&writers_lock);
    if (!idle(s))
        PQclear(PQexec(ppg_conn(s), "ROLLBACK"));
}

static int pg_batch_begin(struct store *s, const struct projection_spec *const *ps, size_t n,
                          err *e)
{
    if (!idle(s))
        return err_set(e, ST_ERR, "a transaction is already open on %s", s->path);
    if (ppg_ready(s, e) != ST_OK ||
        ppg_exec(s, "BEGIN; SET LOCAL synchronous_commit TO off", e, "starting a batch") != ST_OK)
        return ST_ERR;
    int32_t *ids = xcalloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = lock_id(ps[i]->name);
    qsort(ids, n, sizeof *ids, cmp_i32);
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        if (i > 0 && ids[i] == ids[i - 1])
            continue;
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d, %d)", PPG_LOCK_SPACE,
                 (int)ids[i]);
        rc = ppg_exec(s, sql, e, "waiting for another process folding the projection");
    }
    free(ids);
    if (rc != ST_OK)
        pg_batch_rollback(s);
    return rc;
}

static int pg_batch_commit(struct store *s, err *e)
{
    int rc = flush_all(s, e);
    if (rc == ST_OK)
        rc = in_tx(s, e, "committing a batch");
    if (rc != ST_OK) {
        pg_batch_rollback(s);
        return rc;
    }
    PGresult *r = PQexec(ppg_conn(s), "COMMIT");
    if (!pgu_ok(r) || strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        rc = ppg_error(s, r, e, "committing a batch");
        if (rc == ST_OK)
            rc = err_set(e, ST_ERR, "%s: the batch was rolled back at commit", s->path);
    }
    PQclear(r);
    return rc;
}

static void pg_batches_begin(struct store *s, int *saved)
{
    (void)s;
    *saved = 0; /* each batch sets synchronous_commit for itself */
}

static void pg_batches_end(struct store *s, int saved)
{
    (void)s;
    (void)saved;
}

/* ---- reading ---- */

static int pg_read_begin(struct store *s, bool *began, err *e)
{
    *began = false;
    if (!idle(s))
        return ST_OK;
    if (ppg_ready(s, e) != ST_OK || ppg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                             e, "starting a read") != ST_OK)
        return ST_ERR;
    *began = true;
    return ST_OK;
}

static void pg_read_end(struct store *s, bool began)
{
    if (began)
        PQclear(PQexec(ppg_conn(s), "COMMIT"));
}

const struct proj_backend proj_backend_pg = {
    .name = "postgresql",
    .ensure = pg_ensure,
    .record_get = pg_record_get,
    .record_put = pg_record_put,
    .set_paused = pg_set_paused,
    .set_throttle = pg_set_throttle,
    .writer_open = pg_writer_open,
    .row_get = pg_row_get,
    .history_put = pg_history_put,
    .row_store = pg_row_store,
    .writer_close = pg_writer_close,
    .rebuild_reset = pg_rebuild_reset,
    .rebuild_drop = pg_rebuild_drop,
    .rebuild_swap = pg_rebuild_swap,
    .batches_begin = pg_batches_begin,
    .batches_end = pg_batches_end,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .rows_at = ppg_rows_at,
    .history_walk = ppg_history_walk,
    .skip_add = ppg_skip_add,
    .skips_get = ppg_skips_get,
    .skips_count = ppg_skips_count,
    .keys_at = ppg_keys_at,
    .batch_begin = pg_batch_begin,
    .batch_commit = pg_batch_commit,
    .batch_rollback = pg_batch_rollback,
};
