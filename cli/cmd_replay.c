/* cmd_replay.c: `strata replay FILE... [--speed X | --rate N] [--source NAME |
 * --map FILE]`: appends events one at a time, paced in time, committing each, so
 * that a workbench open on the same store shows them arriving. Ctrl-C (SIGINT) or
 * SIGTERM stops it cleanly: the append in progress finishes and everything
 * appended so far stays. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/import.h"

static const char usage[] =
    "usage: strata replay FILE... [--speed X | --rate N] [--source NAME | --map FILE]\n"
    "                             [--skip-bad] [--sort time]\n"
    "\n"
    "Appends the events of the files one at a time, each committed at once, paced in\n"
    "time so that a workbench open on the same store shows them arriving. Files are\n"
    "read as `strata import` reads them (canonical NDJSON, or through a source).\n"
    "\n"
    "  --speed X      follow the events' own time stamps, X times faster (default 1)\n"
    "  --rate N       append N events a second, whatever their time stamps\n"
    "  --source NAME  read the files through the domain's source NAME\n"
    "  --map FILE     read the files through the source described in FILE\n"
    "  --skip-bad     report bad records and go on (by default replay stops at the\n"
    "                 first one; what was appended before it stays)\n"
    "  --sort time    replay in time order; reads every file before the first append\n"
    "\n"
    "Ctrl-C stops it cleanly (\"stopped after N events\", exit 0); nothing is printed\n"
    "per event, a summary at the end.\n"
    "\n"
    "exit status: 0 done or stopped, 1 a bad record or an unreadable file, 2 usage,\n"
    "4 another writer took a version meanwhile\n";

enum { OPT_SOURCE = OPT_FIRST_FREE, OPT_MAP, OPT_SKIP_BAD, OPT_SORT, OPT_SPEED, OPT_RATE };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static bool parse_positive(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 1e9)
        return false;
    *out = v;
    return true;
}

int cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"source", required_argument, NULL, OPT_SOURCE},
        {"map", required_argument, NULL, OPT_MAP},
        {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
        {"sort", required_argument, NULL, OPT_SORT},
        {"speed", required_argument, NULL, OPT_SPEED},
        {"rate", required_argument, NULL, OPT_RATE},
        COMMON_OPTIONS,
        {0, 0, 0, 0},
    };
    struct cli c;
    cli_init(&c, "replay", usage);
    const char *source = NULL, *map = NULL;
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.replay = true;
    bool have_speed = false;
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
        case OPT_SPEED:
            if (!parse_positive(optarg, &o.speed))
                return cli_usage_error(&c, "--speed takes a number above 0, not '%s'", optarg);
            have_speed = true;
            break;
        case OPT_RATE:
            if (!parse_positive(optarg, &o.rate))
                return cli_usage_error(&c, "--rate takes a number of events a second above 0, not '%s'",
                                       optarg);
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
        return cli_usage_error(&c, "no file given");
    if (have_speed && o.rate > 0)
        return cli_usage_error(&c, "give --speed X or --rate N, not both");
    if (source && map)
        return cli_usage_error(&c, "give --source NAME or --map FILE, not both");
    if (!have_speed && o.rate <= 0)
        o.speed = 1.0;

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
        /* No SA_RESTART: a signal cuts the pacing sleep short; the append in
         * progress is not interrupted (SQLite retries its system calls). */
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        stop_requested = 0;
        o.stop = &stop_requested;
        o.source = src;
        struct import_result res;
        size_t nfiles = (size_t)(argc - optind);
        rc = import_files(c.store, argv + optind, nfiles, &o, &res, &e);
        if (stop_requested)
            res.stopped = true;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        if (rc == ST_OK) {
            import_print_summary(stdout, &res, nfiles, true);
        } else {
            rc = cli_fail(&c, &e);
            if (res.imported > 0)
                fprintf(stderr, "strata replay: %lld events appended before that stay in the store\n",
                        (long long)res.imported);
        }
    }
    if (owned)
        source_free(src);
    cli_done(&c);
    return rc;
}
