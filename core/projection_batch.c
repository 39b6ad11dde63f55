/* projection_batch.c: bringing a group of projections forward batch by batch
 * (see projection_fold.h, and projection.c's first comment for how a batch works
 * and why it cannot count an event twice): one batch of events into a group of
 * projections in one transaction (fold_batch), and a run of batches that grow
 * while they stay quick (fold_run). Each event goes into each projection's rows
 * through projection_fold.c's fold_event. */
#include "projection_fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_format.h"
#include "projection_lag.h"
#include "read_ahead.h"

#define BATCH 500             /* events per transaction, at first */
#define BATCH_MAX 32768       /* a batch doubles up to this while it stays quick */
#define BATCH_QUICK_MS 100    /* "quick": the write lock is held no longer than this */
#define BATCH_FAR 65536       /* events per transaction while far behind */
#define FAR_BEHIND 50000      /* "far behind": more events than this left to the head */
#define CACHE_MAX_KEYS 200000 /* rows kept in memory between batches, at most */

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
    int64_t *skips;               /* positions it was told to pass over, ascending */
    size_t nskips;
    bool skipping; /* the event at hand is one of them */
};

/* Was the projection told to pass over the event at `position`? */
static bool skipped(const struct part *pt, int64_t position)
{
    size_t lo = 0, hi = pt->nskips;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pt->skips[mid] < position)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < pt->nskips && pt->skips[lo] == position;
}

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
    if ((rc = fold_flush_dirty(f, e)) != ST_OK)
        return rc;
    int64_t now = time_now_ms();
    rec->updated_ms = now;
    proj_samples_add(rec, begin_ms, start, now, pt->last);
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

/* One batch in progress: the projections of fold_batch and their parts. */
struct batch {
    struct store *s;
    struct fold **folds;
    size_t n;
    struct part *parts;
    int64_t begin_ms; /* when the batch began (for the rate) */
    int64_t start;    /* the checkpoint it starts from; -1 until one projection says */
    size_t nin;       /* projections folding it */
    const char *who;  /* the projection an error is about (NULL: none in particular) */
    /* `meta` built into from one event to the next rather than made anew (its
     * map, keys and unshared strings are reused: a third of decoding's cost) */
    struct meta_keep meta;
    struct read_ahead *ahead; /* NULL: read in place */
    bool more;                /* ask it for the page after this batch's */
};

/* Reads each projection's record under the write lock and says which of them
 * fold this batch: someone (another process, a person) may have changed things
 * since this call looked. The first that may go on says where the batch starts;
 * one whose checkpoint is elsewhere sits it out (moved). */
static int batch_join(struct batch *b, int64_t to, bool honour, struct batch_out *outs, err *e)
{
    const struct proj_backend *be = b->folds[0]->be;
    for (size_t i = 0; i < b->n; i++) {
        struct part *pt = &b->parts[i];
        struct fold *f = b->folds[i];
        pt->f = f;
        pt->out = &outs[i];
        err_clear(&pt->why);
        b->who = f->p->name;
        int rc = be->record_get(b->s, f->p->name, &pt->rec, e);
        pt->have_rec = rc == ST_OK;
        if (rc == ST_NOT_FOUND)
            return err_set(e, ST_ERR, "projection %s: its record vanished from the store",
                           f->p->name);
        if (rc != ST_OK)
            return rc;
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
        if (b->start < 0) {
            b->start = at;
        } else if (at != b->start) {
            outs[i].moved = outs[i].stop = true;
            continue;
        }
        pt->in = true;
        pt->last = b->start;
        /* Read under the same lock as the record, so a skip recorded meanwhile is seen
         * by the batch that resumes the projection past it. */
        if ((rc = be->skips_get(b->s, f->p->name, &pt->skips, &pt->nskips, e)) != ST_OK)
            return rc;
        b->nin++;
        if (b->start != f->cache_at || value_map_len(&f->cache) > CACHE_MAX_KEYS)
            fold_cache_reset(f);
    }
    return ST_OK;
}

/* Folds one event, decoded once, into every projection of the batch that is still
 * going (*going counts them). An event that fails in one ends the batch for that
 * one only; a storage error is returned (b->who says whose). */
static int batch_fold_event(struct batch *b, const struct event *ev, size_t *going, err *e)
{
    bool any = false;
    unsigned need = 0; /* what of meta the handlers read */
    for (size_t i = 0; i < b->n; i++) {
        struct part *pt = &b->parts[i];
        if (pt->in && !pt->bad) {
            pt->skipping = pt->nskips && skipped(pt, ev->position);
            pt->h = pt->skipping ? NULL : fold_handler_for(pt->f->p, ev->type);
            any = any || pt->h;
            if (pt->h)
                need |= fold_meta_need(pt->h);
        }
    }
    struct decoded_event de;
    err derr;
    err_clear(&derr);
    bool decoded =
        any && event_decode_keep(b->folds[0]->d, ev, true, need, &b->meta, &de, &derr) == ST_OK;
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < b->n; i++) {
        struct part *pt = &b->parts[i];
        if (!pt->in || pt->bad)
            continue;
        enum fold_result fr = FOLD_OK;
        if (pt->skipping) {
            pt->last = ev->position; /* passed over, as it was told: not folded */
            continue;
        }
        if (pt->h && !decoded) {
            pt->why = derr;
            err_prefix(&pt->why, "projections.%s.on.%s", pt->f->p->name, ev->type);
            fr = FOLD_FAILED;
        } else if (pt->h) {
            fr = fold_event(pt->f, pt->h, ev, &de, &pt->why);
        }
        if (fr == FOLD_ERROR) {
            *e = pt->why;
            b->who = pt->f->p->name;
            rc = ST_ERR;
        } else if (fr == FOLD_FAILED) {
            pt->bad = ev;
            (*going)--;
        } else {
            pt->last = ev->position;
            pt->out->folded++;
        }
    }
    if (decoded)
        decoded_event_done_keep(&de, &b->meta);
    return rc;
}

/* Reads up to `limit` events after the batch's start (none after `to`), folds them
 * into the projections of the batch, and writes each one's share. Inside the
 * batch's transaction; the caller commits or rolls back. */
static int batch_fold(struct batch *b, struct event_list *page, size_t limit, int64_t to, err *e)
{
    event_list_clear(page);
    b->who = b->n == 1 ? b->folds[0]->p->name : NULL; /* a shared read is no one's */
    int rc = read_ahead_page(b->ahead, b->s, b->start, to, limit, b->more, page, e);
    size_t going = b->nin; /* projections in the batch that have not failed */
    for (size_t j = 0; rc == ST_OK && j < page->len && going > 0; j++)
        rc = batch_fold_event(b, &page->items[j], &going, e);
    bool page_short = page->len < limit;
    for (size_t i = 0; rc == ST_OK && i < b->n; i++) {
        if (!b->parts[i].in)
            continue;
        b->who = b->parts[i].f->p->name;
        rc = part_finish(b->s, &b->parts[i], b->begin_ms, b->start, page_short, to, e);
    }
    return rc;
}

/* The batch's transaction: the backend's own when it has one (batch_begin in
 * projection_backend.h), else the store's write transaction. */
static int batch_tx_begin(struct batch *b, err *e)
{
    const struct proj_backend *be = b->folds[0]->be;
    if (!be->batch_begin)
        return store_begin(b->s, e);
    const struct projection_spec **ps = xcalloc(b->n, sizeof *ps);
    for (size_t i = 0; i < b->n; i++)
        ps[i] = b->folds[i]->p;
    int rc = be->batch_begin(b->s, ps, b->n, e);
    free(ps);
    return rc;
}

static void batch_tx_rollback(struct batch *b)
{
    const struct proj_backend *be = b->folds[0]->be;
    if (be->batch_rollback)
        be->batch_rollback(b->s);
    else
        store_rollback(b->s);
}

/* After an error inside the batch: rolls it back, and with it every projection's
 * cache and uncommitted rows; e says which projection it was about. */
static int batch_abandon(struct batch *b, struct batch_out *outs, int rc, err *e)
{
    batch_tx_rollback(b);
    for (size_t i = 0; i < b->n; i++) {
        fold_cache_reset(b->folds[i]); /* and its changed rows */
        outs[i].folded = 0;
    }
    if (b->who)
        err_prefix(e, "projection %s", b->who);
    return rc != ST_OK ? rc : ST_ERR;
}

/* Commits the batch. The caches of its projections stay valid at their new
 * checkpoints, unless the commit failed, or one stopped failed or swapped. */
static int batch_commit(struct batch *b, const struct batch_out *outs, err *e)
{
    const struct proj_backend *be = b->folds[0]->be;
    int rc = be->batch_commit ? be->batch_commit(b->s, e) : store_commit(b->s, e);
    for (size_t i = 0; i < b->n; i++) {
        struct part *pt = &b->parts[i];
        if (!pt->in)
            continue;
        if (rc != ST_OK)
            fold_cache_reset(pt->f);
        else
            pt->f->cache_at = outs[i].stop && (pt->bad || pt->f->rebuild) ? -1 : pt->last;
    }
    return rc;
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
                      bool honour, struct event_list *page, struct read_ahead *ahead, bool more,
                      struct batch_out *outs, err *e)
{
    memset(outs, 0, n * sizeof *outs);
    struct batch b = {s,     folds, n, NULL, time_now_ms(), -1, 0, folds[0]->p->name, {{{0}}, {0}},
                      ahead, more};
    int rc = batch_tx_begin(&b, e);
    if (rc != ST_OK)
        return rc;
    b.parts = xcalloc(n, sizeof *b.parts);
    rc = batch_join(&b, to, honour, outs, e);
    if (rc == ST_OK && b.nin > 0)
        rc = batch_fold(&b, page, limit, to, e);
    if (rc != ST_OK)
        rc = batch_abandon(&b, outs, rc, e);
    else if (b.nin == 0)
        batch_tx_rollback(&b); /* none of them may go on: nothing was written */
    else
        rc = batch_commit(&b, outs, e);
    for (size_t i = 0; i < n; i++) {
        if (b.parts[i].have_rec)
            proj_record_done(&b.parts[i].rec);
        free(b.parts[i].skips);
    }
    free(b.parts);
    meta_keep_done(&b.meta);
    return rc;
}

/* See projection_fold.h. */
int fold_run(struct store *s, struct fold **folds, size_t n, int64_t to, int64_t *total_left,
             bool honour, err *e)
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
    /* Each commit costs a sync of the log and a write of every page the batch
     * dirtied (the rows and the history index, spread over all keys), so the
     * fewer the better. While far behind (a rebuild, a first catch-up) batches are
     * of BATCH_FAR events, whatever they take: a live store's writers wait for
     * one batch, which is the price of catching up at all. Near the head (live
     * following) a batch grows while each stays short enough not to keep writers
     * waiting, and shrinks when it does not. */
    int64_t head = 0;
    if (store_head(s, &head, e) != ST_OK)
        head = 0; /* not known: batch by time alone */
    err_clear(e);
    if (to > 0 && to < head)
        head = to;
    int64_t at = -1; /* the last position read; -1 until the first batch says */
    size_t batch = BATCH;
    struct read_ahead *ra = NULL;
    bool ra_tried = false;
    for (;;) {
        bool far = at >= 0 && head - at > FAR_BEHIND;
        if (far && batch < BATCH_FAR)
            batch = BATCH_FAR;
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
        /* Far behind, the next page is read on another core meanwhile. */
        bool ahead = far || read_ahead_always();
        if (ahead && !ra && !ra_tried) {
            ra = read_ahead_open(s);
            ra_tried = true;
        }
        rc = fold_batch(s, act, na, limit, to, honour, &page, ra, ahead, outs, e);
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
        if (page.len > 0)
            at = page.items[page.len - 1].position;
        int64_t took = time_now_ms() - t0;
        if (far && head - at > FAR_BEHIND)
            continue; /* still far: keep batching by size */
        if (took < BATCH_QUICK_MS / 2 && batch < BATCH_MAX)
            batch *= 2;
        else if (took > BATCH_QUICK_MS && batch > BATCH)
            batch /= 2;
    }
    read_ahead_close(ra);
    be->batches_end(s, saved);
    event_list_done(&page);
    free(outs);
    free(act);
    return rc;
}
