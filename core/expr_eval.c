/* expr_eval.c: evaluates compiled expressions (expr_internal.h) with CEL's
 * semantics: the walk over the tree, operators, field selection, && and ||,
 * macros; the built-in functions are in expr_fn.c, the budget in expr_ctx.c.
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
 * Equality and order follow cel-spec, documented for users in `strata eval
 * --help`: an int and a double are equal when they are the same number (`1 ==
 * 1.0`, `[1] == [1.0]`) and order as numbers (`1 < 1.5`); arithmetic still
 * needs one type (`1 + 1.5` is an error). Other values of different types are
 * never equal. Outside expressions values keep value_equal's exact types. */
#include "expr_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_fn.h"
#include "expr_time.h"
#include "instant.h"

/* ---- evaluation ---- */

static bool ev(struct ectx *c, const struct node *n, value *out);

static bool no_overload_bin(struct ectx *c, const struct node *n, const value *a, const value *b)
{
    return ectx_fail(c, n, "no such overload: %s %s %s", ectx_tname(a), expr_op_text(n->op),
                     ectx_tname(b));
}

static int cmp_values(const value *a, const value *b)
{
    switch (a->type) {
    case V_BOOL:
        return (int)a->u.b - (int)b->u.b;
    case V_INT:
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    case V_STRING: {
        size_t la = value_strlen(a), lb = value_strlen(b);
        int r = memcmp(value_str(a), value_str(b), la < lb ? la : lb);
        return r ? r : la < lb ? -1 : la > lb;
    }
    default:
        return 0;
    }
}

/* a OP b, both owned by the caller. */
static bool ev_bin(struct ectx *c, const struct node *n, const value *a, const value *b, value *out)
{
    int op = n->op;
    if (op == OP_EQ || op == OP_NE) {
        bool eq = value_equal_cel(a, b);
        *out = value_bool(op == OP_EQ ? eq : !eq);
        return true;
    }
    if (op == OP_IN) {
        if (b->type == V_LIST) {
            size_t len = value_list_len(b);
            for (size_t i = 0; i < len; i++) {
                if (!ectx_charge(c, n, 1))
                    return false;
                if (value_equal_cel(a, value_list_at(b, i))) {
                    *out = value_bool(true);
                    return true;
                }
            }
            *out = value_bool(false);
            return true;
        }
        if (b->type == V_MAP) {
            *out = value_bool(value_map_find(b, a) != NULL);
            return true;
        }
        return no_overload_bin(c, n, a, b);
    }
    if (a->type >= V_TIMESTAMP || b->type >= V_TIMESTAMP) /* a timestamp or a duration */
        return expr_time_bin(c, n, a, b, out);
    if (op >= OP_LT && a->type != b->type && (a->type == V_INT || a->type == V_DOUBLE) &&
        (b->type == V_INT || b->type == V_DOUBLE)) {
        int k = value_num_cmp(a, b); /* 2: a NaN, and every comparison is false */
        bool r = k != 2 && (op == OP_LT   ? k < 0
                            : op == OP_LE ? k <= 0
                            : op == OP_GT ? k > 0
                                          : k >= 0);
        *out = value_bool(r);
        return true;
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
        case OP_ADD:
            ovf = __builtin_add_overflow(x, y, &r);
            break;
        case OP_SUB:
            ovf = __builtin_sub_overflow(x, y, &r);
            break;
        case OP_MUL:
            ovf = __builtin_mul_overflow(x, y, &r);
            break;
        case OP_DIV:
            if (y == 0)
                return ectx_fail(c, n, "division by zero");
            ovf = x == INT64_MIN && y == -1;
            r = ovf ? 0 : x / y;
            break;
        default: /* OP_MOD */
            if (y == 0)
                return ectx_fail(c, n, "modulus by zero");
            ovf = x == INT64_MIN && y == -1;
            r = ovf ? 0 : x % y;
            break;
        }
        if (ovf)
            return ectx_fail(c, n, "integer overflow");
        *out = value_int(r);
        return true;
    }
    case V_DOUBLE: {
        double x = a->u.d, y = b->u.d;
        switch (op) {
        case OP_ADD:
            *out = value_double(x + y);
            return true;
        case OP_SUB:
            *out = value_double(x - y);
            return true;
        case OP_MUL:
            *out = value_double(x * y);
            return true;
        case OP_DIV:
            *out = value_double(x / y);
            return true;
        default:
            return no_overload_bin(c, n, a, b);
        }
    }
    case V_STRING: {
        if (op != OP_ADD)
            return no_overload_bin(c, n, a, b);
        size_t la = value_strlen(a), lb = value_strlen(b);
        if (!ectx_charge_string(c, n, la + lb))
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
            return ectx_too_large(c, n, la + lb, "elements");
        if (!ectx_charge(c, n, la + lb))
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

/* ---- fields and indexes, on borrowed values ---- */

static const value null_value = {V_NULL, 0, {0}};

/* b.f: the field, borrowed from b. */
static bool select_field(struct ectx *c, const struct node *n, const value *b, const value **out)
{
    if (b->type != V_MAP)
        return ectx_fail(c, n, "cannot select field '%s' of %s", n->name, ectx_tname(b));
    *out = value_map_getn(b, n->name, n->namelen);
    if (!*out)
        return ectx_fail(c, n, "no such key: %s", n->name);
    return true;
}

static bool has_field(struct ectx *c, const struct node *n, const value *b, value *out)
{
    if (b->type != V_MAP)
        return ectx_fail(c, n, "has() needs a map, got %s", ectx_tname(b));
    *out = value_bool(value_map_getn(b, n->name, n->namelen) != NULL);
    return true;
}

/* b[k]: the element, borrowed from b. */
static bool index_value(struct ectx *c, const struct node *n, const value *b, const value *k,
                        const value **out)
{
    if (b->type == V_MAP) {
        *out = value_map_find(b, k);
        if (*out)
            return true;
        if (k->type == V_STRING)
            return ectx_fail(c, n, "no such key: %s", value_str(k));
        strbuf sb;
        sb_init(&sb);
        ectx_describe(&sb, k);
        ectx_fail(c, n, "no such key: %s", sb.buf);
        sb_done(&sb);
        return false;
    }
    if (b->type == V_LIST && k->type == V_INT) {
        if (k->u.i < 0 || (uint64_t)k->u.i >= value_list_len(b))
            return ectx_fail(c, n, "index out of range: %lld (the list has %zu elements)",
                             (long long)k->u.i, value_list_len(b));
        *out = value_list_at(b, (size_t)k->u.i);
        return true;
    }
    return ectx_fail(c, n, "no such overload: %s[%s]", ectx_tname(b), ectx_tname(k));
}

/* Nodes marked `borrow` (constants, roots, macro variables, and fields and
 * indexes of those) evaluate to a pointer into a value someone already holds, so
 * the hot path of a rule (`state.balance >= payload.amount`) takes no reference
 * and frees nothing. Charges the budget like ev. */
static bool ev_borrow(struct ectx *c, const struct node *n, const value **out)
{
    if (c->budget <= 0)
        return ectx_charge(c, n, 1);
    c->budget--;
    switch (n->kind) {
    case N_CONST:
        c->made_time |= n->cval.type >= V_TIMESTAMP; /* folded: timestamp('...') */
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
        return ev_borrow(c, n->kids[0], &b) && ev_borrow(c, n->kids[1], &k) &&
               index_value(c, n, b, k, out);
    }
    default:
        return ectx_fail(c, n, "internal error: node cannot be borrowed");
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
        ectx_fail(c, parent, "'%s' needs bool operands, got %s",
                  parent->kind == N_AND ? "&&" : "||", ectx_tname(v));
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
        ectx_fail(c, n, "%s() ranges over a list or a map, not %s", expr_macro_name(n->op),
                  ectx_tname(&r));
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
    value key; /* an int or bool key of the map, as the variable sees it */
    if (n->op == M_MAP || n->op == M_FILTER)
        acc = value_list(len < 64 ? len : 64);
    const struct node *pred = n->kids[1];
    for (size_t i = 0; i < len && ok; i++) {
        if (!ectx_charge(c, n, 1)) {
            ok = false;
            break;
        }
        c->locals[n->slot] = is_map ? value_map_key_cel(&r, i, &key) : value_list_at(&r, i);
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
            ectx_fail(c, pred, "%s() needs a bool from its predicate, got %s",
                      expr_macro_name(n->op), ectx_tname(&v));
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
    case M_ALL:
        *out = value_bool(true);
        break;
    case M_EXISTS:
        *out = value_bool(false);
        break;
    case M_EXISTS_ONE:
        *out = value_bool(count == 1);
        break;
    default:
        *out = acc;
        break;
    }
    return true;
}

static bool ev(struct ectx *c, const struct node *n, value *out)
{
    if (c->budget <= 0)
        return ectx_charge(c, n, 1);
    c->budget--;
    switch (n->kind) {
    case N_CONST:
        c->made_time |= n->cval.type >= V_TIMESTAMP; /* folded: timestamp('...') */
        *out = value_ref(&n->cval);
        return true;
    case N_ROOT:
        *out = c->vars ? value_ref(&c->vars->roots[n->slot]) : value_null();
        return true;
    case N_LOCAL:
        *out = value_ref(c->locals[n->slot]);
        return true;
    case N_LIST: {
        if (!ectx_charge(c, n, (size_t)n->nkids))
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
            if (k.type != V_STRING && k.type != V_INT && k.type != V_BOOL) {
                ectx_fail(c, n->kids[i], "map keys must be strings, ints or bools, got %s",
                          ectx_tname(&k));
                value_free(k);
                value_free(m);
                return false;
            }
            if (value_map_find(&m, &k)) {
                strbuf sb;
                sb_init(&sb);
                ectx_describe(&sb, &k);
                ectx_fail(c, n->kids[i], "repeated map key %s", sb.buf);
                sb_done(&sb);
                value_free(k);
                value_free(m);
                return false;
            }
            if (!ev(c, n->kids[i + 1], &v)) {
                value_free(k);
                value_free(m);
                return false;
            }
            value_map_set_key(&m, &k, v);
            value_free(k);
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
            /* before tb is freed: p may point into it. A field the schema types as a
             * timestamp or duration is stored as text and read as what it is. */
            if (ok && n == c->text_root && n->type == EXPR_T_TIMESTAMP && p->type == V_STRING &&
                instant_is_canonical(value_str(p), value_strlen(p)))
                *out = value_ref(p); /* what expr_time_text would give back */
            else if (ok && expr_time_typed(n->type))
                ok = expr_time_lift(c, n, p, out);
            else if (ok)
                *out = value_ref(p);
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
            ectx_fail(c, n, "no such overload: !%s", ectx_tname(&v));
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
                return ectx_fail(c, n, "integer overflow");
            *out = value_int(-v.u.i);
            return true;
        }
        if (v.type == V_DOUBLE) {
            *out = value_double(-v.u.d);
            return true;
        }
        ectx_fail(c, n, "no such overload: -%s", ectx_tname(&v));
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
            ectx_fail(c, n, "the condition of '? :' needs a bool, got %s", ectx_tname(&v));
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
        bool ok = expr_call(c, n, args, nargs, out);
        for (int i = 0; i < nargs; i++)
            value_free(args[i]);
        return ok;
    }
    case N_MACRO:
        return ev_macro(c, n, out);
    }
    return ectx_fail(c, n, "internal error: unknown node");
}

bool expr_fold(const struct node *n, value *out)
{
    struct ectx c;
    ectx_init(&c, NULL);
    return ev(&c, n, out);
}

bool expr_eval_node(struct ectx *c, const struct node *n, value *out)
{
    return ev(c, n, out);
}

static int report(const expr *x, const struct ectx *c, err *e)
{
    strbuf sb;
    sb_init(&sb);
    ectx_source_excerpt(&sb, x->src, x->len);
    int line, col;
    size_t off = c->err_col > 1 ? (size_t)c->err_col - 1 : 0;
    if (x->file &&
        expr_span_locate(x->src, x->spans, x->nspans, off < x->len ? off : x->len, &line, &col))
        err_set(e, ST_ERR, "%s:%d:%d: `%s`: %s", x->file, line, col, sb.buf, c->msg);
    else
        err_set(e, ST_ERR, "`%s`: column %d: %s", sb.buf, c->err_col, c->msg);
    sb_done(&sb);
    return ST_ERR;
}

int expr_eval(const expr *x, const struct expr_vars *vars, value *out, err *e)
{
    struct ectx c;
    ectx_init(&c, vars);
    c.text_root = x->root;
    value v;
    if (!ev(&c, x->root, &v))
        return report(x, &c, e);
    if (x->string_keys && value_has_typed_keys(&v)) {
        /* what a domain's expression gives is stored (an event, state, a row) */
        ectx_fail(&c, x->root,
                  "the result holds a map with int or bool keys, which stored data "
                  "cannot have (stored maps have string keys: write {'1': ...})");
        c.err_col = 1;
        value_free(v);
        return report(x, &c, e);
    }
    *out = c.made_time ? expr_time_text(v) : v; /* what leaves is JSON's: text */
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
        ectx_fail(&c, x->root, "expected a bool, got %s", ectx_tname(&v));
        c.err_col = 1;
        value_free(v);
        return report(x, &c, e);
    }
    *out = v.u.b;
    return ST_OK;
}
