/* palette_verbs.h: the palette's commands (verbs): `:exec`, `:state`, `:query`,
 * `:events` run the command layer shared with the command line (verbs/verb.h) and
 * show what it printed in the output pane; `:goto`, `:import`, `:view` ... are the
 * workbench's own. Apart from the line editor (palette.h). */
#ifndef STRATA_TUI_PALETTE_VERBS_H
#define STRATA_TUI_PALETTE_VERBS_H

#include <stddef.h>

#include "tui/words.h"

struct tui;

/* Runs one palette command line (`exec Deposit accountId=A amount=5`, with or
 * without the leading ':'); results go to panes and the message line. Scripts run
 * their `:` lines through here too. */
void palette_run(struct tui *app, const char *line);
/* Help lines for the verbs, for the help view: names, argument synopses, help. */
size_t palette_help(const char *const **verbs, const char *const **args, const char *const **help);
/* What may complete word idx (typed so far: pre) of the line whose earlier words
 * are w: verbs, then each verb's names and options. Candidates are pushed on out,
 * unfiltered (the editor keeps those that start with pre). */
void palette_candidates(struct tui *app, struct words *w, int idx, const char *pre,
                        struct words *out);

#endif
