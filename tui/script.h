/* script.h: the script player (STRATA_SCRIPT): keys and `:` commands from a file,
 * one step a line, each after loading and projections have settled, so that a
 * scripted test sees the same screens on every machine. */
#ifndef STRATA_TUI_SCRIPT_H
#define STRATA_TUI_SCRIPT_H

struct tui;

/* Plays the script at path until its end, a quit or a stop signal. Returns ST_OK,
 * or ST_ERR with the problem in app->script_problem (printed once the terminal is
 * restored). */
int script_run(struct tui *app, const char *path);

#endif
