/* store_sqlite_health.c: the SQLite store's answers about itself: when an event
 * was appended (the append_times table of migration append_time) and the health
 * `strata doctor` checks (journal mode and synchronous, PRAGMA integrity_check,
 * gaps in the positions). Kept apart from store_sqlite.c's hot paths: nothing here
 * runs per append. */
#include <stdio.h>
#include <string.h>

#include "sqlite_util.h"
#include "store_migrate.h"
#include "store_sqlite_internal.h"

/* sqlu_error directly, not sq_fail: store_sqlite.c calls into this file, and
 * calls must point one way (scripts/check-cycles.py). */
static int fail(struct sq_store *ss, int rc, err *e, const char *doing)
{
    return sqlu_error(ss->db, rc, ss->base.path, ss->busy_ms, e, doing);
}

int sq_append_time(struct store *s, int64_t position, int64_t *ms, err *e)
{
    struct sq_store *ss = (struct sq_store *)s;
    if (!ss->time_format)
        ss->time_format = store_migration_number("append_time");
    if (ss->format < ss->time_format)
        return err_set(e, ST_NOT_FOUND, "the store keeps no append times (format %d)", ss->format);
    /* The transaction that appended `position` is the last one to start at or
     * before it: one probe of the primary key. */
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(ss->db,
                                "SELECT appended_at FROM append_times WHERE first_position <= ?1 "
                                "ORDER BY first_position DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "reading an append time");
    sqlite3_bind_int64(st, 1, position);
    rc = sqlite3_step(st);
    bool found = rc == SQLITE_ROW;
    if (found)
        *ms = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(ss, rc, e, "reading an append time");
    return found
               ? ST_OK
               : err_set(e, ST_NOT_FOUND, "no append time for position %lld", (long long)position);
}

static int text_pragma(struct sq_store *ss, const char *sql, char *out, size_t cap, err *e)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(ss->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "checking the store");
    rc = sqlite3_step(st);
    out[0] = 0;
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, cap, "%s", t ? (const char *)t : "");
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? ST_OK : fail(ss, rc, e, "checking the store");
}

int sq_health(struct store *s, struct store_health *out, err *e)
{
    struct sq_store *ss = (struct sq_store *)s;
    char mode[32];
    int64_t sync = 0;
    if (text_pragma(ss, "PRAGMA journal_mode", mode, sizeof mode, e) != ST_OK)
        return ST_ERR;
    int rc = sqlu_query_int(ss->db, "PRAGMA synchronous", &sync);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "checking the store");
    static const char *const sync_names[] = {"OFF", "NORMAL", "FULL", "EXTRA"};
    const char *sync_name = sync >= 0 && sync <= 3 ? sync_names[sync] : "?";
    /* WAL with synchronous FULL: a commit is on disk when it returns. NORMAL in
     * WAL loses the last commits on a power loss; OFF loses more. */
    out->durable = strcmp(mode, "wal") == 0 && sync >= 2;
    snprintf(out->durability, sizeof out->durability, "journal_mode %s, synchronous %s", mode,
             sync_name);
    if (text_pragma(ss, "PRAGMA integrity_check(1)", out->integrity, sizeof out->integrity, e) !=
        ST_OK)
        return ST_ERR;
    out->intact = strcmp(out->integrity, "ok") == 0;
    if ((rc = sqlu_query_int(ss->db, "SELECT coalesce(max(position), 0) FROM event_log",
                             &out->head)) != SQLITE_OK ||
        (rc = sqlu_query_int(ss->db, "SELECT count(*) FROM event_log", &out->count)) != SQLITE_OK)
        return fail(ss, rc, e, "checking the positions");
    out->first_gap = 0;
    if (out->count < out->head) {
        /* The first position whose successor is missing (or 1 itself): one pass
         * over the primary key, only when the counts say there is a gap. */
        int64_t g = 0;
        rc = sqlu_query_int(ss->db,
                            "SELECT CASE WHEN NOT EXISTS(SELECT 1 FROM event_log WHERE position = "
                            "1) THEN 1 ELSE (SELECT min(e.position) + 1 FROM event_log e WHERE "
                            "NOT EXISTS(SELECT 1 FROM event_log f WHERE f.position = e.position "
                            "+ 1) AND e.position < (SELECT max(position) FROM event_log)) END",
                            &g);
        if (rc != SQLITE_OK)
            return fail(ss, rc, e, "checking the positions");
        out->first_gap = g;
    }
    return ST_OK;
}

int sq_type_counts(struct store *s, struct type_count **out, size_t *n, err *e)
{
    struct sq_store *ss = (struct sq_store *)s;
    sqlite3_stmt *st;
    /* A scan of event_log (no index on type: see store_migrate.c, format 1). */
    int rc = sqlite3_prepare_v2(ss->db,
                                "SELECT type, schema, count(*) FROM event_log "
                                "GROUP BY type, schema ORDER BY type, schema",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "counting event types");
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        struct type_count *tc = &(*out)[(*n)++];
        tc->type = sqlu_column_dup(st, 0);
        tc->schema = sqlite3_column_int(st, 1);
        tc->count = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        type_counts_free(*out, *n);
        *out = NULL;
        *n = 0;
        return fail(ss, rc, e, "counting event types");
    }
    return ST_OK;
}
