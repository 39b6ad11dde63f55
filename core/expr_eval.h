/* expr_eval.h: the evaluator's functions for the rest of the expression module
 * (core/expr_eval.c); expr_eval and expr_eval_bool themselves are in expr.h. */
#ifndef STRATA_EXPR_EVAL_H
#define STRATA_EXPR_EVAL_H

#include "expr_ctx.h"

/* Evaluates a node whose kids are all constants, for constant folding at compile
 * time. Returns true and *out (owned) on success; false when evaluation fails (the
 * node is then left for run time, where the error is reported in context). */
bool expr_fold(const struct node *n, value *out);

/* Evaluates the subtree n in context c (for explanations, which evaluate the
 * parts of a failed condition). On false the error is in c->msg. */
bool expr_eval_node(struct ectx *c, const struct node *n, value *out);

#endif
