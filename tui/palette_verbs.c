/* palette_verbs.c: the palette's commands (palette_verbs.h): each verb checks its
 * arguments (design.md's command line), then opens the view that shows the result
 * (tui_open_view) or starts a background job; and what Tab may complete for each.
 * Kept in one file, apart from the line editor, to move to a command layer shared
 * with the CLI. */
#include "tui/palette_verbs.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/import.h"
#include "core/json.h"
#include "tui/jobs.h"
#include "tui/lines.h"
#include "tui/tui.h"

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
    o.domain = job->app->domain; /* what is appended must be valid for it */
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
    /* Looks at the screen only: the message line stays (a script saving the
     * screen must not change it). */
    bool keeps_message;
};

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
    err e;
    err_clear(&e);
    const struct projection_spec *p = domain_find_projection(app->domain, name, &e);
    if (!p)
        tui_error(app, "%s", e.msg);
    return p;
}

static void verb_exec(struct tui *app, struct words *w)
{
    if (w->n < 2) {
        tui_error(app, "usage: :exec COMMAND [field=value ...] [--id ID] [--payload JSON]");
        return;
    }
    err e;
    err_clear(&e);
    const struct command_spec *c = domain_find_command(app->domain, w->v[1], &e);
    if (!c) {
        tui_error(app, "%s", e.msg);
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
            err je;
            const char *text = w->v[++i];
            if (json_parse(text, strlen(text), &pv, &je) != ST_OK) {
                tui_error(app, "--payload: %s (column %d)", je.msg, je.col);
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
    /* The form's words: the command, its fields, then submit (with the id). */
    struct words fw;
    memset(&fw, 0, sizeof fw);
    words_push(&fw, xstrdup(c->name));
    for (int i = 0; i < args.n; i++)
        words_push(&fw, xstrdup(args.v[i]));
    words_push(&fw, xstrdup("--submit"));
    if (id) {
        words_push(&fw, xstrdup("--id"));
        words_push(&fw, xstrdup(id));
    }
    tui_open_view_words(app, VIEW_FORM, fw.n, (const char *const *)fw.v);
    words_done(&fw);
    words_done(&args);
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
    tui_open_view(app, VIEW_STREAMS, stream);
    free(stream);
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
    const char *key = opt_value(w, "--key");
    const char *pw[2] = {w->v[1], key};
    tui_open_view_words(app, VIEW_PROJECTIONS, key ? 2 : 1, pw);
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
    /* The events view takes the filters as these options (none: no filter). */
    static const char *const filters[] = {"--stream", "--type", "--text"};
    const char *ew[6];
    int n = 0;
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        const char *val = opt_value(w, filters[i]);
        if (val) {
            ew[n++] = filters[i];
            ew[n++] = val;
        }
    }
    tui_open_view_words(app, VIEW_EVENTS, n, ew);
}

static void start_rebuild(struct tui *app, const char *name)
{
    char what[200];
    snprintf(what, sizeof what, "rebuild %s", name);
    tui_job_start(app, what, job_rebuild, name, NULL, 0, 0);
    tui_open_view(app, VIEW_PROJECTIONS, name);
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
    tui_open_view(app, VIEW_PROJECTIONS, w->v[1]);
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
    tui_open_view(app, VIEW_PROJECTIONS, w->v[1]);
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

static void verb_view(struct tui *app, struct words *w)
{
    for (int i = 0; w->n == 2 && i < VIEW_COUNT; i++)
        if (strcmp(w->v[1], view_name((enum view_id)i)) == 0) {
            tui_show(app, (enum view_id)i);
            return;
        }
    strbuf sb;
    sb_init(&sb);
    for (int i = 0; i < VIEW_COUNT; i++)
        sb_addf(&sb, "%s%s", i ? "|" : "", view_name((enum view_id)i));
    tui_error(app, "usage: :view %s", sb.buf);
    sb_done(&sb);
}

static void verb_help(struct tui *app, struct words *w)
{
    tui_show(app, VIEW_HELP);
}
static void verb_quit(struct tui *app, struct words *w)
{
    app->quit = true;
}

/* " domain events ...": the view names, for the :view line of the help. */
#define VIEW_WORD(X, id, name, title, keys, help) " " #name

static const struct verb verbs[] = {
    {"exec", "COMMAND [field=value ...] [--id ID]",
     "run a command; its form shows the events or why it was rejected", verb_exec, false},
    {"state", "AGGREGATE ID [--at P]", "an instance's state, history and changes", verb_state,
     false},
    {"query", "PROJECTION [--key K] [--at P]", "a projection's rows", verb_query, false},
    {"events", "[--stream S] [--type T] [--text X]", "events, filtered", verb_events, false},
    {"project", "--rebuild NAME | --rebuild-all | --status",
     "rebuild read models, see their status", verb_project, false},
    {"rebuild", "PROJECTION", "rebuild one read model from the first event", verb_rebuild, false},
    {"pause", "PROJECTION", "pause a projection", verb_pause, false},
    {"resume", "PROJECTION", "resume a paused projection", verb_resume, false},
    {"throttle", "PROJECTION N", "at most N events a second (0: off)", verb_throttle, false},
    {"goto", "POSITION | TIME | end", "time travel to a position or a time; end = live", verb_goto,
     false},
    {"import", "FILE [--source NAME]", "append events from a file", verb_import, false},
    {"replay", "FILE [--rate N | --speed X]", "append events from a file, paced", verb_replay,
     false},
    {"save-display", "FILE", "write the screen's text to FILE", verb_save_display, true},
    {"resize", "COLUMNS LINES", "resize the screen (scripts and tests)", verb_resize, true},
    {"view", "NAME", "show a view:" TUI_VIEWS(VIEW_WORD, _), verb_view, false},
    {"help", "", "the keys and these commands", verb_help, false},
    {"quit", "", "leave the workbench", verb_quit, false},
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
 * Running a line. */

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
            if (!verbs[i].keeps_message)
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

/* Candidates for completing word `idx` (prefix `pre`) of words w. */
/* ---------------------------------------------------------------------------
 * What Tab may complete. */

void palette_candidates(struct tui *app, struct words *w, int idx, const char *pre,
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
            ADD(view_name((enum view_id)i));
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
