/* store_migrate.c: the list of store format migrations (see store_migrate.h) and
 * how SQLite runs them. Opening a store (store_sqlite_schema.c) decides when to
 * run them; this file says what each one does. */
#include "store_migrate.h"

#include <stdio.h>

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

const struct store_migration store_migrations[] = {
    {1, "initial schema", false, FORMAT1_SQL, NULL},
    {2, "projection_skips", true, FORMAT2_SQL, NULL},
    {3, "import_ledger", true, LEDGER_SQL, NULL},
};
const int store_nmigrations = (int)(sizeof store_migrations / sizeof store_migrations[0]);

int store_format_latest(void)
{
    return store_nmigrations;
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
