/* test_time.c: unit tests of instants and durations (core/instant.h) and of
 * CEL's timestamps and durations in expressions (core/expr_time.c): strict and
 * lenient reading, the canonical text, durations' syntax and text, arithmetic
 * with its range errors, the accessors, comparisons across offsets (the booking
 * overlap of issue 13), and stored text read through a typed schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/expr.h"
#include "core/instant.h"
#include "core/json.h"
#include "core/store_backend.h"

/* The canonical text of s read strictly, or "refused". */
static const char *norm(const char *s, bool lenient)
{
    static char out[64];
    int64_t sec;
    int32_t ns;
    bool ok = lenient ? instant_parse_stored(s, strlen(s), &sec, &ns)
                      : instant_parse(s, strlen(s), &sec, &ns);
    if (!ok)
        return "refused";
    instant_format(sec, ns, out);
    return out;
}

static void test_parse_instants(void **st)
{
    (void)st;
    assert_string_equal(norm("2026-03-01T10:00:00+02:00", false), "2026-03-01T08:00:00.000Z");
    assert_string_equal(norm("2026-03-01T10:00:00Z", false), "2026-03-01T10:00:00.000Z");
    assert_string_equal(norm("2026-03-01t10:00:00z", false), "2026-03-01T10:00:00.000Z");
    assert_string_equal(norm("2026-03-01 10:00+0530", false), "2026-03-01T04:30:00.000Z");
    assert_string_equal(norm("2026-03-01T00:30:00+01", false), "2026-02-28T23:30:00.000Z");
    assert_string_equal(norm("2026-03-01T10:00:00.123456789Z", false), "2026-03-01T10:00:00.123Z");
    assert_string_equal(norm("2026-03-01T10:00:00.5-01:00", false), "2026-03-01T11:00:00.500Z");
    assert_string_equal(norm("2024-02-29T12:00:00Z", false), "2024-02-29T12:00:00.000Z"); /* leap */
    assert_string_equal(norm("2000-02-29T12:00:00Z", false), "2000-02-29T12:00:00.000Z");
    assert_string_equal(norm("1969-12-31T23:59:59.999Z", false), "1969-12-31T23:59:59.999Z");
    assert_string_equal(norm("0001-01-01T00:00:00Z", false), "0001-01-01T00:00:00.000Z");
    assert_string_equal(norm("9999-12-31T23:59:59.999999999Z", false), "9999-12-31T23:59:59.999Z");
    const char *refused[] = {
        "2026-02-30T10:00:00Z", /* no such day */
        "2026-02-29T10:00:00Z", /* not a leap year */
        "1900-02-29T10:00:00Z", /* a century, not a leap year */
        "2026-13-01T10:00:00Z", /* no such month */
        "2026-03-01T24:00:00Z", /* 24:00 is the next day's 00:00: written so */
        "2026-03-01T25:00:00Z",
        "2026-03-01T10:60:00Z",
        "2026-03-01T23:59:60Z", /* leap seconds: CEL has none */
        "2026-03-01",           /* a day, not an instant */
        "2026-03-01T10:00:00",  /* no offset: which instant? */
        "2026-03-01T10:00:00+24:00",
        "2026-03-01T10:00:00+02:",
        "2026-03-01T10:00:00.Z",
        "2026-03-01T10:00:00.1234567890Z",
        "2026-03-01T10:00:00Zjunk",
        "0000-12-31T10:00:00Z",      /* year 0 */
        "0001-01-01T00:30:00+01:00", /* still year 0 in UTC */
        "10000-01-01T00:00:00Z",
        "",
        "yesterday",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strcmp(norm(refused[i], false), "refused") != 0)
            fail_msg("accepted %s as %s", refused[i], norm(refused[i], false));
    /* an older store's text is read leniently */
    assert_string_equal(norm("2026-03-01", true), "2026-03-01T00:00:00.000Z");
    assert_string_equal(norm("2026-03-01T10:00:00", true), "2026-03-01T10:00:00.000Z");
    assert_string_equal(norm("2026-03-01T10:00:00+02:00", true), "2026-03-01T08:00:00.000Z");
    assert_string_equal(norm("2026-02-30", true), "refused");
}

static const char *dur(const char *s)
{
    static char out[DURATION_TEXT_MAX];
    int64_t ns;
    if (!duration_parse(s, strlen(s), &ns))
        return "refused";
    duration_format(ns, out);
    return out;
}

static void test_durations(void **st)
{
    (void)st;
    assert_string_equal(dur("36h"), "129600s");
    assert_string_equal(dur("90m"), "5400s");
    assert_string_equal(dur("1.5h"), "5400s");
    assert_string_equal(dur("1.5s"), "1.5s");
    assert_string_equal(dur("1h30m"), "5400s");
    assert_string_equal(dur("-1s"), "-1s");
    assert_string_equal(dur("+2s"), "2s");
    assert_string_equal(dur("1ms"), "0.001s");
    assert_string_equal(dur("-1.5ms"), "-0.0015s");
    assert_string_equal(dur("1us"), "0.000001s");
    assert_string_equal(dur("1\xc2\xb5s"), "0.000001s");
    assert_string_equal(dur("1ns"), "0.000000001s");
    assert_string_equal(dur(".5s"), "0.5s");
    assert_string_equal(dur("0"), "0s");
    assert_string_equal(dur("0s"), "0s");
    assert_string_equal(dur("5400s"), "5400s");
    assert_string_equal(dur("9223372036.854775807s"), "9223372036.854775807s");
    assert_string_equal(dur("-9223372036.854775808s"), "-9223372036.854775808s");
    const char *refused[] = {"",
                             "s",
                             "1",
                             "1d",
                             "1 h",
                             "1h ",
                             "h1",
                             "1.h.",
                             "-",
                             ".s",
                             "9223372036.854775808s",
                             "3000000h",
                             "99999999999999999999999h"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strcmp(dur(refused[i]), "refused") != 0)
            fail_msg("accepted duration %s as %s", refused[i], dur(refused[i]));
}

/* ---- in expressions ---- */

static const char *const payload_names[] = {"from", "to", "stay", "note"};
static const expr_type payload_types[] = {EXPR_T_TIMESTAMP, EXPR_T_TIMESTAMP, EXPR_T_DURATION,
                                          EXPR_T_STRING};
static const struct expr_schema payload_schema = {
    .fields = payload_names, .types = payload_types, .nfields = 4};

/* Evaluates src with payload (JSON) typed by payload_schema; the JSON of the
 * result, or "error: ..." / "compile: ...". */
static const char *eval_with(const char *src, const char *payload)
{
    static char out[2048];
    struct expr_env env;
    memset(&env, 0, sizeof env);
    env.allowed = ROOT_BIT(ROOT_PAYLOAD) | EXPR_ALLOW_NOW;
    env.schema[ROOT_PAYLOAD] = &payload_schema;
    env.slot = "test";
    err ee;
    expr *x = expr_compile(src, strlen(src), &env, &ee);
    if (!x) {
        snprintf(out, sizeof out, "compile: %s", ee.msg);
        return out;
    }
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    err je;
    if (json_parse(payload, strlen(payload), &vars.roots[ROOT_PAYLOAD], &je) != ST_OK)
        fail_msg("bad payload %s", payload);
    vars.now_ms = 1772352000123LL; /* 2026-03-01T08:00:00.123Z */
    value v;
    err e;
    err_clear(&e);
    if (expr_eval(x, &vars, &v, &e) == ST_OK) {
        char *j = json_to_string(&v);
        snprintf(out, sizeof out, "%s", j);
        free(j);
        value_free(v);
    } else {
        snprintf(out, sizeof out, "error: %s", e.msg);
    }
    value_free(vars.roots[ROOT_PAYLOAD]);
    expr_free(x);
    return out;
}

#define P                                                                                          \
    "{\"from\": \"2026-03-01T08:00:00Z\", \"to\": \"2026-03-01T09:00:00Z\", \"stay\": \"90m\", "   \
    "\"note\": \"x\"}"
#define EV(src, want) assert_string_equal(eval_with(src, P), want)
#define EV_HAS(src, part)                                                                          \
    do {                                                                                           \
        const char *got_ = eval_with(src, P);                                                      \
        if (!strstr(got_, part))                                                                   \
            fail_msg("`%s`: expected %s in %s", src, part, got_);                                  \
    } while (0)

static void test_booking_overlap(void **st)
{
    (void)st;
    /* 08:00Z-09:00Z against a range starting 10:30+02:00 (08:30Z): they overlap,
     * though as text "2026-03-01T10:30:00+02:00" sorts after "...09:00:00Z" */
    EV("timestamp('2026-03-01T10:30:00+02:00') < payload.to && "
       "payload.from < timestamp('2026-03-01T12:00:00+02:00')",
       "true");
    EV("timestamp('2026-03-01T11:00:00+02:00') < payload.to", "false");
    EV("timestamp('2026-03-01T10:00:00+02:00') == payload.from", "true");
    EV("timestamp('2026-03-01T10:00:00+02:00') < timestamp('2026-03-01T09:00:00Z')", "true");
    EV("payload.from <= payload.from && payload.from >= payload.from", "true");
    EV("payload.from != payload.to", "true");
    EV("payload.from in [timestamp('2026-03-01T09:00:00+01:00')]", "true");
}

static void test_arithmetic(void **st)
{
    (void)st;
    EV("payload.to - payload.from", "\"3600s\"");
    EV("payload.from - payload.to", "\"-3600s\"");
    EV("payload.from + payload.stay", "\"2026-03-01T09:30:00.000Z\"");
    EV("payload.stay + payload.from", "\"2026-03-01T09:30:00.000Z\"");
    EV("payload.from - duration('36h')", "\"2026-02-27T20:00:00.000Z\"");
    EV("payload.stay + duration('1.5h')", "\"10800s\"");
    EV("payload.stay - duration('2h')", "\"-1800s\"");
    EV("payload.to - payload.from > payload.stay", "false");
    EV("payload.to - payload.from < duration('1h1ns')", "true");
    EV("now()", "\"2026-03-01T08:00:00.123Z\"");
    EV("now() - payload.from", "\"0.123s\"");
    EV("{'at': payload.from, 'for': [payload.stay]}",
       "{\"at\":\"2026-03-01T08:00:00.000Z\",\"for\":[\"5400s\"]}");
    EV("timestamp('2026-03-01T10:00:00.000000001Z') - timestamp('2026-03-01T10:00:00Z')",
       "\"0.000000001s\"");
    EV_HAS("timestamp('9999-12-31T23:59:59Z') + duration('1s')", "timestamp overflow");
    EV_HAS("timestamp('0001-01-01T00:00:00Z') - duration('1ns')", "timestamp overflow");
    EV_HAS("timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')",
           "duration overflow");
    EV_HAS("duration('2562047h') + duration('2562047h')", "duration overflow");
    EV_HAS("timestamp(253402300800)", "outside the years 0001 to 9999");
    EV("timestamp(0)", "\"1970-01-01T00:00:00.000Z\"");
    EV("timestamp(-1)", "\"1969-12-31T23:59:59.000Z\"");
    EV("int(payload.from)", "1772352000");
    EV("int(timestamp('1969-12-31T23:59:59.5Z'))", "-1");
    EV("string(payload.from)", "\"2026-03-01T08:00:00.000Z\"");
    EV("string(payload.stay)", "\"5400s\"");
    EV("'at ' + string(payload.from)", "\"at 2026-03-01T08:00:00.000Z\"");
    EV_HAS("timestamp('2026-02-30T00:00:00Z')", "timestamp() cannot read");
    EV_HAS("timestamp('2026-03-01')", "timestamp() cannot read");
    EV_HAS("duration('1d')", "duration() cannot read");
    /* static type errors */
    EV_HAS("'at ' + payload.from", "compile: no such overload: string + timestamp");
    EV_HAS("payload.from + payload.from", "compile: no such overload: timestamp + timestamp");
    EV_HAS("payload.from < payload.stay", "compile: no such overload: timestamp < duration");
    EV_HAS("payload.from.contains('2026')", "compile: no such overload: timestamp.contains()");
    EV_HAS("payload.stay.getFullYear()", "compile: no such overload: duration.getFullYear()");
}

static void test_accessors(void **st)
{
    (void)st;
    /* 2024-12-31T23:30:45.678Z, a Tuesday, the 366th day of a leap year */
    const char *t = "timestamp('2024-12-31T23:30:45.678Z')";
    char src[256];
#define ACC(call, want)                                                                            \
    do {                                                                                           \
        snprintf(src, sizeof src, "%s.%s", t, call);                                               \
        EV(src, want);                                                                             \
    } while (0)
    ACC("getFullYear()", "2024");
    ACC("getMonth()", "11");
    ACC("getDayOfMonth()", "30");
    ACC("getDate()", "31");
    ACC("getDayOfWeek()", "2");
    ACC("getDayOfYear()", "365");
    ACC("getHours()", "23");
    ACC("getMinutes()", "30");
    ACC("getSeconds()", "45");
    ACC("getMilliseconds()", "678");
    /* at +02:00 it is already 2025-01-01, a Wednesday */
    ACC("getFullYear('+02:00')", "2025");
    ACC("getMonth('+02:00')", "0");
    ACC("getDate('+02:00')", "1");
    ACC("getDayOfYear('+02:00')", "0");
    ACC("getDayOfWeek('+02:00')", "3");
    ACC("getHours('+02:00')", "1");
    ACC("getHours('-05:30')", "18");
    ACC("getMinutes('-05:30')", "0");
    ACC("getHours('UTC')", "23");
    ACC("getHours('Z')", "23");
    snprintf(src, sizeof src, "%s.getHours('Europe/Paris')", t);
    EV_HAS(src, "unknown time zone");
    EV("timestamp('2026-03-01T00:00:00Z').getDayOfWeek()", "0"); /* a Sunday */
    EV("timestamp('1970-01-01T00:00:00Z').getDayOfWeek()", "4");
    EV("timestamp('1969-12-31T00:00:00Z').getDayOfWeek()", "3");
    /* durations: the whole length in each unit */
    EV("duration('3h25m45.678s').getHours()", "3");
    EV("duration('3h25m45.678s').getMinutes()", "205");
    EV("duration('3h25m45.678s').getSeconds()", "12345");
    EV("duration('3h25m45.678s').getMilliseconds()", "12345678");
    EV("duration('-90m').getHours()", "-1");
    EV_HAS("duration('1h').getHours('UTC')", "no such overload");
#undef ACC
}

static void test_stored_text(void **st)
{
    (void)st;
    /* an older store: an offset, a bare date; read as instants all the same */
    assert_string_equal(eval_with("payload.from", "{\"from\": \"2026-03-01T10:00:00+02:00\"}"),
                        "\"2026-03-01T08:00:00.000Z\"");
    assert_string_equal(eval_with("payload.from < timestamp('2026-03-01T09:00:00Z')",
                                  "{\"from\": \"2026-03-01T10:00:00+02:00\"}"),
                        "true");
    assert_string_equal(eval_with("payload.from", "{\"from\": \"2026-03-01\"}"),
                        "\"2026-03-01T00:00:00.000Z\"");
    assert_string_equal(eval_with("payload.stay", "{\"stay\": \"1.5h\"}"), "\"5400s\"");
    assert_string_equal(
        eval_with("payload['from'].getHours()", "{\"from\": \"2026-03-01T10:00:00+02:00\"}"), "8");
    const char *got = eval_with("payload.from", "{\"from\": \"soon\"}");
    if (!strstr(got, "the stored value \"soon\" is not a timestamp"))
        fail_msg("got %s", got);
    /* an optional timestamp left null stays null */
    assert_string_equal(eval_with("payload.from == null", "{\"from\": null}"), "true");
}

/* instant_format by hand agrees with the printf it replaced, across the years. */
static void test_format_by_hand(void **st)
{
    (void)st;
    int64_t secs[] = {0,
                      1,
                      -62135596800LL /* 0001-01-01 */,
                      253402300799LL /* 9999-12-31 */,
                      951782400 /* 2000-02-29 */,
                      1767225599,
                      1798761600};
    for (size_t i = 0; i < sizeof secs / sizeof *secs; i++)
        for (int32_t ns = 0; ns < 1000000000; ns += 123456789) {
            char got[INSTANT_TEXT_LEN + 1], want[64];
            instant_format(secs[i], ns, got);
            struct instant_fields f;
            instant_split(secs[i], ns, 0, &f);
            snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", f.year % 10000,
                     f.month, f.mday, f.hour, f.minute, f.second, (int)(ns / 1000000));
            assert_string_equal(got, want);
        }
    for (int64_t s = -86400LL * 800; s < 86400LL * 800; s += 86400 + 3671) {
        char got[INSTANT_TEXT_LEN + 1];
        instant_format(s, 5000000, got);
        int64_t back = 0;
        int32_t bns = 0;
        assert_true(instant_parse_stored(got, strlen(got), &back, &bns));
        assert_true(back == s && bns == 5000000);
    }
}

/* instant_is_canonical: exactly the texts that reading and formatting give back
 * unchanged (an expression that only copies a stored time keeps its text). */
static void test_canonical(void **st)
{
    (void)st;
    for (int64_t s = -62135596800LL; s < 253402300799LL; s += 86400LL * 97 + 3671) {
        char t[INSTANT_TEXT_LEN + 1];
        instant_format(s, 7000000, t);
        assert_true(instant_is_canonical(t, strlen(t)));
    }
    const char *yes[] = {"2026-01-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z",
                         "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
                         "2000-02-29T12:30:45.123Z"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        assert_true(instant_is_canonical(yes[i], strlen(yes[i])));
        int64_t sec;
        int32_t ns;
        char back[INSTANT_TEXT_LEN + 1];
        assert_true(instant_parse_stored(yes[i], strlen(yes[i]), &sec, &ns));
        instant_format(sec, ns, back);
        assert_string_equal(back, yes[i]);
    }
    const char *no[] = {"2026-02-29T00:00:00.000Z",      "1900-02-29T00:00:00.000Z",
                        "0000-01-01T00:00:00.000Z",      "2026-13-01T00:00:00.000Z",
                        "2026-00-01T00:00:00.000Z",      "2026-04-31T00:00:00.000Z",
                        "2026-01-00T00:00:00.000Z",      "2026-01-01T24:00:00.000Z",
                        "2026-01-01T00:60:00.000Z",      "2026-01-01T00:00:60.000Z",
                        "2026-01-01T00:00:00Z",          "2026-01-01t00:00:00.000Z",
                        "2026-01-01 00:00:00.000Z",      "2026-01-01T00:00:00.000z",
                        "2026-01-01T00:00:00,000Z",      "2026-01-01T00:00:00.0000",
                        "2026-01-01T00:00:00.00aZ",      "+026-01-01T00:00:00.000Z",
                        "2026-01-01T00:00:00.000+00:00", "2026-01-01"};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_false(instant_is_canonical(no[i], strlen(no[i])));
}

/* The word-at-a-time check of the canonical shape (core/util.c,
 * time_canonical_ms; store_time_text and the mapping use it): whatever it takes or leaves, the text
 * it gives is what reading and formatting give (time_parse, time_format_ms), over canonical times
 * and every one-byte change of them (each byte set to each of 0..255). */
static void test_store_time_text(void **st)
{
    (void)st;
    const char *base[] = {"2026-01-01T00:00:00.017Z", "2024-02-29T23:59:59.999Z",
                          "2023-02-28T12:34:56.789Z", "0001-01-01T00:00:00.000Z",
                          "9999-12-31T23:59:59.999Z", "2000-02-29T09:09:09.090Z"};
    for (size_t i = 0; i < sizeof base / sizeof *base; i++) {
        int64_t ms;
        assert_true(time_canonical_ms(base[i], TIME_TEXT_LEN, &ms)); /* the fast way is taken */
        assert_false(time_canonical_ms(base[i], TIME_TEXT_LEN - 1, &ms));
    }
    for (size_t i = 0; i < sizeof base / sizeof *base; i++)
        for (int at = 0; at <= TIME_TEXT_LEN; at++)
            for (int c = 0; c < 256; c++) {
                char in[TIME_TEXT_LEN + 2] = {0}, got[TIME_TEXT_LEN + 1], want[TIME_TEXT_LEN + 1];
                memcpy(in, base[i], TIME_TEXT_LEN);
                in[at] = (char)c; /* at == TIME_TEXT_LEN: a byte after the text */
                int64_t ms;
                bool ok = time_parse(in, strlen(in), 0, &ms);
                if (ok)
                    time_format_ms(ms, want);
                int64_t cms = 0;
                if (time_canonical_ms(in, strlen(in), &cms) &&
                    (!ok || cms != ms || strcmp(in, want) != 0))
                    fail_msg("time_canonical_ms takes \"%s\" as %lld", in, (long long)cms);
                bool fast = store_time_text(in, got);
                if (fast != ok || (ok && strcmp(got, want) != 0))
                    fail_msg("store_time_text(\"%s\") gave %d \"%s\", want %d \"%s\"", in, fast,
                             fast ? got : "", ok, ok ? want : "");
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_instants),  cmocka_unit_test(test_durations),
        cmocka_unit_test(test_booking_overlap), cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_accessors),       cmocka_unit_test(test_stored_text),
        cmocka_unit_test(test_format_by_hand),  cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_store_time_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
