/* durations.c: the `durations` verb: how long cases take, first to last event
 * of each stream (core/inspect_cases.c): count, min, p50, p90, max, and the
 * longest cases. */
#include <string.h>

#include "core/inspect_cases.h"
#include "core/json.h"
#include "verbs/inspect.h"

static const char usage[] =
    "usage: strata durations [--where EXPR] [--stream S] [--type T] [--from P] [--to P]\n"
    "                        [--at P] [--table]\n"
    "\n"
    "Each stream is a case; its duration runs from its earliest to its latest event.\n"
    "One line with the summary, then one per longest case (the ten longest):\n"
    "  {\"cases\":..,\"min\":\"0s\",\"p50\":..,\"p90\":..,\"max\":..}\n"
    "  {\"stream\":..,\"duration\":..,\"events\":..,\"first\":TIME,\"last\":TIME}\n"
    "Percentiles are exact (nearest rank).\n"
    "\n" INSPECT_FILTER_USAGE "\n"
    "exit status: 0 ok, 1 the store cannot be read or EXPR is wrong, 2 usage\n";

static const struct option opts[] = {INSPECT_FILTER_OPTIONS, VERB_COMMON_OPTIONS, {0}};

static void add_ms(strbuf *sb, const char *key, int64_t ms)
{
    sb_addf(sb, ",\"%s\":", key);
    inspect_duration_json(sb, ms);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    struct inspect_args a;
    memset(&a, 0, sizeof a);
    const char *arg;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0)
        if (inspect_option(c, &a, opt, arg) == 2)
            return ST_USAGE;
    int rc;
    if (verb_options_stop(c, opt, argc, argv, &rc))
        return rc;
    if ((rc = inspect_prepare(c, &a)) != ST_OK)
        return rc;
    struct cases_opts o = {.filter = a.filter, .where = a.where};
    struct cases_result r;
    if ((rc = inspect_run_cases(c, &o, &r)) == ST_OK) {
        struct durations_summary d;
        inspect_durations(&r, &d);
        strbuf sb;
        sb_init(&sb);
        char first[TIME_TEXT_LEN + 1], last[TIME_TEXT_LEN + 1];
        if (a.table) {
            const char *cols[] = {"", "duration", "events", "first .. last"};
            c->out->table_begin(c->out->ctx, cols, 4);
            const char *names[] = {"min", "p50", "p90", "max"};
            int64_t vals[] = {d.min_ms, d.p50_ms, d.p90_ms, d.max_ms};
            for (int k = 0; k < 4; k++) {
                sb_reset(&sb);
                inspect_duration_human(&sb, vals[k]);
                const char *row[] = {names[k], sb.buf, "", ""};
                c->out->table_row(c->out->ctx, row, 4);
            }
        } else {
            sb_addf(&sb, "{\"cases\":%zu", d.count);
            add_ms(&sb, "min", d.min_ms);
            add_ms(&sb, "p50", d.p50_ms);
            add_ms(&sb, "p90", d.p90_ms);
            add_ms(&sb, "max", d.max_ms);
            sb_addc(&sb, '}');
            verb_line(c, sb.buf, sb.len);
        }
        for (size_t i = 0; i < d.nlongest; i++) {
            const struct case_info *ci = &r.cases[d.longest[i]];
            const char *stream = r.streams.keys[d.longest[i]];
            time_format_ms(ci->first_ms, first);
            time_format_ms(ci->last_ms, last);
            sb_reset(&sb);
            if (a.table) {
                strbuf name, dur, span;
                sb_init(&name);
                sb_init(&dur);
                sb_init(&span);
                inspect_cell(&name, stream);
                inspect_duration_human(&dur, case_duration_ms(ci));
                sb_addf(&sb, "%u", ci->nevents);
                sb_addf(&span, "%s .. %s", first, last);
                const char *row[] = {name.buf, dur.buf, sb.buf, span.buf};
                c->out->table_row(c->out->ctx, row, 4);
                sb_done(&name);
                sb_done(&dur);
                sb_done(&span);
                continue;
            }
            sb_adds(&sb, "{\"stream\":");
            json_write_string(&sb, stream, strlen(stream));
            add_ms(&sb, "duration", case_duration_ms(ci));
            sb_addf(&sb, ",\"events\":%u,\"first\":\"%s\",\"last\":\"%s\"}", ci->nevents, first,
                    last);
            verb_line(c, sb.buf, sb.len);
        }
        if (a.table)
            c->out->table_end(c->out->ctx);
        sb_done(&sb);
    }
    cases_result_done(&r);
    inspect_args_done(&a);
    return rc;
}

const struct verb_def verb_durations = {
    .name = "durations",
    .synopsis = "[--where EXPR]",
    .summary = "how long cases (streams) take: percentiles and the longest",
    .usage = usage,
    .options = opts,
    .run = run,
};
