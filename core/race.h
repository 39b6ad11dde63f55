/* race.h: two commands racing for one stream (`strata race`, the workbench's
 * `:race`), told step by step.
 *
 * Both commands are decided against the same loaded state, as two clients that
 * loaded it at the same moment would (both loads under the store's write lock,
 * so no other writer appends between them; nothing is written under it). The first appends with the
 * version it loaded; the second then appends with the same expected version and meets the conflict
 * (the store refuses it), and is decided again on the fresh state (a retry, as `strata exec` does)
 * or, without retry, stops there. Every step goes to the narrator with the lines of
 * core/command_narrate.h, each line starting with "first: " or "second: " (or neither, for what
 * concerns both). */
#ifndef STRATA_RACE_H
#define STRATA_RACE_H

#include "aggregate.h"
#include "command_narrate.h"

struct race_result {
    struct command_result first, second; /* what each ended with (appended, rejection) */
    int first_status;                    /* ST_OK, ST_REJECTED, ST_CONFLICT, ST_ERR */
    int64_t version;                     /* the second's stream version both decided on */
    bool same_stream;                    /* both commands write one stream */
    bool conflicted;                     /* the second's first append met a conflict */
    bool retried;                        /* and it was decided again on the fresh state */
};
void race_result_init(struct race_result *r);
void race_result_done(struct race_result *r);

/* Runs the race: a then b (their expected_version and narrate are ignored; both
 * use a's clock, or the real one when a->now_ms is 0). retry: decide b again
 * after its conflict. n may be NULL. Returns how the second ended: ST_OK (accepted,
 * after the retry when there was a conflict), ST_REJECTED (a rule refused it on the
 * fresh state, or already on the shared one when no conflict came), ST_CONFLICT
 * (the conflict, not retried), or ST_ERR with e saying why. */
int command_race(struct store *s, const struct domain *d, const struct command_request *a,
                 const struct command_request *b, bool retry, const struct command_narrator *n,
                 struct race_result *out, err *e);

#endif
