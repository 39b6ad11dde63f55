/* export.c: the `export` verb: [--from P] [--to P] [--stream S] [--type T]
 * [--where EXPR] [--format ndjson|cloudevents|csv]: events in global order, in
 * pages (the --where filter is evaluated on each event of a page, as `events`
 * does, so memory stays one page whatever the log's size), so that
 * exporting a store of any size takes little memory. The command line writes
 * them to standard output (what `strata import` reads back); the workbench's
 * output pane shows them (up to the lines it keeps). */
#include <string.h>

#include "core/event_expr.h"
#include "core/event_format.h"
#include "verbs/inspect.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata export [--from P] [--to P] [--stream S] [--type T] [--where EXPR]\n"
    "                     [--format ndjson|cloudevents|csv]\n"
    "\n"
    "Writes events to standard output in global order.\n"
    "\n"
    "  --from P, --to P   positions to start and end at (inclusive)\n"
    "  --stream S         only the events of stream S\n"
    "  --type T           only events of type T\n"
    "  --where EXPR       only events for which EXPR holds: CEL over event (the data,\n"
    "                     as stored), meta, type, stream, time (a timestamp) and\n"
    "                     position, e.g. \"type == 'MoneyDeposited' && event.amount > 100\";\n"
    "                     on an event where EXPR fails (a missing field) it does not hold\n"
    "  --format F         ndjson (default): Strata's own event file format, one event a\n"
    "                     line, data and meta exactly as stored; `strata import` reads\n"
    "                     it back into an empty store and a second export is identical.\n"
    "                     cloudevents: one structured CloudEvent (JSON) a line: id\n"
    "                     STREAM-VERSION, source \"strata\", subject the stream, data,\n"
    "                     and strataposition, strataversion, strataschema, stratameta.\n"
    "                     csv: position,stream,version,type,schema,time,data,meta\n"
    "                     (RFC 4180 quoting).\n"
    "\n"
    "exit status: 0 ok, 1 the store cannot be read or output failed, 2 usage\n";

enum { OPT_FROM = VOPT_FIRST_FREE, OPT_TO, OPT_STREAM, OPT_TYPE, OPT_FORMAT, OPT_WHERE };
static const struct option opts[] = {{"from", required_argument, NULL, OPT_FROM},
                                     {"to", required_argument, NULL, OPT_TO},
                                     {"stream", required_argument, NULL, OPT_STREAM},
                                     {"type", required_argument, NULL, OPT_TYPE},
                                     {"format", required_argument, NULL, OPT_FORMAT},
                                     {"where", required_argument, NULL, OPT_WHERE},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

/* Hands over what sb holds, one result line per line written (a CSV record with
 * a line break inside quotes stays one result). */
static void flush_lines(struct verb_ctx *c, strbuf *sb, export_format fmt)
{
    size_t start = 0;
    bool quoted = false;
    for (size_t i = 0; i < sb->len; i++) {
        if (fmt == EXPORT_CSV && sb->buf[i] == '"')
            quoted = !quoted;
        if (sb->buf[i] == '\n' && !quoted) {
            verb_line(c, sb->buf + start, i - start);
            start = i + 1;
        }
    }
    if (start < sb->len)
        verb_line(c, sb->buf + start, sb->len - start);
    sb_reset(sb);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    struct event_filter f;
    memset(&f, 0, sizeof f);
    export_format fmt = EXPORT_NDJSON;
    const char *arg, *where_src = NULL;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_FROM:
        case OPT_TO:
            if (!verb_parse_count(arg, opt == OPT_FROM ? &f.from : &f.to))
                return verb_usage_error(c, "--%s takes a position (a whole number), not '%s'",
                                        opt == OPT_FROM ? "from" : "to", arg);
            break;
        case OPT_STREAM:
            f.stream = arg;
            break;
        case OPT_TYPE:
            f.type = arg;
            break;
        case OPT_WHERE:
            if (where_src)
                return verb_usage_error(c, "give one --where (combine conditions with &&)");
            where_src = arg;
            break;
        case OPT_FORMAT:
            if (!export_format_parse(arg, &fmt))
                return verb_usage_error(c, "unknown format '%s' (ndjson, cloudevents or csv)", arg);
            break;
        }
    }
    int rc;
    if (verb_options_stop(c, opt, argc, argv, &rc))
        return rc;
    rc = verb_need_store(c, false, true);
    if (rc != ST_OK)
        return rc;
    if (c->as_of && (f.to == 0 || f.to > c->as_of))
        f.to = c->as_of; /* the workbench in the past: nothing after its point */
    /* --where sees the event as stored (what is exported), as `events` does. */
    expr *where = where_src ? inspect_compile(c, "--where", where_src, true) : NULL;
    if (where_src && !where)
        return ST_ERR;
    struct event_vars vars;
    event_vars_init(&vars, &where, 1);
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    err e;
    err_clear(&e);
    strbuf sb;
    sb_init(&sb);
    export_begin(&sb, fmt);
    flush_lines(c, &sb, fmt);
    struct event_iter *it = store_iter_open(c->store, &f, 1000);
    const struct event *ev;
    int n;
    int64_t count = 0;
    while ((n = store_iter_next(it, &ev, &e)) == 1) {
        if (where) {
            event_vars_set(&vars, ev);
            if (!event_expr_match(where, &vars))
                continue;
        }
        if (c->max_lines && count == c->max_lines) {
            verb_say(c, VERB_NOTE, 0, "more events than the %lld shown", (long long)c->max_lines);
            break;
        }
        export_event(&sb, fmt, ev);
        flush_lines(c, &sb, fmt);
        count++;
    }
    store_iter_close(it);
    event_vars_done(&vars);
    expr_free(where);
    sb_done(&sb);
    return n < 0 ? verb_fail(c, &e) : ST_OK;
}

const struct verb_def verb_export = {
    .name = "export",
    .synopsis = "[--from P] [--to P] [--stream S] [--type T] [--where EXPR] "
                "[--format ndjson|cloudevents|csv]",
    .summary = "write events (NDJSON, CloudEvents, CSV)",
    .usage = usage,
    .options = opts,
    .run = run,
};
