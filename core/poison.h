/* poison.h: finding the stored events a domain cannot read ("poison events").
 *
 * Every appended event is valid when it is appended (event_check.h), but a store
 * can still hold events its domain cannot read: imported before the check existed
 * or without a domain (`--map`), or made invalid by a later edit of the domain.
 * `strata check --db STORE` lists them with this scan, so that a person can see
 * each one and tell the projections it stops to skip it (`project --skip`). */
#ifndef STRATA_POISON_H
#define STRATA_POISON_H

#include "domain.h"
#include "store.h"

/* One event d cannot read. */
struct poison {
    const struct event *ev; /* borrowed: valid during the callback */
    const char *reason;     /* why, without "event T at position P: " in front */
};

/* Called for each poison event; a non-zero return stops the scan (and is returned). */
typedef int (*poison_fn)(const struct poison *p, void *ctx);

/* Reads every event of s, in pages, and calls fn for each one d cannot read
 * (event_validate: an unknown type or schema version, data that is not valid
 * JSON or does not match the fields after its upcasts). *checked (may be NULL)
 * counts the events read, *found (may be NULL) the poison ones. Returns ST_OK,
 * fn's non-zero return, or ST_ERR when the store could not be read (e set). */
int poison_scan(struct store *s, const struct domain *d, poison_fn fn, void *ctx, int64_t *checked,
                int64_t *found, err *e);

#endif
