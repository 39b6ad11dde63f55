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

static int rekey_history(sqlite3 *db, err *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                           "instr(sql, '" OLD_HISTORY_DDL "') > 0",
                           -1, &st, NULL) != SQLITE_OK)
        return err_set(e, ST_ERR, "finding the projection histories: %s", sqlite3_errmsg(db));
    /* Collected first: the loop below changes sqlite_master. */
    char **names = NULL;
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
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

const struct store_migration store_migrations[] = {
    {1, "initial schema", false, FORMAT1_SQL, NULL},
    {2, "projection_skips", true, FORMAT2_SQL, NULL},
    {3, "append_time", true, APPEND_TIME_SQL, NULL},
    {4, "projection_history_rekey", true, NULL, rekey_history},
    {5, "import_ledger", true, LEDGER_SQL, NULL},
    {6, "branches", true, BRANCHES_SQL, NULL},
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
