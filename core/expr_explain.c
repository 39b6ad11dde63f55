/* expr_explain.c: explains a failed condition with the values involved
 * (expr_explain in expr.h), for the workbench and for rejections:
 * "state.balance (150) >= payload.amount (151) is false". It evaluates the parts
 * of the condition again (expr_eval.h) to find the one that is not true; inside
 * a comprehension (all, exists, exists_one) it finds the element that decided,
 * and explains the predicate with the macro's variable bound to it. Apart from
 * the evaluator because it is presentation: the evaluator never calls it. */
#include "expr_internal.h"

#include <stdio.h>
#include <string.h>

#include "expr_eval.h"

/* What every explanation step sees: the roots, and the macro variables bound by
 * the comprehensions it is inside. */
struct xctx {
    const expr *x;
    const struct expr_vars *vars;
    const value *locals[EXPR_MAX_DEPTH];
};

static void xctx_eval_init(const struct xctx *xc, struct ectx *c)
{
    ectx_init(c, xc->vars);
    memcpy(c->locals, xc->locals, sizeof c->locals);
}

static void explain_src(strbuf *sb, const expr *x, const struct node *n)
{
    ectx_source_excerpt(sb, x->src + n->start, n->end - n->start);
}

/* "SRC (VALUE)" for an operand, or just SRC for a literal (its value is written). */
static void explain_operand(strbuf *sb, const struct xctx *xc, const struct node *n)
{
    explain_src(sb, xc->x, n);
    if (n->kind == N_CONST)
        return;
    struct ectx c;
    xctx_eval_init(xc, &c);
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
static int truth(const struct xctx *xc, const struct node *n, value *val, char *msg, size_t msgsz)
{
    struct ectx c;
    xctx_eval_init(xc, &c);
    if (!expr_eval_node(&c, n, val)) {
        snprintf(msg, msgsz, "%s", c.msg);
        *val = value_null();
        return -1;
    }
    if (val->type != V_BOOL)
        return -1;
    return val->u.b ? 1 : 0;
}

static void explain_node(strbuf *sb, struct xctx *xc, const struct node *n, int depth);

/* "element 2 of 3 ({...})" or "key 'k' ({...})" for element i of range r. */
static void describe_element(strbuf *sb, const value *r, size_t i, size_t len)
{
    if (r->type == V_MAP) {
        sb_adds(sb, "key ");
        ectx_describe(sb, value_map_key_at(r, i));
        return;
    }
    sb_addf(sb, "element %zu of %zu (", i + 1, len);
    ectx_describe(sb, value_list_at(r, i));
    sb_addc(sb, ')');
}

/* Explains comprehension n (all, exists or exists_one) whose result is `want`
 * not being what it is: for all() false, the first element whose predicate is
 * false; for exists() true (under a `!`), the first one whose predicate is true;
 * for exists() and exists_one() false, how many elements matched. Returns false
 * when it cannot (the range does not evaluate), leaving sb untouched. */
static bool explain_macro(strbuf *sb, struct xctx *xc, const struct node *n, bool result, int depth)
{
    struct ectx c;
    xctx_eval_init(xc, &c);
    value r;
    if (!expr_eval_node(&c, n->kids[0], &r))
        return false;
    if (r.type != V_LIST && r.type != V_MAP) {
        value_free(r);
        return false;
    }
    const struct node *pred = n->kids[1];
    size_t len = r.type == V_MAP ? value_map_len(&r) : value_list_len(&r);
    /* The element to explain: the first whose predicate is false for a false
     * all(), true for a true exists(); for exists_one(), the matches. */
    bool seek_false = n->op == M_ALL && !result, seek_true = n->op == M_EXISTS && result;
    size_t found = len, matches = 0, first_matches[3];
    for (size_t i = 0; i < len; i++) {
        xc->locals[n->slot] = r.type == V_MAP ? value_map_key_at(&r, i) : value_list_at(&r, i);
        value v;
        char msg[480];
        int t = truth(xc, pred, &v, msg, sizeof msg);
        value_free(v);
        if (n->op == M_EXISTS_ONE) {
            if (t == 1 && matches < 3)
                first_matches[matches] = i;
            matches += t == 1;
        } else if ((seek_false && t == 0) || (seek_true && t == 1)) {
            found = i;
            break;
        }
    }
    explain_src(sb, xc->x, n);
    sb_adds(sb, result ? " is true: " : " is false: ");
    if (found == len && len == 1 && matches == 0)
        found = 0; /* one element that does not match: why not */
    if (found < len) {
        xc->locals[n->slot] =
            r.type == V_MAP ? value_map_key_at(&r, found) : value_list_at(&r, found);
        describe_element(sb, &r, found, len);
        sb_adds(sb, ": ");
        explain_node(sb, xc, pred, depth + 1);
    } else if (len == 0) {
        explain_src(sb, xc->x, n->kids[0]);
        sb_adds(sb, " is empty");
    } else if (matches >= 2) {
        sb_addf(sb, "%zu elements make ", matches);
        explain_src(sb, xc->x, pred);
        sb_adds(sb, " true (");
        for (size_t i = 0; i < matches && i < 3; i++)
            sb_addf(sb, "%s%zu", i ? ", " : "", first_matches[i] + 1);
        sb_adds(sb, matches > 3 ? ", ...), not exactly one" : "), not exactly one");
    } else {
        sb_addf(sb, "none of the %zu elements makes ", len);
        explain_src(sb, xc->x, pred);
        sb_adds(sb, " true");
    }
    xc->locals[n->slot] = NULL;
    value_free(r);
    return true;
}

static void explain_node(strbuf *sb, struct xctx *xc, const struct node *n, int depth)
{
    char msg[480] = "";
    value v;
    int t = truth(xc, n, &v, msg, sizeof msg);
    if (n->kind == N_AND && t != 1 && depth < EXPR_MAX_DEPTH) {
        value_free(v);
        /* the first conjunct that is not true says why */
        for (int i = 0; i < 2; i++) {
            value kv;
            char km[480];
            int kt = truth(xc, n->kids[i], &kv, km, sizeof km);
            value_free(kv);
            if (kt != 1) {
                explain_node(sb, xc, n->kids[i], depth + 1);
                return;
            }
        }
        explain_src(sb, xc->x, n);
        sb_adds(sb, " is false");
        return;
    }
    if (n->kind == N_OR && t == 0 && depth < EXPR_MAX_DEPTH) {
        value_free(v);
        explain_node(sb, xc, n->kids[0], depth + 1);
        sb_adds(sb, ", and ");
        explain_node(sb, xc, n->kids[1], depth + 1);
        return;
    }
    if (n->kind == N_BIN && n->op >= OP_EQ && t >= 0) {
        explain_operand(sb, xc, n->kids[0]);
        sb_addf(sb, " %s ", expr_op_text(n->op));
        explain_operand(sb, xc, n->kids[1]);
        sb_adds(sb, t ? " is true" : " is false");
        value_free(v);
        return;
    }
    /* A comprehension: the element that decided (depth leaves room for the
     * predicate's own explanation). */
    if (n->kind == N_MACRO && t == 0 && depth < EXPR_MAX_DEPTH - 1 &&
        (n->op == M_ALL || n->op == M_EXISTS || n->op == M_EXISTS_ONE) &&
        explain_macro(sb, xc, n, false, depth)) {
        value_free(v);
        return;
    }
    /* !l.exists(x, p) is false: the element that makes p true. */
    if (n->kind == N_NOT && t == 0 && depth < EXPR_MAX_DEPTH - 1 && n->kids[0]->kind == N_MACRO &&
        n->kids[0]->op == M_EXISTS) {
        strbuf inner;
        sb_init(&inner);
        if (explain_macro(&inner, xc, n->kids[0], true, depth + 1)) {
            explain_src(sb, xc->x, n);
            sb_addf(sb, " is false: %s", inner.buf);
            sb_done(&inner);
            value_free(v);
            return;
        }
        sb_done(&inner);
    }
    explain_src(sb, xc->x, n);
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
    struct xctx xc;
    memset(&xc, 0, sizeof xc);
    xc.x = x;
    xc.vars = vars;
    explain_node(sb, &xc, x->root, 0);
}
