/* test_projection.c: unit tests for projections (core/projection.h).
 *
 * Catch-up, batches that commit whole or not at all (a stopped run and a process
 * killed with SIGKILL mid-way both resume without counting an event twice),
 * failure isolation, pause and throttle, rebuild equal to an incremental build,
 * staleness after a definition change, the keyless and delete cases, the runner
 * thread, and the shipped bank domain. Reads at a past position, shared batches
 * and history are in test_projection_at.c. Each test works in its own store file
 * under a private temp folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/domain.h"
#include "core/json.h"
#include "core/projection.h"
#include "core/store.h"
#include "core/store_sqlite.h"

#include "test_projection_fixture.h"

/* ---- tests ---- */

static void test_catch_up_and_rows(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 7;
    int64_t sums[10] = {0};
    deposits(s, 1234, 10, &seed, sums);
    err e = {0};
    int64_t processed = 0;
    assert_int_equal(projection_catch_up(s, d, "Balances", 0, false, &processed, &e), ST_OK);
    assert_int_equal(processed, 1234);
    value rows = query(s, d, "Balances", NULL, 0);
    assert_int_equal(value_list_len(&rows), 10);
    int64_t total = 0;
    for (int a = 0; a < 10; a++) {
        char key[16];
        snprintf(key, sizeof key, "A%d", a);
        assert_int_equal(row_int(&rows, key, "balance"), sums[a]);
        total += sums[a];
    }
    /* Ordered by key, "key" first, columns in declared order with their types. */
    const value *first = value_list_at(&rows, 0);
    assert_string_equal(value_str(value_map_key_at(first, 0)), "key");
    assert_string_equal(value_str(value_map_get(first, "key")), "A0");
    assert_int_equal(value_map_get(first, "ratio")->type, V_DOUBLE);
    assert_int_equal(value_map_get(first, "tags")->type, V_LIST);
    value_free(rows);

    struct proj_lag l = lag_of(s, d, "Balances");
    assert_int_equal(l.status, PROJ_LIVE);
    assert_int_equal(l.checkpoint, 1234);
    assert_int_equal(l.events_behind, 0);
    assert_false(l.stale);
    assert_true(l.rate > 0);
    lag_done(&l);
    l = lag_of(s, d, "Totals"); /* not folded yet */
    assert_int_equal(l.status, PROJ_CATCHING_UP);
    assert_int_equal(l.events_behind, 1234);
    assert_true(l.seconds_behind > 0);
    assert_true(l.eta_seconds < 0); /* no rate yet */
    lag_done(&l);

    catch_up_all(s, d);
    rows = query(s, d, "Totals", NULL, 0);
    assert_int_equal(value_list_len(&rows), 1);
    assert_null(value_map_get(value_list_at(&rows, 0), "key"));
    assert_int_equal(row_int(&rows, NULL, "total"), total);
    assert_int_equal(row_int(&rows, NULL, "count"), 1234);
    value_free(rows);
    int64_t count = 0;
    assert_int_equal(projection_count(s, d, "Balances", 0, &count, &e), ST_OK);
    assert_int_equal(count, 10);

    /* The typed table, as a person with sqlite3 sees it. */
    sqlite3 *db = (sqlite3 *)store_sqlite_db(s);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT key, balance, typeof(balance), typeof(ratio), "
                                        "tags FROM proj_Balances ORDER BY key LIMIT 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "A0");
    assert_int_equal(sqlite3_column_int64(st, 1), sums[0]);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "integer");
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "real");
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "[]");
    sqlite3_finalize(st);
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_batches_resume_without_double_counting(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 11;
    int64_t sums[5] = {0};
    deposits(s, 1700, 5, &seed, sums);
    err e = {0};
    int64_t processed = 0;
    /* Stop part way (a batch and a bit), close, reopen, go on. */
    assert_int_equal(projection_catch_up(s, d, "Balances", 700, false, &processed, &e), ST_OK);
    assert_int_equal(processed, 700);
    struct proj_lag l = lag_of(s, d, "Balances");
    assert_int_equal(l.checkpoint, 700);
    assert_int_equal(l.status, PROJ_CATCHING_UP);
    lag_done(&l);
    store_close(s);
    s = open_ok(path);
    assert_int_equal(projection_catch_up(s, d, "Balances", 0, false, &processed, &e), ST_OK);
    assert_int_equal(processed, 1000);
    value rows = query(s, d, "Balances", NULL, 0);
    for (int a = 0; a < 5; a++) {
        char key[16];
        snprintf(key, sizeof key, "A%d", a);
        assert_int_equal(row_int(&rows, key, "balance"), sums[a]);
    }
    value_free(rows);
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_killed_mid_way(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 5;
    int64_t sums[50] = {0};
    deposits(s, 30000, 50, &seed, sums);
    store_close(s);
    /* A child folds in small batches (a commit every 250 events, over a hundred to
     * go) and says so once its first batch is committed; it is killed with SIGKILL
     * right then, so the kill lands part way: after some batches, before the end,
     * most likely inside one. A sleep instead let a fast machine fold all 30,000
     * first (or a slow one none), and the test passed without testing anything. */
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        struct store *cs = open_ok(path);
        err e = {0};
        int64_t processed = 0;
        projection_catch_up(cs, d, "Balances", 250, false, &processed, &e);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        while (processed > 0)
            projection_catch_up(cs, d, "Balances", 250, false, &processed, &e);
        _exit(0);
    }
    close(ready[1]);
    char byte;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    kill(pid, SIGKILL);
    close(ready[0]);
    int status;
    waitpid(pid, &status, 0);
    s = open_ok(path);
    struct proj_lag l = lag_of(s, d, "Balances");
    int64_t reached = l.checkpoint;
    lag_done(&l);
    assert_true(reached > 0);     /* the first batch was committed before the kill */
    assert_true(reached < 30000); /* and the kill came before the end */
    /* Whatever it reached was committed whole: the rows agree with the checkpoint. */
    value rows = query(s, d, "Balances", NULL, 0);
    int64_t n = 0;
    for (size_t i = 0; i < value_list_len(&rows); i++)
        n += value_map_get(value_list_at(&rows, i), "n")->u.i;
    assert_int_equal(n, reached);
    value_free(rows);
    catch_up_all(s, d);
    rows = query(s, d, "Balances", NULL, 0);
    for (int a = 0; a < 50; a++) {
        char key[16];
        snprintf(key, sizeof key, "A%d", a);
        assert_int_equal(row_int(&rows, key, "balance"), sums[a]);
    }
    value_free(rows);
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_failure_is_isolated(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    deposit(s, 1, 10);
    deposit(s, 2, 20);
    deposit(s, 1, 0); /* position 3: 1000 / 0 */
    deposit(s, 1, 5);
    catch_up_all(s, d);
    struct proj_lag l = lag_of(s, d, "Ratio");
    assert_int_equal(l.status, PROJ_FAILED);
    assert_int_equal(l.error_position, 3);
    assert_int_equal(l.checkpoint, 2); /* the events before it are committed */
    assert_non_null(strstr(l.error, "division by zero"));
    assert_non_null(strstr(l.error, "projections.Ratio.on.MoneyDeposited.set.r"));
    assert_non_null(strstr(l.error, "t.yaml:"));
    assert_non_null(strstr(l.error_event, "\"position\":3"));
    assert_non_null(strstr(l.error_event, "{\"amount\":0}"));
    assert_int_equal(l.eta_seconds, -1);
    lag_done(&l);
    value rows = query(s, d, "Ratio", NULL, 0);
    assert_int_equal(value_list_len(&rows), 2);
    assert_int_equal(row_int(&rows, "A1", "r"), 100);
    value_free(rows);
    /* The others went on, and go on. */
    deposit(s, 3, 1);
    catch_up_all(s, d);
    l = lag_of(s, d, "Balances");
    assert_int_equal(l.status, PROJ_LIVE);
    assert_int_equal(l.checkpoint, 5);
    lag_done(&l);
    l = lag_of(s, d, "Ratio");
    assert_int_equal(l.status, PROJ_FAILED);
    assert_int_equal(l.checkpoint, 2);
    lag_done(&l);
    /* Asking for a position it has not reached says why. */
    err e = {0};
    value r2;
    assert_int_equal(projection_query(s, d, "Ratio", NULL, 4, 0, 0, &r2, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "failed"));
    value_free(r2);
    /* Resuming retries; with the same definition it fails again at the same event. */
    assert_int_equal(projection_pause(s, d, "Ratio", false, &e), ST_OK);
    l = lag_of(s, d, "Ratio");
    assert_int_equal(l.status, PROJ_CATCHING_UP);
    lag_done(&l);
    catch_up_all(s, d);
    l = lag_of(s, d, "Ratio");
    assert_int_equal(l.status, PROJ_FAILED);
    assert_int_equal(l.error_position, 3);
    lag_done(&l);
    /* A rebuild of a broken definition keeps the old table and says why. */
    assert_int_equal(projection_rebuild(s, d, "Ratio", &e), ST_ERR);
    assert_non_null(strstr(e.msg, "division by zero"));
    rows = query(s, d, "Ratio", NULL, 0);
    assert_int_equal(value_list_len(&rows), 2);
    value_free(rows);
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_pause_and_throttle(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 3;
    deposits(s, 100, 4, &seed, NULL);
    err e = {0};
    assert_int_equal(projection_pause(s, d, "Balances", true, &e), ST_OK);
    int64_t processed = -1;
    assert_int_equal(projection_catch_up(s, d, "Balances", 0, false, &processed, &e), ST_OK);
    assert_int_equal(processed, 0);
    struct proj_lag l = lag_of(s, d, "Balances");
    assert_int_equal(l.status, PROJ_PAUSED);
    assert_int_equal(l.events_behind, 100);
    lag_done(&l);
    /* Another process sees the pause (it lives in the store). */
    struct store *s2 = open_ok(path);
    assert_int_equal(projection_catch_up(s2, d, "Balances", 0, false, &processed, &e), ST_OK);
    assert_int_equal(processed, 0);
    assert_int_equal(projection_pause(s2, d, "Balances", false, &e), ST_OK);
    store_close(s2);
    assert_int_equal(projection_catch_up(s, d, "Balances", 0, false, &processed, &e), ST_OK);
    assert_int_equal(processed, 100);

    /* Throttle: at most N events per second, a second's worth at most at once. */
    assert_int_equal(projection_throttle(s, d, "Totals", 10, &e), ST_OK);
    assert_int_equal(projection_catch_up(s, d, "Totals", 0, false, &processed, &e), ST_OK);
    assert_true(processed <= 10 && processed > 0);
    int64_t first = processed;
    assert_int_equal(projection_catch_up(s, d, "Totals", 0, false, &processed, &e), ST_OK);
    assert_true(processed <= 1);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(projection_catch_up(s, d, "Totals", 0, false, &processed, &e), ST_OK);
    assert_true(processed >= 2 && processed <= 4);
    l = lag_of(s, d, "Totals");
    assert_int_equal(l.throttle, 10);
    assert_true(l.checkpoint <= first + 5);
    lag_done(&l);
    /* Ignoring controls folds everything. */
    assert_int_equal(projection_catch_up(s, d, "Totals", 0, true, &processed, &e), ST_OK);
    l = lag_of(s, d, "Totals");
    assert_int_equal(l.checkpoint, 100);
    lag_done(&l);
    assert_int_equal(projection_throttle(s, d, "Nope", 1, &e), ST_NOT_FOUND);
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_rebuild_equals_incremental(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 21;
    err e = {0};
    /* Incremental: fold after each of several appends. */
    for (int round = 0; round < 6; round++) {
        deposits(s, 150, 12, &seed, NULL);
        close_account(s, round, "done");
        catch_up_all(s, d);
    }
    int64_t head = 0;
    store_head(s, &head, NULL);
    char *before[8];
    int64_t points[8] = {1, 7, 151, 152, 400, 700, head - 1, head};
    for (int i = 0; i < 8; i++)
        before[i] = query_json(s, d, "Balances", points[i]);
    assert_int_equal(projection_rebuild(s, d, "Balances", &e), ST_OK);
    for (int i = 0; i < 8; i++) {
        char *after = query_json(s, d, "Balances", points[i]);
        assert_string_equal(after, before[i]);
        free(after);
        free(before[i]);
    }
    struct proj_lag l = lag_of(s, d, "Balances");
    assert_int_equal(l.status, PROJ_LIVE);
    assert_int_equal(l.checkpoint, head);
    lag_done(&l);
    /* No rebuild table is left behind. */
    sqlite3 *db = (sqlite3 *)store_sqlite_db(s);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%rebuild%'", -1,
                       &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);

    /* While a rebuild is under way, readers see the old table whole. */
    assert_int_equal(projection_rebuild_start(s, d, "Totals", &e), ST_OK);
    char *old = query_json(s, d, "Totals", 0);
    int64_t n;
    assert_int_equal(projection_catch_up(s, d, "Totals", 300, true, &n, &e), ST_OK);
    assert_int_equal(n, 300);
    l = lag_of(s, d, "Totals");
    assert_int_equal(l.status, PROJ_REBUILDING);
    assert_int_equal(l.rebuild_checkpoint, 300);
    lag_done(&l);
    char *mid = query_json(s, d, "Totals", 0);
    assert_string_equal(mid, old);
    catch_up_all(s, d);
    char *done = query_json(s, d, "Totals", 0);
    assert_string_equal(done, old);
    free(old);
    free(mid);
    free(done);
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_stale_after_definition_change(void **state)
{
    struct domain *d1 = load_domain(DOMAIN_V1);
    struct domain *d2 = load_domain_v2();
    assert_string_not_equal(domain_projection(d1, "Balances")->rules_hash,
                            domain_projection(d2, "Balances")->rules_hash);
    assert_string_equal(domain_projection(d1, "Totals")->rules_hash,
                        domain_projection(d2, "Totals")->rules_hash);
    char *path = new_path();
    struct store *s = open_ok(path);
    deposit(s, 1, 10);
    deposit(s, 1, 10);
    catch_up_all(s, d1);
    struct proj_lag l = lag_of(s, d2, "Balances");
    assert_true(l.stale);
    lag_done(&l);
    l = lag_of(s, d2, "Totals");
    assert_false(l.stale);
    lag_done(&l);
    /* A stale table is not folded on with other rules. */
    deposit(s, 1, 10);
    catch_up_all(s, d2);
    l = lag_of(s, d2, "Balances");
    assert_int_equal(l.checkpoint, 2);
    lag_done(&l);
    err e = {0};
    assert_int_equal(projection_rebuild(s, d2, "Balances", &e), ST_OK);
    l = lag_of(s, d2, "Balances");
    assert_false(l.stale);
    assert_int_equal(l.checkpoint, 3);
    lag_done(&l);
    value rows = query(s, d2, "Balances", "A1", 0);
    assert_int_equal(row_int(&rows, "A1", "n"), 6);
    value_free(rows);
    store_close(s);
    free(path);
    domain_free(d1);
    domain_free(d2);
}

static void test_keyless_and_delete(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    /* Before any event the single row is there with its defaults. */
    catch_up_all(s, d);
    char *j = query_json(s, d, "Totals", 0);
    assert_string_equal(j, "[{\"total\":0,\"count\":0,\"big\":[]}]");
    free(j);
    deposit(s, 1, 10);            /* 1 */
    deposit(s, 2, 5);             /* 2 */
    close_account(s, 1, "done");  /* 3: deletes A1 from Balances; Totals: when is false */
    deposit(s, 2, 1);             /* 4 */
    close_account(s, 2, "reset"); /* 5: Totals back to its defaults */
    deposit(s, 1, 7);             /* 6: A1 comes back from the defaults */
    catch_up_all(s, d);
    j = query_json(s, d, "Balances", 2);
    assert_string_equal(
        j, "[{\"key\":\"A1\",\"balance\":10,\"n\":1,\"last\":1,\"ratio\":0.5,\"tags\":[]},"
           "{\"key\":\"A2\",\"balance\":5,\"n\":1,\"last\":2,\"ratio\":0.5,\"tags\":[]}]");
    free(j);
    j = query_json(s, d, "Balances", 3);
    assert_string_equal(
        j, "[{\"key\":\"A2\",\"balance\":5,\"n\":1,\"last\":2,\"ratio\":0.5,\"tags\":[]}]");
    free(j);
    j = query_json(s, d, "Balances", 5);
    assert_string_equal(j, "[]");
    free(j);
    j = query_json(s, d, "Balances", 6);
    assert_string_equal(
        j, "[{\"key\":\"A1\",\"balance\":7,\"n\":1,\"last\":6,\"ratio\":0.5,\"tags\":[]}]");
    free(j);
    j = query_json(s, d, "Totals", 4);
    assert_string_equal(j, "[{\"total\":16,\"count\":3,\"big\":[]}]");
    free(j);
    j = query_json(s, d, "Totals", 5);
    assert_string_equal(j, "[{\"total\":0,\"count\":0,\"big\":[]}]");
    free(j);
    j = query_json(s, d, "Totals", 0);
    assert_string_equal(j, "[{\"total\":7,\"count\":1,\"big\":[]}]");
    free(j);
    /* --key: a single seek; a key with no row then gives no rows. */
    value rows = query(s, d, "Balances", "A1", 2);
    assert_int_equal(value_list_len(&rows), 1);
    value_free(rows);
    rows = query(s, d, "Balances", "A1", 4);
    assert_int_equal(value_list_len(&rows), 0);
    value_free(rows);
    int64_t count;
    err e = {0};
    assert_int_equal(projection_count(s, d, "Balances", 2, &count, &e), ST_OK);
    assert_int_equal(count, 2);
    assert_int_equal(projection_count(s, d, "Balances", 5, &count, &e), ST_OK);
    assert_int_equal(count, 0);
    assert_int_equal(projection_count(s, d, "Totals", 5, &count, &e), ST_OK);
    assert_int_equal(count, 1);
    /* Paging. */
    value page;
    assert_int_equal(projection_query(s, d, "Balances", NULL, 2, 1, 1, &page, &e), ST_OK);
    assert_int_equal(value_list_len(&page), 1);
    assert_string_equal(value_str(value_map_get(value_list_at(&page, 0), "key")), "A2");
    value_free(page);
    /* The typed table no longer has the deleted row, history keeps it. */
    sqlite3 *db = (sqlite3 *)store_sqlite_db(s);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "SELECT (SELECT count(*) FROM proj_Balances), (SELECT count(*) FROM "
                       "proj_Balances_history WHERE row IS NULL AND changes IS NULL), "
                       "(SELECT count(*) FROM proj_Balances_keys)",
                       -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_int_equal(sqlite3_column_int(st, 1), 2);
    assert_int_equal(sqlite3_column_int(st, 2), 2);
    sqlite3_finalize(st);
    /* Beyond the head, and unknown names. */
    assert_int_equal(projection_query(s, d, "Balances", NULL, 99, 0, 0, &page, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "beyond"));
    value_free(page);
    assert_int_equal(projection_query(s, d, "Balance", NULL, 0, 0, 0, &page, &e), ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "did you mean 'Balances'"));
    value_free(page);
    store_close(s);
    free(path);
    domain_free(d);
}

/* Many keys (the fold's cache of rows is a hashed map that grows mid-batch),
 * rows deleted and made again within one batch and across batches, folded in
 * small calls and in large ones (batches that keep the cache between them):
 * the typed table and every row's history agree with the events, and with a
 * rebuild. */
static void test_many_keys_deleted_and_back(void **state)
{
    enum { ACCOUNTS = 90 };
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 7;
    int64_t bal[ACCOUNTS] = {0}, n[ACCOUNTS] = {0};
    err e = {0};
    for (int round = 0; round < 8; round++) {
        assert_int_equal(store_begin(s, &e), ST_OK);
        for (int i = 0; i < 400; i++) {
            int a = (int)(rand_r(&seed) % ACCOUNTS);
            if (rand_r(&seed) % 10 == 0) {
                close_account(s, a, "done");
                bal[a] = n[a] = 0;
            } else {
                int amount = 1 + (int)(rand_r(&seed) % 100);
                deposit(s, a, amount);
                bal[a] += amount;
                n[a]++;
            }
        }
        assert_int_equal(store_commit(s, &e), ST_OK);
        if (round % 2 == 0) {
            int64_t got = 1;
            while (got > 0) /* small calls: one batch each */
                assert_int_equal(projection_catch_up(s, d, "Balances", 37, true, &got, &e), ST_OK);
        }
        if (round % 3 == 2)
            catch_up_all(s, d); /* batches of 500 and more, the cache kept between them */
    }
    catch_up_all(s, d);
    value rows = query(s, d, "Balances", NULL, 0);
    size_t live = 0;
    for (int a = 0; a < ACCOUNTS; a++) {
        char key[16];
        snprintf(key, sizeof key, "A%d", a);
        value one = query(s, d, "Balances", key, 0);
        if (n[a] == 0) {
            assert_int_equal(value_list_len(&one), 0);
        } else {
            live++;
            assert_int_equal(value_list_len(&one), 1);
            assert_true(value_map_get(value_list_at(&one, 0), "balance")->u.i == bal[a]);
            assert_true(value_map_get(value_list_at(&one, 0), "n")->u.i == n[a]);
        }
        value_free(one);
    }
    assert_int_equal(value_list_len(&rows), live);
    value_free(rows);
    int64_t head = 0;
    store_head(s, &head, NULL);
    int64_t points[5] = {1, 399, 1200, head - 1, head};
    char *before[5];
    for (int i = 0; i < 5; i++)
        before[i] = query_json(s, d, "Balances", points[i]);
    char *typed = query_json(s, d, "Balances", 0);
    assert_int_equal(projection_rebuild(s, d, "Balances", &e), ST_OK);
    for (int i = 0; i < 5; i++) {
        char *after = query_json(s, d, "Balances", points[i]);
        assert_string_equal(after, before[i]);
        free(after);
        free(before[i]);
    }
    char *again = query_json(s, d, "Balances", 0);
    assert_string_equal(again, typed);
    free(again);
    free(typed);
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_runner_follows_other_writers(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    err e = {0};
    struct proj_runner *r = projection_runner_start(path, d, &e);
    assert_non_null(r);
    unsigned seed = 9;
    int64_t sums[8] = {0};
    deposits(s, 2000, 8, &seed, sums);
    projection_runner_poke(r);
    assert_false(projection_runner_settled(r));
    assert_true(projection_runner_wait_settled(r, 20000));
    struct proj_lag l = lag_of(s, d, "Balances");
    assert_int_equal(l.checkpoint, 2000);
    assert_int_equal(l.status, PROJ_LIVE);
    lag_done(&l);
    /* Pausing from another handle holds the runner back; settled ignores paused ones. */
    assert_int_equal(projection_pause(s, d, "Totals", true, &e), ST_OK);
    deposit(s, 1, 1);
    projection_runner_poke(r);
    assert_true(projection_runner_wait_settled(r, 20000));
    l = lag_of(s, d, "Totals");
    assert_int_equal(l.checkpoint, 2000);
    assert_int_equal(l.status, PROJ_PAUSED);
    lag_done(&l);
    /* Events appended without a poke are found by polling. */
    deposit(s, 2, 1);
    struct timespec ts = {0, 400 * 1000000L};
    nanosleep(&ts, NULL);
    assert_true(projection_runner_wait_settled(r, 20000));
    l = lag_of(s, d, "Balances");
    assert_int_equal(l.checkpoint, 2002);
    lag_done(&l);
    /* A rebuild asked of the runner is done by it. */
    assert_int_equal(projection_rebuild_start(s, d, "Balances", &e), ST_OK);
    projection_runner_poke(r);
    assert_true(projection_runner_wait_settled(r, 20000));
    l = lag_of(s, d, "Balances");
    assert_int_equal(l.status, PROJ_LIVE);
    assert_int_equal(l.checkpoint, 2002);
    lag_done(&l);
    assert_false(projection_runner_error(r, &e));
    projection_runner_stop(r);
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_bank_domain(void **state)
{
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load("domains/bank.yaml", &diags);
    diag_list_done(&diags);
    if (!d)
        skip(); /* run from the repository's root */
    char *path = new_path();
    struct store *s = open_ok(path);
    struct new_event opened = {"AccountOpened", 2, NULL,
                               "{\"owner\":\"Alice\",\"initialDeposit\":10,\"currency\":\"EUR\"}",
                               NULL};
    struct new_event dep = {"MoneyDeposited", 1, NULL, "{\"amount\":5}", NULL};
    struct new_event big = {"MoneyWithdrawn", 1, NULL, "{\"amount\":1000}", NULL};
    err e = {0};
    assert_int_equal(store_append(s, "Account-A", STORE_NO_STREAM, NULL, &opened, 1, NULL, &e),
                     ST_OK);
    assert_int_equal(store_append(s, "Account-A", 1, NULL, &dep, 1, NULL, &e), ST_OK);
    assert_int_equal(store_append(s, "Account-A", 2, NULL, &big, 1, NULL, &e), ST_OK);
    catch_up_all(s, d);
    value rows = query(s, d, "AccountList", NULL, 0);
    assert_int_equal(value_list_len(&rows), 1);
    assert_int_equal(row_int(&rows, "A", "balance"), 10 + 5 - 1000);
    value_free(rows);
    char *j = query_json(s, d, "BankStats", 0);
    assert_string_equal(j, "[{\"open\":1,\"deposited\":5,\"bigWithdrawals\":[\"A\"]}]");
    free(j);
    store_close(s);
    free(path);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catch_up_and_rows),
        cmocka_unit_test(test_batches_resume_without_double_counting),
        cmocka_unit_test(test_killed_mid_way),
        cmocka_unit_test(test_failure_is_isolated),
        cmocka_unit_test(test_pause_and_throttle),
        cmocka_unit_test(test_rebuild_equals_incremental),
        cmocka_unit_test(test_stale_after_definition_change),
        cmocka_unit_test(test_keyless_and_delete),
        cmocka_unit_test(test_many_keys_deleted_and_back),
        cmocka_unit_test(test_runner_follows_other_writers),
        cmocka_unit_test(test_bank_domain),
    };
    return cmocka_run_group_tests_name("projection", tests, setup_dir, teardown_dir);
}
