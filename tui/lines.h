/* lines.h: the line-list base the views share: a list of owned lines (text and
 * attribute), a scroll position over a list of any length, the movement requests
 * applied to it, and drawing. A list is scrolled either with a cursor (a line is
 * selected: domain, streams, projections) or as a pager (no selection: j/k move
 * the text, as in help and a stream's detail). */
#ifndef STRATA_TUI_LINES_H
#define STRATA_TUI_LINES_H

#include "core/value.h"
#include "tui/draw.h"
#include "tui/request.h"
#include "tui/views.h"

/* A list of owned lines, for views that prepare text. */
struct lines {
    char **items;
    attr_t *attrs;
    size_t len, cap;
};
void lines_init(struct lines *l);
void lines_done(struct lines *l);
void lines_clear(struct lines *l);
void lines_add(struct lines *l, attr_t attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds each line of a multi-line text, indented. */
void lines_add_text(struct lines *l, attr_t attr, const char *indent, const char *text);

/* A cursor over n lines shown h at a time. */
struct scroll {
    long top, cur;
};
/* Keeps cur within 0..n-1 and visible in a window of h lines. */
static inline void scroll_fix(struct scroll *sc, long n, long h)
{
    if (sc->cur >= n)
        sc->cur = n - 1;
    if (sc->cur < 0)
        sc->cur = 0;
    if (h < 1)
        h = 1;
    if (sc->cur < sc->top)
        sc->top = sc->cur;
    if (sc->cur >= sc->top + h)
        sc->top = sc->cur - h + 1;
    if (sc->top > n - h)
        sc->top = n - h;
    if (sc->top < 0)
        sc->top = 0;
}
/* Moves a cursor for the movement requests; returns false for other requests. */
bool scroll_request(struct scroll *sc, enum request req, long n, long h);
/* The same requests for a pager (no cursor): they move the first line shown, which
 * stays within 0..n-h; returns false for other requests. */
bool scroll_page_request(struct scroll *sc, enum request req, long n, long h);
/* Draws lines l in area a from sc->top, the cursor line highlighted when
 * show_cursor. */
void lines_draw(const struct lines *l, struct scroll *sc, struct area a, bool show_cursor);
/* Draws a pager: lines l from sc->top, no line highlighted. */
void lines_draw_page(const struct lines *l, struct scroll *sc, struct area a);

/* Formats a value for a cell: strings as they are, everything else as JSON. */
char *tui_value_text(const value *v);

#endif
