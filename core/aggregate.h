/* aggregate.h: deciding and evolving, the heart of event sourcing.
 *
 * decide(command, state) -> events; evolve(state, event) -> state (the Decider
 * pattern). A command loads its aggregate's state (the newest valid snapshot,
 * then the events after it, each upcast to its current version), validates the
 * payload, checks `require` in order, evaluates `emit`, applies the new events,
 * checks `invariants`, and appends everything atomically with the stream's
 * expected version, retrying a bounded number of times when another writer got
 * there first. The same loading serves `strata state --at`, scenarios, and the
 * workbench's time travel. */
#ifndef STRATA_AGGREGATE_H
#define STRATA_AGGREGATE_H

#include "domain.h"
#include "event_meta.h"
#include "store.h"
#include "value.h"

/* An event read back and made ready for expressions. */
struct decoded_event {
    const struct event *ev;        /* borrowed */
    const struct event_spec *spec; /* NULL when the domain does not know the type */
    value data;                    /* the data, upcast to the current version (unless raw) */
    value meta;                    /* what `meta` means in expressions (domain-language.md) */
    int schema;                    /* the schema version `data` is at now */
    unsigned meta_need;            /* what `meta` was built of, when another event's may
                                      be built into it (no META_STORED); else 0 */
};

/* A `meta` map kept from one event to the next of a fold (event_decode_keep), so
 * that the next is built into it rather than made anew, one for each need: zero
 * it to begin, meta_keep_done at the end. */
#define META_KEEP 4 /* the needs kept (a projection's handlers read a few) */
struct meta_keep {
    value meta[META_KEEP]; /* null: none */
    unsigned need[META_KEEP];
};
void meta_keep_done(struct meta_keep *keep);

/* Parses ev's data and meta and, when upcast is true and the domain knows the type,
 * upcasts it step by step to the event's current version. An event whose stored
 * schema the domain cannot upcast (a gap, or newer than the domain knows) is an
 * error naming the event and its position. d may be NULL (then nothing is upcast). */
int event_decode(const struct domain *d, const struct event *ev, bool upcast,
                 struct decoded_event *out, err *e);
/* The same with only the parts `need` (META_*, domain.h) of `meta` built: what the
 * expressions about to be evaluated read (a projection handler's meta_need). */
int event_decode_need(const struct domain *d, const struct event *ev, bool upcast, unsigned need,
                      struct decoded_event *out, err *e);
/* The same, building meta into keep's map when it was built of the same need. */
int event_decode_keep(const struct domain *d, const struct event *ev, bool upcast, unsigned need,
                      struct meta_keep *keep, struct decoded_event *out, err *e);
void decoded_event_done(struct decoded_event *de);
/* decoded_event_done, keeping de's meta in keep for the next event_decode_keep. */
void decoded_event_done_keep(struct decoded_event *de, struct meta_keep *keep);

/* Checks that d can read ev as it would read it back, before it is appended (an
 * import, a replay, a scenario's given) or over a stored one (`check --db`): a
 * type d declares, a schema version it knows, data that, upcast to the current
 * version, matches the declared fields (event_check.h). data, when not NULL, is
 * ev->data already parsed. as_stored: ev is a stored one (`check --db`), whose
 * timestamps an older Strata may have kept as written (they are read as the instants
 * they name); false before an append, where only normalized-able instants pass.
 * Returns ST_OK or ST_ERR with e saying why. */
int event_validate(const struct domain *d, const struct event *ev, const value *data,
                   bool as_stored, err *e);

/* Upcasts data (owned, replaced in place) from schema `from` to spec->version. */
int event_upcast(const struct event_spec *spec, int from, value *data, const value *meta, err *e);

/* The stream of an aggregate instance: "Account-42". Caller frees. */
char *aggregate_stream(const struct aggregate_spec *a, const char *id);
/* aggregate_for_stream ("Account-42" -> Account) is in event_meta.h. */

/* An aggregate instance's state as of a point. */
struct agg_state {
    value state;        /* a map with every state field */
    int64_t version;    /* stream version folded in (0 = no events) */
    int64_t position;   /* global position of that version's event (0 = none) */
    int64_t replayed;   /* events folded after the snapshot (for tests and benchmarks) */
    bool from_snapshot; /* a snapshot was used */
};
void agg_state_done(struct agg_state *st);

/* The initial state: every state field with its default. */
value aggregate_initial_state(const struct aggregate_spec *a);

/* Applies one decoded event to state (owned, replaced). */
int aggregate_apply(const struct aggregate_spec *a, const struct decoded_event *de, value *state,
                    err *e);

/* Decodes, upcasts and applies one stored event to state (owned, replaced): what a
 * replay does per event. It builds `meta` only when the event's rules read it. */
int aggregate_fold(const struct domain *d, const struct aggregate_spec *a, const struct event *ev,
                   value *state, err *e);

/* Loads the state of instance `id` as of global position max_position (0 = now),
 * using the newest snapshot at or before it whose rules hash matches. When
 * write_snapshots is true, snapshots due by snapshot_every are written on the way. */
int aggregate_load(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                   const char *id, int64_t max_position, bool write_snapshots,
                   struct agg_state *out, err *e);

struct command_narrator; /* command_narrate.h */

/* A command to run. */
struct command_request {
    const struct command_spec *command;
    value payload;              /* a map, borrowed; validated and defaulted by command_execute */
    const char *command_id;     /* NULL: none (then the command is not idempotent) */
    const char *correlation_id; /* NULL: none */
    const char *causation_id;   /* NULL: none */
    int64_t expected_version;   /* STORE_ANY_VERSION: decide on fresh state, retry on conflict */
    int max_retries;            /* conflicts retried when expected_version is ANY; 0 = default 10 */
    int64_t now_ms;             /* what now() returns; 0 = the clock */
    /* Tells each step (exec --explain, the workbench's Log view); NULL: none, and
     * then nothing is formatted or allocated for it. */
    const struct command_narrator *narrate;
};

struct command_result {
    int status;                 /* ST_OK, ST_REJECTED, ST_CONFLICT, ST_ERR */
    bool duplicate;             /* the command id was seen: appended holds the first run's events */
    struct event_list appended; /* the events appended */
    char *rejected;             /* the rule's message when rejected */
    /* The failed rule with its values:
     * "state.balance (150) >= payload.amount (151) is false". */
    char *explanation;
    int attempts; /* how many times it decided (1 + the conflicts it retried) */
};
void command_result_init(struct command_result *r);
void command_result_done(struct command_result *r);

/* Validates payload against the command's schema, filling defaults: a new map in
 * *out. A missing required field, a wrong type or a broken constraint is ST_ERR
 * naming the field and the constraint. */
int command_validate_payload(const struct command_spec *c, const value *payload, value *out,
                             err *e);

/* Parses `field=value` words into a payload, typed by the command's schema:
 * amount=50 is the int 50 when amount is an int, and an error naming the field when
 * it is not a number. Strings are taken as they are; list/map/any fields read JSON. */
int command_payload_from_args(const struct command_spec *c, char **args, int n, value *out, err *e);

/* Runs a command end to end. Returns res->status; e is set for ST_ERR and
 * ST_CONFLICT (and holds the rejection message for ST_REJECTED). */
int command_execute(struct store *s, const struct domain *d, const struct command_request *req,
                    struct command_result *res, err *e);

/* Decides a command on the current state without appending anything: validates the
 * payload, loads the state (into *st, which the caller frees with agg_state_done,
 * also on error), checks require, evaluates emit, checks invariants. On ST_OK
 * res->appended holds the events it would append (position 0); ST_REJECTED and
 * ST_ERR are reported as command_execute reports them. */
int command_preview(struct store *s, const struct domain *d, const struct command_request *req,
                    struct agg_state *st, struct command_result *res, err *e);

#endif
