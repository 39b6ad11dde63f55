/* domain_types.c: record types declared once under a domain's top-level
 * `types:` and used as field types (`Booking`, `list<Booking>`,
 * `map<Booking>`): reading them, and building the nested expression schemas
 * that let `check` find `state.bookings[b].too` (unknown field 'too' of
 * Booking). The fields of a record are read as an event's are: a bare type is
 * required, `{type, default | optional}` is not. */
#include <stdlib.h>
#include <string.h>

#include "core/domain_internal.h"

/* What expressions know of r: its names and types, and the schema of each field
 * that holds a record or typed elements. */
static void record_schema(struct record_type *r)
{
    size_t n = r->nfields ? r->nfields : 1;
    r->names = xcalloc(n, sizeof *r->names);
    r->types = xcalloc(n, sizeof *r->types);
    r->subs = xcalloc(n, sizeof *r->subs);
    size_t k = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field_spec *f = &r->fields[i];
        if (!f->name)
            continue;
        r->names[k] = f->name;
        r->types[k] = ftype_expr_type(f->type);
        r->subs[k] = field_shape(f);
        k++;
    }
    r->schema.fields = r->names;
    r->schema.types = r->types;
    r->schema.nfields = k;
    r->schema.subs = r->subs;
    r->schema.name = r->name;
}

void types_load(struct loader *L, const struct ynode *map)
{
    if (!ld_expect_map(L, map, "the record types {Name: {field: type, ...}}", true) || !map->n)
        return;
    struct domain *d = L->d;
    d->types = xcalloc(map->n, sizeof *d->types);
    d->ntypes = map->n;
    for (size_t i = 0; i < map->n; i++) {
        const struct ynode *k = ynode_keynode(map, i);
        ftype t;
        if (!ld_check_name(L, k, "type"))
            continue;
        if (ftype_parse(k->text, &t)) {
            ld_diag(L, k, "'%s' is a type of the language already; give the record another name",
                    k->text);
            continue;
        }
        if (ld_record(L, k->text)) {
            ld_diag(L, k, "type '%s' is declared twice", k->text);
            continue;
        }
        d->types[i].name = xstrdup(k->text);
        d->types[i].pos.line = k->line;
        d->types[i].pos.col = k->col;
    }
    for (size_t i = 0; i < map->n; i++) {
        struct record_type *r = &d->types[i];
        if (!r->name)
            continue;
        size_t m = ld_push(L, r->name);
        const struct ynode *v = ynode_val(map, i);
        if (ld_expect_map(L, v, "a record's fields {name: type, ...}", false))
            fields_parse(L, v, FIELD_EVENT, &r->fields, &r->nfields);
        ld_pop(L, m);
    }
    /* Schemas point at each other (a record's field of another record type), so
     * each is built in place, after every record has its fields. */
    for (size_t i = 0; i < map->n; i++)
        if (d->types[i].name)
            record_schema(&d->types[i]);
}
