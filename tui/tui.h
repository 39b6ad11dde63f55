/* tui.h: the workbench's shared state and its main loop's services.
 *
 * The workbench (tui_run) owns one `struct tui`: the domain, a store handle for
 * this thread, the projection runner (its own thread and connection), the live
 * head and the "as of" position, and the views (views.h). The modules around the
 * main loop each have their own header: terminal.h (the terminal's life cycle),
 * frame.h (header, tabs, scrubber), jobs.h (background work), script.h
 * (STRATA_SCRIPT), palette.h and palette_verbs.h (the `:` palette), lines.h (the
 * line-list base of the views).
 *
 * Time travel: app->as_of is 0 when live, else the position every pane shows
 * ("as it was right after that event"). Views ask tui_position(app) for the
 * position to read at (0 = now) and app->generation tells them when whatever they
 * cached is out of date (new events, a command, a move of the scrubber). */
#ifndef STRATA_TUI_H
#define STRATA_TUI_H

#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/domain.h"
#include "core/domain_reload.h"
#include "core/projection.h"
#include "core/store.h"
#include "tui/draw.h"
#include "tui/jobs.h"
#include "tui/layout.h"
#include "tui/request.h"
#include "tui/views.h"

#define TUI_SPARK 32

struct tui {
    struct domain *domain;
    const char *domain_path;
    const char *db_path;
    struct store *store; /* what the panes and verbs use: main_store or branch_store */
    struct proj_runner *runner;
    struct store *main_store;   /* the store the workbench was opened with (the caller's) */
    struct store *branch_store; /* a what-if branch of it (:branch NAME), owned; or NULL */
    char *branch;               /* its name, or NULL on main */

    int64_t head;        /* the live head, polled */
    int64_t as_of;       /* 0 = live; else the position every pane shows */
    uint64_t generation; /* bumped when what the panes show may have changed */
    int64_t last_poll_ms, last_status_ms;

    /* A server's connection lost and opened again (tui_poll says so). */
    int64_t store_session; /* store_session as last seen: a change means it reconnected */
    bool store_lost;       /* the last poll lost the connection (said once) */

    struct proj_lag *lags; /* the latest projection_status, in domain order */
    size_t nlags;

    bool script;        /* keys come from STRATA_SCRIPT */
    bool deterministic; /* script mode: no wall-clock or rate text on screen */
    int64_t now_ms;     /* STRATA_NOW: the clock commands see (0 = the real one) */
    bool quit;
    int exit_status; /* what quitting returns (130 after Ctrl-C, as shells expect) */
    bool dirty;      /* redraw needed */

    struct view views[VIEW_COUNT];
    enum view_id current, previous; /* current: the view keys go to (the focused pane) */
    enum view_id slot[2];           /* the dashboard's left and right views */
    bool zoomed;                    /* z: the focused pane over the whole body */
    struct layout layout;           /* this frame's panes (for the mouse) */
    bool no_mouse;                  /* STRATA_NO_MOUSE: the mouse is the terminal's */
    bool scrub_drag;                /* button 1 went down on the scrubber */

    char message[1024];
    bool message_error;
    bool message_asof;  /* the message is tui_goto's: recomputed when drawn */
    int64_t message_ms; /* when it was set: plain messages expire (not in scripts) */

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
    int cursor_y, cursor_x;   /* where the terminal cursor goes after drawing; -1 = hidden */
    char script_problem[600]; /* printed once the terminal is restored */

    /* While not NULL, the workbench asks whether to apply the domain to a store
     * used with another (or with none): ask_domain.h. Nothing else runs. */
    const char *ask;
    struct domain *no_domain; /* what 'n' opens the store with (the caller's) */

    /* `:record FILE`: each command sent (palette or form) is appended to it as a
     * scenario (core/record.h) until `:record stop`; the header says so. Owned. */
    char *record_path;
    int recorded; /* scenarios written since :record */
    /* Live domain reload (core/domain_reload.h): the domain file, polled on the
     * idle tick; the domains loaded by reloads (the workbench's to free at the
     * end: a job started before a reload may still use the one it had). */
    struct domain_watch watch;
    bool watching;
    bool domain_file_bad; /* the last reload failed: the header says so until one loads */
    int64_t watch_ms;
    struct domain **reloaded;
    size_t nreloaded;
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

/* True when this frame is the dashboard (big enough, not zoomed, not help). */
static inline bool tui_dashboard(const struct tui *app)
{
    return !app->zoomed && app->current != VIEW_HELP && layout_dashboard_fits();
}

/* Switches the workbench to what-if branch `name` of its store ("main": back to
 * main): the panes, the verbs and the projection runner follow it, the header
 * says which. An unknown branch is said on the message line; nothing changes. */
void tui_switch_branch(struct tui *app, const char *name);

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
/* Writes the screen's text to path, one line per row, trailing blanks removed. */
int tui_save_display(struct tui *app, const char *path, err *e);
/* Resizes the (in-memory) screen; for scripts and tests. */
void tui_resize(struct tui *app, int cols, int lines);
/* Opens the palette with text already typed (for keys like `s` in events). */
void tui_prompt(struct tui *app, const char *prefill);

/* Shows view id, first pointing it at arg (streams: a stream; projections: a
 * projection; form: a command; events: NULL clears the filters). A problem goes
 * to the message line; returns ST_OK or its code. */
int tui_open_view(struct tui *app, enum view_id id, const char *arg);
/* The same with the view's words (see each view's open_with: a projection and a
 * key; a command, field=value words and --submit [--id ID]; --stream S ...). */
int tui_open_view_words(struct tui *app, enum view_id id, int argc, const char *const *argv);
/* Handles one mouse event at (y, x): bstate as curses reports it (BUTTON1_CLICKED,
 * BUTTON1_PRESSED / REPORT_MOUSE_POSITION / BUTTON1_RELEASED for a drag, BUTTON4/5
 * for the wheel). The script player feeds `:mouse` steps through here. */
void tui_mouse(struct tui *app, int y, int x, mmask_t bstate);
/* Handles one key as typed (the script player feeds keys through here). */
void tui_handle_key(struct tui *app, int key);
/* Draws the whole screen now. */
void tui_draw(struct tui *app);

/* The question the workbench asks before applying domain d to a store that was
 * used with another domain, or with none but has events (core/store_domain.h):
 * `question` says why; 'y' records d's name in the store and goes on with d, 'n'
 * opens the store with no_domain (events, streams, timeline) and writes nothing. */
struct tui_ask {
    const char *question;
    struct domain *no_domain;
};

/* Runs the workbench on a loaded domain and an open store (both stay the
 * caller's); ask: NULL, or the question to put first. Returns the exit status.
 * The terminal is restored on every way out. */
int tui_run(struct domain *d, const char *domain_path, struct store *s, const char *db_path,
            const struct tui_ask *ask);
/* Looks at the domain file (at most twice a second; in scripts at every step)
 * and reloads it when it changed (force: even when it did not):
 * on errors they go to the output pane with FILE:LINE:COL and the domain in
 * force stays; on success the views follow the new domain and the projections
 * whose rules changed are stale (B rebuilds them). */
/* Called by the main loop between keys (and by the script player between
 * steps, or :reload): never under a view's handler, since it reopens the views. */
void tui_reload_domain(struct tui *app, bool force);
/* Starts what works on the domain (the projection runner, the views), once it is
 * settled; said: the first message (NULL: the welcome). */
void tui_begin(struct tui *app, const char *said);

#endif
