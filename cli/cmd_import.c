/* cmd_import.c: `strata import FILE... [--source NAME | --map FILE] [--skip-bad]
 * [--sort time]`: appends events from files (design.md, "The command line"). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/import.h"

static const char usage[] =
    "usage: strata import FILE... [--source NAME | --map FILE] [--skip-bad] [--sort time]\n"
    "\n"
    "Appends events from files to the store. With no source the files are Strata's\n"
    "own NDJSON (as `strata export` writes it): each stream's versions must continue\n"
    "the store's. With a source (a domain's `sources:` entry, or a stand-alone map\n"
    "file) records of NDJSON, JSON, CSV or CloudEvents files are mapped to events and\n"
    "appended at the end of their streams. Files ending in .gz are decompressed; -\n"
    "reads standard input.\n"
    "\n"
    "  --source NAME  read the files through the domain's source NAME (needs --domain)\n"
    "  --map FILE     read the files through the source described in FILE (YAML: the\n"
    "                 keys of one source at the top level: format, stream, type, ...)\n"
    "  --skip-bad     import the good records; report and count the bad ones\n"
    "                 (without it, one bad record means nothing is imported)\n"
    "  --sort time    append in time order (stable) instead of file order; holds\n"
    "                 every event in memory until the end of the files\n"
    "\n"
    "Each bad record is reported as FILE:LINE: error: REASON (FILE:[INDEX] inside a\n"
    "JSON array). A progress bar is drawn on standard error when it is a terminal.\n"
    "\n"
    "exit status: 0 imported, 1 bad records or unreadable files (nothing imported\n"
    "unless --skip-bad), 2 usage, 4 another writer took a version meanwhile\n";

enum { OPT_SOURCE = OPT_FIRST_FREE, OPT_MAP, OPT_SKIP_BAD, OPT_SORT };

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"source", required_argument, NULL, OPT_SOURCE},
        {"map", required_argument, NULL, OPT_MAP},
        {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
        {"sort", required_argument, NULL, OPT_SORT},
        COMMON_OPTIONS,
        {0, 0, 0, 0},
    };
    struct cli c;
    cli_init(&c, "import", usage);
    const char *source = NULL, *map = NULL;
    struct import_options o;
    memset(&o, 0, sizeof o);
    int opt;
    while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_SOURCE:
            source = optarg;
            break;
        case OPT_MAP:
            map = optarg;
            break;
        case OPT_SKIP_BAD:
            o.skip_bad = true;
            break;
        case OPT_SORT:
            if (strcmp(optarg, "time") != 0)
                return cli_usage_error(&c, "--sort takes 'time', not '%s'", optarg);
            o.sort_time = true;
            break;
        case ':':
            return cli_usage_error(&c, "option %s needs a value", argv[optind - 1]);
        case '?':
            return cli_usage_error(&c, "unknown option '%s'", argv[optind - 1]);
        default:
            if (!cli_common_option(&c, opt, optarg))
                return cli_usage_error(&c, "unknown option");
        }
    }
    if (c.want_help)
        return cli_help(&c);
    if (optind >= argc)
        return cli_usage_error(&c, "no files given");
    if (source && map)
        return cli_usage_error(&c, "give --source NAME or --map FILE, not both");

    int rc = cli_load_domain(&c, source != NULL);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    struct source_spec *src = NULL;
    bool owned = false;
    rc = import_pick_source(c.domain, source, map, &src, &owned, stderr, &e);
    if (rc != ST_OK) {
        cli_done(&c);
        return rc == ST_USAGE ? cli_usage_error(&c, "%s", e.msg) : cli_fail(&c, &e);
    }
    rc = cli_open_store(&c, true, false);
    if (rc == ST_OK) {
        o.source = src;
        o.progress = isatty(STDERR_FILENO);
        struct import_result res;
        size_t nfiles = (size_t)(argc - optind);
        rc = import_files(c.store, argv + optind, nfiles, &o, &res, &e);
        if (rc == ST_OK)
            import_print_summary(stdout, &res, nfiles, false);
        else
            rc = cli_fail(&c, &e);
    }
    if (owned)
        source_free(src);
    cli_done(&c);
    return rc;
}
