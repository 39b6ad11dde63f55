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
#include "core/store_migrate.h"
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
    char sql[200], msg[120];
    int latest = store_format_latest();
    snprintf(sql, sizeof sql,
             "UPDATE s%d.strata_meta SET value = '%d' WHERE key = 'format_version'", file_counter,
             latest + 1);
    admin(sql);
    snprintf(msg, sizeof msg,
             "was written by a newer Strata (store format %d; this build reads up to %d)",
             latest + 1, latest);
    expect_open_error(path, true, msg);
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
    assert_int_equal(latest, store_format_latest()); /* the same numbers as SQLite */
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
        char want[16];
        snprintf(want, sizeof want, "%d", store_format_latest());
        assert_string_equal(v, want);
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

/* The text of SELECT sql's single value, on the admin connection ("" for none). */
static char *admin_value(const char *sql)
{
    PGresult *r = PQexec(pg_admin, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg_admin));
    char *v = xstrdup(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return v;
}

static void want_value(const char *want, const char *fmt, ...)
{
    char sql[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *got = admin_value(sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s gave '%s', want '%s'", sql, got, want);
    free(got);
}

static struct store_cell cell_text(const char *t)
{
    struct store_cell c = {CELL_TEXT, 0, 0, t, strlen(t)};
    return c;
}

static struct store_cell cell_int(int64_t i)
{
    struct store_cell c = {CELL_INT, i, 0, NULL, 0};
    return c;
}

/* copy_put and clear_times, what `strata copy` writes besides appends: a row of
 * each table a copy carries arrives as it was (quotes, backslashes and NULLs
 * too); a row whose key is there already is left as it is; a table not in
 * store_copy_tables is refused; clear_times removes exactly the append times in
 * [from, to]; a read-only store refuses. */
static void test_pg_copy_ops(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    char *path = fresh_path("copy");
    struct store *s = open_ok(path);
    int sc = file_counter;
    for (int i = 0; i < 4; i++)
        append1(s, "A-1", "Opened", "{}", NULL); /* append times at 1, 2, 3, 4 */
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    const char *odd = "it's \"odd\" \\ here";
    struct store_cell skip[4] = {cell_text("AccountList"), cell_int(3), cell_text(odd),
                                 cell_text("2026-01-01T00:00:00.000Z")};
    assert_int_equal(store_copy_put(s, "projection_skips", skip, 4, &e), ST_OK);
    skip[2] = cell_text("another reason");
    assert_int_equal(store_copy_put(s, "projection_skips", skip, 4, &e), ST_OK); /* kept */
    struct store_cell br[3] = {cell_text("what-if"), cell_int(2),
                               cell_text("2026-01-02T00:00:00.000Z")};
    assert_int_equal(store_copy_put(s, "branches", br, 3, &e), ST_OK);
    struct store_cell be[10] = {cell_text("what-if"),
                                cell_int(3),
                                cell_text("A-1"),
                                cell_int(3),
                                cell_text("Closed"),
                                cell_int(2),
                                cell_text("2026-01-03T00:00:00.000Z"),
                                cell_text("{\"why\":\"a \\\"quote\\\"\"}"),
                                {CELL_NULL, 0, 0, NULL, 0},
                                {CELL_NULL, 0, 0, NULL, 0}};
    assert_int_equal(store_copy_put(s, "branch_events", be, 10, &e), ST_OK);
    /* The copy's own appends' times go, the source's are put. */
    assert_int_equal(store_clear_times(s, 2, 3, &e), ST_OK);
    struct store_cell at[2] = {cell_int(2), cell_int(1764547200000)};
    assert_int_equal(store_copy_put(s, "append_times", at, 2, &e), ST_OK);
    err_clear(&e);
    assert_int_equal(store_copy_put(s, "events", at, 2, &e), ST_USAGE);
    assert_non_null(strstr(e.msg, "events is not a table a copy carries"));
    assert_int_equal(store_commit(s, &e), ST_OK);

    want_value(odd, "SELECT reason FROM s%d.projection_skips WHERE position = 3", sc);
    want_value("1", "SELECT count(*) FROM s%d.projection_skips", sc);
    want_value("2|2026-01-02T00:00:00.000Z",
               "SELECT fork_position || '|' || created_at FROM s%d.branches", sc);
    want_value("{\"why\":\"a \\\"quote\\\"\"}|true|true|2",
               "SELECT data || '|' || (meta IS NULL) || '|' || (command_id IS NULL) || '|' || "
               "schema FROM s%d.branch_events WHERE branch = 'what-if' AND position = 3",
               sc);
    want_value("1,2,4",
               "SELECT string_agg(first_position::text, ',' ORDER BY first_position) "
               "FROM s%d.append_times",
               sc);
    want_value("1764547200000",
               "SELECT appended_at FROM s%d.append_times WHERE "
               "first_position = 2",
               sc);
    store_close(s);

    struct store_options ro = STORE_OPTIONS_DEFAULT;
    ro.read_only = true;
    s = store_open(path, &ro, &e);
    assert_non_null(s);
    err_clear(&e);
    assert_int_not_equal(store_copy_put(s, "append_times", at, 2, &e), ST_OK);
    assert_non_null(strstr(e.msg, "read-only"));
    store_close(s);
    free(path);
}

/* append1, saying which line failed. */
static int64_t append_at(struct store *s, const char *stream, const char *type, int line)
{
    struct new_event n = {type, 1, NULL, "{}", NULL};
    struct event_list out;
    event_list_init(&out);
    err e = {0};
    if (store_append(s, stream, STORE_ANY_VERSION, NULL, &n, 1, &out, &e) != ST_OK)
        fail_msg("line %d: append to %s: %s", line, stream, e.msg);
    int64_t pos = out.items[0].position;
    event_list_done(&out);
    return pos;
}
#define APPEND_AT(s, stream, type, data, time) append_at(s, stream, type, __LINE__)

/* Waits until the server has ended the session with process id pid. */
static void terminate(int pid)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
    free(admin_value(sql));
    for (int i = 0; i < 200; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid);
        char *n = admin_value(sql);
        bool gone = strcmp(n, "0") == 0;
        free(n);
        if (gone)
            return;
        usleep(10000);
    }
    fail_msg("session %d did not end", pid);
}

/* A session ended by the server between operations (a restart, an administrator)
 * is noticed before the next statement and opened again: the next append, read
 * and begin work, on a new session. Inside a transaction the loss is an error that
 * says so, and the next operation after the rollback works again. */
static void test_pg_reconnect(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    struct store *s = open_fresh();
    APPEND_AT(s, "A-1", "Opened", "{}", NULL);
    int64_t was = store_session(s);
    assert_true(was > 0);
    terminate((int)was);
    assert_int_equal(APPEND_AT(s, "A-1", "Deposited", "{}", NULL), 2);
    assert_true(store_session(s) != was);

    terminate((int)store_session(s));
    assert_int_equal(head_of(s), 2);

    terminate((int)store_session(s));
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    APPEND_AT(s, "A-1", "Deposited", "{}", NULL);
    assert_int_equal(store_commit(s, &e), ST_OK);
    assert_int_equal(head_of(s), 3);

    assert_int_equal(store_begin(s, &e), ST_OK);
    terminate((int)store_session(s));
    struct new_event n = ev("Deposited", "{}");
    assert_int_not_equal(store_append(s, "A-1", STORE_ANY_VERSION, NULL, &n, 1, NULL, &e), ST_OK);
    assert_non_null(strstr(e.msg, "connection"));
    store_rollback(s);
    assert_int_equal(APPEND_AT(s, "A-1", "Deposited", "{}", NULL), 4);
    store_close(s);
}

/* A transaction's appends are held and sent in batches (store_pg_batch.c): reads
 * inside the transaction see them, a conflict is still found at once, a rollback
 * leaves nothing, and a commit keeps every byte (quotes, backslashes, no meta). */
static void test_pg_batched_tx(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    struct store *s = open_fresh();
    err e = {0};
    const char *data = "{\"s\":\"a \\\"b\\\" \\\\ c\"}";
    for (int round = 0; round < 2; round++) {
        assert_int_equal(store_begin(s, &e), ST_OK);
        for (int i = 0; i < 2500; i++) {
            char stream[16];
            snprintf(stream, sizeof stream, "A-%d", i % 3);
            struct new_event n = {"Deposited", 1, NULL, data, i % 2 ? "{\"m\":1}" : NULL};
            assert_int_equal(store_append(s, stream, STORE_ANY_VERSION, NULL, &n, 1, NULL, &e),
                             ST_OK);
        }
        struct event_list page;
        event_list_init(&page);
        assert_int_equal(store_read_page(s, NULL, 2490, false, 100, &page, &e), ST_OK);
        assert_int_equal(page.len, 10);
        assert_string_equal(page.items[9].data, data);
        event_list_done(&page);
        assert_int_equal(version_of(s, "A-0", 0), 834);
        struct new_event n = ev("Deposited", "{}");
        assert_int_equal(store_append(s, "A-0", 3, NULL, &n, 1, NULL, &e), ST_CONFLICT);
        if (round == 0) {
            store_rollback(s);
            assert_int_equal(head_of(s), 0);
        } else {
            assert_int_equal(store_commit(s, &e), ST_OK);
        }
    }
    assert_int_equal(head_of(s), 2500);
    struct event_list out;
    event_list_init(&out);
    assert_int_equal(store_read_stream(s, "A-1", 833, 0, 10, &out, &e), ST_OK);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.items[0].position, 2498);
    assert_string_equal(out.items[0].data, data);
    assert_string_equal(out.items[0].meta, "{\"m\":1}");
    event_list_done(&out);
    assert_int_equal(version_of(s, "A-2", 0), 833);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_and_redaction), cmocka_unit_test(test_pg_open),
        cmocka_unit_test(test_pg_upgrade),          cmocka_unit_test(test_pg_copy_ops),
        cmocka_unit_test(test_pg_reconnect),        cmocka_unit_test(test_pg_batched_tx),
    };
    if (pg_base_uri())
        return cmocka_run_group_tests_name("store_pg", tests, setup_pg, teardown_pg);
    printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL cases skip\n");
    return cmocka_run_group_tests_name("store_pg", tests, setup_dir, teardown_dir);
}
