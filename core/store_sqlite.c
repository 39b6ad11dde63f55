/* store_sqlite.c: the SQLite backend of the event store (design.md, "The store").
 *
 * One SQLite file in WAL mode. Events live in event_log keyed by position (the
 * rowid) with an integer stream id, because a unique index on a text stream name
 * costs half the append rate; the `events` view gives design.md's columns to anyone
 * who opens the file with sqlite3. Every write runs under BEGIN IMMEDIATE, so two
 * processes queue for the write lock (busy_timeout) instead of deadlocking on a
 * read-to-write upgrade. Statements are prepared once per connection and reused.
 *
 * Reads are keyed by position (or, within one stream, by version), never by
 * OFFSET, so a page costs the same at the head as at the tail.
 *
 * This file holds the operations on an open store; opening a file and its schema
 * are in store_sqlite_schema.c, the transaction's stream cache in
 * store_sqlite_cache.c. */
#include "store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_util.h"
#include "store_backend.h"
#include "store_migrate.h"
#include "store_sqlite_internal.h"

/* The columns every event read selects, in the order read_event_row expects.
 * CROSS JOIN keeps event_log the outer loop, so rows come in the index order the
 * WHERE clause chose and the streams lookup is one rowid probe per event. */
#define EVENT_COLS                                                                                 \
    "SELECT e.position, s.name, e.version, e.type, e.schema, e.time, e.data, e.meta "              \
    "FROM event_log e CROSS JOIN streams s ON s.id = e.stream_id "

static const char *const STMT_SQL[S_NSTMT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_STREAM_GET] = "SELECT id, version FROM streams WHERE name = ?1",
    [S_STREAM_NEW] = "INSERT INTO streams(name, version, last_position) VALUES(?1, 0, 0)",
    [S_STREAM_SET] = "UPDATE streams SET version = ?2, last_position = ?3 WHERE id = ?1",
    [S_EVENT_INS] = "INSERT INTO event_log(stream_id, version, type, schema, time, data, meta) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_CMD_GET] = "SELECT first_position, last_position FROM commands WHERE id = ?1",
    [S_CMD_INS] = "INSERT INTO commands(id, stream_id, first_position, last_position) "
                  "VALUES(?1, ?2, ?3, ?4)",
    [S_RANGE] = EVENT_COLS "WHERE e.position >= ?1 AND e.position <= ?2 ORDER BY e.position",
    [S_HEAD] = "SELECT max(position) FROM event_log",
    [S_POS_OF_VERSION] = "SELECT position FROM event_log WHERE stream_id = ?1 AND version = ?2",
    [S_READ_STREAM] = EVENT_COLS "WHERE e.stream_id = ?1 AND e.version >= ?2 AND e.version <= ?3 "
                                 "AND e.position <= ?4 ORDER BY e.version LIMIT ?5",
    [S_LIST_RANGE] = "SELECT name, version, last_position FROM streams "
                     "WHERE name >= ?1 AND name < ?2 ORDER BY name LIMIT ?3 OFFSET ?4",
    [S_LIST_FROM] = "SELECT name, version, last_position FROM streams "
                    "WHERE name >= ?1 ORDER BY name LIMIT ?3 OFFSET ?4",
    [S_COUNT_STREAMS] = "SELECT count(*) FROM streams",
    [S_AT_TIME] = "SELECT position FROM event_log WHERE time <= ?1 "
                  "ORDER BY time DESC, position DESC LIMIT 1",
    [S_SNAP_PUT] = "INSERT OR REPLACE INTO snapshots(stream_id, rules_hash, version, position, "
                   "state) VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_SNAP_GET] = "SELECT version, position, state FROM snapshots WHERE stream_id = ?1 "
                   "AND rules_hash = ?2 AND position <= ?3 ORDER BY version DESC LIMIT 1",
    [S_TIME_INS] = "INSERT OR IGNORE INTO append_times(first_position, appended_at) VALUES(?1, ?2)",
};

static struct sq_store *SQ(struct store *s)
{
    return (struct sq_store *)s;
}

/* ---- errors ---- */

int sq_fail(struct sq_store *ss, int rc, err *e, const char *doing)
{
    return sqlu_error(ss->db, rc, ss->base.path, ss->busy_ms, e, doing);
}

static int read_only_error(struct sq_store *ss, err *e)
{
    return err_set(e, ST_ERR, "the store is read-only: %s", ss->base.path);
}

/* ---- statements ---- */

static sqlite3_stmt *prep_sql(struct sq_store *ss, sqlite3_stmt **slot, const char *sql, err *e)
{
    if (!*slot) {
        int rc = sqlite3_prepare_v3(ss->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc != SQLITE_OK) {
            sq_fail(ss, rc, e, "preparing a query");
            sqlite3_finalize(*slot);
            *slot = NULL;
            return NULL;
        }
    }
    return *slot;
}

static sqlite3_stmt *prep(struct sq_store *ss, enum stmt_id id, err *e)
{
    return prep_sql(ss, &ss->stmt[id], STMT_SQL[id], e);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows. */
static int run(struct sq_store *ss, sqlite3_stmt *st, err *e, const char *doing)
{
    int rc = sqlite3_step(st);
    sqlu_reset(st); /* right after use: no read snapshot outlives a call */
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sq_fail(ss, rc, e, doing);
    return ST_OK;
}

/* Runs a statement that returns at most one integer; *found says whether it did
 * (a NULL result counts as not found). */
static int run_int(struct sq_store *ss, sqlite3_stmt *st, int64_t *out, bool *found, err *e,
                   const char *doing)
{
    int rc = sqlite3_step(st);
    *found = false;
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
            *out = sqlite3_column_int64(st, 0);
            *found = true;
        }
        rc = SQLITE_DONE;
    }
    sqlu_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(ss, rc, e, doing);
    return ST_OK;
}

/* Steps a statement selecting EVENT_COLS to the end, appending each row to out. */
static int read_events(struct sq_store *ss, sqlite3_stmt *st, struct event_list *out, err *e)
{
    int rc = sq_read_rows(st, NULL, out, NULL);
    sqlu_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(ss, rc, e, "reading events");
    return ST_OK;
}

static int set_stream(struct sq_store *ss, int64_t id, int64_t version, int64_t last, err *e);

/* Writes the streams rows the transaction's appends left dirty. */
static int cache_flush(struct sq_store *ss, err *e)
{
    struct stream_cache *c = &ss->cache;
    for (size_t i = 0; i < c->ndirty; i++) {
        struct cache_entry *ce = &c->slots[c->dirty_at[i]];
        if (ce->name && ce->dirty) {
            if (set_stream(ss, ce->id, ce->version, ce->last_position, e) != ST_OK)
                return ST_ERR;
            ce->dirty = false;
        }
    }
    c->ndirty = 0;
    return ST_OK;
}

/* ---- transactions ---- */

/* The file's data version (SQLITE_FCNTL_DATA_VERSION): it changes with every
 * change to the file, by this connection or any other. */
static unsigned data_version(struct sq_store *ss)
{
    unsigned v = 0;
    if (sqlite3_file_control(ss->db, "main", SQLITE_FCNTL_DATA_VERSION, &v) != SQLITE_OK)
        return ss->cache_version + 1; /* unknown: never matches */
    return v;
}

int sq_tx_begin(struct sq_store *ss, err *e)
{
    ss->time_logged = false;
    sqlite3_stmt *st = prep(ss, S_BEGIN, e);
    if (!st)
        return ST_ERR;
    int rc = run(ss, st, e, "starting a transaction");
    /* The streams the last transaction left in the cache are still exact if
     * nothing changed the file since its commit: now that this transaction holds
     * the write lock, nothing else can until it ends. */
    if (ss->cache_kept && (rc != ST_OK || data_version(ss) != ss->cache_version))
        stream_cache_clear(&ss->cache);
    ss->cache_kept = false;
    return rc;
}

void sq_tx_rollback(struct sq_store *ss)
{
    ss->cache_kept = false;
    if (!sqlite3_get_autocommit(ss->db)) {
        err ignored;
        sqlite3_stmt *st = prep(ss, S_ROLLBACK, &ignored);
        if (st)
            run(ss, st, &ignored, "rolling back");
        if (!sqlite3_get_autocommit(ss->db))
            sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL);
    }
    stream_cache_clear(&ss->cache);
}

int sq_tx_commit(struct sq_store *ss, err *e)
{
    int rc = cache_flush(ss, e);
    sqlite3_stmt *st = rc == ST_OK ? prep(ss, S_COMMIT, e) : NULL;
    rc = st ? run(ss, st, e, "committing") : ST_ERR;
    if (rc != ST_OK) {
        sq_tx_rollback(ss);
        err_prefix(e, "nothing was committed");
        return rc;
    }
    /* Keep the streams for the next transaction (a batch importer's next 10,000
     * events mostly go to the same streams), bounded in memory; sq_tx_begin drops
     * them if anything changed the file in between. */
    if (ss->cache.len <= STREAM_CACHE_KEEP) {
        ss->cache_kept = true;
        ss->cache_version = data_version(ss);
    } else {
        stream_cache_clear(&ss->cache);
    }
    return rc;
}

static int sq_begin(struct store *s, err *e)
{
    struct sq_store *ss = SQ(s);
    if (ss->read_only)
        return read_only_error(ss, e);
    if (ss->tx != TX_NONE)
        return err_set(e, ST_ERR, "a transaction is already open on %s", s->path);
    int rc = sq_tx_begin(ss, e);
    if (rc == ST_OK)
        ss->tx = TX_OPEN;
    return rc;
}

static int sq_commit(struct store *s, err *e)
{
    struct sq_store *ss = SQ(s);
    if (ss->tx == TX_ABORTED)
        return store_aborted_error(e);
    if (ss->tx == TX_NONE)
        return err_set(e, ST_ERR, "no transaction is open on %s", s->path);
    ss->tx = TX_NONE;
    return sq_tx_commit(ss, e);
}

static void sq_rollback(struct store *s)
{
    struct sq_store *ss = SQ(s);
    if (ss->tx == TX_OPEN)
        sq_tx_rollback(ss);
    ss->tx = TX_NONE;
    ss->cache_kept = false;
    stream_cache_clear(&ss->cache);
}

/* ---- lookups ---- */

/* The stream's id and current version; *found false (and no error) if unknown. */
/* *hit: the transaction's cache entry the stream was found in, else NULL (an
 * append updates it in place: the name was hashed once). */
static int stream_lookup_at(struct sq_store *ss, const char *name, int64_t *id, int64_t *version,
                            bool *found, struct cache_entry **hit, err *e)
{
    struct cache_entry *ce = ss->tx == TX_OPEN ? stream_cache_find(&ss->cache, name) : NULL;
    *hit = ce;
    if (ce) {
        *id = ce->id;
        *version = ce->version;
        *found = true;
        return ST_OK;
    }
    sqlite3_stmt *st = prep(ss, S_STREAM_GET, e);
    if (!st)
        return ST_ERR;
    bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) {
        *id = sqlite3_column_int64(st, 0);
        *version = sqlite3_column_int64(st, 1);
        rc = SQLITE_DONE;
    }
    sqlu_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(ss, rc, e, "looking up a stream");
    if (*found && ss->tx == TX_OPEN)
        stream_cache_put(&ss->cache, name, *id, *version, 0, false);
    return ST_OK;
}

static int stream_lookup(struct sq_store *ss, const char *name, int64_t *id, int64_t *version,
                         bool *found, err *e)
{
    struct cache_entry *hit;
    return stream_lookup_at(ss, name, id, version, found, &hit, e);
}

static int position_of_version(struct sq_store *ss, int64_t stream_id, int64_t version,
                               int64_t *pos, err *e)
{
    sqlite3_stmt *st = prep(ss, S_POS_OF_VERSION, e);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, version);
    bool found;
    int rc = run_int(ss, st, pos, &found, e, "reading a stream");
    if (rc == ST_OK && !found)
        return err_set(e, ST_ERR, "%s is damaged: a stream has no event at version %lld",
                       ss->base.path, (long long)version);
    return rc;
}

/* How many events of the stream (current version `current`) lie at or before
 * position pos, i.e. its version as of pos. Positions grow with versions within a
 * stream, so a binary search over versions needs only the (stream_id, version)
 * index: O(log^2 n) probes and no extra index to slow appends down. */
static int version_at(struct sq_store *ss, int64_t stream_id, int64_t current, int64_t pos,
                      int64_t *out, err *e)
{
    int64_t p = 0;
    if (current <= 0 || pos <= 0) {
        *out = 0;
        return ST_OK;
    }
    if (pos == INT64_MAX) {
        *out = current;
        return ST_OK;
    }
    if (position_of_version(ss, stream_id, current, &p, e) != ST_OK)
        return ST_ERR;
    if (p <= pos) {
        *out = current;
        return ST_OK;
    }
    int64_t lo = 0, hi = current - 1; /* answer in [lo, hi] */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (position_of_version(ss, stream_id, mid, &p, e) != ST_OK)
            return ST_ERR;
        if (p <= pos)
            lo = mid;
        else
            hi = mid - 1;
    }
    *out = lo;
    return ST_OK;
}

static int command_lookup(struct sq_store *ss, const char *command_id, int64_t *first,
                          int64_t *last, bool *found, err *e)
{
    sqlite3_stmt *st = prep(ss, S_CMD_GET, e);
    if (!st)
        return ST_ERR;
    bind_text(st, 1, command_id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) {
        *first = sqlite3_column_int64(st, 0);
        *last = sqlite3_column_int64(st, 1);
        rc = SQLITE_DONE;
    }
    sqlu_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(ss, rc, e, "looking up a command id");
    return ST_OK;
}

static int read_range(struct sq_store *ss, int64_t first, int64_t last, struct event_list *out,
                      err *e)
{
    sqlite3_stmt *st = prep(ss, S_RANGE, e);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    return read_events(ss, st, out, e);
}

/* ---- append ---- */

static int set_stream(struct sq_store *ss, int64_t id, int64_t version, int64_t last, err *e)
{
    sqlite3_stmt *st = prep(ss, S_STREAM_SET, e);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_int64(st, 3, last);
    return run(ss, st, e, "appending events");
}

/* The transaction's append time (migration append_time): one row per
 * transaction, at its first position, written by its first append. */
static int log_append_time(struct sq_store *ss, int64_t first, err *e)
{
    ss->time_logged = true;
    if (!ss->time_format)
        ss->time_format = store_migration_number("append_time");
    if (ss->format < ss->time_format)
        return ST_OK;
    sqlite3_stmt *st = prep(ss, S_TIME_INS, e);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, time_now_ms());
    return run(ss, st, e, "recording the append time");
}

/* The body of an append, inside a transaction. *wrote says whether anything was
 * written before a failure (then the transaction must go). */
static int append_in_tx(struct sq_store *ss, const char *stream, int64_t expected,
                        const char *command_id, const struct new_event *events, size_t n,
                        char (*times)[TIME_TEXT_LEN + 1], struct event_list *appended, bool *wrote,
                        err *e)
{
    int64_t first, last;
    bool found;
    if (command_id) {
        if (command_lookup(ss, command_id, &first, &last, &found, e) != ST_OK)
            return ST_ERR;
        if (found) {
            if (appended && read_range(ss, first, last, appended, e) != ST_OK)
                return ST_ERR;
            return err_set(e, ST_DUPLICATE,
                           "command %s was already processed (it appended positions %lld..%lld)",
                           command_id, (long long)first, (long long)last);
        }
    }

    int64_t id = 0, version = 0;
    struct cache_entry *hit;
    if (stream_lookup_at(ss, stream, &id, &version, &found, &hit, e) != ST_OK)
        return ST_ERR;
    if (!found)
        version = 0;
    if (expected == STORE_NO_STREAM && version != 0)
        return err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected a new stream",
                       stream, (long long)version);
    if (expected > 0 && version != expected)
        return err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected %lld", stream,
                       (long long)version, (long long)expected);

    sqlite3_stmt *st;
    struct cache_entry *ce;
    if (!found) {
        if (!(st = prep(ss, S_STREAM_NEW, e)))
            return ST_ERR;
        bind_text(st, 1, stream);
        *wrote = true;
        if (run(ss, st, e, "appending events") != ST_OK)
            return ST_ERR;
        id = sqlite3_last_insert_rowid(ss->db);
    }

    if (!(st = prep(ss, S_EVENT_INS, e)))
        return ST_ERR;
    first = last = 0;
    for (size_t i = 0; i < n; i++) {
        const struct new_event *ev = &events[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, version + (int64_t)i + 1);
        bind_text(st, 3, ev->type);
        sqlite3_bind_int(st, 4, ev->schema);
        bind_text(st, 5, times[i]);
        bind_text(st, 6, ev->data);
        bind_text(st, 7, ev->meta);
        *wrote = true;
        /* every parameter is bound again for each event: reset without clearing
         * them (sqlite3_clear_bindings was ~100 instructions an event) */
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            return sq_fail(ss, rc, e, "appending events");
        last = sqlite3_last_insert_rowid(ss->db);
        if (i == 0)
            first = last;
    }

    if (!ss->time_logged && log_append_time(ss, first, e) != ST_OK)
        return ST_ERR;
    if (ss->tx == TX_OPEN && hit)
        stream_cache_set(&ss->cache, hit, id, version + (int64_t)n, last, true);
    else if (ss->tx == TX_OPEN)
        stream_cache_put(&ss->cache, stream, id, version + (int64_t)n, last, true);
    else if (set_stream(ss, id, version + (int64_t)n, last, e) != ST_OK)
        return ST_ERR;
    else if ((ce = stream_cache_find(&ss->cache, stream))) { /* kept from a commit */
        ce->version = version + (int64_t)n;
        ce->last_position = last;
    }

    if (command_id) {
        if (!(st = prep(ss, S_CMD_INS, e)))
            return ST_ERR;
        bind_text(st, 1, command_id);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_int64(st, 3, first);
        sqlite3_bind_int64(st, 4, last);
        if (run(ss, st, e, "recording the command id") != ST_OK)
            return ST_ERR;
    }

    if (appended)
        store_push_appended(appended, stream, first, version, events, n, times);
    return ST_OK;
}

static int sq_append(struct store *s, const char *stream, int64_t expected_version,
                     const char *command_id, const struct new_event *events, size_t n,
                     struct event_list *appended, err *e)
{
    struct sq_store *ss = SQ(s);
    if (ss->read_only)
        return read_only_error(ss, e);
    if (ss->tx == TX_ABORTED)
        return store_aborted_error(e);
    char small[4][TIME_TEXT_LEN + 1];
    char(*times)[TIME_TEXT_LEN + 1] = n <= 4 ? small : xmalloc(n * sizeof *times);
    int rc = store_append_check(stream, expected_version, command_id, events, n, times, e);
    if (rc != ST_OK)
        goto out;

    bool own = ss->tx == TX_NONE;
    if (own && (rc = sq_tx_begin(ss, e)) != ST_OK)
        goto out;
    size_t had = appended ? appended->len : 0;
    bool wrote = false;
    rc = append_in_tx(ss, stream, expected_version, command_id, events, n, times, appended, &wrote,
                      e);
    if (rc == ST_OK && own)
        rc = sq_tx_commit(ss, e);
    else if (rc != ST_OK && own)
        sq_tx_rollback(ss);
    else if (rc != ST_OK && (wrote || sqlite3_get_autocommit(ss->db))) {
        /* A write failed half-way inside the caller's transaction: the only way to
         * keep "all or nothing" is to drop the whole transaction. */
        sq_tx_rollback(ss);
        ss->tx = TX_ABORTED;
        if (e) {
            size_t l = strlen(e->msg);
            snprintf(e->msg + l, sizeof e->msg - l, "; the whole transaction was rolled back");
        }
    }
    if (rc != ST_OK && rc != ST_DUPLICATE && appended)
        store_drop_appended(appended, had);
out:
    if (times != small)
        free(times);
    return rc;
}

/* ---- reads ---- */

static int sq_command_events(struct store *s, const char *command_id, struct event_list *out,
                             err *e)
{
    struct sq_store *ss = SQ(s);
    int64_t first, last;
    bool found;
    if (!command_id)
        return err_set(e, ST_NOT_FOUND, "no command id given");
    if (command_lookup(ss, command_id, &first, &last, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return err_set(e, ST_NOT_FOUND, "unknown command id: %s", command_id);
    return read_range(ss, first, last, out, e);
}

static sqlite3_stmt *page_stmt(struct sq_store *ss, int bits, err *e)
{
    if (ss->page[bits])
        return ss->page[bits];
    strbuf sql;
    sb_init(&sql);
    /* The same columns, data and meta left out with PAGE_ENVELOPE. */
    sb_addf(&sql,
            "SELECT e.position, %s, e.version, e.type, e.schema, e.time, %s FROM event_log e %s",
            bits & PAGE_BY_ID ? "e.stream_id" : "s.name",
            bits & PAGE_ENVELOPE ? "'{}', NULL" : "e.data, e.meta",
            bits & PAGE_BY_ID ? "WHERE " : "CROSS JOIN streams s ON s.id = e.stream_id WHERE ");
    if (bits & PAGE_STREAM)
        sb_adds(&sql, "e.stream_id = ?1 AND e.version > ?2 AND e.version <= ?3 AND ");
    sb_adds(&sql, "e.position > ?4 AND e.position <= ?5");
    if (bits & PAGE_TYPE)
        sb_adds(&sql, " AND e.type = ?6");
    if (bits & PAGE_TEXT)
        sb_adds(&sql, " AND (s.name LIKE ?7 ESCAPE '\\' OR e.type LIKE ?7 ESCAPE '\\'"
                      " OR e.data LIKE ?7 ESCAPE '\\' OR e.meta LIKE ?7 ESCAPE '\\')");
    sb_addf(&sql, " ORDER BY %s%s LIMIT ?8", bits & PAGE_STREAM ? "e.version" : "e.position",
            bits & PAGE_BACKWARD ? " DESC" : "");
    sqlite3_stmt *st = prep_sql(ss, &ss->page[bits], sql.buf, e);
    sb_done(&sql);
    return st;
}

/* Pages of at least this many events forward by position read stream ids, not
 * names (store_sqlite_read.c). */
#define PAGE_BY_ID_MIN 4096

static void bind_page(sqlite3_stmt *st, const struct event_filter *f, const int64_t v[5],
                      const char *pattern, size_t limit)
{
    if (f->stream) {
        sqlite3_bind_int64(st, 1, v[0]);
        sqlite3_bind_int64(st, 2, v[1]);
        sqlite3_bind_int64(st, 3, v[2]);
    }
    sqlite3_bind_int64(st, 4, v[3]);
    sqlite3_bind_int64(st, 5, v[4]);
    if (f->type)
        bind_text(st, 6, f->type);
    if (pattern)
        bind_text(st, 7, pattern);
    sqlite3_bind_int64(st, 8, limit ? (int64_t)limit : -1);
}

/* A page read by stream id: the rest of it with the join when that gave up. The
 * first statement is reset last, so both read one snapshot. */
static int read_page_by_id(struct sq_store *ss, sqlite3_stmt *st, const struct event_filter *f,
                           int bits, int64_t v[5], size_t limit, struct event_list *out, err *e)
{
    int rc;
    struct sq_names *nm = sq_names_open(ss, &rc);
    if (!nm)
        return sq_fail(ss, rc, e, "reading events");
    size_t had = out->len;
    bool gave_up;
    rc = sq_read_rows(st, nm, out, &gave_up);
    sq_names_close(nm);
    sqlite3_stmt *rest = NULL;
    if (rc == SQLITE_DONE && gave_up) {
        rest = page_stmt(ss, bits & ~PAGE_BY_ID, e);
        if (!rest) {
            sqlu_reset(st);
            return ST_ERR;
        }
        size_t got = out->len - had;
        if (got)
            v[3] = out->items[out->len - 1].position;
        bind_page(rest, f, v, NULL, limit ? limit - got : 0);
        rc = sq_read_rows(rest, NULL, out, NULL);
        sqlu_reset(rest);
    }
    sqlu_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(ss, rc, e, "reading events");
    return ST_OK;
}

static int sq_read_page(struct store *s, const struct event_filter *f, int64_t after, bool backward,
                        size_t limit, struct event_list *out, err *e)
{
    struct sq_store *ss = SQ(s);
    static const struct event_filter none;
    if (!f)
        f = &none;
    int64_t lo, hi; /* the wanted positions are (lo, hi] */
    if (!store_page_window(f, after, backward, &lo, &hi))
        return ST_OK;

    int bits = (f->stream ? PAGE_STREAM : 0) | (f->type ? PAGE_TYPE : 0) |
               (f->text && *f->text ? PAGE_TEXT : 0) | (backward ? PAGE_BACKWARD : 0) |
               (f->envelope_only ? PAGE_ENVELOPE : 0);
    if (!(bits & (PAGE_STREAM | PAGE_TEXT | PAGE_BACKWARD)) &&
        (limit == 0 || limit >= PAGE_BY_ID_MIN))
        bits |= PAGE_BY_ID;
    int64_t id = 0, vlo = 0, vhi = 0;
    if (f->stream) {
        int64_t current;
        bool found;
        if (stream_lookup(ss, f->stream, &id, &current, &found, e) != ST_OK)
            return ST_ERR;
        if (!found)
            return ST_OK;
        if (version_at(ss, id, current, lo, &vlo, e) != ST_OK ||
            version_at(ss, id, current, hi, &vhi, e) != ST_OK)
            return ST_ERR;
        if (vhi <= vlo)
            return ST_OK;
    }
    sqlite3_stmt *st = page_stmt(ss, bits, e);
    if (!st)
        return ST_ERR;
    strbuf pattern;
    sb_init(&pattern);
    if (bits & PAGE_TEXT)
        store_like_pattern(&pattern, f->text);
    int64_t v[5] = {id, vlo, vhi, lo, hi};
    bind_page(st, f, v, bits & PAGE_TEXT ? pattern.buf : NULL, limit);
    int rc = bits & PAGE_BY_ID ? read_page_by_id(ss, st, f, bits, v, limit, out, e)
                               : read_events(ss, st, out, e);
    sb_done(&pattern);
    return rc;
}

static int sq_read_stream(struct store *s, const char *stream, int64_t from_version,
                          int64_t max_position, size_t limit, struct event_list *out, err *e)
{
    struct sq_store *ss = SQ(s);
    int64_t id, current, vmax;
    bool found;
    if (!stream)
        return err_set(e, ST_USAGE, "no stream given");
    if (stream_lookup(ss, stream, &id, &current, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return ST_OK;
    int64_t maxpos = max_position > 0 ? max_position : INT64_MAX;
    if (version_at(ss, id, current, maxpos, &vmax, e) != ST_OK)
        return ST_ERR;
    if (from_version > vmax) /* nothing after: a loaded state is up to date */
        return ST_OK;
    sqlite3_stmt *st = prep(ss, S_READ_STREAM, e);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, from_version);
    sqlite3_bind_int64(st, 3, vmax);
    sqlite3_bind_int64(st, 4, maxpos);
    sqlite3_bind_int64(st, 5, limit ? (int64_t)limit : -1);
    return read_events(ss, st, out, e);
}

static int sq_head(struct store *s, int64_t *position, err *e)
{
    struct sq_store *ss = SQ(s);
    sqlite3_stmt *st = prep(ss, S_HEAD, e);
    if (!st)
        return ST_ERR;
    bool found;
    *position = 0;
    int rc = run_int(ss, st, position, &found, e, "reading the head position");
    if (!found)
        *position = 0;
    return rc;
}

static int sq_stream_version(struct store *s, const char *stream, int64_t max_position,
                             int64_t *version, err *e)
{
    struct sq_store *ss = SQ(s);
    int64_t id, current;
    bool found;
    *version = 0;
    if (!stream)
        return err_set(e, ST_USAGE, "no stream given");
    if (stream_lookup(ss, stream, &id, &current, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return ST_OK;
    return version_at(ss, id, current, max_position > 0 ? max_position : INT64_MAX, version, e);
}

static int sq_list_streams(struct store *s, const char *prefix, size_t offset, size_t limit,
                           struct stream_info **out, size_t *n, err *e)
{
    struct sq_store *ss = SQ(s);
    *out = NULL;
    *n = 0;
    if (!prefix)
        prefix = "";
    if (ss->tx == TX_OPEN && cache_flush(ss, e) != ST_OK) {
        sq_tx_rollback(ss);
        ss->tx = TX_ABORTED;
        return ST_ERR;
    }
    /* Names starting with prefix are exactly those in [prefix, upper), where upper
     * is prefix with its last byte below 0xff incremented (none: no upper bound). */
    size_t plen = strlen(prefix);
    char *upper = xstrdup(prefix);
    while (plen > 0 && (unsigned char)upper[plen - 1] == 0xff)
        upper[--plen] = '\0';
    if (plen > 0)
        upper[plen - 1] = (char)((unsigned char)upper[plen - 1] + 1);
    sqlite3_stmt *st = prep(ss, plen > 0 ? S_LIST_RANGE : S_LIST_FROM, e);
    if (!st) {
        free(upper);
        return ST_ERR;
    }
    bind_text(st, 1, prefix);
    if (plen > 0)
        sqlite3_bind_text(st, 2, upper, (int)plen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    sqlite3_bind_int64(st, 4, (int64_t)offset);
    size_t cap = 0;
    struct stream_info *infos = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            infos = xrealloc(infos, cap * sizeof *infos);
        }
        struct stream_info *si = &infos[(*n)++];
        si->name = sqlu_column_dup(st, 0);
        if (!si->name)
            si->name = xstrdup("");
        si->version = sqlite3_column_int64(st, 1);
        si->last_position = sqlite3_column_int64(st, 2);
    }
    sqlu_reset(st);
    free(upper);
    if (rc != SQLITE_DONE) {
        stream_info_free(infos, *n);
        *n = 0;
        return sq_fail(ss, rc, e, "listing streams");
    }
    *out = infos;
    return ST_OK;
}

static int sq_count_streams(struct store *s, int64_t *count, err *e)
{
    struct sq_store *ss = SQ(s);
    bool found;
    *count = 0;
    sqlite3_stmt *st = prep(ss, S_COUNT_STREAMS, e);
    if (!st)
        return ST_ERR;
    return run_int(ss, st, count, &found, e, "counting streams");
}

static int sq_position_at_time(struct store *s, const char *time, int64_t *position, err *e)
{
    struct sq_store *ss = SQ(s);
    char text[TIME_TEXT_LEN + 1];
    *position = 0;
    if (!time || !store_time_text(time, text))
        return err_set(e, ST_USAGE,
                       "bad time '%s' (expected ISO-8601 such as 2026-11-27T10:00:00Z)",
                       time ? time : "");
    sqlite3_stmt *st = prep(ss, S_AT_TIME, e);
    if (!st)
        return ST_ERR;
    bind_text(st, 1, text);
    bool found;
    int rc = run_int(ss, st, position, &found, e, "looking up a time");
    if (!found)
        *position = 0;
    return rc;
}

/* ---- snapshots ---- */

static int sq_snapshot_put(struct store *s, const char *stream, const char *rules_hash,
                           const struct snapshot *snap, err *e)
{
    struct sq_store *ss = SQ(s);
    if (ss->read_only)
        return read_only_error(ss, e);
    if (ss->tx == TX_ABORTED)
        return store_aborted_error(e);
    if (!stream || !rules_hash || !snap || !snap->state)
        return err_set(e, ST_USAGE, "a snapshot needs a stream, a rules hash and a state");
    int64_t id, current;
    bool found;
    if (stream_lookup(ss, stream, &id, &current, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return err_set(e, ST_NOT_FOUND, "no such stream: %s", stream);
    sqlite3_stmt *st = prep(ss, S_SNAP_PUT, e);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, rules_hash);
    sqlite3_bind_int64(st, 3, snap->version);
    sqlite3_bind_int64(st, 4, snap->position);
    bind_text(st, 5, snap->state);
    return run(ss, st, e, "saving a snapshot");
}

static int sq_snapshot_get(struct store *s, const char *stream, const char *rules_hash,
                           int64_t max_position, struct snapshot *out, err *e)
{
    struct sq_store *ss = SQ(s);
    int64_t id, current;
    bool found;
    out->state = NULL;
    if (!stream || !rules_hash)
        return err_set(e, ST_USAGE, "a snapshot lookup needs a stream and a rules hash");
    if (stream_lookup(ss, stream, &id, &current, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return err_set(e, ST_NOT_FOUND, "no snapshot of %s (no such stream)", stream);
    sqlite3_stmt *st = prep(ss, S_SNAP_GET, e);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, rules_hash);
    sqlite3_bind_int64(st, 3, max_position > 0 ? max_position : INT64_MAX);
    int rc = sqlite3_step(st);
    found = rc == SQLITE_ROW;
    if (found) {
        out->version = sqlite3_column_int64(st, 0);
        out->position = sqlite3_column_int64(st, 1);
        out->state = sqlu_column_dup(st, 2);
        if (!out->state)
            out->state = xstrdup("null");
        rc = SQLITE_DONE;
    }
    sqlu_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(ss, rc, e, "reading a snapshot");
    if (!found)
        return err_set(e, ST_NOT_FOUND, "no snapshot of %s for these rules", stream);
    return ST_OK;
}

/* ---- open and close ---- */

static void sq_close(struct store *s)
{
    struct sq_store *ss = SQ(s);
    if (ss->tx == TX_OPEN)
        sq_tx_rollback(ss);
    for (int i = 0; i < S_NSTMT; i++)
        sqlite3_finalize(ss->stmt[i]);
    for (int i = 0; i < PAGE_NSTMT; i++)
        sqlite3_finalize(ss->page[i]);
    sqlite3_finalize(ss->ledger_ins);
    sqlite3_finalize(ss->ledger_has);
    sqlite3_finalize(ss->ledger_ins_many);
    sqlite3_finalize(ss->stream_name);
    stream_cache_clear(&ss->cache);
    sqlite3_close_v2(ss->db);
    free(ss->base.path);
    free(ss);
}

struct sqlite3 *store_sqlite_db(struct store *s)
{
    while (s && s->under) /* a branch lives in its main store's file */
        s = s->under;
    if (!s || s->ops != &store_sqlite_ops)
        return NULL;
    return SQ(s)->db;
}

int store_sqlite_error(struct store *s, int rc, err *e, const char *doing)
{
    while (s && s->under)
        s = s->under;
    return sq_fail(SQ(s), rc, e, doing);
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .append = sq_append,
    .command_events = sq_command_events,
    .read_page = sq_read_page,
    .read_stream = sq_read_stream,
    .head = sq_head,
    .wait_head = store_poll_head, /* nothing tells an SQLite reader of a commit */
    .stream_version = sq_stream_version,
    .list_streams = sq_list_streams,
    .count_streams = sq_count_streams,
    .position_at_time = sq_position_at_time,
    .count_by = sq_count_by,
    .snapshot_put = sq_snapshot_put,
    .snapshot_get = sq_snapshot_get,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .append_time = sq_append_time,
    .health = sq_health,
    .type_counts = sq_type_counts,
    .ledger_claim = sq_ledger_claim,
    .ledger_has = sq_ledger_has,
    .ledger_claim_many = sq_ledger_claim_many,
    .type_totals = sq_type_totals,
    .query = sq_query,
    .copy_put = sq_copy_put,
    .clear_times = sq_clear_times,
};
