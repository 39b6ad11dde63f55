/* store_migrate.h: the store's format versions and the numbered migrations between
 * them.
 *
 * A store's format is a number (PRAGMA user_version and strata_meta.format_version
 * in SQLite). Migration N takes a store from format N-1 to format N; migration 1
 * creates format 1 (design.md's schema, as the first release wrote it) in an
 * empty database. A new store is made by running every migration from format 0,
 * so creating a store and upgrading an old one are the same path, and that path
 * is tested every time a store is created.
 *
 * The list is backend-neutral: a migration's number, name and meaning are the
 * same for every backend, and each backend has its own way of doing it (SQL for
 * SQLite today; a PostgreSQL backend adds its SQL beside it, under the same
 * number). Append new migrations at the end; never change or reorder one that
 * has shipped, since stores in the field already carry its number. */
#ifndef STRATA_STORE_MIGRATE_H
#define STRATA_STORE_MIGRATE_H

#include <sqlite3.h>

#include "util.h"

/* PRAGMA application_id of a Strata store: 0x53545241, "STRA". */
#define STRATA_APPLICATION_ID 1398035009

/* A projection's history table (projection_sqlite.c): its columns as format 4
 * made them, and the epoch column format 7 added. Migrations find the tables by
 * this text in sqlite_master, so it is never changed. */
#define STORE_HISTORY_COLUMNS                                                                      \
    "valid_from INTEGER NOT NULL, key TEXT NOT NULL, row TEXT, changes TEXT"
#define STORE_HISTORY_EPOCH "epoch INTEGER NOT NULL DEFAULT 0"

/* One migration: from format `to - 1` to format `to`. */
struct store_migration {
    int to;           /* the format it produces: its index in the list + 1 */
    const char *name; /* what it adds, for messages: "projection_skips" */
    /* True when this build can still read a store that lacks it, as it is (a
     * read-only open does not upgrade): what it adds is then read as empty. */
    bool read_compatible;
    const char *sqlite_sql; /* statements for SQLite, or NULL */
    /* For what SQL cannot say (data to rewrite, a check to make): run after
     * sqlite_sql, in the same transaction. NULL when SQL is enough. */
    int (*sqlite_fn)(sqlite3 *db, err *e);
};

/* The migrations, in order: store_migrations[i].to == i + 1. */
extern const struct store_migration store_migrations[];
extern const int store_nmigrations;

/* The newest format: the number of the last migration. */
int store_format_latest(void);

/* The format a migration produces, by its name ("append_time"), or 0: code that
 * needs what a migration added asks for it by name, never by number (numbers are
 * assigned when branches merge). */
int store_migration_number(const char *name);

/* True when a store of format `from` can be read by this build without being
 * upgraded (every migration after it is read_compatible). */
bool store_format_readable(int from);

/* Applies migrations from+1 .. to to an SQLite connection, inside the caller's
 * transaction (the caller holds the write lock and commits), then records `to` in
 * PRAGMA user_version and strata_meta. `from` 0 means an empty database. On error
 * returns ST_ERR with e naming the migration; the caller rolls back. */
int store_migrate_sqlite(sqlite3 *db, int from, int to, err *e);

#endif
