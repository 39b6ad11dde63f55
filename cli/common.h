/* common.h: what the command line's own subcommands share (tui, test, eval,
 * version, __complete): the --domain/--db options (and their STRATA_DOMAIN/
 * STRATA_DB variables), opening the domain and the store with messages a user
 * can act on, and printing errors. The verbs shared with the workbench (exec,
 * project, import ...) have their own in verbs/verb.h. */
#ifndef STRATA_CLI_COMMON_H
#define STRATA_CLI_COMMON_H

#include <getopt.h>
#include <stdio.h>

#include "core/domain.h"
#include "core/store.h"

/* getopt_long entries for the common options; put COMMON_OPTIONS at the end of a
 * subcommand's option table (before the {0} terminator) and pass unknown option
 * codes to cli_common_option. */
enum { OPT_DOMAIN = 1000, OPT_DB, OPT_HELP, OPT_FORCE, OPT_BRANCH, OPT_FIRST_FREE = 1100 };
// clang-format off
#define COMMON_OPTIONS                                                                             \
    {"domain", required_argument, NULL, OPT_DOMAIN}, {"db", required_argument, NULL, OPT_DB},      \
        {"help", no_argument, NULL, OPT_HELP}, {"branch", required_argument, NULL, OPT_BRANCH}
/* --force: `tui` applies the domain to a store used with another. */
#define FORCE_OPTION {"force", no_argument, NULL, OPT_FORCE}
// clang-format on

struct cli {
    const char *name;        /* the subcommand, for messages */
    const char *usage;       /* its usage text, printed by --help and on misuse */
    const char *domain_path; /* --domain or STRATA_DOMAIN, or NULL */
    const char *db_path;     /* --db or STRATA_DB, or derived from the domain */
    const char *branch;      /* --branch or STRATA_BRANCH: a what-if branch, or NULL (main) */
    struct domain *domain;
    struct store *store;
    bool want_help;
    bool force; /* --force: write with the domain even to a store used with another */
};

void cli_init(struct cli *c, const char *name, const char *usage);
/* Handles a common option code from getopt_long. Returns true if it was one. */
bool cli_common_option(struct cli *c, int opt, const char *arg);
/* Prints usage to stderr and returns ST_USAGE (for a misuse) */
int cli_usage_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints usage to stdout and returns ST_OK (for --help). */
int cli_help(struct cli *c);
/* Loads the domain (required: error if none given). Prints problems; returns status. */
int cli_load_domain(struct cli *c, bool required);
/* Opens the store: --db, else STRATA_DB, else <domain basename>.db in the current
 * folder. create: make it if missing. read_only: do not write. */
int cli_open_store(struct cli *c, bool create, bool read_only);
void cli_done(struct cli *c);
/* Prints "strata NAME: MESSAGE" to stderr and returns e->code (or ST_ERR). */
int cli_fail(struct cli *c, const err *e);

#endif
