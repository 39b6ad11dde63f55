/* store_pg_read.c: the PostgreSQL store's reads and snapshots (store.h's
 * read_page, read_stream, head, stream_version, list_streams, count_streams,
 * position_at_time, command_events, snapshot_put and snapshot_get).
 *
 * As on SQLite, reads are keyed by position (or, within one stream, by version),
 * never by OFFSET, so a page costs the same at the head as at the tail; every
 * read asks for at most one page. Parameters go as text and the values come back
 * as text, so data and meta are the bytes that were appended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "store_pg_internal.h"

#define EVENT_COLS                                                                                 \
    "SELECT e.position, s.name, e.version, e.type, e.schema, e.time, e.data, e.meta "              \
    "FROM event_log e JOIN streams s ON s.id = e.stream_id "

static struct pg_store *PS(struct store *s)
{
    return (struct pg_store *)s;
}

static void read_rows(const PGresult *r, int from, int to, struct event_list *out);

/* Events read with a snapshot, for the load that follows (pg_snapshot_get). */
#define PG_LOAD_ROWS 512

void pg_read_events(const PGresult *r, struct event_list *out)
{
    read_rows(r, 0, PQntuples(r), out);
}

static void read_rows(const PGresult *r, int from, int to, struct event_list *out)
{
    static const int col[5] = {1, 3, 5, 6, 7}; /* stream, type, time, data, meta */
    static const char *const dflt[5] = {"", "", "", "{}", NULL};
    for (int i = from; i < to; i++) {
        struct event *ev = event_list_add(out);
        ev->position = pgu_int(r, i, 0);
        ev->version = pgu_int(r, i, 2);
        ev->schema = (int)pgu_int(r, i, 4);
        const char *text[5];
        size_t len[5];
        for (int k = 0; k < 5; k++) {
            if (PQgetisnull(r, i, col[k])) {
                text[k] = dflt[k];
                len[k] = dflt[k] ? strlen(dflt[k]) : 0;
            } else {
                text[k] = PQgetvalue(r, i, col[k]);
                len[k] = (size_t)PQgetlength(r, i, col[k]);
            }
        }
        event_list_set_strings(out, ev, text, len); /* in out's arena (event_list.c) */
    }
}

/* Runs a statement selecting EVENT_COLS and appends its rows to out. */
static int read_into(struct pg_store *ps, PGresult *r, struct event_list *out)
{
    if (!r)
        return ST_ERR;
    pg_read_events(r, out);
    PQclear(r);
    return ST_OK;
}

int pg_read_range(struct pg_store *ps, int64_t first, int64_t last, struct event_list *out, err *e)
{
    char a[24], b[24];
    const char *params[2] = {pgu_i64(a, first), pgu_i64(b, last)};
    return read_into(ps, pg_run(ps, P_RANGE, 2, params, e, "reading events"), out);
}

/* Runs a statement returning at most one integer: *out (0 when no row or NULL). */
static int one_int(struct pg_store *ps, enum pg_stmt id, int n, const char *const *params,
                   int64_t *out, bool *found, err *e, const char *doing)
{
    PGresult *r = pg_run(ps, id, n, params, e, doing);
    *out = 0;
    if (found)
        *found = false;
    if (!r)
        return ST_ERR;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        *out = pgu_int(r, 0, 0);
        if (found)
            *found = true;
    }
    PQclear(r);
    return ST_OK;
}

int pg_command_events(struct store *s, const char *command_id, struct event_list *out, err *e)
{
    struct pg_store *ps = PS(s);
    if (!command_id)
        return err_set(e, ST_NOT_FOUND, "no command id given");
    const char *params[1] = {command_id};
    PGresult *r = pg_run(ps, P_CMD_GET, 1, params, e, "looking up a command id");
    if (!r)
        return ST_ERR;
    bool found = PQntuples(r) > 0;
    int64_t first = found ? pgu_int(r, 0, 0) : 0, last = found ? pgu_int(r, 0, 1) : 0;
    PQclear(r);
    if (!found)
        return err_set(e, ST_NOT_FOUND, "unknown command id: %s", command_id);
    return pg_read_range(ps, first, last, out, e);
}

/* The page statement for a combination of filters: $1 stream id, $2/$3 the
 * positions (lo, hi], $4 type, $5 the ILIKE pattern, $6 the limit (NULL: none).
 * ILIKE under the "C" collation folds ASCII only, as SQLite's LIKE does. */
static char *page_sql(int bits)
{
    strbuf sql;
    sb_init(&sql);
    if (bits & PGP_ENVELOPE)
        sb_adds(&sql, "SELECT e.position, s.name, e.version, e.type, e.schema, e.time, '{}', "
                      "NULL FROM event_log e JOIN streams s ON s.id = e.stream_id WHERE ");
    else
        sb_adds(&sql, EVENT_COLS "WHERE ");
    if (bits & PGP_STREAM)
        sb_adds(&sql, "e.stream_id = $1 AND ");
    else
        sb_adds(&sql, "$1::bigint IS NULL AND ");
    sb_adds(&sql, "e.position > $2 AND e.position <= $3");
    sb_adds(&sql, bits & PGP_TYPE ? " AND e.type = $4" : " AND $4::text IS NULL");
    if (bits & PGP_TEXT)
        sb_adds(&sql, " AND (s.name ILIKE $5 OR e.type ILIKE $5 OR e.data ILIKE $5"
                      " OR e.meta ILIKE $5)");
    else
        sb_adds(&sql, " AND $5::text IS NULL");
    sb_addf(&sql, " ORDER BY e.position%s LIMIT $6", bits & PGP_BACKWARD ? " DESC" : "");
    return sb_steal(&sql);
}

/* ---- reading ahead ----
 *
 * A reader going through the log from front to back (a replay, a catch-up, an
 * export) asks for page after page with no filter. Each page is a round trip, and
 * on a busy machine a round trip costs more than the rows: the server and the
 * client each wait to be scheduled. So a page of PG_AHEAD_MIN to PG_AHEAD_ROWS
 * events is read as PG_AHEAD_ROWS, and the rows beyond it are kept (ps->ahead,
 * up to PG_AHEAD_BYTES) for the pages that follow. Committed events never change and positions have
 * no gaps, so kept rows stay true; only rows read inside the store's own transaction could be
 * rolled back, and those are never kept. The rows serve a page only if they hold all of it; a page
 * reaching past them is read afresh. */
#define PG_AHEAD_ROWS 8192
#define PG_AHEAD_MIN 256                  /* pages smaller than this (a screen's) are not */
#define PG_AHEAD_BYTES (16 * 1024 * 1024) /* rows kept, at most */

void pg_ahead_forget(struct pg_store *ps)
{
    PQclear(ps->ahead);
    ps->ahead = NULL;
    pg_loaded_forget(ps);
}

/* Serves the page (lo, lo + limit] (none after hi) from the rows kept, if they
 * hold all of it. */
static bool ahead_serve(struct pg_store *ps, int64_t lo, int64_t hi, size_t limit,
                        struct event_list *out)
{
    PGresult *r = ps->ahead;
    int rows = r ? PQntuples(r) : 0;
    if (rows == 0)
        return false;
    int64_t first = pgu_int(r, 0, 0), last = pgu_int(r, rows - 1, 0);
    if (lo + 1 < first || lo + 1 > last || last - first != rows - 1)
        return false;
    int from = (int)(lo + 1 - first);
    int64_t want_last = hi < lo + (int64_t)limit ? hi : lo + (int64_t)limit;
    if (want_last > last)
        return false;
    read_rows(r, from, from + (int)(want_last - lo), out);
    return true;
}

int pg_read_page(struct store *s, const struct event_filter *f, int64_t after, bool backward,
                 size_t limit, struct event_list *out, err *e)
{
    struct pg_store *ps = PS(s);
    static const struct event_filter none;
    if (!f)
        f = &none;
    int64_t lo, hi; /* the wanted positions are (lo, hi] */
    if (!store_page_window(f, after, backward, &lo, &hi))
        return ST_OK;

    bool text = f->text && *f->text;
    int bits = (f->stream ? PGP_STREAM : 0) | (f->type ? PGP_TYPE : 0) | (text ? PGP_TEXT : 0) |
               (backward ? PGP_BACKWARD : 0) | (f->envelope_only ? PGP_ENVELOPE : 0);
    bool ahead =
        bits == 0 && limit >= PG_AHEAD_MIN && limit < PG_AHEAD_ROWS && ps->tx == PG_TX_NONE;
    if (ahead && ahead_serve(ps, lo, hi, limit, out))
        return ST_OK;
    int64_t id = 0;
    if (f->stream) {
        int64_t current;
        bool found;
        if (pg_stream_lookup(ps, f->stream, &id, &current, &found, e) != ST_OK)
            return ST_ERR;
        if (!found)
            return ST_OK;
    }
    char b1[24], b2[24], b3[24], b6[24], name[24];
    strbuf pattern;
    sb_init(&pattern);
    if (text)
        store_like_pattern(&pattern, f->text);
    const char *params[6] = {f->stream ? pgu_i64(b1, id) : NULL,
                             pgu_i64(b2, lo),
                             pgu_i64(b3, hi),
                             f->type,
                             text ? pattern.buf : NULL,
                             limit ? pgu_i64(b6, ahead ? PG_AHEAD_ROWS : (int64_t)limit) : NULL};
    snprintf(name, sizeof name, "strata_page_%d", bits);
    char *sql = page_sql(bits);
    PGresult *r =
        pg_run_sql(ps, name, &ps->page_prepared[bits], sql, 6, params, e, "reading events");
    free(sql);
    sb_done(&pattern);
    if (ahead && r) {
        pg_ahead_forget(ps);
        ps->ahead = r;
        if (!ahead_serve(ps, lo, hi, limit, out)) { /* fewer rows than asked: all of them */
            read_rows(r, 0, PQntuples(r), out);
            pg_ahead_forget(ps);
        } else if (PQresultMemorySize(r) > PG_AHEAD_BYTES) {
            pg_ahead_forget(ps);
        }
        return ST_OK;
    }
    return read_into(ps, r, out);
}

/* The stream's version as of position pos (0 when it had no event by then). */
static int version_at(struct pg_store *ps, int64_t id, int64_t pos, int64_t *out, err *e)
{
    char a[24], b[24];
    const char *params[2] = {pgu_i64(a, id), pgu_i64(b, pos)};
    return one_int(ps, P_VERSION_AT, 2, params, out, NULL, e, "reading a stream");
}

/* The events the snapshot lookup just read, if they are the ones asked for: the
 * same stream, version and bound, and all of them (fewer than were asked for
 * then, or at least as many as are asked for now). Used once. */
static bool loaded_serve(struct pg_store *ps, const char *stream, int64_t from_version,
                         int64_t max_position, size_t limit, struct event_list *out)
{
    struct event_list *l = &ps->loaded.events;
    bool ok = ps->loaded.stream && strcmp(ps->loaded.stream, stream) == 0 &&
              ps->loaded.from_version == from_version && ps->loaded.max_position == max_position &&
              (l->len < ps->loaded.asked || (limit > 0 && limit <= l->len));
    if (ok) {
        size_t n = limit > 0 && limit < l->len ? limit : l->len;
        if (out->len == 0 && n == l->len) { /* the whole list, its arena with it */
            struct event_list empty = *out;
            *out = *l;
            *l = empty;
        } else { /* their strings are in l's arena, gone with it: copies */
            for (size_t i = 0; i < n; i++)
                event_list_push_copy(out, &l->items[i]);
        }
    }
    pg_loaded_forget(ps); /* used once, or not at all */
    return ok;
}

int pg_read_stream(struct store *s, const char *stream, int64_t from_version, int64_t max_position,
                   size_t limit, struct event_list *out, err *e)
{
    struct pg_store *ps = PS(s);
    int64_t id, vmax;
    bool found;
    if (!stream)
        return err_set(e, ST_USAGE, "no stream given");
    if (ps->loaded.stream &&
        loaded_serve(ps, stream, from_version, max_position > 0 ? max_position : 0, limit, out))
        return ST_OK;
    if (max_position <= 0 && !(ps->tx == PG_TX_OPEN && stream_cache_find(&ps->cache, stream))) {
        /* Up to the head: by name, one round trip (an aggregate's load). */
        char a[24], d[24];
        const char *params[3] = {stream, pgu_i64(a, from_version),
                                 limit ? pgu_i64(d, (int64_t)limit) : NULL};
        return read_into(ps, pg_run(ps, P_READ_STREAM_NAME, 3, params, e, "reading a stream"), out);
    }
    if (pg_stream_lookup(ps, stream, &id, &vmax, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return ST_OK;
    if (max_position > 0 && version_at(ps, id, max_position, &vmax, e) != ST_OK)
        return ST_ERR;
    char a[24], b[24], c[24], d[24];
    const char *params[4] = {pgu_i64(a, id), pgu_i64(b, from_version), pgu_i64(c, vmax),
                             limit ? pgu_i64(d, (int64_t)limit) : NULL};
    return read_into(ps, pg_run(ps, P_READ_STREAM, 4, params, e, "reading a stream"), out);
}

int pg_head(struct store *s, int64_t *position, err *e)
{
    return one_int(PS(s), P_HEAD, 0, NULL, position, NULL, e, "reading the head position");
}

int pg_stream_version(struct store *s, const char *stream, int64_t max_position, int64_t *version,
                      err *e)
{
    struct pg_store *ps = PS(s);
    int64_t id, current;
    bool found;
    *version = 0;
    if (!stream)
        return err_set(e, ST_USAGE, "no stream given");
    if (pg_stream_lookup(ps, stream, &id, &current, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return ST_OK;
    if (max_position <= 0) {
        *version = current;
        return ST_OK;
    }
    return version_at(ps, id, max_position, version, e);
}

int pg_list_streams(struct store *s, const char *prefix, size_t offset, size_t limit,
                    struct stream_info **out, size_t *n, err *e)
{
    struct pg_store *ps = PS(s);
    *out = NULL;
    *n = 0;
    if (pg_cache_flush(ps, e) != ST_OK)
        return ST_ERR;
    /* LIKE 'prefix%' on a "C"-collated column is a range scan of the name index;
     * run unprepared so that the planner sees the prefix. */
    strbuf pattern;
    sb_init(&pattern);
    for (const char *p = prefix ? prefix : ""; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            sb_addc(&pattern, '\\');
        sb_addc(&pattern, *p);
    }
    sb_addc(&pattern, '%');
    char a[24], b[24];
    const char *params[3] = {pattern.buf, limit ? pgu_i64(a, (int64_t)limit) : NULL,
                             pgu_i64(b, (int64_t)offset)};
    PGresult *r = PQexecParams(ps->conn,
                               "SELECT name, version, last_position FROM streams "
                               "WHERE name LIKE $1 ORDER BY name LIMIT $2 OFFSET $3",
                               3, NULL, params, NULL, NULL, 0);
    sb_done(&pattern);
    if (!pgu_ok(r)) {
        int rc = pg_fail(ps, r, e, "listing streams");
        PQclear(r);
        return rc;
    }
    int rows = PQntuples(r);
    struct stream_info *infos = rows ? xcalloc((size_t)rows, sizeof *infos) : NULL;
    for (int i = 0; i < rows; i++) {
        infos[i].name = pgu_dup(r, i, 0);
        if (!infos[i].name)
            infos[i].name = xstrdup("");
        infos[i].version = pgu_int(r, i, 1);
        infos[i].last_position = pgu_int(r, i, 2);
    }
    PQclear(r);
    *out = infos;
    *n = (size_t)rows;
    return ST_OK;
}

int pg_count_streams(struct store *s, int64_t *count, err *e)
{
    return one_int(PS(s), P_COUNT_STREAMS, 0, NULL, count, NULL, e, "counting streams");
}

int pg_position_at_time(struct store *s, const char *time, int64_t *position, err *e)
{
    struct pg_store *ps = PS(s);
    char text[TIME_TEXT_LEN + 1];
    *position = 0;
    if (!time || !store_time_text(time, text))
        return err_set(e, ST_USAGE,
                       "bad time '%s' (expected ISO-8601 such as 2026-11-27T10:00:00Z)",
                       time ? time : "");
    const char *params[1] = {text};
    return one_int(ps, P_AT_TIME, 1, params, position, NULL, e, "looking up a time");
}

/* ---- snapshots ---- */

int pg_snapshot_put(struct store *s, const char *stream, const char *rules_hash,
                    const struct snapshot *snap, err *e)
{
    struct pg_store *ps = PS(s);
    if (ps->read_only)
        return pg_read_only_error(ps, e);
    if (ps->tx == PG_TX_ABORTED)
        return err_set(e, ST_ERR,
                       "the transaction was rolled back after an earlier error; roll it back "
                       "and start again");
    if (!stream || !rules_hash || !snap || !snap->state)
        return err_set(e, ST_USAGE, "a snapshot needs a stream, a rules hash and a state");
    int64_t id, current;
    bool found;
    if (pg_stream_lookup(ps, stream, &id, &current, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return err_set(e, ST_NOT_FOUND, "no such stream: %s", stream);
    char a[24], b[24], c[24];
    const char *params[5] = {pgu_i64(a, id), rules_hash, pgu_i64(b, snap->version),
                             pgu_i64(c, snap->position), snap->state};
    PGresult *r = pg_run(ps, P_SNAP_PUT, 5, params, e, "saving a snapshot");
    PQclear(r);
    return r ? ST_OK : ST_ERR;
}

int pg_snapshot_get(struct store *s, const char *stream, const char *rules_hash,
                    int64_t max_position, struct snapshot *out, err *e)
{
    struct pg_store *ps = PS(s);
    out->state = NULL;
    if (!stream || !rules_hash)
        return err_set(e, ST_USAGE, "a snapshot lookup needs a stream and a rules hash");
    /* By the stream's name, and with the events after the snapshot, which an
     * aggregate's load reads next (pg_read_stream takes them from ps->loaded): one
     * round trip for both. */
    pg_loaded_forget(ps);
    char b[24], c[24];
    const char *params[4] = {stream, rules_hash,
                             pgu_i64(b, max_position > 0 ? max_position : INT64_MAX),
                             pgu_i64(c, PG_LOAD_ROWS)};
    PGresult *r = pg_run(ps, P_SNAP_LOAD, 4, params, e, "reading a snapshot");
    if (!r)
        return ST_ERR;
    bool found = false;
    int rows = PQntuples(r), first = 0;
    if (rows > 0 && pgu_int(r, 0, 0) == -1) {
        found = true;
        first = 1;
        out->version = pgu_int(r, 0, 2);
        out->position = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
        out->state = pgu_dup(r, 0, 6);
        if (!out->state)
            out->state = xstrdup("null");
    }
    ps->loaded.stream = xstrdup(stream);
    ps->loaded.from_version = (found ? out->version : 0) + 1;
    ps->loaded.max_position = max_position > 0 ? max_position : 0;
    ps->loaded.asked = PG_LOAD_ROWS;
    read_rows(r, first, rows, &ps->loaded.events);
    PQclear(r);
    if (!found)
        return err_set(e, ST_NOT_FOUND, "no snapshot of %s for these rules", stream);
    return ST_OK;
}

/* ---- the store's notes about itself (strata_meta) ---- */

int pg_meta_get(struct store *s, const char *key, char **value, err *e)
{
    struct pg_store *ps = PS(s);
    *value = NULL;
    if (pg_ensure_connected(ps, e) != ST_OK)
        return ST_ERR;
    const char *params[1] = {key};
    PGresult *r = PQexecParams(ps->conn, "SELECT value FROM strata_meta WHERE key = $1", 1, NULL,
                               params, NULL, NULL, 0);
    if (!pgu_ok(r)) {
        int rc = pg_fail(ps, r, e, "reading the store's notes");
        PQclear(r);
        return rc;
    }
    if (PQntuples(r) > 0)
        *value = pgu_dup(r, 0, 0);
    PQclear(r);
    return *value ? ST_OK : ST_NOT_FOUND;
}

int pg_meta_set(struct store *s, const char *key, const char *value, err *e)
{
    struct pg_store *ps = PS(s);
    if (ps->read_only)
        return pg_read_only_error(ps, e);
    if (pg_ensure_connected(ps, e) != ST_OK)
        return ST_ERR;
    const char *params[2] = {key, value};
    PGresult *r = PQexecParams(ps->conn,
                               "INSERT INTO strata_meta(key, value) VALUES($1, $2) "
                               "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                               2, NULL, params, NULL, NULL, 0);
    int rc = pgu_ok(r) ? ST_OK : pg_fail(ps, r, e, "writing the store's notes");
    PQclear(r);
    return rc;
}
