/* check.c: the `check` verb: validating domain files.
 *
 * Each file is loaded and checked on its own, so one broken file does not hide
 * the problems (or the health) of the others. A good file gets one line,
 * "FILE: ok: 1 aggregate, 4 commands, 5 events, 2 projections, 3 scenarios"; a
 * bad one gets every problem as FILE:LINE:COL: error: PATH: MESSAGE. The exit
 * status is 0 when every file is good, 1 otherwise, 2 for wrong usage. Without
 * FILE it checks the domain's file: in the workbench, the file on disk (what a
 * reload would load), not the domain in force.
 *
 * With --db STORE (given to the verb, on the command line) it checks the store's
 * events against the domain instead and lists each one the domain cannot read (a
 * poison event, core/poison.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/poison.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata check [FILE...]\n"
    "       strata check --db STORE [--domain FILE | FILE]\n"
    "\n"
    "Checks domain files: names, types, defaults, expressions, the events that\n"
    "commands emit and projections fold, upcast chains, scenarios. Prints\n"
    "  FILE: ok: 1 aggregate, 4 commands, 5 events, 2 projections, 3 scenarios\n"
    "for a good file, and every problem of a bad one as\n"
    "  FILE:LINE:COL: error: PATH: MESSAGE\n"
    "Without FILE, checks the domain of --domain FILE or STRATA_DOMAIN (in the\n"
    "workbench: its domain's file as it is on disk now).\n"
    "\n"
    "With --db STORE (given on the command line), checks every event of the store\n"
    "against the domain instead, and lists each one the domain cannot read (an\n"
    "unknown type or schema version, data that does not match the event's fields\n"
    "after its upcasts), one line each:\n"
    "  position 7: stream Note-P, Created schema 1: REASON\n"
    "A projection stopped by one of them can be told to pass over it with\n"
    "`strata project --skip NAME=POSITION`.\n"
    "\n"
    "exit: 0 every file (every event) is good, 1 some file has problems (some event\n"
    "cannot be read), 2 wrong usage\n";

static const struct option opts[] = {VERB_COMMON_OPTIONS, {0}};

static void count(strbuf *sb, size_t n, const char *one, const char *many, bool first)
{
    sb_addf(sb, "%s%zu %s", first ? "" : ", ", n, n == 1 ? one : many);
}

static int check_one(struct verb_ctx *c, const char *path)
{
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load(path, &diags);
    if (!d) {
        if (diags.len == 0) /* cannot happen, but never report a bad file silently */
            verb_say(c, VERB_ERROR, 0, "%s: error: the domain could not be loaded", path);
        verb_diags(c, &diags);
        diag_list_done(&diags);
        return ST_ERR;
    }
    size_t ncommands = 0, nevents = 0;
    for (size_t i = 0; i < d->naggregates; i++) {
        ncommands += d->aggregates[i].ncommands;
        nevents += d->aggregates[i].nevents;
    }
    strbuf sb;
    sb_init(&sb);
    sb_addf(&sb, "%s: ok: ", path);
    count(&sb, d->naggregates, "aggregate", "aggregates", true);
    count(&sb, ncommands, "command", "commands", false);
    count(&sb, nevents, "event", "events", false);
    count(&sb, d->nprojections, "projection", "projections", false);
    count(&sb, d->nscenarios, "scenario", "scenarios", false);
    verb_line(c, sb.buf, sb.len);
    sb_done(&sb);
    domain_free(d);
    diag_list_done(&diags);
    return ST_OK;
}

static int print_poison(const struct poison *p, void *ctx)
{
    struct verb_ctx *c = ctx;
    char *line = xasprintf("position %lld: stream %s, %s schema %d: %s", (long long)p->ev->position,
                           p->ev->stream, p->ev->type, p->ev->schema, p->reason);
    verb_line(c, line, strlen(line));
    free(line);
    return 0;
}

/* `check --db STORE`: the store's poison events. */
static int check_store(struct verb_ctx *c)
{
    int rc = verb_need_domain(c, true);
    if (rc == ST_OK)
        rc = verb_need_store(c, false, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    int64_t checked = 0, found = 0;
    rc = poison_scan(c->store, c->domain, print_poison, c, &checked, &found, &e);
    if (rc != ST_OK)
        return verb_fail(c, &e);
    if (found > 0)
        return verb_say(c, VERB_ERROR, ST_ERR,
                        "%lld of %lld events in %s cannot be read by domain %s (a projection "
                        "they stop can skip them: strata project --skip NAME=POSITION)",
                        (long long)found, (long long)checked, c->db_path, c->domain->name);
    char *line = xasprintf("%s: ok: %lld events, every one valid for domain %s", c->db_path,
                           (long long)checked, c->domain->name);
    verb_line(c, line, strlen(line));
    free(line);
    return ST_OK;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *arg;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0)
        ;
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    if (c->db_given) { /* --db here: STRATA_DB alone keeps this a check of files */
        if (argc - optind > 1)
            return verb_usage_error(
                c, "--db checks a store against one domain: give at most one FILE");
        if (optind < argc)
            c->domain_path = argv[optind];
        return check_store(c);
    }
    int status = ST_OK;
    if (optind >= argc) {
        if (!c->domain_path)
            return verb_usage_error(c,
                                    "no file: give FILE..., --domain FILE, or set STRATA_DOMAIN");
        status = check_one(c, c->domain_path);
    }
    for (int i = optind; i < argc; i++)
        if (check_one(c, argv[i]) != ST_OK)
            status = ST_ERR;
    return status;
}

const struct verb_def verb_check = {
    .name = "check",
    .synopsis = "[FILE...]",
    .summary = "validate domain files (with --db: the store's events against the domain)",
    .usage = usage,
    .options = opts,
    .run = run,
};
