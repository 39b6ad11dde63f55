/* inspect_cases.c: a log read as cases (inspect_cases.h). */
#include "inspect_cases.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "event_expr.h"
#include "instant.h"

static struct case_info *case_of(struct cases_result *r, const char *stream, bool *fresh)
{
    int added;
    uint32_t id = intern_put(&r->streams, stream, strlen(stream), &added);
    if (id >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        r->cases = xrealloc(r->cases, cap * sizeof *r->cases);
        memset(r->cases + r->cap, 0, (cap - r->cap) * sizeof *r->cases);
        r->cap = cap;
    }
    *fresh = added;
    return &r->cases[id];
}

static struct flow_edge *edge_of(struct cases_result *r, uint32_t from, uint32_t to)
{
    uint32_t key[2] = {from, to};
    int added;
    uint32_t id = intern_put(&r->edge_ids, key, sizeof key, &added);
    if (added) {
        if (r->nedges == r->edge_cap) {
            r->edge_cap = r->edge_cap ? r->edge_cap * 2 : 64;
            r->edges = xrealloc(r->edges, r->edge_cap * sizeof *r->edges);
        }
        struct flow_edge *fe = &r->edges[r->nedges++];
        memset(fe, 0, sizeof *fe);
        fe->from = from;
        fe->to = to;
        hist_init(&fe->gaps);
    }
    return &r->edges[id];
}

static void add_event(struct cases_result *r, const struct cases_opts *o, const struct event *ev)
{
    int64_t sec = 0;
    int32_t ns = 0;
    instant_parse_stored(ev->time, strlen(ev->time), &sec, &ns); /* else the epoch */
    int64_t ms = sec * 1000 + ns / 1000000;
    uint32_t type = intern_put(&r->types, ev->type, strlen(ev->type), NULL);
    bool fresh;
    struct case_info *c = case_of(r, ev->stream, &fresh);
    if (fresh) {
        c->first_ms = c->last_ms = ms;
        if (o->want_flow)
            edge_of(r, CASE_START, type)->count++;
    } else {
        if (ms < c->first_ms)
            c->first_ms = ms;
        if (ms > c->last_ms)
            c->last_ms = ms;
        if (o->want_flow) {
            struct flow_edge *fe = edge_of(r, c->last_type, type);
            fe->count++;
            hist_add(&fe->gaps, ms - c->last_event_ms); /* a log out of time order: 0 */
        }
    }
    if (o->want_seq) {
        if (c->nevents == c->seqcap) {
            c->seqcap = c->seqcap ? c->seqcap * 2 : 8;
            c->seq = xrealloc(c->seq, c->seqcap * sizeof *c->seq);
        }
        c->seq[c->nevents] = type;
    }
    c->nevents++;
    c->last_type = type;
    c->last_event_ms = ms;
    r->events++;
}

int inspect_cases(struct store *s, const struct cases_opts *o, struct cases_result *r, err *e)
{
    memset(r, 0, sizeof *r);
    intern_init(&r->types);
    intern_init(&r->streams);
    intern_init(&r->edge_ids);
    expr *xs[1] = {(expr *)o->where};
    struct event_vars v;
    event_vars_init(&v, xs, 1);
    struct event_filter f = o->filter;
    f.envelope_only = !v.want_data && !v.want_meta;
    struct event_iter *it = store_iter_open(s, &f, 4096);
    const struct event *ev;
    int n;
    while ((n = store_iter_next(it, &ev, e)) == 1) {
        if (o->stop && *o->stop) {
            err_set(e, ST_ERR, "stopped");
            n = -1;
            break;
        }
        if (o->where) {
            event_vars_set(&v, ev);
            if (!event_expr_match(o->where, &v))
                continue;
        }
        add_event(r, o, ev);
    }
    store_iter_close(it);
    event_vars_done(&v);
    if (n < 0)
        return ST_ERR;
    if (o->want_flow)
        for (size_t i = 0; i < r->streams.n; i++)
            edge_of(r, r->cases[i].last_type, CASE_END)->count++;
    return ST_OK;
}

void cases_result_done(struct cases_result *r)
{
    for (size_t i = 0; i < r->streams.n; i++)
        free(r->cases[i].seq);
    free(r->cases);
    for (size_t i = 0; i < r->nedges; i++)
        hist_done(&r->edges[i].gaps);
    free(r->edges);
    intern_done(&r->types);
    intern_done(&r->streams);
    intern_done(&r->edge_ids);
    memset(r, 0, sizeof *r);
}

const char *cases_type_name(const struct cases_result *r, uint32_t id)
{
    if (id == CASE_START)
        return "\xe2\x96\xb6"; /* ▶ */
    if (id == CASE_END)
        return "\xe2\x96\xa0"; /* ■ */
    return id < r->types.n ? r->types.keys[id] : "?";
}

int64_t quantile_sorted(const int64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(p * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Case indexes sorted by variant, then by duration, so each variant's cases are
 * a run whose durations are in order. */
struct by_variant {
    uint32_t variant;
    int64_t duration;
};
static int cmp_by_variant(const void *a, const void *b)
{
    const struct by_variant *x = a, *y = b;
    if (x->variant != y->variant)
        return x->variant < y->variant ? -1 : 1;
    return x->duration < y->duration ? -1 : x->duration > y->duration;
}
static int cmp_variant_count(const void *a, const void *b)
{
    const struct variant *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->seq, y->seq, x->len * sizeof *x->seq);
}

void inspect_variants(const struct cases_result *r, struct variant **out, size_t *n)
{
    size_t ncases = r->streams.n;
    struct intern ids;
    intern_init(&ids);
    struct by_variant *bv = xcalloc(ncases ? ncases : 1, sizeof *bv);
    for (size_t i = 0; i < ncases; i++) {
        const struct case_info *c = &r->cases[i];
        bv[i].variant = intern_put(&ids, c->seq, c->nevents * sizeof *c->seq, NULL);
        bv[i].duration = case_duration_ms(c);
    }
    size_t nv = ids.n;
    struct variant *vs = xcalloc(nv ? nv : 1, sizeof *vs);
    for (size_t i = 0; i < ncases; i++) {
        struct variant *v = &vs[bv[i].variant];
        if (v->count++ == 0) {
            v->seq = r->cases[i].seq;
            v->len = r->cases[i].nevents;
        }
    }
    qsort(bv, ncases, sizeof *bv, cmp_by_variant);
    int64_t *d = xcalloc(ncases ? ncases : 1, sizeof *d);
    for (size_t i = 0; i < ncases;) {
        size_t j = i;
        while (j < ncases && bv[j].variant == bv[i].variant) {
            d[j - i] = bv[j].duration;
            j++;
        }
        vs[bv[i].variant].p50_ms = quantile_sorted(d, j - i, 0.5);
        vs[bv[i].variant].p90_ms = quantile_sorted(d, j - i, 0.9);
        i = j;
    }
    free(d);
    free(bv);
    intern_done(&ids);
    qsort(vs, nv, sizeof *vs, cmp_variant_count);
    *out = vs;
    *n = nv;
}

void inspect_durations(const struct cases_result *r, struct durations_summary *out)
{
    memset(out, 0, sizeof *out);
    size_t n = r->streams.n;
    out->count = n;
    if (n == 0)
        return;
    int64_t *d = xcalloc(n, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = case_duration_ms(&r->cases[i]);
    qsort(d, n, sizeof *d, cmp_i64);
    out->min_ms = d[0];
    out->max_ms = d[n - 1];
    out->p50_ms = quantile_sorted(d, n, 0.5);
    out->p90_ms = quantile_sorted(d, n, 0.9);
    free(d);
    /* the longest: a small insertion into a sorted list of DURATIONS_LONGEST */
    for (size_t i = 0; i < n; i++) {
        int64_t di = case_duration_ms(&r->cases[i]);
        size_t k = out->nlongest;
        if (k == DURATIONS_LONGEST && di <= case_duration_ms(&r->cases[out->longest[k - 1]]))
            continue;
        if (k < DURATIONS_LONGEST)
            out->nlongest++;
        else
            k--;
        while (k > 0 && case_duration_ms(&r->cases[out->longest[k - 1]]) < di) {
            out->longest[k] = out->longest[k - 1];
            k--;
        }
        out->longest[k] = i;
    }
}
