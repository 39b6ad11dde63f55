/* field.c: fields of payloads, events and state: reading their specs from the
 * domain file (types, defaults, constraints) and checking values against them.
 * What a type is (names, zero values) lives below, in domain_schema.c.
 *
 * Types are strict, as in CEL: a float field takes a double, not an int, when a
 * payload is checked (field_check). Defaults written in the domain file are the
 * exception: `default: 0` on a float field is read as 0.0, because the author's
 * meaning is plain and YAML has no way to write "an int-looking double" short of
 * `0.0`. A state field without a default starts at its type's zero value
 * (ftype_zero). */
#include <stdlib.h>
#include <string.h>

#include "core/domain_internal.h"
#include "core/instant.h"
#include "core/json.h"
#include "core/utf8.h"

const char *fields_suggest(const struct field_spec *f, size_t n, const char *name)
{
    const char **names = xcalloc(n ? n : 1, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].name)
            names[k++] = f[i].name;
    const char *s = ld_suggest(name, names, k);
    free(names);
    return s;
}

/* ---- checking values ---- */

/* A value as it appears in messages: JSON, cut short when long. */
static void show_value(strbuf *sb, const value *v)
{
    char *js = json_to_string(v);
    size_t n = strlen(js);
    if (n > 60)
        sb_addf(sb, "%.57s...", js);
    else
        sb_adds(sb, js);
    free(js);
}

static const char *value_kind(const value *v)
{
    return v->type == V_DOUBLE ? "float" : vtype_name(v->type);
}

static bool type_fits(ftype t, const value *v)
{
    switch (t) {
    case F_STRING:
    case F_TIMESTAMP:
    case F_DURATION:
        return v->type == V_STRING;
    case F_INT:
        return v->type == V_INT;
    case F_FLOAT:
        return v->type == V_DOUBLE;
    case F_BOOL:
        return v->type == V_BOOL;
    case F_LIST:
        return v->type == V_LIST;
    case F_MAP:
        return v->type == V_MAP;
    default:
        return true;
    }
}

/* a < b for two numbers of the field's kind (ints with ints, doubles with doubles). */
static int num_cmp(const value *a, const value *b)
{
    if (a->type == V_INT && b->type == V_INT)
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    double x = a->type == V_INT ? (double)a->u.i : a->u.d;
    double y = b->type == V_INT ? (double)b->u.i : b->u.d;
    return x < y ? -1 : x > y;
}

static int fail(err *e, const struct field_spec *f, const value *v, const char *what,
                const value *limit, const char *tail)
{
    strbuf sb;
    sb_init(&sb);
    sb_addf(&sb, "field '%s': ", f->name ? f->name : "?");
    if (v)
        show_value(&sb, v);
    sb_adds(&sb, what);
    if (limit)
        show_value(&sb, limit);
    if (tail)
        sb_adds(&sb, tail);
    err_set(e, ST_ERR, "%s", sb.buf);
    sb_done(&sb);
    return ST_ERR;
}

static int check(const struct field_spec *f, const value *v, bool stored, err *e);

static int check_deep(const struct field_spec *f, const value *v, bool stored, const char *top,
                      strbuf *path, err *e);

int field_check(const struct field_spec *f, const value *v, err *e)
{
    strbuf path;
    sb_init(&path);
    int rc = check_deep(f, v, false, f->name ? f->name : "?", &path, e);
    sb_done(&path);
    return rc;
}

int field_check_stored(const struct field_spec *f, const value *v, err *e)
{
    strbuf path;
    sb_init(&path);
    int rc = check_deep(f, v, true, f->name ? f->name : "?", &path, e);
    sb_done(&path);
    return rc;
}

/* e's message "field 'X': REST", for a value inside field top, becomes
 * "field 'TOP': PATH: REST" (PATH like ['b1'].status). */
static int at_path(err *e, const char *top, const strbuf *path)
{
    const char *rest = e->msg;
    if (strncmp(rest, "field '", 7) == 0) {
        const char *end = strstr(rest + 7, "': ");
        if (end)
            rest = end + 3;
    }
    char *m = xasprintf("field '%s': %s: %s", top, path->buf, rest);
    err_set(e, ST_ERR, "%s", m);
    free(m);
    return ST_ERR;
}

/* Everything inside a value of a record type or of list<T> / map<T>, each with
 * the path to it in the message. */
static int check_inside(const struct field_spec *f, const value *v, bool stored, const char *top,
                        strbuf *path, err *e)
{
    size_t mark = path->len;
    int rc = ST_OK;
    const struct record_type *r = f->record;
    if (r && v->type == V_MAP) {
        for (size_t i = 0; rc == ST_OK && i < r->nfields; i++) {
            const struct field_spec *rf = &r->fields[i];
            const value *x = rf->name ? value_map_get(v, rf->name) : NULL;
            sb_addf(path, ".%s", rf->name ? rf->name : "?");
            if (x) {
                rc = check_deep(rf, x, stored, top, path, e);
            } else if (rf->required) {
                char tn[96];
                err_set(e, ST_ERR, "field '%s': %s: missing (a required %s of %s)", top, path->buf,
                        field_type_name(rf, tn, sizeof tn), r->name);
                rc = ST_ERR;
            }
            path->len = mark;
            path->buf[mark] = '\0';
        }
        for (size_t i = 0; rc == ST_OK && i < value_map_len(v); i++) {
            const char *k = value_str(value_map_key_at(v, i));
            if (fields_find(r->fields, r->nfields, k))
                continue;
            const char *dym = fields_did_you_mean(r->fields, r->nfields, k);
            err_set(e, ST_ERR, "field '%s': %s%sunknown field '%s' of %s%s%s%s", top, path->buf,
                    path->len ? ": " : "", k, r->name, dym ? " (did you mean '" : "",
                    dym ? dym : "", dym ? "'?)" : "");
            rc = ST_ERR;
        }
    } else if (f->elem && v->type == V_LIST) {
        for (size_t i = 0; rc == ST_OK && i < value_list_len(v); i++) {
            sb_addf(path, "[%zu]", i);
            rc = check_deep(f->elem, value_list_at(v, i), stored, top, path, e);
            path->len = mark;
            path->buf[mark] = '\0';
        }
    } else if (f->elem && v->type == V_MAP) {
        for (size_t i = 0; rc == ST_OK && i < value_map_len(v); i++) {
            sb_addf(path, "['%s']", value_str(value_map_key_at(v, i)));
            rc = check_deep(f->elem, value_map_val_at(v, i), stored, top, path, e);
            path->len = mark;
            path->buf[mark] = '\0';
        }
    }
    return rc;
}

static int check_deep(const struct field_spec *f, const value *v, bool stored, const char *top,
                      strbuf *path, err *e)
{
    if (check(f, v, stored, e) != ST_OK)
        return path->len ? at_path(e, top, path) : ST_ERR;
    if (v->type == V_NULL || (!f->record && !f->elem))
        return ST_OK;
    return check_inside(f, v, stored, top, path, e);
}

static int check(const struct field_spec *f, const value *v, bool stored, err *e)
{
    if (v->type == V_NULL) {
        if (f->optional || f->type == F_ANY || (f->has_default && f->def.type == V_NULL))
            return ST_OK;
        return err_set(e, ST_ERR, "field '%s': expected %s, got null", f->name ? f->name : "?",
                       ftype_name(f->type));
    }
    if (!type_fits(f->type, v)) {
        strbuf sb;
        sb_init(&sb);
        char tn[96];
        sb_addf(&sb, "field '%s': expected %s, got %s ", f->name ? f->name : "?",
                field_type_name(f, tn, sizeof tn), value_kind(v));
        show_value(&sb, v);
        if (f->type == F_FLOAT && v->type == V_INT)
            sb_adds(&sb, " (write it with a decimal point)");
        err_set(e, ST_ERR, "%s", sb.buf);
        sb_done(&sb);
        return ST_ERR;
    }
    if (f->type == F_TIMESTAMP) {
        int64_t sec;
        int32_t ns;
        bool ok = stored ? instant_parse_stored(value_str(v), value_strlen(v), &sec, &ns)
                         : instant_parse(value_str(v), value_strlen(v), &sec, &ns);
        if (!ok)
            return fail(e, f, v,
                        value_strlen(v) == 10 && value_str(v)[4] == '-'
                            ? " is a date without a time; a timestamp is an instant (ISO-8601 "
                              "date-time with an offset or Z, e.g. 2026-11-27T10:00:00Z)"
                            : " is not a timestamp (ISO-8601 with an offset or Z, e.g. "
                              "2026-11-27T10:00:00Z)",
                        NULL, NULL);
    }
    if (f->type == F_DURATION) {
        int64_t d;
        if (!duration_parse(value_str(v), value_strlen(v), &d))
            return fail(e, f, v,
                        " is not a duration (e.g. \"90m\", \"1.5h\", \"36h\", \"5400s\"; units "
                        "h, m, s, ms, us, ns)",
                        NULL, NULL);
    }
    if (f->has_min && (v->type == V_INT || v->type == V_DOUBLE) && num_cmp(v, &f->min) < 0)
        return fail(e, f, v, " is below the minimum ", &f->min, NULL);
    if (f->has_max && (v->type == V_INT || v->type == V_DOUBLE) && num_cmp(v, &f->max) > 0)
        return fail(e, f, v, " is above the maximum ", &f->max, NULL);
    if (f->min_length >= 0 || f->max_length >= 0) {
        int64_t n = -1;
        const char *unit = "";
        if (v->type == V_STRING) {
            n = (int64_t)utf8_count(value_str(v), value_strlen(v));
            unit = " characters";
        } else if (v->type == V_LIST) {
            n = (int64_t)value_list_len(v);
            unit = " items";
        } else if (v->type == V_MAP) {
            n = (int64_t)value_map_len(v);
            unit = " entries";
        }
        if (n >= 0 && f->min_length >= 0 && n < f->min_length)
            return err_set(e, ST_ERR, "field '%s': length %lld is below the minimum length %lld%s",
                           f->name, (long long)n, (long long)f->min_length, unit);
        if (n >= 0 && f->max_length >= 0 && n > f->max_length)
            return err_set(e, ST_ERR, "field '%s': length %lld is above the maximum length %lld%s",
                           f->name, (long long)n, (long long)f->max_length, unit);
    }
    if (f->pattern && v->type == V_STRING) {
        bool ok = memchr(value_str(v), '\0', value_strlen(v)) == NULL &&
                  regexec(&f->pattern_re, value_str(v), 0, NULL, 0) == 0;
        if (!ok) {
            value p = value_cstring(f->pattern);
            fail(e, f, v, " does not match the pattern ", &p, NULL);
            value_free(p);
            return ST_ERR;
        }
    }
    if (f->enum_values.type == V_LIST) {
        size_t n = value_list_len(&f->enum_values);
        for (size_t i = 0; i < n; i++)
            if (value_equal(v, value_list_at(&f->enum_values, i)))
                return ST_OK;
        return fail(e, f, v, " is not one of ", &f->enum_values, NULL);
    }
    return ST_OK;
}

/* ---- reading specs ---- */

static const char *const field_keys[] = {"type", "default",    "optional",   "min",
                                         "max",  "min_length", "max_length", "pattern",
                                         "enum", "description"};
static const char *const state_keys[] = {"type", "default", "description"};

/* `list<T>` or `map<T>`, T a type of the language (not a list or map) or a
 * record: f's element spec and the schema expressions see. */
static bool read_container(struct loader *L, const struct ynode *n, struct field_spec *f)
{
    const char *s = n->text;
    bool list = strncmp(s, "list<", 5) == 0;
    size_t open = list ? 5 : 4, len = strlen(s);
    char *inner = xstrndup(s + open, len - open - 1);
    const struct record_type *r = ld_record(L, inner);
    ftype t = F_ANY;
    bool ok = r || (ftype_parse(inner, &t) && t != F_LIST && t != F_MAP);
    if (!ok) {
        ld_diag(L, n,
                "unknown element type '%s' in '%s': a type of the language (not list or map) "
                "or a record declared under `types:`",
                inner, s);
        free(inner);
        return false;
    }
    free(inner);
    f->type = list ? F_LIST : F_MAP;
    struct field_spec *el = xcalloc(1, sizeof *el);
    el->type = r ? F_MAP : t;
    el->record = r;
    el->required = true;
    el->min_length = el->max_length = -1;
    el->enum_values = value_null();
    el->def = value_null();
    f->elem = el;
    f->shape = xcalloc(1, sizeof *f->shape);
    f->shape->elem = r ? &r->schema : NULL;
    f->shape->elem_type = ftype_expr_type(el->type);
    return true;
}

static bool read_type(struct loader *L, const struct ynode *n, struct field_spec *f)
{
    ftype *t = &f->type;
    if (!n || n->kind != YN_SCALAR || ynode_is_null(n)) {
        ld_diag(L, n,
                "expected a type name (string, int, float, bool, timestamp, duration, list, map or "
                "any), "
                "got %s",
                ynode_kind_name(n));
        return false;
    }
    if (ftype_parse(n->text, t))
        return true;
    size_t len = strlen(n->text);
    if ((strncmp(n->text, "list<", 5) == 0 || strncmp(n->text, "map<", 4) == 0) && len &&
        n->text[len - 1] == '>')
        return read_container(L, n, f);
    const struct record_type *r = ld_record(L, n->text);
    if (r) {
        *t = F_MAP; /* a record is a map holding its fields */
        f->record = r;
        return true;
    }
    const char **rn = xcalloc(L->d->ntypes + 1, sizeof *rn);
    size_t nr = 0;
    for (size_t i = 0; i < L->d->ntypes; i++)
        if (L->d->types[i].name)
            rn[nr++] = L->d->types[i].name;
    const char *s = ld_suggest(n->text, rn, nr);
    free(rn);
    if (!s)
        s = ftype_suggest(n->text);
    if (s)
        ld_diag(L, n, "unknown type '%s' (did you mean '%s'?)", n->text, s);
    else
        ld_diag(L, n,
                "unknown type '%s'; the types are string, int, float, bool, timestamp, duration, "
                "list, map and any",
                n->text);
    return false;
}

static bool read_limit(struct loader *L, const struct ynode *n, const struct field_spec *f,
                       const char *key, value *out)
{
    size_t m = ld_push(L, key);
    bool ok = false;
    if (f->type != F_INT && f->type != F_FLOAT) {
        ld_diag(L, n, "%s applies to int and float fields, not %s", key, ftype_name(f->type));
    } else {
        value v;
        if (ld_value(L, n, &v)) {
            v = field_coerce(f->type, v);
            if (type_fits(f->type, &v)) {
                *out = v;
                ok = true;
            } else {
                ld_diag(L, n, "%s must be %s for a%s %s field", key,
                        f->type == F_INT ? "an integer" : "a number", f->type == F_INT ? "n" : "",
                        ftype_name(f->type));
                value_free(v);
            }
        }
    }
    ld_pop(L, m);
    return ok;
}

static bool read_length(struct loader *L, const struct ynode *n, const struct field_spec *f,
                        const char *key, int64_t *out)
{
    size_t m = ld_push(L, key);
    bool ok = false;
    if (f->type != F_STRING && f->type != F_LIST && f->type != F_MAP && f->type != F_ANY)
        ld_diag(L, n, "%s applies to string, list and map fields, not %s", key,
                ftype_name(f->type));
    else
        ok = ld_int(L, n, key, 0, INT64_MAX, out);
    ld_pop(L, m);
    return ok;
}

static bool read_field_map(struct loader *L, const struct ynode *val, enum field_ctx ctx,
                           struct field_spec *f)
{
    bool ok = true;
    size_t before = L->diags->len;
    if (ctx == FIELD_STATE)
        ld_check_keys(L, val, state_keys, sizeof state_keys / sizeof state_keys[0]);
    else
        ld_check_keys(L, val, field_keys, sizeof field_keys / sizeof field_keys[0]);
    const struct ynode *tn = ynode_get(val, "type");
    if (!tn) {
        ld_diag(L, val, "a field needs a type: {type: int, ...}");
        return false;
    }
    size_t m = ld_push(L, "type");
    ok = read_type(L, tn, f);
    ld_pop(L, m);
    if (!ok)
        return false;
    const struct ynode *n;
    if ((n = ynode_get(val, "optional"))) {
        m = ld_push(L, "optional");
        ld_bool(L, n, "optional", &f->optional);
        ld_pop(L, m);
    }
    if (ctx != FIELD_STATE) {
        if ((n = ynode_get(val, "min")))
            f->has_min = read_limit(L, n, f, "min", &f->min);
        if ((n = ynode_get(val, "max")))
            f->has_max = read_limit(L, n, f, "max", &f->max);
        if (f->has_min && f->has_max && num_cmp(&f->min, &f->max) > 0)
            ld_diag(L, ynode_get(val, "max"), "max is below min");
        if ((n = ynode_get(val, "min_length")))
            read_length(L, n, f, "min_length", &f->min_length);
        if ((n = ynode_get(val, "max_length")))
            read_length(L, n, f, "max_length", &f->max_length);
        if (f->min_length >= 0 && f->max_length >= 0 && f->min_length > f->max_length)
            ld_diag(L, ynode_get(val, "max_length"), "max_length is below min_length");
        if ((n = ynode_get(val, "pattern"))) {
            m = ld_push(L, "pattern");
            const char *p = ld_string(L, n, "a POSIX extended regular expression");
            if (p && f->type != F_STRING && f->type != F_ANY) {
                ld_diag(L, n, "pattern applies to string fields, not %s", ftype_name(f->type));
            } else if (p) {
                int rc = regcomp(&f->pattern_re, p, REG_EXTENDED | REG_NOSUB);
                if (rc != 0) {
                    char buf[256];
                    regerror(rc, &f->pattern_re, buf, sizeof buf);
                    ld_diag(L, n, "invalid pattern '%s': %s", p, buf);
                } else {
                    f->pattern = xstrdup(p);
                }
            }
            ld_pop(L, m);
        }
        if ((n = ynode_get(val, "enum"))) {
            m = ld_push(L, "enum");
            if (ld_expect_seq(L, n, "a list of allowed values", false)) {
                f->enum_values = value_list(n->n);
                for (size_t i = 0; i < n->n; i++) {
                    value v;
                    if (!ld_value(L, n->items[i], &v))
                        continue;
                    v = field_coerce(f->type, v);
                    if (!type_fits(f->type, &v)) {
                        size_t mi = ld_push_index(L, i);
                        ld_diag(L, n->items[i], "this value is not of the field's type %s",
                                ftype_name(f->type));
                        ld_pop(L, mi);
                        value_free(v);
                        continue;
                    }
                    value_list_push(&f->enum_values, v);
                }
                if (n->n == 0)
                    ld_diag(L, n, "enum needs at least one value");
            }
            ld_pop(L, m);
        }
    }
    if ((n = ynode_get(val, "default"))) {
        m = ld_push(L, "default");
        value v;
        if (ld_value(L, n, &v)) {
            v = field_coerce(f->type, v);
            f->def = v;
            f->has_default = true;
            if (v.type == V_NULL && !f->optional && f->type != F_ANY && ctx != FIELD_STATE) {
                ld_diag(
                    L, n,
                    "default null does not fit a %s field (add optional: true, or use type any)",
                    ftype_name(f->type));
            } else if (v.type == V_NULL && ctx == FIELD_STATE && f->type != F_ANY &&
                       f->type != F_TIMESTAMP) {
                ld_diag(L, n, "default null does not fit a %s field (use type any)",
                        ftype_name(f->type));
            } else if (L->diags->len == before) {
                err e;
                err_clear(&e);
                if (field_check(f, &v, &e) != ST_OK)
                    ld_diag(L, n, "the default does not fit: %s", e.msg);
            }
        }
        ld_pop(L, m);
    }
    return L->diags->len == before;
}

bool field_parse(struct loader *L, const struct ynode *key, const struct ynode *val,
                 enum field_ctx ctx, struct field_spec *f)
{
    f->name = xstrdup(key->text);
    f->pos.line = key->line;
    f->pos.col = key->col;
    f->min_length = f->max_length = -1;
    f->enum_values = value_null();
    f->type = F_ANY; /* until a type is read: a bad type must not cause more errors */
    bool ok = ld_check_name(L, key, "field");
    size_t m = ld_push(L, key->text);
    if (val && val->kind == YN_SCALAR && !ynode_is_null(val)) {
        ok = read_type(L, val, f) && ok;
        f->required = ctx != FIELD_STATE;
    } else if (val && val->kind == YN_MAP) {
        ok = read_field_map(L, val, ctx, f) && ok;
        f->required = ctx != FIELD_STATE && !f->has_default && !f->optional;
    } else {
        ld_diag(
            L, val ? val : key,
            "expected a type name (`%s: int`) or a mapping (`%s: {type: int, default: 0}`), got %s",
            key->text, key->text, ynode_kind_name(val));
        ok = false;
    }
    if (ctx == FIELD_STATE && !f->has_default) {
        value_free(f->def);
        f->def = ftype_zero(f->type);
        f->has_default = true;
    }
    ld_pop(L, m);
    return ok;
}

void fields_parse(struct loader *L, const struct ynode *map, enum field_ctx ctx,
                  struct field_spec **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!map || map->kind != YN_MAP || map->n == 0)
        return;
    *out = xcalloc(map->n, sizeof **out);
    for (size_t i = 0; i < map->n; i++)
        field_parse(L, ynode_keynode(map, i), ynode_val(map, i), ctx, &(*out)[i]);
    *n = map->n;
}
