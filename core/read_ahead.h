/* read_ahead.h: the next page of events read on a thread and a connection of
 * its own while the caller folds the page before it (projection_batch.c, while a
 * catch-up or a rebuild is far behind the head).
 *
 * Why: reading a page of events (stepping SQLite's join of event_log and streams,
 * copying each event's strings) is an eighth of a catch-up's work, and it does
 * not depend on the fold: on a second core it costs the fold no time at all
 * (bench/RESULTS.md, "Read ahead").
 *
 * Why it cannot give the fold a wrong page: events are never changed or deleted
 * once committed, and SQLite commits them in position order, so the events after
 * a position that one snapshot sees are a prefix of those that any later
 * snapshot sees. A page read ahead is used only when it is what the caller asks
 * for (the same start, limit and end position) and full (`limit` events); a short
 * page may be short only because its snapshot was older, so it is read again in
 * place, as is every page the thread could not read. Only an SQLite file's main
 * log is read ahead (read_ahead_open returns NULL for anything else: PostgreSQL,
 * a branch, ":memory:"); other stores read in place. */
#ifndef STRATA_READ_AHEAD_H
#define STRATA_READ_AHEAD_H

#include <stdbool.h>

#include "store.h"

struct read_ahead;

/* A reader for s's log on a connection and a thread of its own, or NULL when s
 * cannot have one (see above; also when the file cannot be opened again: the
 * caller then reads in place, so this is never an error). */
struct read_ahead *read_ahead_open(struct store *s);

/* The page of up to `limit` events after position `after` with position <= `to`
 * (0: no end) into out (which the caller has emptied), as store_read_page(s,
 * {.to = to}, after, false, limit, out, e) would put there: taken from the
 * thread when it read exactly that, else read on s. Then, when `more` is true
 * and the page was full, the thread starts reading the page after it. ra may be
 * NULL (read on s). */
int read_ahead_page(struct read_ahead *ra, struct store *s, int64_t after, int64_t to, size_t limit,
                    bool more, struct event_list *out, err *e);

/* Waits until the thread has read the page it was asked for (for tests). */
void read_ahead_wait(struct read_ahead *ra);

/* How many pages read_ahead_page took from the thread (0 for NULL). */
size_t read_ahead_taken(const struct read_ahead *ra);

/* Waits for the thread and frees everything (NULL is fine). */
void read_ahead_close(struct read_ahead *ra);

/* Whether read_ahead_open was asked to read ahead for every batch, not only far
 * behind: STRATA_PROJECTION_READ_AHEAD=1 in the environment (for tests, so that
 * small stores take this path too). */
bool read_ahead_always(void);

#endif
