/* frame.c: the frame around the current view (frame.h): the header with the head,
 * the events-per-second sparkline and the worst lag; the view tabs or the "as of"
 * banner; the timeline scrubber, a histogram of the store's positions with the
 * shown position marked, and its label. */
#include "tui/frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

static const char *basename_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void frame_draw_header(struct tui *app)
{
    attr_t h = tui_attr(TC_HEADER), hk = tui_attr(TC_HEADER_KEY);
    draw_blank(0, 0, COLS, h);
    int x = 1;
    x += draw_str(0, x, COLS - x, "Strata", hk) + 2;
    x += draw_str(0, x, COLS - x, app->domain->name ? app->domain->name : "?", h);
    /* The file's last save did not load: the domain shown is the one before. */
    if (app->domain_file_bad)
        x += draw_str(0, x, COLS - x, " (file has errors)", h);
    x += 2;
    /* The store as store_display_path shows it (a PostgreSQL URI without its
     * password); a file by its name only. */
    const char *shown = app->store->path;
    if (store_kind_of(shown) == STORE_SQLITE)
        shown = basename_of(shown);
    /* A what-if branch, always said: what the panes show is not main. A long
     * path (a PostgreSQL URI) is cut short to leave it room. */
    int room = COLS - x;
    if (app->branch) {
        int keep = room - 2 - text_width(app->branch);
        room = keep > 8 ? keep : room;
    }
    x += draw_str(0, x, room, shown, h);
    if (app->branch)
        x += draw_fmt(0, x, COLS - x, hk, " @%s", app->branch);
    /* Made by this run: the welcome message says so once, the header for as long
     * as the workbench runs (a mistyped --db otherwise looks like an empty log). */
    if (app->store->created)
        x += draw_str(0, x, COLS - x, " (new)", h);
    x += 2;
    x += draw_fmt(0, x, COLS - x, h, "head %lld", (long long)app->head) + 2;
    if (app->record_path) /* :record: every command sent becomes a scenario */
        x += draw_fmt(0, x, COLS - x, hk, "REC %s", basename_of(app->record_path)) + 2;

    /* The worst lag, at the right. */
    char lag[160] = "lag: none";
    int64_t worst = -1;
    const struct proj_lag *wl = NULL;
    for (size_t i = 0; i < app->nlags; i++) {
        const struct proj_lag *l = &app->lags[i];
        if (l->status == PROJ_FAILED) {
            wl = l;
            worst = -2;
            break;
        }
        if (l->events_behind > worst) {
            worst = l->events_behind;
            wl = l;
        }
    }
    if (wl && worst == -2)
        snprintf(lag, sizeof lag, "lag: %s FAILED", wl->name);
    else if (wl && worst == 0)
        snprintf(lag, sizeof lag, "lag: 0 (all live)");
    else if (wl && app->deterministic)
        snprintf(lag, sizeof lag, "lag: %s %lld behind", wl->name, (long long)worst);
    else if (wl)
        snprintf(lag, sizeof lag, "lag: %s %lld behind %.1fs", wl->name, (long long)worst,
                 wl->seconds_behind);
    int lw = text_width(lag);
    int right = COLS - lw - 1;

    /* Events per second, a sparkline and the last second's figure. Script mode
     * shows neither: a test's screen must not depend on the clock. */
    int sw = right - x - 12;
    if (sw > 16)
        sw = 16;
    if (sw >= 4) {
        if (app->deterministic) {
            draw_blank(0, x, sw, h);
            draw_str(0, x + sw + 1, 10, "- ev/s", h);
        } else {
            draw_sparkline(0, x, sw, app->spark, TUI_SPARK, hk);
            draw_fmt(0, x + sw + 1, 10, h, "%.0f ev/s", app->spark[TUI_SPARK - 1]);
        }
    }
    if (right > x)
        draw_str(0, right, lw, lag, worst == -2 ? (h | A_BOLD) : h);
}

static void event_time_at(struct tui *app, int64_t pos, char *out, size_t n)
{
    out[0] = 0;
    if (pos <= 0)
        return;
    struct event_filter f;
    memset(&f, 0, sizeof f);
    f.from = pos;
    f.to = pos;
    struct event_list l;
    event_list_init(&l);
    err e;
    err_clear(&e);
    if (store_read_page(app->store, &f, pos - 1, false, 1, &l, &e) == ST_OK && l.len == 1)
        snprintf(out, n, "%s", l.items[0].time);
    event_list_done(&l);
}
int frame_tabs(struct tab tabs[VIEW_COUNT])
{
    int n = 0, x = 0;
    for (int v = 0; v < VIEW_COUNT; v++) {
        const char *title = view_title((enum view_id)v);
        if (!title)
            continue;
        char label[64];
        snprintf(label, sizeof label, " %d %s ", n + 1, title);
        tabs[n].view = (enum view_id)v;
        tabs[n].x = x;
        tabs[n].w = text_width(label) + 1;
        x += tabs[n].w;
        n++;
    }
    return n;
}

enum view_id frame_tab_at(int x)
{
    struct tab tabs[VIEW_COUNT];
    int n = frame_tabs(tabs);
    for (int i = 0; i < n; i++)
        if (x >= tabs[i].x && x < tabs[i].x + tabs[i].w)
            return tabs[i].view;
    return VIEW_COUNT;
}

void frame_draw_tabs_or_banner(struct tui *app)
{
    if (app->as_of) {
        attr_t a = tui_attr(TC_ASOF);
        draw_blank(1, 0, COLS, a);
        if (app->asof_time_pos != app->as_of) {
            event_time_at(app, app->as_of, app->asof_time, sizeof app->asof_time);
            app->asof_time_pos = app->as_of;
        }
        draw_fmt(1, 0, COLS, a, " AS OF #%lld of %lld  %s  HISTORY, NOT NOW  L: back to live",
                 (long long)app->as_of, (long long)app->head, app->asof_time);
        return;
    }
    draw_blank(1, 0, COLS, 0);
    struct tab tabs[VIEW_COUNT];
    int n = frame_tabs(tabs);
    int x = 0;
    for (int i = 0; i < n; i++) {
        bool on = app->current == tabs[i].view;
        attr_t a = tui_attr(on ? TC_TAB_ACTIVE : TC_TAB);
        x = tabs[i].x;
        const char *title = view_title(tabs[i].view); /* frame_tabs lists titled views */
        x += draw_fmt(1, x, COLS - x, a, " %d %s ", i + 1, title ? title : "");
        x += draw_str(1, x, COLS - x, " ", 0);
    }
    /* The longest hint that fits: at 80 columns the tabs leave room for a short one. */
    static const char *const hints[] = {"? help  : palette  q quit", "? help  q quit", "? help"};
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        int hw = text_width(hints[i]);
        if (COLS - hw - 1 > x) {
            draw_str(1, COLS - hw - 1, hw, hints[i], tui_attr(TC_DIM));
            break;
        }
    }
}

/* Reads the time of one event, in ms since the epoch (0 when unknown). */
static int64_t time_of(struct tui *app, int64_t pos)
{
    char t[TIME_TEXT_LEN + 8];
    event_time_at(app, pos, t, sizeof t);
    int64_t ms = 0;
    if (t[0] && time_parse(t, strlen(t), 0, &ms))
        return ms;
    return 0;
}

/* The scrubber's histogram: the positions 1..head split into one bin per column;
 * a bin's height is its events per second (log scale), so bursts stand out. It
 * costs one point read per column, and is recomputed only when the head or the
 * width changes (at most once a second while events stream in). */
static void hist_update(struct tui *app, int w)
{
    int64_t now = time_now_ms();
    if (app->hist && app->hist_width == w && app->hist_head == app->head)
        return;
    if (app->hist && app->hist_width == w && !app->deterministic && now - app->hist_ms < 1000)
        return;
    free(app->hist);
    app->hist = xcalloc((size_t)w + 1, 1);
    app->hist_width = w;
    app->hist_head = app->head;
    app->hist_ms = now;
    int64_t head = app->head;
    if (head <= 0 || w <= 0)
        return;
    int bins = head < w ? (int)head : w;
    double *dens = xcalloc((size_t)bins, sizeof *dens);
    int64_t *t = xcalloc((size_t)bins + 1, sizeof *t);
    for (int j = 0; j < bins; j++)
        t[j] = time_of(app, 1 + (int64_t)j * head / bins);
    t[bins] = time_of(app, head);
    double max = 0;
    for (int j = 0; j < bins; j++) {
        int64_t lo = 1 + (int64_t)j * head / bins, hi = (int64_t)(j + 1) * head / bins;
        double span = (double)(t[j + 1] - t[j]) / 1000.0;
        if (span < 0.001)
            span = 0.001;
        dens[j] = (double)(hi - lo + 1) / span;
        if (dens[j] > max)
            max = dens[j];
    }
    for (int c = 0; c < w; c++) {
        int j = (int)((int64_t)c * bins / w);
        double d = dens[j];
        int level = max > 0 ? 1 + (int)(7.0 * log1p(d) / log1p(max) + 0.5) : 1;
        app->hist[c] = (unsigned char)(level > 8 ? 8 : level < 1 ? 1 : level);
    }
    free(dens);
    free(t);
}

int frame_scrub_width(void)
{
    return COLS - 2;
}

/* The column of the scrubber that holds position pos. */
static int scrub_col(struct tui *app, int64_t pos, int w)
{
    if (app->head <= 0)
        return 0;
    int c = (int)((pos - 1) * w / app->head);
    return c < 0 ? 0 : c >= w ? w - 1 : c;
}

void frame_draw_scrubber(struct tui *app, int y)
{
    int w = frame_scrub_width();
    hist_update(app, w);
    int64_t pos = tui_shown_head(app);
    int mark = app->as_of ? scrub_col(app, pos, w) : w - 1;
    draw_str(y, 0, 1, "|", tui_attr(TC_BAR_BORDER));
    for (int c = 0; c < w; c++) {
        int level = app->hist && app->head > 0 ? app->hist[c] : 0;
        bool past = app->as_of && c > mark;
        attr_t a = c == mark && app->head > 0 ? tui_attr(TC_SCRUB_MARK)
                   : past                     ? tui_attr(TC_DIM)
                                              : tui_attr(TC_SCRUB_HIST);
        /* The mark is a character too, so it shows without colour. */
        const char *cell = tui_block(level);
        if (c == mark && app->head > 0)
            cell = tui_utf8() ? "\xe2\x94\x83" : "|";
        draw_str(y, 1 + c, 1, cell, a);
    }
    draw_str(y, COLS - 1, 1, "|", tui_attr(TC_BAR_BORDER));

    draw_blank(y + 1, 0, COLS, 0);
    int x = 0;
    if (app->as_of) {
        x += draw_str(y + 1, x, COLS, " AS OF ", tui_attr(TC_ASOF));
        x += draw_fmt(y + 1, x, COLS - x, 0, " #%lld/%lld %s", (long long)app->as_of,
                      (long long)app->head, app->asof_time);
    } else {
        x += draw_str(y + 1, x, COLS, " LIVE ", tui_attr(TC_STATUS_LIVE) | A_REVERSE);
        x += draw_fmt(y + 1, x, COLS - x, 0, " head #%lld", (long long)app->head);
    }
    const char *hint = "[ ] step  { } page  @ goto  L live";
    int hw = text_width(hint);
    if (COLS - hw - 1 > x + 1)
        draw_str(y + 1, COLS - hw - 1, hw, hint, tui_attr(TC_DIM));
}

bool frame_scrub_at(struct tui *app, int x, int64_t *pos)
{
    int w = frame_scrub_width();
    int c = x - 1;
    if (c < 0 || c >= w || app->head <= 0)
        return false;
    /* The last column is the head: live. */
    *pos = c == w - 1 ? 0 : (int64_t)c * app->head / w + 1;
    return true;
}

void frame_draw_separator(struct tui *app, int x, struct area a)
{
    /* The rule is bright on the focused pane's side: a hint that shows without
     * colour too ("<" or ">" at its top points at the focused pane). */
    bool left = layout_slot(app->current) == 0;
    const char *rule = tui_utf8() ? "\xe2\x94\x82" : "|";
    for (int y = a.y; y < a.y + a.h; y++)
        draw_str(y, x, 1, rule, tui_attr(TC_DIM));
    draw_str(a.y, x, 1, left ? "<" : ">", tui_attr(TC_KEY));
}

void frame_draw_gauges(struct tui *app, struct area a)
{
    int per_row = a.w / 40 > 0 ? a.w / 40 : 1;
    int gw = a.w / per_row;
    for (size_t i = 0; i < app->nlags; i++) {
        int row = (int)i / per_row, col = (int)i % per_row;
        if (row >= a.h)
            break;
        const struct proj_lag *l = &app->lags[i];
        int y = a.y + row, x = a.x + col * gw;
        enum tui_color c = l->status == PROJ_FAILED   ? TC_ERROR
                           : l->status == PROJ_PAUSED ? TC_STATUS_PAUSED
                           : l->events_behind == 0    ? TC_STATUS_LIVE
                                                      : TC_STATUS_BUSY;
        int capw = gw / 3;
        draw_str_mid(y, x, capw, l->name, tui_attr(TC_LABEL));
        char text[64];
        snprintf(text, sizeof text, "%lld/%lld", (long long)l->checkpoint, (long long)l->head);
        double total = l->head > 0 ? (double)l->head : 1,
               done = l->head > 0 ? (double)l->checkpoint : 1;
        draw_meter(y, x + capw + 1, gw - capw - 2, done, total, c, text);
    }
}
