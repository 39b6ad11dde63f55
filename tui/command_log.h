/* command_log.h: the workbench's narrations (the Log view, view_log.c): every
 * command issued from the form or the palette is narrated step by step
 * (core/command_narrate.h) into one entry, and the entry then follows the
 * projection runner: each projection folding the new events, its lag back to 0.
 * The last COMMAND_LOG_MAX entries are kept; older ones are dropped. */
#ifndef STRATA_TUI_COMMAND_LOG_H
#define STRATA_TUI_COMMAND_LOG_H

#include <stdint.h>

#include "core/command_narrate.h"
#include "tui/lines.h"

#define COMMAND_LOG_MAX 300

struct tui;

/* Starts an entry titled `title` (what was typed or sent); the narrator returned
 * adds its lines there, until command_log_end. */
const struct command_narrator *command_log_begin(struct tui *app, const char *title);
/* Ends the entry: its exit status, and (when it appended) the head it has to be
 * folded up to, which command_log_poll then follows. */
void command_log_end(struct tui *app, int rc, int64_t appended_up_to);
/* After the projections' status was read (tui_poll): adds the folding lines to
 * the entries still waiting for them. */
void command_log_poll(struct tui *app);
/* The entries flattened into lines, newest first; *generation changes when they do. */
const struct lines *command_log_lines(uint64_t *generation);

#endif
