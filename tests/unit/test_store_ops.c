/* test_store_ops.c: the store's operations for looking at the log from outside
 * the event model (store.h: ledger_claim, type_counts, type_totals, count_by,
 * append_time, health, query), run against both backends (store_backends.h) with
 * the same expectations: one suite, two backends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "store_backends.h"

/* A store of its own with a small log: A-1 Opened, A-1 Deposited, B-1 Opened
 * (a day later), A-1 Deposited (schema 2). */
static struct store *small_log(char **path)
{
    *path = fresh_path("ops.db");
    struct store *s = open_ok(*path);
    append1(s, "A-1", "Opened", "{}", "2026-01-01T10:00:00Z");
    append1(s, "A-1", "Deposited", "{\"n\":1}", "2026-01-01T11:00:00Z");
    append1(s, "B-1", "Opened", "{}", "2026-01-02T10:00:00Z");
    struct new_event n = {"Deposited", 2, "2026-01-02T12:00:00Z", "{\"n\":2}", NULL};
    err e = {0};
    assert_int_equal(store_append(s, "A-1", STORE_ANY_VERSION, NULL, &n, 1, NULL, &e), ST_OK);
    return s;
}

static void test_ledger(void **state)
{
    char *path;
    struct store *s = small_log(&path);
    err e = {0};
    unsigned char a[16] = {1, 2, 3}, b[16] = {0xff, 0, 0x80};
    bool fresh = false;
    assert_int_equal(store_begin(s, &e), ST_OK);
    assert_int_equal(store_ledger_claim(s, a, 1, &fresh, &e), ST_OK);
    assert_true(fresh);
    assert_int_equal(store_ledger_claim(s, a, 2, &fresh, &e), ST_OK);
    assert_false(fresh);
    assert_int_equal(store_ledger_claim(s, b, 3, &fresh, &e), ST_OK);
    assert_true(fresh);
    assert_int_equal(store_commit(s, &e), ST_OK);
    store_close(s);
    /* Kept across a reopen. */
    s = open_ok(path);
    assert_int_equal(store_begin(s, &e), ST_OK);
    assert_int_equal(store_ledger_claim(s, b, 4, &fresh, &e), ST_OK);
    assert_false(fresh);
    store_rollback(s);
    store_close(s);
    free(path);
}

static void test_type_counts(void **state)
{
    char *path;
    struct store *s = small_log(&path);
    err e = {0};
    struct type_count *tc;
    size_t n;
    assert_int_equal(store_type_counts(s, &tc, &n, &e), ST_OK);
    assert_int_equal(n, 3);
    assert_string_equal(tc[0].type, "Deposited");
    assert_int_equal(tc[0].schema, 1);
    assert_int_equal(tc[0].count, 1);
    assert_string_equal(tc[1].type, "Deposited");
    assert_int_equal(tc[1].schema, 2);
    assert_string_equal(tc[2].type, "Opened");
    assert_int_equal(tc[2].count, 2);
    type_counts_free(tc, n);

    assert_int_equal(store_type_totals(s, 0, &tc, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    assert_string_equal(tc[0].type, "Deposited"); /* 2, then by name */
    assert_int_equal(tc[0].count, 2);
    assert_int_equal(tc[0].schema, 0);
    assert_string_equal(tc[1].type, "Opened");
    type_counts_free(tc, n);
    assert_int_equal(store_type_totals(s, 2, &tc, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tc[0].count, 1);
    type_counts_free(tc, n);
    store_close(s);
    free(path);
}

struct rows {
    char text[600];
};

static int count_row(void *ctx, const struct store_count_row *row, err *e)
{
    struct rows *r = ctx;
    size_t l = strlen(r->text);
    snprintf(r->text + l, sizeof r->text - l, "%s/%s/%lld/%s/%s;", row->value ? row->value : "-",
             row->bucket ? row->bucket : "-", (long long)row->count, row->first, row->last);
    return ST_OK;
}

/* count_by's rows come in no particular order: sorted here by line. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sorted(struct rows *r)
{
    char *parts[32];
    size_t n = 0;
    for (char *p = strtok(r->text, ";"); p && n < 32; p = strtok(NULL, ";"))
        parts[n++] = xstrdup(p);
    qsort(parts, n, sizeof *parts, cmp_str);
    r->text[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(r->text, parts[i]);
        strcat(r->text, ";");
        free(parts[i]);
    }
}

static void expect_counts(struct store *s, const struct event_filter *f, enum store_group by,
                          int bucket, const char *want)
{
    struct rows r = {{0}};
    err e = {0};
    assert_int_equal(store_count_by(s, f, by, bucket, count_row, &r, &e), ST_OK);
    sorted(&r);
    assert_string_equal(r.text, want);
}

static void test_count_by(void **state)
{
    char *path;
    struct store *s = small_log(&path);
    struct event_filter all = {0};
    expect_counts(s, &all, STORE_GROUP_NONE, 0,
                  "-/-/4/2026-01-01T10:00:00.000Z/2026-01-02T12:00:00.000Z;");
    expect_counts(s, &all, STORE_GROUP_TYPE, 0,
                  "Deposited/-/2/2026-01-01T11:00:00.000Z/2026-01-02T12:00:00.000Z;"
                  "Opened/-/2/2026-01-01T10:00:00.000Z/2026-01-02T10:00:00.000Z;");
    expect_counts(s, &all, STORE_GROUP_STREAM, 10,
                  "A-1/2026-01-01/2/2026-01-01T10:00:00.000Z/2026-01-01T11:00:00.000Z;"
                  "A-1/2026-01-02/1/2026-01-02T12:00:00.000Z/2026-01-02T12:00:00.000Z;"
                  "B-1/2026-01-02/1/2026-01-02T10:00:00.000Z/2026-01-02T10:00:00.000Z;");
    struct event_filter f = {.from = 2, .to = 3, .type = "Opened"};
    expect_counts(s, &f, STORE_GROUP_TYPE, 0,
                  "Opened/-/1/2026-01-02T10:00:00.000Z/2026-01-02T10:00:00.000Z;");
    struct event_filter g = {.stream = "B-1"};
    expect_counts(s, &g, STORE_GROUP_NONE, 0,
                  "-/-/1/2026-01-02T10:00:00.000Z/2026-01-02T10:00:00.000Z;");
    struct event_filter none = {.stream = "C-9"};
    expect_counts(s, &none, STORE_GROUP_TYPE, 0, "");
    struct event_filter text = {.text = "x"};
    struct rows r = {{0}};
    err e = {0};
    assert_int_equal(store_count_by(s, &text, STORE_GROUP_NONE, 0, count_row, &r, &e), ST_USAGE);
    store_close(s);
    free(path);
}

/* envelope_only reads data as "{}" and meta as NULL on both backends. */
static void test_envelope_only(void **state)
{
    char *path;
    struct store *s = small_log(&path);
    struct event_filter f = {.envelope_only = true, .type = "Deposited"};
    struct event_list out;
    event_list_init(&out);
    err e = {0};
    assert_int_equal(store_read_page(s, &f, 0, false, 10, &out, &e), ST_OK);
    assert_int_equal(out.len, 2);
    assert_string_equal(out.items[0].data, "{}");
    assert_null(out.items[0].meta);
    assert_string_equal(out.items[1].time, "2026-01-02T12:00:00.000Z");
    assert_int_equal(out.items[1].schema, 2);
    event_list_done(&out);
    store_close(s);
    free(path);
}

static void test_append_time_and_health(void **state)
{
    char *path;
    int64_t before = time_now_ms();
    struct store *s = small_log(&path);
    err e = {0};
    int64_t ms = 0;
    assert_int_equal(store_append_time(s, 3, &ms, &e), ST_OK);
    assert_true(ms >= before && ms <= time_now_ms());
    /* One reading per transaction: positions 5 and 6 share 5's. */
    struct new_event two[2] = {ev("X", "{}"), ev("X", "{}")};
    assert_int_equal(store_append(s, "C-1", STORE_ANY_VERSION, NULL, two, 2, NULL, &e), ST_OK);
    int64_t a = 0, b = 0;
    assert_int_equal(store_append_time(s, 5, &a, &e), ST_OK);
    assert_int_equal(store_append_time(s, 6, &b, &e), ST_OK);
    assert_int_equal(a, b);

    struct store_health h;
    assert_int_equal(store_health(s, &h, &e), ST_OK);
    assert_true(h.durable);
    assert_true(h.intact);
    assert_string_equal(h.integrity, "ok");
    assert_int_equal(h.head, 6);
    assert_int_equal(h.count, 6);
    assert_int_equal(h.first_gap, 0);
    store_close(s);
    free(path);
}

struct sink {
    char text[1000];
    int rows, stop_after;
};

static void on_columns(void *ctx, const char *const *names, size_t n)
{
    struct sink *k = ctx;
    for (size_t i = 0; i < n; i++) {
        strcat(k->text, names[i]);
        strcat(k->text, i + 1 < n ? "," : "|");
    }
}

static int on_row(void *ctx, const struct store_cell *cells, size_t n)
{
    struct sink *k = ctx;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(k->text);
        const struct store_cell *c = &cells[i];
        switch (c->type) {
        case CELL_INT:
            snprintf(k->text + l, sizeof k->text - l, "i%lld", (long long)c->i);
            break;
        case CELL_FLOAT:
            snprintf(k->text + l, sizeof k->text - l, "f%g", c->f);
            break;
        case CELL_TEXT:
            snprintf(k->text + l, sizeof k->text - l, "t%.*s", (int)c->len, c->p);
            break;
        case CELL_BLOB:
            snprintf(k->text + l, sizeof k->text - l, "b%zu", c->len);
            break;
        default:
            snprintf(k->text + l, sizeof k->text - l, "null");
        }
        strcat(k->text, i + 1 < n ? "," : "|");
    }
    return ++k->rows == k->stop_after;
}

static int query(struct store *s, const char *sql, struct sink *k, err *e)
{
    struct store_query_sink sink = {k, on_columns, on_row};
    memset(k->text, 0, sizeof k->text);
    k->rows = 0;
    return store_query(s, sql, 2000, &sink, e);
}

static void test_query(void **state)
{
    char *path;
    struct store *s = small_log(&path);
    err e = {0};
    struct sink k = {.stop_after = 0};
    assert_int_equal(query(s,
                           "SELECT position AS p, stream, type, schema * 1.5 AS f, meta "
                           "FROM events WHERE position <= 2 ORDER BY position",
                           &k, &e),
                     ST_OK);
    assert_string_equal(k.text, "p,stream,type,f,meta|i1,tA-1,tOpened,f1.5,null|"
                                "i2,tA-1,tDeposited,f1.5,null|");
    /* A sink that wants no more stops the statement: not an error. */
    k.stop_after = 1;
    assert_int_equal(query(s, "SELECT position FROM events ORDER BY position", &k, &e), ST_OK);
    assert_int_equal(k.rows, 1);
    k.stop_after = 0;
    /* Refused: writing, two statements. The log is unchanged. */
    e = (err){0};
    assert_int_equal(query(s, "DELETE FROM event_log", &k, &e), ST_USAGE);
    assert_non_null(strstr(e.msg, "would write"));
    e = (err){0};
    assert_int_equal(query(s, "SELECT 1; DELETE FROM event_log", &k, &e), ST_USAGE);
    assert_non_null(strstr(e.msg, "one statement at a time"));
    e = (err){0};
    assert_int_equal(query(s, "SELECT nosuchcolumn FROM events", &k, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "SQL error: "));
    assert_int_equal(head_of(s), 4);
    store_close(s);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ledger),   cmocka_unit_test(test_type_counts),
        cmocka_unit_test(test_count_by), cmocka_unit_test(test_append_time_and_health),
        cmocka_unit_test(test_query),    cmocka_unit_test(test_envelope_only),
    };
    int failed = cmocka_run_group_tests_name("store ops on sqlite", tests, setup_dir, teardown_dir);
    if (pg_base_uri())
        failed +=
            cmocka_run_group_tests_name("store ops on postgresql", tests, setup_pg, teardown_pg);
    else
        printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL run is left out\n");
    return failed;
}
