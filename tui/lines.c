/* lines.c: the line-list base the views share (lines.h): owned lines, cursor and
 * pager scrolling, drawing, and cell text for values. */
#include "tui/lines.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

void lines_init(struct lines *l)
{
    memset(l, 0, sizeof *l);
}

void lines_clear(struct lines *l)
{
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i]);
    l->len = 0;
}

void lines_done(struct lines *l)
{
    lines_clear(l);
    free(l->items);
    free(l->attrs);
    memset(l, 0, sizeof *l);
}

static void lines_push(struct lines *l, attr_t attr, char *s)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
        l->attrs = xrealloc(l->attrs, l->cap * sizeof *l->attrs);
    }
    l->items[l->len] = s;
    l->attrs[l->len++] = attr;
}

void lines_add(struct lines *l, attr_t attr, const char *fmt, ...)
{
    strbuf sb;
    sb_init(&sb);
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    lines_push(l, attr, sb_steal(&sb));
}

void lines_add_text(struct lines *l, attr_t attr, const char *indent, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lines_add(l, attr, "%s%.*s", indent, (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
}

bool scroll_request(struct scroll *sc, enum request req, long n, long h)
{
    switch (req) {
    case REQ_MOVE_UP:
        sc->cur--;
        break;
    case REQ_MOVE_DOWN:
        sc->cur++;
        break;
    case REQ_PAGE_UP:
        sc->cur -= h;
        sc->top -= h;
        break;
    case REQ_PAGE_DOWN:
        sc->cur += h;
        sc->top += h;
        break;
    case REQ_MOVE_FIRST:
        sc->cur = 0;
        break;
    case REQ_MOVE_LAST:
        sc->cur = n - 1;
        break;
    default:
        return false;
    }
    scroll_fix(sc, n, h);
    return true;
}

void lines_draw(const struct lines *l, struct scroll *sc, struct area a, bool show_cursor)
{
    scroll_fix(sc, (long)l->len, a.h);
    for (int r = 0; r < a.h; r++) {
        size_t i = (size_t)(sc->top + r);
        if (i >= l->len)
            break;
        bool cur = show_cursor && (long)i == sc->cur;
        draw_field(a.y + r, a.x, a.w, l->items[i], cur ? tui_attr(TC_CURSOR) : l->attrs[i]);
    }
}

char *tui_value_text(const value *v)
{
    if (v->type == V_STRING)
        return xstrndup(value_str(v), value_strlen(v));
    return json_to_string(v);
}

bool scroll_page_request(struct scroll *sc, enum request req, long n, long h)
{
    long maxtop = n - h > 0 ? n - h : 0;
    switch (req) {
    case REQ_MOVE_DOWN:
        sc->top++;
        break;
    case REQ_MOVE_UP:
        sc->top--;
        break;
    case REQ_PAGE_DOWN:
        sc->top += h;
        break;
    case REQ_PAGE_UP:
        sc->top -= h;
        break;
    case REQ_MOVE_FIRST:
        sc->top = 0;
        break;
    case REQ_MOVE_LAST:
        sc->top = maxtop;
        break;
    default:
        return false;
    }
    if (sc->top > maxtop)
        sc->top = maxtop;
    if (sc->top < 0)
        sc->top = 0;
    return true;
}

void lines_draw_page(const struct lines *l, struct scroll *sc, struct area a)
{
    /* No cursor: the first visible line is the cursor, so j/k scroll. */
    sc->cur = sc->top;
    lines_draw(l, sc, a, false);
}
