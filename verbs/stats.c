/* stats.c: the `stats` verb: a log's frequency table (core/inspect_stats.c):
 * events grouped by type (the default), stream, or any expression, optionally
 * per time bucket; one NDJSON line per group. */
#include <stdlib.h>
#include <string.h>

#include "core/event_expr.h"
#include "core/inspect_stats.h"
#include "core/json.h"
#include "verbs/inspect.h"

static const char usage[] =
    "usage: strata stats [--by EXPR] [--over day|hour|minute] [--top N] [--where EXPR]\n"
    "                    [--stream S] [--type T] [--from P] [--to P] [--at P] [--table]\n"
    "\n"
    "How often each value occurs among the events, most frequent first:\n"
    "  {\"value\":..,\"count\":..,\"share\":..,\"first\":TIME,\"last\":TIME}\n"
    "first and last are the earliest and latest time among the value's events.\n"
    "\n"
    "  --by EXPR         what to group by: type (the default), stream, or any\n"
    "                    expression (event.userIdentity.type); where it fails: null\n"
    "  --over UNIT       counts per day, hour or minute (UTC) for plotting:\n"
    "                    {\"bucket\":TIME,\"count\":..}, oldest first; with --by, one\n"
    "                    line per bucket and value: {\"bucket\":..,\"value\":..,\"count\":..}\n"
    "  --top N           only the N most frequent values\n" INSPECT_FILTER_USAGE "\n"
    "By type or stream with no --where, the store counts in one grouped query and\n"
    "reads no event's data. At most 1,000,000 distinct groups are kept; events of\n"
    "further values are counted apart, with a note.\n"
    "\n"
    "exit status: 0 ok, 1 the store cannot be read or EXPR is wrong, 2 usage\n";

enum { OPT_BY = IOPT_FIRST_FREE, OPT_OVER, OPT_TOP };
static const struct option opts[] = {{"by", required_argument, NULL, OPT_BY},
                                     {"over", required_argument, NULL, OPT_OVER},
                                     {"top", required_argument, NULL, OPT_TOP},
                                     INSPECT_FILTER_OPTIONS,
                                     VERB_COMMON_OPTIONS,
                                     {0}};

static void emit(struct verb_ctx *c, const struct stats_result *r, const struct stats_group *g,
                 bool with_value, bool table, strbuf *sb)
{
    sb_reset(sb);
    double share = r->total ? (double)g->count / (double)r->total : 0;
    if (table) {
        strbuf cells[5];
        for (int i = 0; i < 5; i++)
            sb_init(&cells[i]);
        int n = 0;
        if (g->bucket)
            inspect_cell(&cells[n++], g->bucket);
        if (with_value)
            inspect_value_cell(&cells[n++], g->value ? g->value : "null");
        sb_addf(&cells[n++], "%lld", (long long)g->count);
        if (!g->bucket) {
            sb_addf(&cells[n++], "%.1f%%", share * 100);
            inspect_cell(&cells[n], g->first);
            sb_adds(&cells[n], " .. ");
            inspect_cell(&cells[n++], g->last);
        }
        const char *row[5];
        for (int i = 0; i < n; i++)
            row[i] = cells[i].buf ? cells[i].buf : "";
        c->out->table_row(c->out->ctx, row, (size_t)n);
        for (int i = 0; i < 5; i++)
            sb_done(&cells[i]);
        return;
    }
    sb_addc(sb, '{');
    if (g->bucket) {
        sb_adds(sb, "\"bucket\":");
        /* the bucket as a whole instant: 2026-03-01T10 -> 2026-03-01T10:00:00Z */
        static const char tail[] = "0000-01-01T00:00:00Z";
        size_t bl = strlen(g->bucket);
        strbuf t;
        sb_init(&t);
        sb_adds(&t, g->bucket);
        if (bl < sizeof tail - 1)
            sb_adds(&t, tail + bl);
        json_write_string(sb, t.buf, t.len);
        sb_done(&t);
        if (with_value)
            sb_addf(sb, ",\"value\":%s", g->value ? g->value : "null");
        sb_addf(sb, ",\"count\":%lld}", (long long)g->count);
    } else {
        sb_addf(sb, "\"value\":%s,\"count\":%lld,\"share\":", g->value ? g->value : "null",
                (long long)g->count);
        json_write_double(sb, share);
        sb_adds(sb, ",\"first\":");
        json_write_string(sb, g->first, strlen(g->first));
        sb_adds(sb, ",\"last\":");
        json_write_string(sb, g->last, strlen(g->last));
        sb_addc(sb, '}');
    }
    verb_line(c, sb->buf, sb->len);
}

/* With --top N: one of the N values most frequent overall (keep). */
static bool in_top(const char *gv, struct intern *keep)
{
    const char *v = gv ? gv : "null";
    return intern_find(keep, v, strlen(v)) >= 0;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    struct inspect_args a;
    memset(&a, 0, sizeof a);
    const char *by_src = NULL, *over = NULL, *arg;
    int64_t top = -1;
    int opt, h;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if ((h = inspect_option(c, &a, opt, arg)) == 2)
            return ST_USAGE;
        if (h)
            continue;
        if (opt == OPT_BY)
            by_src = arg;
        else if (opt == OPT_OVER)
            over = arg;
        else if (opt == OPT_TOP && !verb_parse_count(arg, &top))
            return verb_usage_error(c, "--top takes a whole number, not '%s'", arg);
    }
    int rc;
    if (verb_options_stop(c, opt, argc, argv, &rc))
        return rc;
    struct stats_opts o;
    memset(&o, 0, sizeof o);
    if (over) {
        if (strcmp(over, "day") == 0)
            o.bucket_len = 10;
        else if (strcmp(over, "hour") == 0)
            o.bucket_len = 13;
        else if (strcmp(over, "minute") == 0)
            o.bucket_len = 16;
        else
            return verb_usage_error(c, "--over takes day, hour or minute, not '%s'", over);
    }
    if ((rc = inspect_prepare(c, &a)) != ST_OK)
        return rc;
    expr *by = NULL;
    /* type and stream are the envelope's: counted by the store, no expression */
    o.by_field = over && !by_src ? STORE_GROUP_NONE : STORE_GROUP_TYPE;
    if (by_src && strcmp(by_src, "type") == 0)
        o.by_field = STORE_GROUP_TYPE;
    else if (by_src && strcmp(by_src, "stream") == 0)
        o.by_field = STORE_GROUP_STREAM;
    else if (by_src && !(by = inspect_compile(c, "--by", by_src, false))) {
        inspect_args_done(&a);
        return ST_ERR;
    }
    o.filter = a.filter;
    o.where = a.where;
    o.by = by;
    struct stats_result r;
    err e;
    err_clear(&e);
    rc = inspect_stats(c->store, &o, &r, &e);
    if (rc != ST_OK) {
        rc = verb_fail(c, &e);
    } else {
        bool with_value = by || o.by_field != STORE_GROUP_NONE;
        /* --top: the values most frequent overall (with --over, summed over buckets) */
        struct intern keep;
        intern_init(&keep);
        if (top >= 0 && with_value) {
            struct stats_result tot;
            memset(&tot, 0, sizeof tot);
            intern_init(&tot.keys);
            for (size_t i = 0; i < r.n; i++) {
                const char *v = r.groups[i].value ? r.groups[i].value : "null";
                int added;
                uint32_t id = intern_put(&tot.keys, v, strlen(v), &added);
                if (added) {
                    tot.groups = xrealloc(tot.groups, (id + 1) * sizeof *tot.groups);
                    memset(&tot.groups[id], 0, sizeof tot.groups[id]);
                    tot.groups[id].value = xstrdup(v);
                    tot.n++;
                }
                tot.groups[id].count += r.groups[i].count;
            }
            stats_sort(&tot);
            for (size_t i = 0; i < tot.n && (int64_t)i < top; i++)
                intern_put(&keep, tot.groups[i].value, strlen(tot.groups[i].value), NULL);
            stats_result_done(&tot);
        }
        stats_sort(&r);
        if (a.table) {
            const char *cols[5];
            int n = 0;
            if (over)
                cols[n++] = over;
            if (with_value)
                cols[n++] = by_src ? by_src : "type";
            cols[n++] = "count";
            if (!over) {
                cols[n++] = "share";
                cols[n++] = "first .. last";
            }
            c->out->table_begin(c->out->ctx, cols, (size_t)n);
        }
        strbuf sb;
        sb_init(&sb);
        int64_t shown = 0;
        for (size_t i = 0; i < r.n; i++) {
            if (top >= 0 && with_value && !in_top(r.groups[i].value, &keep))
                continue;
            if (top >= 0 && !with_value && shown >= top)
                break;
            emit(c, &r, &r.groups[i], with_value, a.table, &sb);
            shown++;
        }
        if (a.table)
            c->out->table_end(c->out->ctx);
        sb_done(&sb);
        intern_done(&keep);
        if (r.other)
            verb_say(c, VERB_NOTE, 0,
                     "more than %d distinct groups: %lld events of further values are not in "
                     "the table (narrow it with --where)",
                     STATS_MAX_GROUPS, (long long)r.other);
    }
    stats_result_done(&r);
    expr_free(by);
    inspect_args_done(&a);
    return rc;
}

const struct verb_def verb_stats = {
    .name = "stats",
    .synopsis = "[--by EXPR] [--over day|hour|minute] [--top N] [--where EXPR]",
    .summary = "how often each type (or any value) occurs",
    .usage = usage,
    .options = opts,
    .run = run,
};
