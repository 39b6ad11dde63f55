/* json.h: JSON to and from `value`.
 *
 * Replay and projections decode every event's data, so this parser is built for
 * speed: one pass, no intermediate tree, straight into `value`. It is strict RFC
 * 8259: integers without a fraction or exponent become V_INT and must fit int64
 * (a larger one is an error, never silently rounded); numbers with a fraction or
 * exponent become V_DOUBLE; strings must be valid UTF-8; nesting is capped at
 * JSON_MAX_DEPTH; duplicate keys in an object keep the last value.
 * It is tested differentially against jansson and fuzzed.
 *
 * The writer is canonical: compact, keys in the map's order, doubles written so
 * that they read back as the same double and always with a '.' or an exponent
 * (1.0, 1e+300), ints never; non-finite doubles are written as null. Parsing what
 * the writer wrote and writing it again gives the same bytes. */
#ifndef STRATA_JSON_H
#define STRATA_JSON_H

#include "util.h"
#include "value.h"

#define JSON_MAX_DEPTH 512

/* Parses exactly one JSON value from text[0..len) (surrounding whitespace
 * allowed). On success returns ST_OK and *out owns the value. On failure returns
 * ST_ERR and *out is untouched; e (if not NULL) gets the message ("invalid UTF-8
 * byte 0xFF in string") and where it failed: e->line and e->col (1-based, the
 * column in bytes) and e->offset (bytes from text). e->file stays empty and msg
 * has no place in it: the caller knows what the text was and says so. */
int json_parse(const char *text, size_t len, value *out, err *e);

/* Appends the canonical compact form of v to sb. */
void json_write(strbuf *sb, const value *v);
/* Appends an indented form (2 spaces per level) for people to read. */
void json_write_pretty(strbuf *sb, const value *v);
/* Convenience: the canonical form as a new string (caller frees). */
char *json_to_string(const value *v);
/* Appends s as a JSON string literal (quotes and escapes included). */
void json_write_string(strbuf *sb, const char *s, size_t len);

/* Byte classes inside a JSON string, for scanners that skip plain bytes fast: 0 =
 * plain ASCII, 1 = '"', 2 = '\\', 3 = control character (must be escaped), 4 =
 * start of a multi-byte UTF-8 sequence (or invalid). */
extern const unsigned char json_str_class[256];
/* Appends a double the canonical way. */
void json_write_double(strbuf *sb, double d);

#endif
