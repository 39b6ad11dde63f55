/* projection_fold.h: private to projections: bringing a group of projections
 * forward batch by batch, each batch one transaction (projection_batch.c) that
 * folds events into rows (projection_fold.c). projection.c plans who folds what;
 * these do the folding. */
#ifndef STRATA_PROJECTION_FOLD_H
#define STRATA_PROJECTION_FOLD_H

#include "aggregate.h"
#include "projection_backend.h"

struct set_col;

/* One projection being folded by one call. */
struct fold {
    const struct proj_backend *be;
    const struct domain *d;
    const struct projection_spec *p;
    bool rebuild; /* into the rebuild tables */
    struct proj_writer *w;
    value cache;      /* key -> row, or null when the key has no row */
    int64_t cache_at; /* the checkpoint the cache reflects; -1 = none */
    /* The cache's entries changed in this batch, by position (the cache only grows
     * until it is reset), in the order first changed; marked[i]: entry i is one. */
    size_t *dirty, ndirty, dirty_cap;
    uint8_t *marked;
    size_t marked_cap;
    strbuf key;
    /* The key expression's fast form (expr_fast_plan) over root key_root, planned
     * at the first event (key_planned); NULL when it has none. */
    struct expr_fast *key_fast;
    int key_root;
    bool key_planned;
    value defaults; /* a dry run's defaults row, made at its first new row (else null) */
    /* The columns of each handler's set, looked up at its first event, and where
     * each handler's start among them; a dry run's (fold_dry_event) `meta`, built
     * into from one event to the next. */
    struct set_col *set_cols;
    size_t *set_at;
    struct meta_keep dry_meta;
    int64_t budget;    /* events it may still fold in this call; -1 = no limit */
    int64_t processed; /* events folded in this call */
    bool active;       /* still going in this call */
    bool moved;        /* left its group: another process moved its checkpoint */
};

void fold_init(struct fold *f, const struct proj_backend *be, const struct domain *d,
               const struct projection_spec *p, bool rebuild);
void fold_done(struct fold *f);

/* Brings the n projections of folds (each with its budget, all at one checkpoint
 * when n > 1) forward together up to `to` (0 = the head), batch by batch, until
 * each has stopped or spent its budget. *total_left (-1 = no limit) caps the events
 * folded by all of them together and is reduced by what they fold. A projection
 * whose checkpoint another process moved leaves the group (f->moved). honour: stop
 * at a pause. */
int fold_run(struct store *s, struct fold **folds, size_t n, int64_t to, int64_t *total_left,
             bool honour, err *e);

/* A dry run with the current rules (`strata bisect --fails`): folds ev into f's
 * rows held in memory (f->cache; f was never given a writer, so nothing is read
 * from or written to storage). *touched: f has a handler for ev's type. ST_OK,
 * or ST_ERR with e saying why the event cannot be folded (f->key then names the
 * row, when the key could be computed). */
int fold_dry_event(struct fold *f, const struct event *ev, bool *touched, err *e);

/* Between projection_fold.c (one event into one projection's rows) and
 * projection_batch.c (batches of events into groups of projections). */

/* The outcome of folding one event. */
enum fold_result { FOLD_OK, FOLD_FAILED /* the event's fault */, FOLD_ERROR /* storage */ };
/* Folds one event, decoded once for every projection of its batch (de), into
 * f's rows with handler h (f's handler for its type). */
enum fold_result fold_event(struct fold *f, const struct handler_spec *h, const struct event *ev,
                            const struct decoded_event *de, err *e);
/* p's handler for events of that type, or NULL. */
const struct handler_spec *fold_handler_for(const struct projection_spec *p, const char *type);
/* What of `meta` folding with h reads (enum META_*). */
unsigned fold_meta_need(const struct handler_spec *h);
/* Writes the rows changed in this batch to the typed table (f has a writer). */
int fold_flush_dirty(struct fold *f, err *e);
/* Forgets f's cached rows (and with them which changed in this batch). */
void fold_cache_reset(struct fold *f);

#endif
