/* cloudevents.c: the CloudEvents 1.0 rules (JSON format) that the cloudevents
 * reader checks each event against: required and optional attributes, their
 * types, URI and media-type syntax, RFC 3339 times, base64 data, extension
 * attribute names and values. Pure checks over a `value`; reading files is
 * reader.c's. */
#include "cloudevents.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

static bool two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

bool rfc3339_check(const char *s, size_t len)
{
    /* YYYY-MM-DDTHH:MM:SS[.F+](Z|+HH:MM|-HH:MM) */
    if (len < 20)
        return false;
    int y1, y2, mo, d, h, mi, sec;
    if (!two_digits(s, &y1) || !two_digits(s + 2, &y2) || s[4] != '-' || !two_digits(s + 5, &mo) ||
        s[7] != '-' || !two_digits(s + 8, &d) || (s[10] != 'T' && s[10] != 't') ||
        !two_digits(s + 11, &h) || s[13] != ':' || !two_digits(s + 14, &mi) || s[16] != ':' ||
        !two_digits(s + 17, &sec))
        return false;
    int y = y1 * 100 + y2;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return false;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    size_t p = 19;
    if (p < len && s[p] == '.') {
        size_t start = ++p;
        while (p < len && s[p] >= '0' && s[p] <= '9')
            p++;
        if (p == start)
            return false;
    }
    if (p == len)
        return false;
    if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == len)
        return true;
    if ((s[p] == '+' || s[p] == '-') && p + 6 == len) {
        int oh, om;
        return two_digits(s + p + 1, &oh) && s[p + 3] == ':' && two_digits(s + p + 4, &om) &&
               oh <= 23 && om <= 59;
    }
    return false;
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static bool is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 characters: unreserved, reserved, and percent-encoded octets. */
static bool uri_chars_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (is_alpha(c) || is_digit(c) || strchr("-._~:/?#[]@!$&'()*+,;=", c))
            continue;
        if (c == '%' && i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

/* Length of a valid scheme at the start of s followed by ':', else 0. */
static size_t uri_scheme_len(const char *s, size_t len)
{
    if (len == 0 || !is_alpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (i < len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
                       s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    return i < len && s[i] == ':' ? i : 0;
}

static bool uri_reference_ok(const char *s, size_t len)
{
    if (len == 0 || !uri_chars_ok(s, len))
        return false;
    /* A ':' before any '/', '?' or '#' must end a scheme (RFC 3986 path-noscheme). */
    size_t colon = strcspn(s, ":/?#");
    if (colon < len && s[colon] == ':')
        return uri_scheme_len(s, len) == colon;
    return true;
}

static bool uri_absolute_ok(const char *s, size_t len)
{
    return len > 0 && uri_chars_ok(s, len) && uri_scheme_len(s, len) > 0;
}

/* RFC 2045 token characters (media types are RFC 2046 type/subtype). */
static bool token_char(int c)
{
    return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?=", c);
}

static bool media_type_ok(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && token_char((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= len || s[i] != '/')
        return false;
    size_t sub = ++i;
    while (i < len && token_char((unsigned char)s[i]))
        i++;
    if (i == sub)
        return false;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == len)
        return true;
    if (s[i] != ';')
        return false;
    for (; i < len; i++)
        if ((unsigned char)s[i] < 32 && s[i] != '\t')
            return false;
    return true;
}

static bool base64_ok(const char *s, size_t len)
{
    if (len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (is_alpha(c) || is_digit(c) || c == '+' || c == '/')
            continue;
        if (c == '=' && (i == len - 1 || (i == len - 2 && s[len - 1] == '=')))
            continue;
        return false;
    }
    return true;
}

/* Says which rule the event breaks; always false, so checks can `return fail_reason(...)`. */
static bool fail_reason(err *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail_reason(err *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset_at(why, ST_ERR, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return false;
}

/* A present, non-null attribute, or NULL. */
static const value *ce_attr(const value *ev, const char *name)
{
    const value *v = value_map_get(ev, name);
    return v && v->type != V_NULL ? v : NULL;
}

/* Checks an attribute that must be a non-empty string when present. */
static bool ce_string(const value *ev, const char *name, bool required, const value **out, err *why)
{
    const value *v = ce_attr(ev, name);
    *out = v;
    if (!v)
        return required ? fail_reason(why, "missing required attribute '%s'", name) : true;
    if (v->type != V_STRING)
        return fail_reason(why, "attribute '%s' must be a string, got %s", name,
                           vtype_name(v->type));
    if (value_strlen(v) == 0)
        return fail_reason(why, "attribute '%s' must not be empty", name);
    return true;
}

bool cloudevents_check(const value *ev, err *why)
{
    if (ev->type != V_MAP)
        return fail_reason(why, "a CloudEvent must be a JSON object, got %s", vtype_name(ev->type));
    const value *v;
    if (!ce_string(ev, "specversion", true, &v, why))
        return false;
    if (strcmp(value_str(v), "1.0") != 0)
        return fail_reason(why, "unsupported specversion '%.40s' (expected \"1.0\")", value_str(v));
    for (size_t i = 0; i < value_map_len(ev); i++) {
        const value *k = value_map_key_at(ev, i);
        const char *name = value_str(k);
        size_t len = value_strlen(k);
        if (strcmp(name, "data") == 0 || strcmp(name, "data_base64") == 0)
            continue;
        bool ok = len > 0;
        for (size_t j = 0; j < len && ok; j++)
            ok = (name[j] >= 'a' && name[j] <= 'z') || is_digit(name[j]);
        if (!ok)
            return fail_reason(
                why, "attribute name '%.60s' is not made of lowercase letters and digits", name);
    }
    if (!ce_string(ev, "id", true, &v, why))
        return false;
    if (!ce_string(ev, "source", true, &v, why))
        return false;
    if (!uri_reference_ok(value_str(v), value_strlen(v)))
        return fail_reason(why, "attribute 'source' is not a URI-reference: '%.80s'", value_str(v));
    if (!ce_string(ev, "type", true, &v, why))
        return false;
    if (!ce_string(ev, "datacontenttype", false, &v, why))
        return false;
    if (v && !media_type_ok(value_str(v), value_strlen(v)))
        return fail_reason(
            why, "attribute 'datacontenttype' is not a media type (RFC 2046 type/subtype): '%.80s'",
            value_str(v));
    if (!ce_string(ev, "dataschema", false, &v, why))
        return false;
    if (v && !uri_absolute_ok(value_str(v), value_strlen(v)))
        return fail_reason(why, "attribute 'dataschema' is not an absolute URI: '%.80s'",
                           value_str(v));
    if (!ce_string(ev, "subject", false, &v, why))
        return false;
    if (!ce_string(ev, "time", false, &v, why))
        return false;
    if (v && !rfc3339_check(value_str(v), value_strlen(v)))
        return fail_reason(why, "attribute 'time' is not an RFC 3339 timestamp: '%.80s'",
                           value_str(v));
    const value *data = ce_attr(ev, "data");
    const value *b64 = ce_attr(ev, "data_base64");
    if (data && b64)
        return fail_reason(why, "has both 'data' and 'data_base64' (at most one is allowed)");
    if (b64 && (b64->type != V_STRING || !base64_ok(value_str(b64), value_strlen(b64))))
        return fail_reason(why, "'data_base64' must be a base64 string");
    static const char *const core[] = {
        "specversion", "id",      "source", "type", "datacontenttype",
        "dataschema",  "subject", "time",   "data", "data_base64"};
    for (size_t i = 0; i < value_map_len(ev); i++) {
        const char *name = value_str(value_map_key_at(ev, i));
        bool is_core = false;
        for (size_t j = 0; j < sizeof core / sizeof core[0] && !is_core; j++)
            is_core = strcmp(name, core[j]) == 0;
        if (is_core)
            continue;
        const value *x = value_map_val_at(ev, i);
        switch (x->type) {
        case V_NULL:
        case V_STRING:
        case V_BOOL:
            break;
        case V_INT:
            if (x->u.i < INT32_MIN || x->u.i > INT32_MAX)
                return fail_reason(
                    why, "extension attribute '%.40s' is an integer outside the 32-bit range",
                    name);
            break;
        default:
            return fail_reason(
                why,
                "extension attribute '%.40s' must be a string, an integer or a boolean, got %s",
                name, vtype_name(x->type));
        }
    }
    return true;
}
