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
 * to P (newest per key wins), and merges them in key order with C's rows. The
 * writer makes a checkpoint when the history has grown by CK_PER_ROW times the
 * rows of the last one (at least CK_MIN entries) since it: a copy of the last
 * checkpoint inside SQLite, then the keys changed since replaced. A read then
 * scans at most that many entries, however long the history is. */
#include "projection_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

#define CK_MIN 4096
#define CK_PER_ROW 8

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

/* Runs st (a query of one checkpoint: at, hist_rowid, n, given `at` as ?1) and
 * finalizes it; *found false when it gives no row. */
static int ck_read(struct store *s, sqlite3_stmt *st, int64_t at, int64_t *ck, int64_t *hr,
                   int64_t *n, bool *found, err *e)
{
    sqlite3_bind_int64(st, 1, at);
    int step = sqlite3_step(st), rc = ST_OK;
    if (step == SQLITE_ROW) {
        *ck = sqlite3_column_int64(st, 0);
        *hr = sqlite3_column_int64(st, 1);
        *n = sqlite3_column_int64(st, 2);
        *found = true;
    } else if (step != SQLITE_DONE) {
        rc = psq_error(s, e, "reading a projection's checkpoints");
    }
    sqlite3_finalize(st);
    return rc;
}

/* The newest checkpoint at or before `at`: *found false when none (or when the
 * tables are not there: a store from before them, not yet folded). */
int psq_ck_find(struct store *s, const struct projection_spec *p, bool rebuild, int64_t at,
                int64_t *ck, int64_t *hr, int64_t *n, bool *found, err *e)
{
    *found = false;
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT at, hist_rowid, n FROM ");
    psq_add_table(&sql, p->name, rebuild, T_CK_AT);
    sb_adds(&sql, " WHERE at <= ?1 ORDER BY at DESC LIMIT 1");
    sqlite3_stmt *st = NULL;
    int prc = sqlite3_prepare_v2(psq_db(s), sql.buf, -1, &st, NULL);
    sb_done(&sql);
    if (prc != SQLITE_OK) {
        sqlite3_finalize(st);
        return ST_OK;
    }
    return ck_read(s, st, at, ck, hr, n, found, e);
}

/* The oldest checkpoint after `at` (*found false: none). */
int psq_ck_find_after(struct store *s, const struct projection_spec *p, int64_t at, int64_t *ck,
                      int64_t *hr, int64_t *n, bool *found, err *e)
{
    *found = false;
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT at, hist_rowid, n FROM ");
    psq_add_table(&sql, p->name, false, T_CK_AT);
    sb_adds(&sql, " WHERE at > ?1 ORDER BY at LIMIT 1");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's checkpoints");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    return ck_read(s, st, at, ck, hr, n, found, e);
}

/* The newest entry of each key among the history entries after rowid hr (and
 * at most hr_end, 0: to the end) up to position `at`, into map: key -> its whole
 * row's JSON text, null when deleted, or an int when it is a change entry (the
 * row is then walked back). Scanned newest first, so a key's older entries cost
 * a lookup and nothing more. *last: the newest rowid at or before `at`. */
static int scan_since(struct store *s, const struct projection_spec *p, bool rebuild, int64_t hr,
                      int64_t hr_end, int64_t at, value *map, int64_t *last, err *e)
{
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT rowid, valid_from, key, row, changes IS NOT NULL FROM ");
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
    *last = hr;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 1) > at)
            continue; /* after `at`: the history is appended in position order */
        if (*last == hr)
            *last = sqlite3_column_int64(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 2);
        size_t klen = (size_t)sqlite3_column_bytes(st, 2);
        if (!k || value_map_getn(map, k, klen))
            continue; /* a newer entry of this key is in already */
        value v;
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            v = value_string((const char *)sqlite3_column_text(st, 3),
                             (size_t)sqlite3_column_bytes(st, 3));
        else
            v = sqlite3_column_int(st, 4) ? value_int(1) : value_null();
        value_map_setn(map, k, klen, v);
    }
    int rc = step == SQLITE_DONE ? ST_OK : psq_error(s, e, "reading a projection's history");
    sqlite3_finalize(st);
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
    if (hi < 0) {
        sqlite3_stmt *mx = NULL;
        sb_init(&sql);
        sb_adds(&sql, "SELECT coalesce(max(rowid), 0) FROM ");
        psq_add_table(&sql, p->name, false, T_HISTORY);
        mx = psq_prepare(s, sql.buf, e, "reading a projection's history");
        sb_done(&sql);
        if (!mx || sqlite3_step(mx) != SQLITE_ROW)
            rc = mx ? psq_error(s, e, "reading a projection's history") : ST_ERR;
        else
            hi = sqlite3_column_int64(mx, 0);
        sqlite3_finalize(mx);
    }
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

static const value *sort_map;

static int by_key(const void *a, const void *b)
{
    const value *ka = value_map_key_at(sort_map, *(const size_t *)a);
    const value *kb = value_map_key_at(sort_map, *(const size_t *)b);
    size_t la = value_strlen(ka), lb = value_strlen(kb);
    int c = memcmp(value_str(ka), value_str(kb), la < lb ? la : lb);
    return c ? c : la < lb ? -1 : la > lb;
}

/* One row of a merge: its key, and its JSON text, or NULL when its newest entry
 * is a change entry (walk its history back). */
typedef int (*merge_fn)(void *ctx, const char *key, const char *text, size_t len, err *e);

/* The rows at a position, in key order (SQLite's BINARY order): the rows of
 * checkpoint ck but for the keys in changed, merged with those (deleted ones
 * left out). */
static int merge(struct store *s, const struct projection_spec *p, bool rebuild, int64_t ck,
                 const value *changed, merge_fn fn, void *ctx, err *e)
{
    size_t nch = value_map_len(changed);
    size_t *idx = xcalloc(nch ? nch : 1, sizeof *idx);
    for (size_t i = 0; i < nch; i++)
        idx[i] = i;
    sort_map = changed;
    qsort(idx, nch, sizeof *idx, by_key);
    sort_map = NULL;
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT key, row FROM ");
    psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(&sql, " WHERE at = ?1 ORDER BY key");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's checkpoint");
    sb_done(&sql);
    if (!st) {
        free(idx);
        return ST_ERR;
    }
    sqlite3_bind_int64(st, 1, ck);
    int rc = ST_OK, step = sqlite3_step(st);
    size_t i = 0;
    while (rc == ST_OK) {
        bool have = step == SQLITE_ROW;
        if (!have && step != SQLITE_DONE) {
            rc = psq_error(s, e, "reading a projection's checkpoint");
            break;
        }
        if (!have && i >= nch)
            break;
        const value *k = i < nch ? value_map_key_at(changed, idx[i]) : NULL;
        const char *ckk = have ? (const char *)sqlite3_column_text(st, 0) : NULL;
        int cmp = 1;
        if (have && !k) {
            cmp = -1;
        } else if (have) {
            size_t la = (size_t)sqlite3_column_bytes(st, 0), lb = value_strlen(k);
            cmp = memcmp(ckk, value_str(k), la < lb ? la : lb);
            if (!cmp)
                cmp = la < lb ? -1 : la > lb;
        }
        if (cmp < 0) { /* unchanged since the checkpoint */
            rc = fn(ctx, ckk, (const char *)sqlite3_column_text(st, 1),
                    (size_t)sqlite3_column_bytes(st, 1), e);
            step = sqlite3_step(st);
            continue;
        }
        const value *v = value_map_val_at(changed, idx[i]);
        i++;
        if (v->type == V_STRING)
            rc = fn(ctx, value_str(k), value_str(v), value_strlen(v), e);
        else if (v->type == V_INT)
            rc = fn(ctx, value_str(k), NULL, 0, e);
        if (cmp == 0)
            step = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    free(idx);
    return rc;
}

struct reading {
    struct store *s;
    const struct projection_spec *p;
    int64_t at;
    size_t offset, limit;
    int64_t n;
    value *rows;
    strbuf tmp;
    sqlite3_stmt *walk;
};

static int read_row(void *ctx, const char *key, const char *text, size_t len, err *e)
{
    struct reading *r = ctx;
    size_t i = (size_t)r->n++;
    if (i < r->offset || (r->limit && i >= r->offset + r->limit))
        return ST_OK;
    value row;
    int rc = text ? psq_parse_keyed_row(r->p, key, text, len, &r->tmp, &row, e)
                  : psq_walked_keyed_row(r->s, &r->walk, r->p, key, r->at, &row, e);
    if (rc == ST_OK)
        value_list_push(r->rows, row);
    return rc;
}

int psq_rows_at_ck(struct store *s, const struct projection_spec *p, int64_t at, size_t offset,
                   size_t limit, value *rows, int64_t *count, bool *done, err *e)
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
    value changed = value_map(64);
    int64_t last;
    int rc = end > hr ? scan_since(s, p, false, hr, end, at, &changed, &last, e) : ST_OK;
    struct reading r = {s, p, at, offset, limit, 0, rows, {0}, NULL};
    sb_init(&r.tmp);
    if (rc == ST_OK)
        rc = merge(s, p, false, ck, &changed, read_row, &r, e);
    if (count)
        *count = r.n;
    sqlite3_finalize(r.walk);
    sb_done(&r.tmp);
    value_free(changed);
    return rc;
}

struct writing {
    struct store *s;
    const struct projection_spec *p;
    int64_t at;
    int64_t n;
    sqlite3_stmt *put, *walk;
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
                 int64_t *rows_out, int64_t *hr_out, err *e)
{
    int64_t prev = 0, hr = 0, nprev = 0;
    bool found;
    if (psq_ck_find(s, p, rebuild, at, &prev, &hr, &nprev, &found, e) != ST_OK)
        return ST_ERR;
    if (found && prev >= at)
        return ST_OK;
    strbuf sql, tmp;
    sb_init(&sql);
    sb_init(&tmp);
    value changed = value_map(64);
    sqlite3_stmt *put = NULL, *putrow = NULL, *walk = NULL, *st = NULL;
    int rc = ST_OK;
    int64_t last = hr;
    if (!found) {
        /* A history from before checkpoints: the rows at `at` by seeks, once. */
        if (rebuild)
            goto finish; /* its rebuild made tables of the new shape: never here */
        value all = value_list(0);
        if ((rc = psq_rows_at_seek(s, p, NULL, at, 0, 0, &all, NULL, e)) != ST_OK) {
            value_free(all);
            goto finish;
        }
        sb_adds(&sql, "INSERT INTO ");
        psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
        sb_adds(&sql, "(at, key, row) VALUES(?1, ?2, ?3)");
        if (!(putrow = psq_prepare(s, sql.buf, e, "writing a projection's checkpoint"))) {
            value_free(all);
            rc = ST_ERR;
            goto finish;
        }
        for (size_t i = 0; rc == ST_OK && i < value_list_len(&all); i++) {
            const value *r = value_list_at(&all, i);
            const value *k = value_map_get(r, "key");
            sb_reset(&tmp);
            sb_addc(&tmp, '{');
            for (size_t j = 1; j < value_map_len(r); j++) { /* entry 0 is the key */
                if (j > 1)
                    sb_addc(&tmp, ',');
                const value *c = value_map_key_at(r, j);
                json_write_string(&tmp, value_str(c), value_strlen(c));
                sb_addc(&tmp, ':');
                json_write(&tmp, value_map_val_at(r, j));
            }
            sb_addc(&tmp, '}');
            sqlite3_bind_int64(putrow, 1, at);
            sqlite3_bind_text(putrow, 2, k ? value_str(k) : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(putrow, 3, tmp.buf, (int)tmp.len, SQLITE_STATIC);
            if (sqlite3_step(putrow) != SQLITE_DONE)
                rc = psq_error(s, e, "writing a projection's checkpoint");
            sqlite3_reset(putrow);
        }
        value_free(all);
        sb_reset(&sql);
        sb_adds(&sql, "SELECT coalesce(max(rowid), 0) FROM ");
        psq_add_table(&sql, p->name, rebuild, T_HISTORY);
        if (rc == ST_OK && !(st = psq_prepare(s, sql.buf, e, "reading a projection's history")))
            rc = ST_ERR;
        if (rc == ST_OK && sqlite3_step(st) == SQLITE_ROW)
            last = sqlite3_column_int64(st, 0);
        goto record;
    }

    /* The previous checkpoint's rows merged with the keys changed since, written
     * in key order (appended at the end of the table's B-tree). */
    if ((rc = scan_since(s, p, rebuild, hr, 0, at, &changed, &last, e)) != ST_OK)
        goto finish;
    sb_reset(&sql);
    sb_adds(&sql, "INSERT INTO ");
    psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(&sql, "(at, key, row) VALUES(?1, ?2, ?3)");
    put = psq_prepare(s, sql.buf, e, "writing a projection's checkpoint");
    sb_reset(&sql);
    psq_add_history_walk_sql(&sql, p, rebuild);
    walk = put ? psq_prepare(s, sql.buf, e, "writing a projection's checkpoint") : NULL;
    if (!walk) {
        rc = ST_ERR;
        goto finish;
    }
    struct writing wr = {s, p, at, 0, put, walk, {0}};
    sb_init(&wr.tmp);
    rc = merge(s, p, rebuild, prev, &changed, write_row, &wr, e);
    sb_done(&wr.tmp);

record:
    if (rc != ST_OK)
        goto finish;
    sqlite3_finalize(st);
    sb_reset(&sql);
    sb_adds(&sql, "SELECT count(*) FROM ");
    psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(&sql, " WHERE at = ?1");
    if (!(st = psq_prepare(s, sql.buf, e, "writing a projection's checkpoint"))) {
        rc = ST_ERR;
        goto finish;
    }
    sqlite3_bind_int64(st, 1, at);
    int64_t nrows = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
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
finish:
    sqlite3_finalize(st);
    sqlite3_finalize(put);
    sqlite3_finalize(putrow);
    sqlite3_finalize(walk);
    value_free(changed);
    sb_done(&sql);
    sb_done(&tmp);
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

int psq_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                size_t offset, size_t limit, value *rows, int64_t *count, err *e)
{
    if (p->keyed && !key && !by_seeks(s, p, at, offset, limit)) {
        bool done = false;
        int rc = psq_rows_at_ck(s, p, at, offset, limit, rows, count, &done, e);
        if (rc != ST_OK || done)
            return rc;
    }
    return psq_rows_at_seek(s, p, key, at, offset, limit, rows, count, e);
}
