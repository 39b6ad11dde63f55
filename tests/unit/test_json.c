/* test_json.c: unit tests for core/json.c: every type, int64 exactness and limits,
 * doubles (shortest round-trip text), every kind of parse error with its line and
 * column, UTF-8 validity, escapes, the depth cap, the canonical and pretty
 * writers and round trips. The differential test against jansson is in
 * test_json_oracle.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* ---- helpers ---- */

static value parse_ok(const char *text)
{
    value v;
    err je;
    int rc = json_parse(text, strlen(text), &v, &je);
    if (rc != ST_OK)
        fail_msg("parse of %s failed at %d:%d: %s", text, (int)je.line, je.col, je.msg);
    return v;
}

static char *write_str(const value *v)
{
    return json_to_string(v);
}

/* Parses text, writes it canonically and checks the result is `want`. */
static void check_canonical(const char *text, const char *want)
{
    value v = parse_ok(text);
    char *got = write_str(&v);
    if (strcmp(got, want) != 0)
        fail_msg("canonical form of %s: got %s, want %s", text, got, want);
    free(got);
    value_free(v);
}

static void check_double_text(double d, const char *want)
{
    strbuf sb;
    sb_init(&sb);
    json_write_double(&sb, d);
    if (strcmp(sb.buf, want) != 0)
        fail_msg("double %.17g written as %s, want %s", d, sb.buf, want);
    sb_done(&sb);
}

/* ---- types and numbers ---- */

static void test_parse_types(void **state)
{
    value v = parse_ok(" {\"n\":null,\"t\":true,\"f\":false,\"i\":-42,\"d\":2.5,\"s\":\"x\",\"l\":["
                       "1,[]],\"m\":{}} ");
    assert_int_equal(v.type, V_MAP);
    assert_int_equal(value_map_len(&v), 8);
    assert_int_equal(value_map_get(&v, "n")->type, V_NULL);
    assert_true(value_map_get(&v, "t")->u.b);
    assert_false(value_map_get(&v, "f")->u.b);
    assert_int_equal(value_map_get(&v, "i")->type, V_INT);
    assert_true(value_map_get(&v, "i")->u.i == -42);
    assert_int_equal(value_map_get(&v, "d")->type, V_DOUBLE);
    assert_true(value_map_get(&v, "d")->u.d == 2.5);
    assert_string_equal(value_str(value_map_get(&v, "s")), "x");
    const value *l = value_map_get(&v, "l");
    assert_int_equal(value_list_len(l), 2);
    assert_int_equal(value_list_len(value_list_at(l, 1)), 0);
    assert_int_equal(value_map_len(value_map_get(&v, "m")), 0);
    /* Keys keep the document's order. */
    assert_string_equal(value_str(value_map_key_at(&v, 0)), "n");
    assert_string_equal(value_str(value_map_key_at(&v, 7)), "m");
    value_free(v);

    /* Scalars at the top level. */
    v = parse_ok("\t\r\n 7 \n");
    assert_true(v.type == V_INT && v.u.i == 7);
    v = parse_ok("\"top\"");
    assert_string_equal(value_str(&v), "top");
    value_free(v);
    v = parse_ok("null");
    assert_int_equal(v.type, V_NULL);
}

static void test_int64_exact(void **state)
{
    value v = parse_ok("9007199254740993");
    assert_true(v.type == V_INT && v.u.i == INT64_C(9007199254740993));
    v = parse_ok("9223372036854775807");
    assert_true(v.type == V_INT && v.u.i == INT64_MAX);
    v = parse_ok("-9223372036854775808");
    assert_true(v.type == V_INT && v.u.i == INT64_MIN);
    v = parse_ok("-0");
    assert_true(v.type == V_INT && v.u.i == 0);
    v = parse_ok("0");
    assert_true(v.type == V_INT && v.u.i == 0);
    check_canonical("[9007199254740993,-9007199254740993]", "[9007199254740993,-9007199254740993]");
    check_canonical("9223372036854775807", "9223372036854775807");
    check_canonical("-9223372036854775808", "-9223372036854775808");
    check_canonical("-0", "0");
    /* 1 and 1.0 stay distinct. */
    check_canonical("[1,1.0,1e0,10E-1]", "[1,1.0,1.0,1.0]");
}

static void test_doubles_parse(void **state)
{
    static const char *const texts[] = {
        "0.1",
        "-0.0",
        "1e300",
        "1E-300",
        "5e-324",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "0.30000000000000004",
        "123456789012345678901234567890",
        "1e-400",
        "4.9406564584124654e-324",
        "2.2250738585072011e-308",
        "1.00000000000000011102230246251565404236316680908203125",
        "9007199254740993.0",
        "0.000001",
        "1.5e+3",
        "1e22",
        "1e23",
        "123456789.123456789e-5",
        "0.0000000000000000000000000000000000001234",
        "1797693134862315708145274237317043567981e269",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *t = texts[i];
        bool integer = strpbrk(t, ".eE") == NULL;
        if (integer)
            continue; /* an integer literal beyond int64 is an error, tested below */
        value v = parse_ok(t);
        assert_int_equal(v.type, V_DOUBLE);
        double want = strtod(t, NULL);
        if (memcmp(&v.u.d, &want, sizeof want) != 0)
            fail_msg("%s parsed as %.17g, strtod says %.17g", t, v.u.d, want);
    }
    value v = parse_ok("-0.0");
    assert_true(v.u.d == 0 && signbit(v.u.d));
    v = parse_ok("1e-400"); /* underflow to zero is accepted, as strtod and jansson do */
    assert_true(v.u.d == 0);
}

static void test_doubles_write(void **state)
{
    check_double_text(1.0, "1.0");
    check_double_text(-1.0, "-1.0");
    check_double_text(0.0, "0.0");
    check_double_text(-0.0, "-0.0");
    check_double_text(0.1, "0.1");
    check_double_text(100.0, "100.0");
    check_double_text(2.5, "2.5");
    check_double_text(1e300, "1e+300");
    check_double_text(1e15, "1e+15");
    check_double_text(1e-7, "1e-07");
    check_double_text(123456.789, "123456.789");
    check_double_text(1.0 / 3.0, "0.3333333333333333");
    check_double_text(0.1 + 0.2, "0.30000000000000004");
    check_double_text(9007199254740992.0, "9007199254740992.0");
    check_double_text(1.7976931348623157e308, "1.7976931348623157e+308");
    check_double_text(NAN, "null");
    check_double_text(INFINITY, "null");
    check_double_text(-INFINITY, "null");
    check_canonical("[1.50,2E3,-0.0,0.1e1]", "[1.5,2000.0,-0.0,1.0]");

    /* Random bit patterns: the text reads back to the same double, always with a
     * '.' or an exponent, and writing is stable. */
    uint64_t x = 88172645463325252ULL;
    strbuf sb;
    sb_init(&sb);
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        sb_reset(&sb);
        json_write_double(&sb, d);
        assert_non_null(strpbrk(sb.buf, ".e"));
        value v;
        err je;
        assert_int_equal(json_parse(sb.buf, sb.len, &v, &je), ST_OK);
        assert_int_equal(v.type, V_DOUBLE);
        if (memcmp(&v.u.d, &d, sizeof d) != 0)
            fail_msg("%.17g written as %s read back as %.17g", d, sb.buf, v.u.d);
    }
    sb_done(&sb);
}

/* Numbers use '.' whatever the user's locale, because Strata sets only LC_CTYPE
 * (the workbench, for wide characters) and LC_NUMERIC stays "C": json.c relies on
 * that instead of working around it. This sets LC_CTYPE as the workbench does and
 * checks that the decimal point is still '.' and numbers still round-trip. */
static void test_locale_independent(void **state)
{
    setlocale(LC_CTYPE, "");
    assert_string_equal(localeconv()->decimal_point, ".");
    value v = parse_ok("[1.5,2.25e1,0.30000000000000004]");
    assert_true(value_list_at(&v, 0)->u.d == 1.5);
    assert_true(value_list_at(&v, 1)->u.d == 22.5);
    char *s = write_str(&v);
    assert_string_equal(s, "[1.5,22.5,0.30000000000000004]");
    free(s);
    value_free(v);
    setlocale(LC_CTYPE, "C");
}

/* ---- strings ---- */

static void check_string(const char *json, const char *want, size_t want_len)
{
    value v = parse_ok(json);
    assert_int_equal(v.type, V_STRING);
    if (value_strlen(&v) != want_len || memcmp(value_str(&v), want, want_len) != 0)
        fail_msg("%s decoded wrong (%zu bytes)", json, value_strlen(&v));
    value_free(v);
}

static void test_escapes(void **state)
{
    check_string("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
    check_string("\"\\u00e9\\u00E9\"", "\xC3\xA9\xC3\xA9", 4);
    check_string("\"\\u20AC\"", "\xE2\x82\xAC", 3);
    check_string("\"\\uD83D\\uDE00\"", "\xF0\x9F\x98\x80", 4);
    check_string("\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF", 4);
    check_string("\"\\uFFFF\"", "\xEF\xBF\xBF", 3);
    check_string("\"a\\u0000b\"", "a\0b", 3);
    check_string("\"x\\u0041y\"", "xAy", 3);
    check_string("\"\"", "", 0);
    check_string("\"plain ascii\"", "plain ascii", 11);
    /* An escape after a long plain prefix, and raw UTF-8 mixed with escapes. */
    check_string("\"0123456789abcdef\\n\xC3\xA9\\t\"", "0123456789abcdef\n\xC3\xA9\t", 20);
}

static void test_utf8_validity(void **state)
{
    static const char *const good[] = {
        "\xC3\xA9",     "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
        "\xEF\xBF\xBF", "\xED\x9F\xBF", "\xEE\x80\x80",     "\xC2\x80",
        "\xDF\xBF",     "\xE0\xA0\x80", "\xF0\x90\x80\x80", "\x7F",
    };
    static const char *const bad[] = {
        "\xC0\x80",         /* overlong NUL */
        "\xC1\xBF",         /* overlong */
        "\xE0\x80\x80",     /* overlong */
        "\xE0\x9F\xBF",     /* overlong */
        "\xED\xA0\x80",     /* UTF-16 surrogate U+D800 */
        "\xED\xBF\xBF",     /* surrogate U+DFFF */
        "\xF0\x80\x80\x80", /* overlong */
        "\xF0\x8F\xBF\xBF", /* overlong */
        "\xF4\x90\x80\x80", /* U+110000 */
        "\xF5\x80\x80\x80", /* beyond Unicode */
        "\xFF",
        "\xFE",
        "\x80",
        "\xBF",         /* never valid / lone continuation */
        "\xC3",         /* truncated (then the closing quote) */
        "\xE2\x82",     /* truncated */
        "\xF0\x9F\x98", /* truncated */
        "\xC3\x41",     /* bad continuation */
        "\xE2\x28\xA1", /* bad continuation */
    };
    char buf[32];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(buf, sizeof buf, "\"a%sb\"", good[i]);
        value v = parse_ok(buf);
        assert_int_equal(value_strlen(&v), strlen(good[i]) + 2);
        char *w = write_str(&v); /* written raw, not escaped */
        assert_string_equal(w, buf);
        free(w);
        value_free(v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "\"a%sb\"", bad[i]);
        value v = value_int(12345);
        err je;
        assert_int_equal(json_parse(buf, strlen(buf), &v, &je), ST_ERR);
        assert_true(v.type == V_INT && v.u.i == 12345); /* untouched */
        if (!strstr(je.msg, "invalid UTF-8"))
            fail_msg("bad UTF-8 case %zu: %s", i, je.msg);
        assert_int_equal(je.line, 1);
        assert_int_equal(je.col, 3);
    }
}

static void test_write_strings(void **state)
{
    strbuf sb;
    sb_init(&sb);
    json_write_string(&sb, "a\"b\\c/d\x01\x1f\n\t\r\b\f\x7f\xC3\xA9", 17);
    assert_string_equal(sb.buf, "\"a\\\"b\\\\c/d\\u0001\\u001f\\n\\t\\r\\b\\f\x7f\xC3\xA9\"");
    sb_reset(&sb);
    json_write_string(&sb, "x\0y", 3);
    assert_string_equal(sb.buf, "\"x\\u0000y\"");
    /* Invalid UTF-8 built in code comes out as U+FFFD, so the output stays valid JSON. */
    sb_reset(&sb);
    json_write_string(&sb,
                      "a\xFF"
                      "b\xC3",
                      4);
    assert_string_equal(sb.buf, "\"a\xEF\xBF\xBD"
                                "b\xEF\xBF\xBD\"");
    value v;
    assert_int_equal(json_parse(sb.buf, sb.len, &v, NULL), ST_OK);
    value_free(v);
    sb_done(&sb);
}

/* ---- errors ---- */

struct error_case {
    const char *text;
    size_t len; /* 0: strlen */
    int line, column;
    const char *msg; /* a substring of the message */
};

static void test_errors(void **state)
{
    static const struct error_case cases[] = {
        {"", 0, 1, 1, "unexpected end of input, expected a value"},
        {"   ", 0, 1, 4, "unexpected end of input"},
        {"[", 0, 1, 2, "unexpected end of input"},
        {"[1,2", 0, 1, 5, "expected ',' or ']' after array element"},
        {"[1 2]", 0, 1, 4, "expected ',' or ']' after array element"},
        {"[1,]", 0, 1, 4, "unexpected character ']', expected a value"},
        {"{\"a\":1 \"b\":2}", 0, 1, 8, "expected ',' or '}' after object member"},
        {"{\"a\":1", 0, 1, 7, "expected ',' or '}' after object member"},
        {"{\"a\" 1}", 0, 1, 6, "expected ':' after object key"},
        {"{\"a\"", 0, 1, 5, "expected ':' after object key"},
        {"{1:2}", 0, 1, 2, "expected a string key or '}'"},
        {"{\"a\":1,}", 0, 1, 8, "expected a string key after ','"},
        {"{\"a\":}", 0, 1, 6, "unexpected character '}', expected a value"},
        {"tru", 0, 1, 1, "invalid literal"},
        {"nul", 0, 1, 1, "invalid literal"},
        {"True", 0, 1, 1, "unexpected character 'T'"},
        {"falsey", 0, 1, 6, "unexpected 'y' after the JSON value"},
        {"01", 0, 1, 1, "leading zeros are not allowed"},
        {"-01", 0, 1, 1, "leading zeros are not allowed"},
        {"-", 0, 1, 2, "expected a digit after '-'"},
        {"-a", 0, 1, 2, "expected a digit after '-'"},
        {"1.", 0, 1, 3, "expected a digit after '.'"},
        {"1.e5", 0, 1, 3, "expected a digit after '.'"},
        {"1e", 0, 1, 3, "expected a digit in the exponent"},
        {"1e+", 0, 1, 4, "expected a digit in the exponent"},
        {"+1", 0, 1, 1, "unexpected character '+'"},
        {".5", 0, 1, 1, "unexpected character '.'"},
        {"NaN", 0, 1, 1, "unexpected character 'N'"},
        {"-Infinity", 0, 1, 2, "expected a digit after '-'"},
        {"9223372036854775808", 0, 1, 1, "integer out of range"},
        {"[0,-9223372036854775809]", 0, 1, 4, "integer out of range"},
        {"99999999999999999999999", 0, 1, 1, "integer out of range"},
        {"1e400", 0, 1, 1, "number out of range"},
        {"[-1.8e308]", 0, 1, 2, "number out of range"},
        {"\"abc", 0, 1, 1, "unterminated string"},
        {"[\"abc\\", 0, 1, 2, "unterminated string"},
        {"\"a\x01\"", 0, 1, 3, "control character U+0001 in string"},
        {"\"a\tb\"", 0, 1, 3, "control character U+0009 in string"},
        {"\"a\nb\"", 0, 1, 3, "control character U+000A"},
        {"\"\\x\"", 0, 1, 2, "invalid escape"},
        {"\"\\'\"", 0, 1, 2, "invalid escape"},
        {"\"\\u12G4\"", 0, 1, 2, "expected 4 hex digits"},
        {"\"\\u12\"", 0, 1, 2, "expected 4 hex digits"},
        {"\"\\uD800\"", 0, 1, 2, "high surrogate \\uD800 not followed by a low surrogate"},
        {"\"\\uD800\\u0041\"", 0, 1, 2, "not followed by a low surrogate"},
        {"\"\\uD800\\uD800\"", 0, 1, 2, "not followed by a low surrogate"},
        {"\"\\uDC00\"", 0, 1, 2, "lone low surrogate \\uDC00"},
        {"\"\xC0\x80\"", 0, 1, 2, "invalid UTF-8 byte 0xC0"},
        {"[\n  1,\n  x\n]", 0, 3, 3, "unexpected character 'x'"},
        {"\"a\"\r\n  ]", 0, 2, 3, "unexpected ']' after the JSON value"},
        {"{\n\"k\": [1,\n 2 3]}", 0, 3, 4, "expected ',' or ']' after array element"},
        {"\xEF\xBB\xBF{}", 0, 1, 1, "unexpected character 0xEF"}, /* a byte order mark */
        {"[1]\0", 4, 1, 4, "unexpected 0x00 after the JSON value"},
        {"[\0]", 3, 1, 2, "unexpected character 0x00"},
        {"{} {}", 0, 1, 4, "unexpected '{' after the JSON value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct error_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        err je;
        memset(&je, 0, sizeof je);
        value v = value_null();
        int rc = json_parse(c->text, len, &v, &je);
        if (rc != ST_ERR)
            fail_msg("case %zu (%s) was accepted", i, c->text);
        if (je.line != c->line || je.col != c->column || !strstr(je.msg, c->msg))
            fail_msg("case %zu (%s): got %d:%d %s; want %d:%d %s", i, c->text, (int)je.line, je.col,
                     je.msg, c->line, c->column, c->msg);
        assert_int_equal(v.type, V_NULL);
        /* The offset agrees with line and column on one-line inputs. */
        if (c->line == 1)
            assert_int_equal(je.offset, (size_t)c->column - 1);
        /* A NULL err is allowed. */
        assert_int_equal(json_parse(c->text, len, &v, NULL), ST_ERR);
    }
}

/* Errors deep inside nested containers free everything built so far (checked by
 * the ASan build's leak detector). */
static void test_errors_free_partial(void **state)
{
    static const char *const texts[] = {
        "{\"a\":[1,\"two\",{\"b\":[null,\"x\"]}],\"c\":\"d\",\"e\":[[[\"f\" 1]]]}",
        "[\"s\",{\"k\":\"v\",\"k2\":[\"w\",\"\\uD800\"]}]",
        "{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":",
    };
    for (size_t i = 0; i < 3; i++) {
        value v;
        assert_int_equal(json_parse(texts[i], strlen(texts[i]), &v, NULL), ST_ERR);
    }
}

static void test_depth_cap(void **state)
{
    size_t n = JSON_MAX_DEPTH;
    char *text = malloc(2 * n + 4);
    memset(text, '[', n);
    memset(text + n, ']', n);
    value v;
    err je;
    assert_int_equal(json_parse(text, 2 * n, &v, &je), ST_OK);
    value_free(v);
    /* One more level is refused, at the bracket that goes too deep. */
    memset(text, '[', n + 1);
    memset(text + n + 1, ']', n + 1);
    assert_int_equal(json_parse(text, 2 * n + 2, &v, &je), ST_ERR);
    assert_non_null(strstr(je.msg, "nesting deeper than 512 levels"));
    assert_int_equal(je.col, (int)n + 1);
    /* The same through objects. */
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < n + 1; i++)
        sb_adds(&sb, "{\"k\":");
    sb_adds(&sb, "1");
    for (size_t i = 0; i < n + 1; i++)
        sb_addc(&sb, '}');
    assert_int_equal(json_parse(sb.buf, sb.len, &v, &je), ST_ERR);
    assert_non_null(strstr(je.msg, "nesting deeper"));
    sb_done(&sb);
    free(text);
}

static void test_duplicate_keys(void **state)
{
    check_canonical("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}");
    /* Also in an object large enough for the hash index. */
    strbuf sb;
    sb_init(&sb);
    sb_addc(&sb, '{');
    for (int i = 0; i < 40; i++)
        sb_addf(&sb, "\"k%d\":%d,", i, i);
    sb_adds(&sb, "\"k5\":\"last\"}");
    value v = parse_ok(sb.buf);
    assert_int_equal(value_map_len(&v), 40);
    assert_string_equal(value_str(value_map_val_at(&v, 5)), "last");
    value_free(v);
    sb_done(&sb);
}

static void test_large_object(void **state)
{
    enum { N = 100000 };
    strbuf sb;
    sb_init(&sb);
    sb_addc(&sb, '{');
    for (int i = 0; i < N; i++)
        sb_addf(&sb, "%s\"key%d\":%d", i ? "," : "", i, i);
    sb_addc(&sb, '}');
    value v;
    err je;
    assert_int_equal(json_parse(sb.buf, sb.len, &v, &je), ST_OK);
    assert_int_equal(value_map_len(&v), N);
    char key[32];
    for (int i = 0; i < N; i += 7) {
        snprintf(key, sizeof key, "key%d", i);
        assert_true(value_map_get(&v, key)->u.i == i);
    }
    char *out = write_str(&v);
    assert_string_equal(out, sb.buf);
    free(out);
    value_free(v);
    sb_done(&sb);
}

/* ---- writers ---- */

static void test_write_canonical(void **state)
{
    check_canonical(" { \"b\" : [ 1 , 2.0 , \"x\" ] , \"a\" : { } , \"c\" : [ ] , \"d\" : null } ",
                    "{\"b\":[1,2.0,\"x\"],\"a\":{},\"c\":[],\"d\":null}");
    check_canonical("\"\\u00e9\\u0001\\/\"", "\"\xC3\xA9\\u0001/\"");
    check_canonical("[true,false,-5,1E2]", "[true,false,-5,100.0]");

    value m = value_map(0);
    value_map_set(&m, "nan", value_double(NAN));
    value_map_set(&m, "inf", value_double(-INFINITY));
    value_map_set(&m, "min", value_int(INT64_MIN));
    char *s = write_str(&m);
    assert_string_equal(s, "{\"nan\":null,\"inf\":null,\"min\":-9223372036854775808}");
    free(s);
    value_free(m);
}

static void test_write_pretty(void **state)
{
    value v = parse_ok("{\"a\":[1,{\"b\":null},[]],\"c\":{},\"d\":\"x\"}");
    strbuf sb;
    sb_init(&sb);
    json_write_pretty(&sb, &v);
    assert_string_equal(sb.buf, "{\n"
                                "  \"a\": [\n"
                                "    1,\n"
                                "    {\n"
                                "      \"b\": null\n"
                                "    },\n"
                                "    []\n"
                                "  ],\n"
                                "  \"c\": {},\n"
                                "  \"d\": \"x\"\n"
                                "}");
    value back;
    assert_int_equal(json_parse(sb.buf, sb.len, &back, NULL), ST_OK);
    assert_true(value_equal(&v, &back));
    value_free(back);
    sb_reset(&sb);
    value i = value_int(3);
    json_write_pretty(&sb, &i);
    assert_string_equal(sb.buf, "3");
    sb_done(&sb);
    value_free(v);
}

static void test_round_trip(void **state)
{
    static const char *const docs[] = {
        ("{\"position\":17,\"stream\":\"Account-A\",\"version\":3,\"type\":\"MoneyWithdrawn\","
         "\"schema\":1,"
         "\"time\":\"2026-11-27T10:00:00.123Z\",\"data\":{\"amount\":50},\"meta\":{\"command\":"
         "\"Withdraw\"}}"),
        "[9007199254740993,-9223372036854775808,9223372036854775807,0.1,1e-300,5e-324,-0.0]",
        "{\"s\":\"tab\\there \\\"q\\\" \\\\ \\u0000 \\u001f \\ud83d\\ude00 \xE2\x82\xAC\"}",
        "[[[[[[[[[[]]]]]]]]]]",
        "{\"\":{\"\":[\"\",{}]}}",
        "  [ 1.25e2 , 3E-2 , 123456789.987654321 ] ",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        value a = parse_ok(docs[i]);
        char *w1 = write_str(&a);
        value b = parse_ok(w1);
        char *w2 = write_str(&b);
        assert_string_equal(w1, w2);
        assert_true(value_equal(&a, &b) || i == 1); /* doc 1 has -0.0 == 0.0 anyway */
        free(w1);
        free(w2);
        value_free(a);
        value_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_types),
        cmocka_unit_test(test_int64_exact),
        cmocka_unit_test(test_doubles_parse),
        cmocka_unit_test(test_doubles_write),
        cmocka_unit_test(test_locale_independent),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_utf8_validity),
        cmocka_unit_test(test_write_strings),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_errors_free_partial),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_large_object),
        cmocka_unit_test(test_write_canonical),
        cmocka_unit_test(test_write_pretty),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
