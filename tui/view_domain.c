/* view_domain.c: the domain model as a browsable outline: aggregates with their
 * state, invariants, commands (payload fields and their constraints) and events
 * (fields, versions, upcasts), then projections. Enter on a command opens its
 * form. */
#include <stdio.h>

#include "core/json.h"
#include "tui/lines.h"
#include "tui/tui.h"

struct domain_view {
    struct lines lines;
    const struct command_spec **cmd; /* per line: the command it names, or NULL */
    size_t cmd_cap;
    struct scroll sc;
};

/* "amount int min 1", "reason string = \"customer request\"" */
static void field_text(strbuf *sb, const struct field_spec *f)
{
    sb_addf(sb, "%s %s", f->name, ftype_name(f->type));
    if (f->has_default) {
        sb_adds(sb, " = ");
        json_write(sb, &f->def);
    }
    if (f->optional)
        sb_adds(sb, " optional");
    if (f->has_min) {
        sb_adds(sb, " min ");
        json_write(sb, &f->min);
    }
    if (f->has_max) {
        sb_adds(sb, " max ");
        json_write(sb, &f->max);
    }
    if (f->min_length >= 0)
        sb_addf(sb, " min_length %lld", (long long)f->min_length);
    if (f->max_length >= 0)
        sb_addf(sb, " max_length %lld", (long long)f->max_length);
    if (f->pattern)
        sb_addf(sb, " pattern %s", f->pattern);
    if (f->enum_values.type == V_LIST) {
        sb_adds(sb, " enum ");
        json_write(sb, &f->enum_values);
    }
}

static void add_line(struct domain_view *dv, const struct command_spec *c, attr_t attr,
                     const char *text)
{
    lines_add(&dv->lines, attr, "%s", text);
    if (dv->lines.len > dv->cmd_cap) {
        dv->cmd_cap = dv->lines.cap;
        dv->cmd = xrealloc(dv->cmd, dv->cmd_cap * sizeof *dv->cmd);
    }
    dv->cmd[dv->lines.len - 1] = c;
}

static void domain_build(struct view *v)
{
    struct domain_view *dv = v->priv;
    const struct domain *d = v->app->domain;
    attr_t title = tui_attr(TC_TITLE), label = tui_attr(TC_LABEL), dim = tui_attr(TC_DIM);
    strbuf sb;
    sb_init(&sb);
    lines_clear(&dv->lines);
#define LINE(c, attr, ...)                                                                         \
    do {                                                                                           \
        sb_reset(&sb);                                                                             \
        sb_addf(&sb, __VA_ARGS__);                                                                 \
        add_line(dv, c, attr, sb.buf);                                                             \
    } while (0)
    if (!v->app->domain_path) /* `strata tui --db FILE`: an empty stand-in, not a domain */
        LINE(NULL, title, "No domain%s%s", d->description ? ": " : "",
             d->description ? d->description : "");
    else
        LINE(NULL, title, "Domain %s (version %d)%s%s", d->name ? d->name : "?", d->version,
             d->description ? ": " : "", d->description ? d->description : "");
    for (size_t i = 0; i < d->naggregates; i++) {
        const struct aggregate_spec *a = &d->aggregates[i];
        LINE(NULL, title, "Aggregate %s  (stream %s-<%s>%s)", a->name, a->name, a->id_field,
             a->snapshot_every ? ", snapshots" : "");
        sb_reset(&sb);
        sb_adds(&sb, "  state: ");
        for (size_t j = 0; j < a->nstate; j++) {
            if (j)
                sb_adds(&sb, ", ");
            field_text(&sb, &a->state[j]);
        }
        add_line(dv, NULL, 0, sb.buf);
        for (size_t j = 0; j < a->ninvariants; j++)
            LINE(NULL, dim, "  invariant: %s  (%s)", expr_source(a->invariants[j].rule),
                 a->invariants[j].message);
        LINE(NULL, label, "  Commands  (Enter opens the form)");
        for (size_t j = 0; j < a->ncommands; j++) {
            const struct command_spec *c = &a->commands[j];
            sb_reset(&sb);
            sb_addf(&sb, "    %s %s", tui_utf8() ? "\xe2\x96\xb8" : ">", c->name);
            if (c->nemits) {
                sb_adds(&sb, tui_utf8() ? "  \xe2\x86\x92 " : "  -> ");
                for (size_t k = 0; k < c->nemits; k++)
                    sb_addf(&sb, "%s%s%s", k ? ", " : "", c->emits[k].event->name,
                            c->emits[k].when ? " (when ...)" : "");
            }
            add_line(dv, c, 0, sb.buf);
            sb_reset(&sb);
            sb_adds(&sb, "        payload ");
            for (size_t k = 0; k < c->npayload; k++) {
                if (k)
                    sb_adds(&sb, ", ");
                field_text(&sb, &c->payload[k]);
            }
            add_line(dv, c, dim, sb.buf);
            for (size_t k = 0; k < c->nrequire; k++)
                LINE(c, dim, "        require %s  (%s)", expr_source(c->require[k].rule),
                     c->require[k].message);
        }
        LINE(NULL, label, "  Events");
        for (size_t j = 0; j < a->nevents; j++) {
            const struct event_spec *ev = &a->events[j];
            sb_reset(&sb);
            sb_addf(&sb, "    %s v%d {", ev->name, ev->version);
            for (size_t k = 0; k < ev->nfields; k++) {
                if (k)
                    sb_adds(&sb, ", ");
                field_text(&sb, &ev->fields[k]);
            }
            sb_adds(&sb, "}");
            if (ev->napply) {
                sb_adds(&sb, " changes ");
                for (size_t k = 0; k < ev->napply; k++)
                    sb_addf(&sb, "%s%s", k ? ", " : "", ev->apply[k].name);
            }
            add_line(dv, NULL, 0, sb.buf);
            for (size_t k = 0; k < ev->nupcasts; k++) {
                const struct upcast_step *u = &ev->upcasts[k];
                sb_reset(&sb);
                sb_addf(&sb, "        upcast v%d->v%d:", u->from, u->from + 1);
                for (size_t m = 0; m < u->nrename; m++)
                    sb_addf(&sb, " rename %s->%s", u->rename_from[m], u->rename_to[m]);
                for (size_t m = 0; m < u->ndefault; m++)
                    sb_addf(&sb, " default %s", u->default_names[m]);
                for (size_t m = 0; m < u->nset; m++)
                    sb_addf(&sb, " set %s", u->set[m].name);
                for (size_t m = 0; m < u->ndrop; m++)
                    sb_addf(&sb, " drop %s", u->drop[m]);
                add_line(dv, NULL, dim, sb.buf);
            }
        }
    }
    if (d->nprojections)
        LINE(NULL, title, "Projections  (4 shows their rows and gauges)");
    for (size_t i = 0; i < d->nprojections; i++) {
        const struct projection_spec *p = &d->projections[i];
        sb_reset(&sb);
        const char *key = p->key ? expr_source(p->key) : p->keyed ? "(for_each)" : "(one row)";
        sb_addf(&sb, "  %s  key %s  columns ", p->name, key);
        for (size_t k = 0; k < p->ncolumns; k++)
            sb_addf(&sb, "%s%s", k ? ", " : "", p->columns[k]);
        add_line(dv, NULL, 0, sb.buf);
        sb_reset(&sb);
        sb_adds(&sb, "    on ");
        for (size_t k = 0; k < p->nhandlers; k++)
            sb_addf(&sb, "%s%s%s", k ? ", " : "", p->handlers[k].event_type,
                    p->handlers[k].delete_row ? " (delete)" : "");
        add_line(dv, NULL, dim, sb.buf);
    }
#undef LINE
    sb_done(&sb);
}

static void domain_open(struct view *v)
{
    struct domain_view *dv = xcalloc(1, sizeof *dv);
    lines_init(&dv->lines);
    v->priv = dv;
}

static void domain_close(struct view *v)
{
    struct domain_view *dv = v->priv;
    lines_done(&dv->lines);
    free(dv->cmd);
    free(dv);
}

static void domain_draw(struct view *v, struct area a)
{
    struct domain_view *dv = v->priv;
    if (dv->lines.len == 0)
        domain_build(v);
    lines_draw(&dv->lines, &dv->sc, a, true);
}

static void open_form(struct view *v)
{
    struct domain_view *dv = v->priv;
    if (dv->sc.cur < 0 || (size_t)dv->sc.cur >= dv->lines.len || !dv->cmd[dv->sc.cur]) {
        tui_message(v->app, "Move to a command (j/k) and press Enter to open its form");
        return;
    }
    tui_open_view(v->app, VIEW_FORM, dv->cmd[dv->sc.cur]->name);
}

static enum request domain_request(struct view *v, enum request req)
{
    struct domain_view *dv = v->priv;
    if (req == REQ_DOMAIN_OPEN || req == REQ_ENTER) {
        open_form(v);
        return REQ_NONE;
    }
    if (scroll_request(&dv->sc, req, (long)dv->lines.len, v->last.h))
        return REQ_NONE;
    return req;
}

static void domain_click(struct view *v, int row)
{
    struct domain_view *dv = v->priv;
    long i = dv->sc.top + row;
    if (i < (long)dv->lines.len) {
        if (dv->sc.cur == i && dv->cmd[i])
            open_form(v);
        dv->sc.cur = i;
    }
}

const struct view_ops view_domain_ops = {
    .keymap = KM_DOMAIN,
    .open = domain_open,
    .close = domain_close,
    .draw = domain_draw,
    .request = domain_request,
    .click = domain_click,
};
