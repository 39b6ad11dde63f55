/* view_output.c: the output pane: what the palette's last shared verb
 * (verbs/verb.h) printed, as the command line would have: its NDJSON lines or
 * table, its messages, and how it ended. Verbs with a richer view of their own
 * (:state, :query, :events) open that view; this pane keeps their lines too
 * (:view output). */
#include "tui/lines.h"
#include "tui/tui.h"
#include "tui/verb_pane.h"

struct output_view {
    struct scroll sc;
    uint64_t seen; /* the run last shown: a new run starts at its top */
};

static void output_open(struct view *v)
{
    v->priv = xcalloc(1, sizeof(struct output_view));
}

static void output_close(struct view *v)
{
    free(v->priv);
}

static void output_draw(struct view *v, struct area a)
{
    struct output_view *o = v->priv;
    uint64_t run;
    const struct lines *l = verb_pane_lines(&run);
    if (run != o->seen) {
        o->seen = run;
        o->sc.top = o->sc.cur = 0;
    }
    if (!l || l->len == 0) {
        draw_str(a.y, a.x, a.w, "Output", tui_attr(TC_TITLE));
        draw_str(a.y + 2, a.x + 2, a.w - 2,
                 "Nothing yet: the palette's verbs (:exec, :state, :query, :events) write here.",
                 tui_attr(TC_DIM));
        return;
    }
    lines_draw_page(l, &o->sc, a);
}

static enum request output_request(struct view *v, enum request req)
{
    struct output_view *o = v->priv;
    uint64_t run;
    const struct lines *l = verb_pane_lines(&run);
    int rows = v->last.h > 0 ? v->last.h : 10;
    if (req == REQ_BACK) {
        tui_show(v->app, v->app->previous);
        return REQ_NONE;
    }
    if (l && scroll_page_request(&o->sc, req, (long)l->len, rows))
        return REQ_NONE;
    return req;
}

const struct view_ops view_output_ops = {
    .keymap = KM_GENERIC,
    .open = output_open,
    .close = output_close,
    .draw = output_draw,
    .request = output_request,
};
