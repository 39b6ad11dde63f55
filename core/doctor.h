/* doctor.h: the event-sourcing checklist over a domain and its store (`strata
 * doctor`, the workbench's :doctor). Each item is reported as ok, warn or fail
 * with what was found and, when it is not ok, how to fix it; every item can fail
 * or warn on a real store:
 *
 * - readable: every stored (type, schema) can be read by the domain (an upcast
 *   path exists and its output is valid): poison.h's scan, one pass;
 * - snapshots: streams longer than a threshold have snapshot_every; the longest
 *   replay a state load needs;
 * - projection NAME (one each): not failed, not stale (built by other rules), no
 *   skipped events; its lag and its age in wall-clock time (from the append);
 * - durability, integrity, positions: the store's own answers (store_health);
 * - scenarios: there are some, every command has one, every projection is
 *   checked by one;
 * - event types, handlers: types no command emits and no store holds; projection
 *   handlers for types nothing produces.
 *
 * Cost: the readable item reads every event; integrity reads the whole file;
 * snapshots list every stream. A checklist, not a hot path. */
#ifndef STRATA_DOCTOR_H
#define STRATA_DOCTOR_H

#include "domain.h"
#include "store.h"

enum doctor_level { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL };
/* "ok", "warn", "fail" */
const char *doctor_level_name(enum doctor_level l);

struct doctor_item {
    enum doctor_level level;
    const char *item;  /* "readable", "projection AccountList", ... */
    const char *found; /* what was found */
    const char *fix;   /* NULL when ok */
};
typedef void (*doctor_fn)(const struct doctor_item *it, void *ctx);

struct doctor_options {
    int64_t long_stream;  /* streams longer than this want snapshots (0: 200) */
    double lag_warn_secs; /* a projection behind for longer than this warns (0: 300) */
};

/* Runs every item, calling fn for each. *fails counts the failed ones. Returns
 * ST_OK, or ST_ERR when the store could not be read (e set). */
int doctor_run(struct store *s, const struct domain *d, const struct doctor_options *o,
               doctor_fn fn, void *ctx, int *fails, err *e);

/* The domain-coverage items (doctor_domain.c), given the (type, schema) counts
 * of the store: scenarios, event types, handlers. */
void doctor_coverage(const struct domain *d, const struct type_count *tc, size_t ntc, doctor_fn fn,
                     void *ctx, int *fails);

#endif
