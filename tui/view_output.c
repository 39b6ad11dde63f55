/* view_output.c: the output pane: what the palette's last shared verb
 * (verbs/verb.h) printed, as the command line would have: its NDJSON lines or
 * table, its messages, and how it ended. Verbs with a richer view of their own
 * (:state, :query, :events) open that view; this pane keeps their lines too
 * (:view output). */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tui/lines.h"
#include "tui/tui.h"
#include "tui/verb_pane.h"

struct output_view {
    struct scroll sc;
    uint64_t seen;      /* the run last shown: a new run starts at its top */
    struct lines shown; /* :why and :bisect lines made readable (see readable) */
    uint64_t shown_run; /* the run they were made from (0: none) */
};

/* A value as a cell: strings bare, the rest as JSON, at most 40 characters. */
static void add_value(strbuf *sb, const value *v)
{
    char *t = !v                                            ? xstrdup("-")
              : v->type == V_STRING && value_strlen(v) == 0 ? xstrdup("\"\"")
                                                            : tui_value_text(v);
    sb_addf(sb, "%.40s%s", t, strlen(t) > 40 ? "…" : "");
    free(t);
}

static const char *text_of(const value *m, const char *k)
{
    const value *v = value_map_get(m, k);
    return v && v->type == V_STRING ? value_str(v) : "";
}

/* One :why or :bisect line as the pane shows it (the NDJSON stays what the
 * verb printed, for :view output's copy and the tests):
 *   #4 Account-A v3 MoneyWithdrawn  balance 320 -> 70  row.balance - event.amount  bank.yaml:91:34
 *   breaks at #4 MoneyWithdrawn Account-A   /   holds through #12 */
static void readable(struct lines *out, const char *line, attr_t attr)
{
    value v;
    err je;
    if (line[0] != '{' || json_parse(line, strlen(line), &v, &je) != ST_OK) {
        lines_add(out, attr, "%s", line);
        return;
    }
    strbuf sb;
    sb_init(&sb);
    const value *pos = v.type == V_MAP ? value_map_get(&v, "position") : NULL;
    const value *holds = v.type == V_MAP ? value_map_get(&v, "holds") : NULL;
    if (holds && holds->type == V_BOOL && holds->u.b) {
        const value *t = value_map_get(&v, "through");
        sb_addf(&sb, "holds through #%lld", t && t->type == V_INT ? (long long)t->u.i : 0LL);
    } else if (holds && pos && pos->type == V_INT) {
        sb_addf(&sb, "breaks at #%lld %s %s  ", (long long)pos->u.i, text_of(&v, "type"),
                text_of(&v, "stream"));
        const char *why = text_of(&v, "error");
        if (*why)
            sb_addf(&sb, "%s", why);
    } else if (pos && pos->type == V_INT) {
        const value *ver = value_map_get(&v, "version");
        sb_addf(&sb, "#%lld %s v%lld %s  %s ", (long long)pos->u.i, text_of(&v, "stream"),
                ver && ver->type == V_INT ? (long long)ver->u.i : 0LL, text_of(&v, "type"),
                text_of(&v, "field"));
        add_value(&sb, value_map_get(&v, "before"));
        sb_adds(&sb, " -> ");
        add_value(&sb, value_map_get(&v, "after"));
        const char *at = text_of(&v, "at"), *slash = strrchr(at, '/');
        sb_addf(&sb, "  %s  %s", text_of(&v, "expr"), slash ? slash + 1 : at);
    } else {
        sb_adds(&sb, line);
    }
    lines_add(out, attr, "%s", sb.buf);
    sb_done(&sb);
    value_free(v);
}

static void output_open(struct view *v)
{
    v->priv = xcalloc(1, sizeof(struct output_view));
}

static void output_close(struct view *v)
{
    struct output_view *o = v->priv;
    if (o->shown_run)
        lines_done(&o->shown);
    free(o);
}

/* The lines to show: the verb's, or for :why and :bisect their readable form. */
static const struct lines *shown(struct output_view *o, const struct lines *l, uint64_t run)
{
    if (!verb_pane_jumps())
        return l;
    if (o->shown_run != run) {
        if (o->shown_run)
            lines_clear(&o->shown);
        else
            lines_init(&o->shown);
        o->shown_run = run;
        for (size_t i = 0; i < l->len; i++)
            readable(&o->shown, l->items[i], l->attrs[i]);
    }
    return &o->shown;
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
    if (verb_pane_jumps())
        lines_draw(shown(o, l, run), &o->sc, a, true);
    else
        lines_draw_page(l, &o->sc, a);
}

/* Enter on a line of :why or :bisect: the timeline moves to its event. */
static void jump(struct tui *app, const struct lines *l, long cur)
{
    const char *p =
        cur >= 0 && (size_t)cur < l->len ? strstr(l->items[cur], "\"position\":") : NULL;
    long long pos = p ? strtoll(p + 11, NULL, 10) : 0;
    if (pos <= 0) {
        tui_message(app, "no event on this line");
        return;
    }
    tui_goto(app, (int64_t)pos);
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
    if (l && verb_pane_jumps()) {
        if (req == REQ_ENTER) {
            jump(v->app, l, o->sc.cur);
            return REQ_NONE;
        }
        if (scroll_request(&o->sc, req, (long)l->len, rows))
            return REQ_NONE;
        return req;
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
