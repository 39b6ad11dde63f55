/* event_meta.c: what `meta` means in expressions (event_meta.h): the event's
 * place in the store and its own meta, built part by part as expressions need. */
#include "event_meta.h"

#include <string.h>

#include "json.h"

/* Sets the next part of a meta being filled. A map filled before with the same
 * need has its keys in the same order (each is set or not by need alone), so the
 * key is first looked for where it was. */
struct filling {
    value *m;
    size_t n;    /* parts set so far */
    bool refill; /* the map was filled before (else it is new: nothing to look for) */
};

/* The place of the next part, k (kl bytes), when the map has it there already;
 * else NULL. */
static value *meta_at(struct filling *fl, const char *k, size_t kl)
{
    size_t i = fl->n++;
    if (i >= value_map_len(fl->m))
        return NULL;
    const value *at = value_map_key_at(fl->m, i);
    if (value_strlen(at) != kl || memcmp(value_str(at), k, kl) != 0)
        return NULL;
    return value_map_slot_at(fl->m, i);
}

static inline void meta_put(struct filling *fl, const char *k, value v)
{
    if (!fl->refill) {
        value_map_set(fl->m, k, v);
        return;
    }
    size_t kl = strlen(k);
    value *slot = meta_at(fl, k, kl);
    if (!slot) {
        value_map_setn(fl->m, k, kl, v);
        return;
    }
    value_free(*slot);
    *slot = v;
}

static inline void meta_set_str(struct filling *fl, const char *k, const char *s)
{
    if (!fl->refill) {
        value_map_set(fl->m, k, value_cstring(s));
        return;
    }
    size_t kl = strlen(k);
    value *slot = meta_at(fl, k, kl);
    if (!slot) {
        value_map_setn(fl->m, k, kl, value_cstring(s));
    } else if (!value_string_overwrite(slot, s, strlen(s))) {
        /* (the last event's text, when no longer held elsewhere, is written over) */
        value_free(*slot);
        *slot = value_cstring(s);
    }
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

static int meta_fill(const struct domain *d, const struct event *ev, const struct event_spec *spec,
                     unsigned need, value *out, err *e);

int event_meta_build(const struct domain *d, const struct event *ev, const struct event_spec *spec,
                     unsigned need, value *out, err *e)
{
    *out = value_map(need == META_ALL ? 16 : 4);
    int rc = meta_fill(d, ev, spec, need, out, e);
    if (rc != ST_OK) {
        value_free(*out);
        *out = value_null();
    }
    return rc;
}

int event_meta_refill(const struct domain *d, const struct event *ev, const struct event_spec *spec,
                      unsigned need, value *m, err *e)
{
    if (m->type != V_MAP || (need & META_STORED)) {
        value_free(*m);
        return event_meta_build(d, ev, spec, need, m, e);
    }
    return meta_fill(d, ev, spec, need, m, e); /* every key is there: only values change */
}

/* `meta` for expressions: what the store knows of the event, then what the event
 * carries (command, commandId, ...) without overriding the former; only the parts
 * in need (META_*: what the expressions to be evaluated read), so that a fold
 * whose key reads meta.aggregateId does not build and parse the rest. Sets them
 * in the map *out (a key already there keeps its place). */
static int meta_fill(const struct domain *d, const struct event *ev, const struct event_spec *spec,
                     unsigned need, value *out, err *e)
{
    struct filling fl = {out, 0, value_map_len(out) > 0};
    if (need & META_STREAM)
        meta_set_str(&fl, "stream", ev->stream);
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
            meta_put(&fl, "aggregate", value_string(agg, agg_len));
        if (need & META_AGGREGATE_ID)
            meta_set_str(&fl, "aggregateId", id);
    }
    if (need & META_VERSION)
        meta_put(&fl, "version", value_int(ev->version));
    if (need & META_POSITION)
        meta_put(&fl, "position", value_int(ev->position));
    if (need & META_TIME)
        meta_set_str(&fl, "time", ev->time);
    if (need & META_TYPE)
        meta_set_str(&fl, "type", ev->type);
    if (need & META_SCHEMA)
        meta_put(&fl, "schema", value_int(ev->schema));
    if ((need & META_STORED) && ev->meta && ev->meta[0]) {
        value stored;
        err je;
        if (json_parse(ev->meta, strlen(ev->meta), &stored, &je) != ST_OK) {
            return err_set(e, ST_ERR, "event at position %lld: meta is not valid JSON: %s",
                           (long long)ev->position, je.msg);
        }
        if (stored.type == V_MAP) {
            for (size_t i = 0; i < value_map_len(&stored); i++) {
                const value *k = value_map_key_at(&stored, i);
                if (!value_map_getn(out, value_str(k), value_strlen(k)))
                    value_map_setn(out, value_str(k), value_strlen(k),
                                   value_ref(value_map_val_at(&stored, i)));
            }
        }
        value_free(stored);
    }
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
