/* exec.c: the `exec` verb: COMMAND [field=value ...] [--payload JSON] [--id ID]
 * [--expect-version N] [--correlation-id ID] [--causation-id ID]: runs one
 * command of the domain and reports the events it appended, one NDJSON line each.
 * The payload keeps the types JSON gave it (only field=value words are typed by
 * the schema), so `--payload '{"amount":"5"}'` is refused by the schema wherever
 * it is typed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/command_narrate.h"
#include "core/event_format.h"
#include "core/json.h"
#include "core/projection.h"
#include "core/record.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata exec COMMAND [field=value ...] [--payload JSON] [--id ID]\n"
    "                   [--expect-version N] [--correlation-id ID] [--causation-id ID]\n"
    "Runs COMMAND of the domain and prints the events it appended, as NDJSON.\n"
    "  field=value          a payload field, typed by the command's schema\n"
    "  --payload JSON       the payload as a JSON object (field=value words override it)\n"
    "  --id ID              a command id: running it again appends nothing and prints\n"
    "                       what the first run appended\n"
    "  --expect-version N   fail with exit 4 unless the stream is at version N (no retry)\n"
    "  --force              append to a store used with another domain (or with none,\n"
    "                       but with events); it records this one\n"
    "  --explain            narrate each step on standard error (state loaded, payload,\n"
    "                       each rule with its values, events, state changes, append,\n"
    "                       conflicts and retries, snapshot, projections behind)\n"
    "  --record FILE        append the command and its outcome to FILE as a scenario\n"
    "                       (given: the stream's events; when: the command at its\n"
    "                       clock; then: its events or its rejection, and the rows it\n"
    "                       changed); `strata test --domain DOMAIN FILE` runs them\n"
    "exit: 0 ok, 1 bad input, 2 usage, 3 rejected by a rule, 4 concurrency conflict\n"
    "STRATA_REPORT_RETRIES=1 prints `retries: N` on stderr (conflicts decided again)\n";

enum {
    OPT_PAYLOAD = VOPT_FIRST_FREE,
    OPT_ID,
    OPT_EXPECT,
    OPT_CORR,
    OPT_CAUSE,
    OPT_EXPLAIN,
    OPT_RECORD
};
static const struct option opts[] = {{"payload", required_argument, NULL, OPT_PAYLOAD},
                                     {"id", required_argument, NULL, OPT_ID},
                                     {"expect-version", required_argument, NULL, OPT_EXPECT},
                                     {"correlation-id", required_argument, NULL, OPT_CORR},
                                     {"causation-id", required_argument, NULL, OPT_CAUSE},
                                     VERB_FORCE_OPTION,
                                     {"explain", no_argument, NULL, OPT_EXPLAIN},
                                     {"record", required_argument, NULL, OPT_RECORD},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

static void report(struct verb_ctx *c, const struct command_request *req,
                   const struct command_result *res)
{
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < res->appended.len; i++) {
        sb_reset(&sb);
        event_write_ndjson(&sb, &res->appended.items[i], NULL, 0);
        verb_line(c, sb.buf, sb.len && sb.buf[sb.len - 1] == '\n' ? sb.len - 1 : sb.len);
    }
    sb_done(&sb);
    size_t n = res->appended.len;
    if (res->duplicate)
        verb_say(c, VERB_NOTE, 0, "command id %s was already processed; nothing appended",
                 req->command_id);
    else if (n == 0)
        verb_say(c, VERB_INFO, 0, "%s: no events appended (nothing to record)", req->command->name);
    else
        verb_say(c, VERB_INFO, 0, "%s: %zu event%s appended", req->command->name, n,
                 n == 1 ? "" : "s");
}

/* --explain: each step a message (standard error on the command line), and to the
 * front end's own narrator (the workbench's Log view) when it has one. */
struct explain_ctx {
    struct verb_ctx *c; /* NULL: --explain not given */
    const struct command_narrator *also;
};

static void explain_line(void *ctx, const char *text)
{
    struct explain_ctx *x = ctx;
    if (x->c) {
        char *line = xasprintf("explain: %s", text);
        x->c->out->message(x->c->out->ctx, VERB_NOTE, NULL, line);
        free(line);
    }
    if (x->also)
        x->also->line(x->also->ctx, text);
}

/* The last steps: the outcome, and which projections are now behind (exec folds
 * none; a runner, `strata project` or a workbench does). */
static void explain_end(struct verb_ctx *c, const struct command_narrator *n,
                        const struct command_request *req, const struct command_result *res, int rc)
{
    int conflicts = res->attempts > 1 ? res->attempts - 1 : 0;
    if (rc == ST_REJECTED && conflicts)
        narrate_text(n,
                     "outcome: rejected (%s) after %d conflict%s (retried on fresh state); "
                     "nothing appended",
                     res->rejected ? res->rejected : "a rule", conflicts,
                     conflicts == 1 ? "" : "s");
    else if (rc == ST_REJECTED)
        narrate_text(n, "outcome: rejected (%s); nothing appended",
                     res->rejected ? res->rejected : "a rule");
    else if (rc == ST_CONFLICT && res->attempts > 1)
        narrate_text(n, "outcome: conflict; gave up after %d conflicts; nothing appended",
                     res->attempts);
    else if (rc == ST_CONFLICT)
        narrate_text(n, "outcome: conflict; nothing appended");
    else if (rc != ST_OK)
        narrate_text(n, "outcome: error; nothing appended");
    else if (res->attempts > 1)
        narrate_text(n, "outcome: accepted after %d conflict%s (retried on fresh state)",
                     res->attempts - 1, res->attempts == 2 ? "" : "s");
    else
        narrate_text(n, "outcome: accepted");
    if (rc != ST_OK || res->appended.len == 0 || c->domain->nprojections == 0)
        return;
    if (c->projections_live) {
        narrate_text(n, "projections: the workbench's runner folds the new events");
        return;
    }
    struct proj_lag *lags = NULL;
    size_t nl = 0;
    err e;
    if (projection_status(c->store, c->domain, &lags, &nl, &e) != ST_OK) {
        narrate_text(n, "projections: cannot tell how far behind they are: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < nl; i++)
        narrate_text(n, "projection %s: %lld event%s behind (%s; `strata project` folds them)",
                     lags[i].name, (long long)lags[i].events_behind,
                     lags[i].events_behind == 1 ? "" : "s", proj_status_name(lags[i].status));
    proj_lag_free(lags, nl);
}

/* --record (or the workbench's :record): the command as a scenario in FILE. */
static void record_one(struct verb_ctx *c, const char *path, const struct command_request *req,
                       int rc, const struct command_result *res)
{
    if ((rc != ST_OK && rc != ST_REJECTED) || res->duplicate) {
        verb_say(c, VERB_NOTE, 0, "not recorded in %s: %s", path,
                 res->duplicate ? "the command id was processed before"
                                : "only an accepted or a rejected command makes a scenario");
        return;
    }
    struct record_info info = {c->domain_path,
                               c->borrowed ? "the workbench" : "strata exec --record",
                               !c->projections_live, 0};
    char *name = NULL;
    err e;
    err_clear(&e);
    if (record_scenario(c->store, c->domain, path, req, rc, res, &info, &name, &e) == ST_OK) {
        /* The name holds the payload's id: quoted as JSON, no control character
         * reaches the terminal. */
        value v = value_cstring(name);
        char *quoted = json_to_string(&v);
        value_free(v);
        verb_say(c, VERB_NOTE, 0, "recorded in %s as %s", path, quoted);
        free(quoted);
    } else
        verb_say(c, VERB_WARNING, 0, "not recorded in %s: %s", path, e.msg);
    free(name);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *payload_json = NULL, *arg;
    bool explain = false;
    const char *record = c->record_path;
    struct command_request req;
    memset(&req, 0, sizeof req);
    req.expected_version = STORE_ANY_VERSION;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_PAYLOAD:
            payload_json = arg;
            break;
        case OPT_ID:
            req.command_id = arg;
            break;
        case OPT_EXPECT:
            if (!verb_parse_count(arg, &req.expected_version))
                return verb_usage_error(c, "--expect-version wants a version (0 or more), not '%s'",
                                        arg);
            break;
        case OPT_CORR:
            req.correlation_id = arg;
            break;
        case OPT_CAUSE:
            req.causation_id = arg;
            break;
        case OPT_EXPLAIN:
            explain = true;
            break;
        case OPT_RECORD:
            record = arg;
            break;
        }
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    /* Positionals (getopt_long moved them to the end): the command's name, then
     * field=value words. */
    char **words = argv + optind;
    int nwords = argc - optind;
    if (nwords < 1)
        return verb_usage_error(c,
                                "which command? (e.g. strata exec Deposit accountId=A amount=5)");
    int rc = verb_need_domain(c, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    req.command = domain_find_command(c->domain, words[0], &e);
    if (!req.command)
        return verb_say(c, VERB_ERROR, ST_ERR, "%s", e.msg);
    /* The file is checked before anything is appended: a bad one leaves the store as it was. */
    if (record && record_check_file(record, c->domain, &e) != ST_OK)
        return verb_say(c, VERB_ERROR, ST_ERR, "--record: %s", e.msg);
    if ((rc = verb_command_payload(c, req.command, payload_json, words + 1, nwords - 1,
                                   &req.payload)) != ST_OK)
        return rc;
    if ((rc = verb_need_store(c, true, false)) != ST_OK) {
        value_free(req.payload);
        return rc;
    }
    req.now_ms = c->now_ms;
    if (record && !req.now_ms) /* the clock the scenario's `when.time` keeps */
        req.now_ms = time_now_ms();
    struct explain_ctx ex = {c, c->narrate};
    struct command_narrator narrator = {explain_line, &ex};
    if (explain || c->narrate)
        req.narrate = &narrator;
    if (!explain)
        ex.c = NULL;
    struct command_result res;
    command_result_init(&res);
    rc = command_execute(c->store, c->domain, &req, &res, &e);
    if (explain || c->narrate)
        explain_end(c, &narrator, &req, &res, rc);
    /* For tests/e2e/concurrency.sh, which sums how often competing writers collided. */
    if (getenv("STRATA_REPORT_RETRIES"))
        fprintf(stderr, "retries: %d\n", res.attempts > 1 ? res.attempts - 1 : 0);
    if (rc == ST_OK) {
        report(c, &req, &res);
    } else if (rc == ST_REJECTED) {
        char *why = xasprintf("rejected: %s", res.rejected ? res.rejected : e.msg);
        c->out->message(c->out->ctx, VERB_REJECTED, NULL, why);
        free(why);
        if (res.explanation && *res.explanation) {
            char *because = xasprintf("  because %s", res.explanation);
            c->out->message(c->out->ctx, VERB_REJECTED, NULL, because);
            free(because);
        }
    } else {
        verb_fail(c, &e);
    }
    if (record)
        record_one(c, record, &req, rc, &res);
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    command_result_done(&res);
    value_free(req.payload);
    return rc == ST_NOT_FOUND || rc == ST_DUPLICATE ? ST_ERR : rc;
}

const struct verb_def verb_exec = {
    .name = "exec",
    .synopsis = "COMMAND [field=value ...] [--payload JSON] [--id ID] [--expect-version N]",
    .summary = "run a command; print the events it appended",
    .usage = usage,
    .options = opts,
    .run = run,
};
