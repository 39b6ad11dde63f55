/* mapping.c: records -> events ready to append (see mapping.h for the choices). */
#include "mapping.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "json.h"

void mapped_event_done(struct mapped_event *m)
{
    if (!m->borrowed) {
        free(m->stream);
        free(m->type);
        free(m->data);
        free(m->meta);
    }
    memset(m, 0, sizeof *m);
}

void mapped_bufs_init(struct mapped_bufs *b)
{
    sb_init(&b->stream);
    sb_init(&b->type);
    sb_init(&b->data);
    sb_init(&b->meta);
}

void mapped_bufs_done(struct mapped_bufs *b)
{
    sb_done(&b->stream);
    sb_done(&b->type);
    sb_done(&b->data);
    sb_done(&b->meta);
}

/* sb_reset without the call (three a record). */
static inline void clear(strbuf *b)
{
    b->len = 0;
    if (b->buf)
        b->buf[0] = '\0';
}

/* s (allocated, or NULL) into b when there is a b: its text copied, s freed. */
static char *keep(strbuf *b, char *s)
{
    if (!b || !s)
        return s;
    sb_reset(b);
    sb_add(b, s, strlen(s));
    free(s);
    return b->buf;
}

static int bad(char *reason, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *reason, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, n, fmt, ap);
    va_end(ap);
    return MAP_BAD;
}

int mapping_check_source(const struct source_spec *src, err *e)
{
    const char *name = src->name ? src->name : "map";
    if (src->format == SRC_CLOUDEVENTS)
        return ST_OK;
    if (!src->stream)
        return err_set(
            e, ST_USAGE,
            "source '%s' has no `stream:` expression (which stream does a record go to?)", name);
    if (!src->type)
        return err_set(e, ST_USAGE,
                       "source '%s' has no `type:` expression (what is a record's event type?)",
                       name);
    return ST_OK;
}

/* Evaluates one slot over the record (through its fast plan f when it has one
 * and the record fits it); on error fills reason with the slot's name. */
static int eval_slot_fast(const expr *x, const struct expr_fast *f, const char *slot,
                          const value *record, value *out, char *reason, size_t n)
{
    if (f && expr_fast_eval(f, record, out))
        return MAP_OK;
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    for (int i = 0; i < ROOT_COUNT; i++)
        vars.roots[i] = value_null();
    vars.roots[ROOT_RECORD] = *record; /* borrowed */
    err e;
    err_clear(&e);
    if (expr_eval(x, &vars, out, &e) != ST_OK)
        return bad(reason, n, "%s: %s", slot, e.msg);
    return MAP_OK;
}

static int eval_slot(const expr *x, const char *slot, const value *record, value *out, char *reason,
                     size_t n)
{
    return eval_slot_fast(x, NULL, slot, record, out, reason, n);
}

void mapping_plan_init(struct mapping_plan *p, const struct source_spec *src)
{
    p->stream = expr_fast_plan(src->stream, ROOT_RECORD);
    p->type = expr_fast_plan(src->type, ROOT_RECORD);
    p->time = expr_fast_plan(src->time, ROOT_RECORD);
    p->data = expr_fast_plan(src->data, ROOT_RECORD);
}

void mapping_plan_done(struct mapping_plan *p)
{
    expr_fast_free(p->stream);
    expr_fast_free(p->type);
    expr_fast_free(p->time);
    expr_fast_free(p->data);
    memset(p, 0, sizeof *p);
}

/* A name (stream, type) as text: a non-empty string, or an int in decimal. */
static int name_text(const value *v, const char *slot, char **out, char *reason, size_t n)
{
    if (v->type == V_STRING) {
        if (value_strlen(v) == 0)
            return bad(reason, n, "%s is empty", slot);
        if (memchr(value_str(v), '\0', value_strlen(v)))
            return bad(reason, n, "%s contains a NUL character", slot);
        *out = xstrndup(value_str(v), value_strlen(v));
        return MAP_OK;
    }
    if (v->type == V_INT) {
        *out = xasprintf("%lld", (long long)v->u.i);
        return MAP_OK;
    }
    return bad(reason, n, "%s must be a string, got %s", slot, vtype_name(v->type));
}

static int time_text(const value *v, int tz_min, struct mapped_event *out, char *reason, size_t n)
{
    if (v->type != V_STRING)
        return bad(reason, n, "time must be an ISO-8601 string, got %s", vtype_name(v->type));
    if (!time_parse(value_str(v), value_strlen(v), tz_min, &out->time_ms))
        return bad(reason, n,
                   "unreadable time '%.60s' (expected ISO-8601, e.g. 2026-11-27T10:00:00.123Z)",
                   value_str(v));
    time_format_ms(out->time_ms, out->time);
    return MAP_OK;
}

/* data as a JSON object: objects as is, null as {}, anything else as {"value": x}. */
static char *data_text(const value *v)
{
    strbuf sb;
    sb_init(&sb);
    if (v->type == V_MAP) {
        json_write(&sb, v);
    } else if (v->type == V_NULL) {
        sb_adds(&sb, "{}");
    } else {
        sb_adds(&sb, "{\"value\":");
        json_write(&sb, v);
        sb_addc(&sb, '}');
    }
    return sb_steal(&sb);
}

static const char *const ce_own[] = {"type", "time", "data", "data_base64"};

/* The CloudEvents defaults for slots without an expression. */
static value ce_default(const value *record, const char *slot)
{
    if (strcmp(slot, "stream") == 0) {
        const value *src = value_map_get(record, "source");
        const value *sub = value_map_get(record, "subject");
        if (!src || src->type != V_STRING)
            return value_null();
        if (!sub || sub->type != V_STRING)
            return value_ref(src);
        strbuf sb;
        sb_init(&sb);
        sb_add(&sb, value_str(src), value_strlen(src));
        sb_addc(&sb, '/');
        sb_add(&sb, value_str(sub), value_strlen(sub));
        value v = value_string(sb.buf, sb.len);
        sb_done(&sb);
        return v;
    }
    if (strcmp(slot, "data") == 0) {
        const value *d = value_map_get(record, "data");
        if (d && d->type != V_NULL)
            return value_ref(d);
        const value *b = value_map_get(record, "data_base64");
        if (b && b->type != V_NULL) {
            value m = value_map(1);
            value_map_set(&m, "data_base64", value_ref(b));
            return m;
        }
        return value_null();
    }
    if (strcmp(slot, "meta") == 0) {
        value m = value_map(value_map_len(record));
        for (size_t i = 0; i < value_map_len(record); i++) {
            const char *k = value_str(value_map_key_at(record, i));
            bool own = false;
            for (size_t j = 0; j < sizeof ce_own / sizeof ce_own[0] && !own; j++)
                own = strcmp(k, ce_own[j]) == 0;
            const value *v = value_map_val_at(record, i);
            if (!own && v->type != V_NULL)
                value_map_setv(&m, value_ref(value_map_key_at(record, i)), value_ref(v));
        }
        return m;
    }
    const value *v = value_map_get(record, slot); /* type, time */
    return v ? value_ref(v) : value_null();
}

/* A name slot (stream, type) through its plan's text (expr_fast_text) when the
 * record fits and name_text would take the string as it is (not empty, no NUL):
 * the name, without making the value; else NULL (the slot's full path). */
static char *fast_name(const struct expr_fast *f, const value *record, char buf[EXPR_FAST_TEXT_MAX],
                       strbuf *into)
{
    size_t len;
    const char *t = f ? expr_fast_text(f, record, buf, &len) : NULL;
    if (!t || len == 0 || memchr(t, '\0', len))
        return NULL;
    if (!into)
        return xstrndup(t, len);
    clear(into);
    sb_add(into, t, len);
    return into->buf;
}

/* The value of a slot: its expression, else the CloudEvents default, else absent
 * (*present = false). */
static int slot_value(const struct source_spec *src, const expr *x, const struct expr_fast *f,
                      const char *slot, const value *record, value *out, bool *present,
                      char *reason, size_t n)
{
    *present = true;
    if (x)
        return eval_slot_fast(x, f, slot, record, out, reason, n);
    if (src->format == SRC_CLOUDEVENTS && record->type == V_MAP) {
        *out = ce_default(record, slot);
        if (strcmp(slot, "time") == 0 && out->type == V_NULL)
            *present = false;
        return MAP_OK;
    }
    *present = false;
    *out = value_null();
    return MAP_OK;
}

/* The stream's or the type's name (slot "stream" or "type") of a record: the
 * fast plan's text when it has one, else the expression's value, which must be
 * a non-empty string. */
static int name_slot(const struct source_spec *src, const expr *x, const struct expr_fast *f,
                     const char *slot, const value *record, char buf[EXPR_FAST_TEXT_MAX],
                     strbuf *into, char **out, char *reason, size_t n)
{
    if ((*out = fast_name(f, record, buf, into)))
        return MAP_OK;
    value v = value_null();
    bool present;
    int rc = slot_value(src, x, f, slot, record, &v, &present, reason, n);
    if (rc == MAP_OK && !present)
        rc = bad(reason, n, "no %s: the source has no `%s:` expression", slot, slot);
    else if (rc == MAP_OK && (rc = name_text(&v, slot, out, reason, n)) == MAP_OK)
        *out = keep(into, *out);
    value_free(v);
    return rc;
}

int mapping_apply(const struct source_spec *src, const value *record, int64_t now_ms,
                  struct mapped_event *out, char *reason, size_t n)
{
    return mapping_apply_planned(src, NULL, record, now_ms, out, reason, n);
}

/* value_free and null again, without the call for a null (the fast paths leave
 * v null: three calls a record). */
static inline void drop(value *v)
{
    if (v->type != V_NULL)
        value_free(*v);
    *v = value_null();
}

int mapping_apply_planned(const struct source_spec *src, const struct mapping_plan *plan,
                          const value *record, int64_t now_ms, struct mapped_event *out,
                          char *reason, size_t n)
{
    return mapping_apply_bufs(src, plan, record, now_ms, NULL, out, reason, n);
}

int mapping_apply_bufs(const struct source_spec *src, const struct mapping_plan *plan,
                       const value *record, int64_t now_ms, struct mapped_bufs *bufs,
                       struct mapped_event *out, char *reason, size_t n)
{
    static const struct mapping_plan none = {NULL, NULL, NULL, NULL};
    if (!plan)
        plan = &none;
    memset(out, 0, sizeof *out);
    out->schema = 1;
    out->borrowed = bufs != NULL;
    if (src->skip) {
        value v;
        if (eval_slot(src->skip, "skip", record, &v, reason, n) != MAP_OK)
            return MAP_BAD;
        bool is_bool = v.type == V_BOOL, yes = is_bool && v.u.b;
        vtype t = v.type;
        value_free(v);
        if (!is_bool)
            return bad(reason, n, "skip must give true or false, got %s", vtype_name(t));
        if (yes)
            return MAP_SKIP;
    }
    int rc = MAP_OK;
    bool present;
    value v = value_null();

    char buf[EXPR_FAST_TEXT_MAX];
    if ((rc = name_slot(src, src->stream, plan->stream, "stream", record, buf,
                        bufs ? &bufs->stream : NULL, &out->stream, reason, n)) != MAP_OK ||
        (rc = name_slot(src, src->type, plan->type, "type", record, buf, bufs ? &bufs->type : NULL,
                        &out->type, reason, n)) != MAP_OK)
        goto fail;

    const char *tt;
    size_t tl;
    if (plan->time && (tt = expr_fast_text(plan->time, record, buf, &tl)) &&
        time_canonical_ms(tt, tl, &out->time_ms)) { /* time_text's answer, for less */
        memcpy(out->time, tt, TIME_TEXT_LEN);
        out->time[TIME_TEXT_LEN] = '\0';
    } else if ((rc = slot_value(src, src->time, plan->time, "time", record, &v, &present, reason,
                                n)) != MAP_OK) {
        goto fail;
    } else if (present) {
        if ((rc = time_text(&v, src->timezone_min, out, reason, n)) != MAP_OK)
            goto fail;
    } else {
        out->time_ms = now_ms;
        time_format_ms(now_ms, out->time);
    }
    drop(&v);

    strbuf *into = bufs ? &bufs->data : NULL;
    if (src->data || src->format == SRC_CLOUDEVENTS) {
        strbuf sb;
        sb_init(&sb);
        if (into)
            clear(into);
        if (plan->data && expr_fast_json(plan->data, record, into ? into : &sb)) {
            out->data = into ? into->buf : sb_steal(&sb); /* as data_text writes it */
        } else {
            sb_done(&sb);
            if ((rc = slot_value(src, src->data, plan->data, "data", record, &v, &present, reason,
                                 n)) != MAP_OK)
                goto fail;
            out->data = keep(into, data_text(&v));
        }
    } else {
        out->data = keep(into, data_text(record)); /* default: the whole record */
    }
    drop(&v);

    if ((rc = slot_value(src, src->meta, NULL, "meta", record, &v, &present, reason, n)) != MAP_OK)
        goto fail;
    if (v.type == V_MAP) {
        if (value_map_len(&v) > 0 || src->meta)
            out->meta = keep(bufs ? &bufs->meta : NULL, json_to_string(&v));
    } else if (v.type != V_NULL) {
        rc = bad(reason, n, "meta must be an object, got %s", vtype_name(v.type));
        goto fail;
    }
    drop(&v);
    return MAP_OK;
fail:
    value_free(v);
    mapped_event_done(out);
    return rc;
}

int mapping_record_id(const struct source_spec *src, const value *record, char **text,
                      const char **scope, char *reason, size_t n)
{
    *text = NULL;
    *scope = NULL;
    if (src->id) {
        value v;
        if (eval_slot(src->id, "id", record, &v, reason, n) != MAP_OK)
            return MAP_BAD;
        if (v.type == V_NULL) {
            value_free(v);
            return bad(reason, n, "id gave null: every record needs an identity");
        }
        *text = v.type == V_STRING ? xstrndup(value_str(&v), value_strlen(&v)) : json_to_string(&v);
        *scope = "id";
        value_free(v);
        return MAP_OK;
    }
    if (src->format != SRC_CLOUDEVENTS || record->type != V_MAP)
        return MAP_OK;
    const value *source = value_map_get(record, "source"), *id = value_map_get(record, "id");
    if (!source || !id || source->type != V_STRING || id->type != V_STRING)
        return MAP_OK;
    strbuf sb;
    sb_init(&sb);
    sb_add(&sb, value_str(source), value_strlen(source));
    sb_addc(&sb, '\n');
    sb_add(&sb, value_str(id), value_strlen(id));
    *text = sb.buf; /* handed over */
    *scope = "ce";
    return MAP_OK;
}

/* ---- canonical NDJSON ----------------------------------------------------------------- */

/* Skips one JSON value in already-validated text; returns the index after it. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
    int depth = 0;
    while (i < len) {
        char c = s[i];
        if (c == '"') {
            i++;
            for (;;) {
                const char *q = memchr(s + i, '"', len - i);
                if (!q) {
                    i = len;
                    break;
                }
                /* the quote ends the string unless an odd number of backslashes precede it */
                size_t k = (size_t)(q - s), bs = 0;
                while (k - bs > i && s[k - bs - 1] == '\\')
                    bs++;
                i = k + 1;
                if (bs % 2 == 0)
                    break;
            }
            if (depth == 0)
                return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i;
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return i;
        }
        i++;
    }
    return i;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Finds the text of the top-level members "data" and "meta" (the last of each,
 * as the parser keeps the last of duplicate keys) in a validated JSON object, in
 * one pass. Keys written with escapes are not matched; the caller then falls
 * back to writing the parsed value. A span not found stays {0, 0}. */
struct span {
    size_t start, end;
};
static void raw_members(const char *s, size_t len, struct span *data, struct span *meta)
{
    size_t i = skip_ws(s, len, 0);
    if (i >= len || s[i] != '{')
        return;
    i++;
    for (;;) {
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != '"')
            return;
        size_t ks = i + 1;
        size_t ke = skip_value(s, len, i) - 1; /* the closing quote */
        i = skip_ws(s, len, ke + 1);
        if (i >= len || s[i] != ':')
            return;
        i = skip_ws(s, len, i + 1);
        size_t vs = i;
        i = skip_value(s, len, i);
        if (ke - ks == 4 && memcmp(s + ks, "data", 4) == 0)
            *data = (struct span){vs, i};
        else if (ke - ks == 4 && memcmp(s + ks, "meta", 4) == 0)
            *meta = (struct span){vs, i};
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != ',')
            return;
        i++;
    }
}

static char *member_text(const char *raw, struct span sp, const value *v)
{
    if (raw && sp.end > sp.start)
        return xstrndup(raw + sp.start, sp.end - sp.start);
    return json_to_string(v);
}

static const char *const canonical_keys[] = {"position", "stream", "version", "type",
                                             "schema",   "time",   "data",    "meta"};

int canonical_parse(const value *parsed, const char *raw, size_t len, struct mapped_event *out,
                    char *reason, size_t n)
{
    memset(out, 0, sizeof *out);
    if (parsed->type != V_MAP)
        return bad(reason, n, "an event must be a JSON object, got %s", vtype_name(parsed->type));
    /* One pass over the line's keys, each to its slot (canonical_keys' order):
     * asking the map for each key by name was 6% of a canonical import. */
    const value *slot[CANON_NKEYS] = {NULL};
    const size_t nkeys = sizeof canonical_keys / sizeof canonical_keys[0];
    for (size_t i = 0; i < value_map_len(parsed); i++) {
        const value *kv = value_map_key_at(parsed, i);
        const char *k = value_str(kv);
        size_t j = 0;
        while (j < nkeys && strcmp(k, canonical_keys[j]) != 0)
            j++;
        if (j == nkeys) {
            const char *mean = did_you_mean(k, canonical_keys, nkeys);
            return bad(reason, n, "unknown key '%.60s'%s%s%s (an event has %s)", k,
                       mean ? " (did you mean '" : "", mean ? mean : "", mean ? "'?)" : "",
                       "position, stream, version, type, schema, time, data, meta");
        }
        slot[j] = value_map_val_at(parsed, i);
    }
    const value *v;
    static const int required[] = {CANON_STREAM, CANON_VERSION, CANON_TYPE, CANON_TIME, CANON_DATA};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!slot[required[i]])
            return bad(reason, n, "missing key '%s'", canonical_keys[required[i]]);
    if ((v = slot[CANON_POSITION]) && (v->type != V_INT || v->u.i < 1))
        return bad(reason, n, "'position' must be an integer >= 1, got %s",
                   v->type == V_INT ? "a smaller one" : vtype_name(v->type));
    v = slot[CANON_STREAM];
    if (v->type != V_STRING || value_strlen(v) == 0 || memchr(value_str(v), 0, value_strlen(v)))
        return bad(reason, n, "'stream' must be a non-empty string, got %s",
                   v->type == V_STRING ? "an empty one" : vtype_name(v->type));
    v = slot[CANON_VERSION];
    if (v->type != V_INT || v->u.i < 1)
        return bad(reason, n, "'version' must be an integer >= 1, got %s",
                   v->type == V_INT ? "a smaller one" : vtype_name(v->type));
    out->version = v->u.i;
    v = slot[CANON_TYPE];
    if (v->type != V_STRING || value_strlen(v) == 0 || memchr(value_str(v), 0, value_strlen(v)))
        return bad(reason, n, "'type' must be a non-empty string, got %s",
                   v->type == V_STRING ? "an empty one" : vtype_name(v->type));
    out->schema = 1;
    if ((v = slot[CANON_SCHEMA])) {
        if (v->type != V_INT || v->u.i < 1 || v->u.i > 1000000)
            return bad(reason, n, "'schema' must be an integer from 1, got %s",
                       v->type == V_INT ? "one out of range" : vtype_name(v->type));
        out->schema = (int)v->u.i;
    }
    v = slot[CANON_TIME];
    if (v->type != V_STRING)
        return bad(reason, n, "'time' must be a string, got %s", vtype_name(v->type));
    if (!time_parse(value_str(v), value_strlen(v), 0, &out->time_ms))
        return bad(reason, n,
                   "unreadable time '%.60s' (expected ISO-8601, e.g. 2026-11-27T10:00:00.123Z)",
                   value_str(v));
    time_format_ms(out->time_ms, out->time);
    v = slot[CANON_DATA];
    if (v->type != V_MAP)
        return bad(reason, n, "'data' must be a JSON object, got %s", vtype_name(v->type));
    const value *meta = slot[CANON_META];
    if (meta && meta->type != V_MAP && meta->type != V_NULL)
        return bad(reason, n, "'meta' must be a JSON object or null, got %s",
                   vtype_name(meta->type));

    out->stream = xstrdup(value_str(slot[CANON_STREAM]));
    out->type = xstrdup(value_str(slot[CANON_TYPE]));
    struct span dspan = {0, 0}, mspan = {0, 0};
    if (raw)
        raw_members(raw, len, &dspan, &mspan);
    out->data = member_text(raw, dspan, v);
    if (meta && meta->type == V_MAP)
        out->meta = member_text(raw, mspan, meta);
    return MAP_OK;
}

void version_check_init(struct version_check *vc)
{
    vc->cap = 64;
    vc->len = 0;
    vc->slots = xcalloc(vc->cap, sizeof *vc->slots);
}

void version_check_done(struct version_check *vc)
{
    for (size_t i = 0; i < vc->cap; i++)
        free(vc->slots[i].stream);
    free(vc->slots);
    memset(vc, 0, sizeof *vc);
}

/* The slot of stream (hash h): where it is, or the empty one it would take. A
 * table of its own rather than a value map: the map's lookup and then its set
 * were 4% of a canonical import. */
static struct version_slot *version_slot(struct version_check *vc, const char *stream, uint64_t h)
{
    size_t i = (size_t)h & (vc->cap - 1);
    while (vc->slots[i].stream &&
           (vc->slots[i].hash != h || strcmp(vc->slots[i].stream, stream) != 0))
        i = (i + 1) & (vc->cap - 1);
    return &vc->slots[i];
}

int version_check_next(struct version_check *vc, struct store *s, const char *stream,
                       int64_t version, char *reason, size_t n, err *e)
{
    uint64_t h = hash_fnv1a(HASH_FNV_INIT, stream, strlen(stream));
    struct version_slot *slot = version_slot(vc, stream, h);
    int64_t last;
    if (slot->stream) {
        last = slot->last;
    } else {
        if (store_stream_version(s, stream, 0, &last, e) != ST_OK)
            return -1;
    }
    if (version != last + 1) {
        if (version <= last)
            return bad(reason, n,
                       "version %lld of %s is already taken (the stream is at version %lld)",
                       (long long)version, stream, (long long)last);
        return bad(reason, n,
                   "version %lld of %s leaves a gap (the stream is at version %lld; expected %lld)",
                   (long long)version, stream, (long long)last, (long long)last + 1);
    }
    if (slot->stream) {
        slot->last = version;
        return MAP_OK;
    }
    if ((vc->len + 1) * 2 > vc->cap) {
        struct version_check grown = {xcalloc(vc->cap * 2, sizeof *vc->slots), vc->cap * 2,
                                      vc->len};
        for (size_t i = 0; i < vc->cap; i++)
            if (vc->slots[i].stream)
                *version_slot(&grown, vc->slots[i].stream, vc->slots[i].hash) = vc->slots[i];
        free(vc->slots);
        *vc = grown;
        slot = version_slot(vc, stream, h);
    }
    *slot = (struct version_slot){xstrdup(stream), h, version};
    vc->len++;
    return MAP_OK;
}
