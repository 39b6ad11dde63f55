/* common.c: options, domain and store opening shared by the subcommands. */
#include "cli/common.h"
#include "core/about.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/store_domain.h"

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

/* "domains/bank.yaml" -> "bank.db" (in the current folder). */
static char *db_from_domain(const char *domain_path)
{
    const char *base = strrchr(domain_path, '/');
    base = base ? base + 1 : domain_path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return xasprintf("%.*s.db", (int)n, base);
}

int cli_open_store(struct cli *c, bool create, bool read_only)
{
    static char *derived; /* lives as long as the process, like argv */
    if (!c->db_path) {
        if (!c->domain_path)
            return cli_usage_error(c,
                                   "no store: give --db FILE (or --domain FILE, or set STRATA_DB)");
        free(derived);
        derived = db_from_domain(c->domain_path);
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

int cli_claim_store(struct cli *c)
{
    if (!c->domain || !c->domain_path || !c->store)
        return ST_OK;
    err e;
    err_clear(&e);
    if (store_domain_claim(c->store, c->domain->name, c->force, &e) != ST_OK)
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

bool cli_parse_count(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < 0)
        return false;
    *out = v;
    return true;
}

int cli_filter_option(struct cli *c, int opt, const char *arg, struct event_filter *f)
{
    switch (opt) {
    case OPT_FROM:
        if (!cli_parse_count(arg, &f->from))
            return cli_usage_error(c, "--from takes a position (a whole number), not '%s'", arg);
        return 1;
    case OPT_TO:
        if (!cli_parse_count(arg, &f->to))
            return cli_usage_error(c, "--to takes a position (a whole number), not '%s'", arg);
        return 1;
    case OPT_STREAM:
        f->stream = arg;
        return 1;
    case OPT_TYPE:
        f->type = arg;
        return 1;
    default:
        return 0;
    }
}
