/* events.c: the `events` verb: [--stream S] [--type T] [--text X] [--where EXPR]
 * [--from P] [--to P] [--limit N] [--raw]: events as canonical NDJSON, in global order.
 * With a domain each event is upcast to its type's current version (design.md:
 * "upcast unless --raw"); without one, or with --raw, as stored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/event_expr.h"
#include "core/event_format.h"
#include "core/json.h"
#include "verbs/inspect.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata events [--stream S] [--type T] [--text X] [--where EXPR] [--from P]\n"
    "                     [--to P] [--limit N] [--raw]\n"
    "\n"
    "Lists events as NDJSON (Strata's event file format), in global order.\n"
    "\n"
    "  --stream S        only the events of stream S\n"
    "  --type T          only events of type T\n"
    "  --text X          only events whose line contains X\n"
    "  --where EXPR      only events for which EXPR holds: CEL over event (the data),\n"
    "                    meta, type, stream, time (a timestamp) and position, e.g.\n"
    "                    \"type == 'Deposited' && event.amount > 100\"; on an event where\n"
    "                    EXPR fails (a missing field) it does not hold\n"
    "  --from P, --to P  positions to start and end at (inclusive)\n"
    "  --limit N         at most N events\n"
    "  --raw             the events exactly as stored (no upcasting)\n"
    "\n"
    "exit status: 0 ok, 1 the store cannot be read, 2 usage\n";

enum {
    OPT_STREAM = VOPT_FIRST_FREE,
    OPT_TYPE,
    OPT_TEXT,
    OPT_FROM,
    OPT_TO,
    OPT_LIMIT,
    OPT_RAW,
    OPT_WHERE
};
static const struct option opts[] = {{"stream", required_argument, NULL, OPT_STREAM},
                                     {"type", required_argument, NULL, OPT_TYPE},
                                     {"text", required_argument, NULL, OPT_TEXT},
                                     {"from", required_argument, NULL, OPT_FROM},
                                     {"to", required_argument, NULL, OPT_TO},
                                     {"limit", required_argument, NULL, OPT_LIMIT},
                                     {"raw", no_argument, NULL, OPT_RAW},
                                     {"where", required_argument, NULL, OPT_WHERE},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

/* One event as its NDJSON line (upcast when the domain knows a newer version). A
 * poison event (the domain cannot read it) is written as stored, with the reason as
 * a warning: one bad event must not hide the others. */
static int event_line(struct verb_ctx *c, const struct domain *d, const struct event *ev,
                      strbuf *line, strbuf *data)
{
    sb_reset(line);
    const struct event_spec *spec = d ? domain_event(d, ev->type) : NULL;
    struct decoded_event de;
    err why;
    err_clear(&why);
    if (spec && event_decode(d, ev, true, &de, &why) != ST_OK) {
        verb_say(c, VERB_WARNING, 0, "%s (shown as stored)", why.msg);
        event_write_ndjson(line, ev, NULL, 0);
    } else if (spec && ev->schema != spec->version) {
        sb_reset(data);
        json_write(data, &de.data);
        event_write_ndjson(line, ev, data->buf, de.schema);
        decoded_event_done(&de);
    } else {
        if (spec)
            decoded_event_done(&de);
        event_write_ndjson(line, ev, NULL, 0);
    }
    if (line->len && line->buf[line->len - 1] == '\n')
        line->buf[--line->len] = 0;
    return ST_OK;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    struct event_filter f;
    memset(&f, 0, sizeof f);
    int64_t limit = -1;
    bool raw = false;
    const char *text = NULL, *where_src = NULL, *arg;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_STREAM:
            f.stream = arg;
            break;
        case OPT_TYPE:
            f.type = arg;
            break;
        case OPT_TEXT:
            text = arg;
            break;
        case OPT_FROM:
        case OPT_TO:
            if (!verb_parse_count(arg, opt == OPT_FROM ? &f.from : &f.to))
                return verb_usage_error(c, "--%s takes a position (a whole number), not '%s'",
                                        opt == OPT_FROM ? "from" : "to", arg);
            break;
        case OPT_LIMIT:
            if (!verb_parse_count(arg, &limit))
                return verb_usage_error(c, "--limit takes a whole number, not '%s'", arg);
            break;
        case OPT_RAW:
            raw = true;
            break;
        case OPT_WHERE:
            where_src = arg;
            break;
        }
    }
    int rc;
    if (verb_options_stop(c, opt, argc, argv, &rc))
        return rc;
    rc = raw ? ST_OK : verb_need_domain(c, false);
    if (rc != ST_OK)
        return rc;
    if ((rc = verb_need_store(c, false, true)) != ST_OK)
        return rc;
    /* --where sees the event as stored (data before upcasting): the log's own fields */
    expr *where = where_src ? inspect_compile(c, "--where", where_src, true) : NULL;
    if (where_src && !where)
        return ST_ERR;
    struct event_vars vars;
    event_vars_init(&vars, &where, 1);
    if (c->as_of && (f.to == 0 || f.to > c->as_of))
        f.to = c->as_of; /* the workbench in the past: nothing after its point */
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_EVENTS, .filter = &f, .text = text});
    const struct domain *d = raw ? NULL : c->domain; /* raw: as stored, no upcasting */
    err e;
    err_clear(&e);
    strbuf line, data;
    sb_init(&line);
    sb_init(&data);
    size_t page = limit >= 0 && limit < 1000 ? (size_t)(limit ? limit : 1) : 1000;
    struct event_iter *it = store_iter_open(c->store, &f, page);
    const struct event *ev;
    int n = 0;
    int64_t count = 0;
    while (limit < 0 || count < limit) {
        if ((n = store_iter_next(it, &ev, &e)) != 1)
            break;
        if (where) {
            event_vars_set(&vars, ev);
            if (!event_expr_match(where, &vars))
                continue;
        }
        event_line(c, d, ev, &line, &data);
        if (text && !strstr(line.buf, text))
            continue;
        if (c->max_lines && count == c->max_lines) {
            verb_say(c, VERB_NOTE, 0, "more events than the %lld shown", (long long)c->max_lines);
            break;
        }
        verb_line(c, line.buf, line.len);
        count++;
    }
    store_iter_close(it);
    event_vars_done(&vars);
    expr_free(where);
    sb_done(&line);
    sb_done(&data);
    return n < 0 ? verb_fail(c, &e) : ST_OK;
}

const struct verb_def verb_events = {
    .name = "events",
    .synopsis = "[--stream S] [--type T] [--text X] [--where EXPR] [--from P] [--to P] [--limit N] "
                "[--raw]",
    .summary = "list events as NDJSON",
    .usage = usage,
    .options = opts,
    .run = run,
};
