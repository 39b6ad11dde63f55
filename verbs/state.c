/* state.c: the `state` verb: AGGREGATE ID [--at P | --at-time TIME]: an
 * instance's state, now or as it was right after position P (or at TIME). A
 * stream without events has its initial state (with a note saying so); a
 * position beyond the head is refused (as `query` refuses it). */
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/json.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata state AGGREGATE ID [--at POSITION | --at-time TIME]\n"
    "Prints {\"stream\":..,\"version\":..,\"position\":..,\"state\":{..}} for one instance,\n"
    "now, or as it was right after global position POSITION, or at TIME (ISO-8601).\n"
    "An instance without events shows its initial state (version 0), with a note.\n";

enum { OPT_AT = VOPT_FIRST_FREE, OPT_AT_TIME };
static const struct option opts[] = {{"at", required_argument, NULL, OPT_AT},
                                     {"at-time", required_argument, NULL, OPT_AT_TIME},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *at = NULL, *at_time = NULL, *arg;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if (opt == OPT_AT)
            at = arg;
        else if (opt == OPT_AT_TIME)
            at_time = arg;
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (argc - optind != 2)
        return verb_usage_error(c, "give an aggregate and an id (e.g. strata state Account A)");
    const char *agg_name = argv[optind], *id = argv[optind + 1];
    int rc = verb_need_domain(c, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    const struct aggregate_spec *a = domain_find_aggregate(c->domain, agg_name, &e);
    if (!a)
        return verb_say(c, VERB_ERROR, ST_ERR, "%s", e.msg);
    if ((rc = verb_need_store(c, false, true)) != ST_OK)
        return rc;
    int64_t position = 0;
    if ((rc = verb_resolve_at(c, at, at_time, &position)) != ST_OK)
        return rc;
    /* Shown before loading: a pane can say why a state cannot be loaded. */
    char *stream = aggregate_stream(a, id);
    verb_show(c,
              &(struct verb_view){.kind = VERB_VIEW_STREAM, .name = stream, .position = position});
    struct agg_state st;
    if (aggregate_load(c->store, c->domain, a, id, position, false, &st, &e) != ST_OK) {
        free(stream);
        return verb_fail(c, &e);
    }
    strbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "{\"stream\":");
    json_write_string(&sb, stream, strlen(stream));
    sb_addf(&sb, ",\"version\":%lld,\"position\":%lld,\"state\":", (long long)st.version,
            (long long)st.position);
    json_write(&sb, &st.state);
    sb_adds(&sb, "}");
    verb_line(c, sb.buf, sb.len);
    sb_done(&sb);
    /* No events is an answer (the initial state), not a failure; say so, as a
     * typo in the id looks the same. */
    if (st.version == 0 && position)
        verb_say(c, VERB_NOTE, 0, "stream %s has no events at or before position %lld", stream,
                 (long long)position);
    else if (st.version == 0)
        verb_say(c, VERB_NOTE, 0, "stream %s has no events", stream);
    free(stream);
    agg_state_done(&st);
    return ST_OK;
}

const struct verb_def verb_state = {
    .name = "state",
    .synopsis = "AGGREGATE ID [--at P | --at-time TIME]",
    .summary = "print an aggregate's state, now or as it was",
    .usage = usage,
    .options = opts,
    .run = run,
};
