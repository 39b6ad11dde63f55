/* cmd_exec.c: `strata exec COMMAND [field=value ...] [--payload JSON] [--id ID]
 * [--expect-version N]`: run one command, print the events it appended as NDJSON. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/aggregate.h"
#include "core/event_format.h"
#include "core/json.h"

static const char usage[] =
    "usage: strata exec COMMAND [field=value ...] [--payload JSON] [--id ID]\n"
    "                   [--expect-version N] [--correlation-id ID] [--causation-id ID]\n"
    "Runs COMMAND of the domain and prints the events it appended, as NDJSON.\n"
    "  field=value          a payload field, typed by the command's schema\n"
    "  --payload JSON       the payload as a JSON object (field=value words override it)\n"
    "  --id ID              a command id: running it again appends nothing and prints\n"
    "                       what the first run appended\n"
    "  --expect-version N   fail with exit 4 unless the stream is at version N (no retry)\n"
    "exit: 0 ok, 1 bad input, 2 usage, 3 rejected by a rule, 4 concurrency conflict\n"
    "STRATA_REPORT_RETRIES=1 prints `retries: N` on stderr (conflicts decided again)\n";

int cmd_exec(int argc, char **argv)
{
    enum { OPT_PAYLOAD = OPT_FIRST_FREE, OPT_ID, OPT_EXPECT, OPT_CORR, OPT_CAUSE };
    static const struct option opts[] = {
        {"payload", required_argument, NULL, OPT_PAYLOAD},
        {"id", required_argument, NULL, OPT_ID},
        {"expect-version", required_argument, NULL, OPT_EXPECT},
        {"correlation-id", required_argument, NULL, OPT_CORR},
        {"causation-id", required_argument, NULL, OPT_CAUSE},
        COMMON_OPTIONS,
        {0}};
    struct cli c;
    cli_init(&c, "exec", usage);
    const char *payload_json = NULL;
    struct command_request req;
    memset(&req, 0, sizeof req);
    req.expected_version = STORE_ANY_VERSION;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_PAYLOAD:
            payload_json = optarg;
            break;
        case OPT_ID:
            req.command_id = optarg;
            break;
        case OPT_EXPECT:
            if (!cli_parse_count(optarg, &req.expected_version))
                return cli_usage_error(&c, "--expect-version wants a version (0 or more), not '%s'",
                                       optarg);
            break;
        case OPT_CORR:
            req.correlation_id = optarg;
            break;
        case OPT_CAUSE:
            req.causation_id = optarg;
            break;
        default:
            if (!cli_common_option(&c, opt, optarg))
                return cli_usage_error(&c, "unknown option");
        }
    }
    if (c.want_help)
        return cli_help(&c);
    /* Positionals (getopt_long moved them to the end): the command's name, then
     * field=value words. */
    char **words = argv + optind;
    int nwords = argc - optind;
    if (nwords < 1)
        return cli_usage_error(&c, "which command? (e.g. strata exec Deposit accountId=A amount=5)");
    int rc = cli_load_domain(&c, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    req.command = domain_find_command(c.domain, words[0], &e);
    if (!req.command) {
        fprintf(stderr, "strata exec: %s\n", e.msg);
        cli_done(&c);
        return ST_ERR;
    }
    value payload = value_map(0);
    if (payload_json) {
        err je;
        value_free(payload);
        if (json_parse(payload_json, strlen(payload_json), &payload, &je) != ST_OK) {
            fprintf(stderr, "strata exec: --payload: invalid JSON at column %d: %s\n", je.col,
                    je.msg);
            cli_done(&c);
            return ST_ERR;
        }
        if (payload.type != V_MAP) {
            fprintf(stderr, "strata exec: --payload must be a JSON object\n");
            value_free(payload);
            cli_done(&c);
            return ST_ERR;
        }
    }
    value from_args;
    rc = command_payload_from_args(req.command, words + 1, nwords - 1, &from_args, &e);
    if (rc != ST_OK) {
        value_free(payload);
        cli_done(&c);
        if (rc == ST_USAGE)
            return cli_usage_error(&c, "%s", e.msg);
        fprintf(stderr, "strata exec: %s\n", e.msg);
        return rc;
    }
    for (size_t i = 0; i < value_map_len(&from_args); i++) {
        const value *k = value_map_key_at(&from_args, i);
        value_map_setn(&payload, value_str(k), value_strlen(k),
                       value_ref(value_map_val_at(&from_args, i)));
    }
    value_free(from_args);
    req.payload = payload;

    rc = cli_open_store(&c, true, false);
    if (rc != ST_OK) {
        value_free(payload);
        cli_done(&c);
        return rc;
    }
    struct command_result res;
    command_result_init(&res);
    rc = command_execute(c.store, c.domain, &req, &res, &e);
    /* For tests/e2e/concurrency.sh, which sums how often competing writers collided. */
    if (getenv("STRATA_REPORT_RETRIES"))
        fprintf(stderr, "retries: %d\n", res.attempts > 1 ? res.attempts - 1 : 0);
    if (rc == ST_OK) {
        strbuf sb;
        sb_init(&sb);
        for (size_t i = 0; i < res.appended.len; i++)
            event_write_ndjson(&sb, &res.appended.items[i], NULL, 0);
        fwrite(sb.buf ? sb.buf : "", 1, sb.len, stdout);
        sb_done(&sb);
        if (res.duplicate)
            fprintf(stderr, "strata exec: command id %s was already processed; nothing appended\n",
                    req.command_id);
    } else if (rc == ST_REJECTED) {
        fprintf(stderr, "rejected: %s\n", res.rejected ? res.rejected : e.msg);
        if (res.explanation && *res.explanation)
            fprintf(stderr, "  because %s\n", res.explanation);
    } else {
        fprintf(stderr, "strata exec: %s\n", e.msg);
    }
    command_result_done(&res);
    value_free(payload);
    cli_done(&c);
    if (fflush(stdout) != 0)
        return ST_ERR;
    return rc == ST_NOT_FOUND || rc == ST_DUPLICATE ? ST_ERR : rc;
}
