/* store_backend.h: what store.c gives the store's backends (store_sqlite*.c,
 * store_pg*.c), so that each checks an append's arguments, reports the events it
 * appended and waits for the head the same way. Nothing above the backends
 * includes this. */
#ifndef STRATA_STORE_BACKEND_H
#define STRATA_STORE_BACKEND_H

#include "store.h"

/* Checks an append's arguments as store.h's append describes them (a stream name,
 * n >= 1 events each with a type and data, a valid expected version, no empty
 * command id) and puts each event's time in the contract's text form into times
 * (NULL: now; text order is then time order). ST_USAGE with e set when something
 * does not fit. */
int store_append_check(const char *stream, int64_t expected_version, const char *command_id,
                       const struct new_event *events, size_t n, char (*times)[TIME_TEXT_LEN + 1],
                       err *e);

/* Puts a time in the contract's text form (so that text order is time order; NULL
 * means now) into out; false when in is not an ISO-8601 time. */
bool store_time_text(const char *in, char out[TIME_TEXT_LEN + 1]);

/* Appends to out the n events as stored: positions first, first + 1, ..., versions
 * version + 1, ... */
void store_push_appended(struct event_list *out, const char *stream, int64_t first, int64_t version,
                         const struct new_event *events, size_t n,
                         char (*times)[TIME_TEXT_LEN + 1]);

/* wait_head for a backend that nothing tells of new events: looks at the head
 * (ops->head) every STORE_WAIT_POLL_MS until it is past `after` or timeout_ms
 * passed. */
int store_poll_head(struct store *s, int64_t after, int timeout_ms, int64_t *head, err *e);

/* Drops from out the events past its first `had` (the ones a failed append pushed),
 * freeing their strings. */
void store_drop_appended(struct event_list *out, size_t had);

/* The positions a read_page wants, (lo, hi]: the filter's from/to (f may be NULL:
 * every event), narrowed by `after` (forward: past it; backward: before it). False
 * when the window is empty. */
bool store_page_window(const struct event_filter *f, int64_t after, bool backward, int64_t *lo,
                       int64_t *hi);

/* The error of an operation in a transaction an earlier failure rolled back
 * (ST_ERR). */
int store_aborted_error(err *e);

/* Appends text as a LIKE pattern that matches it anywhere: %TEXT%, with % _ and \
 * escaped by \ (both backends' text filter). */
void store_like_pattern(strbuf *sb, const char *text);

/* Grows l by one event and returns it (uninitialised). */
struct event *event_list_add(struct event_list *l);

/* Sets the strings of ev, an event of l just added, to copies of text[k] (len[k]
 * bytes each; stream, type, time, data, meta; NULL stays NULL) made in l's arena:
 * one block of memory for the page, freed by event_list_clear, not one by one. */
void event_list_set_strings(struct event_list *l, struct event *ev, const char *const text[5],
                            const size_t len[5]);

/* Frees the events of l after the first keep (store_drop_appended). */
void event_list_drop(struct event_list *l, size_t keep);

#endif
