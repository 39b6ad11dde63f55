/* layout.c: the panes' rectangles (layout.h). Which view goes in which pane of
 * the dashboard is a property of the view (the left holds what is acted on or
 * browsed, the right what it shows about one thing), kept here in one table
 * beside the view table. */
#include "tui/layout.h"

#include "tui/tui.h"

static const int slots[VIEW_COUNT] = {
    [VIEW_DOMAIN] = 0,  [VIEW_EVENTS] = 0,      [VIEW_FORM] = 0,
    [VIEW_STREAMS] = 1, [VIEW_PROJECTIONS] = 1, [VIEW_HELP] = -1,
};

bool layout_dashboard_fits(void)
{
    return COLS >= LAYOUT_DASH_COLS && LINES >= LAYOUT_DASH_LINES;
}

int layout_slot(enum view_id id)
{
    return id < VIEW_COUNT ? slots[id] : -1;
}

void layout_compute(const struct tui *app, struct layout *out)
{
    struct area body = {2, 0, LINES - 5, COLS};
    out->sep_x = -1;
    out->gauges = (struct area){0, 0, 0, 0};
    if (!tui_dashboard(app)) {
        out->npanes = 1;
        out->panes[0] = (struct pane){app->current, body};
        return;
    }
    /* The gauges: as many as fit side by side, at most three rows of them. */
    int per_row = COLS / 40 > 0 ? COLS / 40 : 1;
    int rows = ((int)app->nlags + per_row - 1) / per_row;
    if (rows > 3)
        rows = 3;
    if (rows > 0) {
        out->gauges = (struct area){body.y + body.h - rows, 0, rows, COLS};
        body.h -= rows + 1; /* and a blank row above them */
    }
    int lw = COLS * 11 / 20;
    out->npanes = 2;
    out->panes[0] = (struct pane){app->slot[0], {body.y, 0, body.h, lw}};
    out->panes[1] = (struct pane){app->slot[1], {body.y, lw + 1, body.h, COLS - lw - 1}};
    out->sep_x = lw;
}

int layout_pane_at(const struct layout *l, int y, int x)
{
    for (int i = 0; i < l->npanes; i++) {
        const struct area *a = &l->panes[i].a;
        if (y >= a->y && y < a->y + a->h && x >= a->x && x < a->x + a->w)
            return i;
    }
    return -1;
}
