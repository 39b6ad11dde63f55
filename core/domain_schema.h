/* domain_schema.h: field types and field specs as data, below the loader: the
 * names of the types, their zero values, what an expression of a given static type
 * may be stored in them, and freeing a field spec. Nothing here reads YAML or
 * reports problems, so the loader (domain_util.c, field.c, domain_load.c) and the
 * model (domain_model.c) can both build on it without calling back into each
 * other. ftype_name and ftype_zero, which the rest of Strata uses, are declared in
 * domain.h beside the enum; they are defined here too. */
#ifndef STRATA_DOMAIN_SCHEMA_H
#define STRATA_DOMAIN_SCHEMA_H

#include "core/domain.h"

/* A type's name as written in a domain file ("int"); false when s is none. */
bool ftype_parse(const char *s, ftype *t);
/* The type a user meant by an unknown name: a synonym ("integer", "double",
 * "boolean", ...), a near miss ("flaot"), or a word starting with a type's name
 * ("integr"). NULL when nothing fits. */
const char *ftype_suggest(const char *s);
/* The static expression type of a field of type t (EXPR_T_ANY for any). */
expr_type ftype_expr_type(ftype t);
/* Whether a statically known expression type can go into a field of type t. */
bool ftype_accepts(ftype t, expr_type et);
/* A value made to fit a field of type t where that keeps its meaning (an int for
 * a float field becomes a double; a timestamp's text becomes the canonical UTC
 * text, 2026-03-01T08:00:00.000Z; a duration's becomes "5400s"). Text that is not
 * a timestamp or duration is left for field_check to refuse. Takes v. */
value field_coerce(ftype t, value v);

/* field_coerce for a field whose values may hold others (a record, list<T>,
 * map<T>): every value inside made to fit its own field too, so a timestamp in
 * a record is stored as the canonical text as a top-level one is. Takes v. */
value field_coerce_spec(const struct field_spec *f, value v);

/* The field named `name` among f[0..n), or NULL. */
const struct field_spec *fields_find(const struct field_spec *f, size_t n, const char *name);
/* The field name among f[0..n) that word was probably meant to be (util.h's did_you_mean;
 * the loader has its own, budgeted per file, in domain_internal.h),
 * or NULL when none is close enough. */
const char *fields_did_you_mean(const struct field_spec *f, size_t n, const char *word);
/* What expressions know of the value of field f: its record's schema, or the
 * elements' of a list<T> or map<T>; NULL when nothing. */
const struct expr_schema *field_shape(const struct field_spec *f);
/* Frees what f owns and zeroes it. */
void field_spec_done(struct field_spec *f);

#endif
