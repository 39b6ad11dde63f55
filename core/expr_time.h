/* expr_time.h: timestamps and durations inside expressions (core/expr_time.c):
 * reading a stored field's text as the instant or duration its schema says it
 * is, the operators on them, timestamp(), duration(), now(), the accessors, and
 * turning them back into text when a result leaves the evaluation. */
#ifndef STRATA_EXPR_TIME_H
#define STRATA_EXPR_TIME_H

#include "expr_ctx.h"

/* True for EXPR_T_TIMESTAMP and EXPR_T_DURATION. */
static inline bool expr_time_typed(expr_type t)
{
    return t == EXPR_T_TIMESTAMP || t == EXPR_T_DURATION;
}

/* The value v of field node n (whose static type is a timestamp or a duration)
 * as that type: stored text, normalized or not, becomes an instant or a duration;
 * anything else (null of an optional field) is passed on. False with the error in
 * c when the text is neither. */
bool expr_time_lift(struct ectx *c, const struct node *n, const value *v, value *out);

/* a OP b for binary node n when a or b is a timestamp or a duration. */
bool expr_time_bin(struct ectx *c, const struct node *n, const value *a, const value *b,
                   value *out);

/* now(), timestamp(), duration(), the accessors, and int() and string() of a
 * timestamp or duration: 1 done, 0 failed (error in c), -1 when call n on these
 * arguments is none of those (the caller goes on). */
int expr_time_call(struct ectx *c, const struct node *n, const value *args, int nargs, value *out);

/* v (taken) with every timestamp and duration in it, at any depth, replaced by
 * its canonical text. */
value expr_time_text(value v);

#endif
