/* palette.c: the `:` command palette: a line editor with history and Tab
 * completion of verbs and names, and the verbs themselves, which take the command
 * line's arguments (design.md) and show their results in the workbench's panes.
 * Scripts run the same verbs through palette_run. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/import.h"
#include "core/json.h"
#include "tui/tui.h"

/* ---------------------------------------------------------------------------
 * Words. */

struct words {
    char **v;
    int n, cap;
};

static void words_push(struct words *w, char *s)
{
    if (w->n + 1 >= w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->v = xrealloc(w->v, (size_t)w->cap * sizeof *w->v);
    }
    w->v[w->n++] = s;
    w->v[w->n] = NULL;
}

static void words_done(struct words *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    memset(w, 0, sizeof *w);
}

/* Splits a line into words as a shell would for simple cases: blanks separate,
 * '...' and "..." quote, a backslash escapes the next character. Returns false
 * (with *bad set) when a quote is left open. */
static bool split_words(const char *line, struct words *w, const char **bad)
{
    const char *p = line;
    memset(w, 0, sizeof *w);
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return true;
        strbuf sb;
        sb_init(&sb);
        char q = 0;
        while (*p && (q || (*p != ' ' && *p != '\t'))) {
            if (q == 0 && (*p == '"' || *p == '\'')) {
                q = *p++;
            } else if (q && *p == q) {
                q = 0;
                p++;
            } else if (*p == '\\' && q != '\'' && p[1]) {
                sb_addc(&sb, p[1]);
                p += 2;
            } else {
                sb_addc(&sb, *p++);
            }
        }
        if (q) {
            *bad = "a quote is left open";
            sb_done(&sb);
            return false;
        }
        words_push(w, sb_steal(&sb));
    }
}

/* ---------------------------------------------------------------------------
 * Background jobs behind :rebuild, :import and :replay. */

static int job_open(struct tui_job *job, struct store **s)
{
    struct store_options o = STORE_OPTIONS_DEFAULT;
    o.create = false;
    *s = store_open(job->app->db_path, &o, &job->e);
    return *s ? ST_OK : ST_ERR;
}

static int job_rebuild(struct tui_job *job)
{
    struct store *s;
    if (job_open(job, &s) != ST_OK)
        return ST_ERR;
    int rc = projection_rebuild(s, job->app->domain, job->arg1, &job->e);
    store_close(s);
    return rc;
}

static int job_import(struct tui_job *job)
{
    struct store *s;
    if (job_open(job, &s) != ST_OK)
        return ST_ERR;
    struct import_options o;
    memset(&o, 0, sizeof o);
    /* arg2 is the source's name; the domain outlives the job. */
    if (job->arg2)
        o.source = domain_source(job->app->domain, job->arg2);
    FILE *errs = tmpfile();
    o.errors = errs ? errs : stderr;
    o.replay = job->num != 0;
    o.rate = job->num > 0 ? (double)job->num : 0;
    o.speed = job->real;
    o.stop = &job->stop;
    struct import_result res;
    memset(&res, 0, sizeof res);
    char *files[1] = {job->arg1};
    int rc = import_files(s, files, 1, &o, &res, &job->e);
    if (rc != ST_OK && errs) {
        /* The first bad record says why; the summary says what it meant. */
        char line[512] = "";
        rewind(errs);
        if (fgets(line, sizeof line, errs))
            line[strcspn(line, "\n")] = 0;
        if (line[0] && job->e.msg[0] && !strstr(job->e.msg, line)) {
            char summary[sizeof job->e.msg];
            snprintf(summary, sizeof summary, "%s", job->e.msg);
            err_set(&job->e, rc, "%s (%s)", line, summary);
        } else if (line[0] && !job->e.msg[0]) {
            err_set(&job->e, rc, "%s", line);
        }
    } else if (rc == ST_OK) {
        err_set(&job->e, ST_OK, "%lld events appended (positions %lld-%lld)%s",
                (long long)res.imported, (long long)res.first_position,
                (long long)res.last_position, res.stopped ? ", stopped early" : "");
    }
    if (errs)
        fclose(errs);
    store_close(s);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The verbs. */

struct verb {
    const char *name;
    const char *args;
    const char *help;
    void (*run)(struct tui *app, struct words *w);
};

static const struct verb verbs[];
static const size_t nverbs;

static const char *opt_value(struct words *w, const char *name)
{
    for (int i = 1; i + 1 < w->n; i++)
        if (strcmp(w->v[i], name) == 0)
            return w->v[i + 1];
    return NULL;
}

static bool has_flag(struct words *w, const char *name)
{
    for (int i = 1; i < w->n; i++)
        if (strcmp(w->v[i], name) == 0)
            return true;
    return false;
}

/* The position of a --at P or --at-time T option; false with a message when
 * malformed, true (and *pos untouched) when neither is there. */
static bool at_option(struct tui *app, struct words *w, int64_t *pos)
{
    const char *at = opt_value(w, "--at");
    const char *att = opt_value(w, "--at-time");
    if (at) {
        char *end;
        long long p = strtoll(at, &end, 10);
        if (*end || p < 1) {
            tui_error(app, "--at wants a position (1 or more), not '%s'", at);
            return false;
        }
        *pos = p;
    } else if (att) {
        err e;
        err_clear(&e);
        if (store_position_at_time(app->store, att, pos, &e) != ST_OK) {
            tui_error(app, "--at-time %s: %s", att, e.msg);
            return false;
        }
    }
    return true;
}

static const struct projection_spec *find_projection(struct tui *app, const char *name)
{
    const struct projection_spec *p = name ? domain_projection(app->domain, name) : NULL;
    if (!p) {
        const char *names[64];
        size_t n = 0;
        for (size_t i = 0; i < app->domain->nprojections && n < 64; i++)
            names[n++] = app->domain->projections[i].name;
        const char *dym = name ? did_you_mean(name, names, n) : NULL;
        tui_error(app, "no projection '%s'%s%s%s", name ? name : "", dym ? " (did you mean '" : "",
                  dym ? dym : "", dym ? "'?)" : "");
    }
    return p;
}

static void verb_exec(struct tui *app, struct words *w)
{
    if (w->n < 2) {
        tui_error(app, "usage: :exec COMMAND [field=value ...] [--id ID] [--payload JSON]");
        return;
    }
    const struct command_spec *c = domain_command(app->domain, w->v[1]);
    if (!c) {
        const char *names[256];
        size_t n = 0;
        for (size_t i = 0; i < app->domain->naggregates; i++)
            for (size_t j = 0; j < app->domain->aggregates[i].ncommands && n < 256; j++)
                names[n++] = app->domain->aggregates[i].commands[j].name;
        const char *dym = did_you_mean(w->v[1], names, n);
        tui_error(app, "no command '%s'%s%s%s", w->v[1], dym ? " (did you mean '" : "",
                  dym ? dym : "", dym ? "'?)" : "");
        return;
    }
    struct words args;
    memset(&args, 0, sizeof args);
    const char *id = NULL;
    for (int i = 2; i < w->n; i++) {
        if (strcmp(w->v[i], "--id") == 0 && i + 1 < w->n) {
            id = w->v[++i];
        } else if (strcmp(w->v[i], "--payload") == 0 && i + 1 < w->n) {
            value pv;
            json_error je;
            const char *text = w->v[++i];
            if (json_parse(text, strlen(text), &pv, &je) != ST_OK) {
                tui_error(app, "--payload: %s (column %d)", je.msg, je.column);
                words_done(&args);
                return;
            }
            if (pv.type != V_MAP) {
                value_free(pv);
                tui_error(app, "--payload wants a JSON object");
                words_done(&args);
                return;
            }
            for (size_t k = 0; k < value_map_len(&pv); k++) {
                char *vt = tui_value_text(value_map_val_at(&pv, k));
                words_push(&args, xasprintf("%s=%s", value_str(value_map_key_at(&pv, k)), vt));
                free(vt);
            }
            value_free(pv);
        } else if (strncmp(w->v[i], "--", 2) == 0) {
            tui_error(app, "exec: unknown option %s (the workbench takes --id and --payload)",
                      w->v[i]);
            words_done(&args);
            return;
        } else {
            words_push(&args, xstrdup(w->v[i]));
        }
    }
    err e;
    err_clear(&e);
    struct view *form = &app->views[VIEW_FORM];
    if (form_set_command(form, c, args.v, args.n, &e) != ST_OK) {
        tui_show(app, VIEW_FORM);
        tui_error(app, "%s", e.msg);
        words_done(&args);
        return;
    }
    words_done(&args);
    tui_show(app, VIEW_FORM);
    form_submit(form, id);
}

static void verb_state(struct tui *app, struct words *w)
{
    if (w->n < 3) {
        tui_error(app, "usage: :state AGGREGATE ID [--at P | --at-time TIME]");
        return;
    }
    const struct aggregate_spec *a = domain_aggregate(app->domain, w->v[1]);
    if (!a) {
        tui_error(app, "no aggregate '%s'", w->v[1]);
        return;
    }
    int64_t pos = -1;
    if (!at_option(app, w, &pos))
        return;
    char *stream = aggregate_stream(a, w->v[2]);
    if (pos >= 0)
        tui_goto(app, pos);
    streams_open(&app->views[VIEW_STREAMS], stream);
    free(stream);
    tui_show(app, VIEW_STREAMS);
}

static void verb_query(struct tui *app, struct words *w)
{
    if (w->n < 2) {
        tui_error(app, "usage: :query PROJECTION [--key K] [--at P | --at-time TIME]");
        return;
    }
    if (!find_projection(app, w->v[1]))
        return;
    int64_t pos = -1;
    if (!at_option(app, w, &pos))
        return;
    if (pos >= 0)
        tui_goto(app, pos);
    projections_select(&app->views[VIEW_PROJECTIONS], w->v[1], opt_value(w, "--key"));
    tui_show(app, VIEW_PROJECTIONS);
}

static void verb_events(struct tui *app, struct words *w)
{
    for (int i = 1; i < w->n; i++) {
        const char *o = w->v[i];
        if (strcmp(o, "--stream") && strcmp(o, "--type") && strcmp(o, "--text") &&
            strcmp(o, "--at") && strcmp(o, "--at-time")) {
            tui_error(app, "events: unknown argument '%s' (--stream S, --type T, --text X, --at P)",
                      o);
            return;
        }
        if (++i >= w->n) {
            tui_error(app, "events: %s wants a value", o);
            return;
        }
    }
    int64_t pos = -1;
    if (!at_option(app, w, &pos))
        return;
    if (pos >= 0)
        tui_goto(app, pos);
    events_set_filter(&app->views[VIEW_EVENTS], opt_value(w, "--stream"), opt_value(w, "--type"),
                      opt_value(w, "--text"));
    tui_show(app, VIEW_EVENTS);
}

static void start_rebuild(struct tui *app, const char *name)
{
    char what[200];
    snprintf(what, sizeof what, "rebuild %s", name);
    tui_job_start(app, what, job_rebuild, name, NULL, 0, 0);
    projections_select(&app->views[VIEW_PROJECTIONS], name, NULL);
    tui_show(app, VIEW_PROJECTIONS);
}

static void verb_project(struct tui *app, struct words *w)
{
    const char *name = opt_value(w, "--rebuild");
    if (name) {
        if (find_projection(app, name))
            start_rebuild(app, name);
    } else if (has_flag(w, "--rebuild-all")) {
        for (size_t i = 0; i < app->domain->nprojections; i++)
            start_rebuild(app, app->domain->projections[i].name);
    } else if (w->n == 1 || has_flag(w, "--status")) {
        tui_show(app, VIEW_PROJECTIONS);
    } else {
        tui_error(app, "usage: :project [--rebuild NAME | --rebuild-all | --status]");
    }
}

static void verb_rebuild(struct tui *app, struct words *w)
{
    if (w->n != 2) {
        tui_error(app, "usage: :rebuild PROJECTION");
        return;
    }
    if (find_projection(app, w->v[1]))
        start_rebuild(app, w->v[1]);
}

static void verb_pause_resume(struct tui *app, struct words *w, bool pause)
{
    if (w->n != 2) {
        tui_error(app, "usage: :%s PROJECTION", pause ? "pause" : "resume");
        return;
    }
    if (!find_projection(app, w->v[1]))
        return;
    err e;
    err_clear(&e);
    if (projection_pause(app->store, app->domain, w->v[1], pause, &e) != ST_OK) {
        tui_error(app, "%s", e.msg);
        return;
    }
    if (app->runner)
        projection_runner_poke(app->runner);
    projections_select(&app->views[VIEW_PROJECTIONS], w->v[1], NULL);
    tui_show(app, VIEW_PROJECTIONS);
    tui_poll(app, true);
    tui_message(app, "%s: %s", w->v[1], pause ? "paused (p resumes)" : "resumed");
}

static void verb_pause(struct tui *app, struct words *w)
{
    verb_pause_resume(app, w, true);
}
static void verb_resume(struct tui *app, struct words *w)
{
    verb_pause_resume(app, w, false);
}

static void verb_throttle(struct tui *app, struct words *w)
{
    char *end = NULL;
    long long n = w->n == 3 ? strtoll(w->v[2], &end, 10) : -1;
    if (w->n != 3 || *end || n < 0) {
        tui_error(app, "usage: :throttle PROJECTION EVENTS_PER_SECOND (0 = unthrottled)");
        return;
    }
    if (!find_projection(app, w->v[1]))
        return;
    err e;
    err_clear(&e);
    if (projection_throttle(app->store, app->domain, w->v[1], n, &e) != ST_OK) {
        tui_error(app, "%s", e.msg);
        return;
    }
    if (app->runner)
        projection_runner_poke(app->runner);
    tui_poll(app, true);
    projections_select(&app->views[VIEW_PROJECTIONS], w->v[1], NULL);
    tui_show(app, VIEW_PROJECTIONS);
    if (n)
        tui_message(app, "%s: at most %lld events a second", w->v[1], n);
    else
        tui_message(app, "%s: unthrottled", w->v[1]);
}

static void verb_goto(struct tui *app, struct words *w)
{
    if (w->n != 2) {
        tui_error(app, "usage: :goto POSITION | TIME | end");
        return;
    }
    const char *a = w->v[1];
    if (strcmp(a, "end") == 0 || strcmp(a, "live") == 0 || strcmp(a, "now") == 0) {
        tui_goto(app, 0);
        return;
    }
    char *end;
    long long p = strtoll(a, &end, 10);
    if (*end == 0 && end != a) {
        if (p < 1) {
            tui_error(app, "goto: positions start at 1");
            return;
        }
        tui_goto(app, p);
        return;
    }
    int64_t ms;
    if (!time_parse(a, strlen(a), 0, &ms)) {
        tui_error(app, "goto: '%s' is neither a position, a time (2026-11-27T10:00) nor 'end'", a);
        return;
    }
    char t[TIME_TEXT_LEN + 1];
    time_format_ms(ms, t);
    int64_t pos = 0;
    err e;
    err_clear(&e);
    if (store_position_at_time(app->store, t, &pos, &e) != ST_OK) {
        tui_error(app, "goto: %s", e.msg);
        return;
    }
    if (pos == 0) {
        tui_error(app, "goto: no event at or before %s", t);
        return;
    }
    tui_goto(app, pos);
}

static void verb_import_replay(struct tui *app, struct words *w, bool replay)
{
    const char *file = NULL;
    const char *source = NULL;
    int64_t rate = 0;
    double speed = 0;
    for (int i = 1; i < w->n; i++) {
        const char *o = w->v[i];
        if (strcmp(o, "--source") == 0 && i + 1 < w->n) {
            source = w->v[++i];
        } else if (replay && strcmp(o, "--rate") == 0 && i + 1 < w->n) {
            rate = atoll(w->v[++i]);
        } else if (replay && strcmp(o, "--speed") == 0 && i + 1 < w->n) {
            speed = atof(w->v[++i]);
        } else if (o[0] == '-' && o[1]) {
            tui_error(app, "%s: unknown option %s", replay ? "replay" : "import", o);
            return;
        } else if (file) {
            tui_error(app, "%s: one file at a time in the workbench", replay ? "replay" : "import");
            return;
        } else {
            file = o;
        }
    }
    if (!file) {
        tui_error(app, replay ? "usage: :replay FILE [--rate N | --speed X] [--source NAME]"
                              : "usage: :import FILE [--source NAME]");
        return;
    }
    if (source && !domain_source(app->domain, source)) {
        tui_error(app, "no source '%s' in the domain", source);
        return;
    }
    if (replay && rate <= 0 && speed <= 0)
        speed = 1;
    char what[300];
    snprintf(what, sizeof what, "%s %s", replay ? "replay" : "import", file);
    /* num: 0 = import, -1 = replay by speed, N = replay at N a second. */
    tui_job_start(app, what, job_import, file, source, replay ? (rate > 0 ? rate : -1) : 0, speed);
    tui_show(app, VIEW_EVENTS);
}

static void verb_import(struct tui *app, struct words *w)
{
    verb_import_replay(app, w, false);
}
static void verb_replay(struct tui *app, struct words *w)
{
    verb_import_replay(app, w, true);
}

static void verb_save_display(struct tui *app, struct words *w)
{
    if (w->n != 2) {
        tui_error(app, "usage: :save-display FILE");
        return;
    }
    err e;
    err_clear(&e);
    if (tui_save_display(app, w->v[1], &e) != ST_OK)
        tui_error(app, "save-display: %s", e.msg);
}

static void verb_resize(struct tui *app, struct words *w)
{
    int c = w->n == 3 ? atoi(w->v[1]) : 0, l = w->n == 3 ? atoi(w->v[2]) : 0;
    if (c < 10 || l < 5 || c > 1000 || l > 1000) {
        tui_error(app, "usage: :resize COLUMNS LINES (for scripts: resizes the screen)");
        return;
    }
    tui_resize(app, c, l);
}

static const char *const view_names[VIEW_COUNT] = {"domain",      "events", "streams",
                                                   "projections", "form",   "help"};

static void verb_view(struct tui *app, struct words *w)
{
    for (int i = 0; w->n == 2 && i < VIEW_COUNT; i++)
        if (strcmp(w->v[1], view_names[i]) == 0) {
            tui_show(app, (enum view_id)i);
            return;
        }
    tui_error(app, "usage: :view domain|events|streams|projections|form|help");
}

static void verb_help(struct tui *app, struct words *w)
{
    tui_show(app, VIEW_HELP);
}
static void verb_quit(struct tui *app, struct words *w)
{
    app->quit = true;
}

static const struct verb verbs[] = {
    {"exec", "COMMAND [field=value ...] [--id ID]",
     "run a command; its form shows the events or why it was rejected", verb_exec},
    {"state", "AGGREGATE ID [--at P]", "an instance's state, history and changes", verb_state},
    {"query", "PROJECTION [--key K] [--at P]", "a projection's rows", verb_query},
    {"events", "[--stream S] [--type T] [--text X]", "events, filtered", verb_events},
    {"project", "--rebuild NAME | --rebuild-all | --status",
     "rebuild read models, see their status", verb_project},
    {"rebuild", "PROJECTION", "rebuild one read model from the first event", verb_rebuild},
    {"pause", "PROJECTION", "pause a projection", verb_pause},
    {"resume", "PROJECTION", "resume a paused projection", verb_resume},
    {"throttle", "PROJECTION N", "at most N events a second (0: off)", verb_throttle},
    {"goto", "POSITION | TIME | end", "time travel to a position or a time; end = live", verb_goto},
    {"import", "FILE [--source NAME]", "append events from a file", verb_import},
    {"replay", "FILE [--rate N | --speed X]", "append events from a file, paced", verb_replay},
    {"save-display", "FILE", "write the screen's text to FILE", verb_save_display},
    {"resize", "COLUMNS LINES", "resize the screen (scripts and tests)", verb_resize},
    {"view", "NAME", "show a view: domain events streams projections form help", verb_view},
    {"help", "", "the keys and these commands", verb_help},
    {"quit", "", "leave the workbench", verb_quit},
};
static const size_t nverbs = sizeof verbs / sizeof verbs[0];

size_t palette_help(const char *const **names, const char *const **args, const char *const **help)
{
    static const char *n[sizeof verbs / sizeof verbs[0]], *a[sizeof verbs / sizeof verbs[0]],
        *h[sizeof verbs / sizeof verbs[0]];
    for (size_t i = 0; i < nverbs; i++) {
        n[i] = verbs[i].name;
        a[i] = verbs[i].args;
        h[i] = verbs[i].help;
    }
    *names = n;
    *args = a;
    *help = h;
    return nverbs;
}

/* ---------------------------------------------------------------------------
 * The line editor. */

#define PAL_MAX 1024
#define PAL_HISTORY 100

static struct {
    char buf[PAL_MAX];
    size_t len, cur;
    char *hist[PAL_HISTORY];
    size_t nhist;
    size_t hist_at; /* nhist = the line being typed */
} pal;

void palette_init(void)
{
    memset(&pal, 0, sizeof pal);
}

void palette_done(void)
{
    for (size_t i = 0; i < pal.nhist; i++)
        free(pal.hist[i]);
    memset(&pal, 0, sizeof pal);
}

static void history_add(const char *line)
{
    if (!*line)
        return;
    if (pal.nhist && strcmp(pal.hist[pal.nhist - 1], line) == 0)
        return;
    if (pal.nhist == PAL_HISTORY) {
        free(pal.hist[0]);
        memmove(pal.hist, pal.hist + 1, (PAL_HISTORY - 1) * sizeof pal.hist[0]);
        pal.nhist--;
    }
    pal.hist[pal.nhist++] = xstrdup(line);
}

void palette_run(struct tui *app, const char *line)
{
    while (*line == ':' || *line == ' ')
        line++;
    struct words w;
    const char *bad = NULL;
    if (!split_words(line, &w, &bad)) {
        tui_error(app, "%s", bad);
        return;
    }
    if (w.n == 0) {
        words_done(&w);
        return;
    }
    const char *verb = w.v[0];
    if (strcmp(verb, "q") == 0 || strcmp(verb, "q!") == 0)
        verb = "quit";
    for (size_t i = 0; i < nverbs; i++)
        if (strcmp(verbs[i].name, verb) == 0) {
            /* A fresh message for the result, except for the verbs that only
             * look at the screen (a script saving it must not change it). */
            if (verbs[i].run != verb_save_display && verbs[i].run != verb_resize)
                app->message[0] = 0;
            verbs[i].run(app, &w);
            words_done(&w);
            app->dirty = true;
            return;
        }
    const char *names[sizeof verbs / sizeof verbs[0]];
    for (size_t i = 0; i < nverbs; i++)
        names[i] = verbs[i].name;
    const char *dym = did_you_mean(verb, names, nverbs);
    tui_error(app, "unknown command '%s'%s%s%s; :help lists them", verb,
              dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
    words_done(&w);
}

void palette_open(struct tui *app, const char *prefill)
{
    snprintf(pal.buf, sizeof pal.buf, "%s", prefill ? prefill : "");
    pal.len = pal.cur = strlen(pal.buf);
    pal.hist_at = pal.nhist;
    app->palette_active = true;
    app->message[0] = 0;
    app->dirty = true;
}

void palette_draw(struct tui *app, int y)
{
    draw_str(y, 0, 1, ":", tui_attr(TC_KEY));
    char save = pal.buf[pal.cur];
    pal.buf[pal.cur] = 0;
    int before = text_width(pal.buf);
    pal.buf[pal.cur] = save;
    /* Scroll the line when the cursor would leave the screen. */
    int avail = COLS - 2;
    const char *shown = pal.buf;
    while (before >= avail && *shown) {
        shown++;
        while ((*shown & 0xC0) == 0x80)
            shown++;
        char s2 = pal.buf[pal.cur];
        pal.buf[pal.cur] = 0;
        before = text_width(shown);
        pal.buf[pal.cur] = s2;
    }
    draw_str(y, 1, avail, shown, 0);
    app->cursor_y = y;
    app->cursor_x = 1 + before;
}

/* Candidates for completing word `idx` (prefix `pre`) of words w. */
static void candidates(struct tui *app, struct words *w, int idx, const char *pre,
                       struct words *out)
{
    const struct domain *d = app->domain;
    const char *verb = idx > 0 ? w->v[0] : NULL;
    const char *prev = idx > 0 ? w->v[idx - 1] : NULL;
#define ADD(s) words_push(out, xstrdup(s))
    if (idx == 0) {
        for (size_t i = 0; i < nverbs; i++)
            ADD(verbs[i].name);
        return;
    }
    if (strcmp(prev, "--source") == 0) {
        for (size_t i = 0; i < d->nsources; i++)
            ADD(d->sources[i].name);
        return;
    }
    if (strcmp(prev, "--type") == 0) {
        for (size_t i = 0; i < d->naggregates; i++)
            for (size_t j = 0; j < d->aggregates[i].nevents; j++)
                ADD(d->aggregates[i].events[j].name);
        return;
    }
    if (strcmp(prev, "--stream") == 0) {
        struct stream_info *si = NULL;
        size_t n = 0;
        err e;
        err_clear(&e);
        if (store_list_streams(app->store, pre, 0, 200, &si, &n, &e) == ST_OK) {
            for (size_t i = 0; i < n; i++)
                ADD(si[i].name);
            stream_info_free(si, n);
        }
        return;
    }
    if (strcmp(verb, "exec") == 0) {
        if (idx == 1) {
            for (size_t i = 0; i < d->naggregates; i++)
                for (size_t j = 0; j < d->aggregates[i].ncommands; j++)
                    ADD(d->aggregates[i].commands[j].name);
            return;
        }
        const struct command_spec *c = domain_command(d, w->v[1]);
        if (c)
            for (size_t i = 0; i < c->npayload; i++) {
                char *s = xasprintf("%s=", c->payload[i].name);
                words_push(out, s);
            }
        ADD("--id");
        return;
    }
    if (strcmp(verb, "state") == 0) {
        if (idx == 1) {
            for (size_t i = 0; i < d->naggregates; i++)
                ADD(d->aggregates[i].name);
        } else if (idx == 2) {
            const struct aggregate_spec *a = domain_aggregate(d, w->v[1]);
            if (!a)
                return;
            char *prefix = aggregate_stream(a, pre);
            struct stream_info *si = NULL;
            size_t n = 0;
            err e;
            err_clear(&e);
            size_t skip = strlen(prefix) - strlen(pre);
            if (store_list_streams(app->store, prefix, 0, 200, &si, &n, &e) == ST_OK) {
                for (size_t i = 0; i < n; i++)
                    ADD(si[i].name + skip);
                stream_info_free(si, n);
            }
            free(prefix);
        } else {
            ADD("--at");
            ADD("--at-time");
        }
        return;
    }
    if (strcmp(verb, "query") == 0 || strcmp(verb, "rebuild") == 0 || strcmp(verb, "pause") == 0 ||
        strcmp(verb, "resume") == 0 || strcmp(verb, "throttle") == 0 ||
        (strcmp(verb, "project") == 0 && strcmp(prev, "--rebuild") == 0)) {
        if (idx == 1 || strcmp(prev, "--rebuild") == 0) {
            for (size_t i = 0; i < d->nprojections; i++)
                ADD(d->projections[i].name);
        } else if (strcmp(verb, "query") == 0) {
            ADD("--key");
            ADD("--at");
            ADD("--at-time");
        }
        return;
    }
    if (strcmp(verb, "project") == 0) {
        ADD("--rebuild");
        ADD("--rebuild-all");
        ADD("--status");
        return;
    }
    if (strcmp(verb, "events") == 0) {
        ADD("--stream");
        ADD("--type");
        ADD("--text");
        ADD("--at");
        return;
    }
    if (strcmp(verb, "goto") == 0) {
        ADD("end");
        return;
    }
    if (strcmp(verb, "view") == 0) {
        for (int i = 0; i < VIEW_COUNT; i++)
            ADD(view_names[i]);
        return;
    }
    if (strcmp(verb, "import") == 0 || strcmp(verb, "replay") == 0 ||
        strcmp(verb, "save-display") == 0) {
        if (pre[0] == '-') {
            ADD("--source");
            if (strcmp(verb, "replay") == 0) {
                ADD("--rate");
                ADD("--speed");
            }
            return;
        }
        char *pat = xasprintf("%s*", pre);
        glob_t g;
        if (glob(pat, GLOB_MARK, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc && i < 200; i++)
                ADD(g.gl_pathv[i]);
            globfree(&g);
        }
        free(pat);
    }
#undef ADD
}

static void complete(struct tui *app)
{
    /* The word being completed ends at the cursor. */
    char head[PAL_MAX];
    memcpy(head, pal.buf, pal.cur);
    head[pal.cur] = 0;
    size_t ws = pal.cur;
    while (ws > 0 && head[ws - 1] != ' ')
        ws--;
    const char *pre = head + ws;
    struct words w;
    const char *bad;
    char before[PAL_MAX];
    memcpy(before, head, ws);
    before[ws] = 0;
    if (!split_words(before, &w, &bad))
        return;
    int idx = w.n;
    struct words all, match;
    memset(&all, 0, sizeof all);
    memset(&match, 0, sizeof match);
    candidates(app, &w, idx, pre, &all);
    size_t pl = strlen(pre);
    for (int i = 0; i < all.n; i++)
        if (strncmp(all.v[i], pre, pl) == 0) {
            bool dup = false;
            for (int j = 0; j < match.n; j++)
                dup = dup || strcmp(match.v[j], all.v[i]) == 0;
            if (!dup)
                words_push(&match, xstrdup(all.v[i]));
        }
    if (match.n == 0) {
        tui_message(app, "no completions");
    } else {
        size_t common = strlen(match.v[0]);
        for (int i = 1; i < match.n; i++) {
            size_t k = 0;
            while (k < common && match.v[i][k] == match.v[0][k])
                k++;
            common = k;
        }
        strbuf add;
        sb_init(&add);
        sb_add(&add, match.v[0] + pl, common - pl);
        char last = common ? match.v[0][common - 1] : 0;
        if (match.n == 1 && last != '=' && last != '/')
            sb_addc(&add, ' ');
        if (pal.len + add.len < PAL_MAX - 1) {
            memmove(pal.buf + pal.cur + add.len, pal.buf + pal.cur, pal.len - pal.cur + 1);
            memcpy(pal.buf + pal.cur, add.buf, add.len);
            pal.len += add.len;
            pal.cur += add.len;
        }
        sb_done(&add);
        if (match.n > 1) {
            strbuf m;
            sb_init(&m);
            for (int i = 0; i < match.n && i < 12; i++)
                sb_addf(&m, "%s%s", i ? "  " : "", match.v[i]);
            if (match.n > 12)
                sb_addf(&m, "  ... (%d)", match.n);
            tui_message(app, "%s", m.buf);
            sb_done(&m);
        } else {
            app->message[0] = 0;
        }
    }
    words_done(&w);
    words_done(&all);
    words_done(&match);
}

static void set_line(const char *s)
{
    snprintf(pal.buf, sizeof pal.buf, "%s", s);
    pal.len = pal.cur = strlen(pal.buf);
}

bool palette_key(struct tui *app, int key)
{
    app->dirty = true;
    switch (key) {
    case 27:
    case 7: /* C-g */
        app->palette_active = false;
        app->message[0] = 0;
        return false;
    case '\n':
    case '\r':
    case KEY_ENTER: {
        app->palette_active = false;
        char line[PAL_MAX];
        memcpy(line, pal.buf, pal.len + 1);
        history_add(line);
        palette_run(app, line);
        return false;
    }
    case '\t':
        complete(app);
        return true;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        if (pal.cur == 0) {
            if (pal.len == 0)
                app->palette_active = false;
            return app->palette_active;
        } else {
            size_t s = pal.cur - 1;
            while (s > 0 && (pal.buf[s] & 0xC0) == 0x80)
                s--;
            memmove(pal.buf + s, pal.buf + pal.cur, pal.len - pal.cur + 1);
            pal.len -= pal.cur - s;
            pal.cur = s;
        }
        return true;
    case KEY_DC:
        if (pal.cur < pal.len) {
            size_t e = pal.cur + 1;
            while (e < pal.len && (pal.buf[e] & 0xC0) == 0x80)
                e++;
            memmove(pal.buf + pal.cur, pal.buf + e, pal.len - e + 1);
            pal.len -= e - pal.cur;
        }
        return true;
    case KEY_LEFT:
        while (pal.cur > 0) {
            pal.cur--;
            if ((pal.buf[pal.cur] & 0xC0) != 0x80)
                break;
        }
        return true;
    case KEY_RIGHT:
        while (pal.cur < pal.len) {
            pal.cur++;
            if ((pal.buf[pal.cur] & 0xC0) != 0x80)
                break;
        }
        return true;
    case KEY_HOME:
    case 1: /* C-a */
        pal.cur = 0;
        return true;
    case KEY_END:
    case 5: /* C-e */
        pal.cur = pal.len;
        return true;
    case 21: /* C-u */
        memmove(pal.buf, pal.buf + pal.cur, pal.len - pal.cur + 1);
        pal.len -= pal.cur;
        pal.cur = 0;
        return true;
    case 23: { /* C-w: the word before the cursor */
        size_t s = pal.cur;
        while (s > 0 && pal.buf[s - 1] == ' ')
            s--;
        while (s > 0 && pal.buf[s - 1] != ' ')
            s--;
        memmove(pal.buf + s, pal.buf + pal.cur, pal.len - pal.cur + 1);
        pal.len -= pal.cur - s;
        pal.cur = s;
        return true;
    }
    case KEY_UP:
    case 16: /* C-p */
        if (pal.hist_at > 0)
            set_line(pal.hist[--pal.hist_at]);
        return true;
    case KEY_DOWN:
    case 14: /* C-n */
        if (pal.hist_at < pal.nhist) {
            pal.hist_at++;
            set_line(pal.hist_at < pal.nhist ? pal.hist[pal.hist_at] : "");
        }
        return true;
    case KEY_RESIZE:
        return true;
    default:
        if (key >= 32 && key < 256 && key != 127 && pal.len + 1 < PAL_MAX) {
            memmove(pal.buf + pal.cur + 1, pal.buf + pal.cur, pal.len - pal.cur + 1);
            pal.buf[pal.cur++] = (char)key;
            pal.len++;
        }
        return true;
    }
}
