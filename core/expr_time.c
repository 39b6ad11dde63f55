/* expr_time.c: CEL's timestamps and durations in the evaluator (expr_time.h).
 *
 * Outside expressions an instant is text, the canonical 2026-03-01T08:00:00.000Z
 * that timestamp fields store, and a duration is text too ("5400s"). Inside, a
 * field whose schema says timestamp or duration is read as one (expr_time_lift:
 * the evaluator calls it where the static type is known), so comparisons are
 * between instants, never between texts written at different offsets. The
 * numbers and the calendar are instant.c's; this file is what CEL makes of them:
 * overloads, accessors (UTC unless a zone is given), and errors named as CEL
 * names them. */
#include "expr_time.h"

#include <string.h>

#include "instant.h"

static bool describe_fail(struct ectx *c, const struct node *n, const char *fmt, const value *v)
{
    strbuf sb;
    sb_init(&sb);
    ectx_describe(&sb, v);
    ectx_fail(c, n, fmt, sb.buf);
    sb_done(&sb);
    return false;
}

bool expr_time_lift(struct ectx *c, const struct node *n, const value *v, value *out)
{
    if (v->type != V_STRING) {
        *out = value_ref(v);
        return true;
    }
    c->made_time = true;
    if (n->type == EXPR_T_TIMESTAMP) {
        int64_t sec;
        int32_t ns;
        /* an older store may hold a time at an offset, or a bare date */
        if (!instant_parse_stored(value_str(v), value_strlen(v), &sec, &ns))
            return describe_fail(c, n, "the stored value %s is not a timestamp", v);
        *out = value_timestamp(sec, (uint32_t)ns);
        return true;
    }
    int64_t d;
    if (!duration_parse(value_str(v), value_strlen(v), &d))
        return describe_fail(c, n, "the stored value %s is not a duration", v);
    *out = value_duration(d);
    return true;
}

static bool no_overload(struct ectx *c, const struct node *n, const value *a, const value *b)
{
    return ectx_fail(c, n, "no such overload: %s %s %s", ectx_tname(a), expr_op_text(n->op),
                     ectx_tname(b));
}

bool expr_time_bin(struct ectx *c, const struct node *n, const value *a, const value *b, value *out)
{
    int op = n->op;
    if (op >= OP_LT && op <= OP_GE) {
        if (a->type != b->type)
            return no_overload(c, n, a, b);
        int k = value_compare(a, b);
        bool r = op == OP_LT ? k < 0 : op == OP_LE ? k <= 0 : op == OP_GT ? k > 0 : k >= 0;
        *out = value_bool(r);
        return true;
    }
    if (op != OP_ADD && op != OP_SUB)
        return no_overload(c, n, a, b);
    bool sub = op == OP_SUB;
    if (a->type == V_DURATION && b->type == V_DURATION) {
        int64_t r;
        if (sub ? __builtin_sub_overflow(a->u.i, b->u.i, &r)
                : __builtin_add_overflow(a->u.i, b->u.i, &r))
            return ectx_fail(c, n, "duration overflow");
        *out = value_duration(r);
        c->made_time = true;
        return true;
    }
    if (a->type == V_TIMESTAMP && b->type == V_TIMESTAMP && sub) {
        int64_t d;
        if (!instant_diff(a->u.i, (int32_t)a->ns, b->u.i, (int32_t)b->ns, &d))
            return ectx_fail(c, n, "duration overflow (the timestamps are too far apart)");
        *out = value_duration(d);
        c->made_time = true;
        return true;
    }
    const value *t = NULL;
    int64_t d = 0;
    if (a->type == V_TIMESTAMP && b->type == V_DURATION) {
        t = a;
        d = b->u.i;
        if (sub && d == INT64_MIN)
            return ectx_fail(c, n, "timestamp overflow");
        d = sub ? -d : d;
    } else if (a->type == V_DURATION && b->type == V_TIMESTAMP && !sub) {
        t = b;
        d = a->u.i;
    } else {
        return no_overload(c, n, a, b);
    }
    int64_t sec;
    int32_t ns;
    if (!instant_add(t->u.i, (int32_t)t->ns, d, &sec, &ns))
        return ectx_fail(c, n, "timestamp overflow (outside the years 0001 to 9999)");
    *out = value_timestamp(sec, (uint32_t)ns);
    c->made_time = true;
    return true;
}

static bool fn_overload(struct ectx *c, const struct node *n, const value *args, int nargs)
{
    strbuf sb;
    sb_init(&sb);
    for (int i = n->method ? 1 : 0; i < nargs; i++)
        sb_addf(&sb, "%s%s", sb.len ? ", " : "", ectx_tname(&args[i]));
    if (n->method)
        ectx_fail(c, n, "no such overload: %s.%s(%s)", ectx_tname(&args[0]), expr_fn_name(n->op),
                  sb.buf ? sb.buf : "");
    else
        ectx_fail(c, n, "no such overload: %s(%s)", expr_fn_name(n->op), sb.buf ? sb.buf : "");
    sb_done(&sb);
    return false;
}

static int make_timestamp(struct ectx *c, const struct node *n, const value *a, value *out)
{
    int64_t sec;
    int32_t ns = 0;
    switch (a->type) {
    case V_TIMESTAMP:
        *out = *a;
        return 1;
    case V_STRING:
        if (!instant_parse(value_str(a), value_strlen(a), &sec, &ns))
            return describe_fail(c, n,
                                 "timestamp() cannot read %s (it takes an ISO-8601 date-time with "
                                 "an offset or Z, e.g. 2026-03-01T10:00:00+02:00, years 0001 to "
                                 "9999)",
                                 a);
        break;
    case V_INT:
        sec = a->u.i;
        if (!instant_in_range(sec))
            return ectx_fail(c, n, "timestamp(%lld) is outside the years 0001 to 9999",
                             (long long)sec);
        break;
    default:
        return -1;
    }
    *out = value_timestamp(sec, (uint32_t)ns);
    return 1;
}

/* Accessor of a timestamp: the field named by fn, at the zone of args[1] if any. */
static int timestamp_field(struct ectx *c, const struct node *n, const value *args, int nargs,
                           value *out)
{
    int offset = 0;
    if (nargs == 2) {
        if (args[1].type != V_STRING)
            return fn_overload(c, n, args, nargs);
        if (!instant_zone(value_str(&args[1]), value_strlen(&args[1]), &offset))
            return describe_fail(c, n,
                                 "unknown time zone %s (Strata knows UTC and fixed offsets such as "
                                 "+02:00, not named zones)",
                                 &args[1]);
    }
    struct instant_fields f;
    instant_split(args[0].u.i, (int32_t)args[0].ns, offset, &f);
    int64_t r;
    switch (n->op) {
    case FN_GET_FULL_YEAR:
        r = f.year;
        break;
    case FN_GET_MONTH:
        r = f.month - 1; /* CEL counts months from 0 */
        break;
    case FN_GET_DAY_OF_MONTH:
        r = f.mday - 1; /* 0-based, as CEL has it; getDate() is 1-based */
        break;
    case FN_GET_DATE:
        r = f.mday;
        break;
    case FN_GET_DAY_OF_WEEK:
        r = f.wday;
        break;
    case FN_GET_DAY_OF_YEAR:
        r = f.yday;
        break;
    case FN_GET_HOURS:
        r = f.hour;
        break;
    case FN_GET_MINUTES:
        r = f.minute;
        break;
    case FN_GET_SECONDS:
        r = f.second;
        break;
    default: /* FN_GET_MILLISECONDS */
        r = f.ns / 1000000;
        break;
    }
    *out = value_int(r);
    return 1;
}

/* Accessor of a duration: the whole length in that unit, truncated (CEL's). */
static int duration_field(struct ectx *c, const struct node *n, const value *args, int nargs,
                          value *out)
{
    int64_t unit;
    switch (n->op) {
    case FN_GET_HOURS:
        unit = 3600 * NS_PER_SEC;
        break;
    case FN_GET_MINUTES:
        unit = 60 * NS_PER_SEC;
        break;
    case FN_GET_SECONDS:
        unit = NS_PER_SEC;
        break;
    case FN_GET_MILLISECONDS:
        unit = 1000000;
        break;
    default:
        return fn_overload(c, n, args, nargs);
    }
    if (nargs != 1)
        return fn_overload(c, n, args, nargs);
    *out = value_int(args[0].u.i / unit);
    return 1;
}

int expr_time_call(struct ectx *c, const struct node *n, const value *args, int nargs, value *out)
{
    const value *a = nargs ? &args[0] : NULL;
    switch (n->op) {
    case FN_NOW: {
        int64_t ms = c->vars ? c->vars->now_ms : 0;
        int64_t sec = ms / 1000 - (ms % 1000 < 0);
        *out = value_timestamp(sec, (uint32_t)(ms - sec * 1000) * 1000000u);
        c->made_time = true;
        return 1;
    }
    case FN_TIMESTAMP: {
        int r = make_timestamp(c, n, a, out);
        if (r < 0)
            return fn_overload(c, n, args, nargs);
        if (r > 0)
            c->made_time = true;
        return r;
    }
    case FN_DURATION:
        if (a->type == V_DURATION) {
            *out = *a;
        } else if (a->type == V_STRING) {
            int64_t d;
            if (!duration_parse(value_str(a), value_strlen(a), &d))
                return describe_fail(c, n,
                                     "duration() cannot read %s (e.g. '90m', '1.5h', '36h', "
                                     "'-1s'; units h, m, s, ms, us, ns)",
                                     a);
            *out = value_duration(d);
        } else {
            return fn_overload(c, n, args, nargs);
        }
        c->made_time = true;
        return 1;
    case FN_INT:
        if (a->type != V_TIMESTAMP)
            return -1;
        *out = value_int(a->u.i); /* Unix seconds, as CEL's int(timestamp) */
        return 1;
    case FN_STRING: {
        if (a->type == V_TIMESTAMP) {
            char t[INSTANT_TEXT_LEN + 1];
            instant_format(a->u.i, (int32_t)a->ns, t);
            *out = value_string(t, INSTANT_TEXT_LEN);
            return 1;
        }
        if (a->type == V_DURATION) {
            char t[DURATION_TEXT_MAX];
            size_t len = duration_format(a->u.i, t);
            *out = value_string(t, len);
            return 1;
        }
        return -1;
    }
    case FN_GET_FULL_YEAR:
    case FN_GET_MONTH:
    case FN_GET_DAY_OF_MONTH:
    case FN_GET_DATE:
    case FN_GET_DAY_OF_WEEK:
    case FN_GET_DAY_OF_YEAR:
    case FN_GET_HOURS:
    case FN_GET_MINUTES:
    case FN_GET_SECONDS:
    case FN_GET_MILLISECONDS:
        if (a->type == V_TIMESTAMP)
            return timestamp_field(c, n, args, nargs, out);
        if (a->type == V_DURATION)
            return duration_field(c, n, args, nargs, out);
        return fn_overload(c, n, args, nargs);
    default:
        return -1;
    }
}

static bool has_time(const value *v)
{
    switch (v->type) {
    case V_TIMESTAMP:
    case V_DURATION:
        return true;
    case V_LIST:
        for (size_t i = 0; i < value_list_len(v); i++)
            if (has_time(value_list_at(v, i)))
                return true;
        return false;
    case V_MAP:
        for (size_t i = 0; i < value_map_len(v); i++)
            if (has_time(value_map_val_at(v, i)))
                return true;
        return false;
    default:
        return false;
    }
}

value expr_time_text(value v)
{
    if (!has_time(&v))
        return v;
    value r;
    switch (v.type) {
    case V_TIMESTAMP: {
        char t[INSTANT_TEXT_LEN + 1];
        instant_format(v.u.i, (int32_t)v.ns, t);
        return value_string(t, INSTANT_TEXT_LEN);
    }
    case V_DURATION: {
        char t[DURATION_TEXT_MAX];
        size_t len = duration_format(v.u.i, t);
        return value_string(t, len);
    }
    case V_LIST:
        r = value_list(value_list_len(&v));
        for (size_t i = 0; i < value_list_len(&v); i++)
            value_list_push(&r, expr_time_text(value_ref(value_list_at(&v, i))));
        break;
    default: /* V_MAP */
        r = value_map(value_map_len(&v));
        for (size_t i = 0; i < value_map_len(&v); i++)
            value_map_setv(&r, value_ref(value_map_key_at(&v, i)),
                           expr_time_text(value_ref(value_map_val_at(&v, i))));
        break;
    }
    value_free(v);
    return r;
}
