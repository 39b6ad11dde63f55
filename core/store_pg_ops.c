/* store_pg_ops.c: the PostgreSQL store's operations for looking at the log from
 * outside the event model, each giving what the SQLite store's gives
 * (store_sqlite_query.c, store_sqlite_count.c, store_sqlite_health.c): the
 * import ledger (ledger_claim), counts by type (type_counts, type_totals) and by
 * group (count_by), when an event was appended (append_time), the store's health
 * for `strata doctor`, and `strata sql` (query).
 *
 * health. SQLite's journal mode and integrity_check have no meaning here. What
 * replaces them: durability is the server's settings that decide whether an
 * acknowledged commit survives a crash (fsync, synchronous_commit, full_page_writes;
 * all three must be on, which is PostgreSQL's default), and integrity is the
 * store's own invariant, checked in one pass over the streams: each stream's
 * recorded version and last position agree with its events (the pages themselves
 * are the server's to check: data_checksums, amcheck). The positions' gap check is
 * the same query as on SQLite.
 *
 * query. The statement runs on a connection of its own (the store's is never lent
 * out), in a READ ONLY transaction with statement_timeout, sent through the
 * extended protocol, which takes exactly one statement. PostgreSQL then refuses
 * every write (to tables, sequences, large objects) itself; what is left is what a
 * READ ONLY transaction still allows a role (functions with side effects outside
 * the database, such as pg_terminate_backend): the role's privileges are the
 * boundary, as for psql. Differences from SQLite: PostgreSQL's SQL (data::jsonb->>
 * 'amount' in place of json_extract), no PRAGMAs (information_schema and pg_catalog
 * answer the same questions), and typed cells by the result's column types. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "store_pg.h"
#include "store_pg_internal.h"

static struct pg_store *PS(struct store *s)
{
    return (struct pg_store *)s;
}

/* Runs sql with text parameters, unprepared; NULL on failure with e set. */
static PGresult *exec_params(struct pg_store *ps, const char *sql, int n, const char *const *params,
                             err *e, const char *doing)
{
    if (pg_ensure_connected(ps, e) != ST_OK)
        return NULL;
    PGresult *r = PQexecParams(ps->conn, sql, n, NULL, params, NULL, NULL, 0);
    if (!pgu_ok(r)) {
        pg_fail(ps, r, e, doing);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* ---- the import ledger ---- */

int pg_ledger_claim(struct store *s, const unsigned char id[16], int64_t position, bool *fresh,
                    err *e)
{
    struct pg_store *ps = PS(s);
    *fresh = false;
    if (ps->read_only)
        return pg_read_only_error(ps, e);
    if (ps->tx == PG_TX_ABORTED)
        return store_aborted_error(e);
    char hex[2 * 16 + 3] = "\\x", b[24];
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        hex[2 + 2 * i] = digits[id[i] >> 4];
        hex[3 + 2 * i] = digits[id[i] & 15];
    }
    hex[34] = '\0';
    const char *params[2] = {hex, pgu_i64(b, position)};
    PGresult *r = pg_run_sql(ps, "strata_ledger", &ps->ledger_prepared,
                             "INSERT INTO import_ledger(identity, position) VALUES($1, $2) "
                             "ON CONFLICT (identity) DO NOTHING",
                             2, params, e, "recording an import in the ledger");
    if (!r)
        return ST_ERR;
    *fresh = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return ST_OK;
}

/* ---- counts by type ---- */

/* The rows of r (type, schema, count) as type counts; schema_col < 0: schema 0. */
static void counts_of(const PGresult *r, int schema_col, int count_col, struct type_count **out,
                      size_t *n)
{
    int rows = PQntuples(r);
    *out = rows ? xcalloc((size_t)rows, sizeof **out) : NULL;
    for (int i = 0; i < rows; i++) {
        struct type_count *tc = &(*out)[i];
        tc->type = pgu_dup(r, i, 0);
        if (!tc->type)
            tc->type = xstrdup("");
        tc->schema = schema_col >= 0 ? (int)pgu_int(r, i, schema_col) : 0;
        tc->count = pgu_int(r, i, count_col);
    }
    *n = (size_t)rows;
}

int pg_type_counts(struct store *s, struct type_count **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    PGresult *r = exec_params(PS(s),
                              "SELECT type, schema, count(*) FROM event_log "
                              "GROUP BY type, schema ORDER BY type, schema",
                              0, NULL, e, "counting event types");
    if (!r)
        return ST_ERR;
    counts_of(r, 1, 2, out, n);
    PQclear(r);
    return ST_OK;
}

int pg_type_totals(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                   err *e)
{
    *out = NULL;
    *n = 0;
    char b[24];
    const char *params[1] = {pgu_i64(b, max_position > 0 ? max_position : INT64_MAX)};
    PGresult *r = exec_params(PS(s),
                              "SELECT type, count(*) FROM event_log WHERE position <= $1 "
                              "GROUP BY type ORDER BY 2 DESC, 1",
                              1, params, e, "counting events by type");
    if (!r)
        return ST_ERR;
    counts_of(r, -1, 1, out, n);
    PQclear(r);
    return ST_OK;
}

/* ---- counts by group ---- */

int pg_count_by(struct store *s, const struct event_filter *f, enum store_group by, int bucket_len,
                store_count_fn fn, void *ctx, err *e)
{
    struct pg_store *ps = PS(s);
    static const struct event_filter none;
    if (!f)
        f = &none;
    if (f->text && *f->text)
        return err_set(e, ST_USAGE, "count_by does not take a text filter");
    int64_t sid = 0;
    if (f->stream) {
        int64_t version;
        bool found;
        if (pg_stream_lookup(ps, f->stream, &sid, &version, &found, e) != ST_OK)
            return ST_ERR;
        if (!found)
            return ST_OK; /* no such stream: no events */
    }
    char bucket[48] = "NULL::text";
    if (bucket_len > 0)
        snprintf(bucket, sizeof bucket, "substr(e.time, 1, %d)", bucket_len);
    const char *key = by == STORE_GROUP_TYPE     ? "e.type"
                      : by == STORE_GROUP_STREAM ? "e.stream_id"
                                                 : "NULL::text";
    strbuf sql;
    sb_init(&sql);
    sb_addf(&sql,
            "SELECT %s AS k, %s AS b, count(*) AS c, min(e.time) AS f, max(e.time) AS l "
            "FROM event_log e WHERE e.position > $1 AND e.position <= $2 "
            "AND ($3::text IS NULL OR e.type = $3) AND ($4::bigint IS NULL OR e.stream_id = $4)",
            key, bucket);
    if (by != STORE_GROUP_NONE || bucket_len > 0)
        sb_adds(&sql, " GROUP BY 1, 2");
    if (by == STORE_GROUP_STREAM) {
        /* each group named after grouping by id, as on SQLite */
        strbuf outer;
        sb_init(&outer);
        sb_addf(&outer,
                "SELECT s.name, g.b, g.c, g.f, g.l FROM (%s) g JOIN streams s ON s.id = g.k",
                sql.buf);
        sb_done(&sql);
        sql = outer;
    }
    char b1[24], b2[24], b4[24];
    const char *params[4] = {pgu_i64(b1, f->from > 1 ? f->from - 1 : 0),
                             pgu_i64(b2, f->to > 0 ? f->to : INT64_MAX), f->type,
                             f->stream ? pgu_i64(b4, sid) : NULL};
    PGresult *r = exec_params(ps, sql.buf, 4, params, e, "counting events");
    sb_done(&sql);
    if (!r)
        return ST_ERR;
    int status = ST_OK, rows = PQntuples(r);
    for (int i = 0; i < rows && status == ST_OK; i++) {
        struct store_count_row row = {
            .value = PQgetisnull(r, i, 0) ? NULL : PQgetvalue(r, i, 0),
            .bucket = PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1),
            .count = pgu_int(r, i, 2),
            .first = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
            .last = PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4),
        };
        if (row.count == 0)
            continue; /* an ungrouped count over no events */
        if (by == STORE_GROUP_NONE)
            row.value = NULL;
        status = fn(ctx, &row, e);
    }
    PQclear(r);
    return status;
}

/* ---- append times ---- */

int pg_append_time(struct store *s, int64_t position, int64_t *ms, err *e)
{
    struct pg_store *ps = PS(s);
    if (ps->format < 3)
        return err_set(e, ST_NOT_FOUND, "the store keeps no append times (format %d)",
                       (int)ps->format);
    char b[24];
    const char *params[1] = {pgu_i64(b, position)};
    PGresult *r = exec_params(ps,
                              "SELECT appended_at FROM append_times WHERE first_position <= $1 "
                              "ORDER BY first_position DESC LIMIT 1",
                              1, params, e, "reading an append time");
    if (!r)
        return ST_ERR;
    bool found = PQntuples(r) > 0;
    if (found)
        *ms = pgu_int(r, 0, 0);
    PQclear(r);
    return found
               ? ST_OK
               : err_set(e, ST_NOT_FOUND, "no append time for position %lld", (long long)position);
}

/* ---- health ---- */

int pg_health(struct store *s, struct store_health *out, err *e)
{
    struct pg_store *ps = PS(s);
    PGresult *r = exec_params(
        ps,
        "SELECT current_setting('fsync'), current_setting('synchronous_commit'), "
        "current_setting('full_page_writes'), current_setting('data_checksums'), "
        "(SELECT count(*) FROM streams s WHERE s.version <> coalesce((SELECT max(e.version) "
        "FROM event_log e WHERE e.stream_id = s.id), 0) OR s.last_position <> coalesce((SELECT "
        "max(e.position) FROM event_log e WHERE e.stream_id = s.id), 0) OR s.version <> (SELECT "
        "count(*) FROM event_log e WHERE e.stream_id = s.id)), "
        "(SELECT min(name) FROM streams s WHERE s.version <> (SELECT count(*) FROM event_log e "
        "WHERE e.stream_id = s.id)), "
        "(SELECT coalesce(max(position), 0) FROM event_log), (SELECT count(*) FROM event_log)",
        0, NULL, e, "checking the store");
    if (!r)
        return ST_ERR;
    const char *fsync = PQgetvalue(r, 0, 0), *sync = PQgetvalue(r, 0, 1),
               *fpw = PQgetvalue(r, 0, 2);
    /* synchronous_commit off (or local on a primary with standbys: still flushed
     * locally) decides whether COMMIT waits for the WAL to be on disk. */
    out->durable = strcmp(fsync, "on") == 0 && strcmp(sync, "off") != 0 && strcmp(fpw, "on") == 0;
    snprintf(out->durability, sizeof out->durability,
             "fsync %s, synchronous_commit %s, full_page_writes %s", fsync, sync, fpw);
    int64_t bad = pgu_int(r, 0, 4);
    out->intact = bad == 0;
    if (out->intact)
        snprintf(out->integrity, sizeof out->integrity, "ok");
    else
        snprintf(out->integrity, sizeof out->integrity,
                 "%lld streams disagree with their events (streams.version or last_position), "
                 "the first %.80s",
                 (long long)bad, PQgetisnull(r, 0, 5) ? "?" : PQgetvalue(r, 0, 5));
    out->integrity_check = "streams agree with their events";
    out->integrity_fix = "restore the database from a backup (pg_dump, a replica), or import "
                         "an export of it into a new store";
    out->durability_fix = "set fsync, synchronous_commit and full_page_writes on in "
                          "postgresql.conf (the defaults)";
    out->head = pgu_int(r, 0, 6);
    out->count = pgu_int(r, 0, 7);
    PQclear(r);
    out->first_gap = 0;
    if (out->count < out->head) {
        r = exec_params(ps,
                        "SELECT CASE WHEN NOT EXISTS(SELECT 1 FROM event_log WHERE position = 1) "
                        "THEN 1 ELSE (SELECT min(e.position) + 1 FROM event_log e WHERE NOT "
                        "EXISTS(SELECT 1 FROM event_log f WHERE f.position = e.position + 1) AND "
                        "e.position < (SELECT max(position) FROM event_log)) END",
                        0, NULL, e, "checking the positions");
        if (!r)
            return ST_ERR;
        out->first_gap = pgu_int(r, 0, 0);
        PQclear(r);
    }
    return ST_OK;
}

/* ---- strata sql ---- */

static void cell_of(const PGresult *r, int row, int col, struct store_cell *c, unsigned char **blob)
{
    memset(c, 0, sizeof *c);
    if (PQgetisnull(r, row, col)) {
        c->type = CELL_NULL;
        return;
    }
    const char *v = PQgetvalue(r, row, col);
    char *end;
    switch (PQftype(r, col)) {
    case 20: /* int8 */
    case 21: /* int2 */
    case 23: /* int4 */
    case 26: /* oid */
        c->type = CELL_INT;
        c->i = strtoll(v, NULL, 10);
        return;
    case 16: /* bool: 1 and 0, as SQLite has them */
        c->type = CELL_INT;
        c->i = v[0] == 't';
        return;
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1700: /* numeric */
        c->f = strtod(v, &end);
        if (*v && !*end) {
            c->type = CELL_FLOAT;
            return;
        }
        break;
    case 17: { /* bytea */
        size_t len = 0;
        *blob = PQunescapeBytea((const unsigned char *)v, &len);
        if (*blob) {
            c->type = CELL_BLOB;
            c->p = (const char *)*blob;
            c->len = len;
            return;
        }
        break;
    }
    default:
        break;
    }
    c->type = CELL_TEXT;
    c->p = v;
    c->len = (size_t)PQgetlength(r, row, col);
}

/* A failed statement in words: refused (ST_USAGE) for what the rules refuse,
 * stopped for the time limit, PostgreSQL's message otherwise. */
static int query_error(PGconn *c, const PGresult *r, int64_t timeout_ms, err *e)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(c);
    if (state && strcmp(state, "25006") == 0)
        return err_set(e, ST_USAGE,
                       "refused: the statement would write; only reading statements (SELECT, "
                       "WITH ... SELECT, EXPLAIN, SHOW) are allowed (%s)",
                       msg);
    if (state && strcmp(state, "57014") == 0)
        return err_set(e, ST_ERR,
                       "stopped: the statement ran past its time limit of %.3g s "
                       "(--timeout S allows more)",
                       (double)timeout_ms / 1000.0);
    if (strstr(msg, "cannot insert multiple commands"))
        return err_set(e, ST_USAGE,
                       "refused: one statement at a time (found more after the first)");
    char clean[400];
    snprintf(clean, sizeof clean, "%s", msg);
    for (char *p = clean; *p; p++)
        if (*p == '\n')
            *p = ' ';
    size_t n = strlen(clean);
    while (n > 0 && clean[n - 1] == ' ')
        clean[--n] = '\0';
    return err_set(e, ST_ERR, "SQL error: %s", clean);
}

/* Streams the rows of the statement sent on c (single-row mode) to sink. */
static int query_rows(PGconn *c, int64_t timeout_ms, const struct store_query_sink *sink, err *e)
{
    int status = ST_OK;
    bool columns = false, stopped = false;
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType t = PQresultStatus(r);
        if (stopped) {
            PQclear(r);
            continue;
        }
        if (t == PGRES_SINGLE_TUPLE || t == PGRES_TUPLES_OK) {
            int ncol = PQnfields(r);
            if (!columns) {
                const char **names = xcalloc((size_t)ncol + 1, sizeof *names);
                for (int i = 0; i < ncol; i++)
                    names[i] = PQfname(r, i);
                sink->columns(sink->ctx, names, (size_t)ncol);
                free(names);
                columns = true;
            }
            struct store_cell *cells = xcalloc((size_t)ncol + 1, sizeof *cells);
            unsigned char **blobs = xcalloc((size_t)ncol + 1, sizeof *blobs);
            for (int row = 0; row < PQntuples(r) && !stopped; row++) {
                for (int i = 0; i < ncol; i++)
                    cell_of(r, row, i, &cells[i], &blobs[i]);
                if (sink->row(sink->ctx, cells, (size_t)ncol) != 0)
                    stopped = true;
                for (int i = 0; i < ncol; i++) {
                    PQfreemem(blobs[i]);
                    blobs[i] = NULL;
                }
            }
            free(cells);
            free(blobs);
            if (stopped) {
                /* The caller wants no more: cancel the rest. */
                PGcancel *cancel = PQgetCancel(c);
                char buf[64];
                if (cancel) {
                    PQcancel(cancel, buf, sizeof buf);
                    PQfreeCancel(cancel);
                }
            }
        } else if (t == PGRES_COMMAND_OK) {
            if (!columns)
                sink->columns(sink->ctx, NULL, 0);
            columns = true;
        } else if (status == ST_OK) {
            status = query_error(c, r, timeout_ms, e);
        }
        PQclear(r);
    }
    return status;
}

/* The first keyword of sql, lower-cased, past blanks, comments and opening
 * parentheses. */
static void first_keyword(const char *sql, char *out, size_t cap)
{
    const char *p = sql;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '(')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else
            break;
    }
    size_t n = 0;
    while (n + 1 < cap && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p), p++;
    out[n] = '\0';
}

int pg_query(struct store *s, const char *sql, int64_t timeout_ms,
             const struct store_query_sink *sink, err *e)
{
    struct pg_store *ps = PS(s);
    if (!sql || !*sql)
        return err_set(e, ST_USAGE, "no SQL statement given");
    /* A first layer before the server's: only statements that are queries (COPY,
     * for one, reads but can write a file on the server). */
    static const char *const queries[] = {"select", "with", "values", "table", "explain", "show"};
    char kw[16];
    first_keyword(sql, kw, sizeof kw);
    bool query = false;
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++)
        query = query || strcmp(kw, queries[i]) == 0;
    if (!*kw)
        return err_set(e, ST_USAGE, "no SQL statement given");
    if (!query) {
        for (char *p = kw; *p; p++)
            *p = (char)(*p - 'a' + 'A');
        return err_set(e, ST_USAGE,
                       "refused: %s: the statement would write, or is not a query; only reading "
                       "statements (SELECT, WITH ... SELECT, VALUES, TABLE, EXPLAIN, SHOW) are "
                       "allowed",
                       kw);
    }
    /* A connection of its own, every transaction of which is read-only. */
    const char *keys[] = {"dbname", "fallback_application_name", NULL};
    const char *vals[] = {store_pg_conninfo(ps->conninfo), "strata sql", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        int rc = pgu_error(c, NULL, ps->base.path, ps->busy_ms, e, "opening a connection for SQL");
        PQfinish(c);
        return rc;
    }
    int status = ST_OK;
    char setup[200];
    snprintf(setup, sizeof setup,
             "SET default_transaction_read_only = on; BEGIN TRANSACTION READ ONLY; "
             "SET LOCAL statement_timeout = %lld",
             (long long)(timeout_ms > 0 ? timeout_ms : 0));
    PGresult *r = PQsetClientEncoding(c, "UTF8") == 0 ? PQexec(c, setup) : NULL;
    if (!pgu_ok(r))
        status = query_error(c, r, timeout_ms, e);
    PQclear(r);
    if (status == ST_OK) {
        /* The extended protocol takes exactly one statement. */
        if (!PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0))
            status = query_error(c, NULL, timeout_ms, e);
        else {
            PQsetSingleRowMode(c);
            status = query_rows(c, timeout_ms, sink, e);
        }
    }
    PQfinish(c); /* the transaction ends with the connection: nothing to keep */
    return status;
}

/* ---- what strata copy writes besides appends ---- */

int pg_copy_put(struct store *s, const char *table, const struct store_cell *cells, size_t n,
                err *e)
{
    struct pg_store *ps = PS(s);
    if (ps->read_only)
        return pg_read_only_error(ps, e);
    if (ps->tx == PG_TX_ABORTED)
        return store_aborted_error(e);
    const struct store_copy_table *t = store_copy_table(table);
    if (!t || n > 16)
        return err_set(e, ST_USAGE, "%s is not a table a copy carries", table);
    strbuf sql;
    sb_init(&sql);
    /* The table's name comes from store_copy_tables, never from input. */
    sb_addf(&sql, "INSERT INTO %s(%s) VALUES(", t->name, t->columns);
    for (size_t i = 0; i < n; i++)
        sb_addf(&sql, "%s$%zu", i ? ", " : "", i + 1);
    sb_adds(&sql, ") ON CONFLICT DO NOTHING");
    const char *params[16];
    char nums[16][32];
    strbuf blobs[16];
    for (size_t i = 0; i < n; i++)
        sb_init(&blobs[i]);
    for (size_t i = 0; i < n; i++) {
        const struct store_cell *c = &cells[i];
        params[i] = NULL;
        if (c->type == CELL_INT)
            params[i] = pgu_i64(nums[i], c->i);
        else if (c->type == CELL_FLOAT) {
            snprintf(nums[i], sizeof nums[i], "%.17g", c->f);
            params[i] = nums[i];
        } else if (c->type == CELL_TEXT) {
            params[i] = c->p; /* NUL-terminated (store.h's store_cell) */
        } else if (c->type == CELL_BLOB) {
            /* bytea's hex input form */
            static const char digits[] = "0123456789abcdef";
            sb_adds(&blobs[i], "\\x");
            for (size_t k = 0; k < c->len; k++) {
                sb_addc(&blobs[i], digits[(unsigned char)c->p[k] >> 4]);
                sb_addc(&blobs[i], digits[(unsigned char)c->p[k] & 15]);
            }
            params[i] = blobs[i].buf;
        }
    }
    PGresult *r = exec_params(ps, sql.buf, (int)n, params, e, "copying a row");
    sb_done(&sql);
    for (size_t i = 0; i < n; i++)
        sb_done(&blobs[i]);
    PQclear(r);
    return r ? ST_OK : ST_ERR;
}

int pg_clear_times(struct store *s, int64_t from, int64_t to, err *e)
{
    struct pg_store *ps = PS(s);
    char a[24], b[24];
    const char *params[2] = {pgu_i64(a, from), pgu_i64(b, to)};
    PGresult *r = exec_params(
        ps, "DELETE FROM append_times WHERE first_position >= $1 AND first_position <= $2", 2,
        params, e, "copying append times");
    PQclear(r);
    return r ? ST_OK : ST_ERR;
}
