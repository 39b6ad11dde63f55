/* command_log.c: the workbench's narrations (command_log.h), in a ring of
 * COMMAND_LOG_MAX entries, flattened for the view when they change. */
#include "tui/command_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

struct entry {
    struct lines lines;
    int64_t wait_for; /* fold up to this position; 0 = not waiting */
    bool *reported;   /* per projection: its "caught up" line is written */
    size_t nreported;
    bool announced;      /* the "N behind" lines are written */
    int64_t head_before; /* the head when the command began */
};

static struct {
    struct entry ring[COMMAND_LOG_MAX];
    size_t first, n;     /* the oldest entry and how many there are */
    struct entry *open;  /* the entry being narrated */
    struct lines flat;   /* newest first, for the view */
    uint64_t generation; /* bumped on every change */
    uint64_t flat_gen;   /* the generation flat was built for */
    struct command_narrator narrator;
} log_;

static void entry_clear(struct entry *en)
{
    lines_done(&en->lines);
    free(en->reported);
    memset(en, 0, sizeof *en);
}

static void on_line(void *ctx, const char *text)
{
    if (log_.open) {
        lines_add(&log_.open->lines, 0, "  %s", text);
        log_.generation++;
    }
}

const struct command_narrator *command_log_begin(struct tui *app, const char *title)
{
    struct entry *en;
    if (log_.n == COMMAND_LOG_MAX) { /* drop the oldest */
        en = &log_.ring[log_.first];
        entry_clear(en);
        log_.first = (log_.first + 1) % COMMAND_LOG_MAX;
        log_.n--;
    }
    en = &log_.ring[(log_.first + log_.n++) % COMMAND_LOG_MAX];
    memset(en, 0, sizeof *en);
    lines_init(&en->lines);
    lines_add(&en->lines, tui_attr(TC_TITLE), "%s", title);
    en->head_before = app->head;
    log_.open = en;
    log_.generation++;
    log_.narrator.line = on_line;
    log_.narrator.ctx = NULL;
    return &log_.narrator;
}

void command_log_end(struct tui *app, int rc, int64_t appended_up_to)
{
    struct entry *en = log_.open;
    if (!en)
        return;
    log_.open = NULL;
    if (rc == ST_OK && appended_up_to > 0 && app->domain->nprojections > 0) {
        en->wait_for = appended_up_to;
        en->nreported = app->domain->nprojections;
        en->reported = xcalloc(en->nreported, sizeof *en->reported);
        if (!app->runner) {
            lines_add(&en->lines, tui_attr(TC_DIM),
                      "  projections: no runner in this workbench; `strata project` folds them");
            en->wait_for = 0;
        }
    }
    log_.generation++;
    command_log_poll(app);
}

/* The projection lines of one waiting entry, from the latest status. */
static void follow(struct tui *app, struct entry *en)
{
    size_t n = app->nlags < en->nreported ? app->nlags : en->nreported;
    if (n == 0)
        return;
    if (!en->announced) {
        for (size_t i = 0; i < n; i++) {
            const struct proj_lag *l = &app->lags[i];
            /* Measured from the head before the command when the runner has
             * already folded it: the lag the append made, whenever this runs. */
            int64_t from = l->checkpoint < en->wait_for ? l->checkpoint : en->head_before;
            int64_t behind = en->wait_for > from ? en->wait_for - from : 0;
            if (behind)
                lines_add(&en->lines, 0, "  projection %s: %lld behind, folding", l->name,
                          (long long)behind);
        }
        en->announced = true;
    }
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &app->lags[i];
        if (!en->reported[i]) {
            if (l->checkpoint >= en->wait_for) {
                lines_add(&en->lines, tui_attr(TC_OK), "  projection %s: folded up to #%lld, lag 0",
                          l->name, (long long)en->wait_for);
                en->reported[i] = true;
            } else if (l->status == PROJ_PAUSED || l->status == PROJ_FAILED || l->stale) {
                lines_add(&en->lines, tui_attr(TC_DIM), "  projection %s: %s, not folding", l->name,
                          l->stale ? "stale" : proj_status_name(l->status));
                en->reported[i] = true;
            }
        }
        done += en->reported[i];
    }
    if (done == n)
        en->wait_for = 0;
    log_.generation++;
}

void command_log_poll(struct tui *app)
{
    /* Only the newest few can still be waiting: a runner catches up in moments. */
    for (size_t k = 0; k < log_.n && k < 8; k++) {
        struct entry *en = &log_.ring[(log_.first + log_.n - 1 - k) % COMMAND_LOG_MAX];
        if (en->wait_for && en != log_.open)
            follow(app, en);
    }
}

const struct lines *command_log_lines(uint64_t *generation)
{
    if (!log_.flat.items && !log_.flat.cap)
        lines_init(&log_.flat);
    if (log_.flat_gen != log_.generation || log_.generation == 0) {
        lines_clear(&log_.flat);
        for (size_t k = 0; k < log_.n; k++) {
            const struct entry *en = &log_.ring[(log_.first + log_.n - 1 - k) % COMMAND_LOG_MAX];
            for (size_t i = 0; i < en->lines.len; i++)
                lines_add(&log_.flat, en->lines.attrs[i], "%s", en->lines.items[i]);
        }
        log_.flat_gen = log_.generation;
    }
    *generation = log_.generation;
    return &log_.flat;
}
