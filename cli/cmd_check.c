/* cmd_check.c: `strata check FILE...`, validating domain files.
 *
 * Each file is loaded and checked on its own, so one broken file does not hide
 * the problems (or the health) of the others. A good file gets one line on
 * standard output, "FILE: ok: 1 aggregate, 4 commands, 5 events, 2 projections,
 * 3 scenarios"; a bad one gets every problem on standard error as
 * FILE:LINE:COL: error: PATH: MESSAGE. The exit status is 0 when every file is
 * good, 1 otherwise, 2 for wrong usage.
 *
 * With --db STORE it checks the store's events against the domain instead and
 * lists each one the domain cannot read (a poison event, core/poison.h). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/poison.h"

static const char check_usage[] =
    "usage: strata check [FILE...]\n"
    "       strata check --db STORE [--domain FILE | FILE]\n"
    "\n"
    "Checks domain files: names, types, defaults, expressions, the events that\n"
    "commands emit and projections fold, upcast chains, scenarios. Prints\n"
    "  FILE: ok: 1 aggregate, 4 commands, 5 events, 2 projections, 3 scenarios\n"
    "for a good file, and every problem of a bad one as\n"
    "  FILE:LINE:COL: error: PATH: MESSAGE\n"
    "Without FILE, checks the domain of --domain FILE or STRATA_DOMAIN.\n"
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

static void count(strbuf *sb, size_t n, const char *one, const char *many, bool first)
{
    sb_addf(sb, "%s%zu %s", first ? "" : ", ", n, n == 1 ? one : many);
}

static int check_one(const char *path)
{
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load(path, &diags);
    if (!d) {
        if (diags.len == 0) /* cannot happen, but never report a bad file silently */
            fprintf(stderr, "%s: error: the domain could not be loaded\n", path);
        diag_list_print(&diags, stderr);
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
    count(&sb, d->naggregates, "aggregate", "aggregates", true);
    count(&sb, ncommands, "command", "commands", false);
    count(&sb, nevents, "event", "events", false);
    count(&sb, d->nprojections, "projection", "projections", false);
    count(&sb, d->nscenarios, "scenario", "scenarios", false);
    printf("%s: ok: %s\n", path, sb.buf);
    sb_done(&sb);
    domain_free(d);
    diag_list_done(&diags);
    return ST_OK;
}

static int print_poison(const struct poison *p, void *ctx)
{
    (void)ctx;
    printf("position %lld: stream %s, %s schema %d: %s\n", (long long)p->ev->position,
           p->ev->stream, p->ev->type, p->ev->schema, p->reason);
    return 0;
}

/* `check --db STORE`: the store's poison events. */
static int check_store(struct cli *c)
{
    int rc = cli_load_domain(c, true);
    if (rc == ST_OK)
        rc = cli_open_store(c, false, true);
    if (rc != ST_OK) {
        cli_done(c);
        return rc;
    }
    err e;
    err_clear(&e);
    int64_t checked = 0, found = 0;
    rc = poison_scan(c->store, c->domain, print_poison, NULL, &checked, &found, &e);
    fflush(stdout);
    if (rc != ST_OK) {
        rc = cli_fail(c, &e);
    } else if (found > 0) {
        fprintf(stderr,
                "strata check: %lld of %lld events in %s cannot be read by domain %s "
                "(a projection they stop can skip them: strata project --skip NAME=POSITION)\n",
                (long long)found, (long long)checked, c->db_path, c->domain->name);
        rc = ST_ERR;
    } else {
        printf("%s: ok: %lld events, every one valid for domain %s\n", c->db_path,
               (long long)checked, c->domain->name);
    }
    cli_done(c);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    static const struct option options[] = {COMMON_OPTIONS, {0, 0, 0, 0}};
    struct cli c;
    cli_init(&c, "check", check_usage);
    int opt;
    bool store = false; /* --db given here: STRATA_DB alone keeps this a check of files */
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'h') {
            c.want_help = true;
            continue;
        }
        store = store || opt == OPT_DB;
        if (!cli_common_option(&c, opt, optarg))
            return cli_usage_error(&c, "unknown option");
    }
    if (c.want_help)
        return cli_help(&c);
    if (store) {
        if (argc - optind > 1)
            return cli_usage_error(&c,
                                   "--db checks a store against one domain: give at most one FILE");
        if (optind < argc)
            c.domain_path = argv[optind];
        return check_store(&c);
    }
    int status = ST_OK;
    if (optind >= argc) {
        if (!c.domain_path)
            return cli_usage_error(&c,
                                   "no file: give FILE..., --domain FILE, or set STRATA_DOMAIN");
        status = check_one(c.domain_path);
    }
    for (int i = optind; i < argc; i++)
        if (check_one(argv[i]) != ST_OK)
            status = ST_ERR;
    fflush(stdout);
    return status;
}
