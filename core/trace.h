/* trace.h: the causation tree under a command, a correlation, an event or a
 * position (`strata trace`, the workbench's trace pane).
 *
 * A command's children are the events it appended (meta.commandId) and the
 * commands whose meta.causationId names it or one of its events (an event's id
 * is STREAM-VERSION, as the CloudEvents export writes it), recursively. What
 * `strata exec` writes into meta (--id, --correlation-id, --causation-id) is
 * what the tree is made of.
 *
 * Cost: the root is found by an index (the commands table, a stream's version,
 * a position); the rest is one forward pass from the root's first position,
 * filtered by the correlation id when the root has one (a text filter on the
 * store, so only that correlation's events are decoded), else by the text
 * "causationId" (every event caused by something, from the root on). Causes come
 * before their effects, so one pass in position order finds every level. */
#ifndef STRATA_TRACE_H
#define STRATA_TRACE_H

#include "store.h"

enum trace_kind { TRACE_COMMAND, TRACE_EVENT };

struct trace_node {
    enum trace_kind kind;
    int depth;
    long parent;       /* index in the tree, -1 for a root */
    char *id;          /* a command id, or an event id STREAM-VERSION */
    char *command;     /* the command's name (commands; NULL when meta lacks it) */
    char *causation;   /* what meta.causationId names, or NULL */
    char *correlation; /* meta.correlationId, or NULL */
    struct event ev;   /* events: a copy (its strings owned); commands: their first event's */
};

struct trace {
    struct trace_node *nodes; /* in tree order: each node before its children */
    size_t n, cap;
    int64_t scanned; /* events the pass read (for the cost) */
};

/* Builds the tree under id: a command id, an event id STREAM-VERSION or a global
 * position (an event a command appended: the tree of that command; else the
 * event's own), or a correlation id (then each command of the correlation that no
 * other in it caused is a root). ST_NOT_FOUND when id names none of these. */
int trace_build(struct store *s, const char *id, struct trace *out, err *e);
void trace_done(struct trace *t);

#endif
