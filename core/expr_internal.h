/* expr_internal.h: the compiled form of an expression (the tree's node and the
 * expr that owns it), shared by the parser (expr_parse.c), the checker
 * (expr_check.c), the evaluator (expr_eval.c, expr_fn.c) and the explanations
 * (expr_explain.c). It has no functions: each of those files declares its own in
 * a header named after it. Not a public header: everything outside core/expr_*.c
 * goes through expr.h.
 *
 * A compiled expression is a tree of nodes. Names are resolved while parsing
 * (`state` becomes N_ROOT with slot ROOT_STATE, a macro's variable becomes N_LOCAL
 * with the macro's nesting level as slot), so evaluation never looks a name up.
 * Every node remembers its span in the source (for expr_explain) and the column
 * its errors point at (the operator of a binary node, the name of a field or
 * function). The tree's height is capped at EXPR_MAX_DEPTH, which also bounds
 * the evaluator's recursion. */
#ifndef STRATA_EXPR_INTERNAL_H
#define STRATA_EXPR_INTERNAL_H

#include "expr.h"
#include "expr_types.h"

/* Results bigger than this (list elements, map entries, string bytes) are an
 * error, so that no expression can build something that exhausts memory. */
#define EXPR_MAX_RESULT 1000000
/* Strings are charged one budget unit per this many bytes they make. */
#define EXPR_BYTES_PER_UNIT 16

typedef enum node_kind {
    N_CONST,  /* cval */
    N_ROOT,   /* slot: enum expr_root */
    N_LOCAL,  /* slot: a macro variable's nesting level */
    N_LIST,   /* kids: the elements */
    N_MAP,    /* kids: key, value, key, value, ... */
    N_SELECT, /* kids[0].name */
    N_HAS,    /* has(kids[0].name) */
    N_INDEX,  /* kids[0][kids[1]] */
    N_NOT,    /* !kids[0] */
    N_NEG,    /* -kids[0] */
    N_BIN,    /* op: enum binop */
    N_AND,    /* kids[0] && kids[1] */
    N_OR,     /* kids[0] || kids[1] */
    N_COND,   /* kids[0] ? kids[1] : kids[2] */
    N_CALL,   /* op: enum fn; for a method kids[0] is the receiver */
    N_MACRO,  /* op: enum macro; kids[0] the range, then the body (map may have 2) */
} node_kind;

struct node {
    node_kind kind;
    int op;         /* enum binop / fn / macro (expr_types.h) */
    int column;     /* 1-based byte column errors point at */
    uint32_t start; /* source span [start, end), for explanations */
    uint32_t end;
    int height;       /* 1 + the tallest kid */
    int slot;         /* N_ROOT, N_LOCAL, N_MACRO (the variable's slot) */
    bool method;      /* N_CALL written as a method: kids[0].f(...) */
    bool big_literal; /* N_CONST: the literal 9223372036854775808, legal only after '-' */
    bool borrow;      /* evaluates to a pointer into a held value: a constant, root,
                         macro variable, or a field or index of one (expr_eval.c) */
    expr_type type;   /* static type, EXPR_T_ANY when unknown */
    const struct expr_schema *schema; /* what is known of its value's fields (or elements) */
    char *name;                       /* N_SELECT / N_HAS: the field (NUL-terminated) */
    size_t namelen;
    value cval; /* N_CONST */
    struct node **kids;
    int nkids;
};

struct expr {
    char *src; /* a NUL-terminated copy of the source */
    size_t len;
    struct node *root;
    struct node **nodes; /* every node ever made, for freeing (folding leaves some unreachable) */
    size_t nnodes;
    char *file;              /* origin (expr_set_origin): the file, or NULL */
    struct expr_span *spans; /* where the source's lines stand in it */
    size_t nspans;
    bool string_keys; /* a domain's expression with a map literal: expr_eval refuses a result
                         holding a map with int or bool keys, which stored data cannot have */
};

#endif
