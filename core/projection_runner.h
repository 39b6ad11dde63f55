/* projection_runner.h: a runner, a thread with its own store connection that
 * keeps every projection caught up with the store, following events other
 * processes append, until stopped. The workbench runs one; `strata project
 * --follow` runs one. (projection.h includes this header.) */
#ifndef STRATA_PROJECTION_RUNNER_H
#define STRATA_PROJECTION_RUNNER_H

#include "domain.h"
#include "util.h"

struct proj_runner;

/* db_path must name a file (an in-memory store cannot be shared). The runner
 * evaluates the projections' expressions of d in its thread, and other threads may
 * fold projections of the same domain meanwhile on store handles of their own (the
 * workbench's :rebuild job runs projection_rebuild beside it): values' reference
 * counts are atomic, and batches of one projection queue on the store's write lock,
 * each starting from the checkpoint the last one committed.
 * Returns NULL with e set when the store cannot be opened. */
struct proj_runner *projection_runner_start(const char *db_path, const struct domain *d, err *e);
/* The same on a what-if branch of the store (core/store_branch.h; NULL: main). */
struct proj_runner *projection_runner_start_on(const char *db_path, const char *branch,
                                               const struct domain *d, err *e);
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
