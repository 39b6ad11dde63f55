/* cmd_import.c: `strata import FILE... [--source NAME | --map FILE] [--skip-bad]
 * [--sort time] [--allow-duplicates]`: appends events from files (design.md, "The command line").
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/file_options.h"

static const char usage[] =
    "usage: strata import FILE... [--source NAME | --map FILE] [--skip-bad] [--sort time]\n"
    "                    [--allow-duplicates]\n"
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
    "  --force        with a domain, import into a store used with another domain\n"
    "                 (or with none, but with events); it records this one\n"
    "  --allow-duplicates  append records already imported again (no ledger)\n"
    "\n"
    "Nothing is imported twice: a record already imported (known by the source's\n"
    "`id:`, a CloudEvent's source and id, or a hash of the record and how many\n"
    "identical ones came before it in its file) is counted as already present;\n"
    "a canonical line whose stream version holds the identical event likewise.\n"
    "\n"
    "Each bad record is reported as FILE:LINE: error: REASON (FILE:[INDEX] inside a\n"
    "JSON array). A progress bar is drawn on standard error when it is a terminal.\n"
    "\n"
    "exit status: 0 imported, 1 bad records or unreadable files (nothing imported\n"
    "unless --skip-bad), 2 usage, 4 another writer took a version meanwhile\n";

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        FILE_OPTIONS,
        FORCE_OPTION,
        COMMON_OPTIONS,
        {0, 0, 0, 0},
    };
    struct cli c;
    cli_init(&c, "import", usage);
    struct file_options fo;
    memset(&fo, 0, sizeof fo);
    int opt, handled;
    while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if ((handled = file_option(&c, &fo, opt, optarg)) != 0) {
            if (handled != 1)
                return handled;
            continue;
        }
        switch (opt) {
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
    int rc = file_options_source(&c, &fo);
    if (rc != ST_OK) {
        cli_done(&c);
        return rc;
    }
    err e;
    err_clear(&e);
    struct import_options o = fo.o;
    rc = cli_open_store(&c, true, false);
    /* A --map import takes the events as they are: the domain is not used. */
    if (rc == ST_OK && o.domain)
        rc = cli_claim_store(&c);
    if (rc == ST_OK) {
        o.progress = isatty(STDERR_FILENO);
        struct import_result res;
        size_t nfiles = (size_t)(argc - optind);
        rc = import_files(c.store, argv + optind, nfiles, &o, &res, &e);
        if (rc == ST_OK)
            import_print_summary(stdout, &res, nfiles, false);
        else
            rc = cli_fail(&c, &e);
    }
    file_options_done(&fo);
    cli_done(&c);
    return rc;
}
