/* layout.h: where each pane goes. From the screen's size and the mode it computes
 * the panes' rectangles: at 120x35 or more the dashboard (a left pane for the
 * domain, the events or the form; a right pane for a stream or a read model; the
 * lag gauges along the bottom, above the timeline), else, or when zoomed (z),
 * one view over the whole body, as before. Views draw into the rectangle they
 * are given (view_ops.draw's area), so they need not know the layout. */
#ifndef STRATA_TUI_LAYOUT_H
#define STRATA_TUI_LAYOUT_H

#include <stdbool.h>

#include "tui/views.h"

#define LAYOUT_MAX_PANES 2
#define LAYOUT_DASH_COLS 120
#define LAYOUT_DASH_LINES 35

struct tui;

struct pane {
    enum view_id view;
    struct area a;
};

struct layout {
    int npanes;
    struct pane panes[LAYOUT_MAX_PANES];
    int sep_x;          /* the column between the panes (-1: none) */
    struct area gauges; /* the lag gauges' rows (h = 0: none) */
};

/* True when the screen is big enough for the dashboard. */
bool layout_dashboard_fits(void);
/* The dashboard's slot of a view: 0 left, 1 right, -1 none (help). */
int layout_slot(enum view_id id);
/* The layout for this frame, the body being rows 2 .. LINES-4. */
void layout_compute(const struct tui *app, struct layout *out);
/* The pane whose rectangle holds (y, x), or -1. */
int layout_pane_at(const struct layout *l, int y, int x);

#endif
