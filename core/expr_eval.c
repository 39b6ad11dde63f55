/* expr_eval.c: evaluates compiled expressions (expr_internal.h) with CEL's
 * semantics, and explains failed conditions.
 *
 * Every node visited costs one unit of the evaluation's budget, every element a
 * list, map or macro produces or ranges over costs one more, and strings cost one
 * unit per EXPR_BYTES_PER_UNIT bytes they make; no result may exceed
 * EXPR_MAX_RESULT elements or bytes. Together with the tree's height cap this
 * makes every evaluation terminate quickly in bounded memory, whatever the
 * expression. Running out of budget or building something too large is "fatal":
 * unlike other errors it is never absorbed by && or ||, so a hostile expression
 * cannot hide it.
 *
 * Choices where CEL leaves room, documented for users in `strata eval --help`:
 * values of different types are never equal (`1 == 1.0` is false: Strata keeps
 * ints and doubles apart everywhere); `string()` formats a double as CEL's Go
 * implementation does (shortest round-trip digits, %g style: 1.5, 1e+06). */
#include "expr_internal.h"

#include "json.h"
#include "utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const macro_name[] = {"all", "exists", "exists_one", "map", "filter"};
static const char *const op_sym[] = {"+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in"};

struct ectx {
    const struct expr_vars *vars; /* NULL: every root is null */
    int64_t budget;               /* units left */
    int64_t budget_total;
    const value *locals[EXPR_MAX_DEPTH];
    int err_col;
    bool fatal;
    char msg[480];
};

static bool __attribute__((format(printf, 3, 4))) efail(struct ectx *c, const struct node *n, const char *fmt, ...)
{
    c->err_col = n->column;
    c->fatal = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return false;
}

static bool too_large(struct ectx *c, const struct node *n, size_t size, const char *unit)
{
    efail(c, n, "result too large (%zu %s; at most %d)", size, unit, EXPR_MAX_RESULT);
    c->fatal = true;
    return false;
}

static bool charge(struct ectx *c, const struct node *n, size_t units)
{
    if ((int64_t)units <= c->budget) {
        c->budget -= (int64_t)units;
        return true;
    }
    c->budget = -1;
    efail(c, n, "evaluation budget exhausted (more than %lld steps)", (long long)c->budget_total);
    c->fatal = true;
    return false;
}

static bool charge_string(struct ectx *c, const struct node *n, size_t len)
{
    if (len > EXPR_MAX_RESULT)
        return too_large(c, n, len, "bytes");
    return charge(c, n, len / EXPR_BYTES_PER_UNIT);
}

static const char *tname(const value *v) { return vtype_name(v->type); }

static value str_value(const char *s, size_t len) { return value_string(len ? s : "", len); }

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
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
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

/* A value for messages: JSON, cut short when long. */
static void describe(strbuf *sb, const value *v)
{
    strbuf t;
    sb_init(&t);
    json_write(&t, v);
    if (t.len > 60) {
        size_t cut = 57;
        while (cut > 0 && ((unsigned char)t.buf[cut] & 0xC0) == 0x80)
            cut--;
        sb_add(sb, t.buf, cut);
        sb_adds(sb, "...");
    } else {
        sb_add(sb, t.buf ? t.buf : "", t.len);
    }
    sb_done(&t);
}

/* ---- evaluation ---- */

static bool ev(struct ectx *c, const struct node *n, value *out);

static bool no_overload_bin(struct ectx *c, const struct node *n, const value *a, const value *b)
{
    return efail(c, n, "no such overload: %s %s %s", tname(a), op_sym[n->op], tname(b));
}

static int cmp_values(const value *a, const value *b)
{
    switch (a->type) {
    case V_BOOL: return (int)a->u.b - (int)b->u.b;
    case V_INT: return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    case V_STRING: {
        size_t la = value_strlen(a), lb = value_strlen(b);
        int r = memcmp(value_str(a), value_str(b), la < lb ? la : lb);
        return r ? r : la < lb ? -1 : la > lb;
    }
    default: return 0;
    }
}

/* a OP b, both owned by the caller. */
static bool ev_bin(struct ectx *c, const struct node *n, const value *a, const value *b, value *out)
{
    int op = n->op;
    if (op == OP_EQ || op == OP_NE) {
        bool eq = value_equal(a, b);
        *out = value_bool(op == OP_EQ ? eq : !eq);
        return true;
    }
    if (op == OP_IN) {
        if (b->type == V_LIST) {
            size_t len = value_list_len(b);
            for (size_t i = 0; i < len; i++) {
                if (!charge(c, n, 1))
                    return false;
                if (value_equal(a, value_list_at(b, i))) {
                    *out = value_bool(true);
                    return true;
                }
            }
            *out = value_bool(false);
            return true;
        }
        if (b->type == V_MAP) {
            *out = value_bool(a->type == V_STRING && value_map_getn(b, value_str(a), value_strlen(a)) != NULL);
            return true;
        }
        return no_overload_bin(c, n, a, b);
    }
    if (a->type != b->type)
        return no_overload_bin(c, n, a, b);
    if (op >= OP_LT) {
        bool r;
        if (a->type == V_DOUBLE) {
            double x = a->u.d, y = b->u.d;
            r = op == OP_LT ? x < y : op == OP_LE ? x <= y : op == OP_GT ? x > y : x >= y;
        } else if (a->type == V_INT || a->type == V_STRING || a->type == V_BOOL) {
            int k = cmp_values(a, b);
            r = op == OP_LT ? k < 0 : op == OP_LE ? k <= 0 : op == OP_GT ? k > 0 : k >= 0;
        } else {
            return no_overload_bin(c, n, a, b);
        }
        *out = value_bool(r);
        return true;
    }
    switch (a->type) {
    case V_INT: {
        int64_t x = a->u.i, y = b->u.i, r;
        bool ovf = false;
        switch (op) {
        case OP_ADD: ovf = __builtin_add_overflow(x, y, &r); break;
        case OP_SUB: ovf = __builtin_sub_overflow(x, y, &r); break;
        case OP_MUL: ovf = __builtin_mul_overflow(x, y, &r); break;
        case OP_DIV:
            if (y == 0)
                return efail(c, n, "division by zero");
            ovf = x == INT64_MIN && y == -1;
            r = ovf ? 0 : x / y;
            break;
        default: /* OP_MOD */
            if (y == 0)
                return efail(c, n, "modulus by zero");
            ovf = x == INT64_MIN && y == -1;
            r = ovf ? 0 : x % y;
            break;
        }
        if (ovf)
            return efail(c, n, "integer overflow");
        *out = value_int(r);
        return true;
    }
    case V_DOUBLE: {
        double x = a->u.d, y = b->u.d;
        switch (op) {
        case OP_ADD: *out = value_double(x + y); return true;
        case OP_SUB: *out = value_double(x - y); return true;
        case OP_MUL: *out = value_double(x * y); return true;
        case OP_DIV: *out = value_double(x / y); return true;
        default: return no_overload_bin(c, n, a, b);
        }
    }
    case V_STRING: {
        if (op != OP_ADD)
            return no_overload_bin(c, n, a, b);
        size_t la = value_strlen(a), lb = value_strlen(b);
        if (!charge_string(c, n, la + lb))
            return false;
        char *buf = xmalloc(la + lb + 1);
        memcpy(buf, value_str(a), la);
        memcpy(buf + la, value_str(b), lb);
        *out = value_string(buf, la + lb);
        free(buf);
        return true;
    }
    case V_LIST: {
        if (op != OP_ADD)
            return no_overload_bin(c, n, a, b);
        size_t la = value_list_len(a), lb = value_list_len(b);
        if (la + lb > EXPR_MAX_RESULT)
            return too_large(c, n, la + lb, "elements");
        if (!charge(c, n, la + lb))
            return false;
        value l = value_list(la + lb);
        for (size_t i = 0; i < la; i++)
            value_list_push(&l, value_ref(value_list_at(a, i)));
        for (size_t i = 0; i < lb; i++)
            value_list_push(&l, value_ref(value_list_at(b, i)));
        *out = l;
        return true;
    }
    default:
        return no_overload_bin(c, n, a, b);
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
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n' || buf[0] == '\r' || buf[0] == '\f' || buf[0] == '\v')
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
        sb_addf(&sb, "%s.%s(", tname(&args[0]), name);
        for (int i = 1; i < nargs; i++)
            sb_addf(&sb, "%s%s", i > 1 ? ", " : "", tname(&args[i]));
    } else {
        sb_addf(&sb, "%s(", name);
        for (int i = 0; i < nargs; i++)
            sb_addf(&sb, "%s%s", i ? ", " : "", tname(&args[i]));
    }
    sb_addc(&sb, ')');
    efail(c, n, "no such overload: %s", sb.buf);
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

/* s.replace(old, new): every occurrence; an empty `old` matches at every code
 * point boundary (as Go's strings.Replace, which cel-go uses). */
static bool fn_replace(struct ectx *c, const struct node *n, const value *args, value *out)
{
    const char *s = value_str(&args[0]), *o = value_str(&args[1]), *w = value_str(&args[2]);
    size_t ls = value_strlen(&args[0]), lo = value_strlen(&args[1]), lw = value_strlen(&args[2]);
    size_t count = 0;
    if (lo == 0) {
        count = utf8_count(s, ls) + 1;
    } else {
        for (size_t i = 0; i + lo <= ls;) {
            if (memcmp(s + i, o, lo) == 0) {
                count++;
                i += lo;
            } else {
                i++;
            }
        }
    }
    /* size before building, so that repeated replaces cannot grow without bound */
    double total = (double)ls - (double)count * (double)lo + (double)count * (double)lw;
    if (total > EXPR_MAX_RESULT)
        return too_large(c, n, (size_t)total, "bytes");
    if (!charge_string(c, n, (size_t)total))
        return false;
    strbuf sb;
    sb_init(&sb);
    if (lo == 0) {
        for (size_t i = 0; i < ls;) {
            size_t k = cp_len_at(s, ls, i);
            sb_add(&sb, w, lw);
            sb_add(&sb, s + i, k);
            i += k;
        }
        sb_add(&sb, w, lw);
    } else {
        for (size_t i = 0; i < ls;) {
            if (i + lo <= ls && memcmp(s + i, o, lo) == 0) {
                sb_add(&sb, w, lw);
                i += lo;
            } else {
                sb_addc(&sb, s[i]);
                i++;
            }
        }
    }
    *out = str_value(sb.buf, sb.len);
    sb_done(&sb);
    return true;
}

static bool fn_split(struct ectx *c, const struct node *n, const value *args, value *out)
{
    const char *s = value_str(&args[0]), *sep = value_str(&args[1]);
    size_t ls = value_strlen(&args[0]), lsep = value_strlen(&args[1]);
    size_t parts = 1;
    if (lsep == 0) {
        parts = utf8_count(s, ls);
    } else {
        for (size_t i = 0; i + lsep <= ls;) {
            if (memcmp(s + i, sep, lsep) == 0) {
                parts++;
                i += lsep;
            } else {
                i++;
            }
        }
    }
    if (parts > EXPR_MAX_RESULT)
        return too_large(c, n, parts, "elements");
    if (!charge(c, n, parts + ls / EXPR_BYTES_PER_UNIT))
        return false;
    value l = value_list(parts);
    if (lsep == 0) {
        for (size_t i = 0; i < ls;) {
            size_t k = cp_len_at(s, ls, i);
            value_list_push(&l, value_string(s + i, k));
            i += k;
        }
    } else {
        size_t from = 0;
        for (size_t i = 0; i + lsep <= ls;) {
            if (memcmp(s + i, sep, lsep) == 0) {
                value_list_push(&l, str_value(s + from, i - from));
                i += lsep;
                from = i;
            } else {
                i++;
            }
        }
        value_list_push(&l, str_value(s + from, ls - from));
    }
    *out = l;
    return true;
}

static bool ev_call(struct ectx *c, const struct node *n, value *args, int nargs, value *out)
{
    value *a = args;
    switch (n->op) {
    case F_SIZE:
        if (a->type == V_STRING)
            *out = value_int((int64_t)utf8_count(value_str(a), value_strlen(a)));
        else if (a->type == V_LIST)
            *out = value_int((int64_t)value_list_len(a));
        else if (a->type == V_MAP)
            *out = value_int((int64_t)value_map_len(a));
        else
            return fn_overload(c, n, args, nargs);
        return true;
    case F_INT:
        if (a->type == V_INT) {
            *out = value_int(a->u.i);
        } else if (a->type == V_DOUBLE) {
            double d = trunc(a->u.d);
            /* the doubles that fit: [-2^63, 2^63) */
            if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
                return efail(c, n, "int() range error: %g does not fit in an int", a->u.d);
            *out = value_int((int64_t)d);
        } else if (a->type == V_STRING) {
            int64_t v;
            if (!parse_int_str(value_str(a), value_strlen(a), &v)) {
                strbuf sb;
                sb_init(&sb);
                describe(&sb, a);
                efail(c, n, "int() cannot convert %s to an int", sb.buf);
                sb_done(&sb);
                return false;
            }
            *out = value_int(v);
        } else {
            return fn_overload(c, n, args, nargs);
        }
        return true;
    case F_DOUBLE:
        if (a->type == V_INT) {
            *out = value_double((double)a->u.i);
        } else if (a->type == V_DOUBLE) {
            *out = value_double(a->u.d);
        } else if (a->type == V_STRING) {
            double d;
            if (!parse_double_str(value_str(a), value_strlen(a), &d)) {
                strbuf sb;
                sb_init(&sb);
                describe(&sb, a);
                efail(c, n, "double() cannot convert %s to a double", sb.buf);
                sb_done(&sb);
                return false;
            }
            *out = value_double(d);
        } else {
            return fn_overload(c, n, args, nargs);
        }
        return true;
    case F_STRING: {
        char buf[32];
        switch (a->type) {
        case V_STRING: *out = value_ref(a); return true;
        case V_BOOL: *out = value_cstring(a->u.b ? "true" : "false"); return true;
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
        default: return fn_overload(c, n, args, nargs);
        }
    }
    case F_NOW: {
        char buf[TIME_TEXT_LEN + 1];
        time_format_ms(c->vars ? c->vars->now_ms : 0, buf);
        *out = value_cstring(buf);
        return true;
    }
    case F_PUT:
        if (a->type != V_MAP || args[1].type != V_STRING)
            return fn_overload(c, n, args, nargs);
        if (value_map_len(a) + 1 > EXPR_MAX_RESULT)
            return too_large(c, n, value_map_len(a) + 1, "entries");
        if (!charge(c, n, value_map_len(a)))
            return false;
        *out = args[0];
        args[0] = value_null();
        value_map_setv(out, args[1], args[2]);
        args[1] = value_null();
        args[2] = value_null();
        return true;
    case F_REMOVE:
        if (a->type == V_MAP) {
            if (!charge(c, n, value_map_len(a)))
                return false;
            *out = args[0];
            args[0] = value_null();
            if (args[1].type == V_STRING)
                value_map_remove(out, value_str(&args[1]), value_strlen(&args[1]));
            return true;
        }
        if (a->type == V_LIST) {
            size_t len = value_list_len(a);
            if (!charge(c, n, len))
                return false;
            value l = value_list(len);
            for (size_t i = 0; i < len; i++)
                if (!value_equal(value_list_at(a, i), &args[1]))
                    value_list_push(&l, value_ref(value_list_at(a, i)));
            *out = l;
            return true;
        }
        return fn_overload(c, n, args, nargs);
    default:
        break;
    }
    /* the string methods */
    if (!all_strings(args, n->op == F_SUBSTRING ? 1 : nargs))
        return fn_overload(c, n, args, nargs);
    const char *s = value_str(a);
    size_t ls = value_strlen(a);
    switch (n->op) {
    case F_CONTAINS:
    case F_STARTS_WITH:
    case F_ENDS_WITH: {
        const char *t = value_str(&args[1]);
        size_t lt = value_strlen(&args[1]);
        bool r = false;
        if (lt <= ls) {
            if (n->op == F_STARTS_WITH)
                r = memcmp(s, t, lt) == 0;
            else if (n->op == F_ENDS_WITH)
                r = memcmp(s + ls - lt, t, lt) == 0;
            else
                r = lt == 0 || memmem(s, ls, t, lt) != NULL;
        }
        if (!charge(c, n, ls / EXPR_BYTES_PER_UNIT))
            return false;
        *out = value_bool(r);
        return true;
    }
    case F_LOWER_ASCII:
    case F_UPPER_ASCII: {
        if (!charge_string(c, n, ls))
            return false;
        char *buf = xmalloc(ls + 1);
        for (size_t i = 0; i < ls; i++) {
            char ch = s[i];
            if (n->op == F_LOWER_ASCII && ch >= 'A' && ch <= 'Z')
                ch = (char)(ch - 'A' + 'a');
            else if (n->op == F_UPPER_ASCII && ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 'a' + 'A');
            buf[i] = ch;
        }
        *out = value_string(buf, ls);
        free(buf);
        return true;
    }
    case F_TRIM: {
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
        if (!charge_string(c, n, to - from))
            return false;
        *out = str_value(s + from, to - from);
        return true;
    }
    case F_SUBSTRING: {
        for (int i = 1; i < nargs; i++)
            if (args[i].type != V_INT)
                return fn_overload(c, n, args, nargs);
        size_t cps = utf8_count(s, ls);
        int64_t from = args[1].u.i, to = nargs > 2 ? args[2].u.i : (int64_t)cps;
        if (from < 0 || (uint64_t)from > cps)
            return efail(c, n, "substring() index out of range: %lld (the string has %zu characters)",
                         (long long)from, cps);
        if (to < 0 || (uint64_t)to > cps)
            return efail(c, n, "substring() index out of range: %lld (the string has %zu characters)",
                         (long long)to, cps);
        if (to < from)
            return efail(c, n, "substring() end %lld is before start %lld", (long long)to, (long long)from);
        size_t bf = cp_offset(s, ls, (size_t)from);
        size_t bt = bf + cp_offset(s + bf, ls - bf, (size_t)(to - from));
        if (!charge_string(c, n, bt - bf))
            return false;
        *out = str_value(s + bf, bt - bf);
        return true;
    }
    case F_REPLACE: return fn_replace(c, n, args, out);
    case F_SPLIT: return fn_split(c, n, args, out);
    default: return efail(c, n, "internal error: unknown function");
    }
}

/* ---- fields and indexes, on borrowed values ---- */

static const value null_value = {V_NULL, {0}};

/* b.f: the field, borrowed from b. */
static bool select_field(struct ectx *c, const struct node *n, const value *b, const value **out)
{
    if (b->type != V_MAP)
        return efail(c, n, "cannot select field '%s' of %s", n->name, tname(b));
    *out = value_map_getn(b, n->name, n->namelen);
    if (!*out)
        return efail(c, n, "no such key: %s", n->name);
    return true;
}

static bool has_field(struct ectx *c, const struct node *n, const value *b, value *out)
{
    if (b->type != V_MAP)
        return efail(c, n, "has() needs a map, got %s", tname(b));
    *out = value_bool(value_map_getn(b, n->name, n->namelen) != NULL);
    return true;
}

/* b[k]: the element, borrowed from b. */
static bool index_value(struct ectx *c, const struct node *n, const value *b, const value *k, const value **out)
{
    if (b->type == V_MAP) {
        if (k->type == V_STRING) {
            *out = value_map_getn(b, value_str(k), value_strlen(k));
            if (!*out)
                return efail(c, n, "no such key: %s", value_str(k));
            return true;
        }
        strbuf sb;
        sb_init(&sb);
        describe(&sb, k);
        efail(c, n, "no such key: %s (map keys are strings)", sb.buf);
        sb_done(&sb);
        return false;
    }
    if (b->type == V_LIST && k->type == V_INT) {
        if (k->u.i < 0 || (uint64_t)k->u.i >= value_list_len(b))
            return efail(c, n, "index out of range: %lld (the list has %zu elements)", (long long)k->u.i,
                         value_list_len(b));
        *out = value_list_at(b, (size_t)k->u.i);
        return true;
    }
    return efail(c, n, "no such overload: %s[%s]", tname(b), tname(k));
}

/* Nodes marked `borrow` (constants, roots, macro variables, and fields and
 * indexes of those) evaluate to a pointer into a value someone already holds, so
 * the hot path of a rule (`state.balance >= payload.amount`) takes no reference
 * and frees nothing. Charges the budget like ev. */
static bool ev_borrow(struct ectx *c, const struct node *n, const value **out)
{
    if (c->budget <= 0)
        return charge(c, n, 1);
    c->budget--;
    switch (n->kind) {
    case N_CONST:
        *out = &n->cval;
        return true;
    case N_ROOT:
        *out = c->vars ? &c->vars->roots[n->slot] : &null_value;
        return true;
    case N_LOCAL:
        *out = c->locals[n->slot];
        return true;
    case N_SELECT: {
        const value *b;
        return ev_borrow(c, n->kids[0], &b) && select_field(c, n, b, out);
    }
    case N_INDEX: {
        const value *b, *k;
        return ev_borrow(c, n->kids[0], &b) && ev_borrow(c, n->kids[1], &k) && index_value(c, n, b, k, out);
    }
    default:
        return efail(c, n, "internal error: node cannot be borrowed");
    }
}

/* Evaluates n to a pointer: borrowed when n allows it, else into *tmp, which the
 * caller frees (it is null when nothing was made). */
static bool ev_ptr(struct ectx *c, const struct node *n, value *tmp, const value **p)
{
    *tmp = value_null();
    if (n->borrow)
        return ev_borrow(c, n, p);
    if (!ev(c, n, tmp))
        return false;
    *p = tmp;
    return true;
}

/* Saved error state, for && and || which may absorb an error. */
struct saved_err {
    int col;
    char msg[480];
};

static void save_err(const struct ectx *c, struct saved_err *s)
{
    s->col = c->err_col;
    memcpy(s->msg, c->msg, sizeof s->msg);
}

static bool restore_err(struct ectx *c, const struct saved_err *s)
{
    c->err_col = s->col;
    memcpy(c->msg, s->msg, sizeof s->msg);
    c->fatal = false;
    return false;
}

/* One operand of && / ||: 1 true, 0 false, -1 error (including a non-bool). */
static int ev_logic_operand(struct ectx *c, const struct node *parent, const struct node *k)
{
    value t;
    const value *v;
    if (!ev_ptr(c, k, &t, &v))
        return -1;
    int r = v->type == V_BOOL ? v->u.b : -1;
    if (r < 0)
        efail(c, parent, "'%s' needs bool operands, got %s", parent->kind == N_AND ? "&&" : "||", tname(v));
    value_free(t);
    return r;
}

static bool ev_logic(struct ectx *c, const struct node *n, value *out)
{
    /* && stops at false, || at true; an error on one side is absorbed when the
     * other side decides the result (CEL's commutative error handling). */
    int stop = n->kind == N_AND ? 0 : 1;
    int a = ev_logic_operand(c, n, n->kids[0]);
    if (a == stop) {
        *out = value_bool(stop);
        return true;
    }
    if (a < 0 && c->fatal)
        return false;
    struct saved_err first;
    first.col = 0;
    first.msg[0] = 0;
    if (a < 0)
        save_err(c, &first);
    int b = ev_logic_operand(c, n, n->kids[1]);
    if (b == stop) {
        *out = value_bool(stop);
        return true;
    }
    if (b < 0 && c->fatal)
        return false;
    if (a < 0)
        return restore_err(c, &first);
    if (b < 0)
        return false;
    *out = value_bool(!stop);
    return true;
}

static bool ev_macro(struct ectx *c, const struct node *n, value *out)
{
    value held;
    const value *rp;
    if (!ev_ptr(c, n->kids[0], &held, &rp))
        return false;
    const value r = *rp; /* kept alive by held or by whoever holds the borrowed value */
    bool is_map = r.type == V_MAP;
    if (r.type != V_LIST && !is_map) {
        efail(c, n, "%s() ranges over a list or a map, not %s", macro_name[n->op], tname(&r));
        value_free(held);
        return false;
    }
    size_t len = is_map ? value_map_len(&r) : value_list_len(&r);
    bool ok = true;
    bool have_err = false;
    struct saved_err first;
    first.col = 0;
    first.msg[0] = 0;
    int64_t count = 0;
    value acc = value_null();
    if (n->op == M_MAP || n->op == M_FILTER)
        acc = value_list(len < 64 ? len : 64);
    const struct node *pred = n->kids[1];
    for (size_t i = 0; i < len && ok; i++) {
        if (!charge(c, n, 1)) {
            ok = false;
            break;
        }
        c->locals[n->slot] = is_map ? value_map_key_at(&r, i) : value_list_at(&r, i);
        value v;
        if (n->op == M_MAP && n->nkids == 2) {
            if (!ev(c, pred, &v)) {
                ok = false;
                break;
            }
            value_list_push(&acc, v);
            continue;
        }
        if (!ev(c, pred, &v)) {
            if (c->fatal || (n->op != M_ALL && n->op != M_EXISTS)) {
                ok = false;
                break;
            }
            /* all() and exists() absorb an error when another element decides */
            if (!have_err) {
                save_err(c, &first);
                have_err = true;
            }
            continue;
        }
        if (v.type != V_BOOL) {
            efail(c, pred, "%s() needs a bool from its predicate, got %s", macro_name[n->op], tname(&v));
            value_free(v);
            if (n->op == M_ALL || n->op == M_EXISTS) {
                if (!have_err) {
                    save_err(c, &first);
                    have_err = true;
                }
                continue;
            }
            ok = false;
            break;
        }
        bool b = v.u.b;
        switch (n->op) {
        case M_ALL:
            if (!b) {
                value_free(held);
                *out = value_bool(false);
                return true;
            }
            break;
        case M_EXISTS:
            if (b) {
                value_free(held);
                *out = value_bool(true);
                return true;
            }
            break;
        case M_EXISTS_ONE:
            count += b;
            break;
        case M_FILTER:
            if (b)
                value_list_push(&acc, value_ref(c->locals[n->slot]));
            break;
        case M_MAP:
            if (b) {
                value t;
                if (!ev(c, n->kids[2], &t)) {
                    ok = false;
                    break;
                }
                value_list_push(&acc, t);
            }
            break;
        }
    }
    value_free(held);
    if (!ok) {
        value_free(acc);
        return false;
    }
    if (have_err) {
        value_free(acc);
        return restore_err(c, &first);
    }
    switch (n->op) {
    case M_ALL: *out = value_bool(true); break;
    case M_EXISTS: *out = value_bool(false); break;
    case M_EXISTS_ONE: *out = value_bool(count == 1); break;
    default: *out = acc; break;
    }
    return true;
}

static bool ev(struct ectx *c, const struct node *n, value *out)
{
    if (c->budget <= 0)
        return charge(c, n, 1);
    c->budget--;
    switch (n->kind) {
    case N_CONST:
        *out = value_ref(&n->cval);
        return true;
    case N_ROOT:
        *out = c->vars ? value_ref(&c->vars->roots[n->slot]) : value_null();
        return true;
    case N_LOCAL:
        *out = value_ref(c->locals[n->slot]);
        return true;
    case N_LIST: {
        if (!charge(c, n, (size_t)n->nkids))
            return false;
        value l = value_list((size_t)n->nkids);
        for (int i = 0; i < n->nkids; i++) {
            value v;
            if (!ev(c, n->kids[i], &v)) {
                value_free(l);
                return false;
            }
            value_list_push(&l, v);
        }
        *out = l;
        return true;
    }
    case N_MAP: {
        value m = value_map((size_t)n->nkids / 2);
        for (int i = 0; i < n->nkids; i += 2) {
            value k, v;
            if (!ev(c, n->kids[i], &k)) {
                value_free(m);
                return false;
            }
            if (k.type != V_STRING) {
                efail(c, n->kids[i], "map keys must be strings, got %s", tname(&k));
                value_free(k);
                value_free(m);
                return false;
            }
            if (value_map_getn(&m, value_str(&k), value_strlen(&k))) {
                efail(c, n->kids[i], "repeated map key '%s'", value_str(&k));
                value_free(k);
                value_free(m);
                return false;
            }
            if (!ev(c, n->kids[i + 1], &v)) {
                value_free(k);
                value_free(m);
                return false;
            }
            value_map_setv(&m, k, v);
        }
        *out = m;
        return true;
    }
    case N_SELECT:
    case N_HAS:
    case N_INDEX: {
        if (n->borrow) {
            const value *p;
            c->budget++; /* ev_borrow charges this node */
            if (!ev_borrow(c, n, &p))
                return false;
            *out = value_ref(p);
            return true;
        }
        value tb, tk;
        const value *b, *k = NULL, *p;
        if (!ev_ptr(c, n->kids[0], &tb, &b))
            return false;
        if (n->kind == N_INDEX && !ev_ptr(c, n->kids[1], &tk, &k)) {
            value_free(tb);
            return false;
        }
        bool ok;
        if (n->kind == N_HAS) {
            ok = has_field(c, n, b, out);
        } else {
            ok = n->kind == N_SELECT ? select_field(c, n, b, &p) : index_value(c, n, b, k, &p);
            if (ok)
                *out = value_ref(p); /* before tb is freed: p may point into it */
        }
        value_free(tb);
        if (n->kind == N_INDEX)
            value_free(tk);
        return ok;
    }
    case N_NOT: {
        value v;
        if (!ev(c, n->kids[0], &v))
            return false;
        if (v.type != V_BOOL) {
            efail(c, n, "no such overload: !%s", tname(&v));
            value_free(v);
            return false;
        }
        *out = value_bool(!v.u.b);
        return true;
    }
    case N_NEG: {
        value v;
        if (!ev(c, n->kids[0], &v))
            return false;
        if (v.type == V_INT) {
            if (v.u.i == INT64_MIN)
                return efail(c, n, "integer overflow");
            *out = value_int(-v.u.i);
            return true;
        }
        if (v.type == V_DOUBLE) {
            *out = value_double(-v.u.d);
            return true;
        }
        efail(c, n, "no such overload: -%s", tname(&v));
        value_free(v);
        return false;
    }
    case N_BIN: {
        value ta, tb;
        const value *a, *b;
        if (!ev_ptr(c, n->kids[0], &ta, &a))
            return false;
        if (!ev_ptr(c, n->kids[1], &tb, &b)) {
            value_free(ta);
            return false;
        }
        bool ok = ev_bin(c, n, a, b, out);
        value_free(ta);
        value_free(tb);
        return ok;
    }
    case N_AND:
    case N_OR:
        return ev_logic(c, n, out);
    case N_COND: {
        value v;
        if (!ev(c, n->kids[0], &v))
            return false;
        if (v.type != V_BOOL) {
            efail(c, n, "the condition of '? :' needs a bool, got %s", tname(&v));
            value_free(v);
            return false;
        }
        return ev(c, n->kids[v.u.b ? 1 : 2], out);
    }
    case N_CALL: {
        value args[4];
        int nargs = n->nkids;
        for (int i = 0; i < nargs; i++) {
            if (!ev(c, n->kids[i], &args[i])) {
                for (int j = 0; j < i; j++)
                    value_free(args[j]);
                return false;
            }
        }
        bool ok = ev_call(c, n, args, nargs, out);
        for (int i = 0; i < nargs; i++)
            value_free(args[i]);
        return ok;
    }
    case N_MACRO:
        return ev_macro(c, n, out);
    }
    return efail(c, n, "internal error: unknown node");
}

static void ectx_init(struct ectx *c, const struct expr_vars *vars)
{
    c->vars = vars;
    c->budget = vars && vars->budget > 0 ? vars->budget : EXPR_DEFAULT_BUDGET;
    c->budget_total = c->budget;
    c->err_col = 0;
    c->fatal = false;
    c->msg[0] = 0;
}

bool expr_fold(const struct node *n, value *out)
{
    struct ectx c;
    ectx_init(&c, NULL);
    return ev(&c, n, out);
}

/* The source for messages: whole when short, else its start and "...". */
static void source_excerpt(strbuf *sb, const char *src, size_t len)
{
    if (len <= 80) {
        sb_add(sb, src, len);
        return;
    }
    size_t cut = 77;
    while (cut > 0 && ((unsigned char)src[cut] & 0xC0) == 0x80)
        cut--;
    sb_add(sb, src, cut);
    sb_adds(sb, "...");
}

static int report(const expr *x, const struct ectx *c, err *e)
{
    strbuf sb;
    sb_init(&sb);
    source_excerpt(&sb, x->src, x->len);
    err_set(e, ST_ERR, "`%s`: column %d: %s", sb.buf, c->err_col, c->msg);
    sb_done(&sb);
    return ST_ERR;
}

int expr_eval(const expr *x, const struct expr_vars *vars, value *out, err *e)
{
    struct ectx c;
    ectx_init(&c, vars);
    value v;
    if (!ev(&c, x->root, &v))
        return report(x, &c, e);
    *out = v;
    return ST_OK;
}

int expr_eval_bool(const expr *x, const struct expr_vars *vars, bool *out, err *e)
{
    value v;
    int rc = expr_eval(x, vars, &v, e);
    if (rc != ST_OK)
        return rc;
    if (v.type != V_BOOL) {
        struct ectx c;
        ectx_init(&c, vars);
        efail(&c, x->root, "expected a bool, got %s", tname(&v));
        c.err_col = 1;
        value_free(v);
        return report(x, &c, e);
    }
    *out = v.u.b;
    return ST_OK;
}

/* ---- explanations ---- */

static void explain_src(strbuf *sb, const expr *x, const struct node *n)
{
    source_excerpt(sb, x->src + n->start, n->end - n->start);
}

/* "SRC (VALUE)" for an operand, or just SRC for a literal (its value is written). */
static void explain_operand(strbuf *sb, const expr *x, const struct expr_vars *vars, const struct node *n)
{
    explain_src(sb, x, n);
    if (n->kind == N_CONST)
        return;
    struct ectx c;
    ectx_init(&c, vars);
    value v;
    if (ev(&c, n, &v)) {
        sb_adds(sb, " (");
        describe(sb, &v);
        sb_addc(sb, ')');
        value_free(v);
    } else {
        sb_addf(sb, " (error: %s)", c.msg);
    }
}

/* Evaluates n: 1 true, 0 false, -1 error or not a bool (then *msg says what). */
static int truth(const expr *x, const struct expr_vars *vars, const struct node *n, value *val, char *msg,
                 size_t msgsz)
{
    struct ectx c;
    ectx_init(&c, vars);
    if (!ev(&c, n, val)) {
        snprintf(msg, msgsz, "%s", c.msg);
        *val = value_null();
        return -1;
    }
    if (val->type != V_BOOL)
        return -1;
    return val->u.b ? 1 : 0;
}

static void explain_node(strbuf *sb, const expr *x, const struct expr_vars *vars, const struct node *n,
                         int depth)
{
    char msg[480] = "";
    value v;
    int t = truth(x, vars, n, &v, msg, sizeof msg);
    if (n->kind == N_AND && t != 1 && depth < EXPR_MAX_DEPTH) {
        value_free(v);
        /* the first conjunct that is not true says why */
        for (int i = 0; i < 2; i++) {
            value kv;
            char km[480];
            int kt = truth(x, vars, n->kids[i], &kv, km, sizeof km);
            value_free(kv);
            if (kt != 1) {
                explain_node(sb, x, vars, n->kids[i], depth + 1);
                return;
            }
        }
        explain_src(sb, x, n);
        sb_adds(sb, " is false");
        return;
    }
    if (n->kind == N_OR && t == 0 && depth < EXPR_MAX_DEPTH) {
        value_free(v);
        explain_node(sb, x, vars, n->kids[0], depth + 1);
        sb_adds(sb, ", and ");
        explain_node(sb, x, vars, n->kids[1], depth + 1);
        return;
    }
    if (n->kind == N_BIN && n->op >= OP_EQ && t >= 0) {
        explain_operand(sb, x, vars, n->kids[0]);
        sb_addf(sb, " %s ", op_sym[n->op]);
        explain_operand(sb, x, vars, n->kids[1]);
        sb_adds(sb, t ? " is true" : " is false");
        value_free(v);
        return;
    }
    explain_src(sb, x, n);
    if (t == 1)
        sb_adds(sb, " is true");
    else if (t == 0)
        sb_adds(sb, " is false");
    else if (msg[0])
        sb_addf(sb, ": %s", msg);
    else {
        sb_adds(sb, " is ");
        describe(sb, &v);
        sb_addf(sb, ", not a bool");
    }
    value_free(v);
}

void expr_explain(const expr *x, const struct expr_vars *vars, strbuf *sb)
{
    explain_node(sb, x, vars, x->root, 0);
}
