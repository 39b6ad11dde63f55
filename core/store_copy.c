/* store_copy.c: `strata copy` (store_copy.h): a store moved to another, of either
 * backend, through the operations of store.h only.
 *
 * Events are appended at the destination in source order, so positions come out
 * the same (both stores' positions are gapless, and the destination's head is the
 * source's position before each batch), and versions too. A command's events are
 * one append with its command id, so the destination answers a repeat of the
 * command as the source would. Append times are the source's: the copy's own
 * appends write one for each batch, which is removed and replaced by the source's
 * rows of the batch's positions. The tables with no position (snapshots, notes,
 * skipped events, branches) are read from the source with store_query (the same
 * SQL on both backends; the ledger's 16-byte identities are read as hex, which
 * each backend spells its own way) and written through the destination's
 * operations. */
#include "store_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH 1000

/* ---- reading the source's tables ---- */

/* One row of a result, its text and integers kept. */
struct row {
    struct store_cell *cells;
    size_t n;
};

/* A result of store_query as rows (for the per-batch queries: bounded by the
 * batch), or handed to fn row by row. */
typedef int (*row_fn)(void *ctx, const struct store_cell *cells, size_t n, err *e);
struct collect {
    struct row *rows;
    size_t len, cap;
    row_fn fn; /* when set, rows go to fn instead of being kept */
    void *ctx;
    err *e;
    int status;
};

static void on_columns(void *ctx, const char *const *names, size_t n)
{
    (void)ctx;
    (void)names;
    (void)n;
}

static int on_row(void *ctx, const struct store_cell *cells, size_t n)
{
    struct collect *c = ctx;
    if (c->fn) {
        c->status = c->fn(c->ctx, cells, n, c->e);
        return c->status != ST_OK;
    }
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->rows = xrealloc(c->rows, c->cap * sizeof *c->rows);
    }
    struct row *r = &c->rows[c->len++];
    r->n = n;
    r->cells = xcalloc(n + 1, sizeof *r->cells);
    for (size_t i = 0; i < n; i++) {
        r->cells[i] = cells[i];
        if (cells[i].type == CELL_TEXT || cells[i].type == CELL_BLOB) {
            char *p = xmalloc(cells[i].len + 1);
            memcpy(p, cells[i].p, cells[i].len);
            p[cells[i].len] = '\0';
            r->cells[i].p = p;
        }
    }
    return 0;
}

static void collect_done(struct collect *c)
{
    for (size_t i = 0; i < c->len; i++) {
        for (size_t j = 0; j < c->rows[i].n; j++)
            if (c->rows[i].cells[j].type == CELL_TEXT || c->rows[i].cells[j].type == CELL_BLOB)
                free((char *)c->rows[i].cells[j].p);
        free(c->rows[i].cells);
    }
    free(c->rows);
    memset(c, 0, sizeof *c);
}

/* Runs sql on the source: rows into c (or to c->fn). */
static int source_rows(struct store *src, const char *sql, struct collect *c, err *e)
{
    struct store_query_sink sink = {c, on_columns, on_row};
    c->e = e;
    c->status = ST_OK;
    int rc = store_query(src, sql, 0, &sink, e);
    if (rc != ST_OK) {
        err_prefix(e, "reading %s", src->path);
        return rc;
    }
    return c->status;
}

static int64_t cell_int(const struct store_cell *c)
{
    if (c->type == CELL_INT)
        return c->i;
    if (c->type == CELL_TEXT)
        return strtoll(c->p, NULL, 10);
    if (c->type == CELL_FLOAT)
        return (int64_t)c->f;
    return 0;
}

static const char *cell_text(const struct store_cell *c)
{
    return c->type == CELL_TEXT ? c->p : NULL;
}

static int64_t format_of(struct store *s)
{
    char *v = NULL;
    err e = {0};
    int64_t f = 1;
    if (store_meta_get(s, "format_version", &v, &e) == ST_OK && v)
        f = strtoll(v, NULL, 10);
    free(v);
    return f;
}

/* ---- the prefix check ---- */

static bool same_event(const struct event *a, const struct event *b)
{
    return a->position == b->position && a->version == b->version && a->schema == b->schema &&
           strcmp(a->stream, b->stream) == 0 && strcmp(a->type, b->type) == 0 &&
           strcmp(a->time, b->time) == 0 && strcmp(a->data, b->data) == 0 &&
           ((!a->meta && !b->meta) || (a->meta && b->meta && strcmp(a->meta, b->meta) == 0));
}

static int event_at(struct store *s, int64_t pos, struct event_list *out, err *e)
{
    struct event_filter f = {.from = pos, .to = pos};
    return store_read_page(s, &f, 0, false, 1, out, e);
}

/* The destination holds the source's first `head` events: the first and the last
 * of them are the same (the destination took them in order, in transactions, so
 * a copy cut short ends at a batch). */
static int check_prefix(struct store *src, struct store *dst, int64_t head, int64_t src_head,
                        err *e)
{
    if (head > src_head)
        return err_set(e, ST_CONFLICT,
                       "%s is not a copy of %s: it has %lld events, the source %lld (copy into "
                       "a new store)",
                       dst->path, src->path, (long long)head, (long long)src_head);
    int64_t at[2] = {1, head};
    for (int i = 0; i < 2; i++) {
        struct event_list a, b;
        event_list_init(&a);
        event_list_init(&b);
        int rc = event_at(src, at[i], &a, e);
        if (rc == ST_OK)
            rc = event_at(dst, at[i], &b, e);
        bool same = rc == ST_OK && a.len == 1 && b.len == 1 && same_event(&a.items[0], &b.items[0]);
        event_list_done(&a);
        event_list_done(&b);
        if (rc != ST_OK)
            return rc;
        if (!same)
            return err_set(e, ST_CONFLICT,
                           "%s is not a copy of %s: their events differ at position %lld (copy "
                           "into a new store)",
                           dst->path, src->path, (long long)at[i]);
    }
    return ST_OK;
}

/* ---- one batch ---- */

struct batch {
    struct store *src, *dst;
    int64_t lo, hi; /* the positions (lo, hi] */
    /* A window of the source's commands: every one starting in (win_lo, win_hi],
     * in position order. `commands` has no index on first_position (every command
     * would write one page more for it), so each read of a range scans the whole
     * table: read per batch of 1,000 events, a copy of a store whose events all
     * came from commands took time quadratic in its size (200,000 events: 2.8 s
     * without commands, 13.4 s with). A window of COMMAND_WINDOW commands
     * (STRATA_COPY_COMMAND_WINDOW in tests) makes that one scan per window. */
    struct collect commands;
    int64_t win_lo, win_hi;
    struct event_list events;
    int64_t src_format, dst_format;
    struct store_copy_stats *stats;
};

#define COMMAND_WINDOW 65536

static int command_window(void)
{
    /* for tests: windows of a few commands */
    const char *v = getenv("STRATA_COPY_COMMAND_WINDOW");
    int n = v && *v ? atoi(v) : 0;
    return n > 0 ? n : COMMAND_WINDOW;
}

static int64_t first_of(const struct batch *b, size_t i)
{
    return cell_int(&b->commands.rows[i].cells[1]);
}

/* The first row of the window starting after position pos (binary search). */
static size_t window_after(const struct batch *b, int64_t pos)
{
    size_t lo = 0, hi = b->commands.len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (first_of(b, mid) <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The command that starts at position pos (one of the batch's, which the window
 * covers): its id and last position. */
static const struct row *command_at(const struct batch *b, int64_t pos)
{
    size_t i = window_after(b, pos - 1);
    return i < b->commands.len && first_of(b, i) == pos ? &b->commands.rows[i] : NULL;
}

/* Reads the window after position lo: the next COMMAND_WINDOW commands, or
 * (upto >= 0) every command up to upto. */
static int window_read(struct batch *b, int64_t lo, int64_t upto, err *e)
{
    collect_done(&b->commands);
    int n = command_window();
    char sql[220];
    if (upto < 0)
        snprintf(sql, sizeof sql,
                 "SELECT id, first_position, last_position FROM commands WHERE first_position > "
                 "%lld ORDER BY first_position LIMIT %d",
                 (long long)lo, n);
    else
        snprintf(sql, sizeof sql,
                 "SELECT id, first_position, last_position FROM commands WHERE first_position > "
                 "%lld AND first_position <= %lld ORDER BY first_position",
                 (long long)lo, (long long)upto);
    if (source_rows(b->src, sql, &b->commands, e) != ST_OK)
        return ST_ERR;
    b->win_lo = lo;
    /* A full window ends before its last row's position, so that a command cut
     * off by the LIMIT is never half in. */
    b->win_hi = upto >= 0                     ? upto
                : b->commands.len < (size_t)n ? INT64_MAX
                                              : first_of(b, b->commands.len - 1) - 1;
    return ST_OK;
}

/* Makes the window hold every command starting in (lo, hi]: the next
 * COMMAND_WINDOW commands after lo, or, for a batch that spans more, exactly
 * (lo, hi]. */
static int window_cover(struct batch *b, int64_t lo, int64_t hi, err *e)
{
    if (b->win_lo <= lo && hi <= b->win_hi) /* never at first: win_hi is 0, hi at least 1 */
        return ST_OK;
    if (window_read(b, lo, -1, e) != ST_OK)
        return ST_ERR;
    return hi <= b->win_hi ? ST_OK : window_read(b, lo, hi, e);
}

/* The command ids of (lo, hi], hi moved up to the last event of a command that
 * starts in the batch, and the events of (lo, hi]. */
static int batch_read(struct batch *b, err *e)
{
    for (;;) {
        if (window_cover(b, b->lo, b->hi, e) != ST_OK)
            return ST_ERR;
        int64_t hi = b->hi;
        for (size_t i = window_after(b, b->lo), end = window_after(b, b->hi); i < end; i++) {
            int64_t last = cell_int(&b->commands.rows[i].cells[2]);
            if (last > hi)
                hi = last;
        }
        if (hi == b->hi)
            break;
        b->hi = hi;
    }
    struct event_filter f = {.to = b->hi};
    int64_t after = b->lo;
    while (after < b->hi) {
        size_t had = b->events.len;
        if (store_read_page(b->src, &f, after, false, (size_t)(b->hi - after), &b->events, e) !=
            ST_OK)
            return ST_ERR;
        if (b->events.len == had)
            break;
        after = b->events.items[b->events.len - 1].position;
    }
    return ST_OK;
}

static int append_run(struct batch *b, size_t i, size_t n, const char *command_id, err *e)
{
    struct new_event *evs = xcalloc(n, sizeof *evs);
    for (size_t k = 0; k < n; k++) {
        const struct event *ev = &b->events.items[i + k];
        evs[k] = (struct new_event){ev->type, ev->schema, ev->time, ev->data, ev->meta};
    }
    struct event_list out;
    event_list_init(&out);
    const struct event *first = &b->events.items[i];
    int rc = store_append(b->dst, first->stream, STORE_ANY_VERSION, command_id, evs, n, &out, e);
    free(evs);
    if (rc == ST_DUPLICATE)
        rc = err_set(e, ST_CONFLICT, "%s already has command %s: it is not a copy of %s",
                     b->dst->path, command_id, b->src->path);
    else if (rc == ST_OK &&
             (out.items[0].position != first->position || out.items[0].version != first->version))
        rc = err_set(e, ST_CONFLICT,
                     "position %lld of %s became %lld (version %lld, not %lld) at %s: the "
                     "destination is not a copy of the source",
                     (long long)first->position, b->src->path, (long long)out.items[0].position,
                     (long long)out.items[0].version, (long long)first->version, b->dst->path);
    event_list_done(&out);
    if (rc == ST_OK) {
        b->stats->events += (int64_t)n;
        b->stats->commands += command_id != NULL;
    }
    return rc;
}

/* The events of the batch: a command's as one append with its id, others in runs
 * of one stream. */
static int batch_append(struct batch *b, err *e)
{
    size_t i = 0, len = b->events.len;
    while (i < len) {
        const struct event *ev = &b->events.items[i];
        const struct row *cmd = command_at(b, ev->position);
        size_t n = 1;
        if (cmd) {
            int64_t last = cell_int(&cmd->cells[2]);
            n = (size_t)(last - ev->position + 1);
            if (i + n > len)
                return err_set(e, ST_ERR, "%s: command %s's events %lld..%lld are not all there",
                               b->src->path, cell_text(&cmd->cells[0]), (long long)ev->position,
                               (long long)last);
        } else {
            while (i + n < len && strcmp(b->events.items[i + n].stream, ev->stream) == 0 &&
                   !command_at(b, b->events.items[i + n].position))
                n++;
        }
        int rc = append_run(b, i, n, cmd ? cell_text(&cmd->cells[0]) : NULL, e);
        if (rc != ST_OK)
            return rc;
        i += n;
    }
    return ST_OK;
}

/* Puts each row into the destination's `table` (a row_fn). */
struct put_ctx {
    struct store *dst;
    const char *table;
    int64_t *count;
};

static int put_row(void *ctx, const struct store_cell *cells, size_t n, err *e)
{
    struct put_ctx *p = ctx;
    int rc = store_copy_put(p->dst, p->table, cells, n, e);
    if (rc == ST_OK)
        (*p->count)++;
    return rc;
}

static int hex_byte(const char *h)
{
    int v = 0;
    for (int i = 0; i < 2; i++) {
        char c = h[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static int claim_row(void *ctx, const struct store_cell *cells, size_t n, err *e)
{
    struct put_ctx *p = ctx;
    const char *hex = n == 2 ? cell_text(&cells[0]) : NULL;
    unsigned char id[16];
    for (int i = 0; hex && i < 16; i++) {
        int v = strlen(hex) == 32 ? hex_byte(hex + 2 * i) : -1;
        if (v < 0)
            hex = NULL;
        else
            id[i] = (unsigned char)v;
    }
    if (!hex)
        return err_set(e, ST_ERR, "an import ledger row that is not a 16-byte identity");
    bool fresh;
    int rc = store_ledger_claim(p->dst, id, cell_int(&cells[1]), &fresh, e);
    if (rc == ST_OK && fresh)
        (*p->count)++;
    return rc;
}

/* The ledger's rows with position in (lo, hi] (where: the SQL condition). */
static int copy_ledger(struct store *src, struct store *dst, const char *where, int64_t *count,
                       err *e)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT %s, position FROM import_ledger WHERE %s",
             strcmp(src->ops->name, "sqlite") == 0 ? "lower(hex(identity))"
                                                   : "encode(identity, 'hex')",
             where);
    struct put_ctx p = {dst, "import_ledger", count};
    struct collect c = {.fn = claim_row, .ctx = &p};
    return source_rows(src, sql, &c, e);
}

static int batch_extras(struct batch *b, err *e)
{
    char sql[300], where[120];
    /* The copy's own append times go, also when the source kept none (its events
     * then have none at the copy either). */
    if (b->dst_format >= 3 && store_clear_times(b->dst, b->lo + 1, b->hi, e) != ST_OK)
        return ST_ERR;
    if (b->src_format >= 3 && b->dst_format >= 3) {
        snprintf(sql, sizeof sql,
                 "SELECT first_position, appended_at FROM append_times WHERE first_position > "
                 "%lld AND first_position <= %lld",
                 (long long)b->lo, (long long)b->hi);
        struct put_ctx p = {b->dst, "append_times", &b->stats->times};
        struct collect c = {.fn = put_row, .ctx = &p};
        if (source_rows(b->src, sql, &c, e) != ST_OK)
            return ST_ERR;
    }
    if (b->src_format >= 5) {
        snprintf(where, sizeof where, "position > %lld AND position <= %lld", (long long)b->lo,
                 (long long)b->hi);
        if (copy_ledger(b->src, b->dst, where, &b->stats->ledger, e) != ST_OK)
            return ST_ERR;
    }
    return ST_OK;
}

static int copy_batch(struct batch *b, err *e)
{
    if (batch_read(b, e) != ST_OK)
        return ST_ERR;
    if (store_begin(b->dst, e) != ST_OK)
        return ST_ERR;
    int rc = batch_append(b, e);
    if (rc == ST_OK)
        rc = batch_extras(b, e);
    if (rc == ST_OK)
        rc = store_commit(b->dst, e);
    else
        store_rollback(b->dst);
    return rc;
}

/* ---- the tables with no position ---- */

static int put_snapshot(void *ctx, const struct store_cell *cells, size_t n, err *e)
{
    struct put_ctx *p = ctx;
    if (n != 5 || !cell_text(&cells[0]) || !cell_text(&cells[1]) || !cell_text(&cells[4]))
        return err_set(e, ST_ERR, "a snapshot row without a stream, hash or state");
    struct snapshot snap = {cell_int(&cells[2]), cell_int(&cells[3]), (char *)cells[4].p};
    int rc = store_snapshot_put(p->dst, cells[0].p, cells[1].p, &snap, e);
    if (rc == ST_OK)
        (*p->count)++;
    return rc;
}

static int put_note(void *ctx, const struct store_cell *cells, size_t n, err *e)
{
    struct put_ctx *p = ctx;
    if (n != 2 || !cell_text(&cells[0]) || !cell_text(&cells[1]))
        return ST_OK; /* a note without a value has nothing to carry */
    int rc = store_meta_set(p->dst, cells[0].p, cells[1].p, e);
    if (rc == ST_OK)
        (*p->count)++;
    return rc;
}

static int copy_rest(struct store *src, struct store *dst, int64_t src_format, int64_t src_head,
                     struct store_copy_stats *st, err *e)
{
    if (store_begin(dst, e) != ST_OK)
        return ST_ERR;
    struct put_ctx notes = {dst, "strata_meta", &st->notes};
    struct collect c = {.fn = put_note, .ctx = &notes};
    int rc = source_rows(src,
                         "SELECT key, value FROM strata_meta WHERE key <> 'format_version' "
                         "ORDER BY key",
                         &c, e);
    struct put_ctx snaps = {dst, "snapshots", &st->snapshots};
    c = (struct collect){.fn = put_snapshot, .ctx = &snaps};
    if (rc == ST_OK)
        rc = source_rows(src,
                         "SELECT s.name, n.rules_hash, n.version, n.position, n.state FROM "
                         "snapshots n JOIN streams s ON s.id = n.stream_id ORDER BY n.position",
                         &c, e);
    for (size_t i = 0; rc == ST_OK && i < store_ncopy_tables; i++) {
        const struct store_copy_table *t = &store_copy_tables[i];
        if (strcmp(t->name, "append_times") == 0 || src_format < t->since_format)
            continue;
        char sql[300];
        snprintf(sql, sizeof sql, "SELECT %s FROM %s", t->columns, t->name);
        struct put_ctx p = {dst, t->name, &st->rows};
        c = (struct collect){.fn = put_row, .ctx = &p};
        rc = source_rows(src, sql, &c, e);
    }
    if (rc == ST_OK && src_format >= 5) {
        char where[100];
        snprintf(where, sizeof where, "position <= 0 OR position > %lld", (long long)src_head);
        rc = copy_ledger(src, dst, where, &st->ledger, e);
    }
    if (rc == ST_OK)
        return store_commit(dst, e);
    store_rollback(dst);
    return rc;
}

int store_copy(struct store *src, struct store *dst, int64_t batch, store_copy_progress progress,
               void *ctx, struct store_copy_stats *stats, err *e)
{
    memset(stats, 0, sizeof *stats);
    if (batch <= 0)
        batch = DEFAULT_BATCH;
    int64_t src_head = 0, dst_head = 0;
    if (store_head(src, &src_head, e) != ST_OK || store_head(dst, &dst_head, e) != ST_OK)
        return ST_ERR;
    if (dst_head > 0) {
        int rc = check_prefix(src, dst, dst_head, src_head, e);
        if (rc != ST_OK)
            return rc;
    }
    stats->resumed_at = dst_head;
    struct batch b = {.src = src, .dst = dst, .stats = stats};
    b.src_format = format_of(src);
    b.dst_format = format_of(dst);
    if (progress)
        progress(ctx, dst_head, src_head);
    for (int64_t done = dst_head; done < src_head;) {
        b.lo = done;
        b.hi = done + batch < src_head ? done + batch : src_head;
        event_list_init(&b.events);
        int rc = copy_batch(&b, e);
        event_list_done(&b.events);
        if (rc != ST_OK) {
            collect_done(&b.commands);
            return rc;
        }
        done = b.hi;
        if (progress)
            progress(ctx, done, src_head);
    }
    collect_done(&b.commands);
    return copy_rest(src, dst, b.src_format, src_head, stats, e);
}
