/* expr.h: the expression language, a strict subset of CEL (domain-language.md).
 *
 * Expressions are compiled once, when a domain loads, into a tree whose names are
 * already resolved (`state` is root slot 1, not a string to look up) and whose
 * constant parts are folded; evaluation then runs millions of times in a replay
 * without re-parsing. Every evaluation has a work budget and a depth cap, so no
 * expression can hang or exhaust memory, and nothing in the language reads files,
 * the environment, or the clock (except now(), and only where allowed).
 *
 * Semantics are CEL's: int64 and double distinct with no implicit conversion
 * in arithmetic (but `==` and `<` compare them as numbers, cel-spec's
 * heterogeneous equality), overflow and division by zero are errors, && and || short-circuit left
 * to right (and, as in CEL, absorb an error on the side that does not matter). */
#ifndef STRATA_EXPR_H
#define STRATA_EXPR_H

#include "util.h"
#include "value.h"

/* The names an expression may start from. Each slot of the domain allows some. */
enum expr_root {
    ROOT_PAYLOAD = 0,
    ROOT_STATE,
    ROOT_EVENT,
    ROOT_ROW,
    ROOT_META,
    ROOT_RECORD,
    ROOT_KEY, /* a projection handler with `for_each`: the row's key (text) */
    /* An event's envelope, for log filters (`--where`): `type == 'X'`. These are
     * never implied by a NULL env (strata eval, the CEL conformance cases), only
     * allowed by name, so nowhere else do `type` or `time` become reserved. */
    ROOT_TYPE,     /* string */
    ROOT_STREAM,   /* string */
    ROOT_TIME,     /* timestamp */
    ROOT_POSITION, /* int */
    ROOT_COUNT
};
#define ROOT_BIT(r) (1u << (r))
#define ROOT_ENVELOPE_BITS                                                                         \
    (ROOT_BIT(ROOT_TYPE) | ROOT_BIT(ROOT_STREAM) | ROOT_BIT(ROOT_TIME) | ROOT_BIT(ROOT_POSITION))
/* The roots a NULL env allows: all but the envelope's. */
#define ROOT_DEFAULT_BITS (((1u << ROOT_COUNT) - 1) & ~ROOT_ENVELOPE_BITS)
#define EXPR_ALLOW_NOW                                                                             \
    (1u << 16) /* now() is allowed (in `require` and `emit`: the command's clock) */

/* Caps that keep hostile expressions harmless. */
#define EXPR_MAX_LENGTH 8192 /* characters in one expression's source */
#define EXPR_MAX_DEPTH 64    /* nesting of the syntax tree */
#define EXPR_DEFAULT_BUDGET                                                                        \
    1000000 /* work units per evaluation (nodes + elements visited): enough for                    \
             a read model that keeps a list of 100k ids, small enough that the                     \
             worst expression still ends within tens of milliseconds */

/* Type hints for static checks; EXPR_T_ANY when unknown. */
typedef enum expr_type {
    EXPR_T_ANY = 0,
    EXPR_T_NULL,
    EXPR_T_BOOL,
    EXPR_T_INT,
    EXPR_T_DOUBLE,
    EXPR_T_STRING,
    EXPR_T_TIMESTAMP,
    EXPR_T_LIST,
    EXPR_T_MAP,
    EXPR_T_DURATION
} expr_type;

/* What is known of one root's fields, for "unknown field" errors with "did you
 * mean". When fields == NULL the root's fields are not known and not checked.
 * Schemas nest, so that `state.bookings[b].guest` is checked too: a field whose
 * value is a record has that record's schema in subs; a field that is a list or
 * map of known elements has a schema with fields == NULL and elem (the
 * elements' schema, or NULL) and elem_type. */
struct expr_schema {
    const char *const *fields; /* names */
    const expr_type *types;    /* same length; may be NULL */
    size_t nfields;
    const struct expr_schema *const *subs; /* same length; may be NULL, as may each */
    const char *name;                      /* in messages ("Booking"); NULL: the root's */
    const struct expr_schema *elem;        /* a list or map: its elements' schema */
    expr_type elem_type;                   /* a list or map: its elements' type */
};

/* Where an expression may be used and what it can see. */
struct expr_env {
    unsigned allowed;                             /* ROOT_BIT(...) | EXPR_ALLOW_NOW */
    const struct expr_schema *schema[ROOT_COUNT]; /* NULL = fields unchecked */
    const char *slot;                             /* for messages: "emit", "apply", "rule", ... */
};

typedef struct expr expr;

/* Compiles src[0..len). env may be NULL (every root allowed, nothing checked,
 * as `strata eval` does). Returns NULL on error with ee (if not NULL) filled: a
 * message that names what is wrong, e.g. "unknown field 'balanse' of state (did
 * you mean 'balance'?)", and ee->col, the column (1-based, in bytes, within the
 * expression's source). No file and no line: the caller knows where the
 * expression stands (a domain file's line and column, an option). */
expr *expr_compile(const char *src, size_t len, const struct expr_env *env, err *ee);
void expr_free(expr *x);
const char *expr_source(const expr *x);
/* True when x may read root r (so a caller can skip building a root no expression
 * reads, such as `meta` in a replay). Never false when x does read it. */
bool expr_uses_root(const expr *x, enum expr_root r);
/* When x reads root r only as `r.NAME` or `has(r.NAME)`: calls fn with each NAME
 * (perhaps more than once) and returns true. False when it may read r some other
 * way (whole, indexed, in a macro): then every part of r may be read. */
bool expr_root_fields(const expr *x, enum expr_root r,
                      void (*fn)(void *ctx, const char *name, size_t len), void *ctx);
/* The statically known result type, EXPR_T_ANY when not known. */
expr_type expr_result_type(const expr *x);

/* Where an expression's source stood in a file (expr_origin.c), so that an
 * evaluation error can name FILE:LINE:COL however the YAML scalar was written.
 * A span says that the source from byte `off` on stands at line/col of the file
 * (col in characters) and runs on along that line: a scalar on one line has one
 * span; a literal (`|`) or folded (`>-`) one has one per line, since YAML joined
 * its lines with newlines or spaces and dropped their indentation. */
struct expr_span {
    size_t off;
    int line, col;
};
/* Gives x its origin: file and spans[0..n) (both copied; spans in order of off).
 * Evaluation errors then read "FILE:LINE:COL: `SRC`: MESSAGE" in place of
 * "`SRC`: column N: MESSAGE". */
void expr_set_origin(expr *x, const char *file, const struct expr_span *spans, size_t n);
/* The file position of byte off of src, by spans[0..n); false when n is 0. */
bool expr_span_locate(const char *src, const struct expr_span *spans, size_t n, size_t off,
                      int *line, int *col);

/* Where x's source starts in its file (FILE:LINE:COL for `strata why`): false
 * when x has no origin. *file points into x. */
bool expr_origin(const expr *x, const char **file, int *line, int *col);

/* The values the roots have for one evaluation. Unused roots may stay null. */
struct expr_vars {
    value roots[ROOT_COUNT]; /* borrowed: not freed by expr_eval */
    int64_t now_ms;          /* what now() returns (a timestamp) */
    int64_t budget;          /* 0 = EXPR_DEFAULT_BUDGET */
};

/* Evaluates x. On success returns ST_OK and *out owns the result, in which every
 * timestamp and duration has become its canonical text (2026-03-01T08:00:00.000Z,
 * 5400s), the form fields store: values outside expressions are JSON's. On error returns
 * ST_ERR with e->msg like "`state.balance / payload.n`: column 15: division by zero",
 * or "bank.yaml:14:29: `state.balance / payload.n`: division by zero" when x has
 * an origin. */
int expr_eval(const expr *x, const struct expr_vars *vars, value *out, err *e);
/* A few simple shapes of expression over one root (root.name; string literals
 * and root.name joined with +; a map literal of root.name and int(root.name)
 * with string-literal keys), evaluated without the evaluator for an import's
 * records (core/expr_fast.c). expr_fast_plan gives NULL for any other shape.
 * expr_fast_eval gives true with *out exactly what expr_eval would give, with
 * `root` as that root and every other root null; false when the value does not
 * fit the fast form (a missing field, another type...): then call expr_eval,
 * which gives the value or the error. */
struct expr_fast;
struct expr_fast *expr_fast_plan(const expr *x, int root);
bool expr_fast_eval(const struct expr_fast *f, const value *root, value *out);
/* For a map-shaped plan: appends the JSON text json_write would give for the
 * value (true), without making the value; false (nothing appended) as above. */
bool expr_fast_json(const struct expr_fast *f, const value *root, strbuf *sb);
/* For a plan whose value is a string (root.name holding a string; a
 * concatenation): its text, without making the value: the field's own bytes or
 * buf's, *len of them (not NUL-terminated); NULL when the plan has another
 * shape or the record does not fit, as expr_fast_eval. What it gives is the
 * text of the string expr_fast_eval would give. */
#define EXPR_FAST_TEXT_MAX 4096 /* a longer concatenation is left to the evaluator */
const char *expr_fast_text(const struct expr_fast *f, const value *root,
                           char buf[EXPR_FAST_TEXT_MAX], size_t *len);
void expr_fast_free(struct expr_fast *f);

/* Evaluates x as a condition: non-bool results are an error. */
int expr_eval_bool(const expr *x, const struct expr_vars *vars, bool *out, err *e);

/* Explains a failed condition with the values involved, for the workbench and
 * for rejections: "state.balance (150) >= payload.amount (151) is false".
 * Appends to sb. */
void expr_explain(const expr *x, const struct expr_vars *vars, strbuf *sb);

#endif
