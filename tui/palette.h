/* palette.h: the `:` command palette's line editor: typing, history, Tab
 * completion. The line it submits is run by the verbs (palette_verbs.h). */
#ifndef STRATA_TUI_PALETTE_H
#define STRATA_TUI_PALETTE_H

#include <stdbool.h>

struct tui;

void palette_init(void);
void palette_done(void);
/* Opens the palette with text already typed (for keys like `s` in events). */
void palette_open(struct tui *app, const char *prefill);
/* Opens the `;` SQL prompt: the same editor, its own history; Enter shows the
 * statement's rows in the SQL view. */
void palette_open_sql(struct tui *app);
/* Draws the palette line (when active) on row y. */
void palette_draw(struct tui *app, int y);
/* Feeds one key to an active palette; true while it stays open. */
bool palette_key(struct tui *app, int key);

#endif
