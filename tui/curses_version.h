/* curses_version.h: the ncurses version the workbench runs with, for
 * `strata version --verbose` (core/ never touches curses, so the query lives here). */
#ifndef STRATA_TUI_CURSES_VERSION_H
#define STRATA_TUI_CURSES_VERSION_H

/* "6.4.20221231": the library's own version string without its "ncurses " prefix. */
const char *tui_curses_version(void);

#endif
