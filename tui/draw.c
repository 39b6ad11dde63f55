/* draw.c: colours by meaning, the sanitiser, and the drawing primitives (draw.h). */
#include "tui/draw.h"

#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "core/utf8.h"

bool tui_utf8(void)
{
    static int cached = -1;
    if (cached < 0) {
        const char *cs = nl_langinfo(CODESET);
        cached = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    }
    return cached;
}

/* Code points that must not reach the terminal even though they are valid UTF-8:
 * C1 controls, bidirectional overrides and isolates (they reorder what follows),
 * and anything the C library does not call printable. */
static bool dangerous(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
        return true;
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
        cp == 0x200F || cp == 0x061C || cp == 0xFEFF)
        return true;
    if (cp >= 0xE000 && cp <= 0xF8FF) /* private use: unknown width */
        return false;
    return !iswprint((wint_t)cp);
}

void tui_sanitize(strbuf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            sb_addf(out, "\\x%02X", p[i]);
            i++;
            continue;
        }
        if (!dangerous(cp)) {
            sb_add(out, s + i, n);
        } else if (cp == 0x1B) {
            sb_adds(out, "\\e");
        } else if (cp == '\n') {
            sb_adds(out, "\\n");
        } else if (cp == '\t') {
            sb_adds(out, "\\t");
        } else if (cp == '\r') {
            sb_adds(out, "\\r");
        } else if (cp < 0x20) {
            sb_addc(out, '^');
            sb_addc(out, (char)(cp + '@'));
        } else if (cp == 0x7F) {
            sb_adds(out, "^?");
        } else {
            sb_addf(out, "\\u%04X", cp);
        }
        i += n;
    }
}

/* Sanitises s and converts it to wide characters, stopping at maxw columns. A
 * string cut short ends in '~'. Returns the number of wide characters in buf and
 * the width used in *used. */
static size_t to_wide(const char *s, int maxw, wchar_t *buf, size_t cap, int *used)
{
    strbuf sb;
    sb_init(&sb);
    tui_sanitize(&sb, s, strlen(s));
    size_t nw = 0;
    int w = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    const char *p = sb.buf, *end = sb.buf + sb.len;
    bool cut = false;
    while (p < end && nw + 1 < cap) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, p, (size_t)(end - p), &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            /* A locale that cannot show this character: show '?' instead. */
            memset(&st, 0, sizeof st);
            wc = L'?';
            n = 1;
        }
        int cw = wcwidth(wc);
        if (cw < 0)
            cw = 1, wc = L'?';
        if (w + cw > maxw) {
            cut = true;
            break;
        }
        buf[nw++] = wc;
        w += cw;
        p += n;
    }
    if (cut && maxw > 0) {
        while (nw > 0 && w + 1 > maxw) {
            int cw = wcwidth(buf[nw - 1]);
            w -= cw > 0 ? cw : 1;
            nw--;
        }
        buf[nw++] = L'~';
        w++;
    }
    buf[nw] = 0;
    sb_done(&sb);
    *used = w;
    return nw;
}

int draw_str(int y, int x, int maxw, const char *s, attr_t attr)
{
    if (maxw <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + maxw > COLS)
        maxw = COLS - x;
    size_t cap = (size_t)maxw * 2 + 2;
    wchar_t *buf = xmalloc(cap * sizeof *buf);
    int used;
    size_t n = to_wide(s ? s : "", maxw, buf, cap, &used);
    attr_t old_attr;
    short old_pair;
    attr_get(&old_attr, &old_pair, NULL);
    attrset(attr);
    mvaddnwstr(y, x, buf, (int)n);
    attrset(old_attr);
    free(buf);
    return used;
}

int draw_fmt(int y, int x, int maxw, attr_t attr, const char *fmt, ...)
{
    strbuf sb;
    sb_init(&sb);
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    int w = draw_str(y, x, maxw, sb.buf, attr);
    sb_done(&sb);
    return w;
}

void draw_blank(int y, int x, int w, attr_t attr)
{
    if (y < 0 || y >= LINES || x >= COLS)
        return;
    if (x + w > COLS)
        w = COLS - x;
    if (w <= 0)
        return;
    attr_t old_attr;
    short old_pair;
    attr_get(&old_attr, &old_pair, NULL);
    attrset(attr);
    mvhline(y, x, ' ', w);
    attrset(old_attr);
}

void draw_field(int y, int x, int w, const char *s, attr_t attr)
{
    int used = draw_str(y, x, w, s, attr);
    draw_blank(y, x + used, w - used, attr);
}

int draw_str_mid(int y, int x, int w, const char *s, attr_t attr)
{
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + w > COLS)
        w = COLS - x;
    size_t cap = strlen(s ? s : "") * 4 + 4;
    wchar_t *buf = xmalloc(cap * sizeof *buf);
    int used;
    size_t n = to_wide(s ? s : "", 1 << 20, buf, cap, &used);
    if (used <= w || w < 5) {
        free(buf);
        return draw_str(y, x, w, s, attr);
    }
    /* Keep the head and the tail (ids end names: Application-21), an ellipsis
     * between; the tail gets the odd column. */
    int head_w = (w - 1) / 2, tail_w = w - 1 - head_w;
    size_t h = 0;
    int hw = 0;
    while (h < n) {
        int cw = wcwidth(buf[h]) > 0 ? wcwidth(buf[h]) : 1;
        if (hw + cw > head_w)
            break;
        hw += cw;
        h++;
    }
    size_t t = n;
    int tw = 0;
    while (t > h) {
        int cw = wcwidth(buf[t - 1]) > 0 ? wcwidth(buf[t - 1]) : 1;
        if (tw + cw > tail_w)
            break;
        tw += cw;
        t--;
    }
    wchar_t *out = xmalloc((h + (n - t) + 2) * sizeof *out);
    memcpy(out, buf, h * sizeof *out);
    out[h] = tui_utf8() ? L'\x2026' : L'~';
    memcpy(out + h + 1, buf + t, (n - t) * sizeof *out);
    attr_t old_attr;
    short old_pair;
    attr_get(&old_attr, &old_pair, NULL);
    attrset(attr);
    mvaddnwstr(y, x, out, (int)(h + 1 + (n - t)));
    attrset(old_attr);
    free(out);
    free(buf);
    return hw + 1 + tw;
}

int text_width(const char *s)
{
    size_t cap = strlen(s) * 4 + 2;
    wchar_t *buf = xmalloc(cap * sizeof *buf);
    int used;
    to_wide(s, 1 << 20, buf, cap, &used);
    free(buf);
    return used;
}

const char *tui_block(int level)
{
    static const char *const blocks[9] = {" ",
                                          "\xe2\x96\x81",
                                          "\xe2\x96\x82",
                                          "\xe2\x96\x83",
                                          "\xe2\x96\x84",
                                          "\xe2\x96\x85",
                                          "\xe2\x96\x86",
                                          "\xe2\x96\x87",
                                          "\xe2\x96\x88"};
    static const char *const ascii[9] = {" ", ".", ".", ":", ":", "|", "|", "#", "#"};
    if (level < 0)
        level = 0;
    if (level > 8)
        level = 8;
    return tui_utf8() ? blocks[level] : ascii[level];
}

void draw_meter(int y, int x, int w, double value, double total, enum tui_color fill_color,
                const char *text)
{
    if (w < 3)
        return;
    int inner = w - 2;
    draw_str(y, x, 1, "[", tui_attr(TC_BAR_BORDER));
    int fill = 0;
    if (total > 0 && value > 0) {
        double f = value / total;
        if (f > 1)
            f = 1;
        fill = (int)ceil(f * inner);
        if (fill > inner)
            fill = inner;
    }
    /* htop's way: '|' for the done part, the value text written over the bar's
     * right end; without colour the fill character alone carries the meaning. */
    int tw = text ? text_width(text) : 0;
    if (tw > inner)
        tw = inner;
    int text_at = inner - tw;
    for (int i = 0; i < inner; i++) {
        if (i >= text_at && text) {
            break;
        }
        if (i < fill)
            draw_str(y, x + 1 + i, 1, "|", tui_attr(fill_color) | A_BOLD);
        else
            draw_str(y, x + 1 + i, 1, " ", tui_attr(TC_BAR_SHADOW));
    }
    if (text)
        draw_str(y, x + 1 + text_at, tw, text, tui_attr(TC_METER_TEXT));
    draw_str(y, x + w - 1, 1, "]", tui_attr(TC_BAR_BORDER));
}

void draw_sparkline(int y, int x, int w, const double *samples, int n, attr_t attr)
{
    double max = 0;
    for (int i = 0; i < n; i++)
        if (samples[i] > max)
            max = samples[i];
    for (int i = 0; i < w; i++) {
        int si = n - w + i;
        int level = 0;
        if (si >= 0 && max > 0 && samples[si] > 0)
            level = 1 + (int)(7.0 * samples[si] / max);
        draw_str(y, x + i, 1, tui_block(level > 8 ? 8 : level), attr);
    }
}

int draw_wrapped(int y, int x, int w, int maxlines, const char *s, attr_t attr)
{
    if (w < 8 || maxlines < 1)
        return 0;
    strbuf clean;
    sb_init(&clean);
    tui_sanitize(&clean, s, strlen(s));
    const char *p = clean.buf;
    int rows = 0;
    while (*p && rows < maxlines) {
        /* The longest prefix that fits, cut at a blank when there is one. */
        size_t n = strlen(p), fit = 0, blank = 0;
        while (fit < n) {
            size_t next = fit + 1;
            while (next < n && (p[next] & 0xC0) == 0x80)
                next++;
            char *part = xstrndup(p, next);
            int pw = text_width(part);
            free(part);
            if (pw > w)
                break;
            if (p[fit] == ' ')
                blank = fit;
            fit = next;
        }
        if (fit < n && blank > fit / 2 && rows + 1 < maxlines)
            fit = blank + 1;
        char *line = xstrndup(p, fit);
        bool last = rows + 1 == maxlines && fit < n;
        draw_str(y + rows, x, w, line, attr);
        if (last)
            draw_str(y + rows, x + w - 1, 1, "~", attr);
        free(line);
        p += fit;
        rows++;
        if (fit == 0)
            break;
    }
    sb_done(&clean);
    return rows;
}
