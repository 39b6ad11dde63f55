/* bisect.h: the first position at which something stops holding (`strata
 * bisect`): a condition over one read-model row or one aggregate instance's
 * state, or the current domain's ability to fold the stored events at all.
 *
 * A condition is tested only where its value can change: after each entry of
 * the row's history (projection_backend.h's history_walk) or after each event
 * of the instance's stream, folded in order from the start. That is exact for
 * any condition (the first position where it is false, whether it stays false
 * or not; a binary search would need it to stay false) and costs one pass over
 * what changed the value. The `--fails` searches are a dry run of the current
 * rules from the start: nothing is read from the read model's tables and
 * nothing is written. */
#ifndef STRATA_BISECT_H
#define STRATA_BISECT_H

#include "domain.h"
#include "store.h"
#include "value.h"

struct bisect_result {
    bool holds;
    int64_t position; /* !holds: the event at which it broke; holds: tested through here */
    char *type;       /* !holds: that event's type */
    char *stream;     /* !holds: that event's stream */
    value before;     /* !holds: the row or state before it (null: none) */
    value after;      /* !holds: after it (null: deleted; --fails: not folded) */
    char *error;      /* --fails: why the event cannot be folded */
    int64_t events;   /* events (or history entries) examined */
};
void bisect_result_init(struct bisect_result *r);
void bisect_result_done(struct bisect_result *r);

/* Compiles a condition over `row` (a projection's columns; p not NULL) or
 * `state` (an aggregate's fields), with the domain's static checks (unknown
 * fields with a suggestion, a result that cannot be a bool). On error NULL,
 * e->msg "`SRC`: column N: MESSAGE" (no file: the expression is an argument). */
expr *bisect_compile(const struct projection_spec *p, const struct aggregate_spec *a,
                     const char *src, err *e);

/* Row `key` ("" for a keyless projection) of p, up to `at` (0 = the head). A
 * deleted row is not tested (there is no row to test). */
int bisect_projection(struct store *s, const struct domain *d, const struct projection_spec *p,
                      const char *key, const expr *cond, int64_t at, struct bisect_result *r,
                      err *e);
/* Instance id of a, up to `at` (0 = the head). */
int bisect_aggregate(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                     const char *id, const expr *cond, int64_t at, struct bisect_result *r, err *e);
/* The first event p's handlers (with the current rules and upcasts) cannot fold. */
int bisect_projection_fails(struct store *s, const struct domain *d,
                            const struct projection_spec *p, int64_t at, struct bisect_result *r,
                            err *e);
/* The first event of a's streams (only instance id's when id is not NULL) that
 * its upcasts and `apply` cannot fold. */
int bisect_aggregate_fails(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                           const char *id, int64_t at, struct bisect_result *r, err *e);

#endif
