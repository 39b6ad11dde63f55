/* store_branch.c: a what-if branch as a store (see store_branch.h): the
 * operations of store.h over main up to the fork point plus the branch's rows of
 * branch_events, in main's store and on main's connection (so main's
 * transactions are the branch's too), SQLite or PostgreSQL: the statements are
 * plain SQL both run, through store_branch_sql.h. Creating, listing and dropping branches
 * are here as well.
 *
 * Reads split at the fork point P: what is at or before P is main's (read
 * through main's own operations, their positions capped at P), what is past it
 * the branch's. A branch is expected to be small beside main, so its statements
 * are prepared per call and lean on branch_events' keys: (branch, position) and
 * (branch, stream, version). */
#include "store_branch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "store_branch_sql.h"

#define BR_COLS                                                                                    \
    "SELECT position, stream, version, type, schema, time, data, meta FROM branch_events "

struct br_store {
    struct store base; /* base.under: main */
    struct store *main;
    const struct br_sql *sql; /* how statements run on main's connection */
    char *name;
    int64_t fork;
    bool in_tx; /* a transaction of the caller's, begun through the branch */
    void *slot;
    void (*slot_free)(void *);
};

extern const struct store_ops store_branch_ops;

static struct br_store *BR(struct store *s)
{
    return (struct br_store *)s;
}

bool store_branch_of(struct store *s, const char **name, int64_t *fork, struct store **main)
{
    if (!s || s->ops != &store_branch_ops)
        return false;
    if (name)
        *name = BR(s)->name;
    if (fork)
        *fork = BR(s)->fork;
    if (main)
        *main = BR(s)->main;
    return true;
}

void *store_branch_slot_get(struct store *s)
{
    return store_branch_of(s, NULL, NULL, NULL) ? BR(s)->slot : NULL;
}

void store_branch_slot_set(struct store *s, void *p, void (*free_fn)(void *))
{
    if (!store_branch_of(s, NULL, NULL, NULL))
        return;
    struct br_store *b = BR(s);
    if (b->slot && b->slot_free)
        b->slot_free(b->slot);
    b->slot = p;
    b->slot_free = free_fn;
}

/* ---- SQL helpers ---- */

static int run(struct br_store *b, const char *sql, const struct br_arg *args, size_t nargs,
               br_row_fn fn, void *ctx, err *e, const char *doing)
{
    return b->sql->run(b->main, sql, args, nargs, fn, ctx, NULL, e, doing);
}

static int64_t num(const char *cell)
{
    return cell ? strtoll(cell, NULL, 10) : 0;
}

static char *dup_or(const char *cell, const char *dflt)
{
    return xstrdup(cell ? cell : dflt);
}

/* One row of BR_COLS appended to the event list ctx. */
static int event_row(void *ctx, const char *const *c, int n, err *e)
{
    (void)n;
    (void)e;
    struct event *ev = event_list_add(ctx);
    ev->position = num(c[0]);
    ev->stream = dup_or(c[1], "");
    ev->version = num(c[2]);
    ev->type = dup_or(c[3], "");
    ev->schema = (int)num(c[4]);
    ev->time = dup_or(c[5], "");
    ev->data = dup_or(c[6], "{}");
    ev->meta = c[7] ? xstrdup(c[7]) : NULL;
    return ST_OK;
}

/* Runs sql (selecting BR_COLS) and appends its events to out. */
static int read_rows(struct br_store *b, const char *sql, const struct br_arg *args, size_t nargs,
                     struct event_list *out, err *e)
{
    return run(b, sql, args, nargs, event_row, out, e, "reading a branch's events");
}

struct one {
    int64_t v;
    bool found;
};

static int one_row(void *ctx, const char *const *c, int n, err *e)
{
    (void)e;
    struct one *o = ctx;
    if (n > 0 && c[0]) {
        o->v = num(c[0]);
        o->found = true;
    }
    return ST_OK;
}

/* One integer from sql; *found false on no row or NULL (*out then untouched). */
static int one_int(struct br_store *b, const char *sql, const struct br_arg *args, size_t nargs,
                   int64_t *out, bool *found, err *e, const char *doing)
{
    struct one o = {0, false};
    int rc = run(b, sql, args, nargs, one_row, &o, e, doing);
    *found = rc == ST_OK && o.found;
    if (*found)
        *out = o.v;
    return rc;
}

/* The branch's last position (the fork point when it has no events). */
static int branch_head(struct br_store *b, int64_t *head, err *e)
{
    struct br_arg args[] = {BA_T(b->name)};
    bool found;
    int64_t h = 0;
    int rc = one_int(b, "SELECT max(position) FROM branch_events WHERE branch = ?", args, 1, &h,
                     &found, e, "reading a branch's head");
    *head = found && h > b->fork ? h : b->fork;
    return rc;
}

/* The stream's version on the branch as of position mp (> fork): its own
 * events first; *found false when it has none there. */
static int branch_version(struct br_store *b, const char *stream, int64_t mp, int64_t *version,
                          bool *found, err *e)
{
    struct br_arg args[] = {BA_T(b->name), BA_T(stream), BA_N(mp)};
    return one_int(b,
                   "SELECT max(version) FROM branch_events WHERE branch = ? AND stream = ? AND "
                   "position <= ?",
                   args, 3, version, found, e, "reading a stream of a branch");
}

static int64_t cap_at_fork(const struct br_store *b, int64_t max_position)
{
    return max_position > 0 && max_position < b->fork ? max_position : b->fork;
}

/* ---- the operations ---- */

static void br_close(struct store *s)
{
    struct br_store *b = BR(s);
    if (b->slot && b->slot_free)
        b->slot_free(b->slot);
    store_close(b->main);
    free(b->name);
    free(b->base.path);
    free(b);
}

static int br_begin(struct store *s, err *e)
{
    int rc = store_begin(BR(s)->main, e);
    if (rc == ST_OK)
        BR(s)->in_tx = true;
    return rc;
}

static int br_commit(struct store *s, err *e)
{
    BR(s)->in_tx = false;
    return store_commit(BR(s)->main, e);
}

static void br_rollback(struct store *s)
{
    BR(s)->in_tx = false;
    store_rollback(BR(s)->main);
}

/* The events command_id appended on the branch (or on main up to the fork). */
static int find_command(struct br_store *b, const char *command_id, struct event_list *out,
                        bool *found, err *e)
{
    *found = false;
    struct event_list l;
    event_list_init(&l);
    err ignored;
    if (b->fork > 0 && store_command_events(b->main, command_id, &l, &ignored) == ST_OK &&
        l.len > 0 && l.items[l.len - 1].position <= b->fork) {
        *found = true;
        for (size_t i = 0; out && i < l.len; i++)
            event_list_push_copy(out, &l.items[i]);
    }
    event_list_done(&l);
    if (*found)
        return ST_OK;
    struct br_arg args[] = {BA_T(b->name), BA_T(command_id)};
    int rc = read_rows(b, BR_COLS "WHERE branch = ? AND command_id = ? ORDER BY position", args, 2,
                       &l, e);
    *found = rc == ST_OK && l.len > 0;
    for (size_t i = 0; out && *found && i < l.len; i++)
        event_list_push_copy(out, &l.items[i]);
    event_list_done(&l);
    return rc;
}

static int stream_version_at(struct br_store *b, const char *stream, int64_t mp, int64_t *version,
                             err *e);

static int append_in_tx(struct br_store *b, const char *stream, int64_t expected,
                        const char *command_id, const struct new_event *events, size_t n,
                        char (*times)[TIME_TEXT_LEN + 1], struct event_list *appended, err *e)
{
    if (command_id) {
        bool found;
        struct event_list prior;
        event_list_init(&prior);
        int rc = find_command(b, command_id, &prior, &found, e);
        if (rc == ST_OK && found) {
            rc = err_set(e, ST_DUPLICATE,
                         "command %s was already processed (it appended positions %lld..%lld)",
                         command_id, (long long)prior.items[0].position,
                         (long long)prior.items[prior.len - 1].position);
            for (size_t i = 0; appended && i < prior.len; i++)
                event_list_push_copy(appended, &prior.items[i]);
        }
        event_list_done(&prior);
        if (rc != ST_OK)
            return rc;
    }
    int64_t version = 0, head = 0;
    if (stream_version_at(b, stream, INT64_MAX, &version, e) != ST_OK ||
        branch_head(b, &head, e) != ST_OK)
        return ST_ERR;
    if (expected == STORE_NO_STREAM && version != 0)
        return err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected a new stream",
                       stream, (long long)version);
    if (expected > 0 && version != expected)
        return err_set(e, ST_CONFLICT, "stream %s is at version %lld, expected %lld", stream,
                       (long long)version, (long long)expected);
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        struct br_arg args[] = {BA_T(b->name),        BA_N(head + 1 + (int64_t)i),
                                BA_T(stream),         BA_N(version + 1 + (int64_t)i),
                                BA_T(events[i].type), BA_N(events[i].schema),
                                BA_T(times[i]),       BA_T(events[i].data),
                                BA_T(events[i].meta), BA_T(command_id)};
        rc = run(b,
                 "INSERT INTO branch_events(branch, position, stream, version, type, schema, "
                 "time, data, meta, command_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 args, 10, NULL, NULL, e, "appending to a branch");
        if (rc == ST_DUPLICATE)
            rc = ST_ERR; /* another writer's: the lock should have kept it out */
    }
    if (rc == ST_OK && appended)
        store_push_appended(appended, stream, head + 1, version, events, n, times);
    return rc;
}

static int br_append(struct store *s, const char *stream, int64_t expected_version,
                     const char *command_id, const struct new_event *events, size_t n,
                     struct event_list *appended, err *e)
{
    struct br_store *b = BR(s);
    char small[4][TIME_TEXT_LEN + 1];
    char(*times)[TIME_TEXT_LEN + 1] = n <= 4 ? small : xmalloc(n * sizeof *times);
    int rc = store_append_check(stream, expected_version, command_id, events, n, times, e);
    bool own = !b->in_tx;
    if (rc == ST_OK && own)
        rc = store_begin(b->main, e);
    if (rc == ST_OK) {
        size_t had = appended ? appended->len : 0;
        rc = append_in_tx(b, stream, expected_version, command_id, events, n, times, appended, e);
        if (rc == ST_OK && own)
            rc = store_commit(b->main, e);
        else if (own)
            store_rollback(b->main);
        if (rc != ST_OK && rc != ST_DUPLICATE && appended)
            store_drop_appended(appended, had);
    }
    if (times != small)
        free(times);
    return rc;
}

static int br_command_events(struct store *s, const char *command_id, struct event_list *out,
                             err *e)
{
    bool found;
    if (!command_id)
        return err_set(e, ST_NOT_FOUND, "no command id given");
    if (find_command(BR(s), command_id, out, &found, e) != ST_OK)
        return ST_ERR;
    return found ? ST_OK : err_set(e, ST_NOT_FOUND, "unknown command id: %s", command_id);
}

/* The branch's events in (lo, hi] matching f, forward or backward, at most limit. */
static int branch_page(struct br_store *b, const struct event_filter *f, int64_t lo, int64_t hi,
                       bool backward, size_t limit, struct event_list *out, err *e)
{
    strbuf sql, pattern;
    sb_init(&sql);
    sb_init(&pattern);
    struct br_arg args[9];
    size_t na = 0;
    args[na++] = BA_T(b->name);
    args[na++] = BA_N(lo);
    args[na++] = BA_N(hi);
    sb_adds(&sql, BR_COLS "WHERE branch = ? AND position > ? AND position <= ?");
    if (f->stream) {
        sb_adds(&sql, " AND stream = ?");
        args[na++] = BA_T(f->stream);
    }
    if (f->type) {
        sb_adds(&sql, " AND type = ?");
        args[na++] = BA_T(f->type);
    }
    if (f->text && *f->text) {
        store_like_pattern(&pattern, f->text);
        static const char *const cols[] = {"stream", "type", "data", "meta"};
        for (int i = 0; i < 4; i++) {
            sb_addf(&sql, "%s%s %s ? ESCAPE '\\'", i ? " OR " : " AND (", cols[i], b->sql->like);
            args[na++] = BA_T(pattern.buf);
        }
        sb_adds(&sql, ")");
    }
    sb_addf(&sql, " ORDER BY position%s", backward ? " DESC" : "");
    if (limit)
        sb_addf(&sql, " LIMIT %zu", limit);
    int rc = read_rows(b, sql.buf, args, na, out, e);
    sb_done(&sql);
    sb_done(&pattern);
    return rc;
}

/* main's events in (lo, hi] (hi <= fork) matching f. */
static int main_page(struct br_store *b, const struct event_filter *f, int64_t lo, int64_t hi,
                     bool backward, size_t limit, struct event_list *out, err *e)
{
    if (hi <= lo || hi <= 0)
        return ST_OK;
    struct event_filter m = *f;
    m.from = lo + 1;
    m.to = hi;
    return store_read_page(b->main, &m, 0, backward, limit, out, e);
}

static int br_read_page(struct store *s, const struct event_filter *f, int64_t after, bool backward,
                        size_t limit, struct event_list *out, err *e)
{
    struct br_store *b = BR(s);
    static const struct event_filter none;
    if (!f)
        f = &none;
    int64_t lo, hi;
    if (!store_page_window(f, after, backward, &lo, &hi))
        return ST_OK;
    int64_t mhi = hi < b->fork ? hi : b->fork, blo = lo > b->fork ? lo : b->fork;
    size_t had = out->len;
    if (!backward) {
        if (main_page(b, f, lo, mhi, false, limit, out, e) != ST_OK)
            return ST_ERR;
        size_t got = out->len - had;
        if (hi > blo && (limit == 0 || got < limit))
            return branch_page(b, f, blo, hi, false, limit ? limit - got : 0, out, e);
        return ST_OK;
    }
    if (hi > blo && branch_page(b, f, blo, hi, true, limit, out, e) != ST_OK)
        return ST_ERR;
    size_t got = out->len - had;
    if (limit == 0 || got < limit)
        return main_page(b, f, lo, mhi, true, limit ? limit - got : 0, out, e);
    return ST_OK;
}

static int br_read_stream(struct store *s, const char *stream, int64_t from_version,
                          int64_t max_position, size_t limit, struct event_list *out, err *e)
{
    struct br_store *b = BR(s);
    if (!stream)
        return err_set(e, ST_USAGE, "no stream given");
    int64_t mp = max_position > 0 ? max_position : INT64_MAX;
    size_t had = out->len;
    if (b->fork > 0 && store_read_stream(b->main, stream, from_version,
                                         cap_at_fork(b, max_position), limit, out, e) != ST_OK)
        return ST_ERR;
    size_t got = out->len - had;
    if (mp <= b->fork || (limit > 0 && got >= limit))
        return ST_OK;
    char sql[256];
    snprintf(sql, sizeof sql, "%s",
             BR_COLS "WHERE branch = ? AND stream = ? AND version >= ? AND "
                     "position <= ? ORDER BY version");
    if (limit)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " LIMIT %zu", limit - got);
    struct br_arg args[] = {BA_T(b->name), BA_T(stream), BA_N(from_version), BA_N(mp)};
    return read_rows(b, sql, args, 4, out, e);
}

static int br_head(struct store *s, int64_t *position, err *e)
{
    return branch_head(BR(s), position, e);
}

static int stream_version_at(struct br_store *b, const char *stream, int64_t mp, int64_t *version,
                             err *e)
{
    *version = 0;
    if (mp > b->fork) {
        bool found;
        if (branch_version(b, stream, mp, version, &found, e) != ST_OK)
            return ST_ERR;
        if (found)
            return ST_OK;
    }
    if (b->fork <= 0)
        return ST_OK;
    return store_stream_version(b->main, stream, mp < b->fork ? mp : b->fork, version, e);
}

static int br_stream_version(struct store *s, const char *stream, int64_t max_position,
                             int64_t *version, err *e)
{
    *version = 0;
    if (!stream)
        return err_set(e, ST_USAGE, "no stream given");
    return stream_version_at(BR(s), stream, max_position > 0 ? max_position : INT64_MAX, version,
                             e);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct stream_info *)a)->name, ((const struct stream_info *)b)->name);
}

/* What br_list_streams merges the branch's own streams into. */
struct own_streams {
    struct stream_info **list;
    size_t *len, *cap;
    const char *prefix;
    size_t plen, offset;
    bool full;
    const char *first, *last;
};

static int own_stream(void *ctx, const char *const *c, int n, err *e)
{
    (void)n;
    (void)e;
    struct own_streams *o = ctx;
    const char *name = c[0];
    if (!name || (o->plen && strncmp(name, o->prefix, o->plen) != 0))
        return ST_OK;
    struct stream_info *list = *o->list;
    for (size_t i = 0; i < *o->len; i++)
        if (strcmp(list[i].name, name) == 0) {
            list[i].version = num(c[1]);
            list[i].last_position = num(c[2]);
            return ST_OK;
        }
    if (num(c[3]) != 1)
        return ST_OK; /* a stream of main's the branch went on with */
    const char *first = o->first, *last = o->last;
    bool full = o->full;
    bool in = o->offset == 0
                  ? (!full || strcmp(name, last) <= 0)
                  : (first && strcmp(name, first) > 0 && (!full || strcmp(name, last) <= 0));
    if (!in)
        return ST_OK;
    if (*o->len == *o->cap) {
        *o->cap = *o->cap ? *o->cap * 2 : 16;
        *o->list = list = xrealloc(list, *o->cap * sizeof *list);
    }
    list[*o->len].name = xstrdup(name);
    list[*o->len].version = num(c[1]);
    list[*o->len].last_position = num(c[2]);
    (*o->len)++;
    return ST_OK;
}

/* main's streams as of the fork point, paged as main pages them; then the
 * branch's streams: their versions replace main's, and those the branch began
 * join the page whose names they fall among (the first page takes those before
 * it, the last those after it). */
static int br_list_streams(struct store *s, const char *prefix, size_t offset, size_t limit,
                           struct stream_info **out, size_t *n, err *e)
{
    struct br_store *b = BR(s);
    struct stream_info *raw = NULL;
    size_t nraw = 0;
    *out = NULL;
    *n = 0;
    if (b->fork > 0 && store_list_streams(b->main, prefix, offset, limit, &raw, &nraw, e) != ST_OK)
        return ST_ERR;
    bool full = limit > 0 && nraw == limit;
    char *first = nraw ? xstrdup(raw[0].name) : NULL,
         *last = nraw ? xstrdup(raw[nraw - 1].name) : NULL;
    struct stream_info *list = NULL;
    size_t len = 0, cap = 0;
    int rc = ST_OK;
    for (size_t i = 0; i < nraw && rc == ST_OK; i++) {
        struct stream_info si = raw[i];
        raw[i].name = NULL;
        if (si.last_position > b->fork) {
            struct event_list l;
            event_list_init(&l);
            rc = store_stream_version(b->main, si.name, b->fork, &si.version, e);
            if (rc == ST_OK && si.version > 0)
                rc = store_read_stream(b->main, si.name, si.version, b->fork, 1, &l, e);
            si.last_position = l.len ? l.items[0].position : 0;
            event_list_done(&l);
            if (si.version == 0) {
                free(si.name);
                continue;
            }
        }
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            list = xrealloc(list, cap * sizeof *list);
        }
        list[len++] = si;
    }
    stream_info_free(raw, nraw);
    struct own_streams os = {&list,  &len, &cap,  prefix, prefix ? strlen(prefix) : 0,
                             offset, full, first, last};
    struct br_arg args[] = {BA_T(b->name)};
    if (rc == ST_OK)
        rc = run(b,
                 "SELECT stream, max(version), max(position), min(version) FROM branch_events "
                 "WHERE branch = ? GROUP BY stream ORDER BY stream",
                 args, 1, own_stream, &os, e, "listing a branch's streams");
    free(first);
    free(last);
    if (rc != ST_OK) {
        stream_info_free(list, len);
        return ST_ERR;
    }
    if (len > 1)
        qsort(list, len, sizeof *list, by_name);
    *out = list;
    *n = len;
    return ST_OK;
}

static int br_count_streams(struct store *s, int64_t *count, err *e)
{
    struct br_store *b = BR(s);
    *count = 0;
    struct br_arg args[] = {BA_N(b->fork), BA_T(b->name)};
    bool found;
    return one_int(b,
                   "SELECT (SELECT count(*) FROM event_log WHERE version = 1 AND position <= ?) + "
                   "(SELECT count(*) FROM branch_events WHERE branch = ? AND version = 1)",
                   args, 2, count, &found, e, "counting a branch's streams");
}

static int br_position_at_time(struct store *s, const char *time, int64_t *position, err *e)
{
    struct br_store *b = BR(s);
    char text[TIME_TEXT_LEN + 1];
    *position = 0;
    if (!time || !store_time_text(time, text))
        return err_set(e, ST_USAGE,
                       "bad time '%s' (expected ISO-8601 such as 2026-11-27T10:00:00Z)",
                       time ? time : "");
    struct br_arg args[] = {BA_T(b->name), BA_T(text)};
    bool found;
    if (one_int(b, "SELECT max(position) FROM branch_events WHERE branch = ? AND time <= ?", args,
                2, position, &found, e, "looking up a time") != ST_OK)
        return ST_ERR;
    if (found)
        return ST_OK;
    if (store_position_at_time(b->main, time, position, e) != ST_OK)
        return ST_ERR;
    if (*position > b->fork)
        *position = b->fork;
    return ST_OK;
}

/* count_by's groups, gathered so that main's and the branch's merge. */
struct group {
    char *value, *bucket, *first, *last;
    int64_t count;
};
struct groups {
    struct group *items;
    size_t n;
};

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static char *dup_text(const char *t)
{
    return t ? xstrdup(t) : NULL;
}

static int gather(void *ctx, const struct store_count_row *row, err *e)
{
    struct groups *g = ctx;
    for (size_t i = 0; i < g->n; i++) {
        struct group *x = &g->items[i];
        if (same_text(x->value, row->value) && same_text(x->bucket, row->bucket)) {
            x->count += row->count;
            if (row->first && (!x->first || strcmp(row->first, x->first) < 0)) {
                free(x->first);
                x->first = xstrdup(row->first);
            }
            if (row->last && (!x->last || strcmp(row->last, x->last) > 0)) {
                free(x->last);
                x->last = xstrdup(row->last);
            }
            return ST_OK;
        }
    }
    g->items = xrealloc(g->items, (g->n + 1) * sizeof *g->items);
    g->items[g->n++] = (struct group){dup_text(row->value), dup_text(row->bucket),
                                      dup_text(row->first), dup_text(row->last), row->count};
    return ST_OK;
}

static int branch_group(void *ctx, const char *const *c, int n, err *e)
{
    (void)n;
    struct store_count_row row = {c[0], c[1], num(c[2]), c[3], c[4]};
    return gather(ctx, &row, e);
}

/* The branch's own groups in (lo, hi], gathered into g. */
static int count_branch(struct br_store *b, const struct event_filter *f, enum store_group by,
                        int bucket_len, int64_t lo, int64_t hi, struct groups *g, err *e)
{
    strbuf sql;
    sb_init(&sql);
    char bucket[48] = "NULL";
    if (bucket_len > 0)
        snprintf(bucket, sizeof bucket, "substr(time, 1, %d)", bucket_len);
    sb_addf(&sql,
            "SELECT %s AS k, %s AS bk, count(*), min(time), max(time) FROM branch_events "
            "WHERE branch = ? AND position > ? AND position <= ?",
            by == STORE_GROUP_TYPE     ? "type"
            : by == STORE_GROUP_STREAM ? "stream"
                                       : "NULL",
            bucket);
    struct br_arg args[5] = {BA_T(b->name), BA_N(lo > b->fork ? lo : b->fork), BA_N(hi)};
    size_t na = 3;
    if (f->type) {
        sb_adds(&sql, " AND type = ?");
        args[na++] = BA_T(f->type);
    }
    if (f->stream) {
        sb_adds(&sql, " AND stream = ?");
        args[na++] = BA_T(f->stream);
    }
    sb_adds(&sql, " GROUP BY k, bk HAVING count(*) > 0");
    int rc = run(b, sql.buf, args, na, branch_group, g, e, "counting a branch's events");
    sb_done(&sql);
    return rc;
}

/* count_by: main's groups up to the fork point and the branch's own, merged
 * (a group both have is one group). */
static int br_count_by(struct store *s, const struct event_filter *f, enum store_group by,
                       int bucket_len, store_count_fn fn, void *ctx, err *e)
{
    struct br_store *b = BR(s);
    static const struct event_filter none;
    if (!f)
        f = &none;
    int64_t lo, hi;
    if (!store_page_window(f, 0, false, &lo, &hi))
        return ST_OK;
    struct groups g = {NULL, 0};
    int rc = ST_OK;
    if (b->fork > lo) {
        struct event_filter m = *f;
        m.from = lo + 1;
        m.to = hi < b->fork ? hi : b->fork;
        rc = store_count_by(b->main, &m, by, bucket_len, gather, &g, e);
    }
    if (rc == ST_OK)
        rc = count_branch(b, f, by, bucket_len, lo, hi, &g, e);
    for (size_t i = 0; i < g.n; i++) {
        struct group *x = &g.items[i];
        struct store_count_row row = {x->value, x->bucket, x->count, x->first, x->last};
        if (rc == ST_OK)
            rc = fn(ctx, &row, e);
        free(x->value);
        free(x->bucket);
        free(x->first);
        free(x->last);
    }
    free(g.items);
    return rc;
}

/* A branch keeps no snapshots: its states are folded from main's snapshot at or
 * before the fork point and the events after it. */
static int br_snapshot_put(struct store *s, const char *stream, const char *rules_hash,
                           const struct snapshot *snap, err *e)
{
    return ST_OK;
}

static int br_snapshot_get(struct store *s, const char *stream, const char *rules_hash,
                           int64_t max_position, struct snapshot *out, err *e)
{
    struct br_store *b = BR(s);
    out->state = NULL;
    if (b->fork <= 0)
        return err_set(e, ST_NOT_FOUND, "no snapshot of %s on this branch", stream);
    return store_snapshot_get(b->main, stream, rules_hash, cap_at_fork(b, max_position), out, e);
}

static int br_meta_get(struct store *s, const char *key, char **value, err *e)
{
    return store_meta_get(BR(s)->main, key, value, e);
}

static int br_meta_set(struct store *s, const char *key, const char *value, err *e)
{
    return store_meta_set(BR(s)->main, key, value, e);
}

static int br_append_time(struct store *s, int64_t position, int64_t *ms, err *e)
{
    if (position > BR(s)->fork)
        return err_set(e, ST_NOT_FOUND, "a branch keeps no append times");
    return store_append_time(BR(s)->main, position, ms, e);
}

static int br_health(struct store *s, struct store_health *out, err *e)
{
    return store_health(BR(s)->main, out, e);
}

struct type_counts {
    struct type_count **out;
    size_t *n;
};

static int type_count_row(void *ctx, const char *const *c, int ncells, err *e)
{
    (void)ncells;
    (void)e;
    struct type_counts *t = ctx;
    *t->out = xrealloc(*t->out, (*t->n + 1) * sizeof **t->out);
    struct type_count *tc = &(*t->out)[(*t->n)++];
    tc->type = dup_or(c[0], "");
    tc->schema = (int)num(c[1]);
    tc->count = num(c[2]);
    return ST_OK;
}

/* Every (type, schema) of main up to the fork point and of the branch. */
static int br_type_counts(struct store *s, struct type_count **out, size_t *n, err *e)
{
    struct br_store *b = BR(s);
    *out = NULL;
    *n = 0;
    struct br_arg args[] = {BA_N(b->fork), BA_T(b->name)};
    struct type_counts tc = {out, n};
    int rc = run(b,
                 "SELECT type, schema, sum(c) FROM (SELECT type, schema, count(*) AS c FROM "
                 "event_log WHERE position <= ? GROUP BY type, schema UNION ALL SELECT type, "
                 "schema, count(*) FROM branch_events WHERE branch = ? GROUP BY type, schema) AS t "
                 "GROUP BY type, schema ORDER BY type, schema",
                 args, 2, type_count_row, &tc, e, "counting event types");
    if (rc != ST_OK) {
        type_counts_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int by_count(const void *a, const void *b)
{
    const struct type_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->type, y->type);
}

static int type_total_row(void *ctx, const char *const *c, int ncells, err *e)
{
    (void)ncells;
    (void)e;
    struct type_counts *t = ctx;
    const char *type = c[0] ? c[0] : "";
    size_t i = 0;
    while (i < *t->n && strcmp((*t->out)[i].type, type) != 0)
        i++;
    if (i == *t->n) {
        *t->out = xrealloc(*t->out, (*t->n + 1) * sizeof **t->out);
        (*t->out)[i].type = xstrdup(type);
        (*t->out)[i].schema = 0;
        (*t->out)[i].count = 0;
        (*t->n)++;
    }
    (*t->out)[i].count += num(c[1]);
    return ST_OK;
}

static int br_type_totals(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                          err *e)
{
    struct br_store *b = BR(s);
    *out = NULL;
    *n = 0;
    if (b->fork > 0 && store_type_totals(b->main, cap_at_fork(b, max_position), out, n, e) != ST_OK)
        return ST_ERR;
    struct br_arg args[] = {BA_T(b->name), BA_N(max_position > 0 ? max_position : INT64_MAX)};
    struct type_counts tc = {out, n};
    if (run(b,
            "SELECT type, count(*) FROM branch_events WHERE branch = ? AND position <= ? GROUP "
            "BY type",
            args, 2, type_total_row, &tc, e, "counting a branch's events") != ST_OK)
        return ST_ERR;
    if (*n > 1)
        qsort(*out, *n, sizeof **out, by_count);
    return ST_OK;
}

static int br_query(struct store *s, const char *sql, int64_t timeout_ms,
                    const struct store_query_sink *sink, err *e)
{
    return err_set(e, ST_USAGE,
                   "strata sql reads the store's own tables, which a branch does not change "
                   "(its events are in branch_events): run it without --branch");
}

const struct store_ops store_branch_ops = {
    .name = "branch",
    .close = br_close,
    .begin = br_begin,
    .commit = br_commit,
    .rollback = br_rollback,
    .append = br_append,
    .command_events = br_command_events,
    .read_page = br_read_page,
    .read_stream = br_read_stream,
    .head = br_head,
    .wait_head = store_poll_head,
    .stream_version = br_stream_version,
    .list_streams = br_list_streams,
    .count_streams = br_count_streams,
    .position_at_time = br_position_at_time,
    .count_by = br_count_by,
    .snapshot_put = br_snapshot_put,
    .snapshot_get = br_snapshot_get,
    .meta_get = br_meta_get,
    .meta_set = br_meta_set,
    .append_time = br_append_time,
    .health = br_health,
    .type_counts = br_type_counts,
    .ledger_claim = NULL, /* an import into a branch imports every record */
    .type_totals = br_type_totals,
    .query = br_query,
};

struct store *store_branch_open(struct store *main, const char *name, err *e)
{
    struct branch_info bi;
    if (store_branch_get(main, name, &bi, e) != ST_OK) {
        store_close(main);
        return NULL;
    }
    struct br_store *b = xcalloc(1, sizeof *b);
    b->base.ops = &store_branch_ops;
    b->base.path = xstrdup(main->path);
    b->base.under = main;
    b->main = main;
    b->sql = br_sql_for(main);
    b->name = bi.name;
    b->fork = bi.fork;
    free(bi.created_at);
    return &b->base;
}
