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

/* Entry kinds in the scan's map: key -> rowid * 4 + kind. */
enum { K_DELETED = 0, K_WHOLE = 1, K_CHANGE = 2 };

/* The newest entry of each key among the history entries after rowid hr up to
 * position `at`, into map (key -> rowid * 4 + kind); *last: the newest rowid. */
static int scan_since(struct store *s, const struct projection_spec *p, bool rebuild, int64_t hr,
                      int64_t at, value *map, int64_t *last, err *e)
{
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT rowid, valid_from, key, row IS NOT NULL, changes IS NOT NULL FROM ");
    psq_add_table(&sql, p->name, rebuild, T_HISTORY);
    sb_adds(&sql, " WHERE rowid > ?1 ORDER BY rowid");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's history");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, hr);
    *last = hr;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 1) > at)
            break; /* appended in position order: the rest is later still */
        int64_t rowid = sqlite3_column_int64(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 2);
        int kind = sqlite3_column_int(st, 3)   ? K_WHOLE
                   : sqlite3_column_int(st, 4) ? K_CHANGE
                                               : K_DELETED;
        value_map_setn(map, k ? k : "", (size_t)sqlite3_column_bytes(st, 2),
                       value_int(rowid * 4 + kind));
        *last = rowid;
    }
    int rc = step == SQLITE_ROW || step == SQLITE_DONE
                 ? ST_OK
                 : psq_error(s, e, "reading a projection's history");
    sqlite3_finalize(st);
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

/* The map's entries in key order (SQLite's BINARY order), as indexes. */
static size_t *sorted_keys(const value *map)
{
    size_t n = value_map_len(map);
    size_t *idx = xcalloc(n ? n : 1, sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    sort_map = map;
    qsort(idx, n, sizeof *idx, by_key);
    sort_map = NULL;
    return idx;
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
    value changed = value_map(64);
    int64_t last;
    int rc = scan_since(s, p, false, hr, at, &changed, &last, e);
    size_t *idx = NULL;
    sqlite3_stmt *cks = NULL, *byid = NULL;
    strbuf sql, tmp;
    sb_init(&sql);
    sb_init(&tmp);
    if (rc != ST_OK)
        goto finish;
    idx = sorted_keys(&changed);
    sb_adds(&sql, "SELECT key, row FROM ");
    psq_add_table(&sql, p->name, false, T_CK_ROWS);
    sb_adds(&sql, " WHERE at = ?1 ORDER BY key");
    if (!(cks = psq_prepare(s, sql.buf, e, "reading a projection's checkpoint"))) {
        rc = ST_ERR;
        goto finish;
    }
    sqlite3_bind_int64(cks, 1, ck);
    sb_reset(&sql);
    sb_adds(&sql, "SELECT key, row FROM ");
    psq_add_table(&sql, p->name, false, T_HISTORY);
    sb_adds(&sql, " WHERE rowid = ?1");
    if (!(byid = psq_prepare(s, sql.buf, e, "reading a projection's history"))) {
        rc = ST_ERR;
        goto finish;
    }
    sqlite3_stmt *walk = NULL;
    size_t nch = value_map_len(&changed), i = 0;
    int64_t n = 0;
    int step = sqlite3_step(cks);
    while (rc == ST_OK) {
        bool have_ck = step == SQLITE_ROW;
        if (!have_ck && step != SQLITE_DONE) {
            rc = psq_error(s, e, "reading a projection's checkpoint");
            break;
        }
        if (!have_ck && i >= nch)
            break;
        int cmp;
        const value *chk = i < nch ? value_map_key_at(&changed, idx[i]) : NULL;
        if (!have_ck) {
            cmp = 1;
        } else if (!chk) {
            cmp = -1;
        } else {
            const char *ckk = (const char *)sqlite3_column_text(cks, 0);
            size_t la = (size_t)sqlite3_column_bytes(cks, 0), lb = value_strlen(chk);
            cmp = memcmp(ckk, value_str(chk), la < lb ? la : lb);
            if (!cmp)
                cmp = la < lb ? -1 : la > lb;
        }
        if (cmp < 0) { /* unchanged since the checkpoint */
            bool in_page = (size_t)n >= offset && (!limit || (size_t)n < offset + limit);
            n++;
            if (in_page) {
                value row;
                if ((rc = psq_parse_keyed_row(p, (const char *)sqlite3_column_text(cks, 0), cks, 1,
                                              &tmp, &row, e)) != ST_OK)
                    break;
                value_list_push(rows, row);
            }
            step = sqlite3_step(cks);
            continue;
        }
        int64_t code = value_map_val_at(&changed, idx[i])->u.i;
        i++;
        if (cmp == 0)
            step = sqlite3_step(cks);
        if (code % 4 == K_DELETED)
            continue;
        bool in_page = (size_t)n >= offset && (!limit || (size_t)n < offset + limit);
        n++;
        if (!in_page)
            continue;
        value row;
        if (code % 4 == K_WHOLE) {
            sqlite3_bind_int64(byid, 1, code / 4);
            if (sqlite3_step(byid) != SQLITE_ROW) {
                rc = psq_error(s, e, "reading a projection's history");
                break;
            }
            rc = psq_parse_keyed_row(p, value_str(chk), byid, 1, &tmp, &row, e);
            sqlite3_reset(byid);
        } else {
            rc = psq_walked_keyed_row(s, &walk, p, value_str(chk), at, &row, e);
        }
        if (rc != ST_OK)
            break;
        value_list_push(rows, row);
    }
    sqlite3_finalize(walk);
    if (count)
        *count = n;
finish:
    sqlite3_finalize(cks);
    sqlite3_finalize(byid);
    sb_done(&sql);
    sb_done(&tmp);
    free(idx);
    value_free(changed);
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
    sqlite3_stmt *put = NULL, *del = NULL, *putrow = NULL, *walk = NULL, *st = NULL;
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

    /* The previous checkpoint's rows, copied inside SQLite. */
    if (prev > 0 || nprev > 0) {
        sb_adds(&sql, "INSERT INTO ");
        psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
        sb_adds(&sql, "(at, key, row) SELECT ?1, key, row FROM ");
        psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
        sb_adds(&sql, " WHERE at = ?2");
        if (!(st = psq_prepare(s, sql.buf, e, "writing a projection's checkpoint"))) {
            rc = ST_ERR;
            goto finish;
        }
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_int64(st, 2, prev);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = psq_error(s, e, "writing a projection's checkpoint");
        sqlite3_finalize(st);
        st = NULL;
        if (rc != ST_OK)
            goto finish;
    }
    /* Then the keys changed since, as they are now. */
    if ((rc = scan_since(s, p, rebuild, hr, at, &changed, &last, e)) != ST_OK)
        goto finish;
    sb_reset(&sql);
    sb_adds(&sql, "INSERT OR REPLACE INTO ");
    psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(&sql, "(at, key, row) SELECT ?1, key, row FROM ");
    psq_add_table(&sql, p->name, rebuild, T_HISTORY);
    sb_adds(&sql, " WHERE rowid = ?2");
    put = psq_prepare(s, sql.buf, e, "writing a projection's checkpoint");
    sb_reset(&sql);
    sb_adds(&sql, "DELETE FROM ");
    psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(&sql, " WHERE at = ?1 AND key = ?2");
    del = put ? psq_prepare(s, sql.buf, e, "writing a projection's checkpoint") : NULL;
    sb_reset(&sql);
    sb_adds(&sql, "INSERT OR REPLACE INTO ");
    psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(&sql, "(at, key, row) VALUES(?1, ?2, ?3)");
    putrow = del ? psq_prepare(s, sql.buf, e, "writing a projection's checkpoint") : NULL;
    sb_reset(&sql);
    psq_add_history_walk_sql(&sql, p, rebuild);
    walk = putrow ? psq_prepare(s, sql.buf, e, "writing a projection's checkpoint") : NULL;
    if (!walk) {
        rc = ST_ERR;
        goto finish;
    }
    for (size_t i = 0; rc == ST_OK && i < value_map_len(&changed); i++) {
        const value *k = value_map_key_at(&changed, i);
        int64_t code = value_map_val_at(&changed, i)->u.i;
        sqlite3_stmt *use;
        if (code % 4 == K_WHOLE) {
            use = put;
            sqlite3_bind_int64(put, 1, at);
            sqlite3_bind_int64(put, 2, code / 4);
        } else if (code % 4 == K_DELETED) {
            use = del;
            sqlite3_bind_int64(del, 1, at);
            sqlite3_bind_text(del, 2, value_str(k), (int)value_strlen(k), SQLITE_STATIC);
        } else {
            value row;
            bool there;
            if ((rc = psq_history_row_at(s, walk, p, value_str(k), at, &row, &there, NULL, e)) !=
                ST_OK)
                break;
            sb_reset(&tmp);
            json_write(&tmp, &row);
            value_free(row);
            use = putrow;
            sqlite3_bind_int64(putrow, 1, at);
            sqlite3_bind_text(putrow, 2, value_str(k), (int)value_strlen(k), SQLITE_STATIC);
            sqlite3_bind_text(putrow, 3, tmp.buf, (int)tmp.len, SQLITE_STATIC);
        }
        if (sqlite3_step(use) != SQLITE_DONE)
            rc = psq_error(s, e, "writing a projection's checkpoint");
        sqlite3_reset(use);
    }

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
    sqlite3_finalize(del);
    sqlite3_finalize(putrow);
    sqlite3_finalize(walk);
    value_free(changed);
    sb_done(&sql);
    sb_done(&tmp);
    return rc;
}
