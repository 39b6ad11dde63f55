/* event_expr.h: expressions over one stored event, for inspecting logs
 * (core/event_expr.c): `--where` filters and `--by` groupings. The names are
 * `event` (the data), `meta`, and the envelope's `type`, `stream`, `time` (a
 * timestamp) and `position`, as design.md's "Inspecting logs" gives them.
 *
 * An event's data and meta are parsed from JSON only when an expression reads
 * them, so a filter on `type` or `time` costs no JSON parse.
 *
 * A log is not a domain: fields are not known in advance and differ between
 * events. An evaluation error on one event (a missing field: `event.x == 1` on an
 * event without x; a type mismatch) therefore means "does not match" for a filter,
 * and null for a grouping, where CEL would stop with an error. */
#ifndef STRATA_EVENT_EXPR_H
#define STRATA_EVENT_EXPR_H

#include <stdbool.h>

#include "expr.h"
#include "store.h"

/* Compiles src as an expression over an event; NULL with ee (message, col) on
 * error, like strata eval. */
expr *event_expr_compile(const char *src, err *ee);

/* The roots of one event, built as the expressions given at init need them. */
struct event_vars {
    struct expr_vars vars;
    bool want_data, want_meta;
};
/* xs[0..n) are the expressions to evaluate (NULLs skipped). */
void event_vars_init(struct event_vars *v, expr *const *xs, int n);
/* Sets the roots for ev (releasing the previous event's). ST_ERR when the event's
 * data or meta is not JSON (then they are null: the expressions see no fields). */
int event_vars_set(struct event_vars *v, const struct event *ev);
void event_vars_done(struct event_vars *v);

/* True when where (NULL = no filter) holds for the event in v; an error is false. */
bool event_expr_match(const expr *where, const struct event_vars *v);
/* x's value for the event in v as JSON text in out (null on an error). */
void event_expr_json(const expr *x, const struct event_vars *v, strbuf *out);

#endif
