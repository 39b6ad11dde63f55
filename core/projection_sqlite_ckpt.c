/* projection_sqlite_ckpt.c: full checkpoints of a keyed read model, so that a
 * read of every row at a past position P costs the rows of one checkpoint plus
 * the history written after it, not a seek into the whole history per key.
 *
 *   proj_NAME_ck_rows  (at, key, row) WITHOUT ROWID, primary key (at, key):
 *                      every row of the read model right after position `at`,
 *                      as whole JSON (the history's own `row` form, exact types).
 *   proj_NAME_ck_at    (at PRIMARY KEY, hist_rowid, n): the checkpoints, the
 *                      rowid of the newest history entry they include, and their
 *                      row count. An entry (0, 0, 0) says the history was empty
 *                      when the tables were made, so every position has a
 *                      checkpoint at or before it.
 *
 * Both are derived: created lazily beside the history, dropped, rebuilt and
 * swapped with it (projection_sqlite.c), so no store-format migration. A store
 * whose history predates them gets a first checkpoint made the old way (one seek
 * per key) the next time its read model folds; reads before that use the seeks.
 *
 * The history is appended in position order (its rowid grows with valid_from),
 * so the entries after a checkpoint are the rowids above its hist_rowid. A
 * read at P finds the newest checkpoint C <= P, scans the entries after it up
 * to P (newest per key wins, kept in a hash table of JSON texts, no values),
 * and merges them in key order with C's rows, each lent to the caller as the
 * stored JSON text (psq_sink: values only for a caller that wants them). The
 * writer makes a checkpoint when the history has grown by CK_PER_ROW times the
 * rows of the last one (at least CK_MIN entries) since it: a copy of the last
 * checkpoint inside SQLite, then the keys changed since replaced. A read then
 * scans at most that many entries, however long the history is. */
#include "projection_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

#define CK_MIN 4096
/* Entries between checkpoints per row of the read model. A read of every row
 * steps over the checkpoint's rows plus half an interval of entries on average
 * (an interval at worst), and SQLite's step is most of its cost: 8 made a read
 * of 10,000 rows step 50,000 times, 4 makes it 30,000 (50,000 at worst), for
 * twice the checkpoints (a row copied per 4 entries; catch-up's CPU did not
 * move beyond its noise, bench/RESULTS.md "query --at without values"). */
#define CK_PER_ROW 4

static int64_t ck_every_min(void)
{
    /* for tests: checkpoints every few events */
    const char *v = getenv("STRATA_PROJECTION_CHECKPOINT_EVERY");
    long long n = v && *v ? atoll(v) : 0;
    return n > 0 ? (int64_t)n : CK_MIN;
}

int64_t psq_ck_every(int64_t rows)
{
    int64_t min = ck_every_min();
    if (min != CK_MIN)
        return min;
    return rows * CK_PER_ROW > min ? rows * CK_PER_ROW : min;
}

/* The newest entry of each key among some history entries: a hash table of
 * keys, each with its entry's kind and whole row's JSON text, copied once into
 * an arena (no value per entry: a read scans up to CK_PER_ROW entries per row). */
enum { SE_ROW, SE_DELETED, SE_CHANGED };
struct since_entry {
    size_t koff, klen; /* the key in the arena, NUL-terminated */
    size_t roff, rlen; /* SE_ROW: the row's JSON text in the arena */
    int kind;
    bool in_ck; /* the checkpoint has a row of this key */
};
struct since {
    struct since_entry *e;
    size_t n, cap;
    uint64_t *slots; /* (hash << 32) | (index + 1); 0: empty */
    size_t mask;
    strbuf keys, arena; /* keys apart, so that lookups touch little memory */
};

/* hint: about how many keys to expect (sizes the table and arenas once,
 * instead of growing them by doubling as the scan goes). */
static void since_init(struct since *t, int64_t hint)
{
    size_t n = hint > 0 ? (size_t)(hint < (1 << 20) ? hint : (1 << 20)) : 0;
    *t = (struct since){.mask = 1023};
    while (t->mask < 2 * n + 1)
        t->mask = t->mask * 2 + 1;
    t->slots = xcalloc(t->mask + 1, sizeof *t->slots);
    t->cap = n;
    t->e = n ? xmalloc(n * sizeof *t->e) : NULL;
    sb_init(&t->keys);
    sb_init(&t->arena);
    if (n) { /* room for keys of 16 bytes and rows of 128 */
        t->keys.buf = xmalloc(t->keys.cap = n * 16);
        t->arena.buf = xmalloc(t->arena.cap = n * 128);
        t->keys.buf[0] = t->arena.buf[0] = '\0';
    }
}

static void since_done(struct since *t)
{
    free(t->e);
    free(t->slots);
    sb_done(&t->keys);
    sb_done(&t->arena);
}

static uint32_t key_hash(const char *k, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;
    for (; n >= 8; k += 8, n -= 8) {
        memcpy(&w, k, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, k, n);
    h ^= w;
    h ^= h >> 33; /* murmur3's finalizer */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return (uint32_t)(h ^ (h >> 33));
}

/* The entry of key (NULL: none); *slot receives where it is or would go. */
static struct since_entry *since_find(const struct since *t, const char *k, size_t n, uint32_t h,
                                      size_t *slot)
{
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t v = t->slots[i];
        if (!v) {
            *slot = i;
            return NULL;
        }
        struct since_entry *x = &t->e[(uint32_t)v - 1];
        if ((uint32_t)(v >> 32) == h && x->klen == n && !memcmp(t->keys.buf + x->koff, k, n))
            return x;
    }
}

static void since_add(struct since *t, const char *k, size_t n, uint32_t h, size_t slot, int kind,
                      const char *row, size_t rlen)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->e = xrealloc(t->e, t->cap * sizeof *t->e);
    }
    struct since_entry *x = &t->e[t->n];
    x->koff = t->keys.len;
    x->klen = n;
    sb_add(&t->keys, k, n);
    sb_addc(&t->keys, '\0');
    x->roff = t->arena.len;
    x->rlen = rlen;
    if (kind == SE_ROW)
        sb_add(&t->arena, row, rlen);
    x->kind = kind;
    x->in_ck = false;
    t->slots[slot] = ((uint64_t)h << 32) | (uint64_t)(t->n + 1);
    t->n++;
    if (t->n * 2 > t->mask) { /* keep it at most half full */
        size_t cap = (t->mask + 1) * 2;
        free(t->slots);
        t->slots = xcalloc(cap, sizeof *t->slots);
        t->mask = cap - 1;
        for (size_t j = 0; j < t->n; j++) {
            const struct since_entry *y = &t->e[j];
            uint32_t hy = key_hash(t->keys.buf + y->koff, y->klen);
            size_t i = hy & t->mask;
            while (t->slots[i])
                i = (i + 1) & t->mask;
            t->slots[i] = ((uint64_t)hy << 32) | (uint64_t)(j + 1);
        }
    }
}

/* ---- the writer's log of the entries it wrote since the newest checkpoint
 * (projection_sqlite.c), so that writing the next one need not read them back
 * from the history (that scan was a third of a checkpoint). Appended in order,
 * one record each (kind, key and row lengths, key, row), and only deduplicated
 * when a checkpoint reads it: a lookup per entry as it is written cost as much as
 * the scan it saved (its table's misses among the fold's own memory). */

/* A log holds at most this many bytes; beyond, the writer drops it and the next
 * checkpoint scans the history. */
#define CK_LOG_BYTES (64u << 20)

struct psq_ck_log {
    strbuf buf;
    size_t *at; /* where each record starts in buf */
    size_t n, cap;
};
struct ck_log_head {
    int kind;
    uint32_t klen, rlen;
};

struct psq_ck_log *psq_ck_log_new(void)
{
    struct psq_ck_log *l = xcalloc(1, sizeof *l);
    sb_init(&l->buf);
    return l;
}

void psq_ck_log_free(struct psq_ck_log *l)
{
    if (l) {
        sb_done(&l->buf);
        free(l->at);
    }
    free(l);
}

void psq_ck_log_clear(struct psq_ck_log *l)
{
    sb_reset(&l->buf);
    l->n = 0;
}

bool psq_ck_log_put(struct psq_ck_log *l, const char *key, const char *row, size_t rlen,
                    bool deleted)
{
    struct ck_log_head h = {row       ? SE_ROW
                            : deleted ? SE_DELETED
                                      : SE_CHANGED,
                            (uint32_t)strlen(key), row ? (uint32_t)rlen : 0};
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4096;
        l->at = xrealloc(l->at, l->cap * sizeof *l->at);
    }
    l->at[l->n++] = l->buf.len;
    sb_add(&l->buf, (const char *)&h, sizeof h);
    sb_add(&l->buf, key, h.klen);
    if (row)
        sb_add(&l->buf, row, h.rlen);
    return l->buf.len <= CK_LOG_BYTES && rlen <= UINT32_MAX;
}

/* The newest entry of each key in the log, into t (as scan_since does from the
 * history: newest first, a key's older entries a lookup and nothing more). */
static void since_from_log(const struct psq_ck_log *l, struct since *t)
{
    for (size_t i = l->n; i-- > 0;) {
        const char *r = l->buf.buf + l->at[i];
        struct ck_log_head h;
        memcpy(&h, r, sizeof h);
        const char *k = r + sizeof h;
        size_t slot;
        uint32_t hash = key_hash(k, h.klen);
        if (!since_find(t, k, h.klen, hash, &slot))
            since_add(t, k, h.klen, hash, slot, h.kind, k + h.klen, h.rlen);
    }
}

/* The newest entry of each key among the history entries after rowid hr (and
 * at most hr_end, 0: to the end) up to position `at`, into t: its whole row's
 * JSON text, deleted, or a change entry (the row is then walked back). Scanned
 * newest first, so a key's older entries cost a lookup and nothing more.
 * last: NULL when hr_end is the newest rowid at or before `at` (a read, which
 * then asks SQLite for no more than it uses: each entry stepped over costs);
 * else receives the newest rowid at or before `at`. */
static int scan_since(struct store *s, const struct projection_spec *p, bool rebuild, int64_t hr,
                      int64_t hr_end, int64_t at, struct since *t, int64_t *last, err *e)
{
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, last ? "SELECT key, row, changes, rowid, valid_from FROM "
                       : "SELECT key, row, changes FROM ");
    psq_add_table(&sql, p->name, rebuild, T_HISTORY);
    sb_adds(&sql, hr_end > 0 ? " WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid DESC"
                             : " WHERE rowid > ?1 ORDER BY rowid DESC");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's history");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, hr);
    if (hr_end > 0)
        sqlite3_bind_int64(st, 2, hr_end);
    if (last)
        *last = hr;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (last) {
            if (sqlite3_column_int64(st, 4) > at)
                continue; /* after `at`: the history is appended in position order */
            if (*last == hr)
                *last = sqlite3_column_int64(st, 3);
        }
        const char *k = (const char *)sqlite3_column_text(st, 0);
        size_t klen = (size_t)sqlite3_column_bytes(st, 0), slot;
        if (!k)
            continue;
        uint32_t h = key_hash(k, klen);
        if (since_find(t, k, klen, h, &slot))
            continue; /* a newer entry of this key is in already */
        const char *row = (const char *)sqlite3_column_text(st, 1);
        if (row)
            since_add(t, k, klen, h, slot, SE_ROW, row, (size_t)sqlite3_column_bytes(st, 1));
        else
            since_add(t, k, klen, h, slot,
                      sqlite3_column_type(st, 2) != SQLITE_NULL ? SE_CHANGED : SE_DELETED, NULL, 0);
    }
    int rc = step == SQLITE_DONE ? ST_OK : psq_error(s, e, "reading a projection's history");
    sqlite3_finalize(st);
    return rc;
}

/* The newest rowid of p's history (0 when it is empty). */
int psq_hist_max_rowid(struct store *s, const struct projection_spec *p, bool rebuild, int64_t *out,
                       err *e)
{
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT coalesce(max(rowid), 0) FROM ");
    psq_add_table(&sql, p->name, rebuild, T_HISTORY);
    sqlite3_stmt *mx = psq_prepare(s, sql.buf, e, "reading a projection's history");
    sb_done(&sql);
    int rc = ST_OK;
    if (!mx || sqlite3_step(mx) != SQLITE_ROW)
        rc = mx ? psq_error(s, e, "reading a projection's history") : ST_ERR;
    else
        *out = sqlite3_column_int64(mx, 0);
    sqlite3_finalize(mx);
    return rc;
}

/* The newest rowid of the history at or before position `at`, between lo (at or
 * before it) and hi (-1: the table's end), by bisection: rowids grow with
 * positions. */
static int rowid_at(struct store *s, const struct projection_spec *p, int64_t lo, int64_t hi,
                    int64_t at, int64_t *out, err *e)
{
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT rowid, valid_from FROM ");
    psq_add_table(&sql, p->name, false, T_HISTORY);
    sb_adds(&sql, " WHERE rowid >= ?1 ORDER BY rowid LIMIT 1");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's history");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    int rc = ST_OK;
    if (hi < 0)
        rc = psq_hist_max_rowid(s, p, false, &hi, e);
    while (rc == ST_OK && lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        sqlite3_bind_int64(st, 1, mid);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_int64(st, 0) <= hi &&
            sqlite3_column_int64(st, 1) <= at)
            lo = sqlite3_column_int64(st, 0);
        else if (step == SQLITE_ROW || step == SQLITE_DONE)
            hi = mid - 1;
        else
            rc = psq_error(s, e, "reading a projection's history");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    *out = lo;
    return rc;
}

/* SQLite's BINARY order of two keys. */
static int key_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : la < lb ? -1 : la > lb;
}

static int by_key(const void *a, const void *b, void *ctx)
{
    const struct since *t = ctx;
    const struct since_entry *x = &t->e[*(const size_t *)a];
    const struct since_entry *y = &t->e[*(const size_t *)b];
    const char *ks = t->keys.buf;
    return key_cmp(ks + x->koff, x->klen, ks + y->koff, y->klen);
}

/* One row of a merge: its key, and its JSON text, or NULL when its newest entry
 * is a change entry (walk its history back). */
typedef int (*merge_fn)(void *ctx, const char *key, const char *text, size_t len, err *e);

/* A row of the checkpoint, in key order: the entry of t that replaces it, or
 * (ent == SIZE_MAX) its own key and text, copied into t's arena. */
struct ck_row {
    size_t ent, koff, klen, roff, rlen;
};

/* Calls fn for one entry of t (nothing for a deleted row). */
static int since_emit(const struct since *t, const struct since_entry *x, merge_fn fn, void *ctx,
                      err *e)
{
    if (x->kind == SE_DELETED)
        return ST_OK;
    return fn(ctx, t->keys.buf + x->koff, x->kind == SE_ROW ? t->arena.buf + x->roff : NULL,
              x->rlen, e);
}

/* The rows at a position, in key order (SQLite's BINARY order): the rows of
 * checkpoint ck but for the keys in t, merged with those (deleted ones left
 * out). The checkpoint is read once in key order, each of its keys looked up
 * in t; the keys of t it does not have (new since, usually few) are sorted and
 * merged in. */
static int merge(struct store *s, const struct projection_spec *p, bool rebuild, int64_t ck,
                 struct since *t, merge_fn fn, void *ctx, err *e)
{
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT key, row FROM ");
    psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(&sql, " WHERE at = ?1 ORDER BY key");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's checkpoint");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, ck);
    struct ck_row *rows = NULL;
    size_t nrows = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        size_t klen = (size_t)sqlite3_column_bytes(st, 0), slot;
        if (!k)
            k = "";
        if (nrows == cap) {
            cap = cap ? cap * 2 : 1024;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        struct ck_row *r = &rows[nrows++];
        struct since_entry *x = since_find(t, k, klen, key_hash(k, klen), &slot);
        if (x) {
            x->in_ck = true;
            r->ent = (size_t)(x - t->e);
            continue;
        }
        r->ent = SIZE_MAX;
        r->klen = klen;
        r->koff = t->keys.len;
        sb_add(&t->keys, k, klen);
        sb_addc(&t->keys, '\0');
        r->rlen = (size_t)sqlite3_column_bytes(st, 1);
        r->roff = t->arena.len;
        if (r->rlen)
            sb_add(&t->arena, (const char *)sqlite3_column_blob(st, 1), r->rlen);
    }
    int rc = step == SQLITE_DONE ? ST_OK : psq_error(s, e, "reading a projection's checkpoint");
    sqlite3_finalize(st);
    size_t *fresh = xcalloc(t->n ? t->n : 1, sizeof *fresh), nfresh = 0;
    for (size_t i = 0; i < t->n; i++)
        if (!t->e[i].in_ck)
            fresh[nfresh++] = i;
    qsort_r(fresh, nfresh, sizeof *fresh, by_key, t);
    const char *ks = t->keys.buf, *ar = t->arena.buf;
    for (size_t i = 0, j = 0; rc == ST_OK && (i < nrows || j < nfresh);) {
        const struct ck_row *r = i < nrows ? &rows[i] : NULL;
        const struct since_entry *x = j < nfresh ? &t->e[fresh[j]] : NULL;
        bool ck_first = r && !x;
        if (r && x) {
            const struct since_entry *rk = r->ent == SIZE_MAX ? NULL : &t->e[r->ent];
            ck_first = rk ? key_cmp(ks + rk->koff, rk->klen, ks + x->koff, x->klen) < 0
                          : key_cmp(ks + r->koff, r->klen, ks + x->koff, x->klen) < 0;
        }
        if (!ck_first) {
            rc = since_emit(t, x, fn, ctx, e);
            j++;
        } else if (r->ent != SIZE_MAX) { /* changed since the checkpoint */
            rc = since_emit(t, &t->e[r->ent], fn, ctx, e);
            i++;
        } else { /* unchanged since the checkpoint */
            rc = fn(ctx, ks + r->koff, ar + r->roff, r->rlen, e);
            i++;
        }
    }
    free(fresh);
    free(rows);
    return rc;
}

struct reading {
    struct store *s;
    const struct projection_spec *p;
    int64_t at;
    size_t offset, limit;
    int64_t n;
    struct psq_sink *out;
    struct psq_walk walk;
};

static int read_row(void *ctx, const char *key, const char *text, size_t len, err *e)
{
    struct reading *r = ctx;
    size_t i = (size_t)r->n++;
    if (i < r->offset || (r->limit && i >= r->offset + r->limit))
        return ST_OK;
    if (text)
        return psq_sink_stored(r->out, key, text, len, e);
    value row;
    int rc = psq_walked_keyed_row(r->s, &r->walk, r->p, key, r->at, &row, e);
    return rc == ST_OK ? psq_sink_value(r->out, row, e) : rc;
}

int psq_rows_at_ck(struct store *s, const struct projection_spec *p, int64_t at, size_t offset,
                   size_t limit, struct psq_sink *out, int64_t *count, bool *done, err *e)
{
    *done = false;
    int64_t ck = 0, hr = 0, nck = 0;
    bool found;
    if (psq_ck_find(s, p, false, at, &ck, &hr, &nck, &found, e) != ST_OK)
        return ST_ERR;
    if (!found)
        return ST_OK;
    *done = true;
    /* The entries after the checkpoint up to `at` lie between its rowid and the
     * next checkpoint's (or the end). */
    int64_t next = 0, hr_next = 0, n_next = 0;
    bool later;
    if (psq_ck_find_after(s, p, at, &next, &hr_next, &n_next, &later, e) != ST_OK)
        return ST_ERR;
    int64_t end = 0;
    if (rowid_at(s, p, hr, later ? hr_next : -1, at, &end, e) != ST_OK)
        return ST_ERR;
    struct since changed;
    since_init(&changed, end - hr < nck ? end - hr : nck);
    int rc = end > hr ? scan_since(s, p, false, hr, end, at, &changed, NULL, e) : ST_OK;
    struct reading r = {s, p, at, offset, limit, 0, out, {0}};
    if (rc == ST_OK)
        rc = merge(s, p, false, ck, &changed, read_row, &r, e);
    if (count)
        *count = r.n;
    psq_walk_close(&r.walk);
    since_done(&changed);
    return rc;
}

struct writing {
    struct store *s;
    const struct projection_spec *p;
    int64_t at;
    int64_t n;
    sqlite3_stmt *put;
    struct psq_walk *walk;
    strbuf tmp;
};

static int write_row(void *ctx, const char *key, const char *text, size_t len, err *e)
{
    struct writing *w = ctx;
    if (!text) {
        value row;
        bool there;
        int rc = psq_history_row_at(w->s, w->walk, w->p, key, w->at, &row, &there, NULL, e);
        if (rc != ST_OK)
            return rc;
        sb_reset(&w->tmp);
        json_write(&w->tmp, &row);
        value_free(row);
        text = w->tmp.buf;
        len = w->tmp.len;
    }
    sqlite3_bind_int64(w->put, 1, w->at);
    sqlite3_bind_text(w->put, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->put, 3, text, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(w->put) == SQLITE_DONE
                 ? ST_OK
                 : psq_error(w->s, e, "writing a projection's checkpoint");
    sqlite3_reset(w->put);
    w->n++;
    return rc;
}

/* Writes the checkpoint at position `at` from the newest one before it (or,
 * for a history older than checkpoints, from a read by seeks). */
int psq_ck_write(struct store *s, const struct projection_spec *p, bool rebuild, int64_t at,
                 const struct psq_ck_log *log, int64_t log_last, int64_t *rows_out, int64_t *hr_out,
                 bool *there, err *e)
{
    int64_t prev = 0, hr = 0, nprev = 0;
    bool found;
    *there = false;
    if (psq_ck_find(s, p, rebuild, at, &prev, &hr, &nprev, &found, e) != ST_OK)
        return ST_ERR;
    if (found && prev >= at) {
        *there = prev == at;
        return ST_OK;
    }
    strbuf sql;
    sb_init(&sql);
    struct since changed;
    since_init(&changed, nprev);
    sqlite3_stmt *st = NULL;
    struct psq_walk walk = {0};
    int rc = ST_OK;
    int64_t last = hr;
    struct writing wr = {s, p, at, 0, NULL, NULL, {0}};
    sb_init(&wr.tmp);
    if (!found && rebuild)
        goto finish; /* its rebuild made tables of the new shape: never here */
    sb_adds(&sql, "INSERT INTO ");
    psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(&sql, "(at, key, row) VALUES(?1, ?2, ?3)");
    if (!(wr.put = psq_prepare(s, sql.buf, e, "writing a projection's checkpoint"))) {
        rc = ST_ERR;
        goto finish;
    }
    if (!found) {
        /* A history from before checkpoints: the rows at `at` by seeks, once. */
        value all = value_list(0);
        if ((rc = psq_rows_at_seek(s, p, NULL, at, 0, 0, &all, NULL, e)) != ST_OK) {
            value_free(all);
            goto finish;
        }
        strbuf row;
        sb_init(&row);
        for (size_t i = 0; rc == ST_OK && i < value_list_len(&all); i++) {
            const value *r = value_list_at(&all, i);
            const value *k = value_map_get(r, "key");
            sb_reset(&row);
            sb_addc(&row, '{');
            for (size_t j = 1; j < value_map_len(r); j++) { /* entry 0 is the key */
                if (j > 1)
                    sb_addc(&row, ',');
                const value *c = value_map_key_at(r, j);
                json_write_string(&row, value_str(c), value_strlen(c));
                sb_addc(&row, ':');
                json_write(&row, value_map_val_at(r, j));
            }
            sb_addc(&row, '}');
            rc = write_row(&wr, k ? value_str(k) : "", row.buf, row.len, e);
        }
        sb_done(&row);
        value_free(all);
        if (rc == ST_OK)
            rc = psq_hist_max_rowid(s, p, rebuild, &last, e);
        goto record;
    }

    /* The previous checkpoint's rows merged with the keys changed since (the
     * writer's log of them, or read back from the history), written in key order
     * (appended at the end of the table's B-tree). */
    if (log) {
        since_from_log(log, &changed);
        last = log_last;
    } else if ((rc = scan_since(s, p, rebuild, hr, 0, at, &changed, &last, e)) != ST_OK)
        goto finish;
    /* A key whose newest entry is a change entry: its row in the previous
     * checkpoint plus its entries since (the run of that checkpoint's epoch). */
    if ((rc = psq_walk_open(s, p, rebuild, &walk, e)) != ST_OK)
        goto finish;
    walk.epoch = walk.epochs ? prev : 0;
    wr.walk = &walk;
    rc = merge(s, p, rebuild, prev, &changed, write_row, &wr, e);

record:
    if (rc != ST_OK)
        goto finish;
    int64_t nrows = wr.n; /* every row written once: write_row counts them */
    sb_reset(&sql);
    sb_adds(&sql, "INSERT OR REPLACE INTO ");
    psq_add_table(&sql, p->name, rebuild, T_CK_AT);
    sb_adds(&sql, "(at, hist_rowid, n) VALUES(?1, ?2, ?3)");
    if (!(st = psq_prepare(s, sql.buf, e, "writing a projection's checkpoint"))) {
        rc = ST_ERR;
        goto finish;
    }
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, last);
    sqlite3_bind_int64(st, 3, nrows);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = psq_error(s, e, "writing a projection's checkpoint");
        goto finish;
    }
    *rows_out = nrows;
    *hr_out = last;
    *there = true;
finish:
    sqlite3_finalize(st);
    sqlite3_finalize(wr.put);
    psq_walk_close(&walk);
    sb_done(&wr.tmp);
    since_done(&changed);
    sb_done(&sql);
    return rc;
}

/* Which way a read of a keyed read model goes. By seeks it costs one seek into
 * the history per key up to the end of the page (offset + limit keys), and the
 * count one seek into the counts table; from the newest checkpoint it costs every
 * row of the checkpoint plus the entries written since it (up to CK_PER_ROW per
 * row), whatever part of the rows is asked. So the count alone (offset SIZE_MAX,
 * limit 0: projection_count, which every frame of the workbench's projections
 * view asks), a page ending within the first SEEK_PAGE rows, and a page of at
 * most SEEK_PAGE rows ending within the first SEEK_DEEP percent of them (the
 * count first, one seek) go by seeks: a page costs a page of work near the top and
 * at most what a read of every row would deeper down. Every row, or a longer
 * page, from the checkpoint. */
#define SEEK_PAGE 512
#define SEEK_DEEP 50

static bool by_seeks(struct store *s, const struct projection_spec *p, int64_t at, size_t offset,
                     size_t limit)
{
    if (limit == 0)
        return offset == SIZE_MAX; /* the count alone */
    if (limit > SEEK_PAGE)
        return false;
    if (offset <= SEEK_PAGE - limit)
        return true;
    int64_t n = 0;
    err e;
    err_clear(&e);
    if (psq_count_at(s, p, at, &n, &e) != ST_OK)
        return false; /* the checkpoint's read says what is wrong */
    uint64_t deep = (uint64_t)(n > 0 ? n : 0) / 100 * SEEK_DEEP; /* the page must end by here */
    return limit <= deep && offset <= deep - limit;
}

/* rows_at into out: from the newest checkpoint, or by seeks. */
static int rows_at_to(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                      size_t offset, size_t limit, struct psq_sink *out, int64_t *count, err *e)
{
    if (p->keyed && !key && !by_seeks(s, p, at, offset, limit)) {
        bool done = false;
        int rc = psq_rows_at_ck(s, p, at, offset, limit, out, count, &done, e);
        if (rc != ST_OK || done)
            return rc;
    }
    return psq_rows_at_seek_to(s, p, key, at, offset, limit, out, count, e);
}

int psq_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                size_t offset, size_t limit, value *rows, int64_t *count, err *e)
{
    struct psq_sink out;
    psq_sink_values(&out, p, rows);
    int rc = rows_at_to(s, p, key, at, offset, limit, &out, count, e);
    psq_sink_done(&out);
    return rc;
}

int psq_rows_at_json(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     size_t offset, size_t limit, proj_json_fn fn, void *ctx, int64_t *count,
                     err *e)
{
    struct psq_sink out;
    psq_sink_json(&out, p, fn, ctx);
    int rc = rows_at_to(s, p, key, at, offset, limit, &out, count, e);
    psq_sink_done(&out);
    return rc;
}
