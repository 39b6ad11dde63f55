/* expr_ctx.h: one evaluation's context (core/expr_ctx.c): its work budget, its
 * error, the values of macro variables, and how values and source text are shown
 * in its messages. Shared by the evaluator (expr_eval.c), the built-in functions
 * (expr_fn.c) and the explanations (expr_explain.c). */
#ifndef STRATA_EXPR_CTX_H
#define STRATA_EXPR_CTX_H

#include "expr_internal.h"

struct ectx {
    const struct expr_vars *vars; /* NULL: every root is null */
    int64_t budget;               /* units left */
    int64_t budget_total;
    const value *locals[EXPR_MAX_DEPTH];
    int err_col;
    bool fatal;
    bool made_time; /* a timestamp or duration was made: the result may need its text */
    /* The expression's root (set by expr_eval; else NULL): when it is itself a
     * stored timestamp, canonical text is kept as it is, since lifting it to a
     * timestamp would only give the same text back (`lastActivity: meta.time`). */
    const struct node *text_root;
    char msg[480];
};

/* A fresh context: the budget of vars (EXPR_DEFAULT_BUDGET when 0); vars may be
 * NULL (constant folding: every root is null). */
void ectx_init(struct ectx *c, const struct expr_vars *vars);
/* Records an error at n's column; always returns false (`return ectx_fail(...)`). */
bool ectx_fail(struct ectx *c, const struct node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A result over EXPR_MAX_RESULT: a fatal error (never absorbed by && or ||). */
bool ectx_too_large(struct ectx *c, const struct node *n, size_t size, const char *unit);
/* Takes units from the budget; false (a fatal error) when it runs out. */
bool ectx_charge(struct ectx *c, const struct node *n, size_t units);
/* Charges a string of len bytes being made (and refuses one too large). */
bool ectx_charge_string(struct ectx *c, const struct node *n, size_t len);

/* A value for messages: JSON, cut short when long. */
void ectx_describe(strbuf *sb, const value *v);
/* The source for messages: whole when short, else its start and "...". */
void ectx_source_excerpt(strbuf *sb, const char *src, size_t len);

/* The CEL name of a value's type, for "no such overload" messages. */
static inline const char *ectx_tname(const value *v)
{
    return vtype_name(v->type);
}
/* A string value of s[0..len) (s may be NULL when len is 0). */
static inline value ectx_str(const char *s, size_t len)
{
    return value_string(len ? s : "", len);
}

#endif
