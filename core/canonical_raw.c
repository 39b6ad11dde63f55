/* canonical_raw.c: a canonical NDJSON line read straight from its text (see
 * mapping.h, canonical_parse_raw).
 *
 * The full path parses every line into a value tree (json_parse), then
 * canonical_parse picks the members out of it and copies data and meta back out
 * of the raw text: the tree was half of a canonical import's own cost. This scan
 * finds the members in the text itself and only checks that data and meta are
 * JSON, building nothing. It takes only lines it is sure of, a subset of what
 * the full path accepts, and gives for them exactly the event the full path
 * gives; anything else (escapes in a key, a name or the time; \u escapes
 * anywhere; numbers with an exponent or too many digits; a value out of range; a
 * duplicate or unknown key; nesting deeper than FAST_DEPTH; anything invalid) is
 * left to the full path, which says what is wrong with it as it always has. */
#include <string.h>

#include "json.h"
#include "mapping.h"
#include "utf8.h"

#define FAST_DEPTH 64
#define FAIL ((size_t)-1)

static size_t ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    return i;
}

/* A string starting at s[i] == '"': the index after its closing quote, or FAIL.
 * With `escapes` the simple escapes (not \u) are allowed, else any backslash
 * fails. Bytes are checked as json.c checks them: no control characters, valid
 * UTF-8 (the same utf8_seq). */
static size_t str(const char *s, size_t len, size_t i, bool escapes)
{
    const unsigned char *u = (const unsigned char *)s;
    i++;
    for (;;) {
        while (i < len && !json_str_class[u[i]]) /* plain ASCII */
            i++;
        if (i >= len)
            return FAIL;
        unsigned char c = u[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return FAIL;
        if (c == '\\') {
            if (!escapes || i + 1 >= len || s[i + 1] == '\0' || !strchr("\"\\/bfnrt", s[i + 1]))
                return FAIL;
            i += 2;
        } else {
            size_t n = utf8_seq(s + i, len - i);
            if (!n)
                return FAIL;
            i += n;
        }
    }
}

static bool digit(const char *s, size_t len, size_t i)
{
    return i < len && s[i] >= '0' && s[i] <= '9';
}

/* A number at s[i]: the index after it, or FAIL. Only forms json.c reads
 * exactly and without a range error: an integer of at most 18 digits, or one
 * with a fraction (no exponent) of at most 40 digits in all. */
static size_t num(const char *s, size_t len, size_t i)
{
    size_t i0 = i;
    if (i < len && s[i] == '-')
        i++;
    if (!digit(s, len, i))
        return FAIL;
    if (s[i] == '0') {
        i++;
        if (digit(s, len, i))
            return FAIL;
    } else {
        while (digit(s, len, i))
            i++;
    }
    bool frac = false;
    if (i < len && s[i] == '.') {
        frac = true;
        i++;
        if (!digit(s, len, i))
            return FAIL;
        while (digit(s, len, i))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E'))
        return FAIL;
    if (i - i0 - (s[i0] == '-') > (frac ? 40u : 18u))
        return FAIL;
    return i;
}

/* Any JSON value at s[i] (whitespace skipped before it is the caller's): the
 * index after it, or FAIL. */
static size_t val(const char *s, size_t len, size_t i, int depth)
{
    if (i >= len)
        return FAIL;
    switch (s[i]) {
    case '"':
        return str(s, len, i, true);
    case '{':
    case '[': {
        if (depth >= FAST_DEPTH)
            return FAIL;
        char close = s[i] == '{' ? '}' : ']';
        i = ws(s, len, i + 1);
        if (i < len && s[i] == close)
            return i + 1;
        for (;;) {
            if (close == '}') {
                if (i >= len || s[i] != '"' || (i = str(s, len, i, true)) == FAIL)
                    return FAIL;
                i = ws(s, len, i);
                if (i >= len || s[i] != ':')
                    return FAIL;
                i = ws(s, len, i + 1);
            }
            if ((i = val(s, len, i, depth + 1)) == FAIL)
                return FAIL;
            i = ws(s, len, i);
            if (i >= len)
                return FAIL;
            if (s[i] == close)
                return i + 1;
            if (s[i] != ',')
                return FAIL;
            i = ws(s, len, i + 1);
        }
    }
    case 't':
        return len - i >= 4 && memcmp(s + i, "true", 4) == 0 ? i + 4 : FAIL;
    case 'f':
        return len - i >= 5 && memcmp(s + i, "false", 5) == 0 ? i + 5 : FAIL;
    case 'n':
        return len - i >= 4 && memcmp(s + i, "null", 4) == 0 ? i + 4 : FAIL;
    default:
        return num(s, len, i);
    }
}

/* An integer from 1 to 10^18 - 1 at s[i]: its value in *out, the index after it,
 * or FAIL. */
static size_t pos_int(const char *s, size_t len, size_t i, int64_t *out)
{
    if (i >= len || s[i] < '1' || s[i] > '9')
        return FAIL;
    int64_t v = 0;
    size_t i0 = i;
    while (digit(s, len, i) && i - i0 < 18)
        v = v * 10 + (s[i++] - '0');
    if (digit(s, len, i) || (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')))
        return FAIL;
    *out = v;
    return i;
}

static int key_of(const char *k, size_t n)
{
    switch (n) {
    case 4:
        return memcmp(k, "type", 4) == 0   ? CANON_TYPE
               : memcmp(k, "time", 4) == 0 ? CANON_TIME
               : memcmp(k, "data", 4) == 0 ? CANON_DATA
               : memcmp(k, "meta", 4) == 0 ? CANON_META
                                           : -1;
    case 6:
        return memcmp(k, "stream", 6) == 0   ? CANON_STREAM
               : memcmp(k, "schema", 6) == 0 ? CANON_SCHEMA
                                             : -1;
    case 7:
        return memcmp(k, "version", 7) == 0 ? CANON_VERSION : -1;
    case 8:
        return memcmp(k, "position", 8) == 0 ? CANON_POSITION : -1;
    }
    return -1;
}

bool canonical_parse_raw(const char *s, size_t len, struct mapped_event *out)
{
    memset(out, 0, sizeof *out);
    size_t span[CANON_NKEYS][2] = {{0}};
    unsigned seen = 0;
    int64_t version = 0, schema = 1, ignored;
    bool meta_null = false;
    size_t i = ws(s, len, 0);
    if (i >= len || s[i] != '{')
        return false;
    i = ws(s, len, i + 1);
    for (;;) {
        if (i >= len || s[i] != '"')
            return false;
        size_t ks = i + 1;
        if ((i = str(s, len, i, false)) == FAIL)
            return false;
        int k = key_of(s + ks, i - 1 - ks);
        if (k < 0 || (seen & (1u << k)))
            return false;
        seen |= 1u << k;
        i = ws(s, len, i);
        if (i >= len || s[i] != ':')
            return false;
        i = ws(s, len, i + 1);
        size_t vs = i;
        switch (k) {
        case CANON_POSITION:
            i = pos_int(s, len, i, &ignored);
            break;
        case CANON_VERSION:
            i = pos_int(s, len, i, &version);
            break;
        case CANON_SCHEMA:
            i = pos_int(s, len, i, &schema);
            if (i != FAIL && schema > 1000000)
                return false;
            break;
        case CANON_STREAM:
        case CANON_TYPE:
        case CANON_TIME:
            if (i >= len || s[i] != '"')
                return false;
            i = str(s, len, i, false);
            if (i != FAIL && i - vs == 2) /* empty */
                return false;
            break;
        case CANON_DATA:
            if (i >= len || s[i] != '{')
                return false;
            i = val(s, len, i, 0);
            break;
        case CANON_META:
            if (i < len && s[i] == 'n') {
                meta_null = true;
            } else if (i >= len || s[i] != '{') {
                return false;
            }
            i = val(s, len, i, 0);
            break;
        }
        if (i == FAIL)
            return false;
        span[k][0] = vs;
        span[k][1] = i;
        i = ws(s, len, i);
        if (i >= len)
            return false;
        if (s[i] == '}')
            break;
        if (s[i] != ',')
            return false;
        i = ws(s, len, i + 1);
    }
    if (ws(s, len, i + 1) != len)
        return false;
    const unsigned required = 1u << CANON_STREAM | 1u << CANON_VERSION | 1u << CANON_TYPE |
                              1u << CANON_TIME | 1u << CANON_DATA;
    if ((seen & required) != required)
        return false;
    const size_t *t = span[CANON_TIME];
    if (!time_parse(s + t[0] + 1, t[1] - t[0] - 2, 0, &out->time_ms))
        return false;
    time_format_ms(out->time_ms, out->time);
    out->version = version;
    out->schema = (int)schema;
    out->stream =
        xstrndup(s + span[CANON_STREAM][0] + 1, span[CANON_STREAM][1] - span[CANON_STREAM][0] - 2);
    out->type =
        xstrndup(s + span[CANON_TYPE][0] + 1, span[CANON_TYPE][1] - span[CANON_TYPE][0] - 2);
    out->data = xstrndup(s + span[CANON_DATA][0], span[CANON_DATA][1] - span[CANON_DATA][0]);
    if ((seen & 1u << CANON_META) && !meta_null)
        out->meta = xstrndup(s + span[CANON_META][0], span[CANON_META][1] - span[CANON_META][0]);
    return true;
}
