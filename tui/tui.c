/* tui.c: the workbench's life cycle and frame: the terminal (and its restoration on
 * every way out), the main loop and the script player, the header, the view tabs
 * or the "as of" banner, the timeline scrubber, the message line, polling the
 * store for events other processes append, and background jobs.
 *
 * Screen rows, top to bottom: header; tabs (or, in "as of" mode, the banner);
 * the current view; the scrubber's histogram; the scrubber's label; the message
 * line (or the palette). */
#include "tui/tui.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
/* term.h defines terminfo capability macros named like ordinary words. */
#undef lines
#undef columns
#include <limits.h>
#include <locale.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "core/json.h"

/* ---------------------------------------------------------------------------
 * The terminal's life cycle. One teardown serves normal exit, errors, SIGINT /
 * SIGTERM and fatal signals (htop's way). Fatal signals can only use async-safe
 * calls, so the bytes that restore the terminal are prepared at startup. */

static struct {
    bool active; /* curses is running */
    bool tty;    /* on a real terminal (else an in-memory screen) */
    SCREEN *screen;
    FILE *out, *in;
    bool have_termios;
    struct termios saved;
    char restore[256];
    size_t restore_len;
} term;

static volatile sig_atomic_t stop_signal;
static struct sigaction old_fatal[32];
static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

static void restore_async(void)
{
    if (!term.tty)
        return;
    if (term.restore_len) {
        ssize_t r = write(STDOUT_FILENO, term.restore, term.restore_len);
        (void)r;
    }
    if (term.have_termios)
        tcsetattr(STDIN_FILENO, TCSANOW, &term.saved);
}

static void on_fatal(int sig)
{
    restore_async();
    /* Hand the signal to whoever had it before (a sanitizer's report) or the
     * default action (a core dump). */
    if (sig < 32)
        sigaction(sig, &old_fatal[sig], NULL);
    else
        signal(sig, SIG_DFL);
    raise(sig);
}

static void on_stop(int sig)
{
    if (stop_signal) {
        /* A second Ctrl-C while the first is being honoured: leave now. The
         * store is safe: SQLite rolls back what was not committed. */
        restore_async();
        _exit(128 + sig);
    }
    stop_signal = sig;
}

static void add_restore(const char *cap)
{
    if (!cap || cap == (char *)-1)
        return;
    size_t n = strlen(cap);
    if (term.restore_len + n < sizeof term.restore) {
        memcpy(term.restore + term.restore_len, cap, n);
        term.restore_len += n;
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaction(fatal_signals[i], &sa, &old_fatal[fatal_signals[i]]);
}

static void teardown(void)
{
    if (!term.active)
        return;
    term.active = false;
    if (term.tty)
        mousemask(0, NULL);
    curs_set(1);
    endwin();
    if (term.screen)
        delscreen(term.screen);
    term.screen = NULL;
    if (term.out)
        fclose(term.out);
    if (term.in)
        fclose(term.in);
    term.out = term.in = NULL;
    if (term.tty && term.have_termios)
        tcsetattr(STDIN_FILENO, TCSANOW, &term.saved);
}

/* Starts curses on the terminal, or on an in-memory screen (LINES x COLUMNS)
 * drawn to /dev/null when there is no terminal or STRATA_NO_DISPLAY is set. */
static int screen_start(bool want_tty, err *e)
{
    const char *tname = getenv("TERM");
    if (!tname || !*tname || strcmp(tname, "unknown") == 0)
        tname = "xterm";
    if (want_tty) {
        term.have_termios = tcgetattr(STDIN_FILENO, &term.saved) == 0;
        term.screen = newterm(tname, stdout, stdin);
        if (!term.screen)
            return err_set(e, ST_ERR, "cannot start the terminal '%s' (is TERM right?)", tname);
        term.tty = true;
        add_restore("\033[?1000l\033[?1002l\033[?1006l"); /* mouse reporting off */
        add_restore(tigetstr("sgr0"));
        add_restore(tigetstr("cnorm"));
        add_restore(tigetstr("rmcup"));
        add_restore("\r\n");
    } else {
        term.out = fopen("/dev/null", "w");
        term.in = fopen("/dev/null", "r");
        if (!term.out || !term.in)
            return err_set(e, ST_ERR, "cannot open /dev/null: %s", strerror(errno));
        term.screen = newterm(tname, term.out, term.in);
        if (!term.screen)
            term.screen = newterm("xterm", term.out, term.in);
        if (!term.screen)
            return err_set(e, ST_ERR, "cannot start an in-memory screen");
    }
    set_term(term.screen);
    term.active = true;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    const char *nc = getenv("NO_COLOR");
    tui_colors_init(!(nc && *nc));
    if (term.tty && !getenv("STRATA_NO_MOUSE"))
        mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    return ST_OK;
}

/* ---------------------------------------------------------------------------
 * Small shared helpers. */

void lines_init(struct lines *l)
{
    memset(l, 0, sizeof *l);
}

void lines_clear(struct lines *l)
{
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i]);
    l->len = 0;
}

void lines_done(struct lines *l)
{
    lines_clear(l);
    free(l->items);
    free(l->attrs);
    memset(l, 0, sizeof *l);
}

static void lines_push(struct lines *l, attr_t attr, char *s)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
        l->attrs = xrealloc(l->attrs, l->cap * sizeof *l->attrs);
    }
    l->items[l->len] = s;
    l->attrs[l->len++] = attr;
}

void lines_add(struct lines *l, attr_t attr, const char *fmt, ...)
{
    strbuf sb;
    sb_init(&sb);
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    lines_push(l, attr, sb_steal(&sb));
}

void lines_add_text(struct lines *l, attr_t attr, const char *indent, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lines_add(l, attr, "%s%.*s", indent, (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
}

bool scroll_request(struct scroll *sc, enum request req, long n, long h)
{
    switch (req) {
    case REQ_MOVE_UP:
        sc->cur--;
        break;
    case REQ_MOVE_DOWN:
        sc->cur++;
        break;
    case REQ_PAGE_UP:
        sc->cur -= h;
        sc->top -= h;
        break;
    case REQ_PAGE_DOWN:
        sc->cur += h;
        sc->top += h;
        break;
    case REQ_MOVE_FIRST:
        sc->cur = 0;
        break;
    case REQ_MOVE_LAST:
        sc->cur = n - 1;
        break;
    default:
        return false;
    }
    scroll_fix(sc, n, h);
    return true;
}

void lines_draw(const struct lines *l, struct scroll *sc, struct area a, bool show_cursor)
{
    scroll_fix(sc, (long)l->len, a.h);
    for (int r = 0; r < a.h; r++) {
        size_t i = (size_t)(sc->top + r);
        if (i >= l->len)
            break;
        bool cur = show_cursor && (long)i == sc->cur;
        draw_field(a.y + r, a.x, a.w, l->items[i], cur ? tui_attr(TC_CURSOR) : l->attrs[i]);
    }
}

char *tui_value_text(const value *v)
{
    if (v->type == V_STRING)
        return xstrndup(value_str(v), value_strlen(v));
    return json_to_string(v);
}

void tui_message(struct tui *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->message, sizeof app->message, fmt, ap);
    va_end(ap);
    app->message_error = false;
    app->dirty = true;
}

void tui_error(struct tui *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->message, sizeof app->message, fmt, ap);
    va_end(ap);
    app->message_error = true;
    app->dirty = true;
}

void tui_show(struct tui *app, enum view_id id)
{
    if (id >= VIEW_COUNT)
        return;
    if (id != app->current)
        app->previous = app->current;
    app->current = id;
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

static void jobs_reap(struct tui *app);

void tui_poll(struct tui *app, bool force_status)
{
    int64_t now = time_now_ms();
    err e;
    err_clear(&e);
    int64_t h = 0;
    if (store_head(app->store, &h, &e) == ST_OK && h != app->head) {
        app->head = h;
        tui_changed(app);
    }
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
    if (force_status || now - app->last_status_ms >= 500) {
        struct proj_lag *lags = NULL;
        size_t n = 0;
        err_clear(&e);
        if (projection_status(app->store, app->domain, &lags, &n, &e) == ST_OK) {
            proj_lag_free(app->lags, app->nlags);
            app->lags = lags;
            app->nlags = n;
            app->dirty = true;
        }
        app->last_status_ms = now;
    }
    jobs_reap(app);
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
    if (app->as_of)
        tui_message(app,
                    "As of position %lld of %lld: every pane shows history. L returns to live.",
                    (long long)app->as_of, (long long)app->head);
    else
        tui_message(app, "Live: showing the store as it is now (head %lld).", (long long)app->head);
}

/* ---------------------------------------------------------------------------
 * Background jobs: rebuilds, imports and replays run on their own thread and
 * their own store connection, so the screen stays responsive. */

static void *job_thread(void *arg)
{
    struct tui_job *job = arg;
    job->status = job->run(job);
    __atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

bool tui_job_start(struct tui *app, const char *what, int (*run)(struct tui_job *),
                   const char *arg1, const char *arg2, int64_t num, double real)
{
    int slot = -1;
    for (int i = 0; i < TUI_MAX_JOBS; i++)
        if (!app->jobs[i]) {
            slot = i;
            break;
        }
    if (slot < 0) {
        tui_error(app, "too many jobs running; wait for one to finish");
        return false;
    }
    struct tui_job *job = xcalloc(1, sizeof *job);
    job->what = xstrdup(what);
    job->run = run;
    job->app = app;
    job->arg1 = arg1 ? xstrdup(arg1) : NULL;
    job->arg2 = arg2 ? xstrdup(arg2) : NULL;
    job->num = num;
    job->real = real;
    err_clear(&job->e);
    if (pthread_create(&job->thread, NULL, job_thread, job) != 0) {
        tui_error(app, "%s: cannot start a thread", what);
        free(job->what);
        free(job->arg1);
        free(job->arg2);
        free(job);
        return false;
    }
    job->started = true;
    app->jobs[slot] = job;
    tui_message(app, "%s: started", what);
    return true;
}

static void job_free(struct tui_job *job)
{
    if (job->started)
        pthread_join(job->thread, NULL);
    free(job->what);
    free(job->arg1);
    free(job->arg2);
    free(job);
}

static void jobs_reap(struct tui *app)
{
    for (int i = 0; i < TUI_MAX_JOBS; i++) {
        struct tui_job *job = app->jobs[i];
        if (!job || !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
            continue;
        if (job->status == ST_OK)
            tui_message(app, "%s: done%s%s", job->what, job->e.msg[0] ? ": " : "", job->e.msg);
        else
            tui_error(app, "%s: %s", job->what, job->e.msg[0] ? job->e.msg : "failed");
        job_free(job);
        app->jobs[i] = NULL;
        if (app->runner)
            projection_runner_poke(app->runner);
        tui_changed(app);
    }
}

bool tui_jobs_running(struct tui *app)
{
    for (int i = 0; i < TUI_MAX_JOBS; i++)
        if (app->jobs[i])
            return true;
    return false;
}

/* ---------------------------------------------------------------------------
 * The frame: header, tabs or banner, scrubber, message line. */

static const enum view_id tab_order[] = {VIEW_DOMAIN, VIEW_EVENTS, VIEW_STREAMS, VIEW_PROJECTIONS,
                                         VIEW_FORM};
static const char *const tab_titles[] = {"Domain", "Events", "Streams", "Projections", "Form"};

static const char *basename_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void draw_header(struct tui *app)
{
    attr_t h = tui_attr(TC_HEADER), hk = tui_attr(TC_HEADER_KEY);
    draw_blank(0, 0, COLS, h);
    int x = 1;
    x += draw_str(0, x, COLS - x, "Strata", hk) + 2;
    x += draw_str(0, x, COLS - x, app->domain->name ? app->domain->name : "?", h) + 2;
    x += draw_str(0, x, COLS - x, basename_of(app->db_path), h) + 2;
    x += draw_fmt(0, x, COLS - x, h, "head %lld", (long long)app->head) + 2;

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

static void draw_tabs_or_banner(struct tui *app)
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
    int x = 0;
    for (size_t i = 0; i < sizeof tab_order / sizeof tab_order[0]; i++) {
        bool on = app->current == tab_order[i];
        attr_t a = tui_attr(on ? TC_TAB_ACTIVE : TC_TAB);
        x += draw_fmt(1, x, COLS - x, a, " %zu %s ", i + 1, tab_titles[i]);
        x += draw_str(1, x, COLS - x, " ", 0);
    }
    const char *hint = "? help  : palette  q quit";
    int hw = text_width(hint);
    if (COLS - hw - 1 > x)
        draw_str(1, COLS - hw - 1, hw, hint, tui_attr(TC_DIM));
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

static int scrub_width(void)
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

static void draw_scrubber(struct tui *app, int y)
{
    int w = scrub_width();
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

static void draw_message(struct tui *app, int y)
{
    draw_blank(y, 0, COLS, 0);
    if (app->palette_active) {
        palette_draw(app, y);
        return;
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

/* STRATA_TUI_TIMING=FILE: one line per frame with the time it took to draw, for
 * measuring (the scrubber's step on a large store, say). */
static FILE *timing;

static void draw_frame(struct tui *app);

static void draw_all(struct tui *app)
{
    struct timespec t0, t1;
    if (timing)
        clock_gettime(CLOCK_MONOTONIC, &t0);
    draw_frame(app);
    if (timing) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(timing, "draw %.3f ms view=%s as_of=%lld head=%lld\n",
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
                app->views[app->current].ops->name, (long long)app->as_of, (long long)app->head);
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
    draw_header(app);
    draw_tabs_or_banner(app);
    struct area a = {2, 0, LINES - 5, COLS};
    struct view *v = &app->views[app->current];
    v->last = a;
    app->cursor_y = app->cursor_x = -1;
    v->ops->draw(v, a);
    draw_scrubber(app, LINES - 3);
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
    int64_t page = app->head / (scrub_width() > 0 ? scrub_width() : 1);
    if (page < 1)
        page = 1;
    switch (req) {
    case REQ_VIEW_DOMAIN:
        tui_show(app, VIEW_DOMAIN);
        break;
    case REQ_VIEW_EVENTS:
        tui_show(app, VIEW_EVENTS);
        break;
    case REQ_VIEW_STREAMS:
        tui_show(app, VIEW_STREAMS);
        break;
    case REQ_VIEW_PROJECTIONS:
        tui_show(app, VIEW_PROJECTIONS);
        break;
    case REQ_VIEW_FORM:
        tui_show(app, VIEW_FORM);
        break;
    case REQ_VIEW_HELP:
        tui_show(app, VIEW_HELP);
        break;
    case REQ_VIEW_NEXT:
    case REQ_VIEW_PREV: {
        int n = (int)(sizeof tab_order / sizeof tab_order[0]);
        int i = 0;
        while (i < n && tab_order[i] != app->current)
            i++;
        i = req == REQ_VIEW_NEXT ? (i + 1) % n : (i + n - 1) % n;
        tui_show(app, tab_order[i]);
        break;
    }
    case REQ_PROMPT:
        tui_prompt(app, "");
        break;
    case REQ_QUIT:
        app->quit = true;
        break;
    case REQ_BACK:
        if (app->current == VIEW_HELP)
            tui_show(app, app->previous);
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

static void handle_mouse(struct tui *app)
{
    MEVENT me;
    if (getmouse(&me) != OK)
        return;
    struct view *v = &app->views[app->current];
    if (me.bstate & BUTTON4_PRESSED) {
        dispatch(app, REQ_MOVE_UP);
        return;
    }
    if (me.bstate & BUTTON5_PRESSED) {
        dispatch(app, REQ_MOVE_DOWN);
        return;
    }
    if (!(me.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)))
        return;
    if (me.y == 1 && !app->as_of) {
        /* A click on a tab: the tabs are laid out like draw_tabs_or_banner does. */
        int x = 0;
        for (size_t i = 0; i < sizeof tab_order / sizeof tab_order[0]; i++) {
            char buf[32];
            snprintf(buf, sizeof buf, " %zu %s  ", i + 1, tab_titles[i]);
            int w = (int)strlen(buf);
            if (me.x >= x && me.x < x + w) {
                tui_show(app, tab_order[i]);
                return;
            }
            x += w;
        }
    } else if (me.y == LINES - 3 && app->head > 0) {
        int w = scrub_width();
        int c = me.x - 1;
        if (c >= 0 && c < w) {
            int64_t pos = (int64_t)c * app->head / w + 1;
            tui_goto(app, c == w - 1 ? 0 : pos);
        }
    } else if (me.y >= v->last.y && me.y < v->last.y + v->last.h && v->ops->click) {
        v->ops->click(v, me.y - v->last.y);
    }
    app->dirty = true;
}

static void handle_key(struct tui *app, int key)
{
    app->dirty = true;
    if (app->palette_active) {
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
    if (v->ops->text_input && v->ops->key) {
        /* The view's own bindings first (Tab, Enter, Esc), then typing, then the
         * generic bindings for keys that cannot be text. */
        enum request r = keys_lookup(v->ops->keymap, key);
        size_t n;
        const struct request_info *t = request_table(&n);
        bool own = false;
        for (size_t i = 0; i < n && r != REQ_NONE; i++)
            if (t[i].request == r && t[i].keymap == v->ops->keymap)
                own = true;
        if (own) {
            dispatch(app, r);
            return;
        }
        if (v->ops->key(v, key))
            return;
        if (r != REQ_NONE)
            dispatch(app, r);
        else
            tui_message(app, "%s is not bound here; ? lists the keys", key_name(key));
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
    draw_all(app);
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
 * The script player: keys and `:` commands from STRATA_SCRIPT, one step a line,
 * each after loading and projections have settled. */

static bool settled(struct tui *app)
{
    if (tui_jobs_running(app))
        return false;
    if (app->runner && !projection_runner_settled(app->runner))
        return false;
    for (size_t i = 0; i < app->nlags; i++) {
        const struct proj_lag *l = &app->lags[i];
        if (l->status == PROJ_PAUSED || l->status == PROJ_FAILED)
            continue;
        if (l->checkpoint < app->head || l->status == PROJ_REBUILDING)
            return false;
    }
    return true;
}

static void wait_settled(struct tui *app, int64_t timeout_ms)
{
    int64_t deadline = time_now_ms() + timeout_ms;
    for (;;) {
        tui_poll(app, true);
        if (settled(app) || stop_signal)
            break;
        if (time_now_ms() > deadline) {
            tui_error(app, "script: gave up waiting for projections to settle");
            break;
        }
        if (app->runner)
            projection_runner_poke(app->runner);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    tui_poll(app, true);
}

static int run_script(struct tui *app, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(app->script_problem, sizeof app->script_problem, "STRATA_SCRIPT: %s: %s", path,
                 strerror(errno));
        return ST_ERR;
    }
    const char *to = getenv("STRATA_SCRIPT_TIMEOUT");
    int64_t timeout_ms = to && atoi(to) > 0 ? (int64_t)atoi(to) * 1000 : 20000;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    int status = ST_OK;
    while (!app->quit && !stop_signal && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        wait_settled(app, timeout_ms);
        if (line[0] == ':') {
            /* A command line runs as typed in the palette; a palette the script
             * opened with <Colon> stays open (so its line can be saved). */
            palette_run(app, line + 1);
        } else {
            const char *p = line;
            while (*p && !app->quit) {
                const char *at = p;
                int k = key_parse(&p);
                if (k < 0) {
                    if (!app->script_problem[0])
                        snprintf(app->script_problem, sizeof app->script_problem,
                                 "%s:%d: unknown key name '%.*s' (keys: j, <Enter>, <C-x>, "
                                 "<Down>, <Esc>, <Tab>, <lt> ...)",
                                 path, lineno, (int)(p - at), at);
                    status = ST_ERR;
                    continue;
                }
                handle_key(app, k);
            }
        }
        if (app->dirty)
            draw_all(app);
    }
    free(line);
    fclose(f);
    return status;
}

/* ---------------------------------------------------------------------------
 * Running. */

static void views_open(struct tui *app)
{
    const struct view_ops *ops[VIEW_COUNT] = {
        [VIEW_DOMAIN] = &view_domain_ops,   [VIEW_EVENTS] = &view_events_ops,
        [VIEW_STREAMS] = &view_streams_ops, [VIEW_PROJECTIONS] = &view_projections_ops,
        [VIEW_FORM] = &view_form_ops,       [VIEW_HELP] = &view_help_ops,
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

int tui_run(struct domain *d, const char *domain_path, struct store *s, const char *db_path)
{
    setlocale(LC_ALL, "");
    struct tui *app = xcalloc(1, sizeof *app);
    app->domain = d;
    app->domain_path = domain_path;
    app->db_path = db_path;
    app->store = s;
    app->current = app->previous = VIEW_DOMAIN;
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
    if (projection_setup(s, d, &e) != ST_OK) {
        fprintf(stderr, "strata tui: %s\n", e.msg);
        free(app);
        return e.code ? e.code : ST_ERR;
    }
    app->runner = projection_runner_start(db_path, d, &e);
    char runner_problem[1100] = "";
    if (!app->runner)
        snprintf(runner_problem, sizeof runner_problem, "projections will not follow: %s", e.msg);

    const char *tf = getenv("STRATA_TUI_TIMING");
    if (tf && *tf)
        timing = fopen(tf, "a");
    keys_init();
    palette_init();
    install_signals();
    err_clear(&e);
    int status = screen_start(want_tty, &e);
    if (status != ST_OK) {
        teardown();
        fprintf(stderr, "strata tui: %s\n", e.msg);
        palette_done();
        if (app->runner)
            projection_runner_stop(app->runner);
        free(app);
        return status;
    }
    atexit(teardown); /* xmalloc's fail-fast exit restores the terminal too */
    views_open(app);
    tui_poll(app, true);
    if (runner_problem[0])
        tui_error(app, "%s", runner_problem);
    else
        tui_message(app,
                    "Welcome: ? shows the keys, : opens the palette (Tab completes), q quits.");

    if (app->script) {
        draw_all(app);
        status = run_script(app, script);
    } else {
        timeout(200);
        while (!app->quit && !stop_signal) {
            if (app->dirty)
                draw_all(app);
            int ch = getch();
            if (stop_signal)
                break;
            if (ch != ERR)
                handle_key(app, ch);
            tui_poll(app, false);
        }
    }

    views_close(app);
    teardown();
    palette_done();
    for (int i = 0; i < TUI_MAX_JOBS; i++)
        if (app->jobs[i]) {
            app->jobs[i]->stop = 1;
            job_free(app->jobs[i]);
            app->jobs[i] = NULL;
        }
    if (app->runner)
        projection_runner_stop(app->runner);
    proj_lag_free(app->lags, app->nlags);
    free(app->hist);
    if (timing)
        fclose(timing);
    timing = NULL;
    if (app->script_problem[0])
        fprintf(stderr, "strata tui: %s\n", app->script_problem);
    if (stop_signal && !app->quit)
        status = 128 + stop_signal;
    free(app);
    return status;
}
