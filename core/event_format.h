/* event_format.h: one stored event as a line of the canonical NDJSON event file
 * format (design.md): keys position, stream, version, type, schema, time, data,
 * meta in that order, data and meta exactly as stored (byte for byte). `strata
 * exec`, `strata events` and `strata export` all write through this one function,
 * so the format cannot drift between them. */
#ifndef STRATA_EVENT_FORMAT_H
#define STRATA_EVENT_FORMAT_H

#include "store.h"
#include "util.h"

/* Appends the event as one NDJSON line, with the trailing newline. When data_override
 * is not NULL it is written instead of ev->data, and a schema_override > 0 instead
 * of ev->schema (for upcast views). A NULL meta leaves the "meta" key out, so that
 * reading the line back gives NULL again and a round trip keeps it exactly. */
void event_write_ndjson(strbuf *sb, const struct event *ev, const char *data_override,
                        int schema_override);

#endif
