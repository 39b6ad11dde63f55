/* view_form.c: the command form: one input per payload field, typed by the
 * command's schema, defaults filled in, each field checked as it is typed
 * (command_payload_from_args for the type, field_check for the constraints), and
 * beside it what the command would do (form_preview.c).
 *
 * Typing is a mode (vim's way): Enter, e or i on a field starts editing it, shown
 * by "-- EDIT --" and the cursor; Enter or Esc ends it (Esc restores the field).
 * Outside it every key means what it means everywhere (`:` the palette, `q`
 * quits), so a key meant for the workbench never lands in a field. A command is
 * sent only by `s`, outside editing, with every field on screen: what is sent is
 * what the user sees, and the preview says it before. */
#include <stdio.h>

#include "core/domain_schema.h"
#include "core/json.h"
#include "core/record.h"
#include "tui/command_log.h"
#include "tui/form_preview.h"
#include "tui/lines.h"
#include "tui/tui.h"

struct form_view {
    const struct command_spec *cmd;
    char **text;    /* per field, what is typed */
    char **problem; /* per field, what is wrong (NULL when fine) */
    size_t nfields;
    size_t focus;
    bool editing;
    char *saved;      /* the field as it was when editing started (Esc restores it) */
    bool all_visible; /* every field was on screen at the last draw */
    struct lines result;
    struct scroll rsc;
    struct lines preview;
    bool preview_dirty;
    uint64_t preview_gen;
};

static void form_clear(struct form_view *fv)
{
    for (size_t i = 0; i < fv->nfields; i++) {
        free(fv->text[i]);
        free(fv->problem[i]);
    }
    free(fv->text);
    free(fv->problem);
    fv->text = fv->problem = NULL;
    fv->nfields = 0;
    fv->focus = 0;
    fv->cmd = NULL;
    fv->editing = false;
    free(fv->saved);
    fv->saved = NULL;
    lines_clear(&fv->result);
    lines_clear(&fv->preview);
    fv->preview_dirty = true;
}

static void form_open(struct view *v)
{
    struct form_view *fv = xcalloc(1, sizeof *fv);
    lines_init(&fv->result);
    lines_init(&fv->preview);
    v->priv = fv;
}

static void form_close(struct view *v)
{
    struct form_view *fv = v->priv;
    form_clear(fv);
    lines_done(&fv->result);
    lines_done(&fv->preview);
    free(fv);
}

/* Checks one field as typed; sets fv->problem[i]. */
static void form_check(struct form_view *fv, size_t i)
{
    const struct field_spec *f = &fv->cmd->payload[i];
    fv->preview_dirty = true;
    free(fv->problem[i]);
    fv->problem[i] = NULL;
    if (fv->text[i][0] == 0) {
        if (f->required)
            fv->problem[i] = xstrdup("required");
        return;
    }
    char *arg = xasprintf("%s=%s", f->name, fv->text[i]);
    value pl;
    err e;
    err_clear(&e);
    if (command_payload_from_args(fv->cmd, &arg, 1, &pl, &e) != ST_OK) {
        fv->problem[i] = xstrdup(e.msg);
    } else {
        const value *fvv = value_map_get(&pl, f->name);
        err_clear(&e);
        if (fvv && field_check(f, fvv, &e) != ST_OK)
            fv->problem[i] = xstrdup(e.msg);
        value_free(pl);
    }
    free(arg);
}

/* Loads a command into the form; args are field=value words. */
static int form_set_command(struct view *v, const struct command_spec *c, const char *const *args,
                            int nargs, err *e)
{
    struct form_view *fv = v->priv;
    form_clear(fv);
    fv->cmd = c;
    fv->nfields = c->npayload;
    fv->text = xcalloc(c->npayload + 1, sizeof *fv->text);
    fv->problem = xcalloc(c->npayload + 1, sizeof *fv->problem);
    for (size_t i = 0; i < c->npayload; i++) {
        const struct field_spec *f = &c->payload[i];
        fv->text[i] = f->has_default ? tui_value_text(&f->def) : xstrdup("");
    }
    int rc = ST_OK;
    for (int k = 0; k < nargs; k++) {
        const char *eq = strchr(args[k], '=');
        if (!eq) {
            rc = err_set(e, ST_USAGE, "%s: '%s' is not field=value", c->name, args[k]);
            continue;
        }
        size_t n = (size_t)(eq - args[k]);
        size_t i = 0;
        while (i < c->npayload &&
               !(strlen(c->payload[i].name) == n && strncmp(c->payload[i].name, args[k], n) == 0))
            i++;
        if (i == c->npayload) {
            char *word = xstrndup(args[k], n);
            const char *dym = fields_did_you_mean(c->payload, c->npayload, word);
            rc = err_set(e, ST_USAGE, "%s has no field '%s'%s%s%s", c->name, word,
                         dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
            free(word);
            continue;
        }
        free(fv->text[i]);
        fv->text[i] = xstrdup(eq + 1);
    }
    for (size_t i = 0; i < fv->nfields; i++)
        form_check(fv, i);
    /* Start where typing is needed: the first field with a problem. */
    for (size_t i = 0; i < fv->nfields; i++)
        if (fv->problem[i]) {
            fv->focus = i;
            break;
        }
    return rc;
}

/* The message line after a failed submit: core's messages often name the
 * command already ("Deposit: field 'amount': ..."), so it is not said twice. */
static void form_error(struct tui *app, const char *name, const char *msg)
{
    size_t n = strlen(name);
    if (strncmp(msg, name, n) == 0 && msg[n] == ':')
        tui_error(app, "%s", msg);
    else
        tui_error(app, "%s: %s", name, msg);
}

/* :record is on: the command sent becomes a scenario in the file. */
static void form_record(struct tui *app, struct form_view *fv, const struct command_request *req,
                        int rc, const struct command_result *res)
{
    struct record_info info = {app->domain_path, "the workbench", app->runner == NULL, 0};
    char *name = NULL;
    err e;
    err_clear(&e);
    if (record_scenario(app->store, app->domain, app->record_path, req, rc, res, &info, &name,
                        &e) == ST_OK) {
        lines_add(&fv->result, tui_attr(TC_DIM), "Recorded in %s as \"%s\".", app->record_path,
                  name);
        app->recorded++;
    } else {
        lines_add(&fv->result, tui_attr(TC_ERROR), "Not recorded: %s", e.msg);
    }
    free(name);
}

/* Submits the form; command_id may be NULL. */
static void form_submit(struct view *v, const char *command_id)
{
    struct form_view *fv = v->priv;
    struct tui *app = v->app;
    if (!fv->cmd) {
        tui_error(app, "No command chosen: pick one in the domain view (1), or :exec COMMAND ...");
        return;
    }
    lines_clear(&fv->result);
    fv->rsc.top = fv->rsc.cur = 0;
    attr_t bad = tui_attr(TC_ERROR);
    char **args = xcalloc(fv->nfields + 1, sizeof *args);
    int n = 0;
    for (size_t i = 0; i < fv->nfields; i++)
        if (fv->text[i][0])
            args[n++] = xasprintf("%s=%s", fv->cmd->payload[i].name, fv->text[i]);
    value payload;
    err e;
    err_clear(&e);
    int rc = command_payload_from_args(fv->cmd, args, n, &payload, &e);
    for (int i = 0; i < n; i++)
        free(args[i]);
    free(args);
    if (rc != ST_OK) {
        lines_add(&fv->result, bad, "Not sent: %s", e.msg);
        form_error(app, fv->cmd->name, e.msg);
        return;
    }
    /* Commands act on the present; showing their result in the past would lie.
     * Leaving the past is said on the status line, not done silently. */
    char past[96] = "";
    if (app->as_of) {
        snprintf(past, sizeof past, " (sent at the head: left \"as of #%lld\" for live)",
                 (long long)app->as_of);
        tui_goto(app, 0);
    }
    struct command_request req;
    memset(&req, 0, sizeof req);
    req.command = fv->cmd;
    req.payload = payload;
    req.command_id = command_id;
    req.expected_version = STORE_ANY_VERSION;
    req.now_ms = app->now_ms;
    if (app->record_path && !req.now_ms) /* the clock the recorded scenario keeps */
        req.now_ms = time_now_ms();
    char *title = xasprintf("form: %s", fv->cmd->name); /* the Log view's entry */
    req.narrate = command_log_begin(app, title);
    free(title);
    struct command_result res;
    command_result_init(&res);
    err_clear(&e);
    rc = command_execute(app->store, app->domain, &req, &res, &e);

    if (rc == ST_OK) {
        if (res.duplicate)
            lines_add(&fv->result, tui_attr(TC_OK),
                      "Already done: command id %s was seen before; it had appended:", command_id);
        else
            lines_add(&fv->result, tui_attr(TC_OK), "%s: appended %zu event%s:", fv->cmd->name,
                      res.appended.len, res.appended.len == 1 ? "" : "s");
        for (size_t i = 0; i < res.appended.len; i++) {
            const struct event *ev = &res.appended.items[i];
            lines_add(&fv->result, 0, "  #%lld %s v%lld %s %s", (long long)ev->position, ev->stream,
                      (long long)ev->version, ev->type, ev->data);
        }
        if (res.appended.len == 0)
            lines_add(&fv->result, tui_attr(TC_DIM), "  (no events: nothing to record)");
        tui_message(app, "%s: %zu event%s appended%s", fv->cmd->name, res.appended.len,
                    res.appended.len == 1 ? "" : "s", past);
        if (app->runner)
            projection_runner_poke(app->runner);
        tui_poll(app, false);
        tui_changed(app);
        command_log_end(app, rc,
                        res.appended.len ? res.appended.items[res.appended.len - 1].position : 0);
    } else if (rc == ST_REJECTED) {
        lines_add(&fv->result, bad, "Rejected: %s", res.rejected ? res.rejected : e.msg);
        if (res.explanation)
            lines_add(&fv->result, 0, "Why: %s", res.explanation);
        lines_add(&fv->result, tui_attr(TC_DIM), "Nothing was appended.");
        tui_error(app, "%s rejected: %s%s", fv->cmd->name, res.rejected ? res.rejected : e.msg,
                  past);
    } else {
        lines_add(&fv->result, bad, "Failed: %s", e.msg[0] ? e.msg : "error");
        form_error(app, fv->cmd->name, e.msg[0] ? e.msg : "failed");
    }
    if (rc != ST_OK)
        command_log_end(app, rc, 0);
    if (app->record_path && (rc == ST_OK || rc == ST_REJECTED) && !res.duplicate)
        form_record(app, fv, &req, rc, &res);
    value_free(payload);
    command_result_done(&res);
    fv->preview_dirty = true;
}

/* One field's row: the marker, name, type, the input box and its check. */
static void draw_field_row(struct view *v, size_t i, int y, int x0, int w, int lw, int iw)
{
    struct form_view *fv = v->priv;
    struct tui *app = v->app;
    const struct field_spec *f = &fv->cmd->payload[i];
    bool focus = i == fv->focus;
    bool editing = focus && fv->editing;
    int x = x0;
    x += draw_str(y, x, 2, focus ? "> " : "  ", tui_attr(TC_KEY));
    draw_fmt(y, x, lw + 1, tui_attr(TC_LABEL), "%-*s", lw, f->name);
    x += lw + 1;
    draw_fmt(y, x, 10, tui_attr(TC_DIM), "%-9s", ftype_name(f->type));
    x += 10;
    /* The input: the end of the text when it is longer than the box. */
    const char *t = fv->text[i];
    int tw = text_width(t);
    while (tw > iw - 1 && *t) {
        t++;
        while ((*t & 0xC0) == 0x80)
            t++;
        tw = text_width(t);
    }
    /* Brackets so that the box shows without colour too; braces while editing. */
    draw_str(y, x, 1, editing ? "{" : "[", tui_attr(TC_DIM));
    draw_field(y, x + 1, iw, t, tui_attr(editing ? TC_FIELD_FOCUS : TC_FIELD));
    draw_str(y, x + 1 + iw, 1, editing ? "}" : "]", tui_attr(TC_DIM));
    if (editing) {
        app->cursor_y = y;
        app->cursor_x = x + 1 + tw;
    }
    x += iw + 3;
    int rest = x0 + w - x;
    if (rest <= 0)
        return;
    if (fv->problem[i]) {
        /* The row already names the field: "field 'amount': " would repeat it. */
        const char *msg = fv->problem[i];
        char prefix[160];
        snprintf(prefix, sizeof prefix, "field '%s': ", f->name);
        if (strncmp(msg, prefix, strlen(prefix)) == 0)
            msg += strlen(prefix);
        draw_fmt(y, x, rest, tui_attr(TC_ERROR), "%s %s", tui_utf8() ? "\xe2\x9c\x97" : "x", msg);
    } else {
        draw_fmt(y, x, rest, tui_attr(TC_OK), "%s%s", tui_utf8() ? "\xe2\x9c\x93" : "ok",
                 fv->text[i][0] ? "" : " (optional)");
    }
}

static void form_draw(struct view *v, struct area a)
{
    struct form_view *fv = v->priv;
    struct tui *app = v->app;
    if (!fv->cmd) {
        draw_str(a.y, a.x, a.w, "Command form", tui_attr(TC_TITLE));
        draw_str(a.y + 2, a.x + 2, a.w - 2,
                 "No command chosen. In the domain view (1) move to a command and press Enter,",
                 tui_attr(TC_DIM));
        draw_str(a.y + 3, a.x + 2, a.w - 2,
                 "or type :exec COMMAND field=value ... (Tab completes).", tui_attr(TC_DIM));
        return;
    }
    int x = a.x;
    if (fv->editing)
        x += draw_str(a.y, x, a.w, "-- EDIT -- ", tui_attr(TC_KEY));
    draw_fmt(a.y, x, a.x + a.w - x, tui_attr(TC_TITLE), "%s on %s  %s", fv->cmd->name,
             fv->cmd->aggregate ? fv->cmd->aggregate->name : "?",
             fv->editing ? "(Enter ends, Esc restores, Tab next field)"
                         : "(Enter edits, s sends, Esc leaves)");
    if (fv->preview_dirty || fv->preview_gen != app->generation) {
        form_preview_build(app, fv->cmd, fv->text, fv->nfields, &fv->preview);
        fv->preview_dirty = false;
        fv->preview_gen = app->generation;
    }
    /* Wide: the preview beside the fields; narrow: below them. */
    bool wide = a.w >= 110;
    int fw = wide ? a.w * 11 / 20 : a.w;
    int lw = 6;
    for (size_t i = 0; i < fv->nfields; i++) {
        int w = text_width(fv->cmd->payload[i].name);
        if (w > lw)
            lw = w;
    }
    if (lw > 20)
        lw = 20;
    int iw = fw - lw - 14 - 36;
    if (iw < 12)
        iw = 12;
    if (iw > 40)
        iw = 40;
    int y = a.y + 2;
    fv->all_visible = true;
    for (size_t i = 0; i < fv->nfields; i++, y++) {
        if (y >= a.y + a.h) {
            fv->all_visible = false;
            break;
        }
        draw_field_row(v, i, y, a.x, fw, lw, iw);
    }
    y++;
    struct scroll psc = {0, 0};
    if (wide) {
        struct area pa = {a.y + 2, a.x + fw + 1, a.h - 2, a.w - fw - 1};
        lines_draw_page(&fv->preview, &psc, pa);
    } else if (y < a.y + a.h) {
        int ph = (int)fv->preview.len;
        if (ph > a.y + a.h - y)
            ph = a.y + a.h - y;
        struct area pa = {y, a.x, ph, a.w};
        lines_draw_page(&fv->preview, &psc, pa);
        y += ph + 1;
    }
    if (fv->result.len && y < a.y + a.h) {
        struct area ra = {y, a.x, a.y + a.h - y, fw};
        lines_draw_page(&fv->result, &fv->rsc, ra);
    }
}

/* The words: a command, field=value words, then --submit to send it at once
 * (with --id ID, its command id). */
static int form_open_with(struct view *v, int argc, const char *const *argv, err *e)
{
    if (argc < 1)
        return err_set(e, ST_USAGE, "the form takes a command");
    const struct command_spec *c = domain_command(v->app->domain, argv[0]);
    if (!c)
        return err_set(e, ST_USAGE, "no command '%s'", argv[0]);
    const char **fields = xcalloc((size_t)argc, sizeof *fields);
    int nfields = 0;
    bool submit = false;
    const char *id = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--submit") == 0)
            submit = true;
        else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc)
            id = argv[++i];
        else
            fields[nfields++] = argv[i];
    }
    int rc = form_set_command(v, c, fields, nfields, e);
    free(fields);
    if (rc != ST_OK)
        return rc;
    if (submit)
        form_submit(v, id);
    return ST_OK;
}

static void edit_start(struct form_view *fv)
{
    if (!fv->cmd || fv->focus >= fv->nfields)
        return;
    fv->editing = true;
    free(fv->saved);
    fv->saved = xstrdup(fv->text[fv->focus]);
}

static void edit_end(struct form_view *fv, bool restore)
{
    if (restore && fv->saved && fv->focus < fv->nfields) {
        free(fv->text[fv->focus]);
        fv->text[fv->focus] = fv->saved;
        fv->saved = NULL;
        form_check(fv, fv->focus);
    }
    free(fv->saved);
    fv->saved = NULL;
    fv->editing = false;
}

static void focus_move(struct form_view *fv, int by)
{
    if (!fv->nfields)
        return;
    bool was = fv->editing;
    if (was)
        edit_end(fv, false);
    fv->focus = (fv->focus + (by > 0 ? 1 : fv->nfields - 1)) % fv->nfields;
    if (was)
        edit_start(fv);
}

static enum request form_request(struct view *v, enum request req)
{
    struct form_view *fv = v->priv;
    switch (req) {
    case REQ_FORM_NEXT_FIELD:
        focus_move(fv, 1);
        break;
    case REQ_FORM_PREV_FIELD:
        focus_move(fv, -1);
        break;
    case REQ_FORM_EDIT:
        if (!fv->cmd)
            tui_error(v->app, "No command chosen: pick one in the domain view (1)");
        edit_start(fv);
        break;
    case REQ_FORM_SUBMIT:
        if (fv->cmd && !fv->all_visible) {
            /* Sending values the user cannot see is how a form surprises. */
            tui_error(v->app, "Not sent: some fields are off screen (z zooms, or a taller "
                              "terminal); s sends only what is shown");
            break;
        }
        form_submit(v, NULL);
        break;
    case REQ_FORM_CLEAR_FIELD:
        if (fv->focus < fv->nfields) {
            fv->text[fv->focus][0] = 0;
            form_check(fv, fv->focus);
        }
        break;
    case REQ_FORM_LEAVE:
        tui_show(v->app, VIEW_DOMAIN);
        break;
    default:
        return req;
    }
    return REQ_NONE;
}

static bool form_typing(struct view *v)
{
    struct form_view *fv = v->priv;
    return fv->editing;
}

/* Keys while editing (form_typing); outside editing nothing is typed. */
static bool form_key(struct view *v, int key)
{
    struct form_view *fv = v->priv;
    if (!fv->editing || !fv->cmd || fv->focus >= fv->nfields)
        return false;
    char *t = fv->text[fv->focus];
    size_t n = strlen(t);
    switch (key) {
    case '\n':
    case '\r':
    case KEY_ENTER:
        edit_end(fv, false);
        return true;
    case 27: /* Esc */
    case 3:  /* C-c: cancels, as in every shell and editor */
    case 7:  /* C-g */
        edit_end(fv, true);
        tui_message(v->app, "Edit cancelled: the field is as it was");
        return true;
    case '\t':
    case KEY_DOWN:
        focus_move(fv, 1);
        return true;
    case KEY_BTAB:
    case KEY_UP:
        focus_move(fv, -1);
        return true;
    case 21: /* C-u */
        t[0] = 0;
        break;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        while (n > 0) {
            n--;
            if ((t[n] & 0xC0) != 0x80)
                break;
        }
        t[n] = 0;
        break;
    default:
        if (key < 32 || key >= 256)
            return false;
        t = xrealloc(t, n + 2);
        t[n] = (char)key;
        t[n + 1] = 0;
        fv->text[fv->focus] = t;
        break;
    }
    /* A multibyte character arrives a byte at a time: check once it is whole. */
    form_check(fv, fv->focus);
    return true;
}

static void form_click(struct view *v, int row)
{
    struct form_view *fv = v->priv;
    if (row >= 2 && (size_t)(row - 2) < fv->nfields) {
        if (fv->editing)
            edit_end(fv, false);
        fv->focus = (size_t)(row - 2);
    }
}

const struct view_ops view_form_ops = {
    .keymap = KM_FORM,
    .typing = form_typing,
    .open = form_open,
    .close = form_close,
    .draw = form_draw,
    .request = form_request,
    .key = form_key,
    .open_with = form_open_with,
    .click = form_click,
};
