/* test_store_migrate.c: unit tests for the store's format migrations
 * (core/store_migrate.h and their use when a store is opened): a store of each
 * earlier format, built with the migrations as they shipped, is upgraded in place
 * with its events intact; read-only it is read as it is and left untouched; two
 * processes upgrading one store at once both succeed and upgrade it once; a
 * migration that fails leaves the store as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/store.h"
#include "core/store_migrate.h"
#include "core/store_sqlite.h"

static char tmpdir[256];
static int file_counter;

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/strata-migrate-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *new_path(const char *name)
{
    return xasprintf("%s/%d-%s", tmpdir, ++file_counter, name);
}

static int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t file_int(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    int64_t v = db_int(db, sql);
    sqlite3_close(db);
    return v;
}

/* A store of `format`, made as a build of that format made it (the migrations up
 * to it, in WAL mode), holding three events written the way format 1 writes them. */
static char *old_store(int format, const char *extra_sql)
{
    char *path = new_path("old.db");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL; BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    err e = {0};
    if (store_migrate_sqlite(db, 0, format, &e) != ST_OK)
        fail_msg("building format %d: %s", format, e.msg);
    const char *events =
        "INSERT INTO streams(id, name, version, last_position) VALUES(1, 'Account-A', 2, 3),"
        " (2, 'Account-B', 1, 2);"
        "INSERT INTO event_log VALUES(1, 1, 1, 'Opened', 1, '2026-11-27T10:00:00.000Z',"
        " '{\"owner\":\"Alice\"}', '{\"command\":\"Open\"}');"
        "INSERT INTO event_log VALUES(2, 2, 1, 'Opened', 1, '2026-11-27T10:00:01.000Z',"
        " '{\"owner\":\"Bob\"}', NULL);"
        "INSERT INTO event_log VALUES(3, 1, 2, 'Deposited', 1, '2026-11-27T10:00:02.000Z',"
        " '{\"amount\":5}', NULL);";
    assert_int_equal(sqlite3_exec(db, events, NULL, NULL, NULL), SQLITE_OK);
    if (extra_sql)
        assert_int_equal(sqlite3_exec(db, extra_sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(file_int(path, "PRAGMA user_version"), format);
    return path;
}

/* Opens the store of `format` at path for writing, which upgrades it. */
static struct store *open_upgraded(const char *path, int format)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        fail_msg("opening format %d: %s", format, e.msg);
    return s;
}

static void expect_events(struct store *s, int64_t n)
{
    struct event_list l;
    event_list_init(&l);
    struct event_filter f = {0};
    err e = {0};
    assert_int_equal(store_read_page(s, &f, 0, false, 100, &l, &e), ST_OK);
    assert_int_equal((int64_t)l.len, n);
    assert_string_equal(l.items[0].stream, "Account-A");
    assert_string_equal(l.items[0].data, "{\"owner\":\"Alice\"}");
    assert_string_equal(l.items[0].meta, "{\"command\":\"Open\"}");
    assert_string_equal(l.items[1].stream, "Account-B");
    assert_null(l.items[1].meta);
    assert_int_equal(l.items[2].version, 2);
    assert_string_equal(l.items[2].data, "{\"amount\":5}");
    event_list_done(&l);
}

static int64_t append_one(struct store *s, const char *stream)
{
    struct new_event n = {"Deposited", 1, NULL, "{\"amount\":1}", NULL};
    struct event_list out;
    event_list_init(&out);
    err e = {0};
    if (store_append(s, stream, STORE_ANY_VERSION, NULL, &n, 1, &out, &e) != ST_OK)
        fail_msg("append: %s", e.msg);
    int64_t p = out.items[0].position;
    event_list_done(&out);
    return p;
}

static void test_list_is_numbered(void **state)
{
    assert_true(store_nmigrations >= 2);
    assert_int_equal(store_format_latest(), store_nmigrations);
    for (int i = 0; i < store_nmigrations; i++) {
        assert_int_equal(store_migrations[i].to, i + 1);
        assert_non_null(store_migrations[i].name);
        assert_true(store_migrations[i].sqlite_sql || store_migrations[i].sqlite_fn);
    }
    /* Format 1 is the first release's schema, kept as it was. */
    assert_non_null(strstr(store_migrations[0].sqlite_sql, "CREATE TABLE event_log(position"));
    assert_false(store_format_readable(0));
    assert_true(store_format_readable(store_format_latest()));
}

/* Every earlier format is upgraded in place when opened for writing. */
static void test_upgrade_each_format(void **state)
{
    for (int format = 1; format < store_format_latest(); format++) {
        char *path = old_store(format, NULL);
        struct store *s = open_upgraded(path, format);
        assert_int_equal(store_sqlite_format(s), store_format_latest());
        sqlite3 *db = store_sqlite_db(s);
        assert_int_equal(db_int(db, "PRAGMA user_version"), store_format_latest());
        assert_int_equal(db_int(db, "SELECT CAST(value AS INTEGER) FROM strata_meta WHERE key = "
                                    "'format_version'"),
                         store_format_latest());
        assert_int_equal(db_int(db, "PRAGMA application_id"), STRATA_APPLICATION_ID);
        static const char *const tables[] = {"strata_meta",      "streams",      "event_log",
                                             "events",           "commands",     "snapshots",
                                             "projection_skips", "append_times", "import_ledger",
                                             "branches",         "branch_events"};
        for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
            char sql[200];
            snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
                     tables[i]);
            if (db_int(db, sql) != 1)
                fail_msg("format %d upgraded: no %s", format, tables[i]);
        }
        expect_events(s, 3);
        assert_int_equal(append_one(s, "Account-A"), 4);
        store_close(s);
        /* Opened again, nothing more to do. */
        s = open_upgraded(path, store_format_latest());
        expect_events(s, 4);
        store_close(s);
        free(path);
    }
}

/* append_time: a store from the format before it is upgraded; its old events have
 * no append time (their lag age falls back to their own `time`), a new append has
 * one, from the clock, and a transaction of many appends writes one row. */
static void test_append_time_upgrade(void **state)
{
    int at = store_migration_number("append_time");
    assert_true(at >= 2);
    char *path = old_store(at - 1, NULL);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    assert_non_null(s);
    int64_t ms = 0;
    assert_int_equal(store_append_time(s, 2, &ms, &e), ST_NOT_FOUND);
    int64_t before = time_now_ms();
    assert_int_equal(append_one(s, "Account-A"), 4);
    assert_int_equal(store_append_time(s, 4, &ms, &e), ST_OK);
    assert_true(ms >= before && ms <= time_now_ms());
    assert_int_equal(store_append_time(s, 3, &ms, &e), ST_NOT_FOUND);
    assert_int_equal(store_begin(s, &e), ST_OK);
    assert_int_equal(append_one(s, "Account-B"), 5);
    assert_int_equal(append_one(s, "Account-A"), 6);
    assert_int_equal(store_commit(s, &e), ST_OK);
    assert_int_equal(db_int(store_sqlite_db(s), "SELECT count(*) FROM append_times"), 2);
    assert_int_equal(store_append_time(s, 6, &ms, &e), ST_OK);
    assert_true(ms >= before);
    store_close(s);
    /* Read-only, a store of the format before is read as it is: no append times. */
    char *old = old_store(at - 1, NULL);
    opt.read_only = true;
    s = store_open(old, &opt, &e);
    assert_non_null(s);
    assert_int_equal(store_append_time(s, 1, &ms, &e), ST_NOT_FOUND);
    store_close(s);
    free(old);
    free(path);
}

/* A new store is made by the same migrations, and looks the same as an upgraded one. */
static void test_new_store_is_latest(void **state)
{
    char *path = new_path("new.db");
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    assert_non_null(s);
    assert_int_equal(store_sqlite_format(s), store_format_latest());
    assert_int_equal(db_int(store_sqlite_db(s), "SELECT count(*) FROM projection_skips"), 0);
    store_close(s);
    free(path);
}

/* Read-only, an older store is read as it is and not written to. */
static void test_read_only_old_store(void **state)
{
    char *path = old_store(1, NULL);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.read_only = true;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        fail_msg("read-only open: %s", e.msg);
    assert_int_equal(store_sqlite_format(s), 1);
    expect_events(s, 3);
    store_close(s);
    assert_int_equal(file_int(path, "PRAGMA user_version"), 1);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name = "
                                    "'projection_skips'"),
                     0);
    free(path);
}

/* A migration that fails leaves the store exactly as it was. */
static void test_failed_upgrade_changes_nothing(void **state)
{
    /* A table in the way of migration 2. */
    char *path = old_store(1, "CREATE TABLE projection_skips(x);");
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    err e = {0};
    assert_null(store_open(path, &opt, &e));
    assert_non_null(strstr(e.msg, "upgrading the store to format 2 (projection_skips)"));
    assert_non_null(strstr(e.msg, path));
    assert_int_equal(file_int(path, "PRAGMA user_version"), 1);
    assert_int_equal(file_int(path, "SELECT value FROM strata_meta WHERE key = 'format_version'"),
                     1);
    free(path);
}

/* Two processes open one old store for writing at the same moment: one upgrades
 * it under the write lock, the other finds it upgraded; both then append. */
static void test_concurrent_upgrade(void **state)
{
    for (int round = 0; round < 5; round++) {
        char *path = old_store(1, NULL);
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t kids[2];
        for (int k = 0; k < 2; k++) {
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                char c;
                close(go[1]);
                if (read(go[0], &c, 1) < 0) /* start together */
                    _exit(3);
                struct store_options opt = STORE_OPTIONS_DEFAULT;
                opt.create = false;
                err e = {0};
                struct store *s = store_open(path, &opt, &e);
                if (!s) {
                    fprintf(stderr, "child: %s\n", e.msg);
                    _exit(1);
                }
                struct new_event n = {"Deposited", 1, NULL, "{\"amount\":1}", NULL};
                int rc = store_append(s, "Account-B", STORE_ANY_VERSION, NULL, &n, 1, NULL, &e);
                if (rc != ST_OK)
                    fprintf(stderr, "child: %s\n", e.msg);
                store_close(s);
                _exit(rc == ST_OK ? 0 : 2);
            }
        }
        close(go[0]);
        close(go[1]); /* EOF wakes both */
        for (int k = 0; k < 2; k++) {
            int status;
            assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        assert_int_equal(file_int(path, "PRAGMA user_version"), store_format_latest());
        assert_int_equal(file_int(path, "SELECT count(*) FROM event_log"), 5);
        assert_int_equal(file_int(path, "SELECT count(*) FROM strata_meta"), 1);
        free(path);
    }
}

/* The import ledger arrives by its own migration (its number is the lead's to
 * give, so it is looked up by name): a store of the format just before it is
 * upgraded in place, starts with an empty ledger, and records claims once. */
static void test_ledger_from_previous_format(void **state)
{
    int ledger = 0;
    for (int i = 0; i < store_nmigrations; i++)
        if (strcmp(store_migrations[i].name, "import_ledger") == 0)
            ledger = store_migrations[i].to;
    assert_true(ledger >= 2);
    assert_true(store_migrations[ledger - 1].read_compatible);
    char *path = old_store(ledger - 1, NULL);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name = "
                                    "'import_ledger'"),
                     0);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        fail_msg("opening format %d: %s", ledger - 1, e.msg);
    assert_true(store_sqlite_format(s) >= ledger);
    assert_int_equal(db_int(store_sqlite_db(s), "SELECT count(*) FROM import_ledger"), 0);
    expect_events(s, 3);
    unsigned char id[16] = {1, 2, 3};
    bool fresh = false;
    assert_int_equal(store_ledger_claim(s, id, 4, &fresh, &e), ST_OK);
    assert_true(fresh);
    assert_int_equal(store_ledger_claim(s, id, 5, &fresh, &e), ST_OK);
    assert_false(fresh);
    assert_int_equal(db_int(store_sqlite_db(s), "SELECT position FROM import_ledger"), 4);
    store_close(s);
    free(path);
}

/* Branches arrive by their own migration: a store of every earlier format is
 * upgraded in place, in one transaction, and gets the two tables with exactly
 * the columns the PostgreSQL twin has. */
static void test_branches_from_each_format(void **state)
{
    int br = store_migration_number("branches");
    assert_true(br >= 6);
    assert_true(store_migrations[br - 1].read_compatible);
    for (int format = 1; format < br; format++) {
        char *path = old_store(format, NULL);
        assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name = "
                                        "'branches'"),
                         0);
        struct store *s = open_upgraded(path, format);
        sqlite3 *db = store_sqlite_db(s);
        assert_true(store_sqlite_format(s) >= br);
        assert_int_equal(db_int(db, "SELECT count(*) FROM branches"), 0);
        assert_int_equal(db_int(db, "SELECT count(*) FROM branch_events"), 0);
        assert_int_equal(db_int(db, "SELECT group_concat(name, ',') = 'name,fork_position,"
                                    "created_at' FROM pragma_table_info('branches')"),
                         1);
        assert_int_equal(db_int(db, "SELECT group_concat(name, ',') = 'branch,position,stream,"
                                    "version,type,schema,time,data,meta,command_id' FROM "
                                    "pragma_table_info('branch_events')"),
                         1);
        /* The primary key and the unique (branch, stream, version). */
        assert_int_equal(
            sqlite3_exec(db,
                         "INSERT INTO branch_events VALUES('b', 4, 'S', 1, 'T', 1, 't', '{}', "
                         "NULL, NULL);"
                         "INSERT INTO branch_events VALUES('b', 5, 'S', 1, 'T', 1, 't', '{}', "
                         "NULL, NULL);",
                         NULL, NULL, NULL) &
                0xff,
            SQLITE_CONSTRAINT);
        expect_events(s, 3);
        store_close(s);
        free(path);
    }
}

/* Format 8 makes `commands` and `snapshots` WITHOUT ROWID: from every earlier
 * format, the rows are kept, the keys still hold (a command id is refused twice,
 * a snapshot of the same version replaces the old one), a command's events are
 * still found by its id, and a new command is recorded. */
static void test_clustered_from_each_format(void **state)
{
    int cl = store_migration_number("clustered_commands_snapshots");
    assert_true(cl >= 8);
    assert_true(store_migrations[cl - 1].read_compatible);
    for (int format = 1; format < cl; format++) {
        char *path =
            old_store(format, "INSERT INTO commands VALUES('c-1', 1, 1, 3), ('c-2', 2, 2, 2);"
                              "INSERT INTO snapshots VALUES(1, 'h', 2, 3, '{\"n\":2}'),"
                              " (2, 'h', 1, 2, '{\"n\":1}');");
        assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                        "('commands', 'snapshots') AND sql LIKE '%WITHOUT ROWID'"),
                         0);
        struct store *s = open_upgraded(path, format);
        sqlite3 *db = store_sqlite_db(s);
        assert_true(store_sqlite_format(s) >= cl);
        assert_int_equal(db_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('commands', 'snapshots') AND sql LIKE '%WITHOUT ROWID'"),
                         2);
        assert_int_equal(db_int(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE "
                                    "'%clustered%' OR tbl_name IN ('commands', 'snapshots') AND "
                                    "type = 'index'"),
                         0);
        assert_int_equal(db_int(db, "SELECT group_concat(id || ':' || stream_id || ':' || "
                                    "first_position || ':' || last_position, ',') = "
                                    "'c-1:1:1:3,c-2:2:2:2' FROM commands"),
                         1);
        assert_int_equal(db_int(db, "SELECT group_concat(stream_id || rules_hash || version || "
                                    "position || state, ',') = '1h23{\"n\":2},2h12{\"n\":1}' "
                                    "FROM snapshots"),
                         1);
        err e = {0};
        struct event_list out;
        event_list_init(&out);
        assert_int_equal(store_command_events(s, "c-1", &out, &e), ST_OK);
        assert_int_equal(out.len, 3);
        event_list_done(&out);
        assert_int_equal(
            sqlite3_exec(db, "INSERT INTO commands VALUES('c-1', 1, 9, 9)", NULL, NULL, NULL) &
                0xff,
            SQLITE_CONSTRAINT);
        assert_int_equal(sqlite3_exec(db,
                                      "INSERT OR REPLACE INTO snapshots VALUES(1, 'h', 2, 3, "
                                      "'{\"n\":7}')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(db_int(db, "SELECT count(*) FROM snapshots"), 2);
        struct new_event n = {"Deposited", 1, NULL, "{\"amount\":1}", NULL};
        event_list_init(&out);
        assert_int_equal(store_append(s, "Account-B", STORE_ANY_VERSION, "c-3", &n, 1, &out, &e),
                         ST_OK);
        event_list_done(&out);
        event_list_init(&out);
        assert_int_equal(store_command_events(s, "c-3", &out, &e), ST_OK);
        assert_int_equal(out.len, 1);
        assert_string_equal(out.items[0].stream, "Account-B");
        event_list_done(&out);
        expect_events(s, 4);
        store_close(s);
        free(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_is_numbered),
        cmocka_unit_test(test_upgrade_each_format),
        cmocka_unit_test(test_new_store_is_latest),
        cmocka_unit_test(test_append_time_upgrade),
        cmocka_unit_test(test_read_only_old_store),
        cmocka_unit_test(test_failed_upgrade_changes_nothing),
        cmocka_unit_test(test_concurrent_upgrade),
        cmocka_unit_test(test_ledger_from_previous_format),
        cmocka_unit_test(test_branches_from_each_format),
        cmocka_unit_test(test_clustered_from_each_format),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
