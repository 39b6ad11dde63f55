/* domain.h: the domain model, as loaded from a YAML domain file.
 *
 * domain_load (domain_load.c) reads the YAML with libyaml, checks everything the
 * contract (domain-language.md) states, compiles every expression once, and
 * reports every problem as FILE:LINE:COL: error: PATH: message. The structs here
 * are what the rest of Strata runs: deciding and evolving (aggregate.c),
 * projections, sources for foreign files, scenarios, and the workbench's views.
 * Everything here is owned by the struct domain and freed by domain_free. */
#ifndef STRATA_DOMAIN_H
#define STRATA_DOMAIN_H

#include <regex.h>
#include <stdio.h>

#include "expr.h"
#include "util.h"
#include "value.h"

/* Where something stood in the YAML, for messages. */
struct srcpos {
    int line, col; /* 1-based; 0 when not from a file */
};

/* Field types of the contract. */
typedef enum ftype {
    F_STRING,
    F_INT,
    F_FLOAT,
    F_BOOL,
    F_TIMESTAMP,
    F_LIST,
    F_MAP,
    F_ANY,
    F_DURATION
} ftype;
/* "string", "int", ... (domain_schema.c, with the rest of what types are). */
const char *ftype_name(ftype t);
/* The value a field of type t starts at when it has no default: "" 0 0.0 false
 * [] {} "0s", and null for timestamp and any. */
value ftype_zero(ftype t);

struct record_type;

/* A field of a payload, of an event's `fields`, or of an aggregate's `state`. */
struct field_spec {
    char *name;
    ftype type;
    /* A declared record type (`types:`): the field is a map holding its fields
     * (type F_MAP). NULL otherwise. */
    const struct record_type *record;
    /* `list<T>` / `map<T>` (type F_LIST / F_MAP): a spec of each element (name
     * NULL, type T, required), and the schema expressions see for the container.
     * NULL when the elements are not typed. */
    struct field_spec *elem;
    struct expr_schema *shape;
    bool required; /* a bare type name, or a mapping with neither default nor optional */
    bool optional;
    bool has_default;
    value def; /* the default (null when none) */
    bool has_min, has_max;
    value min, max;                 /* int or double, compared with the field's type */
    int64_t min_length, max_length; /* -1 when not set */
    char *pattern;                  /* POSIX extended regex source, or NULL */
    regex_t pattern_re;             /* compiled when pattern != NULL */
    value enum_values;              /* a list, or null when not set */
    struct srcpos pos;
};

/* A record type declared once under `types:` (domain_types.c) and used as a
 * field type: `Booking`, `list<Booking>`, `map<Booking>`. */
struct record_type {
    char *name;
    struct field_spec *fields;
    size_t nfields;
    /* what expressions know of it: names, types, nested schemas */
    const char **names;
    expr_type *types;
    const struct expr_schema **subs;
    struct expr_schema schema;
    struct srcpos pos;
};

/* The type of f as written: "int", "Booking", "list<Booking>", "map<int>". */
const char *field_type_name(const struct field_spec *f, char *buf, size_t size);

/* Checks v against f (type, min/max, lengths, pattern, enum). On failure returns
 * ST_ERR with a message naming the field and the constraint, e.g.
 * "field 'amount': 0 is below the minimum 1". A timestamp must be an ISO-8601
 * date-time with an offset or Z, a duration CEL's text ("90m"); field_coerce
 * (domain_schema.h) then gives the canonical text to store. */
int field_check(const struct field_spec *f, const value *v, err *e);
/* field_check for a value read back from a store: a timestamp an older Strata
 * stored as written (a bare date, no offset) is read as the instant it names
 * (instant_parse_stored) rather than refused; it is normalized when read. */
int field_check_stored(const struct field_spec *f, const value *v, err *e);

/* A rule: a boolean expression and the message shown when it is false. */
struct rule_spec {
    expr *rule;
    char *message; /* as written, placeholders and all */
    /* The message's {EXPR} placeholders, compiled when the domain loads
     * (domain_message.c): the text shown is texts[0] holes[0] texts[1] ...
     * holes[nholes - 1] texts[nholes] (rule_message.h formats it). texts is NULL
     * when the message has no placeholder and no doubled brace. */
    char **texts;
    expr **holes;
    size_t nholes;
    struct srcpos pos;
};

/* One assignment `name: expression` (apply, emit fields, set, projection handlers). */
struct assign {
    char *name;
    expr *value;
    struct srcpos pos;
};

struct event_spec;
struct aggregate_spec;

/* The parts of `meta` (domain-language.md) that expressions read, so that folding
 * an event builds only those: the store's own fields one by one, and the event's
 * stored meta (command, commandId, ...: a JSON parse) as one part. */
enum {
    META_STREAM = 1u << 0,
    META_AGGREGATE = 1u << 1,
    META_AGGREGATE_ID = 1u << 2,
    META_VERSION = 1u << 3,
    META_POSITION = 1u << 4,
    META_TIME = 1u << 5,
    META_TYPE = 1u << 6,
    META_SCHEMA = 1u << 7,
    META_STORED = 1u << 8, /* the event's own meta, parsed */
    META_ALL = (1u << 9) - 1,
};
/* What of `meta` x reads (x may be NULL: nothing). */
unsigned meta_need_of(const expr *x);

/* One `emit` entry of a command. */
struct emit_spec {
    struct event_spec *event; /* the event emitted */
    expr *when;               /* NULL = always */
    struct assign *fields;
    size_t nfields;
    struct srcpos pos;
};

struct command_spec {
    char *name;
    struct aggregate_spec *aggregate;
    struct field_spec *payload;
    size_t npayload;
    struct rule_spec *require;
    size_t nrequire;
    struct emit_spec *emits;
    size_t nemits;
    struct srcpos pos;
};

/* One upcast step from version `from` to from + 1, applied in the order rename,
 * default, set, drop. */
struct upcast_step {
    int from;
    char **rename_from, **rename_to;
    size_t nrename; /* old name -> new name */
    char **default_names;
    value *default_values;
    size_t ndefault; /* only if absent */
    struct assign *set;
    size_t nset; /* expressions over `event` (the data so far) */
    char **drop;
    size_t ndrop;
    struct srcpos pos;
};

struct event_spec {
    char *name;
    struct aggregate_spec *aggregate;
    int version; /* current schema version, default 1 */
    struct field_spec *fields;
    size_t nfields;
    struct assign *apply; /* state field := expression over state and event */
    size_t napply;
    struct upcast_step *upcasts; /* sorted by from; upcasts[i].from == i + 1 */
    size_t nupcasts;
    struct srcpos pos;
    /* What of `meta` its apply and upcasts read (set with the aggregate's
     * rules_hash); not known: all of it. */
    unsigned meta_need;
    bool meta_known;
};

struct aggregate_spec {
    char *name;
    char *id_field;           /* payload field naming the instance; stream is NAME-<id> */
    int snapshot_every;       /* 0 = no snapshots */
    struct field_spec *state; /* with defaults: the initial state */
    size_t nstate;
    struct rule_spec *invariants;
    size_t ninvariants;
    struct command_spec *commands;
    size_t ncommands;
    struct event_spec *events;
    size_t nevents;
    /* Hash of everything that shapes state (state fields and defaults, every apply,
     * every upcast), hex: a snapshot made under another hash is never served. */
    char rules_hash[17];
    struct srcpos pos;
};

/* A projection's handler for one event type. */
struct handler_spec {
    char *event_type;
    expr *when; /* NULL = always */
    struct assign *set;
    size_t nset;
    bool delete_row; /* `delete: true` */
    /* `for_each: EXPR`: a list of row keys, used instead of the projection's key;
     * the handler runs once per key, with `key` bound to it. NULL: the key. */
    expr *for_each;
    struct srcpos pos;
    /* What of `meta` its when, for_each, set and the projection's key read (set
     * with the projection's rules_hash); not known: all of it. */
    unsigned meta_need;
    bool meta_known;
};

struct projection_spec {
    char *name;
    expr *key;       /* NULL: a single row */
    char **columns;  /* declared column names, in order */
    value *defaults; /* their plain-YAML defaults */
    /* Their types (`{type: int, default: 0}`, or the bare default's type), as
     * field specs (name and type only), so a handler's value is checked by
     * field_check before it is stored. */
    struct field_spec *coltypes;
    size_t ncolumns;
    /* Many rows: a key, or `for_each` in every handler. Without either, the
     * projection is one row (key ''). */
    bool keyed;
    struct handler_spec *handlers;
    size_t nhandlers;
    char rules_hash[17]; /* key, columns, defaults, handlers: a changed definition is stale */
    struct srcpos pos;
};

typedef enum source_format { SRC_NDJSON, SRC_JSON, SRC_CSV, SRC_CLOUDEVENTS } source_format;

/* How to read a foreign event file; every expression is over `record`. */
struct source_spec {
    char *name;
    source_format format;
    char *records;    /* json only: dotted path to the array of records, NULL = the document is the
                         array */
    char delimiter;   /* csv only; ',' by default */
    int timezone_min; /* offset east of UTC for times without a zone; 0 = UTC */
    bool has_timezone;
    expr *skip, *stream, *type, *time, *data, *meta; /* NULL = the format's default */
    expr *id; /* the record's identity for the import ledger (core/import_identity.h), or NULL */
    struct srcpos pos;
};

/* A scenario: given events, when a command, then expectations. */
struct scenario_event {
    char *stream;
    char *type;
    int schema; /* 0 = the event's current version */
    char *time; /* contract text form, or NULL */
    value data;
};
struct scenario_spec {
    char *name;
    struct scenario_event *given;
    size_t ngiven;
    bool has_when;
    char *when_command;
    value when_payload; /* a map */
    bool has_when_expect_version;
    int64_t when_expect_version; /* `expect_version: N`: run with that expected version */
    bool has_when_time;
    int64_t when_time_ms; /* `time: T`: the command's clock (what now() returns) */
    /* then */
    char *then_rejected; /* expected rejection message, or NULL */
    char *then_invalid;  /* expected payload refusal: text its message contains, or NULL */
    bool has_then_events;
    value then_events; /* list of {type, data} maps */
    bool has_then_state;
    value then_state; /* map of fields; without `when` it also names aggregate and id */
    bool has_then_projections;
    /* map: projection name -> a list of rows (exactly these) or a map {contains: [rows],
     * absent: [keys]}; the loader has checked the shape */
    value then_projections;
    struct srcpos pos;
};

struct domain {
    char *file; /* the path it was loaded from */
    char *name;
    char *description;
    int version;
    struct record_type *types; /* `types:` */
    size_t ntypes;
    struct aggregate_spec *aggregates;
    size_t naggregates;
    struct projection_spec *projections;
    size_t nprojections;
    struct source_spec *sources;
    size_t nsources;
    struct scenario_spec *scenarios;
    size_t nscenarios;
};

/* Problems found while loading: every one, not only the first. */
struct diag {
    char *file;
    int line, col;
    char *path; /* aggregates.Account.commands.Withdraw.require[1].rule */
    char *message;
    /* A problem with the file's shape (YAML itself, or a key at the wrong
     * indentation): sorted before every other, since those may only follow
     * from it. */
    bool structural;
};
struct diag_list {
    struct diag *items;
    size_t len, cap;
};
void diag_list_init(struct diag_list *d);
void diag_list_done(struct diag_list *d);
/* Prints each as FILE:LINE:COL: error: PATH: MESSAGE (one per line). */
void diag_list_print(const struct diag_list *d, FILE *out);

/* Loads and checks a domain file. Returns the domain, or NULL when there were
 * problems (all of them in diags). */
struct domain *domain_load(const char *path, struct diag_list *diags);
/* Loads a scenarios file (`domain: NAME` and `scenarios:`, as `strata exec
 * --record` writes them) against d, whose own scenarios it replaces. A file for
 * another domain (its `domain:` names another), or any other top-level key, is a
 * problem in diags. Returns ST_OK, or ST_ERR with the problems added. */
int domain_load_scenarios(struct domain *d, const char *path, struct diag_list *diags);
/* True when the file at path has a YAML mapping at its top without `aggregates:`
 * (a scenarios file rather than a domain); false when it cannot tell. */
bool domain_file_is_scenarios(const char *path);
/* The same from a buffer; `name` is used as FILE in messages. Fuzz targets call this. */
struct domain *domain_load_buffer(const char *name, const char *text, size_t len,
                                  struct diag_list *diags);
/* Loads a stand-alone source map file (`strata import --map FILE`): one source's
 * keys at the top level. */
struct source_spec *source_load_map(const char *path, struct diag_list *diags);
void source_free(struct source_spec *src);
void domain_free(struct domain *d);

/* Lookups (domain_lookup.c); NULL when absent (or when d or name is NULL). */
struct aggregate_spec *domain_aggregate(const struct domain *d, const char *name);
struct command_spec *domain_command(const struct domain *d, const char *name);
struct event_spec *domain_event(const struct domain *d, const char *type);
struct projection_spec *domain_projection(const struct domain *d, const char *name);
struct source_spec *domain_source(const struct domain *d, const char *name);

/* Lookups of a name a user typed (command line, workbench palette and forms): the
 * same as above, but a miss also fills e (when not NULL) with code ST_NOT_FOUND
 * and a message ready to show, with no prefix:
 *   unknown command 'Depositt' (did you mean 'Deposit'?)
 *   unknown command 'Zzz' in domain bank        (nothing close enough)
 *   unknown command 'Zzz': domain bank has no commands
 * (likewise "unknown aggregate", "unknown event type", "unknown projection").
 * The suggestion is util.h's did_you_mean over every name of that kind in the
 * domain, however many there are. A NULL name is looked up as "". The result
 * points into d (never freed by the caller); e is left as it was on a hit. */
struct aggregate_spec *domain_find_aggregate(const struct domain *d, const char *name, err *e);
struct command_spec *domain_find_command(const struct domain *d, const char *name, err *e);
struct event_spec *domain_find_event(const struct domain *d, const char *type, err *e);
struct projection_spec *domain_find_projection(const struct domain *d, const char *name, err *e);

#endif
