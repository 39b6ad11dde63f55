/* view_compare.c: main and a what-if branch side by side (:compare BRANCH
 * AGGREGATE ID, or :compare BRANCH PROJECTION): an aggregate's state field by
 * field, or a read model's rows column by column, main on the left and the branch
 * on the right, the lines that differ marked and highlighted. What is compared is
 * read when the view is opened (r reads it again). */
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/projection.h"
#include "tui/lines.h"
#include "tui/tui.h"

struct cmp_row {
    char *label, *left, *right;
    bool differs;
};

struct compare_view {
    char *branch, *what; /* "Account A" or "AccountList" */
    char **args;
    int nargs;
    struct cmp_row *rows;
    size_t n, ndiff;
    struct scroll sc;
    char error[1024];
};

static void rows_clear(struct compare_view *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->rows[i].label);
        free(c->rows[i].left);
        free(c->rows[i].right);
    }
    free(c->rows);
    c->rows = NULL;
    c->n = c->ndiff = 0;
}

static char *cell(const value *v)
{
    return v ? tui_value_text(v) : xstrdup("-");
}

static void add_row(struct compare_view *c, char *label, const value *l, const value *r)
{
    c->rows = xrealloc(c->rows, (c->n + 1) * sizeof *c->rows);
    struct cmp_row *row = &c->rows[c->n++];
    row->label = label;
    row->left = cell(l);
    row->right = cell(r);
    row->differs = !l || !r || !value_equal(l, r);
    c->ndiff += row->differs;
}

/* Every field of two maps: a's in order, then those only b has. */
static void add_maps(struct compare_view *c, const char *prefix, const value *a, const value *b,
                     const char *skip)
{
    static const value none;
    const value *ma = a ? a : &none, *mb = b ? b : &none;
    for (size_t i = 0; a && i < value_map_len(ma); i++) {
        const char *k = value_str(value_map_key_at(ma, i));
        if (!skip || strcmp(k, skip) != 0)
            add_row(c, xasprintf("%s%s", prefix, k), value_map_val_at(ma, i),
                    b ? value_map_get(mb, k) : NULL);
    }
    for (size_t i = 0; b && i < value_map_len(mb); i++) {
        const char *k = value_str(value_map_key_at(mb, i));
        if ((!skip || strcmp(k, skip) != 0) && (!a || !value_map_get(ma, k)))
            add_row(c, xasprintf("%s%s", prefix, k), NULL, value_map_val_at(mb, i));
    }
}

static const char *key_of(const value *row)
{
    const value *k = value_map_get(row, "key");
    return k && k->type == V_STRING ? value_str(k) : "";
}

/* Reads both sides again: main (the workbench's main store) and the branch. */
static void load(struct view *v)
{
    struct compare_view *c = v->priv;
    struct tui *app = v->app;
    rows_clear(c);
    c->error[0] = 0;
    err e;
    err_clear(&e);
    struct store_options o = STORE_OPTIONS_DEFAULT;
    o.create = false;
    o.branch = c->branch;
    struct store *b = store_open(app->db_path, &o, &e), *m = app->main_store;
    if (!b) {
        snprintf(c->error, sizeof c->error, "%s", e.msg);
        return;
    }
    int rc = ST_OK;
    if (c->nargs == 2) {
        const struct aggregate_spec *a = domain_find_aggregate(app->domain, c->args[0], &e);
        struct agg_state sm, sb;
        rc = a ? aggregate_load(m, app->domain, a, c->args[1], 0, false, &sm, &e) : ST_ERR;
        if (rc == ST_OK) {
            if ((rc = aggregate_load(b, app->domain, a, c->args[1], 0, false, &sb, &e)) == ST_OK) {
                value vm = value_int(sm.version), vb = value_int(sb.version);
                add_row(c, xstrdup("(version)"), &vm, &vb);
                add_maps(c, "", &sm.state, &sb.state, NULL);
                agg_state_done(&sb);
            }
            agg_state_done(&sm);
        }
    } else {
        value rm = value_null(), rb = value_null();
        const char *name = c->args[0];
        rc = projection_catch_up(m, app->domain, name, 0, false, NULL, &e);
        if (rc == ST_OK)
            rc = projection_catch_up(b, app->domain, name, 0, false, NULL, &e);
        if (rc == ST_OK)
            rc = projection_query(m, app->domain, name, NULL, 0, 0, 0, &rm, &e);
        if (rc == ST_OK)
            rc = projection_query(b, app->domain, name, NULL, 0, 0, 0, &rb, &e);
        size_t i = 0, j = 0, na = rc == ST_OK ? value_list_len(&rm) : 0,
               nb = rc == ST_OK ? value_list_len(&rb) : 0;
        while (i < na || j < nb) {
            const value *x = i < na ? value_list_at(&rm, i) : NULL;
            const value *y = j < nb ? value_list_at(&rb, j) : NULL;
            int cmp = !x ? 1 : !y ? -1 : strcmp(key_of(x), key_of(y));
            const char *k = cmp <= 0 ? key_of(x) : key_of(y);
            char *prefix = *k ? xasprintf("%s.", k) : xstrdup("");
            add_maps(c, prefix, cmp <= 0 ? x : NULL, cmp >= 0 ? y : NULL, "key");
            free(prefix);
            i += cmp <= 0;
            j += cmp >= 0;
        }
        value_free(rm);
        value_free(rb);
    }
    store_close(b);
    if (rc != ST_OK)
        snprintf(c->error, sizeof c->error, "%s", e.msg);
}

static void compare_open(struct view *v)
{
    v->priv = xcalloc(1, sizeof(struct compare_view));
}

static void free_args(struct compare_view *c)
{
    for (int i = 0; i < c->nargs; i++)
        free(c->args[i]);
    free(c->args);
    free(c->branch);
    free(c->what);
    c->args = NULL;
    c->branch = c->what = NULL;
    c->nargs = 0;
}

static void compare_close(struct view *v)
{
    struct compare_view *c = v->priv;
    rows_clear(c);
    free_args(c);
    free(c);
}

static int compare_open_with(struct view *v, int argc, const char *const *argv, err *e)
{
    struct compare_view *c = v->priv;
    if (argc != 2 && argc != 3)
        return err_set(e, ST_USAGE, "usage: :compare BRANCH AGGREGATE ID | BRANCH PROJECTION");
    free_args(c);
    c->branch = xstrdup(argv[0]);
    c->nargs = argc - 1;
    c->args = xcalloc((size_t)c->nargs, sizeof *c->args);
    for (int i = 0; i < c->nargs; i++)
        c->args[i] = xstrdup(argv[i + 1]);
    c->what = argc == 3 ? xasprintf("%s %s", argv[1], argv[2]) : xstrdup(argv[1]);
    c->sc.top = c->sc.cur = 0;
    load(v);
    if (c->error[0])
        return err_set(e, ST_ERR, "%s", c->error);
    tui_message(v->app, "%zu of %zu lines differ between main and %s", c->ndiff, c->n, c->branch);
    return ST_OK;
}

static void compare_draw(struct view *v, struct area a)
{
    struct compare_view *c = v->priv;
    if (!c->branch) {
        draw_str(a.y, a.x, a.w, "Compare", tui_attr(TC_TITLE));
        draw_str(a.y + 2, a.x + 2, a.w - 2,
                 "Nothing yet: :compare BRANCH AGGREGATE ID or :compare BRANCH PROJECTION.",
                 tui_attr(TC_DIM));
        return;
    }
    draw_fmt(a.y, a.x, a.w, tui_attr(TC_TITLE),
             "%s: main | %s  (%zu of %zu differ; C-l reads again)", c->what, c->branch, c->ndiff,
             c->n);
    if (c->error[0]) {
        draw_str(a.y + 2, a.x + 2, a.w - 2, c->error, tui_attr(TC_ERROR));
        return;
    }
    int lw = 8;
    for (size_t i = 0; i < c->n; i++) {
        int w = text_width(c->rows[i].label);
        if (w > lw)
            lw = w;
    }
    if (lw > a.w / 3)
        lw = a.w / 3;
    int half = (a.w - lw - 5) / 2;
    int xl = a.x + 2 + lw + 1, xr = xl + half + 2;
    attr_t lab = tui_attr(TC_LABEL), dim = tui_attr(TC_DIM);
    draw_str(a.y + 1, xl, half, "main", lab);
    draw_str(a.y + 1, xr - 2, 2, "│", dim);
    draw_str(a.y + 1, xr, half, c->branch, lab);
    int body = a.h - 2;
    if (c->sc.top > 0 && (size_t)c->sc.top >= c->n)
        c->sc.top = 0;
    for (int r = 0; r < body && (size_t)(c->sc.top + r) < c->n; r++) {
        const struct cmp_row *row = &c->rows[c->sc.top + r];
        int y = a.y + 2 + r;
        attr_t at = row->differs ? tui_attr(TC_CHANGE) : tui_attr(TC_NORMAL);
        draw_str(y, a.x, 2, row->differs ? "≠" : " ", at);
        draw_str(y, a.x + 2, lw, row->label, row->differs ? at : lab);
        draw_str(y, xl, half, row->left, at);
        draw_str(y, xr - 2, 2, "│", dim);
        draw_str(y, xr, half, row->right, at);
    }
}

static enum request compare_request(struct view *v, enum request req)
{
    struct compare_view *c = v->priv;
    int rows = v->last.h > 2 ? v->last.h - 2 : 10;
    if (req == REQ_BACK) {
        tui_show(v->app, v->app->previous);
        return REQ_NONE;
    }
    if (req == REQ_REFRESH && c->branch)
        load(v); /* and the generic redraw */
    if (scroll_page_request(&c->sc, req, (long)c->n, rows))
        return REQ_NONE;
    return req;
}

const struct view_ops view_compare_ops = {
    .keymap = KM_GENERIC,
    .open = compare_open,
    .close = compare_close,
    .draw = compare_draw,
    .request = compare_request,
    .open_with = compare_open_with,
};
