/* view_streams.c: the streams, a page at a time, with their versions; Enter opens
 * one: the aggregate's state (as of the scrubber's position when travelling),
 * then its history, each event with what it changed in the state. In an open
 * stream a cursor moves over the lines: Enter on a state field opens that field's
 * provenance (`:why AGG ID FIELD`), elsewhere the whole state's.
 *
 * The history shows at most the last HISTORY_MAX events of the stream: the state
 * before the first of them comes from aggregate_load (snapshots make that cheap),
 * so memory stays bounded however long the stream is. */
#include <stdio.h>

#include "core/aggregate.h"
#include "core/json.h"
#include "tui/lines.h"
#include "tui/palette_verbs.h"
#include "tui/tui.h"

#define HISTORY_MAX 200

struct streams_view {
    /* The list. */
    struct stream_info *page;
    size_t npage;
    size_t offset; /* of the page in the list of all streams */
    int64_t total;
    struct scroll sc; /* cur is relative to the list, top too */
    uint64_t gen;
    bool valid;
    size_t rows;

    /* The open stream. */
    char *open;
    bool raw;
    struct lines detail;
    struct lines fields; /* the state's field names, shown from detail line field_first */
    size_t field_first;
    struct scroll dsc;
    uint64_t detail_gen;
    bool detail_raw;
    bool detail_valid;
};

static void streams_open_view(struct view *v)
{
    struct streams_view *sv = xcalloc(1, sizeof *sv);
    lines_init(&sv->detail);
    lines_init(&sv->fields);
    v->priv = sv;
}

static void streams_close(struct view *v)
{
    struct streams_view *sv = v->priv;
    stream_info_free(sv->page, sv->npage);
    free(sv->open);
    lines_done(&sv->detail);
    lines_done(&sv->fields);
    free(sv);
}

static void stream_select(struct view *v, const char *stream)
{
    struct streams_view *sv = v->priv;
    free(sv->open);
    sv->open = xstrdup(stream);
    sv->detail_valid = false;
    sv->dsc.top = sv->dsc.cur = 0;
}

/* The words: a stream to open; none goes back to the list. */
static int streams_open_with(struct view *v, int argc, const char *const *argv, err *e)
{
    struct streams_view *sv = v->priv;
    if (argc > 1)
        return err_set(e, ST_USAGE, "the streams view takes one stream");
    if (argc == 1) {
        stream_select(v, argv[0]);
    } else {
        free(sv->open);
        sv->open = NULL;
        sv->valid = false;
    }
    return ST_OK;
}

static void list_load(struct view *v, size_t rows)
{
    struct streams_view *sv = v->priv;
    struct tui *app = v->app;
    int64_t total = 0;
    err ce;
    err_clear(&ce);
    if (store_count_streams(app->store, &total, &ce) != ST_OK)
        tui_error(app, "counting streams: %s", ce.msg);
    sv->total = total;
    scroll_fix(&sv->sc, (long)sv->total, (long)rows);
    size_t want = (size_t)sv->sc.top;
    if (sv->valid && sv->gen == app->generation && sv->offset == want && sv->rows == rows)
        return;
    stream_info_free(sv->page, sv->npage);
    sv->page = NULL;
    sv->npage = 0;
    err e;
    err_clear(&e);
    if (store_list_streams(app->store, NULL, want, rows, &sv->page, &sv->npage, &e) != ST_OK)
        tui_error(app, "listing streams: %s", e.msg);
    sv->offset = want;
    sv->rows = rows;
    sv->gen = app->generation;
    sv->valid = true;
}

/* "status: \"none\" -> \"open\", balance: 0 -> 100" */
static void state_changes(strbuf *sb, const value *before, const value *after)
{
    size_t n = 0;
    if (after->type != V_MAP)
        return;
    for (size_t i = 0; i < value_map_len(after); i++) {
        const value *k = value_map_key_at(after, i);
        const value *nv = value_map_val_at(after, i);
        const value *ov = before->type == V_MAP ? value_map_get(before, value_str(k)) : NULL;
        if (ov && value_equal(ov, nv))
            continue;
        sb_addf(sb, "%s%s: ", n++ ? ", " : "", value_str(k));
        if (ov)
            json_write(sb, ov);
        else
            sb_adds(sb, "(none)");
        sb_adds(sb, tui_utf8() ? " \xe2\x86\x92 " : " -> ");
        json_write(sb, nv);
    }
    if (n == 0)
        sb_adds(sb, "(no change to the state)");
}

static void detail_build(struct view *v)
{
    struct streams_view *sv = v->priv;
    struct tui *app = v->app;
    struct lines *l = &sv->detail;
    lines_clear(l);
    lines_clear(&sv->fields);
    int64_t at = tui_position(app);
    const char *id = NULL;
    const struct aggregate_spec *a = aggregate_for_stream(app->domain, sv->open, &id);
    err e;
    err_clear(&e);
    int64_t version = 0;
    store_stream_version(app->store, sv->open, at, &version, &e);
    attr_t title = tui_attr(TC_TITLE), label = tui_attr(TC_LABEL);
    if (at)
        lines_add(l, title, "Stream %s  version %lld as of #%lld  (Esc: all streams)", sv->open,
                  (long long)version, (long long)at);
    else
        lines_add(l, title, "Stream %s  version %lld  (Esc: all streams)", sv->open,
                  (long long)version);
    if (version == 0) {
        lines_add(l, tui_attr(TC_DIM),
                  at ? "  The stream had no events yet at this point."
                     : "  The stream has no events.");
    }

    struct agg_state st;
    memset(&st, 0, sizeof st);
    bool have_state = false;
    if (a && version > 0) {
        err_clear(&e);
        if (aggregate_load(app->store, app->domain, a, id, at, false, &st, &e) == ST_OK) {
            have_state = true;
            lines_add(l, label, "State of %s %s%s:", a->name, id, at ? " as it was then" : "");
            sv->field_first = l->len;
            for (size_t i = 0; st.state.type == V_MAP && i < value_map_len(&st.state); i++) {
                const char *name = value_str(value_map_key_at(&st.state, i));
                char *t = json_to_string(value_map_val_at(&st.state, i));
                lines_add(l, 0, "  %-16s %s", name, t);
                lines_add(&sv->fields, 0, "%s", name);
                free(t);
            }
        } else {
            lines_add(l, tui_attr(TC_ERROR), "  cannot load the state: %s", e.msg);
        }
    } else if (!a) {
        lines_add(l, tui_attr(TC_DIM), "  No aggregate of the domain owns this stream.");
    }
    if (have_state)
        agg_state_done(&st);
    if (version == 0)
        return;

    int64_t from = version > HISTORY_MAX ? version - HISTORY_MAX + 1 : 1;
    struct event_list evs;
    event_list_init(&evs);
    err_clear(&e);
    if (store_read_stream(app->store, sv->open, from, at, HISTORY_MAX, &evs, &e) != ST_OK) {
        lines_add(l, tui_attr(TC_ERROR), "  cannot read the stream: %s", e.msg);
        event_list_done(&evs);
        return;
    }
    lines_add(l, label, "History%s (%s; r toggles):", from > 1 ? " (the latest events)" : "",
              sv->raw ? "each event's data, raw" : "what each event changed");

    /* The state just before the first event shown. */
    value state = value_null();
    bool can_fold = a != NULL && !sv->raw;
    if (can_fold) {
        if (from == 1 || evs.len == 0) {
            state = aggregate_initial_state(a);
        } else {
            struct agg_state base;
            err_clear(&e);
            if (aggregate_load(app->store, app->domain, a, id, evs.items[0].position - 1, false,
                               &base, &e) == ST_OK) {
                state = value_ref(&base.state);
                agg_state_done(&base);
            } else {
                can_fold = false;
            }
        }
    }
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < evs.len; i++) {
        const struct event *ev = &evs.items[i];
        sb_reset(&sb);
        sb_addf(&sb, "  v%-3lld #%-6lld %-18s ", (long long)ev->version, (long long)ev->position,
                ev->type);
        attr_t attr = tui_attr(TC_CHANGE);
        if (!can_fold) {
            sb_adds(&sb, ev->data);
            attr = 0;
        } else {
            struct decoded_event de;
            err_clear(&e);
            if (event_decode(app->domain, ev, true, &de, &e) != ST_OK) {
                sb_addf(&sb, "(cannot decode: %s)", e.msg);
                attr = tui_attr(TC_ERROR);
            } else {
                value next = value_ref(&state);
                err_clear(&e);
                if (aggregate_apply(a, &de, &next, &e) != ST_OK) {
                    sb_addf(&sb, "(cannot apply: %s)", e.msg);
                    attr = tui_attr(TC_ERROR);
                } else {
                    state_changes(&sb, &state, &next);
                }
                value_free(state);
                state = next;
                decoded_event_done(&de);
            }
        }
        lines_add(l, attr, "%s", sb.buf);
    }
    sb_done(&sb);
    value_free(state);
    event_list_done(&evs);
}

static void streams_draw(struct view *v, struct area a)
{
    struct streams_view *sv = v->priv;
    struct tui *app = v->app;
    if (sv->open) {
        if (!sv->detail_valid || sv->detail_gen != app->generation || sv->detail_raw != sv->raw) {
            detail_build(v);
            sv->detail_valid = true;
            sv->detail_gen = app->generation;
            sv->detail_raw = sv->raw;
        }
        lines_draw(&sv->detail, &sv->dsc, a, true);
        return;
    }
    size_t rows = a.h > 1 ? (size_t)a.h - 1 : 1;
    list_load(v, rows);
    if (app->as_of)
        draw_fmt(a.y, a.x, a.w, tui_attr(TC_TITLE),
                 "Streams (%lld), versions as of #%lld  (Enter opens)", (long long)sv->total,
                 (long long)app->as_of);
    else
        draw_fmt(a.y, a.x, a.w, tui_attr(TC_TITLE),
                 "Streams (%lld)  (Enter opens: state and history)", (long long)sv->total);
    if (sv->npage == 0)
        draw_str(a.y + 1, a.x + 2, a.w - 2, "No streams yet.", tui_attr(TC_DIM));
    for (size_t i = 0; i < sv->npage && i < rows; i++) {
        const struct stream_info *si = &sv->page[i];
        bool cur = (long)(sv->offset + i) == sv->sc.cur;
        attr_t attr = cur ? tui_attr(TC_CURSOR) : 0;
        int y = a.y + 1 + (int)i;
        draw_blank(y, a.x, a.w, attr);
        /* Stream names get what the version column leaves (foreign logs have long
         * ones, such as ARNs), at least 31 columns. */
        int name_w = a.w - 32 > 31 ? a.w - 32 : 31;
        int vx = a.x + 2 + name_w;
        if (app->as_of) {
            int64_t ver = 0;
            err e;
            err_clear(&e);
            store_stream_version(app->store, si->name, app->as_of, &ver, &e);
            draw_field(y, a.x + 2, name_w - 1, si->name, attr);
            if (ver == 0)
                draw_str(y, vx, a.w - (vx - a.x), "(not yet created)",
                         cur ? attr : tui_attr(TC_DIM));
            else
                draw_fmt(y, vx, a.w - (vx - a.x), attr, "v%-6lld", (long long)ver);
        } else {
            draw_field(y, a.x + 2, name_w - 1, si->name, attr);
            draw_fmt(y, vx, a.w - (vx - a.x), attr, "v%-6lld last event #%lld",
                     (long long)si->version, (long long)si->last_position);
        }
    }
}

/* Enter on an open stream: the provenance of one field of its state (field not
 * NULL: `:why AGG ID FIELD`) or of all of them (`:why AGG ID`), into the output
 * pane, each line moving the timeline to its event. */
static void why_state(struct tui *app, const char *stream, const char *field)
{
    const char *id;
    const struct aggregate_spec *a = aggregate_for_stream(app->domain, stream, &id);
    if (!a) {
        tui_message(app, "%s belongs to no aggregate of the domain", stream);
        return;
    }
    strbuf line;
    sb_init(&line);
    sb_addf(&line, "why %s '", a->name);
    for (const char *c = id; *c; c++)
        sb_adds(&line, *c == '\'' ? "'\"'\"'" : (char[2]){*c, 0});
    sb_adds(&line, "'");
    if (field)
        sb_addf(&line, " %s", field); /* a field name is an identifier: no quoting */
    palette_run(app, line.buf);
    sb_done(&line);
}

static enum request streams_request(struct view *v, enum request req)
{
    struct streams_view *sv = v->priv;
    if (sv->open) {
        long h = v->last.h > 0 ? v->last.h : 10;
        if (scroll_request(&sv->dsc, req, (long)sv->detail.len, h))
            return REQ_NONE;
        long f = sv->dsc.cur - (long)sv->field_first;
        switch (req) {
        case REQ_STREAMS_RAW:
            sv->raw = !sv->raw;
            break;
        case REQ_STREAMS_OPEN: /* Enter, in this keymap */
        case REQ_ENTER:
            why_state(v->app, sv->open,
                      f >= 0 && (size_t)f < sv->fields.len ? sv->fields.items[f] : NULL);
            break;
        case REQ_BACK:
            free(sv->open);
            sv->open = NULL;
            sv->valid = false;
            break;
        default:
            return req;
        }
        return REQ_NONE;
    }
    long rows = v->last.h > 1 ? v->last.h - 1 : 1;
    if (req == REQ_STREAMS_OPEN || req == REQ_ENTER) {
        long i = sv->sc.cur - (long)sv->offset;
        if (i >= 0 && (size_t)i < sv->npage)
            stream_select(v, sv->page[i].name);
        return REQ_NONE;
    }
    if (req == REQ_STREAMS_RAW) {
        sv->raw = !sv->raw;
        return REQ_NONE;
    }
    if (scroll_request(&sv->sc, req, (long)sv->total, rows))
        return REQ_NONE;
    return req;
}

static void streams_click(struct view *v, int row)
{
    struct streams_view *sv = v->priv;
    if (sv->open || row < 1)
        return;
    long i = (long)sv->offset + row - 1;
    if (i < (long)(sv->offset + sv->npage)) {
        if (sv->sc.cur == i)
            stream_select(v, sv->page[i - (long)sv->offset].name);
        sv->sc.cur = i;
    }
}

const struct view_ops view_streams_ops = {
    .keymap = KM_STREAMS,
    .open = streams_open_view,
    .close = streams_close,
    .draw = streams_draw,
    .request = streams_request,
    .click = streams_click,
    .open_with = streams_open_with,
};
