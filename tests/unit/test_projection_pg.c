/* test_projection_pg.c: read models on a PostgreSQL store (core/projection_pg*.c),
 * held to SQLite's: the same rows, counts and pages at every position after the
 * same events folded in batches of any size, failures at the same event, a
 * rebuild swapped in with the same rows (twice); several handles folding at once
 * while another appends count every event once; a connection the server drops
 * fails one statement plainly and is then opened again (store_session changes); names PostgreSQL
 * would cut are refused plainly. Needs STRATA_TEST_PG_URI (tests/run.sh starts a server); without
 * it the cases skip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/domain.h"
#include "core/json.h"
#include "core/projection.h"
#include "store_backends.h"
#include "test_domain_fixture.h"

/* Balances: keyed, with a delete handler. Totals: keyless, with a `when`.
 * Ratio: divides by the amount, so an amount of 0 breaks it (and only it). Tags:
 * for_each over the event's tags, with a growing list. */
static const char DOMAIN[] =
    "domain: t\n"
    "aggregates:\n"
    "  Account:\n"
    "    id: accountId\n"
    "    state:\n"
    "      balance: {type: int, default: 0}\n"
    "    commands:\n"
    "      Deposit:\n"
    "        payload: {accountId: string, amount: int}\n"
    "        emit:\n"
    "          - MoneyDeposited: {amount: payload.amount}\n"
    "    events:\n"
    "      MoneyDeposited:\n"
    "        fields: {amount: int, tags: {type: list, default: []}}\n"
    "        apply: {balance: \"state.balance + event.amount\"}\n"
    "      AccountClosed:\n"
    "        fields: {reason: string}\n"
    "projections:\n"
    "  Balances:\n"
    "    key: meta.aggregateId\n"
    "    columns: {balance: 0, n: 0, last: null, ratio: 0.5, ok: false, tags: []}\n"
    "    on:\n"
    "      MoneyDeposited: {balance: \"row.balance + event.amount\", n: \"row.n + 1\", "
    "last: meta.position, ratio: \"row.ratio * 1.5\", ok: \"event.amount > 50\", "
    "tags: \"row.tags + event.tags\"}\n"
    "      AccountClosed: {delete: true}\n"
    "  Totals:\n"
    "    columns: {total: 0, count: 0}\n"
    "    on:\n"
    "      MoneyDeposited: {total: \"row.total + event.amount\", count: \"row.count + 1\"}\n"
    "      AccountClosed:\n"
    "        when: \"event.reason == 'reset'\"\n"
    "        delete: true\n"
    "  Ratio:\n"
    "    key: meta.aggregateId\n"
    "    columns: {r: 0}\n"
    "    on:\n"
    "      MoneyDeposited: {r: \"row.r + 1000 / event.amount\"}\n"
    "  Tags:\n"
    "    columns: {seen: 0}\n"
    "    on:\n"
    "      MoneyDeposited:\n"
    "        for_each: event.tags\n"
    "        set: {seen: \"row.seen + 1\"}\n";

static void put(struct store *s, int acct, const char *type, const char *data, int64_t pos)
{
    char stream[64], when[TIME_TEXT_LEN + 1];
    snprintf(stream, sizeof stream, "Account-A%d", acct);
    time_format_ms(1700000000000LL + pos * 1000, when);
    struct new_event ne = {type, 1, when, data, NULL};
    err e = {0};
    if (store_append(s, stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e) != ST_OK)
        fail_msg("append: %s", e.msg);
}

/* The same n random events into each of the stores. */
static void same_events(struct store **ss, size_t nst, int n, unsigned seed)
{
    static const char *const tags[] = {"a", "b", "c", "d"};
    for (int i = 0; i < n; i++) {
        int acct = (int)(rand_r(&seed) % 6);
        unsigned what = rand_r(&seed) % 40;
        char data[128];
        const char *type = "MoneyDeposited";
        if (what == 0) {
            type = "AccountClosed";
            snprintf(data, sizeof data, "{\"reason\":\"%s\"}", rand_r(&seed) % 2 ? "reset" : "x");
        } else {
            int amount = what == 1 && i > n / 2 ? 0 : 1 + (int)(rand_r(&seed) % 100);
            unsigned t = rand_r(&seed);
            snprintf(data, sizeof data, "{\"amount\":%d,\"tags\":[\"%s\",\"%s\"]}", amount,
                     tags[t % 4], tags[(t / 4) % 4]);
        }
        for (size_t k = 0; k < nst; k++)
            put(ss[k], acct, type, data, i + 1);
    }
}

static char *rows_json(struct store *s, const struct domain *d, const char *name, const char *key,
                       int64_t at, size_t offset, size_t limit)
{
    value rows;
    err e = {0};
    if (projection_query(s, d, name, key, at, offset, limit, &rows, &e) != ST_OK) {
        value_free(rows);
        return xasprintf("error: %s", e.msg);
    }
    char *j = json_to_string(&rows);
    value_free(rows);
    return j;
}

static int add_line(void *ctx, const char *json, size_t len, err *e)
{
    (void)e;
    sb_add(ctx, json, len);
    sb_addc(ctx, '\n');
    return ST_OK;
}

/* The rows as projection_query_json gives them (what `strata query` prints),
 * one line each; and, with values, projection_query's maps written. */
static char *rows_text(struct store *s, const struct domain *d, const char *name, int64_t at,
                       bool values)
{
    strbuf sb;
    sb_init(&sb);
    err e = {0};
    int rc;
    if (values) {
        value rows;
        if ((rc = projection_query(s, d, name, NULL, at, 0, 0, &rows, &e)) == ST_OK)
            for (size_t i = 0; i < value_list_len(&rows); i++) {
                json_write(&sb, value_list_at(&rows, i));
                sb_addc(&sb, '\n');
            }
        value_free(rows);
    } else {
        rc = projection_query_json(s, d, name, NULL, at, 0, 0, add_line, &sb, &e);
    }
    if (rc != ST_OK)
        sb_addf(&sb, "error: %s", e.msg);
    char *out = sb_steal(&sb);
    return out ? out : xstrdup("");
}

static void test_same_as_sqlite(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    struct domain *d = load_domain(DOMAIN);
    char *path = xasprintf("%s/same.db", tmpdir);
    struct store *sq = open_ok(path);
    struct store *pg = open_fresh();
    struct store *both[2] = {sq, pg};
    enum { N = 300 };
    same_events(both, 2, N, 7);
    /* Batches of different sizes on each side: the rows must not depend on them. */
    err e = {0};
    int64_t done = 0;
    while (done < N) {
        int64_t k = 0;
        assert_int_equal(projection_catch_up(pg, d, NULL, 37, true, &k, &e), ST_OK);
        if (k == 0)
            break;
        done += k;
    }
    assert_int_equal(projection_catch_up(pg, d, NULL, 0, true, NULL, &e), ST_OK);
    assert_int_equal(projection_catch_up(sq, d, NULL, 0, true, NULL, &e), ST_OK);
    static const char *const names[] = {"Balances", "Totals", "Ratio", "Tags"};
    for (size_t i = 0; i < 4; i++) {
        for (int64_t at = 1; at <= N; at += (at < 40 ? 1 : 7)) {
            char *a = rows_json(sq, d, names[i], NULL, at, 0, 0);
            char *b = rows_json(pg, d, names[i], NULL, at, 0, 0);
            if (strcmp(a, b) != 0)
                fail_msg("%s at %lld:\nsqlite: %s\npg:     %s", names[i], (long long)at, a, b);
            free(a);
            free(b);
            /* Rows as JSON text: SQLite's (spliced from the stored rows) and
             * PostgreSQL's (values written) are the same bytes, and both are the
             * values written. */
            if (at % 5 == 1) {
                char *ta = rows_text(sq, d, names[i], at, false);
                char *tb = rows_text(pg, d, names[i], at, false);
                char *tv = rows_text(sq, d, names[i], at, true);
                assert_string_equal(ta, tb);
                assert_string_equal(ta, tv);
                free(ta);
                free(tb);
                free(tv);
            }
        }
        char *a = rows_json(sq, d, names[i], NULL, 0, 2, 3);
        char *b = rows_json(pg, d, names[i], NULL, 0, 2, 3);
        assert_string_equal(a, b);
        free(a);
        free(b);
        a = rows_json(sq, d, names[i], "A3", 0, 0, 0);
        b = rows_json(pg, d, names[i], "A3", 0, 0, 0);
        assert_string_equal(a, b);
        free(a);
        free(b);
        int64_t ca = -1, cb = -2;
        assert_int_equal(projection_count(sq, d, names[i], N / 2, &ca, &e), ST_OK);
        assert_int_equal(projection_count(pg, d, names[i], N / 2, &cb, &e), ST_OK);
        assert_int_equal(ca, cb);
    }
    /* Ratio failed at the same event on both. */
    struct proj_lag *la, *lb;
    size_t na, nb;
    assert_int_equal(projection_status(sq, d, &la, &na, &e), ST_OK);
    assert_int_equal(projection_status(pg, d, &lb, &nb, &e), ST_OK);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(la[i].status, lb[i].status);
        assert_int_equal(la[i].checkpoint, lb[i].checkpoint);
    }
    proj_lag_free(la, na);
    proj_lag_free(lb, nb);

    /* A rebuild swaps in the same rows, twice over (the first one's names in the
     * way of the second's would fail it). */
    char *before = rows_json(pg, d, "Balances", NULL, 0, 0, 0);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(projection_rebuild(pg, d, "Balances", &e), ST_OK);
        char *after = rows_json(pg, d, "Balances", NULL, 0, 0, 0);
        assert_string_equal(before, after);
        free(after);
    }
    free(before);
    store_close(sq);
    store_close(pg);
    free(path);
    domain_free(d);
}

/* ---- several handles folding while another appends ---- */

struct shared {
    char *path;
    const struct domain *d;
    volatile int appending;
    int fails;
    char why[1100];
};

static void *appender(void *arg)
{
    struct shared *sh = arg;
    struct store *s = open_ok(sh->path);
    for (int i = 0; i < 600; i++)
        put(s, i % 5, "MoneyDeposited", "{\"amount\":2,\"tags\":[\"a\"]}", i + 1);
    store_close(s);
    __atomic_store_n(&sh->appending, 0, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *folder(void *arg)
{
    struct shared *sh = arg;
    struct store *s = open_ok(sh->path);
    err e = {0};
    for (;;) {
        bool last = !__atomic_load_n(&sh->appending, __ATOMIC_SEQ_CST);
        if (projection_catch_up(s, sh->d, NULL, 50, true, NULL, &e) != ST_OK) {
            __atomic_add_fetch(&sh->fails, 1, __ATOMIC_SEQ_CST);
            snprintf(sh->why, sizeof sh->why, "%s", e.msg);
        }
        if (last)
            break;
    }
    store_close(s);
    return NULL;
}

static void test_folders_count_once(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    struct domain *d = load_domain(DOMAIN);
    struct shared sh = {fresh_path("busy"), d, 1, 0, ""};
    store_close(open_ok(sh.path));
    pthread_t t[4];
    pthread_create(&t[0], NULL, appender, &sh);
    for (int i = 1; i < 4; i++)
        pthread_create(&t[i], NULL, folder, &sh);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    if (sh.fails)
        fail_msg("%d catch-ups failed: %s", sh.fails, sh.why);
    struct store *s = open_ok(sh.path);
    err e = {0};
    assert_int_equal(projection_catch_up(s, d, NULL, 0, true, NULL, &e), ST_OK);
    char *totals = rows_json(s, d, "Totals", NULL, 0, 0, 0);
    assert_string_equal(totals, "[{\"total\":1200,\"count\":600}]");
    free(totals);
    char *tags = rows_json(s, d, "Tags", NULL, 0, 0, 0);
    assert_string_equal(tags, "[{\"key\":\"a\",\"seen\":600}]");
    free(tags);
    value rows;
    assert_int_equal(projection_query(s, d, "Balances", NULL, 0, 0, 0, &rows, &e), ST_OK);
    assert_int_equal(value_list_len(&rows), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(value_map_get(value_list_at(&rows, i), "balance")->u.i, 240);
        assert_int_equal(value_map_get(value_list_at(&rows, i), "n")->u.i, 120);
    }
    value_free(rows);
    store_close(s);
    free(sh.path);
    domain_free(d);
}

/* A connection the server drops between batches is opened again by the next
 * fold, and store_session says it is a new one. */
static void test_reconnect(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    struct domain *d = load_domain(DOMAIN);
    struct store *s = open_fresh();
    put(s, 1, "MoneyDeposited", "{\"amount\":5,\"tags\":[]}", 1);
    err e = {0};
    assert_int_equal(projection_catch_up(s, d, NULL, 0, true, NULL, &e), ST_OK);
    int64_t before = store_session(s);
    assert_true(before > 0);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)before);
    PGresult *r = PQexec(pg_admin, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    usleep(100 * 1000);
    /* libpq learns of the loss at the next statement, which fails plainly; the
     * one after that connects again. */
    int rc = projection_catch_up(s, d, NULL, 0, true, NULL, &e);
    if (rc != ST_OK && !strstr(e.msg, "lost the connection to the store"))
        fail_msg("the first fold after the drop: %s", e.msg);
    put(s, 1, "MoneyDeposited", "{\"amount\":7,\"tags\":[]}", 2);
    int64_t k = 0;
    if (projection_catch_up(s, d, NULL, 0, true, &k, &e) != ST_OK)
        fail_msg("catch-up after the connection was dropped: %s", e.msg);
    assert_int_equal(k, 4); /* the new event, into each of the four */
    int64_t after = store_session(s);
    assert_true(after > 0 && after != before);
    char *totals = rows_json(s, d, "Totals", NULL, 0, 0, 0);
    assert_string_equal(totals, "[{\"total\":12,\"count\":2}]");
    free(totals);
    /* A file has no sessions. */
    char *path = xasprintf("%s/file.db", tmpdir);
    struct store *f = open_ok(path);
    assert_int_equal(store_session(f), 0);
    store_close(f);
    free(path);
    store_close(s);
    domain_free(d);
}

static void test_long_name(void **state)
{
    if (!pg_mode) {
        skip();
        return;
    }
    struct domain *d = load_domain("domain: t\n"
                                   "projections:\n"
                                   "  AVeryLongProjectionNameThatPostgresWouldCut:\n"
                                   "    columns: {n: 0}\n"
                                   "    on: {}\n");
    struct store *s = open_fresh();
    err e = {0};
    assert_int_not_equal(projection_setup(s, d, &e), ST_OK);
    if (!strstr(e.msg, "the name is too long for a PostgreSQL store"))
        fail_msg("got: %s", e.msg);
    store_close(s);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_sqlite),
        cmocka_unit_test(test_folders_count_once),
        cmocka_unit_test(test_reconnect),
        cmocka_unit_test(test_long_name),
    };
    if (pg_base_uri())
        return cmocka_run_group_tests_name("projection_pg", tests, setup_pg, teardown_pg);
    printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL cases skip\n");
    return cmocka_run_group_tests_name("projection_pg", tests, setup_dir, teardown_dir);
}
