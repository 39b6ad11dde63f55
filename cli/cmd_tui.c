/* cmd_tui.c: `strata tui`, the workbench (tui/tui.h). Opens the domain and the
 * store (creating it when missing, so a first run has somewhere to write), then
 * hands both to tui_run, which restores the terminal on every way out. With --db
 * and no domain it opens on an empty domain, for inspecting an imported log. */
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/store_domain.h"
#include "tui/tui.h"

static const char usage[] =
    "usage: strata tui [--domain FILE] [--db FILE] [--force]\n"
    "\n"
    "Opens the workbench on a domain and its store: the domain, the command form,\n"
    "events, streams, projections with lag gauges, and a timeline to scrub through\n"
    "history. ? shows the keys; : opens the command palette; q quits.\n"
    "With --db and no domain, it opens the store alone: events, streams, timeline.\n"
    "A store used with another domain (or with none, but with events) is not given\n"
    "this one without asking first; --force gives it without asking.\n"
    "\n"
    "environment:\n"
    "  STRATA_SCRIPT=FILE     play keys and :commands from FILE, one a line, then quit\n"
    "  STRATA_NO_DISPLAY=1    draw to an in-memory screen of LINES x COLUMNS\n"
    "  STRATA_SCRIPT_TIMEOUT  seconds to wait for projections to settle per step (20)\n"
    "  STRATA_NOW=TIME        the clock commands see (deterministic scripts)\n"
    "  NO_COLOR=1             no colours (attributes only)\n"
    "  STRATA_NO_MOUSE=1      leave the mouse to the terminal\n";

static struct domain *no_domain(void)
{
    static const char text[] = "domain: \"(no domain)\"\n"
                               "description: events and streams only; give --domain for "
                               "commands and projections\n";
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("(no domain)", text, sizeof text - 1, &diags);
    diag_list_done(&diags);
    return d;
}

#define TUI_CACHE_KIB 1024

int cmd_tui(int argc, char **argv)
{
    static const struct option opts[] = {FORCE_OPTION, COMMON_OPTIONS, {0, 0, 0, 0}};
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
    /* Every connection the workbench opens (its own, the projection runner's, the
     * jobs') keeps a small page cache: the default 32 MB is for appends and
     * catch-up, and the pages a tour of a large store touched would otherwise stay
     * resident (bench/RESULTS.md, tui_rss). */
    const char *ck = getenv("STRATA_TUI_CACHE_KIB");
    store_set_cache_kib(ck && *ck ? atoi(ck) : TUI_CACHE_KIB);
    int rc = c.domain_path || !c.db_path ? cli_load_domain(&c, true) : ST_OK;
    if (rc != ST_OK)
        return rc;
    /* A store and no domain: someone inspecting a log they imported. The events,
     * streams and timeline need no domain, so it opens on an empty one (also what
     * 'n' opens with when the workbench asks about a domain). */
    struct domain *none = no_domain();
    if (!none)
        return ST_ERR;
    if (!c.domain)
        c.domain = none;
    rc = cli_open_store(&c, true, false);
    if (rc != ST_OK) {
        if (c.domain != none)
            domain_free(none);
        cli_done(&c);
        return rc;
    }
    /* A domain for a store used with another (or an imported log): the
     * workbench asks first, unless --force said yes already. */
    struct tui_ask ask = {NULL, none};
    struct store_domain_check chk = {0};
    err e;
    err_clear(&e);
    if (c.domain != none) {
        if (store_domain_check(c.store, c.domain->name, &chk, &e) != ST_OK) {
            rc = cli_fail(&c, &e);
        } else if (chk.fit == STORE_DOMAIN_FRESH || (chk.fit != STORE_DOMAIN_SAME && c.force)) {
            if (store_domain_record(c.store, c.domain->name, &e) != ST_OK)
                rc = cli_fail(&c, &e);
        } else if (chk.fit != STORE_DOMAIN_SAME) {
            ask.question = store_domain_question(&chk, c.db_path, c.domain->name);
        }
    }
    if (rc == ST_OK)
        rc = tui_run(c.domain, c.domain == none ? NULL : c.domain_path, c.store, c.db_path,
                     ask.question ? &ask : NULL);
    free((char *)ask.question);
    store_domain_check_done(&chk);
    if (c.domain != none)
        domain_free(none);
    cli_done(&c);
    return rc;
}
