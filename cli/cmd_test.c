/* cmd_test.c: `strata test FILE...`: run each domain's scenarios; the closing line
 * is "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/scenario.h"

static const char usage[] =
    "usage: strata test [FILE...] [--domain FILE]\n"
    "Runs the scenarios of each domain file (or of --domain), each against a fresh\n"
    "in-memory store, and ends with \"N passed, N failed\". Exit 0 when all passed.\n"
    "Scenarios run at a fixed clock (given events from 2026-01-01T00:00:00.000Z, a\n"
    "second apart; the command a second after the last).\n"
    "A FILE with scenarios but no aggregates (as `exec --record` writes) is run\n"
    "against the domain given with --domain.\n"
    "  STRATA_NOW=TIME   the command's clock in scenarios whose `when` has no `time`\n";

int cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTIONS, {0}};
    struct cli c;
    cli_init(&c, "test", usage);
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (!cli_common_option(&c, opt, optarg))
            return cli_usage_error(&c, "unknown option");
    if (c.want_help)
        return cli_help(&c);
    int nfiles = argc - optind;
    if (nfiles == 0 && !c.domain_path)
        return cli_usage_error(&c, "which domain? give FILE... or --domain FILE");
    struct scenario_options sopt = {false, 0};
    const char *now = getenv("STRATA_NOW");
    if (now && *now) {
        if (strlen(now) <= 10 || !time_parse(now, strlen(now), 0, &sopt.now_ms))
            return cli_usage_error(&c, "STRATA_NOW: '%s' is not a time (2026-01-01T00:00:00Z)",
                                   now);
        sopt.has_now = true;
    }
    int passed = 0, failed = 0, broken = 0;
    for (int i = 0; i < (nfiles ? nfiles : 1); i++) {
        const char *path = nfiles ? argv[optind + i] : c.domain_path;
        struct diag_list diags;
        diag_list_init(&diags);
        /* A scenarios file (exec --record's) is run against --domain. */
        bool only_scenarios = nfiles && domain_file_is_scenarios(path);
        if (only_scenarios && !c.domain_path) {
            fprintf(stderr,
                    "strata test: %s holds scenarios only: give the domain they test with "
                    "--domain FILE\n",
                    path);
            diag_list_done(&diags);
            broken++;
            continue;
        }
        struct domain *d = domain_load(only_scenarios ? c.domain_path : path, &diags);
        if (d && only_scenarios && domain_load_scenarios(d, path, &diags) != ST_OK) {
            domain_free(d);
            d = NULL;
        }
        if (!d) {
            diag_list_print(&diags, stderr);
            diag_list_done(&diags);
            broken++;
            continue;
        }
        diag_list_done(&diags);
        for (size_t j = 0; j < d->nscenarios; j++) {
            const struct scenario_spec *sc = &d->scenarios[j];
            strbuf report;
            sb_init(&report);
            if (scenario_run(d, sc, &sopt, &report) == ST_OK) {
                printf("ok   %s: %s\n", path, sc->name);
                passed++;
            } else {
                printf("FAIL %s:%d: %s\n%s", path, sc->pos.line, sc->name,
                       report.buf ? report.buf : "");
                failed++;
            }
            sb_done(&report);
        }
        domain_free(d);
    }
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return broken ? ST_ERR : failed ? ST_ERR : ST_OK;
}
