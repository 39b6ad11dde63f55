/* test_domain_checks.c: the domain loader's error cases (core/domain_load.c,
 * domain_parts.c, field.c, yaml_tree.c): one broken domain per kind of mistake,
 * each asserting the exact LINE:COL, path and message; several mistakes in one
 * file are all reported; YAML's hazards (tabs, duplicate keys, alias bombs, bad
 * UTF-8, NUL bytes, empty files, size and depth caps) are refused. */
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
#include "core/domain_schema.h"
#include "test_domain_fixture.h"

/* ---- one broken domain per kind of mistake ---- */

static void test_unknown_key(void **st)
{
    expect_problem("domain: t\naggregates: {}\nprojectons: {}\n",
                   "3:1: projectons: unknown key 'projectons' (did you mean 'projections'?)");
    char *t = subst(BASE, "apply:", "aply: ");
    expect_problem(t, "18:9: aggregates.Account.events.MoneyDeposited.aply: unknown key 'aply' "
                      "(did you mean 'apply'?)");
    free(t);
    expect_problem("aggregates:\n  A:\n    id: x\n    zzz: 1\n",
                   "4:5: aggregates.A.zzz: unknown key 'zzz'; expected one of: id, snapshot_every, "
                   "state, invariants, "
                   "commands, events, description");
}

static void test_unknown_type(void **st)
{
    char *t = subst(BASE, "{type: int, min: 1}", "{type: integr}     ");
    expect_problem(t, "10:53: aggregates.Account.commands.Deposit.payload.amount.type: unknown "
                      "type 'integr' (did you "
                      "mean 'int'?)");
    free(t);
    expect_problem("aggregates:\n  A:\n    id: x\n    state: {n: double}\n",
                   "4:16: aggregates.A.state.n: unknown type 'double' (did you mean 'float'?)");
    expect_problem("aggregates:\n  A:\n    id: x\n    state: {n: {default: 1}}\n",
                   "4:16: aggregates.A.state.n: a field needs a type: {type: int, ...}");
}

static void test_bad_names(void **st)
{
    expect_problem("aggregates:\n  Bad-Name:\n    id: x\n",
                   "2:3: aggregates.Bad-Name: invalid aggregate name 'Bad-Name': a name is "
                   "letters, digits and _, and "
                   "does not start with a digit");
    expect_problem("aggregates:\n  A:\n    id: x\n    state: {1st: int}\n",
                   "4:13: aggregates.A.state.1st: invalid field name '1st': a name is letters, "
                   "digits and _, and does "
                   "not start with a digit");
}

static void test_defaults_and_constraints(void **st)
{
    const char *head = "aggregates:\n  A:\n    id: x\n    commands:\n      C:\n        payload:\n  "
                       "        x: string\n";
    char *t = xasprintf("%s          n: {type: int, default: abc}\n", head);
    expect_problem(t, "8:35: aggregates.A.commands.C.payload.n.default: the default does not fit: "
                      "field 'n': expected "
                      "int, got string \"abc\"");
    free(t);
    t = xasprintf("%s          n: {type: int, min: 1, default: 0}\n", head);
    expect_problem(t, "8:43: aggregates.A.commands.C.payload.n.default: the default does not fit: "
                      "field 'n': 0 is "
                      "below the minimum 1");
    free(t);
    t = xasprintf("%s          n: {type: string, pattern: \"([a-z\"}\n", head);
    char *all = problems_of(t, strlen(t));
    if (!strstr(all,
                "\n8:38: aggregates.A.commands.C.payload.n.pattern: invalid pattern '([a-z': "))
        fail_msg("no regerror for the pattern:%s", all);
    free(all);
    free(t);
    t = xasprintf("%s          n: {type: string, enum: [a, 2]}\n", head);
    expect_problem(t, "8:39: aggregates.A.commands.C.payload.n.enum[1]: this value is not of the "
                      "field's type string");
    free(t);
    t = xasprintf("%s          n: {type: string, min: 1}\n", head);
    expect_problem(t, "8:34: aggregates.A.commands.C.payload.n.min: min applies to int and float "
                      "fields, not string");
    free(t);
    t = xasprintf("%s          n: {type: string, min_length: 5, max_length: 2}\n", head);
    expect_problem(t, "8:56: aggregates.A.commands.C.payload.n: max_length is below min_length");
    free(t);
    t = xasprintf("%s          n: {type: string, enum: [a, b], default: c}\n", head);
    expect_problem(t, "8:52: aggregates.A.commands.C.payload.n.default: the default does not fit: "
                      "field 'n': \"c\" is "
                      "not one of [\"a\",\"b\"]");
    free(t);
    t = xasprintf("%s          n: {type: int, optional: maybe}\n", head);
    expect_problem(t, "8:36: aggregates.A.commands.C.payload.n.optional: optional must be true or "
                      "false, got 'maybe'");
    free(t);
}

static void test_aggregate_id_and_snapshot(void **st)
{
    char *t = subst(BASE, "{accountId: string, ", "{acountId: string,  ");
    expect_problem(t, "10:18: aggregates.Account.commands.Deposit.payload: command 'Deposit' has "
                      "no payload field "
                      "'accountId', the aggregate's id: every command needs it to find its stream");
    free(t);
    expect_problem("aggregates:\n  A:\n    state: {}\n",
                   "3:5: aggregates.A: an aggregate needs `id:`, the payload field that names an "
                   "instance (its stream "
                   "is A-<id>)");
    expect_problem("aggregates:\n  A:\n    id: x\n    snapshot_every: 0\n",
                   "4:21: aggregates.A.snapshot_every: snapshot_every must be between 1 and "
                   "1000000000, got 0");
    expect_problem(
        "aggregates:\n  A:\n    id: x\n    snapshot_every: often\n",
        "4:21: aggregates.A.snapshot_every: snapshot_every must be an integer, got 'often'");
}

static void test_rules(void **st)
{
    char *t =
        subst(BASE, ", message: \"account is not open\"", "                                 ");
    expect_problem(t, "12:13: aggregates.Account.commands.Deposit.require[0]: a rule needs "
                      "`message:` (what a person "
                      "is told when it fails)");
    free(t);
    t = subst(BASE, "state.status == 'open'", "state.balance + 1     ");
    expect_problem(t, "12:20: aggregates.Account.commands.Deposit.require[0].rule: `state.balance "
                      "+ 1     ` is an int, "
                      "not a condition (it must be true or false)");
    free(t);
}

static void test_emit_mistakes(void **st)
{
    char *t = subst(BASE, "- MoneyDeposited: {amount", "- MoneyDeposit:   {amount");
    expect_problem(t, "14:13: aggregates.Account.commands.Deposit.emit[0].MoneyDeposit: unknown "
                      "event 'MoneyDeposit' "
                      "(did you mean 'MoneyDeposited'?)");
    free(t);
    t = subst(BASE, "{amount: payload.amount}\n    events", "{amont: payload.amount}\n    events");
    expect_problem(t, "14:30: aggregates.Account.commands.Deposit.emit[0].MoneyDeposited.amont: "
                      "unknown field 'amont' "
                      "of event 'MoneyDeposited' (did you mean 'amount'?)");
    expect_problem(t, "14:13: aggregates.Account.commands.Deposit.emit[0].MoneyDeposited: missing "
                      "field 'amount' of "
                      "event 'MoneyDeposited' (a required int)");
    free(t);
    /* An event of another aggregate. */
    char *t1 =
        xasprintf("%s  Other:\n    id: y\n    events:\n      Pinged: {fields: {n: int}}\n", BASE);
    char *t2 =
        subst(t1, "- MoneyDeposited: {amount: payload.amount}", "- Pinged: {n: payload.amount}");
    free(t1);
    expect_problem(t2, "14:13: aggregates.Account.commands.Deposit.emit[0].Pinged: event 'Pinged' "
                       "belongs to aggregate "
                       "'Other'; a command emits only its own aggregate's events");
    free(t2);
    /* Two events in one entry; a `when` that is not a condition; a value of the wrong type. */
    t = xstrdup(BASE);
    char *p = strstr(t, "          - MoneyDeposited: {amount: payload.amount}\n");
    char *t3 = xasprintf("%.*s          - MoneyDeposited: {amount: payload.amount}\n"
                         "            Other: {}\n"
                         "          - when: \"payload.amount\"\n"
                         "            MoneyDeposited: {amount: \"'ten'\"}\n%s",
                         (int)(p - t), t,
                         p + strlen("          - MoneyDeposited: {amount: payload.amount}\n"));
    expect_problem(
        t3,
        "15:13: aggregates.Account.commands.Deposit.emit[0]: an emit entry names one event, but "
        "this "
        "one names 'MoneyDeposited' and 'Other' (write each as its own `- Event: {...}` entry)");
    expect_problem(t3, "16:19: aggregates.Account.commands.Deposit.emit[1].when: `payload.amount` "
                       "is an int, not a "
                       "condition (it must be true or false)");
    expect_problem(t3, "17:38: aggregates.Account.commands.Deposit.emit[1].MoneyDeposited.amount: "
                       "`'ten'` is a string, "
                       "but field 'amount' of event 'MoneyDeposited' is int");
    free(t3);
    free(t);
}

static void test_apply_unknown_state_field(void **st)
{
    char *t = subst(BASE, "apply: {balance:", "apply: {balanse:");
    expect_problem(
        t,
        "18:17: aggregates.Account.events.MoneyDeposited.apply.balanse: unknown field 'balanse' of "
        "aggregate Account's state (did you mean 'balance'?)");
    free(t);
}

static void test_upcast_chain(void **st)
{
    const char *head =
        "aggregates:\n  A:\n    id: x\n    events:\n      E:\n        fields: {n: int}\n";
    char *t = xasprintf("%s        version: 3\n        upcast:\n          - {from: 1}\n", head);
    expect_problem(t, "9:11: aggregates.A.events.E.upcast: event 'E' is at version 3, so it needs "
                      "an upcast step from "
                      "each older version (1 to 2); missing from: 2");
    free(t);
    t = xasprintf("%s        version: 3\n", head);
    expect_problem(t, "5:7: aggregates.A.events.E.upcast: event 'E' is at version 3, so it needs "
                      "an upcast step from "
                      "each older version (1 to 2); missing from: 1, 2");
    free(t);
    t = xasprintf(
        "%s        version: 2\n        upcast:\n          - {from: 1}\n          - {from: 1}\n",
        head);
    expect_problem(t, "10:13: aggregates.A.events.E.upcast[1]: a second upcast step from 1 (the "
                      "first is at line 9); "
                      "each version has one step");
    free(t);
    t = xasprintf("%s        version: 2\n        upcast:\n          - {from: 2, rname: {}}\n",
                  head);
    expect_problem(
        t, "9:20: aggregates.A.events.E.upcast[0].from: from must be between 1 and 1, got 2");
    expect_problem(t, "9:23: aggregates.A.events.E.upcast[0].rname: unknown key 'rname' (did you "
                      "mean 'rename'?)");
    free(t);
    t = xasprintf("%s        upcast:\n          - {from: 1}\n", head);
    expect_problem(t, "8:20: aggregates.A.events.E.upcast[0].from: the event is at version 1, so "
                      "it has nothing to "
                      "upcast; raise `version:` first");
    free(t);
    t = xasprintf(
        "%s        version: 2\n        upcast:\n          - {from: 1, set: {n: \"state.n\"}}\n",
        head);
    char *all = problems_of(t, strlen(t));
    if (!strstr(all, "\n9:33: aggregates.A.events.E.upcast[0].set.n: "))
        fail_msg("state in an upcast should be refused at 9:33:%s", all);
    free(all);
    free(t);
}

static void test_expression_positions(void **st)
{
    /* Plain scalar: the column of the scalar plus the expression's column. */
    char *t =
        subst(BASE, "amount: payload.amount}\n    events", "amount: payload.amont}\n    events");
    expect_problem(t, "14:46: aggregates.Account.commands.Deposit.emit[0].MoneyDeposited.amount: "
                      "unknown field 'amont' "
                      "of payload (did you mean 'amount'?)");
    free(t);
    /* Quoted scalar: one more for the quote. */
    t = subst(BASE, "state.balance + event", "state.balanse + event");
    expect_problem(t, "18:33: aggregates.Account.events.MoneyDeposited.apply.balance: unknown "
                      "field 'balanse' of state "
                      "(did you mean 'balance'?)");
    free(t);
    /* now() in require is the command's clock (Version 2); row in a command is not. */
    t = subst(BASE, "state.status == 'open'", "now() > now()         ");
    char *all = problems_of(t, strlen(t));
    if (strstr(all, "require[0].rule: "))
        fail_msg("now() in require should be accepted:%s", all);
    free(all);
    free(t);
    t = subst(BASE, "state.status == 'open'", "row.x == 'x'          ");
    all = problems_of(t, strlen(t));
    if (!strstr(all, "\n12:21: aggregates.Account.commands.Deposit.require[0].rule: "))
        fail_msg("row in require should be refused at 12:21:%s", all);
    free(all);
    free(t);
    /* A syntax error inside a quoted expression. */
    t = subst(BASE, "state.status == 'open'", "state.status == (1   ");
    all = problems_of(t, strlen(t));
    if (!strstr(all, "\n12:42: aggregates.Account.commands.Deposit.require[0].rule: expected ')' "
                     "to close '(', found the end\n"))
        fail_msg("the syntax error should be at 12:42:%s", all);
    free(all);
    free(t);
}

static void test_multiline_expression_positions(void **st)
{
    /* Literal, folded, double-quoted and plain scalars over several lines: the
     * error points at the line and column in the file, not in the expression. */
    const char *text = "aggregates:\n  A:\n    id: x\n    state: {n: int}\n    events:\n"
                       "      E:\n        apply:\n          n: |\n            state.n +\n"
                       "              state.q\n"
                       "      F:\n        apply:\n          n: >-\n            state.n\n\n"
                       "              + state.r\n"
                       "      G:\n        apply:\n          n: \"state.n\n            + state.z\"\n"
                       "      H:\n        apply:\n          n: state.n\n            + state.w\n";
    expect_problem(text,
                   "10:21: aggregates.A.events.E.apply.n: unknown field 'q' of state (did you "
                   "mean 'n'?)");
    expect_problem(text,
                   "16:23: aggregates.A.events.F.apply.n: unknown field 'r' of state (did you "
                   "mean 'n'?)");
    expect_problem(text,
                   "20:21: aggregates.A.events.G.apply.n: unknown field 'z' of state (did you "
                   "mean 'n'?)");
    expect_problem(text,
                   "24:21: aggregates.A.events.H.apply.n: unknown field 'w' of state (did you "
                   "mean 'n'?)");
}

static void test_projection_mistakes(void **st)
{
    char *t = xasprintf(
        "%sprojections:\n  P:\n    key: meta.aggregateId\n    columns: {total: 0}\n    on:\n"
        "      MoneyDeposit: {total: \"row.total + 1\"}\n"
        "      MoneyDeposited: {totl: \"row.total + event.amount\"}\n",
        BASE);
    expect_problem(
        t, "24:7: projections.P.on.MoneyDeposit: unknown event type 'MoneyDeposit' (did you mean "
           "'MoneyDeposited'?)");
    expect_problem(t, "25:24: projections.P.on.MoneyDeposited.totl: unknown column 'totl' of "
                      "projection P (did you mean "
                      "'total'?)");
    free(t);
    t = xasprintf("%sprojections:\n  P:\n    columns: {total: 0}\n    on:\n"
                  "      MoneyDeposited: {total: \"payload.amount\"}\n",
                  BASE);
    char *all = problems_of(t, strlen(t));
    if (!strstr(all, "\n23:32: projections.P.on.MoneyDeposited.total: "))
        fail_msg("payload in a projection should be refused at 23:32:%s", all);
    free(all);
    free(t);
    t = xasprintf("%sprojections:\n  P:\n    columns: {total: 0}\n    on:\n"
                  "      MoneyDeposited: {delete: true, set: {total: \"1\"}}\n",
                  BASE);
    expect_problem(t, "23:38: projections.P.on.MoneyDeposited.set: a handler either deletes the "
                      "row or sets columns, "
                      "not both");
    free(t);
    t = xasprintf("%sprojections:\n  P:\n    columns: {total: 0}\n", BASE);
    expect_problem(t, "20:3: projections.P: a projection needs `on:`, the events it folds and what "
                      "each one sets");
    free(t);
}

static void test_source_mistakes(void **st)
{
    expect_problem("sources:\n  s:\n    format: cvs\n",
                   "3:13: sources.s.format: unknown format 'cvs' (did you mean 'csv'?)");
    expect_problem("sources:\n  s:\n    format: csv\n    delimiter: ';;'\n",
                   "4:16: sources.s.delimiter: the delimiter must be one character (not a quote or "
                   "a line break), got "
                   "';;'");
    expect_problem("sources:\n  s:\n    format: csv\n    records: items\n",
                   "4:5: sources.s.records: `records` is for the json format only");
    expect_problem("sources:\n  s:\n    format: ndjson\n    timezone: CET\n",
                   "4:15: sources.s.timezone: timezone must be an offset from UTC such as "
                   "\"+02:00\", \"-0500\" or "
                   "\"Z\", got 'CET'");
    expect_problem("sources:\n  s:\n    format: ndjson\n    stream: state.x\n",
                   "4:13: sources.s.stream: "
                   "'state' is not available in source; use record");
    expect_problem("sources:\n  s:\n    type: record.t\n",
                   "3:5: sources.s: a source needs `format:` (ndjson, json, "
                   "csv or cloudevents)");
}

static void test_scenario_mistakes(void **st)
{
    char *t = xasprintf("%sscenarios:\n"
                        "  - name: one\n"
                        "    given:\n"
                        "      - {stream: Account-A, type: MoneyDeposit, data: {amount: 1}}\n"
                        "      - {stream: Account-A, type: MoneyDeposited, data: {amount: x}}\n"
                        "    when: {command: Deposti, payload: {accountId: A, amount: 1}}\n"
                        "    then: {rejected: no, events: [{type: MoneyDeposited, data: {amout: "
                        "1}}], projections: {Nope: []}}\n"
                        "  - name: one\n"
                        "    then: {state: {balance: 1}}\n",
                        BASE);
    expect_problem(
        t, "22:35: scenarios[0].given[0].type: unknown event type 'MoneyDeposit' (did you mean "
           "'MoneyDeposited'?)");
    expect_problem(
        t,
        "23:66: scenarios[0].given[1].data.amount: field 'amount': expected int, got string \"x\"");
    expect_problem(
        t, "24:21: scenarios[0].when.command: unknown command 'Deposti' (did you mean 'Deposit'?)");
    expect_problem(
        t,
        "25:26: scenarios[0].then.events: a rejected command appends nothing: give `rejected` or "
        "`events`, not both");
    expect_problem(t, "25:92: scenarios[0].then.projections.Nope: unknown projection 'Nope'");
    expect_problem(t, "25:65: scenarios[0].then.events[0].data.amout: unknown field 'amout' of "
                      "event 'MoneyDeposited' "
                      "(did you mean 'amount'?)");
    expect_problem(
        t, "26:11: scenarios[1]: another scenario has this name (line 20); give each its own");
    expect_problem(t, "27:19: scenarios[1].then.state: without `when`, `state` names its instance: "
                      "{aggregate: Name, "
                      "id: ..., field: value}");
    free(t);
    expect_problem("scenarios:\n  - name: x\n",
                   "2:5: scenarios[0]: a scenario needs `then:` (rejected, invalid, events, state "
                   "or projections)");
}

static void test_unique_names(void **st)
{
    char *t = xasprintf(
        "%s  Other:\n    id: y\n    events:\n      MoneyDeposited: {fields: {n: int}}\n", BASE);
    expect_problem(t, "22:7: aggregates.Other.events.MoneyDeposited: event type 'MoneyDeposited' "
                      "is also defined in "
                      "aggregate 'Account' (line 16); an event type is unique across the domain");
    free(t);
}

static void test_many_problems_all_reported(void **st)
{
    const char *text = "domain: t\n"
                       "aggregates:\n"
                       "  A:\n"
                       "    id: x\n"
                       "    state: {n: integr, m: int}\n"
                       "    commands:\n"
                       "      C:\n"
                       "        payload: {x: string}\n"
                       "        require: [{rule: \"state.q > 1\", message: m}]\n"
                       "        emit: [{E: {nn: \"1\"}}]\n"
                       "    events:\n"
                       "      E: {fields: {n: int}, aply: {}}\n"
                       "projections:\n"
                       "  P: {columns: {a: 0}, on: {F: {a: \"1\"}}}\n"
                       "scenarios: [{name: s, when: {command: D}, then: {events: []}}]\n";
    size_t n = count_problems(text);
    if (n < 7) {
        char *all = problems_of(text, strlen(text));
        fail_msg("expected at least 7 problems, got %zu:%s", n, all);
    }
    /* They come in the order of the file. */
    char *all = problems_of(text, strlen(text));
    const char *a = strstr(all, "\n5:"), *b = strstr(all, "\n9:"), *c = strstr(all, "\n15:");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    free(all);
}

/* ---- YAML hazards ---- */

static void test_yaml_tab(void **st)
{
    expect_problem("aggregates:\n\tA:\n    id: x\n",
                   "2:1: aggregates: a tab is used for indentation; YAML allows only spaces there "
                   "(replace the tab "
                   "with spaces)");
    expect_problem("aggregates:\n  A:\n    id: x\n  \tstate: {}\n",
                   "4:3: aggregates.A.id: a tab is used for indentation; YAML allows only spaces "
                   "there (replace the "
                   "tab with spaces)");
}

static void test_yaml_duplicate_key(void **st)
{
    expect_problem("domain: a\naggregates: {}\ndomain: b\n",
                   "3:1: domain: duplicate key 'domain' (first defined at line 1, column 1); a key "
                   "may appear only once");
    /* Deeper, and the rest of the file is still checked. */
    char *t = xasprintf("%s        fields: {amount: string}\nbogus: 1\n", BASE);
    expect_problem(t, "19:9: aggregates.Account.events.MoneyDeposited.fields: duplicate key "
                      "'fields' (first defined at "
                      "line 17, column 9); a key may appear only once");
    expect_problem(t, "20:1: bogus: unknown key 'bogus'; expected one of: domain, description, "
                      "version, types, aggregates, "
                      "projections, sources, scenarios");
    free(t);
}

/* A problem with the file's shape comes before those it may cause, even when
 * they stand earlier in the file. */
static void test_structural_problems_first(void **st)
{
    const char *text = "domain: t\nbogus: 1\naggregates:\n  A:\n    id: x\n    commands:\n"
                       "      C:\n        payload: {x: string}\n        emit: [{E: {}}]\n"
                       "      events:\n      E: {}\n";
    char *all = problems_of(text, strlen(text));
    const char *want = "\n10:7: aggregates.A.commands.events: 'events' stands where a command's "
                       "name goes (column 7), but it is a key of aggregate A (column 5): indent "
                       "it 2 spaces less\n";
    if (strncmp(all, want, strlen(want)) != 0)
        fail_msg("the slip should come first:%s", all);
    assert_non_null(strstr(all, "\n2:1: bogus: unknown key 'bogus'"));
    free(all);
    /* YAML's own problems too (a duplicate key does not stop the checks). */
    all = problems_of("domain: t\nbogus: 1\naggregates: {}\ndomain: u\n", 44);
    const char *dup = "\n4:1: domain: duplicate key";
    assert_true(strncmp(all, dup, strlen(dup)) == 0);
    free(all);
}

static void test_yaml_alias_bomb(void **st)
{
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    char *all = problems_of(bomb, strlen(bomb));
    if (!strstr(all, "aliases expand to more than 10000 nodes"))
        fail_msg("the alias bomb was not refused:%s", all);
    free(all);
    expect_problem(
        "a: *nope\n",
        "1:4: a: alias '*nope' refers to no anchor '&nope' defined before it (or to the node "
        "that contains it)");
    /* Small aliases are fine. */
    expect_ok(
        "aggregates:\n  A:\n    id: x\n    state: &s {n: int}\n  B:\n    id: y\n    state: *s\n");
}

static void test_yaml_bad_bytes(void **st)
{
    expect_problem("domain: t\naggregates:\n  A\xff: {}\n",
                   "3:4: the file is not valid UTF-8 (byte 0xFF); save it as UTF-8");
    expect_problem("domain: \xc3\xa9t\xc3\xa9\n  \xe2\x82:\n",
                   "2:3: the file is not valid UTF-8 (byte 0xE2); save it as UTF-8");
    expect_problem_n("domain: t\nx: a\0b\n", 15,
                     "2:5: the file contains a NUL byte; a domain file is UTF-8 text");
    /* Overlong encodings and surrogates are not UTF-8 either. */
    expect_problem("x: \xc0\xaf\n",
                   "1:4: the file is not valid UTF-8 (byte 0xC0); save it as UTF-8");
    expect_problem("x: \xed\xa0\x80\n",
                   "1:4: the file is not valid UTF-8 (byte 0xED); save it as UTF-8");
}

static void test_yaml_empty_and_shape(void **st)
{
    expect_problem(
        "", "1:1: the file is empty; a domain file is a YAML mapping (domain:, aggregates:, ...)");
    expect_problem("# only a comment\n\n",
                   "1:1: the file is empty; a domain file is a YAML mapping (domain:, "
                   "aggregates:, ...)");
    expect_problem(
        "- a\n- b\n",
        "1:1: the top level must be a mapping, not a list; a domain file is a YAML mapping "
        "(domain:, aggregates:, ...)");
    expect_problem("just text\n",
                   "1:1: the top level must be a mapping, not a scalar; a domain file is a YAML "
                   "mapping (domain:, aggregates:, ...)");
    expect_problem("a: 1\n---\nb: 2\n",
                   "2:1: a second YAML document starts here; a domain file holds exactly one");
    expect_problem(
        "a: [1, 2\nb: 3\n",
        "2:2: a[2]: YAML syntax error: did not find expected ',' or ']' (while parsing a "
        "flow sequence started at line 1, column 4)");
    expect_problem("? [a]\n: 1\n", "1:3: a key must be a plain name, not a list");
    expect_problem("aggregates: [A]\n",
                   "1:13: aggregates: expected the aggregates (a mapping), got a list");
}

static void test_yaml_size_cap(void **st)
{
    size_t n = 16u * 1024u * 1024u + 10;
    char *big = xmalloc(n);
    memset(big, '#', n);
    big[n - 1] = '\n';
    expect_problem_n(big, n, "1:1: the file is 16777226 bytes; a domain file may be at most 16 MB");
    free(big);
}

static void test_yaml_deep_nesting(void **st)
{
    size_t depth = 100000;
    char *t = xmalloc(2 * depth + 8);
    memcpy(t, "a: ", 3);
    memset(t + 3, '[', depth);
    memset(t + 3 + depth, ']', depth);
    t[3 + 2 * depth] = '\0';
    char *all = problems_of(t, strlen(t));
    if (!strstr(all, "nesting is deeper than 200 levels"))
        fail_msg("deep nesting was not refused:%.400s", all);
    free(all);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_defaults_and_constraints),
        cmocka_unit_test(test_aggregate_id_and_snapshot),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_emit_mistakes),
        cmocka_unit_test(test_apply_unknown_state_field),
        cmocka_unit_test(test_upcast_chain),
        cmocka_unit_test(test_expression_positions),
        cmocka_unit_test(test_multiline_expression_positions),
        cmocka_unit_test(test_projection_mistakes),
        cmocka_unit_test(test_source_mistakes),
        cmocka_unit_test(test_scenario_mistakes),
        cmocka_unit_test(test_unique_names),
        cmocka_unit_test(test_many_problems_all_reported),
        cmocka_unit_test(test_yaml_tab),
        cmocka_unit_test(test_yaml_duplicate_key),
        cmocka_unit_test(test_structural_problems_first),
        cmocka_unit_test(test_yaml_alias_bomb),
        cmocka_unit_test(test_yaml_bad_bytes),
        cmocka_unit_test(test_yaml_empty_and_shape),
        cmocka_unit_test(test_yaml_size_cap),
        cmocka_unit_test(test_yaml_deep_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
