/* expr_fn.c: the built-in functions (expr_fn.h): size, int, double, string,
 * bool, now, put, remove and the string methods, with CEL's semantics and every result
 * charged to the evaluation's budget before it is built. Strings are UTF-8, so
 * sizes and substring indexes count code points (core/utf8.h).
 *
 * Choices where CEL leaves room, documented for users in `strata eval --help`:
 * `string()` formats a double as CEL's Go implementation does (shortest
 * round-trip digits, %g style: 1.5, 1e+06). Apart from the evaluator because
 * the functions are a library the tree walk calls, not part of the walk. */
#include "expr_fn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_time.h"
#include "utf8.h"

/* ---- UTF-8 helpers (strings in values are valid UTF-8) ---- */

/* Byte offset of code point index cp (cp <= number of code points). */
static size_t cp_offset(const char *s, size_t len, size_t cp)
{
    size_t i = 0;
    while (i < len && cp > 0) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        cp--;
    }
    return i;
}

static size_t cp_len_at(const char *s, size_t len, size_t i)
{
    size_t j = i + 1;
    while (j < len && ((unsigned char)s[j] & 0xC0) == 0x80)
        j++;
    return j - i;
}

/* Decodes the code point at s[i] (valid UTF-8 assumed; stray bytes read as themselves). */
static uint32_t cp_at(const char *s, size_t len, size_t i, size_t *n)
{
    unsigned char c = (unsigned char)s[i];
    *n = cp_len_at(s, len, i);
    if (c < 0x80 || *n == 1)
        return c;
    uint32_t cp = c & (*n == 2 ? 0x1F : *n == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < *n; k++)
        cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
    return cp;
}

/* Unicode White_Space, as CEL's trim() uses. */
static bool is_space_cp(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* ---- formatting ---- */

/* A double as CEL (cel-go, Go's %g with the shortest round-trip digits) writes
 * it: 1.5, 100000, 1e+06, 1.5e-07, -0.0045, NaN, +Inf, -Inf. */
static void format_double_cel(strbuf *sb, double d)
{
    if (isnan(d)) {
        sb_adds(sb, "NaN");
        return;
    }
    if (isinf(d)) {
        sb_adds(sb, d > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (d == 0) {
        sb_adds(sb, signbit(d) ? "-0" : "0");
        return;
    }
    char buf[64];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d || prec == 17)
            break;
    }
    /* buf is [-]D[.DDD]e[+-]XX: collect the digits and the exponent */
    char digits[32];
    int nd = 0;
    const char *q = buf;
    bool neg = *q == '-';
    if (neg)
        q++;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            digits[nd++] = *q;
    int exp = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (neg)
        sb_addc(sb, '-');
    if (exp < -4 || exp >= 6) {
        sb_addc(sb, digits[0]);
        if (nd > 1) {
            sb_addc(sb, '.');
            sb_add(sb, digits + 1, (size_t)nd - 1);
        }
        sb_addf(sb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return;
    }
    if (exp < 0) {
        sb_adds(sb, "0.");
        for (int i = -1; i > exp; i--)
            sb_addc(sb, '0');
        sb_add(sb, digits, (size_t)nd);
        return;
    }
    for (int i = 0; i <= exp; i++)
        sb_addc(sb, i < nd ? digits[i] : '0');
    if (nd > exp + 1) {
        sb_addc(sb, '.');
        sb_add(sb, digits + exp + 1, (size_t)(nd - exp - 1));
    }
}

/* Parses a whole string as a base-10 int64 (Go's strconv.ParseInt, as cel-go). */
static bool parse_int_str(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == len)
        return false;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool parse_double_str(const char *s, size_t len, double *out)
{
    if (len == 0 || len > 400 || memchr(s, 0, len))
        return false;
    char buf[401];
    memcpy(buf, s, len);
    buf[len] = 0;
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n' || buf[0] == '\r' || buf[0] == '\f' ||
        buf[0] == '\v')
        return false;
    char *end;
    double d = strtod(buf, &end);
    if (*end)
        return false;
    *out = d;
    return true;
}

static bool fn_overload(struct ectx *c, const struct node *n, const value *args, int nargs)
{
    strbuf sb;
    sb_init(&sb);
    const char *name = expr_fn_name(n->op);
    if (n->method) {
        sb_addf(&sb, "%s.%s(", ectx_tname(&args[0]), name);
        for (int i = 1; i < nargs; i++)
            sb_addf(&sb, "%s%s", i > 1 ? ", " : "", ectx_tname(&args[i]));
    } else {
        sb_addf(&sb, "%s(", name);
        for (int i = 0; i < nargs; i++)
            sb_addf(&sb, "%s%s", i ? ", " : "", ectx_tname(&args[i]));
    }
    sb_addc(&sb, ')');
    ectx_fail(c, n, "no such overload: %s", sb.buf);
    sb_done(&sb);
    return false;
}

static bool all_strings(const value *args, int nargs)
{
    for (int i = 0; i < nargs; i++)
        if (args[i].type != V_STRING)
            return false;
    return true;
}

/* CEL's optional limit of split() and replace() (args[i], when given): a
 * negative one is no limit (SIZE_MAX). Sets *max; false when it is not an int. */
static bool limit_arg(const value *args, int nargs, int i, size_t *max)
{
    *max = SIZE_MAX;
    if (nargs <= i)
        return true;
    if (args[i].type != V_INT)
        return false;
    if (args[i].u.i >= 0 && (uint64_t)args[i].u.i < SIZE_MAX)
        *max = (size_t)args[i].u.i;
    return true;
}

/* s.replace(old, new[, n]): every occurrence, or the first n; an empty `old`
 * matches at every code point boundary (as Go's strings.Replace, which cel-go
 * uses). */
static bool fn_replace(struct ectx *c, const struct node *n, const value *args, int nargs,
                       value *out)
{
    const char *s = value_str(&args[0]), *o = value_str(&args[1]), *w = value_str(&args[2]);
    size_t ls = value_strlen(&args[0]), lo = value_strlen(&args[1]), lw = value_strlen(&args[2]);
    size_t max, count = 0;
    if (!limit_arg(args, nargs, 3, &max))
        return fn_overload(c, n, args, nargs);
    if (lo == 0) {
        count = utf8_count(s, ls) + 1;
    } else {
        for (size_t i = 0; i + lo <= ls && count < max;) {
            if (memcmp(s + i, o, lo) == 0) {
                count++;
                i += lo;
            } else {
                i++;
            }
        }
    }
    if (count > max)
        count = max;
    /* size before building, so that repeated replaces cannot grow without bound */
    double total = (double)ls - (double)count * (double)lo + (double)count * (double)lw;
    if (total > EXPR_MAX_RESULT)
        return ectx_too_large(c, n, (size_t)total, "bytes");
    if (!ectx_charge_string(c, n, (size_t)total))
        return false;
    strbuf sb;
    sb_init(&sb);
    size_t done = 0;
    if (lo == 0) {
        for (size_t i = 0; i < ls;) {
            size_t k = cp_len_at(s, ls, i);
            if (done < count) {
                sb_add(&sb, w, lw);
                done++;
            }
            sb_add(&sb, s + i, k);
            i += k;
        }
        if (done < count)
            sb_add(&sb, w, lw);
    } else {
        for (size_t i = 0; i < ls;) {
            if (done < count && i + lo <= ls && memcmp(s + i, o, lo) == 0) {
                sb_add(&sb, w, lw);
                i += lo;
                done++;
            } else {
                sb_addc(&sb, s[i]);
                i++;
            }
        }
    }
    *out = ectx_str(sb.buf, sb.len);
    sb_done(&sb);
    return true;
}

/* s.split(sep[, n]): as Go's strings.SplitN, which cel-go uses: at most n
 * parts (the last one the rest of s), none when n is 0, all when n < 0. */
static bool fn_split(struct ectx *c, const struct node *n, const value *args, int nargs, value *out)
{
    const char *s = value_str(&args[0]), *sep = value_str(&args[1]);
    size_t ls = value_strlen(&args[0]), lsep = value_strlen(&args[1]);
    size_t max, parts = 1;
    if (!limit_arg(args, nargs, 2, &max))
        return fn_overload(c, n, args, nargs);
    if (max == 0) {
        *out = value_list(0);
        return true;
    }
    if (lsep == 0) {
        parts = utf8_count(s, ls);
    } else {
        for (size_t i = 0; i + lsep <= ls && parts < max;) {
            if (memcmp(s + i, sep, lsep) == 0) {
                parts++;
                i += lsep;
            } else {
                i++;
            }
        }
    }
    if (parts > max)
        parts = max;
    if (parts > EXPR_MAX_RESULT)
        return ectx_too_large(c, n, parts, "elements");
    if (!ectx_charge(c, n, parts + ls / EXPR_BYTES_PER_UNIT))
        return false;
    value l = value_list(parts);
    if (lsep == 0) {
        size_t i = 0;
        for (size_t k = 0; k + 1 < parts; k++) {
            size_t cl = cp_len_at(s, ls, i);
            value_list_push(&l, value_string(s + i, cl));
            i += cl;
        }
        if (parts) /* the last part: the rest (one code point when there is no limit) */
            value_list_push(&l, ectx_str(s + i, ls - i));
    } else {
        size_t from = 0, got = 1;
        for (size_t i = 0; i + lsep <= ls && got < parts;) {
            if (memcmp(s + i, sep, lsep) == 0) {
                got++;
                value_list_push(&l, ectx_str(s + from, i - from));
                i += lsep;
                from = i;
            } else {
                i++;
            }
        }
        value_list_push(&l, ectx_str(s + from, ls - from));
    }
    *out = l;
    return true;
}

bool expr_call(struct ectx *c, const struct node *n, value *args, int nargs, value *out)
{
    int timed = expr_time_call(c, n, args, nargs, out);
    if (timed >= 0)
        return timed > 0;
    value *a = args;
    switch (n->op) {
    case FN_SIZE:
        if (a->type == V_STRING)
            *out = value_int((int64_t)utf8_count(value_str(a), value_strlen(a)));
        else if (a->type == V_LIST)
            *out = value_int((int64_t)value_list_len(a));
        else if (a->type == V_MAP)
            *out = value_int((int64_t)value_map_len(a));
        else
            return fn_overload(c, n, args, nargs);
        return true;
    case FN_INT:
        if (a->type == V_INT) {
            *out = value_int(a->u.i);
        } else if (a->type == V_DOUBLE) {
            double d = trunc(a->u.d);
            /* (-2^63, 2^63), as cel-spec: -2^63 fits an int64 but is refused too,
             * because cel-go's check compares with the bounds as doubles */
            if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0))
                return ectx_fail(c, n, "int() range error: %g does not fit in an int", a->u.d);
            *out = value_int((int64_t)d);
        } else if (a->type == V_STRING) {
            int64_t v;
            if (!parse_int_str(value_str(a), value_strlen(a), &v)) {
                strbuf sb;
                sb_init(&sb);
                ectx_describe(&sb, a);
                ectx_fail(c, n, "int() cannot convert %s to an int", sb.buf);
                sb_done(&sb);
                return false;
            }
            *out = value_int(v);
        } else {
            return fn_overload(c, n, args, nargs);
        }
        return true;
    case FN_DOUBLE:
        if (a->type == V_INT) {
            *out = value_double((double)a->u.i);
        } else if (a->type == V_DOUBLE) {
            *out = value_double(a->u.d);
        } else if (a->type == V_STRING) {
            double d;
            if (!parse_double_str(value_str(a), value_strlen(a), &d)) {
                strbuf sb;
                sb_init(&sb);
                ectx_describe(&sb, a);
                ectx_fail(c, n, "double() cannot convert %s to a double", sb.buf);
                sb_done(&sb);
                return false;
            }
            *out = value_double(d);
        } else {
            return fn_overload(c, n, args, nargs);
        }
        return true;
    case FN_STRING: {
        char buf[32];
        switch (a->type) {
        case V_STRING:
            *out = value_ref(a);
            return true;
        case V_BOOL:
            *out = value_cstring(a->u.b ? "true" : "false");
            return true;
        case V_INT:
            snprintf(buf, sizeof buf, "%lld", (long long)a->u.i);
            *out = value_cstring(buf);
            return true;
        case V_DOUBLE: {
            strbuf sb;
            sb_init(&sb);
            format_double_cel(&sb, a->u.d);
            *out = value_string(sb.buf, sb.len);
            sb_done(&sb);
            return true;
        }
        default:
            return fn_overload(c, n, args, nargs);
        }
    }
    case FN_BOOL:
        if (a->type == V_BOOL) {
            *out = value_bool(a->u.b);
        } else if (a->type == V_STRING) {
            /* the spellings cel-spec accepts; others ("TrUe", "yes") are errors */
            static const char *const spellings[] = {"1", "t", "true",  "TRUE",  "True",
                                                    "0", "f", "false", "FALSE", "False"};
            size_t k = 0, nsp = sizeof spellings / sizeof spellings[0];
            while (k < nsp && !(strlen(spellings[k]) == value_strlen(a) &&
                                memcmp(spellings[k], value_str(a), value_strlen(a)) == 0))
                k++;
            if (k == nsp) {
                strbuf sb;
                sb_init(&sb);
                ectx_describe(&sb, a);
                ectx_fail(c, n, "bool() cannot convert %s to a bool", sb.buf);
                sb_done(&sb);
                return false;
            }
            *out = value_bool(k < nsp / 2);
        } else {
            return fn_overload(c, n, args, nargs);
        }
        return true;
    case FN_PUT:
        if (a->type != V_MAP || args[1].type != V_STRING)
            return fn_overload(c, n, args, nargs);
        if (value_map_len(a) + 1 > EXPR_MAX_RESULT)
            return ectx_too_large(c, n, value_map_len(a) + 1, "entries");
        if (!ectx_charge(c, n, value_map_len(a)))
            return false;
        *out = args[0];
        args[0] = value_null();
        value_map_setv(out, args[1], args[2]);
        args[1] = value_null();
        args[2] = value_null();
        return true;
    case FN_REMOVE:
        if (a->type == V_MAP) {
            if (!ectx_charge(c, n, value_map_len(a)))
                return false;
            *out = args[0];
            args[0] = value_null();
            value_map_remove_key(out, &args[1]); /* a key of another type is not there */
            return true;
        }
        if (a->type == V_LIST) {
            size_t len = value_list_len(a);
            if (!ectx_charge(c, n, len))
                return false;
            value l = value_list(len);
            for (size_t i = 0; i < len; i++)
                if (!value_equal_cel(value_list_at(a, i), &args[1]))
                    value_list_push(&l, value_ref(value_list_at(a, i)));
            *out = l;
            return true;
        }
        return fn_overload(c, n, args, nargs);
    default:
        break;
    }
    /* the string methods (the int arguments are checked by each) */
    if (!all_strings(args, n->op == FN_SUBSTRING ? 1
                           : n->op == FN_REPLACE ? 3
                           : n->op == FN_SPLIT   ? 2
                                                 : nargs))
        return fn_overload(c, n, args, nargs);
    const char *s = value_str(a);
    size_t ls = value_strlen(a);
    switch (n->op) {
    case FN_CONTAINS:
    case FN_STARTS_WITH:
    case FN_ENDS_WITH: {
        const char *t = value_str(&args[1]);
        size_t lt = value_strlen(&args[1]);
        bool r = false;
        if (lt <= ls) {
            if (n->op == FN_STARTS_WITH)
                r = memcmp(s, t, lt) == 0;
            else if (n->op == FN_ENDS_WITH)
                r = memcmp(s + ls - lt, t, lt) == 0;
            else
                r = lt == 0 || memmem(s, ls, t, lt) != NULL;
        }
        if (!ectx_charge(c, n, ls / EXPR_BYTES_PER_UNIT))
            return false;
        *out = value_bool(r);
        return true;
    }
    case FN_LOWER_ASCII:
    case FN_UPPER_ASCII: {
        if (!ectx_charge_string(c, n, ls))
            return false;
        char *buf = xmalloc(ls + 1);
        for (size_t i = 0; i < ls; i++) {
            char ch = s[i];
            if (n->op == FN_LOWER_ASCII && ch >= 'A' && ch <= 'Z')
                ch = (char)(ch - 'A' + 'a');
            else if (n->op == FN_UPPER_ASCII && ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 'a' + 'A');
            buf[i] = ch;
        }
        *out = value_string(buf, ls);
        free(buf);
        return true;
    }
    case FN_TRIM: {
        size_t from = 0, to = ls, k;
        while (from < ls && is_space_cp(cp_at(s, ls, from, &k)))
            from += k;
        while (to > from) {
            size_t b = to - 1;
            while (b > from && ((unsigned char)s[b] & 0xC0) == 0x80)
                b--;
            if (!is_space_cp(cp_at(s, ls, b, &k)))
                break;
            to = b;
        }
        if (!ectx_charge_string(c, n, to - from))
            return false;
        *out = ectx_str(s + from, to - from);
        return true;
    }
    case FN_SUBSTRING: {
        for (int i = 1; i < nargs; i++)
            if (args[i].type != V_INT)
                return fn_overload(c, n, args, nargs);
        size_t cps = utf8_count(s, ls);
        int64_t from = args[1].u.i, to = nargs > 2 ? args[2].u.i : (int64_t)cps;
        if (from < 0 || (uint64_t)from > cps)
            return ectx_fail(c, n,
                             "substring() index out of range: %lld (the string has %zu characters)",
                             (long long)from, cps);
        if (to < 0 || (uint64_t)to > cps)
            return ectx_fail(c, n,
                             "substring() index out of range: %lld (the string has %zu characters)",
                             (long long)to, cps);
        if (to < from)
            return ectx_fail(c, n, "substring() end %lld is before start %lld", (long long)to,
                             (long long)from);
        size_t bf = cp_offset(s, ls, (size_t)from);
        size_t bt = bf + cp_offset(s + bf, ls - bf, (size_t)(to - from));
        if (!ectx_charge_string(c, n, bt - bf))
            return false;
        *out = ectx_str(s + bf, bt - bf);
        return true;
    }
    case FN_REPLACE:
        return fn_replace(c, n, args, nargs, out);
    case FN_SPLIT:
        return fn_split(c, n, args, nargs, out);
    default:
        return ectx_fail(c, n, "internal error: unknown function");
    }
}
