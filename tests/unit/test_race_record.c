/* test_race_record.c: unit tests for races (core/race.c: both commands decided
 * on one state, the first appending, the second's conflict and retry, --no-retry,
 * two streams, bad input appending nothing) and recorded sessions
 * (core/record.c: YAML scalars that read back as the same values, the file checks,
 * a recorded scenario that passes when run, rows other streams feed left out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/domain.h"
#include "core/json.h"
#include "core/race.h"
#include "core/record.h"
#include "core/scenario.h"
#include "test_domain_fixture.h"

static const char bank_yaml[] =
    "domain: mini\n"
    "aggregates:\n"
    "  Account:\n"
    "    id: accountId\n"
    "    state: {balance: {type: int, default: 0}}\n"
    "    commands:\n"
    "      Deposit:\n"
    "        payload: {accountId: string, amount: {type: int, min: 1}}\n"
    "        emit: [{Deposited: {amount: payload.amount}}]\n"
    "      Withdraw:\n"
    "        payload: {accountId: string, amount: {type: int, min: 1}}\n"
    "        require: [{rule: \"state.balance >= payload.amount\", message: \"insufficient "
    "funds\"}]\n"
    "        emit: [{Withdrawn: {amount: payload.amount, at: \"now()\"}}]\n"
    "    events:\n"
    "      Deposited:\n"
    "        fields: {amount: int}\n"
    "        apply: {balance: \"state.balance + event.amount\"}\n"
    "      Withdrawn:\n"
    "        fields: {amount: int, at: timestamp}\n"
    "        apply: {balance: \"state.balance - event.amount\"}\n"
    "projections:\n"
    "  Balances:\n"
    "    key: meta.aggregateId\n"
    "    columns: {balance: 0}\n"
    "    on:\n"
    "      Deposited: {set: {balance: \"row.balance + event.amount\"}}\n"
    "      Withdrawn: {set: {balance: \"row.balance - event.amount\"}}\n"
    "  Totals:\n"
    "    columns: {total: 0}\n"
    "    on:\n"
    "      Deposited: {set: {total: \"row.total + event.amount\"}}\n";

static struct domain *load(void)
{
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("mini.yaml", bank_yaml, sizeof bank_yaml - 1, &diags);
    if (!d)
        diag_list_print(&diags, stderr);
    diag_list_done(&diags);
    assert_non_null(d);
    return d;
}

static struct command_request request(const struct domain *d, const char *cmd, const char *id,
                                      int64_t amount)
{
    struct command_request r;
    memset(&r, 0, sizeof r);
    r.command = domain_command(d, cmd);
    assert_non_null(r.command);
    r.payload = value_map(2);
    value_map_set(&r.payload, "accountId", value_cstring(id));
    value_map_set(&r.payload, "amount", value_int(amount));
    r.expected_version = STORE_ANY_VERSION;
    return r;
}

static int run(struct store *s, const struct domain *d, const char *cmd, const char *id,
               int64_t amount)
{
    struct command_request r = request(d, cmd, id, amount);
    struct command_result res;
    command_result_init(&res);
    err e;
    int rc = command_execute(s, d, &r, &res, &e);
    command_result_done(&res);
    value_free(r.payload);
    return rc;
}

static int64_t balance(struct store *s, const struct domain *d, const char *id)
{
    struct agg_state st;
    err e;
    assert_int_equal(aggregate_load(s, d, &d->aggregates[0], id, 0, false, &st, &e), ST_OK);
    int64_t b = value_map_get(&st.state, "balance")->u.i;
    agg_state_done(&st);
    return b;
}

/* The narration, one line after another. */
static void keep_line(void *ctx, const char *text)
{
    sb_addf(ctx, "%s\n", text);
}

static int race(struct store *s, const struct domain *d, const char *c1, const char *id1,
                int64_t a1, const char *c2, const char *id2, int64_t a2, bool retry,
                struct race_result *out, strbuf *told)
{
    struct command_request r1 = request(d, c1, id1, a1), r2 = request(d, c2, id2, a2);
    struct command_narrator n = {keep_line, told};
    race_result_init(out);
    err e;
    err_clear(&e);
    int rc = command_race(s, d, &r1, &r2, retry, &n, out, &e);
    value_free(r1.payload);
    value_free(r2.payload);
    return rc;
}

/* The position of needle in hay, failing when it is not there. */
static size_t at(const strbuf *hay, const char *needle)
{
    const char *p = hay->buf ? strstr(hay->buf, needle) : NULL;
    if (!p)
        fail_msg("expected the narration to say\n  %s\ngot:\n%s", needle, hay->buf);
    return (size_t)(p - hay->buf);
}

static void test_race_conflict_then_rejected(void **unused)
{
    struct domain *d = load();
    struct store *s = open_mem_store(0);
    assert_int_equal(run(s, d, "Deposit", "A", 100), ST_OK);
    struct race_result r;
    strbuf told;
    sb_init(&told);
    int rc = race(s, d, "Withdraw", "A", 80, "Withdraw", "A", 50, true, &r, &told);
    assert_int_equal(rc, ST_REJECTED);
    assert_true(r.same_stream && r.conflicted && r.retried);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.first_status, ST_OK);
    assert_int_equal(r.first.appended.len, 1);
    assert_int_equal(r.second.appended.len, 0);
    assert_string_equal(r.second.rejected, "insufficient funds");
    assert_int_equal(balance(s, d, "A"), 20);
    /* Each step, in order: both decide on version 1, the first appends, the
     * second conflicts, is retried on version 2 and rejected there. */
    size_t d1 = at(&told, "first: decided on version 1: 1 event to append");
    size_t d2 = at(&told, "second: decided on version 1: 1 event to append");
    size_t a1 = at(&told, "first: append to Account-A expecting version 1: positions 2-2");
    size_t c2 = at(&told, "second: append to Account-A expecting version 1: conflict on attempt 1");
    size_t l2 = at(&told, "second: state loaded: Account-A at version 2");
    size_t o2 = at(&told, "second: outcome: rejected on the fresh state (insufficient funds)");
    assert_true(d1 < d2 && d2 < a1 && a1 < c2 && c2 < l2 && l2 < o2);
    sb_done(&told);
    race_result_done(&r);
    store_close(s);
    domain_free(d);
}

static void test_race_retry_accepted_and_no_retry(void **unused)
{
    struct domain *d = load();
    struct store *s = open_mem_store(0);
    struct race_result r;
    strbuf told;
    sb_init(&told);
    assert_int_equal(race(s, d, "Deposit", "A", 5, "Deposit", "A", 7, true, &r, &told), ST_OK);
    assert_true(r.conflicted && r.retried);
    assert_int_equal(r.second.appended.len, 1);
    assert_int_equal(r.second.appended.items[0].version, 2);
    assert_int_equal(balance(s, d, "A"), 12);
    at(&told, "second: outcome: accepted after the conflict");
    race_result_done(&r);
    sb_reset(&told);

    assert_int_equal(race(s, d, "Deposit", "A", 1, "Deposit", "A", 2, false, &r, &told),
                     ST_CONFLICT);
    assert_true(r.conflicted && !r.retried);
    assert_int_equal(r.second.appended.len, 0);
    assert_int_equal(balance(s, d, "A"), 13);
    at(&told, "second: outcome: conflict, not retried");
    race_result_done(&r);
    sb_reset(&told);

    /* Two streams cannot conflict. */
    assert_int_equal(race(s, d, "Deposit", "A", 1, "Deposit", "B", 2, false, &r, &told), ST_OK);
    assert_true(!r.same_stream && !r.conflicted);
    at(&told, "they cannot conflict");
    race_result_done(&r);
    sb_reset(&told);

    /* Bad input in the second: nothing appended by either. */
    int64_t head0, head1;
    err e;
    assert_int_equal(store_head(s, &head0, &e), ST_OK);
    assert_int_equal(race(s, d, "Deposit", "A", 1, "Deposit", "A", 0, true, &r, &told), ST_ERR);
    assert_int_equal(store_head(s, &head1, &e), ST_OK);
    assert_int_equal(head0, head1);
    race_result_done(&r);
    sb_done(&told);
    store_close(s);
    domain_free(d);
}

static char *yaml_of(const char *json)
{
    value v;
    err e;
    assert_int_equal(json_parse(json, strlen(json), &v, &e), ST_OK);
    strbuf sb;
    sb_init(&sb);
    record_yaml_value(&sb, &v);
    value_free(v);
    return sb_steal(&sb);
}

static void expect_yaml(const char *json, const char *want)
{
    char *got = yaml_of(json);
    if (strcmp(got, want) != 0)
        fail_msg("%s as YAML: want %s, got %s", json, want, got);
    free(got);
}

static void test_yaml_scalars(void **unused)
{
    expect_yaml("{\"owner\":\"Alice Smith\",\"n\":5}", "{owner: Alice Smith, \"n\": 5}");
    expect_yaml("[\"true\",\"No\",\"null\",\"nan\",\"\"]",
                "[\"true\", \"No\", \"null\", \"nan\", \"\"]");
    expect_yaml("[\"2026-01-01\",\"5\",\"-x\",\"a: b\",\"a #b\",\"x \"]",
                "[\"2026-01-01\", \"5\", \"-x\", \"a: b\", \"a #b\", \"x \"]");
    expect_yaml("[2.0,2.5,true,null]", "[2.0, 2.5, true, null]");
    expect_yaml("{\"k y\":{\"Account-A\":[]}}", "{k y: {Account-A: []}}");
    expect_yaml("[\"caf\\u00e9\",\"a\\nb\"]", "[\"caf\xc3\xa9\", \"a\\nb\"]");
}

/* A fresh folder for files. */
static char *tmpdir(void)
{
    char *t = xstrdup("/tmp/strata-unit-XXXXXX");
    assert_non_null(mkdtemp(t));
    return t;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_record_file_checks(void **unused)
{
    struct domain *d = load();
    char *dir = tmpdir();
    char *p = xasprintf("%s/s.yaml", dir);
    err e;
    assert_int_equal(record_check_file(p, d, &e), ST_OK); /* not there yet */
    write_text(p, "domain: other\nscenarios:\n");
    assert_int_equal(record_check_file(p, d, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "s.yaml:1:9: these scenarios are for the domain 'other'"));
    write_text(p, "domain: mini\naggregates: {}\nscenarios:\n");
    assert_int_equal(record_check_file(p, d, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "is a domain file"));
    write_text(p, "domain: mini\nscenarios: []\n");
    assert_int_equal(record_check_file(p, d, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "written inline"));
    write_text(p, "domain: mini\nscenarios:\n");
    assert_int_equal(record_check_file(p, d, &e), ST_OK);
    char *q = xasprintf("%s/none/s.yaml", dir);
    assert_int_equal(record_check_file(q, d, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "does not exist"));
    unlink(p);
    rmdir(dir);
    free(q);
    free(p);
    free(dir);
    domain_free(d);
}

/* Records a command that ran on s; returns its status. */
static int record_run(struct store *s, const struct domain *d, const char *path, const char *cmd,
                      const char *id, int64_t amount, int64_t now_ms)
{
    struct command_request r = request(d, cmd, id, amount);
    r.now_ms = now_ms;
    struct command_result res;
    command_result_init(&res);
    err e;
    int rc = command_execute(s, d, &r, &res, &e);
    struct record_info info = {"mini.yaml", "a unit test", true, 0};
    char *name = NULL;
    err_clear(&e);
    if (record_scenario(s, d, path, &r, rc, &res, &info, &name, &e) != ST_OK)
        fail_msg("record_scenario: %s", e.msg);
    free(name);
    command_result_done(&res);
    value_free(r.payload);
    return rc;
}

static void test_record_runs_back(void **unused)
{
    struct domain *d = load();
    struct store *s = open_mem_store(0);
    char *dir = tmpdir();
    char *p = xasprintf("%s/s.yaml", dir);
    int64_t t = 1767225600000LL + 123; /* the clocks the commands ran at */
    assert_int_equal(record_run(s, d, p, "Deposit", "A", 100, t), ST_OK);
    assert_int_equal(run(s, d, "Deposit", "B", 10), ST_OK);
    assert_int_equal(record_run(s, d, p, "Withdraw", "A", 30, t + 1000), ST_OK);
    assert_int_equal(record_run(s, d, p, "Withdraw", "A", 500, t + 2000), ST_REJECTED);
    assert_int_equal(record_run(s, d, p, "Deposit", "A", 1, t + 3000), ST_OK);
    char *text;
    size_t len;
    err e;
    assert_int_equal(read_file(p, &text, &len, &e), ST_OK);
    /* now() came back as the recorded clock; the first deposit fed Totals alone. */
    assert_non_null(
        strstr(text, "- {type: Withdrawn, data: {amount: 30, at: \"2026-01-01T00:00:01.123Z\"}}"));
    assert_non_null(strstr(text, "then: {rejected: insufficient funds}"));
    assert_non_null(
        strstr(text, "        Totals:\n          contains:\n            - {total: 100}"));
    /* The last deposit: its Balances row, not Totals (B feeds it too). */
    const char *last = strstr(text, "name: \"Deposit A, Deposited #2\"");
    assert_non_null(last);
    assert_non_null(strstr(last, "- {key: A, balance: 71}"));
    assert_null(strstr(last, "Totals"));
    free(text);
    /* Every recorded scenario passes when run. */
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d2 = load();
    if (domain_load_scenarios(d2, p, &diags) != ST_OK)
        diag_list_print(&diags, stderr);
    diag_list_done(&diags);
    assert_int_equal(d2->nscenarios, 4);
    for (size_t i = 0; i < d2->nscenarios; i++) {
        strbuf report;
        sb_init(&report);
        if (scenario_run(d2, &d2->scenarios[i], NULL, &report) != ST_OK)
            fail_msg("%s failed:\n%s", d2->scenarios[i].name, report.buf);
        sb_done(&report);
    }
    domain_free(d2);
    unlink(p);
    rmdir(dir);
    free(p);
    free(dir);
    store_close(s);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_race_conflict_then_rejected),
        cmocka_unit_test(test_race_retry_accepted_and_no_retry),
        cmocka_unit_test(test_yaml_scalars),
        cmocka_unit_test(test_record_file_checks),
        cmocka_unit_test(test_record_runs_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
