/* state_cache.h: aggregate states loaded through a store handle, kept so that the
 * handle's next command on the same stream starts from memory instead of reading
 * the snapshot and replaying the events after it (core/aggregate.c).
 *
 * An entry is the state of one stream folded up to a version, under the
 * aggregate's rules_hash: exactly what a snapshot is, kept in memory. It is never
 * trusted beyond that version: a load still reads every event after it, so
 * appends by anyone since (another process included) are folded in, and a change
 * of rules (another rules_hash) misses. Events are never changed once written, so
 * a state at version v stays the state at version v.
 *
 * Bounded: at most STATE_CACHE_MAX entries; the table is emptied when full. */
#ifndef STRATA_STATE_CACHE_H
#define STRATA_STATE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "value.h"

#define STATE_CACHE_MAX 1024

struct state_cache;

/* The state of stream under rules_hash at the newest version kept, if any: *state
 * is a copy the caller owns. */
bool state_cache_get(struct state_cache *c, const char *stream, const char *rules_hash,
                     value *state, int64_t *version, int64_t *position);
/* Keeps a copy of state as the stream's state at version (position), unless an
 * entry at a later version is kept already. *c is created on first use. */
void state_cache_put(struct state_cache **c, const char *stream, const char *rules_hash,
                     const value *state, int64_t version, int64_t position);
void state_cache_free(struct state_cache *c);

#endif
