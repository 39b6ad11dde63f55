/* expr_parse.c: the expression language's parser (recursive descent over the
 * tokens of expr_lex.c, the EBNF in domain-language.md) and the compile step
 * around it: expr_compile resolves names to root slots and macro locals while it
 * parses (roots a slot may not use and now() outside emit are refused here, with
 * the names that are allowed), then hands the tree to expr_check.c for types,
 * schema checks and folding. Its public functions are declared in expr.h.
 *
 * Everything here works on a byte buffer with an explicit length (the fuzzer
 * calls it directly), stops at the first error, and reports it as a column and a
 * message. Parser recursion is capped at EXPR_MAX_DEPTH and so is the height of
 * the tree built, which bounds the C stack both here and in the evaluator. */
#include "expr_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_check.h"
#include "expr_lex.h"

struct scope_var {
    const char *name;
    size_t len;
    /* what is known of its value: the elements of a list<T> it ranges over */
    const struct expr_schema *schema;
    expr_type type;
};

struct parser {
    struct expr_errsink err; /* the first error */
    struct expr_lexer lx;    /* lx.tok is the current token */
    const struct expr_env *env;
    int depth;
    struct scope_var locals[EXPR_MAX_DEPTH];
    int nlocals;
    struct expr *x; /* owns the nodes */
    size_t nodes_cap;
};

/* Records the first error; later ones are consequences and are dropped. */
static void __attribute__((format(printf, 3, 4)))
fail(struct parser *p, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    expr_vfail(&p->err, at, fmt, ap);
    va_end(ap);
}

static void advance(struct parser *p)
{
    expr_lex_next(&p->lx);
}

static bool expect(struct parser *p, enum expr_tok t, const char *what)
{
    if (p->err.failed)
        return false;
    if (p->lx.tok.t != t) {
        fail(p, p->lx.tok.start, "expected %s %s, found %s", expr_tok_desc(t), what,
             expr_tok_desc(p->lx.tok.t));
        return false;
    }
    advance(p);
    return !p->err.failed;
}

/* ---- nodes ---- */

static struct node *node_new(struct parser *p, node_kind kind, size_t column_at, size_t start,
                             size_t end)
{
    struct node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->column = (int)column_at + 1;
    n->start = (uint32_t)start;
    n->end = (uint32_t)end;
    n->height = 1;
    n->cval = value_null();
    struct expr *x = p->x;
    if (x->nnodes == p->nodes_cap) {
        p->nodes_cap = p->nodes_cap ? p->nodes_cap * 2 : 32;
        x->nodes = xrealloc(x->nodes, p->nodes_cap * sizeof *x->nodes);
    }
    x->nodes[x->nnodes++] = n;
    return n;
}

/* Adds a kid and keeps the height cap: a tall tree would mean deep recursion. */
static void node_add(struct parser *p, struct node *n, struct node *kid)
{
    n->kids = xrealloc(n->kids, (size_t)(n->nkids + 1) * sizeof *n->kids);
    n->kids[n->nkids++] = kid;
    if (kid->height + 1 > n->height) {
        n->height = kid->height + 1;
        if (n->height > EXPR_MAX_DEPTH)
            fail(p, n->column - 1, "expression nested too deeply (more than %d levels)",
                 EXPR_MAX_DEPTH);
    }
    if (kid->start < n->start)
        n->start = kid->start;
    if (kid->end > n->end)
        n->end = kid->end;
}

static struct node *node_const(struct parser *p, value v, size_t start, size_t end)
{
    struct node *n = node_new(p, N_CONST, start, start, end);
    n->cval = v;
    return n;
}

static struct node *parse_expr(struct parser *p);

static void fail_unknown_fn(struct parser *p, size_t at, const char *name, bool method)
{
    size_t nfunctions;
    const struct expr_fninfo *functions = expr_fn_table(&nfunctions);
    const char *cands[FN_COUNT + M_COUNT + 1]; /* the functions, then the macros or has */
    size_t nc = 0;
    for (size_t i = 0; i < nfunctions; i++)
        if (method ? functions[i].method : functions[i].global)
            cands[nc++] = functions[i].name;
    if (method)
        for (size_t i = 0; i < M_COUNT; i++)
            cands[nc++] = expr_macro_name(i);
    else
        cands[nc++] = "has";
    const char *dym = did_you_mean(name, cands, nc);
    const struct expr_fninfo *other = expr_fn_find(name);
    if (other && method)
        fail(p, at, "%s() is a function, not a method: write %s(x)", name, name);
    else if (other && !method)
        fail(p, at, "%s() is a method, not a function: write x.%s(...)", name, name);
    else if (dym)
        fail(p, at, "unknown %s '%s' (did you mean '%s'?)", method ? "method" : "function", name,
             dym);
    else
        fail(p, at, "unknown %s '%s'", method ? "method" : "function", name);
}

/* Parses "( [list] )" after a function name into n's kids; p->lx.tok is at '('. */
static void parse_args(struct parser *p, struct node *n)
{
    if (!expect(p, T_LPAREN, "to start the arguments"))
        return;
    if (p->lx.tok.t != T_RPAREN) {
        for (;;) {
            struct node *a = parse_expr(p);
            if (!a)
                return;
            node_add(p, n, a);
            if (p->lx.tok.t != T_COMMA)
                break;
            advance(p);
        }
    }
    n->end = (uint32_t)p->lx.tok.end;
    expect(p, T_RPAREN, "to close the arguments");
}

static void check_arity(struct parser *p, const struct node *n, const struct expr_fninfo *f,
                        size_t at)
{
    int got = n->nkids - (n->method ? 1 : 0);
    int lo = f->min_args, hi = f->max_args;
    if (f->fn == FN_SIZE && !n->method)
        lo = hi = 1; /* size(x) and x.size() */
    if (got >= lo && got <= hi)
        return;
    if (lo == hi)
        fail(p, at, "%s() takes %d argument%s, got %d", f->name, lo, lo == 1 ? "" : "s", got);
    else
        fail(p, at, "%s() takes %d to %d arguments, got %d", f->name, lo, hi, got);
}

/* ---- names ---- */

static void root_list(unsigned allowed, strbuf *sb)
{
    int cnt = 0, total = 0;
    for (int r = 0; r < ROOT_COUNT; r++)
        if (allowed & ROOT_BIT(r))
            total++;
    for (int r = 0; r < ROOT_COUNT; r++) {
        if (!(allowed & ROOT_BIT(r)))
            continue;
        if (cnt)
            sb_adds(sb, cnt == total - 1 ? " or " : ", ");
        sb_adds(sb, expr_root_name(r));
        cnt++;
    }
}

static struct node *resolve_name(struct parser *p, const char *name, size_t len, size_t start,
                                 size_t end)
{
    for (int i = p->nlocals - 1; i >= 0; i--) {
        if (p->locals[i].len == len && memcmp(p->locals[i].name, name, len) == 0) {
            struct node *n = node_new(p, N_LOCAL, start, start, end);
            n->slot = i;
            n->schema = p->locals[i].schema;
            n->type = p->locals[i].type;
            return n;
        }
    }
    for (int r = 0; r < ROOT_COUNT; r++) {
        if (strlen(expr_root_name(r)) != len || memcmp(expr_root_name(r), name, len) != 0)
            continue;
        if ((ROOT_BIT(r) & ROOT_ENVELOPE_BITS) && !(p->env && (p->env->allowed & ROOT_BIT(r))))
            continue; /* an envelope name only where allowed by name: elsewhere unknown */
        if (p->env && !(p->env->allowed & ROOT_BIT(r))) {
            strbuf sb;
            sb_init(&sb);
            unsigned roots = p->env->allowed & ((1u << ROOT_COUNT) - 1);
            if (roots) {
                sb_adds(&sb, "; use ");
                root_list(roots, &sb);
            }
            fail(p, start, "'%s' is not available in %s%s", expr_root_name(r),
                 p->env->slot ? p->env->slot : "this expression", sb.buf ? sb.buf : "");
            sb_done(&sb);
            return NULL;
        }
        struct node *n = node_new(p, N_ROOT, start, start, end);
        n->slot = r;
        return n;
    }
    const char *cands[ROOT_COUNT + EXPR_MAX_DEPTH];
    size_t nc = 0;
    for (int r = 0; r < ROOT_COUNT; r++)
        if ((p->env ? p->env->allowed : ROOT_DEFAULT_BITS) & ROOT_BIT(r))
            cands[nc++] = expr_root_name(r);
    const char *dym = did_you_mean(name, cands, nc);
    if (dym) {
        fail(p, start, "unknown name '%s' (did you mean '%s'?)", name, dym);
    } else {
        strbuf sb;
        sb_init(&sb);
        root_list(p->env ? p->env->allowed : ROOT_DEFAULT_BITS, &sb);
        fail(p, start, "unknown name '%s'%s%s", name, sb.len ? "; expressions start from " : "",
             sb.buf ? sb.buf : "");
        sb_done(&sb);
    }
    return NULL;
}

/* ---- grammar ---- */

static struct node *parse_macro(struct parser *p, struct node *range, int m, size_t name_at,
                                size_t name_end)
{
    struct node *n = node_new(p, N_MACRO, name_at, range->start, name_end);
    n->op = m;
    node_add(p, n, range);
    if (!expect(p, T_LPAREN, "after the macro's name"))
        return NULL;
    if (p->lx.tok.t != T_IDENT) {
        fail(p, p->lx.tok.start,
             "%s() needs a variable name as its first argument, like l.%s(x, ...)",
             expr_macro_name(m), expr_macro_name(m));
        return NULL;
    }
    if (p->nlocals >= EXPR_MAX_DEPTH) {
        fail(p, p->lx.tok.start, "macros nested too deeply");
        return NULL;
    }
    size_t var_at = p->lx.tok.start; /* the variable may shadow a root, as in CEL */
    char *var = xstrndup(p->lx.tok.str.buf, p->lx.tok.str.len);
    size_t varlen = p->lx.tok.str.len;
    advance(p);
    if (p->lx.tok.t != T_COMMA) {
        free(var);
        fail(p, p->err.failed ? var_at : p->lx.tok.start,
             "%s() needs a variable name as its first argument, like l.%s(x, ...)",
             expr_macro_name(m), expr_macro_name(m));
        return NULL;
    }
    advance(p);
    p->locals[p->nlocals].name = var;
    p->locals[p->nlocals].len = varlen;
    expr_check_macro_var(p->env, range, &p->locals[p->nlocals].schema, &p->locals[p->nlocals].type);
    n->slot = p->nlocals++;
    int nbody = 0;
    for (;;) {
        struct node *b = parse_expr(p);
        if (!b)
            break;
        node_add(p, n, b);
        nbody++;
        if (p->lx.tok.t != T_COMMA)
            break;
        advance(p);
    }
    p->nlocals--;
    free(var);
    if (p->err.failed)
        return NULL;
    if (!(nbody == 1 || (nbody == 2 && m == M_MAP))) {
        if (m == M_MAP)
            fail(p, name_at, "map() takes 2 or 3 arguments, got %d", nbody + 1);
        else
            fail(p, name_at, "%s() takes 2 arguments, got %d", expr_macro_name(m), nbody + 1);
        return NULL;
    }
    n->end = (uint32_t)p->lx.tok.end;
    if (!expect(p, T_RPAREN, "to close the macro"))
        return NULL;
    return n;
}

static struct node *parse_primary(struct parser *p)
{
    if (p->err.failed)
        return NULL;
    struct expr_token *t = &p->lx.tok;
    size_t start = t->start, end = t->end;
    switch (t->t) {
    case T_INT: {
        uint64_t v = t->ival;
        struct node *n =
            node_const(p, value_int(v > (uint64_t)INT64_MAX ? INT64_MIN : (int64_t)v), start, end);
        n->big_literal = v > (uint64_t)INT64_MAX;
        advance(p);
        return n;
    }
    case T_DOUBLE: {
        struct node *n = node_const(p, value_double(t->dval), start, end);
        advance(p);
        return n;
    }
    case T_STRING: {
        struct node *n =
            node_const(p, value_string(t->str.buf ? t->str.buf : "", t->str.len), start, end);
        advance(p);
        return n;
    }
    case T_TRUE:
    case T_FALSE: {
        struct node *n = node_const(p, value_bool(t->t == T_TRUE), start, end);
        advance(p);
        return n;
    }
    case T_NULL: {
        struct node *n = node_const(p, value_null(), start, end);
        advance(p);
        return n;
    }
    case T_LPAREN: {
        advance(p);
        struct node *n = parse_expr(p);
        if (!n)
            return NULL;
        size_t close = p->lx.tok.end;
        if (!expect(p, T_RPAREN, "to close '('"))
            return NULL;
        /* the parenthesised span, so explanations quote what was written */
        if (start < n->start)
            n->start = (uint32_t)start;
        if (close > n->end)
            n->end = (uint32_t)close;
        return n;
    }
    case T_LBRACKET: {
        struct node *n = node_new(p, N_LIST, start, start, end);
        advance(p);
        while (p->lx.tok.t != T_RBRACKET && !p->err.failed) {
            struct node *e = parse_expr(p);
            if (!e)
                return NULL;
            node_add(p, n, e);
            if (p->lx.tok.t != T_COMMA)
                break;
            advance(p);
        }
        n->end = (uint32_t)p->lx.tok.end;
        if (!expect(p, T_RBRACKET, "to close the list"))
            return NULL;
        return n;
    }
    case T_LBRACE: {
        struct node *n = node_new(p, N_MAP, start, start, end);
        advance(p);
        while (p->lx.tok.t != T_RBRACE && !p->err.failed) {
            struct node *k = parse_expr(p);
            if (!k)
                return NULL;
            if (!expect(p, T_COLON, "between a key and its value"))
                return NULL;
            struct node *v = parse_expr(p);
            if (!v)
                return NULL;
            node_add(p, n, k);
            node_add(p, n, v);
            if (p->lx.tok.t != T_COMMA)
                break;
            advance(p);
        }
        n->end = (uint32_t)p->lx.tok.end;
        if (!expect(p, T_RBRACE, "to close the map"))
            return NULL;
        return n;
    }
    case T_IDENT: {
        char *name = xstrndup(t->str.buf, t->str.len);
        size_t len = t->str.len;
        advance(p);
        if (p->err.failed) {
            free(name);
            return NULL;
        }
        if (p->lx.tok.t != T_LPAREN) {
            struct node *n = resolve_name(p, name, len, start, end);
            free(name);
            return n;
        }
        /* a global function call */
        if (strcmp(name, "has") == 0) {
            free(name);
            struct node *n = node_new(p, N_HAS, start, start, end);
            advance(p);
            struct node *arg = parse_expr(p);
            if (!arg)
                return NULL;
            if (arg->kind != N_SELECT) {
                fail(p, arg->start, "has() needs a field selection, like has(state.field)");
                return NULL;
            }
            n->end = (uint32_t)p->lx.tok.end;
            if (p->lx.tok.t == T_COMMA) {
                fail(p, start, "has() takes 1 argument");
                return NULL;
            }
            if (!expect(p, T_RPAREN, "to close has("))
                return NULL;
            /* has(a.f) tests a's field f: take over the selection's operand and name */
            n->name = arg->name;
            n->namelen = arg->namelen;
            arg->name = NULL;
            n->type = EXPR_T_BOOL;
            node_add(p, n, arg->kids[0]);
            n->column = arg->column;
            return n;
        }
        const struct expr_fninfo *f = expr_fn_find(name);
        if (!f || !f->global) {
            fail_unknown_fn(p, start, name, false);
            free(name);
            return NULL;
        }
        free(name);
        struct node *n = node_new(p, N_CALL, start, start, end);
        n->op = f->fn;
        if (f->fn == FN_NOW && p->env && !(p->env->allowed & EXPR_ALLOW_NOW)) {
            fail(p, start, "now() is only allowed in require and emit (a command's clock)");
            return NULL;
        }
        parse_args(p, n);
        if (p->err.failed)
            return NULL;
        check_arity(p, n, f, start);
        return p->err.failed ? NULL : n;
    }
    case T_EOF:
        fail(p, start, "expression ends too early");
        return NULL;
    default:
        fail(p, start, "expected a value, found %s", expr_tok_desc(t->t));
        return NULL;
    }
}

static struct node *parse_member(struct parser *p)
{
    struct node *n = parse_primary(p);
    while (n && !p->err.failed) {
        if (p->lx.tok.t == T_DOT) {
            advance(p);
            if (p->lx.tok.t != T_IDENT) {
                fail(p, p->lx.tok.start, "expected a field or method name after '.'");
                return NULL;
            }
            size_t at = p->lx.tok.start, end = p->lx.tok.end;
            char *name = xstrndup(p->lx.tok.str.buf, p->lx.tok.str.len);
            size_t len = p->lx.tok.str.len;
            advance(p);
            if (p->err.failed) {
                free(name);
                return NULL;
            }
            if (n->big_literal) {
                free(name);
                fail(p, n->start, "integer literal out of range");
                return NULL;
            }
            if (p->lx.tok.t == T_LPAREN) {
                int m = -1;
                for (int k = 0; k < (int)(M_COUNT); k++)
                    if (strcmp(name, expr_macro_name(k)) == 0)
                        m = k;
                if (m >= 0) {
                    free(name);
                    n = parse_macro(p, n, m, at, end);
                    continue;
                }
                const struct expr_fninfo *f = expr_fn_find(name);
                if (!f || !f->method) {
                    fail_unknown_fn(p, at, name, true);
                    free(name);
                    return NULL;
                }
                free(name);
                struct node *c = node_new(p, N_CALL, at, n->start, end);
                c->op = f->fn;
                c->method = true;
                node_add(p, c, n);
                parse_args(p, c);
                if (p->err.failed)
                    return NULL;
                check_arity(p, c, f, at);
                n = c;
                continue;
            }
            struct node *s = node_new(p, N_SELECT, at, n->start, end);
            s->name = name;
            s->namelen = len;
            node_add(p, s, n);
            expr_check_root_field(&p->err, p->env, s, n, name, at);
            n = s;
        } else if (p->lx.tok.t == T_LBRACKET) {
            size_t at = p->lx.tok.start;
            if (n->big_literal) {
                fail(p, n->start, "integer literal out of range");
                return NULL;
            }
            advance(p);
            struct node *k = parse_expr(p);
            if (!k)
                return NULL;
            struct node *ix = node_new(p, N_INDEX, at, n->start, p->lx.tok.end);
            node_add(p, ix, n);
            node_add(p, ix, k);
            ix->end = (uint32_t)p->lx.tok.end;
            if (!expect(p, T_RBRACKET, "to close '['"))
                return NULL;
            if (expr_check_element(p->env, ix, n))
                ; /* an element of a typed list or map */
            else if (k->kind == N_CONST && k->cval.type == V_STRING &&
                     memchr(value_str(&k->cval), 0, value_strlen(&k->cval)) == NULL)
                expr_check_root_field(&p->err, p->env, ix, n, value_str(&k->cval), k->start);
            n = ix;
        } else {
            break;
        }
    }
    return p->err.failed ? NULL : n;
}

static struct node *parse_unary(struct parser *p)
{
    size_t ops[EXPR_MAX_DEPTH + 1];
    enum expr_tok kinds[EXPR_MAX_DEPTH + 1];
    int nops = 0;
    while (p->lx.tok.t == T_NOT || p->lx.tok.t == T_MINUS) {
        if (nops == EXPR_MAX_DEPTH) {
            fail(p, p->lx.tok.start, "expression nested too deeply (more than %d levels)",
                 EXPR_MAX_DEPTH);
            return NULL;
        }
        ops[nops] = p->lx.tok.start;
        kinds[nops++] = p->lx.tok.t;
        advance(p);
    }
    if (p->err.failed)
        return NULL;
    struct node *n = parse_member(p);
    if (!n)
        return NULL;
    if (n->big_literal) {
        /* -9223372036854775808 is INT64_MIN; the literal alone does not fit */
        if (nops == 0 || kinds[nops - 1] != T_MINUS) {
            fail(p, n->start, "integer literal out of range");
            return NULL;
        }
        n->big_literal = false;
        n->start = (uint32_t)ops[nops - 1];
        n->column = (int)ops[nops - 1] + 1;
        nops--;
    }
    while (nops > 0) {
        nops--;
        struct node *u =
            node_new(p, kinds[nops] == T_NOT ? N_NOT : N_NEG, ops[nops], ops[nops], n->end);
        node_add(p, u, n);
        n = u;
    }
    return p->err.failed ? NULL : n;
}

static struct node *binary(struct parser *p, node_kind kind, int op, size_t at, struct node *l,
                           struct node *r)
{
    struct node *n = node_new(p, kind, at, l->start, r->end);
    n->op = op;
    node_add(p, n, l);
    node_add(p, n, r);
    return p->err.failed ? NULL : n;
}

static struct node *parse_mul(struct parser *p)
{
    struct node *l = parse_unary(p);
    while (l && (p->lx.tok.t == T_STAR || p->lx.tok.t == T_SLASH || p->lx.tok.t == T_PERCENT)) {
        int op = p->lx.tok.t == T_STAR ? OP_MUL : p->lx.tok.t == T_SLASH ? OP_DIV : OP_MOD;
        size_t at = p->lx.tok.start;
        advance(p);
        struct node *r = parse_unary(p);
        if (!r)
            return NULL;
        l = binary(p, N_BIN, op, at, l, r);
    }
    return l;
}

static struct node *parse_add(struct parser *p)
{
    struct node *l = parse_mul(p);
    while (l && (p->lx.tok.t == T_PLUS || p->lx.tok.t == T_MINUS)) {
        int op = p->lx.tok.t == T_PLUS ? OP_ADD : OP_SUB;
        size_t at = p->lx.tok.start;
        advance(p);
        struct node *r = parse_mul(p);
        if (!r)
            return NULL;
        l = binary(p, N_BIN, op, at, l, r);
    }
    return l;
}

static int relop(enum expr_tok t)
{
    switch (t) {
    case T_EQ:
        return OP_EQ;
    case T_NE:
        return OP_NE;
    case T_LT:
        return OP_LT;
    case T_LE:
        return OP_LE;
    case T_GT:
        return OP_GT;
    case T_GE:
        return OP_GE;
    case T_IN:
        return OP_IN;
    default:
        return -1;
    }
}

static struct node *parse_rel(struct parser *p)
{
    struct node *l = parse_add(p);
    int op = l ? relop(p->lx.tok.t) : -1;
    if (op < 0)
        return l;
    size_t at = p->lx.tok.start;
    advance(p);
    struct node *r = parse_add(p);
    if (!r)
        return NULL;
    l = binary(p, N_BIN, op, at, l, r);
    if (l && relop(p->lx.tok.t) >= 0) {
        fail(p, p->lx.tok.start, "comparisons do not chain; add parentheses, or use &&");
        return NULL;
    }
    return l;
}

static struct node *parse_and(struct parser *p)
{
    struct node *l = parse_rel(p);
    while (l && p->lx.tok.t == T_AND) {
        size_t at = p->lx.tok.start;
        advance(p);
        struct node *r = parse_rel(p);
        if (!r)
            return NULL;
        l = binary(p, N_AND, 0, at, l, r);
    }
    return l;
}

static struct node *parse_or(struct parser *p)
{
    struct node *l = parse_and(p);
    while (l && p->lx.tok.t == T_OR) {
        size_t at = p->lx.tok.start;
        advance(p);
        struct node *r = parse_and(p);
        if (!r)
            return NULL;
        l = binary(p, N_OR, 0, at, l, r);
    }
    return l;
}

static struct node *parse_expr(struct parser *p)
{
    if (p->err.failed)
        return NULL;
    if (++p->depth > EXPR_MAX_DEPTH) {
        fail(p, p->lx.tok.start, "expression nested too deeply (more than %d levels)",
             EXPR_MAX_DEPTH);
        return NULL;
    }
    struct node *c = parse_or(p);
    if (c && p->lx.tok.t == T_QUESTION) {
        size_t at = p->lx.tok.start;
        advance(p);
        struct node *a = parse_or(p);
        if (!a || !expect(p, T_COLON, "in '? :'")) {
            p->depth--;
            return NULL;
        }
        struct node *b = parse_expr(p);
        if (!b) {
            p->depth--;
            return NULL;
        }
        struct node *n = node_new(p, N_COND, at, c->start, b->end);
        node_add(p, n, c);
        node_add(p, n, a);
        node_add(p, n, b);
        c = n;
    }
    p->depth--;
    return p->err.failed ? NULL : c;
}

/* A domain's expression gives data to store (an event's field, state, a row),
 * whose maps have string keys only: a result that is certainly a map with an
 * int or bool key is refused when the domain loads. One that only may be is
 * refused by expr_eval. */
static void check_result_keys(struct parser *p, const struct node *root)
{
    if (root->kind == N_CONST && value_has_typed_keys(&root->cval)) {
        fail(p, root->start,
             "a map with int or bool keys cannot be stored (stored maps have "
             "string keys: write {'1': ...})");
        return;
    }
    if (root->kind != N_MAP)
        return;
    for (int i = 0; i < root->nkids; i += 2) {
        expr_type t = root->kids[i]->type;
        if (t == EXPR_T_INT || t == EXPR_T_BOOL) {
            fail(p, root->kids[i]->start,
                 "a map key that is %s cannot be stored (stored maps have "
                 "string keys: write {'1': ...})",
                 expr_type_name(t));
            return;
        }
    }
}

expr *expr_compile(const char *src, size_t len, const struct expr_env *env, err *ee)
{
    err dummy;
    if (!ee)
        ee = &dummy;
    if (!src) {
        src = "";
        len = 0;
    }
    err_clear(ee);
    if (len > EXPR_MAX_LENGTH) {
        err_set_at(ee, ST_ERR, NULL, 0, 1, "expression too long (%zu bytes; at most %d)", len,
                   EXPR_MAX_LENGTH);
        return NULL;
    }
    struct expr *x = xcalloc(1, sizeof *x);
    x->src = xstrndup(src, len);
    x->len = len;
    struct parser p;
    memset(&p, 0, sizeof p);
    p.err.ee = ee;
    p.env = env;
    p.x = x;
    expr_lex_init(&p.lx, x->src, len, &p.err);
    /* NUL bytes would make the copy above shorter than len */
    if (memchr(src, 0, len)) {
        fail(&p, (size_t)((const char *)memchr(src, 0, len) - src), "unexpected NUL byte");
    } else {
        advance(&p);
        if (!p.err.failed && p.lx.tok.t == T_EOF)
            fail(&p, 0, "empty expression");
        struct node *root = parse_expr(&p);
        if (root && !p.err.failed && p.lx.tok.t != T_EOF)
            fail(&p, p.lx.tok.start, "unexpected %s after the expression",
                 expr_tok_desc(p.lx.tok.t));
        if (!p.err.failed) {
            /* Only a map literal makes int or bool keys (before folding, which turns it
             * into a constant); a domain's roots hold stored data, with string keys. */
            for (size_t i = 0; i < x->nnodes && env; i++)
                x->string_keys |= x->nodes[i]->kind == N_MAP;
            expr_check_tree(&p.err, root);
            x->root = root;
            if (x->string_keys && !p.err.failed)
                check_result_keys(&p, root);
        }
    }
    expr_lex_done(&p.lx);
    if (p.err.failed) {
        expr_free(x);
        return NULL;
    }
    return x;
}

void expr_free(expr *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nnodes; i++) {
        struct node *n = x->nodes[i];
        value_free(n->cval);
        free(n->kids);
        free(n->name);
        free(n);
    }
    free(x->nodes);
    free(x->src);
    free(x->file);
    free(x->spans);
    free(x);
}

const char *expr_source(const expr *x)
{
    return x->src;
}

bool expr_uses_root(const expr *x, enum expr_root r)
{
    /* Every node ever made is listed, folded-away ones too: a conservative answer. */
    for (size_t i = 0; i < x->nnodes; i++)
        if (x->nodes[i]->kind == N_ROOT && x->nodes[i]->slot == (int)r)
            return true;
    return false;
}

static bool is_root(const struct node *k, enum expr_root r)
{
    return k && k->kind == N_ROOT && k->slot == (int)r;
}

bool expr_reads_root_beyond(const expr *x, enum expr_root r, const char *const *names, size_t n)
{
    if (is_root(x->root, r))
        return true;
    /* Every parent of a root node must be a select (or has) of a listed name. */
    for (size_t i = 0; i < x->nnodes; i++) {
        const struct node *nd = x->nodes[i];
        if (nd->kind == N_SELECT && !nd->name)
            continue; /* a selection has() took over (its operand and name) */
        for (int k = 0; k < nd->nkids; k++) {
            if (!is_root(nd->kids[k], r))
                continue;
            bool named = false;
            if ((nd->kind == N_SELECT || nd->kind == N_HAS) && k == 0 && nd->name)
                for (size_t j = 0; j < n && !named; j++)
                    named = strcmp(nd->name, names[j]) == 0;
            if (!named)
                return true;
        }
    }
    return false;
}

expr_type expr_result_type(const expr *x)
{
    return x->root->type;
}
