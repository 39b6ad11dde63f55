/* project_follow.c: `strata project --follow`, the command line's long-running
 * loop: a status line every second until SIGINT or SIGTERM, a projection runner
 * folding meanwhile, and the domain file watched: when it changes it is reloaded
 * (core/domain_reload.h). On errors they are reported on standard error and the
 * old domain stays in force; on success the runner goes on with the new one, and
 * the projections whose rules changed are reported stale: they wait for
 * `strata project --rebuild-stale` rather than being folded on by mixed rules. */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/domain_reload.h"
#include "verbs/project.h"

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
        r = projection_runner_start(c->db_path, c->domain, &e);
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
    struct proj_runner *r = projection_runner_start(c->db_path, c->domain, &e);
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
