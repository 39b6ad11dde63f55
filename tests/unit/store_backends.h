/* store_backends.h: the stores the store's tests run against, for the test files
 * that include it (test_store.c, test_store_sqlite.c, test_store_pg.c,
 * test_store_gap.c): SQLite files in a private temp folder, and, when
 * STRATA_TEST_PG_URI names a PostgreSQL server (tests/run.sh starts one with
 * scripts/pg-cluster.sh), a database of its own on it for the run, dropped at the
 * end, with a fresh schema per store (the URI's options set search_path): a
 * CREATE DATABASE per store would cost a checkpoint per store to drop again.
 * The same test functions run against either: that is how both backends are held
 * to one contract. */
#ifndef STRATA_TEST_STORE_BACKENDS_H
#define STRATA_TEST_STORE_BACKENDS_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store.h"

#define MAYBE_UNUSED __attribute__((unused))

static char tmpdir[256];
static int file_counter;
static bool pg_mode;     /* the tests now run against PostgreSQL */
static PGconn *pg_admin; /* in the run's database: creates the schemas */
static char pg_db[48];   /* the run's database */

MAYBE_UNUSED static const char *pg_base_uri(void)
{
    const char *u = getenv("STRATA_TEST_PG_URI");
    return u && *u ? u : NULL;
}

MAYBE_UNUSED static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/strata-store-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

MAYBE_UNUSED static int teardown_dir(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static bool admin_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

/* A URI of the test server's database `db`, with search_path `schema` (NULL: the
 * default). libpq lets the query's dbname= override the path. */
MAYBE_UNUSED static char *pg_uri_of(const char *db, const char *schema)
{
    const char *base = pg_base_uri();
    char sep = strchr(base, '?') ? '&' : '?';
    if (!schema)
        return xasprintf("%s%cdbname=%s", base, sep, db);
    return xasprintf("%s%cdbname=%s&options=-csearch_path%%3D%s", base, sep, db, schema);
}

MAYBE_UNUSED static int setup_pg(void **state)
{
    if (setup_dir(state) != 0)
        return -1;
    PGconn *c = PQconnectdb(pg_base_uri());
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "cannot reach the test server: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    snprintf(pg_db, sizeof pg_db, "strata_unit_%d", (int)getpid());
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg_db);
    bool ok = admin_exec(c, sql);
    PQfinish(c);
    if (!ok)
        return -1;
    char *uri = pg_uri_of(pg_db, NULL);
    pg_admin = PQconnectdb(uri);
    free(uri);
    if (PQstatus(pg_admin) != CONNECTION_OK)
        return -1;
    pg_mode = true;
    return 0;
}

MAYBE_UNUSED static int teardown_pg(void **state)
{
    PQfinish(pg_admin);
    pg_admin = NULL;
    PGconn *c = PQconnectdb(pg_base_uri());
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_db);
    bool ok = admin_exec(c, sql);
    PQfinish(c);
    pg_mode = false;
    return teardown_dir(state) == 0 && ok ? 0 : -1;
}

/* A name for a new store, not created: a file in the temp folder, or on
 * PostgreSQL a new empty schema of the run's database. */
MAYBE_UNUSED static char *fresh_path(const char *name)
{
    if (!pg_mode)
        return xasprintf("%s/%d-%s", tmpdir, ++file_counter, name);
    char schema[32], sql[64];
    snprintf(schema, sizeof schema, "s%d", ++file_counter);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    if (!admin_exec(pg_admin, sql))
        abort();
    return pg_uri_of(pg_db, schema);
}

MAYBE_UNUSED static struct store *open_ok(const char *path)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (!s) {
        char *shown = store_display_path(path);
        fprintf(stderr, "store_open(%s): %s\n", shown, e.msg);
        free(shown);
        abort();
    }
    return s;
}

/* A new store that no other handle needs: in memory on SQLite. */
MAYBE_UNUSED static struct store *open_fresh(void)
{
    if (!pg_mode)
        return open_ok(":memory:");
    char *path = fresh_path("db");
    struct store *s = open_ok(path);
    free(path);
    return s;
}

/* Helpers the store's tests share (cmocka.h included before this header). */

MAYBE_UNUSED static struct new_event ev(const char *type, const char *data)
{
    struct new_event n = {type, 1, NULL, data, NULL};
    return n;
}

/* Appends one event; fails the test on error. Returns its position. */
MAYBE_UNUSED static int64_t append1(struct store *s, const char *stream, const char *type,
                                    const char *data, const char *time)
{
    struct new_event n = {type, 1, time, data, NULL};
    struct event_list out;
    event_list_init(&out);
    err e = {0};
    int rc = store_append(s, stream, STORE_ANY_VERSION, NULL, &n, 1, &out, &e);
    if (rc != ST_OK)
        fail_msg("append to %s: %s", stream, e.msg);
    int64_t pos = out.items[0].position;
    event_list_done(&out);
    return pos;
}

MAYBE_UNUSED static int64_t head_of(struct store *s)
{
    int64_t h = -1;
    err e = {0};
    assert_int_equal(store_head(s, &h, &e), ST_OK);
    return h;
}

MAYBE_UNUSED static int64_t version_of(struct store *s, const char *stream, int64_t max_position)
{
    int64_t v = -1;
    err e = {0};
    assert_int_equal(store_stream_version(s, stream, max_position, &v, &e), ST_OK);
    return v;
}

#endif
