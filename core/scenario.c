/* scenario.c: given events are appended as stored (schema as given, so upcasting is
 * exercised), the `when` command runs through command_execute exactly as `strata
 * exec` would, at the scenario's fixed clock, and `then` is compared: the events
 * exactly, the state in the fields named, and each projection's rows exactly (or
 * some of them, with contains/absent). A projection that fails while the scenario
 * runs fails the scenario, whatever `then` says. */
#include "scenario.h"

#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "json.h"
#include "projection.h"
#include "store.h"

static void say_value(strbuf *sb, const value *v)
{
    json_write(sb, v);
}

/* Appends the given events, each at its own `time` or a second after the one
 * before it; *last_ms is the time of the last one (the epoch minus a second when
 * there is none, so that the command's default lands on the epoch). */
static int given_events(struct store *s, const struct domain *d, const struct scenario_spec *sc,
                        int64_t *last_ms, strbuf *report)
{
    int64_t t = SCENARIO_EPOCH_MS - 1000;
    for (size_t i = 0; i < sc->ngiven; i++) {
        const struct scenario_event *g = &sc->given[i];
        const struct event_spec *spec = domain_event(d, g->type);
        int64_t own;
        if (g->time && time_parse(g->time, strlen(g->time), 0, &own))
            t = own;
        else
            t += 1000;
        char time_text[TIME_TEXT_LEN + 1];
        time_format_ms(t, time_text);
        char *data = json_to_string(&g->data);
        struct new_event ev = {g->type, g->schema > 0 ? g->schema : (spec ? spec->version : 1),
                               time_text, data, NULL};
        err e;
        err_clear(&e);
        /* A given event is appended as any other: valid, after its upcasts (the
         * loader could check only those given at the current version). */
        struct event stored = {0, 0, ev.schema, g->stream, g->type, time_text, data, NULL};
        if (event_validate(d, &stored, &g->data, false, &e) != ST_OK) {
            sb_addf(report, "  given[%zu]: %s\n", i, e.msg);
            free(data);
            return ST_ERR;
        }
        int rc = store_append(s, g->stream, STORE_ANY_VERSION, NULL, &ev, 1, NULL, &e);
        free(data);
        if (rc != ST_OK) {
            sb_addf(report, "  given[%zu]: cannot append: %s\n", i, e.msg);
            return ST_ERR;
        }
    }
    *last_ms = t;
    return ST_OK;
}

/* Every field named in `want` (a map) equals the same field of `got`. */
static bool fields_match(const value *want, const value *got, const char *skip1, const char *skip2,
                         strbuf *why, const char *what)
{
    bool ok = true;
    for (size_t i = 0; i < value_map_len(want); i++) {
        const char *k = value_str(value_map_key_at(want, i));
        if ((skip1 && strcmp(k, skip1) == 0) || (skip2 && strcmp(k, skip2) == 0))
            continue;
        const value *w = value_map_val_at(want, i);
        const value *g = got && got->type == V_MAP ? value_map_get(got, k) : NULL;
        if (!g || !value_equal(w, g)) {
            ok = false;
            sb_addf(why, "  %s.%s: expected ", what, k);
            say_value(why, w);
            sb_adds(why, ", got ");
            if (g)
                say_value(why, g);
            else
                sb_adds(why, "nothing");
            sb_adds(why, "\n");
        }
    }
    return ok;
}

static bool check_events(const value *want, const struct event_list *got, strbuf *why)
{
    bool ok = value_list_len(want) == got->len;
    if (!ok)
        sb_addf(why, "  expected %zu event(s), got %zu\n", value_list_len(want), got->len);
    for (size_t i = 0; i < value_list_len(want) && i < got->len; i++) {
        const value *w = value_list_at(want, i);
        const value *wt = w->type == V_MAP ? value_map_get(w, "type") : NULL;
        const value *wd = w->type == V_MAP ? value_map_get(w, "data") : NULL;
        const struct event *ev = &got->items[i];
        if (wt && (wt->type != V_STRING || strcmp(value_str(wt), ev->type) != 0)) {
            ok = false;
            sb_addf(why, "  event %zu: expected type ", i + 1);
            say_value(why, wt);
            sb_addf(why, ", got %s\n", ev->type);
        }
        if (wd) {
            value gd;
            err je;
            if (json_parse(ev->data, strlen(ev->data), &gd, &je) != ST_OK)
                gd = value_null();
            if (!value_equal(wd, &gd)) {
                ok = false;
                sb_addf(why, "  event %zu (%s): expected data ", i + 1, ev->type);
                say_value(why, wd);
                sb_addf(why, ", got %s\n", ev->data);
            }
            value_free(gd);
        }
    }
    if (!ok && got->len) {
        sb_adds(why, "  appended:\n");
        for (size_t i = 0; i < got->len; i++)
            sb_addf(why, "    %s %s\n", got->items[i].type, got->items[i].data);
    }
    return ok;
}

/* A row key as text: rows are keyed by text, and a YAML `key: 42` means "42". */
static char *key_text(const value *k)
{
    if (k->type == V_STRING)
        return xstrdup(value_str(k));
    if (k->type == V_INT)
        return xasprintf("%lld", (long long)k->u.i);
    return json_to_string(k);
}

static bool same_key(const value *a, const value *b)
{
    if (!a || !b)
        return false;
    char *x = key_text(a), *y = key_text(b);
    bool same = strcmp(x, y) == 0;
    free(x);
    free(y);
    return same;
}

/* The named columns of `want` (its key aside) all equal those of `row`. */
static bool row_fits(const value *want, const value *row)
{
    for (size_t i = 0; i < value_map_len(want); i++) {
        const char *k = value_str(value_map_key_at(want, i));
        if (strcmp(k, "key") == 0)
            continue;
        const value *g = value_map_get(row, k);
        if (!g || !value_equal(value_map_val_at(want, i), g))
            return false;
    }
    return true;
}

static void say_row_name(strbuf *sb, const char *name, const value *key)
{
    sb_addf(sb, "projection %s", name);
    if (key) {
        sb_adds(sb, "[key ");
        say_value(sb, key);
        sb_adds(sb, "]");
    }
}

bool scenario_check_rows(const char *name, const value *expect, const value *rows, strbuf *why)
{
    bool exact = expect->type == V_LIST;
    const value *want = exact ? expect : value_map_get(expect, "contains");
    const value *absent = exact ? NULL : value_map_get(expect, "absent");
    size_t nwant = want && want->type == V_LIST ? value_list_len(want) : 0;
    size_t nrows = rows->type == V_LIST ? value_list_len(rows) : 0;
    bool ok = true;
    if (exact && nwant != nrows) {
        sb_addf(why, "  projection %s: expected exactly %zu row(s), got %zu\n", name, nwant, nrows);
        ok = false;
    }
    /* Pair each expected row with a distinct actual row: by key when it names one,
     * else the first unpaired row whose named columns are equal. */
    bool *used = xcalloc(nrows + 1, sizeof *used);
    size_t *pair = xcalloc(nwant + 1, sizeof *pair);
    for (size_t j = 0; j < nwant; j++) {
        pair[j] = SIZE_MAX;
        const value *w = value_list_at(want, j);
        const value *wkey = value_map_get(w, "key");
        for (size_t r = 0; wkey && r < nrows; r++)
            if (!used[r] && same_key(wkey, value_map_get(value_list_at(rows, r), "key"))) {
                pair[j] = r;
                used[r] = true;
                break;
            }
    }
    size_t loose = 0, loose_at = 0;
    for (size_t j = 0; j < nwant; j++) {
        const value *w = value_list_at(want, j);
        if (value_map_get(w, "key"))
            continue;
        for (size_t r = 0; r < nrows; r++)
            if (!used[r] && row_fits(w, value_list_at(rows, r))) {
                pair[j] = r;
                used[r] = true;
                break;
            }
        if (pair[j] == SIZE_MAX) {
            loose++;
            loose_at = j;
        }
    }
    /* One keyless expectation left and one row left (a projection without key has a
     * single row): they are about the same row, so say which columns differ. */
    size_t unused = 0, unused_at = 0;
    for (size_t r = 0; r < nrows; r++)
        if (!used[r]) {
            unused++;
            unused_at = r;
        }
    if (loose == 1 && unused == 1) {
        pair[loose_at] = unused_at;
        used[unused_at] = true;
    }
    for (size_t j = 0; j < nwant; j++) {
        const value *w = value_list_at(want, j);
        const value *wkey = value_map_get(w, "key");
        strbuf what;
        sb_init(&what);
        say_row_name(&what, name, wkey);
        if (pair[j] == SIZE_MAX) {
            sb_addf(why, "  %s: missing: expected ", what.buf);
            say_value(why, w);
            sb_adds(why, ", no such row\n");
            ok = false;
        } else if (!fields_match(w, value_list_at(rows, pair[j]), "key", NULL, why, what.buf)) {
            ok = false;
        }
        sb_done(&what);
    }
    for (size_t r = 0; exact && r < nrows; r++)
        if (!used[r]) {
            sb_addf(why, "  projection %s: extra row ", name);
            say_value(why, value_list_at(rows, r));
            sb_adds(why, "\n");
            ok = false;
        }
    for (size_t i = 0; absent && absent->type == V_LIST && i < value_list_len(absent); i++) {
        const value *k = value_list_at(absent, i);
        for (size_t r = 0; r < nrows; r++) {
            const value *row = value_list_at(rows, r);
            if (same_key(k, value_map_get(row, "key"))) {
                sb_addf(why, "  projection %s: expected no row with key ", name);
                say_value(why, k);
                sb_adds(why, ", got ");
                say_value(why, row);
                sb_adds(why, "\n");
                ok = false;
                break;
            }
        }
    }
    free(used);
    free(pair);
    return ok;
}

static bool check_state(struct store *s, const struct domain *d, const struct scenario_spec *sc,
                        const struct command_spec *cmd, const value *payload, strbuf *why)
{
    const value *want = &sc->then_state;
    const struct aggregate_spec *a = NULL;
    char *id = NULL;
    if (sc->has_when && cmd) {
        a = cmd->aggregate;
        const value *idv = value_map_get(payload, a->id_field);
        if (idv && idv->type == V_STRING)
            id = xstrdup(value_str(idv));
        else if (idv && idv->type == V_INT)
            id = xasprintf("%lld", (long long)idv->u.i);
    } else {
        const value *av = value_map_get(want, "aggregate");
        const value *iv = value_map_get(want, "id");
        if (av && av->type == V_STRING)
            a = domain_aggregate(d, value_str(av));
        if (iv && iv->type == V_STRING)
            id = xstrdup(value_str(iv));
        else if (iv && iv->type == V_INT)
            id = xasprintf("%lld", (long long)iv->u.i);
    }
    if (!a || !id) {
        sb_adds(why,
                "  then.state: cannot tell which aggregate instance (name aggregate and id)\n");
        free(id);
        return false;
    }
    struct agg_state st;
    err e;
    err_clear(&e);
    if (aggregate_load(s, d, a, id, 0, false, &st, &e) != ST_OK) {
        sb_addf(why, "  then.state: %s\n", e.msg);
        free(id);
        return false;
    }
    bool ok = fields_match(want, &st.state, sc->has_when ? NULL : "aggregate",
                           sc->has_when ? NULL : "id", why, "state");
    agg_state_done(&st);
    free(id);
    return ok;
}

/* Folds every projection to the head; any that failed fails the scenario, with its
 * error, whether or not `then` names it: a handler that breaks on the scenario's
 * events is a bug the scenario found. */
static bool projections_run(struct store *s, const struct domain *d, strbuf *why)
{
    if (!d->nprojections)
        return true;
    err e;
    err_clear(&e);
    if (projection_catch_up(s, d, NULL, 0, true, NULL, &e) != ST_OK) {
        sb_addf(why, "  projections: %s\n", e.msg);
        return false;
    }
    struct proj_lag *lags = NULL;
    size_t nlags = 0;
    if (projection_status(s, d, &lags, &nlags, &e) != ST_OK) {
        sb_addf(why, "  projections: %s\n", e.msg);
        return false;
    }
    bool ok = true;
    for (size_t j = 0; j < nlags; j++)
        if (lags[j].status == PROJ_FAILED) {
            sb_addf(why, "  projection %s failed at position %lld: %s\n", lags[j].name,
                    (long long)lags[j].error_position, lags[j].error ? lags[j].error : "");
            ok = false;
        }
    proj_lag_free(lags, nlags);
    return ok;
}

static bool check_projections(struct store *s, const struct domain *d,
                              const struct scenario_spec *sc, strbuf *why)
{
    bool ok = true;
    const value *want = &sc->then_projections;
    for (size_t i = 0; i < value_map_len(want); i++) {
        const char *name = value_str(value_map_key_at(want, i));
        value rows;
        err e;
        err_clear(&e);
        if (projection_query(s, d, name, NULL, 0, 0, 0, &rows, &e) != ST_OK) {
            sb_addf(why, "  projection %s: %s\n", name, e.msg);
            ok = false;
            continue;
        }
        if (!scenario_check_rows(name, value_map_val_at(want, i), &rows, why))
            ok = false;
        value_free(rows);
    }
    return ok;
}

/* What became of the command, for a report: "was accepted", "was rejected: ...". */
static void say_outcome(strbuf *sb, int rc, const struct command_result *res, const err *e)
{
    switch (rc) {
    case ST_OK:
        sb_adds(sb, "was accepted");
        break;
    case ST_REJECTED:
        sb_addf(sb, "was rejected: \"%s\"", res->rejected ? res->rejected : "");
        if (res->explanation)
            sb_addf(sb, " (%s)", res->explanation);
        break;
    case ST_CONFLICT:
        sb_addf(sb, "conflicted: %s", e->msg);
        break;
    default:
        sb_addf(sb, "failed: %s", e->msg);
        break;
    }
}

/* The command's clock: its own `time`, else STRATA_NOW, else a second after the
 * last given event. An explicit `time` wins over STRATA_NOW because a scenario
 * that names its instant asserts something about that instant. */
static int64_t command_clock(const struct scenario_spec *sc, const struct scenario_options *opt,
                             int64_t last_given_ms)
{
    if (sc->has_when_time)
        return sc->when_time_ms;
    if (opt && opt->has_now)
        return opt->now_ms;
    return last_given_ms + 1000;
}

/* Runs `when` and compares its outcome with rejected / invalid / success. Returns
 * false when the outcome was not the one expected; *payload is the validated
 * payload (or a copy of the raw one when it was refused). */
static bool run_when(struct store *s, const struct domain *d, const struct scenario_spec *sc,
                     const struct command_spec *cmd, int64_t now_ms, value *payload,
                     struct command_result *res, strbuf *report)
{
    err e;
    err_clear(&e);
    /* Validating first tells a refused payload from a failing command. */
    if (command_validate_payload(cmd, &sc->when_payload, payload, &e) != ST_OK) {
        *payload = value_ref(&sc->when_payload);
        if (!sc->then_invalid) {
            sb_addf(report, "  the payload was refused: %s\n", e.msg);
            return false;
        }
        if (!strstr(e.msg, sc->then_invalid)) {
            sb_addf(report, "  expected the payload to be refused with \"%s\", got: %s\n",
                    sc->then_invalid, e.msg);
            return false;
        }
        return true;
    }
    struct command_request req;
    memset(&req, 0, sizeof req);
    req.command = cmd;
    req.payload = sc->when_payload;
    req.expected_version =
        sc->has_when_expect_version ? sc->when_expect_version : STORE_ANY_VERSION;
    req.now_ms = now_ms;
    int rc = command_execute(s, d, &req, res, &e);
    if (sc->then_invalid) {
        sb_addf(
            report,
            "  expected the payload to be refused with \"%s\", but it was valid and the command ",
            sc->then_invalid);
        say_outcome(report, rc, res, &e);
        sb_adds(report, "\n");
        return false;
    }
    if (sc->then_rejected) {
        if (rc == ST_REJECTED && strcmp(res->rejected, sc->then_rejected) == 0) {
            if (!res->appended.len)
                return true;
            sb_adds(report, "  rejected, yet events were appended\n");
            return false;
        }
        sb_addf(report, "  expected rejection \"%s\", but the command ", sc->then_rejected);
        say_outcome(report, rc, res, &e);
        sb_adds(report, "\n");
        return false;
    }
    if (rc != ST_OK) {
        sb_adds(report, "  the command ");
        say_outcome(report, rc, res, &e);
        sb_adds(report, "\n");
        return false;
    }
    return true;
}

int scenario_run(const struct domain *d, const struct scenario_spec *sc,
                 const struct scenario_options *opt, strbuf *report)
{
    struct store_options sopt = STORE_OPTIONS_DEFAULT;
    sopt.synchronous = 0;
    err e;
    err_clear(&e);
    struct store *s = store_open(":memory:", &sopt, &e);
    if (!s) {
        sb_addf(report, "  cannot open an in-memory store: %s\n", e.msg);
        return ST_ERR;
    }
    int64_t last_ms = 0;
    if (given_events(s, d, sc, &last_ms, report) != ST_OK) {
        store_close(s);
        return ST_ERR;
    }
    bool ok = true;
    const struct command_spec *cmd = NULL;
    value payload = value_null();
    struct command_result res;
    command_result_init(&res);
    if (sc->has_when) {
        cmd = domain_command(d, sc->when_command);
        if (!cmd) {
            sb_addf(report, "  when: no command '%s'\n", sc->when_command);
            ok = false;
        } else {
            ok = run_when(s, d, sc, cmd, command_clock(sc, opt, last_ms), &payload, &res, report);
        }
    }
    /* Each expectation is checked and reported, so one run shows every difference;
     * after an unexpected outcome only a failing projection is worth adding. */
    bool outcome_ok = ok;
    if (outcome_ok && sc->has_then_events && !check_events(&sc->then_events, &res.appended, report))
        ok = false;
    if (outcome_ok && sc->has_then_state && !check_state(s, d, sc, cmd, &payload, report))
        ok = false;
    if (!projections_run(s, d, report))
        ok = false;
    if (outcome_ok && sc->has_then_projections && !check_projections(s, d, sc, report))
        ok = false;
    command_result_done(&res);
    value_free(payload);
    store_close(s);
    return ok ? ST_OK : ST_ERR;
}
