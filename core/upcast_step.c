/* upcast_step.c: one upcast step run on an event's data (upcast_step.h). */
#include "upcast_step.h"

#include <stdlib.h>
#include <string.h>

#include "expr.h"

const struct upcast_step *upcast_step_from(const struct event_spec *spec, int v)
{
    for (size_t i = 0; i < spec->nupcasts; i++)
        if (spec->upcasts[i].from == v)
            return &spec->upcasts[i];
    return NULL;
}

int upcast_step_run(const struct event_spec *spec, const struct upcast_step *st, value *data,
                    const value *meta, err *e)
{
    if (data->type != V_MAP)
        return err_set(e, ST_ERR, "event %s: data is not an object, cannot upcast", spec->name);
    for (size_t i = 0; i < st->nrename; i++) {
        const value *old = value_map_get(data, st->rename_from[i]);
        if (!old)
            continue;
        value moved = value_ref(old);
        value_map_remove(data, st->rename_from[i], strlen(st->rename_from[i]));
        value_map_set(data, st->rename_to[i], moved);
    }
    for (size_t i = 0; i < st->ndefault; i++)
        if (!value_map_get(data, st->default_names[i]))
            value_map_set(data, st->default_names[i], value_ref(&st->default_values[i]));
    if (st->nset) {
        /* Every `set` sees the data as it was after rename and default. */
        struct expr_vars vars;
        memset(&vars, 0, sizeof vars);
        vars.roots[ROOT_EVENT] = *data;
        if (meta)
            vars.roots[ROOT_META] = *meta;
        value *results = xcalloc(st->nset, sizeof *results);
        int rc = ST_OK;
        for (size_t i = 0; i < st->nset && rc == ST_OK; i++) {
            rc = expr_eval(st->set[i].value, &vars, &results[i], e);
            if (rc != ST_OK) {
                err_prefix(e, "upcasting %s from version %d, set %s", spec->name, st->from,
                           st->set[i].name);
                for (size_t j = 0; j < i; j++)
                    value_free(results[j]);
            }
        }
        if (rc != ST_OK) {
            free(results);
            return rc;
        }
        for (size_t i = 0; i < st->nset; i++)
            value_map_set(data, st->set[i].name, results[i]);
        free(results);
    }
    for (size_t i = 0; i < st->ndrop; i++)
        value_map_remove(data, st->drop[i], strlen(st->drop[i]));
    return ST_OK;
}

void upcast_order_fields(const struct event_spec *spec, value *data)
{
    if (data->type != V_MAP || !spec->nfields)
        return;
    value ordered = value_map(value_map_len(data));
    for (size_t i = 0; i < spec->nfields; i++) {
        const value *v = value_map_get(data, spec->fields[i].name);
        if (v)
            value_map_set(&ordered, spec->fields[i].name, value_ref(v));
    }
    for (size_t i = 0; i < value_map_len(data); i++) {
        const value *k = value_map_key_at(data, i);
        if (!value_map_getn(&ordered, value_str(k), value_strlen(k)))
            value_map_setn(&ordered, value_str(k), value_strlen(k),
                           value_ref(value_map_val_at(data, i)));
    }
    value_free(*data);
    *data = ordered;
}

char *upcast_step_describe(const struct upcast_step *st)
{
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < st->nrename; i++)
        sb_addf(&sb, "%srename %s: %s", sb.len ? ", " : "", st->rename_from[i], st->rename_to[i]);
    for (size_t i = 0; i < st->ndefault; i++)
        sb_addf(&sb, "%sdefault %s", sb.len ? ", " : "", st->default_names[i]);
    for (size_t i = 0; i < st->nset; i++)
        sb_addf(&sb, "%sset %s", sb.len ? ", " : "", st->set[i].name);
    for (size_t i = 0; i < st->ndrop; i++)
        sb_addf(&sb, "%sdrop %s", sb.len ? ", " : "", st->drop[i]);
    if (!sb.len)
        sb_adds(&sb, "nothing");
    return sb_steal(&sb);
}
