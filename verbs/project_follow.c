/* project_follow.c: `strata project --follow`, the command line's long-running
 * loop: a status line every second until SIGINT or SIGTERM, a projection runner
 * folding meanwhile, and the domain file watched: when it changes it is reloaded
 * (core/domain_reload.h). On errors they are reported on standard error and the
 * old domain stays in force; on success the runner goes on with the new one, and
 * the projections whose rules changed are reported stale: they wait for
 * `strata project --rebuild-stale` rather than being folded on by mixed rules.
 * And the lag as text and JSON, which `project --status` prints too. */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/domain_reload.h"
#include "core/json.h"
#include "verbs/project.h"

void project_fmt_seconds(char *buf, size_t cap, double s)
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

void project_lag_json(strbuf *sb, const struct proj_lag *l)
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
    sb_adds(sb, "}");
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void follow_line(struct verb_ctx *c, const struct proj_lag *lags, size_t n, bool json)
{
    strbuf sb;
    sb_init(&sb);
    if (json) {
        for (size_t i = 0; i < n; i++) {
            sb_reset(&sb);
            project_lag_json(&sb, &lags[i]);
            verb_line(c, sb.buf, sb.len);
        }
        sb_done(&sb);
        return;
    }
    char now[TIME_TEXT_LEN + 1];
    time_format_ms(time_now_ms(), now);
    sb_addf(&sb, "%.8s", now + 11);
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        char age[32];
        project_fmt_seconds(age, sizeof age, l->seconds_behind);
        sb_addf(&sb, "%s %s %s %lld/%lld behind %lld (%s) %.0f/s", i ? " |" : "", l->name,
                proj_status_name(l->status),
                (long long)(l->status == PROJ_REBUILDING ? l->rebuild_checkpoint : l->checkpoint),
                (long long)l->head, (long long)l->events_behind, age, l->rate);
        if (l->stale)
            sb_adds(&sb, " stale");
        if (l->throttle > 0)
            sb_addf(&sb, " (throttled to %lld/s)", (long long)l->throttle);
    }
    verb_line(c, sb.buf, sb.len);
    sb_done(&sb);
}

/* The domain file changed: reload it; on success switch the runner to it. */
static struct proj_runner *reload(struct verb_ctx *c, struct proj_runner *r)
{
    struct domain_reload rl;
    int st = domain_reload(c->domain_path, c->domain, &rl);
    strbuf sb;
    sb_init(&sb);
    domain_reload_summary(&rl, c->domain_path, &sb);
    if (st != ST_OK) {
        verb_diags(c, &rl.diags);
        verb_say(c, VERB_ERROR, 0, "%s", sb.buf);
    } else {
        /* The runner borrows the domain: stop it before the old one goes. */
        projection_runner_stop(r);
        domain_free(c->domain);
        c->domain = rl.domain;
        rl.domain = NULL;
        err e;
        err_clear(&e);
        if (projection_setup(c->store, c->domain, &e) != ST_OK)
            verb_fail(c, &e);
        verb_say(c, VERB_NOTE, 0, "%s", sb.buf);
        if (rl.nstale)
            verb_say(c, VERB_NOTE, 0,
                     "%zu stale projection%s wait%s for a rebuild, not folded on by the new rules: "
                     "strata project --rebuild-stale",
                     rl.nstale, rl.nstale == 1 ? "" : "s", rl.nstale == 1 ? "s" : "");
        r = projection_runner_start_on(c->db_path, c->branch, c->domain, &e);
        if (!r)
            verb_fail(c, &e);
    }
    sb_done(&sb);
    domain_reload_done(&rl);
    return r;
}

int project_follow(struct verb_ctx *c, bool json)
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
        return verb_fail(c, &e);
    struct domain_watch w;
    bool watching = c->domain_path != NULL;
    if (watching)
        domain_watch_init(&w, c->domain_path);
    char last_error[sizeof e.msg] = "";
    int rc = ST_OK;
    while (!stop_requested && r) {
        if (watching && domain_watch_changed(&w) && !(r = reload(c, r)))
            break;
        struct proj_lag *lags;
        size_t n;
        if (projection_status(c->store, c->domain, &lags, &n, &e) != ST_OK) {
            rc = verb_fail(c, &e);
            break;
        }
        follow_line(c, lags, n, json);
        if (c->out->flush) /* a status line is read as it comes */
            c->out->flush(c->out->ctx);
        proj_lag_free(lags, n);
        err re;
        err_clear(&re);
        if (projection_runner_error(r, &re) && strcmp(re.msg, last_error) != 0) {
            verb_say(c, VERB_ERROR, 0, "%s (retrying)", re.msg);
            snprintf(last_error, sizeof last_error, "%s", re.msg);
        }
        for (int i = 0; i < 10 && !stop_requested; i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (r)
        projection_runner_stop(r);
    else if (rc == ST_OK)
        rc = ST_ERR;
    if (watching)
        domain_watch_done(&w);
    return rc;
}
