/* domain_model.c: the domain model's plumbing: lists of problems (diags),
 * freeing everything a loaded domain owns, and the hashing that gives each
 * aggregate and projection its rules_hash. (Lookups by name: domain_lookup.c.) */
#include <stdlib.h>
#include <string.h>

#include "core/domain_internal.h"
#include "core/json.h"

void diag_list_init(struct diag_list *d)
{
    memset(d, 0, sizeof *d);
}

void diag_list_done(struct diag_list *d)
{
    for (size_t i = 0; i < d->len; i++) {
        free(d->items[i].file);
        free(d->items[i].path);
        free(d->items[i].message);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}

void diag_add(struct diag_list *d, const char *file, int line, int col, const char *path,
              const char *msg)
{
    if (d->len == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = xrealloc(d->items, d->cap * sizeof *d->items);
    }
    struct diag *g = &d->items[d->len++];
    g->file = xstrdup(file ? file : "-");
    g->line = line;
    g->col = col;
    g->path = xstrdup(path ? path : "");
    g->message = xstrdup(msg ? msg : "");
    g->structural = false;
}

void diag_list_print(const struct diag_list *d, FILE *out)
{
    strbuf place; /* FILE:LINE:COL: error: , as every error of Strata (err_format_place) */
    sb_init(&place);
    for (size_t i = 0; i < d->len; i++) {
        const struct diag *g = &d->items[i];
        sb_reset(&place);
        err_format_place(&place, g->file, g->line, g->col);
        fputs(place.len ? place.buf : "", out);
        if (g->path[0])
            fprintf(out, "%s: ", g->path);
        fprintf(out, "%s\n", g->message);
    }
    sb_done(&place);
}

static int diag_cmp(const void *a, const void *b)
{
    const struct diag *x = a, *y = b;
    if (x->structural != y->structural)
        return x->structural ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return 0;
}

void diag_list_sort(struct diag_list *d)
{
    /* Insertion sort: stable (problems at one place keep the order found), and
     * the list is nearly sorted already. */
    for (size_t i = 1; i < d->len; i++) {
        struct diag t = d->items[i];
        size_t j = i;
        while (j > 0 && diag_cmp(&d->items[j - 1], &t) > 0) {
            d->items[j] = d->items[j - 1];
            j--;
        }
        d->items[j] = t;
    }
}

/* ---- hashing ---- */

void hash_hex(uint64_t h, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[h & 15];
        h >>= 4;
    }
    out[16] = '\0';
}

uint64_t hash_str(uint64_t h, const char *s)
{
    if (s)
        h = hash_fnv1a(h, s, strlen(s) + 1); /* the NUL separates fields */
    else
        h = hash_fnv1a(h, "\x1f", 1);
    return h;
}

uint64_t hash_value(uint64_t h, const value *v)
{
    char *js = json_to_string(v);
    h = hash_str(h, js);
    free(js);
    return h;
}

/* ---- freeing ---- */

void assigns_free(struct assign *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        expr_free(a[i].value);
    }
    free(a);
}

static void rules_free(struct rule_spec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        expr_free(r[i].rule);
        free(r[i].message);
        for (size_t j = 0; r[i].texts && j <= r[i].nholes; j++)
            free(r[i].texts[j]);
        for (size_t j = 0; j < r[i].nholes; j++)
            expr_free(r[i].holes[j]);
        free(r[i].texts);
        free(r[i].holes);
    }
    free(r);
}

static void fields_free(struct field_spec *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        field_spec_done(&f[i]);
    free(f);
}

static void upcast_done(struct upcast_step *u)
{
    for (size_t i = 0; i < u->nrename; i++) {
        free(u->rename_from[i]);
        free(u->rename_to[i]);
    }
    free(u->rename_from);
    free(u->rename_to);
    for (size_t i = 0; i < u->ndefault; i++) {
        free(u->default_names[i]);
        value_free(u->default_values[i]);
    }
    free(u->default_names);
    free(u->default_values);
    assigns_free(u->set, u->nset);
    for (size_t i = 0; i < u->ndrop; i++)
        free(u->drop[i]);
    free(u->drop);
}

void aggregate_spec_done(struct aggregate_spec *a)
{
    free(a->name);
    free(a->id_field);
    fields_free(a->state, a->nstate);
    rules_free(a->invariants, a->ninvariants);
    for (size_t i = 0; i < a->ncommands; i++) {
        struct command_spec *c = &a->commands[i];
        free(c->name);
        fields_free(c->payload, c->npayload);
        rules_free(c->require, c->nrequire);
        for (size_t j = 0; j < c->nemits; j++) {
            expr_free(c->emits[j].when);
            assigns_free(c->emits[j].fields, c->emits[j].nfields);
        }
        free(c->emits);
    }
    free(a->commands);
    for (size_t i = 0; i < a->nevents; i++) {
        struct event_spec *e = &a->events[i];
        free(e->name);
        fields_free(e->fields, e->nfields);
        assigns_free(e->apply, e->napply);
        for (size_t j = 0; j < e->nupcasts; j++)
            upcast_done(&e->upcasts[j]);
        free(e->upcasts);
    }
    free(a->events);
}

void projection_spec_done(struct projection_spec *p)
{
    free(p->name);
    expr_free(p->key);
    for (size_t i = 0; i < p->ncolumns; i++) {
        free(p->columns[i]);
        value_free(p->defaults[i]);
        if (p->coltypes)
            field_spec_done(&p->coltypes[i]);
    }
    free(p->columns);
    free(p->defaults);
    free(p->coltypes);
    for (size_t i = 0; i < p->nhandlers; i++) {
        free(p->handlers[i].event_type);
        expr_free(p->handlers[i].when);
        expr_free(p->handlers[i].for_each);
        assigns_free(p->handlers[i].set, p->handlers[i].nset);
    }
    free(p->handlers);
}

void source_spec_done(struct source_spec *s)
{
    free(s->name);
    free(s->records);
    expr_free(s->skip);
    expr_free(s->stream);
    expr_free(s->type);
    expr_free(s->time);
    expr_free(s->data);
    expr_free(s->meta);
    expr_free(s->id);
}

void scenario_spec_done(struct scenario_spec *s)
{
    free(s->name);
    for (size_t i = 0; i < s->ngiven; i++) {
        free(s->given[i].stream);
        free(s->given[i].type);
        free(s->given[i].time);
        value_free(s->given[i].data);
    }
    free(s->given);
    free(s->when_command);
    value_free(s->when_payload);
    free(s->then_rejected);
    free(s->then_invalid);
    value_free(s->then_events);
    value_free(s->then_state);
    value_free(s->then_projections);
}

void source_free(struct source_spec *src)
{
    if (!src)
        return;
    source_spec_done(src);
    free(src);
}

void domain_free(struct domain *d)
{
    if (!d)
        return;
    free(d->file);
    free(d->name);
    free(d->description);
    for (size_t i = 0; i < d->naggregates; i++)
        aggregate_spec_done(&d->aggregates[i]);
    free(d->aggregates);
    for (size_t i = 0; i < d->nprojections; i++)
        projection_spec_done(&d->projections[i]);
    free(d->projections);
    for (size_t i = 0; i < d->nsources; i++)
        source_spec_done(&d->sources[i]);
    free(d->sources);
    for (size_t i = 0; i < d->nscenarios; i++)
        scenario_spec_done(&d->scenarios[i]);
    free(d->scenarios);
    /* last: the fields above point at the records */
    for (size_t i = 0; i < d->ntypes; i++) {
        struct record_type *r = &d->types[i];
        free(r->name);
        fields_free(r->fields, r->nfields);
        free(r->names);
        free(r->types);
        free(r->subs);
    }
    free(d->types);
    free(d);
}
