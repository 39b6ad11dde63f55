/* upcast_check.c: the upcast dry run and one event's chain, step by step
 * (upcast_check.h). */
#include "upcast_check.h"

#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "event_check.h"
#include "json.h"
#include "upcast_step.h"

#define PAGE 1000

/* The spec of ev's type and ev's data and meta, parsed: what every chain starts
 * from. An event that cannot get that far is ST_ERR with e saying why. */
static int prepare(const struct domain *d, const struct event *ev, const struct event_spec **spec,
                   struct decoded_event *de, err *e)
{
    *spec = domain_find_event(d, ev->type, e);
    if (!*spec)
        return e->code = ST_ERR;
    if (ev->schema < 1 || ev->schema > (*spec)->version)
        return err_set(e, ST_ERR, "schema version %d, but the domain knows versions 1 to %d of %s",
                       ev->schema, (*spec)->version, ev->type);
    return event_decode(d, ev, false, de, e);
}

/* ---- one event, step by step ---- */

int upcast_trace_event(const struct domain *d, const struct event *ev, struct upcast_trace *t,
                       err *e)
{
    memset(t, 0, sizeof *t);
    struct decoded_event de;
    const struct event_spec *spec;
    int rc = prepare(d, ev, &spec, &de, e);
    if (rc != ST_OK)
        return rc;
    t->spec = spec;
    t->stored = ev->schema;
    t->data = xcalloc((size_t)(spec->version - ev->schema + 1), sizeof *t->data);
    t->data[t->n++] = value_ref(&de.data);
    err se;
    err_clear(&se);
    for (int v = ev->schema; v < spec->version; v++) {
        value next = value_copy_deep(&t->data[t->n - 1]);
        const struct upcast_step *st = upcast_step_from(spec, v);
        rc = st ? upcast_step_run(spec, st, &next, &de.meta, &se)
                : err_set(&se, ST_ERR, "no upcast from version %d to %d", v, v + 1);
        if (rc != ST_OK) {
            value_free(next);
            t->error = xstrdup(se.msg);
            break;
        }
        if (v + 1 == spec->version)
            upcast_order_fields(spec, &next);
        t->data[t->n++] = next;
    }
    if (!t->error && event_check_fields(spec, ev->schema, &t->data[t->n - 1], true, &se) != ST_OK) {
        t->error = xstrdup(se.msg);
        t->mismatch = true;
    }
    decoded_event_done(&de);
    return ST_OK;
}

void upcast_trace_done(struct upcast_trace *t)
{
    for (size_t i = 0; i < t->n; i++)
        value_free(t->data[i]);
    free(t->data);
    free(t->error);
    memset(t, 0, sizeof *t);
}

/* ---- the dry run ---- */

static struct upcast_group *group_of(struct upcast_report *r, size_t *cap, const struct domain *d,
                                     const struct event *ev)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->groups[i].schema == ev->schema && strcmp(r->groups[i].type, ev->type) == 0)
            return &r->groups[i];
    if (r->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        r->groups = xrealloc(r->groups, *cap * sizeof *r->groups);
    }
    struct upcast_group *g = &r->groups[r->n++];
    memset(g, 0, sizeof *g);
    g->type = xstrdup(ev->type);
    g->schema = ev->schema;
    const struct event_spec *spec = domain_event(d, ev->type);
    g->current = spec ? spec->version : 0;
    return g;
}

static void add_problem(struct upcast_group *g, size_t max_listed, const struct event *ev,
                        const char *error, bool mismatch)
{
    size_t same = 0;
    for (size_t i = 0; i < g->nproblems; i++)
        same += g->problems[i].mismatch == mismatch;
    if (same >= max_listed)
        return;
    g->problems = xrealloc(g->problems, (g->nproblems + 1) * sizeof *g->problems);
    g->problems[g->nproblems++] = (struct upcast_problem){
        .position = ev->position,
        .stream = xstrdup(ev->stream),
        .error = xstrdup(error),
        .mismatch = mismatch,
    };
}

static void one_event(struct upcast_report *r, struct upcast_group *g, size_t max_listed,
                      const struct domain *d, const struct event *ev)
{
    struct upcast_trace t;
    err e;
    err_clear(&e);
    g->events++;
    r->events++;
    if (upcast_trace_event(d, ev, &t, &e) != ST_OK) {
        g->failed++;
        r->failed++;
        add_problem(g, max_listed, ev, e.msg, false);
        return;
    }
    if (!t.error) {
        g->clean++;
        r->clean++;
    } else if (t.mismatch) {
        g->mismatched++;
        r->mismatched++;
    } else {
        g->failed++;
        r->failed++;
    }
    if (t.error)
        add_problem(g, max_listed, ev, t.error, t.mismatch);
    if (g->schema < g->current && g->nsamples < UPCAST_SAMPLES) {
        struct upcast_sample *s = &g->samples[g->nsamples++];
        s->position = ev->position;
        s->stream = xstrdup(ev->stream);
        s->before = json_to_string(&t.data[0]);
        bool done = !t.error || t.mismatch;
        s->after = done ? json_to_string(&t.data[t.n - 1]) : NULL;
    }
    upcast_trace_done(&t);
}

static int by_type_schema(const void *a, const void *b)
{
    const struct upcast_group *x = a, *y = b;
    int c = strcmp(x->type, y->type);
    return c ? c : (x->schema > y->schema) - (x->schema < y->schema);
}

int upcast_check(struct store *s, const struct domain *d, size_t max_listed,
                 struct upcast_report *r, err *e)
{
    memset(r, 0, sizeof *r);
    if (!max_listed)
        max_listed = 10;
    size_t cap = 0;
    struct event_filter f;
    memset(&f, 0, sizeof f);
    struct event_iter *it = store_iter_open(s, &f, PAGE);
    const struct event *ev;
    int got;
    struct upcast_group *last = NULL;
    while ((got = store_iter_next(it, &ev, e)) == 1) {
        /* Runs of one type are common: look at the last group first. */
        struct upcast_group *g =
            last && last->schema == ev->schema && strcmp(last->type, ev->type) == 0
                ? last
                : group_of(r, &cap, d, ev);
        one_event(r, g, max_listed, d, ev);
        last = g;
    }
    store_iter_close(it);
    if (got < 0)
        return ST_ERR;
    if (r->n)
        qsort(r->groups, r->n, sizeof *r->groups, by_type_schema);
    return ST_OK;
}

void upcast_report_done(struct upcast_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct upcast_group *g = &r->groups[i];
        free(g->type);
        for (size_t j = 0; j < g->nproblems; j++) {
            free(g->problems[j].stream);
            free(g->problems[j].error);
        }
        free(g->problems);
        for (size_t j = 0; j < g->nsamples; j++) {
            free(g->samples[j].stream);
            free(g->samples[j].before);
            free(g->samples[j].after);
        }
    }
    free(r->groups);
    memset(r, 0, sizeof *r);
}
