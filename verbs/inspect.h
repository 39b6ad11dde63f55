/* inspect.h: what the log-inspecting verbs (stats, variants, flow, durations,
 * and events' --where) share (verbs/inspect.c): the filter options, compiling a
 * --where or --by expression with its column in the message, and printing
 * durations and table cells. The analyses themselves are in core/inspect_*.c. */
#ifndef STRATA_VERBS_INSPECT_H
#define STRATA_VERBS_INSPECT_H

#include "core/expr.h"
#include "core/inspect_cases.h"
#include "core/util.h"
#include "verbs/verb.h"

/* The filter options' codes and table entries (put INSPECT_FILTER_OPTIONS before
 * VERB_COMMON_OPTIONS). */
enum {
    IOPT_WHERE = VOPT_FIRST_FREE + 50,
    IOPT_STREAM,
    IOPT_TYPE,
    IOPT_FROM,
    IOPT_TO,
    IOPT_AT,
    IOPT_TABLE,
    IOPT_FIRST_FREE
};
// clang-format off
#define INSPECT_FILTER_OPTIONS                                                                     \
    {"where", required_argument, NULL, IOPT_WHERE}, {"stream", required_argument, NULL, IOPT_STREAM}, \
        {"type", required_argument, NULL, IOPT_TYPE}, {"from", required_argument, NULL, IOPT_FROM},  \
        {"to", required_argument, NULL, IOPT_TO}, {"at", required_argument, NULL, IOPT_AT},          \
        {"table", no_argument, NULL, IOPT_TABLE}
// clang-format on
#define INSPECT_FILTER_USAGE                                                                       \
    "  --where EXPR      only events for which EXPR holds: CEL over event (the data),\n"           \
    "                    meta, type, stream, time (a timestamp) and position; on an\n"             \
    "                    event where EXPR fails (a missing field) it does not hold\n"              \
    "  --stream S, --type T   only that stream, that type\n"                                       \
    "  --from P, --to P  positions (inclusive); --at P: the log as it was at P\n"                  \
    "  --table           an aligned table (durations humanly) instead of NDJSON\n"

struct inspect_args {
    struct event_filter filter;
    const char *where_src, *at;
    expr *where;
    bool table;
};

/* Handles a filter option: 1 when opt was one (2 after a usage problem: return
 * ST_USAGE), 0 when it was not. */
int inspect_option(struct verb_ctx *c, struct inspect_args *a, int opt, const char *arg);
/* After the options: opens the store, resolves --at, compiles --where. On failure
 * a is done with (inspect_args_done) and the status is returned. */
int inspect_prepare(struct verb_ctx *c, struct inspect_args *a);
/* Runs inspect_cases over the store; a failure is reported (verb_fail) and its
 * status returned. r is to be freed (cases_result_done) either way. */
int inspect_run_cases(struct verb_ctx *c, const struct cases_opts *o, struct cases_result *r);
void inspect_args_done(struct inspect_args *a);
/* Compiles an expression given to option `what` ("--where", "--by"); reports
 * "--where: `SRC`: column N: MESSAGE" and returns NULL on error. want_bool: the
 * result must be able to be a bool. */
expr *inspect_compile(struct verb_ctx *c, const char *what, const char *src, bool want_bool);

/* A duration of ms milliseconds as CEL's text ("3600s", "1.5s"), or humanly for a
 * table ("1h", "2d 3h", "1.5s", "250ms"). */
void inspect_duration_json(strbuf *sb, int64_t ms);
void inspect_duration_human(strbuf *sb, int64_t ms);
/* Untrusted text for a table cell: control characters shown escaped (\x1b). */
void inspect_cell(strbuf *sb, const char *s);
/* A JSON value for a table cell: a string as its text, anything else as JSON. */
void inspect_value_cell(strbuf *sb, const char *json);

#endif
