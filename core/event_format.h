/* event_format.h: stored events written out as text: the line of the canonical
 * NDJSON event file format (design.md): keys position, stream, version, type,
 * schema, time, data, meta in that order, data and meta exactly as stored (byte for
 * byte); and the export formats of `strata export` (NDJSON, CloudEvents, CSV).
 * `strata exec`, `strata events` and `strata export` all write NDJSON through
 * event_write_ndjson, so the format cannot drift between them. */
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

/* Export formats. */
typedef enum export_format { EXPORT_NDJSON, EXPORT_CLOUDEVENTS, EXPORT_CSV } export_format;
/* "ndjson", "cloudevents" or "csv"; false for anything else. */
bool export_format_parse(const char *name, export_format *out);

/* What comes before the first event (the CSV header row; nothing otherwise). */
void export_begin(strbuf *sb, export_format f);
/* Appends one event, with its line end:
 * - ndjson: design.md's canonical line (event_write_ndjson);
 * - cloudevents: one structured CloudEvent (JSON format) per line:
 *   {"specversion":"1.0","id":"<stream>-<version>","source":"strata","subject":<stream>,
 *    "type":..,"time":..,"datacontenttype":"application/json","strataposition":P,
 *    "strataversion":V,"strataschema":S[,"stratameta":"<meta JSON as a string>"],"data":{..}}
 *   (extension values that do not fit CloudEvents' 32-bit integer are strings);
 *   importing it back with format cloudevents and `stream: record.subject` gives
 *   the same streams, types, times and data;
 * - csv: position,stream,version,type,schema,time,data,meta with RFC 4180 quoting
 *   (meta empty when there is none). */
void export_event(strbuf *sb, export_format f, const struct event *ev);

#endif
