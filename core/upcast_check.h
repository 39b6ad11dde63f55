/* upcast_check.h: what a domain's upcast chains do to the stored events, without
 * changing anything (`strata upcast --check`, design.md "Explain and what-if"),
 * and the steps of one event's chain (`strata upcast POSITION`, the workbench's
 * playground).
 *
 * The dry run reads every stored event in pages (memory follows the page and the
 * number of (type, schema) groups, not the store) and sorts each into one of:
 * - clean: the chain ran and its output matches the current version's fields
 *   (event_check.h's check, the one every read makes);
 * - failed: the domain cannot run the chain (a type it does not declare, a schema
 *   version it does not know, data that is not JSON, a `set` that fails);
 * - mismatched: the chain ran but its output does not match the current fields. */
#ifndef STRATA_UPCAST_CHECK_H
#define STRATA_UPCAST_CHECK_H

#include "domain.h"
#include "store.h"
#include "value.h"

#define UPCAST_SAMPLES 3 /* sample events kept per (type, schema) that upcasts */

/* A failed or mismatched event. */
struct upcast_problem {
    int64_t position;
    char *stream;
    char *error;
    bool mismatch; /* the output does not match the fields (else the chain failed) */
};

/* An event before and after its chain (JSON text; after NULL when it failed). */
struct upcast_sample {
    int64_t position;
    char *stream;
    char *before, *after;
};

/* The events of one type stored at one schema version. */
struct upcast_group {
    char *type;
    int schema;  /* as stored */
    int current; /* the domain's version of the type; 0 when it does not declare it */
    int64_t events, clean, failed, mismatched;
    struct upcast_problem *problems; /* the first max_listed of each kind, by position */
    size_t nproblems;
    struct upcast_sample samples[UPCAST_SAMPLES]; /* only when schema < current */
    size_t nsamples;
};

struct upcast_report {
    struct upcast_group *groups; /* by type, then schema */
    size_t n;
    int64_t events, clean, failed, mismatched;
};
void upcast_report_done(struct upcast_report *r);

/* Runs d's chains over every event of s (read only). max_listed: problems kept per
 * group and kind (0: 10). ST_OK with *r filled (problems are in *r, not an error);
 * ST_ERR when the store could not be read (e set). */
int upcast_check(struct store *s, const struct domain *d, size_t max_listed,
                 struct upcast_report *r, err *e);

/* One event's data at each version its chain goes through. */
struct upcast_trace {
    const struct event_spec *spec;
    int stored;  /* the schema it was stored at */
    value *data; /* data[k] is at version stored + k, k < n */
    size_t n;
    char *error;   /* why it stopped or does not match the fields; NULL: clean */
    bool mismatch; /* error is the field check (every step ran) */
};
/* Runs ev's chain step by step. ST_ERR (e set) when it cannot start: a type d does
 * not declare, a schema version it does not know, data or meta that is not JSON. */
int upcast_trace_event(const struct domain *d, const struct event *ev, struct upcast_trace *t,
                       err *e);
void upcast_trace_done(struct upcast_trace *t);

#endif
