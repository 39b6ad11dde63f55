/* json.c: a one-pass strict JSON (RFC 8259) parser straight into `value`, and the
 * canonical writer.
 *
 * The parser is recursive descent over the input bytes. Finished values go onto a
 * scratch stack owned by the parse; a container, when it closes, takes its items
 * off the stack into one allocation of the exact size. Everything not yet placed in
 * a container is on that stack, so on an error freeing the stack frees all the
 * partial work and nothing leaks. Line and column are computed only when an error
 * is reported (by counting newlines up to the offset), so the hot loop does not
 * track them.
 *
 * Numbers: integers are accumulated exactly in 64 bits (beyond int64 is an error,
 * never rounded). Doubles take an exact fast path when the decimal mantissa fits
 * in 53 bits and the power of ten is exactly representable (Clinger: one correctly
 * rounded IEEE operation on two exact operands); otherwise strtod on a bounded copy.
 * Plain strtod and snprintf("%.17g") read and write '.' because LC_NUMERIC is
 * always "C": the only locale category Strata ever sets is LC_CTYPE (tui.c, for
 * wide characters), so no user locale can change what "1.5" means. */
#include "json.h"
#include "instant.h"
#include "utf8.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parser ---- */

typedef struct parser {
    const char *start, *p, *end;
    err *e; /* NULL: the caller only wants to know whether the text is JSON */
    int depth;
    value *stack; /* finished values not yet inside a container */
    size_t sp, cap;
    strbuf sbuf; /* decoding area for strings with escapes */
    value small[64];
} parser;

/* Byte classes inside a string (json.h). */
const unsigned char json_str_class[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x00 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, /* 0x50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x80 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x90 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xa0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xb0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xc0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xd0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xe0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xf0 */
};

/* Records an error at `at`; always returns false so callers can `return fail(...)`. */
static bool fail(parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(parser *ps, const char *at, const char *fmt, ...)
{
    err *e = ps->e;
    if (!e)
        return false;
    int line = 1;
    const char *line_start = ps->start;
    for (const char *q = ps->start; q < at; q++)
        if (*q == '\n') {
            line++;
            line_start = q + 1;
        }
    /* Clamped: a single line longer than 2 GiB still gets a usable offset. */
    size_t col = (size_t)(at - line_start) + 1;
    /* No file: the text is the caller's (a line of a file, an option), which words
     * the place itself; the parts stay in e for it. */
    va_list ap;
    va_start(ap, fmt);
    err_vset_at(e, ST_ERR, NULL, line, col > INT_MAX ? INT_MAX : (int)col, fmt, ap);
    va_end(ap);
    e->offset = (size_t)(at - ps->start);
    return false;
}

/* How a byte is shown in a message: 'x' when printable, else 0xNN. */
static const char *show_byte(char buf[8], unsigned char c)
{
    if (c >= 0x21 && c < 0x7F)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02X", c);
    return buf;
}

static void push(parser *ps, value v)
{
    if (ps->sp == ps->cap) {
        size_t cap = ps->cap * 2;
        if (ps->stack == ps->small) {
            ps->stack = xmalloc(cap * sizeof(value));
            memcpy(ps->stack, ps->small, ps->sp * sizeof(value));
        } else {
            ps->stack = xrealloc(ps->stack, cap * sizeof(value));
        }
        ps->cap = cap;
    }
    ps->stack[ps->sp++] = v;
}

static inline void skip_ws(parser *ps)
{
    const char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    ps->p = p;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* Decodes one escape at p (which points at the backslash) into sb; returns the
 * position after it, or NULL after reporting an error. */
static const char *parse_escape(parser *ps, const char *p, strbuf *sb)
{
    char tmp[8];
    char c = p[1];
    switch (c) {
    case '"':
        sb_addc(sb, '"');
        return p + 2;
    case '\\':
        sb_addc(sb, '\\');
        return p + 2;
    case '/':
        sb_addc(sb, '/');
        return p + 2;
    case 'b':
        sb_addc(sb, '\b');
        return p + 2;
    case 'f':
        sb_addc(sb, '\f');
        return p + 2;
    case 'n':
        sb_addc(sb, '\n');
        return p + 2;
    case 'r':
        sb_addc(sb, '\r');
        return p + 2;
    case 't':
        sb_addc(sb, '\t');
        return p + 2;
    case 'u':
        break;
    default:
        return fail(ps, p, "invalid escape '\\' followed by %s in string",
                    show_byte(tmp, (unsigned char)c)),
               NULL;
    }
    int cp = ps->end - p >= 6 ? hex4(p + 2) : -1;
    if (cp < 0)
        return fail(ps, p, "invalid \\u escape: expected 4 hex digits"), NULL;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(ps, p, "invalid \\u escape: lone low surrogate \\u%04X", (unsigned)cp), NULL;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        int lo = ps->end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(
                       ps, p,
                       "invalid \\u escape: high surrogate \\u%04X not followed by a low surrogate",
                       (unsigned)cp),
                   NULL;
        utf8_append(sb, 0x10000 + (((unsigned)cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00));
        return p + 12;
    }
    utf8_append(sb, (unsigned)cp);
    return p + 6;
}

/* Parses the string whose opening quote is at ps->p into *out. */
static bool parse_string(parser *ps, value *out)
{
    const char *open = ps->p;
    const unsigned char *q = (const unsigned char *)open + 1;
    const unsigned char *end = (const unsigned char *)ps->end;
    const unsigned char *s = q;
    char tmp[8];
    for (;;) {
        while (q < end && json_str_class[*q] == 0)
            q++;
        if (q >= end)
            return fail(ps, open, "unterminated string");
        switch (json_str_class[*q]) {
        case 1:
            *out = value_string((const char *)s, (size_t)(q - s));
            ps->p = (const char *)q + 1;
            return true;
        case 2:
            goto escaped;
        case 3:
            return fail(ps, (const char *)q, "control character U+%04X in string (must be escaped)",
                        *q);
        default: {
            size_t n = utf8_seq((const char *)q, (size_t)(end - q));
            if (!n)
                return fail(ps, (const char *)q, "invalid UTF-8 byte %s in string",
                            show_byte(tmp, *q));
            q += n;
        }
        }
    }
escaped:
    /* Slow path: the string has escapes, so it is decoded into sbuf. */
    sb_reset(&ps->sbuf);
    sb_add(&ps->sbuf, (const char *)s, (size_t)(q - s));
    for (;;) {
        const unsigned char *run = q;
        while (q < end && json_str_class[*q] == 0)
            q++;
        if (q > run)
            sb_add(&ps->sbuf, (const char *)run, (size_t)(q - run));
        if (q >= end)
            return fail(ps, open, "unterminated string");
        switch (json_str_class[*q]) {
        case 1:
            *out = value_string(ps->sbuf.buf, ps->sbuf.len);
            ps->p = (const char *)q + 1;
            return true;
        case 2: {
            if (q + 1 >= end)
                return fail(ps, open, "unterminated string");
            const char *next = parse_escape(ps, (const char *)q, &ps->sbuf);
            if (!next)
                return false;
            q = (const unsigned char *)next;
            break;
        }
        case 3:
            return fail(ps, (const char *)q, "control character U+%04X in string (must be escaped)",
                        *q);
        default: {
            size_t n = utf8_seq((const char *)q, (size_t)(end - q));
            if (!n)
                return fail(ps, (const char *)q, "invalid UTF-8 byte %s in string",
                            show_byte(tmp, *q));
            sb_add(&ps->sbuf, (const char *)q, n);
            q += n;
        }
        }
    }
}

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static bool is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

static bool parse_number(parser *ps, value *out)
{
    const char *n0 = ps->p, *p = n0, *end = ps->end;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (!is_digit(p, end))
        return fail(ps, p, "invalid number: expected a digit after '-'");

    /* Integer part, accumulated exactly while it fits in 64 bits. */
    uint64_t mant = 0;
    int sig = 0;           /* significant digits in mant (leading zeros excluded) */
    bool too_long = false; /* more digits than mant can hold exactly */
    if (*p == '0') {
        p++;
        if (is_digit(p, end))
            return fail(ps, n0, "invalid number: leading zeros are not allowed");
    } else {
        while (is_digit(p, end)) {
            unsigned d = (unsigned)(*p - '0');
            if (mant > (UINT64_MAX - d) / 10)
                too_long = true;
            else
                mant = mant * 10 + d, sig++;
            p++;
        }
    }
    bool is_double = false;
    int frac_digits = 0;
    if (p < end && *p == '.') {
        is_double = true;
        p++;
        if (!is_digit(p, end))
            return fail(ps, p, "invalid number: expected a digit after '.'");
        while (is_digit(p, end)) {
            unsigned d = (unsigned)(*p - '0');
            if (sig >= 19)
                too_long = true;
            else if (mant || d)
                mant = mant * 10 + d, sig++, frac_digits++;
            else
                frac_digits++; /* a leading zero of 0.000x: only moves the point */
            p++;
        }
    }
    int exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_double = true;
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (!is_digit(p, end))
            return fail(ps, p, "invalid number: expected a digit in the exponent");
        while (is_digit(p, end)) {
            if (exp10 < 100000) /* far beyond any double; strtod gets the digits anyway */
                exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            exp10 = -exp10;
    }

    if (!is_double) {
        if (too_long || mant > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
            return fail(ps, n0, "integer out of range (beyond 64-bit signed)");
        *out = value_int(neg ? (int64_t)(0 - mant) : (int64_t)mant);
        ps->p = p;
        return true;
    }

    double d;
    int e = exp10 - frac_digits;
    if (!too_long && mant <= (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
        d = e >= 0 ? (double)mant * pow10_exact[e] : (double)mant / pow10_exact[-e];
        if (neg)
            d = -d;
    } else {
        size_t n = (size_t)(p - n0);
        char small[128];
        char *buf = n < sizeof small ? small : xmalloc(n + 1);
        memcpy(buf, n0, n);
        buf[n] = '\0';
        d = strtod(buf, NULL);
        if (buf != small)
            free(buf);
        if (isinf(d))
            return fail(ps, n0, "number out of range (too large for a double)");
    }
    *out = value_double(d);
    ps->p = p;
    return true;
}

static bool parse_value(parser *ps);

static bool enter(parser *ps)
{
    if (++ps->depth > JSON_MAX_DEPTH)
        return fail(ps, ps->p, "nesting deeper than %d levels", JSON_MAX_DEPTH);
    ps->p++;
    return true;
}

static bool parse_array(parser *ps)
{
    if (!enter(ps))
        return false;
    size_t base = ps->sp;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            if (!parse_value(ps))
                return false;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == ']') {
                ps->p++;
                break;
            }
            return fail(ps, ps->p, "expected ',' or ']' after array element");
        }
    }
    size_t n = ps->sp - base;
    value list = value_list(n);
    if (n)
        memcpy(list.u.l->items, ps->stack + base, n * sizeof(value));
    list.u.l->len = n;
    ps->sp = base;
    push(ps, list);
    ps->depth--;
    return true;
}

static bool parse_object(parser *ps)
{
    if (!enter(ps))
        return false;
    size_t base = ps->sp;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        bool first = true;
        for (;;) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, ps->p,
                            first ? "expected a string key or '}'"
                                  : "expected a string key after ','");
            first = false;
            value key;
            if (!parse_string(ps, &key))
                return false;
            push(ps, key);
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, ps->p, "expected ':' after object key");
            ps->p++;
            if (!parse_value(ps))
                return false;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                break;
            }
            return fail(ps, ps->p, "expected ',' or '}' after object member");
        }
    }
    size_t n = (ps->sp - base) / 2;
    value map = value_map(n);
    /* value_map_setv handles duplicate keys (the last value wins, in the first
     * one's place) and builds the hash index for large objects. */
    for (size_t i = 0; i < n; i++)
        value_map_setv(&map, ps->stack[base + 2 * i], ps->stack[base + 2 * i + 1]);
    ps->sp = base;
    push(ps, map);
    ps->depth--;
    return true;
}

static bool parse_literal(parser *ps, const char *word, size_t n, value v)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, ps->p, "invalid literal (expected true, false or null)");
    ps->p += n;
    push(ps, v);
    return true;
}

/* Parses one value (after optional whitespace) and pushes it. */
static bool parse_value(parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, ps->p, "unexpected end of input, expected a value");
    value v;
    char tmp[8];
    switch (*ps->p) {
    case '{':
        return parse_object(ps);
    case '[':
        return parse_array(ps);
    case '"':
        if (!parse_string(ps, &v))
            return false;
        push(ps, v);
        return true;
    case 't':
        return parse_literal(ps, "true", 4, value_bool(true));
    case 'f':
        return parse_literal(ps, "false", 5, value_bool(false));
    case 'n':
        return parse_literal(ps, "null", 4, value_null());
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (!parse_number(ps, &v))
            return false;
        push(ps, v);
        return true;
    default:
        return fail(ps, ps->p, "unexpected character %s, expected a value",
                    show_byte(tmp, (unsigned char)*ps->p));
    }
}

int json_parse(const char *text, size_t len, value *out, err *e)
{
    parser ps;
    ps.start = ps.p = text;
    ps.end = text + len;
    ps.e = e;
    ps.depth = 0;
    ps.stack = ps.small;
    ps.sp = 0;
    ps.cap = sizeof ps.small / sizeof ps.small[0];
    sb_init(&ps.sbuf);
    bool ok = parse_value(&ps);
    if (ok) {
        skip_ws(&ps);
        if (ps.p < ps.end) {
            char tmp[8];
            ok = fail(&ps, ps.p, "unexpected %s after the JSON value",
                      show_byte(tmp, (unsigned char)*ps.p));
        }
    }
    if (ok)
        *out = ps.stack[0];
    else
        for (size_t i = 0; i < ps.sp; i++)
            value_free(ps.stack[i]);
    if (ps.stack != ps.small)
        free(ps.stack);
    sb_done(&ps.sbuf);
    return ok ? ST_OK : ST_ERR;
}

/* ---- writer ---- */

static void write_int(strbuf *sb, int64_t i)
{
    char buf[24], *p = buf + sizeof buf;
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--p = '-';
    sb_add(sb, p, (size_t)(buf + sizeof buf - p));
}

void json_write_double(strbuf *sb, double d)
{
    if (!isfinite(d)) {
        sb_add(sb, "null", 4);
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d)
            break;
    }
    sb_adds(sb, buf);
    /* Always a '.' or an exponent, so the text reads back as a double, not an int. */
    if (!strpbrk(buf, ".e"))
        sb_add(sb, ".0", 2);
}

void json_write_string(strbuf *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    sb_addc(sb, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && json_str_class[*p] == 0)
            p++;
        if (p > run)
            sb_add(sb, (const char *)run, (size_t)(p - run));
        if (p >= end)
            break;
        unsigned char c = *p;
        switch (json_str_class[c]) {
        case 1:
            sb_add(sb, "\\\"", 2);
            p++;
            break;
        case 2:
            sb_add(sb, "\\\\", 2);
            p++;
            break;
        case 3: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '\b':
                sb_add(sb, "\\b", 2);
                break;
            case '\f':
                sb_add(sb, "\\f", 2);
                break;
            case '\n':
                sb_add(sb, "\\n", 2);
                break;
            case '\r':
                sb_add(sb, "\\r", 2);
                break;
            case '\t':
                sb_add(sb, "\\t", 2);
                break;
            default:
                sb_add(sb, e, 6);
                break;
            }
            p++;
            break;
        }
        default: {
            /* Valid UTF-8 goes out raw. A string built in code with invalid bytes
             * gets U+FFFD for each bad byte, so the output is always valid JSON
             * (the parser would refuse anything else). */
            size_t n = utf8_seq((const char *)p, (size_t)(end - p));
            if (n) {
                sb_add(sb, (const char *)p, n);
                p += n;
            } else {
                sb_add(sb, "\xEF\xBF\xBD", 3);
                p++;
            }
        }
        }
    }
    sb_addc(sb, '"');
}

static void write_value(strbuf *sb, const value *v, int indent, int level);

static void newline_indent(strbuf *sb, int indent, int level)
{
    sb_addc(sb, '\n');
    for (int i = 0; i < indent * level; i++)
        sb_addc(sb, ' ');
}

/* indent == 0: compact; otherwise that many spaces per level. */
static void write_value(strbuf *sb, const value *v, int indent, int level)
{
    switch (v->type) {
    case V_NULL:
        sb_add(sb, "null", 4);
        break;
    case V_BOOL:
        v->u.b ? sb_add(sb, "true", 4) : sb_add(sb, "false", 5);
        break;
    case V_INT:
        write_int(sb, v->u.i);
        break;
    case V_DOUBLE:
        json_write_double(sb, v->u.d);
        break;
    case V_STRING:
        json_write_string(sb, v->u.s->text, v->u.s->len);
        break;
    case V_TIMESTAMP: {
        /* JSON has no instants: the canonical text, as a timestamp field stores it */
        char t[INSTANT_TEXT_LEN + 1];
        instant_format(v->u.i, (int32_t)v->ns, t);
        json_write_string(sb, t, INSTANT_TEXT_LEN);
        break;
    }
    case V_DURATION: {
        char t[DURATION_TEXT_MAX];
        size_t n = duration_format(v->u.i, t);
        json_write_string(sb, t, n);
        break;
    }
    case V_LIST: {
        size_t n = value_list_len(v);
        sb_addc(sb, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_addc(sb, ',');
            if (indent)
                newline_indent(sb, indent, level + 1);
            write_value(sb, value_list_at(v, i), indent, level + 1);
        }
        if (indent && n)
            newline_indent(sb, indent, level);
        sb_addc(sb, ']');
        break;
    }
    case V_MAP: {
        size_t n = value_map_len(v);
        sb_addc(sb, '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_addc(sb, ',');
            if (indent)
                newline_indent(sb, indent, level + 1);
            const value *k = value_map_key_at(v, i);
            json_write_string(sb, k->u.s->text, k->u.s->len);
            if (indent)
                sb_add(sb, ": ", 2);
            else
                sb_addc(sb, ':');
            write_value(sb, value_map_val_at(v, i), indent, level + 1);
        }
        if (indent && n)
            newline_indent(sb, indent, level);
        sb_addc(sb, '}');
        break;
    }
    }
}

void json_write(strbuf *sb, const value *v)
{
    write_value(sb, v, 0, 0);
}

void json_write_pretty(strbuf *sb, const value *v)
{
    write_value(sb, v, 2, 0);
}

char *json_to_string(const value *v)
{
    strbuf sb;
    sb_init(&sb);
    json_write(&sb, v);
    return sb_steal(&sb);
}
