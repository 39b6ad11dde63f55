/* bisect.c: the `bisect` verb: the first position at which a condition over a
 * read-model row or an aggregate instance's state stops holding, or, with
 * --fails, the first stored event the current domain cannot fold (core/bisect.h
 * says how each is searched). Prints {"holds":false,"position":..,"type":..,
 * "before":..,"after":..} or {"holds":true,"through":HEAD}; the workbench moves
 * its timeline to the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bisect.h"
#include "core/json.h"
#include "core/projection.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata bisect (--projection NAME [--key K] | --aggregate NAME [--id ID])\n"
    "                     (EXPR | --fails) [--at POSITION] [--json | --table]\n"
    "Finds the first position at which EXPR (a condition over `row`, the projection's\n"
    "row, or `state`, the instance's state) is false, testing it after each event that\n"
    "changed the value; or, with --fails, the first event the current domain cannot\n"
    "fold (a dry run from the start that writes nothing; an aggregate without --id:\n"
    "all its streams). Prints one line:\n"
    "{\"holds\":false,\"position\":..,\"type\":..,\"stream\":..,\"before\":..,\"after\":..}\n"
    "or {\"holds\":true,\"through\":HEAD}. A keyless projection takes no --key.\n";

enum {
    OPT_PROJ = VOPT_FIRST_FREE,
    OPT_AGG,
    OPT_KEY,
    OPT_ID,
    OPT_FAILS,
    OPT_AT,
    OPT_JSON,
    OPT_TABLE
};
static const struct option opts[] = {{"projection", required_argument, NULL, OPT_PROJ},
                                     {"aggregate", required_argument, NULL, OPT_AGG},
                                     {"key", required_argument, NULL, OPT_KEY},
                                     {"id", required_argument, NULL, OPT_ID},
                                     {"fails", no_argument, NULL, OPT_FAILS},
                                     {"at", required_argument, NULL, OPT_AT},
                                     {"json", no_argument, NULL, OPT_JSON},
                                     {"table", no_argument, NULL, OPT_TABLE},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

static void print(struct verb_ctx *c, const struct bisect_result *r, bool table)
{
    strbuf sb;
    sb_init(&sb);
    if (table) {
        char pos[24];
        snprintf(pos, sizeof pos, "%lld", (long long)r->position);
        static const char *const cols[] = {"HOLDS",  "POSITION", "TYPE", "STREAM",
                                           "BEFORE", "AFTER",    "ERROR"};
        c->out->table_begin(c->out->ctx, cols, r->holds ? 2 : r->error ? 7 : 6);
        json_write(&sb, &r->before);
        char *before = xstrdup(sb.buf ? sb.buf : "");
        sb_reset(&sb);
        json_write(&sb, &r->after);
        const char *cells[] = {
            r->holds ? "true" : "false", pos, r->type, r->stream, before, sb.buf, r->error};
        c->out->table_row(c->out->ctx, cells, r->holds ? 2 : r->error ? 7 : 6);
        c->out->table_end(c->out->ctx);
        free(before);
        sb_done(&sb);
        return;
    }
    if (r->holds) {
        sb_addf(&sb, "{\"holds\":true,\"through\":%lld}", (long long)r->position);
    } else {
        sb_addf(&sb, "{\"holds\":false,\"position\":%lld,\"type\":", (long long)r->position);
        json_write_string(&sb, r->type, strlen(r->type));
        sb_adds(&sb, ",\"stream\":");
        json_write_string(&sb, r->stream, strlen(r->stream));
        sb_adds(&sb, ",\"before\":");
        json_write(&sb, &r->before);
        sb_adds(&sb, ",\"after\":");
        json_write(&sb, &r->after);
        if (r->error) {
            sb_adds(&sb, ",\"error\":");
            json_write_string(&sb, r->error, strlen(r->error));
        }
        sb_adds(&sb, "}");
    }
    verb_line(c, sb.buf, sb.len);
    sb_done(&sb);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *proj = NULL, *agg = NULL, *key = NULL, *id = NULL, *at = NULL, *arg;
    bool fails = false;
    int opt, format = 0; /* 0: by the terminal, 1: json, 2: table */
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_PROJ:
            proj = arg;
            break;
        case OPT_AGG:
            agg = arg;
            break;
        case OPT_KEY:
            key = arg;
            break;
        case OPT_ID:
            id = arg;
            break;
        case OPT_FAILS:
            fails = true;
            break;
        case OPT_AT:
            at = arg;
            break;
        case OPT_JSON:
            format = 1;
            break;
        case OPT_TABLE:
            format = 2;
            break;
        }
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (!proj == !agg)
        return verb_usage_error(c, "give either --projection NAME or --aggregate NAME");
    if ((proj && id) || (agg && key))
        return verb_usage_error(c, "%s",
                                proj ? "--id goes with --aggregate (a projection takes --key)"
                                     : "--key goes with --projection (an aggregate takes --id)");
    int nargs = argc - optind;
    if (fails ? nargs != 0 : nargs != 1)
        return verb_usage_error(c, fails
                                       ? "--fails takes no condition"
                                       : "give one condition (e.g. 'row.balance >= 0') or --fails");
    const char *src = fails ? NULL : argv[optind];
    int rc = verb_need_domain(c, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    const struct projection_spec *p = NULL;
    const struct aggregate_spec *a = NULL;
    if (proj && !(p = projection_find(c->domain, proj, &e)))
        return verb_fail(c, &e);
    if (agg && !(a = domain_find_aggregate(c->domain, agg, &e)))
        return verb_fail(c, &e);
    if (p && !fails && p->key && !key)
        return verb_usage_error(c, "%s has a row per key: give --key K", p->name);
    if (p && !p->key && key)
        return verb_usage_error(c, "%s has no key: leave out --key", p->name);
    if (a && !fails && !id)
        return verb_usage_error(c, "give the instance with --id ID");
    expr *cond = NULL;
    if (src && !(cond = bisect_compile(p, a, src, &e)))
        return verb_fail(c, &e);
    if ((rc = verb_need_store(c, false, false)) != ST_OK) {
        expr_free(cond);
        return rc;
    }
    /* The whole log, not the workbench's "as of": the answer is a position. */
    int64_t position = 0;
    int64_t saved = c->as_of;
    c->as_of = 0;
    rc = verb_resolve_at(c, at, NULL, &position);
    c->as_of = saved;
    if (rc != ST_OK) {
        expr_free(cond);
        return rc;
    }
    if (p && !fails && !c->projections_live &&
        projection_catch_up_to(c->store, c->domain, p->name, position, 0, false, NULL, &e) !=
            ST_OK) {
        expr_free(cond);
        return verb_fail(c, &e);
    }
    struct bisect_result r;
    if (p && fails)
        rc = bisect_projection_fails(c->store, c->domain, p, position, &r, &e);
    else if (p)
        rc = bisect_projection(c->store, c->domain, p, key ? key : "", cond, position, &r, &e);
    else if (fails)
        rc = bisect_aggregate_fails(c->store, c->domain, a, id, position, &r, &e);
    else
        rc = bisect_aggregate(c->store, c->domain, a, id, cond, position, &r, &e);
    expr_free(cond);
    if (rc != ST_OK) {
        bisect_result_done(&r);
        return verb_fail(c, &e);
    }
    print(c, &r, format == 2 || (format == 0 && c->out->tty));
    /* A front end with panes moves its timeline to the answer. */
    if (!r.holds && p)
        verb_show(c, &(struct verb_view){.kind = VERB_VIEW_PROJECTION,
                                         .name = p->name,
                                         .key = p->key ? key : NULL,
                                         .position = r.position});
    else if (!r.holds)
        verb_show(c, &(struct verb_view){
                         .kind = VERB_VIEW_STREAM, .name = r.stream, .position = r.position});
    else
        verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    verb_say(c, VERB_INFO, 0, "%s after %lld %s", r.holds ? "holds" : "breaks", (long long)r.events,
             p && !fails ? "history entries" : "events");
    bisect_result_done(&r);
    return ST_OK;
}

const struct verb_def verb_bisect = {
    .name = "bisect",
    .synopsis = "(--projection NAME [--key K] | --aggregate NAME [--id ID]) (EXPR | --fails)",
    .summary = "the first position at which a condition stops holding, or a fold fails",
    .usage = usage,
    .options = opts,
    .run = run,
};
