/* projection.h: read models that fold events, live, asynchronously, rebuildable,
 * and readable as they were at any past position.
 *
 * Each projection of the domain has its own table in the store (proj_<Name>: one
 * column per declared column plus `key`, queryable with sqlite3), its own
 * checkpoint and status, and its own row history so that a read model can be
 * asked what it said right after any position. A batch of events, the row
 * changes they cause and the new checkpoint commit in one transaction: a crash
 * never counts an event twice or loses one. An event that makes a projection's
 * expression fail stops that projection only, and the position, event and error
 * are recorded. */
#ifndef STRATA_PROJECTION_H
#define STRATA_PROJECTION_H

#include "domain.h"
#include "projection_runner.h"
#include "store.h"
#include "value.h"

enum proj_status {
    PROJ_CATCHING_UP = 0, /* behind the head and working */
    PROJ_LIVE,            /* at the head */
    PROJ_PAUSED,          /* paused by a person */
    PROJ_FAILED,          /* an event made an expression fail; see error */
    PROJ_REBUILDING,      /* building anew beside the current table */
};
/* "catching up", "live", "paused", "failed", "rebuilding" */
const char *proj_status_name(enum proj_status s);

/* How far behind one projection is: the numbers behind the workbench's gauges and
 * `strata project --status`. */
struct proj_lag {
    char *name;
    enum proj_status status;
    bool stale;                 /* the definition changed since the table was built: rebuild it */
    int64_t checkpoint;         /* last position folded in */
    int64_t head;               /* the store's head when measured */
    int64_t events_behind;      /* head - checkpoint */
    double seconds_behind;      /* age of the oldest event not yet folded in (0 when live) */
    double rate;                /* events folded per second over the last few seconds */
    double eta_seconds;         /* time to catch up at that rate (-1 when unknown) */
    int64_t throttle;           /* at most this many events per second (0 = unthrottled) */
    int64_t rebuild_checkpoint; /* when rebuilding: how far the new table is */
    int64_t error_position;     /* when failed: the event that failed */
    int64_t skipped;            /* events it was told to pass over (projection_skip) */
    char *error;                /* when failed: the error, with the expression and its place */
    char *error_event;          /* when failed: the event as NDJSON */
};
void proj_lag_free(struct proj_lag *lags, size_t n);

/* The projection called name, or NULL with e saying so (ST_NOT_FOUND), with the
 * closest name when one is near ("did you mean 'AccountList'?"). */
const struct projection_spec *projection_find(const struct domain *d, const char *name, err *e);

/* Creates missing tables and status rows for every projection of d, and marks the
 * stale ones. Idempotent; every other call below does it implicitly. */
int projection_setup(struct store *s, const struct domain *d, err *e);

/* Folds at most max_events (0 = no limit) new events into projection `name` (NULL:
 * each projection in turn), in batches, honouring pause and throttle unless
 * `ignore_controls`. *processed (may be NULL) counts events folded. A projection
 * that fails is marked failed and the call still returns ST_OK (the others go on). */
int projection_catch_up(struct store *s, const struct domain *d, const char *name,
                        int64_t max_events, bool ignore_controls, int64_t *processed, err *e);
/* The same, folding no event after to_position (0 = the head): `strata query --at P`
 * needs the projection to have reached P, not the head. A projection whose
 * definition changed (stale) is not folded further: its table was built by other
 * rules, and it waits for a rebuild. A failed one waits for projection_pause(..,
 * false) (a retry) or a rebuild. */
int projection_catch_up_to(struct store *s, const struct domain *d, const char *name,
                           int64_t to_position, int64_t max_events, bool ignore_controls,
                           int64_t *processed, err *e);

/* One round of a runner: each projection of d (honouring pause and throttle)
 * by at most max_each events, those at one checkpoint sharing their batches.
 * *processed (may be NULL) counts the events folded. */
int projection_catch_up_round(struct store *s, const struct domain *d, int64_t max_each,
                              int64_t *processed, err *e);

/* Rebuilds `name` from position 0 into new tables and swaps them in, in one
 * transaction, once caught up, so no reader sees a half-built read model; returns
 * when swapped in (or with the error that stopped it). Anyone else folding the
 * projection meanwhile helps rather than races: every batch starts, under the
 * write lock, from the rebuild checkpoint the last one committed, and whichever
 * batch reaches the head swaps. The workbench's :rebuild runs this in a
 * background job on a store connection of its own, beside its runner. */
int projection_rebuild(struct store *s, const struct domain *d, const char *name, err *e);
/* Only starts a rebuild: empty new tables, the record marked "rebuilding"; whoever
 * catches up next (a runner, projection_catch_up) builds it and swaps it in.
 * projection_rebuild is this plus catching up until the swap. */
int projection_rebuild_start(struct store *s, const struct domain *d, const char *name, err *e);

/* Lag of every projection, in domain order. */
int projection_status(struct store *s, const struct domain *d, struct proj_lag **out, size_t *n,
                      err *e);

/* Teaching controls, stored in the store so that every process follows them.
 * Resuming (paused = false) a failed projection also clears its failure, so it
 * retries from its checkpoint (after an upcaster was fixed, say). */
int projection_pause(struct store *s, const struct domain *d, const char *name, bool paused,
                     err *e);
int projection_throttle(struct store *s, const struct domain *d, const char *name,
                        int64_t events_per_second, err *e);

/* Tells projection `name` to pass over the event at `position` (a poison event
 * it cannot fold) from now on, in every later fold and rebuild: recorded in the
 * store with the reason (the projection's failure, when it failed at that event,
 * else "skipped by hand") and the time. When the projection had failed at that
 * event its failure is cleared, so the next catch-up resumes past it. *reason_out
 * (may be NULL; caller frees) receives the reason recorded. ST_USAGE for a
 * position that is not in the store. */
int projection_skip(struct store *s, const struct domain *d, const char *name, int64_t position,
                    char **reason_out, err *e);

/* Rows of `name`, ordered by key (a projection without key has one row), as a list
 * of maps {"key":..., column: value, ...} (no "key" for a keyless projection).
 * key: only that row (NULL = all). at_position: as they were right after that
 * position (0 = now, as far as the projection has got). offset/limit page through
 * the rows (limit 0 = all). */
int projection_query(struct store *s, const struct domain *d, const char *name, const char *key,
                     int64_t at_position, size_t offset, size_t limit, value *rows, err *e);
/* One row of projection_query_json: its JSON text, lent for the call only (not
 * NUL-terminated). Returns ST_OK to go on; anything else stops the read and is
 * returned. */
typedef int (*proj_json_fn)(void *ctx, const char *json, size_t len, err *e);
/* projection_query without values: fn gets each row, in the same order, as the
 * bytes json_write gives for the map projection_query would return for it. For
 * callers that only print or count rows (`strata query`): on SQLite each row's
 * stored JSON is lent with its key spliced in, and no value is built (on
 * PostgreSQL and on a branch the value is built and written). Rows already
 * given stay given when a later one fails. */
int projection_query_json(struct store *s, const struct domain *d, const char *name,
                          const char *key, int64_t at_position, size_t offset, size_t limit,
                          proj_json_fn fn, void *ctx, err *e);
/* How many rows `name` had right after at_position (0 = now). */
int projection_count(struct store *s, const struct domain *d, const char *name, int64_t at_position,
                     int64_t *count, err *e);

/* The runner thread that keeps projections caught up: projection_runner.h. */

#endif
