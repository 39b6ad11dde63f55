/* store_sqlite_query.c: the SQLite store's operations for looking at the log
 * from outside the event model: the import ledger (ledger_claim), event counts by
 * type (type_counts, for the workbench's Insights) and `strata sql` (query): one
 * statement a user wrote, run where it can change nothing.
 *
 * query's safety comes in layers, each enough against what the one before might
 * miss: a separate connection opened SQLITE_OPEN_READONLY (the store's own
 * connection, and its transaction, are never lent out), PRAGMA query_only on it,
 * sqlite3_stmt_readonly on the prepared statement, exactly one statement (the
 * tail must prepare to nothing), an authorizer that denies ATTACH, DETACH and
 * every pragma but a list of ones that only read, and a progress handler that
 * stops the statement at its time limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite_util.h"
#include "store_sqlite_internal.h"

#define SQ(s) ((struct sq_store *)(s))

/* sq_fail's message, without calling back into store_sqlite.c (whose ops table
 * points here: scripts/check-cycles.py). */
static int fail(struct sq_store *ss, int rc, err *e, const char *doing)
{
    return sqlu_error(ss->db, rc, ss->base.path, ss->busy_ms, e, doing);
}

/* ---- the import ledger ---- */

int sq_ledger_claim(struct store *s, const unsigned char id[16], int64_t position, bool *fresh,
                    err *e)
{
    struct sq_store *ss = SQ(s);
    *fresh = false;
    if (!ss->ledger_ins) {
        int rc = sqlite3_prepare_v3(
            ss->db, "INSERT OR IGNORE INTO import_ledger(identity, position) VALUES(?1, ?2)", -1,
            SQLITE_PREPARE_PERSISTENT, &ss->ledger_ins, NULL);
        if (rc != SQLITE_OK)
            return fail(ss, rc, e, "preparing the import ledger");
    }
    sqlite3_stmt *st = ss->ledger_ins;
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, position);
    int rc = sqlite3_step(st);
    sqlu_reset(st);
    if (rc != SQLITE_DONE)
        return fail(ss, rc, e, "recording an import in the ledger");
    *fresh = sqlite3_changes(ss->db) > 0;
    return ST_OK;
}

/* Claims by LEDGER_ROWS a statement: one step writes them all, so the statement's
 * fixed cost (its cursors opened and closed, its halt) is paid once per
 * LEDGER_ROWS claims, not per claim (it was a third of the ledger's cost). */
#define LEDGER_ROWS 64

int sq_ledger_claim_many(struct store *s, const struct ledger_claim *claims, size_t n, err *e)
{
    struct sq_store *ss = SQ(s);
    size_t k = 0;
    if (n >= LEDGER_ROWS && !ss->ledger_ins_many) {
        strbuf sql;
        sb_init(&sql);
        sb_adds(&sql, "INSERT OR IGNORE INTO import_ledger(identity, position) VALUES");
        for (int i = 0; i < LEDGER_ROWS; i++)
            sb_adds(&sql, i ? ",(?,?)" : "(?,?)");
        int rc = sqlite3_prepare_v3(ss->db, sql.buf, -1, SQLITE_PREPARE_PERSISTENT,
                                    &ss->ledger_ins_many, NULL);
        sb_done(&sql);
        if (rc != SQLITE_OK)
            return fail(ss, rc, e, "preparing the import ledger");
    }
    for (; k + LEDGER_ROWS <= n; k += LEDGER_ROWS) {
        sqlite3_stmt *st = ss->ledger_ins_many;
        for (int i = 0; i < LEDGER_ROWS; i++) {
            sqlite3_bind_blob(st, 2 * i + 1, claims[k + i].id, 16, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2 * i + 2, claims[k + i].position);
        }
        int rc = sqlite3_step(st);
        sqlu_reset(st);
        if (rc != SQLITE_DONE)
            return fail(ss, rc, e, "recording an import in the ledger");
    }
    for (; k < n; k++) {
        bool fresh;
        if (sq_ledger_claim(s, claims[k].id, claims[k].position, &fresh, e) != ST_OK)
            return ST_ERR;
    }
    return ST_OK;
}

int sq_ledger_has(struct store *s, const unsigned char id[16], bool *present, err *e)
{
    struct sq_store *ss = SQ(s);
    *present = false;
    if (!id) {
        int64_t any = 0;
        int rc = sqlu_query_int(ss->db, "SELECT EXISTS (SELECT 1 FROM import_ledger)", &any);
        if (rc != SQLITE_OK)
            return fail(ss, rc, e, "reading the import ledger");
        *present = any != 0;
        return ST_OK;
    }
    if (!ss->ledger_has) {
        int rc = sqlite3_prepare_v3(ss->db, "SELECT 1 FROM import_ledger WHERE identity = ?1", -1,
                                    SQLITE_PREPARE_PERSISTENT, &ss->ledger_has, NULL);
        if (rc != SQLITE_OK)
            return fail(ss, rc, e, "preparing the import ledger");
    }
    sqlite3_stmt *st = ss->ledger_has;
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlu_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(ss, rc, e, "reading the import ledger");
    *present = rc == SQLITE_ROW;
    return ST_OK;
}

/* ---- counts by type ---- */

int sq_type_totals(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                   err *e)
{
    struct sq_store *ss = SQ(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(ss->db,
                                "SELECT type, count(*) FROM event_log WHERE position <= ?1 "
                                "GROUP BY type ORDER BY 2 DESC, 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(ss, rc, e, "counting events by type");
    sqlite3_bind_int64(st, 1, max_position > 0 ? max_position : INT64_MAX);
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[*n].type = sqlu_column_dup(st, 0);
        (*out)[*n].schema = 0; /* every schema version together */
        (*out)[*n].count = sqlite3_column_int64(st, 1);
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        type_counts_free(*out, *n);
        *out = NULL;
        *n = 0;
        return fail(ss, rc, e, "counting events by type");
    }
    return ST_OK;
}

/* ---- strata sql ---- */

struct guard {
    char denied[200]; /* what the authorizer refused, for the message */
    double deadline;  /* CLOCK_MONOTONIC seconds; 0 = none */
    bool timed_out;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pragmas that only read. Those in the first list may take an argument (a table
 * or index name to describe); the rest only as plain reads ("PRAGMA user_version"),
 * since with an argument most pragmas set something. */
static const char *const READ_PRAGMAS_ARG[] = {
    "table_info",  "table_xinfo",      "table_list",      "index_list", "index_info",
    "index_xinfo", "foreign_key_list", "integrity_check", "quick_check"};
static const char *const READ_PRAGMAS[] = {
    "user_version",    "application_id", "schema_version", "page_count",    "page_size",
    "freelist_count",  "database_list",  "collation_list", "function_list", "pragma_list",
    "compile_options", "encoding",       "journal_mode",   "data_version",  "module_list"};

static bool listed(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sqlite3_stricmp(name, list[i]) == 0)
            return true;
    return false;
}

static int authorize(void *ctx, int action, const char *a, const char *b, const char *db,
                     const char *trigger)
{
    (void)db;
    (void)trigger;
    struct guard *g = ctx;
    switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        snprintf(g->denied, sizeof g->denied, "%s is not allowed: only the store can be read",
                 action == SQLITE_ATTACH ? "ATTACH" : "DETACH");
        return SQLITE_DENY;
    case SQLITE_PRAGMA:
        if (a && listed(a, READ_PRAGMAS_ARG, sizeof READ_PRAGMAS_ARG / sizeof *READ_PRAGMAS_ARG))
            return SQLITE_OK;
        if (a && !b && listed(a, READ_PRAGMAS, sizeof READ_PRAGMAS / sizeof *READ_PRAGMAS))
            return SQLITE_OK;
        snprintf(g->denied, sizeof g->denied,
                 "PRAGMA %.60s%s is not allowed: only pragmas that read (table_info, "
                 "user_version, ...)",
                 a ? a : "?", b ? " with a value" : "");
        return SQLITE_DENY;
    case SQLITE_FUNCTION:
        if (b && sqlite3_stricmp(b, "load_extension") == 0) {
            snprintf(g->denied, sizeof g->denied, "load_extension() is not allowed");
            return SQLITE_DENY;
        }
        return SQLITE_OK;
    default:
        return SQLITE_OK;
    }
}

static int progress(void *ctx)
{
    struct guard *g = ctx;
    if (g->deadline > 0 && mono_s() >= g->deadline) {
        g->timed_out = true;
        return 1;
    }
    return 0;
}

/* Opens the separate read-only connection, guarded. */
static sqlite3 *open_guarded(struct sq_store *ss, struct guard *g, err *e)
{
    if (!ss->base.path || strcmp(ss->base.path, ":memory:") == 0 || ss->base.path[0] == '\0') {
        err_set(e, ST_ERR, "an in-memory store cannot be queried with SQL");
        return NULL;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(ss->base.path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlu_error(db, rc, ss->base.path, ss->busy_ms, e, "opening the store read-only for SQL");
        sqlite3_close_v2(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, ss->busy_ms);
    sqlite3_set_authorizer(db, authorize, g);
    sqlite3_progress_handler(db, 1000, progress, g);
    return db;
}

/* A prepare that failed: the authorizer's reason, or SQLite's message. */
static int prepare_error(sqlite3 *db, const struct guard *g, err *e)
{
    if (g->denied[0])
        return err_set(e, ST_USAGE, "refused: %s", g->denied);
    return err_set(e, ST_ERR, "SQL error: %s", sqlite3_errmsg(db));
}

static void cell_of(sqlite3_stmt *st, int i, struct store_cell *c)
{
    memset(c, 0, sizeof *c);
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        c->type = CELL_INT;
        c->i = sqlite3_column_int64(st, i);
        break;
    case SQLITE_FLOAT:
        c->type = CELL_FLOAT;
        c->f = sqlite3_column_double(st, i);
        break;
    case SQLITE_TEXT:
        c->type = CELL_TEXT;
        c->p = (const char *)sqlite3_column_text(st, i);
        c->len = (size_t)sqlite3_column_bytes(st, i);
        break;
    case SQLITE_BLOB:
        c->type = CELL_BLOB;
        c->p = sqlite3_column_blob(st, i);
        c->len = (size_t)sqlite3_column_bytes(st, i);
        break;
    default:
        c->type = CELL_NULL;
    }
}

static int run(sqlite3 *db, sqlite3_stmt *st, struct guard *g, int64_t timeout_ms,
               const struct store_query_sink *sink, err *e)
{
    int ncol = sqlite3_column_count(st);
    const char **names = xcalloc((size_t)ncol + 1, sizeof *names);
    struct store_cell *cells = xcalloc((size_t)ncol + 1, sizeof *cells);
    for (int i = 0; i < ncol; i++) {
        names[i] = sqlite3_column_name(st, i);
        if (!names[i])
            names[i] = "?";
    }
    sink->columns(sink->ctx, names, (size_t)ncol);
    int rc, status = ST_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncol; i++)
            cell_of(st, i, &cells[i]);
        if (sink->row(sink->ctx, cells, (size_t)ncol) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        if (g->timed_out)
            status = err_set(e, ST_ERR,
                             "stopped: the statement ran past its time limit of %.3g s "
                             "(--timeout S allows more)",
                             (double)timeout_ms / 1000.0);
        else if (g->denied[0])
            status = err_set(e, ST_USAGE, "refused: %s", g->denied);
        else
            status = err_set(e, ST_ERR, "SQL error: %s", sqlite3_errmsg(db));
    }
    free(names);
    free(cells);
    return status;
}

int sq_query(struct store *s, const char *sql, int64_t timeout_ms,
             const struct store_query_sink *sink, err *e)
{
    struct guard g;
    memset(&g, 0, sizeof g);
    sqlite3 *db = open_guarded(SQ(s), &g, e);
    if (!db)
        return e->code ? e->code : ST_ERR;
    sqlite3_stmt *st = NULL, *more = NULL;
    const char *tail = NULL;
    int status = ST_OK;
    if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK) {
        status = prepare_error(db, &g, e);
    } else if (!st) {
        status = err_set(e, ST_USAGE, "no SQL statement given");
    } else if (tail && *tail &&
               (sqlite3_prepare_v2(db, tail, -1, &more, NULL) != SQLITE_OK || more)) {
        /* Whatever follows the first statement (a second one, or text that does
         * not parse) is refused without running anything. */
        status =
            err_set(e, ST_USAGE, "refused: one statement at a time (found more after the first)");
    } else if (!sqlite3_stmt_readonly(st)) {
        status = err_set(e, ST_USAGE,
                         "refused: the statement would write; only reading statements (SELECT, "
                         "WITH ... SELECT, EXPLAIN, reading pragmas) are allowed");
    } else {
        if (timeout_ms > 0)
            g.deadline = mono_s() + (double)timeout_ms / 1000.0;
        status = run(db, st, &g, timeout_ms, sink, e);
    }
    sqlite3_finalize(more);
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return status;
}
