/* branch.c: the `branch` verb: what-if branches of the log (core/store_branch.h).
 *   branch create NAME [--at P]   a branch of main at P (the head by default)
 *   branch list                   {"branch":..,"fork":..,"events":..,"head":..,"created":..}
 *   branch drop NAME              the branch, its events and its read models go
 * Then `--branch NAME` (or STRATA_BRANCH) on any verb works on the branch. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/projection_branch.h"
#include "core/store_branch.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata branch create NAME [--at POSITION]\n"
    "       strata branch list\n"
    "       strata branch drop NAME\n"
    "A branch sees main's events up to its fork point (the head, or POSITION) and\n"
    "then its own; nothing is copied. Work on it with --branch NAME (or\n"
    "STRATA_BRANCH=NAME) on exec, state, events, query, project, why, bisect, export.\n"
    "Its events never appear on main. drop removes its events and read models.\n";

enum { OPT_AT = VOPT_FIRST_FREE };
static const struct option opts[] = {
    {"at", required_argument, NULL, OPT_AT}, VERB_COMMON_OPTIONS, {0}};

static void line_of(struct verb_ctx *c, const struct branch_info *bi)
{
    strbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "{\"branch\":");
    json_write_string(&sb, bi->name, strlen(bi->name));
    sb_addf(&sb, ",\"fork\":%lld,\"events\":%lld,\"head\":%lld,\"created\":", (long long)bi->fork,
            (long long)bi->events, (long long)bi->head);
    json_write_string(&sb, bi->created_at, strlen(bi->created_at));
    sb_adds(&sb, "}");
    verb_line(c, sb.buf, sb.len);
    sb_done(&sb);
}

static int do_list(struct verb_ctx *c, struct store *m, err *e)
{
    struct branch_info *bi = NULL;
    size_t n = 0;
    if (store_branch_list(m, &bi, &n, e) != ST_OK)
        return verb_fail(c, e);
    for (size_t i = 0; i < n; i++)
        line_of(c, &bi[i]);
    if (n == 0)
        verb_say(c, VERB_NOTE, 0, "no branches (strata branch create NAME makes one)");
    branch_info_free(bi, n);
    return ST_OK;
}

static int do_drop(struct verb_ctx *c, struct store *m, const char *name, err *e)
{
    int rc = store_begin(m, e);
    if (rc == ST_OK && (rc = store_branch_drop(m, name, e)) == ST_OK)
        rc = projection_branch_drop(m, name, e);
    if (rc == ST_OK)
        rc = store_commit(m, e);
    else
        store_rollback(m);
    if (rc != ST_OK)
        return verb_fail(c, e);
    verb_say(c, VERB_INFO, 0, "dropped branch %s", name);
    return ST_OK;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *at = NULL, *arg;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0)
        if (opt == OPT_AT)
            at = arg;
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    int nargs = argc - optind;
    const char *sub = nargs > 0 ? argv[optind] : NULL;
    bool create = sub && strcmp(sub, "create") == 0, drop = sub && strcmp(sub, "drop") == 0,
         list = sub && strcmp(sub, "list") == 0;
    if (!create && !drop && !list)
        return verb_usage_error(c, "give create NAME, list or drop NAME%s%s%s",
                                sub ? " (not '" : "", sub ? sub : "", sub ? "')" : "");
    if ((list && nargs != 1) || (!list && nargs != 2))
        return verb_usage_error(c,
                                list ? "branch list takes no arguments"
                                     : "give the branch's name (e.g. strata branch %s what-if)",
                                sub);
    if (at && !create)
        return verb_usage_error(c, "--at is for branch create");
    int64_t position = 0;
    if (at && (!verb_parse_count(at, &position) || position < 1))
        return verb_usage_error(c, "--at wants a position (1 or more), not '%s'", at);
    const char *name = nargs > 1 ? argv[optind + 1] : NULL;
    if (create && !store_branch_name_ok(name))
        return verb_usage_error(c,
                                "bad branch name '%s': 1 to 64 letters, digits, '_', '-' or "
                                "'.', and not 'main'",
                                name);
    c->branch = NULL; /* branches are main's: --branch and STRATA_BRANCH do not matter */
    int rc = verb_need_store(c, false, list);
    if (rc != ST_OK)
        return rc;
    /* The workbench may be on a branch: its main store holds the list. */
    struct store *m = c->store;
    store_branch_of(c->store, NULL, NULL, &m);
    err e;
    err_clear(&e);
    if (list)
        return do_list(c, m, &e);
    if (drop)
        return do_drop(c, m, name, &e);
    int64_t fork = 0;
    if (store_branch_create(m, name, position, &fork, &e) != ST_OK)
        return verb_fail(c, &e);
    struct branch_info bi;
    if (store_branch_get(m, name, &bi, &e) != ST_OK)
        return verb_fail(c, &e);
    line_of(c, &bi);
    branch_info_free_one(&bi);
    return ST_OK;
}

const struct verb_def verb_branch = {
    .name = "branch",
    .synopsis = "create NAME [--at P] | list | drop NAME",
    .summary = "what-if branches of the log: create, list, drop",
    .usage = usage,
    .options = opts,
    .run = run,
};
