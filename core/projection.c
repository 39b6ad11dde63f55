/* projection.c: folding events into read models, failure isolation, lag,
 * rebuilds, reads at a past position, and the runner thread (see projection.h).
 *
 * Storage is reached only through projection_backend.h, so nothing here assumes
 * SQLite. How one batch works, and why it cannot count an event twice:
 *
 *   begin (the store takes the write lock: BEGIN IMMEDIATE for SQLite)
 *   read the projection's record, so its checkpoint is the one committed now
 *   read up to BATCH events after the checkpoint
 *   fold them one by one (each event's changes are computed completely before any
 *     is applied, so a failing event leaves nothing half done)
 *   write the history entries, the changed rows and the new checkpoint
 *   commit
 *
 * Two processes folding the same projection queue on the write lock, and the
 * second one starts from the checkpoint the first committed. An event that makes
 * an expression fail ends the batch there: the events before it commit with the
 * projection marked failed (its position, the event as NDJSON and the error), and
 * the other projections carry on. Rows read during a fold are cached across
 * batches of one call, as long as the checkpoint is still the one this call wrote
 * (otherwise someone else moved it and the cache is dropped). */
#include "projection.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "event_format.h"
#include "json.h"
#include "projection_backend.h"

#define BATCH 500             /* events per transaction, at first */
#define BATCH_MAX 32768       /* a batch doubles up to this while it stays quick */
#define BATCH_QUICK_MS 100    /* "quick": the write lock is held no longer than this */
#define CACHE_MAX_KEYS 200000 /* rows kept in memory between batches, at most */
#define RATE_WINDOW_MS 5000   /* the rate is measured over this many milliseconds */
#define SAMPLE_EVERY_MS 200   /* progress samples closer than this replace each other */
#define SAMPLES_MAX 40
#define RUNNER_POLL_MS 100 /* how often the runner looks for new events */
#define RUNNER_SLICE 5000  /* events per projection per round, so stop stays prompt */

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

/* ---- names and setup ---- */

static int unknown_projection(const struct domain *d, const char *name, err *e)
{
    const char **names = xcalloc(d->nprojections + 1, sizeof *names);
    for (size_t i = 0; i < d->nprojections; i++)
        names[i] = d->projections[i].name;
    const char *near = did_you_mean(name, names, d->nprojections);
    if (near)
        err_set(e, ST_NOT_FOUND, "no projection '%s' in domain %s (did you mean '%s'?)", name,
                d->name ? d->name : "", near);
    else if (d->nprojections == 0)
        err_set(e, ST_NOT_FOUND, "no projection '%s': domain %s has no projections", name,
                d->name ? d->name : "");
    else {
        strbuf sb;
        sb_init(&sb);
        for (size_t i = 0; i < d->nprojections; i++)
            sb_addf(&sb, "%s%s", i ? ", " : "", names[i]);
        err_set(e, ST_NOT_FOUND, "no projection '%s' in domain %s (it has %s)", name,
                d->name ? d->name : "", sb.buf);
        sb_done(&sb);
    }
    free(names);
    return ST_NOT_FOUND;
}

const struct projection_spec *projection_find(const struct domain *d, const char *name, err *e)
{
    const struct projection_spec *p = domain_projection(d, name);
    if (!p)
        unknown_projection(d, name, e);
    return p;
}

/* Table names are proj_NAME, proj_NAME_history (with its index
 * proj_NAME_history_by_key), proj_NAME_keys, proj_NAME_counts and the same with
 * __rebuild: two projections whose names make the same table would share it. */
static int check_names(const struct domain *d, err *e)
{
    static const char *const suffixes[] = {"_history", "_keys", "_counts", "_history_by_key",
                                           "__rebuild", "__rebuild_history", "__rebuild_keys",
                                           "__rebuild_counts"};
    for (size_t i = 0; i < d->nprojections; i++) {
        const struct projection_spec *p = &d->projections[i];
        for (size_t c = 0; c < p->ncolumns; c++)
            if (strcmp(p->columns[c], "key") == 0)
                return err_set(e, ST_ERR,
                               "projection %s: a column may not be named 'key' (the row's key "
                               "has that name in the table)",
                               p->name);
        for (size_t j = 0; j < d->nprojections; j++) {
            if (i == j)
                continue;
            size_t n = strlen(p->name);
            const char *other = d->projections[j].name;
            if (strncmp(other, p->name, n) != 0)
                continue;
            for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++)
                if (strcmp(other + n, suffixes[k]) == 0)
                    return err_set(
                        e, ST_ERR,
                        "projections %s and %s would share the table proj_%s: rename one", p->name,
                        other, other);
        }
    }
    return ST_OK;
}

/* Creates p's tables and record unless its record exists (then they do too). */
static int ensure_one(struct store *s, const struct proj_backend *be,
                      const struct projection_spec *p, err *e)
{
    struct proj_record rec;
    int rc = be->record_get(s, p->name, &rec, e);
    proj_record_done(&rec);
    if (rc == ST_NOT_FOUND)
        rc = be->ensure(s, p, e);
    return rc;
}

int projection_setup(struct store *s, const struct domain *d, err *e)
{
    const struct proj_backend *be = proj_backend_for(s, e);
    if (!be)
        return ST_ERR;
    int rc = check_names(d, e);
    for (size_t i = 0; rc == ST_OK && i < d->nprojections; i++)
        rc = ensure_one(s, be, &d->projections[i], e);
    return rc;
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
static void samples_add(struct proj_record *r, int64_t begin, int64_t start, int64_t now,
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

/* ---- folding ---- */

/* One projection being folded by one call. */
struct fold {
    const struct proj_backend *be;
    const struct domain *d;
    const struct projection_spec *p;
    bool rebuild; /* into the rebuild tables */
    struct proj_writer *w;
    value cache;      /* key -> row, or null when the key has no row */
    int64_t cache_at; /* the checkpoint the cache reflects; -1 = none */
    value dirty;      /* keys changed in this batch -> true */
    struct event_list page;
    strbuf key;
};

static void fold_init(struct fold *f, const struct proj_backend *be, const struct domain *d,
                      const struct projection_spec *p, bool rebuild)
{
    memset(f, 0, sizeof *f);
    f->be = be;
    f->d = d;
    f->p = p;
    f->rebuild = rebuild;
    f->cache = value_map(64);
    f->cache_at = -1;
    f->dirty = value_map(64);
    event_list_init(&f->page);
    sb_init(&f->key);
}

static void fold_done(struct fold *f)
{
    if (f->w)
        f->be->writer_close(f->w);
    value_free(f->cache);
    value_free(f->dirty);
    event_list_done(&f->page);
    sb_done(&f->key);
}

static void cache_reset(struct fold *f)
{
    value_free(f->cache);
    f->cache = value_map(64);
    f->cache_at = -1;
}

static value defaults_row(const struct projection_spec *p)
{
    value row = value_map(p->ncolumns);
    for (size_t i = 0; i < p->ncolumns; i++)
        value_map_set(&row, p->columns[i], value_ref(&p->defaults[i]));
    return row;
}

static const struct handler_spec *handler_for(const struct projection_spec *p, const char *type)
{
    for (size_t i = 0; i < p->nhandlers; i++)
        if (strcmp(p->handlers[i].event_type, type) == 0)
            return &p->handlers[i];
    return NULL;
}

/* The outcome of folding one event. */
enum fold_result { FOLD_OK, FOLD_FAILED /* the event's fault */, FOLD_ERROR /* storage */ };

/* Says where in the domain a failing expression is: FILE:LINE:COL: PATH: msg. */
static void failure_where(const struct fold *f, struct srcpos pos, const char *path, err *e)
{
    char where[512];
    if (pos.line > 0)
        snprintf(where, sizeof where, "%s:%d:%d: projections.%s.%s",
                 f->d->file ? f->d->file : "domain", pos.line, pos.col, f->p->name, path);
    else
        snprintf(where, sizeof where, "projections.%s.%s", f->p->name, path);
    err_prefix(e, "%s", where);
}

static bool key_text(const value *v, strbuf *out)
{
    sb_reset(out);
    switch (v->type) {
    case V_STRING:
        sb_add(out, value_str(v), value_strlen(v));
        return true;
    case V_INT:
        sb_addf(out, "%lld", (long long)v->u.i);
        return true;
    case V_BOOL:
        sb_adds(out, v->u.b ? "true" : "false");
        return true;
    case V_DOUBLE:
        json_write_double(out, v->u.d);
        return true;
    default:
        return false;
    }
}

/* Is a the same value as b? The same heap part counts as the same without a look
 * inside: a column no `set` touched still shares its part with the row before,
 * and comparing a long list item by item on every event would make a growing
 * list cost quadratic time. */
static bool same_value(const value *a, const value *b)
{
    if (a->type != b->type)
        return false;
    if ((a->type == V_LIST && a->u.l == b->u.l) || (a->type == V_MAP && a->u.m == b->u.m) ||
        (a->type == V_STRING && a->u.s == b->u.s))
        return true;
    return value_equal(a, b);
}

/* Do two rows (maps of columns) hold the same values? */
static bool rows_same(const value *a, const value *b)
{
    if (a->type != V_MAP || b->type != V_MAP || value_map_len(a) != value_map_len(b))
        return a->type == b->type && value_equal(a, b);
    for (size_t i = 0; i < value_map_len(a); i++) {
        const value *k = value_map_key_at(a, i);
        const value *other = value_map_getn(b, value_str(k), value_strlen(k));
        if (!other || !same_value(value_map_val_at(a, i), other))
            return false;
    }
    return true;
}

/* Folds one event into the rows. */
static enum fold_result fold_event(struct fold *f, const struct event *ev, err *e)
{
    const struct projection_spec *p = f->p;
    const struct handler_spec *h = handler_for(p, ev->type);
    if (!h)
        return FOLD_OK;
    struct decoded_event de;
    if (event_decode(f->d, ev, true, &de, e) != ST_OK) {
        err_prefix(e, "projections.%s.on.%s", p->name, ev->type);
        return FOLD_FAILED;
    }
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_EVENT] = de.data;
    vars.roots[ROOT_META] = de.meta;
    enum fold_result res = FOLD_OK;
    value row = value_null(), next = value_null();
    bool found = false;
    char path[300];

    /* Which row. */
    if (p->key) {
        value k;
        if (expr_eval(p->key, &vars, &k, e) != ST_OK) {
            failure_where(f, p->pos, "key", e);
            res = FOLD_FAILED;
            goto out;
        }
        bool ok = key_text(&k, &f->key);
        if (!ok)
            err_set(e, ST_ERR, "projections.%s.key: `%s` gave %s%s, not a string or a number",
                    p->name, expr_source(p->key), k.type == V_NULL ? "" : "a ", vtype_name(k.type));
        value_free(k);
        if (!ok) {
            res = FOLD_FAILED;
            goto out;
        }
    } else {
        sb_reset(&f->key);
    }
    const char *key = f->key.buf ? f->key.buf : "";

    /* The row before this event: the cache, else storage, else the defaults. */
    const value *cached = value_map_getn(&f->cache, key, f->key.len);
    if (cached) {
        found = cached->type != V_NULL;
        row = value_ref(cached);
    } else if (f->be->row_get(f->w, key, &row, &found, e) != ST_OK) {
        res = FOLD_ERROR;
        goto out;
    }
    if (!found) {
        value_free(row);
        row = defaults_row(p);
    }
    vars.roots[ROOT_ROW] = row;

    if (h->when) {
        bool yes;
        if (expr_eval_bool(h->when, &vars, &yes, e) != ST_OK) {
            snprintf(path, sizeof path, "on.%s.when", h->event_type);
            failure_where(f, h->pos, path, e);
            res = FOLD_FAILED;
            goto out;
        }
        if (!yes)
            goto out;
    }
    bool deleted = h->delete_row && p->key;
    if (h->delete_row && !p->key) {
        next = defaults_row(p); /* the single row is always there: back to its defaults */
    } else if (!deleted) {
        next = value_ref(&row);
        for (size_t i = 0; i < h->nset; i++) {
            value v;
            if (expr_eval(h->set[i].value, &vars, &v, e) != ST_OK) {
                snprintf(path, sizeof path, "on.%s.set.%s", h->event_type, h->set[i].name);
                failure_where(f, h->set[i].pos, path, e);
                res = FOLD_FAILED;
                goto out;
            }
            value_map_set(&next, h->set[i].name, v);
        }
    }
    /* Nothing changed: no history entry, no write. */
    if (deleted ? !found : (found && rows_same(&next, &row)))
        goto out;
    if (f->be->history_put(f->w, key, ev->position, found ? &row : NULL, deleted ? NULL : &next,
                           !found, e) != ST_OK) {
        res = FOLD_ERROR;
        goto out;
    }
    value_map_setn(&f->cache, key, f->key.len, deleted ? value_null() : value_ref(&next));
    value_map_setn(&f->dirty, key, f->key.len, value_bool(true));
out:
    if (res == FOLD_FAILED && e->code == ST_OK)
        e->code = ST_ERR;
    value_free(row);
    value_free(next);
    decoded_event_done(&de);
    return res;
}

/* Writes the rows changed in this batch to the typed table. */
static int flush_dirty(struct fold *f, err *e)
{
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < value_map_len(&f->dirty); i++) {
        const value *k = value_map_key_at(&f->dirty, i);
        const value *row = value_map_getn(&f->cache, value_str(k), value_strlen(k));
        rc = f->be->row_store(f->w, value_str(k), row && row->type != V_NULL ? row : NULL, e);
    }
    value_free(f->dirty);
    f->dirty = value_map(64);
    return rc;
}

static void record_fail(struct proj_record *rec, const struct event *ev, const err *why)
{
    free(rec->error);
    free(rec->error_event);
    rec->error = xstrdup(why->msg);
    rec->error_position = ev->position;
    strbuf sb;
    sb_init(&sb);
    event_write_ndjson(&sb, ev, NULL, 0);
    while (sb.len && sb.buf[sb.len - 1] == '\n')
        sb.buf[--sb.len] = '\0';
    rec->error_event = sb_steal(&sb);
    snprintf(rec->status, sizeof rec->status, "failed");
}

static void record_clear_error(struct proj_record *rec)
{
    free(rec->error);
    free(rec->error_event);
    rec->error = rec->error_event = NULL;
    rec->error_position = 0;
}

/* What one batch found. */
struct batch_out {
    size_t folded; /* events folded (and committed) */
    bool stop;     /* nothing more to do now: at the head, failed, swapped, or not ours */
    bool failed;   /* an event failed */
};

/* Folds one batch of at most `limit` events with position <= to (0 = the head), in
 * one transaction. honour: stop when paused. */
static int fold_batch(struct store *s, struct fold *f, size_t limit, int64_t to, bool honour,
                      struct batch_out *out, err *e)
{
    memset(out, 0, sizeof *out);
    const struct proj_backend *be = f->be;
    const struct projection_spec *p = f->p;
    int64_t begin_ms = time_now_ms();
    int rc = store_begin(s, e);
    if (rc != ST_OK)
        return rc;
    struct proj_record rec;
    rc = be->record_get(s, p->name, &rec, e);
    if (rc == ST_NOT_FOUND)
        rc = err_set(e, ST_ERR, "projection %s: its record vanished from the store", p->name);
    if (rc != ST_OK)
        goto fail;
    /* Someone (another process, a person) may have changed things since this call
     * looked: re-check under the write lock. */
    bool rebuilding = rec.rebuild_checkpoint >= 0;
    if (rec.error || (honour && rec.paused) || rebuilding != f->rebuild ||
        (!f->rebuild && strcmp(rec.rules_hash, p->rules_hash) != 0) ||
        (f->rebuild && strcmp(rec.rebuild_hash, p->rules_hash) != 0)) {
        out->stop = true;
        store_rollback(s);
        proj_record_done(&rec);
        return ST_OK;
    }
    int64_t start = f->rebuild ? rec.rebuild_checkpoint : rec.checkpoint;
    if (to > 0 && start >= to) {
        out->stop = true;
        store_rollback(s);
        proj_record_done(&rec);
        return ST_OK;
    }
    if (start != f->cache_at || value_map_len(&f->cache) > CACHE_MAX_KEYS)
        cache_reset(f);

    struct event_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.to = to;
    event_list_clear(&f->page);
    if ((rc = store_read_page(s, &filter, start, false, limit, &f->page, e)) != ST_OK)
        goto fail;
    int64_t last = start;
    err why;
    err_clear(&why);
    const struct event *bad = NULL;
    for (size_t i = 0; i < f->page.len; i++) {
        const struct event *ev = &f->page.items[i];
        enum fold_result fr = fold_event(f, ev, &why);
        if (fr == FOLD_ERROR) {
            *e = why;
            rc = ST_ERR;
            goto fail;
        }
        if (fr == FOLD_FAILED) {
            bad = ev;
            break;
        }
        last = ev->position;
        out->folded++;
    }
    if ((rc = flush_dirty(f, e)) != ST_OK)
        goto fail;

    int64_t now = time_now_ms();
    rec.updated_ms = now;
    samples_add(&rec, begin_ms, start, now, last);
    bool at_end = !bad && f->page.len < limit; /* the head (or `to`), under the write lock */
    if (f->rebuild) {
        rec.rebuild_checkpoint = last;
    } else {
        rec.checkpoint = last;
        snprintf(rec.status, sizeof rec.status, "%s", at_end && to == 0 ? "live" : "catching up");
    }
    if (bad) {
        record_fail(&rec, bad, &why);
        out->failed = true;
        out->stop = true;
        if (f->rebuild) {
            /* The old read model stays; the half-built one goes. */
            if ((rc = be->rebuild_drop(s, p, e)) != ST_OK)
                goto fail;
            rec.rebuild_checkpoint = -1;
            rec.rebuild_hash[0] = '\0';
        }
    } else if (f->rebuild && at_end && to == 0) {
        /* Caught up: swap the new tables in, in this same transaction. */
        if ((rc = be->rebuild_swap(s, p, e)) != ST_OK)
            goto fail;
        rec.checkpoint = last;
        snprintf(rec.rules_hash, sizeof rec.rules_hash, "%s", p->rules_hash);
        rec.rebuild_checkpoint = -1;
        rec.rebuild_hash[0] = '\0';
        snprintf(rec.status, sizeof rec.status, "live");
        out->stop = true;
    } else if (at_end) {
        out->stop = true;
    }
    if ((rc = be->record_put(s, p->name, &rec, e)) != ST_OK)
        goto fail;
    if ((rc = store_commit(s, e)) != ST_OK) {
        cache_reset(f);
        proj_record_done(&rec);
        return rc;
    }
    f->cache_at = out->stop && (bad || f->rebuild) ? -1 : last;
    proj_record_done(&rec);
    return ST_OK;
fail:
    store_rollback(s);
    cache_reset(f);
    proj_record_done(&rec);
    err_prefix(e, "projection %s", p->name);
    return rc ? rc : ST_ERR;
}

/* How many events a throttled projection may fold now: a token bucket of one
 * second's worth, refilled since its last progress was written (so every process
 * obeys the same throttle). */
static int64_t throttle_budget(const struct proj_record *rec, int64_t now)
{
    if (rec->throttle <= 0)
        return -1; /* unlimited */
    if (rec->updated_ms <= 0)
        return rec->throttle;
    double elapsed = (double)(now - rec->updated_ms) / 1000.0;
    if (elapsed < 0)
        elapsed = 0;
    double b = elapsed * (double)rec->throttle;
    if (b > (double)rec->throttle)
        b = (double)rec->throttle;
    return (int64_t)b;
}

/* Starts a rebuild of p (tables reset, record marked), in its own transaction. */
static int rebuild_begin(struct store *s, const struct proj_backend *be,
                         const struct projection_spec *p, err *e)
{
    int rc = store_begin(s, e);
    if (rc != ST_OK)
        return rc;
    struct proj_record rec;
    if ((rc = be->record_get(s, p->name, &rec, e)) == ST_OK &&
        (rc = be->rebuild_reset(s, p, e)) == ST_OK) {
        record_clear_error(&rec);
        rec.rebuild_checkpoint = 0;
        snprintf(rec.rebuild_hash, sizeof rec.rebuild_hash, "%s", p->rules_hash);
        snprintf(rec.status, sizeof rec.status, "rebuilding");
        free(rec.samples);
        rec.samples = NULL;
        rec.updated_ms = time_now_ms();
        rc = be->record_put(s, p->name, &rec, e);
    }
    proj_record_done(&rec);
    if (rc == ST_OK)
        return store_commit(s, e);
    store_rollback(s);
    return rc;
}

/* Brings one projection forward by at most max_events (0 = no limit) up to
 * position `to` (0 = the head). */
static int catch_up_one(struct store *s, const struct domain *d, const struct proj_backend *be,
                        const struct projection_spec *p, int64_t to, int64_t max_events,
                        bool ignore_controls, int64_t *processed, err *e)
{
    int rc = ensure_one(s, be, p, e);
    if (rc != ST_OK)
        return rc;
    struct proj_record rec;
    if ((rc = be->record_get(s, p->name, &rec, e)) != ST_OK)
        return rc;
    bool rebuild = rec.rebuild_checkpoint >= 0;
    int64_t budget = max_events > 0 ? max_events : -1;
    bool skip = rec.error != NULL || (!ignore_controls && rec.paused);
    if (!skip && rebuild && strcmp(rec.rebuild_hash, p->rules_hash) != 0) {
        /* The definition changed while rebuilding: start over with the new one. */
        proj_record_done(&rec);
        if ((rc = rebuild_begin(s, be, p, e)) != ST_OK)
            return rc;
        return catch_up_one(s, d, be, p, to, max_events, ignore_controls, processed, e);
    }
    /* A stale table was built by other rules: folding on with these would mix two
     * definitions in one read model. It waits for a rebuild. */
    if (!skip && !rebuild && strcmp(rec.rules_hash, p->rules_hash) != 0)
        skip = true;
    if (!skip && !ignore_controls) {
        int64_t tb = throttle_budget(&rec, time_now_ms());
        if (tb == 0)
            skip = true;
        else if (tb > 0 && (budget < 0 || tb < budget))
            budget = tb;
    }
    int64_t progress = rebuild ? rec.rebuild_checkpoint : rec.checkpoint;
    proj_record_done(&rec);
    if (skip)
        return ST_OK;
    if (rebuild)
        to = 0; /* a rebuild goes to the head, where it swaps */
    /* Nothing new: do not take the write lock just to find that out (a runner
     * asks ten times a second). A rebuild at the head still needs its swap. */
    int64_t head = 0;
    if ((rc = store_head(s, &head, e)) != ST_OK)
        return rc;
    if (!rebuild && progress >= (to > 0 && to < head ? to : head))
        return ST_OK;

    struct fold f;
    fold_init(&f, be, d, p, rebuild);
    rc = be->writer_open(s, p, rebuild, &f.w, e);
    int saved;
    be->batches_begin(s, &saved);
    /* Each commit costs a sync of the log, so a long catch-up grows its batches
     * while each stays short enough not to keep writers waiting. */
    size_t batch = BATCH;
    while (rc == ST_OK && budget != 0) {
        size_t limit = batch;
        if (budget > 0 && budget < (int64_t)limit)
            limit = (size_t)budget;
        struct batch_out out;
        int64_t t0 = time_now_ms();
        rc = fold_batch(s, &f, limit, to, !ignore_controls, &out, e);
        if (rc != ST_OK)
            break;
        if (processed)
            *processed += (int64_t)out.folded;
        if (budget > 0)
            budget -= (int64_t)out.folded;
        if (out.stop)
            break;
        int64_t took = time_now_ms() - t0;
        if (took < BATCH_QUICK_MS / 2 && batch < BATCH_MAX)
            batch *= 2;
        else if (took > BATCH_QUICK_MS && batch > BATCH)
            batch /= 2;
    }
    be->batches_end(s, saved);
    fold_done(&f);
    return rc;
}

int projection_catch_up_to(struct store *s, const struct domain *d, const char *name,
                           int64_t to_position, int64_t max_events, bool ignore_controls,
                           int64_t *processed, err *e)
{
    if (processed)
        *processed = 0;
    const struct proj_backend *be = proj_backend_for(s, e);
    if (!be)
        return ST_ERR;
    int rc = check_names(d, e);
    if (rc != ST_OK)
        return rc;
    if (name) {
        const struct projection_spec *p = projection_find(d, name, e);
        if (!p)
            return ST_NOT_FOUND;
        return catch_up_one(s, d, be, p, to_position, max_events, ignore_controls, processed, e);
    }
    int64_t total = 0;
    for (size_t i = 0; i < d->nprojections; i++) {
        int64_t n = 0, left = max_events > 0 ? max_events - total : 0;
        if (max_events > 0 && left <= 0)
            break;
        rc = catch_up_one(s, d, be, &d->projections[i], to_position, left, ignore_controls, &n, e);
        total += n;
        if (rc != ST_OK)
            break;
    }
    if (processed)
        *processed = total;
    return rc;
}

int projection_catch_up(struct store *s, const struct domain *d, const char *name,
                        int64_t max_events, bool ignore_controls, int64_t *processed, err *e)
{
    return projection_catch_up_to(s, d, name, 0, max_events, ignore_controls, processed, e);
}

int projection_rebuild_start(struct store *s, const struct domain *d, const char *name, err *e)
{
    const struct proj_backend *be = proj_backend_for(s, e);
    if (!be)
        return ST_ERR;
    const struct projection_spec *p = projection_find(d, name, e);
    if (!p)
        return ST_NOT_FOUND;
    int rc = check_names(d, e);
    if (rc == ST_OK)
        rc = ensure_one(s, be, p, e);
    if (rc == ST_OK)
        rc = rebuild_begin(s, be, p, e);
    return rc;
}

int projection_rebuild(struct store *s, const struct domain *d, const char *name, err *e)
{
    int rc = projection_rebuild_start(s, d, name, e);
    if (rc != ST_OK)
        return rc;
    rc = projection_catch_up(s, d, name, 0, true, NULL, e);
    if (rc != ST_OK)
        return rc;
    const struct proj_backend *be = proj_backend_for(s, e);
    struct proj_record rec;
    if ((rc = be->record_get(s, name, &rec, e)) != ST_OK)
        return rc;
    if (rec.error)
        rc = err_set(e, ST_ERR,
                     "projection %s: the rebuild stopped at position %lld, so the old read model "
                     "stays: %s",
                     name, (long long)rec.error_position, rec.error);
    else if (rec.rebuild_checkpoint >= 0)
        rc = err_set(e, ST_ERR, "projection %s: the rebuild did not finish (at position %lld)",
                     name, (long long)rec.rebuild_checkpoint);
    proj_record_done(&rec);
    return rc;
}

/* ---- lag ---- */

static int lag_of(struct store *s, const struct proj_backend *be, const struct projection_spec *p,
                  int64_t head, int64_t now, struct proj_lag *out, err *e)
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
    out->rate = samples_rate(rec.samples, now, progress);
    out->seconds_behind = 0;
    if (out->events_behind > 0) {
        struct event_filter f;
        memset(&f, 0, sizeof f);
        struct event_list l;
        event_list_init(&l);
        rc = store_read_page(s, &f, progress, false, 1, &l, e);
        int64_t t;
        if (rc == ST_OK && l.len == 1 &&
            time_parse(l.items[0].time, strlen(l.items[0].time), 0, &t))
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

int projection_status(struct store *s, const struct domain *d, struct proj_lag **out, size_t *n,
                      err *e)
{
    *out = NULL;
    *n = 0;
    int rc = projection_setup(s, d, e);
    if (rc != ST_OK)
        return rc;
    const struct proj_backend *be = proj_backend_for(s, e);
    bool began;
    if ((rc = be->read_begin(s, &began, e)) != ST_OK)
        return rc;
    int64_t head = 0;
    rc = store_head(s, &head, e);
    int64_t now = time_now_ms();
    struct proj_lag *lags = xcalloc(d->nprojections + 1, sizeof *lags);
    size_t i = 0;
    for (; rc == ST_OK && i < d->nprojections; i++)
        rc = lag_of(s, be, &d->projections[i], head, now, &lags[i], e);
    be->read_end(s, began);
    if (rc != ST_OK) {
        proj_lag_free(lags, i);
        return rc;
    }
    *out = lags;
    *n = d->nprojections;
    return ST_OK;
}

/* ---- controls ---- */

int projection_pause(struct store *s, const struct domain *d, const char *name, bool paused, err *e)
{
    const struct projection_spec *p = projection_find(d, name, e);
    if (!p)
        return ST_NOT_FOUND;
    int rc = projection_setup(s, d, e);
    if (rc != ST_OK)
        return rc;
    const struct proj_backend *be = proj_backend_for(s, e);
    if ((rc = store_begin(s, e)) != ST_OK)
        return rc;
    struct proj_record rec;
    rc = be->record_get(s, name, &rec, e);
    if (rc == ST_OK && !paused && rec.error) {
        /* Resuming a failed projection retries it from its checkpoint (after the
         * domain or an upcaster was fixed). */
        record_clear_error(&rec);
        snprintf(rec.status, sizeof rec.status, "catching up");
        rc = be->record_put(s, name, &rec, e);
    } else if (rc == ST_OK && !rec.error) {
        snprintf(rec.status, sizeof rec.status, "%s", paused ? "paused" : "catching up");
        rc = be->record_put(s, name, &rec, e);
    }
    proj_record_done(&rec);
    if (rc == ST_OK)
        rc = be->set_paused(s, name, paused, e);
    if (rc == ST_OK)
        return store_commit(s, e);
    store_rollback(s);
    return rc;
}

int projection_throttle(struct store *s, const struct domain *d, const char *name,
                        int64_t events_per_second, err *e)
{
    const struct projection_spec *p = projection_find(d, name, e);
    if (!p)
        return ST_NOT_FOUND;
    if (events_per_second < 0)
        return err_set(e, ST_USAGE, "throttle for %s: %lld is not a number of events per second",
                       name, (long long)events_per_second);
    int rc = projection_setup(s, d, e);
    if (rc != ST_OK)
        return rc;
    return proj_backend_for(s, e)->set_throttle(s, name, events_per_second, e);
}

/* ---- reading ---- */

static int query_rows(struct store *s, const struct domain *d, const char *name, const char *key,
                      int64_t at_position, size_t offset, size_t limit, value *rows, int64_t *count,
                      err *e)
{
    const struct projection_spec *p = projection_find(d, name, e);
    if (!p)
        return ST_NOT_FOUND;
    if (at_position < 0)
        return err_set(e, ST_USAGE, "position %lld: positions start at 1", (long long)at_position);
    const struct proj_backend *be = proj_backend_for(s, e);
    if (!be)
        return ST_ERR;
    int rc = ensure_one(s, be, p, e);
    if (rc != ST_OK)
        return rc;
    bool began;
    if ((rc = be->read_begin(s, &began, e)) != ST_OK)
        return rc;
    struct proj_record rec;
    if ((rc = be->record_get(s, name, &rec, e)) == ST_OK) {
        int64_t at = at_position ? at_position : rec.checkpoint;
        if (at > rec.checkpoint) {
            int64_t head = 0;
            store_head(s, &head, NULL);
            if (at > head)
                rc = err_set(e, ST_ERR, "position %lld is beyond the store's head (%lld)",
                             (long long)at, (long long)head);
            else
                rc = err_set(e, ST_ERR,
                             "projection %s has folded events up to position %lld only (%s), "
                             "so it cannot say what it was at %lld",
                             name, (long long)rec.checkpoint,
                             rec.error                               ? "failed"
                             : rec.paused                            ? "paused"
                             : strcmp(rec.rules_hash, p->rules_hash) ? "stale: rebuild it"
                                                                     : "behind",
                             (long long)at);
        } else {
            rc = be->rows_at(s, p, key, at, offset, limit, rows, count, e);
        }
    }
    proj_record_done(&rec);
    be->read_end(s, began);
    return rc;
}

int projection_query(struct store *s, const struct domain *d, const char *name, const char *key,
                     int64_t at_position, size_t offset, size_t limit, value *rows, err *e)
{
    *rows = value_list(16);
    int rc = query_rows(s, d, name, key, at_position, offset, limit, rows, NULL, e);
    if (rc != ST_OK) {
        value_free(*rows);
        *rows = value_list(0);
    }
    return rc;
}

int projection_count(struct store *s, const struct domain *d, const char *name, int64_t at_position,
                     int64_t *count, err *e)
{
    value rows = value_list(0);
    *count = 0;
    int rc = query_rows(s, d, name, NULL, at_position, SIZE_MAX, 0, &rows, count, e);
    value_free(rows);
    return rc;
}

/* ---- the runner ---- */

struct proj_runner {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct store *s; /* the runner's own connection */
    const struct domain *d;
    bool stop;
    bool poked;
    uint64_t poke_gen; /* bumped by every poke */
    bool settled;
    bool has_error;
    err last_error;
};

/* Is every projection that can move at the head? Throttled ones count as settled:
 * they are slow on purpose, and waiting for them would stall a script. */
static bool all_settled(struct store *s, const struct domain *d, err *e)
{
    struct proj_lag *lags;
    size_t n;
    if (projection_status(s, d, &lags, &n, e) != ST_OK)
        return false;
    bool settled = true;
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        if (l->status == PROJ_PAUSED || l->status == PROJ_FAILED || l->throttle > 0)
            continue;
        if (l->status == PROJ_REBUILDING || (!l->stale && l->events_behind > 0))
            settled = false;
    }
    proj_lag_free(lags, n);
    return settled;
}

static void *runner_main(void *arg)
{
    struct proj_runner *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        uint64_t gen = r->poke_gen;
        r->poked = false;
        pthread_mutex_unlock(&r->lock);

        err e;
        err_clear(&e);
        int64_t done = 0;
        int rc = ST_OK;
        for (size_t i = 0; rc == ST_OK && i < r->d->nprojections; i++) {
            int64_t n = 0;
            rc = projection_catch_up(r->s, r->d, r->d->projections[i].name, RUNNER_SLICE, false, &n,
                                     &e);
            done += n;
        }
        bool settled = rc == ST_OK && all_settled(r->s, r->d, &e);

        pthread_mutex_lock(&r->lock);
        r->has_error = rc != ST_OK || e.code != ST_OK;
        if (r->has_error)
            r->last_error = e;
        if (r->poke_gen == gen)
            r->settled = settled && !r->has_error;
        if (r->stop)
            break;
        if (done > 0 && !r->has_error)
            continue; /* more may be waiting: go on at once */
        if (!r->poked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long wait_ms = r->has_error ? 1000 : RUNNER_POLL_MS;
            ts.tv_nsec += wait_ms * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&r->wake, &r->lock, &ts);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

struct proj_runner *projection_runner_start(const char *db_path, const struct domain *d, err *e)
{
    if (!db_path || strcmp(db_path, ":memory:") == 0) {
        err_set(e, ST_ERR,
                "the projection runner needs a store file: an in-memory store is private "
                "to its connection");
        return NULL;
    }
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    struct store *s = store_open(db_path, &opt, e);
    if (!s)
        return NULL;
    if (projection_setup(s, d, e) != ST_OK) {
        store_close(s);
        return NULL;
    }
    struct proj_runner *r = xcalloc(1, sizeof *r);
    r->s = s;
    r->d = d;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    int prc = pthread_create(&r->thread, NULL, runner_main, r);
    if (prc != 0) {
        err_set(e, ST_ERR, "starting the projection runner: %s", strerror(prc));
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->wake);
        store_close(s);
        free(r);
        return NULL;
    }
    return r;
}

bool projection_runner_settled(struct proj_runner *r)
{
    pthread_mutex_lock(&r->lock);
    bool s = r->settled;
    pthread_mutex_unlock(&r->lock);
    return s;
}

bool projection_runner_wait_settled(struct proj_runner *r, int timeout_ms)
{
    int64_t until = time_now_ms() + timeout_ms;
    while (!projection_runner_settled(r)) {
        if (time_now_ms() >= until)
            return false;
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return true;
}

bool projection_runner_error(struct proj_runner *r, err *e)
{
    pthread_mutex_lock(&r->lock);
    bool has = r->has_error;
    if (has && e)
        *e = r->last_error;
    pthread_mutex_unlock(&r->lock);
    return has;
}

void projection_runner_poke(struct proj_runner *r)
{
    pthread_mutex_lock(&r->lock);
    r->poke_gen++;
    r->poked = true;
    r->settled = false;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void projection_runner_stop(struct proj_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    store_close(r->s);
    free(r);
}
