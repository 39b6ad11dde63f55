/* domain_projection.c: a domain file's `projections:`: each projection's key,
 * columns (a bare default, or {type, default}), and handlers (the short form
 * {column: expression}, or {when, for_each, set, delete}), every expression
 * compiled against the handled event's fields and the row's columns. */
#include <stdlib.h>
#include <string.h>

#include "core/domain_internal.h"
#include "core/expr_types.h"

/* ---- projections ---- */

static const char *const projection_keys[] = {"key", "columns", "on", "description"};
static const char *const handler_keys[] = {"when", "for_each", "set", "delete"};

bool projection_has_column(const struct projection_spec *p, const char *name)
{
    for (size_t i = 0; i < p->ncolumns; i++)
        if (p->columns[i] && strcmp(p->columns[i], name) == 0)
            return true;
    return false;
}

/* The type of a column declared by a bare default. */
static ftype default_type(const value *v)
{
    switch (v->type) {
    case V_BOOL:
        return F_BOOL;
    case V_INT:
        return F_INT;
    case V_DOUBLE:
        return F_FLOAT;
    case V_STRING:
        return F_STRING;
    case V_LIST:
        return F_LIST;
    case V_MAP:
        return F_MAP;
    default:
        return F_ANY; /* a null default says nothing of what comes later */
    }
}

/* The long form {when, for_each, set, delete} is recognised by those keys, unless the
 * projection has columns of the same names (then the map is the shorthand). */
static bool handler_is_long_form(const struct projection_spec *p, const struct ynode *v)
{
    for (size_t i = 0; i < v->n; i++) {
        const char *k = ynode_key(v, i);
        bool word = !strcmp(k, "when") || !strcmp(k, "for_each") || !strcmp(k, "set") ||
                    !strcmp(k, "delete");
        if (word && !projection_has_column(p, k))
            return true;
    }
    return false;
}

/* A value of a statically known type that its column cannot hold is refused
 * here (an int column set to a string), not on the first event that does it.
 * An int fits a float column (it is stored as a double), and a timestamp or a
 * duration a string column (it is stored as its canonical text). */
static void column_type_check(struct loader *L, const struct projection_spec *p, const char *col,
                              const struct ynode *vn, const expr *x)
{
    const struct field_spec *f = x ? fields_find(p->coltypes, p->ncolumns, col) : NULL;
    if (!f)
        return;
    expr_type t = expr_result_type(x);
    if (ftype_accepts(f->type, t) || (f->type == F_FLOAT && t == EXPR_T_INT) ||
        (f->type == F_STRING && (t == EXPR_T_TIMESTAMP || t == EXPR_T_DURATION)))
        return;
    ld_diag(L, vn, "`%s` is %s %s, but column '%s' is %s", vn->text, t == EXPR_T_INT ? "an" : "a",
            expr_type_name(t), col, ftype_name(f->type));
}

static void handler_set_load(struct loader *L, const struct projection_spec *p,
                             const struct ynode *map, const struct expr_env *env,
                             struct handler_spec *h)
{
    if (!map->n)
        return;
    h->set = xcalloc(map->n, sizeof *h->set);
    h->nset = map->n;
    for (size_t i = 0; i < map->n; i++) {
        const struct ynode *k = ynode_keynode(map, i);
        struct assign *a = &h->set[i];
        a->name = xstrdup(k->text);
        a->pos.line = k->line;
        a->pos.col = k->col;
        size_t m = ld_push(L, k->text);
        if (!projection_has_column(p, k->text)) {
            const char *s = ld_suggest_names(k->text, p->columns, p->ncolumns);
            if (s)
                ld_diag(L, k, "unknown column '%s' of projection %s (did you mean '%s'?)", k->text,
                        p->name, s);
            else
                ld_diag(L, k, "unknown column '%s' of projection %s: declare it under `columns:`",
                        k->text, p->name);
        }
        a->value = ld_compile(L, ynode_val(map, i), env, false);
        column_type_check(L, p, k->text, ynode_val(map, i), a->value);
        ld_pop(L, m);
    }
}

static void handler_load(struct loader *L, struct projection_spec *p, const struct ynode *key,
                         const struct ynode *val, struct handler_spec *h,
                         const struct expr_schema *row_schema)
{
    h->event_type = xstrdup(key->text);
    h->pos.line = key->line;
    h->pos.col = key->col;
    size_t m = ld_push(L, key->text);
    const struct event_spec *e = ld_event(L, key->text);
    if (!e)
        ld_unknown_event(L, key, key->text);
    struct schema_buf es;
    memset(&es, 0, sizeof es);
    struct expr_env env = {
        ROOT_BIT(ROOT_EVENT) | ROOT_BIT(ROOT_META) | ROOT_BIT(ROOT_ROW), {NULL}, "projection"};
    if (e) {
        schema_from_fields(&es, e->fields, e->nfields);
        env.schema[ROOT_EVENT] = &es.s;
    }
    env.schema[ROOT_META] = meta_schema();
    env.schema[ROOT_ROW] = row_schema;
    const struct ynode *fe = val && val->kind == YN_MAP ? ynode_get(val, "for_each") : NULL;
    if (fe && handler_is_long_form(p, val)) {
        /* The keys are read before any row is chosen, so not from the row. */
        size_t m2 = ld_push(L, "for_each");
        struct expr_env kenv = env;
        kenv.allowed = ROOT_BIT(ROOT_EVENT) | ROOT_BIT(ROOT_META);
        kenv.slot = "projection for_each";
        h->for_each = ld_compile(L, fe, &kenv, false);
        expr_type t = h->for_each ? expr_result_type(h->for_each) : EXPR_T_ANY;
        if (t != EXPR_T_ANY && t != EXPR_T_LIST)
            ld_diag(L, fe, "`%s` is %s %s, but for_each gives a list of row keys", fe->text,
                    t == EXPR_T_INT ? "an" : "a", expr_type_name(t));
        ld_pop(L, m2);
        env.allowed |= ROOT_BIT(ROOT_KEY);
    }
    if (!ld_expect_map(L, val, "a handler: {column: expression} or {when, for_each, set, delete}",
                       false)) {
        /* reported */
    } else if (!handler_is_long_form(p, val)) {
        handler_set_load(L, p, val, &env, h);
    } else {
        ld_check_keys(L, val, handler_keys, sizeof handler_keys / sizeof handler_keys[0]);
        const struct ynode *x;
        if ((x = ynode_get(val, "when"))) {
            size_t m2 = ld_push(L, "when");
            h->when = ld_compile(L, x, &env, true);
            ld_pop(L, m2);
        }
        if ((x = ynode_get(val, "delete"))) {
            size_t m2 = ld_push(L, "delete");
            ld_bool(L, x, "delete", &h->delete_row);
            ld_pop(L, m2);
        }
        if ((x = ynode_get(val, "set"))) {
            size_t m2 = ld_push(L, "set");
            if (h->delete_row)
                ld_diag(L, ynode_getkey(val, "set"),
                        "a handler either deletes the row or sets columns, not both");
            else if (ld_expect_map(L, x, "a mapping column: expression", true))
                handler_set_load(L, p, x, &env, h);
            ld_pop(L, m2);
        }
        if (!ynode_get(val, "set") && !ynode_get(val, "delete"))
            ld_diag(L, val, "a handler in the long form needs `set:` or `delete: true`");
    }
    schema_done(&es);
    ld_pop(L, m);
}

/* The key is read for every event the projection handles, so it is compiled
 * again against each one's fields (a misspelt field is found here, not at the
 * first event), and it names one row, so it must be a scalar. */
static bool key_is_scalar(struct loader *L, const struct ynode *kn, expr_type t, const char *note)
{
    if (t != EXPR_T_LIST && t != EXPR_T_MAP && t != EXPR_T_NULL)
        return true;
    ld_diag(L, kn, "`%s` is %s, but a key names one row: it must be a string or a number%s",
            kn->text,
            t == EXPR_T_NULL   ? "null"
            : t == EXPR_T_LIST ? "a list"
                               : "a map",
            note ? note : "");
    return false;
}

static void key_check(struct loader *L, const struct projection_spec *p, const struct ynode *kn)
{
    if (!key_is_scalar(L, kn, expr_result_type(p->key), NULL))
        return;
    for (size_t i = 0; i < p->nhandlers; i++) {
        const struct event_spec *e = ld_event(L, p->handlers[i].event_type);
        if (!e || p->handlers[i].for_each)
            continue; /* reported with its handler; or its rows are named by for_each */
        struct schema_buf es;
        schema_from_fields(&es, e->fields, e->nfields);
        struct expr_env env = {
            ROOT_BIT(ROOT_EVENT) | ROOT_BIT(ROOT_META), {NULL}, "projection key"};
        env.schema[ROOT_EVENT] = &es.s;
        env.schema[ROOT_META] = meta_schema();
        char *note = xasprintf("; the key is read for event '%s' (line %d)", e->name,
                               p->handlers[i].pos.line);
        expr *x = ld_compile_for(L, kn, &env, false, note);
        bool ok = x && key_is_scalar(L, kn, expr_result_type(x), note);
        free(note);
        expr_free(x);
        schema_done(&es);
        if (!ok)
            return; /* one mistake, one report */
    }
}

static void projection_hash(struct projection_spec *p)
{
    uint64_t h = HASH_FNV_INIT;
    h = hash_str(h, p->key ? expr_source(p->key) : "(single row)");
    for (size_t i = 0; i < p->ncolumns; i++) {
        h = hash_str(h, p->columns[i]);
        h = hash_value(h, &p->defaults[i]);
        /* only what the default does not say, so a definition that did not
         * change keeps its hash (and its tables) */
        if (p->coltypes[i].type != default_type(&p->defaults[i]))
            h = hash_str(h, ftype_name(p->coltypes[i].type));
    }
    for (size_t i = 0; i < p->nhandlers; i++) {
        struct handler_spec *hs = &p->handlers[i];
        hs->meta_need = meta_need_of(hs->when) | meta_need_of(hs->for_each) |
                        (hs->for_each ? 0 : meta_need_of(p->key));
        for (size_t j = 0; j < hs->nset; j++)
            hs->meta_need |= meta_need_of(hs->set[j].value);
        hs->meta_known = true;
        h = hash_str(h, "on");
        h = hash_str(h, hs->event_type);
        h = hash_str(h, hs->when ? expr_source(hs->when) : NULL);
        h = hash_str(h, hs->delete_row ? "delete" : "keep");
        if (hs->for_each)
            h = hash_str(h, expr_source(hs->for_each));
        for (size_t j = 0; j < hs->nset; j++) {
            h = hash_str(h, hs->set[j].name);
            h = hash_str(h, hs->set[j].value ? expr_source(hs->set[j].value) : NULL);
        }
    }
    hash_hex(h, p->rules_hash);
}

/* Column i: a bare default (a column of the default's type; null: any), or a
 * field spec {type, default} as a state field is written. */
static void column_load(struct loader *L, const struct ynode *k, const struct ynode *v,
                        struct projection_spec *p, size_t i)
{
    ld_check_name(L, k, "column");
    p->columns[i] = xstrdup(k->text);
    struct field_spec *f = &p->coltypes[i];
    if (v && v->kind == YN_MAP && ynode_get(v, "type")) {
        field_parse(L, k, v, FIELD_STATE, f);
        p->defaults[i] = value_ref(&f->def);
        return;
    }
    size_t m = ld_push(L, k->text);
    ld_value(L, v, &p->defaults[i]);
    ld_pop(L, m);
    f->name = xstrdup(k->text);
    f->type = default_type(&p->defaults[i]);
    f->has_default = true;
    f->def = value_ref(&p->defaults[i]);
    f->min_length = f->max_length = -1;
    f->enum_values = value_null();
    f->pos.line = k->line;
    f->pos.col = k->col;
}

/* Which rows: a projection without a key is one row, unless every handler
 * names its rows with for_each. A mix would fold some events into one row ''
 * and others into keyed rows of the same table. */
static void keyed_check(struct loader *L, struct projection_spec *p, const struct ynode *on)
{
    size_t with = 0;
    for (size_t i = 0; i < p->nhandlers; i++)
        with += p->handlers[i].for_each != NULL;
    p->keyed = p->key || (p->nhandlers && with == p->nhandlers);
    if (p->key || !with || with == p->nhandlers)
        return;
    for (size_t i = 0; i < p->nhandlers; i++) {
        if (p->handlers[i].for_each)
            continue;
        size_t m = ld_push(L, "on");
        ld_push(L, p->handlers[i].event_type);
        ld_diag(L, ynode_keynode(on, i),
                "projection %s has no `key:`, so this handler needs `for_each:` like the others "
                "(which rows does it change?)",
                p->name);
        ld_pop(L, m);
    }
}

static void projection_load(struct loader *L, const struct ynode *key, const struct ynode *val,
                            struct projection_spec *p)
{
    p->name = xstrdup(key->text);
    p->pos.line = key->line;
    p->pos.col = key->col;
    ld_check_name(L, key, "projection");
    size_t m = ld_push(L, key->text);
    if (!ld_expect_map(L, val, "a projection {key, columns, on}", false)) {
        ld_pop(L, m);
        return;
    }
    ld_check_keys(L, val, projection_keys, sizeof projection_keys / sizeof projection_keys[0]);
    const struct ynode *x;
    if ((x = ynode_get(val, "columns"))) {
        size_t m2 = ld_push(L, "columns");
        if (ld_expect_map(L, x, "the columns {name: default value}", true) && x->n) {
            p->columns = xcalloc(x->n, sizeof *p->columns);
            p->defaults = xcalloc(x->n, sizeof *p->defaults);
            p->coltypes = xcalloc(x->n, sizeof *p->coltypes);
            p->ncolumns = x->n;
            for (size_t i = 0; i < x->n; i++)
                column_load(L, ynode_keynode(x, i), ynode_val(x, i), p, i);
        }
        ld_pop(L, m2);
    }
    struct schema_buf rs;
    schema_from_fields(&rs, p->coltypes, p->ncolumns);
    if ((x = ynode_get(val, "key"))) {
        size_t m2 = ld_push(L, "key");
        /* The key picks the row, so it cannot read the row. */
        struct expr_env env = {
            ROOT_BIT(ROOT_EVENT) | ROOT_BIT(ROOT_META), {NULL}, "projection key"};
        env.schema[ROOT_META] = meta_schema();
        p->key = ld_compile(L, x, &env, false);
        ld_pop(L, m2);
    }
    const struct ynode *on = ynode_get(val, "on");
    if (!on) {
        ld_diag(L, key, "a projection needs `on:`, the events it folds and what each one sets");
    } else {
        size_t m2 = ld_push(L, "on");
        if (ld_expect_map(L, on, "the handlers {EventType: {column: expression}}", false) &&
            on->n) {
            p->handlers = xcalloc(on->n, sizeof *p->handlers);
            p->nhandlers = on->n;
            for (size_t i = 0; i < on->n; i++)
                handler_load(L, p, ynode_keynode(on, i), ynode_val(on, i), &p->handlers[i], &rs.s);
        }
        ld_pop(L, m2);
    }
    if (p->key && (x = ynode_get(val, "key"))) {
        size_t m2 = ld_push(L, "key");
        key_check(L, p, x);
        ld_pop(L, m2);
    }
    keyed_check(L, p, on);
    schema_done(&rs);
    projection_hash(p);
    ld_pop(L, m);
}

void projections_load(struct loader *L, const struct ynode *map)
{
    if (!map->n)
        return;
    L->d->projections = xcalloc(map->n, sizeof *L->d->projections);
    L->d->nprojections = map->n;
    for (size_t i = 0; i < map->n; i++)
        projection_load(L, ynode_keynode(map, i), ynode_val(map, i), &L->d->projections[i]);
}
