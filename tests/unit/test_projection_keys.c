/* test_projection_keys.c: unit tests for projections whose handlers name their
 * rows with for_each (one event changing several rows) and for typed columns.
 *
 * A seeded property test: a for_each projection folded in uneven steps, read at
 * past positions (rows, counts, one key), equals a fresh fold up to each
 * position. Then: a key named twice in one event, a for_each and a typed column
 * that go wrong (each a failure naming the handler or the column, with nothing of
 * the failing event written), and the store migration that re-keys a format-2
 * row history in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/domain.h"
#include "core/json.h"
#include "core/projection.h"
#include "core/store.h"
#include "core/store_migrate.h"
#include "core/store_sqlite.h"
#include "test_projection_fixture.h"

/* Nights: one row per room and night, from the nights a booking lists (a night
 * listed twice counts once per event; a for_each over an empty list changes
 * nothing). Rooms: the same events under the projection's key, with a typed
 * column. */
static const char DOMAIN[] =
    "domain: t\n"
    "aggregates:\n"
    "  Room:\n"
    "    id: roomId\n"
    "    state: {}\n"
    "    events:\n"
    "      Booked:\n"
    "        fields: {guest: string, nights: list}\n"
    "      Cancelled:\n"
    "        fields: {nights: list}\n"
    "projections:\n"
    "  Nights:\n"
    "    columns: {guest: \"\", times: 0}\n"
    "    on:\n"
    "      Booked:\n"
    "        for_each: \"event.nights.map(n, meta.aggregateId + '/' + string(n))\"\n"
    "        set: {guest: event.guest, times: \"row.times + 1\"}\n"
    "      Cancelled:\n"
    "        for_each: \"event.nights.map(n, meta.aggregateId + '/' + string(n))\"\n"
    "        when: \"key.endsWith('/1') || row.times < 3\"\n"
    "        delete: true\n"
    "  Rooms:\n"
    "    key: meta.aggregateId\n"
    "    columns:\n"
    "      nights: {type: int, default: 0}\n"
    "      last: {type: string, default: \"\"}\n"
    "    on:\n"
    "      Booked: {nights: \"row.nights + size(event.nights)\", last: event.guest}\n";

/* The first problem loading text gives. */
static char *load_problem(const char *text)
{
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("t.yaml", text, strlen(text), &diags);
    assert_null(d);
    assert_true(diags.len > 0);
    char *m = xasprintf("%d:%d: %s: %s", diags.items[0].line, diags.items[0].col,
                        diags.items[0].path, diags.items[0].message);
    diag_list_done(&diags);
    return m;
}

static struct store *open_new(void)
{
    char *path = xasprintf("%s/%d.db", tmpdir, ++file_counter);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.synchronous = 0;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        fail_msg("store_open(%s): %s", path, e.msg);
    free(path);
    return s;
}

static void append(struct store *s, int room, const char *type, const char *data)
{
    char stream[64];
    snprintf(stream, sizeof stream, "Room-%d", room);
    struct new_event ne = {type, 1, NULL, data, NULL};
    err e = {0};
    if (store_append(s, stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e) != ST_OK)
        fail_msg("append: %s", e.msg);
}

/* A list of 0..4 nights out of 1..6, possibly with one named twice. */
static void nights_json(unsigned *seed, strbuf *sb)
{
    sb_reset(sb);
    sb_adds(sb, "[");
    int n = (int)(rand_r(seed) % 5);
    for (int i = 0; i < n; i++)
        sb_addf(sb, "%s%u", i ? "," : "", 1 + rand_r(seed) % 6);
    sb_adds(sb, "]");
}

/* One key's rows (or all, key NULL) at `at`, as JSON text. */
static char *query_key_json(struct store *s, const struct domain *d, const char *name,
                            const char *key, int64_t at)
{
    value rows = query(s, d, name, key, at);
    char *j = json_to_string(&rows);
    value_free(rows);
    return j;
}

/* ---- tests ---- */

static void test_for_each_query_at_equals_fresh_fold(void **state)
{
    struct domain *d = load_domain(DOMAIN);
    const struct projection_spec *p = domain_projection(d, "Nights");
    assert_true(p->keyed);
    assert_null(p->key);
    struct store *s = open_new();
    unsigned seed = 20260301;
    err e = {0};
    strbuf nights, data;
    sb_init(&nights);
    sb_init(&data);
    const int N = 600;
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < N; i++) {
        int room = 100 + (int)(rand_r(&seed) % 8);
        nights_json(&seed, &nights);
        sb_reset(&data);
        if (rand_r(&seed) % 4 == 0) {
            sb_addf(&data, "{\"nights\":%s}", nights.buf);
            append(s, room, "Cancelled", data.buf);
        } else {
            sb_addf(&data, "{\"guest\":\"g%u\",\"nights\":%s}", rand_r(&seed) % 50, nights.buf);
            append(s, room, "Booked", data.buf);
        }
    }
    assert_int_equal(store_commit(s, &e), ST_OK);
    int64_t n;
    while (projection_catch_up(s, d, NULL, 1 + rand_r(&seed) % 200, true, &n, &e) == ST_OK && n > 0)
        ;
    assert_int_equal(e.code, ST_OK);
    for (int trial = 0; trial < 20; trial++) {
        int64_t at = 1 + (int64_t)(rand_r(&seed) % N);
        struct store *fresh = fresh_copy(s, at);
        catch_up_all(fresh, d);
        static const char *const names[] = {"Nights", "Rooms"};
        for (size_t k = 0; k < 2; k++) {
            char *want = query_key_json(fresh, d, names[k], NULL, 0);
            char *got = query_key_json(s, d, names[k], NULL, at);
            if (strcmp(want, got) != 0)
                fail_msg("%s at %lld (trial %d):\n  fresh fold: %.400s\n  at P:       %.400s",
                         names[k], (long long)at, trial, want, got);
            free(want);
            free(got);
        }
        /* The row count at P (several rows may come or go at one position). */
        int64_t want_n, got_n;
        assert_int_equal(projection_count(fresh, d, "Nights", 0, &want_n, &e), ST_OK);
        assert_int_equal(projection_count(s, d, "Nights", at, &got_n, &e), ST_OK);
        assert_int_equal(got_n, want_n);
        char key[32];
        snprintf(key, sizeof key, "%u/%u", 100 + rand_r(&seed) % 8, 1 + rand_r(&seed) % 6);
        char *a = query_key_json(fresh, d, "Nights", key, 0),
             *b = query_key_json(s, d, "Nights", key, at);
        assert_string_equal(a, b);
        free(a);
        free(b);
        store_close(fresh);
    }
    sb_done(&nights);
    sb_done(&data);
    store_close(s);
    domain_free(d);
}

/* A night named twice in one event is one row changed once per run: times
 * counts both runs, in one history entry. */
static void test_key_named_twice(void **state)
{
    struct domain *d = load_domain(DOMAIN);
    struct store *s = open_new();
    append(s, 7, "Booked", "{\"guest\":\"ann\",\"nights\":[1,2,1]}");
    catch_up_all(s, d);
    char *j = query_key_json(s, d, "Nights", NULL, 0);
    assert_string_equal(j, "[{\"key\":\"7/1\",\"guest\":\"ann\",\"times\":2},"
                           "{\"key\":\"7/2\",\"guest\":\"ann\",\"times\":1}]");
    free(j);
    /* The Cancelled handler's `when` reads `key`: 7/1 goes, 7/2 stays (times 1 < 3
     * also lets it go), so both go; a third night never booked is no change. */
    append(s, 7, "Cancelled", "{\"nights\":[1,2,3]}");
    catch_up_all(s, d);
    j = query_key_json(s, d, "Nights", NULL, 0);
    assert_string_equal(j, "[]");
    free(j);
    j = query_key_json(s, d, "Nights", NULL, 1);
    assert_string_equal(j, "[{\"key\":\"7/1\",\"guest\":\"ann\",\"times\":2},"
                           "{\"key\":\"7/2\",\"guest\":\"ann\",\"times\":1}]");
    free(j);
    err e = {0};
    int64_t c;
    assert_int_equal(projection_count(s, d, "Nights", 1, &c, &e), ST_OK);
    assert_int_equal(c, 2);
    assert_int_equal(projection_count(s, d, "Nights", 2, &c, &e), ST_OK);
    assert_int_equal(c, 0);
    store_close(s);
    domain_free(d);
}

/* The failure of one projection, as its status reports it. */
static char *failure_of(struct store *s, const struct domain *d, const char *name)
{
    struct proj_lag *lags;
    size_t n;
    err e = {0};
    assert_int_equal(projection_status(s, d, &lags, &n, &e), ST_OK);
    char *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(lags[i].name, name) == 0 && lags[i].error)
            out = xstrdup(lags[i].error);
    proj_lag_free(lags, n);
    return out;
}

/* A for_each that gives something other than a list of scalars, and a value of
 * the wrong type for a typed column, fail the projection naming the handler or
 * the column; nothing of the failing event is written. */
static void test_failures_name_the_place(void **state)
{
    char *text = xstrdup(DOMAIN);
    struct domain *d = load_domain(text);
    free(text);
    struct store *s = open_new();
    append(s, 1, "Booked", "{\"guest\":\"ann\",\"nights\":[1,2]}");
    append(s, 1, "Booked", "{\"guest\":\"bob\",\"nights\":[3,[4]]}");
    catch_up_all(s, d);
    char *why = failure_of(s, d, "Nights");
    assert_non_null(why);
    assert_non_null(strstr(why, "projections.Nights.on.Booked.for_each"));
    free(why);
    char *j = query_key_json(s, d, "Nights", NULL, 0);
    assert_string_equal(j, "[{\"key\":\"1/1\",\"guest\":\"ann\",\"times\":1},"
                           "{\"key\":\"1/2\",\"guest\":\"ann\",\"times\":1}]");
    free(j);
    store_close(s);
    domain_free(d);

    /* A column typed int, set from a field whose type is not known statically. */
    static const char TYPED[] = "domain: t\n"
                                "aggregates:\n"
                                "  R:\n"
                                "    id: rId\n"
                                "    events:\n"
                                "      Set:\n"
                                "        fields: {v: any}\n"
                                "projections:\n"
                                "  P:\n"
                                "    key: meta.aggregateId\n"
                                "    columns: {n: {type: int, default: 0}, f: 0.5}\n"
                                "    on:\n"
                                "      Set: {n: event.v, f: \"1\"}\n";
    const char *last = strstr(TYPED, "      Set: {n:");
    char *bad_text =
        xasprintf("%.*s      Set: {n: event.v, f: \"'x'\"}\n", (int)(last - TYPED), TYPED);
    char *bad = load_problem(bad_text);
    free(bad_text);
    assert_string_equal(
        bad, "13:28: projections.P.on.Set.f: `'x'` is a string, but column 'f' is float");
    free(bad);
    d = load_domain(TYPED); /* an int fits a float column */
    s = open_new();
    /* An int first: the column's check, once passed by an int, is still made for
     * the string after it (a fold remembers only the types a column accepted). */
    struct new_event ok = {"Set", 1, NULL, "{\"v\":5}", NULL};
    struct new_event ne = {"Set", 1, NULL, "{\"v\":\"Zed\"}", NULL};
    err e = {0};
    assert_int_equal(store_append(s, "R-x", STORE_ANY_VERSION, NULL, &ok, 1, NULL, &e), ST_OK);
    assert_int_equal(store_append(s, "R-x", STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e), ST_OK);
    catch_up_all(s, d);
    j = query_key_json(s, d, "P", NULL, 0);
    assert_non_null(strstr(j, "\"n\":5"));
    free(j);
    why = failure_of(s, d, "P");
    assert_non_null(why);
    assert_non_null(strstr(why, "t.yaml:13:13: projections.P.on.Set.set.n: column"));
    assert_non_null(strstr(why, "column 'n': expected int, got string \"Zed\""));
    free(why);
    store_close(s);
    domain_free(d);
}

/* The key by its fast form (expr_fast: `event.k`, `'r-' + meta.aggregateId`)
 * names the same rows as the key by the evaluator (the same values written so
 * that no fast form takes them), for every kind of scalar (a string, an int that
 * names the same row as its text, a double, a bool); and where the event does
 * not fit the fast form (a list, a missing field) both fail at the same event. */
static void test_fast_key_equals_evaluated_key(void **state)
{
    static const char KEYS[] = "domain: t\n"
                               "aggregates:\n"
                               "  R:\n"
                               "    id: rId\n"
                               "    events:\n"
                               "      Put:\n"
                               "        fields: {k: any, v: int}\n"
                               "projections:\n"
                               "  Fast:\n"
                               "    key: event.k\n"
                               "    columns: {sum: 0, n: 0}\n"
                               "    on: {Put: {sum: \"row.sum + event.v\", n: \"row.n + 1\"}}\n"
                               "  Slow:\n"
                               "    key: \"true ? event.k : null\"\n"
                               "    columns: {sum: 0, n: 0}\n"
                               "    on: {Put: {sum: \"row.sum + event.v\", n: \"row.n + 1\"}}\n"
                               "  FastMeta:\n"
                               "    key: \"'r-' + meta.aggregateId\"\n"
                               "    columns: {n: 0}\n"
                               "    on: {Put: {n: \"row.n + 1\"}}\n"
                               "  SlowMeta:\n"
                               "    key: \"'r-' + string(meta.aggregateId)\"\n"
                               "    columns: {n: 0}\n"
                               "    on: {Put: {n: \"row.n + 1\"}}\n";
    static const char *const ks[] = {"\"a\"", "\"b\"", "7", "\"7\"", "1.5", "true", "\"\"", "-3"};
    static const char *const bad[] = {"\"k\":[1],", ""}; /* a list; no k */
    for (size_t b = 0; b < 2; b++) {
        struct domain *d = load_domain(KEYS);
        struct store *s = open_new();
        unsigned seed = 7 + (unsigned)b;
        for (int i = 0; i < 60; i++) {
            char stream[16], data[64];
            snprintf(stream, sizeof stream, "R-%u", rand_r(&seed) % 5);
            snprintf(data, sizeof data, "{\"k\":%s,\"v\":%d}", ks[rand_r(&seed) % 8], i);
            struct new_event ne = {"Put", 1, NULL, data, NULL};
            err e = {0};
            assert_int_equal(store_append(s, stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e),
                             ST_OK);
        }
        char data[64];
        snprintf(data, sizeof data, "{%s\"v\":1}", bad[b]);
        struct new_event ne = {"Put", 1, NULL, data, NULL};
        err e = {0};
        assert_int_equal(store_append(s, "R-9", STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e), ST_OK);
        catch_up_all(s, d);
        static const char *const pairs[][2] = {{"Fast", "Slow"}, {"FastMeta", "SlowMeta"}};
        for (size_t i = 0; i < 2; i++) {
            char *fast = query_key_json(s, d, pairs[i][0], NULL, 0);
            char *slow = query_key_json(s, d, pairs[i][1], NULL, 0);
            assert_string_equal(fast, slow);
            assert_true(strlen(fast) > 2);
            free(fast);
            free(slow);
        }
        /* Fast and Slow fail at the last event alike (a list is no key; an event
         * without k is refused before the key, by every projection). */
        char *f = failure_of(s, d, "Fast"), *sl = failure_of(s, d, "Slow");
        assert_non_null(f);
        assert_non_null(sl);
        const char *why = b == 0 ? "gave a list, not a string or a number"
                                 : "event Put at position 61: missing field 'k'";
        assert_non_null(strstr(f, why));
        assert_non_null(strstr(sl, why));
        assert_non_null(strstr(f, b == 0 ? "projections.Fast.key" : "projections.Fast.on.Put"));
        free(f);
        free(sl);
        char *m = failure_of(s, d, "FastMeta");
        if (b == 0)
            assert_null(m); /* its key fits: only a key of k fails */
        free(m);
        store_close(s);
        domain_free(d);
    }
}

/* Loading: for_each must give a list; a keyless projection needs it in every
 * handler once one has it; `key` is a name only where for_each binds it. */
static void test_load_problems(void **state)
{
    static const char HEAD[] = "domain: t\n"
                               "aggregates:\n"
                               "  R:\n"
                               "    id: rId\n"
                               "    events:\n"
                               "      A:\n"
                               "        fields: {xs: list}\n"
                               "      B:\n"
                               "        fields: {xs: list}\n"
                               "projections:\n"
                               "  P:\n"
                               "    columns: {n: 0}\n"
                               "    on:\n";
    char *t = xasprintf("%s      A: {for_each: \"size(event.xs)\", set: {n: \"1\"}}\n", HEAD);
    char *m = load_problem(t);
    assert_string_equal(m, "14:21: projections.P.on.A.for_each: `size(event.xs)` is an int, "
                           "but for_each gives a list of row keys");
    free(m);
    free(t);
    t = xasprintf("%s      A: {for_each: \"event.xs\", set: {n: \"1\"}}\n      B: {n: \"2\"}\n",
                  HEAD);
    m = load_problem(t);
    assert_string_equal(m, "15:7: projections.P.on.B: projection P has no `key:`, so this handler "
                           "needs `for_each:` like the others (which rows does it change?)");
    free(m);
    free(t);
    t = xasprintf("%s      A: {n: \"size(key)\"}\n", HEAD);
    m = load_problem(t);
    assert_non_null(strstr(m, "key"));
    free(m);
    free(t);
}

/* Migration 3 rewrites a format-2 history table (valid_from the rowid) in place:
 * the same entries, now unique on (key, valid_from). */
static void test_history_rekey_migration(void **state)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    err e = {0};
    assert_int_equal(store_migrate_sqlite(db, 0, 2, &e), ST_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "CREATE TABLE \"proj_A\"\"b_history\"(valid_from INTEGER PRIMARY KEY, key TEXT "
            "NOT NULL, row TEXT, changes TEXT);\n"
            "CREATE INDEX \"proj_A\"\"b_history_by_key\" ON \"proj_A\"\"b_history\"(key);\n"
            "INSERT INTO \"proj_A\"\"b_history\" VALUES(3, 'k', '{\"n\":1}', NULL), "
            "(5, 'j', NULL, NULL), (9, 'k', NULL, '{\"set\":{\"n\":2}}');\n",
            NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(store_migrate_sqlite(db, 2, store_format_latest(), &e), ST_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(valid_from || key || "
                                        "coalesce(row, '-') || coalesce(changes, '-'), ' ') FROM "
                                        "(SELECT * FROM \"proj_A\"\"b_history\" ORDER BY rowid)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "3k{\"n\":1}- 5j-- 9k-{\"set\":{\"n\":2}}");
    sqlite3_finalize(st);
    /* Two rows at one position now fit; the same key twice at one does not. */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO \"proj_A\"\"b_history\"(valid_from, key) "
                                  "VALUES(9, 'j')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO \"proj_A\"\"b_history\"(valid_from, key) "
                                      "VALUES(9, 'j')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_for_each_query_at_equals_fresh_fold),
        cmocka_unit_test(test_key_named_twice),
        cmocka_unit_test(test_failures_name_the_place),
        cmocka_unit_test(test_fast_key_equals_evaluated_key),
        cmocka_unit_test(test_load_problems),
        cmocka_unit_test(test_history_rekey_migration),
    };
    return cmocka_run_group_tests_name("projection_keys", tests, setup_dir, teardown_dir);
}
