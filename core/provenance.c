/* provenance.c: the events behind a field's value (see provenance.h): a row's
 * changes from its history, an instance's from folding its stream, each paired
 * with the domain expression (and its place in the file) that set the field. */
#include "provenance.h"

#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "projection_backend.h"

#define PAGE 512

int projection_history_of_key(struct store *s, const struct domain *d,
                              const struct projection_spec *p, const char *key, int64_t at,
                              int (*fn)(void *ctx, int64_t position, const value *row, err *e),
                              void *ctx, err *e)
{
    (void)d;
    const struct proj_backend *be = proj_backend_for(s, e);
    if (!be)
        return ST_ERR;
    bool began;
    int rc = be->read_begin(s, &began, e);
    if (rc != ST_OK)
        return rc;
    rc = be->history_walk(s, p, key, at, fn, ctx, e);
    be->read_end(s, began);
    return rc;
}

int store_event_at(struct store *s, int64_t position, struct event_list *out, err *e)
{
    struct event_filter f;
    memset(&f, 0, sizeof f);
    f.from = f.to = position;
    int rc = store_read_page(s, &f, position - 1, false, 1, out, e);
    if (rc == ST_OK && (out->len == 0 || out->items[out->len - 1].position != position))
        rc = err_set(e, ST_NOT_FOUND, "no event at position %lld", (long long)position);
    return rc;
}

static const char *field_of(const char *const *names, size_t n, const char *what, const char *owner,
                            const char *field, err *e)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], field) == 0)
            return names[i];
    const char *near = did_you_mean(field, names, n);
    if (near)
        err_set(e, ST_NOT_FOUND, "unknown %s '%s' of %s (did you mean '%s'?)", what, field, owner,
                near);
    else
        err_set(e, ST_NOT_FOUND, "unknown %s '%s' of %s", what, field, owner);
    return NULL;
}

const char *provenance_projection_field(const struct projection_spec *p, const char *field, err *e)
{
    return field_of((const char *const *)p->columns, p->ncolumns, "column", p->name, field, e);
}

const char *provenance_aggregate_field(const struct aggregate_spec *a, const char *field, err *e)
{
    const char **names = xcalloc(a->nstate + 1, sizeof *names);
    for (size_t i = 0; i < a->nstate; i++)
        names[i] = a->state[i].name;
    const char *r = field_of(names, a->nstate, "state field", a->name, field, e);
    free(names);
    return r;
}

/* Fills where an assignment's expression stands: its origin, else the key's place. */
static void place(const struct domain *d, const struct assign *as, struct prov_change *ch)
{
    ch->expr = expr_source(as->value);
    if (!expr_origin(as->value, &ch->file, &ch->line, &ch->col)) {
        ch->file = d->file;
        ch->line = as->pos.line;
        ch->col = as->pos.col;
    }
}

/* Calls fn for each of names[0..n) (or only `field`) whose value differs
 * between before and after (either may be null: no row). */
static int diff_fields(const char *const *names, size_t n, const char *field, const value *before,
                       const value *after, struct prov_change *ch,
                       void (*locate)(void *lctx, const char *name, struct prov_change *ch),
                       void *lctx, prov_fn fn, void *ctx, err *e)
{
    static const value null_value = {.type = V_NULL};
    for (size_t i = 0; i < n; i++) {
        if (field && strcmp(field, names[i]) != 0)
            continue;
        const value *b = before->type == V_MAP ? value_map_get(before, names[i]) : NULL;
        const value *a = after->type == V_MAP ? value_map_get(after, names[i]) : NULL;
        if (!b)
            b = &null_value;
        if (!a)
            a = &null_value;
        if (value_same(a, b))
            continue;
        ch->field = names[i];
        ch->before = b;
        ch->after = a;
        ch->expr = "";
        ch->file = NULL;
        ch->line = ch->col = 0;
        locate(lctx, names[i], ch);
        int rc = fn(ctx, ch, e);
        if (rc != ST_OK)
            return rc;
    }
    return ST_OK;
}

/* ---- projections ---- */

struct proj_walk {
    struct store *s;
    const struct domain *d;
    const struct projection_spec *p;
    const char *field;
    prov_fn fn;
    void *ctx;
    value prev; /* the row before the entry (the defaults before the first) */
    const struct handler_spec *h;
    bool any;
};

static void proj_locate(void *lctx, const char *name, struct prov_change *ch)
{
    struct proj_walk *w = lctx;
    if (!w->h)
        return;
    for (size_t i = 0; i < w->h->nset; i++)
        if (strcmp(w->h->set[i].name, name) == 0) {
            place(w->d, &w->h->set[i], ch);
            return;
        }
    if (w->h->delete_row) {
        ch->expr = "delete: true";
        ch->file = w->d->file;
        ch->line = w->h->pos.line;
        ch->col = w->h->pos.col;
    }
}

static int proj_entry(void *ctx, int64_t position, const value *row, err *e)
{
    struct proj_walk *w = ctx;
    w->any = true;
    struct event_list evs;
    event_list_init(&evs);
    int rc = store_event_at(w->s, position, &evs, e);
    if (rc == ST_OK) {
        const struct event *ev = &evs.items[0];
        w->h = NULL;
        for (size_t i = 0; i < w->p->nhandlers; i++)
            if (strcmp(w->p->handlers[i].event_type, ev->type) == 0)
                w->h = &w->p->handlers[i];
        static const value null_value = {.type = V_NULL};
        struct prov_change ch;
        memset(&ch, 0, sizeof ch);
        ch.ev = ev;
        rc = diff_fields((const char *const *)w->p->columns, w->p->ncolumns, w->field, &w->prev,
                         row ? row : &null_value, &ch, proj_locate, w, w->fn, w->ctx, e);
    }
    event_list_done(&evs);
    value_free(w->prev);
    /* After a delete the key starts again from the defaults. */
    w->prev = row ? value_ref(row) : proj_defaults_row(w->p);
    return rc;
}

int provenance_projection(struct store *s, const struct domain *d, const struct projection_spec *p,
                          const char *key, const char *field, int64_t at, prov_fn fn, void *ctx,
                          err *e)
{
    struct proj_walk w = {s, d, p, field, fn, ctx, proj_defaults_row(p), NULL, false};
    int rc = projection_history_of_key(s, d, p, key, at, proj_entry, &w, e);
    value_free(w.prev);
    if (rc == ST_OK && !w.any && p->key)
        rc = err_set(e, ST_NOT_FOUND, "%s has no row with key '%s'%s", p->name, key,
                     at ? " at or before that position" : "");
    return rc;
}

/* ---- aggregates ---- */

struct agg_walk {
    const struct domain *d;
    const struct event_spec *spec;
};

static void agg_locate(void *lctx, const char *name, struct prov_change *ch)
{
    struct agg_walk *w = lctx;
    for (size_t i = 0; w->spec && i < w->spec->napply; i++)
        if (strcmp(w->spec->apply[i].name, name) == 0) {
            place(w->d, &w->spec->apply[i], ch);
            return;
        }
}

int provenance_fold_stream(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                           const char *stream, int64_t at, fold_step_fn fn, void *ctx,
                           int64_t *version, err *e)
{
    value state = aggregate_initial_state(a);
    struct event_list page;
    event_list_init(&page);
    *version = 0;
    int rc = ST_OK;
    for (;;) {
        event_list_clear(&page);
        rc = store_read_stream(s, stream, *version + 1, at, PAGE, &page, e);
        for (size_t i = 0; rc == ST_OK && i < page.len; i++) {
            const struct event *ev = &page.items[i];
            value before = value_ref(&state); /* shared: the fold copies on write */
            rc = aggregate_fold(d, a, ev, &state, e);
            if (rc == ST_OK)
                rc = fn(ctx, ev, &before, &state, e);
            value_free(before);
            *version = ev->version;
        }
        if (rc != ST_OK || page.len < PAGE)
            break;
    }
    event_list_done(&page);
    value_free(state);
    return rc;
}

struct agg_prov {
    const struct domain *d;
    const struct aggregate_spec *a;
    const char **names;
    const char *field;
    prov_fn fn;
    void *ctx;
};

static int agg_step(void *ctx, const struct event *ev, const value *before, const value *after,
                    err *e)
{
    struct agg_prov *p = ctx;
    struct agg_walk w = {p->d, domain_event(p->d, ev->type)};
    struct prov_change ch;
    memset(&ch, 0, sizeof ch);
    ch.ev = ev;
    return diff_fields(p->names, p->a->nstate, p->field, before, after, &ch, agg_locate, &w, p->fn,
                       p->ctx, e);
}

int provenance_aggregate(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                         const char *id, const char *field, int64_t at, prov_fn fn, void *ctx,
                         err *e)
{
    char *stream = aggregate_stream(a, id);
    const char **names = xcalloc(a->nstate + 1, sizeof *names);
    for (size_t i = 0; i < a->nstate; i++)
        names[i] = a->state[i].name;
    struct agg_prov p = {d, a, names, field, fn, ctx};
    int64_t version;
    int rc = provenance_fold_stream(s, d, a, stream, at, agg_step, &p, &version, e);
    if (rc == ST_OK && version == 0)
        rc = err_set(e, ST_NOT_FOUND, "stream %s has no events%s", stream,
                     at ? " at or before that position" : "");
    free(names);
    free(stream);
    return rc;
}
