/* snapshot_compare.h: snapshot policies compared on a real store, without
 * writing anything (`strata snapshots --compare 0,10,100,1000`, design.md
 * "Explain and what-if").
 *
 * Every stream of the domain's aggregates is folded once (its events read in
 * pages). On the way, each policy `snapshot_every: N` is simulated: the snapshots
 * it would have stored (one at every N-th version, all kept, as the store keeps
 * them), their bytes (the state's JSON, what a snapshot row holds), and the events
 * a load at the head would read after the newest one (N = 0: no snapshots, every
 * event). A sample of streams (reservoir sampling, a fixed seed) keeps the state
 * each policy's newest snapshot would hold; each sampled stream is then loaded
 * three times per policy and the median kept: the snapshot's JSON parsed (from
 * memory: nothing is stored), the events after it read from the store and
 * folded. */
#ifndef STRATA_SNAPSHOT_COMPARE_H
#define STRATA_SNAPSHOT_COMPARE_H

#include "domain.h"
#include "store.h"

struct snapshot_policy {
    int every;          /* snapshot_every; 0 = none */
    int64_t snapshots;  /* the snapshots it would store, over all streams */
    int64_t bytes;      /* their states' JSON bytes */
    double read_mean;   /* events a load at the head reads, mean over the streams */
    int64_t read_max;   /* ... and the most */
    double load_p50_ms; /* measured load time over the sampled streams */
    double load_p99_ms;
};

struct snapshot_comparison {
    struct snapshot_policy *policies; /* in the order given */
    size_t n;
    int64_t streams;        /* streams folded */
    int64_t events;         /* events folded */
    int64_t failed_streams; /* streams the domain cannot fold (left out) */
    char *first_failure;    /* why the first of them failed, or NULL */
    size_t sampled;         /* streams whose loads were timed */
};
void snapshot_comparison_done(struct snapshot_comparison *c);

/* Compares the n policies every[] (each >= 0) over the streams of d's aggregates
 * in s; sample: how many streams to time (0: 200). ST_ERR when the store cannot be
 * read (e set); a stream that does not fold is counted, not an error. */
int snapshot_compare(struct store *s, const struct domain *d, const int *every, size_t n,
                     size_t sample, struct snapshot_comparison *out, err *e);

#endif
