/* event_meta.c: what `meta` means in expressions (event_meta.h): the event's
 * place in the store and its own meta, built part by part as expressions need. */
#include "event_meta.h"

#include <string.h>

#include "json.h"

static void meta_set_str(value *m, const char *k, const char *s)
{
    value_map_set(m, k, value_cstring(s));
}

const struct aggregate_spec *aggregate_for_stream(const struct domain *d, const char *stream,
                                                  const char **id_out)
{
    if (!d)
        return NULL;
    for (size_t i = 0; i < d->naggregates; i++) {
        const struct aggregate_spec *a = &d->aggregates[i];
        size_t n = strlen(a->name);
        if (strncmp(stream, a->name, n) == 0 && stream[n] == '-') {
            if (id_out)
                *id_out = stream + n + 1;
            return a;
        }
    }
    return NULL;
}

/* `meta` for expressions: what the store knows of the event, then what the event
 * carries (command, commandId, ...) without overriding the former; only the parts
 * in need (META_*: what the expressions to be evaluated read), so that a fold
 * whose key reads meta.aggregateId does not build and parse the rest. */
int event_meta_build(const struct domain *d, const struct event *ev, const struct event_spec *spec,
                     unsigned need, value *out, err *e)
{
    value m = value_map(need == META_ALL ? 16 : 4);
    if (need & META_STREAM)
        meta_set_str(&m, "stream", ev->stream);
    if (need & (META_AGGREGATE | META_AGGREGATE_ID)) {
        const char *id = NULL, *agg;
        size_t agg_len;
        const struct aggregate_spec *a = spec ? spec->aggregate : NULL;
        const struct aggregate_spec *by_stream = aggregate_for_stream(d, ev->stream, &id);
        if (!a)
            a = by_stream;
        if (a && by_stream == a) {
            agg = a->name;
            agg_len = strlen(agg);
        } else {
            /* A stream Strata did not name: "Kind-rest" still splits at the first '-'. */
            const char *dash = strchr(ev->stream, '-');
            agg = dash ? ev->stream : a ? a->name : "";
            agg_len = dash ? (size_t)(dash - ev->stream) : strlen(agg);
            id = dash ? dash + 1 : ev->stream;
        }
        if (need & META_AGGREGATE)
            value_map_set(&m, "aggregate", value_string(agg, agg_len));
        if (need & META_AGGREGATE_ID)
            meta_set_str(&m, "aggregateId", id);
    }
    if (need & META_VERSION)
        value_map_set(&m, "version", value_int(ev->version));
    if (need & META_POSITION)
        value_map_set(&m, "position", value_int(ev->position));
    if (need & META_TIME)
        meta_set_str(&m, "time", ev->time);
    if (need & META_TYPE)
        meta_set_str(&m, "type", ev->type);
    if (need & META_SCHEMA)
        value_map_set(&m, "schema", value_int(ev->schema));
    if ((need & META_STORED) && ev->meta && ev->meta[0]) {
        value stored;
        err je;
        if (json_parse(ev->meta, strlen(ev->meta), &stored, &je) != ST_OK) {
            value_free(m);
            return err_set(e, ST_ERR, "event at position %lld: meta is not valid JSON: %s",
                           (long long)ev->position, je.msg);
        }
        if (stored.type == V_MAP) {
            for (size_t i = 0; i < value_map_len(&stored); i++) {
                const value *k = value_map_key_at(&stored, i);
                if (!value_map_getn(&m, value_str(k), value_strlen(k)))
                    value_map_setn(&m, value_str(k), value_strlen(k),
                                   value_ref(value_map_val_at(&stored, i)));
            }
        }
        value_free(stored);
    }
    *out = m;
    return ST_OK;
}

/* What of `meta` folding an event of this type reads (in apply, or in an
 * upcast's set): a replay builds only that (often nothing), where building all
 * of it was a fifth of the work of folding a small event. */
unsigned event_spec_meta_need(const struct event_spec *spec)
{
    if (!spec)
        return 0;
    if (spec->meta_known)
        return spec->meta_need;
    unsigned need = 0; /* a spec not made by the loader */
    for (size_t i = 0; i < spec->napply; i++)
        need |= meta_need_of(spec->apply[i].value);
    for (size_t i = 0; i < spec->nupcasts; i++)
        for (size_t j = 0; j < spec->upcasts[i].nset; j++)
            need |= meta_need_of(spec->upcasts[i].set[j].value);
    return need;
}
