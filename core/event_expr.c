/* event_expr.c: expressions over one stored event (event_expr.h). */
#include "event_expr.h"

#include <string.h>

#include "instant.h"
#include "json.h"

expr *event_expr_compile(const char *src, err *ee)
{
    struct expr_env env;
    memset(&env, 0, sizeof env);
    env.allowed = ROOT_BIT(ROOT_EVENT) | ROOT_BIT(ROOT_META) | ROOT_ENVELOPE_BITS;
    env.slot = "a log filter";
    return expr_compile(src, strlen(src), &env, ee);
}

void event_vars_init(struct event_vars *v, expr *const *xs, int n)
{
    memset(v, 0, sizeof *v);
    for (int r = 0; r < ROOT_COUNT; r++)
        v->vars.roots[r] = value_null();
    for (int i = 0; i < n; i++) {
        if (!xs[i])
            continue;
        v->want_data |= expr_uses_root(xs[i], ROOT_EVENT);
        v->want_meta |= expr_uses_root(xs[i], ROOT_META);
    }
}

void event_vars_done(struct event_vars *v)
{
    for (int r = 0; r < ROOT_COUNT; r++)
        value_free(v->vars.roots[r]);
    memset(v, 0, sizeof *v);
}

static int parse_into(value *slot, const char *text)
{
    value_free(*slot);
    *slot = value_null();
    if (!text)
        return ST_OK;
    err je;
    if (json_parse(text, strlen(text), slot, &je) != ST_OK) {
        *slot = value_null();
        return ST_ERR;
    }
    return ST_OK;
}

int event_vars_set(struct event_vars *v, const struct event *ev)
{
    value *r = v->vars.roots;
    value_free(r[ROOT_TYPE]);
    value_free(r[ROOT_STREAM]);
    r[ROOT_TYPE] = value_cstring(ev->type);
    r[ROOT_STREAM] = value_cstring(ev->stream);
    int64_t sec;
    int32_t ns;
    r[ROOT_TIME] = instant_parse_stored(ev->time, strlen(ev->time), &sec, &ns)
                       ? value_timestamp(sec, (uint32_t)ns)
                       : value_null();
    r[ROOT_POSITION] = value_int(ev->position);
    int rc = ST_OK;
    if (v->want_data && parse_into(&r[ROOT_EVENT], ev->data) != ST_OK)
        rc = ST_ERR;
    if (v->want_meta && parse_into(&r[ROOT_META], ev->meta) != ST_OK)
        rc = ST_ERR;
    return rc;
}

bool event_expr_match(const expr *where, const struct event_vars *v)
{
    if (!where)
        return true;
    bool ok = false;
    err e;
    return expr_eval_bool(where, &v->vars, &ok, &e) == ST_OK && ok;
}

void event_expr_json(const expr *x, const struct event_vars *v, strbuf *out)
{
    sb_reset(out);
    value val;
    err e;
    if (expr_eval(x, &v->vars, &val, &e) != ST_OK) {
        sb_adds(out, "null");
        return;
    }
    json_write(out, &val);
    value_free(val);
}
