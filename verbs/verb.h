/* verb.h: the command layer under both front ends. A verb (exec, state, query,
 * events ...) is one file in verbs/ that parses its arguments from an argv with
 * getopt_long, validates them, runs them against core/ and reports through an
 * output interface (struct verb_out): the command line (cli/) prints NDJSON and
 * messages on stdout and stderr, the workbench (tui/) puts the lines in its
 * output pane and the messages on its message line. Options, validation and
 * messages are written once, here, so the two front ends cannot drift.
 *
 * verbs/ sits between core/ (which never writes output) and the front ends
 * (tui/ may not call cli/). */
#ifndef STRATA_VERBS_VERB_H
#define STRATA_VERBS_VERB_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/domain.h"
#include "core/store.h"

/* What a message is: VERB_INFO a summary a front end with panes shows (the
 * command line prints only the result); VERB_NOTE something worth knowing about
 * the result; VERB_WARNING something wrong that did not stop the verb (a poison
 * event listed as stored); VERB_ERROR why the verb failed; VERB_REJECTED a rule of
 * the domain refused a command (printed bare: "rejected: ..."). */
enum verb_level { VERB_INFO, VERB_NOTE, VERB_WARNING, VERB_ERROR, VERB_REJECTED };
/* "note: ", "warning: " or "": what a message of that level starts with. */
const char *verb_level_prefix(enum verb_level level);

/* Where a front end with panes may show a result in its own way. */
enum verb_view_kind {
    VERB_VIEW_OUTPUT,     /* the lines themselves (exec) */
    VERB_VIEW_STREAM,     /* name: a stream; position */
    VERB_VIEW_PROJECTION, /* name: a projection; key (or NULL); position */
    VERB_VIEW_EVENTS,     /* filter and text */
};
struct verb_view {
    enum verb_view_kind kind;
    const char *name;
    const char *key;
    int64_t position; /* 0 = now */
    const struct event_filter *filter;
    const char *text; /* events: the --text filter */
};

/* Long work a verb hands to its front end (an import, a replay, a rebuild):
 * the command line runs it at once on the verb's store; the workbench runs it in
 * a background job, on a store connection of its own, and reports its result
 * when it ends. Options, validation and messages came before, in the verb. */
struct verb_task {
    char what[256]; /* "import orders.csv": how the front end names it */
    /* The work, on store s (which may be another connection to the verb's
     * store, on another thread: no output here). Fills result with the lines of
     * the result (newline-separated) or e; returns a status. */
    int (*work)(struct verb_task *t, struct store *s, strbuf *result, err *e);
    /* Frees the task (after work, or instead of it). */
    void (*done)(struct verb_task *t);
    /* Set by the front end: stop early (a replay ends after its current append). */
    volatile sig_atomic_t stop;
    /* Written by work as it goes (another thread may read them): records read,
     * bytes read of bytes_total (0: unknown). */
    volatile int64_t progress_records, progress_bytes, progress_total;
    /* True when run by a front end in the background (reports go to the result,
     * not to a terminal). */
    bool background;
    /* Said after the work's error (written by work): "5 events appended before
     * that stay in the store". */
    char after_error[256];
};

/* The output interface. Every callback but show, background and errors is
 * required; text has no trailing newline. */
struct verb_out {
    void *ctx;
    /* One line of the result: an NDJSON object. */
    void (*line)(void *ctx, const char *text, size_t len);
    /* A table: the column names, then rows of cells (the command line aligns it). */
    void (*table_begin)(void *ctx, const char *const *columns, size_t n);
    void (*table_row)(void *ctx, const char *const *cells, size_t n);
    void (*table_end)(void *ctx);
    /* A message about the run of verb `verb`. */
    void (*message)(void *ctx, enum verb_level level, const char *verb, const char *text);
    /* After a usage error: where to read more (the command line prints the usage). */
    void (*usage)(void *ctx, const char *verb, const char *usage_text);
    /* Optional: a front end with panes shows the result there. */
    void (*show)(void *ctx, const struct verb_view *view);
    /* Optional: pushes the lines out now (a long-running verb's status lines). */
    void (*flush)(void *ctx);
    /* Optional: runs a task in the background (the workbench); it owns t now
     * (calls t->done when finished). Without it the task runs at once. */
    bool (*background)(void *ctx, struct verb_task *t);
    /* Where an engine that reports to a stream as it goes (an import's bad
     * records, its progress bar) writes: the command line's standard error.
     * NULL: the reports are collected and given as messages. */
    FILE *errors;
    /* The lines go to a terminal: a verb may print an aligned table instead of
     * NDJSON (design.md: `--json` forces NDJSON, `--table` forces the table). */
    bool tty;
};

struct verb_def;

/* One run of a verb: its front end, the domain and the store. The command line
 * gives paths (domain and store are opened when the verb needs them); the
 * workbench gives its open domain and store (borrowed: left open). */
struct verb_ctx {
    const struct verb_def *def;
    const struct verb_out *out;
    const char *domain_path; /* --domain or STRATA_DOMAIN, or NULL */
    const char *db_path;     /* --db or STRATA_DB, or derived from the domain */
    const char *branch;      /* --branch or STRATA_BRANCH: a what-if branch, or NULL (main) */
    struct domain *domain;
    struct store *store;
    bool borrowed;         /* domain and store are the front end's */
    bool projections_live; /* a runner keeps projections caught up: do not */
    int64_t as_of;         /* the position "now" means (the workbench's scrubber); 0 = head */
    int64_t now_ms;        /* the clock commands see (0 = the real one) */
    int64_t max_lines;     /* a front end that keeps the lines caps them (0: no cap) */
    bool want_help;
    bool force;          /* --force: write with the domain to a store used with another */
    bool db_given;       /* --db was among the verb's arguments (not only STRATA_DB) */
    char *owned_db_path; /* derived from the domain */
    /* The workbench's Log view: every command a verb runs is narrated to it
     * (core/command_narrate.h); NULL: only `exec --explain` narrates. */
    const struct command_narrator *narrate;
    /* The workbench's `:record FILE`: each command exec runs is appended to it as a
     * scenario (core/record.h), as `exec --record FILE` does; NULL: not recording. */
    const char *record_path;
};

/* A verb: its names and texts, its long options (ending with VERB_COMMON_OPTIONS
 * and {0}) and its run function, which returns an exit status (enum status). */
struct verb_def {
    const char *name;
    const char *synopsis; /* the arguments, for help lines */
    const char *summary;  /* one line */
    const char *usage;    /* the full --help text */
    const struct option *options;
    int (*run)(struct verb_ctx *c, int argc, char **argv);
};

/* The common options: put VERB_COMMON_OPTIONS last in a verb's table. */
enum { VOPT_DOMAIN = 1000, VOPT_DB, VOPT_HELP, VOPT_FORCE, VOPT_BRANCH, VOPT_FIRST_FREE = 1100 };
// clang-format off
#define VERB_COMMON_OPTIONS                                                                        \
    {"domain", required_argument, NULL, VOPT_DOMAIN}, {"db", required_argument, NULL, VOPT_DB},    \
        {"help", no_argument, NULL, VOPT_HELP}, {"branch", required_argument, NULL, VOPT_BRANCH}
/* --force, for the verbs that write with a domain (see verb_need_store). */
#define VERB_FORCE_OPTION {"force", no_argument, NULL, VOPT_FORCE}
// clang-format on

/* The verbs, one file each (verbs/NAME.c). */
extern const struct verb_def verb_race;
extern const struct verb_def verb_exec, verb_events, verb_state, verb_query, verb_export;
extern const struct verb_def verb_why, verb_bisect;
/* Inspecting logs (verbs/inspect.h). */
extern const struct verb_def verb_stats, verb_variants, verb_flow, verb_durations;
extern const struct verb_def verb_trace, verb_doctor;
extern const struct verb_def verb_sql;
/* What if (design.md, "Explain and what-if"). */
extern const struct verb_def verb_upcast, verb_snapshots;
/* Writing and checking: verbs/project.c, import.c (import and replay), check.c. */
extern const struct verb_def verb_project, verb_import, verb_replay, verb_check;
/* What-if branches (verbs/branch.c, verbs/diff.c). */
extern const struct verb_def verb_branch, verb_diff;
/* Moving a store (verbs/copy.c). */
extern const struct verb_def verb_copy;

/* The verbs (verbs/registry.c), in the order help lists them. */
const struct verb_def *const *verb_list(size_t *n);
/* The verb called name, or NULL. */
const struct verb_def *verb_find(const char *name);

/* Runs def with argv (argv[0] is the verb's name) in c (domain, store, paths and
 * out filled in by the front end); closes what it opened unless borrowed.
 * Returns the exit status. */
int verb_run(const struct verb_def *def, struct verb_ctx *c, int argc, char **argv);

/* For the verbs' run functions: ------------------------------------------- */

/* The next option of the verb's own (a code from its table), handling the
 * common ones; -1 when the options end; -2 after a usage problem was reported
 * (an unknown option, with a suggestion; a missing value): return ST_USAGE. */
int verb_next_option(struct verb_ctx *c, int argc, char **argv, const char **arg);
/* After verb_next_option's loop returned opt (-1 or -2), for a verb that takes no
 * arguments: true when the run stops here with *rc its status (a usage problem,
 * --help printed, an unexpected argument), false when it goes on. */
bool verb_options_stop(struct verb_ctx *c, int opt, int argc, char **argv, int *rc);
struct proj_lag;
/* Calls fn with the lag of projection `name` (core/projection.h's
 * projection_status); nothing when it cannot be read or there is no such
 * projection: the lag only adds notes. */
void verb_with_lag(struct verb_ctx *c, const char *name,
                   void (*fn)(struct verb_ctx *c, const struct proj_lag *l, void *ctx), void *ctx);
/* Reports a usage problem (and where to read the usage); returns ST_USAGE. */
int verb_usage_error(struct verb_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports a message of the given level; returns the status given. */
int verb_say(struct verb_ctx *c, enum verb_level level, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reports e and returns its exit status (ST_ERR for not found or duplicate). */
int verb_fail(struct verb_ctx *c, const err *e);
/* Prints the usage text as the result (--help); returns ST_OK. */
int verb_print_help(struct verb_ctx *c);
/* The domain: loaded from domain_path when not given. required: a usage error
 * when there is none. Returns a status, the problem reported. */
int verb_need_domain(struct verb_ctx *c, bool required);
/* The store: opened from db_path (else <domain basename>.db) when not given.
 * create: make it if missing. Opened for writing with a domain, the store must
 * record that domain's name, or none and have no events (it records it now);
 * otherwise it is refused unless --force (core/store_domain.h). */
int verb_need_store(struct verb_ctx *c, bool create, bool read_only);
/* Reads a whole number >= 0. False when s is anything else. */
bool verb_parse_count(const char *s, int64_t *out);
/* --at P or --at-time TIME (either may be NULL) into a global position, or
 * c->as_of when neither is given. Needs the store; a position beyond the head,
 * a bad time or a time before the first event is refused, the problem reported. */
int verb_resolve_at(struct verb_ctx *c, const char *at, const char *at_time, int64_t *position);
/* A command's payload (verbs/command_args.c): the --payload object (json, may be
 * NULL), then the field=value words over it, typed by cmd's schema. Returns a
 * status, the problem reported. */
int verb_command_payload(struct verb_ctx *c, const struct command_spec *cmd, const char *json,
                         char **words, int nwords, value *out);
/* Splits `CMD ARGS` into words as a shell would for simple cases (blanks
 * separate, '...' and "..." quote, a backslash escapes): a NULL-terminated list
 * freed with verb_words_free, or NULL with *bad at the quote left open. */
char **verb_split_words(const char *line, int *n, const char **bad);
void verb_words_free(char **w);
/* Runs a task: hands it to the front end's background when there is one (true
 * there: the task was started), else runs it now on c->store and emits its
 * result lines. Returns a status (the problem reported). */
int verb_task_run(struct verb_ctx *c, struct verb_task *t);
/* Where an engine's stream reports go: out->errors, or a temporary file whose
 * lines verb_errors_close gives as messages (then closes). */
FILE *verb_errors_open(struct verb_ctx *c);
void verb_errors_close(struct verb_ctx *c, FILE *f);
/* "domains/bank.yaml" -> "bank.db": the store a domain uses by default (in the
 * current folder). Freed by the caller. */
char *verb_default_db(const char *domain_path);
/* Reports a domain's load problems, each as FILE:LINE:COL: error: PATH: MESSAGE. */
void verb_diags(struct verb_ctx *c, const struct diag_list *diags);
/* Emits one result line. */
void verb_line(struct verb_ctx *c, const char *text, size_t len);
/* Asks a front end with panes to show a result (no-op without one). */
void verb_show(struct verb_ctx *c, const struct verb_view *v);
/* Appends untrusted text (names and data from the log) for a terminal: control
 * characters (C0, C1, DEL, line separators) and bytes that are not UTF-8 become
 * U+FFFD, so that no escape sequence reaches it. */
void verb_add_safe(strbuf *sb, const char *s);
/* The same for n bytes of s; breaks_as_spaces: a tab or newline becomes a space
 * instead (a table cell). */
void verb_add_safe_n(strbuf *sb, const char *s, size_t n, bool breaks_as_spaces);

#endif
