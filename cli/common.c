/* common.c: options, domain and store opening shared by the subcommands. */
#include "cli/common.h"
#include "core/about.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "verbs/verb.h"

void cli_init(struct cli *c, const char *name, const char *usage)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->usage = usage;
    const char *d = getenv("STRATA_DOMAIN");
    const char *db = getenv("STRATA_DB");
    c->domain_path = d && *d ? strata_domain_path(d) : NULL; /* `bank`: core/about.h */
    c->db_path = db && *db ? db : NULL;
    const char *branch = getenv("STRATA_BRANCH");
    c->branch = branch && *branch ? branch : NULL;
    optind = 0; /* reset getopt for this subcommand (GNU: also re-initialises) */
}

bool cli_common_option(struct cli *c, int opt, const char *arg)
{
    switch (opt) {
    case OPT_DOMAIN:
        c->domain_path = strata_domain_path(arg); /* `--domain bank`: core/about.h */
        return true;
    case OPT_DB:
        c->db_path = arg;
        return true;
    case OPT_HELP:
        c->want_help = true;
        return true;
    case OPT_BRANCH:
        c->branch = arg;
        return true;
    case OPT_FORCE:
        c->force = true;
        return true;
    default:
        return false;
    }
}

int cli_usage_error(struct cli *c, const char *fmt, ...)
{
    fprintf(stderr, "strata %s: ", c->name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", c->usage);
    return ST_USAGE;
}

int cli_help(struct cli *c)
{
    fputs(c->usage, stdout);
    return ST_OK;
}

int cli_load_domain(struct cli *c, bool required)
{
    if (!c->domain_path) {
        if (!required)
            return ST_OK;
        return cli_usage_error(c, "no domain: give --domain FILE or set STRATA_DOMAIN");
    }
    struct diag_list diags;
    diag_list_init(&diags);
    c->domain = domain_load(c->domain_path, &diags);
    if (!c->domain) {
        diag_list_print(&diags, stderr);
        diag_list_done(&diags);
        return ST_ERR;
    }
    diag_list_done(&diags);
    return ST_OK;
}

int cli_open_store(struct cli *c, bool create, bool read_only)
{
    static char *derived; /* lives as long as the process, like argv */
    if (!c->db_path) {
        if (!c->domain_path)
            return cli_usage_error(c,
                                   "no store: give --db FILE (or --domain FILE, or set STRATA_DB)");
        free(derived);
        derived = verb_default_db(c->domain_path);
        c->db_path = derived;
    }
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = create;
    opt.read_only = read_only;
    opt.branch = c->branch;
    err e;
    err_clear(&e);
    c->store = store_open(c->db_path, &opt, &e);
    if (!c->store)
        return cli_fail(c, &e);
    return ST_OK;
}

void cli_done(struct cli *c)
{
    if (c->store)
        store_close(c->store);
    if (c->domain)
        domain_free(c->domain);
    c->store = NULL;
    c->domain = NULL;
}

int cli_fail(struct cli *c, const err *e)
{
    fprintf(stderr, "strata %s: %s\n", c->name, e->msg[0] ? e->msg : "failed");
    return e->code && e->code != ST_NOT_FOUND && e->code != ST_DUPLICATE ? e->code : ST_ERR;
}
