/* store_migrate.c: the list of store format migrations (see store_migrate.h) and
 * how SQLite runs them. Opening a store (store_sqlite_schema.c) decides when to
 * run them; this file says what each one does. */
#include "store_migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Format 1: design.md's schema, exactly as the first release created it (kept
 * verbatim: stores in the field were made by it, and the tests build format-1
 * stores from it). There is an index on time (position_at_time) but none on
 * type: measured, it cost 10-15% of the append rate, while a type filter without
 * it is a position-ordered scan that stops as soon as a page is full. */
static const char FORMAT1_SQL[] =
    "CREATE TABLE strata_meta(key TEXT PRIMARY KEY, value TEXT);\n"
    "INSERT INTO strata_meta(key, value) VALUES('format_version', '1');\n"
    "CREATE TABLE streams(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,\n"
    "  version INTEGER NOT NULL, last_position INTEGER NOT NULL);\n"
    "CREATE TABLE event_log(position INTEGER PRIMARY KEY,\n"
    "  stream_id INTEGER NOT NULL REFERENCES streams(id), version INTEGER NOT NULL,\n"
    "  type TEXT NOT NULL, schema INTEGER NOT NULL, time TEXT NOT NULL,\n"
    "  data TEXT NOT NULL, meta TEXT, UNIQUE(stream_id, version));\n"
    "CREATE INDEX event_log_time ON event_log(time);\n"
    "CREATE VIEW events AS SELECT e.position AS position, s.name AS stream,\n"
    "  e.version AS version, e.type AS type, e.schema AS schema, e.time AS time,\n"
    "  e.data AS data, e.meta AS meta\n"
    "  FROM event_log e JOIN streams s ON s.id = e.stream_id ORDER BY e.position;\n"
    "CREATE TABLE commands(id TEXT PRIMARY KEY, stream_id INTEGER NOT NULL,\n"
    "  first_position INTEGER NOT NULL, last_position INTEGER NOT NULL);\n"
    "CREATE TABLE snapshots(stream_id INTEGER NOT NULL, rules_hash TEXT NOT NULL,\n"
    "  version INTEGER NOT NULL, position INTEGER NOT NULL, state TEXT NOT NULL,\n"
    "  PRIMARY KEY(stream_id, rules_hash, version));\n"
    "PRAGMA application_id = 1398035009;\n"
    "PRAGMA user_version = 1;\n";

/* Format 2: events a projection was told to pass over (`strata project --skip`),
 * so that one event it cannot fold (a "poison" event) does not stop it for good.
 * Kept apart from the projection's own tables so that a rebuild, which replaces
 * those, still skips them. A store without it has skipped nothing, so an older
 * store can still be read as it is. */
static const char FORMAT2_SQL[] =
    "CREATE TABLE projection_skips(projection TEXT NOT NULL, position INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL, skipped_at TEXT NOT NULL, PRIMARY KEY(projection, position))\n"
    "  WITHOUT ROWID;\n";

/* append_time: when each append committed (ms since the epoch, the writer's
 * clock), one row per transaction keyed by its first position: the events from
 * first_position up to the next row's were appended then. A projection's lag age
 * is measured from it, not from the events' own `time` (an imported log keeps
 * the times it was written with, years old). One row per transaction rather than
 * a column per event: an import of a million events writes one row. Events
 * appended before this format have no row (their age falls back to `time`). */
static const char APPEND_TIME_SQL[] =
    "CREATE TABLE append_times(first_position INTEGER PRIMARY KEY,\n"
    "  appended_at INTEGER NOT NULL);\n";
/* Format 4: a projection's row history keyed by (key, valid_from) rather than
 * by valid_from alone, since one event may now change several rows of a
 * projection (a handler's for_each). The history tables are created per
 * projection, lazily, with CREATE TABLE IF NOT EXISTS, so an old table would
 * keep its old shape for good; this rewrites each one in place (the same
 * columns and entries, the rowid kept in position order so entries stay
 * appended at the end), with a unique index on (key, valid_from) in place of the
 * index on key. Rewriting, rather than dropping the tables and marking every
 * projection for a rebuild, keeps every read model and `query --at` working
 * with no refold: the old entries are valid in the new shape as they are (their
 * valid_from was unique). The tables are found by the DDL Strata wrote for them
 * (live and __rebuild ones alike). A store that lacks it can still be read as it
 * is: readers ask for the same columns. */
#define OLD_HISTORY_DDL                                                                            \
    "(valid_from INTEGER PRIMARY KEY, key TEXT NOT NULL, row TEXT, changes TEXT)"

/* The names of the tables whose DDL holds `ddl` (sqlite3_mprintf strings, freed by
 * the caller with the array), collected before a migration changes sqlite_master. */
static int tables_with(sqlite3 *db, const char *ddl, char ***names, size_t *n, err *e)
{
    *names = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                           "instr(sql, ?1) > 0",
                           -1, &st, NULL) != SQLITE_OK)
        return err_set(e, ST_ERR, "finding the projection histories: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, ddl, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        *names = xrealloc(*names, (*n + 1) * sizeof **names);
        (*names)[(*n)++] = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return ST_OK;
}

static int rekey_history(sqlite3 *db, err *e)
{
    char **names;
    size_t n;
    if (tables_with(db, OLD_HISTORY_DDL, &names, &n, e) != ST_OK)
        return ST_ERR;
    int rc = ST_OK;
    for (size_t i = 0; i < n; i++) {
        char *sql =
            rc != ST_OK
                ? NULL
                : sqlite3_mprintf(
                      "CREATE TABLE strata_history_rekey(valid_from INTEGER NOT NULL, key TEXT NOT "
                      "NULL, "
                      "row TEXT, changes TEXT);\n"
                      "INSERT INTO strata_history_rekey(rowid, valid_from, key, row, changes) "
                      "SELECT valid_from, valid_from, key, row, changes FROM \"%w\" ORDER BY "
                      "valid_from;\n"
                      "DROP TABLE \"%w\";\n"
                      "ALTER TABLE strata_history_rekey RENAME TO \"%w\";\n"
                      "CREATE UNIQUE INDEX \"%w_by_key\" ON \"%w\"(key, valid_from);\n",
                      names[i], names[i], names[i], names[i], names[i]);
        if (sql && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            rc = err_set(e, ST_ERR, "re-keying %s: %s", names[i], sqlite3_errmsg(db));
        sqlite3_free(sql);
        sqlite3_free(names[i]);
    }
    free(names);
    return rc;
}
/* import_ledger: the identities of the records imports appended (a 16-byte hash
 * of the mapping's `id:`, of a CloudEvent's source and id, or of the raw record
 * and its occurrence), so that importing a file again, or a file that overlaps
 * one already imported, appends only what is new (core/import.c). WITHOUT ROWID:
 * the key is the row, ~30 bytes each. position is the event the record became
 * (for a person asking "where did this record go"). In PostgreSQL: identity
 * BYTEA PRIMARY KEY, position BIGINT. A store without it has no ledger yet; an
 * older build can still read the store. */
static const char LEDGER_SQL[] =
    "CREATE TABLE import_ledger(identity BLOB PRIMARY KEY, position INTEGER NOT NULL)\n"
    "  WITHOUT ROWID;\n";

/* branches: what-if branches of the log (core/store_branch.h). A branch sees
 * main's events up to its fork point, then its own, which live in branch_events
 * and never in event_log: main's positions, streams and `events` view are
 * untouched by them. Creating a branch writes one row; nothing is copied. The
 * same two tables, names and columns, exist on PostgreSQL (its twin of this
 * migration). A store without them has no branches; an older build reads it
 * as it is. */
static const char BRANCHES_SQL[] =
    "CREATE TABLE branches(name TEXT PRIMARY KEY, fork_position INTEGER NOT NULL,\n"
    "  created_at TEXT NOT NULL);\n"
    "CREATE TABLE branch_events(branch TEXT NOT NULL, position INTEGER NOT NULL,\n"
    "  stream TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,\n"
    "  schema INTEGER NOT NULL, time TEXT NOT NULL, data TEXT NOT NULL, meta TEXT,\n"
    "  command_id TEXT, PRIMARY KEY(branch, position), UNIQUE(branch, stream, version));\n";

/* Format 7: each entry of a projection's history carries its epoch, the position
 * of the newest checkpoint written before it (0: none), and the history's index
 * is on (epoch, key, valid_from) instead of (key, valid_from). Indexed by key
 * alone, every batch of a catch-up inserted an index entry beside each key it
 * touched, all over an index as large as the history: at 10,000,000 events it
 * outgrew the page cache and each batch read and wrote back a page per key.
 * By epoch, a batch's entries go into the newest part of the index only, a few
 * hundred pages, however long the history (bench/RESULTS.md). A key's row at P
 * is then its row in the newest checkpoint at or before P plus its entries of
 * that epoch (projection_sqlite.c's first comment).
 *
 * Per history table (found by its DDL, live, rebuild and branch ones alike): the
 * column is added (0 for every entry), the entries after each checkpoint get its
 * epoch (they are the rowids after its hist_rowid: rowids grow with positions),
 * the old index is dropped and the new one made under its name, and the
 * checkpoint tables are made if the table had none (empty: the next fold makes
 * the first checkpoint, as for a history from before checkpoints). Read
 * compatible: an older build reads the entries with the same columns. */
/* Runs sql (an sqlite3_mprintf string, freed) on db. */
static int exec_free(sqlite3 *db, char *sql, const char *table, err *e)
{
    int rc = ST_OK;
    if (!sql || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        rc = err_set(e, ST_ERR, "giving %s its epochs: %s", table,
                     sql ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_free(sql);
    return rc;
}

/* The name of the index of history table h (its only one), or h_by_key. */
static char *history_index(sqlite3 *db, const char *h)
{
    sqlite3_stmt *ix = NULL;
    char *q = sqlite3_mprintf("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                              "tbl_name = %Q AND sql IS NOT NULL",
                              h);
    char *index = NULL;
    if (q && sqlite3_prepare_v2(db, q, -1, &ix, NULL) == SQLITE_OK &&
        sqlite3_step(ix) == SQLITE_ROW)
        index = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(ix, 0));
    sqlite3_finalize(ix);
    sqlite3_free(q);
    return index ? index : sqlite3_mprintf("%s_by_key", h);
}

/* Gives the entries of history h their epochs: those after each checkpoint of
 * stem_ck_at (the rowids after its hist_rowid, up to the next one's) its `at`,
 * one rowid range at a time. */
static int epochs_by_checkpoint(sqlite3 *db, const char *h, const char *stem, err *e)
{
    sqlite3_stmt *ck = NULL, *up = NULL;
    char *q1 =
        sqlite3_mprintf("SELECT at, hist_rowid FROM \"%w_ck_at\" WHERE at > 0 ORDER BY at", stem);
    char *q2 = sqlite3_mprintf(
        "UPDATE \"%w\" SET epoch = ?1 WHERE rowid > ?2 AND (?3 IS NULL OR rowid <= ?3)", h);
    int rc = ST_OK;
    if (!q1 || !q2 || sqlite3_prepare_v2(db, q1, -1, &ck, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, q2, -1, &up, NULL) != SQLITE_OK)
        rc = err_set(e, ST_ERR, "giving %s its epochs: %s", h, sqlite3_errmsg(db));
    bool have = false;
    int64_t at = 0, from = 0;
    while (rc == ST_OK) {
        int step = sqlite3_step(ck);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            rc = err_set(e, ST_ERR, "giving %s its epochs: %s", h, sqlite3_errmsg(db));
            break;
        }
        if (have) { /* the previous checkpoint's run ends where this one's begins */
            sqlite3_bind_int64(up, 1, at);
            sqlite3_bind_int64(up, 2, from);
            if (step == SQLITE_ROW)
                sqlite3_bind_int64(up, 3, sqlite3_column_int64(ck, 1));
            else
                sqlite3_bind_null(up, 3);
            if (sqlite3_step(up) != SQLITE_DONE)
                rc = err_set(e, ST_ERR, "giving %s its epochs: %s", h, sqlite3_errmsg(db));
            sqlite3_reset(up);
        }
        if (step == SQLITE_DONE)
            break;
        have = true;
        at = sqlite3_column_int64(ck, 0);
        from = sqlite3_column_int64(ck, 1);
    }
    sqlite3_finalize(ck);
    sqlite3_finalize(up);
    sqlite3_free(q1);
    sqlite3_free(q2);
    return rc;
}

static int history_epochs(sqlite3 *db, err *e)
{
    char **names;
    size_t n;
    if (tables_with(db, "(" STORE_HISTORY_COLUMNS ")", &names, &n, e) != ST_OK)
        return ST_ERR;
    int rc = ST_OK;
    for (size_t i = 0; i < n; i++) {
        const char *h = names[i];
        size_t len = strlen(h);
        /* proj_NAME[__rebuild]_history: its checkpoint tables are ..._ck_at, ..._ck_rows */
        char *stem = len > 8 && strcmp(h + len - 8, "_history") == 0
                         ? sqlite3_mprintf("%.*s", (int)(len - 8), h)
                         : NULL;
        char *index = rc == ST_OK ? history_index(db, h) : NULL;
        if (rc == ST_OK && !stem)
            rc = err_set(e, ST_ERR, "the projection history %s has an unexpected name", h);
        if (rc == ST_OK)
            rc = exec_free(
                db,
                sqlite3_mprintf("ALTER TABLE \"%w\" ADD COLUMN " STORE_HISTORY_EPOCH ";\n"
                                "CREATE TABLE IF NOT EXISTS \"%w_ck_rows\"(at INTEGER NOT NULL, "
                                "key TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY(at, key)) "
                                "WITHOUT ROWID;\n"
                                "CREATE TABLE IF NOT EXISTS \"%w_ck_at\"(at INTEGER PRIMARY KEY, "
                                "hist_rowid INTEGER NOT NULL, n INTEGER NOT NULL);\n",
                                h, stem, stem),
                h, e);
        if (rc == ST_OK)
            rc = epochs_by_checkpoint(db, h, stem, e);
        if (rc == ST_OK)
            rc = exec_free(db,
                           sqlite3_mprintf("DROP INDEX IF EXISTS \"%w\";\n"
                                           "CREATE UNIQUE INDEX \"%w\" ON \"%w\"(epoch, key, "
                                           "valid_from);\n",
                                           index, index, h),
                           h, e);
        sqlite3_free(stem);
        sqlite3_free(index);
        sqlite3_free(names[i]);
    }
    free(names);
    return rc;
}

/* Format 8: `commands` and `snapshots` become WITHOUT ROWID tables, clustered on
 * their primary keys. As rowid tables each was two B-trees, the rows and the index
 * SQLite makes for a text primary key, so every command wrote one page more to the
 * WAL than it needed (7.7 frames per Deposit against 6.7; a raw insert of the same
 * event writes 4), each written and synced by the durable commit (bench/RESULTS.md,
 * session six). Same columns, same keys, same rows, copied in key order; nothing
 * refers to either table's rowid. Read compatible: a build of format 7 reads and
 * writes them with the same statements. */
static const char CLUSTERED_SQL[] =
    "CREATE TABLE strata_commands_clustered(id TEXT PRIMARY KEY, stream_id INTEGER NOT NULL,\n"
    "  first_position INTEGER NOT NULL, last_position INTEGER NOT NULL) WITHOUT ROWID;\n"
    "INSERT INTO strata_commands_clustered SELECT id, stream_id, first_position, last_position\n"
    "  FROM commands ORDER BY id;\n"
    "DROP TABLE commands;\n"
    "ALTER TABLE strata_commands_clustered RENAME TO commands;\n"
    "CREATE TABLE strata_snapshots_clustered(stream_id INTEGER NOT NULL,\n"
    "  rules_hash TEXT NOT NULL, version INTEGER NOT NULL, position INTEGER NOT NULL,\n"
    "  state TEXT NOT NULL, PRIMARY KEY(stream_id, rules_hash, version)) WITHOUT ROWID;\n"
    "INSERT INTO strata_snapshots_clustered SELECT stream_id, rules_hash, version, position,\n"
    "  state FROM snapshots ORDER BY stream_id, rules_hash, version;\n"
    "DROP TABLE snapshots;\n"
    "ALTER TABLE strata_snapshots_clustered RENAME TO snapshots;\n";

const struct store_migration store_migrations[] = {
    {1, "initial schema", false, FORMAT1_SQL, NULL},
    {2, "projection_skips", true, FORMAT2_SQL, NULL},
    {3, "append_time", true, APPEND_TIME_SQL, NULL},
    {4, "projection_history_rekey", true, NULL, rekey_history},
    {5, "import_ledger", true, LEDGER_SQL, NULL},
    {6, "branches", true, BRANCHES_SQL, NULL},
    {7, "projection_history_epochs", true, NULL, history_epochs},
    {8, "clustered_commands_snapshots", true, CLUSTERED_SQL, NULL},
};
const int store_nmigrations = (int)(sizeof store_migrations / sizeof store_migrations[0]);

int store_format_latest(void)
{
    return store_nmigrations;
}

int store_migration_number(const char *name)
{
    for (int i = 0; i < store_nmigrations; i++)
        if (strcmp(store_migrations[i].name, name) == 0)
            return store_migrations[i].to;
    return 0;
}

bool store_format_readable(int from)
{
    if (from < 1)
        return false;
    for (int i = from; i < store_nmigrations; i++)
        if (!store_migrations[i].read_compatible)
            return false;
    return true;
}

int store_migrate_sqlite(sqlite3 *db, int from, int to, err *e)
{
    if (from < 0 || to > store_nmigrations || from > to)
        return err_set(e, ST_ERR, "no migration from store format %d to %d", from, to);
    for (int i = from; i < to; i++) {
        const struct store_migration *m = &store_migrations[i];
        int rc = m->sqlite_sql ? sqlite3_exec(db, m->sqlite_sql, NULL, NULL, NULL) : SQLITE_OK;
        if (rc != SQLITE_OK)
            return err_set(e, ST_ERR, "upgrading the store to format %d (%s): %s", m->to, m->name,
                           sqlite3_errmsg(db));
        if (m->sqlite_fn && m->sqlite_fn(db, e) != ST_OK) {
            err_prefix(e, "upgrading the store to format %d (%s)", m->to, m->name);
            return ST_ERR;
        }
    }
    if (to == from)
        return ST_OK;
    char sql[200];
    snprintf(sql, sizeof sql,
             "PRAGMA user_version = %d; INSERT OR REPLACE INTO strata_meta(key, value) "
             "VALUES('format_version', '%d');",
             to, to);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return err_set(e, ST_ERR, "recording store format %d: %s", to, sqlite3_errmsg(db));
    return ST_OK;
}
