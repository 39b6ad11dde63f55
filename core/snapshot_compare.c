/* snapshot_compare.c: snapshot policies simulated over one fold of each stream,
 * and loads timed on a sample (snapshot_compare.h). */
#include "snapshot_compare.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "json.h"

#define STREAM_PAGE 500 /* streams listed at a time */
#define EVENT_PAGE 512  /* events read at a time, as aggregate_load does */

/* A sampled stream: what each policy's newest snapshot would hold. */
struct sampled {
    char *stream;
    const struct aggregate_spec *agg;
    int64_t version;
    char **snap; /* snap[p]: the state's JSON at policy p's newest snapshot, or NULL */
};

struct run {
    const struct domain *d;
    struct store *s;
    struct snapshot_comparison *out;
    int64_t *read_sum;
    struct sampled *samples;
    size_t nsample, cap;
    uint64_t rng;
    int64_t seen; /* streams folded, for the reservoir */
    /* this stream, until it has folded */
    int64_t *snaps, *bytes;
    char **snap;
};

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void sampled_free(struct sampled *sm, size_t n)
{
    free(sm->stream);
    for (size_t p = 0; p < n; p++)
        free(sm->snap[p]);
    free(sm->snap);
    memset(sm, 0, sizeof *sm);
}

/* Folds one stream of version `version`, simulating every policy; keeps the
 * snapshots' states when keep. ST_ERR (e set) when the store cannot be read, or
 * when the domain cannot fold it (then *unfoldable). */
static int fold_stream(struct run *r, const struct aggregate_spec *a, const char *stream,
                       int64_t version, bool keep, bool *unfoldable, err *e)
{
    size_t np = r->out->n;
    memset(r->snaps, 0, np * sizeof *r->snaps);
    memset(r->bytes, 0, np * sizeof *r->bytes);
    for (size_t p = 0; p < np; p++) {
        free(r->snap[p]);
        r->snap[p] = NULL;
    }
    value state = aggregate_initial_state(a);
    struct event_list page;
    event_list_init(&page);
    int64_t v = 0;
    int rc = ST_OK;
    for (;;) {
        event_list_clear(&page);
        if ((rc = store_read_stream(r->s, stream, v + 1, 0, EVENT_PAGE, &page, e)) != ST_OK)
            break;
        for (size_t i = 0; i < page.len && rc == ST_OK; i++) {
            const struct event *ev = &page.items[i];
            if ((rc = aggregate_fold(r->d, a, ev, &state, e)) != ST_OK) {
                *unfoldable = true;
                break;
            }
            v = ev->version;
            char *text = NULL;
            for (size_t p = 0; p < np; p++) {
                int k = r->out->policies[p].every;
                if (k <= 0 || v % k != 0)
                    continue;
                if (!text)
                    text = json_to_string(&state);
                r->snaps[p]++;
                r->bytes[p] += (int64_t)strlen(text);
                if (keep && v == version / k * k)
                    r->snap[p] = xstrdup(text);
            }
            free(text);
        }
        if (rc != ST_OK || page.len < EVENT_PAGE)
            break;
    }
    event_list_done(&page);
    value_free(state);
    return rc;
}

/* The stream folded: its figures join the policies', and it may join the sample. */
static void count_stream(struct run *r, const struct aggregate_spec *a, const char *stream,
                         int64_t version, bool keep, size_t slot)
{
    struct snapshot_comparison *o = r->out;
    o->streams++;
    o->events += version;
    for (size_t p = 0; p < o->n; p++) {
        struct snapshot_policy *pol = &o->policies[p];
        int64_t read = pol->every > 0 ? version % pol->every : version;
        pol->snapshots += r->snaps[p];
        pol->bytes += r->bytes[p];
        r->read_sum[p] += read;
        if (read > pol->read_max)
            pol->read_max = read;
    }
    if (!keep)
        return;
    if (slot == r->nsample)
        r->nsample++;
    else
        sampled_free(&r->samples[slot], o->n);
    struct sampled *sm = &r->samples[slot];
    sm->stream = xstrdup(stream);
    sm->agg = a;
    sm->version = version;
    sm->snap = r->snap; /* the stream's states move into the sample */
    r->snap = xcalloc(o->n ? o->n : 1, sizeof *r->snap);
}

static int one_stream(struct run *r, const struct aggregate_spec *a, const struct stream_info *si,
                      err *e)
{
    const struct aggregate_spec *owner = aggregate_for_stream(r->d, si->name, NULL);
    if (owner != a || si->version <= 0)
        return ST_OK;
    /* Reservoir sampling: the first `cap` streams, then each with chance cap/seen. */
    bool keep = false;
    size_t slot = 0;
    if ((size_t)r->seen < r->cap) {
        keep = true;
        slot = r->nsample;
    } else {
        uint64_t j = next_rand(&r->rng) % (uint64_t)(r->seen + 1);
        if (j < r->cap) {
            keep = true;
            slot = (size_t)j;
        }
    }
    bool unfoldable = false;
    int rc = fold_stream(r, a, si->name, si->version, keep, &unfoldable, e);
    if (rc != ST_OK && unfoldable) {
        r->out->failed_streams++;
        if (!r->out->first_failure)
            r->out->first_failure = xasprintf("%s: %s", si->name, e->msg);
        err_clear(e);
        return ST_OK;
    }
    if (rc != ST_OK)
        return rc;
    r->seen++;
    count_stream(r, a, si->name, si->version, keep, slot);
    return ST_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One load of a sampled stream under policy p, timed: the snapshot's state parsed,
 * the events after it read and folded. */
static int timed_load(struct run *r, const struct sampled *sm, size_t p, double *ms, err *e)
{
    int k = r->out->policies[p].every;
    int64_t from = k > 0 ? sm->version / k * k : 0;
    double t0 = now_ms();
    value state;
    if (from > 0 && sm->snap[p]) {
        err je;
        if (json_parse(sm->snap[p], strlen(sm->snap[p]), &state, &je) != ST_OK)
            return err_set(e, ST_ERR, "%s: a snapshot's state does not parse: %s", sm->stream,
                           je.msg);
    } else {
        state = aggregate_initial_state(sm->agg);
        from = 0;
    }
    struct event_list page;
    event_list_init(&page);
    int64_t v = from;
    int rc = ST_OK;
    for (;;) {
        event_list_clear(&page);
        if ((rc = store_read_stream(r->s, sm->stream, v + 1, 0, EVENT_PAGE, &page, e)) != ST_OK)
            break;
        for (size_t i = 0; i < page.len && rc == ST_OK; i++) {
            rc = aggregate_fold(r->d, sm->agg, &page.items[i], &state, e);
            v = page.items[i].version;
        }
        if (rc != ST_OK || page.len < EVENT_PAGE)
            break;
    }
    event_list_done(&page);
    value_free(state);
    *ms = now_ms() - t0;
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of n sorted values (nearest rank). */
static double quantile(const double *v, size_t n, double q)
{
    if (!n)
        return 0;
    size_t i = (size_t)(q * (double)n + 0.999999);
    if (i < 1)
        i = 1;
    if (i > n)
        i = n;
    return v[i - 1];
}

static int measure(struct run *r, err *e)
{
    struct snapshot_comparison *o = r->out;
    o->sampled = r->nsample;
    double *ms = xcalloc(r->nsample ? r->nsample : 1, sizeof *ms);
    int rc = ST_OK;
    /* One untimed load of each first, so the first policy timed does not pay for
     * a cold cache alone. */
    for (size_t i = 0; i < r->nsample && rc == ST_OK && o->n; i++)
        rc = timed_load(r, &r->samples[i], o->n - 1, &ms[i], e);
    for (size_t p = 0; p < o->n && rc == ST_OK; p++) {
        for (size_t i = 0; i < r->nsample && rc == ST_OK; i++) {
            /* The median of three loads: a busy machine's pauses fall out. */
            double t[3] = {0, 0, 0};
            for (int k = 0; k < 3 && rc == ST_OK; k++)
                rc = timed_load(r, &r->samples[i], p, &t[k], e);
            qsort(t, 3, sizeof *t, cmp_double);
            ms[i] = t[1];
        }
        qsort(ms, r->nsample, sizeof *ms, cmp_double);
        o->policies[p].load_p50_ms = quantile(ms, r->nsample, 0.50);
        o->policies[p].load_p99_ms = quantile(ms, r->nsample, 0.99);
    }
    free(ms);
    return rc;
}

int snapshot_compare(struct store *s, const struct domain *d, const int *every, size_t n,
                     size_t sample, struct snapshot_comparison *out, err *e)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->policies = xcalloc(n ? n : 1, sizeof *out->policies);
    for (size_t p = 0; p < n; p++)
        out->policies[p].every = every[p];
    struct run r = {
        .d = d,
        .s = s,
        .out = out,
        .read_sum = xcalloc(n ? n : 1, sizeof(int64_t)),
        .cap = sample ? sample : 200,
        .rng = 0x9E3779B97F4A7C15ull,
        .snaps = xcalloc(n ? n : 1, sizeof(int64_t)),
        .bytes = xcalloc(n ? n : 1, sizeof(int64_t)),
        .snap = xcalloc(n ? n : 1, sizeof(char *)),
    };
    r.samples = xcalloc(r.cap, sizeof *r.samples);
    int rc = ST_OK;
    for (size_t a = 0; a < d->naggregates && rc == ST_OK; a++) {
        const struct aggregate_spec *ag = &d->aggregates[a];
        char *prefix = aggregate_stream(ag, "");
        for (size_t off = 0; rc == ST_OK; off += STREAM_PAGE) {
            struct stream_info *si = NULL;
            size_t got = 0;
            if ((rc = store_list_streams(s, prefix, off, STREAM_PAGE, &si, &got, e)) != ST_OK)
                break;
            for (size_t i = 0; i < got && rc == ST_OK; i++)
                rc = one_stream(&r, ag, &si[i], e);
            stream_info_free(si, got);
            if (got < STREAM_PAGE)
                break;
        }
        free(prefix);
    }
    for (size_t p = 0; p < n; p++)
        out->policies[p].read_mean =
            out->streams ? (double)r.read_sum[p] / (double)out->streams : 0;
    if (rc == ST_OK)
        rc = measure(&r, e);
    for (size_t i = 0; i < r.nsample; i++)
        sampled_free(&r.samples[i], n);
    for (size_t p = 0; p < n; p++)
        free(r.snap[p]);
    free(r.snap);
    free(r.samples);
    free(r.read_sum);
    free(r.snaps);
    free(r.bytes);
    if (rc != ST_OK)
        snapshot_comparison_done(out);
    return rc;
}

void snapshot_comparison_done(struct snapshot_comparison *c)
{
    free(c->policies);
    free(c->first_failure);
    memset(c, 0, sizeof *c);
}
