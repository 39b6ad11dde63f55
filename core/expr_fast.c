/* expr_fast.c: a few simple expression shapes over one root, evaluated without
 * the evaluator (see expr.h, expr_fast_plan).
 *
 * An import evaluates its source's expressions once per record; for the usual
 * shapes (`record.kind`, `'Account-' + record.account`, `{'amount':
 * int(record.amount)}`) the evaluator's set-up (a context, a work budget, the
 * result's checks) cost more than the work. The shapes taken here:
 *   FIELD   root.name
 *   CONCAT  a + b + ... of string literals and root.name fields that are strings
 *   MAP     {'k': T, ...}: string-literal keys, each T root.name (a scalar) or
 *           int(root.name) (an int, or a string of at most 18 digits after an
 *           optional sign)
 * Anything a record does not fit (a missing field, another type, a longer
 * number, a long result) is left to expr_eval, which gives its value or its
 * error as ever. For what it takes, the value is the one expr_eval gives. */
#include <stdlib.h>
#include <string.h>

#include "expr_internal.h"
#include "json.h"

#define FX_MAP_MAX 16 /* a map of more entries too */

enum fx_kind { FX_FIELD, FX_CONCAT, FX_MAP };

struct fx_term {
    const char *text; /* a string literal's (borrowed from the expression), else NULL */
    size_t len;
    const struct node *field; /* root.name, else NULL */
    bool to_int;              /* int(root.name) */
    const char *key;          /* FX_MAP: the key */
    size_t keylen;
    char *keyjson; /* FX_MAP: '{' or ',', the key as JSON, ':' (what expr_fast_json writes) */
    size_t keyjsonlen;
    size_t hint; /* where the field was in the last record (records of a file agree) */
};

struct expr_fast {
    enum fx_kind kind;
    struct fx_term *terms;
    size_t n;
};

/* root.name over the wanted root, typed as nothing in particular (a field a
 * schema types as a timestamp is read differently by the evaluator). */
static bool is_field(const struct node *n, int root)
{
    return n->kind == N_SELECT && n->nkids == 1 && n->kids[0]->kind == N_ROOT &&
           n->kids[0]->slot == root && (n->type == EXPR_T_ANY || n->type == EXPR_T_STRING);
}

static bool is_text(const struct node *n)
{
    return n->kind == N_CONST && n->cval.type == V_STRING;
}

/* Flattens a + b + ... into terms; false when a leaf is anything else. */
static bool concat_terms(const struct node *n, int root, struct expr_fast *f)
{
    if (n->kind == N_BIN && n->op == OP_ADD && n->nkids == 2)
        return concat_terms(n->kids[0], root, f) && concat_terms(n->kids[1], root, f);
    if (!is_text(n) && !is_field(n, root))
        return false;
    f->terms = xrealloc(f->terms, (f->n + 1) * sizeof *f->terms);
    struct fx_term *t = &f->terms[f->n++];
    memset(t, 0, sizeof *t);
    if (is_text(n)) {
        t->text = value_str(&n->cval);
        t->len = value_strlen(&n->cval);
    } else {
        t->field = n;
    }
    return true;
}

struct expr_fast *expr_fast_plan(const expr *x, int root)
{
    if (!x)
        return NULL;
    const struct node *r = x->root;
    struct expr_fast *f = xcalloc(1, sizeof *f);
    if (is_field(r, root)) {
        f->kind = FX_FIELD;
        f->terms = xcalloc(1, sizeof *f->terms);
        f->terms[0].field = r;
        f->n = 1;
        return f;
    }
    if (r->kind == N_BIN && r->op == OP_ADD) {
        f->kind = FX_CONCAT;
        if (concat_terms(r, root, f))
            return f;
        expr_fast_free(f);
        return NULL;
    }
    if (r->kind == N_MAP && r->nkids % 2 == 0 && r->nkids > 0 && r->nkids / 2 <= FX_MAP_MAX) {
        f->kind = FX_MAP;
        f->n = (size_t)r->nkids / 2;
        f->terms = xcalloc(f->n, sizeof *f->terms);
        for (size_t i = 0; i < f->n; i++) {
            const struct node *k = r->kids[2 * i], *v = r->kids[2 * i + 1];
            struct fx_term *t = &f->terms[i];
            if (!is_text(k))
                goto no;
            t->key = value_str(&k->cval);
            t->keylen = value_strlen(&k->cval);
            for (size_t j = 0; j < i; j++)
                if (f->terms[j].keylen == t->keylen &&
                    memcmp(f->terms[j].key, t->key, t->keylen) == 0)
                    goto no;
            strbuf kj;
            sb_init(&kj);
            sb_addc(&kj, i ? ',' : '{');
            json_write_string(&kj, t->key, t->keylen);
            sb_addc(&kj, ':');
            t->keyjsonlen = kj.len;
            t->keyjson = sb_steal(&kj);
            if (is_field(v, root)) {
                t->field = v;
            } else if (v->kind == N_CALL && v->op == FN_INT && !v->method && v->nkids == 1 &&
                       is_field(v->kids[0], root)) {
                t->field = v->kids[0];
                t->to_int = true;
            } else {
                goto no;
            }
        }
        return f;
    }
no:
    expr_fast_free(f);
    return NULL;
}

void expr_fast_free(struct expr_fast *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->terms[i].keyjson);
    free(f->terms);
    free(f);
}

/* root.name: looked for where it was in the last record first (a CSV file's
 * records all have their fields in the same places). */
static const value *field_of(const value *root, struct fx_term *t)
{
    if (root->type != V_MAP)
        return NULL;
    const struct node *n = t->field;
    if (t->hint < value_map_len(root) && value_map_key_kind(root, t->hint) == VKEY_STRING) {
        const value *k = value_map_key_at(root, t->hint);
        if (value_strlen(k) == n->namelen && memcmp(value_str(k), n->name, n->namelen) == 0)
            return value_map_val_at(root, t->hint);
    }
    const value *v = value_map_getn(root, n->name, n->namelen);
    if (v)
        t->hint = (size_t)((const char *)v - (const char *)root->u.m->entries) /
                  sizeof(struct vmap_entry);
    return v;
}

/* A string of at most 18 digits after an optional sign, as int() reads it. */
static bool small_int(const value *v, int64_t *out)
{
    const char *s = value_str(v);
    size_t len = value_strlen(v), i = 0;
    bool neg = false;
    if (len > 0 && (s[0] == '+' || s[0] == '-'))
        neg = s[i++] == '-';
    if (i == len || len - i > 18)
        return false;
    int64_t x = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *out = neg ? -x : x;
    return true;
}

/* A value the fast forms pass on as it is (maps, lists, timestamps and durations
 * go to the evaluator). */
static bool fast_scalar(const value *v)
{
    return v->type != V_MAP && v->type != V_LIST && v->type != V_TIMESTAMP && v->type != V_DURATION;
}

/* The map's values, checked: false when a record does not fit the fast form. */
static bool map_values(const struct expr_fast *f, const value *root, value *vals)
{
    for (size_t i = 0; i < f->n; i++) {
        struct fx_term *t = &f->terms[i];
        const value *v = field_of(root, t);
        if (!v)
            return false;
        if (t->to_int) {
            int64_t x;
            if (v->type == V_INT)
                x = v->u.i;
            else if (v->type != V_STRING || !small_int(v, &x))
                return false;
            vals[i] = value_int(x);
        } else if (!fast_scalar(v)) {
            return false;
        } else {
            vals[i] = *v; /* borrowed */
        }
    }
    return true;
}

bool expr_fast_json(const struct expr_fast *f, const value *root, strbuf *sb)
{
    value vals[FX_MAP_MAX];
    if (f->kind != FX_MAP || !map_values(f, root, vals))
        return false;
    for (size_t i = 0; i < f->n; i++) {
        sb_add(sb, f->terms[i].keyjson, f->terms[i].keyjsonlen); /* made once, when planned */
        json_write(sb, &vals[i]);
    }
    sb_addc(sb, '}');
    return true;
}

const char *expr_fast_text(const struct expr_fast *f, const value *root,
                           char buf[EXPR_FAST_TEXT_MAX], size_t *len)
{
    if (f->kind == FX_FIELD) {
        const value *v = field_of(root, &f->terms[0]);
        if (!v || v->type != V_STRING)
            return NULL;
        *len = value_strlen(v);
        return value_str(v);
    }
    if (f->kind != FX_CONCAT)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        struct fx_term *t = &f->terms[i];
        const char *s = t->text;
        size_t k = t->len;
        if (t->field) {
            const value *v = field_of(root, t);
            if (!v || v->type != V_STRING)
                return NULL;
            s = value_str(v);
            k = value_strlen(v);
        }
        if (k > EXPR_FAST_TEXT_MAX - n)
            return NULL;
        memcpy(buf + n, s, k);
        n += k;
    }
    *len = n;
    return buf;
}

bool expr_fast_eval(const struct expr_fast *f, const value *root, value *out)
{
    switch (f->kind) {
    case FX_FIELD: {
        const value *v = field_of(root, &f->terms[0]);
        if (!v || !fast_scalar(v))
            return false;
        *out = value_ref(v);
        return true;
    }
    case FX_CONCAT: {
        char buf[EXPR_FAST_TEXT_MAX];
        size_t len = 0;
        const char *t = expr_fast_text(f, root, buf, &len);
        if (!t)
            return false;
        *out = value_string(t, len);
        return true;
    }
    case FX_MAP: {
        value vals[FX_MAP_MAX];
        if (!map_values(f, root, vals))
            return false;
        value m = value_map(f->n);
        for (size_t i = 0; i < f->n; i++)
            value_map_setn(&m, f->terms[i].key, f->terms[i].keylen,
                           f->terms[i].to_int ? vals[i] : value_ref(&vals[i]));
        *out = m;
        return true;
    }
    }
    return false;
}
