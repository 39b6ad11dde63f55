/* draw.h: everything the workbench puts on the screen goes through here.
 *
 * Colours are named by meaning (htop's way): a view asks for TC_CURSOR or
 * TC_BAR_FILL, and the theme (theme.h) maps the meaning to attributes.
 *
 * Untrusted text (stream names, event types, data, file names, error messages that
 * quote them) is never written raw: draw_str and friends pass every string through
 * tui_sanitize, which shows control characters and escape sequences escaped (ESC
 * as \e, other C0 controls as ^X, C1 and bidi controls as \u0085, bytes that are
 * not UTF-8 as \xNN). There is no other way to put text on the screen. */
#ifndef STRATA_TUI_DRAW_H
#define STRATA_TUI_DRAW_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#include "core/util.h"

#include "tui/theme.h"

/* True when the locale is UTF-8 (then block characters are used for bars). */
bool tui_utf8(void);

/* Appends the escaped form of s[0..len) to out: printable UTF-8 passes through,
 * everything else is shown as an escape (see the header comment). */
void tui_sanitize(strbuf *out, const char *s, size_t len);

/* Draws s (sanitised) at (y, x), at most maxw columns; returns the columns used.
 * A string that does not fit ends in '~'. */
int draw_str(int y, int x, int maxw, const char *s, attr_t attr);
/* The same with printf formatting (the result is sanitised like any string). */
int draw_fmt(int y, int x, int maxw, attr_t attr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Draws s (sanitised) in at most w columns, cut in the middle when too long
 * ("Applic…ion-21": names often differ at their end); returns the columns used. */
int draw_str_mid(int y, int x, int w, const char *s, attr_t attr);
/* Draws s left-aligned in exactly w columns, padded with blanks in attr. */
void draw_field(int y, int x, int w, const char *s, attr_t attr);
/* Fills w columns with blanks in attr. */
void draw_blank(int y, int x, int w, attr_t attr);
/* Draws s (sanitised) over up to maxlines rows of w columns, breaking at blanks
 * where it can; returns the rows used. */
int draw_wrapped(int y, int x, int w, int maxlines, const char *s, attr_t attr);
/* Display width of s once sanitised. */
int text_width(const char *s);

/* An htop bar meter in w columns: "[|||||     text]", the fill ceil(value/total*width)
 * in fill_color, the rest in the shadow colour, text right-aligned inside. */
void draw_meter(int y, int x, int w, double value, double total, enum tui_color fill_color,
                const char *text);

/* A sparkline of n samples in w columns (the newest at the right). */
void draw_sparkline(int y, int x, int w, const double *samples, int n, attr_t attr);
/* One block character for a level 0..8 (UTF-8 blocks, or ASCII without UTF-8). */
const char *tui_block(int level);

#endif
