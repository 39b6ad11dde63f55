/* command_narrate.h: a command told step by step (`strata exec --explain`, the
 * workbench's Log view).
 *
 * command_execute (aggregate.c) calls these only when the request carries a
 * narrator (struct command_request's `narrate`); without one it calls nothing,
 * so a command that is not narrated allocates and formats nothing more. Each
 * function formats one or more lines and hands them to the narrator's callback;
 * core/ never prints, the front end decides where the lines go (standard error
 * for exec, a bounded list in the workbench). */
#ifndef STRATA_COMMAND_NARRATE_H
#define STRATA_COMMAND_NARRATE_H

#include "aggregate.h"
#include "domain.h"
#include "expr.h"
#include "value.h"

struct command_narrator {
    /* One step, without a trailing newline. */
    void (*line)(void *ctx, const char *text);
    void *ctx;
};

/* The payload as validated, naming the fields a default filled. */
void narrate_payload(const struct command_narrator *n, const struct command_spec *c,
                     const value *given, const value *validated);
/* The state as loaded: from which snapshot, and how many events were replayed. */
void narrate_loaded(const struct command_narrator *n, const char *stream,
                    const struct agg_state *st);
/* One rule (kind "require" or "invariant") with the values it read; rc is what
 * checking it returned (ST_OK held, ST_REJECTED did not, else it failed). */
void narrate_rule(const struct command_narrator *n, const char *kind, const struct rule_spec *r,
                  const struct expr_vars *vars, int rc);
/* The events decided (type and data each) and what they change in the state. */
void narrate_emitted(const struct command_narrator *n, const value *before, const value *after,
                     const struct event_spec *const *specs, char *const *data, size_t count);
/* An append and its outcome: positions, expected version, or the conflict. */
void narrate_append(const struct command_narrator *n, const char *stream, int64_t expected,
                    int attempt, int rc, const struct event_list *appended, const err *e);
/* After `conflicts` conflicts the command decides under the write lock. */
void narrate_locked(const struct command_narrator *n, int conflicts);
void narrate_snapshot(const struct command_narrator *n, const char *stream, int64_t version);
/* Free text (a step the functions above do not cover). */
void narrate_text(const struct command_narrator *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
