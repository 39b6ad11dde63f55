/* scenario.h: running a domain's `scenarios:` (given, when, then), each against a
 * fresh in-memory store: the domain's own executable specification. */
#ifndef STRATA_SCENARIO_H
#define STRATA_SCENARIO_H

#include "domain.h"
#include "util.h"

/* Scenarios run at a fixed clock so that they never depend on the day they run:
 * the first given event at 2026-01-01T00:00:00.000Z, each next one a second after
 * the one before it (or at its own `time`), and the command a second after the
 * last given event (or at the epoch when there is none), unless `when` has `time`. */
#define SCENARIO_EPOCH_MS 1767225600000LL /* 2026-01-01T00:00:00.000Z */

/* What the environment may change about every scenario run. */
struct scenario_options {
    bool has_now;   /* STRATA_NOW was set: */
    int64_t now_ms; /* the command's clock, for scenarios whose `when` has no `time` */
};

/* Runs one scenario. opt may be NULL. Returns ST_OK when it passed; ST_ERR when it
 * failed, with `report` (appended to) saying what was expected and what happened. */
int scenario_run(const struct domain *d, const struct scenario_spec *sc,
                 const struct scenario_options *opt, strbuf *report);

/* Checks the rows a projection holds (`rows`: a list of maps as projection_query
 * gives them, "key" included when the projection has keys) against one entry of
 * `then.projections`: a list (exactly these rows: each expected row matches a
 * distinct row, by key when it names one, with its named columns equal, and no
 * other rows), or a map {contains: [rows], absent: [keys]}. Returns true when they
 * match; otherwise appends the missing rows, the extra ones and the columns that
 * differ (expected vs got) to `why`, each line naming projection `name`. */
bool scenario_check_rows(const char *name, const value *expect, const value *rows, strbuf *why);

#endif
