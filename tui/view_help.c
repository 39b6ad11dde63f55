/* view_help.c: the `?` view, generated from request.h's table (keys by keymap) and
 * the palette's verbs, so that it always says what the program does. */
#include <string.h>

#include "tui/lines.h"
#include "tui/palette_verbs.h"
#include "tui/tui.h"

struct help_view {
    struct lines lines;
    struct scroll sc;
};

static void help_build(struct help_view *h)
{
    lines_clear(&h->lines);
    attr_t title = tui_attr(TC_TITLE);
    lines_add(&h->lines, title, "Strata workbench: keys and commands (Esc returns)");
    lines_add(&h->lines, 0, "%s", "");
    size_t n;
    const struct request_info *t = request_table(&n);
    for (int km = 0; km < KM_COUNT; km++) {
        lines_add(&h->lines, title, "%s", keymap_title((enum keymap)km));
        for (size_t i = 0; i < n; i++)
            if ((int)t[i].keymap == km)
                lines_add(&h->lines, 0, "  %-22s %s", t[i].keys, t[i].help);
        lines_add(&h->lines, 0, "%s", "");
    }
    lines_add(&h->lines, title, "Palette (:), Tab completes, Up/Down recall history");
    const char *const *names, *const *args, *const *help;
    size_t nv = palette_help(&names, &args, &help);
    for (size_t i = 0; i < nv; i++)
        lines_add(&h->lines, 0, "  :%s %s", names[i], args[i]);
    lines_add(&h->lines, 0, "%s", "");
    for (size_t i = 0; i < nv; i++)
        lines_add(&h->lines, tui_attr(TC_DIM), "  :%-13s %s", names[i], help[i]);
    lines_add(&h->lines, 0, "%s", "");
    lines_add(&h->lines, title, "Time travel");
    lines_add(&h->lines, 0,
              "  The bar at the bottom is the timeline: positions 1..head, its height the");
    lines_add(&h->lines, 0,
              "  events per second. Leaving the head puts every pane \"as of\" that point,");
    lines_add(&h->lines, 0, "  under a red banner; L (or :goto end) comes back to live.");
}

static void help_open(struct view *v)
{
    struct help_view *h = xcalloc(1, sizeof *h);
    lines_init(&h->lines);
    v->priv = h;
}

static void help_close(struct view *v)
{
    struct help_view *h = v->priv;
    lines_done(&h->lines);
    free(h);
}

static void help_draw(struct view *v, struct area a)
{
    struct help_view *h = v->priv;
    if (h->lines.len == 0)
        help_build(h);
    lines_draw_page(&h->lines, &h->sc, a);
}

static enum request help_request(struct view *v, enum request req)
{
    struct help_view *h = v->priv;
    int rows = v->last.h > 0 ? v->last.h : 10;
    if (req == REQ_ENTER)
        return REQ_BACK;
    if (scroll_page_request(&h->sc, req, (long)h->lines.len, rows))
        return REQ_NONE;
    return req;
}

/* No words: shown afresh, from the top. */
static int help_open_with(struct view *v, int argc, const char *const *argv, err *e)
{
    struct help_view *h = v->priv;
    h->sc.top = h->sc.cur = 0;
    return ST_OK;
}

const struct view_ops view_help_ops = {
    .open_with = help_open_with,
    .keymap = KM_GENERIC,
    .open = help_open,
    .close = help_close,
    .draw = help_draw,
    .request = help_request,
};
