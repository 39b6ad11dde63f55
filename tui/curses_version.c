/* curses_version.c: asks the ncurses library loaded at run time for its version
 * (curses_version(3X)), which may differ from the headers Strata was built with. */
#include "tui/curses_version.h"

#include <curses.h>
#include <string.h>

const char *tui_curses_version(void)
{
    const char *v = curses_version();
    if (strncmp(v, "ncurses ", 8) == 0)
        v += 8;
    return v;
}
