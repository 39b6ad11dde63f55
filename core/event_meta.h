/* event_meta.h: `meta` for expressions (domain-language.md): what the store knows
 * of an event (stream, aggregate, aggregateId, version, position, time, type,
 * schema), then what the event carries (command, commandId, ...) without
 * overriding the former. Built only in the parts expressions read (META_*,
 * domain.h), so that a fold whose key reads meta.aggregateId neither builds the
 * rest nor parses the event's own meta. */
#ifndef STRATA_EVENT_META_H
#define STRATA_EVENT_META_H

#include "domain.h"
#include "store.h"
#include "value.h"

/* The aggregate whose streams are named like stream ("Account-A": Account), and
 * in *id_out (may be NULL) the id part; NULL when none. d may be NULL. */
const struct aggregate_spec *aggregate_for_stream(const struct domain *d, const char *stream,
                                                  const char **id_out);
/* The parts `need` of ev's meta into *out (a map); ST_ERR when a part needing
 * the event's own meta finds it is not JSON. spec may be NULL. */
int event_meta_build(const struct domain *d, const struct event *ev, const struct event_spec *spec,
                     unsigned need, value *out, err *e);
/* The same into *m, a map event_meta_build made for another event with the same
 * need (else null): its values are replaced where they are, without making the
 * map or its keys again. A need with META_STORED (whose keys vary from one event
 * to the next) builds it anew. */
int event_meta_refill(const struct domain *d, const struct event *ev, const struct event_spec *spec,
                      unsigned need, value *m, err *e);
/* What of `meta` folding an event of this type reads (its apply and upcasts). */
unsigned event_spec_meta_need(const struct event_spec *spec);

#endif
