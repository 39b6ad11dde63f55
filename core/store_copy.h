/* store_copy.h: moving a store to another, of either backend (`strata copy`,
 * verbs/copy.c): everything that cannot be derived from the events, through the
 * store's operations (store.h), so that SQLite to PostgreSQL, back, and same to
 * same are one piece of code. */
#ifndef STRATA_STORE_COPY_H
#define STRATA_STORE_COPY_H

#include "store.h"

/* What a copy did. */
struct store_copy_stats {
    int64_t resumed_at; /* the destination's head when the copy began (0: from the start) */
    int64_t events;     /* events appended by this run */
    int64_t commands, times, ledger, snapshots, notes, rows;
};

/* Called after each batch with the events at the destination and the source's
 * head. */
typedef void (*store_copy_progress)(void *ctx, int64_t done, int64_t total);

/* Copies src into dst: the events with their positions, streams and versions, the
 * command ids, append times, the import ledger, snapshots, the store's notes
 * (strata_meta but its format_version: the domain record), skipped events and
 * branches (with their events). Events go in batches of `batch` events (0: 1000),
 * each one transaction with the command ids, append times and ledger rows of its
 * positions, so an interrupted copy keeps every batch it committed; run again, it
 * resumes from the destination's head when the destination holds the source's
 * first events (checked at the first and the last it holds) and refuses one that
 * diverges (ST_CONFLICT, nothing written). The tables that are not per position
 * are written after the events, in one transaction, again in full when a copy is
 * run again. Read models are not copied: they are derived, and are folded at the
 * destination on first use (`strata project`, the workbench). */
int store_copy(struct store *src, struct store *dst, int64_t batch, store_copy_progress progress,
               void *ctx, struct store_copy_stats *stats, err *e);

#endif
