/* variants.c: the `variants` verb: each stream a case, each distinct sequence of
 * types a variant (core/inspect_cases.c), most frequent first. */
#include <stdlib.h>
#include <string.h>

#include "core/inspect_cases.h"
#include "core/json.h"
#include "verbs/inspect.h"

static const char usage[] =
    "usage: strata variants [--top N] [--where EXPR] [--stream S] [--type T] [--from P]\n"
    "                       [--to P] [--at P] [--table]\n"
    "\n"
    "Each stream is a case; the types of its events, in order, its variant. One line\n"
    "per distinct variant, most frequent first:\n"
    "  "
    "{\"variant\":[TYPES],\"count\":..,\"share\":..,\"coverage\":..,\"p50\":\"3600s\",\"p90\":..}\n"
    "share: of the cases; coverage: of the cases, by this variant and those above it;\n"
    "p50 and p90: its cases' durations (first to last event), exact (nearest rank).\n"
    "\n"
    "  --top N           only the N most frequent variants\n" INSPECT_FILTER_USAGE "\n"
    "A filter keeps events, not cases: a case is what remains of its stream.\n"
    "\n"
    "exit status: 0 ok, 1 the store cannot be read or EXPR is wrong, 2 usage\n";

enum { OPT_TOP = IOPT_FIRST_FREE };
static const struct option opts[] = {
    {"top", required_argument, NULL, OPT_TOP}, INSPECT_FILTER_OPTIONS, VERB_COMMON_OPTIONS, {0}};

static void variant_text(const struct cases_result *r, const struct variant *v, bool table,
                         strbuf *sb)
{
    if (!table)
        sb_addc(sb, '[');
    for (uint32_t k = 0; k < v->len; k++) {
        const char *t = cases_type_name(r, v->seq[k]);
        if (table) {
            if (k)
                sb_adds(sb, " > ");
            inspect_cell(sb, t);
        } else {
            if (k)
                sb_addc(sb, ',');
            json_write_string(sb, t, strlen(t));
        }
    }
    if (!table)
        sb_addc(sb, ']');
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    struct inspect_args a;
    memset(&a, 0, sizeof a);
    const char *arg;
    int64_t top = -1;
    int opt, h;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if ((h = inspect_option(c, &a, opt, arg)) == 2)
            return ST_USAGE;
        if (!h && opt == OPT_TOP && !verb_parse_count(arg, &top))
            return verb_usage_error(c, "--top takes a whole number, not '%s'", arg);
    }
    int rc;
    if (verb_options_stop(c, opt, argc, argv, &rc))
        return rc;
    if ((rc = inspect_prepare(c, &a)) != ST_OK)
        return rc;
    struct cases_opts o = {.filter = a.filter, .where = a.where, .want_seq = true};
    struct cases_result r;
    if ((rc = inspect_run_cases(c, &o, &r)) == ST_OK) {
        struct variant *vs;
        size_t nv;
        inspect_variants(&r, &vs, &nv);
        size_t ncases = r.streams.n;
        if (a.table) {
            const char *cols[] = {"count", "share", "coverage", "p50", "p90", "variant"};
            c->out->table_begin(c->out->ctx, cols, 6);
        }
        strbuf sb, cell[5];
        sb_init(&sb);
        int64_t cum = 0;
        for (size_t i = 0; i < nv && (top < 0 || (int64_t)i < top); i++) {
            const struct variant *v = &vs[i];
            cum += v->count;
            double share = (double)v->count / (double)ncases, cover = (double)cum / (double)ncases;
            sb_reset(&sb);
            if (a.table) {
                for (int k = 0; k < 5; k++)
                    sb_init(&cell[k]);
                sb_addf(&cell[0], "%lld", (long long)v->count);
                sb_addf(&cell[1], "%.1f%%", share * 100);
                sb_addf(&cell[2], "%.1f%%", cover * 100);
                inspect_duration_human(&cell[3], v->p50_ms);
                inspect_duration_human(&cell[4], v->p90_ms);
                variant_text(&r, v, true, &sb);
                const char *row[] = {cell[0].buf, cell[1].buf, cell[2].buf,
                                     cell[3].buf, cell[4].buf, sb.buf ? sb.buf : ""};
                c->out->table_row(c->out->ctx, row, 6);
                for (int k = 0; k < 5; k++)
                    sb_done(&cell[k]);
                continue;
            }
            sb_adds(&sb, "{\"variant\":");
            variant_text(&r, v, false, &sb);
            sb_addf(&sb, ",\"count\":%lld,\"share\":", (long long)v->count);
            json_write_double(&sb, share);
            sb_adds(&sb, ",\"coverage\":");
            json_write_double(&sb, cover);
            sb_adds(&sb, ",\"p50\":");
            inspect_duration_json(&sb, v->p50_ms);
            sb_adds(&sb, ",\"p90\":");
            inspect_duration_json(&sb, v->p90_ms);
            sb_addc(&sb, '}');
            verb_line(c, sb.buf, sb.len);
        }
        if (a.table)
            c->out->table_end(c->out->ctx);
        verb_say(c, VERB_INFO, 0, "%zu variants of %zu cases (%lld events)", nv, ncases,
                 (long long)r.events);
        sb_done(&sb);
        free(vs);
    }
    cases_result_done(&r);
    inspect_args_done(&a);
    return rc;
}

const struct verb_def verb_variants = {
    .name = "variants",
    .synopsis = "[--top N] [--where EXPR]",
    .summary = "each stream a case: its distinct sequences of types",
    .usage = usage,
    .options = opts,
    .run = run,
};
