/* inspect_stats.c: the frequency table of inspect_stats.h. */
#include "inspect_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_expr.h"
#include "json.h"

static void set_time(char *dst, const char *t)
{
    snprintf(dst, TIME_TEXT_LEN + 1, "%s", t ? t : "");
}

/* The group of (bucket, value), made when new and within the cap; NULL beyond it. */
static struct stats_group *group_of(struct stats_result *r, size_t cap, const char *bucket,
                                    size_t blen, const char *val, size_t vlen)
{
    strbuf key;
    sb_init(&key);
    sb_add(&key, bucket ? bucket : "", bucket ? blen : 0);
    sb_addc(&key, '\x1f'); /* a bucket never holds a control character */
    sb_add(&key, val ? val : "", val ? vlen : 0);
    int64_t id = intern_find(&r->keys, key.buf, key.len);
    if (id < 0) {
        if (r->keys.n >= cap) {
            sb_done(&key);
            return NULL;
        }
        id = intern_put(&r->keys, key.buf, key.len, NULL);
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 64;
            r->groups = xrealloc(r->groups, r->cap * sizeof *r->groups);
        }
        struct stats_group *g = &r->groups[r->n++];
        memset(g, 0, sizeof *g);
        g->value = val ? xstrndup(val, vlen) : NULL;
        g->bucket = bucket ? xstrndup(bucket, blen) : NULL;
    }
    sb_done(&key);
    return &r->groups[id];
}

static void count_into(struct stats_group *g, int64_t n, const char *first, const char *last)
{
    if (g->count == 0 || strcmp(first, g->first) < 0)
        set_time(g->first, first);
    if (g->count == 0 || strcmp(last, g->last) > 0)
        set_time(g->last, last);
    g->count += n;
}

struct row_ctx {
    struct stats_result *r;
    size_t cap;
    strbuf v;
};

static int store_row(void *ctx, const struct store_count_row *row, err *e)
{
    struct row_ctx *rc = ctx;
    sb_reset(&rc->v);
    if (row->value)
        json_write_string(&rc->v, row->value, strlen(row->value));
    struct stats_group *g =
        group_of(rc->r, rc->cap, row->bucket, row->bucket ? strlen(row->bucket) : 0,
                 row->value ? rc->v.buf : NULL, rc->v.len);
    rc->r->total += row->count;
    if (!g)
        rc->r->other += row->count;
    else
        count_into(g, row->count, row->first ? row->first : "", row->last ? row->last : "");
    return ST_OK;
}

static int scan(struct store *s, const struct stats_opts *o, size_t cap, struct stats_result *r,
                err *e)
{
    expr *xs[2] = {(expr *)o->where, (expr *)o->by};
    struct event_vars v;
    event_vars_init(&v, xs, 2);
    struct event_filter f = o->filter;
    f.envelope_only = !v.want_data && !v.want_meta;
    struct event_iter *it = store_iter_open(s, &f, 4096);
    const struct event *ev;
    strbuf val;
    sb_init(&val);
    int n;
    while ((n = store_iter_next(it, &ev, e)) == 1) {
        if (o->where || o->by)
            event_vars_set(&v, ev);
        if (!event_expr_match(o->where, &v))
            continue;
        const char *gv = NULL;
        if (o->by) {
            event_expr_json(o->by, &v, &val);
            gv = val.buf;
        } else if (o->by_field != STORE_GROUP_NONE) {
            const char *raw = o->by_field == STORE_GROUP_TYPE ? ev->type : ev->stream;
            sb_reset(&val);
            json_write_string(&val, raw, strlen(raw));
            gv = val.buf;
        }
        struct stats_group *g = group_of(
            r, cap, o->bucket_len ? ev->time : NULL,
            o->bucket_len ? strnlen(ev->time, (size_t)o->bucket_len) : 0, gv, gv ? val.len : 0);
        r->total++;
        if (!g)
            r->other++;
        else
            count_into(g, 1, ev->time, ev->time);
    }
    store_iter_close(it);
    sb_done(&val);
    event_vars_done(&v);
    return n < 0 ? ST_ERR : ST_OK;
}

int inspect_stats(struct store *s, const struct stats_opts *o, struct stats_result *r, err *e)
{
    memset(r, 0, sizeof *r);
    intern_init(&r->keys);
    size_t cap = o->max_groups ? o->max_groups : STATS_MAX_GROUPS;
    if (!o->where && !o->by && !(o->filter.text && *o->filter.text) && s->ops->count_by) {
        struct row_ctx rc = {r, cap, {0}};
        sb_init(&rc.v);
        int st = store_count_by(s, &o->filter, o->by_field, o->bucket_len, store_row, &rc, e);
        sb_done(&rc.v);
        r->by_store = true;
        return st;
    }
    return scan(s, o, cap, r, e);
}

static int by_count(const void *a, const void *b)
{
    const struct stats_group *x = a, *y = b;
    if (x->bucket && y->bucket) {
        int c = strcmp(x->bucket, y->bucket);
        if (c)
            return c;
    }
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->value ? x->value : "", y->value ? y->value : "");
}

void stats_sort(struct stats_result *r)
{
    if (r->n)
        qsort(r->groups, r->n, sizeof *r->groups, by_count);
}

void stats_result_done(struct stats_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->groups[i].value);
        free(r->groups[i].bucket);
    }
    free(r->groups);
    intern_done(&r->keys);
    memset(r, 0, sizeof *r);
}
