/* util.c: allocation wrappers, string buffers, errors, time text, small helpers. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "strata: out of memory (wanted %zu bytes)\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    strbuf sb;
    sb_init(&sb);
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    return sb_steal(&sb);
}

/* Copies what has been formatted into msg (truncating), keeping msg's invariant:
 * msg is the place prefix then what went wrong, and msg + what is the latter. */
static void err_store(err *e, const strbuf *place, const char *fmt, va_list ap)
{
    size_t n = place->len < sizeof e->msg - 1 ? place->len : sizeof e->msg - 1;
    if (n)
        memcpy(e->msg, place->buf, n);
    e->msg[n] = '\0';
    e->what = n;
    vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
}

static void err_forget_place(err *e)
{
    e->file[0] = '\0';
    e->line = 0;
    e->col = 0;
    e->offset = 0;
    e->what = 0;
}

int err_set(err *e, int code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    err_forget_place(e);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

void err_format_place(strbuf *sb, const char *file, int64_t line, int col)
{
    if (!file || !file[0])
        return;
    sb_adds(sb, file);
    if (line > 0) {
        sb_addf(sb, ":%lld", (long long)line);
        if (col > 0)
            sb_addf(sb, ":%d", col);
    }
    sb_adds(sb, ": error: ");
}

int err_vset_at(err *e, int code, const char *file, int64_t line, int col, const char *fmt,
                va_list ap)
{
    if (!e)
        return code;
    strbuf place; /* built first: file may be e->file itself (placing an error again) */
    sb_init(&place);
    err_format_place(&place, file, line, col);
    if (!file)
        e->file[0] = '\0';
    else if (file != e->file)
        snprintf(e->file, sizeof e->file, "%s", file);
    e->code = code;
    e->line = line > 0 ? line : 0;
    e->col = col > 0 ? col : 0;
    e->offset = 0;
    err_store(e, &place, fmt, ap);
    sb_done(&place);
    return code;
}

int err_set_at(err *e, int code, const char *file, int64_t line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset_at(e, code, file, line, col, fmt, ap);
    va_end(ap);
    return code;
}

const char *err_what(const err *e)
{
    size_t n = strnlen(e->msg, sizeof e->msg);
    return e->msg + (e->what < n ? e->what : n);
}

void err_prefix(err *e, const char *fmt, ...)
{
    if (!e)
        return;
    char prefix[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t at = err_what(e) - e->msg; /* the place, if any, stays in front */
    strbuf sb;
    sb_init(&sb);
    sb_add(&sb, old, at);
    sb_addf(&sb, "%s: %s", prefix, old + at);
    size_t n = sb.len < sizeof e->msg - 1 ? sb.len : sizeof e->msg - 1;
    memcpy(e->msg, sb.buf, n);
    e->msg[n] = '\0';
    sb_done(&sb);
}

void err_clear(err *e)
{
    if (e) {
        e->code = ST_OK;
        err_forget_place(e);
        e->msg[0] = '\0';
    }
}

void sb_init(strbuf *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void sb_done(strbuf *sb)
{
    free(sb->buf);
    sb_init(sb);
}

void sb_reset(strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

void sb_grow_to(strbuf *sb, size_t need)
{
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    sb->buf = xrealloc(sb->buf, cap);
    sb->cap = cap;
}

void sb_adds(strbuf *sb, const char *s)
{
    sb_add(sb, s, strlen(s));
}

void sb_vaddf(strbuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        sb_add(sb, small, (size_t)n);
    } else {
        sb_grow_to(sb, sb->len + (size_t)n + 1);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
        sb->len += (size_t)n;
    }
    va_end(ap2);
}

void sb_addf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(sb, fmt, ap);
    va_end(ap);
}

char *sb_steal(strbuf *sb)
{
    char *p = sb->buf ? sb->buf : xstrdup("");
    sb_init(sb);
    return p;
}

int read_file(const char *path, char **out, size_t *len, err *e)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return err_set(e, ST_ERR, "%s: cannot open: %s", path, strerror(errno));
    strbuf sb;
    sb_init(&sb);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sb_add(&sb, chunk, n);
    int failed = ferror(f);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (failed) {
        sb_done(&sb);
        return err_set(e, ST_ERR, "%s: cannot read: %s", path, strerror(saved));
    }
    if (!sb.buf)
        sb_add(&sb, "", 0);
    *len = sb.len;
    *out = sb_steal(&sb);
    return ST_OK;
}

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm),
 * so no time zone or locale of the machine can leak in. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

void time_format_ms(int64_t ms, char out[TIME_TEXT_LEN + 1])
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned mo, d;
    time_civil_from_days(days, &y, &mo, &d);
    if (y < 0 || y > 9999) {
        y = y < 0 ? 0 : 9999;
    }
    unsigned r = (unsigned)rem; /* 0 .. 86399999 */
    /* By hand, two digits at a time: snprintf was 7% of a mapped import. */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    unsigned yy = (unsigned)y % 10000u, ms3 = r % 1000u, secs = r / 1000u;
    unsigned f[6] = {yy / 100u, yy % 100u,           mo % 100u,
                     d % 100u,  secs / 3600u % 100u, secs / 60u % 60u};
    static const char after[6] = {0, '-', '-', 'T', ':', ':'};
    char *o = out;
    for (int i = 0; i < 6; i++) {
        memcpy(o, pairs + 2 * f[i], 2);
        o += 2;
        if (after[i])
            *o++ = after[i];
    }
    memcpy(o, pairs + 2 * (secs % 60u), 2);
    o[2] = '.';
    o[3] = (char)('0' + ms3 / 100u);
    memcpy(o + 4, pairs + 2 * (ms3 % 100u), 2);
    o[6] = 'Z';
    out[TIME_TEXT_LEN] = '\0';
}

bool parse_digits(const char *s, size_t len, size_t at, size_t n, int *out)
{
    if (at + n > len)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

bool time_parse(const char *s, size_t len, int default_offset_min, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t p = 0;
    if (!parse_digits(s, len, 0, 4, &y) || len < 10 || s[4] != '-' ||
        !parse_digits(s, len, 5, 2, &mo) || s[7] != '-' || !parse_digits(s, len, 8, 2, &d))
        return false;
    p = 10;
    int64_t frac_ms = 0;
    int offset = default_offset_min;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d > mdays[mo - 1])
        return false;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    if (p < len) {
        if (s[p] != 'T' && s[p] != 't' && s[p] != ' ')
            return false;
        p++;
        if (!parse_digits(s, len, p, 2, &h) || p + 2 >= len || s[p + 2] != ':' ||
            !parse_digits(s, len, p + 3, 2, &mi))
            return false;
        p += 5;
        if (p < len && s[p] == ':') {
            if (!parse_digits(s, len, p + 1, 2, &sec))
                return false;
            p += 3;
            if (p < len && (s[p] == '.' || s[p] == ',')) {
                p++;
                size_t start = p;
                int64_t scale = 100;
                while (p < len && s[p] >= '0' && s[p] <= '9') {
                    if (p - start < 3) {
                        frac_ms += (s[p] - '0') * scale;
                        scale /= 10;
                    }
                    p++;
                }
                if (p == start || p - start > 9)
                    return false;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return false;
        if (p < len) {
            if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == len) {
                offset = 0;
                p++;
            } else if (s[p] == '+' || s[p] == '-') {
                int oh, om;
                int sign = s[p] == '-' ? -1 : 1;
                if (!parse_digits(s, len, p + 1, 2, &oh))
                    return false;
                if (p + 3 < len && s[p + 3] == ':') {
                    if (!parse_digits(s, len, p + 4, 2, &om) || p + 6 != len)
                        return false;
                } else if (p + 5 == len) {
                    if (!parse_digits(s, len, p + 3, 2, &om))
                        return false;
                } else if (p + 3 == len) {
                    om = 0;
                } else {
                    return false;
                }
                if (oh > 23 || om > 59)
                    return false;
                offset = sign * (oh * 60 + om);
                p = len;
            } else {
                return false;
            }
        }
    }
    int64_t days = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t t = ((days * 24 + h) * 60 + mi) * 60 + sec;
    *ms = t * 1000 + frac_ms - (int64_t)offset * 60000;
    return true;
}

bool time_canonical_ms(const char *s, size_t len, int64_t *ms)
{
    /* The shape "dddd-dd-ddTdd:dd:dd.dddZ", eight bytes at a time (a loop over a
     * pattern string was ~300 instructions an import row): where the pattern has
     * a digit, the byte's high nibble must be 3 and its low one at most 9 (+6
     * does not reach 0x10); elsewhere the byte must be the pattern's. */
    if (len != TIME_TEXT_LEN)
        return false;
    static const char pattern[TIME_TEXT_LEN] = "0000-00-00T00:00:00.000Z";
    static const unsigned char digit[TIME_TEXT_LEN] = {
        0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0, 0xff, 0xff, 0,    0xff,
        0xff, 0,    0xff, 0xff, 0, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0};
    const uint64_t hi = 0xf0f0f0f0f0f0f0f0ULL, lo = 0x0f0f0f0f0f0f0f0fULL;
    uint64_t bad = 0;
    for (int i = 0; i < TIME_TEXT_LEN; i += 8) {
        uint64_t w, p, m;
        memcpy(&w, s + i, 8);
        memcpy(&p, pattern + i, 8);
        memcpy(&m, digit + i, 8);
        bad |= (w ^ p) & ~m;
        bad |= (((w & hi) ^ 0x3030303030303030ULL) | (((w & lo) + 0x0606060606060606ULL) & hi)) & m;
    }
    if (bad)
        return false;
#define F2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    int y = F2(0) * 100 + F2(2), mo = F2(5), d = F2(8), h = F2(11), mi = F2(14), sec = F2(17);
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return false;
#undef F2
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return false;
    if (!ms)
        return true;
    int frac = (s[20] - '0') * 100 + (s[21] - '0') * 10 + (s[22] - '0');
    int64_t days = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = (((days * 24 + h) * 60 + mi) * 60 + sec) * 1000 + frac;
    return true;
}

uint64_t hash_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Optimal string alignment (Damerau-Levenshtein without moving a letter twice):
 * insertions, deletions, substitutions and swaps of two neighbours ("cvs" for
 * "csv") each count 1. Three rows of the table are enough: a swap looks back two. */
int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int *rows = xmalloc(3 * (lb + 1) * sizeof *rows);
    int *pp = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < best)
                best = pp[j - 2] + 1;
            cur[j] = best;
        }
        int *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    int d = prev[lb];
    free(rows);
    return d;
}

static bool same_ignoring_case(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y || !x)
            return x == y;
    }
    return true;
}

const char *did_you_mean(const char *word, const char *const *candidates, size_t n)
{
    /* How plausible a candidate is, best first: the same but for case (0), a few
     * edits away (1), or what the word starts to spell (2). Within a class, fewer
     * edits (or fewer letters left to type) win, then the earlier candidate. */
    size_t wl = strlen(word);
    if (wl == 0)
        return NULL; /* nothing typed means nothing in particular */
    int limit = wl / 3 > 1 ? (int)(wl / 3) : 1;
    const char *best = NULL;
    int best_class = 3, best_d = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c)
            continue;
        size_t cl = strlen(c);
        int cls, d = 0;
        if (cl == wl && same_ignoring_case(word, c, wl)) {
            cls = 0;
        } else if ((cl > wl ? cl - wl : wl - cl) <= (size_t)limit &&
                   (d = edit_distance(word, c)) <= limit) {
            cls = 1;
        } else if (wl >= 3 && cl > wl && same_ignoring_case(word, c, wl)) {
            cls = 2;
            d = (int)(cl - wl);
        } else {
            continue;
        }
        if (cls < best_class || (cls == best_class && d < best_d)) {
            best = c;
            best_class = cls;
            best_d = d;
        }
    }
    return best;
}
