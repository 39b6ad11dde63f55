/* frame.h: the workbench's frame around the current view: the header (row 0),
 * the view tabs or the "as of" banner (row 1), and the timeline scrubber (its
 * histogram and its label, the two rows above the message line). The tab bar's
 * layout is computed in one place, for drawing and for the mouse. */
#ifndef STRATA_TUI_FRAME_H
#define STRATA_TUI_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "tui/views.h"

struct tui;

/* One tab of the tab bar: the view, its first column and its width (the label
 * " 1 Domain " and the blank after it). */
struct tab {
    enum view_id view;
    int x, w;
};
/* The tab bar's layout, left to right, in TUI_VIEWS order (views with a title);
 * returns the number of tabs. */
int frame_tabs(struct tab tabs[VIEW_COUNT]);
/* The view whose tab covers column x of the tab bar; VIEW_COUNT when none does. */
enum view_id frame_tab_at(int x);

void frame_draw_header(struct tui *app);
/* The tabs, or in "as of" mode the banner that says the panes show history. */
void frame_draw_tabs_or_banner(struct tui *app);
/* The dashboard's rule between its panes, at column x, as tall as area a; the
 * focused pane's side says which it is. */
void frame_draw_separator(struct tui *app, int x, struct area a);
/* The dashboard's lag gauges, side by side, one per projection, in area a. */
void frame_draw_gauges(struct tui *app, struct area a);
/* The scrubber's histogram on row y and its label on row y + 1. */
void frame_draw_scrubber(struct tui *app, int y);
/* The histogram's width in columns (one scrubber page). */
int frame_scrub_width(void);
/* The position a click on column x of the scrubber row goes to (0 = live); false
 * when x is off the histogram. */
bool frame_scrub_at(struct tui *app, int x, int64_t *pos);

#endif
