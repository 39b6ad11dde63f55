/* tui.c: the workbench's main loop and what it owns: the shared state, keys and
 * the mouse turned into requests and handed to the current view (then to the
 * generic handler), polling the store for events other processes append, time
 * travel, the message line, opening views, and drawing a frame. The terminal
 * (terminal.c), the frame's header and scrubber (frame.c), background jobs
 * (jobs.c), the script player (script.c) and the palette (palette.c,
 * palette_verbs.c) are modules it drives; they call back into it.
 *
 * Screen rows, top to bottom: header; tabs (or, in "as of" mode, the banner);
 * the current view; the scrubber's histogram; the scrubber's label; the message
 * line (or the palette). */
#include "tui/tui.h"

#include "tui/command_log.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "core/store_branch.h"
#include "tui/ask_domain.h"
#include "tui/frame.h"
#include "tui/jobs.h"
#include "tui/palette.h"
#include "tui/palette_verbs.h"
#include "tui/script.h"
#include "tui/terminal.h"
#include "tui/verb_pane.h"

/* ---------------------------------------------------------------------------
 * The message line, switching views, marking what is shown out of date. */

void tui_message(struct tui *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->message, sizeof app->message, fmt, ap);
    va_end(ap);
    app->message_error = false;
    app->message_asof = false;
    app->message_ms = time_now_ms();
    app->dirty = true;
}

void tui_error(struct tui *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->message, sizeof app->message, fmt, ap);
    va_end(ap);
    app->message_error = true;
    app->message_asof = false;
    app->message_ms = time_now_ms();
    app->dirty = true;
}

void tui_show(struct tui *app, enum view_id id)
{
    if (id >= VIEW_COUNT)
        return;
    if (id != app->current)
        app->previous = app->current;
    app->current = id;
    /* The view takes its pane of the dashboard, and the focus with it. */
    int s = layout_slot(id);
    if (s >= 0)
        app->slot[s] = id;
    app->dirty = true;
}

void tui_changed(struct tui *app)
{
    app->generation++;
    app->dirty = true;
}

void tui_prompt(struct tui *app, const char *prefill)
{
    palette_open(app, prefill);
}

/* ---------------------------------------------------------------------------
 * Polling the store and the projections. */

void tui_poll(struct tui *app, bool force_status)
{
    int64_t now = time_now_ms();
    err e;
    err_clear(&e);
    int64_t h = 0;
    /* A look, not a wait: on PostgreSQL no round trip unless a commit was announced. */
    int hrc = store_wait_head(app->store, app->head, 0, &h, &e);
    if (hrc == ST_OK && h != app->head) {
        app->head = h;
        tui_changed(app);
    }
    /* A server's connection lost: said once, and then that it was opened again
     * (the store reconnects by itself at its next statement). */
    if (hrc != ST_OK && !app->store_lost) {
        app->store_lost = true;
        tui_error(app, "%s", e.msg);
    }
    int64_t session = store_session(app->store);
    if (session && app->store_session && session != app->store_session) {
        char was[sizeof app->message];
        snprintf(was, sizeof was, "%s",
                 app->store_lost ? app->message : "the server closed the connection");
        app->store_lost = false;
        tui_message(app, "Reconnected to the store after: %s", was);
        tui_changed(app);
    }
    if (session)
        app->store_session = session;
    if (app->spark_ms == 0) {
        app->spark_ms = now;
        app->spark_head = app->head;
    } else if (now - app->spark_ms >= 1000) {
        double rate =
            (double)(app->head - app->spark_head) * 1000.0 / (double)(now - app->spark_ms);
        memmove(app->spark, app->spark + 1, (TUI_SPARK - 1) * sizeof app->spark[0]);
        app->spark[TUI_SPARK - 1] = rate;
        app->spark_ms = now;
        app->spark_head = app->head;
        if (!app->deterministic)
            app->dirty = true;
    }
    if (!app->ask && (force_status || now - app->last_status_ms >= 500)) {
        struct proj_lag *lags = NULL;
        size_t n = 0;
        err_clear(&e);
        if (projection_status(app->store, app->domain, &lags, &n, &e) == ST_OK) {
            proj_lag_free(app->lags, app->nlags);
            app->lags = lags;
            app->nlags = n;
            app->dirty = true;
            command_log_poll(app); /* the Log view follows the folding */
        }
        app->last_status_ms = now;
    }
    tui_jobs_reap(app);
}

/* tui_goto's message, from the state now: the head moves on while it shows. */
static void asof_message(struct tui *app)
{
    if (app->as_of)
        snprintf(app->message, sizeof app->message,
                 "As of position %lld of %lld: every pane shows history. L returns to live.",
                 (long long)app->as_of, (long long)app->head);
    else
        snprintf(app->message, sizeof app->message,
                 "Live: showing the store as it is now (head %lld).", (long long)app->head);
}

void tui_goto(struct tui *app, int64_t pos)
{
    int64_t old = app->as_of;
    if (pos <= 0 || pos >= app->head)
        app->as_of = 0;
    else
        app->as_of = pos;
    if (old != app->as_of)
        tui_changed(app);
    tui_message(app, "%s", "");
    app->message_asof = true;
    asof_message(app);
}

/* ---------------------------------------------------------------------------
 * Drawing a frame. */

static void draw_message(struct tui *app, int y)
{
    draw_blank(y, 0, COLS, 0);
    if (app->palette_active) {
        palette_draw(app, y);
        return;
    }
    if (app->message_asof && app->message[0]) /* not once something cleared it */
        asof_message(app);
    /* A message says what just happened; after a while it would mislead. A
     * script's screens must not depend on the clock, so there they stay. */
    if (!app->deterministic && !app->message_error && app->message[0] &&
        time_now_ms() - app->message_ms > 10000) {
        app->message[0] = 0;
        app->message_asof = false;
    }
    if (!app->message[0])
        return;
    /* An error too long for its line takes the scrubber's label line too: the
     * part cut off is usually the part that says why. */
    if (app->message_error && text_width(app->message) > COLS) {
        draw_blank(y - 1, 0, COLS, 0);
        draw_wrapped(y - 1, 0, COLS, 2, app->message, tui_attr(TC_ERROR));
        return;
    }
    draw_str(y, 0, COLS, app->message, app->message_error ? tui_attr(TC_ERROR) : 0);
}

/* STRATA_TUI_TIMING=FILE: one line per frame with the time it took to draw, and
 * the CPU time this thread spent on it (what a busy machine's scheduler does not
 * change), for measuring (the scrubber's step on a large store, say). */
static FILE *timing;

static void draw_frame(struct tui *app);

static double ms_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

void tui_draw(struct tui *app)
{
    struct timespec t0, t1, c0, c1;
    if (timing) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    }
    draw_frame(app);
    if (timing) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        fprintf(timing, "draw %.3f ms view=%s as_of=%lld head=%lld cpu=%.3f\n",
                ms_between(&t0, &t1), view_name(app->current), (long long)app->as_of,
                (long long)app->head, ms_between(&c0, &c1));
    }
}

static void draw_frame(struct tui *app)
{
    erase();
    if (LINES < 10 || COLS < 40) {
        draw_str(0, 0, COLS, "The terminal is too small for the workbench (40x10 at least).",
                 tui_attr(TC_ERROR));
        refresh();
        app->dirty = false;
        return;
    }
    if (app->ask) {
        ask_domain_draw(app);
        refresh();
        app->dirty = false;
        return;
    }
    frame_draw_header(app);
    frame_draw_tabs_or_banner(app);
    layout_compute(app, &app->layout);
    /* The focused pane last: where the cursor goes is its to say. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < app->layout.npanes; i++) {
            const struct pane *p = &app->layout.panes[i];
            if ((p->view == app->current) != (pass == 1))
                continue;
            struct view *v = &app->views[p->view];
            v->last = p->a;
            app->cursor_y = app->cursor_x = -1;
            v->ops->draw(v, p->a);
        }
    if (app->layout.sep_x >= 0)
        frame_draw_separator(app, app->layout.sep_x, app->layout.panes[0].a);
    if (app->layout.gauges.h > 0)
        frame_draw_gauges(app, app->layout.gauges);
    frame_draw_scrubber(app, LINES - 3);
    draw_message(app, LINES - 1);
    if (app->palette_active && app->message[0]) {
        /* The palette covers the message line: completions and errors show above it. */
        draw_blank(LINES - 2, 0, COLS, 0);
        draw_str(LINES - 2, 0, COLS, app->message,
                 app->message_error ? tui_attr(TC_ERROR) : tui_attr(TC_KEY));
    }
    /* The terminal cursor shows only where typing goes (palette, form field). */
    if (app->cursor_y >= 0 && !app->deterministic) {
        curs_set(1);
        move(app->cursor_y, app->cursor_x);
    } else {
        curs_set(0);
    }
    refresh();
    app->dirty = false;
}

/* ---------------------------------------------------------------------------
 * Requests, keys and the mouse. */

static void generic_request(struct tui *app, enum request req)
{
    int64_t cur = tui_shown_head(app);
    int64_t page = app->head / (frame_scrub_width() > 0 ? frame_scrub_width() : 1);
    if (page < 1)
        page = 1;
    for (int v = 0; v < VIEW_COUNT; v++)
        if (req == view_request((enum view_id)v)) {
            /* Help opens at its top (its open_with rewinds it), not where it was left. */
            if (v == VIEW_HELP)
                tui_open_view(app, VIEW_HELP, NULL);
            tui_show(app, (enum view_id)v);
            app->dirty = true;
            return;
        }
    switch (req) {
    case REQ_VIEW_NEXT:
    case REQ_VIEW_PREV:
        if (tui_dashboard(app) && layout_slot(app->current) >= 0) {
            /* Two panes: either key moves the focus to the other one. */
            tui_show(app, app->slot[1 - layout_slot(app->current)]);
            break;
        }
        {
            /* Through the tabs; from a view without a tab (help), i is one past them. */
            struct tab tabs[VIEW_COUNT];
            int n = frame_tabs(tabs);
            int i = 0;
            while (i < n && tabs[i].view != app->current)
                i++;
            i = req == REQ_VIEW_NEXT ? (i + 1) % n : (i + n - 1) % n;
            tui_show(app, tabs[i].view);
            break;
        }
    case REQ_ZOOM:
        if (!layout_dashboard_fits()) {
            tui_message(app, "One view at a time: the dashboard needs %dx%d at least",
                        LAYOUT_DASH_COLS, LAYOUT_DASH_LINES);
            break;
        }
        app->zoomed = !app->zoomed;
        tui_message(app, app->zoomed ? "Zoomed: z returns to the dashboard"
                                     : "Dashboard: Tab or a number focuses a pane, z zooms");
        break;
    case REQ_PROMPT:
        tui_prompt(app, "");
        break;
    case REQ_SQL_PROMPT:
        palette_open_sql(app);
        break;
    case REQ_QUIT:
        app->quit = true;
        break;
    case REQ_INTERRUPT:
        /* Nothing to cancel: Ctrl-C quits, with the status a shell expects. */
        app->quit = true;
        app->exit_status = 128 + 2;
        break;
    case REQ_BACK:
        if (app->current == VIEW_HELP)
            tui_show(app, app->previous);
        break;
    case REQ_REBUILD_STALE:
        palette_run(app, "project --rebuild-stale");
        break;
    case REQ_REFRESH:
        clearok(curscr, TRUE);
        app->dirty = true;
        break;
    case REQ_SCRUB_BACK:
        if (app->head > 0)
            tui_goto(app, cur - 1 < 1 ? 1 : cur - 1);
        break;
    case REQ_SCRUB_FORWARD:
        if (app->as_of)
            tui_goto(app, cur + 1);
        break;
    case REQ_SCRUB_PAGE_BACK:
        if (app->head > 0)
            tui_goto(app, cur - page < 1 ? 1 : cur - page);
        break;
    case REQ_SCRUB_PAGE_FORWARD:
        if (app->as_of)
            tui_goto(app, cur + page);
        break;
    case REQ_SCRUB_GOTO:
        tui_prompt(app, "goto ");
        break;
    case REQ_SCRUB_LIVE:
        tui_goto(app, 0);
        break;
    case REQ_NONE:
        break;
    default: {
        size_t n;
        const struct request_info *t = request_table(&n);
        for (size_t i = 0; i < n; i++)
            if (t[i].request == req) {
                tui_message(app, "%s: not available in this view", t[i].help);
                break;
            }
        break;
    }
    }
    app->dirty = true;
}

static void dispatch(struct tui *app, enum request req)
{
    struct view *v = &app->views[app->current];
    enum request r = v->ops->request ? v->ops->request(v, req) : req;
    if (r != REQ_NONE)
        generic_request(app, r);
    app->dirty = true;
}

void tui_mouse(struct tui *app, int y, int x, mmask_t bstate)
{
    app->dirty = true;
    if (app->no_mouse)
        return;
    int pane = layout_pane_at(&app->layout, y, x);
    if (bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        /* The wheel scrolls the pane under the pointer (and focuses it). */
        if (pane >= 0 && app->layout.panes[pane].view != app->current)
            tui_show(app, app->layout.panes[pane].view);
        dispatch(app, bstate & BUTTON4_PRESSED ? REQ_MOVE_UP : REQ_MOVE_DOWN);
        return;
    }
    int64_t pos;
    if (app->scrub_drag && (bstate & (REPORT_MOUSE_POSITION | BUTTON1_RELEASED))) {
        /* Dragging the scrubber: the pointer's column, whatever its row. */
        if (frame_scrub_at(app, x, &pos))
            tui_goto(app, pos);
        if (bstate & BUTTON1_RELEASED)
            app->scrub_drag = false;
        return;
    }
    if (!(bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)))
        return;
    if (y == 1 && !app->as_of) {
        /* A click on a tab: the tab bar's own layout says which. */
        enum view_id tab = frame_tab_at(x);
        if (tab < VIEW_COUNT)
            tui_show(app, tab);
    } else if (y == LINES - 3 && app->head > 0) {
        if (frame_scrub_at(app, x, &pos))
            tui_goto(app, pos);
        app->scrub_drag = (bstate & BUTTON1_PRESSED) != 0;
    } else if (pane >= 0) {
        /* A click in a pane focuses it, then selects the row under it. */
        enum view_id id = app->layout.panes[pane].view;
        if (id != app->current)
            tui_show(app, id);
        struct view *v = &app->views[id];
        if (v->ops->click)
            v->ops->click(v, y - v->last.y);
    }
}

static void handle_mouse(struct tui *app)
{
    MEVENT me;
    if (getmouse(&me) == OK)
        tui_mouse(app, me.y, me.x, me.bstate);
}

void tui_handle_key(struct tui *app, int key)
{
    app->dirty = true;
    if (app->ask) {
        ask_domain_key(app, key);
        return;
    }
    if (app->palette_active) {
        if (key == 3) {
            /* Ctrl-C cancels the prompt, as in every shell (Esc does the same). */
            palette_key(app, 27);
            tui_message(app, "Cancelled (Ctrl-C again quits)");
            return;
        }
        palette_key(app, key);
        return;
    }
    if (key == KEY_RESIZE)
        return;
    if (key == KEY_MOUSE) {
        handle_mouse(app);
        return;
    }
    struct view *v = &app->views[app->current];
    if (v->ops->typing && v->ops->typing(v)) {
        /* Editing: every key is the field's; the view says which it ignores. */
        if (!v->ops->key || !v->ops->key(v, key))
            tui_message(app, "%s does nothing while editing (Enter or Esc ends the edit)",
                        key_name(key));
        return;
    }
    enum request r = keys_lookup(v->ops->keymap, key);
    if (r == REQ_NONE) {
        if (v->ops->key && v->ops->key(v, key))
            return;
        tui_message(app, "%s is not bound here; ? lists the keys", key_name(key));
        return;
    }
    dispatch(app, r);
}

/* ---------------------------------------------------------------------------
 * Saving the screen, resizing. */

int tui_save_display(struct tui *app, const char *path, err *e)
{
    tui_draw(app);
    strbuf sb;
    sb_init(&sb);
    wchar_t *row = xmalloc(((size_t)COLS + 1) * sizeof *row);
    for (int y = 0; y < LINES; y++) {
        int n = mvinnwstr(y, 0, row, COLS);
        if (n < 0)
            n = 0;
        size_t start = sb.len;
        mbstate_t st;
        memset(&st, 0, sizeof st);
        for (int i = 0; i < n && row[i]; i++) {
            char mb[MB_LEN_MAX];
            size_t k = wcrtomb(mb, row[i], &st);
            if (k == (size_t)-1) {
                mb[0] = '?';
                k = 1;
                memset(&st, 0, sizeof st);
            }
            sb_add(&sb, mb, k);
        }
        while (sb.len > start && sb.buf[sb.len - 1] == ' ')
            sb.len--;
        sb.buf[sb.len] = 0;
        sb_addc(&sb, '\n');
    }
    free(row);
    FILE *f = fopen(path, "w");
    if (!f) {
        err_set(e, ST_ERR, "%s: %s", path, strerror(errno));
        sb_done(&sb);
        return ST_ERR;
    }
    bool ok = fwrite(sb.buf, 1, sb.len, f) == sb.len;
    ok = fclose(f) == 0 && ok;
    sb_done(&sb);
    if (!ok)
        return err_set(e, ST_ERR, "%s: cannot write: %s", path, strerror(errno));
    return ST_OK;
}

void tui_resize(struct tui *app, int cols, int lines)
{
    resizeterm(lines, cols);
    app->dirty = true;
}

/* ---------------------------------------------------------------------------
 * Running. */

static void views_open(struct tui *app)
{
    static const struct view_ops *const ops[VIEW_COUNT] = {
#define VIEW_OPS(X, id, name, title, keys, help) [VIEW_##id] = &view_##name##_ops,
        TUI_VIEWS(VIEW_OPS, _)
#undef VIEW_OPS
    };
    for (int i = 0; i < VIEW_COUNT; i++) {
        app->views[i].ops = ops[i];
        app->views[i].app = app;
        app->views[i].priv = NULL;
        if (ops[i]->open)
            ops[i]->open(&app->views[i]);
    }
}

static void views_close(struct tui *app)
{
    for (int i = 0; i < VIEW_COUNT; i++)
        if (app->views[i].ops && app->views[i].ops->close)
            app->views[i].ops->close(&app->views[i]);
}

void tui_switch_branch(struct tui *app, const char *name)
{
    bool to_main = strcmp(name, "main") == 0;
    if (to_main ? !app->branch : (app->branch && strcmp(app->branch, name) == 0)) {
        tui_message(app, "already on %s", to_main ? "main" : app->branch);
        return;
    }
    struct store *s = NULL;
    err e;
    err_clear(&e);
    if (!to_main) {
        struct store_options o = STORE_OPTIONS_DEFAULT;
        o.create = false;
        o.branch = name;
        if (!(s = store_open(app->db_path, &o, &e))) {
            tui_error(app, "%s", e.msg);
            return;
        }
    }
    tui_jobs_stop_all(app);
    views_close(app);
    if (app->runner)
        projection_runner_stop(app->runner);
    store_close(app->branch_store);
    free(app->branch);
    app->branch_store = s;
    app->branch = to_main ? NULL : xstrdup(name);
    app->store = s ? s : app->main_store;
    app->as_of = 0;
    app->head = 0;
    app->runner = projection_runner_start_on(app->db_path, app->branch, app->domain, &e);
    views_open(app);
    tui_poll(app, true);
    app->generation++;
    int64_t fork = 0;
    store_branch_of(app->store, NULL, &fork, NULL);
    if (!app->runner)
        tui_error(app, "projections will not follow: %s", e.msg);
    else if (to_main)
        tui_message(app, "on main");
    else
        tui_message(app, "on branch %s (main up to position %lld, then its own events)", name,
                    (long long)fork);
    app->dirty = true;
}

/* ---------------------------------------------------------------------------
 * Opening a view with an argument. */

int tui_open_view_words(struct tui *app, enum view_id id, int argc, const char *const *argv)
{
    if (id >= VIEW_COUNT)
        return ST_USAGE;
    struct view *v = &app->views[id];
    if (!v->ops) { /* a view the workbench did not set up (no domain: no projections) */
        tui_error(app, "the %s view is not available here", view_name(id));
        return ST_USAGE;
    }
    tui_show(app, id);
    if (!v->ops->open_with) {
        if (argc == 0)
            return ST_OK;
        tui_error(app, "the %s view takes no argument", view_name(id));
        return ST_USAGE;
    }
    err e;
    err_clear(&e);
    int rc = v->ops->open_with(v, argc, argv, &e);
    if (rc != ST_OK)
        tui_error(app, "%s", e.msg);
    return rc;
}

int tui_open_view(struct tui *app, enum view_id id, const char *arg)
{
    return tui_open_view_words(app, id, arg ? 1 : 0, &arg);
}

/* $XDG_CONFIG_HOME/strata/keys, else ~/.config/strata/keys: its problems go to
 * the message line, and the workbench starts anyway. */
static void load_user_keys(struct tui *app)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *path = xdg && *xdg     ? xasprintf("%s/strata/keys", xdg)
                 : home && *home ? xasprintf("%s/.config/strata/keys", home)
                                 : NULL;
    if (!path)
        return;
    strbuf problems;
    sb_init(&problems);
    keys_load_file(path, &problems);
    if (problems.len) {
        problems.buf[--problems.len] = 0; /* the last newline */
        for (char *p = problems.buf; *p; p++)
            if (*p == '\n')
                *p = ' ';
        tui_error(app, "%s", problems.buf);
    }
    sb_done(&problems);
    free(path);
}

/* ---------------------------------------------------------------------------
 * Live domain reload. */

static void reload_report(struct tui *app, const struct domain_reload *r, const char *summary)
{
    verb_pane_report(app, "domain reload");
    /* Each problem as FILE:LINE:COL: error: PATH, and its message on a line of
     * its own, so that a narrow pane shows both. */
    for (size_t i = 0; i < r->diags.len; i++) {
        const struct diag *g = &r->diags.items[i];
        if (g->line > 0)
            verb_pane_add(true, "%s:%d:%d: error: %s%s", g->file, g->line, g->col, g->path,
                          g->path[0] ? ":" : "");
        else
            verb_pane_add(true, "%s: error: %s%s", g->file, g->path, g->path[0] ? ":" : "");
        verb_pane_add(true, "    %s", g->message);
    }
    if (!r->domain) {
        verb_pane_add(false, "%s has %zu error%s: the domain in force stays.", app->domain_path,
                      r->diags.len, r->diags.len == 1 ? "" : "s");
        verb_pane_add(false, "Nothing was lost: commands still run with the domain loaded "
                             "before.");
        verb_pane_add(false, "Fix the file and save it: it is reloaded then (or :reload).");
        return;
    }
    verb_pane_add(false, "%s", summary);
    if (r->nstale)
        verb_pane_add(false, "Stale projections keep their rows and wait: B (or :project "
                             "--rebuild-stale) rebuilds them with the new rules.");
}

void tui_reload_domain(struct tui *app, bool force)
{
    if (!app->watching || app->ask)
        return;
    int64_t now = time_now_ms();
    if (!force && !app->deterministic && now - app->watch_ms < 500)
        return;
    app->watch_ms = now;
    bool changed = domain_watch_changed(&app->watch);
    if (!changed && !force)
        return;
    /* A view's own computation (Insights) hands its result to the view: let it
     * finish first. */
    for (int i = 0; i < TUI_MAX_JOBS; i++)
        if (app->jobs[i] && app->jobs[i]->quiet) {
            app->watch.seen = false; /* look again at the next tick */
            return;
        }
    struct domain_reload r;
    int st = domain_reload(app->domain_path, app->domain, &r);
    strbuf sum;
    sb_init(&sum);
    domain_reload_summary(&r, app->domain_path, &sum);
    app->domain_file_bad = st != ST_OK;
    if (st != ST_OK) {
        reload_report(app, &r, sum.buf);
        tui_show(app, VIEW_OUTPUT);
        tui_error(app, "%s", sum.buf);
    } else {
        /* The runner and the views use the domain: stop, switch, start again.
         * The old domain stays allocated (a job may be using it). */
        if (app->runner)
            projection_runner_stop(app->runner);
        app->runner = NULL;
        enum view_id current = app->current, previous = app->previous;
        enum view_id slot0 = app->slot[0], slot1 = app->slot[1];
        views_close(app);
        app->domain = r.domain;
        app->reloaded = xrealloc(app->reloaded, (app->nreloaded + 1) * sizeof *app->reloaded);
        app->reloaded[app->nreloaded++] = r.domain;
        r.domain = NULL;
        err e;
        err_clear(&e);
        if (projection_setup(app->store, app->domain, &e) != ST_OK)
            tui_error(app, "%s", e.msg);
        views_open(app);
        app->current = current;
        app->previous = previous;
        app->slot[0] = slot0;
        app->slot[1] = slot1;
        err_clear(&e);
        app->runner = projection_runner_start_on(app->db_path, app->branch, app->domain, &e);
        tui_poll(app, true);
        tui_changed(app);
        r.domain = app->domain; /* for the report: it loaded */
        reload_report(app, &r, sum.buf);
        r.domain = NULL;
        if (!app->runner)
            tui_error(app, "projections will not follow: %s", e.msg);
        else if (r.nstale)
            tui_message(app, "%s; B rebuilds", sum.buf);
        else
            tui_message(app, "%s", sum.buf);
    }
    sb_done(&sum);
    domain_reload_done(&r);
}

void tui_begin(struct tui *app, const char *said)
{
    err e;
    err_clear(&e);
    app->ask = NULL;
    app->runner = projection_runner_start_on(app->db_path, app->branch, app->domain, &e);
    views_open(app);
    tui_poll(app, true);
    if (!app->runner)
        tui_error(app, "projections will not follow: %s", e.msg);
    else if (said)
        tui_message(app, "%s", said);
    else if (app->store->created) /* a mistyped --db looks like this: say so */
        tui_message(app, "Created a new, empty store %s (it did not exist). ? keys, q quits.",
                    app->db_path);
    else
        tui_message(app,
                    "Welcome: ? shows the keys, : opens the palette (Tab completes), q quits.");
    load_user_keys(app);
    if (app->domain_path && !app->watching) {
        domain_watch_init(&app->watch, app->domain_path);
        app->watching = true;
    }
    app->dirty = true;
}

int tui_run(struct domain *d, const char *domain_path, struct store *s, const char *db_path,
            const struct tui_ask *ask)
{
    /* Only the character set: numbers, times and sorting stay the C locale's,
     * so what the workbench shows does not depend on the user's locale. */
    setlocale(LC_CTYPE, "");
    struct tui *app = xcalloc(1, sizeof *app);
    app->domain = d;
    app->domain_path = domain_path;
    app->db_path = db_path;
    app->store = s;
    app->main_store = s;
    /* Opened on a branch (--branch, STRATA_BRANCH): main is the one under it. */
    const char *on = NULL;
    if (store_branch_of(s, &on, NULL, &app->main_store))
        app->branch = xstrdup(on);
    app->current = app->previous = VIEW_DOMAIN;
    app->no_mouse = getenv("STRATA_NO_MOUSE") != NULL;
    app->slot[0] = VIEW_DOMAIN;
    app->slot[1] = VIEW_STREAMS;
    const char *script = getenv("STRATA_SCRIPT");
    app->script = script && *script;
    app->deterministic = app->script;
    const char *now = getenv("STRATA_NOW");
    if (now && *now && !time_parse(now, strlen(now), 0, &app->now_ms)) {
        fprintf(stderr, "strata tui: STRATA_NOW: '%s' is not a time (2020-01-02T00:00:00Z)\n", now);
        free(app);
        return ST_USAGE;
    }
    const char *nd = getenv("STRATA_NO_DISPLAY");
    bool want_tty = !(nd && *nd) && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
    if (!want_tty && !app->script) {
        fprintf(stderr, "strata tui: the workbench needs a terminal (or STRATA_SCRIPT=FILE to "
                        "play keys from a file)\n");
        free(app);
        return ST_USAGE;
    }

    err e;
    err_clear(&e);
    if (keys_init(&e) != ST_OK) {
        fprintf(stderr, "strata tui: %s\n", e.msg);
        free(app);
        return ST_ERR;
    }
    if (ask) {
        /* Nothing is applied to the store before the user answers (ask_domain.c). */
        app->ask = ask->question;
        app->no_domain = ask->no_domain;
    } else if (projection_setup(s, d, &e) != ST_OK) {
        keys_done();
        fprintf(stderr, "strata tui: %s\n", e.msg);
        free(app);
        return e.code ? e.code : ST_ERR;
    }
    const char *tf = getenv("STRATA_TUI_TIMING");
    if (tf && *tf)
        timing = fopen(tf, "a");
    palette_init();
    terminal_install_signals();
    err_clear(&e);
    int status = terminal_start(want_tty, &e);
    if (status != ST_OK) {
        terminal_restore();
        fprintf(stderr, "strata tui: %s\n", e.msg);
        palette_done();
        keys_done();
        if (app->runner)
            projection_runner_stop(app->runner);
        free(app);
        return status;
    }
    /* A library's exit() restores the terminal too. abort() (xmalloc's fail-fast
     * exit, a failed assertion) runs no atexit handler: the SIGABRT handler
     * (terminal.c) restores it. */
    atexit(terminal_restore);
    if (!app->ask)
        tui_begin(app, NULL);
    const char *bad_theme;
    theme_from_env(&bad_theme);
    if (bad_theme)
        tui_error(app, "STRATA_THEME: unknown theme '%s' (dark, light or mono)", bad_theme);

    if (app->script) {
        tui_draw(app);
        status = script_run(app, script);
    } else {
        timeout(200);
        while (!app->quit && !terminal_stop_signal()) {
            if (app->dirty)
                tui_draw(app);
            int ch = getch();
            if (terminal_stop_signal())
                break;
            if (terminal_take_interrupt())
                tui_handle_key(app, 3);
            if (ch != ERR)
                tui_handle_key(app, ch);
            tui_poll(app, false);
            /* Here, between keys: a reload reopens the views, which must not
             * happen under a view's own handler. */
            tui_reload_domain(app, false);
        }
    }

    tui_jobs_stop_all(app); /* first: a view's quiet job hands its result to the view */
    views_close(app);
    terminal_restore();
    palette_done();
    keys_done();
    if (app->runner)
        projection_runner_stop(app->runner);
    store_close(app->branch_store); /* the caller closes main_store */
    free(app->branch);
    proj_lag_free(app->lags, app->nlags);
    if (app->watching)
        domain_watch_done(&app->watch);
    for (size_t i = 0; i < app->nreloaded; i++)
        domain_free(app->reloaded[i]);
    free(app->reloaded);
    free(app->hist);
    free(app->record_path);
    if (timing)
        fclose(timing);
    timing = NULL;
    if (app->script_problem[0])
        fprintf(stderr, "strata tui: %s\n", app->script_problem);
    if (terminal_stop_signal() && !app->quit)
        status = 128 + terminal_stop_signal();
    else if (app->quit && app->exit_status && status == ST_OK)
        status = app->exit_status;
    free(app);
    return status;
}
