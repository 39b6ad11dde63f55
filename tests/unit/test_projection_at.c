/* test_projection_at.c: projection reads in the past and property tests
 * (core/projection.h): reads at a past position (query --at) checked against a
 * fresh fold of a copied store (a seeded property test), failure isolation in
 * the middle of a batch that projections share, a fold of all projections
 * together equal to folding each alone, and the history of rows that grow long
 * lists. Each test works in its own store file under a private temp folder. */
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
#include "core/projection_sqlite_internal.h"
#include "core/provenance.h"
#include "core/store.h"
#include "core/store_sqlite.h"
#include "core/store_migrate.h"

#include "test_projection_fixture.h"

/* n events on 30 accounts in one transaction: deposits of 1..100, and about one
 * in close_one_in a close (one in three of them a "reset"). */
static void random_log(struct store *s, int n, unsigned close_one_in, unsigned *seed)
{
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < n; i++) {
        int a = (int)(rand_r(seed) % 30);
        if (rand_r(seed) % close_one_in == 0)
            close_account(s, a, rand_r(seed) % 3 ? "done" : "reset");
        else
            deposit(s, a, 1 + (int)(rand_r(seed) % 100));
    }
    assert_int_equal(store_commit(s, &e), ST_OK);
}

/* Reads at random past positions equal a fresh fold of the events up to there.
 * drop_at > 0: the checkpoint tables are dropped once the fold has passed it, and
 * every entry put in epoch 0, as in a store from before them that migration 7
 * upgraded (the next fold makes a first one by seeks). */
static void query_at_property(unsigned seed, int64_t drop_at)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    err e = {0};
    random_log(s, 900, 12, &seed);
    /* Fold in uneven steps, so history spans many batches and calls. */
    int64_t n, folded = 0;
    bool dropped = false;
    while (projection_catch_up(s, d, NULL, 1 + rand_r(&seed) % 700, true, &n, &e) == ST_OK &&
           n > 0) {
        folded += n;
        if (drop_at > 0 && !dropped && folded >= drop_at) {
            sqlite3 *db = store_sqlite_db(s);
            assert_int_equal(sqlite3_exec(db,
                                          "DROP TABLE \"proj_Balances_ck_rows\"; DROP TABLE "
                                          "\"proj_Balances_ck_at\"; UPDATE "
                                          "\"proj_Balances_history\" SET epoch = 0",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
            dropped = true;
        }
    }
    assert_int_equal(e.code, ST_OK);
    if (getenv("STRATA_PROJECTION_CHECKPOINT_EVERY")) { /* the reads below use them */
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(store_sqlite_db(s),
                                            "SELECT count(*), min(at) FROM \"proj_Balances_ck_at\"",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_true(sqlite3_column_int64(st, 0) > 10);
        assert_true((sqlite3_column_int64(st, 1) == 0) == (drop_at == 0));
        sqlite3_finalize(st);
    }
    for (int trial = 0; trial < 25; trial++) {
        int64_t p = 1 + (int64_t)(rand_r(&seed) % 900);
        struct store *fresh = fresh_copy(s, p);
        catch_up_all(fresh, d);
        static const char *const names[] = {"Balances", "Totals"};
        for (size_t k = 0; k < 2; k++) {
            char *want = query_json(fresh, d, names[k], 0);
            char *got = query_json(s, d, names[k], p);
            if (strcmp(want, got) != 0)
                fail_msg("%s at %lld (seed trial %d):\n  fresh fold: %.300s\n  at P:       %.300s",
                         names[k], (long long)p, trial, want, got);
            free(want);
            free(got);
        }
        /* The row count at P (one seek in the counts table) equals the fresh fold's,
         * and a page of rows at P is that slice of the whole answer. */
        int64_t want_n, got_n;
        assert_int_equal(projection_count(fresh, d, "Balances", 0, &want_n, &e), ST_OK);
        assert_int_equal(projection_count(s, d, "Balances", p, &got_n, &e), ST_OK);
        assert_int_equal(got_n, want_n);
        value all, page;
        assert_int_equal(projection_query(s, d, "Balances", NULL, p, 0, 0, &all, &e), ST_OK);
        assert_int_equal((int64_t)value_list_len(&all), want_n);
        assert_int_equal(projection_query(s, d, "Balances", NULL, p, 3, 5, &page, &e), ST_OK);
        for (size_t i = 0; i < value_list_len(&page); i++)
            assert_true(value_equal(value_list_at(&page, i), value_list_at(&all, 3 + i)));
        assert_int_equal(value_list_len(&page), want_n > 3 ? (want_n - 3 < 5 ? want_n - 3 : 5) : 0);
        value_free(all);
        value_free(page);
        /* --key at P equals the fresh fold's row for that key. */
        char key[16];
        snprintf(key, sizeof key, "A%u", rand_r(&seed) % 30);
        value a = query(fresh, d, "Balances", key, 0), b = query(s, d, "Balances", key, p);
        assert_true(value_equal(&a, &b));
        value_free(a);
        value_free(b);
        /* Rows as JSON text (query --at) are the values written, every way the
         * rows are read: all of them (from a checkpoint), a long page, a short
         * one (seeks), one key, and now. */
        json_same_as_values(s, d, "Balances", NULL, p, 0, 0);
        json_same_as_values(s, d, "Balances", NULL, p, 2, 600);
        json_same_as_values(s, d, "Balances", NULL, p, 3, 5);
        json_same_as_values(s, d, "Balances", key, p, 0, 0);
        json_same_as_values(s, d, "Totals", NULL, p, 0, 0);
        json_same_as_values(s, d, "Balances", NULL, 0, 0, 0);
        store_close(fresh);
    }
    store_close(s);
    free(path);
    domain_free(d);
}

static void test_query_at_equals_fresh_fold(void **state)
{
    query_at_property(20260101, 0);
}

/* The same with a checkpoint every few history entries (projection_sqlite_ckpt.c),
 * deletions among them, and once more with the checkpoints dropped half way. */
static void test_query_at_from_checkpoints(void **state)
{
    setenv("STRATA_PROJECTION_CHECKPOINT_EVERY", "17", 1);
    query_at_property(777, 0);
    query_at_property(31337, 450);
    unsetenv("STRATA_PROJECTION_CHECKPOINT_EVERY");
}

/* Projections at one checkpoint share their batches (each event read and decoded
 * once); one that fails in the middle of a shared batch stops there alone: its
 * rows up to the event before commit with its checkpoint, and the others fold the
 * rest of that batch and the batches after it in the same call. */
static void test_failure_mid_shared_batch(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 5;
    int64_t sums[6] = {0};
    deposits(s, 250, 6, &seed, sums);
    deposit(s, 2, 0); /* position 251: Ratio divides by it */
    deposits(s, 2749, 6, &seed, sums);
    err e = {0};
    int64_t processed = 0;
    assert_int_equal(projection_catch_up(s, d, NULL, 0, true, &processed, &e), ST_OK);
    assert_int_equal(processed, 3000 + 3000 + 250);
    struct proj_lag l = lag_of(s, d, "Ratio");
    assert_int_equal(l.status, PROJ_FAILED);
    assert_int_equal(l.error_position, 251);
    assert_int_equal(l.checkpoint, 250);
    assert_non_null(strstr(l.error, "projections.Ratio.on.MoneyDeposited.set.r"));
    assert_non_null(strstr(l.error_event, "\"position\":251"));
    lag_done(&l);
    static const char *const others[] = {"Balances", "Totals"};
    for (size_t k = 0; k < 2; k++) {
        l = lag_of(s, d, others[k]);
        assert_int_equal(l.status, PROJ_LIVE);
        assert_int_equal(l.checkpoint, 3000);
        assert_null(l.error);
        lag_done(&l);
    }
    value rows = query(s, d, "Balances", NULL, 0);
    for (int a = 0; a < 6; a++) {
        char key[16];
        snprintf(key, sizeof key, "A%d", a);
        assert_int_equal(row_int(&rows, key, "balance"), sums[a]);
    }
    value_free(rows);
    /* Ratio's rows are those of a fresh fold of the events before the bad one,
     * and so are the others' at that position. */
    struct store *fresh = fresh_copy(s, 250);
    catch_up_all(fresh, d);
    static const char *const all[] = {"Balances", "Totals", "Ratio"};
    for (size_t k = 0; k < 3; k++) {
        char *want = query_json(fresh, d, all[k], 0);
        char *got = query_json(s, d, all[k], k == 2 ? 0 : 250);
        assert_string_equal(want, got);
        free(want);
        free(got);
    }
    store_close(fresh);
    /* New events go to the others only. */
    deposits(s, 10, 6, &seed, NULL);
    assert_int_equal(projection_catch_up(s, d, NULL, 0, true, &processed, &e), ST_OK);
    assert_int_equal(processed, 20);
    store_close(s);
    free(path);
    domain_free(d);
}

/* Folding every projection together (shared batches, in uneven steps, from
 * different checkpoints, with a failure) leaves exactly the tables, history,
 * checkpoints and failures that folding each one alone leaves. */
static void test_together_equals_alone(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *path_a = new_path(), *path_b = new_path();
    struct store *a = open_ok(path_a), *b = open_ok(path_b);
    unsigned seed = 424242;
    err e = {0};
    struct store *both[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        unsigned ws = 99;
        assert_int_equal(store_begin(both[k], &e), ST_OK);
        for (int i = 0; i < 2600; i++) {
            int acct = (int)(rand_r(&ws) % 40);
            unsigned r = rand_r(&ws) % 50;
            if (i == 1900)
                deposit(both[k], acct, 0); /* Ratio fails here */
            else if (r < 3)
                close_account(both[k], acct, r == 0 ? "reset" : "done");
            else
                deposit(both[k], acct, 1 + (int)(rand_r(&ws) % 100));
        }
        assert_int_equal(store_commit(both[k], &e), ST_OK);
    }
    /* a: one projection ahead of the others, then all together in uneven steps. */
    int64_t n = 0, total_a = 0, total_b = 0;
    assert_int_equal(projection_catch_up(a, d, "Totals", 333, true, &n, &e), ST_OK);
    total_a += n;
    while (projection_catch_up(a, d, NULL, 1 + rand_r(&seed) % 1500, true, &n, &e) == ST_OK &&
           n > 0)
        total_a += n;
    assert_int_equal(e.code, ST_OK);
    /* b: each alone, in uneven steps. */
    static const char *const names[] = {"Balances", "Totals", "Ratio"};
    for (size_t k = 0; k < 3; k++)
        while (projection_catch_up(b, d, names[k], 1 + rand_r(&seed) % 900, true, &n, &e) ==
                   ST_OK &&
               n > 0)
            total_b += n;
    assert_int_equal(e.code, ST_OK);
    assert_int_equal(total_a, total_b);
    assert_int_equal(total_a, 2600 + 2600 + 1900);
    for (size_t k = 0; k < 3; k++) {
        struct proj_lag la = lag_of(a, d, names[k]), lb = lag_of(b, d, names[k]);
        assert_int_equal(la.status, lb.status);
        assert_int_equal(la.checkpoint, lb.checkpoint);
        assert_int_equal(la.error_position, lb.error_position);
        if (la.error || lb.error) {
            assert_non_null(la.error);
            assert_non_null(lb.error);
            assert_string_equal(la.error, lb.error);
            assert_string_equal(la.error_event, lb.error_event);
        }
        lag_done(&la);
        lag_done(&lb);
        for (int t = 0; t < 12; t++) {
            int64_t p = t == 0 ? 0 : 1 + (int64_t)(rand_r(&seed) % 1900);
            char *ja = query_json(a, d, names[k], p), *jb = query_json(b, d, names[k], p);
            if (strcmp(ja, jb) != 0)
                fail_msg("%s at %lld:\n  together: %.300s\n  alone:    %.300s", names[k],
                         (long long)p, ja, jb);
            free(ja);
            free(jb);
        }
    }
    /* The history tables are the same, entry for entry. */
    sqlite3 *da = (sqlite3 *)store_sqlite_db(a), *db = (sqlite3 *)store_sqlite_db(b);
    static const char *const sql[] = {
        "SELECT count(*), total(valid_from), group_concat(key || ifnull(row, '') || "
        "ifnull(changes, ''), '|') FROM (SELECT * FROM proj_Balances_history ORDER BY valid_from)",
        "SELECT count(*), total(valid_from), group_concat(key || ifnull(row, '') || "
        "ifnull(changes, ''), '|') FROM (SELECT * FROM proj_Totals_history ORDER BY valid_from)",
        "SELECT count(*), total(valid_from), group_concat(key || ifnull(row, '') || "
        "ifnull(changes, ''), '|') FROM (SELECT * FROM proj_Ratio_history ORDER BY valid_from)",
    };
    for (size_t k = 0; k < 3; k++) {
        sqlite3_stmt *sa, *sb;
        assert_int_equal(sqlite3_prepare_v2(da, sql[k], -1, &sa, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql[k], -1, &sb, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(sa), SQLITE_ROW);
        assert_int_equal(sqlite3_step(sb), SQLITE_ROW);
        assert_true(sqlite3_column_int64(sa, 0) > 0);
        assert_int_equal(sqlite3_column_int64(sa, 0), sqlite3_column_int64(sb, 0));
        assert_true(sqlite3_column_double(sa, 1) == sqlite3_column_double(sb, 1));
        assert_string_equal((const char *)sqlite3_column_text(sa, 2),
                            (const char *)sqlite3_column_text(sb, 2));
        sqlite3_finalize(sa);
        sqlite3_finalize(sb);
    }
    store_close(a);
    store_close(b);
    free(path_a);
    free(path_b);
    domain_free(d);
}

/* Rows that grow long lists: their history holds change entries (only what
 * changed, lists by what was appended) between periodic whole rows. Reads at
 * random positions must still equal a fresh fold, across deletes, lists cut
 * short (a set, not an append), folding in uneven steps and a rebuild. */
static const char DOMAIN_GROWING[] =
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
    "        fields: {amount: int}\n"
    "        apply: {balance: \"state.balance + event.amount\"}\n"
    "      AccountClosed:\n"
    "        fields: {reason: string}\n"
    "projections:\n"
    "  Lists:\n"
    "    key: meta.aggregateId\n"
    "    columns: {items: [], n: 0, last: null, tags: {}}\n"
    "    on:\n"
    "      MoneyDeposited: {items: \"row.items + [event.amount]\", n: \"row.n + 1\", "
    "last: meta.position}\n"
    "      AccountClosed:\n"
    "        when: \"event.reason != 'trim'\"\n"
    "        delete: true\n"
    "  Everything:\n"
    "    columns: {big: [], total: 0, trims: 0}\n"
    "    on:\n"
    "      MoneyDeposited:\n"
    "        when: \"event.amount > 20\"\n"
    "        set: {big: \"row.big + [meta.aggregateId]\", total: \"row.total + event.amount\"}\n"
    "      AccountClosed:\n"
    "        when: \"event.reason == 'trim'\"\n"
    "        set: {big: \"['trimmed']\", trims: \"row.trims + 1\"}\n";

/* n events over `accounts` accounts in one transaction: deposits, and one in
 * `rare` a closure ("done", deleting the row) or a trim (the list set anew). */
static void growing_log(struct store *s, int n, int accounts, unsigned rare, unsigned *seed)
{
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < n; i++) {
        int a = (int)(rand_r(seed) % (unsigned)accounts);
        unsigned r = rand_r(seed) % rare;
        if (r == 0)
            close_account(s, a, "done");
        else if (r == 1)
            close_account(s, a, "trim");
        else
            deposit(s, a, 100 + (int)(rand_r(seed) % 900));
    }
    assert_int_equal(store_commit(s, &e), ST_OK);
}

/* Catches every projection up in calls of 1 to `most` events. */
static void catch_up_in_steps(struct store *s, const struct domain *d, unsigned most,
                              unsigned *seed)
{
    err e = {0};
    int64_t n;
    while (projection_catch_up(s, d, NULL, 1 + rand_r(seed) % most, true, &n, &e) == ST_OK && n > 0)
        ;
    assert_int_equal(e.code, ST_OK);
}

static void test_history_of_growing_lists(void **state)
{
    struct domain *d = load_domain(DOMAIN_GROWING);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 7;
    err e = {0};
    const int N = 2500;
    growing_log(s, N, 5, 200, &seed);
    catch_up_in_steps(s, d, 400, &seed);
    /* The long rows got change entries, and whole rows now and then. */
    sqlite3 *db = (sqlite3 *)store_sqlite_db(s);
    static const char *const tables[] = {"proj_Lists_history", "proj_Everything_history"};
    for (size_t t = 0; t < 2; t++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT sum(changes IS NOT NULL), sum(row IS NOT NULL), max(length(changes)) "
                 "FROM \"%s\"",
                 tables[t]);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_true(sqlite3_column_int(st, 0) > 100);
        assert_true(sqlite3_column_int(st, 1) > 10);
        assert_true(sqlite3_column_int(st, 2) < 300); /* never the whole list */
        sqlite3_finalize(st);
    }
    static const char *const names[] = {"Lists", "Everything"};
    for (int trial = 0; trial < 20; trial++) {
        int64_t p = trial == 0 ? N : 1 + (int64_t)(rand_r(&seed) % (unsigned)N);
        struct store *fresh = fresh_copy(s, p);
        catch_up_all(fresh, d);
        for (size_t k = 0; k < 2; k++) {
            char *want = query_json(fresh, d, names[k], 0);
            char *got = query_json(s, d, names[k], p);
            if (strcmp(want, got) != 0)
                fail_msg("%s at %lld:\n  fresh fold: %.300s\n  at P:       %.300s", names[k],
                         (long long)p, want, got);
            free(want);
            free(got);
        }
        char key[16];
        snprintf(key, sizeof key, "A%u", rand_r(&seed) % 5);
        value a = query(fresh, d, "Lists", key, 0), b = query(s, d, "Lists", key, p);
        assert_true(value_equal(&a, &b));
        value_free(a);
        value_free(b);
        /* Rows ending in change entries are walked back to a value, then written. */
        json_same_as_values(s, d, "Lists", NULL, p, 0, 0);
        json_same_as_values(s, d, "Lists", key, p, 0, 0);
        json_same_as_values(s, d, "Everything", NULL, p, 0, 0);
        store_close(fresh);
    }
    /* A rebuild writes the same history again and reads the same. */
    char *before = query_json(s, d, "Everything", N / 2);
    assert_int_equal(projection_rebuild(s, d, "Everything", &e), ST_OK);
    char *after = query_json(s, d, "Everything", N / 2);
    assert_string_equal(before, after);
    free(before);
    free(after);
    store_close(s);
    free(path);
    domain_free(d);
}

/* Rows as JSON text (projection_query_json, what `query` prints) are byte for
 * byte the values projection_query gives, written: doubles, strings with
 * escapes, control characters and UTF-8, JSON-looking strings, lists and maps,
 * nulls, keys that need escaping, deleted rows, at every position, with a
 * checkpoint every 3 history entries and without. */
static const char DOMAIN_TRICKY[] =
    "domain: t\n"
    "aggregates:\n"
    "  Account:\n"
    "    id: accountId\n"
    "    state:\n"
    "      balance: {type: int, default: 0}\n"
    "    commands:\n"
    "      Note:\n"
    "        payload: {accountId: string, text: string, amount: int}\n"
    "        emit:\n"
    "          - Noted: {text: payload.text, amount: payload.amount}\n"
    "    events:\n"
    "      Noted:\n"
    "        fields: {text: string, amount: int}\n"
    "      AccountClosed:\n"
    "        fields: {reason: string}\n"
    "projections:\n"
    "  Notes:\n"
    "    key: meta.aggregateId\n"
    "    columns: {text: \"\", x: 0.5, big: 1.0, last: null, seen: [], m: {}}\n"
    "    on:\n"
    "      Noted: {text: event.text, x: \"row.x + double(event.amount) / 7.0\", "
    "big: \"row.big * 1000.0\", last: meta.position, seen: \"row.seen + [event.text]\", "
    "m: \"{'t': event.text, 'n': event.amount}\"}\n"
    "      AccountClosed: {delete: true}\n";

static void tricky_reads(unsigned seed)
{
    struct domain *d = load_domain(DOMAIN_TRICKY);
    char *path = new_path();
    struct store *s = open_ok(path);
    static const char *const texts[] = {"plain",
                                        "\\u00e9t\\u00e9 \\u65e5\\u672c \\ud83d\\ude00",
                                        "\\\"quoted\\\" and \\\\",
                                        "tab\\there\\nnew line",
                                        "\\u0001\\u001f ctrl",
                                        "{\\\"looks\\\":\\\"json\\\"}",
                                        "\\u2028\\u2029 seps",
                                        ""};
    static const char *const keys[] = {"A", "b\\\"q", "\\u00e9", "k\\\\", "z 1", "A0"};
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < 300; i++) {
        char stream[64], data[200], when[TIME_TEXT_LEN + 1];
        const char *k = keys[rand_r(&seed) % 6];
        int64_t head = 0;
        store_head(s, &head, NULL);
        time_format_ms(1700000000000LL + (head + 1) * 1000, when);
        bool close = rand_r(&seed) % 15 == 0;
        snprintf(data, sizeof data,
                 close ? "{\"reason\":\"x\"}" : "{\"text\":\"%s\",\"amount\":%d}",
                 texts[rand_r(&seed) % 8], (int)(rand_r(&seed) % 50) - 10);
        value kv;
        char kj[64];
        snprintf(kj, sizeof kj, "\"%s\"", k);
        assert_int_equal(json_parse(kj, strlen(kj), &kv, NULL), ST_OK);
        snprintf(stream, sizeof stream, "Account-%s", value_str(&kv));
        value_free(kv);
        struct new_event ne = {close ? "AccountClosed" : "Noted", 1, when, data, NULL};
        if (store_append(s, stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e) != ST_OK)
            fail_msg("append: %s", e.msg);
    }
    assert_int_equal(store_commit(s, &e), ST_OK);
    int64_t n;
    while (projection_catch_up(s, d, NULL, 1 + rand_r(&seed) % 40, true, &n, &e) == ST_OK && n > 0)
        ;
    assert_int_equal(e.code, ST_OK);
    value now = query(s, d, "Notes", NULL, 0);
    assert_true(value_list_len(&now) >= 3);
    value_free(now);
    for (int64_t p = 1; p <= 300; p += 1 + (int64_t)(rand_r(&seed) % 7)) {
        json_same_as_values(s, d, "Notes", NULL, p, 0, 0);
        json_same_as_values(s, d, "Notes", NULL, p, 1, 2);
        json_same_as_values(s, d, "Notes", keys[p % 6], p, 0, 0);
    }
    json_same_as_values(s, d, "Notes", NULL, 0, 0, 0);
    store_close(s);
    free(path);
    domain_free(d);
}

/* The text of every row of a table of s, in key order, one line each. */
static char *table_text(struct store *s, const char *sql)
{
    sqlite3 *db = (sqlite3 *)store_sqlite_db(s);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    strbuf out;
    sb_init(&out);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            sb_addf(&out, "%s%s", c ? "|" : "", v ? v : "NULL");
        }
        sb_addc(&out, '\n');
    }
    sqlite3_finalize(st);
    return out.buf ? out.buf : xstrdup("");
}

/* A checkpoint written from the writer's log of the entries since the last one
 * is the one written by reading those entries back from the history: the same
 * rows, change entries walked back and deletes left out, through batches of
 * random sizes, a store closed and opened again, and both read models. */
static void test_checkpoints_from_log_equal_scanned(void **state)
{
    struct domain *d = load_domain(DOMAIN_GROWING);
    setenv("STRATA_PROJECTION_CHECKPOINT_EVERY", "17", 1);
    char *path[2] = {new_path(), new_path()};
    char *dump[2][2];
    for (int way = 0; way < 2; way++) {
        if (way == 1)
            setenv("STRATA_PROJECTION_CHECKPOINT_SCAN", "1", 1);
        struct store *s = open_ok(path[way]);
        unsigned seed = 4242;
        for (int round = 0; round < 4; round++) {
            growing_log(s, 600, 7, 150, &seed);
            catch_up_in_steps(s, d, 300, &seed);
            if (round == 1) { /* a new writer: its first checkpoint scans, the next log */
                store_close(s);
                s = open_ok(path[way]);
            }
        }
        dump[way][0] =
            table_text(s, "SELECT at, key, row FROM \"proj_Lists_ck_rows\" ORDER BY 1, 2");
        dump[way][1] = table_text(s, "SELECT * FROM \"proj_Lists_ck_at\" ORDER BY 1");
        store_close(s);
    }
    unsetenv("STRATA_PROJECTION_CHECKPOINT_SCAN");
    unsetenv("STRATA_PROJECTION_CHECKPOINT_EVERY");
    assert_true(strlen(dump[0][1]) > 1000); /* many checkpoints */
    for (int k = 0; k < 2; k++) {
        assert_string_equal(dump[0][k], dump[1][k]);
        free(dump[0][k]);
        free(dump[1][k]);
    }
    free(path[0]);
    free(path[1]);
    domain_free(d);
}

static void test_query_json_tricky_values(void **state)
{
    tricky_reads(11);
    setenv("STRATA_PROJECTION_CHECKPOINT_EVERY", "3", 1);
    tricky_reads(12);
    unsetenv("STRATA_PROJECTION_CHECKPOINT_EVERY");
}

/* psq_rows_at_ck into a list of values. */
static int ck_values(struct store *s, const struct projection_spec *p, int64_t at, size_t offset,
                     size_t limit, value *rows, int64_t *count, bool *done, err *e)
{
    struct psq_sink out;
    psq_sink_values(&out, p, rows);
    int rc = psq_rows_at_ck(s, p, at, offset, limit, &out, count, done, e);
    psq_sink_done(&out);
    return rc;
}

/* A page of rows and the count at P go by seeks (a page's work, not a read of
 * every row: the workbench asks both for every frame), deep pages and every row
 * from the newest checkpoint (core/projection_sqlite_ckpt.c, psq_rows_at): both
 * ways give the same rows and count, at every offset, with deletions, on a read
 * model long enough (1,200 rows) for pages past SEEK_PAGE. */
static void test_pages_by_seeks_equal_checkpoints(void **state)
{
    setenv("STRATA_PROJECTION_CHECKPOINT_EVERY", "97", 1);
    struct domain *d = load_domain(DOMAIN_V1);
    const struct projection_spec *p = domain_projection(d, "Balances");
    assert_non_null(p);
    char *path = new_path();
    struct store *s = open_ok(path);
    err e = {0};
    unsigned seed = 99;
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int a = 0; a < 1200; a++)
        deposit(s, a, 1 + a % 7);
    for (int i = 0; i < 1500; i++) {
        int a = (int)(rand_r(&seed) % 1300);
        if (rand_r(&seed) % 10 == 0)
            close_account(s, a, "done");
        else
            deposit(s, a, 1 + (int)(rand_r(&seed) % 100));
    }
    assert_int_equal(store_commit(s, &e), ST_OK);
    catch_up_all(s, d);
    static const size_t offsets[] = {0, 3, 490, 500, 560, 590, 700, 1000, 1190, 5000};
    for (int trial = 0; trial < 6; trial++) {
        int64_t at = trial == 0 ? 2700 : 1100 + (int64_t)(rand_r(&seed) % 1600);
        value all = value_list(0);
        int64_t n_ck = -1, n_seek = -1, n = -1;
        bool done = false;
        assert_int_equal(ck_values(s, p, at, 0, 0, &all, &n_ck, &done, &e), ST_OK);
        assert_true(done);
        assert_int_equal((int64_t)value_list_len(&all), n_ck);
        assert_true(n_ck > 1000);
        value none = value_list(0);
        assert_int_equal(psq_rows_at_seek(s, p, NULL, at, SIZE_MAX, 0, &none, &n_seek, &e), ST_OK);
        assert_int_equal(n_seek, n_ck);
        assert_int_equal(value_list_len(&none), 0);
        value_free(none);
        assert_int_equal(projection_count(s, d, "Balances", at, &n, &e), ST_OK);
        assert_int_equal(n, n_ck);
        for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
            size_t off = offsets[i];
            size_t want =
                (size_t)n_ck > off ? ((size_t)n_ck - off < 20 ? (size_t)n_ck - off : 20) : 0;
            value pages[3];
            int64_t counts[3] = {-1, -1, -1};
            pages[0] = value_list(0);
            pages[1] = value_list(0);
            assert_int_equal(psq_rows_at_seek(s, p, NULL, at, off, 20, &pages[0], &counts[0], &e),
                             ST_OK);
            assert_int_equal(ck_values(s, p, at, off, 20, &pages[1], &counts[1], &done, &e), ST_OK);
            assert_int_equal(projection_query(s, d, "Balances", NULL, at, off, 20, &pages[2], &e),
                             ST_OK);
            for (int k = 0; k < 3; k++) {
                if (value_list_len(&pages[k]) != want)
                    fail_msg("at %lld, offset %zu, way %d: %zu rows, not %zu", (long long)at, off,
                             k, value_list_len(&pages[k]), want);
                for (size_t r = 0; r < want; r++)
                    assert_true(
                        value_equal(value_list_at(&pages[k], r), value_list_at(&all, off + r)));
                if (k < 2)
                    assert_int_equal(counts[k], n_ck);
                value_free(pages[k]);
            }
        }
        value_free(all);
    }
    store_close(s);
    free(path);
    domain_free(d);
    unsetenv("STRATA_PROJECTION_CHECKPOINT_EVERY");
}

/* Every read of a store, as text: Balances and Totals at every 7th position,
 * --key and a short page at some, and the whole history of a few keys. */
static int history_line(void *ctx, int64_t position, const value *row, err *e)
{
    strbuf *out = ctx;
    sb_addf(out, "@%lld ", (long long)position);
    if (row)
        json_write(out, row);
    else
        sb_adds(out, "deleted");
    sb_addc(out, '\n');
    return ST_OK;
}

static char *every_read(struct store *s, const struct domain *d, int64_t head)
{
    strbuf out;
    sb_init(&out);
    err e = {0};
    for (int64_t at = 1; at <= head; at += 7) {
        static const char *const names[] = {"Balances", "Totals"};
        for (size_t k = 0; k < 2; k++) {
            char *j = query_json(s, d, names[k], at);
            sb_addf(&out, "%s@%lld %s\n", names[k], (long long)at, j);
            free(j);
        }
        value one = query(s, d, "Balances", "A3", at), page;
        assert_int_equal(projection_query(s, d, "Balances", NULL, at, 2, 4, &page, &e), ST_OK);
        json_write(&out, &one);
        json_write(&out, &page);
        sb_addc(&out, '\n');
        value_free(one);
        value_free(page);
    }
    const struct projection_spec *p = domain_projection(d, "Balances");
    for (int a = 0; a < 30; a += 7) {
        char key[16];
        snprintf(key, sizeof key, "A%d", a);
        assert_int_equal(projection_history_of_key(s, d, p, key, 0, history_line, &out, &e), ST_OK);
    }
    return out.buf;
}

/* Format 7 (store_migrate.c): a store of format 6, whose histories have no epochs
 * and an index on (key, valid_from), reads the same before its upgrade (opened
 * read-only), after it, and folds on after it; the upgrade gives every entry the
 * epoch a format-7 fold would have given it. The format-6 store is this build's
 * store taken back to that shape. */
static void test_history_epochs_migration(void **state)
{
    setenv("STRATA_PROJECTION_CHECKPOINT_EVERY", "13", 1);
    struct domain *d = load_domain(DOMAIN_V1);
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 99;
    err e = {0};
    random_log(s, 600, 10, &seed);
    int64_t n;
    while (projection_catch_up(s, d, NULL, 1 + rand_r(&seed) % 300, true, &n, &e) == ST_OK && n > 0)
        ;
    assert_int_equal(e.code, ST_OK);
    char *want = every_read(s, d, 600);
    sqlite3 *db = store_sqlite_db(s);
    static const char *const hist[] = {"proj_Balances_history", "proj_Totals_history",
                                       "proj_Ratio_history"};
    char *epochs_before = NULL;
    {
        strbuf ep;
        sb_init(&ep);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT group_concat(epoch, ',') FROM (SELECT epoch "
                                            "FROM proj_Balances_history ORDER BY rowid)",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        sb_adds(&ep, (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        epochs_before = ep.buf;
        assert_non_null(strstr(epochs_before, ",0,")); /* before the first checkpoint */
        assert_null(strstr(epochs_before + strlen(epochs_before) - 4, ",0")); /* not after */
    }
    for (size_t i = 0; i < 3; i++) {
        char *sql = sqlite3_mprintf(
            "CREATE TABLE old(valid_from INTEGER NOT NULL, key TEXT NOT NULL, row TEXT, "
            "changes TEXT);\n"
            "INSERT INTO old(rowid, valid_from, key, row, changes) SELECT rowid, valid_from, "
            "key, row, changes FROM \"%w\";\n"
            "DROP TABLE \"%w\";\n"
            "ALTER TABLE old RENAME TO \"%w\";\n"
            "CREATE UNIQUE INDEX \"%w_by_key\" ON \"%w\"(key, valid_from);\n",
            hist[i], hist[i], hist[i], hist[i], hist[i]);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(sql);
    }
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA user_version = 6; UPDATE strata_meta SET value = '6' "
                                  "WHERE key = 'format_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    store_close(s);

    /* Read-only, as it is. */
    struct store_options ro = STORE_OPTIONS_DEFAULT;
    ro.read_only = true;
    s = store_open(path, &ro, &e);
    assert_non_null(s);
    assert_int_equal(store_sqlite_format(s), 6);
    char *got = every_read(s, d, 600);
    assert_string_equal(got, want);
    free(got);
    store_close(s);

    /* Upgraded: the same reads, and the epochs a fold of format 7 gave. */
    s = open_ok(path);
    assert_int_equal(store_sqlite_format(s), store_format_latest());
    got = every_read(s, d, 600);
    assert_string_equal(got, want);
    free(got);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(store_sqlite_db(s),
                                        "SELECT group_concat(epoch, ',') FROM (SELECT epoch "
                                        "FROM proj_Balances_history ORDER BY rowid)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), epochs_before);
    sqlite3_finalize(st);

    /* And it folds on: reads past the upgrade equal a fresh fold. */
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < 200; i++)
        deposit(s, (int)(rand_r(&seed) % 30), 1 + (int)(rand_r(&seed) % 100));
    assert_int_equal(store_commit(s, &e), ST_OK);
    catch_up_all(s, d);
    for (int64_t at = 600; at <= 800; at += 50) {
        struct store *fresh = fresh_copy(s, at);
        catch_up_all(fresh, d);
        char *a = query_json(fresh, d, "Balances", 0), *b = query_json(s, d, "Balances", at);
        assert_string_equal(a, b);
        free(a);
        free(b);
        store_close(fresh);
    }
    store_close(s);
    free(epochs_before);
    free(want);
    free(path);
    domain_free(d);
    unsetenv("STRATA_PROJECTION_CHECKPOINT_EVERY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failure_mid_shared_batch),
        cmocka_unit_test(test_together_equals_alone),
        cmocka_unit_test(test_query_at_equals_fresh_fold),
        cmocka_unit_test(test_query_at_from_checkpoints),
        cmocka_unit_test(test_history_of_growing_lists),
        cmocka_unit_test(test_pages_by_seeks_equal_checkpoints),
        cmocka_unit_test(test_query_json_tricky_values),
        cmocka_unit_test(test_history_epochs_migration),
        cmocka_unit_test(test_checkpoints_from_log_equal_scanned),
    };
    return cmocka_run_group_tests_name("projection_at", tests, setup_dir, teardown_dir);
}
