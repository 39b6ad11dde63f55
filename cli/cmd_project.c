/* cmd_project.c: `strata project`: bring projections up to the head, show their
 * lag, rebuild them, follow the store, and the teaching controls (pause, resume,
 * throttle) that every process obeys because they live in the store, and telling
 * one to pass over an event it cannot fold (--skip). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/json.h"
#include "core/projection.h"

static const char usage[] =
    "usage: strata project [--rebuild NAME | --rebuild-all] [--status [--json]]\n"
    "                      [--follow] [--throttle NAME=N]... [--pause NAME]... [--resume NAME]...\n"
    "                      [--skip NAME=POSITION]...\n"
    "With no option, brings every projection up to the head and prints one line\n"
    "each; paused projections stay where they are, throttled ones fold only what\n"
    "their throttle allows now, and stale ones (definition changed) wait for a\n"
    "rebuild. Exits 1 when a projection is failed.\n"
    "  --status         each projection's checkpoint, head, lag, rate, status (no folding)\n"
    "  --json           with --status or --follow: one JSON object per projection\n"
    "  --rebuild NAME   build NAME anew from position 0 beside the old table, swap it in\n"
    "  --rebuild-all    rebuild every projection\n"
    "  --follow         keep following the store; a status line every second until\n"
    "                   interrupted (SIGINT or SIGTERM)\n"
    "  --throttle NAME=N  fold at most N events per second (0 lifts it); stored\n"
    "  --pause NAME     stop folding NAME (stored: every process obeys it)\n"
    "  --resume NAME    fold NAME again (a failed one retries from its checkpoint)\n"
    "  --skip NAME=POSITION  pass over the event at POSITION in NAME from now on, in\n"
    "                   every fold and rebuild (a poison event: see strata check --db);\n"
    "                   stored with the reason; a projection failed at that event resumes\n"
    "  --force          use a store that was used with another domain (or with none,\n"
    "                   but has events); it records this one\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void fmt_seconds(char *buf, size_t cap, double s)
{
    if (s < 0)
        snprintf(buf, cap, "-");
    else if (s < 60)
        snprintf(buf, cap, "%.1fs", s);
    else if (s < 3600)
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void lag_json(strbuf *sb, const struct proj_lag *l)
{
    sb_adds(sb, "{\"name\":");
    json_write_string(sb, l->name, strlen(l->name));
    sb_adds(sb, ",\"status\":");
    json_write_string(sb, proj_status_name(l->status), strlen(proj_status_name(l->status)));
    sb_addf(sb, ",\"stale\":%s,\"checkpoint\":%lld,\"head\":%lld,\"events_behind\":%lld",
            l->stale ? "true" : "false", (long long)l->checkpoint, (long long)l->head,
            (long long)l->events_behind);
    sb_adds(sb, ",\"seconds_behind\":");
    json_write_double(sb, l->seconds_behind);
    sb_adds(sb, ",\"rate\":");
    json_write_double(sb, l->rate);
    sb_adds(sb, ",\"eta_seconds\":");
    json_write_double(sb, l->eta_seconds);
    sb_addf(sb, ",\"throttle\":%lld", (long long)l->throttle);
    sb_addf(sb, ",\"skipped\":%lld", (long long)l->skipped);
    if (l->status == PROJ_REBUILDING)
        sb_addf(sb, ",\"rebuild_checkpoint\":%lld", (long long)l->rebuild_checkpoint);
    if (l->status == PROJ_FAILED) {
        sb_addf(sb, ",\"error_position\":%lld,\"error\":", (long long)l->error_position);
        const char *m = l->error ? l->error : "";
        json_write_string(sb, m, strlen(m));
        sb_adds(sb, ",\"error_event\":");
        /* The event is JSON already: embed it as an object, not a string. */
        value ev;
        if (l->error_event &&
            json_parse(l->error_event, strlen(l->error_event), &ev, NULL) == ST_OK) {
            json_write(sb, &ev);
            value_free(ev);
        } else {
            sb_adds(sb, "null");
        }
    }
    sb_adds(sb, "}\n");
}

static void print_status_table(const struct proj_lag *lags, size_t n)
{
    size_t w = 10;
    for (size_t i = 0; i < n; i++)
        if (strlen(lags[i].name) > w)
            w = strlen(lags[i].name);
    printf("%-*s  %-11s  %10s  %10s  %8s  %8s  %9s  %7s  %s\n", (int)w, "PROJECTION", "STATUS",
           "CHECKPOINT", "HEAD", "BEHIND", "AGE", "RATE/S", "ETA", "NOTES");
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        char age[32], eta[32];
        fmt_seconds(age, sizeof age, l->seconds_behind);
        fmt_seconds(eta, sizeof eta, l->eta_seconds);
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
        printf("%-*s  %-11s  %10lld  %10lld  %8lld  %8s  %9.1f  %7s  %s\n", (int)w, l->name,
               proj_status_name(l->status), (long long)l->checkpoint, (long long)l->head,
               (long long)l->events_behind, age, l->rate, eta, notes.buf ? notes.buf : "");
        sb_done(&notes);
    }
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        if (l->status != PROJ_FAILED)
            continue;
        printf("\n%s failed at position %lld: %s\n", l->name, (long long)l->error_position,
               l->error ? l->error : "");
        if (l->error_event)
            printf("  event: %s\n", l->error_event);
        printf("  fix the domain, then: strata project --rebuild %s (or --resume %s to retry)\n",
               l->name, l->name);
        printf("  or pass over that event: strata project --skip %s=%lld\n", l->name,
               (long long)l->error_position);
    }
}

/* One line per projection after a catch-up; returns how many are failed. */
static int print_summary(const struct proj_lag *lags, size_t n, const int64_t *folded)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        long long f = folded ? (long long)folded[i] : 0;
        switch (l->status) {
        case PROJ_FAILED:
            failed++;
            printf("%s: failed at position %lld: %s\n", l->name, (long long)l->error_position,
                   l->error ? l->error : "");
            break;
        case PROJ_PAUSED:
            printf("%s: paused at %lld of %lld (resume with: strata project --resume %s)\n",
                   l->name, (long long)l->checkpoint, (long long)l->head, l->name);
            break;
        case PROJ_REBUILDING:
            printf("%s: rebuilding, new table at %lld of %lld\n", l->name,
                   (long long)l->rebuild_checkpoint, (long long)l->head);
            break;
        default:
            if (l->stale)
                printf("%s: stale at %lld of %lld (its definition changed: strata project "
                       "--rebuild %s)\n",
                       l->name, (long long)l->checkpoint, (long long)l->head, l->name);
            else if (l->status == PROJ_LIVE)
                printf("%s: live at %lld (%lld events folded)\n", l->name, (long long)l->checkpoint,
                       f);
            else if (l->throttle > 0)
                printf("%s: throttled to %lld/s, at %lld of %lld (%lld events folded)\n", l->name,
                       (long long)l->throttle, (long long)l->checkpoint, (long long)l->head, f);
            else
                printf("%s: catching up, at %lld of %lld (%lld events folded)\n", l->name,
                       (long long)l->checkpoint, (long long)l->head, f);
        }
    }
    return failed;
}

static void follow_line(const struct proj_lag *lags, size_t n, bool json)
{
    strbuf sb;
    sb_init(&sb);
    if (json) {
        for (size_t i = 0; i < n; i++)
            lag_json(&sb, &lags[i]);
    } else {
        char now[TIME_TEXT_LEN + 1];
        time_format_ms(time_now_ms(), now);
        sb_addf(&sb, "%.8s", now + 11);
        for (size_t i = 0; i < n; i++) {
            const struct proj_lag *l = &lags[i];
            char age[32];
            fmt_seconds(age, sizeof age, l->seconds_behind);
            sb_addf(
                &sb, "%s %s %s %lld/%lld behind %lld (%s) %.0f/s", i ? " |" : "", l->name,
                proj_status_name(l->status),
                (long long)(l->status == PROJ_REBUILDING ? l->rebuild_checkpoint : l->checkpoint),
                (long long)l->head, (long long)l->events_behind, age, l->rate);
            if (l->stale)
                sb_adds(&sb, " stale");
            if (l->throttle > 0)
                sb_addf(&sb, " (throttled to %lld/s)", (long long)l->throttle);
        }
        sb_addc(&sb, '\n');
    }
    fwrite(sb.buf, 1, sb.len, stdout);
    fflush(stdout);
    sb_done(&sb);
}

static int follow(struct cli *c, bool json)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    err e;
    err_clear(&e);
    struct proj_runner *r = projection_runner_start_on(c->db_path, c->branch, c->domain, &e);
    if (!r)
        return cli_fail(c, &e);
    char last_error[sizeof e.msg] = "";
    int rc = ST_OK;
    while (!stop_requested) {
        struct proj_lag *lags;
        size_t n;
        if (projection_status(c->store, c->domain, &lags, &n, &e) != ST_OK) {
            rc = cli_fail(c, &e);
            break;
        }
        follow_line(lags, n, json);
        proj_lag_free(lags, n);
        err re;
        err_clear(&re);
        if (projection_runner_error(r, &re) && strcmp(re.msg, last_error) != 0) {
            fprintf(stderr, "strata project: %s (retrying)\n", re.msg);
            snprintf(last_error, sizeof last_error, "%s", re.msg);
        }
        for (int i = 0; i < 10 && !stop_requested; i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    projection_runner_stop(r);
    return rc;
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

int cmd_project(int argc, char **argv)
{
    enum {
        OPT_REBUILD = OPT_FIRST_FREE,
        OPT_REBUILD_ALL,
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
                                         {"status", no_argument, NULL, OPT_STATUS},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"follow", no_argument, NULL, OPT_FOLLOW},
                                         {"throttle", required_argument, NULL, OPT_THROTTLE},
                                         {"pause", required_argument, NULL, OPT_PAUSE},
                                         {"resume", required_argument, NULL, OPT_RESUME},
                                         {"skip", required_argument, NULL, OPT_SKIP},
                                         FORCE_OPTION,
                                         COMMON_OPTIONS,
                                         {0}};
    struct cli c;
    cli_init(&c, "project", usage);
    bool rebuild_all = false, status = false, json = false, follow_mode = false;
    /* Controls and rebuilds in the order given: kind 'p'ause, 'r'esume, 't'hrottle,
     * 's'kip, 'b'uild. */
    struct action {
        char kind;
        char *name;
        int64_t n;
    } *acts = xcalloc((size_t)argc + 1, sizeof *acts);
    size_t nacts = 0;
    int rc = ST_OK;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_REBUILD:
            acts[nacts++] = (struct action){'b', xstrdup(optarg), 0};
            break;
        case OPT_REBUILD_ALL:
            rebuild_all = true;
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
        case OPT_THROTTLE: {
            char *name;
            int64_t n;
            if (!parse_throttle(optarg, &name, &n)) {
                rc = cli_usage_error(&c, "--throttle wants NAME=N (events per second), not '%s'",
                                     optarg);
                goto out;
            }
            acts[nacts++] = (struct action){'t', name, n};
            break;
        }
        case OPT_SKIP: {
            char *name;
            int64_t n;
            if (!parse_throttle(optarg, &name, &n) || n < 1) {
                rc = cli_usage_error(&c, "--skip wants NAME=POSITION, not '%s'", optarg);
                goto out;
            }
            acts[nacts++] = (struct action){'s', name, n};
            break;
        }
        case OPT_PAUSE:
            acts[nacts++] = (struct action){'p', xstrdup(optarg), 0};
            break;
        case OPT_RESUME:
            acts[nacts++] = (struct action){'r', xstrdup(optarg), 0};
            break;
        default:
            if (!cli_common_option(&c, opt, optarg)) {
                rc = cli_usage_error(&c, "unknown option");
                goto out;
            }
        }
    }
    if (c.want_help) {
        rc = cli_help(&c);
        goto out;
    }
    if (optind < argc) {
        rc = cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (follow_mode && status) {
        rc = cli_usage_error(&c, "give --status or --follow, not both");
        goto out;
    }
    if (json && !status && !follow_mode) {
        rc = cli_usage_error(&c, "--json goes with --status or --follow");
        goto out;
    }
    bool rebuild_named = false;
    for (size_t i = 0; i < nacts; i++)
        rebuild_named |= acts[i].kind == 'b';
    if (rebuild_all && rebuild_named) {
        rc = cli_usage_error(&c, "give --rebuild NAME or --rebuild-all, not both");
        goto out;
    }
    if ((rc = cli_load_domain(&c, true)) != ST_OK)
        goto out;
    err e;
    err_clear(&e);
    for (size_t i = 0; i < nacts; i++)
        if (!projection_find(c.domain, acts[i].name, &e)) {
            rc = cli_fail(&c, &e);
            goto out;
        }
    if ((rc = cli_open_store(&c, false, false)) != ST_OK || (rc = cli_claim_store(&c)) != ST_OK)
        goto out;
    if ((rc = projection_setup(c.store, c.domain, &e)) != ST_OK) {
        rc = cli_fail(&c, &e);
        goto out;
    }

    /* Controls first, so that a rebuild or a follow that comes after obeys them. */
    bool only_controls = !rebuild_all && !status && !follow_mode;
    for (size_t i = 0; i < nacts; i++) {
        struct action *a = &acts[i];
        if (a->kind == 'b') {
            only_controls = false;
            continue;
        }
        char *reason = NULL;
        if (a->kind == 't')
            rc = projection_throttle(c.store, c.domain, a->name, a->n, &e);
        else if (a->kind == 's')
            rc = projection_skip(c.store, c.domain, a->name, a->n, &reason, &e);
        else
            rc = projection_pause(c.store, c.domain, a->name, a->kind == 'p', &e);
        if (rc != ST_OK) {
            rc = cli_fail(&c, &e);
            goto out;
        }
        if (a->kind == 's' && !follow_mode && !status)
            printf("%s: passes over position %lld from now on (%s)\n", a->name, (long long)a->n,
                   reason);
        free(reason);
        if (a->kind != 's' && !follow_mode && !status) {
            if (a->kind == 't' && a->n > 0)
                printf("%s: throttled to %lld event%s per second\n", a->name, (long long)a->n,
                       a->n == 1 ? "" : "s");
            else if (a->kind == 't')
                printf("%s: throttle lifted\n", a->name);
            else
                printf("%s: %s\n", a->name, a->kind == 'p' ? "paused" : "resumed");
        }
    }
    if (nacts && only_controls) {
        rc = fflush(stdout) == 0 ? ST_OK : ST_ERR;
        goto out;
    }

    /* Rebuilds. */
    int failures = 0;
    for (size_t i = 0; i < c.domain->nprojections || i < nacts; i++) {
        const char *name = NULL;
        if (rebuild_all && i < c.domain->nprojections)
            name = c.domain->projections[i].name;
        else if (!rebuild_all && i < nacts && acts[i].kind == 'b')
            name = acts[i].name;
        if (!name)
            continue;
        err_clear(&e);
        int64_t t0 = time_now_ms();
        if (projection_rebuild(c.store, c.domain, name, &e) != ST_OK) {
            fprintf(stderr, "strata project: %s\n", e.msg);
            failures++;
            continue;
        }
        if (!status && !follow_mode) {
            int64_t head = 0;
            store_head(c.store, &head, NULL);
            printf("%s: rebuilt from position 0 to %lld in %.2fs, swapped in\n", name,
                   (long long)head, (double)(time_now_ms() - t0) / 1000.0);
        }
    }

    if (follow_mode) {
        rc = follow(&c, json);
        goto out;
    }
    if (status) {
        struct proj_lag *lags;
        size_t n;
        if (projection_status(c.store, c.domain, &lags, &n, &e) != ST_OK) {
            rc = cli_fail(&c, &e);
            goto out;
        }
        if (json) {
            strbuf sb;
            sb_init(&sb);
            for (size_t i = 0; i < n; i++)
                lag_json(&sb, &lags[i]);
            fwrite(sb.buf, 1, sb.len, stdout);
            sb_done(&sb);
        } else {
            print_status_table(lags, n);
        }
        proj_lag_free(lags, n);
        rc = failures ? ST_ERR : ST_OK;
        if (fflush(stdout) != 0)
            rc = ST_ERR;
        goto out;
    }
    if (rebuild_all || rebuild_named) {
        rc = failures ? ST_ERR : ST_OK;
        goto out;
    }

    /* The default: every projection up to the head, one line each. All of them in
     * one call, so that those at the same checkpoint share each batch's reading and
     * decoding; what each folded is told by its checkpoint before and after. */
    int64_t *folded = xcalloc(c.domain->nprojections + 1, sizeof *folded);
    struct proj_lag *lags;
    size_t n;
    if (projection_status(c.store, c.domain, &lags, &n, &e) != ST_OK) {
        free(folded);
        rc = cli_fail(&c, &e);
        goto out;
    }
    for (size_t i = 0; i < n && i < c.domain->nprojections; i++)
        folded[i] = -lags[i].checkpoint;
    proj_lag_free(lags, n);
    if (projection_catch_up(c.store, c.domain, NULL, 0, false, NULL, &e) != ST_OK ||
        projection_status(c.store, c.domain, &lags, &n, &e) != ST_OK) {
        free(folded);
        rc = cli_fail(&c, &e);
        goto out;
    }
    for (size_t i = 0; i < n && i < c.domain->nprojections; i++)
        folded[i] += lags[i].checkpoint;
    failures = print_summary(lags, n, folded);
    proj_lag_free(lags, n);
    free(folded);
    if (failures)
        fprintf(stderr,
                "strata project: %d projection%s failed (see above; strata project "
                "--status shows the event)\n",
                failures, failures == 1 ? "" : "s");
    rc = failures ? ST_ERR : ST_OK;
    if (fflush(stdout) != 0)
        rc = ST_ERR;
out:
    for (size_t i = 0; i < nacts; i++)
        free(acts[i].name);
    free(acts);
    cli_done(&c);
    return rc;
}
