/* expr_ctx.c: one evaluation's context (expr_ctx.h): the work budget that makes
 * every evaluation end quickly, the error it stops with, and the short forms of
 * values and source used in its messages. Its own file so that the evaluator and
 * the built-in functions, which both charge the budget and report errors, depend
 * on it and not on each other. */
#include "expr_ctx.h"

#include <stdio.h>

#include "json.h"

void ectx_init(struct ectx *c, const struct expr_vars *vars)
{
    c->vars = vars;
    c->budget = vars && vars->budget > 0 ? vars->budget : EXPR_DEFAULT_BUDGET;
    c->budget_total = c->budget;
    c->err_col = 0;
    c->fatal = false;
    c->made_time = false;
    c->text_root = NULL;
    c->msg[0] = 0;
}

bool ectx_fail(struct ectx *c, const struct node *n, const char *fmt, ...)
{
    c->err_col = n->column;
    c->fatal = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return false;
}

bool ectx_too_large(struct ectx *c, const struct node *n, size_t size, const char *unit)
{
    ectx_fail(c, n, "result too large (%zu %s; at most %d)", size, unit, EXPR_MAX_RESULT);
    c->fatal = true;
    return false;
}

bool ectx_charge(struct ectx *c, const struct node *n, size_t units)
{
    if ((int64_t)units <= c->budget) {
        c->budget -= (int64_t)units;
        return true;
    }
    c->budget = -1;
    ectx_fail(c, n, "evaluation budget exhausted (more than %lld steps)",
              (long long)c->budget_total);
    c->fatal = true;
    return false;
}

bool ectx_charge_string(struct ectx *c, const struct node *n, size_t len)
{
    if (len > EXPR_MAX_RESULT)
        return ectx_too_large(c, n, len, "bytes");
    return ectx_charge(c, n, len / EXPR_BYTES_PER_UNIT);
}

void ectx_describe(strbuf *sb, const value *v)
{
    strbuf t;
    sb_init(&t);
    /* as CEL writes them, so that an instant is not taken for a string */
    if (v->type == V_TIMESTAMP)
        sb_adds(&t, "timestamp(");
    else if (v->type == V_DURATION)
        sb_adds(&t, "duration(");
    json_write(&t, v);
    if (v->type == V_TIMESTAMP || v->type == V_DURATION)
        sb_addc(&t, ')');
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

void ectx_source_excerpt(strbuf *sb, const char *src, size_t len)
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
