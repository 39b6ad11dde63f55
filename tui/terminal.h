/* terminal.h: the terminal's life cycle: starting curses on the terminal (or on
 * an in-memory screen for scripts), restoring it on every way out, and the
 * signals that end the workbench. */
#ifndef STRATA_TUI_TERMINAL_H
#define STRATA_TUI_TERMINAL_H

#include <stdbool.h>

#include "core/util.h"

/* Installs the handlers: SIGINT is taken as the key <C-c> (terminal_take_interrupt);
 * SIGTERM and SIGHUP ask the main loop to stop (terminal_stop_signal); fatal signals (SIGSEGV,
 * SIGBUS, SIGABRT, SIGFPE, SIGILL) restore the terminal and then take their course. */
void terminal_install_signals(void);
/* Starts curses on the terminal (want_tty), or on an in-memory screen of LINES x
 * COLUMNS drawn to /dev/null. On failure call terminal_restore. */
int terminal_start(bool want_tty, err *e);
/* Restores the terminal as it was; safe to call twice, and from atexit. */
void terminal_restore(void);
/* True (once) when Ctrl-C was pressed since the last call: the main loop feeds it
 * as the key <C-c>. A second Ctrl-C before it is taken stops the workbench as
 * SIGTERM does. */
bool terminal_take_interrupt(void);
/* The signal that asked the workbench to stop (SIGINT...), 0 while none has. */
int terminal_stop_signal(void);

#endif
