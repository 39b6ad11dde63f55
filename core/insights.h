/* insights.h: a first look at a log, for the workbench's Insights view: event
 * counts by type, the most common variants (a stream is a case; its variant is
 * its sequence of types), the flow (how often type B directly follows type A
 * within a case, with the start and the end of cases), and a histogram of case
 * durations (first to last event), all as the log was up to a position.
 *
 * The numbers come from the engines the verbs use (insights.c): the counts by
 * type from inspect_stats (`strata stats`, one grouped query in the store), the
 * cases from inspect_cases and inspect_variants (`strata variants`, `flow`,
 * `durations`: one pass over the envelopes up to the position, one page in
 * memory at a time; memory follows the number of cases). A variant's text shows
 * its first INSIGHTS_MAX_STEPS types (longer ones end in "..."). */
#ifndef STRATA_INSIGHTS_H
#define STRATA_INSIGHTS_H

#include <signal.h>

#include "store.h"
#include "util.h"

#define INSIGHTS_MAX_STEPS 64
#define INSIGHTS_BUCKETS 8

struct insight_variant {
    char *text; /* "A → B → C" */
    int64_t count;
};

/* A directly-follows pair; from or to is NULL for the start or the end of cases. */
struct insight_flow {
    const char *from, *to; /* point into types[] */
    int64_t count;
};

struct insights {
    int64_t position;         /* computed up to (inclusive) */
    int64_t events;           /* events up to position */
    struct type_count *types; /* by count descending */
    size_t ntypes;
    int64_t cases;                    /* cases (streams) up to position */
    struct insight_variant *variants; /* by count descending */
    size_t nvariants;
    struct insight_flow *flows; /* by count descending */
    size_t nflows;
    int64_t buckets[INSIGHTS_BUCKETS]; /* case durations; labels from insights_bucket_label */
};

/* Computes the insights of s up to position (>= 1; beyond the head is the head).
 * *stop (may be NULL) ends it early with ST_ERR "stopped". */
int insights_compute(struct store *s, int64_t position, volatile sig_atomic_t *stop,
                     struct insights *out, err *e);
void insights_done(struct insights *in);
/* "< 1 s", "< 1 min", ... "30 d or more". */
const char *insights_bucket_label(int i);

#endif
