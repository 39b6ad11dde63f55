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
 * heterogeneous equality), overflow and division by zero are errors, && and || short-circuit left to right
 * (and, as in CEL, absorb an error on the side that does not matter). */
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
    ROOT_COUNT
};
#define ROOT_BIT(r) (1u << (r))
#define EXPR_ALLOW_NOW (1u << 16) /* now() is allowed (only in `emit`) */

/* Caps that keep hostile expressions harmless. */
#define EXPR_MAX_LENGTH 8192     /* characters in one expression's source */
#define EXPR_MAX_DEPTH 64        /* nesting of the syntax tree */
#define EXPR_DEFAULT_BUDGET 1000000 /* work units per evaluation (nodes + elements visited): enough for
                                     a read model that keeps a list of 100k ids, small enough that the
                                     worst expression still ends within tens of milliseconds */

/* Type hints for static checks; EXPR_T_ANY when unknown. */
typedef enum expr_type {
    EXPR_T_ANY = 0, EXPR_T_NULL, EXPR_T_BOOL, EXPR_T_INT, EXPR_T_DOUBLE,
    EXPR_T_STRING, EXPR_T_TIMESTAMP, EXPR_T_LIST, EXPR_T_MAP
} expr_type;

/* What is known of one root's fields, for "unknown field" errors with "did you
 * mean". When fields == NULL the root's fields are not known and not checked. */
struct expr_schema {
    const char *const *fields;   /* names */
    const expr_type *types;      /* same length; may be NULL */
    size_t nfields;
};

/* Where an expression may be used and what it can see. */
struct expr_env {
    unsigned allowed;                        /* ROOT_BIT(...) | EXPR_ALLOW_NOW */
    const struct expr_schema *schema[ROOT_COUNT]; /* NULL = fields unchecked */
    const char *slot;                        /* for messages: "emit", "apply", "rule", ... */
};

typedef struct expr expr;

/* A compile error: the column (1-based, in bytes, within the expression's source)
 * and a message that names what is wrong, e.g. "unknown field 'balanse' of state
 * (did you mean 'balance'?)". */
struct expr_error {
    int column;
    char msg[512];
};

/* Compiles src[0..len). env may be NULL (every root allowed, nothing checked,
 * as `strata eval` does). Returns NULL on error with ee filled. */
expr *expr_compile(const char *src, size_t len, const struct expr_env *env, struct expr_error *ee);
void expr_free(expr *x);
const char *expr_source(const expr *x);
/* True when x may read root r (so a caller can skip building a root no expression
 * reads, such as `meta` in a replay). Never false when x does read it. */
bool expr_uses_root(const expr *x, enum expr_root r);
/* The statically known result type, EXPR_T_ANY when not known. */
expr_type expr_result_type(const expr *x);

/* The values the roots have for one evaluation. Unused roots may stay null. */
struct expr_vars {
    value roots[ROOT_COUNT]; /* borrowed: not freed by expr_eval */
    int64_t now_ms;          /* what now() returns (as a timestamp string) */
    int64_t budget;          /* 0 = EXPR_DEFAULT_BUDGET */
};

/* Evaluates x. On success returns ST_OK and *out owns the result. On error returns
 * ST_ERR with e->msg like "`state.balance / payload.n`: column 15: division by zero". */
int expr_eval(const expr *x, const struct expr_vars *vars, value *out, err *e);
/* Evaluates x as a condition: non-bool results are an error. */
int expr_eval_bool(const expr *x, const struct expr_vars *vars, bool *out, err *e);

/* Explains a failed condition with the values involved, for the workbench and
 * for rejections: "state.balance (150) >= payload.amount (151) is false".
 * Appends to sb. */
void expr_explain(const expr *x, const struct expr_vars *vars, strbuf *sb);

#endif
