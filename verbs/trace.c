/* trace.c: the `trace` verb: ID [--json]: the causation tree under a command id,
 * an event id (STREAM-VERSION), a position or a correlation id (core/trace.h),
 * as indented text on a terminal and in the workbench, as NDJSON (one line a
 * node, with its depth and parent) with --json or into a pipe. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/trace.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata trace ID [--json]\n"
    "The causation tree under ID: a command id (--id), a correlation id\n"
    "(--correlation-id), an event id STREAM-VERSION or a global position. A command's\n"
    "children are its events and the commands whose --causation-id names it or one\n"
    "of its events, recursively. Indented text on a terminal; NDJSON otherwise:\n"
    "{\"depth\":..,\"parent\":..,\"kind\":\"command\"|\"event\",\"id\":..,...}\n"
    "  --json   NDJSON even on a terminal\n";

enum { OPT_JSON = VOPT_FIRST_FREE };
static const struct option opts[] = {
    {"json", no_argument, NULL, OPT_JSON}, VERB_COMMON_OPTIONS, {0}};

static void node_json(strbuf *sb, const struct trace *t, const struct trace_node *nd)
{
    sb_addf(sb, "{\"depth\":%d,\"parent\":", nd->depth);
    if (nd->parent >= 0)
        json_write_string(sb, t->nodes[nd->parent].id, strlen(t->nodes[nd->parent].id));
    else
        sb_adds(sb, "null");
    sb_addf(sb, ",\"kind\":\"%s\",\"id\":", nd->kind == TRACE_COMMAND ? "command" : "event");
    json_write_string(sb, nd->id, strlen(nd->id));
    if (nd->kind == TRACE_COMMAND) {
        if (nd->command) {
            sb_adds(sb, ",\"command\":");
            json_write_string(sb, nd->command, strlen(nd->command));
        }
        sb_adds(sb, ",\"stream\":");
        json_write_string(sb, nd->ev.stream, strlen(nd->ev.stream));
    } else {
        sb_addf(sb, ",\"position\":%lld,\"type\":", (long long)nd->ev.position);
        json_write_string(sb, nd->ev.type, strlen(nd->ev.type));
        sb_adds(sb, ",\"time\":");
        json_write_string(sb, nd->ev.time, strlen(nd->ev.time));
    }
    if (nd->causation) {
        sb_adds(sb, ",\"causationId\":");
        json_write_string(sb, nd->causation, strlen(nd->causation));
    }
    if (nd->correlation) {
        sb_adds(sb, ",\"correlationId\":");
        json_write_string(sb, nd->correlation, strlen(nd->correlation));
    }
    sb_addc(sb, '}');
}

static void node_text(strbuf *sb, const struct trace_node *nd)
{
    sb_addf(sb, "%*s", nd->depth * 2, "");
    if (nd->kind == TRACE_COMMAND) {
        sb_addf(sb, "%s %s on %s", nd->command ? nd->command : "command", nd->id, nd->ev.stream);
        if (nd->causation && nd->parent < 0)
            sb_addf(sb, " (caused by %s)", nd->causation);
        if (nd->correlation && nd->parent < 0)
            sb_addf(sb, " [correlation %s]", nd->correlation);
    } else {
        sb_addf(sb, "#%lld %s %s  %s", (long long)nd->ev.position, nd->id, nd->ev.type,
                nd->ev.time);
    }
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *arg;
    bool json = false;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0)
        if (opt == OPT_JSON)
            json = true;
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (argc - optind != 1)
        return verb_usage_error(c, "give one id: a command id, a correlation id, an event id "
                                   "(STREAM-VERSION) or a position");
    int rc = verb_need_store(c, false, true);
    if (rc != ST_OK)
        return rc;
    struct trace t;
    err e;
    err_clear(&e);
    if ((rc = trace_build(c->store, argv[optind], &t, &e)) != ST_OK)
        return verb_fail(c, &e);
    /* Text for a person (a terminal, the workbench's pane); NDJSON for a program. */
    bool text = !json && (c->borrowed || isatty(STDOUT_FILENO));
    strbuf sb;
    sb_init(&sb);
    int commands = 0;
    for (size_t i = 0; i < t.n; i++) {
        sb_reset(&sb);
        if (text)
            node_text(&sb, &t.nodes[i]);
        else
            node_json(&sb, &t, &t.nodes[i]);
        verb_line(c, sb.buf, sb.len);
        commands += t.nodes[i].kind == TRACE_COMMAND;
    }
    sb_done(&sb);
    verb_say(c, VERB_INFO, 0, "%d command%s, %zu event%s (%lld events read)", commands,
             commands == 1 ? "" : "s", t.n - (size_t)commands,
             t.n - (size_t)commands == 1 ? "" : "s", (long long)t.scanned);
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    trace_done(&t);
    return ST_OK;
}

const struct verb_def verb_trace = {
    .name = "trace",
    .synopsis = "ID [--json]",
    .summary = "the causation tree under a command, correlation, event or position",
    .usage = usage,
    .options = opts,
    .run = run,
};
