/* insights.c: the workbench's first look at a log (insights.h): one pass over
 * the events up to a position, cases keyed by stream in a value map. */
#include "insights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

struct kase {
    int64_t first_ms, last_ms;
    int last_type; /* -1 before the first event */
    int steps;
    strbuf seq; /* type indexes, ",", up to INSIGHTS_MAX_STEPS */
};

struct pass {
    value case_ix; /* stream -> index into cases */
    struct kase *cases;
    size_t ncases, capcases;
    value type_ix; /* type -> index into names */
    char **names;
    size_t nnames;
    value flows; /* "a,b" (-1 = start/end) -> count */
};

static const int64_t BUCKET_MS[INSIGHTS_BUCKETS - 1] = {
    1000, 60000, 600000, 3600000, 86400000, 7 * 86400000LL, 30 * 86400000LL};
static const char *const BUCKET_LABEL[INSIGHTS_BUCKETS] = {
    "< 1 s", "< 1 min", "< 10 min", "< 1 h", "< 1 d", "< 1 week", "< 30 d", "30 d or more"};

const char *insights_bucket_label(int i)
{
    return i >= 0 && i < INSIGHTS_BUCKETS ? BUCKET_LABEL[i] : "?";
}

static int type_index(struct pass *p, const char *type)
{
    const value *v = value_map_get(&p->type_ix, type);
    if (v)
        return (int)v->u.i;
    p->names = xrealloc(p->names, (p->nnames + 1) * sizeof *p->names);
    p->names[p->nnames] = xstrdup(type);
    value_map_set(&p->type_ix, type, value_int((int64_t)p->nnames));
    return (int)p->nnames++;
}

static void flow_add(struct pass *p, int a, int b)
{
    char key[32];
    snprintf(key, sizeof key, "%d,%d", a, b);
    const value *v = value_map_get(&p->flows, key);
    value_map_set(&p->flows, key, value_int(v ? v->u.i + 1 : 1));
}

static struct kase *case_of(struct pass *p, const char *stream)
{
    const value *v = value_map_get(&p->case_ix, stream);
    if (v)
        return &p->cases[v->u.i];
    if (p->ncases == INSIGHTS_MAX_CASES)
        return NULL;
    if (p->ncases == p->capcases) {
        p->capcases = p->capcases ? p->capcases * 2 : 256;
        p->cases = xrealloc(p->cases, p->capcases * sizeof *p->cases);
    }
    struct kase *k = &p->cases[p->ncases];
    memset(k, 0, sizeof *k);
    k->last_type = -1;
    sb_init(&k->seq);
    value_map_set(&p->case_ix, stream, value_int((int64_t)p->ncases++));
    return k;
}

static void take_event(struct pass *p, const struct event *ev, struct insights *out)
{
    struct kase *k = case_of(p, ev->stream);
    if (!k) {
        out->cases_capped = true;
        return;
    }
    int t = type_index(p, ev->type);
    int64_t ms = 0;
    bool timed = time_parse(ev->time, strlen(ev->time), 0, &ms);
    if (k->last_type < 0) {
        k->first_ms = k->last_ms = timed ? ms : 0;
        flow_add(p, -1, t);
    } else {
        flow_add(p, k->last_type, t);
        if (timed && ms > k->last_ms)
            k->last_ms = ms;
        if (timed && ms < k->first_ms)
            k->first_ms = ms;
    }
    k->last_type = t;
    if (k->steps < INSIGHTS_MAX_STEPS)
        sb_addf(&k->seq, "%s%d", k->steps ? "," : "", t);
    else if (k->steps == INSIGHTS_MAX_STEPS)
        sb_adds(&k->seq, ",...");
    k->steps++;
}

static int cmp_variant(const void *a, const void *b)
{
    const struct insight_variant *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->text, y->text);
}

static int cmp_flow(const void *a, const void *b)
{
    const struct insight_flow *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return 0;
}

/* "3,0,2" -> "C → A → B" */
static char *variant_text(const struct pass *p, const char *seq)
{
    strbuf sb;
    sb_init(&sb);
    const char *s = seq;
    while (*s) {
        if (sb.len)
            sb_adds(&sb, " → ");
        if (*s == '.') {
            sb_adds(&sb, "...");
            break;
        }
        long i = strtol(s, (char **)&s, 10);
        sb_adds(&sb, i >= 0 && (size_t)i < p->nnames ? p->names[i] : "?");
        if (*s == ',')
            s++;
    }
    return sb.buf ? sb.buf : xstrdup("");
}

static void finish(struct pass *p, struct insights *out)
{
    value counts = value_map(64);
    for (size_t i = 0; i < p->ncases; i++) {
        struct kase *k = &p->cases[i];
        const char *seq = k->seq.buf ? k->seq.buf : "";
        const value *v = value_map_get(&counts, seq);
        value_map_set(&counts, seq, value_int(v ? v->u.i + 1 : 1));
        flow_add(p, k->last_type, -1);
        int64_t d = k->last_ms - k->first_ms;
        int b = 0;
        while (b < INSIGHTS_BUCKETS - 1 && d >= BUCKET_MS[b])
            b++;
        out->buckets[b]++;
    }
    out->cases = (int64_t)p->ncases;
    out->nvariants = value_map_len(&counts);
    out->variants = xcalloc(out->nvariants + 1, sizeof *out->variants);
    for (size_t i = 0; i < out->nvariants; i++) {
        const value *key = value_map_key_at(&counts, i);
        out->variants[i].text = variant_text(p, value_str(key));
        out->variants[i].count = value_map_val_at(&counts, i)->u.i;
    }
    qsort(out->variants, out->nvariants, sizeof *out->variants, cmp_variant);
    value_free(counts);
    out->nflows = value_map_len(&p->flows);
    out->flows = xcalloc(out->nflows + 1, sizeof *out->flows);
    for (size_t i = 0; i < out->nflows; i++) {
        int a = -1, b = -1;
        sscanf(value_str(value_map_key_at(&p->flows, i)), "%d,%d", &a, &b);
        /* the names live in out->types (every type up to position is there) */
        const char *an = a >= 0 ? p->names[a] : NULL, *bn = b >= 0 ? p->names[b] : NULL;
        for (size_t j = 0; j < out->ntypes; j++) {
            if (an && strcmp(out->types[j].type, an) == 0)
                out->flows[i].from = out->types[j].type;
            if (bn && strcmp(out->types[j].type, bn) == 0)
                out->flows[i].to = out->types[j].type;
        }
        out->flows[i].count = value_map_val_at(&p->flows, i)->u.i;
    }
    qsort(out->flows, out->nflows, sizeof *out->flows, cmp_flow);
}

static void pass_done(struct pass *p)
{
    for (size_t i = 0; i < p->ncases; i++)
        sb_done(&p->cases[i].seq);
    free(p->cases);
    for (size_t i = 0; i < p->nnames; i++)
        free(p->names[i]);
    free(p->names);
    value_free(p->case_ix);
    value_free(p->type_ix);
    value_free(p->flows);
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
    if (store_type_totals(s, position, &out->types, &out->ntypes, e) != ST_OK)
        return ST_ERR;
    for (size_t i = 0; i < out->ntypes; i++)
        out->events += out->types[i].count;
    struct pass p;
    memset(&p, 0, sizeof p);
    p.case_ix = value_map(1024);
    p.type_ix = value_map(64);
    p.flows = value_map(256);
    struct event_filter f = {0};
    f.to = position;
    struct event_iter *it = store_iter_open(s, &f, 1000);
    const struct event *ev;
    int rc;
    while ((rc = store_iter_next(it, &ev, e)) > 0) {
        if (stop && *stop) {
            err_set(e, ST_ERR, "stopped");
            rc = -1;
            break;
        }
        take_event(&p, ev, out);
    }
    store_iter_close(it);
    if (rc == 0)
        finish(&p, out);
    pass_done(&p);
    if (rc < 0) {
        insights_done(out);
        return ST_ERR;
    }
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
