/* provenance.h: why a value is what it is (`strata why`): the events that
 * changed one field of a read-model row or of an aggregate's state, oldest
 * first, each with the value before and after and the domain's expression that
 * set it, with its FILE:LINE:COL.
 *
 * The answer comes from what Strata already keeps, not from replaying the
 * store: a row's history (projection_backend.h's history_walk, consecutive
 * entries giving before and after) and one stream's events. core/ never prints:
 * each change goes to a callback. */
#ifndef STRATA_PROVENANCE_H
#define STRATA_PROVENANCE_H

#include "domain.h"
#include "store.h"
#include "value.h"

/* One key's history, oldest first, up to `at` (0 = all): fn gets each entry's
 * position and the row from then on (NULL: deleted). fn returns ST_OK to go on. */
int projection_history_of_key(struct store *s, const struct domain *d,
                              const struct projection_spec *p, const char *key, int64_t at,
                              int (*fn)(void *ctx, int64_t position, const value *row, err *e),
                              void *ctx, err *e);

/* One field changed by one event. Everything is borrowed for the callback. */
struct prov_change {
    const struct event *ev;
    const char *field;
    const value *before; /* null: the row did not exist (or the field had no value) */
    const value *after;  /* null: the event deleted the row */
    const char *expr;    /* the expression that set it ("delete: true"; "" when unknown) */
    const char *file;    /* where it stands in the domain; NULL when unknown */
    int line, col;
};
typedef int (*prov_fn)(void *ctx, const struct prov_change *ch, err *e);

/* The field's name when the projection or aggregate has it, else NULL with e
 * saying so ("unknown column 'balanse' of AccountList (did you mean 'balance'?)"). */
const char *provenance_projection_field(const struct projection_spec *p, const char *field, err *e);
const char *provenance_aggregate_field(const struct aggregate_spec *a, const char *field, err *e);

/* The changes of row `key` ("" for a keyless projection) of p up to position
 * `at` (0 = all), one call per (event, field) when field is NULL. A row's first
 * entry is compared with the projection's defaults (the row it started from), so
 * the changes of a folded number add up to its value. Reads the history and
 * one event per change. ST_NOT_FOUND when the key never had a row. */
int provenance_projection(struct store *s, const struct domain *d, const struct projection_spec *p,
                          const char *key, const char *field, int64_t at, prov_fn fn, void *ctx,
                          err *e);

/* The changes of instance `id`'s state, folding its stream from the start (up to
 * `at`, 0 = all) and comparing the state before and after each event. */
int provenance_aggregate(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                         const char *id, const char *field, int64_t at, prov_fn fn, void *ctx,
                         err *e);

/* Appends the stored event at `position` to out. ST_NOT_FOUND when there is none. */
int store_event_at(struct store *s, int64_t position, struct event_list *out, err *e);

/* Called by provenance_fold_stream after each event is folded, with the state
 * before and after it (borrowed: value_ref to keep one). Any status but ST_OK
 * stops the walk and is returned. */
typedef int (*fold_step_fn)(void *ctx, const struct event *ev, const value *before,
                            const value *after, err *e);
/* Folds an aggregate instance's stream from its start (up to `at`, 0 = all), a
 * page at a time, calling fn after each event; *version is the last event's
 * version (0: no events). */
int provenance_fold_stream(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                           const char *stream, int64_t at, fold_step_fn fn, void *ctx,
                           int64_t *version, err *e);

#endif
