/* test_projection_branch.c: a what-if branch's read models (core/projection_branch.c)
 * against an oracle: a store holding main's events up to the fork point and then
 * the branch's, folded the ordinary way. Whatever main does after the fork point
 * (more deposits, a rebuild), the branch's rows, now and at every position, are
 * the oracle's; deletions on the branch hide main's row; main's rows are
 * untouched by the branch; dropping the branch drops its read models. On SQLite,
 * and again on PostgreSQL when STRATA_TEST_PG_URI names a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/projection_branch.h"
#include "core/store_branch.h"
#include "test_pg_fixture.h"
#include "test_projection_fixture.h"

/* The PostgreSQL run: a database of its own on the test server, a schema per
 * store (test_pg_fixture.h, as store_backends.h). */
static PGconn *pg_admin;
static char pg_db[48];

static int setup_pg(void **state)
{
    if (setup_dir(state) != 0)
        return -1;
    return pg_run_db_create("strata_pbranch", pg_db, sizeof pg_db, &pg_admin);
}

static int teardown_pg(void **state)
{
    bool ok = pg_run_db_drop(pg_db, &pg_admin);
    return teardown_dir(state) == 0 && ok ? 0 : -1;
}

/* A new store: a file, or on PostgreSQL a new schema. */
static char *store_path(void)
{
    if (!pg_admin)
        return new_path();
    return pg_fresh_schema(pg_admin, pg_db, &file_counter);
}

static struct store *open_branch(const char *path, const char *name)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.synchronous = 0;
    opt.create = false;
    opt.branch = name;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        fail_msg("open branch %s: %s", name, e.msg);
    return s;
}

/* Every projection's rows on a and b agree, now and at each position from..to. */
static void same_rows(struct store *a, struct store *b, const struct domain *d, int64_t from,
                      int64_t to)
{
    static const char *const names[] = {"Balances", "Totals", "Ratio"};
    for (size_t i = 0; i < 3; i++)
        for (int64_t at = from; at <= to; at++) {
            char *x = query_json(a, d, names[i], at), *y = query_json(b, d, names[i], at);
            if (strcmp(x, y) != 0)
                fail_msg("%s at %lld:\n branch %s\n oracle %s", names[i], (long long)at, x, y);
            free(x);
            free(y);
        }
}

static void test_branch_rows_match_oracle(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = store_path(), *opath = store_path();
    struct store *m = open_ok(path), *o = open_ok(opath);
    unsigned seed = 7, oseed = 7;
    deposits(m, 60, 8, &seed, NULL);
    deposits(o, 60, 8, &oseed, NULL); /* the same events: the same seed */
    close_account(m, 3, "done");
    close_account(o, 3, "done");
    catch_up_all(m, d);
    int64_t fork = 0;
    err e = {0};
    assert_int_equal(store_branch_create(m, "b", 0, &fork, &e), ST_OK);
    assert_int_equal(fork, 61);
    /* Main goes on after the fork point. */
    unsigned mseed = 99;
    deposits(m, 30, 8, &mseed, NULL);
    close_account(m, 1, "done");
    catch_up_all(m, d);
    /* The branch: deposits to some accounts (one closed on main before the fork,
     * so new again), a closure, a new account; the oracle gets the same. */
    struct store *b = open_branch(path, "b");
    unsigned bseed = 5, b2 = 5;
    deposits(b, 20, 10, &bseed, NULL);
    deposits(o, 20, 10, &b2, NULL);
    close_account(b, 2, "done");
    close_account(o, 2, "done");
    catch_up_all(b, d);
    catch_up_all(o, d);
    int64_t head = 0;
    assert_int_equal(store_head(b, &head, &e), ST_OK);
    assert_int_equal(head, 82);
    same_rows(b, o, d, 55, head);
    char *x = query_json(b, d, "Balances", 0), *y = query_json(o, d, "Balances", 0);
    assert_string_equal(x, y);
    free(x);
    free(y);
    /* One key, and a deleted one. */
    value r = query(b, d, "Balances", "A2", 0);
    assert_int_equal(value_list_len(&r), 0);
    value_free(r);
    r = query(b, d, "Balances", "A0", 0);
    assert_int_equal(value_list_len(&r), 1);
    value_free(r);
    /* Rebuilding main changes nothing on the branch. */
    assert_int_equal(projection_rebuild(m, d, "Balances", &e), ST_OK);
    same_rows(b, o, d, head, head);
    /* Main did not see the branch: its Balances has A1 deleted, A2 not. */
    r = query(m, d, "Balances", "A2", 0);
    assert_int_equal(value_list_len(&r), 1);
    value_free(r);
    store_close(b);
    /* Dropping the branch drops its read models; main's stay. */
    assert_int_equal(store_begin(m, &e), ST_OK);
    assert_int_equal(store_branch_drop(m, "b", &e), ST_OK);
    assert_int_equal(projection_branch_drop(m, "b", &e), ST_OK);
    assert_int_equal(store_commit(m, &e), ST_OK);
    struct proj_record rec;
    assert_int_equal(proj_backend_for(m, &e)->record_get(m, "Balances@b", &rec, &e), ST_NOT_FOUND);
    assert_int_equal(proj_backend_for(m, &e)->record_get(m, "Balances", &rec, &e), ST_OK);
    proj_record_done(&rec);
    r = query(m, d, "Balances", "A2", 0);
    assert_int_equal(value_list_len(&r), 1);
    value_free(r);
    store_close(m);
    store_close(o);
    free(path);
    free(opath);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branch_rows_match_oracle),
    };
    int failed = cmocka_run_group_tests_name("projection_branch", tests, setup_dir, teardown_dir);
    if (pg_base_uri())
        failed += cmocka_run_group_tests_name("projection_branch on postgresql", tests, setup_pg,
                                              teardown_pg);
    else
        printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL run is left out\n");
    return failed;
}
