/* snapshots.c: the `snapshots` verb: --compare N,N,...: snapshot policies
 * compared on the real store without changing it (core/snapshot_compare.h): per
 * policy (snapshot_every N, 0 = none) the snapshots it would store, their bytes,
 * the events a load reads (mean and max over the streams) and measured load times
 * (p50, p99 over a sample of streams). A table on a terminal, NDJSON otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot_compare.h"
#include "verbs/verb.h"

#define MAX_POLICIES 16

static const char usage[] =
    "usage: strata snapshots --compare N,N,... [--sample S] [--json | --table]\n"
    "Compares snapshot policies on the store without changing it: for each N\n"
    "(snapshot_every: N; 0 = no snapshots) the snapshots it would store, their bytes,\n"
    "the events a load at the head reads after the newest snapshot (mean and max over\n"
    "all streams of the domain's aggregates) and the load time measured on S sampled\n"
    "streams (p50 and p99). Each stream is folded once and the policies simulated;\n"
    "nothing is written. The snapshot a timed load starts from is parsed from memory.\n"
    "  --compare N,N,...  the policies, e.g. 0,10,100,1000 (at most 16)\n"
    "  --sample S         streams whose loads are timed (default 200)\n"
    "  --json    NDJSON even on a terminal     --table   a table even into a pipe\n";

enum { OPT_COMPARE = VOPT_FIRST_FREE, OPT_SAMPLE, OPT_JSON, OPT_TABLE };
static const struct option opts[] = {{"compare", required_argument, NULL, OPT_COMPARE},
                                     {"sample", required_argument, NULL, OPT_SAMPLE},
                                     {"json", no_argument, NULL, OPT_JSON},
                                     {"table", no_argument, NULL, OPT_TABLE},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

/* "0,10,100" into every[]; false (with a usage error said) when it is not that. */
static bool parse_policies(struct verb_ctx *c, const char *s, int *every, size_t *n)
{
    *n = 0;
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, ",");
        char word[32];
        int64_t v;
        if (len == 0 || len >= sizeof word) {
            verb_usage_error(c,
                             "--compare wants numbers separated by commas (e.g. 0,10,100), "
                             "not '%s'",
                             s);
            return false;
        }
        memcpy(word, p, len);
        word[len] = 0;
        if (!verb_parse_count(word, &v) || v > 1000000000) {
            verb_usage_error(c,
                             "--compare: '%s' is not a snapshot_every (a whole number >= 0; "
                             "0 = no snapshots)",
                             word);
            return false;
        }
        if (*n == MAX_POLICIES) {
            verb_usage_error(c, "--compare: at most %d policies", MAX_POLICIES);
            return false;
        }
        every[(*n)++] = (int)v;
        if (!p[len])
            return true;
        p += len + 1;
    }
}

static void fmt_ms(char *out, size_t n, double ms)
{
    if (ms < 1)
        snprintf(out, n, "%.3f ms", ms);
    else
        snprintf(out, n, "%.1f ms", ms);
}

static void fmt_bytes(char *out, size_t n, int64_t b)
{
    if (b < 10000)
        snprintf(out, n, "%lld B", (long long)b);
    else if (b < 10000000)
        snprintf(out, n, "%.1f kB", (double)b / 1e3);
    else
        snprintf(out, n, "%.1f MB", (double)b / 1e6);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *arg, *compare = NULL;
    int opt, format = 0; /* 0: by the terminal, 1: json, 2: table */
    int64_t sample = 200;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if (opt == OPT_COMPARE)
            compare = arg;
        else if (opt == OPT_JSON)
            format = 1;
        else if (opt == OPT_TABLE)
            format = 2;
        else if (opt == OPT_SAMPLE &&
                 (!verb_parse_count(arg, &sample) || sample == 0 || sample > 100000))
            return verb_usage_error(c, "--sample wants a number of streams (1 to 100000), not '%s'",
                                    arg);
    }
    int rc;
    if (verb_options_stop(c, opt, argc, argv, &rc))
        return rc;
    if (!compare)
        return verb_usage_error(c, "give the policies to compare: --compare 0,10,100,1000");
    int every[MAX_POLICIES];
    size_t n;
    if (!parse_policies(c, compare, every, &n))
        return ST_USAGE;
    rc = verb_need_domain(c, true);
    if (rc == ST_OK)
        rc = verb_need_store(c, false, true); /* read-only: nothing is written */
    if (rc != ST_OK)
        return rc;
    struct snapshot_comparison r;
    err e;
    err_clear(&e);
    if (snapshot_compare(c->store, c->domain, every, n, (size_t)sample, &r, &e) != ST_OK)
        return verb_fail(c, &e);
    bool table = format == 2 || (format == 0 && (c->borrowed || c->out->tty));
    /* The domain's own policy, when its aggregates share one: that row is marked. */
    int mine = c->domain->naggregates ? c->domain->aggregates[0].snapshot_every : -1;
    for (size_t a = 1; a < c->domain->naggregates; a++)
        if (c->domain->aggregates[a].snapshot_every != mine)
            mine = -1;
    if (table) {
        static const char *const cols[] = {"SNAPSHOT_EVERY", "SNAPSHOTS", "BYTES",   "READ_MEAN",
                                           "READ_MAX",       "LOAD_P50",  "LOAD_P99"};
        c->out->table_begin(c->out->ctx, cols, 7);
    }
    for (size_t i = 0; i < r.n; i++) {
        const struct snapshot_policy *p = &r.policies[i];
        if (table) {
            char cells[7][32];
            snprintf(cells[0], 32, "%d%s%s", p->every, p->every ? "" : " (none)",
                     p->every == mine ? " (current)" : "");
            snprintf(cells[1], 32, "%lld", (long long)p->snapshots);
            fmt_bytes(cells[2], 32, p->bytes);
            snprintf(cells[3], 32, "%.1f", p->read_mean);
            snprintf(cells[4], 32, "%lld", (long long)p->read_max);
            fmt_ms(cells[5], 32, p->load_p50_ms);
            fmt_ms(cells[6], 32, p->load_p99_ms);
            const char *row[7];
            for (int k = 0; k < 7; k++)
                row[k] = cells[k];
            c->out->table_row(c->out->ctx, row, 7);
        } else {
            char *line =
                xasprintf("{\"snapshot_every\":%d,\"snapshots\":%lld,\"bytes\":%lld,"
                          "\"events_read_mean\":%.2f,"
                          "\"events_read_max\":%lld,\"load_ms_p50\":%.4f,\"load_ms_p99\":%"
                          ".4f,\"streams\":%lld,"
                          "\"sampled\":%zu,\"current\":%s}",
                          p->every, (long long)p->snapshots, (long long)p->bytes, p->read_mean,
                          (long long)p->read_max, p->load_p50_ms, p->load_p99_ms,
                          (long long)r.streams, r.sampled, p->every == mine ? "true" : "false");
            verb_line(c, line, strlen(line));
            free(line);
        }
    }
    if (table)
        c->out->table_end(c->out->ctx);
    verb_say(
        c, table ? VERB_NOTE : VERB_INFO, 0,
        "%lld stream%s (%lld events) folded once; load times measured on %zu sampled "
        "stream%s, the median of three loads per policy, the snapshot parsed from memory; nothing "
        "written",
        (long long)r.streams, r.streams == 1 ? "" : "s", (long long)r.events, r.sampled,
        r.sampled == 1 ? "" : "s");
    if (r.failed_streams) {
        strbuf why;
        sb_init(&why);
        verb_add_safe(&why, r.first_failure ? r.first_failure : "");
        verb_say(c, VERB_WARNING, 0, "%lld stream%s the domain cannot fold left out (first: %s)",
                 (long long)r.failed_streams, r.failed_streams == 1 ? "" : "s",
                 why.buf ? why.buf : "");
        sb_done(&why);
    }
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    snapshot_comparison_done(&r);
    return ST_OK;
}

const struct verb_def verb_snapshots = {
    .name = "snapshots",
    .synopsis = "--compare N,N,...",
    .summary = "snapshot policies compared on the store, without writing",
    .usage = usage,
    .options = opts,
    .run = run,
};
