/* verb_pane.h: runs a verb shared with the command line (verbs/verb.h) in the
 * workbench, on its domain and store and as of its scrubber, and keeps what the
 * verb printed for the output pane (view_output.c). */
#ifndef STRATA_TUI_VERB_PANE_H
#define STRATA_TUI_VERB_PANE_H

#include <stdint.h>

#include "tui/lines.h"
#include "tui/words.h"
#include "verbs/verb.h"

struct tui;

/* Runs def with the words w (w->v[0] is the verb's name); line is what was typed,
 * the pane's title. */
void verb_pane_run(struct tui *app, const struct verb_def *def, struct words *w, const char *line);
/* The output pane's lines (NULL before the first verb ran) and which run they are
 * from (a new run starts at its top). */
const struct lines *verb_pane_lines(uint64_t *run);

/* Starts the output pane afresh with a title, for a report of the workbench's own
 * (a domain reload); verb_pane_add adds its lines (error: in the error colour). */
void verb_pane_report(struct tui *app, const char *title);
void verb_pane_add(bool error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last run's lines name positions (`:why`, `:bisect`): the output pane then
 * has a cursor, and Enter on a line moves the timeline to its "position". */
bool verb_pane_jumps(void);

#endif
