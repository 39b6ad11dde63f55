/* store_backends.h: the stores the store's tests run against, for the test files
 * that include it (test_store.c, test_store_sqlite.c, test_store_pg.c,
 * test_store_gap.c): SQLite files in a private temp folder, and, when
 * STRATA_TEST_PG_URI names a PostgreSQL server (tests/run.sh starts one with
 * scripts/pg-cluster.sh), a database of its own on it for the run, dropped at the
 * end, with a fresh schema per store (the URI's options set search_path): a
 * CREATE DATABASE per store would cost a checkpoint per store to drop again.
 * The same test functions run against either: that is how both backends are held
 * to one contract. The PostgreSQL database and schemas: test_pg_fixture.h. */
#ifndef STRATA_TEST_STORE_BACKENDS_H
#define STRATA_TEST_STORE_BACKENDS_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store.h"
#include "test_pg_fixture.h"

#define MAYBE_UNUSED __attribute__((unused))

static char tmpdir[256];
static int file_counter;
static bool pg_mode;     /* the tests now run against PostgreSQL */
static PGconn *pg_admin; /* in the run's database: creates the schemas */
static char pg_db[48];   /* the run's database */

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

MAYBE_UNUSED static int setup_pg(void **state)
{
    if (setup_dir(state) != 0)
        return -1;
    if (pg_run_db_create("strata_unit", pg_db, sizeof pg_db, &pg_admin) != 0)
        return -1;
    pg_mode = true;
    return 0;
}

MAYBE_UNUSED static int teardown_pg(void **state)
{
    bool ok = pg_run_db_drop(pg_db, &pg_admin);
    pg_mode = false;
    return teardown_dir(state) == 0 && ok ? 0 : -1;
}

/* A name for a new store, not created: a file in the temp folder, or on
 * PostgreSQL a new empty schema of the run's database. */
MAYBE_UNUSED static char *fresh_path(const char *name)
{
    if (!pg_mode)
        return xasprintf("%s/%d-%s", tmpdir, ++file_counter, name);
    return pg_fresh_schema(pg_admin, pg_db, &file_counter);
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
