/* store_branch.h: what-if branches of the log (design.md, "Explain and what-if").
 *
 * A branch NAME sees main's events up to its fork point P, then its own events,
 * which live in the table branch_events (store format 6, "branches") and never
 * in event_log: main's positions, streams and `events` view are untouched by a
 * branch. Creating one writes one row of the branches table; nothing is copied,
 * so a branch of ten million events costs only its own events.
 *
 * An open branch is a store like any other (store.h's operations, from
 * store_open with opt->branch): reads give main up to P then the branch's
 * events, whose positions continue from P; appends go to branch_events, with
 * expected versions and command ids checked against main up to P plus the
 * branch; snapshots past P are ignored, and a branch stores none. So every verb
 * works on a branch without knowing it. Its read models are tables of its own
 * (core/projection_branch.c).
 *
 * Both backends: the branch's own statements are plain SQL run on main's
 * connection through store_branch_sql.h (SQLite or PostgreSQL). */
#ifndef STRATA_STORE_BRANCH_H
#define STRATA_STORE_BRANCH_H

#include "store.h"

struct branch_info {
    char *name;
    int64_t fork;     /* its fork point: main's position it sees up to */
    char *created_at; /* contract time text */
    int64_t events;   /* how many events of its own */
    int64_t head;     /* its last position (fork when it has none) */
};
void branch_info_free(struct branch_info *b, size_t n);
void branch_info_free_one(struct branch_info *b); /* its strings, not b */

/* True when name may name a branch: 1..64 of [A-Za-z0-9_.-], not "main". */
bool store_branch_name_ok(const char *name);

/* Creates branch `name` of the main store s at position `at` (0 = the head);
 * *fork receives the fork point. ST_USAGE for a bad name or a position past the
 * head, ST_ERR when it exists already. */
int store_branch_create(struct store *s, const char *name, int64_t at, int64_t *fork, err *e);
/* The branches of the main store s, by name (*out NULL when none). */
int store_branch_list(struct store *s, struct branch_info **out, size_t *n, err *e);
/* One branch's description; ST_NOT_FOUND (said plainly) when there is none. */
int store_branch_get(struct store *s, const char *name, struct branch_info *out, err *e);
/* Deletes branch `name` and its events, inside the caller's transaction on s
 * (store_begin). ST_NOT_FOUND when there is none. */
int store_branch_drop(struct store *s, const char *name, err *e);

/* Opens branch `name` over the main store `main`, which it takes: closed with the
 * branch, or at once when the branch cannot be opened (NULL, e set). */
struct store *store_branch_open(struct store *main, const char *name, err *e);

/* When s is a branch: true, with its name, fork point and main store (any may be
 * NULL). False for a main store. */
bool store_branch_of(struct store *s, const char **name, int64_t *fork, struct store **main);

/* A place for the layer above (read models) to keep what lives as long as the
 * open branch: set keeps p (freeing the previous one) and free_fn(p) runs at
 * close; get gives it back (NULL when none, or s is not a branch). */
void *store_branch_slot_get(struct store *s);
void store_branch_slot_set(struct store *s, void *p, void (*free_fn)(void *));

#endif
