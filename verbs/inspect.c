/* inspect.c: what the log-inspecting verbs share (inspect.h). */
#include "verbs/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_expr.h"
#include "core/instant.h"
#include "core/json.h"

int inspect_option(struct verb_ctx *c, struct inspect_args *a, int opt, const char *arg)
{
    switch (opt) {
    case IOPT_WHERE:
        if (a->where_src)
            return verb_usage_error(c, "give one --where (combine conditions with &&)"), 2;
        a->where_src = arg;
        return 1;
    case IOPT_STREAM:
        a->filter.stream = arg;
        return 1;
    case IOPT_TYPE:
        a->filter.type = arg;
        return 1;
    case IOPT_FROM:
    case IOPT_TO:
        if (!verb_parse_count(arg, opt == IOPT_FROM ? &a->filter.from : &a->filter.to)) {
            verb_usage_error(c, "--%s takes a position (a whole number), not '%s'",
                             opt == IOPT_FROM ? "from" : "to", arg);
            return 2;
        }
        return 1;
    case IOPT_AT:
        a->at = arg;
        return 1;
    case IOPT_TABLE:
        a->table = true;
        return 1;
    }
    return 0;
}

expr *inspect_compile(struct verb_ctx *c, const char *what, const char *src, bool want_bool)
{
    err ee;
    err_clear(&ee);
    expr *x = event_expr_compile(src, &ee);
    if (!x) {
        verb_say(c, VERB_ERROR, 0, "%s: `%s`: column %d: %s", what, src, ee.col, ee.msg);
        return NULL;
    }
    expr_type t = expr_result_type(x);
    if (want_bool && t != EXPR_T_ANY && t != EXPR_T_BOOL) {
        verb_say(c, VERB_ERROR, 0, "%s: `%s`: a condition must be a bool, this is %s", what, src,
                 t == EXPR_T_STRING ? "a string" : "not one");
        expr_free(x);
        return NULL;
    }
    return x;
}

int inspect_prepare(struct verb_ctx *c, struct inspect_args *a)
{
    int64_t at = 0;
    int rc = verb_need_store(c, false, true);
    if (rc == ST_OK)
        rc = verb_resolve_at(c, a->at, NULL, &at);
    if (rc == ST_OK && at && (a->filter.to == 0 || a->filter.to > at))
        a->filter.to = at; /* the log as it was at P (or the workbench's point) */
    if (rc == ST_OK && a->where_src &&
        !(a->where = inspect_compile(c, "--where", a->where_src, true)))
        rc = ST_ERR;
    if (rc != ST_OK)
        inspect_args_done(a);
    return rc;
}

int inspect_run_cases(struct verb_ctx *c, const struct cases_opts *o, struct cases_result *r)
{
    err e;
    err_clear(&e);
    if (inspect_cases(c->store, o, r, &e) != ST_OK)
        return verb_fail(c, &e);
    return ST_OK;
}

void inspect_args_done(struct inspect_args *a)
{
    expr_free(a->where);
    a->where = NULL;
}

void inspect_duration_json(strbuf *sb, int64_t ms)
{
    char text[DURATION_TEXT_MAX];
    size_t n = duration_format(ms * 1000000, text);
    sb_addc(sb, '"');
    sb_add(sb, text, n);
    sb_addc(sb, '"');
}

void inspect_duration_human(strbuf *sb, int64_t ms)
{
    if (ms < 0) {
        sb_addc(sb, '-');
        ms = -ms;
    }
    int64_t s = ms / 1000;
    if (ms < 1000)
        sb_addf(sb, "%lldms", (long long)ms);
    else if (ms < 60000)
        sb_addf(sb,
                "%g"
                "s",
                (double)ms / 1000.0);
    else if (s < 3600 && s % 60)
        sb_addf(sb, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 3600)
        sb_addf(sb, "%lldm", (long long)(s / 60));
    else if (s < 86400 && s % 3600 / 60)
        sb_addf(sb, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s < 86400)
        sb_addf(sb, "%lldh", (long long)(s / 3600));
    else if (s % 86400 / 3600)
        sb_addf(sb, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else
        sb_addf(sb, "%lldd", (long long)(s / 86400));
}

void inspect_value_cell(strbuf *sb, const char *json)
{
    value v;
    err je;
    if (json[0] == '"' && json_parse(json, strlen(json), &v, &je) == ST_OK && v.type == V_STRING) {
        inspect_cell(sb, value_str(&v)); /* a string shown as itself, not as JSON */
        value_free(v);
        return;
    }
    inspect_cell(sb, json);
}

void inspect_cell(strbuf *sb, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            sb_addf(sb, "\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) /* C1 controls: U+0080..U+009F */
            sb_addf(sb, "\\u%04x", p[1]), p++;
        else
            sb_addc(sb, (char)*p);
    }
}
