/* upcast_step.h: one step of an event's upcast chain (domain.h's struct
 * upcast_step: rename, default, set, drop, in that order), run on an event's data.
 * event_upcast (aggregate.h) runs the whole chain with these; the dry run and the
 * workbench's playground (upcast_check.h) run them one at a time to show what each
 * step made. */
#ifndef STRATA_UPCAST_STEP_H
#define STRATA_UPCAST_STEP_H

#include "domain.h"
#include "value.h"

/* The step of spec that reads version v (to v + 1), or NULL when there is none. */
const struct upcast_step *upcast_step_from(const struct event_spec *spec, int v);

/* Runs step st (spec's, reading version st->from) on data (owned, replaced in
 * place). meta (may be NULL) is what `meta` means in a `set`. A `set` that fails
 * is ST_ERR with e saying "upcasting T from version V, set F: ...". */
int upcast_step_run(const struct event_spec *spec, const struct upcast_step *st, value *data,
                    const value *meta, err *e);

/* Puts the fields of data (a map, owned, replaced) in the order spec declares
 * them, anything undeclared after them: upcast data reads as if written now. */
void upcast_order_fields(const struct event_spec *spec, value *data);

/* What a step does, said in one line: "rename name: owner, default currency, set
 * initialDeposit, drop deposit" (the caller frees). */
char *upcast_step_describe(const struct upcast_step *st);

#endif
