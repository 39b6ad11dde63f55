/* cmd_state.c: `strata state AGGREGATE ID [--at P | --at-time TIME]`: an aggregate
 * instance's state, now or as it was right after position P (or at TIME). */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/aggregate.h"
#include "core/json.h"

static const char usage[] =
    "usage: strata state AGGREGATE ID [--at POSITION | --at-time TIME]\n"
    "Prints {\"stream\":..,\"version\":..,\"position\":..,\"state\":{..}} for one instance,\n"
    "now, or as it was right after global position POSITION, or at TIME (ISO-8601).\n";

int cmd_state(int argc, char **argv)
{
    enum { OPT_AT = OPT_FIRST_FREE, OPT_AT_TIME };
    static const struct option opts[] = {{"at", required_argument, NULL, OPT_AT},
                                         {"at-time", required_argument, NULL, OPT_AT_TIME},
                                         COMMON_OPTIONS,
                                         {0}};
    struct cli c;
    cli_init(&c, "state", usage);
    const char *at = NULL, *at_time = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == OPT_AT)
            at = optarg;
        else if (opt == OPT_AT_TIME)
            at_time = optarg;
        else if (!cli_common_option(&c, opt, optarg))
            return cli_usage_error(&c, "unknown option");
    }
    if (c.want_help)
        return cli_help(&c);
    if (argc - optind != 2)
        return cli_usage_error(&c, "give an aggregate and an id (e.g. strata state Account A)");
    const char *agg_name = argv[optind], *id = argv[optind + 1];
    int rc = cli_load_domain(&c, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    const struct aggregate_spec *a = domain_find_aggregate(c.domain, agg_name, &e);
    if (!a) {
        fprintf(stderr, "strata state: %s\n", e.msg);
        cli_done(&c);
        return ST_ERR;
    }
    rc = cli_open_store(&c, false, false);
    if (rc != ST_OK) {
        cli_done(&c);
        return rc;
    }
    int64_t position = 0;
    rc = cli_resolve_at(&c, at, at_time, &position);
    if (rc != ST_OK) {
        cli_done(&c);
        return rc;
    }
    struct agg_state st;
    rc = aggregate_load(c.store, c.domain, a, id, position, false, &st, &e);
    if (rc != ST_OK) {
        rc = cli_fail(&c, &e);
        cli_done(&c);
        return rc;
    }
    char *stream = aggregate_stream(a, id);
    if (st.version == 0) {
        if (position)
            fprintf(stderr, "strata state: stream %s has no events at or before position %lld\n",
                    stream, (long long)position);
        else
            fprintf(stderr, "strata state: stream %s has no events\n", stream);
        free(stream);
        agg_state_done(&st);
        cli_done(&c);
        return ST_ERR;
    }
    strbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "{\"stream\":");
    json_write_string(&sb, stream, strlen(stream));
    sb_addf(&sb, ",\"version\":%lld,\"position\":%lld,\"state\":", (long long)st.version,
            (long long)st.position);
    json_write(&sb, &st.state);
    sb_adds(&sb, "}\n");
    fwrite(sb.buf, 1, sb.len, stdout);
    sb_done(&sb);
    free(stream);
    agg_state_done(&st);
    cli_done(&c);
    return fflush(stdout) == 0 ? ST_OK : ST_ERR;
}
