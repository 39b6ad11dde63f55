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
#include "cli/file_options.h"

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
    "  --force        with a domain, replay into a store used with another domain\n"
    "                 (or with none, but with events); it records this one\n"
    "\n"
    "Ctrl-C stops it cleanly (\"stopped after N events\", exit 0); nothing is printed\n"
    "per event, a summary at the end.\n"
    "\n"
    "exit status: 0 done or stopped, 1 a bad record or an unreadable file, 2 usage,\n"
    "4 another writer took a version meanwhile\n";

enum { OPT_SPEED = OPT_FIRST_FREE, OPT_RATE };

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
        FILE_OPTIONS,
        {"speed", required_argument, NULL, OPT_SPEED},
        {"rate", required_argument, NULL, OPT_RATE},
        FORCE_OPTION,
        COMMON_OPTIONS,
        {0, 0, 0, 0},
    };
    struct cli c;
    cli_init(&c, "replay", usage);
    struct file_options fo;
    memset(&fo, 0, sizeof fo);
    struct import_options *op = &fo.o;
    bool have_speed = false;
    int opt, handled;
    while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if ((handled = file_option(&c, &fo, opt, optarg)) != 0) {
            if (handled != 1)
                return handled;
            continue;
        }
        switch (opt) {
        case OPT_SPEED:
            if (!parse_positive(optarg, &op->speed))
                return cli_usage_error(&c, "--speed takes a number above 0, not '%s'", optarg);
            have_speed = true;
            break;
        case OPT_RATE:
            if (!parse_positive(optarg, &op->rate))
                return cli_usage_error(
                    &c, "--rate takes a number of events a second above 0, not '%s'", optarg);
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
    if (have_speed && op->rate > 0)
        return cli_usage_error(&c, "give --speed X or --rate N, not both");
    if (!have_speed && op->rate <= 0)
        op->speed = 1.0;

    int rc = file_options_source(&c, &fo);
    if (rc != ST_OK) {
        cli_done(&c);
        return rc;
    }
    err e;
    err_clear(&e);
    struct import_options o = fo.o;
    o.replay = true;
    rc = cli_open_store(&c, true, false);
    /* A --map replay takes the events as they are: the domain is not used. */
    if (rc == ST_OK && o.domain)
        rc = cli_claim_store(&c);
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
                fprintf(stderr,
                        "strata replay: %lld events appended before that stay in the store\n",
                        (long long)res.imported);
        }
    }
    file_options_done(&fo);
    cli_done(&c);
    return rc;
}
