/* test_store_branch.c: what-if branches as a store (core/store_branch.h): reads
 * of main up to the fork point plus the branch's own events, appends with
 * positions continuing from the fork point, expected versions and command ids
 * seen across both, snapshots past the fork point ignored, isolation from main
 * both ways, and creating, listing and dropping branches. On SQLite, and again
 * on PostgreSQL when STRATA_TEST_PG_URI names a server (store_backends.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "core/store_branch.h"
#include "store_backends.h"

static void no_columns(void *ctx, const char *const *names, size_t n)
{
}

static int first_cell(void *ctx, const struct store_cell *cells, size_t n)
{
    int64_t *v = ctx;
    if (n > 0 && cells[0].type == CELL_INT)
        *v = cells[0].i;
    else if (n > 0 && cells[0].p)
        *v = strtoll(cells[0].p, NULL, 10);
    return 1;
}

/* One integer that sql reads from the store's own tables (either backend). */
static int64_t db_int(struct store *s, const char *sql)
{
    int64_t v = -1;
    struct store_query_sink sink = {&v, no_columns, first_cell};
    err e = {0};
    if (store_query(s, sql, 0, &sink, &e) != ST_OK)
        fail_msg("%s: %s", sql, e.msg);
    return v;
}

/* A main store with A:1 B:2 A:3 (positions), and branch "b" forked at `at`. */
static char *main_with_branch(const char *name, int64_t at)
{
    char *path = fresh_path(name);
    struct store *s = open_ok(path);
    append1(s, "Account-A", "Opened", "{\"n\":1}", NULL);
    append1(s, "Account-B", "Opened", "{\"n\":2}", NULL);
    append1(s, "Account-A", "Deposited", "{\"n\":3}", NULL);
    int64_t fork = 0;
    err e = {0};
    if (store_branch_create(s, "b", at, &fork, &e) != ST_OK)
        fail_msg("create: %s", e.msg);
    assert_int_equal(fork, at ? at : 3);
    store_close(s);
    return path;
}

static struct store *open_branch(const char *path, const char *branch)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    opt.branch = branch;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        fail_msg("open branch %s: %s", branch, e.msg);
    return s;
}

static void test_reads_and_appends(void **state)
{
    char *path = main_with_branch("reads.db", 2); /* the branch sees A:1 B:2 */
    struct store *b = open_branch(path, "b");
    assert_int_equal(head_of(b), 2);
    assert_int_equal(version_of(b, "Account-A", 0), 1);
    assert_int_equal(version_of(b, "Account-B", 0), 1);
    /* Appends continue from the fork point: 3, 4. */
    assert_int_equal(append1(b, "Account-A", "Withdrawn", "{\"n\":30}", NULL), 3);
    assert_int_equal(append1(b, "Account-C", "Opened", "{\"n\":40}", NULL), 4);
    assert_int_equal(head_of(b), 4);
    assert_int_equal(version_of(b, "Account-A", 0), 2);
    assert_int_equal(version_of(b, "Account-A", 2), 1);
    assert_int_equal(version_of(b, "Account-C", 0), 1);

    /* A page forward, then backward, crossing the fork point. */
    struct event_list l;
    event_list_init(&l);
    err e = {0};
    assert_int_equal(store_read_page(b, NULL, 0, false, 10, &l, &e), ST_OK);
    assert_int_equal(l.len, 4);
    assert_string_equal(l.items[1].stream, "Account-B");
    assert_string_equal(l.items[2].type, "Withdrawn");
    assert_int_equal(l.items[2].version, 2);
    event_list_clear(&l);
    assert_int_equal(store_read_page(b, NULL, 0, true, 3, &l, &e), ST_OK);
    assert_int_equal(l.len, 3);
    assert_int_equal(l.items[0].position, 4);
    assert_int_equal(l.items[2].position, 2);
    event_list_clear(&l);
    /* One page of 1 at a time, as the iterator reads. */
    assert_int_equal(store_read_page(b, NULL, 2, false, 1, &l, &e), ST_OK);
    assert_int_equal(l.len, 1);
    assert_int_equal(l.items[0].position, 3);
    event_list_clear(&l);
    /* Filters: a stream, a type, a text. */
    struct event_filter f = {0};
    f.stream = "Account-A";
    assert_int_equal(store_read_page(b, &f, 0, false, 0, &l, &e), ST_OK);
    assert_int_equal(l.len, 2);
    assert_int_equal(l.items[1].position, 3);
    event_list_clear(&l);
    memset(&f, 0, sizeof f);
    f.text = "\"n\":40";
    assert_int_equal(store_read_page(b, &f, 0, false, 0, &l, &e), ST_OK);
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].stream, "Account-C");
    event_list_clear(&l);
    /* A stream read stops at main's fork point, then goes on in the branch. */
    assert_int_equal(store_read_stream(b, "Account-A", 1, 0, 0, &l, &e), ST_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].data, "{\"n\":1}");
    assert_string_equal(l.items[1].data, "{\"n\":30}");
    event_list_done(&l);

    /* Streams: B and A as of the fork, C the branch's own. */
    struct stream_info *si = NULL;
    size_t n = 0;
    assert_int_equal(store_list_streams(b, NULL, 0, 100, &si, &n, &e), ST_OK);
    assert_int_equal(n, 3);
    assert_string_equal(si[0].name, "Account-A");
    assert_int_equal(si[0].version, 2);
    assert_string_equal(si[2].name, "Account-C");
    stream_info_free(si, n);
    int64_t count = 0;
    assert_int_equal(store_count_streams(b, &count, &e), ST_OK);
    assert_int_equal(count, 3);
    /* Counts by type: main's up to the fork point and the branch's. */
    struct type_count *tc = NULL;
    assert_int_equal(store_type_counts(b, &tc, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    assert_string_equal(tc[0].type, "Opened");
    assert_int_equal(tc[0].count, 3);
    assert_string_equal(tc[1].type, "Withdrawn");
    assert_int_equal(tc[1].count, 1);
    type_counts_free(tc, n);
    assert_int_equal(store_type_totals(b, 0, &tc, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tc[0].count, 3);
    type_counts_free(tc, n);
    store_close(b);
    free(path);
}

static void test_isolation_from_main(void **state)
{
    char *path = main_with_branch("isolation.db", 0);
    struct store *b = open_branch(path, "b");
    assert_int_equal(append1(b, "Account-A", "Withdrawn", "{}", NULL), 4);
    store_close(b);
    /* Main does not see it: its head, versions and events are as they were. */
    struct store *m = open_ok(path);
    assert_int_equal(head_of(m), 3);
    assert_int_equal(version_of(m, "Account-A", 0), 2);
    assert_int_equal(append1(m, "Account-A", "Deposited", "{\"main\":1}", NULL), 4);
    assert_int_equal(db_int(m, "SELECT count(*) FROM events"), 4);
    store_close(m);
    /* And the branch does not see main's new event: its position 4 is its own. */
    b = open_branch(path, "b");
    assert_int_equal(head_of(b), 4);
    assert_int_equal(version_of(b, "Account-A", 0), 3);
    struct event_list l;
    event_list_init(&l);
    err e = {0};
    assert_int_equal(store_read_page(b, NULL, 3, false, 10, &l, &e), ST_OK);
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].type, "Withdrawn");
    event_list_done(&l);
    store_close(b);
    free(path);
}

static void test_conflicts_and_idempotency(void **state)
{
    char *path = main_with_branch("conflicts.db", 0);
    struct store *m = open_ok(path);
    struct new_event n = ev("Deposited", "{}");
    struct event_list out;
    event_list_init(&out);
    err e = {0};
    /* A command id main processed before the fork point is processed on the branch too. */
    assert_int_equal(store_append(m, "Account-B", 1, "cmd-main", &n, 1, &out, &e), ST_OK);
    event_list_clear(&out);
    store_close(m);
    struct store *b = open_branch(path, "b");
    /* cmd-main came after the fork (position 4): the branch never saw it. */
    assert_int_equal(store_append(b, "Account-B", 1, "cmd-main", &n, 1, &out, &e), ST_OK);
    assert_int_equal(out.items[0].position, 4);
    assert_int_equal(out.items[0].version, 2);
    event_list_clear(&out);
    /* Expected versions see main up to the fork plus the branch. */
    assert_int_equal(store_append(b, "Account-A", 1, NULL, &n, 1, &out, &e), ST_CONFLICT);
    assert_non_null(strstr(e.msg, "at version 2, expected 1"));
    assert_int_equal(store_append(b, "Account-A", STORE_NO_STREAM, NULL, &n, 1, &out, &e),
                     ST_CONFLICT);
    assert_int_equal(store_append(b, "Account-A", 2, "cmd-b", &n, 1, &out, &e), ST_OK);
    assert_int_equal(out.items[0].position, 5);
    event_list_clear(&out);
    /* The same command id again: a duplicate, handing back what it appended. */
    assert_int_equal(store_append(b, "Account-A", 3, "cmd-b", &n, 1, &out, &e), ST_DUPLICATE);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.items[0].position, 5);
    event_list_clear(&out);
    assert_int_equal(store_command_events(b, "cmd-b", &out, &e), ST_OK);
    assert_int_equal(out.len, 1);
    event_list_clear(&out);
    assert_int_equal(store_command_events(b, "nope", &out, &e), ST_NOT_FOUND);
    assert_int_equal(head_of(b), 5);
    /* A transaction through the branch: rolled back, nothing stays. */
    assert_int_equal(store_begin(b, &e), ST_OK);
    assert_int_equal(store_append(b, "Account-Z", STORE_NO_STREAM, NULL, &n, 1, NULL, &e), ST_OK);
    store_rollback(b);
    assert_int_equal(version_of(b, "Account-Z", 0), 0);
    event_list_done(&out);
    store_close(b);
    free(path);
}

static void test_snapshots_past_fork_ignored(void **state)
{
    char *path = main_with_branch("snap.db", 1);
    struct store *m = open_ok(path);
    err e = {0};
    struct snapshot s1 = {1, 1, "{\"at\":1}"}, s3 = {2, 3, "{\"at\":3}"};
    assert_int_equal(store_snapshot_put(m, "Account-A", "h", &s1, &e), ST_OK);
    assert_int_equal(store_snapshot_put(m, "Account-A", "h", &s3, &e), ST_OK);
    store_close(m);
    struct store *b = open_branch(path, "b");
    struct snapshot got;
    assert_int_equal(store_snapshot_get(b, "Account-A", "h", 0, &got, &e), ST_OK);
    assert_int_equal(got.position, 1);
    snapshot_done(&got);
    /* The branch stores none of its own: main's snapshots stay as they were. */
    struct snapshot sb = {9, 9, "{\"branch\":1}"};
    assert_int_equal(store_snapshot_put(b, "Account-A", "h", &sb, &e), ST_OK);
    store_close(b);
    m = open_ok(path);
    assert_int_equal(db_int(m, "SELECT count(*) FROM snapshots"), 2);
    store_close(m);
    free(path);
}

static void test_create_list_drop(void **state)
{
    char *path = main_with_branch("manage.db", 0);
    struct store *m = open_ok(path);
    err e = {0};
    int64_t fork = 0;
    assert_int_equal(store_branch_create(m, "b", 0, &fork, &e), ST_ERR); /* exists */
    assert_non_null(strstr(e.msg, "exists already"));
    assert_int_equal(store_branch_create(m, "main", 0, &fork, &e), ST_USAGE);
    assert_int_equal(store_branch_create(m, "a b", 0, &fork, &e), ST_USAGE);
    assert_int_equal(store_branch_create(m, "late", 9, &fork, &e), ST_USAGE);
    assert_non_null(strstr(e.msg, "past the head"));
    assert_int_equal(store_branch_create(m, "early", 1, &fork, &e), ST_OK);
    struct branch_info *bi = NULL;
    size_t n = 0;
    assert_int_equal(store_branch_list(m, &bi, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    assert_string_equal(bi[0].name, "b");
    assert_int_equal(bi[0].fork, 3);
    assert_string_equal(bi[1].name, "early");
    assert_int_equal(bi[1].fork, 1);
    branch_info_free(bi, n);
    store_close(m);

    struct store *b = open_branch(path, "b");
    append1(b, "Account-A", "X", "{}", NULL);
    store_close(b);
    m = open_ok(path);
    assert_int_equal(store_begin(m, &e), ST_OK);
    assert_int_equal(store_branch_drop(m, "b", &e), ST_OK);
    assert_int_equal(store_commit(m, &e), ST_OK);
    assert_int_equal(db_int(m, "SELECT count(*) FROM branch_events"), 0);
    assert_int_equal(store_begin(m, &e), ST_OK);
    assert_int_equal(store_branch_drop(m, "b", &e), ST_NOT_FOUND);
    store_rollback(m);
    store_close(m);
    /* An unknown branch cannot be opened, and says so. */
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.branch = "b";
    assert_null(store_open(path, &opt, &e));
    assert_int_equal(e.code, ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "no branch 'b'"));
    /* "main" is main. */
    opt.branch = "main";
    struct store *s = store_open(path, &opt, &e);
    assert_non_null(s);
    assert_false(store_branch_of(s, NULL, NULL, NULL));
    store_close(s);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_and_appends),
        cmocka_unit_test(test_isolation_from_main),
        cmocka_unit_test(test_conflicts_and_idempotency),
        cmocka_unit_test(test_snapshots_past_fork_ignored),
        cmocka_unit_test(test_create_list_drop),
    };
    int failed = cmocka_run_group_tests_name("store_branch", tests, setup_dir, teardown_dir);
    if (pg_base_uri())
        failed +=
            cmocka_run_group_tests_name("store_branch on postgresql", tests, setup_pg, teardown_pg);
    else
        printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL run is left out\n");
    return failed;
}
