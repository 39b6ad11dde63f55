/* expr_explain.c: explains a failed condition with the values involved
 * (expr_explain in expr.h), for the workbench and for rejections:
 * "state.balance (150) >= payload.amount (151) is false". It evaluates the parts
 * of the condition again (expr_eval.h) to find the one that is not true. Apart
 * from the evaluator because it is presentation: the evaluator never calls it. */
#include "expr_internal.h"

#include <stdio.h>

#include "expr_eval.h"

static void explain_src(strbuf *sb, const expr *x, const struct node *n)
{
    ectx_source_excerpt(sb, x->src + n->start, n->end - n->start);
}

/* "SRC (VALUE)" for an operand, or just SRC for a literal (its value is written). */
static void explain_operand(strbuf *sb, const expr *x, const struct expr_vars *vars,
                            const struct node *n)
{
    explain_src(sb, x, n);
    if (n->kind == N_CONST)
        return;
    struct ectx c;
    ectx_init(&c, vars);
    value v;
    if (expr_eval_node(&c, n, &v)) {
        sb_adds(sb, " (");
        ectx_describe(sb, &v);
        sb_addc(sb, ')');
        value_free(v);
    } else {
        sb_addf(sb, " (error: %s)", c.msg);
    }
}

/* Evaluates n: 1 true, 0 false, -1 error or not a bool (then *msg says what). */
static int truth(const expr *x, const struct expr_vars *vars, const struct node *n, value *val,
                 char *msg, size_t msgsz)
{
    struct ectx c;
    ectx_init(&c, vars);
    if (!expr_eval_node(&c, n, val)) {
        snprintf(msg, msgsz, "%s", c.msg);
        *val = value_null();
        return -1;
    }
    if (val->type != V_BOOL)
        return -1;
    return val->u.b ? 1 : 0;
}

static void explain_node(strbuf *sb, const expr *x, const struct expr_vars *vars,
                         const struct node *n, int depth)
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
        sb_addf(sb, " %s ", expr_op_text(n->op));
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
        ectx_describe(sb, &v);
        sb_addf(sb, ", not a bool");
    }
    value_free(v);
}

void expr_explain(const expr *x, const struct expr_vars *vars, strbuf *sb)
{
    explain_node(sb, x, vars, x->root, 0);
}
