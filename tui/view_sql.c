/* view_sql.c: the SQL view: the rows of the statement typed at the `;` prompt
 * (palette.c), in a table whose columns are sized to their content (up to a
 * cap), scrolled up and down (rows) and left and right (columns). The statement
 * runs through the store's query operation (store.h: read-only, its own
 * connection, one statement, a time limit); the view keeps at most SQL_ROWS_MAX
 * rows and says when there were more. SQL reads the store as it is now, not as
 * of the timeline: the title says so when the timeline is scrubbed back. */
#include <math.h>
#include <stdio.h>

#include "core/json.h"
#include "tui/lines.h"
#include "tui/tui.h"

#define SQL_ROWS_MAX 10000
#define SQL_COL_MAX 40      /* columns wider than this are cut (the cell ends in …) */
#define SQL_TIMEOUT_MS 5000 /* the screen waits for it: shorter than the command line's */

struct sql_view {
    char *sql;
    char **cols;
    size_t ncols;
    char **cells; /* nrows * ncols */
    size_t nrows, caprows;
    bool more; /* rows beyond SQL_ROWS_MAX */
    int *width;
    char *error;
    struct scroll sc;
    size_t left; /* first column shown */
};

static void sql_clear(struct sql_view *q)
{
    free(q->sql);
    for (size_t i = 0; i < q->ncols; i++)
        free(q->cols[i]);
    free(q->cols);
    for (size_t i = 0; i < q->nrows * q->ncols; i++)
        free(q->cells[i]);
    free(q->cells);
    free(q->width);
    free(q->error);
    memset(q, 0, sizeof *q);
}

static void sql_open(struct view *v)
{
    v->priv = xcalloc(1, sizeof(struct sql_view));
}

static void sql_close(struct view *v)
{
    sql_clear(v->priv);
    free(v->priv);
}

static char *cell_text(const struct store_cell *c)
{
    strbuf sb;
    sb_init(&sb);
    switch (c->type) {
    case CELL_NULL:
        sb_adds(&sb, "null");
        break;
    case CELL_INT:
        sb_addf(&sb, "%lld", (long long)c->i);
        break;
    case CELL_FLOAT:
        if (isfinite(c->f))
            json_write_double(&sb, c->f);
        else
            sb_adds(&sb, isnan(c->f) ? "NaN" : c->f > 0 ? "Inf" : "-Inf");
        break;
    case CELL_TEXT:
        sb_add(&sb, c->p, c->len); /* sanitized when drawn */
        break;
    case CELL_BLOB:
        sb_adds(&sb, "x'");
        for (size_t i = 0; i < c->len && i < 64; i++)
            sb_addf(&sb, "%02x", (unsigned char)c->p[i]);
        sb_adds(&sb, c->len > 64 ? "...'" : "'");
        break;
    }
    return sb.buf ? sb.buf : xstrdup("");
}

static int cell_width(const char *s)
{
    strbuf sb;
    sb_init(&sb);
    tui_sanitize(&sb, s, strlen(s));
    int w = text_width(sb.buf ? sb.buf : "");
    sb_done(&sb);
    return w > SQL_COL_MAX ? SQL_COL_MAX : w;
}

static void on_columns(void *ctx, const char *const *names, size_t n)
{
    struct sql_view *q = ctx;
    q->ncols = n;
    q->cols = xcalloc(n + 1, sizeof *q->cols);
    q->width = xcalloc(n + 1, sizeof *q->width);
    for (size_t i = 0; i < n; i++) {
        q->cols[i] = xstrdup(names[i]);
        q->width[i] = cell_width(names[i]);
    }
}

static int on_row(void *ctx, const struct store_cell *cells, size_t n)
{
    struct sql_view *q = ctx;
    if (q->nrows == SQL_ROWS_MAX) {
        q->more = true;
        return 1;
    }
    if (q->nrows == q->caprows) {
        q->caprows = q->caprows ? q->caprows * 2 : 64;
        q->cells = xrealloc(q->cells, q->caprows * (n ? n : 1) * sizeof *q->cells);
    }
    for (size_t i = 0; i < n; i++) {
        char *t = cell_text(&cells[i]);
        int w = cell_width(t);
        if (w > q->width[i])
            q->width[i] = w;
        q->cells[q->nrows * n + i] = t;
    }
    q->nrows++;
    return 0;
}

/* The words: the statement (the `;` prompt gives it whole). */
static int sql_open_with(struct view *v, int argc, const char *const *argv, err *e)
{
    struct sql_view *q = v->priv;
    if (argc != 1)
        return err_set(e, ST_USAGE, "usage: ; SELECT ... (one statement)");
    sql_clear(q);
    q->sql = xstrdup(argv[0]);
    struct store_query_sink sink = {q, on_columns, on_row};
    int rc = store_query(v->app->store, q->sql, SQL_TIMEOUT_MS, &sink, e);
    if (rc != ST_OK) {
        q->error = xstrdup(e->msg);
        return rc;
    }
    tui_message(v->app, "%zu row%s%s", q->nrows, q->nrows == 1 ? "" : "s",
                q->more ? " (the first 10000)" : "");
    return ST_OK;
}

static void sql_draw(struct view *v, struct area a)
{
    struct sql_view *q = v->priv;
    if (!q->sql) {
        draw_str(a.y, a.x, a.w, "SQL", tui_attr(TC_TITLE));
        draw_str(
            a.y + 2, a.x + 2, a.w - 2,
            "Type ; and a read-only statement: SELECT type, count(*) FROM events GROUP BY type",
            tui_attr(TC_DIM));
        return;
    }
    int x = a.x + draw_str(a.y, a.x, a.w, "SQL: ", tui_attr(TC_TITLE));
    draw_str(a.y, x, a.x + a.w - x, q->sql, tui_attr(TC_TITLE));
    if (q->error) {
        draw_wrapped(a.y + 2, a.x + 2, a.w - 2, a.h - 2, q->error, tui_attr(TC_ERROR));
        return;
    }
    char note[160];
    snprintf(note, sizeof note, "%zu row%s%s%s", q->nrows, q->nrows == 1 ? "" : "s",
             q->more ? ", the first 10000 shown" : "",
             v->app->as_of ? "; SQL reads the store now, not as of the timeline" : "");
    draw_str(a.y + 1, a.x, a.w, note, tui_attr(TC_DIM));
    int body = a.h - 3;
    if (body < 1)
        return;
    scroll_fix(&q->sc, (long)q->nrows, body);
    if (q->left >= q->ncols && q->ncols)
        q->left = q->ncols - 1;
    for (int row = -1; row < body; row++) {
        size_t r = (size_t)(q->sc.top + row);
        if (row >= 0 && r >= q->nrows)
            break;
        int cx = a.x;
        for (size_t c = q->left; c < q->ncols && cx < a.x + a.w; c++) {
            const char *t = row < 0 ? q->cols[c] : q->cells[r * q->ncols + c];
            attr_t at = row < 0 ? tui_attr(TC_LABEL) : tui_attr(TC_NORMAL);
            int w = q->width[c];
            if (cx + w > a.x + a.w)
                w = a.x + a.w - cx;
            draw_str(a.y + 2 + row + 1, cx, w, t, at);
            cx += q->width[c] + 2;
        }
    }
}

static enum request sql_request(struct view *v, enum request req)
{
    struct sql_view *q = v->priv;
    int rows = v->last.h > 3 ? v->last.h - 3 : 1;
    switch (req) {
    case REQ_SQL_LEFT:
        if (q->left > 0)
            q->left--;
        return REQ_NONE;
    case REQ_SQL_RIGHT:
        if (q->left + 1 < q->ncols)
            q->left++;
        return REQ_NONE;
    case REQ_BACK:
        tui_show(v->app, v->app->previous);
        return REQ_NONE;
    default:
        if (scroll_page_request(&q->sc, req, (long)q->nrows, rows))
            return REQ_NONE;
        return req;
    }
}

const struct view_ops view_sql_ops = {
    .keymap = KM_SQL,
    .open = sql_open,
    .close = sql_close,
    .draw = sql_draw,
    .request = sql_request,
    .open_with = sql_open_with,
};
