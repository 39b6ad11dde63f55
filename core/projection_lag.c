/* projection_lag.c: how far behind projections are (struct proj_lag: events and
 * seconds behind, rate, time to catch up, status) and the progress samples the
 * rate is measured from (see projection_lag.h). */
#include "projection_lag.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

#define RATE_WINDOW_MS 5000 /* the rate is measured over this many milliseconds */
#define SAMPLE_EVERY_MS 200 /* progress samples closer than this replace each other */
#define SAMPLES_MAX 40

const char *proj_status_name(enum proj_status s)
{
    switch (s) {
    case PROJ_CATCHING_UP:
        return "catching up";
    case PROJ_LIVE:
        return "live";
    case PROJ_PAUSED:
        return "paused";
    case PROJ_FAILED:
        return "failed";
    case PROJ_REBUILDING:
        return "rebuilding";
    }
    return "?";
}

void proj_lag_free(struct proj_lag *lags, size_t n)
{
    for (size_t i = 0; lags && i < n; i++) {
        free(lags[i].name);
        free(lags[i].error);
        free(lags[i].error_event);
    }
    free(lags);
}

/* ---- progress samples (for the rate) ---- */

struct sample {
    int64_t ms, checkpoint;
};

static size_t samples_parse(const char *text, struct sample *out, size_t cap)
{
    if (!text || !*text)
        return 0;
    value v;
    if (json_parse(text, strlen(text), &v, NULL) != ST_OK)
        return 0;
    size_t n = 0;
    for (size_t i = 0; v.type == V_LIST && i < value_list_len(&v) && n < cap; i++) {
        const value *p = value_list_at(&v, i);
        if (p->type != V_LIST || value_list_len(p) != 2 || value_list_at(p, 0)->type != V_INT ||
            value_list_at(p, 1)->type != V_INT)
            continue;
        out[n].ms = value_list_at(p, 0)->u.i;
        out[n].checkpoint = value_list_at(p, 1)->u.i;
        n++;
    }
    value_free(v);
    return n;
}

/* Adds progress from (begin, start) to (now, checkpoint) to the record's samples,
 * keeping them about SAMPLE_EVERY_MS apart and no older than two windows. */
void proj_samples_add(struct proj_record *r, int64_t begin, int64_t start, int64_t now,
                      int64_t checkpoint)
{
    struct sample s[SAMPLES_MAX + 2];
    size_t n = samples_parse(r->samples, s, SAMPLES_MAX);
    if (n == 0 || s[n - 1].checkpoint != start || begin - s[n - 1].ms > SAMPLE_EVERY_MS) {
        /* The first batch, someone else moved it, or it was idle: where this batch
         * started, so that idle time does not pass for slow progress. */
        s[n].ms = begin;
        s[n].checkpoint = start;
        n++;
    } else if (n >= 2 && s[n - 1].ms - s[n - 2].ms < SAMPLE_EVERY_MS) {
        n--; /* the previous end is too close to the one before: replace it */
    }
    s[n].ms = now;
    s[n].checkpoint = checkpoint;
    n++;
    size_t from = 0;
    while (from + 1 < n && (now - s[from + 1].ms > 2 * RATE_WINDOW_MS || n - from > SAMPLES_MAX))
        from++;
    strbuf sb;
    sb_init(&sb);
    sb_addc(&sb, '[');
    for (size_t i = from; i < n; i++)
        sb_addf(&sb, "%s[%lld,%lld]", i > from ? "," : "", (long long)s[i].ms,
                (long long)s[i].checkpoint);
    sb_addc(&sb, ']');
    free(r->samples);
    r->samples = sb_steal(&sb);
}

/* Events per second over the last RATE_WINDOW_MS, from the samples and the
 * current progress: the progress at the window's start is interpolated between
 * the samples around it (a projection idle for the whole window has rate 0); a
 * projection whose samples all lie inside the window is measured from its first. */
static double samples_rate(const char *text, int64_t now, int64_t progress)
{
    struct sample s[SAMPLES_MAX];
    size_t n = samples_parse(text, s, SAMPLES_MAX);
    if (n == 0)
        return 0;
    int64_t ws = now - RATE_WINDOW_MS;
    double base_cp;
    int64_t span;
    if (s[0].ms > ws) {
        base_cp = (double)s[0].checkpoint;
        span = now - s[0].ms;
    } else {
        size_t i = 0;
        while (i + 1 < n && s[i + 1].ms <= ws)
            i++;
        base_cp = (double)s[i].checkpoint;
        if (i + 1 < n && s[i + 1].ms > s[i].ms)
            base_cp += (double)(s[i + 1].checkpoint - s[i].checkpoint) * (double)(ws - s[i].ms) /
                       (double)(s[i + 1].ms - s[i].ms);
        span = RATE_WINDOW_MS;
    }
    if (span < 250)
        span = 250; /* a sample a moment old says little; do not divide by almost nothing */
    if ((double)progress <= base_cp)
        return 0;
    return ((double)progress - base_cp) * 1000.0 / (double)span;
}

/* ---- lag ---- */

int proj_lag_measure(struct store *s, const struct proj_backend *be,
                     const struct projection_spec *p, int64_t head, int64_t now,
                     struct proj_lag *out, err *e)
{
    memset(out, 0, sizeof *out);
    out->name = xstrdup(p->name);
    struct proj_record rec;
    int rc = be->record_get(s, p->name, &rec, e);
    if (rc != ST_OK)
        return rc;
    bool rebuilding = rec.rebuild_checkpoint >= 0;
    int64_t progress = rebuilding ? rec.rebuild_checkpoint : rec.checkpoint;
    out->checkpoint = rec.checkpoint;
    out->rebuild_checkpoint = rebuilding ? rec.rebuild_checkpoint : 0;
    out->head = head;
    out->stale = strcmp(rec.rules_hash, p->rules_hash) != 0;
    out->throttle = rec.throttle;
    out->events_behind = head > progress ? head - progress : 0;
    if (rec.error) {
        out->status = PROJ_FAILED;
        out->error = xstrdup(rec.error);
        out->error_event = rec.error_event ? xstrdup(rec.error_event) : NULL;
        out->error_position = rec.error_position;
    } else if (rec.paused) {
        out->status = PROJ_PAUSED;
    } else if (rebuilding) {
        out->status = PROJ_REBUILDING;
    } else {
        out->status = out->events_behind > 0 ? PROJ_CATCHING_UP : PROJ_LIVE;
    }
    if ((rc = be->skips_count(s, p->name, &out->skipped, e)) != ST_OK) {
        proj_record_done(&rec);
        return rc;
    }
    out->rate = samples_rate(rec.samples, now, progress);
    out->seconds_behind = 0;
    if (out->events_behind > 0) {
        struct event_filter f;
        memset(&f, 0, sizeof f);
        struct event_list l;
        event_list_init(&l);
        rc = store_read_page(s, &f, progress, false, 1, &l, e);
        /* The age of the oldest unfolded event is from when it was appended, not
         * its own `time`: an imported log keeps times years old. Events appended
         * before the store kept append times fall back to `time`. */
        int64_t t;
        err ignored;
        if (rc == ST_OK && l.len == 1 &&
            (store_append_time(s, l.items[0].position, &t, &ignored) == ST_OK ||
             time_parse(l.items[0].time, strlen(l.items[0].time), 0, &t)))
            out->seconds_behind = t < now ? (double)(now - t) / 1000.0 : 0;
        event_list_done(&l);
    }
    if (out->events_behind == 0)
        out->eta_seconds = 0;
    else if (out->rate > 0 && out->status != PROJ_PAUSED && out->status != PROJ_FAILED &&
             !(out->stale && !rebuilding))
        out->eta_seconds = (double)out->events_behind / out->rate;
    else
        out->eta_seconds = -1;
    proj_record_done(&rec);
    return rc;
}
