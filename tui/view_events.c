/* view_events.c: every event in the store, newest first, read a screenful at a
 * time (keyset paging on the position, never the whole store), filtered by
 * stream, type and text, with a detail pane showing data and metadata
 * pretty-printed, raw as stored or upcast to the event's current version.
 *
 * The page is "the events with position < top_after that match the filter"
 * (top_after 0 = from the head, or from the "as of" position in time travel), so
 * scrolling over millions of events costs one small indexed read per step.
 *
 * Rows show what the detail pane and the command line show: the data upcast to
 * the event's current version (marked with an arrow), so the list never
 * disagrees with them. Columns are as wide as the rows on screen need, up to a
 * share of the width, and long names are cut in the middle, where ids usually
 * are not. The filters combine; a filter line says which are on. */
#include <stdio.h>

#include "core/json.h"
#include "tui/lines.h"
#include "tui/tui.h"
#include "tui/verb_pane.h"

struct events_view {
    char *stream, *type, *text; /* the filter; NULL = any */
    int64_t top_after;          /* page = matching events with position < top_after (0 = head) */
    int cursor;                 /* row of the selection within the page */
    struct event_list page;
    char **shown;      /* per page row: the data upcast (NULL = as stored, current) */
    int *from_schema;  /* per page row: the stored schema when upcast, else 0 */
    size_t page_rows;  /* how many rows the page was read for */
    uint64_t page_gen; /* app->generation it was read at */
    bool page_valid;
    int64_t as_of_seen;

    bool detail, raw;
    struct lines detail_lines;
    int64_t detail_pos;
    bool detail_raw_built;
    uint64_t detail_gen;
    struct scroll detail_sc;
};

static void events_filter(struct view *v, struct event_filter *f)
{
    struct events_view *ev = v->priv;
    memset(f, 0, sizeof *f);
    f->to = tui_position(v->app);
    f->stream = ev->stream;
    f->type = ev->type;
    f->text = ev->text;
}

static void shown_clear(struct events_view *ev)
{
    for (size_t i = 0; ev->shown && i < ev->page.len; i++)
        free(ev->shown[i]);
    free(ev->shown);
    free(ev->from_schema);
    ev->shown = NULL;
    ev->from_schema = NULL;
}

/* Upcasts the rows of the page whose stored schema is older than the domain's:
 * at most a screenful of decodes per page read. */
static void shown_build(struct view *v)
{
    struct events_view *ev = v->priv;
    ev->shown = xcalloc(ev->page.len + 1, sizeof *ev->shown);
    ev->from_schema = xcalloc(ev->page.len + 1, sizeof *ev->from_schema);
    for (size_t i = 0; i < ev->page.len; i++) {
        const struct event *e = &ev->page.items[i];
        const struct event_spec *spec = domain_event(v->app->domain, e->type);
        if (!spec || spec->version == e->schema)
            continue;
        struct decoded_event de;
        err er;
        err_clear(&er);
        if (event_decode(v->app->domain, e, true, &de, &er) != ST_OK)
            continue; /* shown as stored; the detail pane says why */
        ev->shown[i] = json_to_string(&de.data);
        ev->from_schema[i] = e->schema;
        decoded_event_done(&de);
    }
}

static void events_invalidate(struct events_view *ev)
{
    ev->page_valid = false;
}

/* Reads up to n events next to `after` in the filter's order into out. */
static int events_read(struct view *v, int64_t after, bool backward, size_t n,
                       struct event_list *out)
{
    struct event_filter f;
    events_filter(v, &f);
    err e;
    err_clear(&e);
    int rc = store_read_page(v->app->store, &f, after, backward, n, out, &e);
    if (rc != ST_OK)
        tui_error(v->app, "reading events: %s", e.msg);
    return rc;
}

static void events_load(struct view *v, size_t rows)
{
    struct events_view *ev = v->priv;
    if (ev->as_of_seen != v->app->as_of) {
        /* The scrubber moved: show the events up to that point, it at the top. */
        ev->as_of_seen = v->app->as_of;
        ev->top_after = 0;
        ev->cursor = 0;
        ev->page_valid = false;
    }
    if (ev->page_valid && ev->page_gen == v->app->generation && ev->page_rows == rows)
        return;
    /* Keep the selected event selected across reloads (new events arriving, the
     * detail pane opening), except at the very top, which follows the newest. */
    int64_t keep = 0;
    if (ev->page_valid && !(ev->top_after == 0 && ev->cursor == 0) && ev->cursor >= 0 &&
        (size_t)ev->cursor < ev->page.len)
        keep = ev->page.items[ev->cursor].position;
    shown_clear(ev);
    event_list_clear(&ev->page);
    events_read(v, ev->top_after, true, rows, &ev->page);
    if (ev->page.len == 0 && ev->top_after != 0) {
        ev->top_after = 0;
        events_read(v, 0, true, rows, &ev->page);
    }
    if (keep) {
        int found = -1;
        for (size_t i = 0; i < ev->page.len; i++)
            if (ev->page.items[i].position == keep)
                found = (int)i;
        if (found < 0) {
            /* Put it on the last row: the page starts rows-1 matching events above it. */
            struct event_list above;
            event_list_init(&above);
            if (rows > 1)
                events_read(v, keep, false, rows - 1, &above);
            ev->top_after = above.len ? above.items[above.len - 1].position + 1 : keep + 1;
            event_list_done(&above);
            event_list_clear(&ev->page);
            events_read(v, ev->top_after, true, rows, &ev->page);
            found = 0;
            for (size_t i = 0; i < ev->page.len; i++)
                if (ev->page.items[i].position == keep)
                    found = (int)i;
        }
        ev->cursor = found;
    }
    shown_build(v);
    ev->page_valid = true;
    ev->page_gen = v->app->generation;
    ev->page_rows = rows;
    if (ev->cursor >= (int)ev->page.len)
        ev->cursor = ev->page.len ? (int)ev->page.len - 1 : 0;
}

static const struct event *events_selected(struct events_view *ev)
{
    if (ev->page.len == 0 || ev->cursor < 0 || (size_t)ev->cursor >= ev->page.len)
        return NULL;
    return &ev->page.items[ev->cursor];
}

static void events_set_filter(struct view *v, const char *stream, const char *type,
                              const char *text)
{
    struct events_view *ev = v->priv;
    free(ev->stream);
    free(ev->type);
    free(ev->text);
    ev->stream = stream && *stream ? xstrdup(stream) : NULL;
    ev->type = type && *type ? xstrdup(type) : NULL;
    ev->text = text && *text ? xstrdup(text) : NULL;
    ev->top_after = 0;
    ev->cursor = 0;
    events_invalidate(ev);
}

/* The words: the filters, as --stream S, --type T, --text X (none: no filter). */
static int events_open_with(struct view *v, int argc, const char *const *argv, err *e)
{
    const char *f[3] = {NULL, NULL, NULL};
    static const char *const names[3] = {"--stream", "--type", "--text"};
    for (int i = 0; i < argc; i += 2) {
        int k = 0;
        while (k < 3 && strcmp(argv[i], names[k]) != 0)
            k++;
        if (k == 3 || i + 1 >= argc)
            return err_set(e, ST_USAGE, "events: '%s' is not --stream S, --type T or --text X",
                           argv[i]);
        f[k] = argv[i + 1];
    }
    events_set_filter(v, f[0], f[1], f[2]);
    return ST_OK;
}

static void events_open(struct view *v)
{
    struct events_view *ev = xcalloc(1, sizeof *ev);
    event_list_init(&ev->page);
    lines_init(&ev->detail_lines);
    v->priv = ev;
}

static void events_close(struct view *v)
{
    struct events_view *ev = v->priv;
    shown_clear(ev);
    event_list_done(&ev->page);
    lines_done(&ev->detail_lines);
    free(ev->stream);
    free(ev->type);
    free(ev->text);
    free(ev);
}

/* Pretty JSON text of a stored JSON string; the text itself if it is not JSON. */
static void add_pretty(struct lines *l, const char *json)
{
    value val;
    err je;
    if (json_parse(json, strlen(json), &val, &je) == ST_OK) {
        strbuf sb;
        sb_init(&sb);
        json_write_pretty(&sb, &val);
        lines_add_text(l, 0, "  ", sb.buf);
        sb_done(&sb);
        value_free(val);
    } else {
        lines_add(l, tui_attr(TC_ERROR), "  (not JSON: %s) %s", je.msg, json);
    }
}

static void detail_build(struct view *v, const struct event *e)
{
    struct events_view *ev = v->priv;
    struct lines *l = &ev->detail_lines;
    lines_clear(l);
    ev->detail_sc.top = ev->detail_sc.cur = 0;
    attr_t label = tui_attr(TC_LABEL);
    const struct event_spec *spec = domain_event(v->app->domain, e->type);
    lines_add(l, tui_attr(TC_TITLE), "#%lld  %s v%lld  %s", (long long)e->position, e->stream,
              (long long)e->version, e->type);
    lines_add(l, 0, "time %s  stored schema %d%s", e->time, e->schema,
              spec ? "" : "  (a type the domain does not know)");
    if (ev->raw || !spec) {
        lines_add(l, label, "data (raw, as stored; r shows it upcast):");
        add_pretty(l, e->data);
    } else {
        struct decoded_event de;
        err er;
        err_clear(&er);
        if (event_decode(v->app->domain, e, true, &de, &er) != ST_OK) {
            lines_add(l, tui_attr(TC_ERROR), "cannot upcast: %s", er.msg);
            lines_add(l, label, "data (raw, as stored):");
            add_pretty(l, e->data);
        } else {
            if (de.schema != e->schema)
                lines_add(l, label, "data (upcast v%d -> v%d; r shows it raw):", e->schema,
                          de.schema);
            else
                lines_add(l, label, "data (v%d, current; r shows it raw):", de.schema);
            strbuf sb;
            sb_init(&sb);
            json_write_pretty(&sb, &de.data);
            lines_add_text(l, 0, "  ", sb.buf);
            sb_done(&sb);
            decoded_event_done(&de);
        }
    }
    lines_add(l, label, "meta:");
    if (e->meta)
        add_pretty(l, e->meta);
    else
        lines_add(l, tui_attr(TC_DIM), "  (none)");
    ev->detail_pos = e->position;
    ev->detail_raw_built = ev->raw;
    ev->detail_gen = v->app->generation;
}

/* "2026-11-27T10:00:00.123Z" -> "2026-11-27 10:00:00" */
static void short_time(const char *t, char out[20])
{
    snprintf(out, 20, "%.19s", t ? t : "");
    if (out[10] == 'T')
        out[10] = ' ';
}

/* The widest text_width among the page's rows on screen, capped at cap. */
static int column_width(struct events_view *ev, int rows, bool stream, int cap)
{
    int w = stream ? 6 : 4;
    for (size_t r = 0; r < ev->page.len && (int)r < rows; r++) {
        int tw = text_width(stream ? ev->page.items[r].stream : ev->page.items[r].type);
        if (tw > w)
            w = tw;
    }
    return w < cap ? w : cap;
}

static bool filtered(const struct events_view *ev)
{
    return ev->stream || ev->type || ev->text;
}

static void events_draw(struct view *v, struct area a)
{
    struct events_view *ev = v->priv;
    struct tui *app = v->app;
    int top = filtered(ev) ? 2 : 1; /* title, and the filter line when filtered */
    int list_h = a.h - top;
    int detail_h = 0;
    if (ev->detail) {
        list_h = (a.h - top) / 3;
        if (list_h < 3)
            list_h = 3;
        detail_h = a.h - top - list_h - 1;
    }
    if (list_h < 1)
        list_h = 1;
    events_load(v, (size_t)list_h);

    strbuf t;
    sb_init(&t);
    sb_adds(&t, "Events, newest first");
    if (app->as_of)
        sb_addf(&t, ", as of #%lld", (long long)app->as_of);
    sb_adds(&t, tui_utf8() ? "  (\xe2\x86\x91 upcast; s/t/ filter, Enter detail)"
                           : "  (^ upcast; s/t/ filter, Enter detail)");
    draw_field(a.y, a.x, a.w, t.buf, tui_attr(TC_TITLE));
    if (filtered(ev)) {
        /* The filters combine: each one that is on, and how to clear them. */
        sb_reset(&t);
        sb_adds(&t, "Filter:");
        if (ev->stream)
            sb_addf(&t, "  stream=%s", ev->stream);
        if (ev->type)
            sb_addf(&t, "  type=%s", ev->type);
        if (ev->text)
            sb_addf(&t, "  text=\"%s\"", ev->text);
        sb_adds(&t, "   (c clears)");
        draw_field(a.y + 1, a.x, a.w, t.buf, tui_attr(TC_KEY));
    }
    sb_done(&t);

    if (ev->page.len == 0) {
        draw_str(a.y + top, a.x + 2, a.w - 2,
                 filtered(ev) ? "No events match the filter."
                 : app->head == 0
                     ? "The store is empty: run a command (5 or :exec) or :import a file."
                     : "No events.",
                 tui_attr(TC_DIM));
    }
    int pw = 4;
    for (int64_t h = app->head; h >= 10000; h /= 10)
        pw++;
    /* Names get what the rows on screen need, up to a quarter of the width each. */
    int share = a.w / 4 > 14 ? a.w / 4 : 14;
    int sw = column_width(ev, list_h, true, share);
    int tw = column_width(ev, list_h, false, share);
    const char *up = tui_utf8() ? "\xe2\x86\x91" : "^";
    for (size_t r = 0; r < ev->page.len && (int)r < list_h; r++) {
        const struct event *e = &ev->page.items[r];
        int y = a.y + top + (int)r;
        bool cur = (int)r == ev->cursor;
        attr_t base = cur ? tui_attr(TC_CURSOR) : 0;
        draw_blank(y, a.x, a.w, base);
        char tm[20];
        short_time(e->time, tm);
        int x = a.x, end = a.x + a.w;
        x += draw_fmt(y, x, a.w, base, "%*lld ", pw, (long long)e->position);
        if (a.w >= 70)
            x += draw_fmt(y, x, end - x, cur ? base : tui_attr(TC_DIM), "%s ", tm);
        draw_str_mid(y, x, end - x < sw ? end - x : sw, e->stream, base);
        x += sw + 1;
        bool upcast = ev->shown && ev->shown[r];
        draw_str(y, x, end - x, upcast ? up : " ", cur ? base : tui_attr(TC_KEY));
        x += 1;
        if (x < end)
            draw_str_mid(y, x, end - x < tw ? end - x : tw, e->type,
                         cur ? base : tui_attr(TC_LABEL));
        x += tw + 1;
        if (x < end)
            draw_str(y, x, end - x, upcast ? ev->shown[r] : e->data, base);
    }

    if (ev->detail) {
        int dy = a.y + top + list_h;
        draw_blank(dy, a.x, a.w, tui_attr(TC_DIM));
        const char *rule = tui_utf8() ? "\xe2\x94\x80" : "-";
        for (int i = 0; i < a.w; i++)
            draw_str(dy, a.x + i, 1, rule, tui_attr(TC_DIM));
        draw_str(dy, a.x + 2, a.w - 2, ev->raw ? " detail: raw " : " detail: upcast ",
                 tui_attr(TC_DIM));
        const struct event *sel = events_selected(ev);
        if (!sel) {
            lines_clear(&ev->detail_lines);
        } else if (sel->position != ev->detail_pos || ev->raw != ev->detail_raw_built ||
                   ev->detail_gen != app->generation || ev->detail_lines.len == 0) {
            detail_build(v, sel);
        }
        struct area d = {dy + 1, a.x, detail_h, a.w};
        if ((long)ev->detail_lines.len > ev->detail_sc.top + detail_h)
            draw_str(dy, a.x + a.w - 26, 24, " J/K scroll the detail ", tui_attr(TC_DIM));
        lines_draw_page(&ev->detail_lines, &ev->detail_sc, d);
    }
}

/* Appends word to sb as the palette's split_words reads it back: as it is when
 * it has no blank or quote, else in double quotes with \ and " escaped
 * (type names such as "W_Afhandelen leads.COMPLETE" have blanks). */
static void add_quoted(strbuf *sb, const char *word)
{
    if (*word && !strpbrk(word, " \t'\"\\")) {
        sb_adds(sb, word);
        return;
    }
    sb_addc(sb, '"');
    for (const char *p = word; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_addc(sb, '\\');
        sb_addc(sb, *p);
    }
    sb_addc(sb, '"');
}

/* s, t and /: the palette line with the filters that are on plus the one asked
 * for (the selected event's stream or type; the text left to type), so that
 * filters combine and the user sees the whole filter before running it. */
static void filter_prompt(struct view *v, enum request req, const struct event *sel)
{
    struct events_view *ev = v->priv;
    const char *stream = ev->stream, *type = ev->type, *text = ev->text;
    if (req == REQ_EVENTS_FILTER_STREAM && sel)
        stream = sel->stream;
    if (req == REQ_EVENTS_FILTER_TYPE && sel)
        type = sel->type;
    if (req == REQ_EVENTS_FILTER_TEXT)
        text = NULL;
    strbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "events");
    if (stream) {
        sb_adds(&sb, " --stream ");
        add_quoted(&sb, stream);
    }
    if (type) {
        sb_adds(&sb, " --type ");
        add_quoted(&sb, type);
    }
    if (text) {
        sb_adds(&sb, " --text ");
        add_quoted(&sb, text);
    }
    if (req == REQ_EVENTS_FILTER_TEXT)
        sb_adds(&sb, " --text ");
    tui_prompt(v->app, sb.buf);
    sb_done(&sb);
}

static void move_down(struct view *v)
{
    struct events_view *ev = v->priv;
    if (ev->cursor + 1 < (int)ev->page.len) {
        ev->cursor++;
        return;
    }
    if (ev->page.len == 0 || ev->page.len < ev->page_rows)
        return;
    struct event_list more;
    event_list_init(&more);
    events_read(v, ev->page.items[ev->page.len - 1].position, true, 1, &more);
    if (more.len) {
        ev->top_after = ev->page.items[0].position;
        events_invalidate(ev);
    }
    event_list_done(&more);
}

static void move_up(struct view *v, size_t n)
{
    struct events_view *ev = v->priv;
    if (n == 1 && ev->cursor > 0) {
        ev->cursor--;
        return;
    }
    if (ev->page.len == 0)
        return;
    struct event_list above;
    event_list_init(&above);
    events_read(v, ev->page.items[0].position, false, n, &above);
    if (above.len) {
        ev->top_after = above.items[above.len - 1].position + 1;
        events_invalidate(ev);
    } else if (n > 1) {
        ev->cursor = 0;
    }
    event_list_done(&above);
}

static void page_down(struct view *v)
{
    struct events_view *ev = v->priv;
    if (ev->page.len == 0)
        return;
    struct event_list more;
    event_list_init(&more);
    events_read(v, ev->page.items[ev->page.len - 1].position, true, 1, &more);
    if (more.len) {
        ev->top_after = ev->page.items[ev->page.len - 1].position;
        events_invalidate(ev);
    } else {
        ev->cursor = (int)ev->page.len - 1;
    }
    event_list_done(&more);
}

static void move_last(struct view *v)
{
    struct events_view *ev = v->priv;
    struct event_list first;
    event_list_init(&first);
    size_t rows = ev->page_rows ? ev->page_rows : 10;
    events_read(v, 0, false, rows, &first);
    if (first.len) {
        ev->top_after = first.items[first.len - 1].position + 1;
        ev->cursor = (int)first.len - 1;
        events_invalidate(ev);
    }
    event_list_done(&first);
}

/* T: `:trace STREAM-VERSION` for the selected event, its tree in the output pane. */
static void trace_event(struct tui *app, const struct event *sel)
{
    char *line = xasprintf("trace %s-%lld", sel->stream, (long long)sel->version);
    struct words w;
    const char *bad = NULL;
    if (split_words(line, &w, &bad)) {
        verb_pane_run(app, verb_find("trace"), &w, line);
        words_done(&w);
    }
    free(line);
}

/* The upcast playground: the selected event's chain, step by step, in the output
 * pane (the shared verb). */
static void upcast_event(struct tui *app, const struct event *sel)
{
    char *line = xasprintf("upcast %lld", (long long)sel->position);
    struct words w;
    const char *bad = NULL;
    if (split_words(line, &w, &bad)) {
        verb_pane_run(app, verb_find("upcast"), &w, line);
        words_done(&w);
    }
    free(line);
}

static enum request events_request(struct view *v, enum request req)
{
    struct events_view *ev = v->priv;
    struct tui *app = v->app;
    const struct event *sel = events_selected(ev);
    switch (req) {
    case REQ_MOVE_DOWN:
        move_down(v);
        break;
    case REQ_MOVE_UP:
        move_up(v, 1);
        break;
    case REQ_PAGE_DOWN:
        page_down(v);
        break;
    case REQ_PAGE_UP:
        move_up(v, ev->page_rows ? ev->page_rows : 10);
        break;
    case REQ_MOVE_FIRST:
        ev->top_after = 0;
        ev->cursor = 0;
        events_invalidate(ev);
        break;
    case REQ_MOVE_LAST:
        move_last(v);
        break;
    case REQ_EVENTS_DETAIL:
    case REQ_ENTER:
        ev->detail = !ev->detail;
        break;
    case REQ_BACK:
        if (!ev->detail)
            return req;
        ev->detail = false;
        break;
    case REQ_EVENTS_RAW:
        ev->raw = !ev->raw;
        ev->detail = true;
        tui_message(app, ev->raw ? "Detail shows the data raw, as stored"
                                 : "Detail shows the data upcast to the event's current version");
        break;
    case REQ_EVENTS_FILTER_STREAM:
    case REQ_EVENTS_FILTER_TYPE:
    case REQ_EVENTS_FILTER_TEXT:
        filter_prompt(v, req, sel);
        break;
    case REQ_EVENTS_FILTER_CLEAR:
        events_set_filter(v, NULL, NULL, NULL);
        tui_message(app, "Filters cleared");
        break;
    case REQ_EVENTS_DETAIL_DOWN:
    case REQ_EVENTS_DETAIL_UP:
        ev->detail = true;
        ev->detail_sc.top += req == REQ_EVENTS_DETAIL_DOWN ? 3 : -3;
        if (ev->detail_sc.top > (long)ev->detail_lines.len - 3)
            ev->detail_sc.top = (long)ev->detail_lines.len - 3;
        if (ev->detail_sc.top < 0)
            ev->detail_sc.top = 0;
        break;
    case REQ_EVENTS_STREAM:
        if (sel) {
            tui_open_view(app, VIEW_STREAMS, sel->stream);
        }
        break;
    case REQ_EVENTS_TRACE:
        if (sel) /* the shared verb, shown in the output pane */
            trace_event(app, sel);
        break;
    case REQ_EVENTS_UPCAST:
        if (sel)
            upcast_event(app, sel);
        break;
    default:
        return req;
    }
    return REQ_NONE;
}

static void events_click(struct view *v, int row)
{
    struct events_view *ev = v->priv;
    int r = row - (filtered(ev) ? 2 : 1);
    if (r >= 0 && r < (int)ev->page.len && r < (int)ev->page_rows) {
        if (r == ev->cursor)
            ev->detail = !ev->detail;
        ev->cursor = r;
    }
}

const struct view_ops view_events_ops = {
    .keymap = KM_EVENTS,
    .open = events_open,
    .close = events_close,
    .draw = events_draw,
    .request = events_request,
    .click = events_click,
    .open_with = events_open_with,
};
