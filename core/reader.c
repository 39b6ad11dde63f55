/* reader.c: records from NDJSON, JSON, CSV and CloudEvents files (see reader.h).
 *
 * One buffered input layer serves every format: a zlib gzFile for files (zlib
 * reads a file that is not compressed as it is, so .gz and plain files take the
 * same path), or a caller's memory buffer. Line-based formats pull one line (or
 * one CSV record, which may span lines) at a time, so memory stays bounded by
 * the longest record; only json documents and CloudEvents batches are read whole. */
#include "reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "json.h"
#include "utf8.h"

#define CHUNK (256u * 1024u)
#define IN_EOF (-1)
#define IN_ERROR (-2)

struct reader {
    char *name;
    source_format format;
    char delimiter;
    char *records_path;

    /* input */
    gzFile gz;                 /* NULL when reading a memory buffer */
    unsigned char *chunk;      /* gz: the buffer gzread fills */
    const unsigned char *data; /* current window: data[pos..len) unread */
    size_t len, pos;
    bool eof;
    bool failed;
    char failmsg[300];
    uint64_t total;      /* file size, 0 when unknown */
    uint64_t mem_done;   /* memory input: bytes consumed before the window */

    int64_t line;  /* line ends consumed so far */
    int64_t nrec;  /* records handed out so far */
    strbuf linebuf;
    value cur;     /* the record handed out last (freed on the next call) */

    /* document mode (json, cloudevents batch or single event) */
    bool doc_mode;
    value doc;
    const value *arr;   /* the array of records, inside doc; NULL for a single event */
    size_t arr_i;
    bool single_done;
    int64_t doc_line;   /* line where the document starts */

    /* cloudevents NDJSON: a first line already read while sniffing */
    bool pending;

    /* csv */
    value *hkeys; /* column names */
    size_t ncols;
    strbuf *fields;
    size_t nfields, fields_cap;
};

/* ---- input layer ---------------------------------------------------------------- */

/* Refills the window. Returns 1 when bytes are available, 0 at the end, -1 on error. */
static int in_fill(struct reader *r)
{
    if (r->pos < r->len)
        return 1;
    if (r->eof)
        return 0;
    if (r->failed)
        return -1;
    if (!r->gz) {
        r->eof = true;
        return 0;
    }
    int n = gzread(r->gz, r->chunk, CHUNK);
    if (n < 0) {
        int errnum = 0;
        const char *m = gzerror(r->gz, &errnum);
        snprintf(r->failmsg, sizeof r->failmsg, "%s",
                 errnum == Z_ERRNO ? strerror(errno) : m);
        r->failed = true;
        return -1;
    }
    if (n == 0) {
        int errnum = 0;
        const char *m = gzerror(r->gz, &errnum);
        if (errnum != Z_OK && errnum != Z_STREAM_END) {
            snprintf(r->failmsg, sizeof r->failmsg, "%s (a truncated or corrupt .gz file?)", m);
            r->failed = true;
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
    err_set(e, ST_ERR, "%s:%lld: error: cannot read: %s", r->name, (long long)r->line + 1,
            r->failmsg);
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
            err_set(e, ST_ERR, "%s:%lld: error: line longer than %u bytes", r->name,
                    (long long)r->line + 1, READER_MAX_LINE);
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
            err_set(e, ST_ERR, "%s: error: document larger than %llu MB; use NDJSON for files this big",
                    r->name, (unsigned long long)(READER_MAX_DOCUMENT >> 20));
            return -1;
        }
        sb_add(sb, (const char *)r->data + r->pos, take);
        r->pos = r->len;
    }
}

/* ---- small checks ------------------------------------------------------------------ */

static bool two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

bool rfc3339_check(const char *s, size_t len)
{
    /* YYYY-MM-DDTHH:MM:SS[.F+](Z|+HH:MM|-HH:MM) */
    if (len < 20)
        return false;
    int y1, y2, mo, d, h, mi, sec;
    if (!two_digits(s, &y1) || !two_digits(s + 2, &y2) || s[4] != '-' || !two_digits(s + 5, &mo) ||
        s[7] != '-' || !two_digits(s + 8, &d) || (s[10] != 'T' && s[10] != 't') ||
        !two_digits(s + 11, &h) || s[13] != ':' || !two_digits(s + 14, &mi) || s[16] != ':' ||
        !two_digits(s + 17, &sec))
        return false;
    int y = y1 * 100 + y2;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return false;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    size_t p = 19;
    if (p < len && s[p] == '.') {
        size_t start = ++p;
        while (p < len && s[p] >= '0' && s[p] <= '9')
            p++;
        if (p == start)
            return false;
    }
    if (p == len)
        return false;
    if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == len)
        return true;
    if ((s[p] == '+' || s[p] == '-') && p + 6 == len) {
        int oh, om;
        return two_digits(s + p + 1, &oh) && s[p + 3] == ':' && two_digits(s + p + 4, &om) &&
               oh <= 23 && om <= 59;
    }
    return false;
}

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 characters: unreserved, reserved, and percent-encoded octets. */
static bool uri_chars_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (is_alpha(c) || is_digit(c) || strchr("-._~:/?#[]@!$&'()*+,;=", c))
            continue;
        if (c == '%' && i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

/* Length of a valid scheme at the start of s followed by ':', else 0. */
static size_t uri_scheme_len(const char *s, size_t len)
{
    if (len == 0 || !is_alpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (i < len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
                       s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    return i < len && s[i] == ':' ? i : 0;
}

static bool uri_reference_ok(const char *s, size_t len)
{
    if (len == 0 || !uri_chars_ok(s, len))
        return false;
    /* A ':' before any '/', '?' or '#' must end a scheme (RFC 3986 path-noscheme). */
    size_t colon = strcspn(s, ":/?#");
    if (colon < len && s[colon] == ':')
        return uri_scheme_len(s, len) == colon;
    return true;
}

static bool uri_absolute_ok(const char *s, size_t len)
{
    return len > 0 && uri_chars_ok(s, len) && uri_scheme_len(s, len) > 0;
}

/* RFC 2045 token characters (media types are RFC 2046 type/subtype). */
static bool token_char(int c)
{
    return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?=", c);
}

static bool media_type_ok(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && token_char((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= len || s[i] != '/')
        return false;
    size_t sub = ++i;
    while (i < len && token_char((unsigned char)s[i]))
        i++;
    if (i == sub)
        return false;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == len)
        return true;
    if (s[i] != ';')
        return false;
    for (; i < len; i++)
        if ((unsigned char)s[i] < 32 && s[i] != '\t')
            return false;
    return true;
}

static bool base64_ok(const char *s, size_t len)
{
    if (len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (is_alpha(c) || is_digit(c) || c == '+' || c == '/')
            continue;
        if (c == '=' && (i == len - 1 || (i == len - 2 && s[len - 1] == '=')))
            continue;
        return false;
    }
    return true;
}

static bool fail_reason(char *reason, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_reason(char *reason, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, n, fmt, ap);
    va_end(ap);
    return false;
}

/* A present, non-null attribute, or NULL. */
static const value *ce_attr(const value *ev, const char *name)
{
    const value *v = value_map_get(ev, name);
    return v && v->type != V_NULL ? v : NULL;
}

/* Checks an attribute that must be a non-empty string when present. */
static bool ce_string(const value *ev, const char *name, bool required, const value **out,
                      char *reason, size_t n)
{
    const value *v = ce_attr(ev, name);
    *out = v;
    if (!v)
        return required ? fail_reason(reason, n, "missing required attribute '%s'", name) : true;
    if (v->type != V_STRING)
        return fail_reason(reason, n, "attribute '%s' must be a string, got %s", name,
                           vtype_name(v->type));
    if (value_strlen(v) == 0)
        return fail_reason(reason, n, "attribute '%s' must not be empty", name);
    return true;
}

bool cloudevents_check(const value *ev, char *reason, size_t n)
{
    if (ev->type != V_MAP)
        return fail_reason(reason, n, "a CloudEvent must be a JSON object, got %s",
                           vtype_name(ev->type));
    const value *v;
    if (!ce_string(ev, "specversion", true, &v, reason, n))
        return false;
    if (strcmp(value_str(v), "1.0") != 0)
        return fail_reason(reason, n, "unsupported specversion '%.40s' (expected \"1.0\")",
                           value_str(v));
    for (size_t i = 0; i < value_map_len(ev); i++) {
        const value *k = value_map_key_at(ev, i);
        const char *name = value_str(k);
        size_t len = value_strlen(k);
        if (strcmp(name, "data") == 0 || strcmp(name, "data_base64") == 0)
            continue;
        bool ok = len > 0;
        for (size_t j = 0; j < len && ok; j++)
            ok = (name[j] >= 'a' && name[j] <= 'z') || is_digit(name[j]);
        if (!ok)
            return fail_reason(reason, n,
                               "attribute name '%.60s' is not made of lowercase letters and digits",
                               name);
    }
    if (!ce_string(ev, "id", true, &v, reason, n))
        return false;
    if (!ce_string(ev, "source", true, &v, reason, n))
        return false;
    if (!uri_reference_ok(value_str(v), value_strlen(v)))
        return fail_reason(reason, n, "attribute 'source' is not a URI-reference: '%.80s'",
                           value_str(v));
    if (!ce_string(ev, "type", true, &v, reason, n))
        return false;
    if (!ce_string(ev, "datacontenttype", false, &v, reason, n))
        return false;
    if (v && !media_type_ok(value_str(v), value_strlen(v)))
        return fail_reason(reason, n,
                           "attribute 'datacontenttype' is not a media type (RFC 2046 type/subtype): '%.80s'",
                           value_str(v));
    if (!ce_string(ev, "dataschema", false, &v, reason, n))
        return false;
    if (v && !uri_absolute_ok(value_str(v), value_strlen(v)))
        return fail_reason(reason, n, "attribute 'dataschema' is not an absolute URI: '%.80s'",
                           value_str(v));
    if (!ce_string(ev, "subject", false, &v, reason, n))
        return false;
    if (!ce_string(ev, "time", false, &v, reason, n))
        return false;
    if (v && !rfc3339_check(value_str(v), value_strlen(v)))
        return fail_reason(reason, n, "attribute 'time' is not an RFC 3339 timestamp: '%.80s'",
                           value_str(v));
    const value *data = ce_attr(ev, "data");
    const value *b64 = ce_attr(ev, "data_base64");
    if (data && b64)
        return fail_reason(reason, n, "has both 'data' and 'data_base64' (at most one is allowed)");
    if (b64 && (b64->type != V_STRING || !base64_ok(value_str(b64), value_strlen(b64))))
        return fail_reason(reason, n, "'data_base64' must be a base64 string");
    static const char *const core[] = {"specversion", "id", "source", "type", "datacontenttype",
                                       "dataschema", "subject", "time", "data", "data_base64"};
    for (size_t i = 0; i < value_map_len(ev); i++) {
        const char *name = value_str(value_map_key_at(ev, i));
        bool is_core = false;
        for (size_t j = 0; j < sizeof core / sizeof core[0] && !is_core; j++)
            is_core = strcmp(name, core[j]) == 0;
        if (is_core)
            continue;
        const value *x = value_map_val_at(ev, i);
        switch (x->type) {
        case V_NULL:
        case V_STRING:
        case V_BOOL:
            break;
        case V_INT:
            if (x->u.i < INT32_MIN || x->u.i > INT32_MAX)
                return fail_reason(reason, n,
                                   "extension attribute '%.40s' is an integer outside the 32-bit range",
                                   name);
            break;
        default:
            return fail_reason(reason, n,
                               "extension attribute '%.40s' must be a string, an integer or a boolean, got %s",
                               name, vtype_name(x->type));
        }
    }
    return true;
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
    json_error je;
    memset(&je, 0, sizeof je);
    if (json_parse(text->buf, text->len, &r->doc, &je) != ST_OK) {
        err_set(e, ST_ERR, "%s:%lld:%d: error: invalid JSON: %s", r->name,
                (long long)(r->doc_line + je.line - 1), je.column, je.msg);
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
                err_set(e, ST_ERR, "%s: error: records path '%s': '%.*s' is inside a %s, not an object",
                        r->name, r->records_path, (int)n, p, vtype_name(v->type));
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
                err_set(e, ST_ERR, "%s: error: records path '%s': no key '%s' in the document%s%s%s",
                        r->name, r->records_path, want, mean ? " (did you mean '" : "",
                        mean ? mean : "", mean ? "'?)" : "");
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
            err_set(e, ST_ERR,
                    "%s: error: the document is an object, not an array of records; name the array with `records:`%s%s",
                    r->name, sb.len ? " (arrays found at: " : "", sb.len ? sb.buf : "");
            if (sb.len)
                strncat(e->msg, ")", sizeof e->msg - strlen(e->msg) - 1);
            sb_done(&sb);
        } else {
            err_set(e, ST_ERR, "%s: error: records %s%s%s is a %s, not an array", r->name,
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
        err_set(e, ST_ERR, "%s: error: empty file (expected a JSON document)", r->name);
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
    if (r->format == SRC_CLOUDEVENTS && !cloudevents_check(item, rec->reason, sizeof rec->reason)) {
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
        json_error je;
        memset(&je, 0, sizeof je);
        value v;
        if (json_parse(r->linebuf.buf, r->linebuf.len, &v, &je) != ST_OK) {
            rec->bad = true;
            snprintf(rec->reason, sizeof rec->reason, "invalid JSON at column %d: %s", je.column,
                     je.msg);
            return 1;
        }
        if (r->format == SRC_CLOUDEVENTS && !cloudevents_check(&v, rec->reason, sizeof rec->reason)) {
            rec->bad = true;
            value_free(v);
            return 1;
        }
        r->cur = v;
        rec->v = v;
        return 1;
    }
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
    sb_reset(f);
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
 * (*bad set, reason filled, when it is malformed), 0 at the end, -1 on error.
 * *blank_line is set for an empty line. */
static int csv_read(struct reader *r, bool *bad, char *reason, size_t rn, bool *blank_line,
                    err *e)
{
    size_t nf = 0;
    size_t total = 0;
    bool any = false, quoted_any = false;
    *bad = false;
    *blank_line = false;
    const int delim = (unsigned char)r->delimiter;
    for (;;) {
        strbuf *f = csv_field(r, nf++);
        int c = in_getc(r);
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
                    snprintf(reason, rn, "unterminated quoted field (the quote opened at line %lld)",
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
                if (++total > READER_MAX_LINE) {
                    err_set(e, ST_ERR, "%s:%lld: error: CSV record longer than %u bytes", r->name,
                            (long long)opened, READER_MAX_LINE);
                    return -1;
                }
            }
            if (c == '\r') {
                c = in_getc(r);
                if (c != '\n' && c != IN_ERROR) {
                    *bad = true;
                    snprintf(reason, rn, "a carriage return after the closing quote of field %zu is not followed by a line feed",
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
                snprintf(reason, rn, "unexpected '%c' after the closing quote of field %zu (a quote inside a quoted field is written \"\")",
                         c, nf);
            else
                snprintf(reason, rn, "unexpected byte 0x%02x after the closing quote of field %zu", c, nf);
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
            const unsigned char *p = r->data + r->pos, *end = r->data + r->len, *q = p;
            while (q < end && *q != delim && *q != '\n')
                q++;
            sb_add(f, (const char *)p, (size_t)(q - p));
            total += (size_t)(q - p);
            r->pos += (size_t)(q - p);
            if (total > READER_MAX_LINE) {
                err_set(e, ST_ERR, "%s:%lld: error: CSV record longer than %u bytes", r->name,
                        (long long)r->line + 1, READER_MAX_LINE);
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
    if (nf == 1 && !quoted_any && r->fields[0].len == 0)
        *blank_line = true;
    return 1;
}

static int open_csv(struct reader *r, err *e)
{
    bool bad, blank_line;
    char reason[300];
    int rc;
    do {
        rc = csv_read(r, &bad, reason, sizeof reason, &blank_line, e);
    } while (rc == 1 && blank_line && !bad);
    if (rc <= 0)
        return rc; /* an empty file: no header, no records */
    if (bad) {
        err_set(e, ST_ERR, "%s:%lld: error: header row: %s", r->name, (long long)r->line, reason);
        return -1;
    }
    r->ncols = r->nfields;
    r->hkeys = xcalloc(r->ncols, sizeof *r->hkeys);
    for (size_t i = 0; i < r->ncols; i++) {
        strbuf *f = &r->fields[i];
        if (!utf8_valid(f->buf, f->len)) {
            err_set(e, ST_ERR, "%s:%lld: error: header row: column %zu's name is not valid UTF-8",
                    r->name, (long long)r->line, i + 1);
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (value_strlen(&r->hkeys[k]) == f->len &&
                (f->len == 0 || memcmp(value_str(&r->hkeys[k]), f->buf, f->len) == 0)) {
                err_set(e, ST_ERR, "%s:%lld: error: header row: duplicate column name '%.80s' (columns %zu and %zu)",
                        r->name, (long long)r->line, f->buf, k + 1, i + 1);
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
        int rc = csv_read(r, &bad, rec->reason, sizeof rec->reason, &blank_line, e);
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
            snprintf(rec->reason, sizeof rec->reason, "row has %zu field%s, the header has %zu",
                     r->nfields, r->nfields == 1 ? "" : "s", r->ncols);
            return 1;
        }
        for (size_t i = 0; i < r->ncols; i++)
            if (!utf8_valid(r->fields[i].buf, r->fields[i].len)) {
                rec->bad = true;
                snprintf(rec->reason, sizeof rec->reason, "field '%.60s' is not valid UTF-8",
                         value_str(&r->hkeys[i]));
                return 1;
            }
        value m = value_map(r->ncols);
        for (size_t i = 0; i < r->ncols; i++)
            value_map_setv(&m, value_ref(&r->hkeys[i]),
                           value_string(r->fields[i].buf, r->fields[i].len));
        r->cur = m;
        rec->v = m;
        return 1;
    }
}

/* ---- public ---------------------------------------------------------------------------- */

static struct reader *reader_new(const char *name, const struct reader_options *o, err *e)
{
    if (o->format == SRC_CSV && (o->delimiter == '"' || o->delimiter == '\n' || o->delimiter == '\r')) {
        err_set(e, ST_USAGE, "%s: error: a CSV delimiter may not be a quote or a line break", name);
        return NULL;
    }
    struct reader *r = xcalloc(1, sizeof *r);
    r->name = xstrdup(name);
    r->format = o->format;
    r->delimiter = o->delimiter ? o->delimiter : ',';
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
                err_set(e, ST_ERR, "%s: error: is a folder, not a file", path);
                reader_close(r);
                return NULL;
            }
            r->total = (uint64_t)st.st_size;
        }
        r->gz = gzopen(path, "rb");
    }
    if (!r->gz) {
        err_set(e, ST_ERR, "%s: error: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
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
    value_free(r->cur);
    r->cur = value_null();
    rec->v = value_null();
    rec->line = 0;
    rec->index = 0;
    rec->bad = false;
    rec->reason[0] = '\0';
    rec->raw = NULL;
    rec->raw_len = 0;
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
    if (rec->line > 0)
        sb_addf(sb, "%s:%lld", r->name, (long long)rec->line);
    else
        sb_addf(sb, "%s:[%lld]", r->name, (long long)rec->index);
}
