/* project.c: the `project` verb: bring projections up to the head, show their
 * lag, rebuild them (those named, all, or the stale ones), and the teaching
 * controls (pause, resume, throttle) that every process obeys because they live
 * in the store, and telling one to pass over an event it cannot fold (--skip).
 * Rebuilds are a task (verb.h): at once on the command line, a background job in
 * the workbench. `--follow` is the command line's long-running loop
 * (verbs/project_follow.c); the workbench follows the store always. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/projection.h"
#include "verbs/project.h"

static const char usage[] =
    "usage: strata project [--rebuild NAME | --rebuild-all | --rebuild-stale]\n"
    "                      [--status [--json]] [--follow] [--throttle NAME=N]...\n"
    "                      [--pause NAME]... [--resume NAME]... [--skip NAME=POSITION]...\n"
    "With no option, brings every projection up to the head and prints one line\n"
    "each; paused projections stay where they are, throttled ones fold only what\n"
    "their throttle allows now, and stale ones (definition changed) wait for a\n"
    "rebuild. Exits 1 when a projection is failed.\n"
    "  --status         each projection's checkpoint, head, lag, rate, status (no folding)\n"
    "  --json           with --status or --follow: one JSON object per projection\n"
    "  --rebuild NAME   build NAME anew from position 0 beside the old table, swap it in\n"
    "  --rebuild-all    rebuild every projection\n"
    "  --rebuild-stale  rebuild every projection whose definition changed\n"
    "  --follow         keep following the store; a status line every second until\n"
    "                   interrupted (SIGINT or SIGTERM); when the domain file changes\n"
    "                   it is reloaded (on errors the old one stays in force)\n"
    "  --throttle NAME=N  fold at most N events per second (0 lifts it); stored\n"
    "  --pause NAME     stop folding NAME (stored: every process obeys it)\n"
    "  --resume NAME    fold NAME again (a failed one retries from its checkpoint)\n"
    "  --skip NAME=POSITION  pass over the event at POSITION in NAME from now on, in\n"
    "                   every fold and rebuild (a poison event: see strata check --db);\n"
    "                   stored with the reason; a projection failed at that event resumes\n"
    "  --force          use a store that was used with another domain (or with none,\n"
    "                   but has events); it records this one\n";

enum {
    OPT_REBUILD = VOPT_FIRST_FREE,
    OPT_REBUILD_ALL,
    OPT_REBUILD_STALE,
    OPT_STATUS,
    OPT_JSON,
    OPT_FOLLOW,
    OPT_THROTTLE,
    OPT_PAUSE,
    OPT_RESUME,
    OPT_SKIP
};
static const struct option opts[] = {{"rebuild", required_argument, NULL, OPT_REBUILD},
                                     {"rebuild-all", no_argument, NULL, OPT_REBUILD_ALL},
                                     {"rebuild-stale", no_argument, NULL, OPT_REBUILD_STALE},
                                     {"status", no_argument, NULL, OPT_STATUS},
                                     {"json", no_argument, NULL, OPT_JSON},
                                     {"follow", no_argument, NULL, OPT_FOLLOW},
                                     {"throttle", required_argument, NULL, OPT_THROTTLE},
                                     {"pause", required_argument, NULL, OPT_PAUSE},
                                     {"resume", required_argument, NULL, OPT_RESUME},
                                     {"skip", required_argument, NULL, OPT_SKIP},
                                     VERB_FORCE_OPTION,
                                     VERB_COMMON_OPTIONS,
                                     {0}};

static void linef(struct verb_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void linef(struct verb_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (s)
        verb_line(c, s, strlen(s));
    free(s);
}

static void print_status_table(struct verb_ctx *c, const struct proj_lag *lags, size_t n)
{
    size_t w = 10;
    for (size_t i = 0; i < n; i++)
        if (strlen(lags[i].name) > w)
            w = strlen(lags[i].name);
    linef(c, "%-*s  %-11s  %10s  %10s  %8s  %8s  %9s  %7s  %s", (int)w, "PROJECTION", "STATUS",
          "CHECKPOINT", "HEAD", "BEHIND", "AGE", "RATE/S", "ETA", "NOTES");
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        char age[32], eta[32];
        project_fmt_seconds(age, sizeof age, l->seconds_behind);
        project_fmt_seconds(eta, sizeof eta, l->eta_seconds);
        strbuf notes;
        sb_init(&notes);
        if (l->stale)
            sb_addf(&notes, "stale: definition changed, run strata project --rebuild %s; ",
                    l->name);
        if (l->throttle > 0)
            sb_addf(&notes, "throttled to %lld/s; ", (long long)l->throttle);
        if (l->status == PROJ_REBUILDING)
            sb_addf(&notes, "new table at %lld; ", (long long)l->rebuild_checkpoint);
        if (l->status == PROJ_FAILED)
            sb_addf(&notes, "failed at position %lld; ", (long long)l->error_position);
        if (l->skipped > 0)
            sb_addf(&notes, "%lld skipped; ", (long long)l->skipped);
        if (notes.len >= 2)
            notes.buf[notes.len -= 2] = '\0';
        linef(c, "%-*s  %-11s  %10lld  %10lld  %8lld  %8s  %9.1f  %7s  %s", (int)w, l->name,
              proj_status_name(l->status), (long long)l->checkpoint, (long long)l->head,
              (long long)l->events_behind, age, l->rate, eta, notes.buf ? notes.buf : "");
        sb_done(&notes);
    }
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        if (l->status != PROJ_FAILED)
            continue;
        linef(c, "%s", "");
        linef(c, "%s failed at position %lld: %s", l->name, (long long)l->error_position,
              l->error ? l->error : "");
        if (l->error_event)
            linef(c, "  event: %s", l->error_event);
        linef(c, "  fix the domain, then: strata project --rebuild %s (or --resume %s to retry)",
              l->name, l->name);
        linef(c, "  or pass over that event: strata project --skip %s=%lld", l->name,
              (long long)l->error_position);
    }
}

/* One line per projection after a catch-up; returns how many are failed. */
static int print_summary(struct verb_ctx *c, const struct proj_lag *lags, size_t n,
                         const int64_t *folded)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        long long f = folded ? (long long)folded[i] : 0;
        switch (l->status) {
        case PROJ_FAILED:
            failed++;
            linef(c, "%s: failed at position %lld: %s", l->name, (long long)l->error_position,
                  l->error ? l->error : "");
            break;
        case PROJ_PAUSED:
            linef(c, "%s: paused at %lld of %lld (resume with: strata project --resume %s)",
                  l->name, (long long)l->checkpoint, (long long)l->head, l->name);
            break;
        case PROJ_REBUILDING:
            linef(c, "%s: rebuilding, new table at %lld of %lld", l->name,
                  (long long)l->rebuild_checkpoint, (long long)l->head);
            break;
        default:
            if (l->stale)
                linef(c,
                      "%s: stale at %lld of %lld (its definition changed: strata project "
                      "--rebuild %s)",
                      l->name, (long long)l->checkpoint, (long long)l->head, l->name);
            else if (l->status == PROJ_LIVE && folded)
                linef(c, "%s: live at %lld (%lld events folded)", l->name, (long long)l->checkpoint,
                      f);
            else if (l->status == PROJ_LIVE)
                linef(c, "%s: live at %lld", l->name, (long long)l->checkpoint);
            else if (l->throttle > 0)
                linef(c, "%s: throttled to %lld/s, at %lld of %lld (%lld events folded)", l->name,
                      (long long)l->throttle, (long long)l->checkpoint, (long long)l->head, f);
            else
                linef(c, "%s: catching up, at %lld of %lld (%lld events folded)", l->name,
                      (long long)l->checkpoint, (long long)l->head, f);
        }
    }
    return failed;
}

/* Splits NAME=N; returns false when it is not that shape. */
static bool parse_throttle(const char *arg, char **name, int64_t *n)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(eq + 1, &end, 10);
    if (*end || errno || v < 0)
        return false;
    *name = xstrndup(arg, (size_t)(eq - arg));
    *n = v;
    return true;
}

/* ---------------------------------------------------------------------------
 * Rebuilds, as a task. */

struct rebuild_task {
    struct verb_task t;
    const struct domain *domain; /* outlives the task (the workbench keeps old ones) */
    char **names;
    size_t n;
    bool quiet; /* --status or --follow print what matters */
};

static void rebuild_done(struct verb_task *vt)
{
    struct rebuild_task *rt = (struct rebuild_task *)vt;
    for (size_t i = 0; i < rt->n; i++)
        free(rt->names[i]);
    free(rt->names);
    free(rt);
}

static int rebuild_work(struct verb_task *vt, struct store *s, strbuf *result, err *e)
{
    struct rebuild_task *rt = (struct rebuild_task *)vt;
    strbuf problems;
    sb_init(&problems);
    int failures = 0;
    for (size_t i = 0; i < rt->n && !vt->stop; i++) {
        err one;
        err_clear(&one);
        int64_t t0 = time_now_ms();
        if (projection_rebuild(s, rt->domain, rt->names[i], &one) != ST_OK) {
            sb_addf(&problems, "%s%s", failures++ ? "; " : "", one.msg);
            continue;
        }
        vt->progress_records = (int64_t)i + 1;
        if (rt->quiet || vt->background) /* the workbench: "rebuild NAME: done" */
            continue;
        int64_t head = 0;
        store_head(s, &head, NULL);
        sb_addf(result, "%s%s: rebuilt from position 0 to %lld in %.2fs, swapped in",
                result->len ? "\n" : "", rt->names[i], (long long)head,
                (double)(time_now_ms() - t0) / 1000.0);
    }
    if (failures)
        err_set(e, ST_ERR, "%s", problems.buf);
    sb_done(&problems);
    return failures ? ST_ERR : ST_OK;
}

/* ---------------------------------------------------------------------------
 * The verb. */

int project_stale_names(struct store *s, const struct domain *d, char ***names, size_t *n, err *e)
{
    struct proj_lag *lags;
    size_t nl;
    *names = NULL;
    *n = 0;
    if (projection_status(s, d, &lags, &nl, e) != ST_OK)
        return e->code ? e->code : ST_ERR;
    *names = xcalloc(nl + 1, sizeof **names);
    for (size_t i = 0; i < nl; i++)
        if (lags[i].stale)
            (*names)[(*n)++] = xstrdup(lags[i].name);
    proj_lag_free(lags, nl);
    return ST_OK;
}

struct action {
    char kind; /* 'p'ause, 'r'esume, 't'hrottle, 's'kip, 'b'uild */
    char *name;
    int64_t n;
};

static int run_actions(struct verb_ctx *c, struct action *acts, size_t nacts,
                       enum project_rebuild rebuild, bool status, bool json, bool follow_mode)
{
    err e;
    err_clear(&e);
    int rc;
    if ((rc = verb_need_domain(c, true)) != ST_OK)
        return rc;
    for (size_t i = 0; i < nacts; i++)
        if (!projection_find(c->domain, acts[i].name, &e))
            return verb_fail(c, &e);
    if ((rc = verb_need_store(c, false, false)) != ST_OK)
        return rc;
    if ((rc = projection_setup(c->store, c->domain, &e)) != ST_OK)
        return verb_fail(c, &e);

    /* Controls first, so that a rebuild or a follow that comes after obeys them. */
    bool only_controls = rebuild == REBUILD_NONE && !status && !follow_mode;
    for (size_t i = 0; i < nacts; i++) {
        struct action *a = &acts[i];
        if (a->kind == 'b') {
            only_controls = false;
            continue;
        }
        char *reason = NULL;
        if (a->kind == 't')
            rc = projection_throttle(c->store, c->domain, a->name, a->n, &e);
        else if (a->kind == 's')
            rc = projection_skip(c->store, c->domain, a->name, a->n, &reason, &e);
        else
            rc = projection_pause(c->store, c->domain, a->name, a->kind == 'p', &e);
        if (rc != ST_OK)
            return verb_fail(c, &e);
        bool say = !follow_mode && !status;
        if (a->kind == 's' && say)
            linef(c, "%s: passes over position %lld from now on (%s)", a->name, (long long)a->n,
                  reason);
        free(reason);
        if (a->kind != 's' && say) {
            if (a->kind == 't' && a->n > 0)
                linef(c, "%s: throttled to %lld event%s per second", a->name, (long long)a->n,
                      a->n == 1 ? "" : "s");
            else if (a->kind == 't')
                linef(c, "%s: throttle lifted", a->name);
            else
                linef(c, "%s: %s", a->name, a->kind == 'p' ? "paused" : "resumed");
        }
        verb_show(c, &(struct verb_view){.kind = VERB_VIEW_PROJECTION, .name = a->name});
    }
    if (nacts && only_controls)
        return ST_OK;

    /* Rebuilds: those named, all, or the stale ones. */
    int failures = 0;
    if (rebuild != REBUILD_NONE) {
        struct rebuild_task *rt = xcalloc(1, sizeof *rt);
        rt->t.work = rebuild_work;
        rt->t.done = rebuild_done;
        rt->domain = c->domain;
        rt->quiet = status || follow_mode;
        if (rebuild == REBUILD_STALE) {
            if (project_stale_names(c->store, c->domain, &rt->names, &rt->n, &e) != ST_OK) {
                rebuild_done(&rt->t);
                return verb_fail(c, &e);
            }
        } else {
            rt->names = xcalloc(c->domain->nprojections + nacts + 1, sizeof *rt->names);
            for (size_t i = 0; rebuild == REBUILD_ALL && i < c->domain->nprojections; i++)
                rt->names[rt->n++] = xstrdup(c->domain->projections[i].name);
            for (size_t i = 0; rebuild == REBUILD_NAMED && i < nacts; i++)
                if (acts[i].kind == 'b')
                    rt->names[rt->n++] = xstrdup(acts[i].name);
        }
        if (rt->n == 0) {
            rebuild_done(&rt->t);
            verb_say(c, VERB_INFO, 0, "no projection is stale: nothing to rebuild");
            if (!status && !follow_mode)
                linef(c, "no projection is stale: nothing to rebuild");
        } else {
            if (rt->n == 1)
                snprintf(rt->t.what, sizeof rt->t.what, "rebuild %s", rt->names[0]);
            else
                snprintf(rt->t.what, sizeof rt->t.what, "rebuild %zu projections", rt->n);
            verb_show(c, &(struct verb_view){.kind = VERB_VIEW_PROJECTION, .name = rt->names[0]});
            if (verb_task_run(c, &rt->t) != ST_OK)
                failures++;
        }
    }

    if (follow_mode) {
        if (c->borrowed)
            return verb_usage_error(c, "--follow: the workbench follows the store already");
        return project_follow(c, json);
    }
    struct proj_lag *lags;
    size_t n;
    if (status) {
        if (projection_status(c->store, c->domain, &lags, &n, &e) != ST_OK)
            return verb_fail(c, &e);
        if (json) {
            strbuf sb;
            sb_init(&sb);
            for (size_t i = 0; i < n; i++) {
                sb_reset(&sb);
                project_lag_json(&sb, &lags[i]);
                verb_line(c, sb.buf, sb.len);
            }
            sb_done(&sb);
        } else {
            print_status_table(c, lags, n);
        }
        proj_lag_free(lags, n);
        verb_show(c, &(struct verb_view){.kind = VERB_VIEW_PROJECTION});
        return failures ? ST_ERR : ST_OK;
    }
    if (rebuild != REBUILD_NONE)
        return failures ? ST_ERR : ST_OK;

    /* The default: every projection up to the head, one line each. All of them in
     * one call, so that those at the same checkpoint share each batch's reading and
     * decoding; what each folded is told by its checkpoint before and after. In
     * the workbench its runner folds them: the lines say where they are. */
    int64_t *folded = NULL;
    if (!c->projections_live) {
        folded = xcalloc(c->domain->nprojections + 1, sizeof *folded);
        if (projection_status(c->store, c->domain, &lags, &n, &e) != ST_OK) {
            free(folded);
            return verb_fail(c, &e);
        }
        for (size_t i = 0; i < n && i < c->domain->nprojections; i++)
            folded[i] = -lags[i].checkpoint;
        proj_lag_free(lags, n);
        if (projection_catch_up(c->store, c->domain, NULL, 0, false, NULL, &e) != ST_OK) {
            free(folded);
            return verb_fail(c, &e);
        }
    }
    if (projection_status(c->store, c->domain, &lags, &n, &e) != ST_OK) {
        free(folded);
        return verb_fail(c, &e);
    }
    for (size_t i = 0; folded && i < n && i < c->domain->nprojections; i++)
        folded[i] += lags[i].checkpoint;
    failures = print_summary(c, lags, n, folded);
    proj_lag_free(lags, n);
    free(folded);
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_PROJECTION});
    if (failures)
        return verb_say(c, VERB_ERROR, ST_ERR,
                        "%d projection%s failed (see above; strata project --status shows the "
                        "event)",
                        failures, failures == 1 ? "" : "s");
    return ST_OK;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    enum project_rebuild rebuild = REBUILD_NONE;
    bool status = false, json = false, follow_mode = false, rebuild_named = false;
    struct action *acts = xcalloc((size_t)argc + 1, sizeof *acts);
    size_t nacts = 0;
    int rc = ST_OK, opt;
    const char *arg;
    while (rc == ST_OK && (opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        char *name;
        int64_t n;
        switch (opt) {
        case OPT_REBUILD:
            acts[nacts++] = (struct action){'b', xstrdup(arg), 0};
            rebuild_named = true;
            break;
        case OPT_REBUILD_ALL:
        case OPT_REBUILD_STALE:
            if (rebuild != REBUILD_NONE &&
                rebuild != (opt == OPT_REBUILD_ALL ? REBUILD_ALL : REBUILD_STALE))
                rc = verb_usage_error(c, "give --rebuild-all or --rebuild-stale, not both");
            rebuild = opt == OPT_REBUILD_ALL ? REBUILD_ALL : REBUILD_STALE;
            break;
        case OPT_STATUS:
            status = true;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_FOLLOW:
            follow_mode = true;
            break;
        case OPT_THROTTLE:
            if (!parse_throttle(arg, &name, &n))
                rc = verb_usage_error(c, "--throttle wants NAME=N (events per second), not '%s'",
                                      arg);
            else
                acts[nacts++] = (struct action){'t', name, n};
            break;
        case OPT_SKIP: {
            bool shaped = parse_throttle(arg, &name, &n);
            if (!shaped || n < 1) {
                if (shaped)
                    free(name);
                rc = verb_usage_error(c, "--skip wants NAME=POSITION, not '%s'", arg);
            } else {
                acts[nacts++] = (struct action){'s', name, n};
            }
            break;
        }
        case OPT_PAUSE:
        case OPT_RESUME:
            acts[nacts++] = (struct action){opt == OPT_PAUSE ? 'p' : 'r', xstrdup(arg), 0};
            break;
        }
    }
    if (rc == ST_OK && !verb_options_stop(c, opt, argc, argv, &rc)) {
        if (follow_mode && status)
            rc = verb_usage_error(c, "give --status or --follow, not both");
        else if (json && !status && !follow_mode)
            rc = verb_usage_error(c, "--json goes with --status or --follow");
        else if (rebuild != REBUILD_NONE && rebuild_named)
            rc = verb_usage_error(c, "give --rebuild NAME or --rebuild-%s, not both",
                                  rebuild == REBUILD_ALL ? "all" : "stale");
        else if (follow_mode && c->borrowed)
            rc = verb_usage_error(c, "--follow: the workbench follows the store already");
        else
            rc = run_actions(c, acts, nacts, rebuild_named ? REBUILD_NAMED : rebuild, status, json,
                             follow_mode);
    }
    for (size_t i = 0; i < nacts; i++)
        free(acts[i].name);
    free(acts);
    return rc;
}

const struct verb_def verb_project = {
    .name = "project",
    .synopsis = "[--rebuild NAME | --rebuild-all | --rebuild-stale] [--status] [--pause NAME]",
    .summary = "bring projections up to the head; status, rebuild, follow",
    .usage = usage,
    .options = opts,
    .run = run,
};
