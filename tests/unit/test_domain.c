/* test_domain.c: unit tests for the domain loader (core/domain_load.c,
 * domain_parts.c, field.c, yaml_tree.c): the shipped domains load; one broken
 * domain per kind of mistake, each asserting the exact LINE:COL, path and
 * message; several mistakes in one file are all reported; YAML's hazards (tabs,
 * duplicate keys, alias bombs, bad UTF-8, NUL bytes, empty files) are refused;
 * field_check, rules hashes, lookups and stand-alone source maps. */
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

/* Loads text and returns every problem as "LINE:COL: PATH: MESSAGE\n" lines
 * (caller frees); "" when the domain loaded. */
static char *problems_of(const char *text, size_t len)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load_buffer("t.yaml", text, len, &dl);
    strbuf sb;
    sb_init(&sb);
    sb_addc(&sb, '\n');
    for (size_t i = 0; i < dl.len; i++)
        sb_addf(&sb, "%d:%d: %s%s%s\n", dl.items[i].line, dl.items[i].col, dl.items[i].path,
                dl.items[i].path[0] ? ": " : "", dl.items[i].message);
    if (d)
        assert_int_equal(dl.len, 0);
    else
        assert_true(dl.len > 0); /* a failed load always says why */
    domain_free(d);
    diag_list_done(&dl);
    return sb_steal(&sb);
}

/* Asserts that loading text fails with exactly `want` as one of its problems. */
static void expect_problem_n(const char *text, size_t len, const char *want)
{
    char *all = problems_of(text, len);
    char *needle = xasprintf("\n%s\n", want);
    if (!strstr(all, needle))
        fail_msg("expected the problem\n  %s\namong:%s", want, all);
    free(needle);
    free(all);
}

static void expect_problem(const char *text, const char *want)
{
    expect_problem_n(text, strlen(text), want);
}

static size_t count_problems(const char *text)
{
    char *all = problems_of(text, strlen(text));
    size_t n = 0;
    for (const char *p = all + 1; *p; p++)
        n += *p == '\n';
    free(all);
    return n;
}

static void expect_ok(const char *text)
{
    char *all = problems_of(text, strlen(text));
    if (strcmp(all, "\n") != 0)
        fail_msg("expected no problems, got:%s", all);
    free(all);
}

/* A copy of text with the first `from` replaced by `to` (which must be there). */
static char *subst(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p)
        fail_msg("test setup: '%s' not found", from);
    return xasprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

/* A small valid domain; tests append to it or replace parts. */
#define BASE                                                                                       \
    "domain: t\n"                                                                                  \
    "aggregates:\n"                                                                                \
    "  Account:\n"                                                                                 \
    "    id: accountId\n"                                                                          \
    "    state:\n"                                                                                 \
    "      status: {type: string, default: none}\n"                                                \
    "      balance: {type: int, default: 0}\n"                                                     \
    "    commands:\n"                                                                              \
    "      Deposit:\n"                                                                             \
    "        payload: {accountId: string, amount: {type: int, min: 1}}\n"                          \
    "        require:\n"                                                                           \
    "          - {rule: \"state.status == 'open'\", message: \"account is not open\"}\n"           \
    "        emit:\n"                                                                              \
    "          - MoneyDeposited: {amount: payload.amount}\n"                                       \
    "    events:\n"                                                                                \
    "      MoneyDeposited:\n"                                                                      \
    "        fields: {amount: int}\n"                                                              \
    "        apply: {balance: \"state.balance + event.amount\"}\n"

static void test_shipped_domains_load(void **st)
{
    const char *files[] = {"domains/bank.yaml", "domains/cart.yaml", "domains/library.yaml"};
    for (size_t i = 0; i < 3; i++) {
        struct diag_list dl;
        diag_list_init(&dl);
        struct domain *d = domain_load(files[i], &dl);
        if (!d) {
            diag_list_print(&dl, stderr);
            fail_msg("%s did not load", files[i]);
        }
        assert_true(d->naggregates >= 1);
        assert_true(d->nscenarios >= 6);
        assert_int_equal(strlen(d->aggregates[0].rules_hash), 16);
        domain_free(d);
        diag_list_done(&dl);
    }
}

static void test_bank_model(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load("domains/bank.yaml", &dl);
    assert_non_null(d);
    assert_string_equal(d->name, "bank");
    struct aggregate_spec *a = domain_aggregate(d, "Account");
    assert_non_null(a);
    assert_string_equal(a->id_field, "accountId");
    assert_int_equal(a->snapshot_every, 50);
    assert_int_equal(a->ncommands, 4);
    assert_int_equal(a->nevents, 5);
    struct command_spec *w = domain_command(d, "Withdraw");
    assert_non_null(w);
    assert_ptr_equal(w->aggregate, a);
    assert_int_equal(w->nrequire, 2);
    assert_string_equal(w->require[1].message, "insufficient funds");
    assert_int_equal(w->nemits, 2);
    assert_non_null(w->emits[1].when);
    assert_string_equal(w->emits[1].event->name, "LowBalanceWarned");
    struct command_spec *o = domain_command(d, "OpenAccount");
    assert_true(o->payload[0].required);  /* accountId: string */
    assert_false(o->payload[2].required); /* initialDeposit has a default */
    assert_true(o->payload[2].has_min && o->payload[2].min.u.i == 0);
    assert_int_equal(o->payload[1].min_length, 1);
    struct event_spec *e = domain_event(d, "AccountOpened");
    assert_int_equal(e->version, 2);
    assert_int_equal(e->nupcasts, 1);
    assert_int_equal(e->upcasts[0].from, 1);
    assert_string_equal(e->upcasts[0].rename_from[0], "name");
    assert_string_equal(e->upcasts[0].rename_to[0], "owner");
    assert_string_equal(value_str(&e->upcasts[0].default_values[0]), "EUR");
    assert_string_equal(e->upcasts[0].drop[0], "deposit");
    assert_int_equal(domain_event(d, "MoneyDeposited")->version, 1);
    struct projection_spec *p = domain_projection(d, "BankStats");
    assert_null(p->key);
    assert_int_equal(p->ncolumns, 3);
    assert_int_equal(p->defaults[2].type, V_LIST);
    assert_non_null(p->handlers[3].when);
    struct projection_spec *al = domain_projection(d, "AccountList");
    assert_non_null(al->key);
    assert_int_equal(al->defaults[3].type, V_NULL);
    assert_true(al->handlers[3].delete_row);
    struct source_spec *s = domain_source(d, "legacy-csv");
    assert_int_equal(s->format, SRC_CSV);
    assert_int_equal(s->delimiter, ',');
    assert_non_null(s->stream);
    assert_null(s->skip);
    assert_int_equal(d->nscenarios, 13);
    assert_string_equal(d->scenarios[0].then_rejected, "insufficient funds");
    assert_int_equal(d->scenarios[1].given[0].schema, 1);
    assert_true(d->scenarios[1].has_then_events && d->scenarios[1].has_then_state);
    assert_false(d->scenarios[12].has_when);
    assert_null(domain_command(d, "Nope"));
    assert_null(domain_event(d, "Nope"));
    domain_free(d);
    diag_list_done(&dl);
}

static void test_state_zero_values(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    const char *text = "aggregates:\n  A:\n    id: x\n    state:\n"
                       "      s: string\n      i: int\n      f: float\n      b: bool\n"
                       "      l: list\n      m: map\n      t: timestamp\n      a: any\n"
                       "      g: {type: float, default: 2}\n";
    struct domain *d = domain_load_buffer("z.yaml", text, strlen(text), &dl);
    assert_non_null(d);
    struct aggregate_spec *a = &d->aggregates[0];
    assert_int_equal(a->nstate, 9);
    assert_int_equal(a->state[0].def.type, V_STRING);
    assert_int_equal(a->state[1].def.type, V_INT);
    assert_int_equal(a->state[2].def.type, V_DOUBLE);
    assert_int_equal(a->state[3].def.type, V_BOOL);
    assert_int_equal(a->state[4].def.type, V_LIST);
    assert_int_equal(a->state[5].def.type, V_MAP);
    assert_int_equal(a->state[6].def.type, V_NULL);
    assert_int_equal(a->state[7].def.type, V_NULL);
    assert_int_equal(a->state[8].def.type, V_DOUBLE); /* default 2 on a float field reads as 2.0 */
    assert_string_equal(d->name, "z");                /* no `domain:`: the file's name */
    domain_free(d);
    diag_list_done(&dl);
}

static void test_rules_hash(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    const char *b = BASE;
    struct domain *d1 = domain_load_buffer("a.yaml", b, strlen(b), &dl);
    struct domain *d2 = domain_load_buffer("b.yaml", b, strlen(b), &dl);
    assert_non_null(d1);
    assert_non_null(d2);
    assert_string_equal(d1->aggregates[0].rules_hash, d2->aggregates[0].rules_hash);
    /* A different apply changes the hash; a different require does not. */
    char *t3 = xstrdup(b);
    strstr(t3, "state.balance + event.amount")[14] = '-';
    struct domain *d3 = domain_load_buffer("c.yaml", t3, strlen(t3), &dl);
    assert_non_null(d3);
    assert_string_not_equal(d1->aggregates[0].rules_hash, d3->aggregates[0].rules_hash);
    char *t4 = subst(b, "account is not open", "account is NOT open");
    struct domain *d4 = domain_load_buffer("d.yaml", t4, strlen(t4), &dl);
    assert_non_null(d4);
    assert_string_equal(d1->aggregates[0].rules_hash, d4->aggregates[0].rules_hash);
    assert_int_equal(dl.len, 0);
    domain_free(d1);
    domain_free(d2);
    domain_free(d3);
    domain_free(d4);
    free(t3);
    free(t4);
    diag_list_done(&dl);
}

static void test_base_is_valid(void **st)
{
    expect_ok(BASE);
}

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
    expect_problem(text, "10:21: aggregates.A.events.E.apply.n: unknown field 'q' of state (did you "
                         "mean 'n'?)");
    expect_problem(text, "16:23: aggregates.A.events.F.apply.n: unknown field 'r' of state (did you "
                         "mean 'n'?)");
    expect_problem(text, "20:21: aggregates.A.events.G.apply.n: unknown field 'z' of state (did you "
                         "mean 'n'?)");
    expect_problem(text, "24:21: aggregates.A.events.H.apply.n: unknown field 'w' of state (did you "
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

/* ---- field_check ---- */

static void test_field_check(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    const char *text = "aggregates:\n  A:\n    id: x\n    commands:\n      C:\n        payload:\n"
                       "          x: string\n"
                       "          amount: {type: int, min: 1, max: 1000}\n"
                       "          code: {type: string, pattern: \"^[A-Z]+$\", min_length: 2}\n"
                       "          kind: {type: string, enum: [a, b]}\n"
                       "          price: float\n"
                       "          at: {type: timestamp, optional: true}\n"
                       "          tags: {type: list, max_length: 2}\n";
    struct domain *d = domain_load_buffer("f.yaml", text, strlen(text), &dl);
    assert_non_null(d);
    const struct command_spec *c = &d->aggregates[0].commands[0];
    err e;
    value v = value_int(0);
    assert_int_equal(field_check(&c->payload[1], &v, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'amount': 0 is below the minimum 1");
    v = value_int(1001);
    assert_int_equal(field_check(&c->payload[1], &v, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'amount': 1001 is above the maximum 1000");
    v = value_int(5);
    assert_int_equal(field_check(&c->payload[1], &v, &e), ST_OK);
    value s = value_cstring("five");
    assert_int_equal(field_check(&c->payload[1], &s, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'amount': expected int, got string \"five\"");
    value_free(s);
    s = value_cstring("abc");
    assert_int_equal(field_check(&c->payload[2], &s, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'code': \"abc\" does not match the pattern \"^[A-Z]+$\"");
    value_free(s);
    s = value_cstring("A");
    assert_int_equal(field_check(&c->payload[2], &s, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'code': length 1 is below the minimum length 2 characters");
    value_free(s);
    s = value_cstring("AB");
    assert_int_equal(field_check(&c->payload[2], &s, &e), ST_OK);
    value_free(s);
    s = value_cstring("c");
    assert_int_equal(field_check(&c->payload[3], &s, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'kind': \"c\" is not one of [\"a\",\"b\"]");
    value_free(s);
    v = value_int(3);
    assert_int_equal(field_check(&c->payload[4], &v, &e), ST_ERR);
    assert_string_equal(e.msg,
                        "field 'price': expected float, got int 3 (write it with a decimal point)");
    v = value_double(3.5);
    assert_int_equal(field_check(&c->payload[4], &v, &e), ST_OK);
    s = value_cstring("yesterday");
    assert_int_equal(field_check(&c->payload[5], &s, &e), ST_ERR);
    assert_string_equal(
        e.msg,
        "field 'at': \"yesterday\" is not a timestamp (ISO-8601 with an offset or Z, e.g. "
        "2026-11-27T10:00:00Z)");
    value_free(s);
    /* an impossible date, impossible hours, a day without a time, a time without an offset */
    const char *refused[] = {"2026-02-30T10:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T25:00:00Z",
                             "2026-03-01", "2026-03-01T10:00:00"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        s = value_cstring(refused[i]);
        assert_int_equal(field_check(&c->payload[5], &s, &e), ST_ERR);
        assert_non_null(strstr(e.msg, "field 'at': "));
        value_free(s);
    }
    s = value_cstring("2026-03-01");
    assert_int_equal(field_check(&c->payload[5], &s, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "is a date without a time"));
    value_free(s);
    s = value_cstring("2026-03-01T10:00:00.5+02:00");
    assert_int_equal(field_check(&c->payload[5], &s, &e), ST_OK);
    s = field_coerce(F_TIMESTAMP, s); /* what is stored */
    assert_string_equal(value_str(&s), "2026-03-01T08:00:00.500Z");
    value_free(s);
    s = value_cstring("2026-11-27T10:00:00Z");
    assert_int_equal(field_check(&c->payload[5], &s, &e), ST_OK);
    value_free(s);
    v = value_null();
    assert_int_equal(field_check(&c->payload[5], &v, &e), ST_OK); /* optional */
    assert_int_equal(field_check(&c->payload[0], &v, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'x': expected string, got null");
    value l = value_list(3);
    for (int i = 0; i < 3; i++)
        value_list_push(&l, value_int(i));
    assert_int_equal(field_check(&c->payload[6], &l, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'tags': length 3 is above the maximum length 2 items");
    value_free(l);
    assert_string_equal(ftype_name(F_TIMESTAMP), "timestamp");
    domain_free(d);
    diag_list_done(&dl);
}

/* ---- files ---- */

static void test_source_map_file(void **st)
{
    char path[] = "/tmp/strata-test-map-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "format: json\nrecords: Records\nstream: record.repo\ntype: "
                       "record.type\ntimezone: \"+02:00\"\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct diag_list dl;
    diag_list_init(&dl);
    struct source_spec *s = source_load_map(path, &dl);
    assert_non_null(s);
    assert_int_equal(s->format, SRC_JSON);
    assert_string_equal(s->records, "Records");
    assert_true(s->has_timezone);
    assert_int_equal(s->timezone_min, 120);
    assert_non_null(s->type);
    assert_null(s->data);
    assert_string_equal(s->name, strrchr(path, '/') + 1);
    source_free(s);
    /* A bad one: the path of keys starts at the top. */
    FILE *f = fopen(path, "w");
    fputs("format: xml\nstream: payload.x\n", f);
    fclose(f);
    s = source_load_map(path, &dl);
    assert_null(s);
    assert_int_equal(dl.len, 2);
    assert_string_equal(dl.items[0].path, "format");
    assert_int_equal(dl.items[0].line, 1);
    assert_int_equal(dl.items[0].col, 9);
    assert_string_equal(dl.items[1].path, "stream");
    unlink(path);
    diag_list_done(&dl);
    s = source_load_map("/nonexistent/map.yaml", &dl);
    assert_null(s);
    assert_int_equal(dl.len, 1);
    assert_int_equal(dl.items[0].line, 0);
    diag_list_done(&dl);
}

static void test_diag_print(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    const char *text = "domain: t\naggregates:\n  A:\n    id: x\n    stat: {}\n";
    assert_null(domain_load_buffer("my.yaml", text, strlen(text), &dl));
    char buf[512] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    diag_list_print(&dl, f);
    fclose(f);
    assert_string_equal(
        buf, "my.yaml:5:5: error: aggregates.A.stat: unknown key 'stat' (did you mean 'state'?)\n");
    diag_list_done(&dl);
    assert_null(domain_load("/nonexistent/d.yaml", &dl));
    memset(buf, 0, sizeof buf);
    f = fmemopen(buf, sizeof buf - 1, "w");
    diag_list_print(&dl, f);
    fclose(f);
    /* The path once, not twice. */
    assert_string_equal(buf,
                        "/nonexistent/d.yaml: error: cannot open: No such file or directory\n");
    diag_list_done(&dl);
}

/* ---- where an evaluation error stands in the file ---- */

/* Evaluates the first require rule of command C of text with payload {n: 0} and
 * returns the error message (caller frees). */
static char *runtime_error_of(const char *text)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load_buffer("t.yaml", text, strlen(text), &dl);
    if (!d)
        diag_list_print(&dl, stderr);
    assert_non_null(d);
    const struct command_spec *c = domain_command(d, "C");
    assert_non_null(c);
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    value payload = value_map(1);
    value_map_set(&payload, "n", value_int(0));
    vars.roots[ROOT_PAYLOAD] = payload;
    vars.roots[ROOT_STATE] = value_map(0);
    bool ok;
    err e;
    err_clear(&e);
    assert_int_equal(expr_eval_bool(c->require[0].rule, &vars, &ok, &e), ST_ERR);
    value_free(payload);
    value_free(vars.roots[ROOT_STATE]);
    domain_free(d);
    diag_list_done(&dl);
    return xstrdup(e.msg);
}

#define RT_HEAD                                                                                    \
    "domain: t\naggregates:\n  A:\n    id: x\n    commands:\n      C:\n"                          \
    "        payload: {x: string, n: int}\n        require:\n"

static void test_runtime_error_position(void **st)
{
    /* A folded scalar: its lines were joined with spaces; the division is on the
     * third line (file line 12), its '/' at column 15. */
    char *m = runtime_error_of(RT_HEAD "          - rule: >-\n"
                                       "              payload.n >= 0 &&\n"
                                       "              payload.n < 5 &&\n"
                                       "              100 / payload.n > 1\n"
                                       "            message: m\n");
    assert_string_equal(m, "t.yaml:12:19: `payload.n >= 0 && payload.n < 5 && 100 / payload.n > "
                           "1`: division by zero");
    free(m);
    /* A literal scalar keeps its newlines; the indentation is not part of the text. */
    m = runtime_error_of(RT_HEAD "          - message: m\n"
                                 "            rule: |\n"
                                 "              payload.n >= 0 &&\n"
                                 "                 100 / payload.n > 1\n");
    assert_non_null(strstr(m, "t.yaml:12:22: `"));
    assert_non_null(strstr(m, "`: division by zero"));
    free(m);
    /* Plain and quoted scalars: the same line, the quote counted. */
    m = runtime_error_of(RT_HEAD "          - {rule: 1 / payload.n > 0, message: m}\n");
    assert_string_equal(m, "t.yaml:9:22: `1 / payload.n > 0`: division by zero");
    free(m);
    m = runtime_error_of(RT_HEAD "          - {rule: \"1 / payload.n > 0\", message: m}\n");
    assert_string_equal(m, "t.yaml:9:23: `1 / payload.n > 0`: division by zero");
    free(m);
}

/* ---- did_you_mean and the domain_find_* lookups ---- */

static void test_suggester(void **st)
{
    const char *const cmds[] = {"OpenAccount", "Deposit", "Withdraw", "CloseAccount"};
    assert_string_equal(did_you_mean("Depositt", cmds, 4), "Deposit");
    assert_string_equal(did_you_mean("Deopsit", cmds, 4), "Deposit"); /* a swap is one edit */
    assert_string_equal(did_you_mean("deposit", cmds, 4), "Deposit"); /* case only */
    assert_string_equal(did_you_mean("WITHDRAW", cmds, 4), "Withdraw");
    assert_string_equal(did_you_mean("close", cmds, 4), "CloseAccount"); /* a prefix */
    assert_string_equal(did_you_mean("Open", cmds, 4), "OpenAccount");
    assert_string_equal(did_you_mean("Withdrew", cmds, 4), "Withdraw");
    const char *const formats[] = {"ndjson", "json", "csv", "cloudevents"};
    assert_string_equal(did_you_mean("cvs", formats, 4), "csv");
    /* Not whatever is nearest: only a name close enough to be meant. */
    assert_null(did_you_mean("Transfer", cmds, 4));
    assert_null(did_you_mean("abcd", (const char *const[]){"wxyz"}, 1));
    assert_null(did_you_mean("Dx", cmds, 4)); /* two letters are no prefix to go on */
    assert_null(did_you_mean("", cmds, 4));
    assert_null(did_you_mean("Deposit", cmds, 0));
    /* A scenario key `open` where `when` is expected: one shared letter is not a
     * typo of it (issue 13: "unknown key 'open' (did you mean 'when'?)"). */
    const char *const scenario_keys[] = {"name", "given", "when", "then"};
    assert_null(did_you_mean("open", scenario_keys, 4));
    assert_string_equal(did_you_mean("wehn", scenario_keys, 4), "when");
    /* NULL entries are skipped; ties go to the earlier name. */
    const char *const holes[] = {NULL, "state", NULL, "stats"};
    assert_string_equal(did_you_mean("stat", holes, 4), "state");
    /* Long names: no cap on their length. */
    char longname[201], typo[201];
    memset(longname, 'a', 200);
    longname[200] = '\0';
    memcpy(typo, longname, sizeof typo);
    typo[100] = 'b';
    const char *const longs[] = {"short", longname};
    assert_ptr_equal(did_you_mean(typo, longs, 2), longname);
    assert_int_equal(edit_distance(typo, longname), 1);
    assert_int_equal(edit_distance("ca", "ac"), 1);
    assert_int_equal(edit_distance("kitten", "sitting"), 3);
}

static void test_domain_find(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load("domains/bank.yaml", &dl);
    assert_non_null(d);
    err e;
    err_clear(&e);
    /* Hits return what the plain lookups return, and leave e alone. */
    assert_ptr_equal(domain_find_command(d, "Deposit", &e), domain_command(d, "Deposit"));
    assert_ptr_equal(domain_find_aggregate(d, "Account", &e), &d->aggregates[0]);
    assert_ptr_equal(domain_find_event(d, "MoneyDeposited", &e), domain_event(d, "MoneyDeposited"));
    assert_ptr_equal(domain_find_projection(d, "BankStats", &e), domain_projection(d, "BankStats"));
    assert_int_equal(e.code, ST_OK);
    assert_string_equal(e.msg, "");

    assert_null(domain_find_command(d, "Depositt", &e));
    assert_int_equal(e.code, ST_NOT_FOUND);
    assert_string_equal(e.msg, "unknown command 'Depositt' (did you mean 'Deposit'?)");
    assert_null(domain_find_command(d, "Transfer", &e));
    assert_string_equal(e.msg, "unknown command 'Transfer' in domain bank");
    assert_null(domain_find_aggregate(d, "Acount", &e));
    assert_string_equal(e.msg, "unknown aggregate 'Acount' (did you mean 'Account'?)");
    assert_null(domain_find_event(d, "MoneyDeposit", &e));
    assert_string_equal(e.msg,
                        "unknown event type 'MoneyDeposit' (did you mean 'MoneyDeposited'?)");
    assert_null(domain_find_projection(d, "bankstats", &e));
    assert_string_equal(e.msg, "unknown projection 'bankstats' (did you mean 'BankStats'?)");
    assert_null(domain_find_projection(d, "Ledger", &e));
    assert_string_equal(e.msg, "unknown projection 'Ledger' in domain bank");
    assert_null(domain_find_command(d, NULL, &e));
    assert_string_equal(e.msg, "unknown command '' in domain bank");
    assert_null(domain_find_command(d, "Deposit2", NULL)); /* e may be NULL */
    domain_free(d);
    diag_list_done(&dl);
}

/* More names than any old fixed array held (the command line kept 256 commands,
 * 128 aggregates): the name meant is the 299th of 300, and is still found. */
static void test_domain_find_many(void **st)
{
    struct domain *d = xcalloc(1, sizeof *d);
    d->name = xstrdup("big");
    d->naggregates = 300;
    d->aggregates = xcalloc(300, sizeof *d->aggregates);
    d->aggregates[0].ncommands = 300;
    d->aggregates[0].commands = xcalloc(300, sizeof *d->aggregates[0].commands);
    for (size_t i = 0; i < 300; i++) {
        d->aggregates[i].name = xasprintf("Agg%03zu_Store", i + 1);
        d->aggregates[0].commands[i].name = xasprintf("C%03zu_Name", i + 1);
    }
    err e;
    err_clear(&e);
    assert_null(domain_find_command(d, "C299_Nmae", &e));
    assert_string_equal(e.msg, "unknown command 'C299_Nmae' (did you mean 'C299_Name'?)");
    assert_null(domain_find_aggregate(d, "Agg299_Stroe", &e));
    assert_string_equal(e.msg, "unknown aggregate 'Agg299_Stroe' (did you mean 'Agg299_Store'?)");
    assert_ptr_equal(domain_find_command(d, "C299_Name", &e), &d->aggregates[0].commands[298]);
    /* Far off: no suggestion, however many names there are to pick from. */
    assert_null(domain_find_command(d, "Withdraw", &e));
    assert_string_equal(e.msg, "unknown command 'Withdraw' in domain big");
    assert_null(domain_find_event(d, "Opened", &e));
    assert_string_equal(e.msg, "unknown event type 'Opened': domain big has no events");
    assert_null(domain_find_projection(d, "P", &e));
    assert_string_equal(e.msg, "unknown projection 'P': domain big has no projections");
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_domains_load),
        cmocka_unit_test(test_bank_model),
        cmocka_unit_test(test_state_zero_values),
        cmocka_unit_test(test_rules_hash),
        cmocka_unit_test(test_base_is_valid),
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
        cmocka_unit_test(test_field_check),
        cmocka_unit_test(test_source_map_file),
        cmocka_unit_test(test_diag_print),
        cmocka_unit_test(test_runtime_error_position),
        cmocka_unit_test(test_suggester),
        cmocka_unit_test(test_domain_find),
        cmocka_unit_test(test_domain_find_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
