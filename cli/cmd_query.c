/* cmd_query.c: `strata query PROJECTION [--key K] [--at P | --at-time TIME]`: a
 * projection's rows as NDJSON, ordered by key, now or as they were right after
 * position P. The projection is caught up first (to P, or to the head) so that
 * the answer is current; a paused, failed or stale projection is not, and a note
 * on standard error says how far it has got. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/json.h"
#include "core/projection.h"

static const char usage[] =
    "usage: strata query PROJECTION [--key K] [--at POSITION | --at-time TIME]\n"
    "Prints the projection's rows as NDJSON, one object per row ordered by key:\n"
    "{\"key\":\"A\",\"balance\":15,...} (no \"key\" for a projection without one).\n"
    "  --key K          only the row with key K\n"
    "  --at POSITION    the rows as they were right after that global position\n"
    "  --at-time TIME   the rows as they were at TIME (ISO-8601)\n";

/* Tells, on standard error, why the rows may not be current. */
static void note_lag(struct cli *c, const char *name, int64_t at)
{
    struct proj_lag *lags;
    size_t n;
    err e;
    err_clear(&e);
    if (projection_status(c->store, c->domain, &lags, &n, &e) != ST_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        if (strcmp(l->name, name) != 0)
            continue;
        if (l->stale)
            fprintf(stderr,
                    "strata query: note: %s is stale (its definition changed); rebuild it with "
                    "strata project --rebuild %s\n",
                    name, name);
        if (at == 0 && l->events_behind > 0 && l->status != PROJ_REBUILDING)
            fprintf(
                stderr,
                "strata query: note: %s is %s at position %lld of %lld; the rows are as of %lld\n",
                name, proj_status_name(l->status), (long long)l->checkpoint, (long long)l->head,
                (long long)l->checkpoint);
        if (l->status == PROJ_FAILED)
            fprintf(stderr, "strata query: note: %s failed at position %lld: %s\n", name,
                    (long long)l->error_position, l->error ? l->error : "");
    }
    proj_lag_free(lags, n);
}

int cmd_query(int argc, char **argv)
{
    enum { OPT_KEY = OPT_FIRST_FREE, OPT_AT, OPT_AT_TIME };
    static const struct option opts[] = {{"key", required_argument, NULL, OPT_KEY},
                                         {"at", required_argument, NULL, OPT_AT},
                                         {"at-time", required_argument, NULL, OPT_AT_TIME},
                                         COMMON_OPTIONS,
                                         {0}};
    struct cli c;
    cli_init(&c, "query", usage);
    const char *key = NULL, *at = NULL, *at_time = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == OPT_KEY)
            key = optarg;
        else if (opt == OPT_AT)
            at = optarg;
        else if (opt == OPT_AT_TIME)
            at_time = optarg;
        else if (!cli_common_option(&c, opt, optarg))
            return cli_usage_error(&c, "unknown option");
    }
    if (c.want_help)
        return cli_help(&c);
    if (argc - optind != 1)
        return cli_usage_error(&c, "give one projection (e.g. strata query AccountList)");
    const char *name = argv[optind];
    int rc = cli_load_domain(&c, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    if (!projection_find(c.domain, name, &e)) {
        /* Before opening the store, so a typo costs nothing. */
        rc = cli_fail(&c, &e);
        cli_done(&c);
        return rc;
    }
    if ((rc = cli_open_store(&c, false, false)) != ST_OK) {
        cli_done(&c);
        return rc;
    }
    int64_t position = 0;
    if ((rc = cli_resolve_at(&c, at, at_time, &position)) != ST_OK) {
        cli_done(&c);
        return rc;
    }
    int64_t head = 0;
    if (store_head(c.store, &head, &e) != ST_OK ||
        projection_catch_up_to(c.store, c.domain, name, position > head ? 0 : position, 0, false,
                               NULL, &e) != ST_OK) {
        rc = cli_fail(&c, &e);
        cli_done(&c);
        return rc;
    }
    value rows;
    rc = projection_query(c.store, c.domain, name, key, position, 0, 0, &rows, &e);
    if (rc != ST_OK) {
        note_lag(&c, name, position);
        value_free(rows);
        rc = cli_fail(&c, &e);
        cli_done(&c);
        return rc;
    }
    note_lag(&c, name, position);
    if (key && value_list_len(&rows) == 0) {
        if (position)
            fprintf(stderr, "strata query: %s had no row with key '%s' right after position %lld\n",
                    name, key, (long long)position);
        else
            fprintf(stderr, "strata query: %s has no row with key '%s'\n", name, key);
        value_free(rows);
        cli_done(&c);
        return ST_ERR;
    }
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < value_list_len(&rows); i++) {
        json_write(&sb, value_list_at(&rows, i));
        sb_addc(&sb, '\n');
        if (sb.len > (1u << 16)) {
            fwrite(sb.buf, 1, sb.len, stdout);
            sb_reset(&sb);
        }
    }
    fwrite(sb.buf, 1, sb.len, stdout);
    sb_done(&sb);
    value_free(rows);
    cli_done(&c);
    return fflush(stdout) == 0 ? ST_OK : ST_ERR;
}
