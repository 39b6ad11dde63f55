/* upcast.c: the `upcast` verb (design.md, "Explain and what-if").
 *   upcast --check [--domain NEW]   the domain's upcast chains over every stored
 *                                   event, nothing written (core/upcast_check.h):
 *                                   per type and stored version, the events, clean,
 *                                   failed and mismatched, the problems and three
 *                                   samples before and after; exit 1 on any problem
 *   upcast POSITION                 one stored event's chain step by step, field by
 *                                   field (the workbench's playground: `U` on the
 *                                   Events view, or :upcast POSITION)
 * Text for a person (a terminal, the workbench), NDJSON for a program (--json, or
 * a pipe). The store is opened read-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/upcast_check.h"
#include "core/upcast_step.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata upcast --check [--max N] [--json | --text]\n"
    "       strata upcast POSITION [--json | --text]\n"
    "--check runs the domain's upcast chains (give the new domain with --domain) over\n"
    "every stored event without changing anything, and reports per event type and\n"
    "stored schema version: how many events, how many upcast cleanly, how many failed\n"
    "(the chain could not run: position and error) and how many do not match the\n"
    "current version's fields after it; then up to three sample events before and\n"
    "after. POSITION shows one stored event's chain step by step, field by field:\n"
    "+ added, - removed, ~ changed.\n"
    "  --max N   problems listed per type, version and kind (default 10)\n"
    "  --json    NDJSON even on a terminal     --text    text even into a pipe\n"
    "exit: 0 every event upcasts cleanly, 1 a failure or a mismatch (or bad input)\n";

enum { OPT_CHECK = VOPT_FIRST_FREE, OPT_MAX, OPT_JSON, OPT_TEXT };
static const struct option opts[] = {{"check", no_argument, NULL, OPT_CHECK},
                                     {"max", required_argument, NULL, OPT_MAX},
                                     {"json", no_argument, NULL, OPT_JSON},
                                     {"text", no_argument, NULL, OPT_TEXT},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

static void add_json_text(strbuf *sb, const char *json_text, bool text)
{
    if (text)
        verb_add_safe(sb, json_text ? json_text : "null");
    else
        sb_adds(sb, json_text ? json_text : "null");
}

static void say_line(struct verb_ctx *c, strbuf *sb)
{
    verb_line(c, sb->buf ? sb->buf : "", sb->len);
    sb_reset(sb);
}

/* ---- upcast --check ---- */

static void group_json(strbuf *sb, const struct upcast_group *g)
{
    sb_adds(sb, "{\"kind\":\"group\",\"type\":");
    json_write_string(sb, g->type, strlen(g->type));
    sb_addf(sb,
            ",\"schema\":%d,\"current\":%d,\"events\":%lld,\"clean\":%lld,\"failed\":%lld,"
            "\"mismatched\":%lld}",
            g->schema, g->current, (long long)g->events, (long long)g->clean, (long long)g->failed,
            (long long)g->mismatched);
}

static void report_json(struct verb_ctx *c, const struct upcast_report *r, strbuf *sb)
{
    for (size_t i = 0; i < r->n; i++) {
        group_json(sb, &r->groups[i]);
        say_line(c, sb);
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct upcast_group *g = &r->groups[i];
        for (size_t j = 0; j < g->nproblems; j++) {
            const struct upcast_problem *p = &g->problems[j];
            sb_addf(sb, "{\"kind\":\"%s\",\"type\":", p->mismatch ? "mismatch" : "failed");
            json_write_string(sb, g->type, strlen(g->type));
            sb_addf(sb, ",\"schema\":%d,\"position\":%lld,\"stream\":", g->schema,
                    (long long)p->position);
            json_write_string(sb, p->stream, strlen(p->stream));
            sb_adds(sb, ",\"error\":");
            json_write_string(sb, p->error, strlen(p->error));
            sb_adds(sb, "}");
            say_line(c, sb);
        }
        for (size_t j = 0; j < g->nsamples; j++) {
            const struct upcast_sample *s = &g->samples[j];
            sb_adds(sb, "{\"kind\":\"sample\",\"type\":");
            json_write_string(sb, g->type, strlen(g->type));
            sb_addf(sb, ",\"schema\":%d,\"current\":%d,\"position\":%lld,\"stream\":", g->schema,
                    g->current, (long long)s->position);
            json_write_string(sb, s->stream, strlen(s->stream));
            sb_adds(sb, ",\"before\":");
            add_json_text(sb, s->before, false);
            sb_adds(sb, ",\"after\":");
            add_json_text(sb, s->after, false);
            sb_adds(sb, "}");
            say_line(c, sb);
        }
    }
    sb_addf(
        sb,
        "{\"kind\":\"total\",\"events\":%lld,\"clean\":%lld,\"failed\":%lld,\"mismatched\":%lld}",
        (long long)r->events, (long long)r->clean, (long long)r->failed, (long long)r->mismatched);
    say_line(c, sb);
}

static void report_text(struct verb_ctx *c, const struct upcast_report *r, strbuf *sb)
{
    /* The table is made here, not by the front end, so that it stays narrow
     * enough for the workbench's pane. */
    int w = 4;
    for (size_t i = 0; i < r->n; i++) {
        int len = (int)strlen(r->groups[i].type);
        w = len > w ? len : w;
    }
    if (w > 40)
        w = 40;
    /* Number columns as wide as the largest count (the store's). */
    char big[24];
    int wn = snprintf(big, sizeof big, "%lld", (long long)r->events);
    wn = wn < 6 ? 6 : wn;
    sb_addf(sb, "%-*s  STORED  NOW  %*s  %*s  %*s  MISMATCHED", w, "TYPE", wn, "EVENTS", wn,
            "CLEAN", wn, "FAILED");
    say_line(c, sb);
    for (size_t i = 0; i < r->n; i++) {
        const struct upcast_group *g = &r->groups[i];
        size_t at = sb->len;
        verb_add_safe(sb, g->type);
        int len = (int)(sb->len - at);
        sb_addf(sb, "%*s  v%-5d  ", w > len ? w - len : 0, "", g->schema);
        if (g->current)
            sb_addf(sb, "v%-3d", g->current);
        else
            sb_adds(sb, "-   ");
        sb_addf(sb, " %*lld  %*lld  %*lld  %10lld", wn, (long long)g->events, wn,
                (long long)g->clean, wn, (long long)g->failed, (long long)g->mismatched);
        say_line(c, sb);
    }
    sb_reset(sb);
    for (size_t i = 0; i < r->n; i++) {
        const struct upcast_group *g = &r->groups[i];
        for (size_t j = 0; j < g->nproblems; j++) {
            const struct upcast_problem *p = &g->problems[j];
            sb_addf(sb, "%s: ", p->mismatch ? "mismatch" : "failed");
            verb_add_safe(sb, g->type);
            sb_addf(sb, " v%d at position %lld (", g->schema, (long long)p->position);
            verb_add_safe(sb, p->stream);
            sb_adds(sb, "): ");
            verb_add_safe(sb, p->error);
            say_line(c, sb);
        }
        if (g->nproblems < (size_t)(g->failed + g->mismatched)) {
            sb_addf(sb, "  ... and %lld more of ",
                    (long long)(g->failed + g->mismatched - (int64_t)g->nproblems));
            verb_add_safe(sb, g->type);
            sb_addf(sb, " v%d (--max N lists more)", g->schema);
            say_line(c, sb);
        }
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct upcast_group *g = &r->groups[i];
        for (size_t j = 0; j < g->nsamples; j++) {
            const struct upcast_sample *s = &g->samples[j];
            sb_adds(sb, "sample: ");
            verb_add_safe(sb, g->type);
            sb_addf(sb, " v%d -> v%d at position %lld (", g->schema, g->current,
                    (long long)s->position);
            verb_add_safe(sb, s->stream);
            sb_adds(sb, ")");
            say_line(c, sb);
            sb_adds(sb, "  before ");
            add_json_text(sb, s->before, true);
            say_line(c, sb);
            sb_adds(sb, "  after  ");
            add_json_text(sb, s->after ? s->after : "(failed)", true);
            say_line(c, sb);
        }
    }
}

static int run_check(struct verb_ctx *c, bool text, int64_t max)
{
    struct upcast_report r;
    err e;
    err_clear(&e);
    if (upcast_check(c->store, c->domain, (size_t)max, &r, &e) != ST_OK)
        return verb_fail(c, &e);
    strbuf sb;
    sb_init(&sb);
    if (text)
        report_text(c, &r, &sb);
    else
        report_json(c, &r, &sb);
    sb_done(&sb);
    int64_t bad = r.failed + r.mismatched;
    verb_say(c, VERB_INFO, 0,
             "upcast --check: %lld event%s, %lld clean, %lld failed, %lld mismatched (nothing "
             "written)",
             (long long)r.events, r.events == 1 ? "" : "s", (long long)r.clean, (long long)r.failed,
             (long long)r.mismatched);
    if (bad)
        verb_say(c, VERB_ERROR, 0, "%lld stored event%s would not read with this domain's upcasts",
                 (long long)bad, bad == 1 ? "" : "s");
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    upcast_report_done(&r);
    return bad ? ST_ERR : ST_OK;
}

/* ---- upcast POSITION: the playground ---- */

static const char *const MARK_SAME = "    ", *const MARK_ADDED = "  + ",
                         *const MARK_REMOVED = "  - ", *const MARK_CHANGED = "  ~ ";

static void field_line(struct verb_ctx *c, strbuf *sb, const char *mark, const value *k,
                       const value *before, const value *now)
{
    sb_adds(sb, mark);
    verb_add_safe(sb, value_str(k));
    sb_adds(sb, ": ");
    char *t = json_to_string(before ? before : now);
    verb_add_safe(sb, t);
    free(t);
    if (before && now) {
        t = json_to_string(now);
        sb_adds(sb, " -> ");
        verb_add_safe(sb, t);
        free(t);
    }
    say_line(c, sb);
}

/* One version's data as text, each field marked against the version before. */
static void version_text(struct verb_ctx *c, strbuf *sb, const value *prev, const value *now)
{
    if (now->type != V_MAP) {
        char *t = json_to_string(now);
        sb_adds(sb, MARK_SAME);
        verb_add_safe(sb, t);
        free(t);
        say_line(c, sb);
        return;
    }
    for (size_t i = 0; i < value_map_len(now); i++) {
        const value *k = value_map_key_at(now, i), *v = value_map_val_at(now, i);
        const value *old = prev ? value_map_getn(prev, value_str(k), value_strlen(k)) : NULL;
        if (!prev)
            field_line(c, sb, MARK_SAME, k, NULL, v);
        else if (!old)
            field_line(c, sb, MARK_ADDED, k, NULL, v);
        else if (!value_equal(old, v))
            field_line(c, sb, MARK_CHANGED, k, old, v);
        else
            field_line(c, sb, MARK_SAME, k, NULL, v);
    }
    if (prev && prev->type == V_MAP)
        for (size_t i = 0; i < value_map_len(prev); i++) {
            const value *k = value_map_key_at(prev, i);
            if (!value_map_getn(now, value_str(k), value_strlen(k)))
                field_line(c, sb, MARK_REMOVED, k, NULL, value_map_val_at(prev, i));
        }
}

static void names_json(strbuf *sb, const char *key, const value *prev, const value *now, int which)
{
    sb_addf(sb, ",\"%s\":[", key);
    bool first = true;
    const value *over = which == 2 ? prev : now;
    for (size_t i = 0; over->type == V_MAP && i < value_map_len(over); i++) {
        const value *k = value_map_key_at(over, i);
        const value *other = value_map_getn(which == 2 ? now : prev, value_str(k), value_strlen(k));
        bool in = which == 0   ? !other
                  : which == 1 ? other && !value_equal(other, value_map_val_at(over, i))
                               : !other;
        if (!in)
            continue;
        sb_adds(sb, first ? "" : ",");
        json_write_string(sb, value_str(k), value_strlen(k));
        first = false;
    }
    sb_adds(sb, "]");
}

static int run_trace(struct verb_ctx *c, bool text, const char *pos_text)
{
    int64_t pos;
    if (!verb_parse_count(pos_text, &pos) || pos == 0)
        return verb_usage_error(c, "upcast takes a position (a whole number from 1), not '%s'",
                                pos_text);
    struct event_filter f;
    memset(&f, 0, sizeof f);
    f.from = f.to = pos;
    struct event_list l;
    event_list_init(&l);
    err e;
    err_clear(&e);
    if (store_read_page(c->store, &f, 0, false, 1, &l, &e) != ST_OK) {
        event_list_done(&l);
        return verb_fail(c, &e);
    }
    if (l.len == 0) {
        event_list_done(&l);
        return verb_say(c, VERB_ERROR, ST_ERR, "no event at position %lld", (long long)pos);
    }
    const struct event *ev = &l.items[0];
    struct upcast_trace t;
    if (upcast_trace_event(c->domain, ev, &t, &e) != ST_OK) {
        verb_say(c, VERB_ERROR, 0, "position %lld: %s", (long long)pos, e.msg);
        event_list_done(&l);
        return ST_ERR;
    }
    strbuf sb;
    sb_init(&sb);
    int current = t.spec->version;
    if (text) {
        sb_addf(&sb, "#%lld ", (long long)pos);
        verb_add_safe(&sb, ev->stream);
        sb_adds(&sb, " ");
        verb_add_safe(&sb, ev->type);
        if (t.stored < current)
            sb_addf(&sb, ": stored at version %d, the domain's is %d", t.stored, current);
        else
            sb_addf(&sb, ": stored at the current version %d, nothing to upcast", current);
        say_line(c, &sb);
    }
    for (size_t k = 0; k < t.n; k++) {
        int v = t.stored + (int)k;
        const value *prev = k ? &t.data[k - 1] : NULL;
        const struct upcast_step *st = k ? upcast_step_from(t.spec, v - 1) : NULL;
        char *what = st ? upcast_step_describe(st) : NULL;
        if (text) {
            if (!k)
                sb_addf(&sb, "version %d, as stored:", v);
            else
                sb_addf(&sb, "version %d, after step %d->%d (%s):", v, v - 1, v, what);
            say_line(c, &sb);
            version_text(c, &sb, prev, &t.data[k]);
        } else {
            sb_addf(&sb, "{\"position\":%lld,\"type\":", (long long)pos);
            json_write_string(&sb, ev->type, strlen(ev->type));
            sb_addf(&sb, ",\"version\":%d,\"step\":", v);
            if (what)
                json_write_string(&sb, what, strlen(what));
            else
                sb_adds(&sb, "null");
            sb_adds(&sb, ",\"data\":");
            json_write(&sb, &t.data[k]);
            if (prev) {
                names_json(&sb, "added", prev, &t.data[k], 0);
                names_json(&sb, "changed", prev, &t.data[k], 1);
                names_json(&sb, "removed", prev, &t.data[k], 2);
            }
            sb_adds(&sb, "}");
            say_line(c, &sb);
        }
        free(what);
    }
    if (text) {
        if (!t.error) {
            sb_adds(&sb, "clean: matches the fields of ");
            verb_add_safe(&sb, ev->type);
            sb_addf(&sb, " v%d", current);
        } else {
            if (t.mismatch)
                sb_addf(&sb, "mismatch: version %d does not match the fields: ", current);
            else
                sb_addf(&sb, "failed: step %d->%d: ", t.stored + (int)t.n - 1, t.stored + (int)t.n);
            verb_add_safe(&sb, t.error);
        }
    } else {
        sb_addf(&sb, "{\"position\":%lld,\"clean\":%s", (long long)pos, t.error ? "false" : "true");
        if (t.error) {
            sb_addf(&sb, ",\"%s\":", t.mismatch ? "mismatch" : "failed");
            json_write_string(&sb, t.error, strlen(t.error));
        }
        sb_adds(&sb, "}");
    }
    say_line(c, &sb);
    sb_done(&sb);
    int rc = t.error ? ST_ERR : ST_OK;
    verb_say(c, VERB_INFO, 0, "upcast #%lld: %s", (long long)pos,
             !t.error     ? "clean"
             : t.mismatch ? "does not match the fields"
                          : "the chain failed");
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    upcast_trace_done(&t);
    event_list_done(&l);
    return rc;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *arg;
    bool check = false;
    int opt, format = 0; /* 0: by the terminal, 1: json, 2: text */
    int64_t max = 10;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if (opt == OPT_CHECK)
            check = true;
        else if (opt == OPT_JSON)
            format = 1;
        else if (opt == OPT_TEXT)
            format = 2;
        else if (opt == OPT_MAX && (!verb_parse_count(arg, &max) || max == 0))
            return verb_usage_error(c, "--max wants a number (1 or more), not '%s'", arg);
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    int nargs = argc - optind;
    if (check && nargs)
        return verb_usage_error(c, "upcast --check takes no position (it reads every event)");
    if (!check && nargs != 1)
        return verb_usage_error(c, "give --check (every stored event) or one position");
    int rc = verb_need_domain(c, true);
    if (rc == ST_OK)
        rc = verb_need_store(c, false, true); /* read-only: nothing is written */
    if (rc != ST_OK)
        return rc;
    bool text = format == 2 || (format == 0 && (c->borrowed || c->out->tty));
    return check ? run_check(c, text, max) : run_trace(c, text, argv[optind]);
}

const struct verb_def verb_upcast = {
    .name = "upcast",
    .synopsis = "--check | POSITION",
    .summary = "the upcast chains over the stored events, without writing (a dry run)",
    .usage = usage,
    .options = opts,
    .run = run,
};
