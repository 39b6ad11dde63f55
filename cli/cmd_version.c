/* cmd_version.c: `strata version [--verbose]` and `strata --version`. The version
 * comes from the VERSION file and the git commit from the checkout, both read by
 * the Makefile at build time into strata_version.h (a tarball says "unknown"), so
 * that a bug report names exactly what was built. --verbose adds the libraries as
 * they are loaded at run time, the store format and where the shared data is. */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/about.h"
#include "strata_version.h"
#include "tui/curses_version.h"

static const char usage[] =
    "usage: strata version [--verbose]\n"
    "\n"
    "Prints the version and the git commit Strata was built from, with \"modified\"\n"
    "when the checkout had uncommitted changes: strata 0.2.0 (git 1a2b3c4, modified).\n"
    "  --verbose   also the SQLite, libyaml and ncurses versions loaded at run time,\n"
    "              the store format this build writes and the shared data folder\n";

int cmd_version(int argc, char **argv)
{
    enum { OPT_VERBOSE = OPT_FIRST_FREE };
    static const struct option opts[] = {
        {"verbose", no_argument, NULL, OPT_VERBOSE}, COMMON_OPTIONS, {0, 0, 0, 0}};
    struct cli c;
    cli_init(&c, "version", usage);
    bool verbose = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        if (opt == OPT_VERBOSE || opt == 'v')
            verbose = true;
        else if (!cli_common_option(&c, opt, optarg))
            return cli_usage_error(&c, "unknown option");
    }
    if (c.want_help)
        return cli_help(&c);
    if (optind < argc)
        return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
    printf("strata %s (git %s%s)\n", STRATA_VERSION, STRATA_GIT,
           STRATA_GIT_MODIFIED ? ", modified" : "");
    if (verbose) {
        const char *data = strata_data_dir();
        printf("sqlite %s\nlibyaml %s\nncurses %s\nstore format %d\ndata %s\n",
               strata_sqlite_version(), strata_yaml_version(), tui_curses_version(),
               strata_store_format(), data ? data : "(not found)");
    }
    return ST_OK;
}
