/* scenario.h: running a domain's `scenarios:` (given, when, then), each against a
 * fresh in-memory store: the domain's own executable specification. */
#ifndef STRATA_SCENARIO_H
#define STRATA_SCENARIO_H

#include "domain.h"
#include "util.h"

/* Runs one scenario. Returns ST_OK when it passed; ST_ERR when it failed, with
 * `report` (appended to) saying what was expected and what happened. */
int scenario_run(const struct domain *d, const struct scenario_spec *sc, strbuf *report);

#endif
