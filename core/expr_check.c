/* expr_check.c: the static checks of the compile step (expr_check.h), run on
 * the tree the parser built: each node's static type from its kids', the
 * operand types of operators, functions and macros that are certainly wrong
 * (reported at compile time, when a domain loads, instead of on some event in a
 * replay), unknown fields of roots whose schema is known, and the folding of
 * constant subtrees (by the evaluator's expr_fold, the one definition of what an
 * operator does). Apart from the parser because none of this depends on syntax:
 * it is the one place that knows the type rules. */
#include "expr_check.h"

#include <stdlib.h>
#include <string.h>

#include "expr_eval.h"
#include "expr_time.h"

#define TM EXPR_TM

static void __attribute__((format(printf, 3, 4)))
fail(struct expr_errsink *p, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    expr_vfail(p, at, fmt, ap);
    va_end(ap);
}

/* The schema of what base evaluates to: a root's from env, else what the
 * parser found for base (a record field, an element of a typed list or map). */
static const struct expr_schema *schema_of(const struct expr_env *env, const struct node *base)
{
    if (base->kind == N_ROOT)
        return env ? env->schema[base->slot] : NULL;
    return base->schema;
}

/* An unknown field of a root or record whose schema is known: "unknown field
 * 'balanse' of state (did you mean 'balance'?)", "unknown field 'too' of
 * Booking". Sets n->type and n->schema from the schema when it knows them. */
void expr_check_root_field(struct expr_errsink *p, const struct expr_env *env, struct node *n,
                           const struct node *base, const char *field, size_t at)
{
    const struct expr_schema *sc = schema_of(env, base);
    if (!sc || !sc->fields)
        return;
    for (size_t i = 0; i < sc->nfields; i++) {
        if (strcmp(sc->fields[i], field) == 0) {
            if (sc->types)
                n->type = sc->types[i];
            if (sc->subs)
                n->schema = sc->subs[i];
            return;
        }
    }
    const char *of = sc->name ? sc->name : expr_root_name(base->slot);
    const char *dym = did_you_mean(field, sc->fields, sc->nfields);
    if (dym)
        fail(p, at, "unknown field '%s' of %s (did you mean '%s'?)", field, of, dym);
    else
        fail(p, at, "unknown field '%s' of %s", field, of);
}

void expr_check_macro_var(const struct expr_env *env, const struct node *range,
                          const struct expr_schema **schema, expr_type *type)
{
    const struct expr_schema *sc = schema_of(env, range);
    *schema = NULL;
    *type = EXPR_T_ANY;
    /* a map's macros range over its keys, which the schema says nothing of */
    if (!sc || sc->fields || range->type != EXPR_T_LIST)
        return;
    *schema = sc->elem;
    /* a timestamp element is text until it is read through a field or an
     * index (expr_eval lifts it there), so the variable stays untyped */
    if (!expr_time_typed(sc->elem_type))
        *type = sc->elem_type;
}

bool expr_check_element(const struct expr_env *env, struct node *ix, const struct node *base)
{
    const struct expr_schema *sc = schema_of(env, base);
    if (!sc || sc->fields || (!sc->elem && sc->elem_type == EXPR_T_ANY))
        return false;
    ix->schema = sc->elem;
    ix->type = sc->elem_type;
    return true;
}

/* The types each operator accepts (both operands the same type). */
static unsigned op_types(int op)
{
    switch (op) {
    case OP_ADD:
        return TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM(EXPR_T_STRING) | TM(EXPR_T_LIST);
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
        return TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE);
    case OP_MOD:
        return TM(EXPR_T_INT);
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        return TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM(EXPR_T_STRING) | TM(EXPR_T_BOOL);
    default:
        return ~0u;
    }
}

/* True when n reads stored data (a root, or a field or element of one), whose
 * maps have string keys only. */
static bool reads_stored(const struct node *n)
{
    while (n->kind == N_SELECT || n->kind == N_INDEX)
        n = n->kids[0];
    return n->kind == N_ROOT;
}

static void check_bool_operand(struct expr_errsink *p, const struct node *n, const struct node *k,
                               const char *what)
{
    expr_type t = k->type;
    if (t != EXPR_T_ANY && t != EXPR_T_BOOL)
        fail(p, (size_t)n->column - 1, "%s needs a bool, got %s", what, expr_type_name(k->type));
}

/* a OP b when a or b is a timestamp or a duration: CEL's overloads are
 * timestamp +- duration, duration + timestamp, timestamp - timestamp (a duration),
 * duration +- duration, and comparisons within one type. With a dyn operand
 * the result is left to run time. */
static void type_time_bin(struct expr_errsink *p, struct node *n, expr_type a, expr_type b)
{
    const expr_type T = EXPR_T_TIMESTAMP, D = EXPR_T_DURATION, ANY = EXPR_T_ANY;
    int op = n->op;
    expr_type r = ANY;
    bool ok;
    if (op >= OP_LT && op <= OP_GE) {
        ok = a == ANY || b == ANY || a == b;
        r = EXPR_T_BOOL;
    } else if (op == OP_ADD) {
        ok = (a == T && (b == D || b == ANY)) || (a == D && (b == T || b == D || b == ANY)) ||
             (a == ANY && (b == T || b == D));
        if (a != ANY && b != ANY)
            r = a == T || b == T ? T : D;
    } else if (op == OP_SUB) {
        ok = (a == T && (b == T || b == D || b == ANY)) || (a == D && (b == D || b == ANY)) ||
             (a == ANY && (b == T || b == D));
        if (a != ANY && b != ANY)
            r = a == T && b == D ? T : D;
    } else {
        ok = false;
    }
    if (!ok) {
        fail(p, (size_t)n->column - 1, "no such overload: %s %s %s", expr_type_name(a),
             expr_op_text(op), expr_type_name(b));
        return;
    }
    n->type = r;
}

static void type_bin(struct expr_errsink *p, struct node *n)
{
    expr_type a = n->kids[0]->type, b = n->kids[1]->type;
    int op = n->op;
    size_t at = (size_t)n->column - 1;
    if (op == OP_EQ || op == OP_NE) {
        n->type = EXPR_T_BOOL;
        return;
    }
    if (op == OP_IN) {
        if (b != EXPR_T_ANY && b != EXPR_T_LIST && b != EXPR_T_MAP)
            fail(p, at, "no such overload: %s in %s", expr_type_name(a), expr_type_name(b));
        n->type = EXPR_T_BOOL;
        return;
    }
    if (expr_time_typed(a) || expr_time_typed(b)) {
        type_time_bin(p, n, a, b);
        return;
    }
    unsigned ok = op_types(op);
    bool cmp = op >= OP_LT;
    /* an int and a double compare as numbers (cel-spec); arithmetic needs one type */
    bool mixed_num = cmp && (TM(a) | TM(b)) == (TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE));
    if ((a != EXPR_T_ANY && !(ok & TM(a))) || (b != EXPR_T_ANY && !(ok & TM(b))) ||
        (a != EXPR_T_ANY && b != EXPR_T_ANY && a != b && !mixed_num)) {
        fail(p, at, "no such overload: %s %s %s", expr_type_name(a), expr_op_text(op),
             expr_type_name(b));
        return;
    }
    if (cmp)
        n->type = EXPR_T_BOOL;
    else if (a != EXPR_T_ANY)
        n->type = a;
    else
        n->type = b;
}

static void type_call(struct expr_errsink *p, struct node *n)
{
    const struct expr_fninfo *f = expr_fn_info(n->op);
    expr_type r = n->nkids ? n->kids[0]->type : EXPR_T_ANY;
    if (n->nkids && r != EXPR_T_ANY && !(f->recv & TM(r))) {
        if (n->method)
            fail(p, (size_t)n->column - 1, "no such overload: %s.%s()", expr_type_name(r), f->name);
        else
            fail(p, (size_t)n->column - 1, "no such overload: %s(%s%s)", f->name, expr_type_name(r),
                 n->nkids > 1 ? ", ..." : "");
        return;
    }
    /* argument types of the string methods and of put's key */
    for (int i = 1; i < n->nkids; i++) {
        expr_type t = n->kids[i]->type;
        if (t == EXPR_T_ANY)
            continue;
        expr_type want = EXPR_T_ANY;
        switch (n->op) {
        case FN_CONTAINS:
        case FN_STARTS_WITH:
        case FN_ENDS_WITH:
        case FN_REPLACE:
            want = i == 3 ? EXPR_T_INT : EXPR_T_STRING; /* the limit, then the strings */
            break;
        case FN_SPLIT:
            want = i == 2 ? EXPR_T_INT : EXPR_T_STRING;
            break;
        case FN_SUBSTRING:
            want = EXPR_T_INT;
            break;
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
            want = EXPR_T_STRING; /* a time zone */
            break;
        case FN_PUT:
            if (i == 1)
                want = EXPR_T_STRING;
            break;
        default:
            break;
        }
        if (want != EXPR_T_ANY && t != want) {
            fail(p, n->kids[i]->start, "%s() needs %s %s here, got %s", f->name,
                 want == EXPR_T_INT ? "an" : "a", expr_type_name(want), expr_type_name(t));
            return;
        }
    }
    switch (n->op) {
    case FN_SIZE:
        n->type = EXPR_T_INT;
        break;
    case FN_INT:
        n->type = EXPR_T_INT;
        break;
    case FN_DOUBLE:
        n->type = EXPR_T_DOUBLE;
        break;
    case FN_STRING:
        n->type = EXPR_T_STRING;
        break;
    case FN_BOOL:
        n->type = EXPR_T_BOOL;
        break;
    case FN_NOW:
    case FN_TIMESTAMP:
        n->type = EXPR_T_TIMESTAMP;
        break;
    case FN_DURATION:
        n->type = EXPR_T_DURATION;
        break;
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
        n->type = EXPR_T_INT;
        break;
    case FN_PUT:
        n->type = EXPR_T_MAP;
        break;
    case FN_REMOVE:
        n->type = r == EXPR_T_LIST || r == EXPR_T_MAP ? r : EXPR_T_ANY;
        break;
    case FN_CONTAINS:
    case FN_STARTS_WITH:
    case FN_ENDS_WITH:
        n->type = EXPR_T_BOOL;
        break;
    case FN_SPLIT:
        n->type = EXPR_T_LIST;
        break;
    default:
        n->type = EXPR_T_STRING;
        break;
    }
}

/* Bottom-up: the kids' types are known when their parent is typed, and a parent
 * whose kids all folded to constants may fold too. The recursion is bounded by
 * the tree's height cap. */
static void compile_node(struct expr_errsink *p, struct node *n)
{
    for (int i = 0; i < n->nkids && !p->failed; i++)
        compile_node(p, n->kids[i]);
    if (p->failed)
        return;
    bool foldable = true;
    switch (n->kind) {
    case N_CONST:
        n->type = expr_type_of(&n->cval);
        n->borrow = true;
        return;
    case N_ROOT:
        n->type = n->slot == ROOT_RECORD ? EXPR_T_ANY
                  : n->slot == ROOT_KEY || n->slot == ROOT_TYPE || n->slot == ROOT_STREAM
                      ? EXPR_T_STRING
                  : n->slot == ROOT_TIME     ? EXPR_T_TIMESTAMP
                  : n->slot == ROOT_POSITION ? EXPR_T_INT
                                             : EXPR_T_MAP;
        n->borrow = true;
        return;
    case N_LOCAL:
        /* n->type: the parser's (the element type of a typed list), else any */
        n->borrow = true;
        return;
    case N_LIST:
        n->type = EXPR_T_LIST;
        break;
    case N_MAP:
        n->type = EXPR_T_MAP;
        for (int i = 0; i < n->nkids; i += 2) {
            expr_type t = n->kids[i]->type;
            if (t != EXPR_T_ANY && t != EXPR_T_STRING && t != EXPR_T_INT && t != EXPR_T_BOOL) {
                fail(p, n->kids[i]->start, "map keys must be strings, ints or bools, got %s",
                     expr_type_name(t));
                return;
            }
        }
        break;
    case N_SELECT:
    case N_HAS: {
        expr_type t = n->kids[0]->type;
        if (t != EXPR_T_ANY && t != EXPR_T_MAP) {
            fail(p, (size_t)n->column - 1, "cannot select field '%s' of %s", n->name,
                 expr_type_name(t));
            return;
        }
        if (n->kind == N_HAS)
            n->type = EXPR_T_BOOL;
        break;
    }
    case N_INDEX: {
        expr_type t = n->kids[0]->type, k = n->kids[1]->type;
        /* a map literal may have int and bool keys (and a double finds an int key);
         * stored data's maps have string keys only, so another key there is an error */
        unsigned literal_keys = TM(EXPR_T_ANY) | TM(EXPR_T_STRING) | TM(EXPR_T_INT) |
                                TM(EXPR_T_BOOL) | TM(EXPR_T_DOUBLE);
        bool stored = reads_stored(n->kids[0]);
        bool stored_key = k == EXPR_T_ANY || k == EXPR_T_STRING;
        if ((t == EXPR_T_LIST && k != EXPR_T_ANY && k != EXPR_T_INT) ||
            (t == EXPR_T_MAP && !(literal_keys & TM(k))) ||
            (t == EXPR_T_MAP && stored && !stored_key) ||
            (t != EXPR_T_ANY && t != EXPR_T_LIST && t != EXPR_T_MAP)) {
            bool hint = t == EXPR_T_MAP && stored && (literal_keys & TM(k)) && !stored_key;
            fail(p, (size_t)n->column - 1, "no such overload: %s[%s]%s", expr_type_name(t),
                 expr_type_name(k), hint ? " (stored maps have string keys)" : "");
            return;
        }
        break;
    }
    case N_NOT:
        check_bool_operand(p, n, n->kids[0], "'!'");
        n->type = EXPR_T_BOOL;
        break;
    case N_NEG: {
        expr_type t = n->kids[0]->type;
        if (t != EXPR_T_ANY && t != EXPR_T_INT && t != EXPR_T_DOUBLE) {
            fail(p, (size_t)n->column - 1, "no such overload: -%s", expr_type_name(t));
            return;
        }
        n->type = t;
        break;
    }
    case N_BIN:
        type_bin(p, n);
        break;
    case N_AND:
    case N_OR:
        /* An operand that is certainly not a bool is refused here, when the domain
         * loads, rather than met on some event, except when the other operand is
         * a constant that decides the result (`false && 32`, `'x' || true`): CEL
         * then never looks at it, so the expression is valid CEL with one value. */
        for (int i = 0; i < 2; i++) {
            const struct node *o = n->kids[1 - i];
            if (o->kind == N_CONST && o->cval.type == V_BOOL && o->cval.u.b == (n->kind == N_OR))
                continue;
            check_bool_operand(p, n, n->kids[i], n->kind == N_AND ? "'&&'" : "'||'");
        }
        n->type = EXPR_T_BOOL;
        break;
    case N_COND:
        check_bool_operand(p, n, n->kids[0], "the condition of '? :'");
        n->type = n->kids[1]->type == n->kids[2]->type ? n->kids[1]->type : EXPR_T_ANY;
        break;
    case N_CALL:
        type_call(p, n);
        if (n->op == FN_NOW)
            return; /* the clock is not a constant */
        break;
    case N_MACRO: {
        expr_type t = n->kids[0]->type;
        if (t != EXPR_T_ANY && t != EXPR_T_LIST && t != EXPR_T_MAP) {
            fail(p, (size_t)n->column - 1, "%s() ranges over a list or a map, not %s",
                 expr_macro_name(n->op), expr_type_name(t));
            return;
        }
        if (n->op != M_MAP || n->nkids == 3)
            check_bool_operand(p, n, n->kids[1],
                               n->op == M_MAP ? "map()'s filter" : "the macro's predicate");
        n->type = n->op == M_MAP || n->op == M_FILTER ? EXPR_T_LIST : EXPR_T_BOOL;
        foldable = false; /* its body refers to the variable */
        break;
    }
    }
    if (p->failed)
        return;
    /* A timestamp or duration field is stored as text and read as what it is: a
     * new value, not a pointer into the one held. */
    if (n->kind == N_SELECT)
        n->borrow = n->kids[0]->borrow && !expr_time_typed(n->type);
    else if (n->kind == N_INDEX)
        n->borrow = n->kids[0]->borrow && n->kids[1]->borrow && !expr_time_typed(n->type);
    if (!foldable)
        return;
    for (int i = 0; i < n->nkids; i++)
        if (n->kids[i]->kind != N_CONST)
            return;
    value v;
    if (!expr_fold(n, &v))
        return; /* left for run time, where the error is reported in context */
    for (int i = 0; i < n->nkids; i++) {
        value_free(n->kids[i]->cval);
        n->kids[i]->cval = value_null();
    }
    free(n->kids);
    n->kids = NULL;
    n->nkids = 0;
    free(n->name);
    n->name = NULL;
    n->kind = N_CONST;
    n->cval = v;
    n->type = expr_type_of(&v);
    n->borrow = true;
}

void expr_check_tree(struct expr_errsink *sink, struct node *root)
{
    compile_node(sink, root);
}
