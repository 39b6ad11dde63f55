/* palette_verbs.c: the palette's commands (palette_verbs.h). The verbs shared
 * with the command line (verbs/verb.h: :exec, :state, :query, :events, :project,
 * :import, :replay, :check ...) run there,
 * with the command line's options, checks and messages; this file is their
 * workbench output (the output pane, the message line, the view that shows the
 * result; their long work in background jobs, tui/jobs.c). The workbench's own
 * verbs (:goto, :view, :rebuild, :pause ...) check their arguments here and open
 * a view. And what Tab may complete for each. */
#include "tui/palette_verbs.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/record.h"
#include "core/store_branch.h"
#include "tui/jobs.h"
#include "tui/lines.h"
#include "tui/tui.h"
#include "tui/verb_pane.h"
#include "verbs/verb.h"

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

static const struct projection_spec *find_projection(struct tui *app, const char *name)
{
    err e;
    err_clear(&e);
    const struct projection_spec *p = domain_find_projection(app->domain, name, &e);
    if (!p)
        tui_error(app, "%s", e.msg);
    return p;
}

/* Runs a shared verb with these words, as if typed after ':'. */
static void run_shared(struct tui *app, const char *name, int n, const char *const *args)
{
    struct words w;
    memset(&w, 0, sizeof w);
    words_push(&w, xstrdup(name));
    strbuf line;
    sb_init(&line);
    sb_adds(&line, name);
    for (int i = 0; i < n; i++) {
        words_push(&w, xstrdup(args[i]));
        sb_addf(&line, " %s", args[i]);
    }
    verb_pane_run(app, verb_find(name), &w, line.buf);
    sb_done(&line);
    words_done(&w);
}

/* :rebuild NAME is `project --rebuild NAME` (verbs/project.c). */
static void verb_rebuild(struct tui *app, struct words *w)
{
    if (w->n != 2) {
        tui_error(app, "usage: :rebuild PROJECTION");
        return;
    }
    run_shared(app, "project", 2, (const char *const[]){"--rebuild", w->v[1]});
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
        tui_message(app, "%s: at most %lld event%s a second", w->v[1], n, n == 1 ? "" : "s");
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

static void verb_reload(struct tui *app, struct words *w)
{
    if (w->n != 1) {
        tui_error(app, "usage: :reload (the domain file, now; it is also watched)");
        return;
    }
    if (!app->watching) {
        tui_error(app, "reload: the workbench has no domain file");
        return;
    }
    tui_reload_domain(app, true);
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

/* :record FILE starts recording each command sent as a scenario; :record stop
 * ends it; :record alone says whether it is on. */
static void verb_record(struct tui *app, struct words *w)
{
    if (w->n == 1) {
        if (app->record_path)
            tui_message(app, "recording to %s: %d scenario%s so far (:record stop ends it)",
                        app->record_path, app->recorded, app->recorded == 1 ? "" : "s");
        else
            tui_message(app, "not recording (:record FILE starts)");
        return;
    }
    if (w->n != 2) {
        tui_error(app, "usage: :record FILE | :record stop");
        return;
    }
    if (strcmp(w->v[1], "stop") == 0) {
        if (!app->record_path) {
            tui_error(app, "not recording (:record FILE starts)");
            return;
        }
        tui_message(app, "recording stopped: %d scenario%s in %s (strata test --domain %s %s)",
                    app->recorded, app->recorded == 1 ? "" : "s", app->record_path,
                    app->domain_path ? app->domain_path : "DOMAIN", app->record_path);
        free(app->record_path);
        app->record_path = NULL;
        return;
    }
    err e;
    err_clear(&e);
    if (record_check_file(w->v[1], app->domain, &e) != ST_OK) {
        tui_error(app, "%s", e.msg);
        return;
    }
    free(app->record_path);
    app->record_path = xstrdup(w->v[1]);
    app->recorded = 0;
    tui_message(app, "recording: each command sent becomes a scenario in %s (:record stop ends it)",
                app->record_path);
}

static void verb_compare(struct tui *app, struct words *w)
{
    if (w->n != 3 && w->n != 4) {
        tui_error(app, "usage: :compare BRANCH AGGREGATE ID | BRANCH PROJECTION");
        return;
    }
    tui_open_view_words(app, VIEW_COMPARE, w->n - 1, (const char *const *)w->v + 1);
}

static void verb_help(struct tui *app, struct words *w)
{
    /* At its top, as ? opens it: not where it was last scrolled. */
    tui_open_view(app, VIEW_HELP, NULL);
}
static void verb_quit(struct tui *app, struct words *w)
{
    app->quit = true;
}

/* " domain events ...": the view names, for the :view line of the help. */
#define VIEW_WORD(X, id, name, title, keys, help) " " #name

static const struct verb verbs[] = {
    {"rebuild", "PROJECTION", "rebuild one read model from the first event", verb_rebuild, false},
    {"pause", "PROJECTION", "pause a projection", verb_pause, false},
    {"resume", "PROJECTION", "resume a paused projection", verb_resume, false},
    {"throttle", "PROJECTION N", "at most N events a second (0: off)", verb_throttle, false},
    {"goto", "POSITION | TIME | end", "time travel to a position or a time; end = live", verb_goto,
     false},
    {"record", "FILE | stop", "each command sent becomes a scenario in FILE", verb_record, false},
    {"reload", "", "reload the domain file now (it is watched: saving it reloads it too)",
     verb_reload, false},
    {"save-display", "FILE", "write the screen's text to FILE", verb_save_display, true},
    {"resize", "COLUMNS LINES", "resize the screen (scripts and tests)", verb_resize, true},
    {"view", "NAME", "show a view:" TUI_VIEWS(VIEW_WORD, _), verb_view, false},
    {"compare", "BRANCH AGGREGATE ID | BRANCH PROJECTION", "main and a what-if branch side by side",
     verb_compare, false},
    {"help", "", "the keys and these commands", verb_help, false},
    {"quit", "", "leave the workbench", verb_quit, false},
};
static const size_t nverbs = sizeof verbs / sizeof verbs[0];

/* The shared verbs first (verbs/), then the workbench's own. */
#define MAX_HELP 40
size_t palette_help(const char *const **names, const char *const **args, const char *const **help)
{
    static const char *n[MAX_HELP], *a[MAX_HELP], *h[MAX_HELP];
    size_t nshared, k = 0;
    const struct verb_def *const *shared = verb_list(&nshared);
    for (size_t i = 0; i < nshared && k < MAX_HELP; i++, k++) {
        n[k] = shared[i]->name;
        a[k] = shared[i]->synopsis;
        h[k] = shared[i]->summary;
    }
    for (size_t i = 0; i < nverbs && k < MAX_HELP; i++, k++) {
        n[k] = verbs[i].name;
        a[k] = verbs[i].args;
        h[k] = verbs[i].help;
    }
    *names = n;
    *args = a;
    *help = h;
    return k;
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
    /* :branch NAME switches; :branch create|list|drop is the shared verb. */
    if (strcmp(verb, "branch") == 0 && w.n == 2 && strcmp(w.v[1], "list") != 0 &&
        strcmp(w.v[1], "create") != 0 && strcmp(w.v[1], "drop") != 0 && w.v[1][0] != '-') {
        app->message[0] = 0;
        tui_switch_branch(app, w.v[1]);
        words_done(&w);
        app->dirty = true;
        return;
    }
    const struct verb_def *def = verb_find(verb);
    if (def) {
        app->message[0] = 0;
        verb_pane_run(app, def, &w, line);
        words_done(&w);
        app->dirty = true;
        return;
    }
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
    const char *const *names;
    const char *const *unused_args, *const *unused_help;
    size_t nnames = palette_help(&names, &unused_args, &unused_help);
    const char *dym = did_you_mean(verb, names, nnames);
    tui_error(app, "unknown command '%s'%s%s%s; :help lists them", verb,
              dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
    words_done(&w);
}

/* Candidates for completing word `idx` (prefix `pre`) of words w. */
/* ---------------------------------------------------------------------------
 * What Tab may complete. */

/* A shared verb's own options (not --domain, --db, --help: the workbench has
 * its domain and store). */
static void verb_options(const struct verb_def *def, struct words *out)
{
    for (const struct option *o = def ? def->options : NULL; o && o->name; o++)
        if (o->val < VOPT_DOMAIN || o->val >= VOPT_FIRST_FREE)
            words_push(out, xasprintf("--%s", o->name));
}

/* The ids of aggregate a's instances that start with pre, each after `before`
 * ("accountId=" when completing a field). */
static void stream_ids(struct tui *app, const struct aggregate_spec *a, const char *pre,
                       const char *before, struct words *out)
{
    char *prefix = aggregate_stream(a, pre);
    size_t skip = strlen(prefix) - strlen(pre);
    struct stream_info *si = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    if (store_list_streams(app->store, prefix, 0, 200, &si, &n, &e) == ST_OK) {
        for (size_t i = 0; i < n; i++)
            words_push(out, xasprintf("%s%s", before, si[i].name + skip));
        stream_info_free(si, n);
    }
    free(prefix);
}

/* After `:exec COMMAND`: the fields not given yet (`amount=`), or, after
 * `field=`, its values: the known ids of the command's aggregate for the id
 * field, true/false for a bool, the allowed values of an enum. */
static void exec_candidates(struct tui *app, struct words *w, int idx, const char *pre,
                            struct words *out)
{
    const struct command_spec *c = domain_command(app->domain, w->v[1]);
    if (!c)
        return;
    const char *eq = strchr(pre, '=');
    if (!eq) {
        for (size_t i = 0; i < c->npayload; i++) {
            size_t n = strlen(c->payload[i].name);
            bool given = false;
            for (int k = 2; k < idx; k++)
                given =
                    given || (strncmp(w->v[k], c->payload[i].name, n) == 0 && w->v[k][n] == '=');
            if (!given)
                words_push(out, xasprintf("%s=", c->payload[i].name));
        }
        return;
    }
    char *name = xstrndup(pre, (size_t)(eq - pre) + 1); /* "field=" */
    name[eq - pre] = 0;
    const struct field_spec *f = NULL;
    for (size_t i = 0; i < c->npayload; i++)
        if (strcmp(c->payload[i].name, name) == 0)
            f = &c->payload[i];
    name[eq - pre] = '=';
    if (f && c->aggregate && strcmp(f->name, c->aggregate->id_field) == 0) {
        stream_ids(app, c->aggregate, eq + 1, name, out);
    } else if (f && f->type == F_BOOL) {
        words_push(out, xasprintf("%strue", name));
        words_push(out, xasprintf("%sfalse", name));
    } else if (f && f->enum_values.type == V_LIST) {
        for (size_t i = 0; i < value_list_len(&f->enum_values); i++) {
            char *t = tui_value_text(value_list_at(&f->enum_values, i));
            words_push(out, xasprintf("%s%s", name, t));
            free(t);
        }
    }
    free(name);
}

void palette_candidates(struct tui *app, struct words *w, int idx, const char *pre,
                        struct words *out)
{
    const struct domain *d = app->domain;
    const char *verb = idx > 0 ? w->v[0] : NULL;
    const char *prev = idx > 0 ? w->v[idx - 1] : NULL;
#define ADD(s) words_push(out, xstrdup(s))
    if (idx == 0) {
        const char *const *names, *const *args, *const *help;
        size_t n = palette_help(&names, &args, &help);
        for (size_t i = 0; i < n; i++)
            ADD(names[i]);
        return;
    }
    /* A shared verb's options come from its own table (verbs/). */
    if (pre[0] == '-' && verb_find(verb)) {
        verb_options(verb_find(verb), out);
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
        } else if (pre[0] != '-') {
            exec_candidates(app, w, idx, pre, out);
        }
        return;
    }
    if (strcmp(verb, "state") == 0) {
        if (idx == 1) {
            for (size_t i = 0; i < d->naggregates; i++)
                ADD(d->aggregates[i].name);
        } else if (idx == 2) {
            const struct aggregate_spec *a = domain_aggregate(d, w->v[1]);
            if (a)
                stream_ids(app, a, pre, "", out);
        } else {
            verb_options(verb_find(verb), out);
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
            verb_options(verb_find(verb), out);
        }
        return;
    }
    if (strcmp(verb, "project") == 0) {
        verb_options(verb_find(verb), out);
        return;
    }
    if (strcmp(verb, "events") == 0) {
        verb_options(verb_find(verb), out);
        return;
    }
    if (strcmp(verb, "goto") == 0) {
        ADD("end");
        return;
    }
    /* :branch NAME (or main, create, list, drop), :compare BRANCH ..., and the
     * branch after :branch drop, :diff --to and --from. */
    bool branch_word =
        (strcmp(verb, "branch") == 0 && (idx == 1 || (idx == 2 && strcmp(prev, "drop") == 0))) ||
        (strcmp(verb, "compare") == 0 && idx == 1) ||
        (strcmp(verb, "diff") == 0 && (strcmp(prev, "--to") == 0 || strcmp(prev, "--from") == 0));
    if (branch_word) {
        if (strcmp(verb, "branch") == 0 && idx == 1) {
            ADD("create");
            ADD("list");
            ADD("drop");
        }
        if (idx == 1 || strcmp(prev, "--from") == 0)
            ADD("main");
        struct branch_info *bi = NULL;
        size_t n = 0;
        err e;
        err_clear(&e);
        if (store_branch_list(app->main_store, &bi, &n, &e) == ST_OK)
            for (size_t i = 0; i < n; i++)
                ADD(bi[i].name);
        branch_info_free(bi, n);
        return;
    }
    if (strcmp(verb, "compare") == 0 && idx == 2) {
        for (size_t i = 0; i < d->naggregates; i++)
            ADD(d->aggregates[i].name);
        for (size_t i = 0; i < d->nprojections; i++)
            ADD(d->projections[i].name);
        return;
    }
    if (strcmp(verb, "view") == 0) {
        for (int i = 0; i < VIEW_COUNT; i++)
            ADD(view_name((enum view_id)i));
        return;
    }
    if (strcmp(verb, "record") == 0 && idx == 1 && app->record_path)
        ADD("stop");
    if (strcmp(verb, "import") == 0 || strcmp(verb, "replay") == 0 || strcmp(verb, "check") == 0 ||
        strcmp(verb, "save-display") == 0 || strcmp(verb, "record") == 0 ||
        strcmp(prev, "--map") == 0) {
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
