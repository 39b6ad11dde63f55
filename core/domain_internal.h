/* domain_internal.h: what the parts of the domain loader share (not a public
 * header): the loader's context, its path of keys for messages, and the helpers
 * that turn YAML nodes into names, numbers, plain values, field specs and
 * compiled expressions while recording every problem as a diag.
 *
 * Parts, each using only those below it: domain_load.c (the file, the top level,
 * aggregates, commands, events), domain_projection.c (projections),
 * domain_parts.c (sources, scenarios), domain_types.c (record types under
 * `types:`), domain_message.c (rule messages with placeholders);
 * domain_upcast.c (an event's upcast steps and what their chain makes); field.c
 * (reading field specs, and field_check); domain_util.c (these helpers);
 * domain_model.c (diag lists, freeing, hashing); domain_schema.c (field types and
 * specs as data); yaml_tree.c (YAML). Lookups by name of a loaded domain, with
 * "did you mean" for typed names: domain_lookup.c (domain.h). */
#ifndef STRATA_DOMAIN_INTERNAL_H
#define STRATA_DOMAIN_INTERNAL_H

#include "core/domain.h"
#include "core/domain_schema.h"
#include "core/yaml_tree.h"

/* A sorted index of names, so lookups while loading stay fast in big files. */
struct name_ref {
    const char *name;
    void *ptr;
    size_t ord; /* order of definition: the first of equal names wins */
};
struct name_index {
    struct name_ref *refs;
    size_t n;
};

struct loader {
    const char *file; /* FILE in messages */
    struct diag_list *diags;
    struct domain *d;
    strbuf path;                        /* the path of keys to what is being read */
    struct name_index events, commands; /* built once their pass is done */
    const char *text; /* the file's bytes, to place errors inside multi-line expressions */
    size_t len;
    size_t *line_starts; /* byte offset of each line (built when first needed) */
    size_t nlines;
};

/* Lookups through the loader's indexes (NULL when absent). */
struct event_spec *ld_event(const struct loader *L, const char *name);
struct command_spec *ld_command(const struct loader *L, const char *name);
/* Starts a new budget for "did you mean" work (once per file loaded). */
void ld_suggest_reset(void);
void name_index_sort(struct name_index *ix);

/* Appends a problem at a position, with the loader's current path. */
void ld_diag_at(struct loader *L, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same at a node's position (line 0 when n is NULL). */
void ld_diag(struct loader *L, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_add(struct diag_list *d, const char *file, int line, int col, const char *path,
              const char *msg);

/* The path: ld_push returns a mark to give back to ld_pop. */
size_t ld_push(struct loader *L, const char *key);
size_t ld_push_index(struct loader *L, size_t i);
void ld_pop(struct loader *L, size_t mark);

/* n must be a mapping (NULL and a YAML null count as an empty one when allow_null).
 * On a mismatch reports "expected WHAT (a mapping), got ..." and returns false. */
bool ld_expect_map(struct loader *L, const struct ynode *n, const char *what, bool allow_null);
bool ld_expect_seq(struct loader *L, const struct ynode *n, const char *what, bool allow_null);
/* Reports every key of map not in allowed[0..n), with "did you mean". */
void ld_check_keys(struct loader *L, const struct ynode *map, const char *const *allowed, size_t n);
/* Key k stands where a name goes (what: "a command's name"), but is one of
 * keys[0..n), the keys of `owner` whose keys stand at column owner_col: a key
 * indented too deep or too little. Reports it as structural (sorted first, as
 * the problems that follow may all come from it) and returns true. */
bool ld_misplaced_key(struct loader *L, const struct ynode *k, const char *what,
                      const char *const *keys, size_t n, const char *owner, int owner_col);
/* The column of the first key of map (0 when it is not a mapping with keys). */
int ld_keys_col(const struct ynode *map);
/* Checks a name against [A-Za-z_][A-Za-z0-9_]*; kind is "field", "event", ... */
bool ld_check_name(struct loader *L, const struct ynode *keynode, const char *kind);
bool ld_valid_name(const char *s);
/* did_you_mean (util.h), within the file's budget for suggestions. */
const char *ld_suggest(const char *word, const char *const *candidates, size_t n);
/* A scalar's text, or NULL with a problem when n is not a scalar. */
const char *ld_string(struct loader *L, const struct ynode *n, const char *what);
/* A plain integer scalar within [min, max]. */
bool ld_int(struct loader *L, const struct ynode *n, const char *what, int64_t min, int64_t max,
            int64_t *out);
bool ld_bool(struct loader *L, const struct ynode *n, const char *what, bool *out);
/* A plain YAML value (core schema: null, true/false, ints, floats, else strings;
 * quoted scalars are always strings). Returns false (with a problem) only for an
 * integer that does not fit in 64 bits. */
bool ld_value(struct loader *L, const struct ynode *n, value *out);

/* Compiles the expression in scalar n. cond: the result must be bool when its
 * type is known statically. Problems are placed at the expression's column. */
expr *ld_compile(struct loader *L, const struct ynode *n, const struct expr_env *env, bool cond);
/* The same, with note (when not NULL) appended to each compile error's message,
 * e.g. "; the key is read for event 'Booked' (line 20)" when one expression is
 * checked against several schemas. */
expr *ld_compile_for(struct loader *L, const struct ynode *n, const struct expr_env *env, bool cond,
                     const char *note);

/* Schemas for expr_env: names borrowed from the fields, types owned. */
struct schema_buf {
    const char **names;
    expr_type *types;
    const struct expr_schema **subs; /* records' and typed containers' schemas */
    struct expr_schema s;
};
void schema_from_fields(struct schema_buf *sb, const struct field_spec *f, size_t n);
void schema_from_names(struct schema_buf *sb, char *const *names, const value *defaults, size_t n);
void schema_done(struct schema_buf *sb);
const struct expr_schema *meta_schema(void);
/* `meta` in a command's `require` and `emit`: only what is known before the command
 * runs, the stream and its version (the expected version a decision was made at). */
const struct expr_schema *command_meta_schema(void);

/* field.c: field specs. */
enum field_ctx { FIELD_PAYLOAD, FIELD_EVENT, FIELD_STATE };
/* Reads one field (`name: type` or `name: {type: ..., ...}`) into f (zeroed by the
 * caller). Returns false when it has problems (all reported). */
bool field_parse(struct loader *L, const struct ynode *key, const struct ynode *val,
                 enum field_ctx ctx, struct field_spec *f);
/* Reads a mapping of fields; *out gets an array of n entries. */
void fields_parse(struct loader *L, const struct ynode *map, enum field_ctx ctx,
                  struct field_spec **out, size_t *n);
/* did_you_mean over field names. */
const char *fields_suggest(const struct field_spec *f, size_t n, const char *name);

/* domain_upcast.c: reads an event's `upcast:` list (un, NULL when absent) into
 * e->upcasts, sorted by `from`, and checks the chain: a step from each older
 * version, and its output against e's fields. evkey places "missing" problems. */
void upcasts_load(struct loader *L, const struct ynode *un, const struct ynode *evkey,
                  struct event_spec *e);

/* domain_message.c: splits rs->message (read from node mn) around its {EXPR}
 * placeholders and compiles each in env, the rule's own names; fills
 * rs->texts, rs->holes, rs->nholes. Problems stand at the placeholder. */
void message_load(struct loader *L, const struct ynode *mn, const struct expr_env *env,
                  struct rule_spec *rs);

/* Reports an unknown event type at `at`, with "did you mean" over the domain's
 * events (domain_util.c, as the next one). */
void ld_unknown_event(struct loader *L, const struct ynode *at, const char *name);
/* ld_suggest over names[0..n) (NULL entries skipped). */
const char *ld_suggest_names(const char *word, char *const *names, size_t n);

/* domain_types.c: the top-level `types:` map into L->d->types: every name
 * first, so a record may name another declared after it (or itself), then
 * their fields, then what expressions know of them. */
void types_load(struct loader *L, const struct ynode *map);
/* The record type called name, or NULL (domain_util.c). */
const struct record_type *ld_record(const struct loader *L, const char *name);

/* domain_projection.c */
void projections_load(struct loader *L, const struct ynode *map);
bool projection_has_column(const struct projection_spec *p, const char *name);

/* domain_parts.c */
void sources_load(struct loader *L, const struct ynode *map);
bool source_parse(struct loader *L, const struct ynode *key, const struct ynode *val,
                  struct source_spec *s);
void scenarios_load(struct loader *L, const struct ynode *seq);
void source_spec_done(struct source_spec *s);

/* domain_model.c */
void aggregate_spec_done(struct aggregate_spec *a);
void projection_spec_done(struct projection_spec *p);
void scenario_spec_done(struct scenario_spec *s);
void assigns_free(struct assign *a, size_t n);
void diag_list_sort(struct diag_list *d);
/* 16 hex digits of h into out[17]. */
void hash_hex(uint64_t h, char out[17]);
uint64_t hash_str(uint64_t h, const char *s);
uint64_t hash_value(uint64_t h, const value *v);

#endif
