/* test_utf8.c: the UTF-8 module (core/utf8.c): the strict RFC 3629 rules at their
 * boundaries, and a differential test against the ten hand-written copies it
 * replaced (kept below as oracles, verbatim but for their names and layout): every validator,
 * decoder, counter and encoder must agree with the module on 200,000 random and
 * mutated byte strings (a fixed seed, so a failure repeats), on every string of
 * one and two bytes, and on every code point.
 *
 * The one intended difference: the old encoders wrote whatever bits they were
 * given, so a surrogate or a value above U+10FFFF came out as ill-formed bytes;
 * utf8_encode refuses those (returns 0). No caller ever passed one: the JSON
 * parser and the expression lexer reject such \u escapes before encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

/* ---- the old implementations, as they were ---- */

/* core/reader.c: reader_utf8_valid */
static bool old_reader_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* ASCII, the common case, eight bytes at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* core/json.c: utf8_seq (the parser's and writer's validator) */
static size_t old_json_seq(const unsigned char *q, const unsigned char *end)
{
    unsigned c = q[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0; /* a continuation byte, or an overlong 2-byte lead */
    if (c < 0xE0)
        return end - q >= 2 && (q[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (end - q < 3 || (q[1] & 0xC0) != 0x80 || (q[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && q[1] < 0xA0) || (c == 0xED && q[1] > 0x9F))
            return 0; /* overlong, or a UTF-16 surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (end - q < 4 || (q[1] & 0xC0) != 0x80 || (q[2] & 0xC0) != 0x80 || (q[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && q[1] < 0x90) || (c == 0xF4 && q[1] > 0x8F))
            return 0; /* overlong, or above U+10FFFF */
        return 4;
    }
    return 0;
}

/* core/json.c: add_utf8 (\u escapes) */
static void old_json_enc(strbuf *sb, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sb_add(sb, b, n);
}

/* core/expr_parse.c: utf8_seq (string literals) */
static size_t old_expr_seq(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* core/expr_parse.c: utf8_put (escapes in string literals) */
static void old_expr_enc(strbuf *sb, uint32_t cp)
{
    char b[4];
    if (cp < 0x80) {
        b[0] = (char)cp;
        sb_add(sb, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        sb_add(sb, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        sb_add(sb, b, 3);
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        sb_add(sb, b, 4);
    }
}

/* core/yaml_tree.c: utf8_seq (domain files) */
static int old_yaml_seq(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if ((size_t)n > left)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return n;
}

/* tui/draw.c: utf8_decode (tui_sanitize) */
static size_t old_draw_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* core/expr_eval.c: cp_count (size(), substring(), split()) */
static size_t old_eval_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* core/field.c: utf8_length (minLength / maxLength) */
static size_t old_field_count(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
    return k;
}

/* core/domain_util.c: utf8_chars (columns in domain files) */
static size_t old_domain_count(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
    return k;
}

/* ---- the rules at their boundaries ---- */

static void check_seq(const char *s, size_t n, size_t want)
{
    size_t got = utf8_seq(s, n);
    if (got != want)
        fail_msg("utf8_seq of %zu bytes %02X..: %zu, want %zu", n, n ? (unsigned char)s[0] : 0, got,
                 want);
}

static void test_boundaries(void **state)
{
    check_seq("", 0, 0);
    check_seq("\0", 1, 1); /* NUL is a code point; callers refuse it themselves */
    check_seq("\x7F", 1, 1);
    check_seq("\x80", 1, 0);         /* a continuation byte alone */
    check_seq("\xC0\x80", 2, 0);     /* overlong NUL */
    check_seq("\xC1\xBF", 2, 0);     /* overlong U+007F */
    check_seq("\xC2\x80", 2, 2);     /* U+0080 */
    check_seq("\xDF\xBF", 2, 2);     /* U+07FF */
    check_seq("\xC2", 1, 0);         /* cut short */
    check_seq("\xC2\x41", 2, 0);     /* not a continuation */
    check_seq("\xE0\x9F\xBF", 3, 0); /* overlong U+07FF */
    check_seq("\xE0\xA0\x80", 3, 3); /* U+0800 */
    check_seq("\xED\x9F\xBF", 3, 3); /* U+D7FF */
    check_seq("\xED\xA0\x80", 3, 0); /* U+D800, a surrogate */
    check_seq("\xED\xBF\xBF", 3, 0); /* U+DFFF */
    check_seq("\xEE\x80\x80", 3, 3); /* U+E000 */
    check_seq("\xEF\xBF\xBF", 3, 3); /* U+FFFF */
    check_seq("\xEF\xBF", 2, 0);
    check_seq("\xF0\x8F\xBF\xBF", 4, 0); /* overlong U+FFFF */
    check_seq("\xF0\x90\x80\x80", 4, 4); /* U+10000 */
    check_seq("\xF4\x8F\xBF\xBF", 4, 4); /* U+10FFFF */
    check_seq("\xF4\x90\x80\x80", 4, 0); /* U+110000 */
    check_seq("\xF5\x80\x80\x80", 4, 0);
    check_seq("\xFF", 1, 0);
    check_seq("\xF0\x90\x80", 3, 0);
    /* only n bytes are read: a valid sequence is refused when n cuts it */
    check_seq("\xE2\x82\xAC", 2, 0);
    check_seq("\xE2\x82\xAC", 3, 3);

    uint32_t cp = 0;
    assert_int_equal(utf8_decode("\xE2\x82\xAC", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(utf8_decode("\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    cp = 12345;
    assert_int_equal(utf8_decode("\xED\xA0\x80", 3, &cp), 0);
    assert_int_equal(cp, 12345); /* untouched on failure */

    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("plain ascii, longer than eight bytes", 36));
    assert_true(utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    assert_false(utf8_valid("abcdefgh\xc3", 9));
    assert_false(utf8_valid("abcdefghijklmnop\xed\xa0\x80", 19));

    assert_int_equal(utf8_count("", 0), 0);
    assert_int_equal(utf8_count("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10), 4);

    char b[4];
    assert_int_equal(utf8_encode(0, b), 1);
    assert_int_equal(utf8_encode(0x7F, b), 1);
    assert_int_equal(utf8_encode(0x80, b), 2);
    assert_int_equal(utf8_encode(0x7FF, b), 2);
    assert_int_equal(utf8_encode(0x800, b), 3);
    assert_int_equal(utf8_encode(0xD7FF, b), 3);
    assert_int_equal(utf8_encode(0xD800, b), 0);
    assert_int_equal(utf8_encode(0xDFFF, b), 0);
    assert_int_equal(utf8_encode(0xFFFF, b), 3);
    assert_int_equal(utf8_encode(0x10000, b), 4);
    assert_int_equal(utf8_encode(0x10FFFF, b), 4);
    assert_int_equal(utf8_encode(0x110000, b), 0);
    assert_int_equal(utf8_encode(UINT32_MAX, b), 0);
    strbuf sb;
    sb_init(&sb);
    assert_true(utf8_append(&sb, 0x20AC));
    assert_false(utf8_append(&sb, 0xDC00));
    assert_int_equal(sb.len, 3);
    assert_memory_equal(sb.buf, "\xE2\x82\xAC", 3);
    sb_done(&sb);
}

/* ---- differential: the module against every old copy ---- */

/* Every old validator/decoder and the module, on the sequence at s[0..n). */
static void compare_at(const unsigned char *s, size_t n)
{
    size_t want = utf8_seq((const char *)s, n);
    size_t e = old_expr_seq(s, n);
    if (e != want)
        fail_msg("expr_parse's utf8_seq says %zu, utf8_seq %zu (byte %02X, %zu left)", e, want,
                 s[0], n);
    if (n == 0)
        return; /* the others were never called on an empty rest */
    size_t j = old_json_seq(s, s + n);
    if (j != want)
        fail_msg("json's utf8_seq says %zu, utf8_seq %zu (byte %02X, %zu left)", j, want, s[0], n);
    int y = old_yaml_seq(s, n);
    if ((size_t)y != want)
        fail_msg("yaml_tree's utf8_seq says %d, utf8_seq %zu (byte %02X, %zu left)", y, want, s[0],
                 n);
    uint32_t cp_old = 0xFFFFFFFF, cp_new = 0xFFFFFFFF;
    size_t d = old_draw_decode(s, n, &cp_old);
    size_t dn = utf8_decode((const char *)s, n, &cp_new);
    if (d != want || dn != want || (want && cp_old != cp_new))
        fail_msg("draw's utf8_decode says %zu U+%04X, utf8_decode %zu U+%04X (byte %02X)", d,
                 cp_old, dn, cp_new, s[0]);
}

static void compare_string(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        compare_at(s + i, n - i);
    compare_at(s + n, 0);
    bool v = utf8_valid((const char *)s, n);
    if (v != old_reader_valid((const char *)s, n))
        fail_msg("reader_utf8_valid and utf8_valid disagree on %zu bytes", n);
    /* a whole-string walk with the sequence function, as json.c and yaml_tree.c do */
    bool walk = true;
    for (size_t i = 0; i < n && walk;) {
        size_t k = utf8_seq((const char *)s + i, n - i);
        walk = k != 0;
        i += k;
    }
    if (walk != v)
        fail_msg("utf8_valid and a utf8_seq walk disagree on %zu bytes", n);
    size_t c = utf8_count((const char *)s, n);
    if (c != old_eval_count((const char *)s, n) || c != old_field_count((const char *)s, n) ||
        c != old_domain_count((const char *)s, n))
        fail_msg("utf8_count disagrees with an old counter on %zu bytes", n);
}

static uint64_t rng_state = 0x5EED0F5EED0F0012ULL;
static uint32_t rnd(void)
{
    /* xorshift64*: a fixed seed, so every run tests the same strings */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* Bytes near the edges of the rules, so mutations hit them often. */
static const unsigned char edge_bytes[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                           0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF,
                                           0xF0, 0xF4, 0xF5, 0xF7, 0xF8, 0xFE, 0xFF};

static uint32_t random_cp(void)
{
    static const uint32_t edges[] = {0,      0x7F,    0x80,    0x7FF,    0x800,
                                     0xD7FF, 0xD800,  0xDFFF,  0xE000,   0xFFFD,
                                     0xFFFF, 0x10000, 0xFFFFF, 0x100000, 0x10FFFF};
    switch (rnd() % 4) {
    case 0:
        return rnd() % 0x80;
    case 1:
        return edges[rnd() % (sizeof edges / sizeof edges[0])];
    case 2:
        return rnd() % 0x10000;
    default:
        return rnd() % 0x110000;
    }
}

static size_t random_string(unsigned char *buf, size_t cap)
{
    size_t n = 0;
    unsigned kind = rnd() % 3;
    if (kind == 0) { /* random bytes */
        n = rnd() % 24;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)(rnd() % 2 ? rnd() : edge_bytes[rnd() % sizeof edge_bytes]);
        return n;
    }
    /* valid text (the old encoder, so surrogates may come out CESU-style), then mutated */
    size_t ncp = rnd() % 8;
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < ncp; i++)
        old_expr_enc(&sb, random_cp());
    n = sb.len < cap ? sb.len : cap;
    if (n)
        memcpy(buf, sb.buf, n);
    sb_done(&sb);
    if (kind == 1 && n) {
        unsigned muts = 1 + rnd() % 3;
        for (unsigned m = 0; m < muts; m++) {
            size_t at = rnd() % n;
            switch (rnd() % 4) {
            case 0:
                buf[at] = edge_bytes[rnd() % sizeof edge_bytes];
                break;
            case 1:
                buf[at] ^= (unsigned char)(1u << (rnd() % 8));
                break;
            case 2:
                n = at;
                break; /* cut short */
            default:
                buf[at] = (unsigned char)rnd();
                break;
            }
            if (!n)
                break;
        }
    }
    return n;
}

static void test_differential_random(void **state)
{
    unsigned char buf[64];
    for (int i = 0; i < 200000; i++) {
        size_t n = random_string(buf, sizeof buf);
        compare_string(buf, n);
    }
}

static void test_differential_exhaustive(void **state)
{
    unsigned char b[4];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (unsigned char)x;
        compare_string(b, 1);
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            compare_string(b, 2);
        }
    }
    /* every three-byte string with a multi-byte lead, and four-byte ones around
     * the edges of the continuation range */
    static const unsigned char tails[] = {0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xFF};
    for (unsigned x = 0xC0; x < 256; x++) {
        b[0] = (unsigned char)x;
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            for (unsigned z = 0; z < 256; z++) {
                b[2] = (unsigned char)z;
                compare_at(b, 3);
            }
            for (size_t z = 0; z < sizeof tails; z++)
                for (size_t w = 0; w < sizeof tails; w++) {
                    b[2] = tails[z];
                    b[3] = tails[w];
                    compare_string(b, 4);
                }
        }
    }
}

/* The encoders: identical bytes for every scalar value; the documented
 * difference for surrogates and values above U+10FFFF. */
static void test_differential_encoders(void **state)
{
    strbuf a, b, c;
    sb_init(&a);
    sb_init(&b);
    sb_init(&c);
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        sb_reset(&a);
        sb_reset(&b);
        sb_reset(&c);
        old_json_enc(&a, cp);
        old_expr_enc(&b, cp);
        bool ok = utf8_append(&c, cp);
        bool scalar = cp < 0xD800 || cp > 0xDFFF;
        if (ok != scalar)
            fail_msg("utf8_append(U+%04X) returned %d", cp, ok);
        if (!scalar) {
            assert_int_equal(c.len, 0);
            continue;
        }
        if (a.len != c.len || b.len != c.len || memcmp(a.buf, c.buf, c.len) != 0 ||
            memcmp(b.buf, c.buf, c.len) != 0)
            fail_msg("encoders disagree on U+%04X", cp);
        /* and it decodes back */
        uint32_t back = 0;
        if (utf8_decode(c.buf, c.len, &back) != c.len || back != cp)
            fail_msg("U+%04X does not decode back", cp);
    }
    assert_false(utf8_append(&c, 0x110000));
    assert_false(utf8_append(&c, 0xFFFFFFFF));
    sb_done(&a);
    sb_done(&b);
    sb_done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_differential_random),
        cmocka_unit_test(test_differential_exhaustive),
        cmocka_unit_test(test_differential_encoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
