/* test_store_sqlite.c: what only the SQLite store has (the shared contract is
 * tested on both backends by test_store.c): a full disk in the middle of a batch,
 * the errors a user sees when opening a file that is not a store, and the file as
 * others see it (its schema, WAL, application id and format version). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/store.h"
#include "core/store_migrate.h"
#include "core/store_sqlite.h"
#include "store_backends.h"

/* One append of one event in an open transaction, expecting `expected`. */
static int tx_append(struct store *s, const char *stream, int64_t expected)
{
    struct new_event n = ev("Deposited", "{}");
    err e = {0};
    return store_append(s, stream, expected, NULL, &n, 1, NULL, &e);
}

/* A commit keeps its streams (id, version) for the handle's next transaction;
 * anything that changed the file in between, here or in another process, must
 * make that transaction read them again, or a stale version would let an append
 * with an outdated expected version through. */
static void test_kept_stream_cache(void **state)
{
    char *path = fresh_path("kept.db");
    struct store *a = open_ok(path), *b = open_ok(path);
    err e = {0};

    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", STORE_ANY_VERSION), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 1), ST_OK);
    assert_int_equal(store_commit(a, &e), ST_OK);

    /* Unchanged file: the kept version is right. */
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 1), ST_CONFLICT);
    assert_int_equal(tx_append(a, "Account-A", 2), ST_OK);
    assert_int_equal(store_commit(a, &e), ST_OK);

    /* Another connection appends: a's next transaction must see version 4. */
    append1(b, "Account-A", "Deposited", "{}", NULL);
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 3), ST_CONFLICT);
    store_rollback(a);
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 4), ST_OK);
    assert_int_equal(store_commit(a, &e), ST_OK);

    /* An append of a's own outside a transaction (version 6). */
    append1(a, "Account-A", "Deposited", "{}", NULL);
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 5), ST_CONFLICT);
    store_rollback(a);
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 6), ST_OK);
    assert_int_equal(store_commit(a, &e), ST_OK);

    /* A rolled-back append leaves nothing behind in the cache. */
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 7), ST_OK);
    store_rollback(a);
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 8), ST_CONFLICT);
    store_rollback(a);
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 7), ST_OK);
    assert_int_equal(tx_append(a, "Account-B", STORE_NO_STREAM), ST_OK);
    assert_int_equal(store_commit(a, &e), ST_OK);

    /* Another connection's write inside its own transaction, to both streams. */
    assert_int_equal(store_begin(b, &e), ST_OK);
    assert_int_equal(tx_append(b, "Account-A", 8), ST_OK);
    assert_int_equal(tx_append(b, "Account-B", 1), ST_OK);
    assert_int_equal(store_commit(b, &e), ST_OK);
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-B", STORE_NO_STREAM), ST_CONFLICT);
    store_rollback(a);
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Account-A", 9), ST_OK);
    assert_int_equal(tx_append(a, "Account-B", 2), ST_OK);
    assert_int_equal(store_commit(a, &e), ST_OK);

    /* Enough streams in one transaction to grow the table (the dirty list is
     * rebuilt then); each streams row must be written at commit. */
    assert_int_equal(store_begin(a, &e), ST_OK);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 300; i++) {
            char name[32];
            snprintf(name, sizeof name, "Many-%d", i);
            assert_int_equal(tx_append(a, name, round), ST_OK);
        }
    }
    assert_int_equal(store_commit(a, &e), ST_OK);
    assert_int_equal(version_of(b, "Many-0", 0), 2);
    assert_int_equal(version_of(b, "Many-150", 0), 2);
    assert_int_equal(version_of(b, "Many-299", 0), 2);
    /* A small transaction on the large kept table writes its one row. */
    assert_int_equal(store_begin(a, &e), ST_OK);
    assert_int_equal(tx_append(a, "Many-7", 2), ST_OK);
    assert_int_equal(store_commit(a, &e), ST_OK);
    assert_int_equal(version_of(b, "Many-7", 0), 3);

    assert_int_equal(version_of(a, "Account-A", 0), 10);
    assert_int_equal(version_of(b, "Account-A", 0), 10);
    assert_int_equal(version_of(b, "Account-B", 0), 3);
    assert_int_equal(head_of(b), 614);
    store_close(a);
    store_close(b);
    free(path);
}

/* Makes the next page allocation fail with SQLITE_FULL, like a full disk. */
static void limit_pages(struct store *s, int extra)
{
    sqlite3 *db = store_sqlite_db(s);
    assert_non_null(db);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long pages = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    char sql[80];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", pages + extra);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_atomic_batch(void **state)
{
    char *path = fresh_path("full.db");
    struct store *s = open_ok(path);
    append1(s, "Account-A", "Opened", "{}", NULL);
    append1(s, "Account-B", "Opened", "{}", NULL);

    /* A batch of 40 events of 3 KB each cannot fit in one more page: the failure
     * comes after some events were inserted, and none of them may stay. */
    char *big = xmalloc(3003);
    memcpy(big, "{\"x\":\"", 6);
    memset(big + 6, 'a', 2994);
    memcpy(big + 3000, "\"}", 3);
    struct new_event batch[40];
    for (int i = 0; i < 40; i++)
        batch[i] = ev("Deposited", big);
    limit_pages(s, 10);
    struct event_list out;
    event_list_init(&out);
    err e = {0};
    int changes = sqlite3_total_changes(store_sqlite_db(s));
    int rc = store_append(s, "Account-A", 1, "cmd-full", batch, 40, &out, &e);
    assert_int_equal(rc, ST_ERR);
    /* Some events of the batch were inserted before the failure (and rolled back). */
    assert_true(sqlite3_total_changes(store_sqlite_db(s)) - changes >= 3);
    assert_non_null(strstr(e.msg, "the disk is full"));
    assert_non_null(strstr(e.msg, path));
    assert_int_equal(out.len, 0);
    assert_int_equal(head_of(s), 2);
    assert_int_equal(version_of(s, "Account-A", 0), 1);
    assert_int_equal(store_command_events(s, "cmd-full", &out, &e), ST_NOT_FOUND);

    /* Inside an explicit transaction the whole transaction goes, and says so. */
    limit_pages(s, 100000);
    assert_int_equal(store_begin(s, &e), ST_OK);
    append1(s, "Account-C", "Opened", "{}", NULL);
    limit_pages(s, 10);
    assert_int_equal(store_append(s, "Account-A", 1, NULL, batch, 40, NULL, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "the whole transaction was rolled back"));
    assert_int_equal(store_append(s, "Account-A", 1, NULL, batch, 1, NULL, &e), ST_ERR);
    assert_int_equal(store_commit(s, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "rolled back"));
    store_rollback(s);
    assert_int_equal(head_of(s), 2);
    assert_int_equal(version_of(s, "Account-C", 0), 0);

    /* With room again, appends continue without a gap in positions. */
    limit_pages(s, 100000);
    assert_int_equal(store_append(s, "Account-A", 1, "cmd-full", batch, 40, &out, &e), ST_OK);
    assert_int_equal(out.items[0].position, 3);
    assert_int_equal(out.items[39].position, 42);
    assert_int_equal(out.items[39].version, 41);
    event_list_done(&out);
    store_close(s);

    /* An invalid event in the middle of a batch: nothing of the batch is kept. */
    s = open_ok(path);
    batch[20].type = NULL;
    assert_int_equal(store_append(s, "Account-A", STORE_ANY_VERSION, NULL, batch, 40, NULL, &e),
                     ST_USAGE);
    assert_string_equal(e.msg, "event 21 of the append to Account-A has no type");
    assert_int_equal(head_of(s), 42);
    store_close(s);
    free(big);
    free(path);
}

/* ---- opening things that are not (our) stores ---- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void sql_on_file(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static void expect_open_error(const char *path, const struct store_options *opt, const char *want)
{
    err e = {0};
    struct store *s = store_open(path, opt, &e);
    if (s) {
        store_close(s);
        fail_msg("%s opened, expected: %s", path, want);
    }
    assert_int_equal(e.code, ST_ERR);
    assert_string_equal(e.msg, want);
}

static void test_open_errors(void **state)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    char want[600];

    char *text = fresh_path("notes.txt");
    write_text(text, "{\"position\":1}\nhello, this is not a database at all\n");
    snprintf(want, sizeof want, "%s is not a Strata store (not an SQLite database)", text);
    expect_open_error(text, &opt, want);

    char *tiny = fresh_path("tiny.db");
    write_text(tiny, "SQLite");
    snprintf(want, sizeof want, "%s is not a Strata store (not an SQLite database)", tiny);
    expect_open_error(tiny, &opt, want);

    char *other = fresh_path("other.db");
    sql_on_file(other, "CREATE TABLE people(name TEXT); INSERT INTO people VALUES('x');");
    snprintf(want, sizeof want, "%s is an SQLite database but not a Strata store", other);
    expect_open_error(other, &opt, want);

    char *otherapp = fresh_path("otherapp.db");
    sql_on_file(otherapp, "PRAGMA application_id = 42; CREATE TABLE t(x);");
    snprintf(want, sizeof want, "%s is an SQLite database but not a Strata store", otherapp);
    expect_open_error(otherapp, &opt, want);

    char *newer = fresh_path("newer.db");
    store_close(open_ok(newer));
    char newer_sql[64];
    snprintf(newer_sql, sizeof newer_sql, "PRAGMA user_version = %d;", store_format_latest() + 1);
    sql_on_file(newer, newer_sql);
    snprintf(want, sizeof want,
             "%s was written by a newer Strata (store format %d; this build reads up to %d)", newer,
             store_format_latest() + 1, store_format_latest());
    expect_open_error(newer, &opt, want);

    char *missing = fresh_path("missing.db");
    struct store_options no_create = opt;
    no_create.create = false;
    snprintf(want, sizeof want, "no such store: %s", missing);
    expect_open_error(missing, &no_create, want);
    assert_int_equal(access(missing, F_OK), -1); /* and nothing was created */
    struct store_options ro = opt;
    ro.read_only = true;
    expect_open_error(missing, &ro, want);

    char *empty = fresh_path("empty.db");
    write_text(empty, "");
    snprintf(want, sizeof want, "%s is an empty SQLite database, not a Strata store", empty);
    expect_open_error(empty, &no_create, want);
    store_close(open_ok(empty)); /* with create, an empty file becomes a store */

    err e = {0};
    assert_null(store_open("", &opt, &e));
    assert_int_equal(e.code, ST_USAGE);
    assert_null(store_open(tmpdir, &opt, &e));
    assert_non_null(strstr(e.msg, "is a directory"));

    free(text);
    free(tiny);
    free(other);
    free(otherapp);
    free(newer);
    free(missing);
    free(empty);
}

/* ---- the file as others see it ---- */

static int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_schema(void **state)
{
    char *path = fresh_path("schema.db");
    struct store *s = open_ok(path);
    append1(s, "Account-B", "Opened", "{\"a\":1}", "2026-11-27T10:00:00.123Z");
    append1(s, "Account-A", "Opened", "{\"a\":2}", "2026-11-27T10:00:00.124Z");
    append1(s, "Account-B", "Closed", "{}", "2026-11-27T10:00:00.125Z");
    sqlite3 *db = store_sqlite_db(s);
    assert_non_null(db);
    assert_int_equal(db_int(db, "PRAGMA user_version"), store_format_latest());
    assert_int_equal(db_int(db, "PRAGMA application_id"), 0x53545241);
    assert_int_equal(db_int(db, "SELECT CAST(value AS INTEGER) FROM strata_meta WHERE key = "
                                "'format_version'"),
                     store_format_latest());
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);

    static const char *const cols[] = {"position", "stream", "version", "type",
                                       "schema",   "time",   "data",    "meta"};
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM events", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_column_count(st), 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(sqlite3_column_name(st, i), cols[i]);
    int64_t want = 1;
    while (sqlite3_step(st) == SQLITE_ROW)
        assert_int_equal(sqlite3_column_int64(st, 0), want++);
    assert_int_equal(want, 4);
    sqlite3_finalize(st);
    assert_int_equal(db_int(db, "SELECT version FROM events WHERE stream = 'Account-B' AND "
                                "type = 'Closed'"),
                     2);
    assert_null(store_sqlite_db(NULL));
    store_close(s);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_batch),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_kept_stream_cache),
    };
    return cmocka_run_group_tests_name("store_sqlite", tests, setup_dir, teardown_dir);
}
