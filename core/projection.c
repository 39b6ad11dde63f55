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
 * (otherwise someone else moved it and the cache is dropped).
 *
 * Projections due at the same checkpoint (a fresh store, `strata project`, the
 * runner following the head) share their batches: one transaction reads and
 * decodes each event once and folds it into each of them in turn, then writes
 * each one's rows, history and record. Each keeps its own checkpoint, status and
 * failure: one that fails stops at the event before (its changes up to there
 * commit with it) and the others fold on through the batch. A crash loses the
 * whole batch for all of them, so nothing is counted twice. Reading and decoding
 * an event is about 30% of folding it into one of bank's projections (writing the
 * history and rows is most of the rest), and N projections now pay it once.
 * Rebuilding and throttled projections, and those at other checkpoints, go alone
 * (a batch of one), as before. */
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
    strbuf key;
    int64_t budget;    /* events it may still fold in this call; -1 = no limit */
    int64_t processed; /* events folded in this call */
    bool active;       /* still going in this call */
    bool moved;        /* left its group: another process moved its checkpoint */
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
    sb_init(&f->key);
    f->budget = -1;
    f->active = true;
}

static void fold_done(struct fold *f)
{
    if (f->w)
        f->be->writer_close(f->w);
    value_free(f->cache);
    value_free(f->dirty);
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
    /* An expression's own error already names its exact place in the file. */
    const char *file = f->d->file ? f->d->file : "domain";
    size_t fl = strlen(file);
    if (strncmp(e->msg, file, fl) == 0 && e->msg[fl] == ':')
        pos.line = 0;
    if (pos.line > 0)
        snprintf(where, sizeof where, "%s:%d:%d: projections.%s.%s", file, pos.line, pos.col,
                 f->p->name, path);
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

/* Do two rows (maps of columns) hold the same values? */
static bool rows_same(const value *a, const value *b)
{
    if (a->type != V_MAP || b->type != V_MAP || value_map_len(a) != value_map_len(b))
        return a->type == b->type && value_equal(a, b);
    for (size_t i = 0; i < value_map_len(a); i++) {
        const value *k = value_map_key_at(a, i);
        const value *other = value_map_getn(b, value_str(k), value_strlen(k));
        if (!other || !value_same(value_map_val_at(a, i), other))
            return false;
    }
    return true;
}

/* Folds one event, decoded once for every projection of its batch (de), into the
 * rows with handler h. */
static enum fold_result fold_event(struct fold *f, const struct handler_spec *h,
                                   const struct event *ev, const struct decoded_event *de, err *e)
{
    const struct projection_spec *p = f->p;
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_EVENT] = de->data;
    vars.roots[ROOT_META] = de->meta;
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

/* What one batch did to one projection. */
struct batch_out {
    size_t folded; /* events folded (and committed) */
    bool stop;     /* nothing more to do now: at the head, failed, swapped, or not ours */
    bool failed;   /* an event failed */
    bool moved;    /* someone else moved its checkpoint away from the others' (it sat out) */
};

/* One projection's part in a batch. */
struct part {
    struct fold *f;
    struct batch_out *out;
    struct proj_record rec;
    bool have_rec;
    bool in;                      /* folding this batch */
    const struct handler_spec *h; /* its handler for the event at hand */
    int64_t last;                 /* the last position folded */
    const struct event *bad;      /* the event that failed, if one did */
    err why;                      /* and why */
};

/* Writes one projection's share of a batch, inside the batch's transaction: its
 * changed rows, its new checkpoint and status, its failure, its swap. */
static int part_finish(struct store *s, struct part *pt, int64_t begin_ms, int64_t start,
                       bool page_short, int64_t to, err *e)
{
    struct fold *f = pt->f;
    const struct proj_backend *be = f->be;
    const struct projection_spec *p = f->p;
    struct proj_record *rec = &pt->rec;
    struct batch_out *out = pt->out;
    int rc;
    if ((rc = flush_dirty(f, e)) != ST_OK)
        return rc;
    int64_t now = time_now_ms();
    rec->updated_ms = now;
    samples_add(rec, begin_ms, start, now, pt->last);
    bool at_end = !pt->bad && page_short; /* the head (or `to`), under the write lock */
    if (f->rebuild) {
        rec->rebuild_checkpoint = pt->last;
    } else {
        rec->checkpoint = pt->last;
        snprintf(rec->status, sizeof rec->status, "%s", at_end && to == 0 ? "live" : "catching up");
    }
    if (pt->bad) {
        record_fail(rec, pt->bad, &pt->why);
        out->failed = true;
        out->stop = true;
        if (f->rebuild) {
            /* The old read model stays; the half-built one goes. */
            if ((rc = be->rebuild_drop(s, p, e)) != ST_OK)
                return rc;
            rec->rebuild_checkpoint = -1;
            rec->rebuild_hash[0] = '\0';
        }
    } else if (f->rebuild && at_end && to == 0) {
        /* Caught up: swap the new tables in, in this same transaction. */
        if ((rc = be->rebuild_swap(s, p, e)) != ST_OK)
            return rc;
        rec->checkpoint = pt->last;
        snprintf(rec->rules_hash, sizeof rec->rules_hash, "%s", p->rules_hash);
        rec->rebuild_checkpoint = -1;
        rec->rebuild_hash[0] = '\0';
        snprintf(rec->status, sizeof rec->status, "live");
        out->stop = true;
    } else if (at_end) {
        out->stop = true;
    }
    return be->record_put(s, p->name, rec, e);
}

/* Folds one batch of at most `limit` events with position <= to (0 = the head) into
 * the n projections of folds, in one transaction: the events are read and decoded
 * once, and each is folded into every projection in turn. The first projection
 * that may go on says where the batch starts (its checkpoint, as committed now);
 * one whose checkpoint is elsewhere (another process moved it) sits the batch out
 * (outs[i].moved). An event that fails in one projection ends the batch for that
 * one only: its changes before the event commit with it marked failed, and the
 * others fold on. A storage error rolls everything back. honour: stop when paused.
 * outs has n entries; page is scratch. */
static int fold_batch(struct store *s, struct fold **folds, size_t n, size_t limit, int64_t to,
                      bool honour, struct event_list *page, struct batch_out *outs, err *e)
{
    memset(outs, 0, n * sizeof *outs);
    const struct proj_backend *be = folds[0]->be;
    const struct domain *d = folds[0]->d;
    int64_t begin_ms = time_now_ms();
    int rc = store_begin(s, e);
    if (rc != ST_OK)
        return rc;
    struct part *parts = xcalloc(n, sizeof *parts);
    const char *who = folds[0]->p->name; /* the projection an error is about */
    int64_t start = -1;
    size_t nin = 0;
    for (size_t i = 0; i < n; i++) {
        struct part *pt = &parts[i];
        struct fold *f = folds[i];
        pt->f = f;
        pt->out = &outs[i];
        err_clear(&pt->why);
        who = f->p->name;
        rc = be->record_get(s, f->p->name, &pt->rec, e);
        pt->have_rec = rc == ST_OK;
        if (rc == ST_NOT_FOUND)
            rc =
                err_set(e, ST_ERR, "projection %s: its record vanished from the store", f->p->name);
        if (rc != ST_OK)
            goto fail;
        /* Someone (another process, a person) may have changed things since this
         * call looked: re-check under the write lock. */
        const struct proj_record *rec = &pt->rec;
        bool rebuilding = rec->rebuild_checkpoint >= 0;
        int64_t at = f->rebuild ? rec->rebuild_checkpoint : rec->checkpoint;
        if (rec->error || (honour && rec->paused) || rebuilding != f->rebuild ||
            (!f->rebuild && strcmp(rec->rules_hash, f->p->rules_hash) != 0) ||
            (f->rebuild && strcmp(rec->rebuild_hash, f->p->rules_hash) != 0) ||
            (to > 0 && at >= to)) {
            outs[i].stop = true;
            continue;
        }
        if (start < 0) {
            start = at;
        } else if (at != start) {
            outs[i].moved = outs[i].stop = true;
            continue;
        }
        pt->in = true;
        pt->last = start;
        nin++;
        if (start != f->cache_at || value_map_len(&f->cache) > CACHE_MAX_KEYS)
            cache_reset(f);
    }
    if (nin == 0) {
        store_rollback(s);
        goto done;
    }

    struct event_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.to = to;
    event_list_clear(page);
    who = n == 1 ? folds[0]->p->name : NULL; /* a shared read is no one projection's */
    if ((rc = store_read_page(s, &filter, start, false, limit, page, e)) != ST_OK)
        goto fail;
    size_t going = nin; /* projections in the batch that have not failed */
    for (size_t j = 0; j < page->len && going > 0; j++) {
        const struct event *ev = &page->items[j];
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            struct part *pt = &parts[i];
            if (pt->in && !pt->bad) {
                pt->h = handler_for(pt->f->p, ev->type);
                any = any || pt->h;
            }
        }
        struct decoded_event de;
        err derr;
        err_clear(&derr);
        bool decoded = any && event_decode(d, ev, true, &de, &derr) == ST_OK;
        for (size_t i = 0; i < n; i++) {
            struct part *pt = &parts[i];
            if (!pt->in || pt->bad)
                continue;
            if (pt->h && !decoded) {
                pt->why = derr;
                err_prefix(&pt->why, "projections.%s.on.%s", pt->f->p->name, ev->type);
                pt->bad = ev;
                going--;
                continue;
            }
            if (pt->h) {
                enum fold_result fr = fold_event(pt->f, pt->h, ev, &de, &pt->why);
                if (fr == FOLD_ERROR) {
                    *e = pt->why;
                    rc = ST_ERR;
                    who = pt->f->p->name;
                    decoded_event_done(&de);
                    goto fail;
                }
                if (fr == FOLD_FAILED) {
                    pt->bad = ev;
                    going--;
                    continue;
                }
            }
            pt->last = ev->position;
            pt->out->folded++;
        }
        if (decoded)
            decoded_event_done(&de);
    }
    bool page_short = page->len < limit;
    for (size_t i = 0; i < n; i++) {
        if (!parts[i].in)
            continue;
        who = parts[i].f->p->name;
        if ((rc = part_finish(s, &parts[i], begin_ms, start, page_short, to, e)) != ST_OK)
            goto fail;
    }
    if ((rc = store_commit(s, e)) != ST_OK) {
        for (size_t i = 0; i < n; i++)
            if (parts[i].in)
                cache_reset(parts[i].f);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct fold *f = parts[i].f;
        if (parts[i].in)
            f->cache_at = outs[i].stop && (parts[i].bad || f->rebuild) ? -1 : parts[i].last;
    }
done:
    rc = ST_OK;
out:
    for (size_t i = 0; i < n; i++)
        if (parts[i].have_rec)
            proj_record_done(&parts[i].rec);
    free(parts);
    return rc;
fail:
    store_rollback(s);
    for (size_t i = 0; i < n; i++) {
        cache_reset(folds[i]);
        value_free(folds[i]->dirty);
        folds[i]->dirty = value_map(64);
        outs[i].folded = 0;
    }
    if (who)
        err_prefix(e, "projection %s", who);
    if (rc == ST_OK)
        rc = ST_ERR;
    goto out;
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

/* How one projection is to be brought forward by a call. */
struct plan {
    bool go;          /* there is something to fold */
    bool rebuild;     /* into the rebuild tables */
    bool shareable;   /* may share batches with others at the same checkpoint */
    int64_t budget;   /* events it may fold; -1 = no limit */
    int64_t progress; /* its checkpoint (or the rebuild's) as this call found it */
    int64_t to;       /* fold nothing after this position (0 = the head) */
};

/* Looks at p's record and decides whether and how far to fold it, by at most
 * max_events (0 = no limit) up to position `to` (0 = the head). A rebuild whose
 * definition changed meanwhile starts over here, with the new one. */
static int plan_one(struct store *s, const struct proj_backend *be, const struct projection_spec *p,
                    int64_t to, int64_t max_events, bool ignore_controls, struct plan *pl, err *e)
{
    memset(pl, 0, sizeof *pl);
    int rc = ensure_one(s, be, p, e);
    if (rc != ST_OK)
        return rc;
    struct proj_record rec;
    for (;;) {
        if ((rc = be->record_get(s, p->name, &rec, e)) != ST_OK)
            return rc;
        bool skip = rec.error != NULL || (!ignore_controls && rec.paused);
        if (skip || rec.rebuild_checkpoint < 0 || strcmp(rec.rebuild_hash, p->rules_hash) == 0)
            break;
        /* The definition changed while rebuilding: start over with the new one. */
        proj_record_done(&rec);
        if ((rc = rebuild_begin(s, be, p, e)) != ST_OK)
            return rc;
    }
    bool rebuild = rec.rebuild_checkpoint >= 0;
    int64_t budget = max_events > 0 ? max_events : -1;
    bool skip = rec.error != NULL || (!ignore_controls && rec.paused);
    /* A stale table was built by other rules: folding on with these would mix two
     * definitions in one read model. It waits for a rebuild. */
    if (!skip && !rebuild && strcmp(rec.rules_hash, p->rules_hash) != 0)
        skip = true;
    bool throttled = false;
    if (!skip && !ignore_controls) {
        int64_t tb = throttle_budget(&rec, time_now_ms());
        throttled = tb >= 0;
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
    pl->go = true;
    pl->rebuild = rebuild;
    pl->shareable = !rebuild && !throttled;
    pl->budget = budget;
    pl->progress = progress;
    pl->to = to;
    return ST_OK;
}

/* Brings the n projections of folds (each with its budget, all at one checkpoint
 * when n > 1) forward together up to `to` (0 = the head), batch by batch, until
 * each has stopped or spent its budget. *total_left (-1 = no limit) caps the events
 * folded by all of them together and is reduced by what they fold. A projection
 * whose checkpoint another process moved leaves the group (f->moved). */
static int run_folds(struct store *s, struct fold **folds, size_t n, int64_t to,
                     int64_t *total_left, bool honour, err *e)
{
    const struct proj_backend *be = folds[0]->be;
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < n; i++)
        if (!folds[i]->w)
            rc = be->writer_open(s, folds[i]->p, folds[i]->rebuild, &folds[i]->w, e);
    if (rc != ST_OK)
        return rc;
    struct fold **act = xcalloc(n, sizeof *act);
    struct batch_out *outs = xcalloc(n, sizeof *outs);
    struct event_list page;
    event_list_init(&page);
    int saved;
    be->batches_begin(s, &saved);
    /* Each commit costs a sync of the log, so a long catch-up grows its batches
     * while each stays short enough not to keep writers waiting. */
    size_t batch = BATCH;
    for (;;) {
        size_t na = 0;
        for (size_t i = 0; i < n; i++)
            if (folds[i]->active && folds[i]->budget != 0)
                act[na++] = folds[i];
        if (*total_left == 0 || na == 0)
            break;
        size_t limit = batch;
        for (size_t i = 0; i < na; i++)
            if (act[i]->budget > 0 && act[i]->budget < (int64_t)limit)
                limit = (size_t)act[i]->budget;
        if (*total_left > 0) {
            /* Every event is folded into each of them: the budget is shared. */
            if (*total_left < (int64_t)na)
                na = (size_t)*total_left;
            if (*total_left / (int64_t)na < (int64_t)limit)
                limit = (size_t)(*total_left / (int64_t)na);
        }
        int64_t t0 = time_now_ms();
        rc = fold_batch(s, act, na, limit, to, honour, &page, outs, e);
        if (rc != ST_OK)
            break;
        for (size_t i = 0; i < na; i++) {
            struct fold *f = act[i];
            int64_t k = (int64_t)outs[i].folded;
            f->processed += k;
            if (f->budget > 0)
                f->budget -= k;
            if (*total_left > 0)
                *total_left -= k;
            if (outs[i].stop)
                f->active = false;
            if (outs[i].moved)
                f->moved = true;
        }
        int64_t took = time_now_ms() - t0;
        if (took < BATCH_QUICK_MS / 2 && batch < BATCH_MAX)
            batch *= 2;
        else if (took > BATCH_QUICK_MS && batch > BATCH)
            batch /= 2;
    }
    be->batches_end(s, saved);
    event_list_done(&page);
    free(outs);
    free(act);
    return rc;
}

/* Brings the projections of d forward up to `to` (0 = the head): `only` alone when
 * not NULL, else each of them. Those due at the same checkpoint, neither
 * rebuilding nor throttled, share their batches: each batch of events is read and
 * decoded once and folded into all of them, in one transaction (each keeps its
 * own checkpoint, status and failure). max_total (0 = no limit) caps the events
 * folded by all together, max_each (0 = no limit) by each. processed_each (may be
 * NULL; d->nprojections entries) and *processed (may be NULL) receive the counts. */
static int catch_up(struct store *s, const struct domain *d, const struct proj_backend *be,
                    const struct projection_spec *only, int64_t to, int64_t max_total,
                    int64_t max_each, bool ignore_controls, int64_t *processed_each,
                    int64_t *processed, err *e)
{
    size_t n = only ? 1 : d->nprojections;
    if (n == 0)
        return ST_OK;
    struct plan *plans = xcalloc(n, sizeof *plans);
    struct fold *fs = xcalloc(n, sizeof *fs);
    struct fold **group = xcalloc(n, sizeof *group);
    bool *inited = xcalloc(n, sizeof *inited);
    int64_t total_left = max_total > 0 ? max_total : -1;
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        const struct projection_spec *p = only ? only : &d->projections[i];
        rc = plan_one(s, be, p, to, max_each, ignore_controls, &plans[i], e);
        if (rc == ST_OK && plans[i].go) {
            fold_init(&fs[i], be, d, p, plans[i].rebuild);
            fs[i].budget = plans[i].budget;
            inited[i] = true;
        }
    }
    /* In domain order: each projection with those after it that share its checkpoint. */
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        if (!plans[i].go || !fs[i].active)
            continue; /* nothing to do, or done with an earlier group */
        size_t ng = 0;
        group[ng++] = &fs[i];
        for (size_t j = i + 1; plans[i].shareable && j < n; j++)
            if (plans[j].go && plans[j].shareable && plans[j].progress == plans[i].progress &&
                fs[j].active)
                group[ng++] = &fs[j];
        rc = run_folds(s, group, ng, plans[i].to, &total_left, !ignore_controls, e);
        /* Those that left the group, because another process moved them, go on alone. */
        for (size_t k = 0; rc == ST_OK && k < ng; k++) {
            struct fold *f = group[k];
            if (!f->moved)
                continue;
            f->moved = false;
            f->active = true;
            rc = run_folds(s, &f, 1, plans[i].to, &total_left, !ignore_controls, e);
            f->moved = false;
        }
        for (size_t k = 0; k < ng; k++)
            group[k]->active = false;
    }
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (processed_each)
            processed_each[i] = fs[i].processed;
        total += fs[i].processed;
        if (inited[i])
            fold_done(&fs[i]);
    }
    if (processed)
        *processed = total;
    free(inited);
    free(group);
    free(fs);
    free(plans);
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
    const struct projection_spec *only = NULL;
    if (name && !(only = projection_find(d, name, e)))
        return ST_NOT_FOUND;
    return catch_up(s, d, be, only, to_position, only ? 0 : max_events, only ? max_events : 0,
                    ignore_controls, NULL, processed, e);
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
        /* Each projection by at most RUNNER_SLICE events, those at one checkpoint
         * sharing their batches. */
        const struct proj_backend *be = proj_backend_for(r->s, &e);
        int rc = be ? check_names(r->d, &e) : ST_ERR;
        if (rc == ST_OK)
            rc = catch_up(r->s, r->d, be, NULL, 0, 0, RUNNER_SLICE, false, NULL, &done, &e);
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
