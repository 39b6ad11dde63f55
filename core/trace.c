/* trace.c: the causation tree (trace.h): finding the root by an index, one
 * filtered forward pass for the rest, then putting the nodes in tree order. */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "value.h"

#define TRACE_PAGE 500

/* What an event's meta says about where it came from. */
struct origin {
    char *command, *command_id, *causation, *correlation;
};

static char *meta_str(const value *m, const char *key)
{
    const value *v = m->type == V_MAP ? value_map_get(m, key) : NULL;
    return v && v->type == V_STRING ? xstrndup(value_str(v), value_strlen(v)) : NULL;
}

static void origin_read(const struct event *ev, struct origin *o)
{
    memset(o, 0, sizeof *o);
    value m;
    if (!ev->meta || json_parse(ev->meta, strlen(ev->meta), &m, NULL) != ST_OK)
        return;
    o->command = meta_str(&m, "command");
    o->command_id = meta_str(&m, "commandId");
    o->causation = meta_str(&m, "causationId");
    o->correlation = meta_str(&m, "correlationId");
    value_free(m);
}

static void origin_done(struct origin *o)
{
    free(o->command);
    free(o->command_id);
    free(o->causation);
    free(o->correlation);
}

static char *event_id(const struct event *ev)
{
    return xasprintf("%s-%lld", ev->stream, (long long)ev->version);
}

static long find(const struct trace *t, enum trace_kind kind, const char *id)
{
    /* Linear: a tree is what one person reads, rarely more than a few hundred nodes. */
    for (size_t i = 0; id && i < t->n; i++)
        if (t->nodes[i].kind == kind && strcmp(t->nodes[i].id, id) == 0)
            return (long)i;
    return -1;
}

/* The node a causation id names: a command, or an event. */
static long find_cause(const struct trace *t, const char *id)
{
    long p = find(t, TRACE_EVENT, id);
    return p >= 0 ? p : find(t, TRACE_COMMAND, id);
}

static long add(struct trace *t, enum trace_kind kind, long parent, char *id,
                const struct origin *o, const struct event *ev)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->nodes = xrealloc(t->nodes, t->cap * sizeof *t->nodes);
    }
    struct trace_node *nd = &t->nodes[t->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = kind;
    nd->parent = parent;
    nd->depth = parent >= 0 ? t->nodes[parent].depth + 1 : 0;
    nd->id = id;
    nd->command = o->command ? xstrdup(o->command) : NULL;
    nd->causation = o->causation ? xstrdup(o->causation) : NULL;
    nd->correlation = o->correlation ? xstrdup(o->correlation) : NULL;
    struct event_list one = {0};
    event_list_push_copy(&one, ev);
    nd->ev = one.items[0];
    free(one.items);
    return (long)t->n++;
}

/* Adds ev (and its command, when new) to the tree if it belongs there: an event
 * of a command in the tree, or one whose cause is in the tree; in correlation
 * mode also any event of that correlation whose cause is not (a root). */
static void take(struct trace *t, const struct event *ev, const char *correlation)
{
    char *eid = event_id(ev);
    if (find(t, TRACE_EVENT, eid) >= 0) {
        free(eid);
        return;
    }
    struct origin o;
    origin_read(ev, &o);
    long cmd = o.command_id ? find(t, TRACE_COMMAND, o.command_id) : -1;
    if (cmd < 0) {
        long cause = o.causation ? find_cause(t, o.causation) : -1;
        bool root =
            cause < 0 && correlation && o.correlation && strcmp(o.correlation, correlation) == 0;
        if (cause < 0 && !root) {
            free(eid);
            origin_done(&o);
            return;
        }
        cmd = o.command_id ? add(t, TRACE_COMMAND, cause, xstrdup(o.command_id), &o, ev) : cause;
    }
    add(t, TRACE_EVENT, cmd, eid, &o, ev);
    origin_done(&o);
}

/* The root event(s) id names, into l. */
static int resolve(struct store *s, const char *id, struct event_list *l, bool *is_command, err *e)
{
    *is_command = false;
    const char *p = id;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*id && !*p) { /* a position */
        struct event_filter f = {0};
        int64_t pos = strtoll(id, NULL, 10);
        int rc = store_read_page(s, &f, pos > 0 ? pos - 1 : 0, false, 1, l, e);
        if (rc != ST_OK)
            return rc;
        if (l->len == 1 && l->items[0].position == pos)
            return ST_OK;
        event_list_clear(l);
    }
    const char *dash = strrchr(id, '-');
    if (dash && dash > id && dash[1]) { /* STREAM-VERSION */
        const char *v = dash + 1;
        while (*v >= '0' && *v <= '9')
            v++;
        if (!*v) {
            char *stream = xstrndup(id, (size_t)(dash - id));
            int64_t version = strtoll(dash + 1, NULL, 10);
            int rc = store_read_stream(s, stream, version, 0, 1, l, e);
            free(stream);
            if (rc != ST_OK)
                return rc;
            if (l->len == 1 && l->items[0].version == version)
                return ST_OK;
            event_list_clear(l);
        }
    }
    int rc = store_command_events(s, id, l, e);
    if (rc == ST_OK && l->len > 0) {
        *is_command = true;
        return ST_OK;
    }
    if (rc != ST_OK && rc != ST_NOT_FOUND)
        return rc;
    event_list_clear(l);
    err_clear(e);
    return ST_NOT_FOUND;
}

/* Puts the nodes in tree order (each before its children, siblings by position):
 * they were found in position order, so a stable walk from each root does it. */
static void tree_order(struct trace *t)
{
    if (t->n < 2)
        return;
    struct trace_node *out = xcalloc(t->n, sizeof *out);
    long *newidx = xcalloc(t->n, sizeof *newidx);
    long *stack = xcalloc(t->n + 1, sizeof *stack);
    size_t k = 0;
    for (size_t r = 0; r < t->n; r++) {
        if (t->nodes[r].parent >= 0)
            continue;
        size_t sp = 0;
        stack[sp++] = (long)r;
        while (sp) {
            long i = stack[--sp];
            newidx[i] = (long)k;
            out[k++] = t->nodes[i];
            /* children pushed in reverse, so the first found comes out first */
            for (size_t j = t->n; j-- > 0;)
                if (t->nodes[j].parent == i)
                    stack[sp++] = (long)j;
        }
    }
    for (size_t i = 0; i < k; i++)
        if (out[i].parent >= 0)
            out[i].parent = newidx[out[i].parent];
    free(t->nodes);
    t->nodes = out;
    t->n = k;
    free(newidx);
    free(stack);
}

int trace_build(struct store *s, const char *id, struct trace *out, err *e)
{
    memset(out, 0, sizeof *out);
    struct event_list roots;
    event_list_init(&roots);
    bool is_command;
    int rc = resolve(s, id, &roots, &is_command, e);
    const char *correlation = NULL;
    char *corr_owned = NULL;
    int64_t from = 0;
    if (rc == ST_NOT_FOUND) {
        correlation = id; /* a correlation id, or nothing */
    } else if (rc != ST_OK) {
        event_list_done(&roots);
        return rc;
    } else {
        struct origin o;
        origin_read(&roots.items[0], &o);
        if (!is_command && o.command_id) {
            /* An event of a command: the tree of that command, so that what the
             * command caused through its other events shows too. */
            struct event_list cmd;
            event_list_init(&cmd);
            err ignored;
            if (store_command_events(s, o.command_id, &cmd, &ignored) == ST_OK && cmd.len) {
                event_list_done(&roots);
                roots = cmd;
                is_command = true;
                id = o.command_id;
            } else {
                event_list_done(&cmd);
            }
        }
        corr_owned = o.correlation ? xstrdup(o.correlation) : NULL;
        long root = is_command ? add(out, TRACE_COMMAND, -1, xstrdup(id), &o, &roots.items[0]) : -1;
        for (size_t i = 0; i < roots.len; i++)
            add(out, TRACE_EVENT, root, event_id(&roots.items[i]), &o, &roots.items[i]);
        origin_done(&o);
        from = roots.items[roots.len - 1].position;
    }
    event_list_done(&roots);
    /* One pass: that correlation's events, else every caused event after the root. */
    struct event_filter f = {0};
    f.text = correlation ? correlation : corr_owned ? corr_owned : "causationId";
    struct event_iter *it = store_iter_open(s, &f, TRACE_PAGE);
    const struct event *ev;
    int r;
    bool corr_mode = correlation != NULL;
    while ((r = store_iter_next(it, &ev, e)) == 1) {
        out->scanned++;
        if (ev->position > from)
            take(out, ev, corr_mode ? correlation : NULL);
    }
    store_iter_close(it);
    free(corr_owned);
    if (r < 0) {
        trace_done(out);
        return ST_ERR;
    }
    if (out->n == 0)
        return err_set(e, ST_NOT_FOUND,
                       "'%s' is not a command id, an event id (STREAM-VERSION), a position or a "
                       "correlation id in this store",
                       id);
    tree_order(out);
    return ST_OK;
}

void trace_done(struct trace *t)
{
    for (size_t i = 0; i < t->n; i++) {
        struct trace_node *nd = &t->nodes[i];
        free(nd->id);
        free(nd->command);
        free(nd->causation);
        free(nd->correlation);
        free(nd->ev.stream);
        free(nd->ev.type);
        free(nd->ev.time);
        free(nd->ev.data);
        free(nd->ev.meta);
    }
    free(t->nodes);
    memset(t, 0, sizeof *t);
}
