/* expr_check.h: the static checks of a parsed expression (core/expr_check.c). */
#ifndef STRATA_EXPR_CHECK_H
#define STRATA_EXPR_CHECK_H

#include "expr_internal.h"

/* Types the tree bottom-up, refuses what is certainly wrong ("no such overload:
 * string - int", "map keys must be strings") and folds constant subtrees. The
 * first problem goes to *sink. */
void expr_check_tree(struct expr_errsink *sink, struct node *root);

/* n selects field of node base (a root, or a record inside one): when base's
 * schema is known, an unknown field is an error ("unknown field 'balanse' of
 * state (did you mean 'balance'?)", "unknown field 'too' of Booking") and a
 * known one gives n its type and schema. at: the field name's offset. */
void expr_check_root_field(struct expr_errsink *sink, const struct expr_env *env, struct node *n,
                           const struct node *base, const char *field, size_t at);
/* A macro's variable over range: when range is a list<T>, T's schema and type
 * (a timestamp or duration type stays unknown: the element is its text). */
void expr_check_macro_var(const struct expr_env *env, const struct node *range,
                          const struct expr_schema **schema, expr_type *type);
/* ix indexes base: when base is a list<T> or map<T>, gives ix T's type and
 * schema and returns true. */
bool expr_check_element(const struct expr_env *env, struct node *ix, const struct node *base);

#endif
