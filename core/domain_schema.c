/* domain_schema.c: field types and field specs as data (see domain_schema.h):
 * type names, zero values, the expression types that fit each field type, and
 * freeing a field spec. It depends on nothing of the loader, which builds on it.
 *
 * A state field without a default starts at its type's zero value: "" for string,
 * 0 for int, 0.0 for float, false for bool, [] for list, {} for map, "0s" for
 * duration, and null for timestamp (there is no sensible zero time) and any. */
#include "core/domain_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/instant.h"

static const char *const ftype_names[] = {"string", "int", "float", "bool",    "timestamp",
                                          "list",   "map", "any",   "duration"};
#define NFTYPES (sizeof ftype_names / sizeof ftype_names[0])

const char *ftype_name(ftype t)
{
    return (unsigned)t < NFTYPES ? ftype_names[t] : "?";
}

bool ftype_parse(const char *s, ftype *t)
{
    for (size_t i = 0; i < NFTYPES; i++)
        if (strcmp(s, ftype_names[i]) == 0) {
            *t = (ftype)i;
            return true;
        }
    return false;
}

const char *ftype_suggest(const char *s)
{
    static const char *const syn[][2] = {
        {"integer", "int"},    {"int64", "int"},      {"long", "int"},   {"double", "float"},
        {"number", "float"},   {"boolean", "bool"},   {"str", "string"}, {"text", "string"},
        {"array", "list"},     {"object", "map"},     {"dict", "map"},   {"datetime", "timestamp"},
        {"time", "timestamp"}, {"date", "timestamp"},
    };
    /* Names people reach for that mean one of ours. */
    for (size_t i = 0; i < sizeof syn / sizeof syn[0]; i++)
        if (strcmp(s, syn[i][0]) == 0)
            return syn[i][1];
    const char *d = did_you_mean(s, ftype_names, NFTYPES);
    if (d)
        return d;
    /* A word that starts with a type's name ("integr", "booll") means that type. */
    for (size_t i = 0; i < NFTYPES; i++)
        if (strlen(s) >= 3 && strncmp(s, ftype_names[i], strlen(ftype_names[i])) == 0)
            return ftype_names[i];
    return NULL;
}

value ftype_zero(ftype t)
{
    switch (t) {
    case F_STRING:
        return value_cstring("");
    case F_INT:
        return value_int(0);
    case F_FLOAT:
        return value_double(0.0);
    case F_BOOL:
        return value_bool(false);
    case F_LIST:
        return value_list(0);
    case F_MAP:
        return value_map(0);
    case F_DURATION:
        return value_cstring("0s");
    default:
        return value_null();
    }
}

value field_coerce(ftype t, value v)
{
    if (t == F_FLOAT && v.type == V_INT)
        return value_double((double)v.u.i);
    /* An instant written at any offset is stored in the one form that sorts and
     * compares as text too; a duration as CEL writes it ("90m" is "5400s"). */
    if (t == F_TIMESTAMP && v.type == V_STRING) {
        int64_t sec;
        int32_t ns;
        if (!instant_parse(value_str(&v), value_strlen(&v), &sec, &ns))
            return v;
        char text[INSTANT_TEXT_LEN + 1];
        instant_format(sec, ns, text);
        value_free(v);
        return value_string(text, INSTANT_TEXT_LEN);
    }
    if (t == F_DURATION && v.type == V_STRING) {
        int64_t d;
        if (!duration_parse(value_str(&v), value_strlen(&v), &d))
            return v;
        char text[DURATION_TEXT_MAX];
        size_t n = duration_format(d, text);
        value_free(v);
        return value_string(text, n);
    }
    return v;
}

expr_type ftype_expr_type(ftype t)
{
    switch (t) {
    case F_STRING:
        return EXPR_T_STRING;
    case F_INT:
        return EXPR_T_INT;
    case F_FLOAT:
        return EXPR_T_DOUBLE;
    case F_BOOL:
        return EXPR_T_BOOL;
    case F_LIST:
        return EXPR_T_LIST;
    case F_MAP:
        return EXPR_T_MAP;
    case F_TIMESTAMP:
        return EXPR_T_TIMESTAMP; /* stored as text, read by expressions as an instant */
    case F_DURATION:
        return EXPR_T_DURATION;
    default:
        return EXPR_T_ANY;
    }
}

bool ftype_accepts(ftype t, expr_type et)
{
    if (et == EXPR_T_ANY || et == EXPR_T_NULL || t == F_ANY)
        return true;
    return ftype_expr_type(t) == et;
}

const struct field_spec *fields_find(const struct field_spec *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (f[i].name && strcmp(f[i].name, name) == 0)
            return &f[i];
    return NULL;
}

const char *fields_did_you_mean(const struct field_spec *f, size_t n, const char *word)
{
    const char **names = xcalloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = f[i].name;
    const char *hint = did_you_mean(word, names, n);
    free(names);
    return hint;
}

void field_spec_done(struct field_spec *f)
{
    free(f->name);
    value_free(f->def);
    value_free(f->min);
    value_free(f->max);
    if (f->pattern) {
        regfree(&f->pattern_re);
        free(f->pattern);
    }
    value_free(f->enum_values);
    if (f->elem) {
        field_spec_done(f->elem);
        free(f->elem);
    }
    free(f->shape);
    memset(f, 0, sizeof *f);
}

value field_coerce_spec(const struct field_spec *f, value v)
{
    v = field_coerce(f->type, v);
    if (f->record && v.type == V_MAP) {
        for (size_t i = 0; i < f->record->nfields; i++) {
            const struct field_spec *rf = &f->record->fields[i];
            const value *x = rf->name ? value_map_get(&v, rf->name) : NULL;
            if (x)
                value_map_set(&v, rf->name, field_coerce_spec(rf, value_ref(x)));
        }
    } else if (f->elem && v.type == V_LIST) {
        value out = value_list(value_list_len(&v));
        for (size_t i = 0; i < value_list_len(&v); i++)
            value_list_push(&out, field_coerce_spec(f->elem, value_ref(value_list_at(&v, i))));
        value_free(v);
        v = out;
    } else if (f->elem && v.type == V_MAP) {
        for (size_t i = 0; i < value_map_len(&v); i++) {
            const value *k = value_map_key_at(&v, i);
            char *key = xstrndup(value_str(k), value_strlen(k));
            value c = field_coerce_spec(f->elem, value_ref(value_map_val_at(&v, i)));
            value_map_set(&v, key, c);
            free(key);
        }
    }
    return v;
}

const struct expr_schema *field_shape(const struct field_spec *f)
{
    return f->record ? &f->record->schema : f->shape;
}

const char *field_type_name(const struct field_spec *f, char *buf, size_t size)
{
    if (f->record)
        return f->record->name;
    if (f->elem) {
        snprintf(buf, size, "%s<%s>", ftype_name(f->type),
                 f->elem->record ? f->elem->record->name : ftype_name(f->elem->type));
        return buf;
    }
    return ftype_name(f->type);
}
