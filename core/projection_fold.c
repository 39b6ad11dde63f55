/* projection_fold.c: folding events into read models (see projection_fold.h):
 * one event into one projection's rows (fold_event), the rows kept in memory
 * between events and which of them a batch changed, and a dry run's fold
 * (fold_dry_event). The batches around them are projection_batch.c's. */
#include "projection_fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "domain_schema.h"
#include "event_format.h"
#include "json.h"
#include "projection_lag.h"

void fold_init(struct fold *f, const struct proj_backend *be, const struct domain *d,
               const struct projection_spec *p, bool rebuild)
{
    memset(f, 0, sizeof *f);
    f->be = be;
    f->d = d;
    f->p = p;
    f->rebuild = rebuild;
    f->cache = value_map(64);
    f->cache_at = -1;
    sb_init(&f->key);
    f->budget = -1;
    f->active = true;
}

static void set_cols_free(struct fold *f);

void fold_done(struct fold *f)
{
    if (f->w)
        f->be->writer_close(f->w);
    value_free(f->cache);
    free(f->dirty);
    free(f->marked);
    value_free(f->defaults);
    set_cols_free(f);
    meta_keep_done(&f->dry_meta);
    free(f->set_at);
    sb_done(&f->key);
    expr_fast_free(f->key_fast);
}

/* Marks the cache's entry `at` changed in this batch. */
static void dirty_add(struct fold *f, size_t at)
{
    if (at >= f->marked_cap) {
        size_t cap = f->marked_cap ? f->marked_cap * 2 : 64;
        while (cap <= at)
            cap *= 2;
        f->marked = xrealloc(f->marked, cap);
        memset(f->marked + f->marked_cap, 0, cap - f->marked_cap);
        f->marked_cap = cap;
    }
    if (f->marked[at])
        return;
    f->marked[at] = 1;
    if (f->ndirty == f->dirty_cap) {
        f->dirty_cap = f->dirty_cap ? f->dirty_cap * 2 : 64;
        f->dirty = xrealloc(f->dirty, f->dirty_cap * sizeof *f->dirty);
    }
    f->dirty[f->ndirty++] = at;
}

static void dirty_clear(struct fold *f)
{
    for (size_t i = 0; i < f->ndirty; i++)
        f->marked[f->dirty[i]] = 0;
    f->ndirty = 0;
}

/* Forgets the cached rows (and so which of them changed: positions in it). */
void fold_cache_reset(struct fold *f)
{
    dirty_clear(f);
    value_free(f->cache);
    f->cache = value_map(64);
    f->cache_at = -1;
    if (f->w && f->be->writer_forget)
        f->be->writer_forget(f->w);
}

/* What of `meta` folding with h reads (all of it for a handler the loader did not make). */
unsigned fold_meta_need(const struct handler_spec *h)
{
    return h->meta_known ? h->meta_need : META_ALL;
}

const struct handler_spec *fold_handler_for(const struct projection_spec *p, const char *type)
{
    for (size_t i = 0; i < p->nhandlers; i++)
        if (p->handlers[i].event_type[0] == type[0] && strcmp(p->handlers[i].event_type, type) == 0)
            return &p->handlers[i];
    return NULL;
}

/* Says where in the domain a failing expression is: FILE:LINE:COL: PATH: msg. */
static void failure_where(const struct fold *f, struct srcpos pos, const char *path, err *e)
{
    char where[512];
    /* An expression's own error already names its exact place in the file. */
    const char *file = f->d->file ? f->d->file : "domain";
    size_t fl = strlen(file);
    if (strncmp(e->msg, file, fl) == 0 && e->msg[fl] == ':')
        pos.line = 0;
    if (pos.line > 0)
        snprintf(where, sizeof where, "%s:%d:%d: projections.%s.%s", file, pos.line, pos.col,
                 f->p->name, path);
    else
        snprintf(where, sizeof where, "projections.%s.%s", f->p->name, path);
    err_prefix(e, "%s", where);
}

static bool key_text(const value *v, strbuf *out)
{
    sb_reset(out);
    switch (v->type) {
    case V_STRING:
        sb_add(out, value_str(v), value_strlen(v));
        return true;
    case V_INT:
        sb_addf(out, "%lld", (long long)v->u.i);
        return true;
    case V_BOOL:
        sb_adds(out, v->u.b ? "true" : "false");
        return true;
    case V_DOUBLE:
        json_write_double(out, v->u.d);
        return true;
    default:
        return false;
    }
}

/* Do two rows (maps of columns) hold the same values? */
static bool rows_same(const value *a, const value *b)
{
    if (a->type != V_MAP || b->type != V_MAP || value_map_len(a) != value_map_len(b))
        return a->type == b->type && value_equal(a, b);
    for (size_t i = 0; i < value_map_len(a); i++) {
        const value *k = value_map_key_at(a, i);
        /* A row made from the other by setting columns shares its key strings, in
         * the same places: no search then. */
        bool same_place =
            value_map_key_at(b, i)->u.s == k->u.s && value_map_key_kind(b, i) == VKEY_STRING;
        const value *other =
            same_place ? value_map_val_at(b, i) : value_map_getn(b, value_str(k), value_strlen(k));
        if (!other || !value_same(value_map_val_at(a, i), other))
            return false;
    }
    return true;
}

/* The projection's key for an event, by its fast form when it has one (the usual
 * `meta.aggregateId`, `event.id`, `'A-' + event.id`: no evaluator set up per
 * event): false when it has none or the event does not fit it (then expr_eval
 * gives the value or the error, as ever). */
static bool key_fast(struct fold *f, const struct expr_vars *vars, value *out)
{
    if (!f->key_planned) {
        f->key_planned = true;
        static const int roots[] = {ROOT_META, ROOT_EVENT};
        for (size_t i = 0; i < 2 && !f->key_fast; i++)
            if ((f->key_fast = expr_fast_plan(f->p->key, roots[i])) != NULL)
                f->key_root = roots[i];
    }
    return f->key_fast && expr_fast_eval(f->key_fast, &vars->roots[f->key_root], out);
}

/* The keys of the rows the event changes, as strings: its for_each list, else
 * the projection's key, else the single row's ''. One key goes into *one (no
 * list of one made per event), several into *keys (a list); both null when it
 * has none, or failed. */
static enum fold_result event_keys(struct fold *f, const struct handler_spec *h,
                                   const struct expr_vars *vars, value *keys, value *one, err *e)
{
    const struct projection_spec *p = f->p;
    *keys = value_null();
    *one = value_null();
    const expr *x = h->for_each ? h->for_each : p->key;
    if (!x) {
        *one = value_string("", 0);
        return FOLD_OK;
    }
    char path[300]; /* made only for a failure: most events do not need it */
    value k;
    if (!(!h->for_each && key_fast(f, vars, &k)) && expr_eval(x, vars, &k, e) != ST_OK) {
        snprintf(path, sizeof path, h->for_each ? "on.%s.for_each" : "key", h->event_type);
        failure_where(f, h->for_each ? h->pos : p->pos, path, e);
        return FOLD_FAILED;
    }
    if (!h->for_each && (k.type == V_STRING || k.type == V_INT)) {
        /* the usual case, one key (its text in f->key only where it is read: a
         * dry run's failure names its row by it) */
        if (k.type != V_STRING || !f->w)
            key_text(&k, &f->key);
        *one = k.type == V_STRING ? k : value_string(f->key.buf, f->key.len);
        return FOLD_OK;
    }
    *keys = value_list(1);
    snprintf(path, sizeof path, h->for_each ? "on.%s.for_each" : "key", h->event_type);
    bool ok = true;
    if (h->for_each && k.type != V_LIST) {
        err_set(e, ST_ERR, "projections.%s.%s: `%s` gave %s%s, not a list of row keys", p->name,
                path, expr_source(x), k.type == V_NULL ? "" : "a ", vtype_name(k.type));
        ok = false;
    }
    size_t n = h->for_each && ok ? value_list_len(&k) : 1;
    for (size_t i = 0; ok && i < n; i++) {
        const value *item = h->for_each ? value_list_at(&k, i) : &k;
        ok = key_text(item, &f->key);
        if (!ok)
            err_set(e, ST_ERR, "projections.%s.%s: `%s` gave %s%s%s, not a string or a number",
                    p->name, path, expr_source(x), h->for_each ? "a list holding " : "",
                    item->type == V_NULL ? "" : "a ", vtype_name(item->type));
        else
            value_list_push(keys, value_string(f->key.buf ? f->key.buf : "", f->key.len));
    }
    value_free(k);
    return ok ? FOLD_OK : FOLD_FAILED;
}

/* Refuses a value v its column's type cannot hold (freeing it: *v becomes null),
 * so the failure names the column and the event that wrote it, rather than
 * surfacing later in whatever handler reads it. */
static bool column_check(const struct field_spec *c, const struct assign *a, value *v, err *e)
{
    if (field_check(c, v, e) != ST_OK) {
        value_free(*v);
        *v = value_null();
        const char *m = strncmp(e->msg, "field ", 6) == 0 ? e->msg + 6 : e->msg;
        char *msg = xasprintf("column %s (from `%s`)", m, expr_source(a->value));
        err_set(e, ST_ERR, "%s", msg);
        free(msg);
        return false;
    }
    return true;
}

/* The column a handler's `set` names, looked up at the fold's first event rather
 * than at every event (its type by name, its place in the row by name). */
struct set_col {
    const struct field_spec *spec; /* its type (NULL: none declared) */
    /* spec asks nothing of a value but its type (no bounds, lengths, pattern, enum,
     * parts, or text to read as a time): field_check's answer then depends on the
     * value's type alone, and ok_type (-1: none yet) is a type it accepted. */
    bool by_type;
    int ok_type;
    size_t at;  /* its place in a row made from the defaults */
    size_t len; /* strlen of its name */
    value key;  /* a reference to the key string last found there (null: none yet):
                   held, so a row with that very string there has its name there */
};

static void set_cols_make(struct fold *f)
{
    const struct projection_spec *p = f->p;
    f->set_at = xcalloc(p->nhandlers + 1, sizeof *f->set_at);
    for (size_t i = 0; i < p->nhandlers; i++)
        f->set_at[i + 1] = f->set_at[i] + p->handlers[i].nset;
    f->set_cols = xcalloc(f->set_at[p->nhandlers] + 1, sizeof *f->set_cols);
    for (size_t i = 0; i < p->nhandlers; i++) {
        for (size_t j = 0; j < p->handlers[i].nset; j++) {
            struct set_col *c = &f->set_cols[f->set_at[i] + j];
            const char *name = p->handlers[i].set[j].name;
            c->spec = fields_find(p->coltypes, p->ncolumns, name);
            const struct field_spec *s = c->spec;
            c->by_type = s && !s->record && !s->elem && !s->has_min && !s->has_max &&
                         s->min_length < 0 && s->max_length < 0 && !s->pattern &&
                         s->enum_values.type != V_LIST && s->type != F_TIMESTAMP &&
                         s->type != F_DURATION;
            c->ok_type = -1;
            c->len = strlen(name);
            c->at = SIZE_MAX;
            for (size_t k = 0; k < p->ncolumns && c->at == SIZE_MAX; k++)
                if (strcmp(p->columns[k], name) == 0)
                    c->at = k;
        }
    }
}

static void set_cols_free(struct fold *f)
{
    for (size_t i = 0; f->set_cols && i < f->set_at[f->p->nhandlers]; i++)
        value_free(f->set_cols[i].key);
    free(f->set_cols);
}

/* Makes v (owned) a value of c's column: coerced to its type, and checked (false,
 * with *v null, when the column cannot hold it). Null clears a column of any type.
 * The check is skipped for a value of a type c's spec has accepted, when only the
 * type matters (by_type). */
static bool set_col_value(struct set_col *c, const struct assign *a, value *v, err *e)
{
    if (!c->spec || v->type == V_NULL)
        return true;
    *v = field_coerce_spec(c->spec, *v);
    if (c->by_type && (int)v->type == c->ok_type)
        return true;
    if (!column_check(c->spec, a, v, e))
        return false;
    if (c->by_type)
        c->ok_type = (int)v->type;
    return true;
}

/* Sets the column of c to v (taken) in row, in place unless the row is shared:
 * at its usual place when the key there is its name (a row from the defaults or
 * from storage has its columns in order), else looked up. */
static void set_col_set(value *row, struct set_col *c, const char *name, value v)
{
    if (c->at < value_map_len(row)) {
        const value *k = value_map_key_at(row, c->at);
        if ((c->key.type == V_STRING && c->key.u.s == k->u.s) ||
            (value_strlen(k) == c->len && memcmp(value_str(k), name, c->len) == 0)) {
            if (c->key.u.s != k->u.s) {
                value_free(c->key);
                c->key = value_ref(k);
            }
            value_map_set_at(row, c->at, v);
            return;
        }
    }
    value_map_set(row, name, v);
}

/* What an event did to one row, until it is written. */
struct row_change {
    value key;    /* its key (a string) */
    ptrdiff_t at; /* its place in f->cache when it was there before the event, else -1 */
    value before; /* the row before the event (null when it had none) */
    bool found;
    value after; /* null when the event deleted it */
};

/* The row of key before this handler's run: what an earlier run for the same
 * event made (a for_each list may name a key twice), else the cache (*at its
 * place there, else -1), else storage; *found false when it has none (then
 * *row is the defaults). */
static enum fold_result row_before(struct fold *f, const value *done, const struct row_change *ch,
                                   const char *key, size_t klen, value *row, bool *found,
                                   ptrdiff_t *at, err *e)
{
    const value *seen = done->type == V_MAP ? value_map_getn(done, key, klen) : NULL;
    *found = false;
    *row = value_null();
    *at = -1;
    if (seen) {
        const struct row_change *c = &ch[seen->u.i];
        *found = c->after.type != V_NULL;
        *row = value_ref(&c->after);
    } else {
        *at = value_map_find_at(&f->cache, key, klen);
        const value *cached = *at >= 0 ? value_map_val_at(&f->cache, (size_t)*at) : NULL;
        if (cached) {
            *found = cached->type != V_NULL;
            *row = value_ref(cached);
        } else if (!f->w) { /* a dry run (bisect --fails): rows live in the cache only */
            *found = false;
            *row = value_null();
        } else if (f->be->row_get(f->w, key, row, found, e) != ST_OK) {
            return FOLD_ERROR;
        }
    }
    if (!*found) {
        value_free(*row);
        *row = proj_defaults_row(f->p);
    }
    return FOLD_OK;
}

/* Folds one event, decoded once for every projection of its batch (de), into the
 * rows with handler h: every row's new value first, then the writes, so an
 * event that fails on its third key leaves nothing of itself behind. */
enum fold_result fold_event(struct fold *f, const struct handler_spec *h, const struct event *ev,
                            const struct decoded_event *de, err *e)
{
    const struct projection_spec *p = f->p;
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_EVENT] = de->data;
    vars.roots[ROOT_META] = de->meta;
    value keys, key1;
    enum fold_result res = event_keys(f, h, &vars, &keys, &key1, e);
    size_t nkeys = keys.type == V_LIST ? value_list_len(&keys) : key1.type != V_NULL, nch = 0;
    /* The usual event changes one row: nothing allocated for it. */
    struct row_change one[1];
    struct row_change *ch = nkeys <= 1 ? one : xcalloc(nkeys, sizeof *ch);
    memset(ch, 0, (nkeys ? nkeys : 1) * sizeof *ch);
    value done = nkeys > 1 ? value_map(nkeys) : value_null(); /* key -> index in ch */
    char path[300];
    for (size_t i = 0; res == FOLD_OK && i < nkeys; i++) {
        const value *kv = keys.type == V_LIST ? value_list_at(&keys, i) : &key1;
        const char *key = value_str(kv);
        size_t klen = value_strlen(kv);
        value row, next = value_null();
        bool found;
        ptrdiff_t at;
        if ((res = row_before(f, &done, ch, key, klen, &row, &found, &at, e)) != FOLD_OK)
            break;
        vars.roots[ROOT_ROW] = row;
        vars.roots[ROOT_KEY] = *kv;
        bool yes = true;
        if (h->when && expr_eval_bool(h->when, &vars, &yes, e) != ST_OK) {
            snprintf(path, sizeof path, "on.%s.when", h->event_type);
            failure_where(f, h->pos, path, e);
            res = FOLD_FAILED;
        }
        bool deleted = h->delete_row && p->keyed;
        if (res != FOLD_OK || !yes) {
            /* nothing for this key */
        } else if (h->delete_row && !p->keyed) {
            next = proj_defaults_row(p); /* the single row is always there: back to its defaults */
        } else if (!deleted) {
            if (!f->set_cols)
                set_cols_make(f);
            struct set_col *cols = &f->set_cols[f->set_at[h - p->handlers]];
            next = value_ref(&row); /* copied at its first set: row stays the row before */
            for (size_t j = 0; j < h->nset && res == FOLD_OK; j++) {
                value v;
                bool ok = expr_eval(h->set[j].value, &vars, &v, e) == ST_OK &&
                          set_col_value(&cols[j], &h->set[j], &v, e);
                if (ok)
                    set_col_set(&next, &cols[j], h->set[j].name, v);
                else {
                    snprintf(path, sizeof path, "on.%s.set.%s", h->event_type, h->set[j].name);
                    failure_where(f, h->set[j].pos, path, e);
                    res = FOLD_FAILED;
                }
            }
        }
        if (res == FOLD_OK && yes) {
            const value *seen = done.type == V_MAP ? value_map_getn(&done, key, klen) : NULL;
            struct row_change *c;
            if (seen) {
                c = &ch[seen->u.i];
                value_free(c->after);
            } else {
                if (done.type == V_MAP)
                    value_map_setn(&done, key, klen, value_int((int64_t)nch));
                c = &ch[nch++];
                c->key = value_ref(kv);
                c->at = at;
                c->before = found ? value_ref(&row) : value_null();
                c->found = found;
            }
            c->after = deleted ? value_null() : value_ref(&next);
        }
        value_free(row);
        value_free(next);
    }
    /* The writes: one history entry per row that changed. */
    for (size_t i = 0; res == FOLD_OK && i < nch; i++) {
        const struct row_change *c = &ch[i];
        const value *k = &c->key;
        bool deleted = c->after.type == V_NULL;
        /* Nothing changed: no history entry, no write (a dry run keeps the row
         * either way: comparing would cost more than keeping). */
        if (deleted ? !c->found : (f->w && c->found && rows_same(&c->after, &c->before)))
            continue;
        if (f->w &&
            f->be->history_put(f->w, value_str(k), ev->position, c->found ? &c->before : NULL,
                               deleted ? NULL : &c->after, !c->found, e) != ST_OK) {
            res = FOLD_ERROR;
            break;
        }
        /* Its place in the cache is known when it was there: no second search
         * (the cache only grew since, which moves no entry's place). */
        value now = deleted ? value_null() : value_ref(&c->after);
        size_t at = (size_t)c->at;
        if (c->at >= 0)
            value_map_set_at(&f->cache, at, now);
        else
            at = value_map_setn(&f->cache, value_str(k), value_strlen(k), now);
        if (f->w)
            dirty_add(f, at);
    }
    for (size_t i = 0; i < nch; i++) {
        value_free(ch[i].key);
        value_free(ch[i].before);
        value_free(ch[i].after);
    }
    if (ch != one)
        free(ch);
    value_free(done);
    value_free(keys);
    value_free(key1);
    if (res == FOLD_FAILED && e->code == ST_OK)
        e->code = ST_ERR;
    return res;
}

/* Writes the rows changed in this batch to the typed table. */
int fold_flush_dirty(struct fold *f, err *e)
{
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < f->ndirty; i++) {
        const value *row = value_map_val_at(&f->cache, f->dirty[i]);
        rc = f->be->row_store(f->w, value_str(value_map_key_at(&f->cache, f->dirty[i])),
                              row->type != V_NULL ? row : NULL, e);
    }
    dirty_clear(f);
    return rc;
}

#define DRY_SETS_MAX 16 /* the most `set` columns fold_event_dry takes; more go to fold_event */

/* A dry run's usual event (no writer, no for_each, no delete): the same result as
 * fold_event, but its one row is changed where it lies in f->cache, with neither a
 * copy of the row before nor a list of keys (nothing compares or writes them).
 * The `set` values are all computed from the row as it was before any is stored,
 * as fold_event computes them, and a failure leaves the row as it was. */
static enum fold_result fold_event_dry(struct fold *f, const struct handler_spec *h,
                                       const struct event *ev, const struct decoded_event *de,
                                       err *e)
{
    const struct projection_spec *p = f->p;
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_EVENT] = de->data;
    vars.roots[ROOT_META] = de->meta;
    char path[300]; /* made only for a failure */
    value kv;
    if (p->key) {
        if (!key_fast(f, &vars, &kv) && expr_eval(p->key, &vars, &kv, e) != ST_OK) {
            sb_reset(&f->key); /* not known: the row is not named */
            snprintf(path, sizeof path, "key");
            failure_where(f, p->pos, path, e);
            return FOLD_FAILED;
        }
        if (kv.type != V_STRING && kv.type != V_INT) {
            value_free(kv); /* fold_event says what is wrong with it */
            return fold_event(f, h, ev, de, e);
        }
        if (kv.type != V_STRING) {
            key_text(&kv, &f->key);
            kv = value_string(f->key.buf, f->key.len);
        }
    } else {
        kv = value_string("", 0);
    }
    const char *key = value_str(&kv);
    size_t klen = value_strlen(&kv);
    value *slot = (value *)value_map_getn(&f->cache, key, klen);
    if (slot && slot->type == V_NULL)
        slot = NULL; /* deleted: a new row */
    if (!slot && f->defaults.type == V_NULL)
        f->defaults = proj_defaults_row(p);
    vars.roots[ROOT_ROW] = slot ? *slot : f->defaults;
    vars.roots[ROOT_KEY] = kv;
    enum fold_result res = FOLD_OK;
    bool yes = true;
    if (h->when && expr_eval_bool(h->when, &vars, &yes, e) != ST_OK) {
        snprintf(path, sizeof path, "on.%s.when", h->event_type);
        failure_where(f, h->pos, path, e);
        res = FOLD_FAILED;
    }
    if (!f->set_cols)
        set_cols_make(f);
    struct set_col *cols = &f->set_cols[f->set_at[h - p->handlers]];
    value vals[DRY_SETS_MAX];
    size_t nv = 0;
    for (size_t j = 0; res == FOLD_OK && yes && j < h->nset; j++) {
        if (expr_eval(h->set[j].value, &vars, &vals[nv], e) != ST_OK ||
            !set_col_value(&cols[j], &h->set[j], &vals[nv++], e)) {
            snprintf(path, sizeof path, "on.%s.set.%s", h->event_type, h->set[j].name);
            failure_where(f, h->set[j].pos, path, e);
            res = FOLD_FAILED;
        }
    }
    if (res == FOLD_OK && yes) {
        value fresh = value_null();
        value *row = slot ? slot : (fresh = value_ref(&f->defaults), &fresh);
        for (size_t j = 0; j < nv; j++) {
            set_col_set(row, &cols[j], h->set[j].name, vals[j]);
            vals[j] = value_null();
        }
        if (!slot)
            value_map_setn(&f->cache, key, klen, fresh);
    }
    for (size_t j = 0; j < nv; j++)
        value_free(vals[j]);
    if (res == FOLD_FAILED && p->key)
        key_text(&kv, &f->key); /* the row it failed on (only then: a copy per event costs) */
    value_free(kv);
    if (res == FOLD_FAILED && e->code == ST_OK)
        e->code = ST_ERR;
    return res;
}

/* The dry run keeps every row in f->cache, which a fold without a writer never
 * trims (fold_event reads storage only through the writer). */
int fold_dry_event(struct fold *f, const struct event *ev, bool *touched, err *e)
{
    const struct handler_spec *h = fold_handler_for(f->p, ev->type);
    *touched = h != NULL;
    if (!h)
        return ST_OK;
    struct decoded_event de;
    if (event_decode_keep(f->d, ev, true, fold_meta_need(h), &f->dry_meta, &de, e) != ST_OK) {
        sb_reset(&f->key); /* not known: the row is not named */
        return err_prefix(e, "projections.%s.on.%s", f->p->name, ev->type), ST_ERR;
    }
    bool usual = !h->for_each && !h->delete_row && h->nset <= DRY_SETS_MAX;
    enum fold_result fr = usual ? fold_event_dry(f, h, ev, &de, e) : fold_event(f, h, ev, &de, e);
    decoded_event_done_keep(&de, &f->dry_meta);
    return fr == FOLD_OK ? ST_OK : ST_ERR;
}
