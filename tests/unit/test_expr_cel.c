/* test_expr_cel.c: CEL semantics of the expression language (core/expr.h):
 * equality across types, bool() conversion, the optional limits of split and
 * replace, the caps and evaluation budget that keep hostile expressions
 * harmless, the static checks against an environment, map literals with int and
 * bool keys (and in domains), and a table of cases from CEL's conformance suite
 * (cel-spec tests/simple/testdata) with their expected results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/expr.h"
#include "core/json.h"
#include "test_expr_fixture.h"

static void test_equality(void **st)
{
    EXPECT("1 == 1", "true");
    EXPECT("1 != 1", "false");
    /* cel-spec's heterogeneous equality: an int and a double are compared as numbers */
    EXPECT("1 == 1.0", "true");
    EXPECT("1.0 == 1", "true");
    EXPECT("1 != 1.0", "false");
    EXPECT("1 == 1.5", "false");
    EXPECT("-0.0 == 0", "true");
    EXPECT("1 == 0.0 / 0.0", "false");
    EXPECT("1 != 0.0 / 0.0", "true");
    EXPECT("[1] == [1.0]", "true");
    EXPECT("[[1, 2.0]] == [[1.0, 2]]", "true");
    EXPECT("{'a': 1} == {'a': 1.0}", "true");
    EXPECT("state.balance == 150.0", "true");
    EXPECT("state.rate == 1", "false");
    EXPECT("1 == '1'", "false"); /* other values of different types are never equal */
    EXPECT("true == 1", "false");
    EXPECT("null == 0.0", "false");
    EXPECT("'a' == 'a'", "true");
    EXPECT("'a' == \"a\"", "true");
    EXPECT("null == null", "true");
    EXPECT("null == 0", "false");
    EXPECT("true == true", "true");
    EXPECT("[1, 2] == [1, 2]", "true");
    EXPECT("[1, 2] == [2, 1]", "false");
    EXPECT("{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", "true");
    EXPECT("[] == {}", "false");
    EXPECT("-0.0 == 0.0", "true");
    EXPECT("state.nothing == null", "true");
    EXPECT("state.lines == {'p2': 3, 'p1': 2}", "true");
}

static void test_bool_conversion(void **st)
{
    const char *yes[] = {"'1'", "'t'", "'true'", "'TRUE'", "'True'", "true"};
    const char *no[] = {"'0'", "'f'", "'false'", "'FALSE'", "'False'", "false"};
    char src[64];
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        snprintf(src, sizeof src, "bool(%s)", yes[i]);
        EXPECT(src, "true");
        snprintf(src, sizeof src, "bool(%s)", no[i]);
        EXPECT(src, "false");
    }
    EXPECT_ERR("bool('TrUe')", "bool() cannot convert \"TrUe\" to a bool");
    EXPECT_ERR("bool('yes')", "cannot convert");
    EXPECT_ERR("bool('')", "cannot convert");
    EXPECT_ERR("bool(' true')", "cannot convert");
    EXPECT_COMPILE_ERR("bool(1)", 1, "no such overload: bool(int)");
    EXPECT_ERR("bool(state.balance)", "no such overload: bool(int)");
    EXPECT("bool(state.status == 'open')", "true");
}

/* CEL's optional limit (Go's strings.SplitN and strings.Replace). */
static void test_split_replace_limits(void **st)
{
    EXPECT("'hello world events!'.split(' ', 0)", "[]");
    EXPECT("'hello world events!'.split(' ', 1)", "[\"hello world events!\"]");
    EXPECT("'hello world events!'.split(' ', 2)", "[\"hello\",\"world events!\"]");
    EXPECT("'a b'.split(' ', 9)", "[\"a\",\"b\"]");
    EXPECT("'o\xc2\xa9o\xc2\xa9o'.split('\xc2\xa9', -1)", "[\"o\",\"o\",\"o\"]");
    EXPECT("'abc'.split('', 2)", "[\"a\",\"bc\"]");
    EXPECT("'abc'.split('', 0)", "[]");
    EXPECT("''.split('', -1)", "[]");
    EXPECT("'{0} days {0} hours'.replace('{0}', '2', 1)", "\"2 days {0} hours\"");
    EXPECT("'aaa'.replace('a', 'b', 0)", "\"aaa\"");
    EXPECT("'aaa'.replace('a', 'b', -1)", "\"bbb\"");
    EXPECT("'aaa'.replace('a', 'b', 5)", "\"bbb\"");
    EXPECT("'abc'.replace('', '-', 2)", "\"-a-bc\"");
    EXPECT_COMPILE_ERR("'a'.split(',', '1')", 16, "split() needs an int here, got string");
    EXPECT_COMPILE_ERR("'a'.replace('a', 'b', 1.0)", 23, "replace() needs an int here, got double");
    EXPECT_ERR("'a'.split(',', payload.name)", "no such overload: string.split(string, string)");
    EXPECT_ERR("'a'.replace('a', 'b', payload.name)",
               "no such overload: string.replace(string, string, string)");
}

/* ---- caps ---- */

static void test_caps(void **st)
{
    /* nesting depth */
    char buf[EXPR_MAX_LENGTH + 16];
    int d = EXPR_MAX_DEPTH + 5;
    memset(buf, '(', (size_t)d);
    buf[d] = '1';
    memset(buf + d + 1, ')', (size_t)d);
    buf[2 * d + 1] = 0;
    EXPECT_COMPILE_ERR(buf, 0, "nested too deeply");
    memset(buf, '!', 200);
    strcpy(buf + 200, "true");
    EXPECT_COMPILE_ERR(buf, 0, "nested too deeply");
    /* a long flat chain makes a tall tree: refused too, so evaluation cannot recurse deeply */
    strcpy(buf, "1");
    for (int i = 0; i < 100; i++)
        strcat(buf, "+1");
    EXPECT_COMPILE_ERR(buf, 0, "nested too deeply");
    strcpy(buf, "state");
    for (int i = 0; i < 100; i++)
        strcat(buf, ".a");
    EXPECT_COMPILE_ERR(buf, 0, "nested too deeply");
    /* what fits is fine */
    strcpy(buf, "1");
    for (int i = 0; i < 40; i++)
        strcat(buf, "+1");
    EXPECT(buf, "41");
    /* length */
    memset(buf, ' ', EXPR_MAX_LENGTH + 1);
    buf[0] = '1';
    buf[EXPR_MAX_LENGTH + 1] = 0;
    EXPECT_COMPILE_ERR(buf, 1, "expression too long");
    buf[EXPR_MAX_LENGTH] = 0;
    EXPECT(buf, "1");
}

static void test_budget(void **st)
{
    /* a hostile nest of macros: 10^6 elements at the innermost level */
    EXPECT_ERR(
        "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c,"
        " [1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,5,6,7,8,9,10].map(e, [1,2,3,4,5,6,7,8,9,10].map(f,"
        " a + b + c + d + e + f))))))",
        "evaluation budget exhausted (more than 1000000 steps)");
    /* the budget is not absorbed by || */
    EXPECT_ERR(
        "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c,"
        " [1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,5,6,7,8,9,10].map(e, "
        "[1,2,3,4,5,6,7,8,9,10].all(f, f > 0)))))) == [] || true",
        "budget exhausted");
    /* a small budget from the caller */
    struct expr_vars v = *std_vars();
    v.budget = 10;
    char out[1024];
    assert_int_equal(run_expr("[1, 2, 3].map(x, x + 1)", &v, out, sizeof out), ST_ERR);
    assert_non_null(strstr(out, "more than 10 steps"));
    v.budget = 50;
    assert_int_equal(run_expr("[1, 2, 3].map(x, x + 1)", &v, out, sizeof out), ST_OK);
    assert_string_equal(out, "[2,3,4]");
    /* string growth: each replace multiplies by 10; the size is checked before building */
    EXPECT_ERR("'ab'.replace('a','aaaaaaaaaa').replace('a','aaaaaaaaaa').replace('a','aaaaaaaaaa')"
               ".replace('a','aaaaaaaaaa').replace('a','aaaaaaaaaa').replace('a','aaaaaaaaaa')"
               ".replace('a','aaaaaaaaaa')",
               "result too large");
    /* growth that depends on the macro's variable (so it is not folded at compile time) */
    EXPECT_ERR("[1, 2].map(a, (string(a) + 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')"
               ".replace('x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx').replace('x', "
               "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')"
               ".replace('x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'))",
               "result too large");
    /* string bytes count against the budget (here the caller's smaller one) */
    v.budget = 100000;
    assert_int_equal(
        run_expr(
            "'0123456789012345678901234567890123456789012345678901234567890123456789'.split('')"
            ".map(a, (a + 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')"
            ".replace('x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx').replace('x', "
            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'))",
            &v, out, sizeof out),
        ST_ERR);
    assert_non_null(strstr(out, "budget exhausted"));
    /* list growth */
    EXPECT_ERR("[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10]"
               ".map(c, [1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,5,6,7,8,9,10].map(e, "
               "[1,2,3,4,5,6,7,8,9,10].map(f,"
               " 'abcdefghijklmnopqrstuvwxyz'.split('')))))))",
               "budget exhausted");
}

/* ---- static checks with an environment ---- */

static const char *const state_fields[] = {"status", "owner", "balance", "lines"};
static const expr_type state_types[] = {EXPR_T_STRING, EXPR_T_STRING, EXPR_T_INT, EXPR_T_MAP};
static const struct expr_schema state_schema = {
    .fields = state_fields, .types = state_types, .nfields = 4};
static const char *const payload_fields[] = {"accountId", "amount", "when"};
static const expr_type payload_types[] = {EXPR_T_STRING, EXPR_T_INT, EXPR_T_TIMESTAMP};
static const struct expr_schema payload_schema = {
    .fields = payload_fields, .types = payload_types, .nfields = 3};
static const char *const event_fields[] = {"amount", "note"};
static const struct expr_schema event_schema_untyped = {
    .fields = event_fields, .types = NULL, .nfields = 2};

static struct expr_env rule_env(void)
{
    struct expr_env env;
    memset(&env, 0, sizeof env);
    env.allowed = ROOT_BIT(ROOT_PAYLOAD) | ROOT_BIT(ROOT_STATE);
    env.schema[ROOT_STATE] = &state_schema;
    env.schema[ROOT_PAYLOAD] = &payload_schema;
    env.slot = "a command's rule";
    return env;
}

#define EXPECT_ENV_ERR(env, src, col, want) want_compile_error(__LINE__, src, env, col, want)

static void want_compiles(const struct expr_env *env, const char *src, expr_type type)
{
    err ee;
    expr *x = expr_compile(src, strlen(src), env, &ee);
    if (!x)
        fail_msg("`%s` should compile: column %d: %s", src, ee.col, ee.msg);
    if (expr_result_type(x) != type)
        fail_msg("`%s`: type %d, expected %d", src, (int)expr_result_type(x), (int)type);
    expr_free(x);
}

static void test_static_checks(void **st)
{
    struct expr_env env = rule_env();
    EXPECT_ENV_ERR(&env, "row.open > 0", 1,
                   "'row' is not available in a command's rule; use payload or state");
    EXPECT_ENV_ERR(&env, "event.amount", 1,
                   "'event' is not available in a command's rule; use payload or state");
    EXPECT_ENV_ERR(&env, "state.balanse >= 0", 7,
                   "unknown field 'balanse' of state (did you mean 'balance'?)");
    EXPECT_ENV_ERR(&env, "has(state.balanse)", 11,
                   "unknown field 'balanse' of state (did you mean 'balance'?)");
    EXPECT_ENV_ERR(&env, "state['balanse'] > 1", 7,
                   "unknown field 'balanse' of state (did you mean 'balance'?)");
    EXPECT_ENV_ERR(&env, "payload.zzzzzz", 9, "unknown field 'zzzzzz' of payload");
    EXPECT_ENV_ERR(&env, "now() == ''", 1,
                   "now() is only allowed in require and emit (a command's clock)");
    EXPECT_ENV_ERR(&env, "'a' - 1", 5, "no such overload: string - int");
    EXPECT_ENV_ERR(&env, "state.balance + 'x'", 15, "no such overload: int + string");
    EXPECT_ENV_ERR(&env, "state.balance + 1.5", 15, "no such overload: int + double");
    EXPECT_ENV_ERR(&env, "state.balance < 'x'", 15, "no such overload: int < string");
    EXPECT_ENV_ERR(&env, "state.balance >= payload.accountId", 15,
                   "no such overload: int >= string");
    EXPECT_ENV_ERR(&env, "state.owner - payload.amount", 13, "no such overload: string - int");
    EXPECT_ENV_ERR(&env, "state.lines + 1", 13, "no such overload: map + int");
    EXPECT_ENV_ERR(&env, "true + state.lines.x", 6, "no such overload: bool + dyn");
    EXPECT_ENV_ERR(&env, "1 && state.balance > 0", 3, "'&&' needs a bool, got int");
    EXPECT_ENV_ERR(&env, "state.status == 'open' || 'yes'", 24, "'||' needs a bool, got string");
    EXPECT_ENV_ERR(&env, "state.balance && (1 < 2)", 15,
                   "'&&' needs a bool, got int"); /* a constant that does not decide */
    EXPECT_ENV_ERR(&env, "!state.owner", 1, "'!' needs a bool, got string");
    EXPECT_ENV_ERR(&env, "state.balance ? 1 : 2", 15, "needs a bool, got int");
    EXPECT_ENV_ERR(&env, "size(state.balance)", 1, "no such overload: size(int)");
    EXPECT_ENV_ERR(&env, "state.balance.contains('a')", 15, "no such overload: int.contains()");
    EXPECT_ENV_ERR(&env, "state.balance.x", 15, "cannot select field 'x' of int");
    EXPECT_ENV_ERR(&env, "stat.balance", 1, "unknown name 'stat' (did you mean 'state'?)");
    EXPECT_ENV_ERR(&env, "foo(state)", 1, "unknown function 'foo'");

    /* what is right compiles, with its type */
    want_compiles(&env, "state.balance >= payload.amount", EXPR_T_BOOL);
    want_compiles(&env, "state.status == 'open' && state.balance == 0", EXPR_T_BOOL);
    want_compiles(&env, "state.balance - payload.amount", EXPR_T_INT);
    want_compiles(&env, "state.balance < 1.5 * 100.0", EXPR_T_BOOL); /* int and double compare */
    want_compiles(&env, "state.balance == 1.5", EXPR_T_BOOL);
    want_compiles(&env, "state.owner + '!'", EXPR_T_STRING);
    /* a timestamp field is an instant, not text */
    EXPECT_ENV_ERR(&env, "payload.when < '2027'", 14, "no such overload: timestamp < string");
    EXPECT_ENV_ERR(&env, "'at ' + payload.when", 7, "no such overload: string + timestamp");
    EXPECT_ENV_ERR(&env, "payload.when.size()", 14, "no such overload: timestamp.size()");
    want_compiles(&env, "payload.when < timestamp('2027-01-01T00:00:00Z')", EXPR_T_BOOL);
    want_compiles(&env, "payload.when + duration('36h')", EXPR_T_TIMESTAMP);
    want_compiles(&env, "payload.when - payload.when", EXPR_T_DURATION);
    want_compiles(&env, "string(payload.when)", EXPR_T_STRING);
    want_compiles(&env, "payload.when.getHours('+02:00')", EXPR_T_INT);
    EXPECT_ENV_ERR(&env, "duration('1h') - payload.when", 16,
                   "no such overload: duration - timestamp");
    EXPECT_ENV_ERR(&env, "payload.when * 2", 14, "no such overload: timestamp * int");
    EXPECT_ENV_ERR(&env, "payload.when.getHours(2)", 23, "getHours() needs a string here, got int");
    want_compiles(&env, "has(state.lines) && state.lines.p1 > 0", EXPR_T_BOOL);
    want_compiles(&env, "state.lines.anything", EXPR_T_ANY); /* only the root's fields are known */
    want_compiles(&env, "state.balance", EXPR_T_INT);
    want_compiles(&env, "state.lines", EXPR_T_MAP);
    want_compiles(&env, "payload", EXPR_T_MAP);
    want_compiles(&env, "size(state.owner)", EXPR_T_INT);
    want_compiles(&env, "[1, 2].map(x, x)", EXPR_T_LIST);
    want_compiles(&env, "[1].all(row, row > 0)",
                  EXPR_T_BOOL); /* a macro variable may be named row */

    /* emit allows now(); untyped schemas check names only */
    struct expr_env emit = env;
    emit.allowed |= EXPR_ALLOW_NOW;
    emit.slot = "emit";
    want_compiles(&emit, "now()", EXPR_T_TIMESTAMP);
    struct expr_env apply;
    memset(&apply, 0, sizeof apply);
    apply.allowed = ROOT_BIT(ROOT_STATE) | ROOT_BIT(ROOT_EVENT);
    apply.schema[ROOT_EVENT] = &event_schema_untyped;
    apply.slot = "apply";
    want_compiles(&apply, "event.amount + 1.5", EXPR_T_DOUBLE);
    EXPECT_ENV_ERR(&apply, "event.amout", 7,
                   "unknown field 'amout' of event (did you mean 'amount'?)");
    EXPECT_ENV_ERR(&apply, "payload.x", 1,
                   "'payload' is not available in apply; use state or event");
    EXPECT_ENV_ERR(&apply, "now()", 1,
                   "now() is only allowed in require and emit (a command's clock)");
    /* a root without a schema: fields unchecked */
    want_compiles(&apply, "state.whatever", EXPR_T_ANY);
    /* no roots at all */
    struct expr_env none;
    memset(&none, 0, sizeof none);
    none.slot = "a default";
    EXPECT_ENV_ERR(&none, "state.x", 1, "'state' is not available in a default");
    want_compiles(&none, "1 + 2", EXPR_T_INT);
}

/* ---- evaluation helpers of the API ---- */

/* CEL map literals with int and bool keys (kept as text plus a kind: value.h). */
static void test_map_keys(void **st)
{
    EXPECT("{0: 1, 2: 2, 5: true}[5]", "true");
    EXPECT("{true: 5}[true]", "5");
    EXPECT("{true: 1, false: 2}[false]", "2");
    EXPECT("{-3: 'm'}[-3]", "\"m\"");
    EXPECT("{9223372036854775807: 'max'}[9223372036854775807]", "\"max\"");
    EXPECT("size({1: 'one', 2: 'two', 3: 'three'})", "3");
    EXPECT("{1: 'a'}[1.0]", "\"a\""); /* a double finds the int key of its value */
    EXPECT_ERR("{1: 'a'}[1.5]", "no such key: 1.5");
    EXPECT_ERR("{1: 'a'}['1']", "no such key: 1"); /* 1 and '1' are different keys */
    EXPECT_ERR("{'1': 'a'}[1]", "no such key: 1");
    EXPECT_ERR("{true: 'a'}['true']", "no such key: true");
    EXPECT_ERR("{1: 'a'}[true]", "no such key: true");
    EXPECT_ERR("{1: 'a'}[[1]]", "no such overload: map[list]");
    EXPECT("{1: 'a', '1': 'b'}['1']", "\"b\"");
    EXPECT("{1: 'a', '1': 'b'}[1]", "\"a\"");
    EXPECT("true in {true: 1}", "true");
    EXPECT("1 in {1: 'a'}", "true");
    EXPECT("1.0 in {1: 'a'}", "true");
    EXPECT("'1' in {1: 'a'}", "false");
    EXPECT("1 in {'1': 'a'}", "false");
    EXPECT_ERR("{1: 'a', 1: 'b'}", "column 10: repeated map key 1");
    EXPECT_ERR("{true: 'a', 1 == 1: 'b'}", "repeated map key true");
    /* printed with the keys as JSON text */
    EXPECT("{1: 'one', true: 'yes', 'k': 'v'}", "{\"1\":\"one\",\"true\":\"yes\",\"k\":\"v\"}");
    /* equality: keys match by value and kind; values as == compares them */
    EXPECT("{'k': 'v', 1: 1} == {'k': 'v', 1: 'v1'}", "false");
    EXPECT("{1: 'hello', 2: 'world'} == {1: 'goodbye', 2: null}", "false");
    EXPECT("{1: 1.0} != {1: 1.0}", "false");
    EXPECT("{1: 1} == {1: 1.0}", "true");
    EXPECT("{2: 'b', 1: 'a'} == {1: 'a', 2: 'b'}", "true");
    EXPECT("{1: 'a'} == {'1': 'a'}", "false");
    EXPECT("{true: 'a'} == {'true': 'a'}", "false");
    /* macros see the keys as they were written */
    EXPECT("{'key': 1, 1: 21}.exists(k, k != 2)", "true");
    EXPECT("!{'key': 1, 1: 42}.exists(k, k == 2)", "true");
    EXPECT("{6: 'six', 7: 'seven', 8: 'eight'}.exists_one(foo, foo % 5 == 2)", "true");
    EXPECT("{1: 'a', true: 'b', 'c': 'c'}.map(k, k)", "[1,true,\"c\"]");
    EXPECT("{1: 'a', 2: 'b', 3: 'c'}.filter(k, k > 1)", "[2,3]");
    EXPECT("size({0: {0: {0: {0: 'foo'}}}})", "1");
    EXPECT("{0: {1: 'x'}}[0][1]", "\"x\"");
    /* put() keeps the kinds of the other keys; remove() takes any key */
    EXPECT("put({1: 'a'}, 'b', 2)[1]", "\"a\"");
    EXPECT("remove({1: 'a', '1': 'b'}, 1)", "{\"1\":\"b\"}");
    EXPECT("remove({1: 'a', '1': 'b'}, '1')", "{\"1\":\"a\"}");
    EXPECT("remove({true: 'a'}, 1)", "{\"true\":\"a\"}");
    /* 32 int keys: the map's hash index knows kinds too */
    EXPECT(
        "{0: 'zero', 1: 'one', 2: 'two', 3: 'three', 4: 'four', 5: 'five', 6: 'six', 7: 'seven', "
        "8: 'eight', 9: 'nine', 10: 'ten', 11: 'eleven', 12: 'twelve', 13: 'thirteen', 14: "
        "'fourteen', "
        "15: 'fifteen', 16: 'sixteen', 17: 'seventeen', 18: 'eighteen', 19: 'nineteen', 20: "
        "'twenty', "
        "'17': 'text'}[17]",
        "\"seventeen\"");
}

/* A domain's expression gives data to store, whose maps have string keys only. */
static void test_map_keys_in_domains(void **st)
{
    struct expr_env env;
    memset(&env, 0, sizeof env);
    env.allowed = ROOT_BIT(ROOT_PAYLOAD) | ROOT_BIT(ROOT_STATE);
    env.slot = "emit";
    /* certainly such a map: refused when the domain loads */
    want_compile_error(__LINE__, "{1: 'a'}", &env, 1,
                       "a map with int or bool keys cannot be stored");
    want_compile_error(__LINE__, "{'a': {true: 1}}", &env, 1,
                       "a map with int or bool keys cannot be stored");
    want_compile_error(__LINE__, "{'a': 1, size(payload.x): 'b'}", &env, 10,
                       "a map key that is int cannot be stored");
    /* inside the expression such keys are fine */
    const char *ok[] = {"{1: 'a', 2: 'b'}[payload.n]", "payload.n in {1: 'a'}", "{'k': payload.n}"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        err ee;
        expr *x = expr_compile(ok[i], strlen(ok[i]), &env, &ee);
        if (!x)
            fail_msg("`%s` should compile: %s", ok[i], ee.msg);
        struct expr_vars vars;
        memset(&vars, 0, sizeof vars);
        vars.roots[ROOT_PAYLOAD] = test_root("{\"n\": 1}");
        value v;
        err e;
        err_clear(&e);
        assert_int_equal(expr_eval(x, &vars, &v, &e), ST_OK);
        value_free(v);
        value_free(vars.roots[ROOT_PAYLOAD]);
        expr_free(x);
    }
    /* maybe such a map: refused when it is made */
    const char *src = "payload.n > 0 ? [{payload.n: 'a'}] : []";
    err ee;
    expr *x = expr_compile(src, strlen(src), &env, &ee);
    assert_non_null(x);
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_PAYLOAD] = test_root("{\"n\": 1}");
    value v;
    err e;
    err_clear(&e);
    assert_int_equal(expr_eval(x, &vars, &v, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "column 1: the result holds a map with int or bool keys"));
    value_free(vars.roots[ROOT_PAYLOAD]);
    vars.roots[ROOT_PAYLOAD] = test_root("{\"n\": 0}");
    assert_int_equal(expr_eval(x, &vars, &v, &e), ST_OK);
    value_free(v);
    value_free(vars.roots[ROOT_PAYLOAD]);
    expr_free(x);
    /* stored maps have string keys: an int key there is a type error */
    struct expr_env renv = rule_env();
    EXPECT_ENV_ERR(&renv, "state.lines[1] > 0", 12,
                   "no such overload: map[int] (stored maps have string keys)");
    EXPECT_ENV_ERR(&renv, "state.lines[true] > 0", 12, "no such overload: map[bool]");
    want_compiles(&renv, "state.lines['p1'] > 0", EXPR_T_BOOL);
}

/* ---- CEL conformance (cel-spec tests/simple/testdata, the subset we accept) ---- */

struct conf_case {
    const char *file; /* the conformance file the case comes from */
    const char *expr;
    const char *want; /* JSON of the value, or "error:" + part of the message */
};

static const struct conf_case conformance[] = {
    /* basic.textproto */
    {"basic", "42", "42"},
    {"basic", "-42", "-42"},
    {"basic", "0.0", "0.0"},
    {"basic", "'ab'", "\"ab\""},
    {"basic", "\"\"", "\"\""},
    {"basic", "null", "null"},
    {"basic", "true", "true"},
    {"basic", "[]", "[]"},
    {"basic", "{}", "{}"},
    {"basic", "'\\u00FF'", "\"\xc3\xbf\""},
    {"basic", "x", "error:unknown name"},
    /* integer_math.textproto */
    {"integer_math", "42 + 2", "44"},
    {"integer_math", "42 + (-2)", "40"},
    {"integer_math", "-42 + (-2)", "-44"},
    {"integer_math", "42 - 2", "40"},
    {"integer_math", "42 - (-2)", "44"},
    {"integer_math", "-42 - (-2)", "-40"},
    {"integer_math", "42 * 2", "84"},
    {"integer_math", "42 * (-2)", "-84"},
    {"integer_math", "-42 * (-2)", "84"},
    {"integer_math", "42 / 2", "21"},
    {"integer_math", "-42 / 2", "-21"},
    {"integer_math", "-42 / (-2)", "21"},
    {"integer_math", "42 % 5", "2"},
    {"integer_math", "42 % (-5)", "2"},
    {"integer_math", "-42 % (-5)", "-2"},
    {"integer_math", "-(42)", "-42"},
    {"integer_math", "42 % 0", "error:modulus by zero"},
    {"integer_math", "-(0)", "0"},
    {"integer_math", "-(-42)", "42"},
    {"integer_math", "15 / 0", "error:division by zero"},
    {"integer_math", "15 * 0", "0"},
    {"integer_math", "-9223372036854775808 - 1", "error:overflow"},
    {"integer_math", "9223372036854775807 + 1", "error:overflow"},
    {"integer_math", "-(-9223372036854775808)", "error:overflow"},
    /* fp_math.textproto */
    {"fp_math", "4.25 + 15.25", "19.5"},
    {"fp_math", "4.75 - 15.5", "-10.75"},
    {"fp_math", "42.0 * 0.5", "21.0"},
    {"fp_math", "0.0625 / 0.25", "0.25"},
    {"fp_math", "-(4.5)", "-4.5"},
    {"fp_math", "-(-1.25)", "1.25"},
    /* comparisons.textproto */
    {"comparisons", "1 == 1", "true"},
    {"comparisons", "-1 != 1", "true"},
    {"comparisons", "'abc' == 'abc'", "true"},
    {"comparisons", "'abc' == 'ABC'", "false"},
    {"comparisons", "null == null", "true"},
    {"comparisons", "true == true", "true"},
    {"comparisons", "[1, 2, 3] == [1, 2, 3]", "true"},
    {"comparisons", "[1, 2, 3] == [1, 2, 3, 4]", "false"},
    {"comparisons", "{'k': 'v'} == {'k': 'v'}", "true"},
    {"comparisons", "{'k1': 'v1', 'k2': 'v2'} == {'k2': 'v2', 'k1': 'v1'}", "true"},
    {"comparisons", "{'k': 'v'} == {'k': 'v1'}", "false"},
    {"comparisons", "-1 < 0", "true"},
    {"comparisons", "0 < -1", "false"},
    {"comparisons", "'a' < 'b'", "true"},
    {"comparisons", "'a' < 'a'", "false"},
    {"comparisons", "'abc' < 'abcd'", "true"},
    {"comparisons", "false < true", "true"},
    {"comparisons", "true < false", "false"},
    {"comparisons", "-1.5 < 0.5", "true"},
    {"comparisons", "2 <= 2", "true"},
    {"comparisons", "'b' >= 'a'", "true"},
    {"comparisons", "1.5 > 1.25", "true"},
    {"comparisons", "2 in [1, 2, 3]", "true"},
    {"comparisons", "4 in [1, 2, 3]", "false"},
    {"comparisons", "'key' in {'key': 1}", "true"},
    {"comparisons", "'no' in {'key': 1}", "false"},
    {"comparisons", "[] in [[]]", "true"},
    /* logic.textproto */
    {"logic", "true ? 1 : 2", "1"},
    {"logic", "false ? 'foo' : 'bar'", "\"bar\""},
    {"logic", "2 / 0 > 4 ? 'baz' : 'quux'", "error:division by zero"},
    {"logic", "true && true", "true"},
    {"logic", "false && false", "false"},
    {"logic", "false && true", "false"},
    {"logic", "true && false", "false"},
    {"logic", "false && (2 / 0 > 3 ? false : true)", "false"},
    {"logic", "(2 / 0 > 3 ? false : true) && false", "false"},
    {"logic", "true && 1/0 != 0", "error:division by zero"},
    {"logic", "1/0 != 0 && true", "error:division by zero"},
    {"logic", "true || true", "true"},
    {"logic", "false || false", "false"},
    {"logic", "false || true", "true"},
    {"logic", "true || false", "true"},
    {"logic", "true || (2 / 0 > 3 ? false : true)", "true"},
    {"logic", "(2 / 0 > 3 ? false : true) || true", "true"},
    {"logic", "false || 1/0 != 0", "error:division by zero"},
    {"logic", "1/0 != 0 || false", "error:division by zero"},
    {"logic", "!true", "false"},
    {"logic", "!false", "true"},
    /* string.textproto */
    {"string", "size('')", "0"},
    {"string", "size('A')", "1"},
    {"string", "size('\xc3\xbf')", "1"},
    {"string", "size('four')", "4"},
    {"string", "size('\xcf\x80\xce\xad\xce\xbd\xcf\x84\xce\xb5')", "5"},
    {"string", "'foobar'.startsWith('foo')", "true"},
    {"string", "'foobar'.startsWith('bar')", "false"},
    {"string", "''.startsWith('foo')", "false"},
    {"string", "'foobar'.startsWith('')", "true"},
    {"string", "''.startsWith('')", "true"},
    {"string", "'\xd0\xb7\xd0\xb0\xd0\xb2\xd1\x82\xd1\x80\xd0\xb0'.startsWith('\xd0\xb7\xd0\xb0')",
     "true"},
    {"string", "'foobar'.endsWith('bar')", "true"},
    {"string", "'foobar'.endsWith('foo')", "false"},
    {"string", "''.endsWith('foo')", "false"},
    {"string", "'foobar'.endsWith('')", "true"},
    {"string", "''.endsWith('')", "true"},
    {"string", "'he' + 'llo'", "\"hello\""},
    {"string", "'hello' + ' ' == 'hello'", "false"},
    {"string", "'' + 'abc'", "\"abc\""},
    {"string", "'abc' + ''", "\"abc\""},
    {"string", "'' + ''", "\"\""},
    {"string", "'hello'.contains('he')", "true"},
    {"string", "'hello'.contains('')", "true"},
    {"string", "'hello'.contains('ol')", "false"},
    {"string", "'abababc'.contains('ababc')", "true"},
    {"string",
     "'Stra\xc3\x9f"
     "e'.contains('a\xc3\x9f')",
     "true"},
    /* string_ext.textproto (the methods Strata declares) */
    {"string_ext", "'tacocat'.substring(4)", "\"cat\""},
    {"string_ext", "'tacocat'.substring(7)", "\"\""},
    {"string_ext", "'tacocat'.substring(0, 4)", "\"taco\""},
    {"string_ext", "'tacocat'.substring(4, 4)", "\"\""},
    {"string_ext", "'tacocat'.substring(40)", "error:index out of range"},
    {"string_ext", "'tacocat'.substring(-1)", "error:index out of range"},
    {"string_ext", "'tacocat'.substring(4, 3)", "error:before start"},
    {"string_ext", "' \\f\\n\\r\\t\\vtext  '.trim()", "\"text\""},
    {"string_ext", "'TacoCat'.lowerAscii()", "\"tacocat\""},
    {"string_ext", "'TacoCat'.upperAscii()", "\"TACOCAT\""},
    {"string_ext", "'12 days 12 hours'.replace('{0}', '2')", "\"12 days 12 hours\""},
    {"string_ext", "'{0} days {0} hours'.replace('{0}', '2')", "\"2 days 2 hours\""},
    {"string_ext", "'hello world'.split(' ')", "[\"hello\",\"world\"]"},
    {"string_ext", "'hello world events!'.split(' ')", "[\"hello\",\"world\",\"events!\"]"},
    /* conversions.textproto */
    {"conversions", "double(0)", "0.0"},
    {"conversions", "double(1000000000000)", "1000000000000.0"},
    {"conversions", "double(-1000000000000000)", "-1e+15"},
    {"conversions", "double('0')", "0.0"},
    {"conversions", "double('123')", "123.0"},
    {"conversions", "double('-987.654')", "-987.654"},
    {"conversions", "double('1.38e-23')", "1.38e-23"},
    {"conversions", "int(-123.456)", "-123"},
    {"conversions", "int(1.9)", "1"},
    {"conversions", "int(-7.9)", "-7"},
    {"conversions", "int(11.5)", "11"},
    {"conversions", "int(-3.5)", "-3"},
    {"conversions", "int(1e99)", "error:range"},
    {"conversions", "int('987')", "987"},
    {"conversions", "string(123)", "\"123\""},
    {"conversions", "string(-456)", "\"-456\""},
    {"conversions", "string(123.456)", "\"123.456\""},
    {"conversions", "string(-4.5e-3)", "\"-0.0045\""},
    /* macros.textproto */
    {"macros", "[1, 2, 3].all(e, e > 0)", "true"},
    {"macros", "[1, 2, 0].all(e, e > 0)", "false"},
    {"macros", "[].all(e, e > 0)", "true"},
    {"macros", "[1, 2, 3].exists(e, e > 2)", "true"},
    {"macros", "[1, 2, 3].exists(e, e > 3)", "false"},
    {"macros", "[].exists(e, e > 0)", "false"},
    {"macros", "[1, 2, 3].exists_one(e, e > 2)", "true"},
    {"macros", "[1, 2, 3].exists_one(e, e > 1)", "false"},
    {"macros", "[].exists_one(e, e > 0)", "false"},
    {"macros", "[1, 2, 3].map(e, e * 2)", "[2,4,6]"},
    {"macros", "[].map(e, e)", "[]"},
    {"macros", "[1, 2, 3].filter(e, e > 1)", "[2,3]"},
    {"macros", "[].filter(e, e > 1)", "[]"},
    {"macros", "{'key1': 1, 'key2': 2}.all(k, k.startsWith('key'))", "true"},
    {"macros", "{'key1': 1, 'key2': 2}.exists(k, k == 'key2')", "true"},
    {"macros", "[0, 1].exists(x, 1 / x == 1)", "true"},
    {"macros", "[0, 1].all(x, 1 / x > 5)", "false"},
    /* lists.textproto */
    {"lists", "[1, 2] + [3]", "[1,2,3]"},
    {"lists", "[] + [1]", "[1]"},
    {"lists", "[1, 2, 3][1]", "2"},
    {"lists", "[1, 2, 3][3]", "error:index out of range"},
    {"lists", "size([1, 2, 3])", "3"},
    {"lists", "[[1], [2]][1][0]", "2"},
    {"lists", "{'a': 1}['a']", "1"},
    {"lists", "{'a': 1}['b']", "error:no such key"},
    {"lists", "{'a': {'b': 2}}.a.b", "2"},
    {"fields", "{'a': 1}.b", "error:no such key"},
    {"fields", "has({'a': 1}.a)", "true"},
    {"fields", "has({'a': 1}.b)", "false"},
};

static void test_conformance(void **st)
{
    int failures = 0;
    for (size_t i = 0; i < sizeof conformance / sizeof conformance[0]; i++) {
        const struct conf_case *c = &conformance[i];
        char out[2048];
        int rc = run_expr(c->expr, NULL, out, sizeof out);
        bool want_err = strncmp(c->want, "error:", 6) == 0;
        bool ok = want_err ? rc != ST_OK && strstr(out, c->want + 6) != NULL
                           : rc == ST_OK && strcmp(out, c->want) == 0;
        if (!ok) {
            print_error("%s: `%s`: expected %s, got %s%s\n", c->file, c->expr, c->want,
                        rc == ST_OK ? "" : "error ", out);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_bool_conversion),
        cmocka_unit_test(test_split_replace_limits),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_static_checks),
        cmocka_unit_test(test_map_keys),
        cmocka_unit_test(test_map_keys_in_domains),
        cmocka_unit_test(test_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
