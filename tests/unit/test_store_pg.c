/* test_store_pg.c: what only the PostgreSQL store has (the shared contract is
 * tested on both backends by test_store.c): which paths name it and how they are
 * shown without their passwords (always), and, when STRATA_TEST_PG_URI is set,
 * what opening a database that is not (or not yet) a store says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "core/store_pg.h"
#include "store_backends.h"

static void shown_as(const char *path, const char *want)
{
    char *got = store_display_path(path);
    if (strcmp(got, want) != 0)
        fail_msg("store_display_path(%s) = %s, want %s", path, got, want);
    free(got);
}

static void test_kinds_and_redaction(void **state)
{
    assert_int_equal(store_kind_of("bank.db"), STORE_SQLITE);
    assert_int_equal(store_kind_of(":memory:"), STORE_SQLITE);
    assert_int_equal(store_kind_of("./postgresql:x"), STORE_SQLITE);
    assert_int_equal(store_kind_of("postgresql://h/db"), STORE_POSTGRESQL);
    assert_int_equal(store_kind_of("postgres://h/db"), STORE_POSTGRESQL);
    assert_int_equal(store_kind_of("postgresql:host=/run dbname=x"), STORE_POSTGRESQL);

    shown_as("/tmp/bank.db", "/tmp/bank.db");
    shown_as("postgresql://h:5432/db?sslmode=require", "postgresql://h:5432/db?sslmode=require");
    shown_as("postgresql://ann@h/db", "postgresql://ann@h/db");
    shown_as("postgresql://ann:s3cret@h:5432/db?sslmode=verify-full",
             "postgresql://ann:***@h:5432/db?sslmode=verify-full");
    shown_as("postgres://ann:p%40ss@h/db", "postgres://ann:***@h/db");
    shown_as("postgresql://h/db?user=ann&password=s3cret&sslmode=require",
             "postgresql://h/db?user=ann&password=***&sslmode=require");
    shown_as("postgresql://h/db?pass%77ord=s3cret", "postgresql://h/db?pass%77ord=***");
    shown_as("postgresql://h/db?sslpassword=k3y", "postgresql://h/db?sslpassword=***");
    shown_as("postgresql://ann:s3cret@/db?host=/run/pg", "postgresql://ann:***@/db?host=/run/pg");
    shown_as("postgresql:host=h dbname=db password=s3cret sslmode=require",
             "postgresql:host=h dbname=db password=*** sslmode=require");
    shown_as("postgresql:password = 'a b\\' c' host=h", "postgresql:password = *** host=h");
    shown_as("postgres:host=h password=s3cret", "postgres:host=h password=***");
}

static void expect_open_error(const char *path, bool create, const char *want_part)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = create;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (s) {
        store_close(s);
        fail_msg("opened, expected: %s", want_part);
    }
    if (!strstr(e.msg, want_part))
        fail_msg("got '%s', expected to find '%s'", e.msg, want_part);
}

static void admin(const char *sql)
{
    PGresult *r = PQexec(pg_admin, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg_admin));
    PQclear(r);
}

static void test_pg_open(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    /* An empty schema: no store unless asked to create one. */
    char *path = fresh_path("x");
    expect_open_error(path, false, "no such store: ");
    expect_open_error(path, false, "(the database has no Strata tables)");
    struct store *s = open_ok(path);
    int64_t head = -1;
    err e = {0};
    assert_int_equal(store_head(s, &head, &e), ST_OK);
    assert_int_equal(head, 0);
    assert_string_equal(s->ops->name, "postgresql");
    assert_null(strstr(s->path, "password"));
    store_close(s);
    /* Opening again finds the store; a second creator sees it under the lock. */
    store_close(open_ok(path));

    /* A newer format is refused plainly. */
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE s%d.strata_meta SET value = '7' WHERE key = 'format_version'",
             file_counter);
    admin(sql);
    expect_open_error(path, true,
                      "was written by a newer Strata (store format 7; this build "
                      "reads up to 6)");
    free(path);

    /* Tables of something else under our names. */
    path = fresh_path("y");
    snprintf(sql, sizeof sql, "CREATE TABLE s%d.events(x int)", file_counter);
    admin(sql);
    expect_open_error(path, true,
                      "is a PostgreSQL database but not a Strata store (it has "
                      "tables named events but no strata_meta)");
    free(path);
}

/* A store of each earlier format, built from that format's steps (with an event
 * and a command id in it), is upgraded in place when opened for writing: every
 * later table is there, the format is the latest, and what it held is kept. Opened
 * read-only it is read as it is. */
static void test_pg_upgrade(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    int latest = store_pg_format_latest();
    assert_int_equal(latest, 6);
    for (int k = 1; k < latest; k++) {
        char *path = fresh_path("old");
        char sql[400];
        snprintf(sql, sizeof sql, "SET search_path = s%d", file_counter);
        admin(sql);
        for (int i = 1; i <= k; i++)
            admin(store_pg_format_step(i));
        snprintf(sql, sizeof sql,
                 "INSERT INTO strata_meta VALUES('format_version', '%d');"
                 "INSERT INTO streams(name, version, last_position) VALUES('A-1', 1, 1);"
                 "INSERT INTO event_log VALUES(1, 1, 1, 'Opened', 1, "
                 "'2026-01-01T00:00:00.000Z', '{\"n\":1}', NULL);"
                 "INSERT INTO commands VALUES('c1', 1, 1, 1); SET search_path = DEFAULT",
                 k);
        admin(sql);

        /* Read-only: read as it is, no table added. */
        struct store_options ro = STORE_OPTIONS_DEFAULT;
        ro.read_only = true;
        err e = {0};
        struct store *s = store_open(path, &ro, &e);
        assert_non_null(s);
        assert_int_equal(head_of(s), 1);
        int64_t ms = 0;
        assert_int_equal(store_append_time(s, 1, &ms, &e), ST_NOT_FOUND);
        store_close(s);

        s = open_ok(path);
        char *v = NULL;
        assert_int_equal(store_meta_get(s, "format_version", &v, &e), ST_OK);
        assert_string_equal(v, "6");
        free(v);
        assert_int_equal(head_of(s), 1);
        struct event_list out;
        event_list_init(&out);
        assert_int_equal(store_command_events(s, "c1", &out, &e), ST_OK);
        assert_int_equal(out.len, 1);
        assert_string_equal(out.items[0].data, "{\"n\":1}");
        event_list_done(&out);
        /* The later formats' tables work: an append records its time, an import
         * identity is claimed once. */
        int64_t pos = append1(s, "A-1", "Deposited", "{}", NULL);
        assert_int_equal(pos, 2);
        assert_int_equal(store_append_time(s, 2, &ms, &e), ST_OK);
        unsigned char id[16] = {(unsigned char)k};
        bool fresh = false;
        assert_int_equal(store_ledger_claim(s, id, 2, &fresh, &e), ST_OK);
        assert_true(fresh);
        store_close(s);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM s%d.projection_skips, s%d.branches, s%d.branch_events",
                 file_counter, file_counter, file_counter);
        PGresult *r = PQexec(pg_admin, sql);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        PQclear(r);
        free(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_and_redaction),
        cmocka_unit_test(test_pg_open),
        cmocka_unit_test(test_pg_upgrade),
    };
    if (pg_base_uri())
        return cmocka_run_group_tests_name("store_pg", tests, setup_pg, teardown_pg);
    printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL cases skip\n");
    return cmocka_run_group_tests_name("store_pg", tests, setup_dir, teardown_dir);
}
