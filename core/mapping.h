/* mapping.h: one record of an event file -> one event ready to append.
 *
 * Two ways in:
 * - mapping_apply: a record of a foreign file (ndjson, json, csv, cloudevents),
 *   through a `source_spec` (a domain's `sources:` entry or a `--map FILE`): its
 *   `skip`, `stream`, `type`, `time`, `data` and `meta` expressions over `record`.
 * - canonical_parse: a line of Strata's own NDJSON event format (design.md): keys
 *   position, stream, version, type, schema, time, data, meta, checked one by one;
 *   data and meta are kept byte for byte as the line has them, so export, import
 *   and export again give an identical file.
 *
 * Choices (documented for users in the sources' contract extension):
 * - stream and type must come out as non-empty strings (an int is written in
 *   decimal); anything else makes the record bad.
 * - time must come out as a string in one of the ISO-8601 forms util.h's
 *   time_parse reads (0-9 fraction digits, Z, +hh:mm, +hhmm, a space for T, no zone
 *   = the source's `timezone`, else UTC); anything else is a bad record. A source
 *   with no `time` expression (and a CloudEvent with no `time`) takes the import
 *   time: the moment the import started.
 * - data is stored as a JSON object: an object as is, null (or nothing) as {},
 *   anything else wrapped as {"value": X}, so that every record can be imported
 *   and nothing is silently dropped. meta must be an object or null.
 * - cloudevents defaults (CloudEvents 1.0): stream = source, plus "/" + subject
 *   when there is a subject; type = type; time = time; data = data (data_base64
 *   becomes {"data_base64": "..."}); meta = every other attribute (id, source,
 *   specversion, subject, datacontenttype, dataschema, extensions). */
#ifndef STRATA_MAPPING_H
#define STRATA_MAPPING_H

#include "domain.h"
#include "store.h"
#include "util.h"
#include "value.h"

/* An event ready to append; owns its strings, unless `borrowed`: then they live
 * in a struct mapped_bufs (mapping_apply_bufs) and mapped_event_done frees none. */
struct mapped_event {
    char *stream;
    char *type;
    int schema;                   /* 1 for mapped records; the line's for canonical files */
    int64_t version;              /* canonical: the line's version; 0 for mapped records */
    int64_t time_ms;              /* UTC milliseconds, for --sort time and replay pacing */
    char time[TIME_TEXT_LEN + 1]; /* contract text form */
    char *data;                   /* JSON object text */
    char *meta;                   /* JSON object text, or NULL */
    bool borrowed;                /* the strings are a mapped_bufs' (not freed here) */
};
void mapped_event_done(struct mapped_event *m);

/* Buffers a mapped event's strings are written into, kept from one record to the
 * next, so that mapping a record allocates nothing once they have grown: an
 * import's three mallocs and frees a record were ~500 instructions of a CSV row.
 * They must outlive the event (an importer keeps one set per event it holds). */
struct mapped_bufs {
    strbuf stream, type, data, meta;
};
void mapped_bufs_init(struct mapped_bufs *b);
void mapped_bufs_done(struct mapped_bufs *b);

enum map_result { MAP_OK = 0, MAP_SKIP, MAP_BAD };

/* Checks that a source can be used: stream and type expressions present unless
 * the format gives defaults (cloudevents). Returns ST_OK or ST_USAGE with e set. */
int mapping_check_source(const struct source_spec *src, err *e);

/* Maps one record. now_ms is the time given to records without one. Returns
 * MAP_OK with *out filled (caller frees with mapped_event_done), MAP_SKIP when
 * the `skip` expression is true, MAP_BAD with the reason in reason[0..n). */
int mapping_apply(const struct source_spec *src, const value *record, int64_t now_ms,
                  struct mapped_event *out, char *reason, size_t n);

/* The same with a plan: the source's expressions that have a simple shape are
 * evaluated by expr_fast (expr.h) where a record fits it, the others by the
 * evaluator. The event is the same either way (test_mapping_fast compares). */
struct mapping_plan {
    struct expr_fast *stream, *type, *time, *data;
};
void mapping_plan_init(struct mapping_plan *p, const struct source_spec *src);
void mapping_plan_done(struct mapping_plan *p);
int mapping_apply_planned(const struct source_spec *src, const struct mapping_plan *plan,
                          const value *record, int64_t now_ms, struct mapped_event *out,
                          char *reason, size_t n);
/* The same with the event's strings in bufs (out->borrowed): byte for byte what
 * mapping_apply_planned gives (test_mapping_fast compares); bufs NULL is
 * mapping_apply_planned. */
int mapping_apply_bufs(const struct source_spec *src, const struct mapping_plan *plan,
                       const value *record, int64_t now_ms, struct mapped_bufs *bufs,
                       struct mapped_event *out, char *reason, size_t n);

/* The text of a record's own identity, for the import ledger: the source's `id:`
 * expression (a string as it is, anything else as JSON; scope "id"), else a
 * CloudEvent's source and id (scope "ce", "SOURCE\nID"). MAP_OK with *text set
 * (the caller frees it) and *scope; MAP_OK with *text NULL when the record has no
 * identity of its own (the raw record's hash stands in); MAP_BAD when `id:` fails
 * or gives null. */
int mapping_record_id(const struct source_spec *src, const value *record, char **text,
                      const char **scope, char *reason, size_t n);

/* The keys of a canonical event line, in the order of mapping.c's canonical_keys
 * (canonical_parse and canonical_parse_raw put each in its slot). */
enum canonical_key {
    CANON_POSITION,
    CANON_STREAM,
    CANON_VERSION,
    CANON_TYPE,
    CANON_SCHEMA,
    CANON_TIME,
    CANON_DATA,
    CANON_META,
    CANON_NKEYS
};

/* Reads one canonical NDJSON line: `parsed` is the line parsed as JSON, raw/len
 * its text (for data and meta byte for byte). Returns MAP_OK or MAP_BAD with the
 * reason. Versions are not checked here (see version_check). */
int canonical_parse(const value *parsed, const char *raw, size_t len, struct mapped_event *out,
                    char *reason, size_t n);

/* The same straight from the line's text, building no value tree: true with
 * *out filled (exactly what canonical_parse gives for the line) when the line is
 * in a form it is sure of; false (nothing to free) for anything else, which the
 * caller then parses in full and hands to canonical_parse, so that errors and
 * their messages are the full path's. (core/canonical_raw.c) */
bool canonical_parse_raw(const char *raw, size_t len, struct mapped_event *out);

/* Each stream's last version, from the store and from what an import has taken
 * so far, so that a canonical file's versions continue the store's without gaps
 * or repeats. */
struct version_slot {
    char *stream; /* NULL: empty */
    uint64_t hash;
    int64_t last;
};
struct version_check {
    struct version_slot *slots; /* open addressing, a power of two of them */
    size_t cap, len;
};
void version_check_init(struct version_check *vc);
void version_check_done(struct version_check *vc);
/* Checks that `version` is the next one of `stream` (asking the store the first
 * time a stream is seen) and, when it is, counts it as taken. Returns MAP_OK,
 * MAP_BAD with the reason ("version 5 of Account-A does not follow 3 ..."), or
 * -1 when the store could not be read (e set). */
int version_check_next(struct version_check *vc, struct store *s, const char *stream,
                       int64_t version, char *reason, size_t n, err *e);

#endif
