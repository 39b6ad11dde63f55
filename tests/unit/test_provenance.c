/* test_provenance.c: unit tests for provenance (core/provenance.h) and bisect
 * (core/bisect.h), seeded property tests against what Strata already answers:
 *
 * - a row's `why` lines add up to the row at every past position (the fields'
 *   after - before summed equal projection_query at that position), also for a
 *   keyless row whose growing list is stored as change entries, each line's
 *   list the one before plus one item;
 * - an instance's `why` lines add up to aggregate_load's state at that position;
 * - bisect's answer equals a brute-force scan of every position with
 *   projection_query (the first position where the condition is false);
 * - bisect --fails finds a planted event a handler or an apply cannot fold,
 *   and writes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/bisect.h"
#include "core/domain.h"
#include "core/json.h"
#include "core/projection.h"
#include "core/provenance.h"
#include "core/store.h"
#include "test_domain_fixture.h"

static const char DOMAIN[] =
    "domain: t\n"
    "aggregates:\n"
    "  Account:\n"
    "    id: accountId\n"
    "    snapshot_every: 7\n"
    "    state:\n"
    "      balance: {type: int, default: 0}\n"
    "      n: {type: int, default: 0}\n"
    "    commands:\n"
    "      Deposit:\n"
    "        payload: {accountId: string, amount: int}\n"
    "        emit:\n"
    "          - MoneyDeposited: {amount: payload.amount}\n"
    "    events:\n"
    "      MoneyDeposited:\n"
    "        fields: {amount: int}\n"
    "        apply: {balance: \"state.balance + 1000 / event.amount\", n: \"state.n + 1\"}\n"
    "projections:\n"
    "  Balances:\n"
    "    key: meta.aggregateId\n"
    "    columns: {balance: 0, n: 0}\n"
    "    on:\n"
    "      MoneyDeposited: {balance: \"row.balance + 1000 / event.amount\", n: \"row.n + 1\"}\n"
    "  Ids:\n"
    "    columns: {total: 0, ids: []}\n"
    "    on:\n"
    "      MoneyDeposited: {total: \"row.total + event.amount\", ids: \"row.ids + "
    "[meta.position]\"}\n";

static void deposit(struct store *s, int acct, int amount)
{
    char stream[32], data[64];
    snprintf(stream, sizeof stream, "Account-%d", acct);
    snprintf(data, sizeof data, "{\"amount\":%d}", amount);
    struct new_event ne = {"MoneyDeposited", 1, "2026-01-01T00:00:00.000Z", data, NULL};
    err e = {0};
    if (store_append(s, stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e) != ST_OK)
        fail_msg("append: %s", e.msg);
}

/* n deposits over `accounts` accounts, amounts 1..100 (never 0). */
static void deposits(struct store *s, int n, int accounts, unsigned *seed)
{
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < n; i++)
        deposit(s, (int)(rand_r(seed) % (unsigned)accounts), 1 + (int)(rand_r(seed) % 100));
    assert_int_equal(store_commit(s, &e), ST_OK);
}

static void catch_up(struct store *s, const struct domain *d)
{
    err e = {0};
    if (projection_catch_up(s, d, NULL, 0, true, NULL, &e) != ST_OK)
        fail_msg("catch_up: %s", e.msg);
}

/* Sums after - before of int fields, per field name; checks lists grow by one. */
struct sums {
    int64_t balance, n, total, lines;
    int64_t last_position;
    bool ordered, lists_ok;
};

static int add_up(void *ctx, const struct prov_change *ch, err *e)
{
    struct sums *s = ctx;
    s->lines++;
    s->ordered = s->ordered && ch->ev->position >= s->last_position;
    s->last_position = ch->ev->position;
    if (ch->after->type == V_LIST) {
        bool ok = ch->before->type == V_LIST &&
                  value_list_len(ch->after) == value_list_len(ch->before) + 1 &&
                  value_list_at(ch->after, value_list_len(ch->after) - 1)->type == V_INT &&
                  value_list_at(ch->after, value_list_len(ch->after) - 1)->u.i == ch->ev->position;
        s->lists_ok = s->lists_ok && ok;
        return ST_OK;
    }
    int64_t diff = ch->after->u.i - (ch->before->type == V_INT ? ch->before->u.i : 0);
    if (strcmp(ch->field, "balance") == 0)
        s->balance += diff;
    else if (strcmp(ch->field, "n") == 0)
        s->n += diff;
    else if (strcmp(ch->field, "total") == 0)
        s->total += diff;
    s->lists_ok = s->lists_ok && ch->expr[0] && ch->file && ch->line > 0;
    return ST_OK;
}

static int64_t row_int(struct store *s, const struct domain *d, const char *name, const char *key,
                       int64_t at, const char *col, bool *found)
{
    value rows;
    err e = {0};
    if (projection_query(s, d, name, key, at, 0, 0, &rows, &e) != ST_OK)
        fail_msg("query: %s", e.msg);
    *found = value_list_len(&rows) > 0;
    int64_t v = 0;
    if (*found)
        v = value_map_get(value_list_at(&rows, 0), col)->u.i;
    value_free(rows);
    return v;
}

static void test_why_adds_up(void **state)
{
    struct domain *d = load_domain(DOMAIN);
    struct store *s = open_mem_store(2);
    unsigned seed = 7;
    deposits(s, 1500, 5, &seed);
    catch_up(s, d);
    const struct projection_spec *bal = domain_projection(d, "Balances");
    const struct projection_spec *ids = domain_projection(d, "Ids");
    const struct aggregate_spec *a = domain_aggregate(d, "Account");
    for (int round = 0; round < 40; round++) {
        int64_t at = round == 0 ? 0 : 1 + rand_r(&seed) % 1500;
        char key[8];
        snprintf(key, sizeof key, "%d", (int)(rand_r(&seed) % 5));
        struct sums sm = {0, 0, 0, 0, 0, true, true};
        err e = {0};
        int rc = provenance_projection(s, d, bal, key, NULL, at, add_up, &sm, &e);
        bool found;
        int64_t want = row_int(s, d, "Balances", key, at, "balance", &found);
        if (!found) {
            assert_int_equal(rc, ST_NOT_FOUND);
            continue;
        }
        assert_int_equal(rc, ST_OK);
        assert_true(sm.ordered);
        assert_true(sm.lists_ok);
        assert_int_equal(sm.balance, want);
        assert_int_equal(sm.n, row_int(s, d, "Balances", key, at, "n", &found));

        /* The instance's state, by its own fold (snapshots on the way). */
        struct sums sa = {0, 0, 0, 0, 0, true, true};
        assert_int_equal(provenance_aggregate(s, d, a, key, "balance", at, add_up, &sa, &e), ST_OK);
        struct agg_state st;
        assert_int_equal(aggregate_load(s, d, a, key, at, true, &st, &e), ST_OK);
        assert_int_equal(sa.balance, value_map_get(&st.state, "balance")->u.i);
        assert_int_equal(sa.n, 0); /* only the field asked for */
        agg_state_done(&st);

        /* The keyless row: the total adds up, the list grows by one item a line. */
        struct sums sk = {0, 0, 0, 0, 0, true, true};
        assert_int_equal(provenance_projection(s, d, ids, "", NULL, at, add_up, &sk, &e), ST_OK);
        assert_int_equal(sk.total, row_int(s, d, "Ids", NULL, at, "total", &found));
        assert_true(sk.lists_ok);
        assert_int_equal(sk.lines, 2 * (at ? at : 1500)); /* every deposit changes both */
    }
    store_close(s);
    domain_free(d);
}

static void test_bisect_equals_scan(void **state)
{
    struct domain *d = load_domain(DOMAIN);
    struct store *s = open_mem_store(2);
    unsigned seed = 11;
    deposits(s, 600, 3, &seed);
    catch_up(s, d);
    const struct projection_spec *bal = domain_projection(d, "Balances");
    for (int round = 0; round < 20; round++) {
        int limit = 100 + (int)(rand_r(&seed) % 8000);
        char src[64];
        snprintf(src, sizeof src, "row.balance < %d", limit);
        err e = {0};
        expr *x = bisect_compile(bal, NULL, src, &e);
        assert_non_null(x);
        struct bisect_result r;
        assert_int_equal(bisect_projection(s, d, bal, "1", x, 0, &r, &e), ST_OK);
        int64_t first = 0;
        for (int64_t p = 1; p <= 600 && !first; p++) {
            bool found;
            int64_t b = row_int(s, d, "Balances", "1", p, "balance", &found);
            if (found && b >= limit)
                first = p;
        }
        if (!first) {
            assert_true(r.holds);
            assert_int_equal(r.position, 600);
        } else {
            assert_false(r.holds);
            assert_int_equal(r.position, first);
            assert_string_equal(r.stream, "Account-1");
            assert_true(value_map_get(&r.after, "balance")->u.i >= limit);
        }
        bisect_result_done(&r);
        expr_free(x);
    }
    err e = {0};
    assert_null(bisect_compile(bal, NULL, "row.balanse > 1", &e));
    assert_non_null(strstr(e.msg, "column 5: unknown field 'balanse' of row"));
    assert_null(bisect_compile(bal, NULL, "row.balance + 1", &e));
    store_close(s);
    domain_free(d);
}

static void test_fails_finds_planted_event(void **state)
{
    struct domain *d = load_domain(DOMAIN);
    struct store *s = open_mem_store(2);
    unsigned seed = 3;
    deposits(s, 300, 4, &seed);
    catch_up(s, d);
    deposit(s, 2, 0); /* 1000 / 0: neither the handler nor the apply can fold it */
    deposits(s, 50, 4, &seed);
    const struct projection_spec *bal = domain_projection(d, "Balances");
    const struct aggregate_spec *a = domain_aggregate(d, "Account");
    struct bisect_result r;
    err e = {0};
    assert_int_equal(bisect_projection_fails(s, d, bal, 0, &r, &e), ST_OK);
    assert_false(r.holds);
    assert_int_equal(r.position, 301);
    assert_non_null(strstr(r.error, "division by zero"));
    assert_int_equal(r.before.type, V_MAP); /* the row before, from the dry run */
    bisect_result_done(&r);
    assert_int_equal(bisect_projection_fails(s, d, bal, 300, &r, &e), ST_OK);
    assert_true(r.holds);
    bisect_result_done(&r);
    assert_int_equal(bisect_aggregate_fails(s, d, a, NULL, 0, &r, &e), ST_OK);
    assert_int_equal(r.position, 301);
    bisect_result_done(&r);
    assert_int_equal(bisect_aggregate_fails(s, d, a, "2", 0, &r, &e), ST_OK);
    assert_int_equal(r.position, 301);
    bisect_result_done(&r);
    assert_int_equal(bisect_aggregate_fails(s, d, a, "1", 0, &r, &e), ST_OK);
    assert_true(r.holds);
    bisect_result_done(&r);
    /* Nothing was written: the projections are still at 300. */
    struct proj_lag *lags;
    size_t n;
    assert_int_equal(projection_status(s, d, &lags, &n, &e), ST_OK);
    assert_int_equal(lags[0].checkpoint, 300);
    proj_lag_free(lags, n);
    store_close(s);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_why_adds_up),
        cmocka_unit_test(test_bisect_equals_scan),
        cmocka_unit_test(test_fails_finds_planted_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
