/* projection_fold.c: folding events into read models, batch by batch (see
 * projection_fold.h, and projection.c's first comment for how a batch works and
 * why it cannot count an event twice): one event into one projection's rows
 * (fold_event), one batch of events into a group of projections in one
 * transaction (fold_batch), and a run of batches that grow while they stay quick
 * (fold_run). */
#include "projection_fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "domain_schema.h"
#include "event_format.h"
#include "json.h"
#include "projection_lag.h"

#define BATCH 500             /* events per transaction, at first */
#define BATCH_MAX 32768       /* a batch doubles up to this while it stays quick */
#define BATCH_QUICK_MS 100    /* "quick": the write lock is held no longer than this */
#define BATCH_FAR 65536       /* events per transaction while far behind */
#define FAR_BEHIND 50000      /* "far behind": more events than this left to the head */
#define CACHE_MAX_KEYS 200000 /* rows kept in memory between batches, at most */

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
    f->dirty = value_map(64);
    sb_init(&f->key);
    f->budget = -1;
    f->active = true;
}

void fold_done(struct fold *f)
{
    if (f->w)
        f->be->writer_close(f->w);
    value_free(f->cache);
    value_free(f->dirty);
    value_free(f->defaults);
    free(f->set_cols);
    meta_keep_done(&f->dry_meta);
    free(f->set_at);
    sb_done(&f->key);
    expr_fast_free(f->key_fast);
}

static void cache_reset(struct fold *f)
{
    value_free(f->cache);
    f->cache = value_map(64);
    f->cache_at = -1;
    if (f->w && f->be->writer_forget)
        f->be->writer_forget(f->w);
}

/* What of `meta` folding with h reads (all of it for a handler the loader did not make). */
static unsigned handler_meta_need(const struct handler_spec *h)
{
    return h->meta_known ? h->meta_need : META_ALL;
}

static const struct handler_spec *handler_for(const struct projection_spec *p, const char *type)
{
    for (size_t i = 0; i < p->nhandlers; i++)
        if (strcmp(p->handlers[i].event_type, type) == 0)
            return &p->handlers[i];
    return NULL;
}

/* The outcome of folding one event. */
enum fold_result { FOLD_OK, FOLD_FAILED /* the event's fault */, FOLD_ERROR /* storage */ };

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
        /* the usual case, one key */
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
static void set_col_set(value *row, const struct set_col *c, const char *name, value v)
{
    if (c->at < value_map_len(row)) {
        const value *k = value_map_key_at(row, c->at);
        if (value_strlen(k) == c->len && memcmp(value_str(k), name, c->len) == 0) {
            value_map_set_at(row, c->at, v);
            return;
        }
    }
    value_map_set(row, name, v);
}

/* What an event did to one row, until it is written. */
struct row_change {
    value key;    /* its key (a string) */
    value before; /* the row before the event (null when it had none) */
    bool found;
    value after; /* null when the event deleted it */
};

/* The row of key before this handler's run: what an earlier run for the same
 * event made (a for_each list may name a key twice), else the cache, else
 * storage; *found false when it has none (then *row is the defaults). */
static enum fold_result row_before(struct fold *f, const value *done, const struct row_change *ch,
                                   const char *key, size_t klen, value *row, bool *found, err *e)
{
    const value *seen = done->type == V_MAP ? value_map_getn(done, key, klen) : NULL;
    *found = false;
    *row = value_null();
    if (seen) {
        const struct row_change *c = &ch[seen->u.i];
        *found = c->after.type != V_NULL;
        *row = value_ref(&c->after);
    } else {
        const value *cached = value_map_getn(&f->cache, key, klen);
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
static enum fold_result fold_event(struct fold *f, const struct handler_spec *h,
                                   const struct event *ev, const struct decoded_event *de, err *e)
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
        if ((res = row_before(f, &done, ch, key, klen, &row, &found, e)) != FOLD_OK)
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
        value_map_setn(&f->cache, value_str(k), value_strlen(k),
                       deleted ? value_null() : value_ref(&c->after));
        if (f->w)
            value_map_setn(&f->dirty, value_str(k), value_strlen(k), value_bool(true));
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
static int flush_dirty(struct fold *f, err *e)
{
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < value_map_len(&f->dirty); i++) {
        const value *k = value_map_key_at(&f->dirty, i);
        const value *row = value_map_getn(&f->cache, value_str(k), value_strlen(k));
        rc = f->be->row_store(f->w, value_str(k), row && row->type != V_NULL ? row : NULL, e);
    }
    value_free(f->dirty);
    f->dirty = value_map(64);
    return rc;
}

static void record_fail(struct proj_record *rec, const struct event *ev, const err *why)
{
    free(rec->error);
    free(rec->error_event);
    rec->error = xstrdup(why->msg);
    rec->error_position = ev->position;
    strbuf sb;
    sb_init(&sb);
    event_write_ndjson(&sb, ev, NULL, 0);
    while (sb.len && sb.buf[sb.len - 1] == '\n')
        sb.buf[--sb.len] = '\0';
    rec->error_event = sb_steal(&sb);
    snprintf(rec->status, sizeof rec->status, "failed");
}

/* What one batch did to one projection. */
struct batch_out {
    size_t folded; /* events folded (and committed) */
    bool stop;     /* nothing more to do now: at the head, failed, swapped, or not ours */
    bool failed;   /* an event failed */
    bool moved;    /* someone else moved its checkpoint away from the others' (it sat out) */
};

/* One projection's part in a batch. */
struct part {
    struct fold *f;
    struct batch_out *out;
    struct proj_record rec;
    bool have_rec;
    bool in;                      /* folding this batch */
    const struct handler_spec *h; /* its handler for the event at hand */
    int64_t last;                 /* the last position folded */
    const struct event *bad;      /* the event that failed, if one did */
    err why;                      /* and why */
    int64_t *skips;               /* positions it was told to pass over, ascending */
    size_t nskips;
    bool skipping; /* the event at hand is one of them */
};

/* Was the projection told to pass over the event at `position`? */
static bool skipped(const struct part *pt, int64_t position)
{
    size_t lo = 0, hi = pt->nskips;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pt->skips[mid] < position)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < pt->nskips && pt->skips[lo] == position;
}

/* Writes one projection's share of a batch, inside the batch's transaction: its
 * changed rows, its new checkpoint and status, its failure, its swap. */
static int part_finish(struct store *s, struct part *pt, int64_t begin_ms, int64_t start,
                       bool page_short, int64_t to, err *e)
{
    struct fold *f = pt->f;
    const struct proj_backend *be = f->be;
    const struct projection_spec *p = f->p;
    struct proj_record *rec = &pt->rec;
    struct batch_out *out = pt->out;
    int rc;
    if ((rc = flush_dirty(f, e)) != ST_OK)
        return rc;
    int64_t now = time_now_ms();
    rec->updated_ms = now;
    proj_samples_add(rec, begin_ms, start, now, pt->last);
    bool at_end = !pt->bad && page_short; /* the head (or `to`), under the write lock */
    if (f->rebuild) {
        rec->rebuild_checkpoint = pt->last;
    } else {
        rec->checkpoint = pt->last;
        snprintf(rec->status, sizeof rec->status, "%s", at_end && to == 0 ? "live" : "catching up");
    }
    if (pt->bad) {
        record_fail(rec, pt->bad, &pt->why);
        out->failed = true;
        out->stop = true;
        if (f->rebuild) {
            /* The old read model stays; the half-built one goes. */
            if ((rc = be->rebuild_drop(s, p, e)) != ST_OK)
                return rc;
            rec->rebuild_checkpoint = -1;
            rec->rebuild_hash[0] = '\0';
        }
    } else if (f->rebuild && at_end && to == 0) {
        /* Caught up: swap the new tables in, in this same transaction. */
        if ((rc = be->rebuild_swap(s, p, e)) != ST_OK)
            return rc;
        rec->checkpoint = pt->last;
        snprintf(rec->rules_hash, sizeof rec->rules_hash, "%s", p->rules_hash);
        rec->rebuild_checkpoint = -1;
        rec->rebuild_hash[0] = '\0';
        snprintf(rec->status, sizeof rec->status, "live");
        out->stop = true;
    } else if (at_end) {
        out->stop = true;
    }
    return be->record_put(s, p->name, rec, e);
}

/* One batch in progress: the projections of fold_batch and their parts. */
struct batch {
    struct store *s;
    struct fold **folds;
    size_t n;
    struct part *parts;
    int64_t begin_ms; /* when the batch began (for the rate) */
    int64_t start;    /* the checkpoint it starts from; -1 until one projection says */
    size_t nin;       /* projections folding it */
    const char *who;  /* the projection an error is about (NULL: none in particular) */
    /* `meta` built into from one event to the next rather than made anew (its
     * map, keys and unshared strings are reused: a third of decoding's cost) */
    struct meta_keep meta;
};

/* Reads each projection's record under the write lock and says which of them
 * fold this batch: someone (another process, a person) may have changed things
 * since this call looked. The first that may go on says where the batch starts;
 * one whose checkpoint is elsewhere sits it out (moved). */
static int batch_join(struct batch *b, int64_t to, bool honour, struct batch_out *outs, err *e)
{
    const struct proj_backend *be = b->folds[0]->be;
    for (size_t i = 0; i < b->n; i++) {
        struct part *pt = &b->parts[i];
        struct fold *f = b->folds[i];
        pt->f = f;
        pt->out = &outs[i];
        err_clear(&pt->why);
        b->who = f->p->name;
        int rc = be->record_get(b->s, f->p->name, &pt->rec, e);
        pt->have_rec = rc == ST_OK;
        if (rc == ST_NOT_FOUND)
            return err_set(e, ST_ERR, "projection %s: its record vanished from the store",
                           f->p->name);
        if (rc != ST_OK)
            return rc;
        const struct proj_record *rec = &pt->rec;
        bool rebuilding = rec->rebuild_checkpoint >= 0;
        int64_t at = f->rebuild ? rec->rebuild_checkpoint : rec->checkpoint;
        if (rec->error || (honour && rec->paused) || rebuilding != f->rebuild ||
            (!f->rebuild && strcmp(rec->rules_hash, f->p->rules_hash) != 0) ||
            (f->rebuild && strcmp(rec->rebuild_hash, f->p->rules_hash) != 0) ||
            (to > 0 && at >= to)) {
            outs[i].stop = true;
            continue;
        }
        if (b->start < 0) {
            b->start = at;
        } else if (at != b->start) {
            outs[i].moved = outs[i].stop = true;
            continue;
        }
        pt->in = true;
        pt->last = b->start;
        /* Read under the same lock as the record, so a skip recorded meanwhile is seen
         * by the batch that resumes the projection past it. */
        if ((rc = be->skips_get(b->s, f->p->name, &pt->skips, &pt->nskips, e)) != ST_OK)
            return rc;
        b->nin++;
        if (b->start != f->cache_at || value_map_len(&f->cache) > CACHE_MAX_KEYS)
            cache_reset(f);
    }
    return ST_OK;
}

/* Folds one event, decoded once, into every projection of the batch that is still
 * going (*going counts them). An event that fails in one ends the batch for that
 * one only; a storage error is returned (b->who says whose). */
static int batch_fold_event(struct batch *b, const struct event *ev, size_t *going, err *e)
{
    bool any = false;
    unsigned need = 0; /* what of meta the handlers read */
    for (size_t i = 0; i < b->n; i++) {
        struct part *pt = &b->parts[i];
        if (pt->in && !pt->bad) {
            pt->skipping = pt->nskips && skipped(pt, ev->position);
            pt->h = pt->skipping ? NULL : handler_for(pt->f->p, ev->type);
            any = any || pt->h;
            if (pt->h)
                need |= handler_meta_need(pt->h);
        }
    }
    struct decoded_event de;
    err derr;
    err_clear(&derr);
    bool decoded =
        any && event_decode_keep(b->folds[0]->d, ev, true, need, &b->meta, &de, &derr) == ST_OK;
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < b->n; i++) {
        struct part *pt = &b->parts[i];
        if (!pt->in || pt->bad)
            continue;
        enum fold_result fr = FOLD_OK;
        if (pt->skipping) {
            pt->last = ev->position; /* passed over, as it was told: not folded */
            continue;
        }
        if (pt->h && !decoded) {
            pt->why = derr;
            err_prefix(&pt->why, "projections.%s.on.%s", pt->f->p->name, ev->type);
            fr = FOLD_FAILED;
        } else if (pt->h) {
            fr = fold_event(pt->f, pt->h, ev, &de, &pt->why);
        }
        if (fr == FOLD_ERROR) {
            *e = pt->why;
            b->who = pt->f->p->name;
            rc = ST_ERR;
        } else if (fr == FOLD_FAILED) {
            pt->bad = ev;
            (*going)--;
        } else {
            pt->last = ev->position;
            pt->out->folded++;
        }
    }
    if (decoded)
        decoded_event_done_keep(&de, &b->meta);
    return rc;
}

/* Reads up to `limit` events after the batch's start (none after `to`), folds them
 * into the projections of the batch, and writes each one's share. Inside the
 * batch's transaction; the caller commits or rolls back. */
static int batch_fold(struct batch *b, struct event_list *page, size_t limit, int64_t to, err *e)
{
    struct event_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.to = to;
    event_list_clear(page);
    b->who = b->n == 1 ? b->folds[0]->p->name : NULL; /* a shared read is no one's */
    int rc = store_read_page(b->s, &filter, b->start, false, limit, page, e);
    size_t going = b->nin; /* projections in the batch that have not failed */
    for (size_t j = 0; rc == ST_OK && j < page->len && going > 0; j++)
        rc = batch_fold_event(b, &page->items[j], &going, e);
    bool page_short = page->len < limit;
    for (size_t i = 0; rc == ST_OK && i < b->n; i++) {
        if (!b->parts[i].in)
            continue;
        b->who = b->parts[i].f->p->name;
        rc = part_finish(b->s, &b->parts[i], b->begin_ms, b->start, page_short, to, e);
    }
    return rc;
}

/* The batch's transaction: the backend's own when it has one (batch_begin in
 * projection_backend.h), else the store's write transaction. */
static int batch_tx_begin(struct batch *b, err *e)
{
    const struct proj_backend *be = b->folds[0]->be;
    if (!be->batch_begin)
        return store_begin(b->s, e);
    const struct projection_spec **ps = xcalloc(b->n, sizeof *ps);
    for (size_t i = 0; i < b->n; i++)
        ps[i] = b->folds[i]->p;
    int rc = be->batch_begin(b->s, ps, b->n, e);
    free(ps);
    return rc;
}

static void batch_tx_rollback(struct batch *b)
{
    const struct proj_backend *be = b->folds[0]->be;
    if (be->batch_rollback)
        be->batch_rollback(b->s);
    else
        store_rollback(b->s);
}

/* After an error inside the batch: rolls it back, and with it every projection's
 * cache and uncommitted rows; e says which projection it was about. */
static int batch_abandon(struct batch *b, struct batch_out *outs, int rc, err *e)
{
    batch_tx_rollback(b);
    for (size_t i = 0; i < b->n; i++) {
        cache_reset(b->folds[i]);
        value_free(b->folds[i]->dirty);
        b->folds[i]->dirty = value_map(64);
        outs[i].folded = 0;
    }
    if (b->who)
        err_prefix(e, "projection %s", b->who);
    return rc != ST_OK ? rc : ST_ERR;
}

/* Commits the batch. The caches of its projections stay valid at their new
 * checkpoints, unless the commit failed, or one stopped failed or swapped. */
static int batch_commit(struct batch *b, const struct batch_out *outs, err *e)
{
    const struct proj_backend *be = b->folds[0]->be;
    int rc = be->batch_commit ? be->batch_commit(b->s, e) : store_commit(b->s, e);
    for (size_t i = 0; i < b->n; i++) {
        struct part *pt = &b->parts[i];
        if (!pt->in)
            continue;
        if (rc != ST_OK)
            cache_reset(pt->f);
        else
            pt->f->cache_at = outs[i].stop && (pt->bad || pt->f->rebuild) ? -1 : pt->last;
    }
    return rc;
}

/* Folds one batch of at most `limit` events with position <= to (0 = the head) into
 * the n projections of folds, in one transaction: the events are read and decoded
 * once, and each is folded into every projection in turn. The first projection
 * that may go on says where the batch starts (its checkpoint, as committed now);
 * one whose checkpoint is elsewhere (another process moved it) sits the batch out
 * (outs[i].moved). An event that fails in one projection ends the batch for that
 * one only: its changes before the event commit with it marked failed, and the
 * others fold on. A storage error rolls everything back. honour: stop when paused.
 * outs has n entries; page is scratch. */
static int fold_batch(struct store *s, struct fold **folds, size_t n, size_t limit, int64_t to,
                      bool honour, struct event_list *page, struct batch_out *outs, err *e)
{
    memset(outs, 0, n * sizeof *outs);
    struct batch b = {s, folds, n, NULL, time_now_ms(), -1, 0, folds[0]->p->name, {{{0}}, {0}}};
    int rc = batch_tx_begin(&b, e);
    if (rc != ST_OK)
        return rc;
    b.parts = xcalloc(n, sizeof *b.parts);
    rc = batch_join(&b, to, honour, outs, e);
    if (rc == ST_OK && b.nin > 0)
        rc = batch_fold(&b, page, limit, to, e);
    if (rc != ST_OK)
        rc = batch_abandon(&b, outs, rc, e);
    else if (b.nin == 0)
        batch_tx_rollback(&b); /* none of them may go on: nothing was written */
    else
        rc = batch_commit(&b, outs, e);
    for (size_t i = 0; i < n; i++) {
        if (b.parts[i].have_rec)
            proj_record_done(&b.parts[i].rec);
        free(b.parts[i].skips);
    }
    free(b.parts);
    meta_keep_done(&b.meta);
    return rc;
}

/* See projection_fold.h. */
int fold_run(struct store *s, struct fold **folds, size_t n, int64_t to, int64_t *total_left,
             bool honour, err *e)
{
    const struct proj_backend *be = folds[0]->be;
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < n; i++)
        if (!folds[i]->w)
            rc = be->writer_open(s, folds[i]->p, folds[i]->rebuild, &folds[i]->w, e);
    if (rc != ST_OK)
        return rc;
    struct fold **act = xcalloc(n, sizeof *act);
    struct batch_out *outs = xcalloc(n, sizeof *outs);
    struct event_list page;
    event_list_init(&page);
    int saved;
    be->batches_begin(s, &saved);
    /* Each commit costs a sync of the log and a write of every page the batch
     * dirtied (the rows and the history index, spread over all keys), so the
     * fewer the better. While far behind (a rebuild, a first catch-up) batches are
     * of BATCH_FAR events, whatever they take: a live store's writers wait for
     * one batch, which is the price of catching up at all. Near the head (live
     * following) a batch grows while each stays short enough not to keep writers
     * waiting, and shrinks when it does not. */
    int64_t head = 0;
    if (store_head(s, &head, e) != ST_OK)
        head = 0; /* not known: batch by time alone */
    err_clear(e);
    if (to > 0 && to < head)
        head = to;
    int64_t at = -1; /* the last position read; -1 until the first batch says */
    size_t batch = BATCH;
    for (;;) {
        bool far = at >= 0 && head - at > FAR_BEHIND;
        if (far && batch < BATCH_FAR)
            batch = BATCH_FAR;
        size_t na = 0;
        for (size_t i = 0; i < n; i++)
            if (folds[i]->active && folds[i]->budget != 0)
                act[na++] = folds[i];
        if (*total_left == 0 || na == 0)
            break;
        size_t limit = batch;
        for (size_t i = 0; i < na; i++)
            if (act[i]->budget > 0 && act[i]->budget < (int64_t)limit)
                limit = (size_t)act[i]->budget;
        if (*total_left > 0) {
            /* Every event is folded into each of them: the budget is shared. */
            if (*total_left < (int64_t)na)
                na = (size_t)*total_left;
            if (*total_left / (int64_t)na < (int64_t)limit)
                limit = (size_t)(*total_left / (int64_t)na);
        }
        int64_t t0 = time_now_ms();
        rc = fold_batch(s, act, na, limit, to, honour, &page, outs, e);
        if (rc != ST_OK)
            break;
        for (size_t i = 0; i < na; i++) {
            struct fold *f = act[i];
            int64_t k = (int64_t)outs[i].folded;
            f->processed += k;
            if (f->budget > 0)
                f->budget -= k;
            if (*total_left > 0)
                *total_left -= k;
            if (outs[i].stop)
                f->active = false;
            if (outs[i].moved)
                f->moved = true;
        }
        if (page.len > 0)
            at = page.items[page.len - 1].position;
        int64_t took = time_now_ms() - t0;
        if (far && head - at > FAR_BEHIND)
            continue; /* still far: keep batching by size */
        if (took < BATCH_QUICK_MS / 2 && batch < BATCH_MAX)
            batch *= 2;
        else if (took > BATCH_QUICK_MS && batch > BATCH)
            batch /= 2;
    }
    be->batches_end(s, saved);
    event_list_done(&page);
    free(outs);
    free(act);
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
    const struct handler_spec *h = handler_for(f->p, ev->type);
    *touched = h != NULL;
    if (!h)
        return ST_OK;
    struct decoded_event de;
    if (event_decode_keep(f->d, ev, true, handler_meta_need(h), &f->dry_meta, &de, e) != ST_OK) {
        sb_reset(&f->key); /* not known: the row is not named */
        return err_prefix(e, "projections.%s.on.%s", f->p->name, ev->type), ST_ERR;
    }
    bool usual = !h->for_each && !h->delete_row && h->nset <= DRY_SETS_MAX;
    enum fold_result fr = usual ? fold_event_dry(f, h, ev, &de, e) : fold_event(f, h, ev, &de, e);
    decoded_event_done_keep(&de, &f->dry_meta);
    return fr == FOLD_OK ? ST_OK : ST_ERR;
}
