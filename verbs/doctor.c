/* doctor.c: the `doctor` verb: the event-sourcing checklist over the domain and
 * its store (core/doctor.h), one line an item: `ok|warn|fail ITEM: what was found
 * (fix: ...)`. Exits 1 when an item fails. */
#include <stdlib.h>
#include <string.h>

#include "core/doctor.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata doctor [--long N]\n"
    "Checks the domain and its store against the event-sourcing checklist: stored\n"
    "events readable by the domain, snapshots for long streams, projections (failed,\n"
    "stale, skipped, lag and its age), the store's durability, integrity and\n"
    "positions, scenarios for every command and projection, event types and handlers\n"
    "nothing produces. One line an item: ok|warn|fail ITEM: found (fix: ...).\n"
    "  --long N   streams longer than N events want snapshot_every (default 200)\n"
    "exit: 0 nothing failed (warnings allowed), 1 an item failed\n";

enum { OPT_LONG = VOPT_FIRST_FREE };
static const struct option opts[] = {
    {"long", required_argument, NULL, OPT_LONG}, VERB_COMMON_OPTIONS, {0}};

static void on_item(const struct doctor_item *it, void *ctx)
{
    struct verb_ctx *c = ctx;
    char *line = it->fix
                     ? xasprintf("%s %s: %s (fix: %s)", doctor_level_name(it->level), it->item,
                                 it->found, it->fix)
                     : xasprintf("%s %s: %s", doctor_level_name(it->level), it->item, it->found);
    verb_line(c, line, strlen(line));
    free(line);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *arg;
    struct doctor_options o = {0};
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0)
        if (opt == OPT_LONG && (!verb_parse_count(arg, &o.long_stream) || o.long_stream == 0))
            return verb_usage_error(c, "--long wants a number of events (1 or more), not '%s'",
                                    arg);
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (argc != optind)
        return verb_usage_error(c, "doctor takes no arguments");
    int rc = verb_need_domain(c, true);
    if (rc == ST_OK)
        rc = verb_need_store(c, false, true); /* read-only: the file as it is */
    if (rc != ST_OK)
        return rc;
    int fails = 0;
    err e;
    err_clear(&e);
    if ((rc = doctor_run(c->store, c->domain, &o, on_item, c, &fails, &e)) != ST_OK)
        return verb_fail(c, &e);
    verb_say(c, VERB_INFO, 0, "doctor: %d item%s failed", fails, fails == 1 ? "" : "s");
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    return fails ? ST_ERR : ST_OK;
}

const struct verb_def verb_doctor = {
    .name = "doctor",
    .synopsis = "[--long N]",
    .summary = "the event-sourcing checklist over the domain and its store",
    .usage = usage,
    .options = opts,
    .run = run,
};
