/* doctor.c: the doctor's items about the store (doctor.h): readable events,
 * snapshots and replay lengths, projections, durability, integrity and gaps; the
 * coverage items are in doctor_domain.c. */
#include "doctor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "poison.h"
#include "projection.h"

#define LONG_STREAM 200
#define LAG_WARN_SECS 300.0
#define POISON_SAMPLES 3

const char *doctor_level_name(enum doctor_level l)
{
    return l == DOCTOR_OK ? "ok" : l == DOCTOR_WARN ? "warn" : "fail";
}

struct run {
    doctor_fn fn;
    void *ctx;
    int *fails;
};

static void say(struct run *r, enum doctor_level l, const char *item, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say(struct run *r, enum doctor_level l, const char *item, const char *fix,
                const char *fmt, ...)
{
    char found[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(found, sizeof found, fmt, ap);
    va_end(ap);
    struct doctor_item it = {l, item, found, l == DOCTOR_OK ? NULL : fix};
    r->fn(&it, r->ctx);
    if (l == DOCTOR_FAIL)
        (*r->fails)++;
}

/* ---- readable: the poison scan ---- */

struct poison_seen {
    strbuf samples;
    int nsamples;
    int64_t first;
};

static int on_poison(const struct poison *p, void *ctx)
{
    struct poison_seen *ps = ctx;
    if (!ps->first)
        ps->first = p->ev->position;
    if (ps->nsamples++ < POISON_SAMPLES)
        sb_addf(&ps->samples, "%sposition %lld (%s schema %d): %s", ps->nsamples > 1 ? "; " : "",
                (long long)p->ev->position, p->ev->type, p->ev->schema, p->reason);
    return 0;
}

static int check_readable(struct run *r, struct store *s, const struct domain *d, err *e)
{
    struct poison_seen ps = {0};
    sb_init(&ps.samples);
    int64_t checked = 0, found = 0;
    int rc = poison_scan(s, d, on_poison, &ps, &checked, &found, e);
    if (rc == ST_OK && found)
        say(r, DOCTOR_FAIL, "readable",
            "add the upcast the domain lacks, or restore the field it changed; "
            "`strata project --skip NAME=POSITION` lets a projection pass one",
            "%lld of %lld events cannot be read by the domain: %s", (long long)found,
            (long long)checked, ps.samples.buf);
    else if (rc == ST_OK)
        say(r, DOCTOR_OK, "readable", NULL,
            "all %lld events read by the domain (every stored type and schema upcasts to a "
            "valid event)",
            (long long)checked);
    sb_done(&ps.samples);
    return rc;
}

/* ---- snapshots: the longest stream of each aggregate ---- */

static int check_snapshots(struct run *r, struct store *s, const struct domain *d, int64_t limit,
                           err *e)
{
    int64_t worst_replay = 0;
    char worst_stream[256] = "";
    strbuf want;
    sb_init(&want);
    int rc = ST_OK;
    for (size_t a = 0; a < d->naggregates && rc == ST_OK; a++) {
        const struct aggregate_spec *ag = &d->aggregates[a];
        char *prefix = aggregate_stream(ag, "");
        int64_t longest = 0;
        char *longest_name = NULL;
        for (size_t off = 0;; off += 500) {
            struct stream_info *si = NULL;
            size_t n = 0;
            if ((rc = store_list_streams(s, prefix, off, 500, &si, &n, e)) != ST_OK)
                break;
            for (size_t i = 0; i < n; i++)
                if (si[i].version > longest) {
                    longest = si[i].version;
                    free(longest_name);
                    longest_name = xstrdup(si[i].name);
                }
            stream_info_free(si, n);
            if (n < 500)
                break;
        }
        if (rc == ST_OK && longest_name) {
            /* The replay a load of it needs: its events after the newest snapshot
             * made by the current rules. */
            int64_t replay = longest;
            struct snapshot snap;
            err ignored;
            if (ag->snapshot_every > 0 &&
                store_snapshot_get(s, longest_name, ag->rules_hash, 0, &snap, &ignored) == ST_OK) {
                replay = longest - snap.version;
                snapshot_done(&snap);
            }
            if (replay > worst_replay) {
                worst_replay = replay;
                snprintf(worst_stream, sizeof worst_stream, "%s", longest_name);
            }
            if (longest > limit && ag->snapshot_every == 0)
                sb_addf(&want, "%s%s (%s: %lld events)", want.len ? ", " : "", ag->name,
                        longest_name, (long long)longest);
        }
        free(longest_name);
        free(prefix);
    }
    if (rc == ST_OK) {
        if (want.len)
            say(r, DOCTOR_WARN, "snapshots",
                "set `snapshot_every: 50` on the aggregate (commands then write snapshots)",
                "streams longer than %lld events without snapshot_every: %s; longest replay a "
                "load needs: %lld events (%s)",
                (long long)limit, want.buf, (long long)worst_replay, worst_stream);
        else if (worst_replay > limit)
            say(r, DOCTOR_WARN, "snapshots",
                "snapshots are written by commands every snapshot_every versions; imported "
                "events write none",
                "longest replay a load needs: %lld events (%s), more than %lld",
                (long long)worst_replay, worst_stream, (long long)limit);
        else
            say(r, DOCTOR_OK, "snapshots", NULL, "longest replay a load needs: %lld events%s%s%s",
                (long long)worst_replay, *worst_stream ? " (" : "", worst_stream,
                *worst_stream ? ")" : "");
    }
    sb_done(&want);
    return rc;
}

/* ---- projections ---- */

static int check_projections(struct run *r, struct store *s, const struct domain *d,
                             double lag_warn, err *e)
{
    if (d->nprojections == 0)
        return ST_OK;
    struct proj_lag *lags = NULL;
    size_t n = 0;
    int rc = projection_status(s, d, &lags, &n, e);
    if (rc != ST_OK) {
        say(r, DOCTOR_WARN, "projections", "run `strata project` once with write access",
            "cannot read their status: %s", e->msg);
        err_clear(e);
        return ST_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        char item[200], lag[160];
        snprintf(item, sizeof item, "projection %s", l->name);
        if (l->events_behind)
            snprintf(lag, sizeof lag, "%lld behind, the oldest unfolded event appended %.1fs ago",
                     (long long)l->events_behind, l->seconds_behind);
        else
            snprintf(lag, sizeof lag, "0 behind");
        if (l->status == PROJ_FAILED)
            say(r, DOCTOR_FAIL, item,
                "fix the expression (or upcast) and `strata project --resume NAME`, or "
                "`strata project --skip NAME=POSITION`",
                "failed at position %lld: %s; %s", (long long)l->error_position,
                l->error ? l->error : "?", lag);
        else if (l->stale)
            say(r, DOCTOR_WARN, item, "`strata project --rebuild NAME`",
                "stale: its table was built by other rules than the domain's; %s", lag);
        else if (l->skipped)
            say(r, DOCTOR_WARN, item,
                "fix the domain so the events can be read, then `strata project --rebuild NAME`",
                "%lld skipped event%s; %s", (long long)l->skipped, l->skipped == 1 ? "" : "s", lag);
        else if (l->events_behind && l->seconds_behind > lag_warn)
            say(r, DOCTOR_WARN, item,
                "run `strata project --follow` (or keep a workbench open) beside the writers",
                "%s: nothing is folding it", lag);
        else
            say(r, DOCTOR_OK, item, NULL, "%s; %s", proj_status_name(l->status), lag);
    }
    proj_lag_free(lags, n);
    return ST_OK;
}

/* ---- the store's own health ---- */

static int check_store(struct run *r, struct store *s, err *e)
{
    struct store_health h;
    int rc = store_health(s, &h, e);
    if (rc != ST_OK)
        return rc;
    say(r, h.durable ? DOCTOR_OK : DOCTOR_FAIL, "durability",
        h.durability_fix ? h.durability_fix
                         : "PRAGMA journal_mode=WAL on the file (any Strata write sets it) and "
                           "synchronous FULL (the default)",
        "%s", h.durability);
    say(r, h.intact ? DOCTOR_OK : DOCTOR_FAIL, "integrity",
        h.integrity_fix ? h.integrity_fix
                        : "restore the file from a backup, or `sqlite3 FILE .recover`",
        "%s: %s", h.integrity_check ? h.integrity_check : "integrity_check", h.integrity);
    if (h.count == h.head)
        say(r, DOCTOR_OK, "positions", NULL, "1..%lld without gaps", (long long)h.head);
    else
        say(r, DOCTOR_FAIL, "positions",
            "events were deleted behind Strata's back: restore them from a backup or an export",
            "%lld positions missing of 1..%lld, the first at %lld", (long long)(h.head - h.count),
            (long long)h.head, (long long)h.first_gap);
    return ST_OK;
}

int doctor_run(struct store *s, const struct domain *d, const struct doctor_options *o,
               doctor_fn fn, void *ctx, int *fails, err *e)
{
    *fails = 0;
    struct run r = {fn, ctx, fails};
    int64_t limit = o && o->long_stream > 0 ? o->long_stream : LONG_STREAM;
    double lag_warn = o && o->lag_warn_secs > 0 ? o->lag_warn_secs : LAG_WARN_SECS;
    int rc = check_readable(&r, s, d, e);
    if (rc == ST_OK)
        rc = check_snapshots(&r, s, d, limit, e);
    if (rc == ST_OK)
        rc = check_projections(&r, s, d, lag_warn, e);
    if (rc == ST_OK)
        rc = check_store(&r, s, e);
    struct type_count *tc = NULL;
    size_t ntc = 0;
    if (rc == ST_OK && (rc = store_type_counts(s, &tc, &ntc, e)) == ST_OK)
        doctor_coverage(d, tc, ntc, fn, ctx, fails);
    type_counts_free(tc, ntc);
    return rc;
}
