/* query.c: the `query` verb: PROJECTION [--key K] [--at P | --at-time TIME]: a
 * projection's rows as NDJSON, ordered by key, now or as they were right after
 * position P. The projection is caught up first (to P, or to the head) unless a
 * runner keeps it caught up (the workbench); a paused, failed or stale
 * projection is not, and a note says how far it has got. */
#include <stdlib.h>
#include <string.h>

#include "core/projection.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata query PROJECTION [--key K] [--at POSITION | --at-time TIME]\n"
    "Prints the projection's rows as NDJSON, one object per row ordered by key:\n"
    "{\"key\":\"A\",\"balance\":15,...} (no \"key\" for a projection without one).\n"
    "  --key K          only the row with key K\n"
    "  --at POSITION    the rows as they were right after that global position\n"
    "  --at-time TIME   the rows as they were at TIME (ISO-8601)\n"
    "  --force          fold into a store used with another domain (or with none, but\n"
    "                   with events); it records this one\n";

enum { OPT_KEY = VOPT_FIRST_FREE, OPT_AT, OPT_AT_TIME };
static const struct option opts[] = {{"key", required_argument, NULL, OPT_KEY},
                                     {"at", required_argument, NULL, OPT_AT},
                                     {"at-time", required_argument, NULL, OPT_AT_TIME},
                                     VERB_FORCE_OPTION,
                                     VERB_COMMON_OPTIONS,
                                     {0}};

/* Says why the rows may not be current (ctx: the --at position, 0 = now). */
static void note_lag(struct verb_ctx *c, const struct proj_lag *l, void *ctx)
{
    int64_t at = *(const int64_t *)ctx;
    const char *name = l->name;
    if (l->stale)
        verb_say(c, VERB_NOTE, 0,
                 "%s is stale (its definition changed); rebuild it with "
                 "strata project --rebuild %s",
                 name, name);
    if (at == 0 && l->events_behind > 0 && l->status != PROJ_REBUILDING)
        verb_say(c, VERB_NOTE, 0, "%s is %s at position %lld of %lld; the rows are as of %lld",
                 name, proj_status_name(l->status), (long long)l->checkpoint, (long long)l->head,
                 (long long)l->checkpoint);
    if (l->status == PROJ_FAILED)
        verb_say(c, VERB_NOTE, 0, "%s failed at position %lld: %s", name,
                 (long long)l->error_position, l->error ? l->error : "");
}

/* The rows as they come (projection_query_json lends each one's JSON): kept in
 * one buffer, printed once the read is done, so that a read that fails half
 * way prints no row and the notes come first, as always. */
struct rows_text {
    strbuf text;
    size_t *ends; /* where each row ends in text */
    size_t n, cap;
};

static int keep_row(void *ctx, const char *json, size_t len, err *e)
{
    (void)e;
    struct rows_text *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->ends = xrealloc(r->ends, r->cap * sizeof *r->ends);
    }
    sb_add(&r->text, json, len);
    r->ends[r->n++] = r->text.len;
    return ST_OK;
}

static void rows_text_done(struct rows_text *r)
{
    sb_done(&r->text);
    free(r->ends);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *key = NULL, *at = NULL, *at_time = NULL, *arg;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if (opt == OPT_KEY)
            key = arg;
        else if (opt == OPT_AT)
            at = arg;
        else if (opt == OPT_AT_TIME)
            at_time = arg;
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (argc - optind != 1)
        return verb_usage_error(c, "give one projection (e.g. strata query AccountList)");
    const char *name = argv[optind];
    int rc = verb_need_domain(c, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    if (!projection_find(c->domain, name, &e))
        return verb_fail(c, &e); /* before opening the store: a typo costs nothing */
    if ((rc = verb_need_store(c, false, false)) != ST_OK)
        return rc;
    int64_t position = 0;
    if ((rc = verb_resolve_at(c, at, at_time, &position)) != ST_OK)
        return rc;
    if (!c->projections_live &&
        projection_catch_up_to(c->store, c->domain, name, position, 0, false, NULL, &e) != ST_OK)
        return verb_fail(c, &e);
    struct rows_text rows = {.n = 0};
    sb_init(&rows.text);
    rc = projection_query_json(c->store, c->domain, name, key, position, 0, 0, keep_row, &rows, &e);
    verb_with_lag(c, name, note_lag, &position);
    if (rc != ST_OK) {
        rows_text_done(&rows);
        return verb_fail(c, &e);
    }
    verb_show(c, &(struct verb_view){
                     .kind = VERB_VIEW_PROJECTION, .name = name, .key = key, .position = position});
    if (key && rows.n == 0) {
        rows_text_done(&rows);
        if (position)
            return verb_say(c, VERB_ERROR, ST_ERR,
                            "%s had no row with key '%s' right after position %lld", name, key,
                            (long long)position);
        return verb_say(c, VERB_ERROR, ST_ERR, "%s has no row with key '%s'", name, key);
    }
    for (size_t i = 0, from = 0; i < rows.n; from = rows.ends[i++])
        verb_line(c, rows.text.buf + from, rows.ends[i] - from);
    rows_text_done(&rows);
    return ST_OK;
}

const struct verb_def verb_query = {
    .name = "query",
    .synopsis = "PROJECTION [--key K] [--at P | --at-time TIME]",
    .summary = "print a projection's rows, now or as they were",
    .usage = usage,
    .options = opts,
    .run = run,
};
