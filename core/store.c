/* store.c: the backend-independent half of the event store.
 *
 * Picks a backend for a path (store_open), forwards the convenience wrappers to the
 * backend's table of operations, owns the event list helpers, and builds the paging
 * iterator on top of ops->read_page so that a full scan never holds more than one
 * page of events in memory, whatever the backend. */
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_sqlite.h"

struct store *store_open(const char *path, const struct store_options *opt, err *e)
{
    if (!path || !*path) {
        err_set(e, ST_USAGE, "no store file given");
        return NULL;
    }
    struct store_options o = STORE_OPTIONS_DEFAULT;
    if (opt)
        o = *opt;
    const char *busy = getenv("STRATA_BUSY_TIMEOUT"), *pages = getenv("STRATA_MAX_PAGES");
    if (busy && *busy)
        o.busy_timeout_ms = atoi(busy);
    if (pages && *pages)
        o.max_pages = atoll(pages);
    opt = &o;
    bool existed = strcmp(path, ":memory:") == 0 || access(path, F_OK) == 0;
    /* Every path is an SQLite file today (":memory:" included); a PostgreSQL URL
     * would be recognised here and handed to its own backend. */
    struct store *s = store_sqlite_open(path, opt, e);
    if (s)
        s->created = !existed;
    return s;
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

int store_begin(struct store *s, err *e)
{
    return s->ops->begin(s, e);
}

int store_commit(struct store *s, err *e)
{
    return s->ops->commit(s, e);
}

void store_rollback(struct store *s)
{
    s->ops->rollback(s);
}

int store_append(struct store *s, const char *stream, int64_t expected_version,
                 const char *command_id, const struct new_event *events, size_t n,
                 struct event_list *appended, err *e)
{
    return s->ops->append(s, stream, expected_version, command_id, events, n, appended, e);
}

int store_command_events(struct store *s, const char *command_id, struct event_list *out, err *e)
{
    return s->ops->command_events(s, command_id, out, e);
}

int store_read_page(struct store *s, const struct event_filter *f, int64_t after, bool backward,
                    size_t limit, struct event_list *out, err *e)
{
    return s->ops->read_page(s, f, after, backward, limit, out, e);
}

int store_read_stream(struct store *s, const char *stream, int64_t from_version,
                      int64_t max_position, size_t limit, struct event_list *out, err *e)
{
    return s->ops->read_stream(s, stream, from_version, max_position, limit, out, e);
}

int store_head(struct store *s, int64_t *position, err *e)
{
    return s->ops->head(s, position, e);
}

int store_stream_version(struct store *s, const char *stream, int64_t max_position,
                         int64_t *version, err *e)
{
    return s->ops->stream_version(s, stream, max_position, version, e);
}

int store_count_streams(struct store *s, int64_t *count, err *e)
{
    return s->ops->count_streams(s, count, e);
}

int store_list_streams(struct store *s, const char *prefix, size_t offset, size_t limit,
                       struct stream_info **out, size_t *n, err *e)
{
    return s->ops->list_streams(s, prefix, offset, limit, out, n, e);
}

void stream_info_free(struct stream_info *infos, size_t n)
{
    if (!infos)
        return;
    for (size_t i = 0; i < n; i++)
        free(infos[i].name);
    free(infos);
}

int store_position_at_time(struct store *s, const char *time, int64_t *position, err *e)
{
    return s->ops->position_at_time(s, time, position, e);
}

int store_snapshot_put(struct store *s, const char *stream, const char *rules_hash,
                       const struct snapshot *snap, err *e)
{
    return s->ops->snapshot_put(s, stream, rules_hash, snap, e);
}

int store_snapshot_get(struct store *s, const char *stream, const char *rules_hash,
                       int64_t max_position, struct snapshot *out, err *e)
{
    return s->ops->snapshot_get(s, stream, rules_hash, max_position, out, e);
}

void snapshot_done(struct snapshot *snap)
{
    if (!snap)
        return;
    free(snap->state);
    snap->state = NULL;
}

/* ---- event lists ---- */

void event_list_init(struct event_list *l)
{
    l->items = NULL;
    l->len = l->cap = 0;
}

static void event_free_strings(struct event *ev)
{
    free(ev->stream);
    free(ev->type);
    free(ev->time);
    free(ev->data);
    free(ev->meta);
}

void event_list_clear(struct event_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        event_free_strings(&l->items[i]);
    l->len = 0;
}

void event_list_done(struct event_list *l)
{
    event_list_clear(l);
    free(l->items);
    event_list_init(l);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void event_list_push_copy(struct event_list *l, const struct event *ev)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    struct event *d = &l->items[l->len++];
    d->position = ev->position;
    d->version = ev->version;
    d->schema = ev->schema;
    d->stream = dup_or_null(ev->stream);
    d->type = dup_or_null(ev->type);
    d->time = dup_or_null(ev->time);
    d->data = dup_or_null(ev->data);
    d->meta = dup_or_null(ev->meta);
}

/* ---- the paging iterator ---- */

struct event_iter {
    struct store *s;
    struct event_filter f; /* its strings are copies owned by the iterator */
    size_t page;
    struct event_list buf; /* the current page */
    size_t next;           /* index of the next event to hand out from buf */
    int64_t after;         /* position of the last event read */
    bool end;              /* the last page read was short: nothing more to fetch */
};

struct event_iter *store_iter_open(struct store *s, const struct event_filter *f, size_t page)
{
    struct event_iter *it = xcalloc(1, sizeof *it);
    it->s = s;
    if (f) {
        it->f = *f;
        it->f.stream = dup_or_null(f->stream);
        it->f.type = dup_or_null(f->type);
        it->f.text = dup_or_null(f->text);
    }
    it->page = page ? page : 1000;
    event_list_init(&it->buf);
    return it;
}

int store_iter_next(struct event_iter *it, const struct event **ev, err *e)
{
    if (it->next >= it->buf.len) {
        if (it->end)
            return 0;
        event_list_clear(&it->buf);
        it->next = 0;
        if (store_read_page(it->s, &it->f, it->after, false, it->page, &it->buf, e) != ST_OK)
            return -1;
        if (it->buf.len < it->page)
            it->end = true;
        if (it->buf.len == 0)
            return 0;
        it->after = it->buf.items[it->buf.len - 1].position;
    }
    *ev = &it->buf.items[it->next++];
    return 1;
}

void store_iter_close(struct event_iter *it)
{
    if (!it)
        return;
    event_list_done(&it->buf);
    free((char *)it->f.stream);
    free((char *)it->f.type);
    free((char *)it->f.text);
    free(it);
}

int store_ledger_claim(struct store *s, const unsigned char id[16], int64_t position, bool *fresh,
                       err *e)
{
    return s->ops->ledger_claim(s, id, position, fresh, e);
}

int store_type_counts(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                      err *e)
{
    *out = NULL;
    *n = 0;
    return s->ops->type_counts(s, max_position, out, n, e);
}

int store_query(struct store *s, const char *sql, int64_t timeout_ms,
                const struct store_query_sink *sink, err *e)
{
    return s->ops->query(s, sql, timeout_ms, sink, e);
}

void type_counts_free(struct type_count *tc, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tc[i].type);
    free(tc);
}
