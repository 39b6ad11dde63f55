/* store.c: the backend-independent half of the event store.
 *
 * Picks a backend for a path (store_open), forwards the convenience wrappers to the
 * backend's table of operations, and builds the paging
 * iterator on top of ops->read_page so that a full scan never holds more than one
 * page of events in memory, whatever the backend. */
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_backend.h"
#include "store_branch.h"
#include "store_pg.h"
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
    const char *branch = o.branch && *o.branch && strcmp(o.branch, "main") != 0 ? o.branch : NULL;
    if (branch)
        o.create = false; /* a branch is of a store that is there */
    if (store_kind_of(path) == STORE_POSTGRESQL) {
        struct store *pg = store_pg_open(path, opt, e); /* a database: "created" means nothing */
        if (pg && branch)
            return store_branch_open(pg, branch, e); /* takes pg, closing it on failure */
        return pg;
    }
    bool existed = strcmp(path, ":memory:") == 0 || access(path, F_OK) == 0;
    struct store *s = store_sqlite_open(path, opt, e); /* ":memory:" included */
    if (s)
        s->created = !existed;
    if (s && branch)
        return store_branch_open(s, branch, e); /* takes s, closing it on failure */
    return s;
}

void store_close(struct store *s)
{
    if (s) {
        state_cache_free(s->states);
        s->states = NULL;
        s->ops->close(s);
    }
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

int store_wait_head(struct store *s, int64_t after, int timeout_ms, int64_t *head, err *e)
{
    return s->ops->wait_head(s, after, timeout_ms < 0 ? 0 : timeout_ms, head, e);
}

int store_stream_version(struct store *s, const char *stream, int64_t max_position,
                         int64_t *version, err *e)
{
    return s->ops->stream_version(s, stream, max_position, version, e);
}

int store_meta_get(struct store *s, const char *key, char **value, err *e)
{
    *value = NULL;
    if (!s->ops->meta_get)
        return ST_NOT_FOUND; /* a backend that keeps no notes has none */
    return s->ops->meta_get(s, key, value, e);
}

int store_meta_set(struct store *s, const char *key, const char *value, err *e)
{
    if (!s->ops->meta_set)
        return err_set(e, ST_ERR, "the %s store cannot keep notes", s->ops->name);
    return s->ops->meta_set(s, key, value, e);
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

int store_count_by(struct store *s, const struct event_filter *f, enum store_group by,
                   int bucket_len, store_count_fn fn, void *ctx, err *e)
{
    if (!s->ops->count_by)
        return err_set(e, ST_ERR, "the %s store cannot count events by group", s->ops->name);
    return s->ops->count_by(s, f, by, bucket_len, fn, ctx, e);
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

int store_append_time(struct store *s, int64_t position, int64_t *ms, err *e)
{
    if (!s->ops->append_time)
        return err_set(e, ST_NOT_FOUND, "the %s store keeps no append times", s->ops->name);
    return s->ops->append_time(s, position, ms, e);
}

int store_health(struct store *s, struct store_health *out, err *e)
{
    memset(out, 0, sizeof *out);
    if (!s->ops->health)
        return err_set(e, ST_ERR, "the %s store cannot check its health", s->ops->name);
    return s->ops->health(s, out, e);
}

int store_type_counts(struct store *s, struct type_count **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (!s->ops->type_counts)
        return err_set(e, ST_ERR, "the %s store cannot count its event types", s->ops->name);
    return s->ops->type_counts(s, out, n, e);
}

const struct store_copy_table store_copy_tables[] = {
    {"projection_skips", "projection, position, reason, skipped_at", 4, 2},
    {"append_times", "first_position, appended_at", 2, 3},
    {"branches", "name, fork_position, created_at", 3, 6},
    {"branch_events",
     "branch, position, stream, version, type, schema, time, data, meta, command_id", 10, 6},
};
const size_t store_ncopy_tables = sizeof store_copy_tables / sizeof store_copy_tables[0];

const struct store_copy_table *store_copy_table(const char *name)
{
    for (size_t i = 0; name && i < store_ncopy_tables; i++)
        if (strcmp(store_copy_tables[i].name, name) == 0)
            return &store_copy_tables[i];
    return NULL;
}

int store_copy_put(struct store *s, const char *table, const struct store_cell *cells, size_t n,
                   err *e)
{
    const struct store_copy_table *t = store_copy_table(table);
    if (!t || (size_t)t->ncols != n)
        return err_set(e, ST_USAGE, "%s is not a table a copy carries with %zu columns",
                       table ? table : "(none)", n);
    if (!s->ops->copy_put)
        return err_set(e, ST_ERR, "the %s store cannot take copied rows", s->ops->name);
    return s->ops->copy_put(s, table, cells, n, e);
}

int store_clear_times(struct store *s, int64_t from, int64_t to, err *e)
{
    if (!s->ops->clear_times)
        return err_set(e, ST_ERR, "the %s store cannot take copied rows", s->ops->name);
    return s->ops->clear_times(s, from, to, e);
}

void type_counts_free(struct type_count *tc, size_t n)
{
    for (size_t i = 0; tc && i < n; i++)
        free(tc[i].type);
    free(tc);
}

void snapshot_done(struct snapshot *snap)
{
    if (!snap)
        return;
    free(snap->state);
    snap->state = NULL;
}

/* ---- helpers of the backends (store_backend.h) ---- */

/* Is s already the canonical text of a valid instant (util.h, time_canonical_ms),
 * so that parsing and formatting it again would give it back? */
static bool time_canonical(const char *s)
{
    return time_canonical_ms(s, strnlen(s, TIME_TEXT_LEN + 1), NULL); /* reads stop at its end */
}

bool store_time_text(const char *in, char out[TIME_TEXT_LEN + 1])
{
    int64_t ms;
    if (in && time_canonical(in)) { /* the common case: mapped times are canonical */
        memcpy(out, in, TIME_TEXT_LEN + 1);
        return true;
    }
    if (!in)
        ms = time_now_ms();
    else if (!time_parse(in, strlen(in), 0, &ms))
        return false;
    time_format_ms(ms, out);
    return true;
}

int store_append_check(const char *stream, int64_t expected_version, const char *command_id,
                       const struct new_event *events, size_t n, char (*times)[TIME_TEXT_LEN + 1],
                       err *e)
{
    if (!stream || !*stream)
        return err_set(e, ST_USAGE, "an append needs a stream name");
    if (n == 0 || !events)
        return err_set(e, ST_USAGE, "an append to %s needs at least one event", stream);
    if (expected_version < STORE_ANY_VERSION)
        return err_set(e, ST_USAGE, "bad expected version %lld for stream %s",
                       (long long)expected_version, stream);
    if (command_id && !*command_id)
        return err_set(e, ST_USAGE, "an empty command id (leave it out instead)");
    for (size_t i = 0; i < n; i++) {
        const struct new_event *ev = &events[i];
        if (!ev->type || !*ev->type)
            return err_set(e, ST_USAGE, "event %zu of the append to %s has no type", i + 1, stream);
        if (!ev->data)
            return err_set(e, ST_USAGE, "event %zu of the append to %s has no data", i + 1, stream);
        if (!store_time_text(ev->time, times[i]))
            return err_set(e, ST_USAGE,
                           "event %zu of the append to %s: bad time '%s' (expected ISO-8601 "
                           "such as 2026-11-27T10:00:00.123Z)",
                           i + 1, stream, ev->time);
    }
    return ST_OK;
}

int store_aborted_error(err *e)
{
    return err_set(e, ST_ERR,
                   "the transaction was rolled back after an earlier error; roll it back "
                   "and start again");
}

void store_like_pattern(strbuf *sb, const char *text)
{
    sb_addc(sb, '%');
    for (const char *p = text; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            sb_addc(sb, '\\');
        sb_addc(sb, *p);
    }
    sb_addc(sb, '%');
}

bool store_page_window(const struct event_filter *f, int64_t after, bool backward, int64_t *lo,
                       int64_t *hi)
{
    int64_t from = f ? f->from : 0, to = f ? f->to : 0;
    *lo = from > 1 ? from - 1 : 0;
    *hi = to > 0 ? to : INT64_MAX;
    if (!backward && after > *lo)
        *lo = after;
    if (backward && after > 0 && after - 1 < *hi)
        *hi = after - 1;
    return *hi > *lo;
}

void store_drop_appended(struct event_list *out, size_t had)
{
    event_list_drop(out, had);
}

void store_push_appended(struct event_list *out, const char *stream, int64_t first, int64_t version,
                         const struct new_event *events, size_t n, char (*times)[TIME_TEXT_LEN + 1])
{
    for (size_t i = 0; i < n; i++) {
        struct event *ev = event_list_add(out);
        ev->position = first + (int64_t)i;
        ev->version = version + (int64_t)i + 1;
        ev->schema = events[i].schema;
        ev->stream = xstrdup(stream);
        ev->type = xstrdup(events[i].type);
        ev->time = xstrdup(times[i]);
        ev->data = xstrdup(events[i].data);
        ev->meta = events[i].meta ? xstrdup(events[i].meta) : NULL;
    }
}

int store_poll_head(struct store *s, int64_t after, int timeout_ms, int64_t *head, err *e)
{
    int64_t until = time_now_ms() + timeout_ms;
    for (;;) {
        if (s->ops->head(s, head, e) != ST_OK)
            return ST_ERR;
        int64_t left = until - time_now_ms();
        if (*head > after || left <= 0)
            return ST_OK;
        long ms = left < STORE_WAIT_POLL_MS ? (long)left : STORE_WAIT_POLL_MS;
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
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
    /* A backend without a ledger (PostgreSQL, for now) imports every record, as
     * --allow-duplicates does; README's PostgreSQL section says so. */
    if (!s->ops->ledger_claim) {
        *fresh = true;
        return ST_OK;
    }
    return s->ops->ledger_claim(s, id, position, fresh, e);
}

int store_ledger_claim_many(struct store *s, const struct ledger_claim *claims, size_t n, err *e)
{
    if (s->ops->ledger_claim_many)
        return s->ops->ledger_claim_many(s, claims, n, e);
    int rc = ST_OK;
    for (size_t k = 0; rc == ST_OK && k < n; k++) {
        bool fresh;
        rc = store_ledger_claim(s, claims[k].id, claims[k].position, &fresh, e);
    }
    return rc;
}

bool store_ledger_probes(struct store *s)
{
    return s->ops->ledger_claim && s->ops->ledger_has;
}

int store_ledger_has(struct store *s, const unsigned char id[16], bool *present, err *e)
{
    *present = false;
    return store_ledger_probes(s) ? s->ops->ledger_has(s, id, present, e) : ST_OK;
}

bool store_ledger_empty(struct store *s)
{
    bool any = true;
    err e;
    err_clear(&e);
    return store_ledger_probes(s) && s->ops->ledger_has(s, NULL, &any, &e) == ST_OK && !any;
}

int store_type_totals(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                      err *e)
{
    *out = NULL;
    *n = 0;
    if (!s->ops->type_totals)
        return err_set(e, ST_ERR, "the %s store cannot count its event types", s->ops->name);
    return s->ops->type_totals(s, max_position, out, n, e);
}

int store_query(struct store *s, const char *sql, int64_t timeout_ms,
                const struct store_query_sink *sink, err *e)
{
    if (!s->ops->query)
        return err_set(e, ST_ERR, "the %s store cannot run SQL statements yet", s->ops->name);
    return s->ops->query(s, sql, timeout_ms, sink, e);
}
