/* form_preview.c: the command form's live preview (form_preview.h). The rules are
 * evaluated one by one here (core stops at the first that fails; a person typing
 * wants to see all of them), and the events come from command_preview, the same
 * decision command_execute makes, so the preview cannot disagree with a submit. */
#include "tui/form_preview.h"

#include <stdio.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/expr.h"
#include "core/json.h"
#include "tui/tui.h"

static const char *mark(bool ok)
{
    if (tui_utf8())
        return ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97";
    return ok ? "ok" : "x";
}

/* The payload as typed, parsed by the schema; false (and a reason) when a field
 * does not parse. */
static bool typed_payload(const struct command_spec *c, char *const *text, size_t n, value *out,
                          err *e)
{
    char **args = xcalloc(n + 1, sizeof *args);
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (text[i][0])
            args[k++] = xasprintf("%s=%s", c->payload[i].name, text[i]);
    int rc = command_payload_from_args(c, args, k, out, e);
    for (int i = 0; i < k; i++)
        free(args[i]);
    free(args);
    return rc == ST_OK;
}

bool form_preview_build(struct tui *app, const struct command_spec *c, char *const *text, size_t n,
                        struct lines *out)
{
    lines_clear(out);
    attr_t title = tui_attr(TC_LABEL), dim = tui_attr(TC_DIM);
    attr_t good = tui_attr(TC_OK), bad = tui_attr(TC_ERROR);
    err e;
    err_clear(&e);
    value typed;
    if (!typed_payload(c, text, n, &typed, &e)) {
        lines_add(out, title, "Will send: nothing yet");
        lines_add(out, bad, "  %s", e.msg);
        return false;
    }
    value payload;
    err_clear(&e);
    bool valid = command_validate_payload(c, &typed, &payload, &e) == ST_OK;
    value_free(typed);
    if (!valid) {
        lines_add(out, title, "Will send: nothing yet");
        lines_add(out, bad, "  %s", e.msg);
        return false;
    }
    char *json = json_to_string(&payload);
    lines_add(out, title, "s sends %s %s", c->name, json);
    free(json);

    struct command_request req;
    memset(&req, 0, sizeof req);
    req.command = c;
    req.payload = payload;
    req.expected_version = STORE_ANY_VERSION;
    req.now_ms = app->now_ms;
    struct command_result res;
    command_result_init(&res);
    struct agg_state st;
    err_clear(&e);
    int rc = command_preview(app->store, app->domain, &req, &st, &res, &e);

    /* Each rule against the state at the head, as a submit would decide. */
    if (c->nrequire)
        lines_add(out, title, "Rules (against %s v%lld, now):", c->aggregate->name,
                  (long long)st.version);
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_PAYLOAD] = payload;
    vars.roots[ROOT_STATE] = st.state;
    vars.now_ms = app->now_ms ? app->now_ms : time_now_ms();
    for (size_t i = 0; i < c->nrequire && st.state.type == V_MAP; i++) {
        const struct rule_spec *r = &c->require[i];
        bool ok = false;
        err re;
        err_clear(&re);
        if (expr_eval_bool(r->rule, &vars, &ok, &re) != ST_OK) {
            lines_add(out, bad, "  ? %s  (%s)", expr_source(r->rule), re.msg);
            continue;
        }
        if (ok) {
            lines_add(out, good, "  %s %s", mark(ok), expr_source(r->rule));
        } else {
            lines_add(out, bad, "  %s %s: %s", mark(ok), expr_source(r->rule), r->message);
            strbuf sb;
            sb_init(&sb);
            expr_explain(r->rule, &vars, &sb);
            lines_add(out, dim, "      %s", sb.buf);
            sb_done(&sb);
        }
    }
    if (rc == ST_OK) {
        lines_add(out, title, "Would append %zu event%s:", res.appended.len,
                  res.appended.len == 1 ? "" : "s");
        for (size_t i = 0; i < res.appended.len; i++) {
            const struct event *ev = &res.appended.items[i];
            lines_add(out, 0, "  %s v%lld %s %s", ev->stream, (long long)ev->version, ev->type,
                      ev->data);
        }
        if (res.appended.len == 0)
            lines_add(out, dim, "  (none: nothing to record)");
    } else if (rc == ST_REJECTED) {
        lines_add(out, bad, "Would be rejected: %s", res.rejected ? res.rejected : e.msg);
        if (res.explanation)
            lines_add(out, dim, "  %s", res.explanation);
    } else {
        lines_add(out, bad, "Would fail: %s", e.msg);
    }
    agg_state_done(&st);
    command_result_done(&res);
    value_free(payload);
    return true;
}
