/* why.c: the `why` verb: NAME KEY [FIELD] [--at P | --at-time TIME]: the
 * events that made a read-model row's fields (NAME a projection, KEY its row key,
 * `-` for a keyless one) or an aggregate instance's state (NAME an aggregate, KEY
 * its id) what they are, oldest first, one NDJSON line per (event, field) with
 * the value before and after and the domain expression that set it, with its
 * FILE:LINE:COL (core/provenance.h). On a terminal, an aligned table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/projection.h"
#include "core/provenance.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata why NAME KEY [FIELD] [--at POSITION | --at-time TIME] [--json | --table]\n"
    "Prints, oldest first, one line per event that changed FIELD (every field without\n"
    "it) of a projection's row (KEY the row key, - for a projection without key) or of\n"
    "an aggregate's state (KEY the instance id), up to POSITION:\n"
    "{\"position\":..,\"stream\":..,\"version\":..,\"type\":..,\"time\":..,\"field\":..,\n"
    " \"before\":..,\"after\":..,\"expr\":\"..\",\"at\":\"FILE:LINE:COL\"}\n"
    "The after - before of a folded number's lines add up to its value.\n"
    "  --json    NDJSON even on a terminal     --table   an aligned table\n";

enum { OPT_AT = VOPT_FIRST_FREE, OPT_AT_TIME, OPT_JSON, OPT_TABLE };
static const struct option opts[] = {{"at", required_argument, NULL, OPT_AT},
                                     {"at-time", required_argument, NULL, OPT_AT_TIME},
                                     {"json", no_argument, NULL, OPT_JSON},
                                     {"table", no_argument, NULL, OPT_TABLE},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

struct out {
    struct verb_ctx *c;
    bool table;
    int64_t n;
    strbuf sb;
};

static int emit(void *ctx, const struct prov_change *ch, err *e)
{
    struct out *o = ctx;
    const struct event *ev = ch->ev;
    char at[600] = "";
    if (ch->file && ch->line > 0)
        snprintf(at, sizeof at, "%s:%d:%d", ch->file, ch->line, ch->col);
    strbuf *sb = &o->sb;
    o->n++;
    if (o->table) {
        char pos[24], ver[24];
        snprintf(pos, sizeof pos, "%lld", (long long)ev->position);
        snprintf(ver, sizeof ver, "%lld", (long long)ev->version);
        sb_reset(sb);
        json_write(sb, ch->before);
        char *before = xstrdup(sb->buf ? sb->buf : "");
        sb_reset(sb);
        json_write(sb, ch->after);
        const char *cells[] = {pos,    ev->stream, ver,      ev->type, ch->field,
                               before, sb->buf,    ch->expr, at};
        o->c->out->table_row(o->c->out->ctx, cells, sizeof cells / sizeof cells[0]);
        free(before);
        return ST_OK;
    }
    sb_reset(sb);
    sb_addf(sb, "{\"position\":%lld,\"stream\":", (long long)ev->position);
    json_write_string(sb, ev->stream, strlen(ev->stream));
    sb_addf(sb, ",\"version\":%lld,\"type\":", (long long)ev->version);
    json_write_string(sb, ev->type, strlen(ev->type));
    sb_adds(sb, ",\"time\":");
    json_write_string(sb, ev->time, strlen(ev->time));
    sb_adds(sb, ",\"field\":");
    json_write_string(sb, ch->field, strlen(ch->field));
    sb_adds(sb, ",\"before\":");
    json_write(sb, ch->before);
    sb_adds(sb, ",\"after\":");
    json_write(sb, ch->after);
    sb_adds(sb, ",\"expr\":");
    json_write_string(sb, ch->expr, strlen(ch->expr));
    sb_adds(sb, ",\"at\":");
    if (at[0])
        json_write_string(sb, at, strlen(at));
    else
        sb_adds(sb, "null");
    sb_adds(sb, "}");
    verb_line(o->c, sb->buf, sb->len);
    return ST_OK;
}

/* A stale projection's history was written by rules since edited: the
 * expressions shown are today's, which may not be the ones that ran. */
static void note_stale(struct verb_ctx *c, const struct proj_lag *l, void *ctx)
{
    if (l->stale)
        verb_say(c, VERB_NOTE, 0,
                 "%s is stale (its definition changed): its history was folded by the "
                 "rules before the change, the expressions shown are the current ones; "
                 "rebuild it with strata project --rebuild %s",
                 l->name, l->name);
}

/* NAME is a projection or an aggregate; a miss suggests the nearest of both. */
static int resolve(struct verb_ctx *c, const char *name, const struct projection_spec **p,
                   const struct aggregate_spec **a)
{
    *p = domain_projection(c->domain, name);
    *a = *p ? NULL : domain_aggregate(c->domain, name);
    if (*p || *a)
        return ST_OK;
    const struct domain *d = c->domain;
    const char **names = xcalloc(d->nprojections + d->naggregates + 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < d->nprojections; i++)
        names[n++] = d->projections[i].name;
    for (size_t i = 0; i < d->naggregates; i++)
        names[n++] = d->aggregates[i].name;
    const char *near = did_you_mean(name, names, n);
    int rc = near
                 ? verb_say(c, VERB_ERROR, ST_ERR,
                            "unknown projection or aggregate '%s' (did you mean '%s'?)", name, near)
                 : verb_say(c, VERB_ERROR, ST_ERR,
                            "unknown projection or aggregate '%s' in domain %s", name, d->name);
    free(names);
    return rc;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *at = NULL, *at_time = NULL, *arg;
    int opt, format = 0; /* 0: by the terminal, 1: json, 2: table */
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if (opt == OPT_AT)
            at = arg;
        else if (opt == OPT_AT_TIME)
            at_time = arg;
        else if (opt == OPT_JSON)
            format = 1;
        else if (opt == OPT_TABLE)
            format = 2;
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    int nargs = argc - optind;
    if (nargs < 2 || nargs > 3)
        return verb_usage_error(
            c, "give a projection or an aggregate, a key and maybe a field (e.g. strata why "
               "AccountList A balance)");
    const char *name = argv[optind], *key = argv[optind + 1];
    const char *field = nargs == 3 ? argv[optind + 2] : NULL;
    int rc = verb_need_domain(c, true);
    if (rc != ST_OK)
        return rc;
    const struct projection_spec *p;
    const struct aggregate_spec *a;
    if ((rc = resolve(c, name, &p, &a)) != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    if (field &&
        !(p ? provenance_projection_field(p, field, &e) : provenance_aggregate_field(a, field, &e)))
        return verb_fail(c, &e);
    if (p && !p->key && strcmp(key, "-") != 0)
        return verb_usage_error(c, "%s has no key: give - as its key (strata why %s -%s%s)",
                                p->name, p->name, field ? " " : "", field ? field : "");
    if ((rc = verb_need_store(c, false, false)) != ST_OK)
        return rc;
    int64_t position = 0;
    if ((rc = verb_resolve_at(c, at, at_time, &position)) != ST_OK)
        return rc;
    if (p && !c->projections_live &&
        projection_catch_up_to(c->store, c->domain, p->name, position, 0, false, NULL, &e) != ST_OK)
        return verb_fail(c, &e);
    struct out o = {c, format == 2 || (format == 0 && c->out->tty), 0, {0}};
    sb_init(&o.sb);
    if (o.table) {
        static const char *const cols[] = {"POSITION", "STREAM", "VERSION", "TYPE", "FIELD",
                                           "BEFORE",   "AFTER",  "EXPR",    "AT"};
        c->out->table_begin(c->out->ctx, cols, sizeof cols / sizeof cols[0]);
    }
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_OUTPUT});
    if (p)
        rc = provenance_projection(c->store, c->domain, p, p->key ? key : "", field, position, emit,
                                   &o, &e);
    else
        rc = provenance_aggregate(c->store, c->domain, a, key, field, position, emit, &o, &e);
    if (o.table)
        c->out->table_end(c->out->ctx);
    sb_done(&o.sb);
    if (rc != ST_OK)
        return verb_fail(c, &e);
    if (p)
        verb_with_lag(c, p->name, note_stale, NULL);
    if (o.n == 0)
        verb_say(c, VERB_NOTE, 0, "no event changed %s of %s %s%s", field ? field : "any field",
                 name, key, position ? " at or before that position" : "");
    return ST_OK;
}

const struct verb_def verb_why = {
    .name = "why",
    .synopsis = "NAME KEY [FIELD] [--at P]",
    .summary = "the events that made a row's or a state's field what it is",
    .usage = usage,
    .options = opts,
    .run = run,
};
