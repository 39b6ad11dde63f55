/* view_projections.c: each read model's lag gauge (an htop bar meter: processed
 * of head, events and seconds behind, rate, status), pause/resume, throttle and
 * rebuild at a key, a failed projection's event and error, and the selected read
 * model's rows, a page at a time, as they are now or as they were at the
 * scrubber's position.
 *
 * Rows come from projection_query in key order, a page at a time. Sorting by
 * another column needs every row; it is offered up to SORT_MAX rows (memory stays
 * bounded) and refused, saying why, beyond. */
#include <stdio.h>

#include "core/json.h"
#include "tui/lines.h"
#include "tui/palette_verbs.h"
#include "tui/tui.h"

#define SORT_MAX 5000

struct proj_view {
    size_t sel; /* the selected projection */
    char *key;  /* :query --key K: only that row */
    struct scroll sc;
    int sort_col; /* -1: key order (core's); else a column index */
    bool sort_reverse;
    /* Sorted rows (only when sorting), with what they were read at. */
    value sorted;
    bool sorted_valid;
    uint64_t sorted_gen;
    int64_t sorted_checkpoint;
    int sorted_col;
    bool sorted_rev;
    size_t sorted_sel;
};

static void proj_open(struct view *v)
{
    struct proj_view *pv = xcalloc(1, sizeof *pv);
    pv->sort_col = -1;
    pv->sorted = value_null();
    v->priv = pv;
}

static void proj_close(struct view *v)
{
    struct proj_view *pv = v->priv;
    value_free(pv->sorted);
    free(pv->key);
    free(pv);
}

/* The words: a projection, and optionally the key of the one row to show. */
static int proj_open_with(struct view *v, int argc, const char *const *argv, err *e)
{
    struct proj_view *pv = v->priv;
    const struct domain *d = v->app->domain;
    if (argc < 1 || argc > 2)
        return err_set(e, ST_USAGE, "the projections view takes a projection and a key");
    const char *name = argv[0], *key = argc > 1 ? argv[1] : NULL;
    for (size_t i = 0; i < d->nprojections; i++)
        if (strcmp(d->projections[i].name, name) == 0) {
            if (pv->sel != i) {
                pv->sc.top = pv->sc.cur = 0;
                pv->sort_col = -1;
            }
            pv->sel = i;
            free(pv->key);
            pv->key = key && *key ? xstrdup(key) : NULL;
            pv->sorted_valid = false;
            return ST_OK;
        }
    return err_set(e, ST_USAGE, "no projection '%s'", name);
}

static const struct proj_lag *lag_of(struct tui *app, const char *name)
{
    for (size_t i = 0; i < app->nlags; i++)
        if (strcmp(app->lags[i].name, name) == 0)
            return &app->lags[i];
    return NULL;
}

static enum tui_color status_color(const struct proj_lag *l)
{
    switch (l->status) {
    case PROJ_LIVE:
        return TC_STATUS_LIVE;
    case PROJ_PAUSED:
        return TC_STATUS_PAUSED;
    case PROJ_FAILED:
        return TC_ERROR;
    default:
        return TC_STATUS_BUSY;
    }
}

static void draw_gauge(struct view *v, int y, struct area a, const struct projection_spec *p,
                       int capw, bool selected)
{
    struct tui *app = v->app;
    const struct proj_lag *l = lag_of(app, p->name);
    attr_t cap_attr = selected ? tui_attr(TC_CURSOR) : tui_attr(TC_LABEL);
    draw_blank(y, a.x, a.w, 0);
    draw_fmt(y, a.x, capw + 1, cap_attr, "%-*s", capw, p->name);
    if (!l) {
        draw_str(y, a.x + capw + 1, a.w - capw - 1, "(no status yet)", tui_attr(TC_DIM));
        return;
    }
    char secs[32], rate[32], status[64], meter[64];
    if (l->events_behind == 0)
        snprintf(secs, sizeof secs, "0s");
    else if (app->deterministic)
        snprintf(secs, sizeof secs, "-");
    else
        snprintf(secs, sizeof secs, "%.1fs", l->seconds_behind);
    if (app->deterministic)
        snprintf(rate, sizeof rate, "-/s");
    else
        snprintf(rate, sizeof rate, "%.0f/s", l->rate);
    snprintf(status, sizeof status, "%s%s", proj_status_name(l->status), l->stale ? " stale" : "");
    if (l->throttle > 0) {
        size_t n = strlen(status);
        snprintf(status + n, sizeof status - n, " throttled to %lld/s", (long long)l->throttle);
    }
    double done = (double)l->checkpoint, total = (double)l->head;
    if (l->status == PROJ_REBUILDING) {
        done = (double)l->rebuild_checkpoint;
        snprintf(meter, sizeof meter, "rebuild %lld/%lld", (long long)l->rebuild_checkpoint,
                 (long long)l->head);
    } else {
        snprintf(meter, sizeof meter, "%lld/%lld", (long long)l->checkpoint, (long long)l->head);
    }
    if (total <= 0) {
        total = 1;
        done = 1;
    }
    char stats[160];
    snprintf(stats, sizeof stats, " %lld behind %s %s ", (long long)l->events_behind, secs, rate);
    int sw = text_width(stats), stw = text_width(status);
    int mw = a.w - capw - 1 - sw - stw;
    if (mw < 12) {
        /* A narrow screen: the bar matters more than the figures beside it. */
        snprintf(stats, sizeof stats, " ");
        sw = 1;
        mw = a.w - capw - 1 - sw - stw;
    }
    if (mw > 60)
        mw = 60;
    int x = a.x + capw + 1;
    if (mw >= 8) {
        draw_meter(y, x, mw, done, total, status_color(l), meter);
        x += mw;
    }
    x += draw_str(y, x, a.x + a.w - x, stats, 0);
    draw_str(y, x, a.x + a.w - x, status, tui_attr(status_color(l)));
}

static int column_index(const struct projection_spec *p, int c, const char **name)
{
    /* Column 0 is the key when the projection has one. */
    if (p->keyed) {
        if (c == 0) {
            *name = "key";
            return 0;
        }
        c--;
    }
    *name = (size_t)c < p->ncolumns ? p->columns[c] : NULL;
    return c;
}

static int ncols(const struct projection_spec *p)
{
    return (int)p->ncolumns + (p->keyed ? 1 : 0);
}

static bool sort_cmp_rev;
static const char *sort_cmp_name;
static int row_cmp(const void *a, const void *b)
{
    const value *ra = a, *rb = b;
    const value *va = value_map_get(ra, sort_cmp_name), *vb = value_map_get(rb, sort_cmp_name);
    value n = value_null();
    int c = value_compare(va ? va : &n, vb ? vb : &n);
    return sort_cmp_rev ? -c : c;
}

/* The rows to show: rows[offset..offset+limit) in the chosen order, as a list. */
static int rows_page(struct view *v, const struct projection_spec *p, int64_t total, size_t offset,
                     size_t limit, value *out, err *e)
{
    struct proj_view *pv = v->priv;
    struct tui *app = v->app;
    int64_t at = tui_position(app);
    if (pv->sort_col < 0 || pv->key)
        return projection_query(app->store, app->domain, p->name, pv->key, at, offset, limit, out,
                                e);
    const struct proj_lag *l = lag_of(app, p->name);
    int64_t cp = l ? l->checkpoint : 0;
    if (!pv->sorted_valid || pv->sorted_gen != app->generation || pv->sorted_checkpoint != cp ||
        pv->sorted_col != pv->sort_col || pv->sorted_rev != pv->sort_reverse ||
        pv->sorted_sel != pv->sel) {
        value all;
        int rc = projection_query(app->store, app->domain, p->name, NULL, at, 0, SORT_MAX, &all, e);
        if (rc != ST_OK)
            return rc;
        /* Sort a private copy: the list may be shared. */
        value copy = value_copy_deep(&all);
        value_free(all);
        const char *name;
        column_index(p, pv->sort_col, &name);
        sort_cmp_name = name ? name : "key";
        sort_cmp_rev = pv->sort_reverse;
        if (copy.type == V_LIST && value_list_len(&copy) > 1)
            qsort(copy.u.l->items, value_list_len(&copy), sizeof(value), row_cmp);
        value_free(pv->sorted);
        pv->sorted = copy;
        pv->sorted_valid = true;
        pv->sorted_gen = app->generation;
        pv->sorted_checkpoint = cp;
        pv->sorted_col = pv->sort_col;
        pv->sorted_rev = pv->sort_reverse;
        pv->sorted_sel = pv->sel;
    }
    *out = value_list(limit);
    for (size_t i = offset;
         pv->sorted.type == V_LIST && i < value_list_len(&pv->sorted) && i < offset + limit; i++)
        value_list_push(out, value_ref(value_list_at(&pv->sorted, i)));
    (void)total;
    return ST_OK;
}

static void draw_rows(struct view *v, struct area a, const struct projection_spec *p)
{
    struct proj_view *pv = v->priv;
    struct tui *app = v->app;
    int64_t at = tui_position(app);
    int64_t total = 0;
    err e;
    err_clear(&e);
    if (pv->key) {
        total = 1;
    } else if (projection_count(app->store, app->domain, p->name, at, &total, &e) != ST_OK) {
        draw_str(a.y, a.x, a.w, e.msg, tui_attr(TC_ERROR));
        return;
    }
    const char *sname = NULL;
    if (pv->sort_col >= 0)
        column_index(p, pv->sort_col, &sname);
    strbuf t;
    sb_init(&t);
    sb_addf(&t, "%s: %lld row%s", p->name, (long long)total, total == 1 ? "" : "s");
    if (at)
        sb_addf(&t, " as of #%lld", (long long)at);
    if (pv->key)
        sb_addf(&t, ", key %s (Esc: all rows)", pv->key);
    else if (sname)
        sb_addf(&t, ", sorted by %s%s (o: next column, O: reverse)", sname,
                pv->sort_reverse ? " desc" : "");
    else if (!p->keyed)
        sb_adds(&t, " (a projection without a key)");
    else
        sb_adds(&t, ", by key (o sorts)");
    draw_field(a.y, a.x, a.w, t.buf, tui_attr(TC_TITLE));
    sb_done(&t);
    int rows = a.h - 2;
    if (rows < 1)
        return;
    scroll_fix(&pv->sc, (long)total, rows);
    value list = value_null();
    err_clear(&e);
    if (rows_page(v, p, total, (size_t)pv->sc.top, (size_t)rows, &list, &e) != ST_OK) {
        draw_str(a.y + 1, a.x, a.w, e.msg, tui_attr(TC_ERROR));
        return;
    }
    size_t n = list.type == V_LIST ? value_list_len(&list) : 0;
    if (pv->key && n == 0)
        total = 0;
    /* Column widths from the header and the visible cells. */
    int nc = ncols(p);
    int *w = xcalloc((size_t)nc, sizeof *w);
    char **cells = xcalloc((size_t)nc * (n ? n : 1), sizeof *cells);
    for (int c = 0; c < nc; c++) {
        const char *name;
        column_index(p, c, &name);
        w[c] = text_width(name);
        for (size_t r = 0; r < n; r++) {
            const value *row = value_list_at(&list, r);
            const value *cv = row->type == V_MAP ? value_map_get(row, name) : NULL;
            cells[r * (size_t)nc + (size_t)c] = cv ? tui_value_text(cv) : xstrdup("");
            int cw = text_width(cells[r * (size_t)nc + (size_t)c]);
            if (cw > w[c])
                w[c] = cw;
        }
        if (w[c] > 24)
            w[c] = 24;
    }
    int x = a.x + 1;
    for (int c = 0; c < nc && x < a.x + a.w; c++) {
        const char *name;
        column_index(p, c, &name);
        attr_t ha = tui_attr(TC_LABEL) | (c == pv->sort_col ? A_UNDERLINE : 0);
        draw_str(a.y + 1, x, a.x + a.w - x, name, ha);
        x += w[c] + 2;
    }
    if (n == 0)
        draw_str(a.y + 2, a.x + 2, a.w - 2, "No rows.", tui_attr(TC_DIM));
    for (size_t r = 0; r < n && (int)r < rows; r++) {
        int y = a.y + 2 + (int)r;
        bool cur = (long)r + pv->sc.top == pv->sc.cur;
        attr_t attr = cur ? tui_attr(TC_CURSOR) : 0;
        draw_blank(y, a.x, a.w, attr);
        x = a.x + 1;
        for (int c = 0; c < nc && x < a.x + a.w; c++) {
            int cw = w[c] < a.x + a.w - x ? w[c] : a.x + a.w - x;
            draw_str(y, x, cw, cells[r * (size_t)nc + (size_t)c], attr);
            x += w[c] + 2;
        }
    }
    for (size_t i = 0; i < (size_t)nc * (n ? n : 1); i++)
        free(cells[i]);
    free(cells);
    free(w);
    value_free(list);
}

static void proj_draw(struct view *v, struct area a)
{
    struct proj_view *pv = v->priv;
    struct tui *app = v->app;
    const struct domain *d = app->domain;
    if (d->nprojections == 0) {
        draw_str(a.y, a.x, a.w, "The domain has no projections.", tui_attr(TC_DIM));
        return;
    }
    if (pv->sel >= d->nprojections)
        pv->sel = 0;
    draw_field(a.y, a.x, a.w,
               app->as_of ? "Lag gauges, now (the rows below are history)"
                          : "Lag gauges  (h/l choose; p pause/resume, t throttle, R rebuild)",
               tui_attr(TC_TITLE));
    int capw = 4;
    for (size_t i = 0; i < d->nprojections; i++) {
        int nw = text_width(d->projections[i].name);
        if (nw > capw)
            capw = nw;
    }
    if (capw > 18)
        capw = 18;
    int gauges = (int)d->nprojections;
    int maxg = a.h / 3 > 1 ? a.h / 3 : 1;
    size_t first = 0;
    if (gauges > maxg) {
        first = pv->sel >= (size_t)maxg ? pv->sel - (size_t)maxg + 1 : 0;
        gauges = maxg;
    }
    int y = a.y + 1;
    for (int i = 0; i < gauges; i++, y++)
        draw_gauge(v, y, a, &d->projections[first + (size_t)i], capw, first + (size_t)i == pv->sel);
    const struct projection_spec *p = &d->projections[pv->sel];
    const struct proj_lag *l = lag_of(app, p->name);
    if (l && l->status == PROJ_FAILED) {
        char *msg = xasprintf("%s FAILED at #%lld: %s", p->name, (long long)l->error_position,
                              l->error ? l->error : "");
        y += draw_wrapped(y, a.x, a.w, 3, msg, tui_attr(TC_ERROR));
        free(msg);
        msg = xasprintf("event: %s", l->error_event ? l->error_event : "");
        y += draw_wrapped(y, a.x, a.w, 2, msg, 0);
        free(msg);
        draw_str(y++, a.x, a.w, "Fix the domain (or the event's source), then R rebuilds it.",
                 tui_attr(TC_DIM));
    }
    if (a.h >= 10)
        y++; /* a blank row, where there is room for one */
    struct area ra = {y, a.x, a.y + a.h - y, a.w};
    if (ra.h >= 2)
        draw_rows(v, ra, p);
}

/* Enter on a row: its provenance (`:why NAME KEY`, into the output pane, whose
 * lines each move the timeline to their event); the sorted column, when there
 * is one, is the cell asked about. */
static void why_row(struct view *v, const struct projection_spec *p)
{
    struct proj_view *pv = v->priv;
    struct tui *app = v->app;
    value list = value_null();
    err e;
    err_clear(&e);
    if (rows_page(v, p, 0, (size_t)pv->sc.cur, 1, &list, &e) != ST_OK || list.type != V_LIST ||
        value_list_len(&list) == 0) {
        value_free(list);
        tui_error(app, "%s", e.msg[0] ? e.msg : "no row here");
        return;
    }
    const value *k = p->key ? value_map_get(value_list_at(&list, 0), "key") : NULL;
    char *key = k ? tui_value_text(k) : xstrdup("-");
    const char *field = NULL;
    if (pv->sort_col >= 0)
        column_index(p, pv->sort_col, &field);
    if (field && strcmp(field, "key") == 0 && p->key)
        field = NULL;
    /* Quoted for the palette's words: a key may hold spaces. */
    strbuf line;
    sb_init(&line);
    sb_addf(&line, "why %s '", p->name);
    for (const char *c = key; *c; c++)
        sb_adds(&line, *c == '\'' ? "'\"'\"'" : (char[2]){*c, 0});
    sb_addf(&line, "'%s%s", field ? " " : "", field ? field : "");
    palette_run(app, line.buf);
    sb_done(&line);
    free(key);
    value_free(list);
}

static enum request proj_request(struct view *v, enum request req)
{
    struct proj_view *pv = v->priv;
    struct tui *app = v->app;
    const struct domain *d = app->domain;
    if (d->nprojections == 0)
        return req;
    const struct projection_spec *p = &d->projections[pv->sel];
    char buf[300];
    switch (req) {
    case REQ_PROJ_NEXT:
        pv->sel = (pv->sel + 1) % d->nprojections;
        pv->sc.top = pv->sc.cur = 0;
        pv->sort_col = -1;
        free(pv->key);
        pv->key = NULL;
        break;
    case REQ_PROJ_PREV:
        pv->sel = (pv->sel + d->nprojections - 1) % d->nprojections;
        pv->sc.top = pv->sc.cur = 0;
        pv->sort_col = -1;
        free(pv->key);
        pv->key = NULL;
        break;
    case REQ_PROJ_PAUSE: {
        const struct proj_lag *l = lag_of(app, p->name);
        snprintf(buf, sizeof buf, "%s %s", l && l->status == PROJ_PAUSED ? "resume" : "pause",
                 p->name);
        palette_run(app, buf);
        break;
    }
    case REQ_PROJ_THROTTLE:
        snprintf(buf, sizeof buf, "throttle %s ", p->name);
        tui_prompt(app, buf);
        break;
    case REQ_PROJ_REBUILD:
        snprintf(buf, sizeof buf, "rebuild %s", p->name);
        palette_run(app, buf);
        break;
    case REQ_PROJ_SORT:
        if (pv->key)
            break;
        {
            int64_t total = 0;
            err e;
            err_clear(&e);
            projection_count(app->store, d, p->name, tui_position(app), &total, &e);
            if (total > SORT_MAX) {
                tui_error(app,
                          "%s has %lld rows: sorting by a column is offered up to %d rows; "
                          "they stay in key order",
                          p->name, (long long)total, SORT_MAX);
                break;
            }
        }
        pv->sort_col++;
        if (pv->sort_col >= ncols(p))
            pv->sort_col = -1;
        pv->sc.top = pv->sc.cur = 0;
        break;
    case REQ_PROJ_SORT_REVERSE:
        if (pv->sort_col < 0)
            pv->sort_col = 0;
        pv->sort_reverse = !pv->sort_reverse;
        break;
    case REQ_ENTER:
        why_row(v, p);
        break;
    case REQ_BACK:
        if (!pv->key)
            return req;
        free(pv->key);
        pv->key = NULL;
        break;
    default: {
        long rows = v->last.h - (long)d->nprojections - 4;
        if (rows < 1)
            rows = 1;
        int64_t total = 0;
        err e;
        err_clear(&e);
        projection_count(app->store, d, p->name, tui_position(app), &total, &e);
        if (scroll_request(&pv->sc, req, (long)total, rows))
            return REQ_NONE;
        return req;
    }
    }
    return REQ_NONE;
}

static void proj_click(struct view *v, int row)
{
    struct proj_view *pv = v->priv;
    const struct domain *d = v->app->domain;
    if (row >= 1 && (size_t)(row - 1) < d->nprojections && row - 1 < v->last.h / 3) {
        if (pv->sel != (size_t)(row - 1)) {
            pv->sel = (size_t)(row - 1);
            pv->sc.top = pv->sc.cur = 0;
            pv->sort_col = -1;
        }
    }
}

const struct view_ops view_projections_ops = {
    .keymap = KM_PROJECTIONS,
    .open = proj_open,
    .close = proj_close,
    .draw = proj_draw,
    .request = proj_request,
    .click = proj_click,
    .open_with = proj_open_with,
};
