/* diff.c: the `diff` verb: [--from main|NAME] --to NAME [AGGREGATE ID | PROJECTION]:
 * what differs between two branches of the log (core/store_branch.h), as NDJSON:
 * first the aggregates whose states differ, field by field
 *   {"aggregate":..,"id":..,"stream":..,"from_version":..,"to_version":..,
 *    "fields":{"F":{"from":..,"to":..}}}
 * then the read-model rows added, removed or changed, field by field
 *   {"projection":..,"key":..,"change":"added"|"removed"|"changed","from":{..},"to":{..}}
 *   ("changed" lines carry "fields":{"C":{"from":..,"to":..}} instead).
 * The aggregates compared are the streams either side wrote after the point the
 * two share (the earlier fork point), so a diff reads only what differs. */
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/json.h"
#include "core/projection.h"
#include "core/store_branch.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata diff [--from main|NAME] --to NAME [AGGREGATE ID | PROJECTION]\n"
    "What differs between two branches (main by default for --from), as NDJSON:\n"
    "aggregates whose states differ, field by field, then read-model rows added,\n"
    "removed or changed. AGGREGATE ID or PROJECTION narrows it to one of them.\n";

enum { OPT_FROM = VOPT_FIRST_FREE, OPT_TO };
static const struct option opts[] = {{"from", required_argument, NULL, OPT_FROM},
                                     {"to", required_argument, NULL, OPT_TO},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

/* Where the two sides part: main's "fork" is its head. */
static int fork_of(struct store *s, int64_t *fork, err *e)
{
    if (store_branch_of(s, NULL, fork, NULL))
        return ST_OK;
    return store_head(s, fork, e);
}

static void add_streams(struct store *s, int64_t after, value *set, err *e, int *rc)
{
    struct event_filter f = {0};
    f.envelope_only = true;
    f.from = after + 1;
    struct event_iter *it = store_iter_open(s, &f, 1000);
    const struct event *ev;
    int r;
    while ((r = store_iter_next(it, &ev, e)) == 1)
        if (!value_map_get(set, ev->stream))
            value_map_set(set, ev->stream, value_null());
    if (r < 0)
        *rc = ST_ERR;
    store_iter_close(it);
}

static void add_field(strbuf *sb, bool *first, const char *name, const value *from, const value *to)
{
    static const value null_value;
    sb_adds(sb, *first ? "" : ",");
    *first = false;
    json_write_string(sb, name, strlen(name));
    sb_adds(sb, ":{\"from\":");
    json_write(sb, from ? from : &null_value);
    sb_adds(sb, ",\"to\":");
    json_write(sb, to ? to : &null_value);
    sb_adds(sb, "}");
}

/* The fields of two maps that differ, as "F":{"from":..,"to":..},...; false
 * when none do. */
static bool diff_maps(strbuf *sb, const value *a, const value *b, const char *skip)
{
    bool first = true;
    for (size_t i = 0; i < value_map_len(a); i++) {
        const char *k = value_str(value_map_key_at(a, i));
        if (skip && strcmp(k, skip) == 0)
            continue;
        const value *bv = value_map_get(b, k);
        if (!bv || !value_equal(value_map_val_at(a, i), bv))
            add_field(sb, &first, k, value_map_val_at(a, i), bv);
    }
    for (size_t i = 0; i < value_map_len(b); i++) {
        const char *k = value_str(value_map_key_at(b, i));
        if ((!skip || strcmp(k, skip) != 0) && !value_map_get(a, k))
            add_field(sb, &first, k, NULL, value_map_val_at(b, i));
    }
    return !first;
}

static int diff_aggregate(struct verb_ctx *c, struct store *from, struct store *to,
                          const struct aggregate_spec *a, const char *id, err *e)
{
    struct agg_state sa, sb;
    if (aggregate_load(from, c->domain, a, id, 0, false, &sa, e) != ST_OK)
        return ST_ERR;
    if (aggregate_load(to, c->domain, a, id, 0, false, &sb, e) != ST_OK) {
        agg_state_done(&sa);
        return ST_ERR;
    }
    strbuf fields, line;
    sb_init(&fields);
    sb_init(&line);
    if (diff_maps(&fields, &sa.state, &sb.state, NULL) || sa.version != sb.version) {
        char *stream = aggregate_stream(a, id);
        sb_adds(&line, "{\"aggregate\":");
        json_write_string(&line, a->name, strlen(a->name));
        sb_adds(&line, ",\"id\":");
        json_write_string(&line, id, strlen(id));
        sb_adds(&line, ",\"stream\":");
        json_write_string(&line, stream, strlen(stream));
        sb_addf(&line, ",\"from_version\":%lld,\"to_version\":%lld,\"fields\":{%s}}",
                (long long)sa.version, (long long)sb.version, fields.buf ? fields.buf : "");
        verb_line(c, line.buf, line.len);
        free(stream);
    }
    sb_done(&fields);
    sb_done(&line);
    agg_state_done(&sa);
    agg_state_done(&sb);
    return ST_OK;
}

static const char *row_key(const value *row, char *buf, size_t cap)
{
    const value *k = value_map_get(row, "key");
    if (!k)
        return "";
    if (k->type == V_STRING)
        return value_str(k);
    char *j = json_to_string(k);
    snprintf(buf, cap, "%s", j);
    free(j);
    return buf;
}

static void row_line(struct verb_ctx *c, const char *proj, const char *key, const char *change,
                     const value *from, const value *to, const strbuf *fields)
{
    strbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "{\"projection\":");
    json_write_string(&sb, proj, strlen(proj));
    sb_adds(&sb, ",\"key\":");
    json_write_string(&sb, key, strlen(key));
    sb_addf(&sb, ",\"change\":\"%s\"", change);
    if (fields)
        sb_addf(&sb, ",\"fields\":{%s}", fields->buf ? fields->buf : "");
    if (!fields && from) {
        sb_adds(&sb, ",\"from\":");
        json_write(&sb, from);
    }
    if (!fields && to) {
        sb_adds(&sb, ",\"to\":");
        json_write(&sb, to);
    }
    sb_adds(&sb, "}");
    verb_line(c, sb.buf, sb.len);
    sb_done(&sb);
}

/* Rows of both sides, each ordered by key: a merge. */
static int diff_projection(struct verb_ctx *c, struct store *from, struct store *to,
                           const char *name, err *e)
{
    value ra = value_null(), rb = value_null();
    int rc = projection_catch_up(from, c->domain, name, 0, false, NULL, e);
    if (rc == ST_OK)
        rc = projection_catch_up(to, c->domain, name, 0, false, NULL, e);
    if (rc == ST_OK)
        rc = projection_query(from, c->domain, name, NULL, 0, 0, 0, &ra, e);
    if (rc == ST_OK)
        rc = projection_query(to, c->domain, name, NULL, 0, 0, 0, &rb, e);
    size_t i = 0, j = 0, na = rc == ST_OK ? value_list_len(&ra) : 0,
           nb = rc == ST_OK ? value_list_len(&rb) : 0;
    char ka_buf[256], kb_buf[256];
    while (i < na || j < nb) {
        const value *a = i < na ? value_list_at(&ra, i) : NULL;
        const value *b = j < nb ? value_list_at(&rb, j) : NULL;
        const char *ka = a ? row_key(a, ka_buf, sizeof ka_buf) : NULL;
        const char *kb = b ? row_key(b, kb_buf, sizeof kb_buf) : NULL;
        int cmp = !a ? 1 : !b ? -1 : strcmp(ka, kb);
        if (cmp < 0) {
            row_line(c, name, ka, "removed", a, NULL, NULL);
            i++;
        } else if (cmp > 0) {
            row_line(c, name, kb, "added", NULL, b, NULL);
            j++;
        } else {
            strbuf fields;
            sb_init(&fields);
            if (diff_maps(&fields, a, b, "key"))
                row_line(c, name, ka, "changed", NULL, NULL, &fields);
            sb_done(&fields);
            i++;
            j++;
        }
    }
    value_free(ra);
    value_free(rb);
    return rc;
}

static struct store *open_side(struct verb_ctx *c, const char *branch, err *e)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    opt.branch = branch;
    return store_open(c->db_path, &opt, e);
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *from_name = NULL, *to_name = NULL, *arg;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if (opt == OPT_FROM)
            from_name = arg;
        else if (opt == OPT_TO)
            to_name = arg;
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (!to_name)
        return verb_usage_error(c, "give --to NAME, the branch to compare (with main, or --from)");
    int nargs = argc - optind;
    if (nargs > 2)
        return verb_usage_error(c, "give AGGREGATE ID, a PROJECTION, or nothing");
    int rc = verb_need_domain(c, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    const struct aggregate_spec *only_agg = NULL;
    const char *only_id = NULL, *only_proj = NULL;
    if (nargs == 2) {
        if (!(only_agg = domain_find_aggregate(c->domain, argv[optind], &e)))
            return verb_say(c, VERB_ERROR, ST_ERR, "%s", e.msg);
        only_id = argv[optind + 1];
    } else if (nargs == 1) {
        if (!projection_find(c->domain, argv[optind], &e))
            return verb_say(c, VERB_ERROR, ST_ERR, "%s", e.msg);
        only_proj = argv[optind];
    }
    const char *saved = c->branch;
    c->branch = NULL; /* the sides are named by --from and --to */
    rc = verb_need_store(c, false, false);
    c->branch = saved;
    if (rc != ST_OK)
        return rc;
    bool from_main = !from_name || strcmp(from_name, "main") == 0;
    struct store *from = from_main ? NULL : open_side(c, from_name, &e);
    struct store *to = (from_main || from) ? open_side(c, to_name, &e) : NULL;
    if ((!from_main && !from) || !to) {
        store_close(from);
        return verb_fail(c, &e);
    }
    struct store *fs = from ? from : c->store;
    store_branch_of(c->store, NULL, NULL, from ? NULL : &fs); /* the workbench may be on a branch */
    int64_t fa = 0, fb = 0;
    rc = fork_of(fs, &fa, &e);
    if (rc == ST_OK)
        rc = fork_of(to, &fb, &e);
    int64_t base = fa < fb ? fa : fb;
    /* Aggregates: those either side wrote after the point both share. */
    if (rc == ST_OK && !only_proj) {
        value set = value_map(0);
        if (only_agg) {
            char *stream = aggregate_stream(only_agg, only_id);
            value_map_set(&set, stream, value_null());
            free(stream);
        } else {
            add_streams(fs, base, &set, &e, &rc);
            if (rc == ST_OK)
                add_streams(to, base, &set, &e, &rc);
        }
        for (size_t i = 0; rc == ST_OK && i < value_map_len(&set); i++) {
            const char *stream = value_str(value_map_key_at(&set, i)), *id = NULL;
            const struct aggregate_spec *a = aggregate_for_stream(c->domain, stream, &id);
            if (a && id)
                rc = diff_aggregate(c, fs, to, a, id, &e);
        }
        value_free(set);
    }
    /* Read models. */
    for (size_t i = 0; rc == ST_OK && !only_agg && i < c->domain->nprojections; i++) {
        const char *name = c->domain->projections[i].name;
        if (!only_proj || strcmp(only_proj, name) == 0)
            rc = diff_projection(c, fs, to, name, &e);
    }
    store_close(from);
    store_close(to);
    if (rc != ST_OK)
        return verb_fail(c, &e);
    return ST_OK;
}

const struct verb_def verb_diff = {
    .name = "diff",
    .synopsis = "[--from main|NAME] --to NAME [AGGREGATE ID | PROJECTION]",
    .summary = "what differs between two branches: aggregates, then read-model rows",
    .usage = usage,
    .options = opts,
    .run = run,
};
