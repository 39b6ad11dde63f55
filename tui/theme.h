/* theme.h: the workbench's colours, named by meaning (htop's way), and the themes
 * that map each meaning to attributes. A view asks for TC_CURSOR or TC_BAR_FILL,
 * never for a colour. Themes: dark (the default), light (for light backgrounds)
 * and mono (bold, reverse, underline and dim only); STRATA_THEME picks one and
 * NO_COLOR (https://no-color.org: any non-empty value) forces mono. Every
 * meaning also reads without colour, so nothing depends on colour alone. */
#ifndef STRATA_TUI_THEME_H
#define STRATA_TUI_THEME_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <stdbool.h>

#define TUI_COLORS(C)                                                                              \
    C(NORMAL)                                                                                      \
    C(HEADER)        /* the header line */                                                         \
    C(HEADER_KEY)    /* the names in it */                                                         \
    C(TAB)           /* an inactive view tab */                                                    \
    C(TAB_ACTIVE)    /* the current view's tab */                                                  \
    C(TITLE)         /* a pane's title */                                                          \
    C(CURSOR)        /* the selected line */                                                       \
    C(ASOF)          /* the "as of" banner: history, not now */                                    \
    C(ERROR)         /* error messages, rejections, failed projections */                          \
    C(OK)            /* success */                                                                 \
    C(DIM)           /* secondary text */                                                          \
    C(KEY)           /* key names in help and hints */                                             \
    C(LABEL)         /* field and column names */                                                  \
    C(BAR_BORDER)    /* the [ ] around a meter */                                                  \
    C(BAR_FILL)      /* the done part of a meter */                                                \
    C(BAR_SHADOW)    /* the rest of a meter */                                                     \
    C(METER_TEXT)    /* numbers inside a meter */                                                  \
    C(STATUS_LIVE)   /* projection status: live */                                                 \
    C(STATUS_BUSY)   /* catching up, rebuilding */                                                 \
    C(STATUS_PAUSED) /* paused by a person */                                                      \
    C(SCRUB_HIST)    /* the scrubber's density histogram */                                        \
    C(SCRUB_MARK)    /* the scrubber's current position */                                         \
    C(FIELD)         /* an input field */                                                          \
    C(FIELD_FOCUS)   /* the input field being edited */                                            \
    C(CHANGE)        /* what an event changed in a state */

enum tui_color {
#define TC_ENUM(n) TC_##n,
    TUI_COLORS(TC_ENUM)
#undef TC_ENUM
        TC_COUNT
};

enum tui_theme { THEME_DARK, THEME_LIGHT, THEME_MONO };

/* The theme named by STRATA_THEME (dark|light|mono) and NO_COLOR; an unknown
 * name is the default (dark) and *bad is set to it, for a message. */
enum tui_theme theme_from_env(const char **bad);
/* Chooses the scheme: the theme's colours when the terminal has them (else its
 * monochrome attributes). Call after the screen is initialised. */
void tui_colors_init(enum tui_theme theme);
/* The attribute for a meaning in the active scheme. */
attr_t tui_attr(enum tui_color c);

#endif
