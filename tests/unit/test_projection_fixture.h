/* test_projection_fixture.h: the store fixture shared by test_projection.c and
 * test_projection_at.c: a private temp folder (setup_dir/teardown_dir), the
 * DOMAIN_V1 test domain and its changed v2, store opening, appending deposits
 * and closures, catching up, querying rows and lag. Include after cmocka.h (and
 * the headers it needs). */
#ifndef STRATA_TEST_PROJECTION_FIXTURE_H
#define STRATA_TEST_PROJECTION_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/domain.h"
#include "core/json.h"
#include "core/projection.h"
#include "core/store.h"
#include "core/store_sqlite.h"
#include "test_domain_fixture.h"

static char tmpdir[256];
static int file_counter;

/* Balances: keyed, with a delete handler. Totals: keyless, with a `when`.
 * Ratio: divides by the amount, so an amount of 0 breaks it (and only it). */
static const char DOMAIN_V1[] =
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
    "  Balances:\n"
    "    key: meta.aggregateId\n"
    "    columns: {balance: 0, n: 0, last: null, ratio: 0.5, tags: []}\n"
    "    on:\n"
    "      MoneyDeposited: {balance: \"row.balance + event.amount\", n: \"row.n + 1\", "
    "last: meta.position}\n"
    "      AccountClosed: {delete: true}\n"
    "  Totals:\n"
    "    columns: {total: 0, count: 0, big: []}\n"
    "    on:\n"
    "      MoneyDeposited: {total: \"row.total + event.amount\", count: \"row.count + 1\"}\n"
    "      AccountClosed:\n"
    "        when: \"event.reason == 'reset'\"\n"
    "        delete: true\n"
    "  Ratio:\n"
    "    key: meta.aggregateId\n"
    "    columns: {r: 0}\n"
    "    on:\n"
    "      MoneyDeposited: {r: \"row.r + 1000 / event.amount\"}\n";

/* The same domain with Balances counting twice: a changed definition. */
static inline struct domain *load_domain_v2(void)
{
    char *text = xstrdup(DOMAIN_V1);
    char *at = strstr(text, "n: \"row.n + 1\"");
    assert_non_null(at);
    at[12] = '2';
    struct domain *d = load_domain(text);
    free(text);
    return d;
}

static inline int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/strata-proj-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int teardown_dir(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static inline char *new_path(void)
{
    return xasprintf("%s/%d.db", tmpdir, ++file_counter);
}

static inline struct store *open_ok(const char *path)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.synchronous = 0;
    err e = {0};
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        fail_msg("store_open(%s): %s", path, e.msg);
    return s;
}

/* A deposit of amount into account "A<acct>" at a time derived from the position. */
static inline void append_one(struct store *s, const char *type, int acct, const char *data)
{
    char stream[64], when[TIME_TEXT_LEN + 1];
    snprintf(stream, sizeof stream, "Account-A%d", acct);
    int64_t head = 0;
    store_head(s, &head, NULL);
    time_format_ms(1700000000000LL + (head + 1) * 1000, when);
    struct new_event ne = {type, 1, when, data, NULL};
    err e = {0};
    if (store_append(s, stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e) != ST_OK)
        fail_msg("append: %s", e.msg);
}

static inline void deposit(struct store *s, int acct, int amount)
{
    char data[64];
    snprintf(data, sizeof data, "{\"amount\":%d}", amount);
    append_one(s, "MoneyDeposited", acct, data);
}

static inline void close_account(struct store *s, int acct, const char *reason)
{
    char data[64];
    snprintf(data, sizeof data, "{\"reason\":\"%s\"}", reason);
    append_one(s, "AccountClosed", acct, data);
}

/* n deposits spread over `accounts` accounts, amounts 1..100, in one transaction. */
static inline void deposits(struct store *s, int n, int accounts, unsigned *seed, int64_t *sums)
{
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < n; i++) {
        int a = (int)(rand_r(seed) % (unsigned)accounts);
        int amount = 1 + (int)(rand_r(seed) % 100);
        deposit(s, a, amount);
        if (sums)
            sums[a] += amount;
    }
    assert_int_equal(store_commit(s, &e), ST_OK);
}

static inline void catch_up_all(struct store *s, const struct domain *d)
{
    err e = {0};
    if (projection_catch_up(s, d, NULL, 0, true, NULL, &e) != ST_OK)
        fail_msg("catch_up: %s", e.msg);
}

static inline value query(struct store *s, const struct domain *d, const char *name,
                          const char *key, int64_t at)
{
    value rows;
    err e = {0};
    if (projection_query(s, d, name, key, at, 0, 0, &rows, &e) != ST_OK)
        fail_msg("query %s at %lld: %s", name, (long long)at, e.msg);
    return rows;
}

static inline char *query_json(struct store *s, const struct domain *d, const char *name,
                               int64_t at)
{
    value rows = query(s, d, name, NULL, at);
    char *j = json_to_string(&rows);
    value_free(rows);
    return j;
}

static int json_row_add(void *ctx, const char *json, size_t len, err *e)
{
    (void)e;
    strbuf *sb = ctx;
    sb_add(sb, json, len);
    sb_addc(sb, '\n');
    return ST_OK;
}

/* projection_query_json gives, row for row, the bytes json_write gives for the
 * maps projection_query returns (the same key, position and page). */
static inline void json_same_as_values(struct store *s, const struct domain *d, const char *name,
                                       const char *key, int64_t at, size_t offset, size_t limit)
{
    value rows;
    err e = {0};
    if (projection_query(s, d, name, key, at, offset, limit, &rows, &e) != ST_OK)
        fail_msg("query %s at %lld: %s", name, (long long)at, e.msg);
    strbuf want, got;
    sb_init(&want);
    sb_init(&got);
    for (size_t i = 0; i < value_list_len(&rows); i++) {
        json_write(&want, value_list_at(&rows, i));
        sb_addc(&want, '\n');
    }
    value_free(rows);
    if (projection_query_json(s, d, name, key, at, offset, limit, json_row_add, &got, &e) != ST_OK)
        fail_msg("query_json %s at %lld: %s", name, (long long)at, e.msg);
    if (want.len != got.len || (want.len && memcmp(want.buf, got.buf, want.len) != 0))
        fail_msg("%s at %lld (key %s, offset %zu, limit %zu):\n  values: %.400s\n  json:   %.400s",
                 name, (long long)at, key ? key : "-", offset, limit, want.buf ? want.buf : "",
                 got.buf ? got.buf : "");
    sb_done(&want);
    sb_done(&got);
}

static inline struct proj_lag lag_of(struct store *s, const struct domain *d, const char *name)
{
    struct proj_lag *lags;
    size_t n;
    err e = {0};
    if (projection_status(s, d, &lags, &n, &e) != ST_OK)
        fail_msg("status: %s", e.msg);
    struct proj_lag out;
    memset(&out, 0, sizeof out);
    for (size_t i = 0; i < n; i++)
        if (strcmp(lags[i].name, name) == 0) {
            out = lags[i];
            out.name = xstrdup(out.name);
            out.error = out.error ? xstrdup(out.error) : NULL;
            out.error_event = out.error_event ? xstrdup(out.error_event) : NULL;
        }
    proj_lag_free(lags, n);
    assert_non_null(out.name);
    return out;
}

static inline void lag_done(struct proj_lag *l)
{
    free(l->name);
    free(l->error);
    free(l->error_event);
}

static inline int64_t row_int(const value *rows, const char *key, const char *col)
{
    for (size_t i = 0; i < value_list_len(rows); i++) {
        const value *r = value_list_at(rows, i);
        const value *k = value_map_get(r, "key");
        if (!key || (k && strcmp(value_str(k), key) == 0)) {
            const value *v = value_map_get(r, col);
            assert_non_null(v);
            assert_int_equal(v->type, V_INT);
            return v->u.i;
        }
    }
    return -1;
}

/* A new in-memory store holding the events up to p of src: a fresh fold's input. */
static inline struct store *fresh_copy(struct store *src, int64_t p)
{
    err e = {0};
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    struct store *dst = store_open(":memory:", &opt, &e);
    assert_non_null(dst);
    struct event_filter f;
    memset(&f, 0, sizeof f);
    f.to = p;
    struct event_list l;
    event_list_init(&l);
    assert_int_equal(store_read_page(src, &f, 0, false, (size_t)p, &l, &e), ST_OK);
    assert_int_equal(store_begin(dst, &e), ST_OK);
    for (size_t i = 0; i < l.len; i++) {
        struct new_event ne = {l.items[i].type, l.items[i].schema, l.items[i].time, l.items[i].data,
                               l.items[i].meta};
        assert_int_equal(
            store_append(dst, l.items[i].stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e), ST_OK);
    }
    assert_int_equal(store_commit(dst, &e), ST_OK);
    event_list_done(&l);
    return dst;
}

#endif
