/* expr_types.h: what the expression module's parts share (core/expr_types.c):
 * the operator, function and macro ids and their names, the table of built-in
 * functions (name, arity, operand types), the names of types and roots, and the
 * recorder of a compilation's first error.
 *
 * It sits under the lexer, parser, checker and evaluator and depends on none of
 * them, which is what keeps the dependencies between those files one-way: the
 * evaluator names a function in an error without calling into the parser.
 * expr_type_name is also the one name of an expression type for the domain
 * loader's messages. */
#ifndef STRATA_EXPR_TYPES_H
#define STRATA_EXPR_TYPES_H

#include <stdarg.h>

#include "expr.h"

enum binop {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_IN
};

/* Built-in functions. FN_ (not F_) because domain.h's field types own F_INT,
 * F_STRING, ... */
enum fn {
    FN_SIZE,
    FN_INT,
    FN_DOUBLE,
    FN_STRING,
    FN_BOOL,
    FN_NOW,
    FN_TIMESTAMP, /* timestamp(), duration() and the accessors: expr_time.c */
    FN_DURATION,
    FN_GET_FULL_YEAR,
    FN_GET_MONTH,
    FN_GET_DAY_OF_MONTH,
    FN_GET_DATE,
    FN_GET_DAY_OF_WEEK,
    FN_GET_DAY_OF_YEAR,
    FN_GET_HOURS,
    FN_GET_MINUTES,
    FN_GET_SECONDS,
    FN_GET_MILLISECONDS,
    FN_PUT,
    FN_REMOVE,
    FN_CONTAINS,
    FN_STARTS_WITH,
    FN_ENDS_WITH,
    FN_LOWER_ASCII,
    FN_UPPER_ASCII,
    FN_TRIM,
    FN_SUBSTRING,
    FN_REPLACE,
    FN_SPLIT,
    FN_COUNT
};

enum macro { M_ALL, M_EXISTS, M_EXISTS_ONE, M_MAP, M_FILTER, M_COUNT };

/* A set of expression types, as a bit mask. */
#define EXPR_TM(t) (1u << (t))
/* What the string functions take. Only strings: a timestamp is an instant, not
 * text (string(t) gives its text). */
#define EXPR_TM_STRINGISH EXPR_TM(EXPR_T_STRING)
#define EXPR_TM_TIME (EXPR_TM(EXPR_T_TIMESTAMP) | EXPR_TM(EXPR_T_DURATION))

struct expr_fninfo {
    const char *name;
    int fn;                 /* enum fn */
    bool global, method;    /* may be called as f(x) / as x.f() */
    int min_args, max_args; /* not counting a method's receiver */
    unsigned recv;          /* types the first operand (receiver or first argument) may have */
};

/* The function called name, or NULL. */
const struct expr_fninfo *expr_fn_find(const char *name);
/* The function with id fn (enum fn); never NULL for a valid id. */
const struct expr_fninfo *expr_fn_info(int fn);
/* Every function, for "did you mean" lists; *n gets the count. */
const struct expr_fninfo *expr_fn_table(size_t *n);
/* The function's name as written ("size", "startsWith"); "?" for an unknown id. */
const char *expr_fn_name(int fn);
/* "all", "exists", ... (m < M_COUNT). */
const char *expr_macro_name(int m);
/* "+", "==", "in", ... (enum binop). */
const char *expr_op_text(int op);
/* "payload", "state", ... (enum expr_root, r < ROOT_COUNT). */
const char *expr_root_name(int r);

/* "int", "double", ... as CEL names them; EXPR_T_ANY is "dyn". */
const char *expr_type_name(expr_type t);
/* The static type of a value. */
expr_type expr_type_of(const value *v);

/* A compilation's error: the first one is kept (later ones are consequences) as a
 * 1-based column (ee->col) and a message in *ee. */
struct expr_errsink {
    err *ee;
    bool failed;
};
/* Records an error at byte offset at (0-based) unless one is recorded already. */
void expr_fail(struct expr_errsink *s, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void expr_vfail(struct expr_errsink *s, size_t at, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
