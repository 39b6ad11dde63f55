/* instant.c: CEL's timestamps and durations as numbers and text (instant.h):
 * the strict and the lenient readers of ISO-8601 date-times, the canonical text
 * the store keeps, calendar fields in UTC or at a fixed offset, checked
 * arithmetic, and Go's duration syntax, which CEL's duration() takes. The
 * calendar itself is util.c's (time_days_from_civil), so no time zone or locale
 * of the machine can leak in. */
#include "instant.h"

#include <stdio.h>
#include <string.h>

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* An offset at s[p..len): 'Z', +hh:mm, +hhmm or +hh, to the end of the text. */
static bool read_offset(const char *s, size_t len, size_t p, int *offset_sec)
{
    if (p + 1 == len && (s[p] == 'Z' || s[p] == 'z')) {
        *offset_sec = 0;
        return true;
    }
    if (p >= len || (s[p] != '+' && s[p] != '-'))
        return false;
    int sign = s[p] == '-' ? -1 : 1;
    int oh, om = 0;
    if (!parse_digits(s, len, p + 1, 2, &oh))
        return false;
    size_t q = p + 3;
    if (q < len && s[q] == ':')
        q++;
    if (q < len) {
        if (!parse_digits(s, len, q, 2, &om) || q + 2 != len)
            return false;
    } else if (q != len || s[q - 1] == ':') {
        return false;
    }
    if (oh > 23 || om > 59)
        return false;
    *offset_sec = sign * (oh * 3600 + om * 60);
    return true;
}

static bool parse(const char *s, size_t len, bool lenient, int64_t *sec, int32_t *ns)
{
    int y, mo, d, h = 0, mi = 0, se = 0, offset = 0;
    int32_t frac = 0;
    if (len < 10 || !parse_digits(s, len, 0, 4, &y) || s[4] != '-' ||
        !parse_digits(s, len, 5, 2, &mo) || s[7] != '-' || !parse_digits(s, len, 8, 2, &d))
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return false;
    size_t p = 10;
    if (p == len) {
        if (!lenient)
            return false; /* a date is a day, not an instant */
    } else {
        if (s[p] != 'T' && s[p] != 't' && s[p] != ' ')
            return false;
        p++;
        if (!parse_digits(s, len, p, 2, &h) || p + 2 >= len || s[p + 2] != ':' ||
            !parse_digits(s, len, p + 3, 2, &mi))
            return false;
        p += 5;
        if (p < len && s[p] == ':') {
            if (!parse_digits(s, len, p + 1, 2, &se))
                return false;
            p += 3;
            if (p < len && (s[p] == '.' || s[p] == ',')) {
                size_t start = ++p;
                int32_t scale = 100000000;
                while (p < len && s[p] >= '0' && s[p] <= '9') {
                    if (p - start >= 9)
                        return false;
                    frac += (s[p] - '0') * scale;
                    scale /= 10;
                    p++;
                }
                if (p == start)
                    return false;
            }
        }
        if (h > 23 || mi > 59 || se > 59)
            return false;
        if (p == len) {
            if (!lenient)
                return false; /* without an offset the text names no instant */
        } else if (!read_offset(s, len, p, &offset)) {
            return false;
        }
    }
    int64_t days = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t t = ((days * 24 + h) * 60 + mi) * 60 + se - offset;
    if (!instant_in_range(t))
        return false; /* 0001-01-01T00:30:00+01:00 is in year 0 */
    *sec = t;
    *ns = frac;
    return true;
}

bool instant_parse(const char *s, size_t len, int64_t *sec, int32_t *ns)
{
    return parse(s, len, false, sec, ns);
}

bool instant_parse_stored(const char *s, size_t len, int64_t *sec, int32_t *ns)
{
    return parse(s, len, true, sec, ns);
}

bool instant_in_range(int64_t sec)
{
    return sec >= INSTANT_MIN_SEC && sec <= INSTANT_MAX_SEC;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void instant_split(int64_t sec, int32_t ns, int offset_sec, struct instant_fields *f)
{
    int64_t t = sec + offset_sec;
    int64_t days = floor_div(t, 86400);
    int64_t rem = t - days * 86400;
    int64_t y;
    unsigned m, d;
    time_civil_from_days(days, &y, &m, &d);
    f->year = (int)y;
    f->month = (int)m;
    f->mday = (int)d;
    f->yday = (int)(days - time_days_from_civil(y, 1, 1));
    f->wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    f->hour = (int)(rem / 3600);
    f->minute = (int)(rem / 60 % 60);
    f->second = (int)(rem % 60);
    f->ns = ns;
}

static void put_digits(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

void instant_format(int64_t sec, int32_t ns, char out[INSTANT_TEXT_LEN + 1])
{
    struct instant_fields f;
    instant_split(sec, ns, 0, &f);
    if (f.year >= 0 && ns >= 0 && INSTANT_TEXT_LEN == 24) {
        /* by hand: snprintf was a sixth of a projection's dry run (a time per event) */
        memcpy(out, "0000-00-00T00:00:00.000Z", 25);
        put_digits(out, f.year % 10000, 4);
        put_digits(out + 5, f.month, 2);
        put_digits(out + 8, f.mday, 2);
        put_digits(out + 11, f.hour, 2);
        put_digits(out + 14, f.minute, 2);
        put_digits(out + 17, f.second, 2);
        put_digits(out + 20, (int)(ns / 1000000), 3);
        return;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", f.year % 10000, f.month,
             f.mday, f.hour, f.minute, f.second, (int)(ns / 1000000));
    memcpy(out, tmp, INSTANT_TEXT_LEN);
    out[INSTANT_TEXT_LEN] = '\0';
}

bool instant_is_canonical(const char *s, size_t len)
{
    /* util.h's check of the store's time text, and a year from 0001 on */
    return len == INSTANT_TEXT_LEN && time_canonical_ms(s, len, NULL) && memcmp(s, "0000", 4) != 0;
}

bool instant_zone(const char *s, size_t len, int *offset_sec)
{
    if ((len == 3 && (memcmp(s, "UTC", 3) == 0 || memcmp(s, "GMT", 3) == 0)) ||
        (len == 1 && (s[0] == 'Z' || s[0] == 'z'))) {
        *offset_sec = 0;
        return true;
    }
    return len > 1 && s[0] != 'Z' && s[0] != 'z' && read_offset(s, len, 0, offset_sec);
}

bool instant_add(int64_t sec, int32_t ns, int64_t d, int64_t *osec, int32_t *ons)
{
    int64_t s = sec + d / NS_PER_SEC; /* no overflow: |sec| < 2^38 and |d / 1e9| < 2^34 */
    int64_t n = ns + d % NS_PER_SEC;
    if (n < 0) {
        n += NS_PER_SEC;
        s--;
    } else if (n >= NS_PER_SEC) {
        n -= NS_PER_SEC;
        s++;
    }
    if (!instant_in_range(s))
        return false;
    *osec = s;
    *ons = (int32_t)n;
    return true;
}

bool instant_diff(int64_t asec, int32_t ans, int64_t bsec, int32_t bns, int64_t *d)
{
    int64_t s, r;
    if (__builtin_mul_overflow(asec - bsec, NS_PER_SEC, &s) ||
        __builtin_add_overflow(s, (int64_t)ans - bns, &r))
        return false;
    *d = r;
    return true;
}

int instant_cmp(int64_t asec, int32_t ans, int64_t bsec, int32_t bns)
{
    if (asec != bsec)
        return asec < bsec ? -1 : 1;
    return ans < bns ? -1 : ans > bns;
}

/* ---- durations ---- */

static bool unit_at(const char *s, size_t len, size_t *p, int64_t *unit)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {
        {"ns", 1},           {"us", 1000},      {"\xc2\xb5s", 1000}, /* µs, micro sign */
        {"\xce\xbcs", 1000},                                         /* μs, Greek mu */
        {"ms", 1000000},     {"s", NS_PER_SEC}, {"m", 60 * NS_PER_SEC}, {"h", 3600 * NS_PER_SEC}};
    /* Longest first among those that match, so "ms" is not read as "m". */
    size_t best = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].name);
        if (n > best && *p + n <= len && memcmp(s + *p, units[i].name, n) == 0) {
            best = n;
            *unit = units[i].ns;
        }
    }
    *p += best;
    return best > 0;
}

bool duration_parse(const char *s, size_t len, int64_t *ns)
{
    size_t p = 0;
    bool neg = false;
    if (p < len && (s[p] == '-' || s[p] == '+'))
        neg = s[p++] == '-';
    if (len - p == 1 && s[p] == '0') {
        *ns = 0;
        return true;
    }
    if (p == len)
        return false;
    /* Accumulated as a magnitude in unsigned 128 bits, so that -9223372036.854775808s
     * (the most negative) fits and every overflow is seen. */
    unsigned __int128 total = 0;
    while (p < len) {
        unsigned __int128 whole = 0, frac = 0, scale = 1;
        size_t start = p;
        while (p < len && s[p] >= '0' && s[p] <= '9') {
            whole = whole * 10 + (unsigned)(s[p++] - '0');
            if (whole > ((unsigned __int128)1 << 64))
                return false;
        }
        bool had_whole = p > start;
        bool had_frac = false;
        if (p < len && s[p] == '.') {
            p++;
            while (p < len && s[p] >= '0' && s[p] <= '9') {
                had_frac = true;
                if (scale <
                    (unsigned __int128)1000000000000000000ULL) { /* further digits are below 1ns */
                    frac = frac * 10 + (unsigned)(s[p] - '0');
                    scale *= 10;
                }
                p++;
            }
        }
        if (!had_whole && !had_frac)
            return false;
        int64_t unit;
        if (!unit_at(s, len, &p, &unit))
            return false;
        total += whole * (uint64_t)unit + frac * (uint64_t)unit / scale;
        if (total > ((unsigned __int128)1 << 63))
            return false;
    }
    if (!neg && total > (unsigned __int128)INT64_MAX)
        return false;
    *ns = neg ? (int64_t)(0 - (uint64_t)total) : (int64_t)total;
    return true;
}

size_t duration_format(int64_t ns, char out[DURATION_TEXT_MAX])
{
    uint64_t mag = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
    uint64_t whole = mag / (uint64_t)NS_PER_SEC, frac = mag % (uint64_t)NS_PER_SEC;
    int n =
        snprintf(out, DURATION_TEXT_MAX, "%s%llu", ns < 0 ? "-" : "", (unsigned long long)whole);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, "%09llu", (unsigned long long)frac);
        size_t k = 9;
        while (f[k - 1] == '0')
            k--;
        n += snprintf(out + n, DURATION_TEXT_MAX - (size_t)n, ".%.*s", (int)k, f);
    }
    n += snprintf(out + n, DURATION_TEXT_MAX - (size_t)n, "s");
    return (size_t)n;
}
