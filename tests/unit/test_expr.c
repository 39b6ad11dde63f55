/* test_expr.c: unit tests of the expression language (core/expr.h): parsing,
 * literals, precedence, every operator, fields and has(), functions, methods and
 * macros, every error with its column, the evaluation API and explanations.
 * CEL semantics (equality, bool(), limits, caps, static checks, map keys and
 * the conformance table) are in test_expr_cel.c. */
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

/* ---- literals ---- */

static void test_literals(void **st)
{
    EXPECT("0", "0");
    EXPECT("42", "42");
    EXPECT("0x1F", "31");
    EXPECT("0XfF", "255");
    EXPECT("9223372036854775807", "9223372036854775807");
    EXPECT("-9223372036854775808", "-9223372036854775808");
    EXPECT("-0x8000000000000000", "-9223372036854775808");
    EXPECT("1.5", "1.5");
    EXPECT("1.0", "1.0");
    EXPECT("1e3", "1000.0");
    EXPECT("2.5E-3", "0.0025");
    EXPECT(".99", "0.99"); /* CEL allows a float without leading digits */
    EXPECT(".5e1", "5.0");
    EXPECT("-.5", "-0.5");
    EXPECT("true", "true");
    EXPECT("false", "false");
    EXPECT("null", "null");
    EXPECT("'single'", "\"single\"");
    EXPECT("\"double\"", "\"double\"");
    EXPECT("'it\\'s'", "\"it's\"");
    EXPECT("\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\"");
    EXPECT("'a\\tb\\nc\\\\d'", "\"a\\tb\\nc\\\\d\"");
    EXPECT("'\\x41\\u00e9\\U0001F600\\101'", "\"A\xc3\xa9\xf0\x9f\x98\x80"
                                             "A\"");
    EXPECT("r'a\\nb'", "\"a\\\\nb\"");
    EXPECT("R\"x\\y\"", "\"x\\\\y\"");
    EXPECT("'''multi\nline'''", "\"multi\\nline\"");
    EXPECT("'h\xc3\xa9'", "\"h\xc3\xa9\"");
    EXPECT("[]", "[]");
    EXPECT("[1, 'a', [true], null]", "[1,\"a\",[true],null]");
    EXPECT("[1, 2,]", "[1,2]");
    EXPECT("{}", "{}");
    EXPECT("{'a': 1, 'b': [2]}", "{\"a\":1,\"b\":[2]}");
    EXPECT("{'k' + '1': 1}", "{\"k1\":1}");
    EXPECT("1 // a comment\n + 2", "3");
    EXPECT("  \t\n 7 \n", "7");
}

static void test_literal_errors(void **st)
{
    EXPECT_COMPILE_ERR("9223372036854775808", 1, "integer literal out of range");
    EXPECT_COMPILE_ERR("99999999999999999999", 1, "integer literal out of range");
    EXPECT_COMPILE_ERR("0x10000000000000000", 1, "integer literal out of range");
    EXPECT_COMPILE_ERR("1u", 2, "unsigned integers are not supported");
    EXPECT_COMPILE_ERR("1e999", 1, "out of range");
    EXPECT_COMPILE_ERR("1e", 2, "exponent needs digits");
    EXPECT_COMPILE_ERR("0x", 1, "hex literal needs digits");
    EXPECT_COMPILE_ERR("12abc", 3, "unexpected 'a' after a number");
    EXPECT_COMPILE_ERR("'abc", 1, "unterminated string");
    EXPECT_COMPILE_ERR("'a\nb'", 1, "unterminated string");
    EXPECT_COMPILE_ERR("'\\q'", 2, "unknown escape");
    EXPECT_COMPILE_ERR("'\\x4'", 2, "needs 2 hex digits");
    EXPECT_COMPILE_ERR("'\\ud800'", 2, "not a valid code point");
    EXPECT_COMPILE_ERR("'\\18'", 2, "octal escape");
    EXPECT_COMPILE_ERR("'\xff'", 2, "invalid UTF-8");
    EXPECT_COMPILE_ERR("b'abc'", 1, "bytes literals are not supported");
    EXPECT_COMPILE_ERR("1 # 2", 3, "unexpected character '#'");
    EXPECT_COMPILE_ERR("\xc3\xa9", 1, "only strings may hold non-ASCII");
    EXPECT_COMPILE_ERR("1 = 2", 3, "use '==' to compare");
    EXPECT_COMPILE_ERR("true & false", 6, "use '&&'");
    EXPECT_COMPILE_ERR("true | false", 6, "use '||'");
    EXPECT_COMPILE_ERR("", 1, "empty expression");
    EXPECT_COMPILE_ERR("   ", 1, "empty expression");
    EXPECT_COMPILE_ERR("1 +", 4, "expression ends too early");
    EXPECT_COMPILE_ERR("(1", 3, "expected ')'");
    EXPECT_COMPILE_ERR("[1, 2", 6, "expected ']'");
    EXPECT_COMPILE_ERR("{'a' 1}", 6, "expected ':'");
    EXPECT_COMPILE_ERR("1 2", 3, "unexpected a number after the expression");
    EXPECT_COMPILE_ERR("state.", 7, "expected a field or method name");
    EXPECT_COMPILE_ERR("for", 1, "reserved word");
    EXPECT_COMPILE_ERR("{'if': 1}.if + if", 16, "'if' is a reserved word");
    EXPECT_COMPILE_ERR("[1].0", 4, "unexpected a number after the expression");
    EXPECT_COMPILE_ERR("{1.5: 2}", 2, "map keys must be strings, ints or bools, got double");
    EXPECT_COMPILE_ERR("{null: 2}", 2, "map keys must be strings, ints or bools, got null");
    EXPECT_COMPILE_ERR("1 < 2 < 3", 7, "comparisons do not chain");

    err ee;
    const char nul[] = {'1', '+', 0, '2'};
    assert_null(expr_compile(nul, sizeof nul, NULL, &ee));
    assert_int_equal(ee.col, 3);
    assert_non_null(strstr(ee.msg, "NUL"));
}

/* ---- precedence and associativity ---- */

static void test_precedence(void **st)
{
    EXPECT("1 + 2 * 3", "7");
    EXPECT("(1 + 2) * 3", "9");
    EXPECT("10 - 4 - 3", "3"); /* left associative */
    EXPECT("100 / 10 / 5", "2");
    EXPECT("2 * 3 % 4", "2"); /* (2*3)%4 */
    EXPECT("7 % 4 * 2", "6");
    EXPECT("-2 * 3", "-6");
    EXPECT("- -2", "2");
    EXPECT("!!true", "true");
    EXPECT("!false && false", "false"); /* ! binds tighter than && */
    EXPECT("1 + 2 == 3", "true");       /* arithmetic before comparison */
    EXPECT("(1 < 2) == true", "true");
}

static void test_precedence_logic(void **st)
{
    EXPECT("true || false && false", "true"); /* && before || */
    EXPECT("(true || false) && false", "false");
    EXPECT("false && true || true", "true");
    EXPECT("1 < 2 && 2 < 3", "true");
    EXPECT("true ? 1 : 2", "1");
    EXPECT("false ? 1 : true ? 2 : 3", "2"); /* ?: is right associative */
    EXPECT("true ? (false ? 1 : 2) : 3", "2");
    EXPECT_COMPILE_ERR("true ? false ? 1 : 2 : 3", 14, "expected ':'"); /* as CEL's grammar */
    EXPECT("1 + 1 == 2 ? 'y' : 'n'", "\"y\"");
    EXPECT("false || true ? 'y' : 'n'", "\"y\"");
    EXPECT("2 in [1, 2] && 'a' in {'a': 1}", "true");
    EXPECT("1 + 1 in [2]", "true");
    EXPECT("{'a': {'b': [10, 20]}}.a.b[1]", "20");
    EXPECT("[[1, 2], [3]][0][1]", "2");
    EXPECT("-[1, 2][0]", "-1"); /* member binds tighter than unary */
    EXPECT("'abc'.size() + 1", "4");
}

/* ---- operators ---- */

static void test_arithmetic(void **st)
{
    EXPECT("40 + 2", "42");
    EXPECT("40 - 42", "-2");
    EXPECT("6 * 7", "42");
    EXPECT("7 / 2", "3");
    EXPECT("-7 / 2", "-3"); /* truncates toward zero */
    EXPECT("7 % 3", "1");
    EXPECT("-7 % 3", "-1"); /* sign of the dividend */
    EXPECT("7 % -3", "1");
    EXPECT("1.5 + 1.25", "2.75");
    EXPECT("1.5 - 2.0", "-0.5");
    EXPECT("1.5 * 2.0", "3.0");
    EXPECT("1.0 / 4.0", "0.25");
    EXPECT("1.0 / 0.0 > 1e308", "true"); /* IEEE: +Inf */
    EXPECT("-1.0 / 0.0 < -1e308", "true");
    EXPECT("0.0 / 0.0 == 0.0 / 0.0", "false"); /* NaN */
    EXPECT("-(1.5)", "-1.5");
    EXPECT("'ab' + 'cd'", "\"abcd\"");
    EXPECT("'' + ''", "\"\"");
    EXPECT("[1] + [2, 3]", "[1,2,3]");
    EXPECT("[] + []", "[]");
    EXPECT("state.balance - payload.amount", "-1");
    EXPECT("row.big + [meta.aggregateId]", "[\"A\"]");
}

static void test_arithmetic_errors(void **st)
{
    EXPECT_ERR("1 + 1.5", "no such overload: int + double");
    EXPECT_ERR("1.5 + 1", "no such overload: double + int");
    EXPECT_ERR("'a' + 1", "no such overload: string + int");
    EXPECT_ERR("[1] + 'a'", "no such overload: list + string");
    EXPECT_ERR("{} + {}", "no such overload: map + map");
    EXPECT_ERR("true + true", "no such overload: bool + bool");
    EXPECT_ERR("null + null", "no such overload: null + null");
    EXPECT_ERR("'a' - 'b'", "no such overload: string - string");
    EXPECT_ERR("[1] * 2", "no such overload: list * int");
    EXPECT_ERR("5.0 % 2.0", "no such overload: double % double");
    EXPECT_ERR("-'a'", "no such overload: -string");
    EXPECT_ERR("-true", "no such overload: -bool");
    /* at run time the same errors come from values */
    EXPECT_ERR("state.balance + state.rate", "column 15: no such overload: int + double");
    EXPECT_ERR("state.owner - 1", "no such overload: string - int");
    EXPECT_ERR("-state.owner", "no such overload: -string");
}

static void test_overflow(void **st)
{
    EXPECT("9223372036854775806 + 1", "9223372036854775807");
    EXPECT_ERR("9223372036854775807 + 1", "column 21: integer overflow");
    EXPECT_ERR("-9223372036854775808 - 1", "integer overflow");
    EXPECT("-9223372036854775807 - 1", "-9223372036854775808");
    EXPECT_ERR("9223372036854775807 * 2", "integer overflow");
    EXPECT_ERR("-9223372036854775808 * -1", "integer overflow");
    EXPECT_ERR("-9223372036854775808 / -1", "integer overflow");
    EXPECT_ERR("-9223372036854775808 % -1", "integer overflow");
    EXPECT_ERR("-(-9223372036854775808)", "integer overflow");
    EXPECT("-9223372036854775808 / 1", "-9223372036854775808");
    EXPECT("4611686018427387904 * -2", "-9223372036854775808");
    EXPECT_ERR("4611686018427387904 * 2", "integer overflow");
    EXPECT_ERR("1 / 0", "column 3: division by zero");
    EXPECT_ERR("1 % 0", "column 3: modulus by zero");
    EXPECT_ERR("state.balance / payload.n",
               "`state.balance / payload.n`: column 15: division by zero");
    EXPECT_ERR("state.balance % payload.n", "modulus by zero");
}

static void test_comparisons(void **st)
{
    EXPECT("1 < 2", "true");
    EXPECT("2 <= 2", "true");
    EXPECT("3 > 2", "true");
    EXPECT("2 >= 3", "false");
    EXPECT("-1 < 0", "true");
    EXPECT("1.5 < 2.5", "true");
    EXPECT("2.5 >= 2.5", "true");
    EXPECT("0.0 / 0.0 < 1.0", "false");
    EXPECT("'a' < 'b'", "true");
    EXPECT("'ab' < 'abc'", "true");
    EXPECT("'B' < 'a'", "true"); /* bytewise */
    EXPECT("'\xc3\xa9' > 'z'", "true");
    EXPECT("false < true", "true");
    EXPECT("true <= true", "true");
    /* an int and a double order as numbers (cel-spec), as cel-go compares them */
    EXPECT("1 < 1.5", "true");
    EXPECT("2.0 <= 2", "true");
    EXPECT("2 > 1.5", "true");
    EXPECT("1 >= 1.0", "true");
    EXPECT("1 < 0.0 / 0.0", "false");
    EXPECT("1 >= 0.0 / 0.0", "false");
    EXPECT("9223372036854775807 < 9223372036854775808.0", "false"); /* the int rounds to 2^63 */
    EXPECT("9223372036854775807 < 9223372036854777857.0", "true");
    EXPECT("-9223372036854775808 <= -9223372036854775809.0", "true");
    EXPECT("-9223372036854775808 > -9223372036854777857.0", "true");
    EXPECT("1e300 > 9223372036854775807", "true");
    EXPECT("-1e300 < -9223372036854775808", "true");
    EXPECT("state.balance < state.rate * 200.0", "true");
    EXPECT_ERR("'a' < 1", "no such overload: string < int");
    EXPECT_ERR("[1] < [2]", "no such overload: list < list");
    EXPECT_ERR("{} > {}", "no such overload: map > map");
    EXPECT_ERR("null < null", "no such overload: null < null");
    EXPECT_ERR("1 < true", "no such overload: int < bool");
}

static void test_in(void **st)
{
    EXPECT("1 in [1, 2]", "true");
    EXPECT("3 in [1, 2]", "false");
    EXPECT("1 in [1.0]", "true");
    EXPECT("2.0 in [1, 2]", "true");
    EXPECT("2.5 in [1, 2]", "false");
    EXPECT("[1] in [[1], [2]]", "true");
    EXPECT("'a' in {'a': 1}", "true");
    EXPECT("'b' in {'a': 1}", "false");
    EXPECT("1 in {'a': 1}", "false");
    EXPECT("'p1' in state.lines", "true");
    EXPECT("'a' in state.tags", "true");
    EXPECT_ERR("1 in 1", "no such overload: int in int");
    EXPECT_ERR("'a' in 'abc'", "no such overload: string in string");
}

static void test_logic(void **st)
{
    EXPECT("true && true", "true");
    EXPECT("true && false", "false");
    EXPECT("false || true", "true");
    EXPECT("false || false", "false");
    EXPECT("!true", "false");
    EXPECT("!(1 == 2)", "true");
    /* short circuit and CEL's error absorption */
    EXPECT("false && 1 / 0 == 1", "false");
    EXPECT("1 / 0 == 1 && false", "false");
    EXPECT("true || 1 / 0 == 1", "true");
    EXPECT("1 / 0 == 1 || true", "true");
    EXPECT("false && state.missing", "false");
    EXPECT("state.missing || true", "true");
    EXPECT("state.balance && false", "false"); /* a non-bool operand is an error, absorbed */
    EXPECT_ERR("true && 1 / 0 == 1", "division by zero");
    EXPECT_ERR("1 / 0 == 1 && true", "division by zero");
    EXPECT_ERR("false || 1 / 0 == 1", "division by zero");
    EXPECT_ERR("1 / 0 == 1 || false", "division by zero");
    EXPECT_ERR("1 / 0 == 1 || 2 / 0 == 1", "column 3: division by zero"); /* the first error */
    EXPECT_ERR("state.balance && true", "'&&' needs bool operands, got int");
    EXPECT_ERR("state.balance || false", "'||' needs bool operands, got int");
    /* a statically non-bool operand: only beside a constant that decides */
    EXPECT("false && 32", "false");
    EXPECT("'horses' && false", "false");
    EXPECT("true || 32", "true");
    EXPECT("'horses' || true", "true");
    EXPECT("(1 > 2) && 'x'", "false"); /* folded to a constant first */
    EXPECT_COMPILE_ERR("true && 32", 6, "'&&' needs a bool, got int");
    EXPECT_COMPILE_ERR("'horses' || false", 10, "'||' needs a bool, got string");
    EXPECT_COMPILE_ERR("false || 32", 7, "'||' needs a bool, got int");
    EXPECT_COMPILE_ERR("32 && true", 4, "'&&' needs a bool, got int");
    EXPECT_ERR("!state.balance", "no such overload: !int");
    /* ?: */
    EXPECT("true ? 'a' : 1 / 0", "\"a\"");
    EXPECT("false ? 1 / 0 : 'b'", "\"b\"");
    EXPECT_ERR("2 / 0 > 4 ? 'baz' : 'quux'", "division by zero");
    EXPECT_ERR("state.owner ? 1 : 2", "the condition of '? :' needs a bool, got string");
}

/* ---- fields, indexes, has ---- */

static void test_fields(void **st)
{
    EXPECT("state.balance", "150");
    EXPECT("state.lines.p1", "2");
    EXPECT("state['balance']", "150");
    EXPECT("state.lines['p2']", "3");
    EXPECT("state.tags[1]", "\"b\"");
    EXPECT("state",
           "{\"status\":\"open\",\"balance\":150,\"owner\":\"Alice\",\"lines\":{\"p1\":2,\"p2\":3},"
           "\"tags\":[\"a\",\"b\"],\"rate\":1.5,\"nothing\":null}");
    EXPECT("record", "null");
    EXPECT_ERR("state.balanse", "`state.balanse`: column 7: no such key: balanse");
    EXPECT_ERR("state['nope']", "column 6: no such key: nope");
    EXPECT_ERR("state.balance.x", "cannot select field 'x' of int");
    EXPECT_ERR("record.x", "cannot select field 'x' of null");
    EXPECT_ERR("state.tags[2]", "index out of range: 2 (the list has 2 elements)");
    EXPECT_ERR("state.tags[-1]", "index out of range: -1");
    EXPECT_ERR("state.tags['a']", "no such overload: list[string]");
    EXPECT_ERR("state.tags[1.0]", "no such overload: list[double]");
    EXPECT_ERR("state.lines[1]", "no such key: 1");
    EXPECT_ERR("state.owner[0]", "no such overload: string[int]");
    EXPECT_ERR("[1][1.0]", "no such overload: list[double]");
    EXPECT_COMPILE_ERR("1.x", 3, "cannot select field 'x' of int");
    EXPECT_COMPILE_ERR("'s'[0]", 4, "no such overload: string[int]");
    EXPECT_ERR("{'a': 1}[0]", "column 9: no such key: 0"); /* a literal may have int keys */
    EXPECT_COMPILE_ERR("{'a': 1}[[0]]", 9, "no such overload: map[list]");
}

static void test_has(void **st)
{
    EXPECT("has(state.balance)", "true");
    EXPECT("has(state.nope)", "false");
    EXPECT("has(state.nothing)", "true"); /* present, even if null */
    EXPECT("has(state.lines.p1)", "true");
    EXPECT("has({'a': 1}.a)", "true");
    EXPECT("has({'a': 1}.b)", "false");
    EXPECT("has(event.deposit) ? event.deposit : 0", "0");
    EXPECT_ERR("has(state.balance.x)", "has() needs a map, got int");
    EXPECT_ERR("has(state.nope.x)", "no such key: nope");
    EXPECT_COMPILE_ERR("has(state)", 5, "has() needs a field selection");
    EXPECT_COMPILE_ERR("has(state['x'])", 5, "has() needs a field selection");
    EXPECT_COMPILE_ERR("has(state.a, 1)", 1, "has() takes 1 argument");
    EXPECT_COMPILE_ERR("has()", 5, "expected a value");
}

/* ---- functions and methods ---- */

/* After a '.', CEL's reserved words are ordinary field (and method) names. */
static void test_reserved_selectors(void **st)
{
    EXPECT("{'if': 1}.if", "1");
    EXPECT("{'while': {'for': 'x'}}.while.for", "\"x\"");
    EXPECT("has({'var': 1}.var)", "true");
    EXPECT("{'as': 1}. as", "1"); /* whitespace after the dot */
    EXPECT_COMPILE_ERR("[1].if()", 5, "unknown method 'if'");
}

static void test_size_and_conversions(void **st)
{
    EXPECT("size('')", "0");
    EXPECT("size('four')", "4");
    EXPECT("size('\xcf\x80\xce\xad\xce\xbd\xcf\x84\xce\xb5')", "5"); /* πέντε: code points */
    EXPECT("'abc'.size()", "3");
    EXPECT("size([1, 2, 3])", "3");
    EXPECT("size({'a': 1})", "1");
    EXPECT("size(state.lines)", "2");
    EXPECT_ERR("size(state.balance)", "no such overload: size(int)");
    EXPECT_COMPILE_ERR("size(1)", 1, "no such overload: size(int)");
    EXPECT_COMPILE_ERR("size()", 1, "size() takes 1 argument, got 0");
    EXPECT_COMPILE_ERR("size(1, 2)", 1, "size() takes 1 argument, got 2");
    EXPECT_COMPILE_ERR("'a'.size(1)", 5, "size() takes 0 arguments, got 1");

    EXPECT("int(42)", "42");
    EXPECT("int(1.9)", "1");
    EXPECT("int(-7.9)", "-7");
    EXPECT("int('987')", "987");
    EXPECT("int('-12')", "-12");
    EXPECT("int('+5')", "5");
    EXPECT("int('-9223372036854775808')", "-9223372036854775808");
    EXPECT_ERR("int('9223372036854775808')", "cannot convert");
    EXPECT_ERR("int('1.5')", "int() cannot convert \"1.5\" to an int");
    EXPECT_ERR("int('')", "cannot convert");
    EXPECT_ERR("int(' 1')", "cannot convert");
    EXPECT_ERR("int(1e99)", "range error");
    EXPECT_ERR("int(-1e19)", "range error");
    EXPECT_ERR("int(9223372036854775808.0)", "range error");
    /* cel-spec refuses -2^63 as a double too (its bounds are exclusive) */
    EXPECT_ERR("int(-9223372036854775808.0)", "int() range error");
    EXPECT("int(-9223372036854774784.0)", "-9223372036854774784");
    EXPECT_ERR("int(0.0 / 0.0)", "range error");
    EXPECT_ERR("int(state.tags)", "no such overload: int(list)");

    EXPECT("double(0)", "0.0");
    EXPECT("double(1000000000000)", "1000000000000.0");
    EXPECT("double(-3)", "-3.0");
    EXPECT("double(2.5)", "2.5");
    EXPECT("double('123.456')", "123.456");
    EXPECT("double('-84.32e7')", "-843200000.0");
    EXPECT("double('1e3')", "1000.0");
    EXPECT_ERR("double('abc')", "double() cannot convert \"abc\" to a double");
    EXPECT_ERR("double('')", "cannot convert");
    EXPECT_ERR("double('1.5x')", "cannot convert");
    EXPECT_ERR("double(state.lines)", "no such overload: double(map)");

    EXPECT("string(123)", "\"123\"");
    EXPECT("string(-456)", "\"-456\"");
    EXPECT("string(123.456)", "\"123.456\"");
    EXPECT("string(-4.5e-3)", "\"-0.0045\"");
    EXPECT("string(1.0)", "\"1\"");
    EXPECT("string(1.5)", "\"1.5\"");
    EXPECT("string(100000.0)", "\"100000\"");
    EXPECT("string(1e6)", "\"1e+06\"");
    EXPECT("string(1.25e-7)", "\"1.25e-07\"");
    EXPECT("string(0.0001)", "\"0.0001\"");
    EXPECT("string(0.00001)", "\"1e-05\"");
    EXPECT("string(0.1 + 0.2)", "\"0.30000000000000004\"");
    EXPECT("string(1e300)", "\"1e+300\"");
    EXPECT("string(-0.0)", "\"-0\"");
    EXPECT("string(0.0 / 0.0)", "\"NaN\"");
    EXPECT("string(1.0 / 0.0)", "\"+Inf\"");
    EXPECT("string(true)", "\"true\"");
    EXPECT("string('x')", "\"x\"");
    EXPECT("string(state.balance) + ' EUR'", "\"150 EUR\"");
    EXPECT_ERR("string(state.nothing)", "no such overload: string(null)");
    EXPECT_COMPILE_ERR("string([1])", 1, "no such overload: string(list)");
    EXPECT_COMPILE_ERR("int()", 1, "int() takes 1 argument, got 0");
}

static void test_now(void **st)
{
    EXPECT("now()", "\"2026-11-27T10:00:00.123Z\"");
    EXPECT("string(now())", "\"2026-11-27T10:00:00.123Z\"");
    EXPECT_COMPILE_ERR("size(now())", 1, "no such overload: size(timestamp)");
    EXPECT_COMPILE_ERR("now(1)", 1, "now() takes 0 arguments, got 1");
}

static void test_string_methods(void **st)
{
    EXPECT("'hello'.contains('ell')", "true");
    EXPECT("'hello'.contains('')", "true");
    EXPECT("'hello'.contains('ol')", "false");
    EXPECT("''.contains('a')", "false");
    EXPECT("'foobar'.startsWith('foo')", "true");
    EXPECT("'foobar'.startsWith('bar')", "false");
    EXPECT("''.startsWith('')", "true");
    EXPECT("'foobar'.endsWith('bar')", "true");
    EXPECT("'forté'.endsWith('té')", "true");
    EXPECT("'a'.endsWith('ba')", "false");
    EXPECT("'Hello World'.lowerAscii()", "\"hello world\"");
    EXPECT("'Hello World'.upperAscii()", "\"HELLO WORLD\"");
    EXPECT("'Éa'.lowerAscii()", "\"Éa\""); /* ASCII only */
    EXPECT("payload.name.trim()", "\"Bob\"");
    EXPECT("' \\t\\n x y \\r'.trim()", "\"x y\"");
    EXPECT("'\\u00a0\\u3000x\\u2003'.trim()", "\"x\"");
    EXPECT("'   '.trim()", "\"\"");
    EXPECT("'tacocat'.substring(4)", "\"cat\"");
    EXPECT("'tacocat'.substring(0, 4)", "\"taco\"");
    EXPECT("'tacocat'.substring(7)", "\"\"");
    EXPECT("'ta\xc2\xa9o\xc2\xa9\xce\xb1T'.substring(2, 6)", "\"\xc2\xa9o\xc2\xa9\xce\xb1\"");
    EXPECT_ERR("'tacocat'.substring(8)",
               "substring() index out of range: 8 (the string has 7 characters)");
    EXPECT_ERR("'tacocat'.substring(-1)", "index out of range: -1");
    EXPECT_ERR("'tacocat'.substring(4, 3)", "end 3 is before start 4");
    EXPECT("'hello hello'.replace('he', 'we')", "\"wello wello\"");
    EXPECT("'aaa'.replace('a', 'bb')", "\"bbbbbb\"");
    EXPECT("'abc'.replace('', '-')", "\"-a-b-c-\"");
    EXPECT("'abc'.replace('x', 'y')", "\"abc\"");
    EXPECT("'a,b,,c'.split(',')", "[\"a\",\"b\",\"\",\"c\"]");
    EXPECT("'abc'.split('')", "[\"a\",\"b\",\"c\"]");
    EXPECT("''.split(',')", "[\"\"]");
    EXPECT("'a--b'.split('--')", "[\"a\",\"b\"]");
    EXPECT_COMPILE_ERR("'a'.contains(1)", 14, "contains() needs a string here, got int");
    EXPECT_COMPILE_ERR("1.contains('a')", 3, "no such overload: int.contains()");
    EXPECT_COMPILE_ERR("'a'.substring('x')", 15, "substring() needs an int here, got string");
    EXPECT_COMPILE_ERR("'a'.substring()", 5, "substring() takes 1 to 2 arguments, got 0");
    EXPECT_COMPILE_ERR("'a'.replace('a')", 5, "replace() takes 2 to 3 arguments, got 1");
    EXPECT_COMPILE_ERR("'a'.split(',', 1, 2)", 5, "split() takes 1 to 2 arguments, got 3");
    EXPECT_ERR("state.balance.contains('1')", "no such overload: int.contains(string)");
    EXPECT_ERR("state.owner.contains(state.balance)", "no such overload: string.contains(int)");
}

static void test_put_remove(void **st)
{
    EXPECT("put({'a': 1}, 'b', 2)", "{\"a\":1,\"b\":2}");
    EXPECT("put({'a': 1}, 'a', 5)", "{\"a\":5}");
    EXPECT("put(state.lines, 'p1', state.lines.p1 + 1)", "{\"p1\":3,\"p2\":3}");
    EXPECT("put(put({}, 'x', 1), 'y', 2)", "{\"x\":1,\"y\":2}");
    EXPECT("remove({'a': 1, 'b': 2}, 'a')", "{\"b\":2}");
    EXPECT("remove({'a': 1}, 'zz')", "{\"a\":1}");
    EXPECT("remove(state.lines, 'p1')", "{\"p2\":3}");
    EXPECT("state.lines", "{\"p1\":2,\"p2\":3}"); /* the root is untouched (copy on write) */
    EXPECT("remove([1, 2, 1, 3], 1)", "[2,3]");
    EXPECT("remove(state.tags, 'a')", "[\"b\"]");
    EXPECT("remove([1, 2.0, 'x'], 1.0)", "[2.0,\"x\"]"); /* equal as == is */
    EXPECT("remove([1, 2.0], 2)", "[1]");
    EXPECT_COMPILE_ERR("put([], 'a', 1)", 1, "no such overload: put(list, ...)");
    EXPECT_COMPILE_ERR("put({}, 1, 1)", 9, "put() needs a string here, got int");
    EXPECT_COMPILE_ERR("remove('abc', 'a')", 1, "no such overload: remove(string, ...)");
    EXPECT_COMPILE_ERR("put({}, 'a')", 1, "put() takes 3 arguments, got 2");
    EXPECT_ERR("put(state.tags, 'a', 1)", "no such overload: put(list, string, int)");
}

static void test_unknown_functions(void **st)
{
    EXPECT_COMPILE_ERR("foo(1)", 1, "unknown function 'foo'");
    EXPECT_COMPILE_ERR("siz('a')", 1, "unknown function 'siz' (did you mean 'size'?)");
    EXPECT_COMPILE_ERR("'a'.startswith('a')", 5,
                       "unknown method 'startswith' (did you mean 'startsWith'?)");
    EXPECT_COMPILE_ERR("contains('a', 'b')", 1, "contains() is a method, not a function");
    EXPECT_COMPILE_ERR("'a'.int()", 5, "int() is a function, not a method");
    EXPECT_COMPILE_ERR("matches('a')", 1, "unknown function 'matches'");
    EXPECT_COMPILE_ERR("stat.balance", 1, "unknown name 'stat' (did you mean 'state'?)");
    EXPECT_COMPILE_ERR("x", 1, "unknown name 'x'");
}

/* ---- macros ---- */

static void test_macros(void **st)
{
    EXPECT("[1, 2, 3].all(x, x > 0)", "true");
    EXPECT("[1, 2, 3].all(x, x > 1)", "false");
    EXPECT("[].all(x, x > 0)", "true");
    EXPECT("[1, 2, 3].exists(x, x == 2)", "true");
    EXPECT("[].exists(x, true)", "false");
    EXPECT("[1, 2, 3].exists_one(x, x > 2)", "true");
    EXPECT("[1, 2, 3].exists_one(x, x > 1)", "false");
    EXPECT("[1, 2, 3].map(x, x * 2)", "[2,4,6]");
    EXPECT("[1, 2, 3].map(x, x > 1, x * 10)", "[20,30]");
    EXPECT("[1, 2, 3].filter(x, x % 2 == 1)", "[1,3]");
    EXPECT("state.lines.all(k, state.lines[k] > 0)", "true"); /* maps range over keys */
    EXPECT("state.lines.map(k, k)", "[\"p1\",\"p2\"]");
    EXPECT("state.lines.filter(k, state.lines[k] > 2)", "[\"p2\"]");
    EXPECT("state.lines.exists(k, k == 'p2')", "true");
    EXPECT("[1, 2].map(x, [10, 20].map(y, x * y))", "[[10,20],[20,40]]");
    EXPECT("[1, 2].map(x, [3].map(x, x))", "[[3],[3]]"); /* the inner x shadows */
    EXPECT("[1, 2].map(state, state + 1)", "[2,3]");     /* a variable may shadow a root */
    EXPECT("[1, 2].map(x, x) + [3].map(x, x)", "[1,2,3]");
    EXPECT("state.tags.exists(t, t == 'b') && size(state.tags.filter(t, t != 'a')) == 1", "true");
    /* errors: all() and exists() absorb an error when another element decides */
    EXPECT("[0, 1].exists(x, 10 / x == 10)", "true");
    EXPECT("[0, 1].all(x, 10 / x == 0)", "false");
    EXPECT_ERR("[0, 1].all(x, 10 / x == 10)", "division by zero");
    EXPECT_ERR("[0, 1].exists(x, 10 / x == 5)", "division by zero");
    EXPECT_ERR("[0].map(x, 1 / x)", "division by zero");
    EXPECT_ERR("[0].exists_one(x, 1 / x == 1)", "division by zero");
    EXPECT_ERR("[1, 2].all(x, x)", "all() needs a bool from its predicate, got int");
    EXPECT_ERR("state.balance.all(x, true)", "all() ranges over a list or a map, not int");
    EXPECT_COMPILE_ERR("[1].all(1, true)", 9, "all() needs a variable name as its first argument");
    EXPECT_COMPILE_ERR("[1].all(x.y, true)", 10, "needs a variable name");
    EXPECT_COMPILE_ERR("[1].all(x)", 10, "needs a variable name");
    EXPECT_COMPILE_ERR("[1].exists(x, true, 1)", 5, "exists() takes 2 arguments, got 3");
    EXPECT_COMPILE_ERR("[1].map(x, x, x, x)", 5, "map() takes 2 or 3 arguments, got 4");
    EXPECT_COMPILE_ERR("1.all(x, true)", 3, "all() ranges over a list or a map, not int");
    EXPECT_COMPILE_ERR("[1].all(x, 1)", 5, "the macro's predicate needs a bool, got int");
    EXPECT_COMPILE_ERR("[1].map(x, y)", 12, "unknown name 'y'");
    EXPECT_COMPILE_ERR("[1].map(x, x) + x", 17, "unknown name 'x'"); /* x is scoped to the body */
}

/* expr_root_fields: which parts of meta a projection's rules read (so that an
 * event's stored meta is parsed only when one of its keys is read). */
struct within {
    const char *const *names;
    size_t n;
    bool beyond;
};
static void within_name(void *ctx, const char *name, size_t len)
{
    struct within *w = ctx;
    for (size_t j = 0; j < w->n; j++)
        if (strlen(w->names[j]) == len && memcmp(w->names[j], name, len) == 0)
            return;
    w->beyond = true;
}
static bool reads_root_beyond(const expr *x, const char *const *names, size_t n)
{
    struct within w = {names, n, false};
    return !expr_root_fields(x, ROOT_META, within_name, &w) || w.beyond;
}

static void test_reads_root_beyond(void **st)
{
    static const char *const names[] = {"time", "aggregateId"};
    static const struct {
        const char *src;
        bool beyond;
    } cases[] = {
        {"meta.time", false},
        {"meta.aggregateId + '-' + meta.time", false},
        {"has(meta.time) ? meta.time : ''", false},
        {"event.amount + 1", false},
        {"meta.command", true},
        {"meta.time + meta.commandId", true},
        {"meta", true},
        {"size(meta) > 0", true},
        {"meta['time']", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err ee;
        expr *x = expr_compile(cases[i].src, strlen(cases[i].src), NULL, &ee);
        assert_non_null(x);
        if (reads_root_beyond(x, names, 2) != cases[i].beyond)
            fail_msg("%s: expected %s", cases[i].src, cases[i].beyond ? "beyond" : "within");
        expr_free(x);
    }
}

static void test_eval_bool_and_api(void **st)
{
    err ee;
    const char *src = "state.balance >= payload.amount";
    expr *x = expr_compile(src, strlen(src), NULL, &ee);
    assert_non_null(x);
    assert_string_equal(expr_source(x), src);
    bool b = true;
    err e;
    err_clear(&e);
    assert_int_equal(expr_eval_bool(x, std_vars(), &b, &e), ST_OK);
    assert_false(b);
    expr_free(x);

    x = expr_compile("state.balance", 13, NULL, &ee);
    assert_int_equal(expr_eval_bool(x, std_vars(), &b, &e), ST_ERR);
    assert_string_equal(e.msg, "`state.balance`: column 1: expected a bool, got int");
    expr_free(x);

    /* a source longer than 80 characters is cut in messages */
    char longsrc[200];
    strcpy(longsrc, "1 / 0");
    for (int i = 0; i < 30; i++)
        strcat(longsrc, " + 1");
    x = expr_compile(longsrc, strlen(longsrc), NULL, &ee);
    assert_non_null(x);
    value v;
    assert_int_equal(expr_eval(x, std_vars(), &v, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "...`: column 3: division by zero"));
    expr_free(x);

    /* vars NULL: every root is null */
    x = expr_compile("state == null", 13, NULL, &ee);
    assert_int_equal(expr_eval(x, NULL, &v, &e), ST_OK);
    assert_true(v.type == V_BOOL && v.u.b);
    expr_free(x);

    /* the compiled form is reused across evaluations with other vars */
    x = expr_compile("state.balance + event.amount", 28, NULL, &ee);
    struct expr_vars vars = *std_vars();
    for (int i = 0; i < 3; i++) {
        value ev = value_map(1);
        value_map_set(&ev, "amount", value_int(i));
        vars.roots[ROOT_EVENT] = ev;
        assert_int_equal(expr_eval(x, &vars, &v, &e), ST_OK);
        assert_int_equal(v.u.i, 150 + i);
        value_free(ev);
    }
    expr_free(x);

    /* compile errors leave nothing to free, and ee may be NULL */
    assert_null(expr_compile("1 +", 3, NULL, NULL));
    /* the constant part of an expression is folded */
    src = "[1, 2, 3].map(x, x * 2) == [2, 4, 6] && 'ab' + 'c' == 'abc'";
    x = expr_compile(src, strlen(src), NULL, &ee);
    assert_non_null(x);
    assert_int_equal(expr_result_type(x), EXPR_T_BOOL);
    expr_free(x);
    x = expr_compile("1 + 2 * 3", 9, NULL, &ee);
    assert_int_equal(expr_result_type(x), EXPR_T_INT);
    expr_free(x);
}

/* ---- explanations ---- */

static void want_explain(const char *src, const struct expr_vars *vars, const char *want)
{
    err ee;
    expr *x = expr_compile(src, strlen(src), NULL, &ee);
    if (!x)
        fail_msg("`%s`: %s", src, ee.msg);
    strbuf sb;
    sb_init(&sb);
    expr_explain(x, vars, &sb);
    if (strcmp(sb.buf ? sb.buf : "", want) != 0)
        fail_msg("explain `%s`:\n  want: %s\n  got:  %s", src, want, sb.buf);
    sb_done(&sb);
    expr_free(x);
}

static void test_explain(void **st)
{
    struct expr_vars *v = std_vars();
    want_explain("state.balance >= payload.amount", v,
                 "state.balance (150) >= payload.amount (151) is false");
    want_explain("state.status == 'open' && state.balance >= payload.amount", v,
                 "state.balance (150) >= payload.amount (151) is false");
    want_explain("state.status == 'closed' && state.balance >= payload.amount", v,
                 "state.status (\"open\") == 'closed' is false");
    want_explain("state.status == 'open' && state.balance > 0 && state.owner == 'Bob'", v,
                 "state.owner (\"Alice\") == 'Bob' is false");
    want_explain("state.balance < 0 || state.owner == 'Bob'", v,
                 "state.balance (150) < 0 is false, and state.owner (\"Alice\") == 'Bob' is false");
    want_explain("(state.balance - payload.amount) >= 0", v,
                 "(state.balance - payload.amount) (-1) >= 0 is false");
    want_explain("'p9' in state.lines", v, "'p9' in state.lines ({\"p1\":2,\"p2\":3}) is false");
    want_explain("has(state.x)", v, "has(state.x) is false");
    want_explain("state.balance / payload.n > 1", v,
                 "state.balance / payload.n > 1: division by zero");
    want_explain("state.balance", v, "state.balance is 150, not a bool");
    want_explain("state.balance > 1", v, "state.balance (150) > 1 is true");
    /* Comprehensions say which element decided, with the variable bound to it. */
    want_explain("[{'sku': 'A', 'qty': 1}, {'sku': 'B', 'qty': 0}].all(i, i.qty > 0)", v,
                 "[{'sku': 'A', 'qty': 1}, {'sku': 'B', 'qty': 0}].all(i, i.qty > 0) is false: "
                 "element 2 of 2 ({\"sku\":\"B\",\"qty\":0}): i.qty (0) > 0 is false");
    want_explain("state.balance > 0 && [1, 2, 3].all(n, n < 3 || n == 5)", v,
                 "[1, 2, 3].all(n, n < 3 || n == 5) is false: element 3 of 3 (3): n (3) < 3 is "
                 "false, and n (3) == 5 is false");
    want_explain("state.lines.all(k, state.lines[k] > 2)", v,
                 "state.lines.all(k, state.lines[k] > 2) is false: key \"p1\": state.lines[k] (2) "
                 "> 2 is false");
    want_explain("[1, 2].exists(n, n > 5)", v,
                 "[1, 2].exists(n, n > 5) is false: none of the 2 elements makes n > 5 true");
    want_explain("[7].exists(n, n > 7)", v,
                 "[7].exists(n, n > 7) is false: element 1 of 1 (7): n (7) > 7 is false");
    want_explain("[].exists(n, n > 5)", v, "[].exists(n, n > 5) is false: [] is empty");
    want_explain("[1, 6, 7].exists_one(n, n > 5)", v,
                 "[1, 6, 7].exists_one(n, n > 5) is false: 2 elements make n > 5 true (2, 3), not "
                 "exactly one");
    want_explain("![1, 6].exists(n, n > 5)", v,
                 "![1, 6].exists(n, n > 5) is false: [1, 6].exists(n, n > 5) is true: element 2 "
                 "of 2 (6): n (6) > 5 is true");
    /* Nested: the inner variable is bound too. */
    want_explain("[[1], [2, 0]].all(l, l.all(n, n > 0))", v,
                 "[[1], [2, 0]].all(l, l.all(n, n > 0)) is false: element 2 of 2 ([2,0]): l.all(n, "
                 "n > 0) is false: element 2 of 2 (0): n (0) > 0 is false");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_literal_errors),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_precedence_logic),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_arithmetic_errors),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_has),
        cmocka_unit_test(test_reserved_selectors),
        cmocka_unit_test(test_size_and_conversions),
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_string_methods),
        cmocka_unit_test(test_put_remove),
        cmocka_unit_test(test_unknown_functions),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_reads_root_beyond),
        cmocka_unit_test(test_eval_bool_and_api),
        cmocka_unit_test(test_explain),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
