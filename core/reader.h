/* reader.h: records from event files that other systems wrote.
 *
 * A reader turns a file (or a memory buffer: the fuzz targets' entry point) into
 * a sequence of records, each a `value`, with where it stood in the file so that a
 * bad one can be reported as FILE:LINE (or FILE:[INDEX] inside a JSON array).
 *
 * Formats (domain-language.md, "Sources"):
 * - ndjson: one JSON value per line; blank lines are skipped; a line that is not
 *   JSON is a bad record and reading goes on with the next line. A missing final
 *   newline is fine. CRLF line ends are fine.
 * - json: one document holding an array of records at a dotted path
 *   (`Records`, `hits.hits`), or a bare array; records are numbered by index.
 *   The document is read whole (at most READER_MAX_DOCUMENT bytes).
 * - csv: RFC 4180: a header row, fields separated by the delimiter (',' unless
 *   told), quoted fields with "" for a quote and line breaks inside, CRLF or LF.
 *   Each record is a map header -> string. A row with another number of fields
 *   than the header, a stray character after a closing quote, a quote left open
 *   at the end of the file, or bytes that are not UTF-8 make a bad record. Blank
 *   lines are skipped. A duplicate column name in the header is an error for the
 *   whole file.
 * - cloudevents: structured-mode JSON (CloudEvents 1.0 JSON format): one event
 *   object, a batch (an array of events), or NDJSON with one event per line. Each
 *   event is checked against the CloudEvents 1.0 rules (cloudevents.h); an
 *   invalid event is a bad record whose reason says which rule it breaks.
 *
 * Every format streams line by line except json documents and cloudevents
 * batches / single documents, which are read whole. Files whose name ends in .gz
 * are read through zlib; "-" is standard input. A UTF-8 byte order mark at the
 * start of a file is ignored. */
#ifndef STRATA_READER_H
#define STRATA_READER_H

#include <stdint.h>

#include "domain.h"
#include "util.h"
#include "value.h"

#define READER_MAX_LINE (64u << 20)         /* bytes in one line or one CSV record */
#define READER_MAX_DOCUMENT (1024ull << 20) /* bytes in a json document read whole */

struct reader_options {
    source_format format;
    const char *records; /* json: dotted path of the array; NULL = the document is the array */
    char delimiter;      /* csv: field separator; 0 means ',' */
    /* ndjson: hand each line out unparsed (record.unparsed, v null), for a
     * caller that can read some lines from their text alone; it parses the
     * others with reader_parse. */
    bool lazy;
};

/* One record. Filled by reader_next; everything in it is owned by the reader and
 * valid until the next reader_next or reader_close (take a value_ref to keep v). */
struct record {
    value v;         /* the record; null when bad */
    int64_t line;    /* 1-based line where the record starts; 0 when numbered by index */
    int64_t index;   /* 0-based index among the records of the file (array index for json) */
    bool bad;        /* the record could not be read: `reason` says why */
    err reason;      /* reason.msg has no place (record_where gives it); reason.col is
                        the column in the record's line when known (invalid JSON) */
    const char *raw; /* line-based JSON formats: the line's text (no line end), else NULL */
    size_t raw_len;
    bool unparsed; /* a lazy reader's line, not parsed yet (reader_parse) */
};

struct reader;

/* Opens path for reading records. On error returns NULL with e->msg saying what
 * and where ("events.csv: No such file or directory", "doc.json:3:7: error: ...").
 * Formats that read a whole document read and parse it here, so a broken
 * document fails at open. */
struct reader *reader_open(const char *path, const struct reader_options *o, err *e);
/* The same over buf[0..len) (not copied: it must outlive the reader); `name` is
 * used in messages. The buffer is read as is (never decompressed). */
struct reader *reader_open_buffer(const char *name, const void *buf, size_t len,
                                  const struct reader_options *o, err *e);
/* The next record: returns 1 with *rec filled (rec->bad for a record that could
 * not be read; reading may go on), 0 at the end, -1 on an error that ends the file
 * (I/O, a corrupt .gz, a line longer than READER_MAX_LINE) with e->msg complete
 * ("FILE:LINE: error: ..."). */
int reader_next(struct reader *r, struct record *rec, err *e);
/* Parses a lazy reader's unparsed record as reader_next would have: rec->v, or
 * rec->bad with the same reason and column. Does nothing to a parsed record. */
void reader_parse(struct reader *r, struct record *rec);
void reader_close(struct reader *r);

/* How far reading has got: bytes of the file consumed (compressed bytes for
 * .gz) and the file's size (0 when unknown, e.g. standard input). */
void reader_progress(const struct reader *r, uint64_t *done, uint64_t *total);
/* Appends where rec stood: "FILE:LINE", "FILE:LINE:COL" when the reason of a bad
 * record has a column, or "FILE:[INDEX]". */
void record_where(const struct reader *r, const struct record *rec, strbuf *sb);

/* Format names ("ndjson", "json", "csv", "cloudevents"), from one table: parses
 * one (false if unknown), names one ("?" for a value out of range), and suggests
 * the one an unknown name was meant to be (did_you_mean; NULL when none is close). */
bool reader_format_parse(const char *name, source_format *out);
const char *reader_format_name(source_format f);
const char *reader_format_suggest(const char *name);

#endif
