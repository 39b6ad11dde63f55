/* verb_pane.c: the workbench's side of the command layer (verb_pane.h): the
 * shared verbs' output in the workbench. The lines and messages go to the output
 * pane (view_output.c), the first problem (or else the last summary) to the
 * message line, and a result with a view of its own opens that view. */
#include "tui/verb_pane.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/command_log.h"
#include "tui/tui.h"

#define OUTPUT_MAX_LINES 5000

static struct {
    struct lines lines;
    bool ready;
    uint64_t run;    /* counts the runs, so the pane starts each at its top */
    bool said_error; /* the message line holds this run's first problem */
    struct tui *app;
    bool show_output; /* the verb asked for the pane itself */
    bool jumps;       /* its lines name positions (why, bisect): a cursor moves the timeline */
    bool marks;       /* its lines mark fields + added, - removed, ~ changed (upcast) */
    char said[512];   /* what the message line was last given, to say again */
    bool said_bad;
    bool background; /* the run left its work to a background job: it says how it ended */
} pane;

bool verb_pane_jumps(void)
{
    return pane.jumps;
}

const struct lines *verb_pane_lines(uint64_t *run)
{
    *run = pane.run;
    return pane.ready ? &pane.lines : NULL;
}

static void out_add(attr_t attr, const char *text, size_t len)
{
    if (pane.lines.len == OUTPUT_MAX_LINES)
        lines_add(&pane.lines, tui_attr(TC_DIM), "... (more lines than the pane keeps)");
    if (pane.lines.len >= OUTPUT_MAX_LINES)
        return;
    lines_add(&pane.lines, attr, "%.*s", (int)len, text);
}

static void out_line(void *ctx, const char *text, size_t len)
{
    /* The upcast playground's fields: what a step changed stands out. */
    bool marked = pane.marks && len > 4 && text[0] == ' ' && text[1] == ' ' && text[3] == ' ' &&
                  (text[2] == '+' || text[2] == '-' || text[2] == '~');
    out_add(marked ? tui_attr(TC_CHANGE) : 0, text, len);
}

static void out_table_row(void *ctx, const char *const *cells, size_t n)
{
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < n; i++)
        sb_addf(&sb, "%s%-14s", i ? " " : "", cells[i] ? cells[i] : "");
    out_add(0, sb.buf ? sb.buf : "", sb.len);
    sb_done(&sb);
}

static void out_table_begin(void *ctx, const char *const *columns, size_t n)
{
    out_table_row(ctx, columns, n);
}

static void out_table_end(void *ctx)
{
}

static void out_message(void *ctx, enum verb_level level, const char *verb, const char *text)
{
    bool bad = level == VERB_ERROR || level == VERB_REJECTED;
    char *line = verb && (level == VERB_ERROR || level == VERB_NOTE || level == VERB_WARNING)
                     ? xasprintf("%s: %s%s", verb, verb_level_prefix(level), text)
                     : xstrdup(text);
    out_add(tui_attr(bad ? TC_ERROR : TC_DIM), line, strlen(line));
    /* The message line: the first problem stays; otherwise the latest word. */
    if (bad && !pane.said_error) {
        tui_error(pane.app, "%s", line);
        pane.said_error = true;
        snprintf(pane.said, sizeof pane.said, "%s", line);
        pane.said_bad = true;
    } else if (!pane.said_error &&
               (level == VERB_INFO || level == VERB_NOTE || level == VERB_WARNING)) {
        tui_message(pane.app, "%s", line);
        snprintf(pane.said, sizeof pane.said, "%s", line);
    }
    free(line);
}

static void out_usage(void *ctx, const char *verb, const char *usage_text)
{
    /* The pane has room for the usage; the message line keeps the problem. */
    const char *s = usage_text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        out_add(tui_attr(TC_DIM), s, n);
        s += n + (nl != NULL);
    }
}

static void out_show(void *ctx, const struct verb_view *v)
{
    struct tui *app = pane.app;
    if (v->kind == VERB_VIEW_OUTPUT) {
        pane.show_output = true;
        return;
    }
    if (v->position > 0 && v->position != app->as_of)
        tui_goto(app, v->position);
    if (v->kind == VERB_VIEW_STREAM) {
        tui_open_view(app, VIEW_STREAMS, v->name);
    } else if (v->kind == VERB_VIEW_PROJECTION && !v->name) {
        tui_show(app, VIEW_PROJECTIONS);
    } else if (v->kind == VERB_VIEW_PROJECTION) {
        const char *pw[2] = {v->name, v->key};
        tui_open_view_words(app, VIEW_PROJECTIONS, v->key ? 2 : 1, pw);
    } else if (v->kind == VERB_VIEW_EVENTS) {
        /* The events view takes its filters as options (none: no filter). */
        const char *ew[6];
        int n = 0;
        if (v->filter->stream) {
            ew[n++] = "--stream";
            ew[n++] = v->filter->stream;
        }
        if (v->filter->type) {
            ew[n++] = "--type";
            ew[n++] = v->filter->type;
        }
        if (v->text) {
            ew[n++] = "--text";
            ew[n++] = v->text;
        }
        tui_open_view_words(app, VIEW_EVENTS, n, ew);
    }
}

/* ---------------------------------------------------------------------------
 * A verb's long work (an import, a replay, a rebuild) as a background job on a
 * store connection of its own; the message line says when it is done. */

static int task_run(struct tui_job *job)
{
    struct verb_task *t = job->data;
    struct store_options o = STORE_OPTIONS_DEFAULT;
    o.create = false;
    o.branch = job->app->branch; /* a task works where the workbench is */
    struct store *s = store_open(job->app->db_path, &o, &job->e);
    if (!s)
        return ST_ERR;
    strbuf result;
    sb_init(&result);
    int rc = t->work(t, s, &result, &job->e);
    store_close(s);
    if (rc == ST_OK && result.len)
        err_set(&job->e, ST_OK, "%s", result.buf);
    else if (rc != ST_OK && t->after_error[0]) {
        char was[sizeof job->e.msg];
        snprintf(was, sizeof was, "%s", job->e.msg);
        err_set(&job->e, rc, "%s; %s", was, t->after_error);
    }
    sb_done(&result);
    return rc;
}

static void task_cleanup(struct tui_job *job)
{
    struct verb_task *t = job->data;
    t->done(t);
}

static bool task_progress(struct tui_job *job, char *buf, size_t cap)
{
    struct verb_task *t = job->data;
    int64_t records = t->progress_records, bytes = t->progress_bytes, total = t->progress_total;
    if (records <= 0)
        return false;
    if (total > 0)
        snprintf(buf, cap, "%lld records, %d%%", (long long)records, (int)(bytes * 100 / total));
    else
        snprintf(buf, cap, "%lld records", (long long)records);
    return true;
}

static const char *status_word(int rc);

/* The job ended: the run that started it (if the pane still shows it) gets its
 * result and its exit status, as the command line's run would end. */
static void task_finish(struct tui_job *job)
{
    if (!pane.ready || job->num != (int64_t)pane.run)
        return;
    int rc = job->status;
    if (rc != ST_OK) /* as verb_fail maps it */
        rc = job->e.code && job->e.code != ST_NOT_FOUND && job->e.code != ST_DUPLICATE ? job->e.code
                                                                                       : ST_ERR;
    if (job->e.msg[0])
        lines_add(&pane.lines, tui_attr(rc == ST_OK ? TC_DIM : TC_ERROR), "%s: %s", job->what,
                  job->e.msg);
    lines_add(&pane.lines, tui_attr(rc == ST_OK ? TC_OK : TC_ERROR), "(exit status %d: %s)", rc,
              status_word(rc));
}

static void task_setup(struct tui_job *job)
{
    struct verb_task *t = job->data;
    job->finish = task_finish;
    job->num = (int64_t)pane.run;
    pane.background = true;
    job->cleanup = task_cleanup;
    job->also_stop = &t->stop;
    job->progress = task_progress;
}

static bool out_background(void *ctx, struct verb_task *t)
{
    struct tui *app = pane.app;
    if (!tui_job_start_data(app, t->what, task_run, t, task_setup)) {
        t->done(t);
        return false;
    }
    return true;
}

void verb_pane_report(struct tui *app, const char *title)
{
    if (!pane.ready) {
        lines_init(&pane.lines);
        pane.ready = true;
    }
    lines_clear(&pane.lines);
    pane.run++;
    pane.jumps = false;
    pane.app = app;
    lines_add(&pane.lines, tui_attr(TC_TITLE), "%s", title);
}

void verb_pane_add(bool error, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    out_add(error ? tui_attr(TC_ERROR) : 0, text, strlen(text));
}

static const char *status_word(int rc)
{
    switch (rc) {
    case ST_OK:
        return "ok";
    case ST_USAGE:
        return "usage";
    case ST_REJECTED:
        return "rejected";
    case ST_CONFLICT:
        return "conflict";
    default:
        return "error";
    }
}

void verb_pane_run(struct tui *app, const struct verb_def *def, struct words *w, const char *line)
{
    if (!pane.ready) {
        lines_init(&pane.lines);
        pane.ready = true;
    }
    lines_clear(&pane.lines);
    pane.run++;
    pane.said_error = false;
    pane.show_output = false;
    pane.jumps = strcmp(def->name, "why") == 0 || strcmp(def->name, "bisect") == 0;
    pane.marks = strcmp(def->name, "upcast") == 0;
    pane.said[0] = 0;
    pane.said_bad = false;
    pane.background = false;
    pane.app = app;
    lines_add(&pane.lines, tui_attr(TC_TITLE), ":%s", line);
    const struct verb_out vo = {
        .line = out_line,
        .table_begin = out_table_begin,
        .table_row = out_table_row,
        .table_end = out_table_end,
        .message = out_message,
        .usage = out_usage,
        .show = out_show,
        .background = out_background,
    };
    struct verb_ctx c;
    memset(&c, 0, sizeof c);
    c.out = &vo;
    c.domain = app->domain;
    c.store = app->store;
    c.domain_path = app->domain_path;
    c.db_path = app->db_path;
    c.borrowed = true;
    c.projections_live = app->runner != NULL;
    c.now_ms = app->now_ms;
    c.max_lines = OUTPUT_MAX_LINES;
    c.record_path = app->record_path;
    bool writes = strcmp(def->name, "exec") == 0 || strcmp(def->name, "race") == 0;
    if (writes) /* every command is narrated into the Log view */
        c.narrate = command_log_begin(app, line);
    /* A command acts on the present; its result shown in the past would lie. */
    c.as_of = writes ? 0 : app->as_of;
    int rc = verb_run(def, &c, w->n, w->v);
    if (rc == ST_OK && pane.background)
        lines_add(&pane.lines, tui_attr(TC_DIM), "(running in the background: its end follows)");
    else
        lines_add(&pane.lines, tui_attr(rc == ST_OK ? TC_OK : TC_ERROR), "(exit status %d: %s)", rc,
                  status_word(rc));
    /* Sent from the past, the command acted on the head: the workbench goes
     * there too, and the message line says so (as the form does) instead of
     * losing the result under the "Live" notice. */
    if (writes && app->as_of && (rc == ST_OK || rc == ST_REJECTED)) {
        int64_t past = app->as_of;
        tui_goto(app, 0);
        const char *fmt = "%s (sent at the head: left \"as of #%lld\" for live)";
        if (pane.said[0] && pane.said_bad)
            tui_error(app, fmt, pane.said, (long long)past);
        else if (pane.said[0])
            tui_message(app, fmt, pane.said, (long long)past);
    }
    if (writes && rc == ST_OK) {
        if (app->runner)
            projection_runner_poke(app->runner);
        tui_poll(app, false);
        tui_changed(app);
    } else if (rc == ST_OK && strcmp(def->name, "project") == 0) {
        /* A control (pause, throttle ...) changed what the runner does. */
        if (app->runner)
            projection_runner_poke(app->runner);
        tui_poll(app, true);
    }
    if (writes)
        command_log_end(app, rc, app->head);
    if (app->record_path && strcmp(def->name, "exec") == 0 && (rc == ST_OK || rc == ST_REJECTED))
        app->recorded++;
    if (pane.show_output)
        tui_show(app, VIEW_OUTPUT);
}
