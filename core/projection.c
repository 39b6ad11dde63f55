/* projection.c: the entry points of projection.h: setting projections up,
 * planning who folds what and how far (pause, throttle, stale definitions, shared
 * batches), rebuilds, the controls, and reads at a past position. The folding
 * itself is in projection_fold.c, lag and rate in projection_lag.c, the runner
 * thread in projection_runner.c.
 *
 * Storage is reached only through projection_backend.h, so nothing here assumes
 * SQLite. How one batch works, and why it cannot count an event twice:
 *
 *   begin (the store takes the write lock: BEGIN IMMEDIATE for SQLite; on
 *     PostgreSQL a transaction of the backend's own, under each projection's
 *     advisory lock, so that appends go on: projection_pg.c)
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "projection_backend.h"
#include "projection_fold.h"
#include "projection_lag.h"
#include "store_branch.h"

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
 * proj_NAME_history_by_key), proj_NAME_keys, proj_NAME_counts, proj_NAME_ck_rows,
 * proj_NAME_ck_at and the same with
 * __rebuild: two projections whose names make the same table would share it. */
static int check_names(const struct domain *d, err *e)
{
    static const char *const suffixes[] = {"_history",          "_keys",
                                           "_counts",           "_history_by_key",
                                           "_ck_rows",          "_ck_at",
                                           "__rebuild",         "__rebuild_history",
                                           "__rebuild_keys",    "__rebuild_counts",
                                           "__rebuild_ck_rows", "__rebuild_ck_at"};
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
static int ensure_one(struct store *s, const struct domain *d, const struct proj_backend *be,
                      const struct projection_spec *p, err *e)
{
    struct proj_record rec;
    int rc = be->record_get(s, p->name, &rec, e);
    proj_record_done(&rec);
    if (rc != ST_NOT_FOUND)
        return rc;
    /* A branch's read model starts from main's rows at the fork point
     * (core/projection_branch.c): main's must have reached it. */
    struct store *main = NULL;
    int64_t fork = 0;
    rc = ST_OK;
    if (store_branch_of(s, NULL, &fork, &main) && fork > 0)
        rc = projection_catch_up_to(main, d, p->name, fork, 0, true, NULL, e);
    if (rc == ST_OK)
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
        rc = ensure_one(s, d, be, &d->projections[i], e);
    return rc;
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
        proj_record_clear_error(&rec);
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
static int plan_one(struct store *s, const struct domain *d, const struct proj_backend *be,
                    const struct projection_spec *p, int64_t to, int64_t max_events,
                    bool ignore_controls, struct plan *pl, err *e)
{
    memset(pl, 0, sizeof *pl);
    int rc = ensure_one(s, d, be, p, e);
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
        rc = plan_one(s, d, be, p, to, max_each, ignore_controls, &plans[i], e);
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
        rc = fold_run(s, group, ng, plans[i].to, &total_left, !ignore_controls, e);
        /* Those that left the group, because another process moved them, go on alone. */
        for (size_t k = 0; rc == ST_OK && k < ng; k++) {
            struct fold *f = group[k];
            if (!f->moved)
                continue;
            f->moved = false;
            f->active = true;
            rc = fold_run(s, &f, 1, plans[i].to, &total_left, !ignore_controls, e);
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

int projection_catch_up_round(struct store *s, const struct domain *d, int64_t max_each,
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
    return catch_up(s, d, be, NULL, 0, 0, max_each, false, NULL, processed, e);
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
        rc = ensure_one(s, d, be, p, e);
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
        rc = proj_lag_measure(s, be, &d->projections[i], head, now, &lags[i], e);
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
        proj_record_clear_error(&rec);
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

int projection_skip(struct store *s, const struct domain *d, const char *name, int64_t position,
                    char **reason_out, err *e)
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
    int64_t head = 0;
    struct proj_record rec;
    bool have = false;
    if ((rc = store_head(s, &head, e)) == ST_OK && (position < 1 || position > head))
        rc = err_set(e, ST_USAGE,
                     "skip for %s: there is no event at position %lld (the head is %lld)", name,
                     (long long)position, (long long)head);
    if (rc == ST_OK)
        have = (rc = be->record_get(s, name, &rec, e)) == ST_OK;
    /* The failure it stopped at is the reason, when it is this event; and that
     * failure is then cleared, so the projection resumes past it. */
    bool stopped_here = have && rec.error && rec.error_position == position;
    const char *reason = stopped_here ? rec.error : "skipped by hand";
    if (rc == ST_OK)
        rc = be->skip_add(s, name, position, reason, e);
    if (rc == ST_OK && reason_out)
        *reason_out = xstrdup(reason);
    if (rc == ST_OK && stopped_here) {
        proj_record_clear_error(&rec);
        snprintf(rec.status, sizeof rec.status, "catching up");
        rc = be->record_put(s, name, &rec, e);
    }
    if (have)
        proj_record_done(&rec);
    if (rc == ST_OK)
        return store_commit(s, e);
    store_rollback(s);
    if (reason_out) {
        free(*reason_out);
        *reason_out = NULL;
    }
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

/* Where query_rows puts the rows: a list of maps, or JSON text lent to fn. */
struct query_out {
    value *rows;
    proj_json_fn fn;
    void *ctx;
};

/* rows_at into out: straight into the list, through the backend's rows_at_json,
 * or, for a backend without it, through a list written row by row. */
static int rows_to(struct store *s, const struct proj_backend *be, const struct projection_spec *p,
                   const char *key, int64_t at, size_t offset, size_t limit,
                   const struct query_out *out, int64_t *count, err *e)
{
    if (!out->fn)
        return be->rows_at(s, p, key, at, offset, limit, out->rows, count, e);
    if (be->rows_at_json)
        return be->rows_at_json(s, p, key, at, offset, limit, out->fn, out->ctx, count, e);
    value rows = value_list(16);
    int rc = be->rows_at(s, p, key, at, offset, limit, &rows, count, e);
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; rc == ST_OK && i < value_list_len(&rows); i++) {
        sb_reset(&sb);
        json_write(&sb, value_list_at(&rows, i));
        rc = out->fn(out->ctx, sb.buf, sb.len, e);
    }
    sb_done(&sb);
    value_free(rows);
    return rc;
}

static int query_rows(struct store *s, const struct domain *d, const char *name, const char *key,
                      int64_t at_position, size_t offset, size_t limit, const struct query_out *out,
                      int64_t *count, err *e)
{
    const struct projection_spec *p = projection_find(d, name, e);
    if (!p)
        return ST_NOT_FOUND;
    if (at_position < 0)
        return err_set(e, ST_USAGE, "position %lld: positions start at 1", (long long)at_position);
    const struct proj_backend *be = proj_backend_for(s, e);
    if (!be)
        return ST_ERR;
    int rc = ensure_one(s, d, be, p, e);
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
            rc = rows_to(s, be, p, key, at, offset, limit, out, count, e);
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
    struct query_out out = {rows, NULL, NULL};
    int rc = query_rows(s, d, name, key, at_position, offset, limit, &out, NULL, e);
    if (rc != ST_OK) {
        value_free(*rows);
        *rows = value_list(0);
    }
    return rc;
}

int projection_query_json(struct store *s, const struct domain *d, const char *name,
                          const char *key, int64_t at_position, size_t offset, size_t limit,
                          proj_json_fn fn, void *ctx, err *e)
{
    struct query_out out = {NULL, fn, ctx};
    return query_rows(s, d, name, key, at_position, offset, limit, &out, NULL, e);
}

int projection_count(struct store *s, const struct domain *d, const char *name, int64_t at_position,
                     int64_t *count, err *e)
{
    value rows = value_list(0);
    *count = 0;
    struct query_out out = {&rows, NULL, NULL};
    int rc = query_rows(s, d, name, NULL, at_position, SIZE_MAX, 0, &out, count, e);
    value_free(rows);
    return rc;
}
