/* aggregate.c: decoding and upcasting stored events, folding them into state
 * (with snapshots), and running commands (decide, append, retry). See aggregate.h. */
#include "aggregate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "command_ids.h"
#include "command_narrate.h"
#include "domain_schema.h"
#include "event_check.h"
#include "event_meta.h"
#include "json.h"
#include "rule_message.h"
#include "state_cache.h"
#include "upcast_step.h"

/* Events are read from the store in pages of this many, so loading a long stream
 * never holds more than a page in memory. */
#define LOAD_PAGE 512
#define DEFAULT_RETRIES 10
#define LOCKED_AFTER_CONFLICTS 3

/* ---- decoding and upcasting ---- */

int event_upcast(const struct event_spec *spec, int from, value *data, const value *meta, err *e)
{
    for (int v = from; v < spec->version; v++) {
        const struct upcast_step *st = upcast_step_from(spec, v);
        if (!st)
            return err_set(e, ST_ERR, "event %s: no upcast from version %d to %d", spec->name, v,
                           v + 1);
        int rc = upcast_step_run(spec, st, data, meta, e);
        if (rc != ST_OK)
            return rc;
    }
    /* Upcast data reads as if it had been written now: the fields in the order the
     * event declares them, anything undeclared after them. */
    if (from < spec->version)
        upcast_order_fields(spec, data);
    return ST_OK;
}

/* " at position N" for messages, or "" for an event not stored yet (an import
 * checks events before the store gives them a position). */
static const char *at_position(const struct event *ev, char *buf, size_t n)
{
    if (ev->position <= 0)
        return "";
    snprintf(buf, n, " at position %lld", (long long)ev->position);
    return buf;
}

/* event_decode, with only the parts `need` of `meta` (null when 0). parsed, when not
 * NULL, is ev->data already parsed (an import has it), so it is not parsed twice.
 * as_stored: ev was read back from the store (not about to be appended), so a
 * timestamp an older Strata kept as written is read as its instant. */
static int decode(const struct domain *d, const struct event *ev, bool upcast, unsigned need,
                  const struct event_spec *spec, const value *parsed, bool as_stored,
                  struct meta_keep *keep, struct decoded_event *out, err *e)
{
    memset(out, 0, sizeof *out);
    out->ev = ev;
    out->spec = spec;
    out->schema = ev->schema;
    out->meta = value_null();
    err je;
    char at[48];
    if (parsed)
        out->data = value_ref(parsed);
    else if (json_parse(ev->data, strlen(ev->data), &out->data, &je) != ST_OK)
        return err_set(e, ST_ERR, "event %s%s: data is not valid JSON: %s", ev->type,
                       at_position(ev, at, sizeof at), je.msg);
    int rc = ST_OK;
    size_t k = META_KEEP;
    for (size_t i = 0; keep && need && i < META_KEEP && k == META_KEEP; i++)
        if (keep->meta[i].type == V_MAP && keep->need[i] == need)
            k = i;
    if (k < META_KEEP) {
        out->meta = keep->meta[k]; /* an earlier event's: its values are replaced in place */
        keep->meta[k] = value_null();
        rc = event_meta_refill(d, ev, out->spec, need, &out->meta, e);
    } else if (need) {
        rc = event_meta_build(d, ev, out->spec, need, &out->meta, e);
    }
    out->meta_need = need & META_STORED ? 0 : need;
    if (rc != ST_OK) {
        value_free(out->data);
        out->data = value_null();
        return rc;
    }
    if (upcast && spec) {
        if (ev->schema > spec->version || ev->schema < 1) {
            decoded_event_done(out);
            return err_set(e, ST_ERR,
                           "event %s%s: schema version %d, but the domain knows versions 1 to "
                           "%d of it",
                           ev->type, at_position(ev, at, sizeof at), ev->schema, spec->version);
        }
        if (ev->schema < spec->version) {
            rc = event_upcast(spec, ev->schema, &out->data, &out->meta, e);
            if (rc != ST_OK) {
                err_prefix(e, "event %s%s", ev->type, at_position(ev, at, sizeof at));
                decoded_event_done(out);
                return rc;
            }
            out->schema = spec->version;
        }
        /* Every event is read as valid, or not at all: a value of the wrong type
         * (from an import made without the domain, or from an upcast) would
         * otherwise flow into state and from there into new events. */
        rc = event_check_fields(spec, ev->schema, &out->data, as_stored, e);
        if (rc != ST_OK) {
            if (ev->schema < spec->version)
                err_prefix(e, "event %s%s (stored at schema %d)", ev->type,
                           at_position(ev, at, sizeof at), ev->schema);
            else
                err_prefix(e, "event %s%s", ev->type, at_position(ev, at, sizeof at));
            decoded_event_done(out);
            return rc;
        }
    }
    return ST_OK;
}

int event_decode(const struct domain *d, const struct event *ev, bool upcast,
                 struct decoded_event *out, err *e)
{
    return decode(d, ev, upcast, META_ALL, d ? domain_event(d, ev->type) : NULL, NULL, true, NULL,
                  out, e);
}

int event_decode_need(const struct domain *d, const struct event *ev, bool upcast, unsigned need,
                      struct decoded_event *out, err *e)
{
    return event_decode_keep(d, ev, upcast, need, NULL, out, e);
}

int event_decode_keep(const struct domain *d, const struct event *ev, bool upcast, unsigned need,
                      struct meta_keep *keep, struct decoded_event *out, err *e)
{
    const struct event_spec *spec = d ? domain_event(d, ev->type) : NULL;
    if (upcast)
        need |= event_spec_meta_need(spec); /* its upcasts may read meta */
    return decode(d, ev, upcast, need, spec, NULL, true, keep, out, e);
}

int event_validate(const struct domain *d, const struct event *ev, const value *data,
                   bool as_stored, err *e)
{
    const struct event_spec *spec = domain_find_event(d, ev->type, e);
    if (!spec)
        return e ? (e->code = ST_ERR) : ST_ERR;
    struct decoded_event de;
    int rc = decode(d, ev, true, event_spec_meta_need(spec), spec, data, as_stored, NULL, &de, e);
    if (rc == ST_OK)
        decoded_event_done(&de);
    return rc;
}

void decoded_event_done(struct decoded_event *de)
{
    value_free(de->data);
    value_free(de->meta);
    de->data = value_null();
    de->meta = value_null();
}

void decoded_event_done_keep(struct decoded_event *de, struct meta_keep *keep)
{
    if (de->meta_need && de->meta.type == V_MAP) {
        size_t k = de->meta_need % META_KEEP; /* else an empty place, else this one */
        for (size_t i = 0; i < META_KEEP; i++)
            if (keep->meta[i].type == V_NULL) {
                k = i;
                break;
            }
        value_free(keep->meta[k]);
        keep->meta[k] = de->meta;
        keep->need[k] = de->meta_need;
        de->meta = value_null();
    }
    decoded_event_done(de);
}

void meta_keep_done(struct meta_keep *keep)
{
    for (size_t i = 0; i < META_KEEP; i++) {
        value_free(keep->meta[i]);
        keep->meta[i] = value_null();
    }
}

/* ---- state ---- */

char *aggregate_stream(const struct aggregate_spec *a, const char *id)
{
    return xasprintf("%s-%s", a->name, id);
}

value aggregate_initial_state(const struct aggregate_spec *a)
{
    value st = value_map(a->nstate);
    for (size_t i = 0; i < a->nstate; i++) {
        const struct field_spec *f = &a->state[i];
        value_map_set(&st, f->name, f->has_default ? value_ref(&f->def) : ftype_zero(f->type));
    }
    return st;
}

void agg_state_done(struct agg_state *st)
{
    value_free(st->state);
    st->state = value_null();
}

int aggregate_apply(const struct aggregate_spec *a, const struct decoded_event *de, value *state,
                    err *e)
{
    const struct event_spec *spec = de->spec;
    if (!spec || spec->napply == 0)
        return ST_OK;
    (void)a;
    /* Every assignment sees the state before the event, as the contract says, so
     * the results are gathered first and set together. */
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_STATE] = *state;
    vars.roots[ROOT_EVENT] = de->data;
    vars.roots[ROOT_META] = de->meta;
    value small[16];
    value *results = spec->napply <= 16 ? small : xcalloc(spec->napply, sizeof *results);
    for (size_t i = 0; i < spec->napply; i++) {
        int rc = expr_eval(spec->apply[i].value, &vars, &results[i], e);
        if (rc != ST_OK) {
            err_prefix(e, "applying %s (position %lld) to %s", spec->name,
                       (long long)de->ev->position, spec->apply[i].name);
            for (size_t j = 0; j < i; j++)
                value_free(results[j]);
            if (results != small)
                free(results);
            return rc;
        }
    }
    for (size_t i = 0; i < spec->napply; i++)
        value_map_set(state, spec->apply[i].name, results[i]);
    if (results != small)
        free(results);
    return ST_OK;
}

int aggregate_fold(const struct domain *d, const struct aggregate_spec *a, const struct event *ev,
                   value *state, err *e)
{
    struct decoded_event de;
    const struct event_spec *spec = domain_event(d, ev->type);
    int rc = decode(d, ev, true, event_spec_meta_need(spec), spec, NULL, true, NULL, &de, e);
    if (rc != ST_OK)
        return rc;
    rc = aggregate_apply(a, &de, state, e);
    decoded_event_done(&de);
    return rc;
}

/* Folds one stored event into st. */
static int fold_event(const struct domain *d, const struct aggregate_spec *a,
                      const struct event *ev, struct agg_state *st, err *e)
{
    int rc = aggregate_fold(d, a, ev, &st->state, e);
    if (rc != ST_OK)
        return rc;
    st->version = ev->version;
    st->position = ev->position;
    st->replayed++;
    return ST_OK;
}

static int put_snapshot(struct store *s, const struct aggregate_spec *a, const char *stream,
                        const struct agg_state *st, err *e)
{
    struct snapshot snap;
    snap.version = st->version;
    snap.position = st->position;
    snap.state = json_to_string(&st->state);
    int rc = store_snapshot_put(s, stream, a->rules_hash, &snap, e);
    free(snap.state);
    return rc;
}

/* Loads the stream's state. A load at the head keeps its result in the handle's
 * state cache (core/state_cache.h); with use_cache, a kept state stands in for
 * the snapshot (the events after it are still read and folded). */
static int load(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                const char *id, int64_t max_position, bool write_snapshots, bool use_cache,
                struct agg_state *out, err *e)
{
    memset(out, 0, sizeof *out);
    char *stream = aggregate_stream(a, id);
    int rc = ST_OK;
    out->state = value_null();
    bool cached = use_cache && max_position == 0 &&
                  state_cache_get(s->states, stream, a->rules_hash, &out->state, &out->version,
                                  &out->position);
    if (!cached && a->snapshot_every > 0) {
        struct snapshot snap;
        memset(&snap, 0, sizeof snap);
        rc = store_snapshot_get(s, stream, a->rules_hash, max_position, &snap, e);
        if (rc == ST_OK) {
            err je;
            if (json_parse(snap.state, strlen(snap.state), &out->state, &je) == ST_OK &&
                out->state.type == V_MAP) {
                out->version = snap.version;
                out->position = snap.position;
                out->from_snapshot = true;
            } else {
                /* A damaged snapshot is only a lost shortcut: replay from the start. */
                value_free(out->state);
                out->state = value_null();
            }
            snapshot_done(&snap);
        } else if (rc != ST_NOT_FOUND) {
            free(stream);
            return rc;
        }
        err_clear(e);
        rc = ST_OK;
    }
    if (!cached && !out->from_snapshot)
        out->state = aggregate_initial_state(a);

    struct event_list page;
    event_list_init(&page);
    for (;;) {
        event_list_clear(&page);
        rc = store_read_stream(s, stream, out->version + 1, max_position, LOAD_PAGE, &page, e);
        if (rc != ST_OK)
            break;
        for (size_t i = 0; i < page.len && rc == ST_OK; i++) {
            rc = fold_event(d, a, &page.items[i], out, e);
            if (rc == ST_OK && write_snapshots && a->snapshot_every > 0 &&
                out->version % a->snapshot_every == 0) {
                err ignored;
                put_snapshot(s, a, stream, out, &ignored); /* a read-only store just skips it */
            }
        }
        if (rc != ST_OK || page.len < LOAD_PAGE)
            break;
    }
    event_list_done(&page);
    if (rc == ST_OK && max_position == 0)
        state_cache_put(&s->states, stream, a->rules_hash, &out->state, out->version,
                        out->position);
    free(stream);
    if (rc != ST_OK)
        agg_state_done(out);
    return rc;
}

int aggregate_load(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                   const char *id, int64_t max_position, bool write_snapshots,
                   struct agg_state *out, err *e)
{
    return load(s, d, a, id, max_position, write_snapshots, false, out, e);
}

/* ---- commands ---- */

void command_result_init(struct command_result *r)
{
    memset(r, 0, sizeof *r);
    event_list_init(&r->appended);
}

void command_result_done(struct command_result *r)
{
    event_list_done(&r->appended);
    free(r->rejected);
    free(r->explanation);
    memset(r, 0, sizeof *r);
}

static const struct field_spec *find_field(const struct field_spec *fs, size_t n, const char *name,
                                           size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(fs[i].name) == len && memcmp(fs[i].name, name, len) == 0)
            return &fs[i];
    return NULL;
}

static const char *suggest_field(const struct field_spec *fs, size_t n, const char *word)
{
    const char *names[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++)
        names[k++] = fs[i].name;
    return did_you_mean(word, names, k);
}

int command_validate_payload(const struct command_spec *c, const value *payload, value *out, err *e)
{
    if (payload->type != V_MAP)
        return err_set(e, ST_ERR, "%s: the payload must be an object, not %s", c->name,
                       vtype_name(payload->type));
    for (size_t i = 0; i < value_map_len(payload); i++) {
        const value *k = value_map_key_at(payload, i);
        if (!find_field(c->payload, c->npayload, value_str(k), value_strlen(k))) {
            const char *hint = suggest_field(c->payload, c->npayload, value_str(k));
            return err_set(e, ST_ERR, "%s: unknown field '%s'%s%s%s", c->name, value_str(k),
                           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        }
    }
    value v = value_map(c->npayload);
    for (size_t i = 0; i < c->npayload; i++) {
        const struct field_spec *f = &c->payload[i];
        const value *given = value_map_get(payload, f->name);
        if (!given || (given->type == V_NULL && !f->optional && f->type != F_ANY)) {
            if (f->has_default) {
                value_map_set(&v, f->name, value_ref(&f->def));
                continue;
            }
            if (f->optional)
                continue;
            value_free(v);
            return err_set(e, ST_ERR, "%s: missing required field '%s' (%s)", c->name, f->name,
                           ftype_name(f->type));
        }
        int rc = field_check(f, given, e);
        if (rc != ST_OK) {
            value_free(v);
            err_prefix(e, "%s", c->name);
            return rc;
        }
        value_map_set(&v, f->name, field_coerce_spec(f, value_ref(given))); /* canonical text */
    }
    *out = v;
    return ST_OK;
}

/* Reads one command-line word as a value of type t. */
static int parse_typed(const struct field_spec *f, const char *text, value *out, err *e)
{
    char *end;
    switch (f->type) {
    case F_INT: {
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (!*text || *end || errno)
            return err_set(e, ST_ERR, "field '%s': '%s' is not an int%s", f->name, text,
                           errno ? " (out of range)" : "");
        *out = value_int(n);
        return ST_OK;
    }
    case F_FLOAT: {
        double x = strtod(text, &end);
        if (!*text || *end)
            return err_set(e, ST_ERR, "field '%s': '%s' is not a number", f->name, text);
        *out = value_double(x);
        return ST_OK;
    }
    case F_BOOL:
        if (strcmp(text, "true") == 0)
            *out = value_bool(true);
        else if (strcmp(text, "false") == 0)
            *out = value_bool(false);
        else
            return err_set(e, ST_ERR, "field '%s': '%s' is not a bool (true or false)", f->name,
                           text);
        return ST_OK;
    case F_LIST:
    case F_MAP:
    case F_ANY: {
        err je;
        if (json_parse(text, strlen(text), out, &je) == ST_OK)
            return ST_OK;
        if (f->type == F_ANY) {
            *out = value_cstring(text);
            return ST_OK;
        }
        return err_set(e, ST_ERR, "field '%s': not valid JSON for a %s: %s (column %d)", f->name,
                       ftype_name(f->type), je.msg, je.col);
    }
    case F_STRING:
    case F_TIMESTAMP:
    default:
        *out = value_cstring(text);
        return ST_OK;
    }
}

int command_payload_from_args(const struct command_spec *c, char **args, int n, value *out, err *e)
{
    value p = value_map((size_t)n);
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(args[i], '=');
        if (!eq || eq == args[i]) {
            value_free(p);
            return err_set(e, ST_USAGE, "'%s' is not field=value", args[i]);
        }
        size_t klen = (size_t)(eq - args[i]);
        const struct field_spec *f = find_field(c->payload, c->npayload, args[i], klen);
        if (!f) {
            char *name = xstrndup(args[i], klen);
            const char *hint = suggest_field(c->payload, c->npayload, name);
            err_set(e, ST_ERR, "%s: unknown field '%s'%s%s%s", c->name, name,
                    hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            free(name);
            value_free(p);
            return ST_ERR;
        }
        value v;
        int rc = parse_typed(f, eq + 1, &v, e);
        if (rc != ST_OK) {
            value_free(p);
            return rc;
        }
        value_map_set(&p, f->name, v);
    }
    *out = p;
    return ST_OK;
}

/* The instance id named by the payload, as text. */
static int payload_id(const struct command_spec *c, const value *payload, char **out, err *e)
{
    const struct aggregate_spec *a = c->aggregate;
    const value *idv = value_map_get(payload, a->id_field);
    if (!idv)
        return err_set(e, ST_ERR, "%s: missing the id field '%s'", c->name, a->id_field);
    switch (idv->type) {
    case V_STRING:
        if (value_strlen(idv) == 0)
            return err_set(e, ST_ERR, "%s: the id field '%s' is empty", c->name, a->id_field);
        *out = xstrndup(value_str(idv), value_strlen(idv));
        return ST_OK;
    case V_INT:
        *out = xasprintf("%lld", (long long)idv->u.i);
        return ST_OK;
    default:
        return err_set(e, ST_ERR, "%s: the id field '%s' must be a string or an int, not %s",
                       c->name, a->id_field, vtype_name(idv->type));
    }
}

static char *command_meta(const struct command_request *req, const char *command_id)
{
    value m = value_map(4);
    value_map_set(&m, "command", value_cstring(req->command->name));
    value_map_set(&m, "commandId", value_cstring(command_id));
    if (req->correlation_id)
        value_map_set(&m, "correlationId", value_cstring(req->correlation_id));
    if (req->causation_id)
        value_map_set(&m, "causationId", value_cstring(req->causation_id));
    char *s = json_to_string(&m);
    value_free(m);
    return s;
}

/* A decision: the events one command emits against one state. */
struct decision {
    size_t n;
    const struct event_spec **specs;
    char **data;   /* canonical JSON */
    value *states; /* state after each event (for snapshots) */
};

static void decision_done(struct decision *dc)
{
    for (size_t i = 0; i < dc->n; i++) {
        free(dc->data[i]);
        value_free(dc->states[i]);
    }
    free(dc->specs);
    free(dc->data);
    free(dc->states);
    memset(dc, 0, sizeof *dc);
}

static int check_rule(const struct rule_spec *r, struct expr_vars *vars, struct command_result *res,
                      err *e)
{
    bool ok;
    int rc = expr_eval_bool(r->rule, vars, &ok, e);
    if (rc != ST_OK)
        return rc;
    if (ok)
        return ST_OK;
    strbuf sb;
    sb_init(&sb);
    expr_explain(r->rule, vars, &sb);
    free(res->rejected);
    free(res->explanation);
    res->rejected = rule_message(r, vars);
    res->explanation = sb_steal(&sb);
    return err_set(e, ST_REJECTED, "%s", res->rejected);
}

/* decide + evolve: runs require, emit and invariants against st. */
static int decide(const struct domain *d, const struct command_request *req, const value *payload,
                  const char *stream, const struct agg_state *st, const char *time_text,
                  const char *meta_json, struct decision *dc, struct command_result *res, err *e)
{
    const struct command_spec *c = req->command;
    const struct aggregate_spec *a = c->aggregate;
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_PAYLOAD] = *payload;
    vars.roots[ROOT_STATE] = st->state;
    /* now() is the time the events will carry, not a second reading of the clock */
    if (!time_parse(time_text, strlen(time_text), 0, &vars.now_ms))
        vars.now_ms = req->now_ms ? req->now_ms : time_now_ms();
    value meta = value_map(2); /* what require and emit know of the stream */
    value_map_set(&meta, "stream", value_cstring(stream));
    value_map_set(&meta, "version", value_int(st->version));
    vars.roots[ROOT_META] = meta;

    for (size_t i = 0; i < c->nrequire; i++) {
        int rc = check_rule(&c->require[i], &vars, res, e);
        if (req->narrate) /* narration */
            narrate_rule(req->narrate, "require", &c->require[i], &vars, rc);
        if (rc != ST_OK) {
            value_free(meta);
            return rc;
        }
    }
    memset(dc, 0, sizeof *dc);
    dc->specs = xcalloc(c->nemits ? c->nemits : 1, sizeof *dc->specs);
    dc->data = xcalloc(c->nemits ? c->nemits : 1, sizeof *dc->data);
    dc->states = xcalloc(c->nemits ? c->nemits : 1, sizeof *dc->states);
    value state = value_ref(&st->state);
    int rc = ST_OK;
    for (size_t i = 0; i < c->nemits && rc == ST_OK; i++) {
        const struct emit_spec *em = &c->emits[i];
        /* `when` and the fields see the state before the command, as `require` does. */
        if (em->when) {
            bool yes;
            rc = expr_eval_bool(em->when, &vars, &yes, e);
            if (rc != ST_OK) {
                err_prefix(e, "%s: emit %s: when", c->name, em->event->name);
                break;
            }
            if (!yes)
                continue;
        }
        value data = value_map(em->nfields);
        for (size_t j = 0; j < em->nfields && rc == ST_OK; j++) {
            value fv;
            rc = expr_eval(em->fields[j].value, &vars, &fv, e);
            if (rc != ST_OK) {
                err_prefix(e, "%s: emit %s.%s", c->name, em->event->name, em->fields[j].name);
                break;
            }
            value_map_set(&data, em->fields[j].name, fv);
        }
        /* What is appended must be what the event declares, as for every other way
         * in: an emit's expressions are checked statically only as far as types
         * can be seen (a payload field of type any, a min the value can break). */
        if (rc == ST_OK &&
            (rc = event_check_fields(em->event, em->event->version, &data, false, e)) != ST_OK)
            err_prefix(e, "%s: emit[%zu] %s", c->name, i, em->event->name);
        if (rc != ST_OK) {
            value_free(data);
            break;
        }
        /* Apply to the running state, as the event will be read back. */
        struct event ev;
        memset(&ev, 0, sizeof ev);
        ev.position = 0;
        ev.version = st->version + (int64_t)dc->n + 1;
        ev.schema = em->event->version;
        ev.stream = (char *)stream;
        ev.type = em->event->name;
        ev.time = (char *)time_text;
        ev.meta = (char *)meta_json;
        char *text = json_to_string(&data);
        ev.data = text;
        struct decoded_event de;
        memset(&de, 0, sizeof de);
        de.ev = &ev;
        de.spec = em->event;
        de.data = data;
        de.schema = em->event->version;
        /* meta as a fold builds it (decode): what the apply expressions read. */
        unsigned need = event_spec_meta_need(em->event);
        de.meta = value_null();
        if (need)
            rc = event_meta_build(d, &ev, em->event, need, &de.meta, e);
        if (rc == ST_OK)
            rc = aggregate_apply(a, &de, &state, e);
        decoded_event_done(&de);
        if (rc != ST_OK) {
            free(text);
            break;
        }
        dc->specs[dc->n] = em->event;
        dc->data[dc->n] = text;
        dc->states[dc->n] = value_ref(&state);
        dc->n++;
    }
    if (rc == ST_OK && req->narrate) /* narration */
        narrate_emitted(req->narrate, &st->state, &state, dc->specs, dc->data, dc->n);
    if (rc == ST_OK) {
        vars.roots[ROOT_STATE] = state;
        for (size_t i = 0; i < a->ninvariants && rc == ST_OK; i++) {
            rc = check_rule(&a->invariants[i], &vars, res, e);
            if (req->narrate) /* narration */
                narrate_rule(req->narrate, "invariant", &a->invariants[i], &vars, rc);
        }
    }
    value_free(state);
    value_free(meta);
    if (rc != ST_OK)
        decision_done(dc);
    return rc;
}

/* Does appending n events to a stream at version v reach a snapshot's version? */
static bool snapshot_due(const struct aggregate_spec *a, int64_t v, size_t n)
{
    return a->snapshot_every > 0 && (v + (int64_t)n) / a->snapshot_every > v / a->snapshot_every;
}

int command_execute(struct store *s, const struct domain *d, const struct command_request *req,
                    struct command_result *res, err *e)
{
    const struct command_spec *c = req->command;
    const struct aggregate_spec *a = c->aggregate;
    value payload;
    int rc = command_validate_payload(c, &req->payload, &payload, e);
    if (rc != ST_OK)
        return res->status = rc;
    if (req->narrate) /* narration */
        narrate_payload(req->narrate, c, &req->payload, &payload);
    char *id = NULL;
    rc = payload_id(c, &payload, &id, e);
    if (rc != ST_OK) {
        value_free(payload);
        return res->status = rc;
    }
    char *stream = aggregate_stream(a, id);
    char *command_id = req->command_id ? xstrdup(req->command_id) : make_command_id();
    char *meta_json = command_meta(req, command_id);
    int max_retries = req->max_retries > 0 ? req->max_retries : DEFAULT_RETRIES;

    if (req->command_id) {
        rc = store_command_events(s, req->command_id, &res->appended, e);
        if (rc == ST_OK) {
            res->duplicate = true;
            if (req->narrate) /* narration */
                narrate_text(req->narrate,
                             "command id %s was already processed: nothing to "
                             "decide",
                             req->command_id);
            goto done;
        }
        if (rc != ST_NOT_FOUND)
            goto done;
        err_clear(e);
        rc = ST_OK;
    }

    bool in_tx = false;
    for (int attempt = 0;; attempt++) {
        res->attempts = attempt + 1;
        /* Attempts decide outside the write lock, so that concurrent writers overlap
         * their loading and deciding. But on a busy stream a writer can lose every
         * race: after LOCKED_AFTER_CONFLICTS conflicts the attempt takes the write lock
         * first, and loads, decides and appends with no one able to append in
         * between, so it cannot conflict again. */
        if (attempt >= LOCKED_AFTER_CONFLICTS && req->expected_version == STORE_ANY_VERSION) {
            rc = store_begin(s, e);
            if (rc != ST_OK)
                break;
            in_tx = true;
            if (req->narrate) /* narration */
                narrate_locked(req->narrate, attempt);
        }
        struct agg_state st;
        /* Narrated runs load as `state` does, to tell of the snapshot. */
        rc = load(s, d, a, id, 0, false, !req->narrate, &st, e);
        if (rc != ST_OK)
            break;
        if (req->narrate) /* narration */
            narrate_loaded(req->narrate, stream, &st);
        if (req->expected_version != STORE_ANY_VERSION && st.version != req->expected_version) {
            rc = err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected %lld", stream,
                         (long long)st.version, (long long)req->expected_version);
            if (req->narrate) /* narration */
                narrate_append(req->narrate, stream, req->expected_version, attempt + 1, rc, NULL,
                               e);
            agg_state_done(&st);
            break;
        }
        char time_text[TIME_TEXT_LEN + 1];
        time_format_ms(req->now_ms ? req->now_ms : time_now_ms(), time_text);
        struct decision dc;
        rc = decide(d, req, &payload, stream, &st, time_text, meta_json, &dc, res, e);
        if (rc != ST_OK) {
            agg_state_done(&st);
            break;
        }
        if (dc.n == 0) {
            agg_state_done(&st);
            decision_done(&dc);
            break;
        }
        struct new_event *evs = xcalloc(dc.n, sizeof *evs);
        for (size_t i = 0; i < dc.n; i++) {
            evs[i].type = dc.specs[i]->name;
            evs[i].schema = dc.specs[i]->version;
            evs[i].time = time_text;
            evs[i].data = dc.data[i];
            evs[i].meta = meta_json;
        }
        event_list_clear(&res->appended);
        /* When the events reach a snapshot's version, the snapshot is written in
         * the append's transaction: one durable commit instead of two. */
        bool snap_tx = !in_tx && snapshot_due(a, st.version, dc.n);
        if (snap_tx && (rc = store_begin(s, e)) != ST_OK) {
            free(evs);
            decision_done(&dc);
            agg_state_done(&st);
            break;
        }
        rc = store_append(s, stream, st.version, command_id, evs, dc.n, &res->appended, e);
        free(evs);
        if (req->narrate) /* narration */
            narrate_append(req->narrate, stream, st.version, attempt + 1, rc, &res->appended, e);
        if (rc == ST_OK && a->snapshot_every > 0) {
            for (size_t i = 0; i < dc.n; i++) {
                const struct event *ev = &res->appended.items[i];
                if (ev->version % a->snapshot_every == 0) {
                    struct agg_state snap = {dc.states[i], ev->version, ev->position, 0, false};
                    err ignored;
                    if (put_snapshot(s, a, stream, &snap, &ignored) == ST_OK && req->narrate)
                        narrate_snapshot(req->narrate, stream, ev->version); /* narration */
                }
            }
        }
        if (snap_tx && rc == ST_OK) {
            if ((rc = store_commit(s, e)) != ST_OK)
                event_list_clear(&res->appended); /* nothing was kept */
        } else if (snap_tx) {
            store_rollback(s);
        }
        decision_done(&dc);
        agg_state_done(&st);
        if (rc == ST_DUPLICATE) {
            /* Another process ran the same command id between our check and our append. */
            res->duplicate = true;
            err_clear(e);
            rc = ST_OK;
            break;
        }
        if (rc != ST_CONFLICT || req->expected_version != STORE_ANY_VERSION)
            break;
        if (in_tx) {
            store_rollback(s);
            in_tx = false;
        }
        if (attempt + 1 >= max_retries) {
            err_prefix(e, "gave up after %d attempts", attempt + 1);
            break;
        }
        /* Someone else appended to this stream: decide again on the fresh state, after
         * a short randomised pause so that competing writers spread out. */
        long most_ms = 4L << (attempt < 5 ? attempt : 5);
        struct timespec pause = {0, 1000000L * (1 + (long)(backoff_random() % (uint64_t)most_ms))};
        nanosleep(&pause, NULL);
    }
    if (in_tx) {
        if (rc == ST_OK)
            rc = store_commit(s, e);
        else
            store_rollback(s);
        if (rc != ST_OK)
            event_list_clear(&res->appended); /* nothing of this attempt was kept */
    }
done:
    free(meta_json);
    free(command_id);
    free(stream);
    free(id);
    value_free(payload);
    return res->status = rc;
}

/* The same decision as command_execute, stopped before the append: the workbench's
 * form shows what a command would do while it is being typed. */
int command_preview(struct store *s, const struct domain *d, const struct command_request *req,
                    struct agg_state *st, struct command_result *res, err *e)
{
    const struct command_spec *c = req->command;
    memset(st, 0, sizeof *st);
    value payload;
    int rc = command_validate_payload(c, &req->payload, &payload, e);
    if (rc != ST_OK)
        return res->status = rc;
    char *id = NULL;
    rc = payload_id(c, &payload, &id, e);
    if (rc == ST_OK)
        rc = aggregate_load(s, d, c->aggregate, id, 0, false, st, e);
    if (rc == ST_OK) {
        char *stream = aggregate_stream(c->aggregate, id);
        char *meta_json = command_meta(req, "preview");
        char time_text[TIME_TEXT_LEN + 1];
        time_format_ms(req->now_ms ? req->now_ms : time_now_ms(), time_text);
        struct decision dc;
        rc = decide(d, req, &payload, stream, st, time_text, meta_json, &dc, res, e);
        for (size_t i = 0; rc == ST_OK && i < dc.n; i++) {
            struct event ev = {0,
                               st->version + (int64_t)i + 1,
                               dc.specs[i]->version,
                               stream,
                               (char *)dc.specs[i]->name,
                               time_text,
                               dc.data[i],
                               NULL};
            event_list_push_copy(&res->appended, &ev);
        }
        if (rc == ST_OK)
            decision_done(&dc);
        free(meta_json);
        free(stream);
    }
    free(id);
    value_free(payload);
    return res->status = rc;
}
