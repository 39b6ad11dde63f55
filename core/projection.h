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
#include "store.h"
#include "value.h"

enum proj_status {
    PROJ_CATCHING_UP = 0, /* behind the head and working */
    PROJ_LIVE,            /* at the head */
    PROJ_PAUSED,          /* paused by a person */
    PROJ_FAILED,          /* an event made an expression fail; see error */
    PROJ_REBUILDING,      /* building anew beside the current table */
};
const char *proj_status_name(enum proj_status s); /* "catching up", "live", "paused", "failed", "rebuilding" */

/* How far behind one projection is: the numbers behind the workbench's gauges and
 * `strata project --status`. */
struct proj_lag {
    char *name;
    enum proj_status status;
    bool stale;              /* the definition changed since the table was built: rebuild it */
    int64_t checkpoint;      /* last position folded in */
    int64_t head;            /* the store's head when measured */
    int64_t events_behind;   /* head - checkpoint */
    double seconds_behind;   /* age of the oldest event not yet folded in (0 when live) */
    double rate;             /* events folded per second over the last few seconds */
    double eta_seconds;      /* time to catch up at that rate (-1 when unknown) */
    int64_t throttle;        /* at most this many events per second (0 = unthrottled) */
    int64_t rebuild_checkpoint; /* when rebuilding: how far the new table is */
    int64_t error_position;  /* when failed: the event that failed */
    char *error;             /* when failed: the error, with the expression and its place */
    char *error_event;       /* when failed: the event as NDJSON */
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

/* Rebuilds `name` from position 0 into a new table and swaps it in, in one
 * transaction, once caught up, so no reader sees a half-built read model. */
int projection_rebuild(struct store *s, const struct domain *d, const char *name, err *e);
/* Only starts a rebuild: empty new tables, the record marked "rebuilding"; whoever
 * catches up next (a runner, projection_catch_up) builds it and swaps it in. The
 * workbench uses this so that its runner thread does the work. */
int projection_rebuild_start(struct store *s, const struct domain *d, const char *name, err *e);

/* Lag of every projection, in domain order. */
int projection_status(struct store *s, const struct domain *d, struct proj_lag **out, size_t *n,
                      err *e);

/* Teaching controls, stored in the store so that every process follows them.
 * Resuming (paused = false) a failed projection also clears its failure, so it
 * retries from its checkpoint (after an upcaster was fixed, say). */
int projection_pause(struct store *s, const struct domain *d, const char *name, bool paused, err *e);
int projection_throttle(struct store *s, const struct domain *d, const char *name,
                        int64_t events_per_second, err *e);

/* Rows of `name`, ordered by key (a projection without key has one row), as a list
 * of maps {"key":..., column: value, ...} (no "key" for a keyless projection).
 * key: only that row (NULL = all). at_position: as they were right after that
 * position (0 = now, as far as the projection has got). offset/limit page through
 * the rows (limit 0 = all). */
int projection_query(struct store *s, const struct domain *d, const char *name, const char *key,
                     int64_t at_position, size_t offset, size_t limit, value *rows, err *e);
/* How many rows `name` had right after at_position (0 = now). */
int projection_count(struct store *s, const struct domain *d, const char *name,
                     int64_t at_position, int64_t *count, err *e);

/* A runner: a thread with its own store connection that keeps every projection
 * caught up with the store, following events other processes append, until
 * stopped. The workbench runs one; `strata project --follow` runs one. */
struct proj_runner;
/* db_path must name a file (an in-memory store cannot be shared). The runner
 * evaluates the projections' expressions of d in its thread: while it runs, no
 * other thread should fold projections of the same domain (values share
 * reference counts); ask the runner instead (projection_rebuild_start, then poke).
 * Returns NULL with e set when the store cannot be opened. */
struct proj_runner *projection_runner_start(const char *db_path, const struct domain *d, err *e);
/* True when every projection that is not paused or failed is at the head (the
 * workbench's script mode waits for this before each step). Throttled and stale
 * projections count as settled too: they are held back on purpose. */
bool projection_runner_settled(struct proj_runner *r);
/* Waits (polling) until settled or timeout_ms passed; returns settled. */
bool projection_runner_wait_settled(struct proj_runner *r, int timeout_ms);
/* True (and the error in e) when the runner's last round failed (the store was
 * busy too long, a disk error, ...); it keeps retrying every second. */
bool projection_runner_error(struct proj_runner *r, err *e);
/* Asks the runner to look for new events now (after this process appended). */
void projection_runner_poke(struct proj_runner *r);
void projection_runner_stop(struct proj_runner *r);

#endif
