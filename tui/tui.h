/* tui.h: the workbench's shared state and the contract between its modules.
 *
 * The workbench (tui_run) owns one `struct tui`: the domain, a store handle for
 * this thread, the projection runner (its own thread and connection), the live
 * head and the "as of" position, and the views. A view is a table of operations
 * (tig's `struct view_ops`), one module each: view_domain.c, view_events.c,
 * view_streams.c, view_projections.c, view_form.c, view_help.c. Requests come from
 * request.h's table; a view that does not handle one returns it and the generic
 * handler in tui.c takes it.
 *
 * Time travel: app->as_of is 0 when live, else the position every pane shows
 * ("as it was right after that event"). Views ask tui_position(app) for the
 * position to read at (0 = now) and app->generation tells them when whatever they
 * cached is out of date (new events, a command, a move of the scrubber). */
#ifndef STRATA_TUI_H
#define STRATA_TUI_H

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/domain.h"
#include "core/projection.h"
#include "core/store.h"
#include "tui/draw.h"
#include "tui/request.h"

enum view_id {
    VIEW_DOMAIN,
    VIEW_EVENTS,
    VIEW_STREAMS,
    VIEW_PROJECTIONS,
    VIEW_FORM,
    VIEW_HELP,
    VIEW_COUNT
};

struct tui;
struct view;

/* A rectangle of the screen given to a view to draw in. */
struct area {
    int y, x, h, w;
};

struct view_ops {
    const char *name;              /* "events": the tab and :view name */
    enum keymap keymap;            /* looked up before the generic keymap */
    bool text_input;               /* printable keys go to `key` before bindings (the form) */
    void (*open)(struct view *v);  /* allocate v->priv */
    void (*close)(struct view *v); /* free v->priv */
    void (*draw)(struct view *v, struct area a); /* draw the whole area */
    /* Handle a request; return REQ_NONE when handled, or the request to hand to
     * the generic handler. */
    enum request (*request)(struct view *v, enum request req);
    /* A key that is not bound (text input views); true when used. May be NULL. */
    bool (*key)(struct view *v, int key);
    /* A mouse click on row `row` of the area the view last drew. May be NULL. */
    void (*click)(struct view *v, int row);
};

struct view {
    const struct view_ops *ops;
    struct tui *app;
    void *priv;
    struct area last; /* where it drew last time, for clicks */
};

extern const struct view_ops view_domain_ops, view_events_ops, view_streams_ops,
    view_projections_ops, view_form_ops, view_help_ops;

/* A background job (a rebuild, an import, a replay) on its own store connection. */
struct tui_job {
    pthread_t thread;
    bool started;
    volatile int done;          /* set by the job when it has finished */
    volatile sig_atomic_t stop; /* set by the workbench to end a replay early */
    char *what;                 /* "rebuild AccountList" */
    int status;                 /* ST_OK or the error's code */
    err e;
    int (*run)(struct tui_job *job); /* runs in the thread */
    struct tui *app;
    char *arg1, *arg2;
    int64_t num;
    double real;
};

#define TUI_SPARK 32
#define TUI_MAX_JOBS 8

struct tui {
    struct domain *domain;
    const char *domain_path;
    const char *db_path;
    struct store *store;
    struct proj_runner *runner;

    int64_t head;        /* the live head, polled */
    int64_t as_of;       /* 0 = live; else the position every pane shows */
    uint64_t generation; /* bumped when what the panes show may have changed */
    int64_t last_poll_ms, last_status_ms;

    struct proj_lag *lags; /* the latest projection_status, in domain order */
    size_t nlags;

    bool script;        /* keys come from STRATA_SCRIPT */
    bool deterministic; /* script mode: no wall-clock or rate text on screen */
    int64_t now_ms;     /* STRATA_NOW: the clock commands see (0 = the real one) */
    bool quit;
    bool dirty; /* redraw needed */

    struct view views[VIEW_COUNT];
    enum view_id current, previous;

    char message[1024];
    bool message_error;

    /* Events-per-second sparkline: one sample per second. */
    double spark[TUI_SPARK];
    int64_t spark_head, spark_ms;

    /* Scrubber histogram cache. */
    int hist_width;
    int64_t hist_head;
    int64_t hist_ms;
    unsigned char *hist; /* level 0..8 per column */
    char asof_time[TIME_TEXT_LEN + 8];
    int64_t asof_time_pos;

    struct tui_job *jobs[TUI_MAX_JOBS];

    bool palette_active;
    int cursor_y, cursor_x; /* where the terminal cursor goes after drawing; -1 = hidden */
    char script_problem[600]; /* printed once the terminal is restored */
};

/* The position panes read at: 0 when live, else app->as_of. */
static inline int64_t tui_position(const struct tui *app)
{
    return app->as_of;
}
/* The position the panes show: the head when live. */
static inline int64_t tui_shown_head(const struct tui *app)
{
    return app->as_of ? app->as_of : app->head;
}

/* Sets the message line (printf style; sanitised when drawn). */
void tui_message(struct tui *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_error(struct tui *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Switches to a view. */
void tui_show(struct tui *app, enum view_id id);
/* Marks everything shown as out of date (after a command, an import...). */
void tui_changed(struct tui *app);
/* Re-reads the head and, when asked, the projections' status. */
void tui_poll(struct tui *app, bool force_status);
/* Time travel: pos <= 0 or >= head means live. */
void tui_goto(struct tui *app, int64_t pos);
/* Starts a background job; false (with a message) when too many run. */
bool tui_job_start(struct tui *app, const char *what, int (*run)(struct tui_job *),
                   const char *arg1, const char *arg2, int64_t num, double real);
bool tui_jobs_running(struct tui *app);
/* Writes the screen's text to path, one line per row, trailing blanks removed. */
int tui_save_display(struct tui *app, const char *path, err *e);
/* Resizes the (in-memory) screen; for scripts and tests. */
void tui_resize(struct tui *app, int cols, int lines);
/* Opens the palette with text already typed (for keys like `s` in events). */
void tui_prompt(struct tui *app, const char *prefill);

/* palette.c */
void palette_init(void);
void palette_done(void);
/* Runs one palette command line (`exec Deposit accountId=A amount=5`, with or
 * without the leading ':'); results go to panes and the message line. */
void palette_run(struct tui *app, const char *line);
/* Opens the palette with text already typed. */
void palette_open(struct tui *app, const char *prefill);
/* Draws the palette line (when active) on row y. */
void palette_draw(struct tui *app, int y);
/* Feeds one key to an active palette; true while it stays open. */
bool palette_key(struct tui *app, int key);
/* Help lines for the palette's verbs, for the help view. */
size_t palette_help(const char *const **verbs, const char *const **args, const char *const **help);

/* View entry points used by the palette and other views. */
void events_set_filter(struct view *v, const char *stream, const char *type, const char *text);
void streams_open(struct view *v, const char *stream);
bool projections_select(struct view *v, const char *name, const char *key);
/* Loads a command into the form; args are field=value words (may be NULL). */
int form_set_command(struct view *v, const struct command_spec *c, char **args, int nargs, err *e);
/* Submits the form; command_id may be NULL. */
void form_submit(struct view *v, const char *command_id);

/* A list of owned lines, for views that prepare text. */
struct lines {
    char **items;
    attr_t *attrs;
    size_t len, cap;
};
void lines_init(struct lines *l);
void lines_done(struct lines *l);
void lines_clear(struct lines *l);
void lines_add(struct lines *l, attr_t attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds each line of a multi-line text, indented. */
void lines_add_text(struct lines *l, attr_t attr, const char *indent, const char *text);

/* Runs the workbench on a loaded domain and an open store (both stay the
 * caller's). Returns the exit status. The terminal is restored on every way out. */
int tui_run(struct domain *d, const char *domain_path, struct store *s, const char *db_path);

/* A cursor over n lines shown h at a time. */
struct scroll {
    long top, cur;
};
/* Keeps cur within 0..n-1 and visible in a window of h lines. */
static inline void scroll_fix(struct scroll *sc, long n, long h)
{
    if (sc->cur >= n)
        sc->cur = n - 1;
    if (sc->cur < 0)
        sc->cur = 0;
    if (h < 1)
        h = 1;
    if (sc->cur < sc->top)
        sc->top = sc->cur;
    if (sc->cur >= sc->top + h)
        sc->top = sc->cur - h + 1;
    if (sc->top > n - h)
        sc->top = n - h;
    if (sc->top < 0)
        sc->top = 0;
}
/* Moves a cursor for the movement requests; returns false for other requests. */
bool scroll_request(struct scroll *sc, enum request req, long n, long h);
/* Draws lines l in area a from sc->top, the cursor line highlighted when
 * show_cursor. */
void lines_draw(const struct lines *l, struct scroll *sc, struct area a, bool show_cursor);

/* Formats a value for a cell: strings as they are, everything else as JSON. */
char *tui_value_text(const value *v);

#endif
