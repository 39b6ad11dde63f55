/* inspect_cases.h: a log read as cases (core/inspect_cases.c), as process mining
 * reads it: each stream is a case, its events in order the steps it went
 * through. One pass over the events in global order (interleaving the streams)
 * keeps, per open case, its first and last time, its last type and, for variants,
 * its sequence of types as interned ids. From it: the case durations (durations),
 * the distinct sequences (variants), and the directly-follows pairs with the time
 * between (flow).
 *
 * Memory is bounded by the number of cases (and, for variants, by the events'
 * count as 4 bytes each), never by the events' data: without a --where that reads
 * data or meta, only the envelope is read from the store. Gaps between events are
 * too many to keep; their percentiles come from a log-bucketed histogram per pair
 * (histogram.h, within 1%). A case's duration is kept per case anyway, so case
 * percentiles (durations, variants) are exact. */
#ifndef STRATA_INSPECT_CASES_H
#define STRATA_INSPECT_CASES_H

#include <signal.h>
#include <stdbool.h>

#include "expr.h"
#include "histogram.h"
#include "intern.h"
#include "store.h"

#define CASE_START UINT32_MAX     /* the "▶" node of flow */
#define CASE_END (UINT32_MAX - 1) /* the "■" node of flow */

struct case_info {
    int64_t first_ms, last_ms; /* earliest and latest time of its events */
    int64_t last_event_ms;     /* time of its last event read (for gaps) */
    uint32_t last_type;
    uint32_t nevents;
    uint32_t *seq; /* types, when sequences are wanted */
    uint32_t seqcap;
};

struct flow_edge {
    uint32_t from, to; /* type ids, or CASE_START / CASE_END */
    int64_t count;
    struct histogram gaps; /* ms between the two events; empty for start and end */
};

struct cases_opts {
    struct event_filter filter;
    const expr *where;
    bool want_seq, want_flow;
    volatile sig_atomic_t *stop; /* may be NULL; set: ends early with ST_ERR "stopped" */
};

struct cases_result {
    struct intern types;   /* type name -> id */
    struct intern streams; /* stream name -> case index */
    struct case_info *cases;
    size_t cap;
    struct intern edge_ids; /* (from, to) -> edge index */
    struct flow_edge *edges;
    size_t nedges, edge_cap;
    int64_t events;
};

int inspect_cases(struct store *s, const struct cases_opts *o, struct cases_result *r, err *e);
void cases_result_done(struct cases_result *r);
static inline int64_t case_duration_ms(const struct case_info *c)
{
    return c->last_ms - c->first_ms;
}
/* The name of a type id ("▶" and "■" for the two ends). */
const char *cases_type_name(const struct cases_result *r, uint32_t id);

/* Variants: distinct sequences of types, by count descending. */
struct variant {
    const uint32_t *seq; /* borrowed from a case of r */
    uint32_t len;
    int64_t count;
    int64_t p50_ms, p90_ms; /* exact, nearest rank, of its cases' durations */
};
/* Fills *out (caller frees) and *n from r (which must have sequences). */
void inspect_variants(const struct cases_result *r, struct variant **out, size_t *n);

/* Durations of the cases: count, min, exact p50 and p90, max, and the longest. */
#define DURATIONS_LONGEST 10
struct durations_summary {
    size_t count;
    int64_t min_ms, p50_ms, p90_ms, max_ms;
    size_t longest[DURATIONS_LONGEST]; /* case indexes, longest first */
    size_t nlongest;
};
void inspect_durations(const struct cases_result *r, struct durations_summary *out);

/* The p-quantile by nearest rank of sorted[0..n): sorted[ceil(p n) - 1]. */
int64_t quantile_sorted(const int64_t *sorted, size_t n, double p);

#endif
