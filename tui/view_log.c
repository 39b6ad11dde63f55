/* view_log.c: the Log view: every command issued in this workbench (the form,
 * :exec), narrated step by step, newest first (command_log.h): state loaded,
 * payload, each rule with its values, the events and state changes, the append
 * and any conflict, the snapshot, and the projections folding it. */
#include "tui/command_log.h"
#include "tui/lines.h"
#include "tui/tui.h"

struct log_view {
    struct scroll sc;
    uint64_t seen;
};

static void log_open(struct view *v)
{
    v->priv = xcalloc(1, sizeof(struct log_view));
}

static void log_close(struct view *v)
{
    free(v->priv);
}

static void log_draw(struct view *v, struct area a)
{
    struct log_view *lv = v->priv;
    uint64_t gen;
    const struct lines *l = command_log_lines(&gen);
    if (gen != lv->seen) { /* a new narration: show the newest */
        lv->seen = gen;
        lv->sc.top = lv->sc.cur = 0;
    }
    draw_str(a.y, a.x, a.w, "Log: commands narrated, newest first", tui_attr(TC_TITLE));
    if (l->len == 0) {
        draw_str(a.y + 2, a.x + 2, a.w - 2,
                 "Nothing yet: every command sent from the form or :exec is told here, step by "
                 "step.",
                 tui_attr(TC_DIM));
        return;
    }
    struct area body = {a.y + 1, a.x, a.h - 1, a.w};
    lines_draw_page(l, &lv->sc, body);
}

static enum request log_request(struct view *v, enum request req)
{
    struct log_view *lv = v->priv;
    uint64_t gen;
    const struct lines *l = command_log_lines(&gen);
    int rows = v->last.h > 1 ? v->last.h - 1 : 10;
    if (scroll_page_request(&lv->sc, req, (long)l->len, rows))
        return REQ_NONE;
    return req;
}

const struct view_ops view_log_ops = {
    .keymap = KM_GENERIC,
    .open = log_open,
    .close = log_close,
    .draw = log_draw,
    .request = log_request,
};
