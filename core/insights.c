/* insights.c: the workbench's first look at a log (insights.h), made by the
 * engines of `strata stats` (inspect_stats: the counts by type, one grouped query
 * in the store) and of `strata variants`, `flow` and `durations` (inspect_cases:
 * one pass over the envelopes up to the position; inspect_variants), so that the
 * view and the verbs cannot disagree. What is left here is the view's shape: type
 * names, variant texts, the flow's ends as NULL, and the duration buckets. */
#include "insights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect_cases.h"
#include "inspect_stats.h"
#include "json.h"
#include "value.h"

static const int64_t BUCKET_MS[INSIGHTS_BUCKETS - 1] = {
    1000, 60000, 600000, 3600000, 86400000, 7 * 86400000LL, 30 * 86400000LL};
static const char *const BUCKET_LABEL[INSIGHTS_BUCKETS] = {
    "< 1 s", "< 1 min", "< 10 min", "< 1 h", "< 1 d", "< 1 week", "< 30 d", "30 d or more"};

const char *insights_bucket_label(int i)
{
    return i >= 0 && i < INSIGHTS_BUCKETS ? BUCKET_LABEL[i] : "?";
}

/* The counts by type, most frequent first, from the stats engine. */
static int type_counts(struct store *s, int64_t position, struct insights *out, err *e)
{
    struct stats_opts so;
    memset(&so, 0, sizeof so);
    so.filter.to = position;
    so.by_field = STORE_GROUP_TYPE;
    struct stats_result sr;
    if (inspect_stats(s, &so, &sr, e) != ST_OK) {
        stats_result_done(&sr);
        return ST_ERR;
    }
    stats_sort(&sr);
    out->types = xcalloc(sr.n + 1, sizeof *out->types);
    for (size_t i = 0; i < sr.n; i++) {
        const struct stats_group *g = &sr.groups[i];
        value v;
        err je;
        bool str = g->value && json_parse(g->value, strlen(g->value), &v, &je) == ST_OK;
        if (str && v.type == V_STRING)
            out->types[out->ntypes].type = xstrdup(value_str(&v));
        else
            out->types[out->ntypes].type = xstrdup(g->value ? g->value : "");
        if (str)
            value_free(v);
        out->types[out->ntypes++].count = g->count;
    }
    out->events = sr.total;
    stats_result_done(&sr);
    return ST_OK;
}

/* A type's name as out->types holds it (the flow matrix compares pointers). */
static const char *type_name(const struct insights *out, const struct cases_result *cr, uint32_t id)
{
    if (id == CASE_START || id == CASE_END)
        return NULL;
    const char *name = cases_type_name(cr, id);
    for (size_t j = 0; j < out->ntypes; j++)
        if (strcmp(out->types[j].type, name) == 0)
            return out->types[j].type;
    return NULL;
}

static int cmp_flow(const void *a, const void *b)
{
    const struct insight_flow *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return 0;
}

static void from_cases(const struct cases_result *cr, struct insights *out)
{
    out->cases = (int64_t)cr->streams.n;
    struct variant *vs;
    size_t nv;
    inspect_variants(cr, &vs, &nv);
    out->nvariants = nv;
    out->variants = xcalloc(nv + 1, sizeof *out->variants);
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < nv; i++) {
        sb_reset(&sb);
        for (uint32_t k = 0; k < vs[i].len; k++) {
            if (k)
                sb_adds(&sb, " → ");
            if (k == INSIGHTS_MAX_STEPS) {
                sb_adds(&sb, "...");
                break;
            }
            sb_adds(&sb, cases_type_name(cr, vs[i].seq[k]));
        }
        out->variants[i].text = xstrdup(sb.buf ? sb.buf : "");
        out->variants[i].count = vs[i].count;
    }
    sb_done(&sb);
    free(vs);
    out->nflows = cr->nedges;
    out->flows = xcalloc(cr->nedges + 1, sizeof *out->flows);
    for (size_t i = 0; i < cr->nedges; i++) {
        out->flows[i].from = type_name(out, cr, cr->edges[i].from);
        out->flows[i].to = type_name(out, cr, cr->edges[i].to);
        out->flows[i].count = cr->edges[i].count;
    }
    qsort(out->flows, out->nflows, sizeof *out->flows, cmp_flow);
    for (size_t i = 0; i < cr->streams.n; i++) {
        int64_t d = case_duration_ms(&cr->cases[i]);
        int b = 0;
        while (b < INSIGHTS_BUCKETS - 1 && d >= BUCKET_MS[b])
            b++;
        out->buckets[b]++;
    }
}

int insights_compute(struct store *s, int64_t position, volatile sig_atomic_t *stop,
                     struct insights *out, err *e)
{
    memset(out, 0, sizeof *out);
    int64_t head = 0;
    if (store_head(s, &head, e) != ST_OK)
        return ST_ERR;
    if (position <= 0 || position > head)
        position = head;
    out->position = position;
    if (position == 0)
        return ST_OK;
    if (type_counts(s, position, out, e) != ST_OK) {
        insights_done(out);
        return ST_ERR;
    }
    struct cases_opts co;
    memset(&co, 0, sizeof co);
    co.filter.to = position;
    co.want_seq = co.want_flow = true;
    co.stop = stop;
    struct cases_result cr;
    if (inspect_cases(s, &co, &cr, e) != ST_OK) {
        cases_result_done(&cr);
        insights_done(out);
        return ST_ERR;
    }
    from_cases(&cr, out);
    cases_result_done(&cr);
    return ST_OK;
}

void insights_done(struct insights *in)
{
    type_counts_free(in->types, in->ntypes);
    for (size_t i = 0; i < in->nvariants; i++)
        free(in->variants[i].text);
    free(in->variants);
    free(in->flows);
    memset(in, 0, sizeof *in);
}
