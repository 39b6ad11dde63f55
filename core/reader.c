/* reader.c: records from NDJSON, JSON, CSV and CloudEvents files (see reader.h).
 *
 * One buffered input layer serves every format: a zlib gzFile for files (zlib
 * reads a file that is not compressed as it is, so .gz and plain files take the
 * same path), or a caller's memory buffer. Line-based formats pull one line (or
 * one CSV record, which may span lines) at a time, so memory stays bounded by
 * the longest record; only json documents and CloudEvents batches are read whole. */
#include "reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cloudevents.h"
#include "json.h"
#include "utf8.h"

#define CHUNK (256u * 1024u)
#define IN_EOF (-1)
#define IN_ERROR (-2)

struct reader {
    char *name;
    source_format format;
    char delimiter;
    bool lazy;
    char *records_path;

    /* input */
    gzFile gz;                 /* NULL when reading a memory buffer */
    unsigned char *chunk;      /* gz: the buffer gzread fills */
    const unsigned char *data; /* current window: data[pos..len) unread */
    size_t len, pos;
    bool eof;
    err failed;        /* why reading the input failed (code != ST_OK once it has): every later
                          call fails the same way */
    uint64_t total;    /* file size, 0 when unknown */
    uint64_t mem_done; /* memory input: bytes consumed before the window */

    int64_t line; /* line ends consumed so far */
    int64_t nrec; /* records handed out so far */
    strbuf linebuf;
    value cur; /* the record handed out last (freed on the next call) */

    /* document mode (json, cloudevents batch or single event) */
    bool doc_mode;
    value doc;
    const value *arr; /* the array of records, inside doc; NULL for a single event */
    size_t arr_i;
    bool single_done;
    int64_t doc_line; /* line where the document starts */

    /* cloudevents NDJSON: a first line already read while sniffing */
    bool pending;

    /* csv */
    value *hkeys; /* column names */
    size_t ncols;
    strbuf *fields;
    size_t nfields, fields_cap;
    uint64_t bytes_or; /* csv: every byte of the record's fields OR-ed in (and maybe a few
                          after them): no byte >= 0x80, no UTF-8 check needed */
};

/* ---- input layer ---------------------------------------------------------------- */

/* Refills the window. Returns 1 when bytes are available, 0 at the end, -1 on error. */
static int in_fill(struct reader *r)
{
    if (r->pos < r->len)
        return 1;
    if (r->eof)
        return 0;
    if (r->failed.code != ST_OK)
        return -1;
    if (!r->gz) {
        r->eof = true;
        return 0;
    }
    int n = gzread(r->gz, r->chunk, CHUNK);
    if (n < 0) {
        int errnum = 0;
        const char *m = gzerror(r->gz, &errnum);
        err_set(&r->failed, ST_ERR, "%s", errnum == Z_ERRNO ? strerror(errno) : m);
        return -1;
    }
    if (n == 0) {
        int errnum = 0;
        const char *m = gzerror(r->gz, &errnum);
        if (errnum != Z_OK && errnum != Z_STREAM_END) {
            err_set(&r->failed, ST_ERR, "%s (a truncated or corrupt .gz file?)", m);
            return -1;
        }
        r->eof = true;
        return 0;
    }
    r->data = r->chunk;
    r->len = (size_t)n;
    r->pos = 0;
    return 1;
}

static inline int in_getc(struct reader *r)
{
    if (r->pos < r->len)
        return r->data[r->pos++];
    int f = in_fill(r);
    if (f < 0)
        return IN_ERROR;
    if (f == 0)
        return IN_EOF;
    return r->data[r->pos++];
}

static int fail_input(struct reader *r, err *e)
{
    err_set_at(e, ST_ERR, r->name, r->line + 1, 0, "cannot read: %s", r->failed.msg);
    return -1;
}

/* Reads one line into sb (without its '\n' and a '\r' before it). Returns 1, 0 at
 * the end with nothing read, -1 on error (e set). */
static int in_line(struct reader *r, strbuf *sb, err *e)
{
    sb_reset(sb);
    bool any = false;
    for (;;) {
        int f = in_fill(r);
        if (f < 0)
            return fail_input(r, e);
        if (f == 0) {
            if (!any)
                return 0;
            break;
        }
        any = true;
        const unsigned char *p = r->data + r->pos;
        size_t avail = r->len - r->pos;
        const unsigned char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        if (sb->len + take > READER_MAX_LINE) {
            err_set_at(e, ST_ERR, r->name, r->line + 1, 0, "line longer than %u bytes",
                       READER_MAX_LINE);
            return -1;
        }
        sb_add(sb, (const char *)p, take);
        r->pos += take;
        if (nl) {
            r->pos++;
            break;
        }
    }
    r->line++;
    if (sb->len > 0 && sb->buf[sb->len - 1] == '\r')
        sb->buf[--sb->len] = '\0';
    return 1;
}

/* Reads everything left into sb, capped. Returns 0 or -1 (e set). */
static int in_rest(struct reader *r, strbuf *sb, err *e)
{
    for (;;) {
        int f = in_fill(r);
        if (f < 0)
            return fail_input(r, e);
        if (f == 0)
            return 0;
        size_t take = r->len - r->pos;
        if ((uint64_t)sb->len + take > READER_MAX_DOCUMENT) {
            err_set_at(e, ST_ERR, r->name, 0, 0,
                       "document larger than %llu MB; use NDJSON for files this big",
                       (unsigned long long)(READER_MAX_DOCUMENT >> 20));
            return -1;
        }
        sb_add(sb, (const char *)r->data + r->pos, take);
        r->pos = r->len;
    }
}

/* The one table of format names, indexed by source_format: the domain loader
 * reads `format:` with it and names formats in messages with it. */
static const char *const format_names[] = {
    [SRC_NDJSON] = "ndjson",
    [SRC_JSON] = "json",
    [SRC_CSV] = "csv",
    [SRC_CLOUDEVENTS] = "cloudevents",
};
#define NFORMATS (sizeof format_names / sizeof format_names[0])

bool reader_format_parse(const char *name, source_format *out)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (source_format)i;
            return true;
        }
    return false;
}

const char *reader_format_name(source_format f)
{
    return (unsigned)f < NFORMATS ? format_names[f] : "?";
}

const char *reader_format_suggest(const char *name)
{
    return did_you_mean(name, format_names, NFORMATS);
}

/* ---- documents (json, cloudevents batches) ------------------------------------------ */

static int doc_parse(struct reader *r, strbuf *text, err *e)
{
    err je;
    if (json_parse(text->buf, text->len, &r->doc, &je) != ST_OK) {
        /* je's line counts from the document's first line, which may not be the file's */
        err_set_at(e, ST_ERR, r->name, r->doc_line + je.line - 1, je.col, "invalid JSON: %s",
                   je.msg);
        return -1;
    }
    r->doc_mode = true;
    return 0;
}

/* Finds the array of records at r->records_path (json format). */
static int doc_find_records(struct reader *r, err *e)
{
    const value *v = &r->doc;
    if (r->records_path && *r->records_path) {
        const char *p = r->records_path;
        while (*p) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            if (v->type != V_MAP) {
                err_set_at(e, ST_ERR, r->name, 0, 0,
                           "records path '%s': '%.*s' is inside a %s, not an object",
                           r->records_path, (int)n, p, vtype_name(v->type));
                return -1;
            }
            const value *next = value_map_getn(v, p, n);
            if (!next) {
                size_t nk = value_map_len(v);
                const char **keys = xcalloc(nk ? nk : 1, sizeof *keys);
                for (size_t i = 0; i < nk; i++)
                    keys[i] = value_str(value_map_key_at(v, i));
                char *want = xstrndup(p, n);
                const char *mean = did_you_mean(want, keys, nk);
                err_set_at(e, ST_ERR, r->name, 0, 0,
                           "records path '%s': no key '%s' in the document%s%s%s", r->records_path,
                           want, mean ? " (did you mean '" : "", mean ? mean : "",
                           mean ? "'?)" : "");
                free(want);
                free(keys);
                return -1;
            }
            v = next;
            p += n;
            if (*p == '.')
                p++;
        }
    }
    if (v->type != V_LIST) {
        if (!r->records_path && v->type == V_MAP) {
            strbuf sb;
            sb_init(&sb);
            for (size_t i = 0; i < value_map_len(v); i++)
                if (value_map_val_at(v, i)->type == V_LIST)
                    sb_addf(&sb, "%s'%s'", sb.len ? ", " : "", value_str(value_map_key_at(v, i)));
            err_set_at(e, ST_ERR, r->name, 0, 0,
                       "the document is an object, not an array of records; name the array with "
                       "`records:`%s%s%s",
                       sb.len ? " (arrays found at: " : "", sb.len ? sb.buf : "",
                       sb.len ? ")" : "");
            sb_done(&sb);
        } else {
            err_set_at(e, ST_ERR, r->name, 0, 0, "records %s%s%s is a %s, not an array",
                       r->records_path ? "at '" : "", r->records_path ? r->records_path : "",
                       r->records_path ? "'" : "", vtype_name(v->type));
        }
        return -1;
    }
    r->arr = v;
    return 0;
}

/* Skips whitespace (counting lines) and returns the first other byte without
 * consuming it, IN_EOF or IN_ERROR. */
static int peek_nonspace(struct reader *r)
{
    for (;;) {
        int c = in_getc(r);
        if (c < 0)
            return c;
        if (c == '\n') {
            r->line++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        r->pos--; /* the byte is still in the window */
        return c;
    }
}

static int open_document(struct reader *r, err *e)
{
    int c = peek_nonspace(r);
    if (c == IN_ERROR)
        return fail_input(r, e);
    r->doc_line = r->line + 1;
    if (r->format == SRC_CLOUDEVENTS) {
        if (c == IN_EOF)
            return 0; /* an empty file holds no events */
        if (c == '{') {
            /* One line that is a whole JSON value means NDJSON; otherwise the
             * file is one event spread over lines. */
            int rc = in_line(r, &r->linebuf, e);
            if (rc < 0)
                return -1;
            value v;
            if (json_parse(r->linebuf.buf, r->linebuf.len, &v, NULL) == ST_OK) {
                value_free(v);
                r->pending = true;
                return 0;
            }
            strbuf text;
            sb_init(&text);
            sb_add(&text, r->linebuf.buf, r->linebuf.len);
            sb_addc(&text, '\n');
            rc = in_rest(r, &text, e);
            if (rc == 0)
                rc = doc_parse(r, &text, e);
            sb_done(&text);
            return rc;
        }
        if (c != '[')
            return 0; /* NDJSON whose lines will each be reported */
    }
    strbuf text;
    sb_init(&text);
    int rc = in_rest(r, &text, e);
    if (rc == 0 && text.len == 0) {
        err_set_at(e, ST_ERR, r->name, 0, 0, "empty file (expected a JSON document)");
        rc = -1;
    }
    if (rc == 0)
        rc = doc_parse(r, &text, e);
    sb_done(&text);
    if (rc < 0)
        return -1;
    if (r->format == SRC_CLOUDEVENTS)
        r->arr = r->doc.type == V_LIST ? &r->doc : NULL;
    else if (doc_find_records(r, e) < 0)
        return -1;
    return 0;
}

static int next_document(struct reader *r, struct record *rec)
{
    const value *item;
    if (r->arr) {
        if (r->arr_i >= value_list_len(r->arr))
            return 0;
        rec->index = (int64_t)r->arr_i;
        rec->line = 0;
        item = value_list_at(r->arr, r->arr_i++);
    } else {
        if (r->single_done)
            return 0;
        r->single_done = true;
        rec->index = 0;
        rec->line = r->doc_line;
        item = &r->doc;
    }
    r->nrec++;
    if (r->format == SRC_CLOUDEVENTS && !cloudevents_check(item, &rec->reason)) {
        rec->bad = true;
        return 1;
    }
    r->cur = value_ref(item);
    rec->v = r->cur;
    return 1;
}

/* ---- ndjson --------------------------------------------------------------------------- */

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static int next_ndjson(struct reader *r, struct record *rec, err *e)
{
    for (;;) {
        if (r->pending) {
            r->pending = false;
        } else {
            int rc = in_line(r, &r->linebuf, e);
            if (rc <= 0)
                return rc;
        }
        if (blank(r->linebuf.buf, r->linebuf.len))
            continue;
        rec->line = r->line;
        rec->index = r->nrec++;
        rec->raw = r->linebuf.buf;
        rec->raw_len = r->linebuf.len;
        rec->unparsed = true;
        if (!r->lazy)
            reader_parse(r, rec);
        return 1;
    }
}

void reader_parse(struct reader *r, struct record *rec)
{
    if (!rec->unparsed)
        return;
    rec->unparsed = false;
    value v;
    if (json_parse(rec->raw, rec->raw_len, &v, &rec->reason) != ST_OK) {
        /* the parser's message and column (record_where puts the column in the place) */
        rec->bad = true;
        err_prefix(&rec->reason, "invalid JSON");
        rec->reason.line = rec->line;
        return;
    }
    if (r->format == SRC_CLOUDEVENTS && !cloudevents_check(&v, &rec->reason)) {
        rec->bad = true;
        value_free(v);
        return;
    }
    r->cur = v;
    rec->v = v;
}

/* ---- csv ------------------------------------------------------------------------------ */

static strbuf *csv_field(struct reader *r, size_t i)
{
    if (i >= r->fields_cap) {
        size_t cap = r->fields_cap ? r->fields_cap * 2 : 16;
        while (cap <= i)
            cap *= 2;
        r->fields = xrealloc(r->fields, cap * sizeof *r->fields);
        for (size_t k = r->fields_cap; k < cap; k++)
            sb_init(&r->fields[k]);
        r->fields_cap = cap;
    }
    strbuf *f = &r->fields[i];
    f->len = 0; /* sb_reset without the call: four fields a row */
    if (f->buf)
        f->buf[0] = '\0';
    return f;
}

/* Skips to the end of the current line (after a malformed field). */
static int csv_skip_line(struct reader *r)
{
    for (;;) {
        int c = in_getc(r);
        if (c == IN_ERROR)
            return -1;
        if (c == IN_EOF)
            return 0;
        if (c == '\n') {
            r->line++;
            return 0;
        }
    }
}

/* Reads one CSV record into r->fields[0..r->nfields). Returns 1 with a record
 * (*bad set, why filled, when it is malformed), 0 at the end, -1 on error (e set).
 * *blank_line is set for an empty line. */
/* The first delimiter or line feed in [p, end), or end: eight bytes at a time
 * while eight remain (a word has the byte when word ^ byte-in-every-lane has a
 * zero lane), then byte by byte to the exact place. A byte loop was about a
 * third of reading a CSV row. */
static const unsigned char *csv_scan(const unsigned char *p, const unsigned char *end, int delim,
                                     uint64_t *bytes_or)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const uint64_t dm = ones * (unsigned char)delim, nm = ones * (unsigned char)'\n';
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        *bytes_or |= w; /* the word may hold bytes after the field too: only ever more */
        uint64_t a = w ^ dm, b = w ^ nm;
        uint64_t hit = (((a - ones) & ~a) | ((b - ones) & ~b)) & highs;
        if (hit) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* the lowest lane flagged is the first such byte (a borrow can only
             * flag lanes after a true one) */
            return p + (__builtin_ctzll(hit) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && *p != delim && *p != '\n')
        *bytes_or |= *p++;
    return p;
}

static int csv_read(struct reader *r, bool *bad, err *why, bool *blank_line, err *e)
{
    size_t nf = 0;
    size_t total = 0;
    bool any = false, quoted_any = false;
    *bad = false;
    *blank_line = false;
    const int delim = (unsigned char)r->delimiter;
    uint64_t bytes_or = 0;
    for (;;) {
        strbuf *f = csv_field(r, nf++);
        int c = in_getc(r);
        bytes_or |= (unsigned)c; /* IN_EOF and IN_ERROR too: a UTF-8 check, no harm */
        if (c == IN_ERROR)
            return fail_input(r, e);
        if (c == IN_EOF) {
            if (!any)
                return 0;
            break;
        }
        any = true;
        if (c == '"') {
            quoted_any = true;
            int64_t opened = r->line + 1;
            for (;;) {
                c = in_getc(r);
                if (c == IN_ERROR)
                    return fail_input(r, e);
                if (c == IN_EOF) {
                    *bad = true;
                    err_set(why, ST_ERR,
                            "unterminated quoted field (the quote opened at line %lld)",
                            (long long)opened);
                    r->nfields = nf;
                    return 1;
                }
                if (c == '"') {
                    c = in_getc(r);
                    if (c == '"') {
                        sb_addc(f, '"');
                        continue;
                    }
                    break; /* closing quote; c is what follows */
                }
                if (c == '\n')
                    r->line++;
                sb_addc(f, (char)c);
                bytes_or |= (unsigned)c;
                if (++total > READER_MAX_LINE) {
                    err_set_at(e, ST_ERR, r->name, opened, 0, "CSV record longer than %u bytes",
                               READER_MAX_LINE);
                    return -1;
                }
            }
            if (c == '\r') {
                c = in_getc(r);
                if (c != '\n' && c != IN_ERROR) {
                    *bad = true;
                    err_set(why, ST_ERR,
                            "a carriage return after the closing quote of field %zu is not "
                            "followed by a line feed",
                            nf);
                    if (c != IN_EOF && csv_skip_line(r) < 0)
                        return fail_input(r, e);
                    r->nfields = nf;
                    return 1;
                }
            }
            if (c == IN_ERROR)
                return fail_input(r, e);
            if (c == delim)
                continue;
            if (c == '\n') {
                r->line++;
                break;
            }
            if (c == IN_EOF)
                break;
            *bad = true;
            if (c >= 32 && c < 127)
                err_set(why, ST_ERR,
                        "unexpected '%c' after the closing quote of field %zu (a quote inside a "
                        "quoted field is written \"\")",
                        c, nf);
            else
                err_set(why, ST_ERR, "unexpected byte 0x%02x after the closing quote of field %zu",
                        c, nf);
            if (csv_skip_line(r) < 0)
                return fail_input(r, e);
            r->nfields = nf;
            return 1;
        }
        /* Unquoted: take bytes up to the delimiter or the line end, a window at a
         * time. A quote inside an unquoted field is kept as a character. */
        if (c == delim)
            continue;
        if (c == '\n') {
            r->line++;
            break;
        }
        sb_addc(f, (char)c);
        total++;
        for (;;) {
            const unsigned char *p = r->data + r->pos, *end = r->data + r->len;
            const unsigned char *q = csv_scan(p, end, delim, &bytes_or);
            sb_add(f, (const char *)p, (size_t)(q - p));
            total += (size_t)(q - p);
            r->pos += (size_t)(q - p);
            if (total > READER_MAX_LINE) {
                err_set_at(e, ST_ERR, r->name, r->line + 1, 0, "CSV record longer than %u bytes",
                           READER_MAX_LINE);
                return -1;
            }
            if (q < end) {
                c = *q;
                r->pos++;
                break;
            }
            int fr = in_fill(r);
            if (fr < 0)
                return fail_input(r, e);
            if (fr == 0) {
                c = IN_EOF;
                break;
            }
        }
        if (c == delim)
            continue;
        if (f->len && f->buf[f->len - 1] == '\r')
            f->buf[--f->len] = '\0';
        if (c == '\n')
            r->line++;
        break;
    }
    r->nfields = nf;
    r->bytes_or = bytes_or;
    if (nf == 1 && !quoted_any && r->fields[0].len == 0)
        *blank_line = true;
    return 1;
}

static int open_csv(struct reader *r, err *e)
{
    bool bad, blank_line;
    err why;
    int rc;
    do {
        rc = csv_read(r, &bad, &why, &blank_line, e);
    } while (rc == 1 && blank_line && !bad);
    if (rc <= 0)
        return rc; /* an empty file: no header, no records */
    if (bad) {
        err_set_at(e, ST_ERR, r->name, r->line, 0, "header row: %s", why.msg);
        return -1;
    }
    r->ncols = r->nfields;
    r->hkeys = xcalloc(r->ncols, sizeof *r->hkeys);
    for (size_t i = 0; i < r->ncols; i++) {
        strbuf *f = &r->fields[i];
        if (!utf8_valid(f->buf, f->len)) {
            err_set_at(e, ST_ERR, r->name, r->line, 0,
                       "header row: column %zu's name is not valid UTF-8", i + 1);
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (value_strlen(&r->hkeys[k]) == f->len &&
                (f->len == 0 || memcmp(value_str(&r->hkeys[k]), f->buf, f->len) == 0)) {
                err_set_at(e, ST_ERR, r->name, r->line, 0,
                           "header row: duplicate column name '%.80s' (columns %zu and %zu)",
                           f->buf, k + 1, i + 1);
                return -1;
            }
        r->hkeys[i] = value_string(f->buf, f->len);
    }
    return 0;
}

static int next_csv(struct reader *r, struct record *rec, err *e)
{
    if (r->ncols == 0)
        return 0;
    for (;;) {
        bool bad, blank_line;
        int64_t start = r->line + 1;
        int rc = csv_read(r, &bad, &rec->reason, &blank_line, e);
        if (rc <= 0)
            return rc;
        if (blank_line && !bad)
            continue;
        rec->line = start;
        rec->index = r->nrec++;
        if (bad) {
            rec->bad = true;
            return 1;
        }
        if (r->nfields != r->ncols) {
            rec->bad = true;
            err_set(&rec->reason, ST_ERR, "row has %zu field%s, the header has %zu", r->nfields,
                    r->nfields == 1 ? "" : "s", r->ncols);
            return 1;
        }
        /* ASCII through and through (no byte >= 0x80 among the fields'): valid */
        for (size_t i = 0; (r->bytes_or & 0x8080808080808080ULL) && i < r->ncols; i++)
            if (!utf8_valid(r->fields[i].buf, r->fields[i].len)) {
                rec->bad = true;
                err_set(&rec->reason, ST_ERR, "field '%.60s' is not valid UTF-8",
                        value_str(&r->hkeys[i]));
                return 1;
            }
        /* The last record's map again when no one else holds it (the keys stay,
         * each value is written over in place when it has the same length):
         * building and freeing a map per row was a tenth of a mapped import. */
        value m = r->cur;
        if (m.type == V_MAP && __atomic_load_n(&m.u.m->refs, __ATOMIC_ACQUIRE) == 1 &&
            value_map_len(&m) == r->ncols) {
            for (size_t i = 0; i < r->ncols; i++) {
                value *slot = &m.u.m->entries[i].val; /* value_map_slot_at: held by none */
                if (!value_string_overwrite(slot, r->fields[i].buf, r->fields[i].len)) {
                    value_free(*slot);
                    *slot = value_string(r->fields[i].buf, r->fields[i].len);
                }
            }
        } else {
            value_free(r->cur);
            m = value_map(r->ncols);
            for (size_t i = 0; i < r->ncols; i++)
                value_map_setv(&m, value_ref(&r->hkeys[i]),
                               value_string(r->fields[i].buf, r->fields[i].len));
        }
        r->cur = m;
        rec->v = m;
        return 1;
    }
}

/* ---- public ---------------------------------------------------------------------------- */

static struct reader *reader_new(const char *name, const struct reader_options *o, err *e)
{
    if (o->format == SRC_CSV &&
        (o->delimiter == '"' || o->delimiter == '\n' || o->delimiter == '\r')) {
        err_set_at(e, ST_USAGE, name, 0, 0, "a CSV delimiter may not be a quote or a line break");
        return NULL;
    }
    struct reader *r = xcalloc(1, sizeof *r);
    r->name = xstrdup(name);
    r->format = o->format;
    r->delimiter = o->delimiter ? o->delimiter : ',';
    r->lazy = o->lazy && o->format == SRC_NDJSON;
    r->records_path = o->records ? xstrdup(o->records) : NULL;
    sb_init(&r->linebuf);
    r->cur = value_null();
    r->doc = value_null();
    return r;
}

/* Skips a UTF-8 byte order mark, then reads what the format needs up front. */
static struct reader *reader_start(struct reader *r, err *e)
{
    if (in_fill(r) < 0) {
        fail_input(r, e);
        reader_close(r);
        return NULL;
    }
    if (r->len - r->pos >= 3 && memcmp(r->data + r->pos, "\xEF\xBB\xBF", 3) == 0)
        r->pos += 3;
    int rc = 0;
    if (r->format == SRC_JSON || r->format == SRC_CLOUDEVENTS)
        rc = open_document(r, e);
    else if (r->format == SRC_CSV)
        rc = open_csv(r, e);
    if (rc < 0) {
        reader_close(r);
        return NULL;
    }
    return r;
}

struct reader *reader_open(const char *path, const struct reader_options *o, err *e)
{
    struct reader *r = reader_new(path, o, e);
    if (!r)
        return NULL;
    int fd = -1;
    if (strcmp(path, "-") == 0) {
        fd = dup(0);
        r->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    } else {
        struct stat st;
        if (stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                err_set_at(e, ST_ERR, path, 0, 0, "is a folder, not a file");
                reader_close(r);
                return NULL;
            }
            r->total = (uint64_t)st.st_size;
        }
        r->gz = gzopen(path, "rb");
    }
    if (!r->gz) {
        err_set_at(e, ST_ERR, path, 0, 0, "cannot open: %s",
                   errno ? strerror(errno) : "out of memory");
        if (fd >= 0)
            close(fd);
        reader_close(r);
        return NULL;
    }
    gzbuffer(r->gz, CHUNK);
    r->chunk = xmalloc(CHUNK);
    return reader_start(r, e);
}

struct reader *reader_open_buffer(const char *name, const void *buf, size_t len,
                                  const struct reader_options *o, err *e)
{
    struct reader *r = reader_new(name, o, e);
    if (!r)
        return NULL;
    r->data = buf;
    r->len = len;
    r->total = len;
    return reader_start(r, e);
}

int reader_next(struct reader *r, struct record *rec, err *e)
{
    if (r->format != SRC_CSV) { /* a CSV reader may use its last map again (next_csv) */
        value_free(r->cur);
        r->cur = value_null();
    }
    rec->v = value_null();
    rec->line = 0;
    rec->index = 0;
    rec->bad = false;
    err_clear(&rec->reason);
    rec->raw = NULL;
    rec->raw_len = 0;
    rec->unparsed = false;
    if (r->doc_mode)
        return next_document(r, rec);
    switch (r->format) {
    case SRC_CSV:
        return next_csv(r, rec, e);
    case SRC_NDJSON:
    case SRC_CLOUDEVENTS:
        return next_ndjson(r, rec, e);
    case SRC_JSON:
        return 0;
    }
    return 0;
}

void reader_close(struct reader *r)
{
    if (!r)
        return;
    if (r->gz)
        gzclose(r->gz);
    free(r->chunk);
    free(r->name);
    free(r->records_path);
    sb_done(&r->linebuf);
    value_free(r->cur);
    value_free(r->doc);
    for (size_t i = 0; i < r->ncols; i++)
        value_free(r->hkeys[i]);
    free(r->hkeys);
    for (size_t i = 0; i < r->fields_cap; i++)
        sb_done(&r->fields[i]);
    free(r->fields);
    free(r);
}

void reader_progress(const struct reader *r, uint64_t *done, uint64_t *total)
{
    if (r->gz) {
        z_off_t off = gzoffset(r->gz);
        *done = off > 0 ? (uint64_t)off : 0;
    } else {
        *done = r->pos;
    }
    *total = r->total;
    if (*total && *done > *total)
        *done = *total;
}

void record_where(const struct reader *r, const struct record *rec, strbuf *sb)
{
    if (rec->line > 0 && rec->bad && rec->reason.col > 0)
        sb_addf(sb, "%s:%lld:%d", r->name, (long long)rec->line, rec->reason.col);
    else if (rec->line > 0)
        sb_addf(sb, "%s:%lld", r->name, (long long)rec->line);
    else
        sb_addf(sb, "%s:[%lld]", r->name, (long long)rec->index);
}
