/* test_scenario.c: unit tests for scenarios (core/scenario.c and the scenario part
 * of the loader): exact row matching, contains and absent, with the report naming
 * missing rows, extra rows and differing columns; a projection that fails fails
 * the scenario; the fixed clock, `when.time`, STRATA_NOW's option, expect_version
 * and `then.invalid`; and the loader's errors for the new keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/domain.h"
#include "core/json.h"
#include "core/scenario.h"

static value parse(const char *json)
{
    value v;
    err je;
    if (json_parse(json, strlen(json), &v, &je) != ST_OK)
        fail_msg("bad JSON in a test: %s", json);
    return v;
}

/* Checks rows (JSON) against an expectation (JSON); returns the report, or NULL
 * when they matched (caller frees). */
static char *check(const char *expect_json, const char *rows_json)
{
    value want = parse(expect_json), rows = parse(rows_json);
    strbuf why;
    sb_init(&why);
    bool ok = scenario_check_rows("P", &want, &rows, &why);
    value_free(want);
    value_free(rows);
    if (ok) {
        assert_true(why.len == 0);
        sb_done(&why);
        return NULL;
    }
    assert_true(why.len > 0); /* a failure always says why */
    return sb_steal(&why);
}

static void expect_fail(const char *expect_json, const char *rows_json, const char *needle)
{
    char *r = check(expect_json, rows_json);
    if (!r)
        fail_msg("expected %s not to match %s", expect_json, rows_json);
    if (!strstr(r, needle))
        fail_msg("expected the report to say\n  %s\ngot:\n%s", needle, r);
    free(r);
}

static void expect_pass(const char *expect_json, const char *rows_json)
{
    char *r = check(expect_json, rows_json);
    if (r)
        fail_msg("expected a match, got:\n%s", r);
}

static const char ROWS[] = "[{\"key\":\"A\",\"owner\":\"Al\",\"balance\":10},"
                           "{\"key\":\"B\",\"owner\":\"Bo\",\"balance\":0}]";

static void test_exact_match(void **st)
{
    expect_pass("[{\"key\":\"A\",\"balance\":10},{\"key\":\"B\"}]", ROWS);
    /* in any order, columns not named are not compared */
    expect_pass("[{\"key\":\"B\",\"owner\":\"Bo\"},{\"key\":\"A\",\"owner\":\"Al\"}]", ROWS);
    expect_pass("[]", "[]");
    /* a YAML `key: 42` names the row keyed "42" */
    expect_pass("[{\"key\":42,\"n\":1}]", "[{\"key\":\"42\",\"n\":1}]");
}

static void test_extra_row_fails(void **st)
{
    expect_fail("[{\"key\":\"A\",\"balance\":10}]", ROWS,
                "projection P: expected exactly 1 row(s), got 2");
    expect_fail("[{\"key\":\"A\",\"balance\":10}]", ROWS,
                "projection P: extra row {\"key\":\"B\",\"owner\":\"Bo\",\"balance\":0}");
}

static void test_missing_row_fails(void **st)
{
    expect_fail("[{\"key\":\"A\"},{\"key\":\"B\"},{\"key\":\"C\",\"balance\":1}]", ROWS,
                "projection P[key \"C\"]: missing: expected {\"key\":\"C\",\"balance\":1}, no "
                "such row");
    /* the same count does not hide a row that is there instead of the one expected */
    char *r = check("[{\"key\":\"A\"},{\"key\":\"C\"}]", ROWS);
    assert_non_null(r);
    assert_non_null(strstr(r, "projection P[key \"C\"]: missing"));
    assert_non_null(strstr(r, "projection P: extra row {\"key\":\"B\""));
    assert_null(strstr(r, "expected exactly"));
    free(r);
}

static void test_differing_column_fails(void **st)
{
    expect_fail("[{\"key\":\"A\",\"balance\":11},{\"key\":\"B\"}]", ROWS,
                "projection P[key \"A\"].balance: expected 11, got 10");
    /* a projection without key: its one row is compared column by column */
    expect_fail("[{\"open\":2,\"deposited\":5}]", "[{\"open\":1,\"deposited\":5}]",
                "projection P.open: expected 2, got 1");
    expect_pass("[{\"open\":1}]", "[{\"open\":1,\"deposited\":5}]");
}

static void test_empty_list_with_a_row_fails(void **st)
{
    expect_fail("[]", "[{\"key\":\"X/ann\",\"member\":\"ann\"}]",
                "projection P: expected exactly 0 row(s), got 1");
    expect_fail("[]", "[{\"key\":\"X/ann\",\"member\":\"ann\"}]",
                "projection P: extra row {\"key\":\"X/ann\",\"member\":\"ann\"}");
}

static void test_contains_and_absent(void **st)
{
    expect_pass("{\"contains\":[{\"key\":\"B\",\"owner\":\"Bo\"}]}", ROWS);
    expect_pass("{\"absent\":[\"C\"]}", ROWS);
    expect_pass("{\"contains\":[{\"key\":\"A\"}],\"absent\":[\"C\",\"D\"]}", ROWS);
    expect_pass("{\"absent\":[\"A\"]}", "[]");
    expect_fail("{\"contains\":[{\"key\":\"C\"}]}", ROWS, "projection P[key \"C\"]: missing");
    expect_fail("{\"contains\":[{\"key\":\"B\",\"owner\":\"Al\"}]}", ROWS,
                "projection P[key \"B\"].owner: expected \"Al\", got \"Bo\"");
    expect_fail("{\"absent\":[\"B\"]}", ROWS,
                "projection P: expected no row with key \"B\", got {\"key\":\"B\",\"owner\":\"Bo\","
                "\"balance\":0}");
    expect_fail("{\"contains\":[{\"key\":\"A\"}],\"absent\":[\"B\"]}", ROWS,
                "expected no row with key \"B\"");
    /* contains never complains about rows it does not name */
    char *r = check("{\"contains\":[{\"key\":\"A\",\"balance\":1}]}", ROWS);
    assert_non_null(r);
    assert_null(strstr(r, "extra"));
    free(r);
}

/* ---- running scenarios ---- */

static const char DOMAIN[] = "domain: t\n"
                             "aggregates:\n"
                             "  C:\n"
                             "    id: cid\n"
                             "    state: {n: {type: int, default: 0}}\n"
                             "    commands:\n"
                             "      Stamp:\n"
                             "        payload: {cid: string, d: {type: int, default: 1, min: 0}}\n"
                             "        require:\n"
                             "          - {rule: \"payload.d < 9\", message: too big}\n"
                             "        emit:\n"
                             "          - Stamped: {at: \"now()\", d: payload.d}\n"
                             "    events:\n"
                             "      Stamped:\n"
                             "        fields: {at: timestamp, d: int}\n"
                             "        apply: {n: \"state.n + 1\"}\n"
                             "projections:\n"
                             "  Ratio:\n"
                             "    key: meta.aggregateId\n"
                             "    columns: {q: 0, at: \"\"}\n"
                             "    on:\n"
                             "      Stamped: {q: \"10 / event.d\", at: meta.time}\n"
                             "scenarios:\n";

/* Loads DOMAIN with one scenario (its YAML, indented as a list item) and runs it;
 * returns the report, or NULL when it passed (caller frees). */
static char *run_one(const char *scenario, const struct scenario_options *opt)
{
    char *text = xasprintf("%s%s", DOMAIN, scenario);
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load_buffer("t.yaml", text, strlen(text), &dl);
    if (!d) {
        strbuf sb;
        sb_init(&sb);
        for (size_t i = 0; i < dl.len; i++)
            sb_addf(&sb, "%d:%d: %s: %s\n", dl.items[i].line, dl.items[i].col, dl.items[i].path,
                    dl.items[i].message);
        fail_msg("the test domain does not load:\n%s", sb.buf);
    }
    diag_list_done(&dl);
    free(text);
    assert_int_equal(d->nscenarios, 1);
    strbuf report;
    sb_init(&report);
    int rc = scenario_run(d, &d->scenarios[0], opt, &report);
    domain_free(d);
    if (rc == ST_OK) {
        sb_done(&report);
        return NULL;
    }
    assert_true(report.len > 0);
    return sb_steal(&report);
}

static void expect_run_pass(const char *scenario, const struct scenario_options *opt)
{
    char *r = run_one(scenario, opt);
    if (r)
        fail_msg("expected the scenario to pass, got:\n%s", r);
}

static void expect_run_fail(const char *scenario, const struct scenario_options *opt,
                            const char *needle)
{
    char *r = run_one(scenario, opt);
    if (!r)
        fail_msg("expected the scenario to fail:\n%s", scenario);
    if (!strstr(r, needle))
        fail_msg("expected the report to say\n  %s\ngot:\n%s", needle, r);
    free(r);
}

static void test_failing_projection_fails_the_scenario(void **st)
{
    /* the command succeeds and then.events matches: only the projection is wrong */
    expect_run_fail("  - name: s\n"
                    "    when: {command: Stamp, payload: {cid: X, d: 0}}\n"
                    "    then: {events: [{type: Stamped, data: {d: 0}}]}\n",
                    NULL, "projection Ratio failed at position 1: ");
    /* also when the scenario has no command, and with the error's text */
    char *r = run_one("  - name: s\n"
                      "    given: [{stream: C-X, type: Stamped, data: {at: "
                      "\"2026-01-01T00:00:00Z\", d: 0}}]\n"
                      "    then: {state: {aggregate: C, id: X, n: 1}}\n",
                      NULL);
    assert_non_null(r);
    assert_non_null(strstr(r, "projection Ratio failed"));
    assert_non_null(strstr(r, "zero"));
    free(r);
}

static void test_fixed_clock(void **st)
{
    /* no given event: the command runs at the epoch */
    expect_run_pass("  - name: s\n"
                    "    when: {command: Stamp, payload: {cid: X}}\n"
                    "    then:\n"
                    "      events: [{type: Stamped, data: {at: \"2026-01-01T00:00:00.000Z\", d: "
                    "1}}]\n"
                    "      projections: {Ratio: [{key: X, at: \"2026-01-01T00:00:00.000Z\"}]}\n",
                    NULL);
    /* given events a second apart from the epoch, the command a second later */
    expect_run_pass(
        "  - name: s\n"
        "    given:\n"
        "      - {stream: C-X, type: Stamped, data: {at: \"2020-01-01T00:00:00Z\", d: "
        "1}}\n"
        "      - {stream: C-Y, type: Stamped, data: {at: \"2020-01-01T00:00:00Z\", d: "
        "1}}\n"
        "    when: {command: Stamp, payload: {cid: Z}}\n"
        "    then:\n"
        "      events: [{type: Stamped, data: {at: \"2026-01-01T00:00:02.000Z\", d: 1}}]\n"
        "      projections:\n"
        "        Ratio:\n"
        "          - {key: X, at: \"2026-01-01T00:00:00.000Z\"}\n"
        "          - {key: Y, at: \"2026-01-01T00:00:01.000Z\"}\n"
        "          - {key: Z, at: \"2026-01-01T00:00:02.000Z\"}\n",
        NULL);
    /* a given event's own time moves the ones after it; `when.time` is the clock,
     * normalized to UTC */
    expect_run_pass(
        "  - name: s\n"
        "    given:\n"
        "      - {stream: C-X, type: Stamped, time: \"2026-05-01T10:00:00+02:00\", "
        "data: {at: \"2020-01-01T00:00:00Z\", d: 1}}\n"
        "      - {stream: C-Y, type: Stamped, data: {at: \"2020-01-01T00:00:00Z\", d: "
        "1}}\n"
        "    when: {command: Stamp, payload: {cid: Z}, time: "
        "\"2026-06-01T12:00:00.5+01:00\"}\n"
        "    then:\n"
        "      events: [{type: Stamped, data: {at: \"2026-06-01T11:00:00.500Z\", d: 1}}]\n"
        "      projections:\n"
        "        Ratio:\n"
        "          - {key: X, at: \"2026-05-01T08:00:00.000Z\"}\n"
        "          - {key: Y, at: \"2026-05-01T08:00:01.000Z\"}\n"
        "          - {key: Z, at: \"2026-06-01T11:00:00.500Z\"}\n",
        NULL);
}

static void test_strata_now(void **st)
{
    struct scenario_options opt = {true, 1780000000000LL}; /* 2026-05-28T20:26:40Z */
    expect_run_pass(
        "  - name: s\n"
        "    given: [{stream: C-X, type: Stamped, data: {at: \"2020-01-01T00:00:00Z\", d: 1}}]\n"
        "    when: {command: Stamp, payload: {cid: Y}}\n"
        "    then:\n"
        "      events: [{type: Stamped, data: {at: \"2026-05-28T20:26:40.000Z\", d: 1}}]\n"
        "      projections:\n"
        "        Ratio: [{key: X, at: \"2026-01-01T00:00:00.000Z\"}, {key: Y, at: "
        "\"2026-05-28T20:26:40.000Z\"}]\n",
        &opt);
    /* a scenario that names its instant keeps it */
    expect_run_pass(
        "  - name: s\n"
        "    when: {command: Stamp, payload: {cid: X}, time: \"2027-01-01T00:00:00Z\"}\n"
        "    then: {events: [{type: Stamped, data: {at: \"2027-01-01T00:00:00.000Z\", d: 1}}]}\n",
        &opt);
}

static void test_expect_version(void **st)
{
    static const char given[] =
        "    given: [{stream: C-X, type: Stamped, data: {at: \"2020-01-01T00:00:00Z\", d: 1}}]\n";
    char *s = xasprintf("  - name: s\n%s"
                        "    when: {command: Stamp, payload: {cid: X}, expect_version: 1}\n"
                        "    then: {state: {n: 2}}\n",
                        given);
    expect_run_pass(s, NULL);
    free(s);
    s = xasprintf("  - name: s\n%s"
                  "    when: {command: Stamp, payload: {cid: X}, expect_version: 0}\n"
                  "    then: {state: {n: 2}}\n",
                  given);
    expect_run_fail(s, NULL, "the command conflicted: stream C-X is at version 1, expected 0");
    free(s);
    s = xasprintf("  - name: s\n%s"
                  "    when: {command: Stamp, payload: {cid: X}, expect_version: 5}\n"
                  "    then: {rejected: too big}\n",
                  given);
    expect_run_fail(s, NULL, "expected rejection \"too big\", but the command conflicted: ");
    free(s);
}

static void test_invalid(void **st)
{
    expect_run_pass("  - name: s\n"
                    "    when: {command: Stamp, payload: {cid: X, d: -1}}\n"
                    "    then: {invalid: below the minimum, projections: {Ratio: []}}\n",
                    NULL);
    expect_run_fail("  - name: s\n"
                    "    when: {command: Stamp, payload: {cid: X, d: -1}}\n"
                    "    then: {invalid: not a number}\n",
                    NULL,
                    "expected the payload to be refused with \"not a number\", got: Stamp: field "
                    "'d': -1 is below the minimum 0");
    /* a rule's rejection is not a refused payload */
    expect_run_fail("  - name: s\n"
                    "    when: {command: Stamp, payload: {cid: X, d: 9}}\n"
                    "    then: {invalid: too big}\n",
                    NULL,
                    "expected the payload to be refused with \"too big\", but it was valid and "
                    "the command was rejected: \"too big\"");
    /* (a payload refused when something else was expected is now found when the
     * domain loads: test_loader_errors) */
}

/* ---- the loader ---- */

static void expect_problem(const char *scenario, const char *want)
{
    char *text = xasprintf("%s%s", DOMAIN, scenario);
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load_buffer("t.yaml", text, strlen(text), &dl);
    assert_null(d);
    strbuf sb;
    sb_init(&sb);
    sb_addc(&sb, '\n');
    for (size_t i = 0; i < dl.len; i++)
        sb_addf(&sb, "%d:%d: %s: %s\n", dl.items[i].line, dl.items[i].col, dl.items[i].path,
                dl.items[i].message);
    char *needle = xasprintf("\n%s\n", want);
    if (!strstr(sb.buf, needle))
        fail_msg("expected the problem\n  %s\namong:%s", want, sb.buf);
    free(needle);
    sb_done(&sb);
    diag_list_done(&dl);
    free(text);
}

/* Scenario lines start at line 24 of DOMAIN + scenario. */
static void test_loader_errors(void **st)
{
    /* when.payload is checked against the command's payload fields at load,
     * unless `then` expects it refused (test_invalid) */
    expect_problem("  - name: s\n"
                   "    when: {command: Stamp, payload: {cid: X, d: -1}}\n"
                   "    then: {events: []}\n",
                   "25:49: scenarios[0].when.payload.d: field 'd': -1 is below the minimum 0");
    expect_problem("  - name: s\n"
                   "    when: {command: Stamp, payload: {cid: X, dd: 1}}\n"
                   "    then: {events: []}\n",
                   "25:46: scenarios[0].when.payload.dd: unknown field 'dd' of command Stamp's "
                   "payload (did you mean 'd'?)");
    expect_problem("  - name: s\n"
                   "    then: {projections: {Ratio: {contain: [{key: X}]}}}\n",
                   "25:34: scenarios[0].then.projections.Ratio.contain: unknown key 'contain' (did "
                   "you mean 'contains'?)");
    expect_problem("  - name: s\n"
                   "    then: {projections: {Ratio: 5}}\n",
                   "25:33: scenarios[0].then.projections.Ratio: expected every row (a list) or "
                   "{contains: [rows], absent: [keys]}, got a scalar");
    expect_problem("  - name: s\n"
                   "    then: {projections: {Ratio: {}}}\n",
                   "25:33: scenarios[0].then.projections.Ratio: expected `contains: [rows]` and/or "
                   "`absent: [keys]`");
    expect_problem("  - name: s\n"
                   "    then: {projections: {Ratio: {absent: X}}}\n",
                   "25:42: scenarios[0].then.projections.Ratio.absent: expected the keys of rows "
                   "that must not exist (a list), got a scalar");
    expect_problem("  - name: s\n"
                   "    then: {projections: {Ratio: {absent: [{key: X}]}}}\n",
                   "25:43: scenarios[0].then.projections.Ratio.absent[0]: expected a row's key (a "
                   "scalar), got a mapping");
    expect_problem("  - name: s\n"
                   "    then: {projections: {Ratio: {contains: [{key: X}], absent: [X]}}}\n",
                   "25:65: scenarios[0].then.projections.Ratio.absent[0]: key 'X' is expected both "
                   "present (contains[0]) and absent");
    expect_problem("  - name: s\n"
                   "    then: {projections: {Ratio: [{q: 1}]}}\n",
                   "25:34: scenarios[0].then.projections.Ratio[0]: a row of Ratio needs `key:` "
                   "(which row is meant?)");
    expect_problem("  - name: s\n"
                   "    then: {projections: {Ratio: [{key: X}, {key: X}]}}\n",
                   "25:50: scenarios[0].then.projections.Ratio[1].key: row [0] has this key too; "
                   "expect each row once");
    expect_problem("  - name: s\n"
                   "    when: {command: Stamp, payload: {cid: X}, expect_version: x}\n"
                   "    then: {events: []}\n",
                   "25:63: scenarios[0].when.expect_version: expect_version (the stream's "
                   "version) must be an integer, got 'x'");
    expect_problem("  - name: s\n"
                   "    when: {command: Stamp, payload: {cid: X}, expect_version: -1}\n"
                   "    then: {events: []}\n",
                   "25:63: scenarios[0].when.expect_version: expect_version (the stream's "
                   "version) must be at least 0, got -1");
    expect_problem("  - name: s\n"
                   "    when: {command: Stamp, payload: {cid: X}, time: 2026-01-01}\n"
                   "    then: {events: []}\n",
                   "25:53: scenarios[0].when.time: '2026-01-01' is not a time; write ISO-8601 "
                   "such as 2026-11-27T10:00:00Z");
    expect_problem("  - name: s\n"
                   "    when: {command: Stamp, payload: {cid: X}, tme: x}\n"
                   "    then: {events: []}\n",
                   "25:47: scenarios[0].when.tme: unknown key 'tme' (did you mean 'time'?)");
    expect_problem("  - name: s\n"
                   "    when: {command: Stamp, payload: {cid: X}}\n"
                   "    then: {rejected: too big, invalid: x}\n",
                   "26:31: scenarios[0].then.invalid: a refused payload never reaches the rules: "
                   "give `invalid` or `rejected`, not both");
    expect_problem("  - name: s\n"
                   "    then: {invalid: x}\n",
                   "25:12: scenarios[0].then.invalid: `invalid` needs a `when` command to refuse");
    expect_problem("  - name: s\n"
                   "    when: {command: Stamp, payload: {cid: X}}\n"
                   "    then: {invalid: [x]}\n",
                   "26:21: scenarios[0].then.invalid: expected text the payload's refusal "
                   "contains, got a list");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match),
        cmocka_unit_test(test_extra_row_fails),
        cmocka_unit_test(test_missing_row_fails),
        cmocka_unit_test(test_differing_column_fails),
        cmocka_unit_test(test_empty_list_with_a_row_fails),
        cmocka_unit_test(test_contains_and_absent),
        cmocka_unit_test(test_failing_projection_fails_the_scenario),
        cmocka_unit_test(test_fixed_clock),
        cmocka_unit_test(test_strata_now),
        cmocka_unit_test(test_expect_version),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_loader_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
