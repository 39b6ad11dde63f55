/* histogram.h: a log-bucketed histogram of durations (core/histogram.c), for
 * percentiles over more values than memory should hold (the gaps of every
 * directly-follows pair of a log).
 *
 * A value v >= HIST_EXACT_BELOW falls in bucket i = ceil(log_g(v)) with
 * g = (1 + a) / (1 - a); the bucket's estimate 2 g^i / (g + 1) is within a
 * relative a of every value in it (DDSketch's construction). a = HIST_ALPHA is
 * 0.5%, so a percentile is within 1% of the exact one (nearest rank), with room for
 * rounding. Smaller values are counted exactly. Memory: one counter per bucket
 * between the smallest and the largest value seen (about 2,100 from 1 s to a year). */
#ifndef STRATA_HISTOGRAM_H
#define STRATA_HISTOGRAM_H

#include <stdint.h>

#define HIST_ALPHA 0.005
#define HIST_EXACT_BELOW 128 /* values below are counted one by one */

struct histogram {
    uint64_t n;
    int64_t min, max; /* exact */
    uint64_t exact[HIST_EXACT_BELOW];
    uint64_t *buckets; /* buckets[i - lo] for i in [lo, lo + nb) */
    int32_t lo;
    uint32_t nb;
};

void hist_init(struct histogram *h);
void hist_done(struct histogram *h);
/* Adds v (a duration in any unit; values below 0 count as 0). */
void hist_add(struct histogram *h, int64_t v);
/* The p-quantile (0 < p <= 1) by nearest rank: the value at rank ceil(p n) of the
 * sorted values, estimated within HIST_ALPHA relative; 0 when empty. */
int64_t hist_quantile(const struct histogram *h, double p);

#endif
