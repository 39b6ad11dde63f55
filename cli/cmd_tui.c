/* cmd_tui.c: `strata tui`, the workbench (tui/tui.h). Opens the domain and the
 * store (creating it when missing, so a first run has somewhere to write), then
 * hands both to tui_run, which restores the terminal on every way out. With --db
 * and no domain it opens on an empty domain, for inspecting an imported log. */
#include "cli/commands.h"
#include "cli/common.h"
#include "tui/tui.h"

static const char usage[] =
    "usage: strata tui [--domain FILE] [--db FILE]\n"
    "\n"
    "Opens the workbench on a domain and its store: the domain, the command form,\n"
    "events, streams, projections with lag gauges, and a timeline to scrub through\n"
    "history. ? shows the keys; : opens the command palette; q quits.\n"
    "With --db and no domain, it opens the store alone: events, streams, timeline.\n"
    "\n"
    "environment:\n"
    "  STRATA_SCRIPT=FILE     play keys and :commands from FILE, one a line, then quit\n"
    "  STRATA_NO_DISPLAY=1    draw to an in-memory screen of LINES x COLUMNS\n"
    "  STRATA_SCRIPT_TIMEOUT  seconds to wait for projections to settle per step (20)\n"
    "  STRATA_NOW=TIME        the clock commands see (deterministic scripts)\n"
    "  NO_COLOR=1             no colours (attributes only)\n"
    "  STRATA_NO_MOUSE=1      leave the mouse to the terminal\n";

int cmd_tui(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTIONS, {0, 0, 0, 0}};
    struct cli c;
    cli_init(&c, "tui", usage);
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (!cli_common_option(&c, opt, optarg))
            return cli_usage_error(&c, "unknown option");
    }
    if (c.want_help)
        return cli_help(&c);
    if (optind < argc && argv[optind][0] != 0)
        return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
    int rc = ST_OK;
    if (c.domain_path || !c.db_path) {
        rc = cli_load_domain(&c, true);
    } else {
        /* A store and no domain: someone inspecting a log they imported. The
         * events, streams and timeline need no domain, so open on an empty one. */
        static const char none[] = "domain: \"(no domain)\"\n"
                                   "description: events and streams only; give --domain for "
                                   "commands and projections\n";
        struct diag_list diags;
        diag_list_init(&diags);
        c.domain = domain_load_buffer("(no domain)", none, sizeof none - 1, &diags);
        diag_list_done(&diags);
        rc = c.domain ? ST_OK : ST_ERR;
    }
    if (rc != ST_OK)
        return rc;
    rc = cli_open_store(&c, true, false);
    if (rc != ST_OK) {
        cli_done(&c);
        return rc;
    }
    rc = tui_run(c.domain, c.domain_path, c.store, c.db_path);
    cli_done(&c);
    return rc;
}
