/* common.h: what every subcommand shares: the --domain/--db options (and their
 * STRATA_DOMAIN/STRATA_DB variables), opening the domain and the store with
 * messages a user can act on, and printing errors. */
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
/* --force: for the subcommands that write with a domain (cli_claim_store). */
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

/* The event filter options that `events` and `export` share: --from P, --to P,
 * --stream S, --type T. Put FILTER_OPTIONS in the option table and hand each code
 * to cli_filter_option. */
enum { OPT_FROM = OPT_FIRST_FREE + 80, OPT_TO, OPT_STREAM, OPT_TYPE };
// clang-format off
#define FILTER_OPTIONS                                                                             \
    {"from", required_argument, NULL, OPT_FROM}, {"to", required_argument, NULL, OPT_TO},          \
        {"stream", required_argument, NULL, OPT_STREAM}, {"type", required_argument, NULL, OPT_TYPE}
// clang-format on

void cli_init(struct cli *c, const char *name, const char *usage);
/* Handles one filter option into f: 1 when it was one, 0 when not, ST_USAGE (the
 * problem printed) when its value was wrong. */
int cli_filter_option(struct cli *c, int opt, const char *arg, struct event_filter *f);
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
/* Before writing with the domain (appending, creating or folding projection
 * tables): the store must record the domain's name, or record none and have no
 * events yet (then it records it now); otherwise it is refused unless --force,
 * which records it (core/store_domain.h). Without a domain given (--domain or
 * STRATA_DOMAIN) there is nothing to check. Prints the problem; returns a status. */
int cli_claim_store(struct cli *c);
void cli_done(struct cli *c);
/* Reads a whole number >= 0 (a position, a count). False when s is anything else. */
bool cli_parse_count(const char *s, int64_t *out);
/* Prints "strata NAME: MESSAGE" to stderr and returns e->code (or ST_ERR). */
int cli_fail(struct cli *c, const err *e);

#endif
