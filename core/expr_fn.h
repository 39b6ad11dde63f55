/* expr_fn.h: the built-in functions of the expression language (core/expr_fn.c). */
#ifndef STRATA_EXPR_FN_H
#define STRATA_EXPR_FN_H

#include "expr_ctx.h"

/* Calls function n->op (enum fn) on its evaluated arguments (a method's receiver
 * first). May take ownership of args (it leaves value_null() behind); the caller
 * frees args afterwards either way. Returns false with the error in c. */
bool expr_call(struct ectx *c, const struct node *n, value *args, int nargs, value *out);

#endif
