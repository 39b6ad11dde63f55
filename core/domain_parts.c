/* domain_parts.c: the parts of a domain file after the aggregates and
 * projections (domain_projection.c): sources for foreign event files, and
 * scenarios (given / when / then). Everything they name (events, commands, projections,
 * state fields, columns) must exist; every problem is reported. */
#include <stdlib.h>
#include <string.h>

#include "core/domain_internal.h"
#include "core/reader.h" /* the table of format names */

/* ---- sources ---- */

static const char *const source_keys[] = {"format", "records", "delimiter", "timezone",
                                          "skip",   "stream",  "type",      "time",
                                          "data",   "meta",    "id"};

/* "Z", "UTC", "+02:00", "-0530", "+02" -> minutes east of UTC. */
static bool parse_timezone(const char *s, int *out)
{
    if (!strcmp(s, "Z") || !strcmp(s, "UTC") || !strcmp(s, "utc")) {
        *out = 0;
        return true;
    }
    if (s[0] != '+' && s[0] != '-')
        return false;
    int sign = s[0] == '-' ? -1 : 1, h, mi = 0;
    size_t n = strlen(s);
    const char *p = s + 1;
    if (n < 3 || !(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9'))
        return false;
    h = (p[0] - '0') * 10 + (p[1] - '0');
    p += 2;
    if (*p == ':')
        p++;
    if (*p) {
        if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9') || p[2])
            return false;
        mi = (p[0] - '0') * 10 + (p[1] - '0');
    }
    if (h > 23 || mi > 59)
        return false;
    *out = sign * (h * 60 + mi);
    return true;
}

bool source_parse(struct loader *L, const struct ynode *key, const struct ynode *val,
                  struct source_spec *s)
{
    size_t before = L->diags->len;
    s->name = xstrdup(key->text);
    s->pos.line = key->line;
    s->pos.col = key->col;
    s->delimiter = ',';
    if (!ld_expect_map(L, val, "a source {format, stream, type, time, data}", false))
        return false;
    ld_check_keys(L, val, source_keys, sizeof source_keys / sizeof source_keys[0]);
    const struct ynode *x;
    if (!(x = ynode_get(val, "format"))) {
        ld_diag(L, val, "a source needs `format:` (ndjson, json, csv or cloudevents)");
    } else {
        size_t m = ld_push(L, "format");
        const char *f = ld_string(L, x, "a format (ndjson, json, csv or cloudevents)");
        if (f && !reader_format_parse(f, &s->format)) {
            const char *sg = reader_format_suggest(f);
            if (sg)
                ld_diag(L, x, "unknown format '%s' (did you mean '%s'?)", f, sg);
            else
                ld_diag(L, x,
                        "unknown format '%s'; the formats are ndjson, json, csv and cloudevents",
                        f);
        }
        ld_pop(L, m);
    }
    bool format_ok = L->diags->len == before;
    if ((x = ynode_get(val, "records"))) {
        size_t m = ld_push(L, "records");
        const char *r = ld_string(L, x, "a dotted path to the array of records");
        if (r && format_ok && s->format != SRC_JSON)
            ld_diag(L, ynode_getkey(val, "records"), "`records` is for the json format only");
        else if (r)
            s->records = xstrdup(r);
        ld_pop(L, m);
    }
    if ((x = ynode_get(val, "delimiter"))) {
        size_t m = ld_push(L, "delimiter");
        const char *dl = ld_string(L, x, "one character");
        if (dl && format_ok && s->format != SRC_CSV)
            ld_diag(L, ynode_getkey(val, "delimiter"), "`delimiter` is for the csv format only");
        else if (dl && (strlen(dl) != 1 || dl[0] == '"' || dl[0] == '\n' || dl[0] == '\r'))
            ld_diag(L, x,
                    "the delimiter must be one character (not a quote or a line break), got '%s'",
                    dl);
        else if (dl)
            s->delimiter = dl[0];
        ld_pop(L, m);
    }
    if ((x = ynode_get(val, "timezone"))) {
        size_t m = ld_push(L, "timezone");
        const char *tz = ld_string(L, x, "an offset such as \"+02:00\"");
        if (tz && parse_timezone(tz, &s->timezone_min))
            s->has_timezone = true;
        else if (tz)
            ld_diag(L, x,
                    "timezone must be an offset from UTC such as \"+02:00\", \"-0500\" or \"Z\", "
                    "got '%s'",
                    tz);
        ld_pop(L, m);
    }
    struct expr_env env = {ROOT_BIT(ROOT_RECORD), {NULL}, "source"};
    static const char *const ex[] = {"skip", "stream", "type", "time", "data", "meta", "id"};
    expr **slots[] = {&s->skip, &s->stream, &s->type, &s->time, &s->data, &s->meta, &s->id};
    for (size_t i = 0; i < 7; i++) {
        if (!(x = ynode_get(val, ex[i])))
            continue;
        size_t m = ld_push(L, ex[i]);
        *slots[i] = ld_compile(L, x, &env, i == 0);
        ld_pop(L, m);
    }
    return L->diags->len == before;
}

void sources_load(struct loader *L, const struct ynode *map)
{
    if (!map->n)
        return;
    L->d->sources = xcalloc(map->n, sizeof *L->d->sources);
    L->d->nsources = map->n;
    for (size_t i = 0; i < map->n; i++) {
        const struct ynode *k = ynode_keynode(map, i);
        size_t m = ld_push(L, k->text);
        if (!k->len || strchr(k->text, '/'))
            ld_diag(L, k, "a source needs a name without '/'");
        source_parse(L, k, ynode_val(map, i), &L->d->sources[i]);
        ld_pop(L, m);
    }
}

/* ---- scenarios ---- */

static const char *const scenario_keys[] = {"name", "given", "when", "then"};
static const char *const given_keys[] = {"stream", "type", "schema", "time", "data"};
static const char *const when_keys[] = {"command", "payload", "expect_version", "time"};
static const char *const then_keys[] = {"rejected", "invalid", "events", "state", "projections"};
static const char *const then_event_keys[] = {"type", "data"};
static const char *const then_rows_keys[] = {"contains", "absent"};

/* A scenario's clock is an instant, so a bare date (midnight? in which zone?) is
 * refused, as a timestamp field refuses it. */
static bool scenario_time(struct loader *L, const struct ynode *x, int64_t *ms)
{
    const char *s = ld_string(L, x, "a time (ISO-8601)");
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n <= 10 || !time_parse(s, n, 0, ms)) {
        ld_diag(L, x, "'%s' is not a time; write ISO-8601 such as 2026-11-27T10:00:00Z", s);
        return false;
    }
    return true;
}

static void unknown_data_field(struct loader *L, const struct event_spec *e, const struct ynode *k)
{
    const char *s = fields_suggest(e->fields, e->nfields, k->text);
    if (s)
        ld_diag(L, k, "unknown field '%s' of event '%s' (did you mean '%s'?)", k->text, e->name, s);
    else
        ld_diag(L, k, "unknown field '%s' of event '%s'", k->text, e->name);
}

/* Expected events may name some fields only; those named must exist. */
static void check_data_names(struct loader *L, const struct event_spec *e, const struct ynode *data)
{
    for (size_t i = 0; i < data->n; i++) {
        const struct ynode *k = ynode_keynode(data, i);
        if (fields_find(e->fields, e->nfields, k->text))
            continue;
        size_t m = ld_push(L, k->text);
        unknown_data_field(L, e, k);
        ld_pop(L, m);
    }
}

/* Checks data against an event's current fields: unknown, missing, wrong values. */
static void check_event_data(struct loader *L, const struct event_spec *e, const struct ynode *data,
                             const struct ynode *at)
{
    if (data && data->kind == YN_MAP) {
        for (size_t i = 0; i < data->n; i++) {
            const struct ynode *k = ynode_keynode(data, i);
            const struct field_spec *f = fields_find(e->fields, e->nfields, k->text);
            size_t m = ld_push(L, k->text);
            if (!f) {
                unknown_data_field(L, e, k);
            } else {
                value v;
                if (ld_value(L, ynode_val(data, i), &v)) {
                    v = field_coerce(f->type, v);
                    err er;
                    err_clear(&er);
                    if (field_check(f, &v, &er) != ST_OK)
                        ld_diag(L, ynode_val(data, i), "%s", er.msg);
                }
                value_free(v);
            }
            ld_pop(L, m);
        }
    }
    for (size_t i = 0; i < e->nfields; i++)
        if (e->fields[i].required &&
            !(data && data->kind == YN_MAP && ynode_get(data, e->fields[i].name)))
            ld_diag(L, at, "missing field '%s' of event '%s'", e->fields[i].name, e->name);
}

static void given_load(struct loader *L, const struct ynode *n, struct scenario_event *g)
{
    if (!ld_expect_map(L, n, "a stored event {stream, type, data}", false))
        return;
    ld_check_keys(L, n, given_keys, sizeof given_keys / sizeof given_keys[0]);
    const struct ynode *x;
    if (!(x = ynode_get(n, "stream"))) {
        ld_diag(L, n, "a given event needs `stream:` (e.g. Account-A)");
    } else {
        size_t m = ld_push(L, "stream");
        const char *s = ld_string(L, x, "a stream name");
        if (s)
            g->stream = xstrdup(s);
        ld_pop(L, m);
    }
    const struct event_spec *e = NULL;
    if (!(x = ynode_get(n, "type"))) {
        ld_diag(L, n, "a given event needs `type:`");
    } else {
        size_t m = ld_push(L, "type");
        const char *s = ld_string(L, x, "an event type");
        if (s) {
            g->type = xstrdup(s);
            if (!(e = ld_event(L, s)))
                ld_unknown_event(L, x, s);
        }
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "schema"))) {
        size_t m = ld_push(L, "schema");
        int64_t v;
        if (ld_int(L, x, "schema", 1, e ? e->version : 1000, &v))
            g->schema = (int)v;
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "time"))) {
        size_t m = ld_push(L, "time");
        int64_t ms;
        if (scenario_time(L, x, &ms))
            g->time = xstrdup(x->text);
        ld_pop(L, m);
    }
    x = ynode_get(n, "data");
    size_t m = ld_push(L, "data");
    if (x && !ynode_is_null(x) && x->kind != YN_MAP)
        ld_diag(L, x, "expected the event's data (a mapping), got %s", ynode_kind_name(x));
    if (x)
        ld_value(L, x, &g->data);
    if (g->data.type != V_MAP) {
        value_free(g->data);
        g->data = value_map(0);
    }
    /* Data stored at an older schema is checked by upcasting when it runs. */
    if (e && (g->schema == 0 || g->schema == e->version))
        check_event_data(L, e, x, x ? x : n);
    ld_pop(L, m);
}

/* Checks a scenario's payload as the command will (unknown fields, values,
 * missing required fields), so a mistake in the scenario is found at load
 * instead of as a failed run. */
static void check_payload(struct loader *L, const struct command_spec *c, const struct ynode *data,
                          const struct ynode *at)
{
    for (size_t i = 0; data && data->kind == YN_MAP && i < data->n; i++) {
        const struct ynode *k = ynode_keynode(data, i);
        const struct field_spec *f = fields_find(c->payload, c->npayload, k->text);
        size_t m = ld_push(L, k->text);
        if (!f) {
            const char *s = fields_suggest(c->payload, c->npayload, k->text);
            if (s)
                ld_diag(L, k, "unknown field '%s' of command %s's payload (did you mean '%s'?)",
                        k->text, c->name, s);
            else
                ld_diag(L, k, "unknown field '%s' of command %s's payload", k->text, c->name);
        } else {
            value v;
            err er;
            err_clear(&er);
            /* null stands for "not given", as when the command runs */
            if (ld_value(L, ynode_val(data, i), &v) && !(v.type == V_NULL && !f->optional) &&
                field_check(f, &v, &er) != ST_OK)
                ld_diag(L, ynode_val(data, i), "%s", er.msg);
            value_free(v);
        }
        ld_pop(L, m);
    }
    for (size_t i = 0; i < c->npayload; i++) {
        const struct field_spec *f = &c->payload[i];
        const struct ynode *v = data && data->kind == YN_MAP ? ynode_get(data, f->name) : NULL;
        if (f->required && (!v || (ynode_is_null(v) && f->type != F_ANY)))
            ld_diag(L, at, "missing field '%s' of command %s's payload (a required %s)", f->name,
                    c->name, ftype_name(f->type));
    }
}

/* expect_invalid: the scenario expects the payload to be refused (`then:
 * {invalid: ...}`), so it is not checked here. */
static const struct command_spec *when_load(struct loader *L, const struct ynode *n,
                                            struct scenario_spec *sc, bool expect_invalid)
{
    if (!ld_expect_map(L, n, "a command {command, payload, expect_version, time}", false))
        return NULL;
    ld_check_keys(L, n, when_keys, sizeof when_keys / sizeof when_keys[0]);
    sc->has_when = true;
    const struct command_spec *c = NULL;
    const struct ynode *x = ynode_get(n, "command");
    if (!x) {
        ld_diag(L, n, "`when` needs `command:`");
    } else {
        size_t m = ld_push(L, "command");
        const char *s = ld_string(L, x, "a command name");
        if (s) {
            sc->when_command = xstrdup(s);
            if (!(c = ld_command(L, s))) {
                size_t total = 0;
                for (size_t i = 0; i < L->d->naggregates; i++)
                    total += L->d->aggregates[i].ncommands;
                const char **names = xcalloc(total ? total : 1, sizeof *names);
                size_t k = 0;
                for (size_t i = 0; i < L->d->naggregates; i++)
                    for (size_t j = 0; j < L->d->aggregates[i].ncommands; j++)
                        if (L->d->aggregates[i].commands[j].name)
                            names[k++] = L->d->aggregates[i].commands[j].name;
                const char *sg = ld_suggest(s, names, k);
                if (sg)
                    ld_diag(L, x, "unknown command '%s' (did you mean '%s'?)", s, sg);
                else
                    ld_diag(L, x, "unknown command '%s'", s);
                free(names);
            }
        }
        ld_pop(L, m);
    }
    x = ynode_get(n, "payload");
    size_t m = ld_push(L, "payload");
    if (x && !ynode_is_null(x) && x->kind != YN_MAP)
        ld_diag(L, x, "expected the payload (a mapping), got %s", ynode_kind_name(x));
    if (x)
        ld_value(L, x, &sc->when_payload);
    if (c && !expect_invalid && (!x || x->kind == YN_MAP || ynode_is_null(x)))
        check_payload(L, c, x, x && !ynode_is_null(x) ? x : n);
    if (sc->when_payload.type != V_MAP) {
        value_free(sc->when_payload);
        sc->when_payload = value_map(0);
    }
    ld_pop(L, m);
    if ((x = ynode_get(n, "expect_version"))) {
        m = ld_push(L, "expect_version");
        sc->has_when_expect_version = ld_int(L, x, "expect_version (the stream's version)", 0,
                                             INT64_MAX, &sc->when_expect_version);
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "time"))) {
        m = ld_push(L, "time");
        sc->has_when_time = scenario_time(L, x, &sc->when_time_ms);
        ld_pop(L, m);
    }
    return c;
}

static void check_state_fields(struct loader *L, const struct aggregate_spec *a,
                               const struct ynode *map, bool with_id)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct ynode *k = ynode_keynode(map, i);
        if (with_id && (!strcmp(k->text, "aggregate") || !strcmp(k->text, "id")))
            continue;
        if (fields_find(a->state, a->nstate, k->text))
            continue;
        size_t m = ld_push(L, k->text);
        const char *s = fields_suggest(a->state, a->nstate, k->text);
        if (s)
            ld_diag(L, k, "unknown field '%s' in state of %s (did you mean '%s'?)", k->text,
                    a->name, s);
        else
            ld_diag(L, k, "unknown field '%s' in state of %s", k->text, a->name);
        ld_pop(L, m);
    }
}

static void then_state_load(struct loader *L, const struct ynode *x, const struct command_spec *c,
                            struct scenario_spec *sc)
{
    if (!ld_expect_map(L, x, "the expected state {field: value}", false))
        return;
    sc->has_then_state = true;
    ld_value(L, x, &sc->then_state);
    if (sc->has_when) {
        if (c)
            check_state_fields(L, c->aggregate, x, false);
        return;
    }
    /* Without `when`, the state names the instance it is about. */
    const struct ynode *an = ynode_get(x, "aggregate"), *idn = ynode_get(x, "id");
    if (!an || !idn)
        ld_diag(
            L, x,
            "without `when`, `state` names its instance: {aggregate: Name, id: ..., field: value}");
    const struct aggregate_spec *a = NULL;
    if (an) {
        size_t m = ld_push(L, "aggregate");
        const char *s = ld_string(L, an, "an aggregate name");
        if (s && !(a = domain_aggregate(L->d, s)))
            ld_diag(L, an, "unknown aggregate '%s'", s);
        ld_pop(L, m);
    }
    if (a)
        check_state_fields(L, a, x, true);
}

/* Rows a projection is expected to hold, exactly or some of them: each a map of
 * known columns; a keyed projection's rows name their key, since a row without one
 * could be any row; no key twice (two expectations about one row). */
static void expected_rows_load(struct loader *L, const struct ynode *rows,
                               const struct projection_spec *p)
{
    if (!ld_expect_seq(L, rows, "a list of rows", false) || !p)
        return;
    for (size_t r = 0; r < rows->n; r++) {
        size_t m2 = ld_push_index(L, r);
        const struct ynode *row = rows->items[r];
        if (ld_expect_map(L, row, "a row {column: value}", false)) {
            for (size_t j = 0; j < row->n; j++) {
                const struct ynode *ck = ynode_keynode(row, j);
                if (!strcmp(ck->text, "key") || projection_has_column(p, ck->text))
                    continue;
                const char *s = ld_suggest_names(ck->text, p->columns, p->ncolumns);
                size_t m3 = ld_push(L, ck->text);
                if (s)
                    ld_diag(L, ck, "unknown column '%s' of projection %s (did you mean '%s'?)",
                            ck->text, p->name, s);
                else
                    ld_diag(L, ck, "unknown column '%s' of projection %s", ck->text, p->name);
                ld_pop(L, m3);
            }
            const struct ynode *kn = ynode_get(row, "key");
            if (p->keyed && !kn)
                ld_diag(L, row, "a row of %s needs `key:` (which row is meant?)", p->name);
            size_t m3 = ld_push(L, "key");
            if (kn && kn->kind != YN_SCALAR)
                ld_diag(L, kn, "a row's key is a scalar, got %s", ynode_kind_name(kn));
            for (size_t q = 0; kn && kn->kind == YN_SCALAR && q < r; q++) {
                const struct ynode *prev = rows->items[q];
                const struct ynode *pk = prev->kind == YN_MAP ? ynode_get(prev, "key") : NULL;
                if (pk && pk->kind == YN_SCALAR && !strcmp(pk->text, kn->text)) {
                    ld_diag(L, kn, "row [%zu] has this key too; expect each row once", q);
                    break;
                }
            }
            ld_pop(L, m3);
        }
        ld_pop(L, m2);
    }
}

/* {contains: [rows], absent: [keys]}: either or both. */
static void rows_check_load(struct loader *L, const struct ynode *x,
                            const struct projection_spec *p)
{
    ld_check_keys(L, x, then_rows_keys, sizeof then_rows_keys / sizeof then_rows_keys[0]);
    const struct ynode *c = ynode_get(x, "contains"), *a = ynode_get(x, "absent");
    if (!c && !a)
        ld_diag(L, x, "expected `contains: [rows]` and/or `absent: [keys]`");
    if (c) {
        size_t m = ld_push(L, "contains");
        expected_rows_load(L, c, p);
        ld_pop(L, m);
    }
    if (a) {
        size_t m = ld_push(L, "absent");
        if (p && !p->keyed)
            ld_diag(L, ynode_getkey(x, "absent"),
                    "%s has no key (it is a single row), so no row of it can be absent", p->name);
        else if (ld_expect_seq(L, a, "the keys of rows that must not exist", false))
            for (size_t i = 0; i < a->n; i++) {
                const struct ynode *k = a->items[i];
                size_t m2 = ld_push_index(L, i);
                if (k->kind != YN_SCALAR)
                    ld_diag(L, k, "expected a row's key (a scalar), got %s", ynode_kind_name(k));
                const struct ynode *cr = c && c->kind == YN_SEQ ? c : NULL;
                for (size_t r = 0; k->kind == YN_SCALAR && cr && r < cr->n; r++) {
                    const struct ynode *row = cr->items[r];
                    const struct ynode *rk = row->kind == YN_MAP ? ynode_get(row, "key") : NULL;
                    if (rk && rk->kind == YN_SCALAR && !strcmp(rk->text, k->text)) {
                        ld_diag(L, k,
                                "key '%s' is expected both present (contains[%zu]) and absent",
                                k->text, r);
                        break;
                    }
                }
                ld_pop(L, m2);
            }
        ld_pop(L, m);
    }
}

static void then_projections_load(struct loader *L, const struct ynode *x, struct scenario_spec *sc)
{
    if (!ld_expect_map(L, x, "the expected rows {Projection: [{column: value}]}", false))
        return;
    sc->has_then_projections = true;
    ld_value(L, x, &sc->then_projections);
    for (size_t i = 0; i < x->n; i++) {
        const struct ynode *k = ynode_keynode(x, i), *rows = ynode_val(x, i);
        size_t m = ld_push(L, k->text);
        const struct projection_spec *p = domain_projection(L->d, k->text);
        if (!p) {
            char **names = xcalloc(L->d->nprojections ? L->d->nprojections : 1, sizeof *names);
            for (size_t j = 0; j < L->d->nprojections; j++)
                names[j] = L->d->projections[j].name;
            const char *s = ld_suggest_names(k->text, names, L->d->nprojections);
            if (s)
                ld_diag(L, k, "unknown projection '%s' (did you mean '%s'?)", k->text, s);
            else
                ld_diag(L, k, "unknown projection '%s'", k->text);
            free(names);
        }
        /* A list is every row the projection holds; a map checks some of them. */
        if (rows && rows->kind == YN_MAP)
            rows_check_load(L, rows, p);
        else if (rows && rows->kind == YN_SEQ)
            expected_rows_load(L, rows, p);
        else
            ld_diag(L, rows,
                    "expected every row (a list) or {contains: [rows], absent: [keys]}, got %s",
                    ynode_kind_name(rows));
        ld_pop(L, m);
    }
}

static void then_load(struct loader *L, const struct ynode *n, const struct command_spec *c,
                      struct scenario_spec *sc)
{
    if (!ld_expect_map(L, n, "the expectations {rejected | invalid | events | state | projections}",
                       false))
        return;
    ld_check_keys(L, n, then_keys, sizeof then_keys / sizeof then_keys[0]);
    const struct ynode *x;
    if ((x = ynode_get(n, "rejected"))) {
        size_t m = ld_push(L, "rejected");
        const char *s = ld_string(L, x, "the rejection message expected");
        if (s)
            sc->then_rejected = xstrdup(s);
        if (!sc->has_when)
            ld_diag(L, ynode_getkey(n, "rejected"), "`rejected` needs a `when` command to reject");
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "invalid"))) {
        size_t m = ld_push(L, "invalid");
        const char *s = ld_string(L, x, "text the payload's refusal contains");
        if (s)
            sc->then_invalid = xstrdup(s);
        if (!sc->has_when)
            ld_diag(L, ynode_getkey(n, "invalid"), "`invalid` needs a `when` command to refuse");
        else if (sc->then_rejected)
            ld_diag(L, ynode_getkey(n, "invalid"),
                    "a refused payload never reaches the rules: give `invalid` or `rejected`, "
                    "not both");
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "events"))) {
        size_t m = ld_push(L, "events");
        if (!sc->has_when)
            ld_diag(L, ynode_getkey(n, "events"),
                    "`events` needs a `when` command (they are what it appends)");
        else if (sc->then_rejected)
            ld_diag(L, ynode_getkey(n, "events"),
                    "a rejected command appends nothing: give `rejected` or `events`, "
                    "not both");
        else if (sc->then_invalid)
            ld_diag(L, ynode_getkey(n, "events"),
                    "a refused payload appends nothing: give `invalid` or `events`, not both");
        if (ld_expect_seq(L, x, "the events expected, in order", true)) {
            for (size_t i = 0; i < x->n; i++) {
                const struct ynode *ev = x->items[i];
                size_t m2 = ld_push_index(L, i);
                if (ld_expect_map(L, ev, "an event {type, data}", false)) {
                    ld_check_keys(L, ev, then_event_keys, 2);
                    const struct ynode *t = ynode_get(ev, "type");
                    const struct event_spec *e = NULL;
                    if (!t) {
                        ld_diag(L, ev, "an expected event needs `type:`");
                    } else {
                        size_t m3 = ld_push(L, "type");
                        const char *s = ld_string(L, t, "an event type");
                        if (s && !(e = ld_event(L, s)))
                            ld_unknown_event(L, t, s);
                        ld_pop(L, m3);
                    }
                    const struct ynode *dn = ynode_get(ev, "data");
                    size_t m3 = ld_push(L, "data");
                    if (dn && !ynode_is_null(dn) && dn->kind != YN_MAP)
                        ld_diag(L, dn, "expected the event's data (a mapping), got %s",
                                ynode_kind_name(dn));
                    else if (dn && dn->kind == YN_MAP && e)
                        check_data_names(L, e, dn);
                    ld_pop(L, m3);
                }
                ld_pop(L, m2);
            }
        }
        sc->has_then_events = true;
        ld_value(L, x, &sc->then_events);
        if (sc->then_events.type != V_LIST) {
            value_free(sc->then_events);
            sc->then_events = value_list(0);
        }
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "state"))) {
        size_t m = ld_push(L, "state");
        then_state_load(L, x, c, sc);
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "projections"))) {
        size_t m = ld_push(L, "projections");
        then_projections_load(L, x, sc);
        ld_pop(L, m);
    }
    if (!n->n)
        ld_diag(L, n, "`then` needs at least one of rejected, invalid, events, state, projections");
}

static void scenario_load(struct loader *L, const struct ynode *n, struct scenario_spec *sc)
{
    sc->pos.line = n->line;
    sc->pos.col = n->col;
    sc->when_payload = value_null();
    if (!ld_expect_map(L, n, "a scenario {name, given, when, then}", false))
        return;
    ld_check_keys(L, n, scenario_keys, sizeof scenario_keys / sizeof scenario_keys[0]);
    const struct ynode *x;
    if (!(x = ynode_get(n, "name"))) {
        ld_diag(L, n, "a scenario needs `name:`");
    } else {
        size_t m = ld_push(L, "name");
        const char *s = ld_string(L, x, "the scenario's name");
        if (s)
            sc->name = xstrdup(s);
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "given"))) {
        size_t m = ld_push(L, "given");
        if (ld_expect_seq(L, x, "the events already stored", true) && x->n) {
            sc->given = xcalloc(x->n, sizeof *sc->given);
            sc->ngiven = x->n;
            for (size_t i = 0; i < x->n; i++) {
                size_t m2 = ld_push_index(L, i);
                given_load(L, x->items[i], &sc->given[i]);
                ld_pop(L, m2);
            }
        }
        ld_pop(L, m);
    }
    const struct command_spec *c = NULL;
    if ((x = ynode_get(n, "when"))) {
        size_t m = ld_push(L, "when");
        const struct ynode *tn = ynode_get(n, "then");
        c = when_load(L, x, sc, tn && tn->kind == YN_MAP && ynode_get(tn, "invalid"));
        ld_pop(L, m);
    }
    if (!(x = ynode_get(n, "then"))) {
        ld_diag(L, n, "a scenario needs `then:` (rejected, invalid, events, state or projections)");
    } else {
        size_t m = ld_push(L, "then");
        then_load(L, x, c, sc);
        ld_pop(L, m);
    }
}

void scenarios_load(struct loader *L, const struct ynode *seq)
{
    if (!seq->n)
        return;
    L->d->scenarios = xcalloc(seq->n, sizeof *L->d->scenarios);
    L->d->nscenarios = seq->n;
    for (size_t i = 0; i < seq->n; i++) {
        size_t m = ld_push_index(L, i);
        scenario_load(L, seq->items[i], &L->d->scenarios[i]);
        for (size_t j = 0; j < i && L->d->scenarios[i].name; j++)
            if (L->d->scenarios[j].name &&
                !strcmp(L->d->scenarios[j].name, L->d->scenarios[i].name)) {
                ld_diag(L, ynode_get(seq->items[i], "name"),
                        "another scenario has this name (line %d); give each its own",
                        L->d->scenarios[j].pos.line);
                break;
            }
        ld_pop(L, m);
    }
}
