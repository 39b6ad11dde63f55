/* scenario.c: given events are appended as stored (schema as given, so upcasting is
 * exercised), the `when` command runs through command_execute exactly as `strata
 * exec` would, and `then` is compared field by field: the events exactly, the state
 * and projection rows only in the fields named. */
#include "scenario.h"

#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "json.h"
#include "projection.h"
#include "store.h"

/* Given events get times one second apart from a fixed start, unless they carry
 * their own, so scenarios never depend on the clock. */
#define SCENARIO_EPOCH_MS 1795000000000LL /* 2026-11-18T... */

static void say_value(strbuf *sb, const value *v)
{
    json_write(sb, v);
}

static int given_events(struct store *s, const struct domain *d, const struct scenario_spec *sc,
                        strbuf *report)
{
    for (size_t i = 0; i < sc->ngiven; i++) {
        const struct scenario_event *g = &sc->given[i];
        const struct event_spec *spec = domain_event(d, g->type);
        char time_text[TIME_TEXT_LEN + 1];
        time_format_ms(SCENARIO_EPOCH_MS + (int64_t)i * 1000, time_text);
        char *data = json_to_string(&g->data);
        struct new_event ev = {g->type, g->schema > 0 ? g->schema : (spec ? spec->version : 1),
                               g->time ? g->time : time_text, data, NULL};
        err e;
        err_clear(&e);
        int rc = store_append(s, g->stream, STORE_ANY_VERSION, NULL, &ev, 1, NULL, &e);
        free(data);
        if (rc != ST_OK) {
            sb_addf(report, "given[%zu]: cannot append: %s\n", i, e.msg);
            return ST_ERR;
        }
    }
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
            json_error je;
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
        sb_adds(why, "  then.state: cannot tell which aggregate instance (name aggregate and id)\n");
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

static bool check_projections(struct store *s, const struct domain *d,
                              const struct scenario_spec *sc, strbuf *why)
{
    err e;
    err_clear(&e);
    if (projection_catch_up(s, d, NULL, 0, true, NULL, &e) != ST_OK) {
        sb_addf(why, "  projections: %s\n", e.msg);
        return false;
    }
    bool ok = true;
    const value *want = &sc->then_projections;
    for (size_t i = 0; i < value_map_len(want); i++) {
        const char *name = value_str(value_map_key_at(want, i));
        const value *rows_want = value_map_val_at(want, i);
        const struct projection_spec *p = domain_projection(d, name);
        value rows;
        if (projection_query(s, d, name, NULL, 0, 0, 0, &rows, &e) != ST_OK) {
            sb_addf(why, "  projection %s: %s\n", name, e.msg);
            ok = false;
            continue;
        }
        struct proj_lag *lags = NULL;
        size_t nlags = 0;
        if (projection_status(s, d, &lags, &nlags, &e) == ST_OK) {
            for (size_t j = 0; j < nlags; j++)
                if (strcmp(lags[j].name, name) == 0 && lags[j].status == PROJ_FAILED) {
                    sb_addf(why, "  projection %s failed at position %lld: %s\n", name,
                            (long long)lags[j].error_position, lags[j].error ? lags[j].error : "");
                    ok = false;
                }
            proj_lag_free(lags, nlags);
        }
        for (size_t j = 0; rows_want->type == V_LIST && j < value_list_len(rows_want); j++) {
            const value *w = value_list_at(rows_want, j);
            const value *wkey = w->type == V_MAP ? value_map_get(w, "key") : NULL;
            const value *found = NULL;
            for (size_t r = 0; r < value_list_len(&rows); r++) {
                const value *row = value_list_at(&rows, r);
                if (!p || !p->key) {
                    found = row;
                    break;
                }
                const value *rk = value_map_get(row, "key");
                if (wkey && rk && (value_equal(wkey, rk) ||
                                   (wkey->type == V_INT && rk->type == V_STRING &&
                                    atoll(value_str(rk)) == wkey->u.i))) {
                    found = row;
                    break;
                }
            }
            strbuf what;
            sb_init(&what);
            sb_addf(&what, "%s", name);
            if (wkey) {
                sb_adds(&what, "[key ");
                say_value(&what, wkey);
                sb_adds(&what, "]");
            }
            if (!found) {
                sb_addf(why, "  projection %s: no such row\n", what.buf);
                ok = false;
            } else if (!fields_match(w, found, "key", NULL, why, what.buf)) {
                ok = false;
            }
            sb_done(&what);
        }
        value_free(rows);
    }
    return ok;
}

int scenario_run(const struct domain *d, const struct scenario_spec *sc, strbuf *report)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.synchronous = 0;
    err e;
    err_clear(&e);
    struct store *s = store_open(":memory:", &opt, &e);
    if (!s) {
        sb_addf(report, "  cannot open an in-memory store: %s\n", e.msg);
        return ST_ERR;
    }
    bool ok = given_events(s, d, sc, report) == ST_OK;
    const struct command_spec *cmd = NULL;
    value payload = value_null();
    struct command_result res;
    command_result_init(&res);
    if (ok && sc->has_when) {
        cmd = domain_command(d, sc->when_command);
        if (!cmd) {
            sb_addf(report, "  when: no command '%s'\n", sc->when_command);
            ok = false;
        } else {
            struct command_request req;
            memset(&req, 0, sizeof req);
            req.command = cmd;
            req.payload = sc->when_payload;
            req.expected_version = STORE_ANY_VERSION;
            req.now_ms = SCENARIO_EPOCH_MS + (int64_t)sc->ngiven * 1000;
            int rc = command_execute(s, d, &req, &res, &e);
            command_validate_payload(cmd, &sc->when_payload, &payload, &e);
            if (sc->then_rejected) {
                if (rc != ST_REJECTED) {
                    sb_addf(report, "  expected rejection \"%s\", but the command %s\n",
                            sc->then_rejected, rc == ST_OK ? "was accepted" : "failed:");
                    if (rc != ST_OK)
                        sb_addf(report, "    %s\n", e.msg);
                    ok = false;
                } else if (strcmp(res.rejected, sc->then_rejected) != 0) {
                    sb_addf(report, "  expected rejection \"%s\", got \"%s\"\n",
                            sc->then_rejected, res.rejected);
                    ok = false;
                } else if (res.appended.len) {
                    sb_adds(report, "  rejected, yet events were appended\n");
                    ok = false;
                }
            } else if (rc == ST_REJECTED) {
                sb_addf(report, "  the command was rejected: %s (%s)\n", res.rejected,
                        res.explanation ? res.explanation : "");
                ok = false;
            } else if (rc != ST_OK) {
                sb_addf(report, "  the command failed: %s\n", e.msg);
                ok = false;
            }
        }
    }
    if (ok && sc->has_then_events && !check_events(&sc->then_events, &res.appended, report))
        ok = false;
    if (ok && sc->has_then_state && !check_state(s, d, sc, cmd, &payload, report))
        ok = false;
    if (ok && sc->has_then_projections && !check_projections(s, d, sc, report))
        ok = false;
    command_result_done(&res);
    value_free(payload);
    store_close(s);
    return ok ? ST_OK : ST_ERR;
}
