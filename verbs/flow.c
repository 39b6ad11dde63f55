/* flow.c: the `flow` verb: the directly-follows relation within cases
 * (core/inspect_cases.c): which type follows which, how often, and the time
 * between; as NDJSON, a table, or Graphviz DOT. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/inspect_cases.h"
#include "core/json.h"
#include "verbs/inspect.h"

static const char usage[] =
    "usage: strata flow [--dot] [--where EXPR] [--stream S] [--type T] [--from P]\n"
    "                   [--to P] [--at P] [--table]\n"
    "\n"
    "Each stream is a case. One line per pair of types that directly follow each\n"
    "other within a case, most frequent first, with the time between them:\n"
    "  {\"from\":..,\"to\":..,\"count\":..,\"p50\":\"3600s\",\"p90\":..}\n"
    "A case's start and end are the nodes \"\xe2\x96\xb6\" and \"\xe2\x96\xa0\" (their pairs have "
    "no time: null).\n"
    "p50 and p90 come from a log-bucketed histogram per pair: within 1% of the exact\n"
    "percentile (nearest rank), whatever the log's size.\n"
    "\n"
    "  --dot             Graphviz DOT instead: edges labelled with count and p50,\n"
    "                    their width by count (strata flow --dot | dot "
    "-Tsvg)\n" INSPECT_FILTER_USAGE "\n"
    "exit status: 0 ok, 1 the store cannot be read or EXPR is wrong, 2 usage\n";

enum { OPT_DOT = IOPT_FIRST_FREE };
static const struct option opts[] = {
    {"dot", no_argument, NULL, OPT_DOT}, INSPECT_FILTER_OPTIONS, VERB_COMMON_OPTIONS, {0}};

static const struct cases_result *sort_r;
static int by_count(const void *a, const void *b)
{
    const struct flow_edge *x = *(struct flow_edge *const *)a, *y = *(struct flow_edge *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = strcmp(cases_type_name(sort_r, x->from), cases_type_name(sort_r, y->from));
    return c ? c : strcmp(cases_type_name(sort_r, x->to), cases_type_name(sort_r, y->to));
}

/* DOT: names quoted, with '"' and '\' escaped and control characters dropped. */
static void dot_id(strbuf *sb, const char *s)
{
    sb_addc(sb, '"');
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20)
            continue;
        if (*s == '"' || *s == '\\')
            sb_addc(sb, '\\');
        sb_addc(sb, *s);
    }
    sb_addc(sb, '"');
}

static void write_dot(struct verb_ctx *c, const struct cases_result *r, struct flow_edge **es,
                      size_t n)
{
    strbuf sb;
    sb_init(&sb);
#define LINE(...)                                                                                  \
    do {                                                                                           \
        sb_reset(&sb);                                                                             \
        sb_addf(&sb, __VA_ARGS__);                                                                 \
        verb_line(c, sb.buf, sb.len);                                                              \
    } while (0)
    LINE("digraph flow {");
    LINE("  rankdir=LR; node [shape=box, style=rounded, fontname=\"sans\"];");
    LINE("  \"\xe2\x96\xb6\" [shape=circle]; \"\xe2\x96\xa0\" [shape=doublecircle];");
    int64_t max = 1;
    for (size_t i = 0; i < n; i++)
        max = es[i]->count > max ? es[i]->count : max;
    for (size_t i = 0; i < n; i++) {
        sb_reset(&sb);
        sb_adds(&sb, "  ");
        dot_id(&sb, cases_type_name(r, es[i]->from));
        sb_adds(&sb, " -> ");
        dot_id(&sb, cases_type_name(r, es[i]->to));
        double w = 1 + 7 * log1p((double)es[i]->count) / log1p((double)max);
        sb_addf(&sb, " [penwidth=%.2f, label=\"%lld", w, (long long)es[i]->count);
        if (es[i]->gaps.n) {
            sb_adds(&sb, "\\np50 ");
            inspect_duration_human(&sb, hist_quantile(&es[i]->gaps, 0.5));
        }
        sb_adds(&sb, "\"];");
        verb_line(c, sb.buf, sb.len);
    }
    LINE("}");
#undef LINE
    sb_done(&sb);
}

static void write_lines(struct verb_ctx *c, const struct cases_result *r, struct flow_edge **es,
                        size_t n, bool table)
{
    strbuf sb, cell[3];
    sb_init(&sb);
    if (table) {
        const char *cols[] = {"from", "to", "count", "p50 (±1%)", "p90 (±1%)"};
        c->out->table_begin(c->out->ctx, cols, 5);
    }
    for (size_t i = 0; i < n; i++) {
        const struct flow_edge *fe = es[i];
        const char *from = cases_type_name(r, fe->from), *to = cases_type_name(r, fe->to);
        bool timed = fe->from != CASE_START && fe->to != CASE_END;
        sb_reset(&sb);
        if (table) {
            for (int k = 0; k < 3; k++)
                sb_init(&cell[k]);
            inspect_cell(&sb, from);
            inspect_cell(&cell[0], to);
            sb_addf(&cell[1], "%lld", (long long)fe->count);
            strbuf p90;
            sb_init(&p90);
            if (timed) {
                inspect_duration_human(&cell[2], hist_quantile(&fe->gaps, 0.5));
                inspect_duration_human(&p90, hist_quantile(&fe->gaps, 0.9));
            }
            const char *row[] = {sb.buf, cell[0].buf, cell[1].buf, cell[2].buf ? cell[2].buf : "",
                                 p90.buf ? p90.buf : ""};
            c->out->table_row(c->out->ctx, row, 5);
            sb_done(&p90);
            for (int k = 0; k < 3; k++)
                sb_done(&cell[k]);
            continue;
        }
        sb_adds(&sb, "{\"from\":");
        json_write_string(&sb, from, strlen(from));
        sb_adds(&sb, ",\"to\":");
        json_write_string(&sb, to, strlen(to));
        sb_addf(&sb, ",\"count\":%lld,\"p50\":", (long long)fe->count);
        if (timed) {
            inspect_duration_json(&sb, hist_quantile(&fe->gaps, 0.5));
            sb_adds(&sb, ",\"p90\":");
            inspect_duration_json(&sb, hist_quantile(&fe->gaps, 0.9));
        } else {
            sb_adds(&sb, "null,\"p90\":null");
        }
        sb_addc(&sb, '}');
        verb_line(c, sb.buf, sb.len);
    }
    if (table)
        c->out->table_end(c->out->ctx);
    sb_done(&sb);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    struct inspect_args a;
    memset(&a, 0, sizeof a);
    const char *arg;
    bool dot = false;
    int opt, h;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if ((h = inspect_option(c, &a, opt, arg)) == 2)
            return ST_USAGE;
        if (!h && opt == OPT_DOT)
            dot = true;
    }
    int rc;
    if (verb_options_stop(c, opt, argc, argv, &rc))
        return rc;
    if (dot && a.table)
        return verb_usage_error(c, "give --dot or --table, not both");
    if ((rc = inspect_prepare(c, &a)) != ST_OK)
        return rc;
    struct cases_opts o = {.filter = a.filter, .where = a.where, .want_flow = true};
    struct cases_result r;
    if ((rc = inspect_run_cases(c, &o, &r)) == ST_OK) {
        struct flow_edge **es = xcalloc(r.nedges ? r.nedges : 1, sizeof *es);
        for (size_t i = 0; i < r.nedges; i++)
            es[i] = &r.edges[i];
        sort_r = &r;
        qsort(es, r.nedges, sizeof *es, by_count);
        if (dot)
            write_dot(c, &r, es, r.nedges);
        else
            write_lines(c, &r, es, r.nedges, a.table);
        verb_say(c, VERB_INFO, 0, "%zu pairs among %zu types in %zu cases", r.nedges, r.types.n,
                 r.streams.n);
        free(es);
    }
    cases_result_done(&r);
    inspect_args_done(&a);
    return rc;
}

const struct verb_def verb_flow = {
    .name = "flow",
    .synopsis = "[--dot] [--where EXPR]",
    .summary = "which type directly follows which within streams, and the time between",
    .usage = usage,
    .options = opts,
    .run = run,
};
