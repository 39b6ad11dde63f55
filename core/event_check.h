/* event_check.h: is an event's data what its type declares?
 *
 * domain-language.md, version 2: every appended event is valid. An event's data
 * must match its type's `fields` (each value passes field_check, every required
 * field is there, no field is undeclared); an event stored at an older schema
 * version is checked after its upcast chain has brought it to the current version,
 * since only the current version declares fields. The same check runs on every
 * path: an emit before it is appended (aggregate.c), an event read back and upcast
 * (aggregate.c's decoding), an imported, replayed or scenario `given` event, and
 * `strata check --db` over a whole store. */
#ifndef STRATA_EVENT_CHECK_H
#define STRATA_EVENT_CHECK_H

#include "domain.h"
#include "value.h"

/* Checks data (at spec's current version) against spec's fields. stored_schema is
 * the version the event was stored at: when it is older, the data is the upcast
 * chain's output and a violation also names the upcast step that produced (or
 * failed to produce) the field, e.g.
 *   upcast step 1->2 (set title): field 'title': expected string, got int 8
 * Otherwise the message is field_check's ("field 'amount': 0 is below the minimum
 * 1"), or "missing field 'owner' (string)", or "unknown field 'x'". Returns ST_OK
 * or ST_ERR with e set (no prefix: the caller says which event). as_stored: data read
 * back from a store, whose timestamps an older Strata may have kept as written
 * (field_check_stored); false for data about to be appended. */
int event_check_fields(const struct event_spec *spec, int stored_schema, const value *data,
                       bool as_stored, err *e);

#endif
