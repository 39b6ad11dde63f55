/* event_check.c: checking an event's data against its type's declared fields, and
 * saying which upcast step is at fault when upcast data fails (see
 * event_check.h). */
#include "event_check.h"

#include <stdio.h>
#include <string.h>

static const struct field_spec *declared(const struct event_spec *spec, const char *name,
                                         size_t len)
{
    for (size_t i = 0; i < spec->nfields; i++)
        if (strlen(spec->fields[i].name) == len && memcmp(spec->fields[i].name, name, len) == 0)
            return &spec->fields[i];
    return NULL;
}

static bool in(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* The last step of the chain from `from` that wrote or removed field `name`, said
 * as "upcast step 1->2 (set title)"; or, when none touched it, the whole chain
 * ("upcast 1->3, which no step sets 'title' in"), since then the field is as the
 * old event had it (or missing from it). */
static void blame(const struct event_spec *spec, int from, const char *name, char *out, size_t n)
{
    for (int v = spec->version - 1; v >= from; v--) {
        const struct upcast_step *st = NULL;
        for (size_t i = 0; i < spec->nupcasts; i++)
            if (spec->upcasts[i].from == v)
                st = &spec->upcasts[i];
        if (!st)
            continue;
        const char *how = NULL;
        char what[200];
        for (size_t i = 0; i < st->nset && !how; i++)
            if (strcmp(st->set[i].name, name) == 0)
                how = "set";
        if (!how && in(st->drop, st->ndrop, name))
            how = "drop";
        if (!how && in(st->default_names, st->ndefault, name))
            how = "default";
        for (size_t i = 0; i < st->nrename && !how; i++)
            if (strcmp(st->rename_to[i], name) == 0) {
                snprintf(what, sizeof what, "rename %s: %s", st->rename_from[i], name);
                snprintf(out, n, "upcast step %d->%d (%s)", v, v + 1, what);
                return;
            }
        if (how) {
            snprintf(out, n, "upcast step %d->%d (%s %s)", v, v + 1, how, name);
            return;
        }
    }
    snprintf(out, n, "upcast %d->%d (no step sets '%s')", from, spec->version, name);
}

static int fail_at(const struct event_spec *spec, int from, const char *name, err *e)
{
    if (from >= spec->version)
        return ST_ERR;
    char step[300];
    blame(spec, from, name, step, sizeof step);
    err_prefix(e, "%s", step);
    return ST_ERR;
}

int event_check_fields(const struct event_spec *spec, int stored_schema, const value *data,
                       bool as_stored, err *e)
{
    if (data->type != V_MAP) {
        err_set(e, ST_ERR, "data must be an object, not %s", vtype_name(data->type));
        return ST_ERR;
    }
    size_t present = 0, n = value_map_len(data);
    for (size_t i = 0; i < spec->nfields; i++) {
        const struct field_spec *f = &spec->fields[i];
        /* Data written by Strata has its fields in the declared order: the key at
         * the field's own place is looked at first (keys are unique in a map). */
        const value *k = i < n ? value_map_key_at(data, i) : NULL;
        size_t fl = k ? strlen(f->name) : 0;
        const value *v = k && value_strlen(k) == fl && memcmp(value_str(k), f->name, fl) == 0
                             ? value_map_val_at(data, i)
                             : value_map_get(data, f->name);
        present += v != NULL;
        if (!v) {
            if (!f->required)
                continue;
            err_set(e, ST_ERR, "missing field '%s' (%s)", f->name, ftype_name(f->type));
            return fail_at(spec, stored_schema, f->name, e);
        }
        if ((as_stored ? field_check_stored(f, v, e) : field_check(f, v, e)) != ST_OK)
            return fail_at(spec, stored_schema, f->name, e);
    }
    /* Undeclared fields: only when the data has more keys than the declared ones
     * it holds can there be one, so a valid event costs no lookup per key. */
    for (size_t i = 0; n > present && i < n; i++) {
        const value *k = value_map_key_at(data, i);
        if (declared(spec, value_str(k), value_strlen(k)))
            continue;
        const char *names[64];
        size_t nn = 0;
        for (size_t j = 0; j < spec->nfields && nn < 64; j++)
            names[nn++] = spec->fields[j].name;
        const char *hint = did_you_mean(value_str(k), names, nn);
        err_set(e, ST_ERR, "unknown field '%s' of event %s%s%s%s", value_str(k), spec->name,
                hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        return fail_at(spec, stored_schema, value_str(k), e);
    }
    return ST_OK;
}
