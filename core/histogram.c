/* histogram.c: the log-bucketed histogram of histogram.h. */
#include "histogram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static double log_gamma(void)
{
    static double lg;
    if (lg == 0)
        lg = log((1 + HIST_ALPHA) / (1 - HIST_ALPHA));
    return lg;
}

void hist_init(struct histogram *h)
{
    memset(h, 0, sizeof *h);
}

void hist_done(struct histogram *h)
{
    free(h->buckets);
    memset(h, 0, sizeof *h);
}

static int32_t bucket_of(int64_t v)
{
    return (int32_t)ceil(log((double)v) / log_gamma());
}

/* The bucket array grows both ways so that it covers [lo, lo + nb). */
static void cover(struct histogram *h, int32_t i)
{
    if (!h->buckets) {
        h->buckets = xcalloc(1, sizeof *h->buckets);
        h->lo = i;
        h->nb = 1;
        return;
    }
    if (i >= h->lo && i < h->lo + (int32_t)h->nb)
        return;
    int32_t lo = i < h->lo ? i : h->lo;
    int32_t hi = i >= h->lo + (int32_t)h->nb ? i + 1 : h->lo + (int32_t)h->nb;
    uint64_t *nbk = xcalloc((size_t)(hi - lo), sizeof *nbk);
    memcpy(nbk + (h->lo - lo), h->buckets, h->nb * sizeof *nbk);
    free(h->buckets);
    h->buckets = nbk;
    h->lo = lo;
    h->nb = (uint32_t)(hi - lo);
}

void hist_add(struct histogram *h, int64_t v)
{
    if (v < 0)
        v = 0;
    if (h->n == 0 || v < h->min)
        h->min = v;
    if (h->n == 0 || v > h->max)
        h->max = v;
    h->n++;
    if (v < HIST_EXACT_BELOW) {
        h->exact[v]++;
        return;
    }
    int32_t i = bucket_of(v);
    cover(h, i);
    h->buckets[i - h->lo]++;
}

int64_t hist_quantile(const struct histogram *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(p * (double)h->n);
    if (rank < 1)
        rank = 1;
    if (rank > h->n)
        rank = h->n;
    if (rank == 1)
        return h->min;
    if (rank == h->n)
        return h->max;
    uint64_t seen = 0;
    for (int v = 0; v < HIST_EXACT_BELOW; v++)
        if ((seen += h->exact[v]) >= rank)
            return v;
    for (uint32_t k = 0; k < h->nb; k++) {
        if ((seen += h->buckets[k]) >= rank) {
            double g = exp(log_gamma());
            double est = 2 * pow(g, (double)(h->lo + (int32_t)k)) / (g + 1);
            int64_t r = (int64_t)llround(est);
            return r < h->min ? h->min : r > h->max ? h->max : r;
        }
    }
    return h->max;
}
