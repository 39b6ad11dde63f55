/* race.c: the `race` verb: 'CMD ARGS' 'CMD ARGS' [--no-retry]: two commands
 * decided on the same loaded state (core/race.h); the first appends, the second
 * meets the conflict and is retried on the fresh state (or, with --no-retry,
 * stops with exit 4). Each step is narrated on standard error (the workbench's
 * pane and Log view); the events appended are the result, as NDJSON. The exit
 * status is the second command's: 0 accepted, 3 rejected, 4 conflict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_format.h"
#include "core/race.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata race 'COMMAND [field=value ...]' 'COMMAND [field=value ...]' [--no-retry]\n"
    "Two commands decided on the same loaded state, as two clients racing for one\n"
    "stream: the first appends; the second meets the conflict and is decided again\n"
    "on the fresh state. Each step is narrated on standard error; the events\n"
    "appended are printed as NDJSON. Each COMMAND string is split as a shell would\n"
    "(quotes keep blanks) and read as `strata exec` reads its arguments:\n"
    "field=value words, --payload JSON and --id ID.\n"
    "  --no-retry   stop at the conflict (exit 4) instead of retrying\n"
    "exit (how the second command ends): 0 accepted, 1 bad input, 2 usage,\n"
    "3 rejected (on the fresh state), 4 conflict not retried\n";

enum { OPT_NO_RETRY = VOPT_FIRST_FREE };
static const struct option opts[] = {
    {"no-retry", no_argument, NULL, OPT_NO_RETRY}, VERB_COMMON_OPTIONS, {0}};

/* One side of the race: its words read as exec reads them. */
struct side {
    char **words;
    int n;
    const char *json;
    struct command_request req;
    bool has_payload;
};

static int read_side(struct verb_ctx *c, const char *which, const char *text, struct side *sd)
{
    const char *bad;
    sd->words = verb_split_words(text, &sd->n, &bad);
    if (!sd->words)
        return verb_usage_error(c, "the %s command: a quote at column %d is not closed", which,
                                (int)(bad - text) + 1);
    if (sd->n == 0)
        return verb_usage_error(
            c, "the %s command is empty (e.g. 'Withdraw accountId=A amount=50')", which);
    /* Options of exec's among the words: --payload JSON and --id ID. */
    char **fields = xcalloc((size_t)sd->n + 1, sizeof *fields);
    int nf = 0;
    for (int i = 1; i < sd->n; i++) {
        const char *w = sd->words[i];
        const char **slot = strcmp(w, "--payload") == 0 ? &sd->json
                            : strcmp(w, "--id") == 0    ? &sd->req.command_id
                                                        : NULL;
        if (slot) {
            if (i + 1 >= sd->n) {
                free(fields);
                return verb_usage_error(c, "the %s command: %s needs a value", which, w);
            }
            *slot = sd->words[++i];
        } else if (strncmp(w, "--", 2) == 0) {
            free(fields);
            return verb_usage_error(c,
                                    "the %s command: '%s' is not an option here (field=value, "
                                    "--payload JSON, --id ID)",
                                    which, w);
        } else {
            fields[nf++] = sd->words[i];
        }
    }
    err e;
    err_clear(&e);
    sd->req.command = domain_find_command(c->domain, sd->words[0], &e);
    int rc = ST_ERR;
    if (!sd->req.command)
        verb_say(c, VERB_ERROR, ST_ERR, "the %s command: %s", which, e.msg);
    else if ((rc = verb_command_payload(c, sd->req.command, sd->json, fields, nf,
                                        &sd->req.payload)) == ST_OK)
        sd->has_payload = true;
    free(fields);
    return rc;
}

/* Each narrated step: a message (standard error on the command line, the pane in
 * the workbench) and a line of the workbench's Log view. */
static void narrate_line(void *ctx, const char *text)
{
    struct verb_ctx *c = ctx;
    char *line = xasprintf("race: %s", text);
    c->out->message(c->out->ctx, VERB_NOTE, NULL, line);
    free(line);
    if (c->narrate)
        c->narrate->line(c->narrate->ctx, text);
}

static void print_events(struct verb_ctx *c, const struct event_list *l)
{
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < l->len; i++) {
        sb_reset(&sb);
        event_write_ndjson(&sb, &l->items[i], NULL, 0);
        verb_line(c, sb.buf, sb.len && sb.buf[sb.len - 1] == '\n' ? sb.len - 1 : sb.len);
    }
    sb_done(&sb);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *arg;
    bool retry = true;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0)
        if (opt == OPT_NO_RETRY)
            retry = false;
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (argc - optind != 2)
        return verb_usage_error(c, "give two commands, each one quoted argument (e.g. strata race "
                                   "'Withdraw accountId=A amount=80' 'Withdraw accountId=A "
                                   "amount=50')");
    int rc = verb_need_domain(c, true);
    if (rc != ST_OK)
        return rc;
    struct side sides[2];
    memset(sides, 0, sizeof sides);
    if ((rc = read_side(c, "first", argv[optind], &sides[0])) == ST_OK &&
        (rc = read_side(c, "second", argv[optind + 1], &sides[1])) == ST_OK)
        rc = verb_need_store(c, true, false);
    if (rc == ST_OK) {
        sides[0].req.now_ms = c->now_ms;
        struct command_narrator n = {narrate_line, c};
        struct race_result res;
        race_result_init(&res);
        err e;
        err_clear(&e);
        rc = command_race(c->store, c->domain, &sides[0].req, &sides[1].req, retry, &n, &res, &e);
        print_events(c, &res.first.appended);
        print_events(c, &res.second.appended);
        if (rc == ST_OK) {
            verb_say(c, VERB_INFO, 0, "the second command was accepted%s",
                     res.retried ? " after the conflict" : "");
        } else if (rc == ST_REJECTED) {
            char *why =
                xasprintf("rejected: %s", res.second.rejected ? res.second.rejected : "a rule");
            c->out->message(c->out->ctx, VERB_REJECTED, NULL, why);
            free(why);
        } else if (rc == ST_CONFLICT && !retry) {
            verb_say(c, VERB_ERROR, 0,
                     "the second command met a conflict (%s); not retried "
                     "(--no-retry)",
                     e.msg);
        } else {
            verb_fail(c, &e);
        }
        verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
        race_result_done(&res);
    }
    for (int i = 0; i < 2; i++) {
        if (sides[i].has_payload)
            value_free(sides[i].req.payload);
        verb_words_free(sides[i].words);
    }
    return rc == ST_NOT_FOUND || rc == ST_DUPLICATE ? ST_ERR : rc;
}

const struct verb_def verb_race = {
    .name = "race",
    .synopsis = "'COMMAND ARGS' 'COMMAND ARGS' [--no-retry]",
    .summary = "two commands decided on one state: the conflict and the retry, narrated",
    .usage = usage,
    .options = opts,
    .run = run,
};
