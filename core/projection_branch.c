/* projection_branch.c: which read-model backend serves a store (proj_backend_for),
 * and the read models of a what-if branch (core/store_branch.h).
 *
 * A branch's read model NAME lives in tables of its own, those of a projection
 * called "NAME@BRANCH" (proj_NAME@BRANCH, its history, keys and counts, and its
 * record in `projections`), in the same file, through the SQLite backend: this
 * backend renames each projection and hands the call on. Rebuilding main's read
 * models does not touch them, and `branch drop` drops them
 * (projection_branch_drop).
 *
 * When a branch's read model is first needed, it starts from main's rows as they
 * were at the fork point P (the row history gives them; projection.c first
 * catches main's read model up to P): each row is written with one history entry
 * at P and the checkpoint set to P, and the branch's own events are folded on
 * top as usual. So its row history starts at P: earlier history is main's. */
#include "projection_branch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sqlite_util.h"
#include "store_branch.h"
#include "store_sqlite.h"

const struct proj_backend *proj_backend_for(struct store *s, err *e)
{
    if (store_branch_of(s, NULL, NULL, NULL))
        return &proj_backend_branch;
    if (store_sqlite_db(s))
        return &proj_backend_sqlite;
    err_set(e, ST_ERR, "projections: no read-model backend for a %s store", s->ops->name);
    return NULL;
}

/* ---- renamed specs, kept as long as the branch is open ---- */

struct renamed {
    const struct projection_spec *orig;
    struct projection_spec copy;
};
struct renames {
    struct renamed **items;
    size_t n;
};

static void renames_free(void *p)
{
    struct renames *r = p;
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i]->copy.name);
        free(r->items[i]);
    }
    free(r->items);
    free(r);
}

static char *branch_name(struct store *s, const char *name)
{
    const char *branch = "";
    store_branch_of(s, &branch, NULL, NULL);
    return xasprintf("%s@%s", name, branch);
}

static const struct projection_spec *R(struct store *s, const struct projection_spec *p)
{
    struct renames *r = store_branch_slot_get(s);
    if (!r) {
        r = xcalloc(1, sizeof *r);
        store_branch_slot_set(s, r, renames_free);
    }
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i]->orig == p)
            return &r->items[i]->copy;
    struct renamed *x = xcalloc(1, sizeof *x);
    x->orig = p;
    x->copy = *p;
    x->copy.name = branch_name(s, p->name);
    r->items = xrealloc(r->items, (r->n + 1) * sizeof *r->items);
    r->items[r->n++] = x;
    return &x->copy;
}

#define SQ proj_backend_sqlite

/* ---- seeding from main at the fork point ---- */

static int seed_rows(struct store *s, struct store *main, const struct projection_spec *p,
                     const struct projection_spec *q, int64_t fork, err *e)
{
    struct proj_record mrec;
    int rc = SQ.record_get(main, p->name, &mrec, e);
    if (rc == ST_OK && mrec.checkpoint < fork)
        rc = err_set(e, ST_ERR,
                     "main's read model %s has not reached the branch's fork point %lld (it is at "
                     "%lld%s): bring it up to date (strata project, or a rebuild) first",
                     p->name, (long long)fork, (long long)mrec.checkpoint,
                     strcmp(mrec.rules_hash, p->rules_hash) ? ", built by other rules" : "");
    proj_record_done(&mrec);
    if (rc != ST_OK)
        return rc;
    struct proj_writer *w = NULL;
    if ((rc = SQ.writer_open(s, q, false, &w, e)) != ST_OK)
        return rc;
    /* One pass: rows_at pages by skipping, so pages would cost a pass each. */
    {
        value rows = value_list(0);
        int64_t count = 0;
        rc = SQ.rows_at(main, p, NULL, fork, 0, 0, &rows, &count, e);
        size_t got = rc == ST_OK ? value_list_len(&rows) : 0;
        for (size_t i = 0; rc == ST_OK && i < got; i++) {
            value row = value_copy_deep(value_list_at(&rows, i));
            const value *k = value_map_get(&row, "key");
            char *key = NULL;
            if (!p->keyed || !k)
                key = xstrdup("");
            else if (k->type == V_STRING)
                key = xstrdup(value_str(k));
            else
                key = json_to_string(k);
            value_map_remove(&row, "key", 3);
            /* a keyless row replaces the defaults ensure wrote */
            rc = SQ.history_put(w, key, fork, NULL, &row, true, e);
            if (rc == ST_OK)
                rc = SQ.row_store(w, key, &row, e);
            free(key);
            value_free(row);
        }
        value_free(rows);
    }
    SQ.writer_close(w);
    if (rc != ST_OK)
        return rc;
    struct proj_record rec;
    if ((rc = SQ.record_get(s, q->name, &rec, e)) != ST_OK)
        return rc;
    rec.checkpoint = fork;
    snprintf(rec.status, sizeof rec.status, "live");
    rc = SQ.record_put(s, q->name, &rec, e);
    proj_record_done(&rec);
    return rc;
}

static int br_ensure(struct store *s, const struct projection_spec *p, err *e)
{
    struct store *main = NULL;
    int64_t fork = 0;
    store_branch_of(s, NULL, &fork, &main);
    bool own = sqlite3_get_autocommit(store_sqlite_db(s));
    int rc = own ? store_begin(s, e) : ST_OK;
    if (rc != ST_OK)
        return rc;
    const struct projection_spec *q = R(s, p);
    rc = SQ.ensure(s, q, e);
    if (rc == ST_OK && fork > 0)
        rc = seed_rows(s, main, p, q, fork, e);
    if (own && rc == ST_OK)
        return store_commit(s, e);
    if (own)
        store_rollback(s);
    return rc;
}

/* ---- the rest: renamed, handed on ---- */

static int br_record_get(struct store *s, const char *name, struct proj_record *r, err *e)
{
    char *n = branch_name(s, name);
    int rc = SQ.record_get(s, n, r, e);
    free(n);
    return rc;
}

static int br_record_put(struct store *s, const char *name, const struct proj_record *r, err *e)
{
    char *n = branch_name(s, name);
    int rc = SQ.record_put(s, n, r, e);
    free(n);
    return rc;
}

static int br_set_paused(struct store *s, const char *name, bool paused, err *e)
{
    char *n = branch_name(s, name);
    int rc = SQ.set_paused(s, n, paused, e);
    free(n);
    return rc;
}

static int br_set_throttle(struct store *s, const char *name, int64_t throttle, err *e)
{
    char *n = branch_name(s, name);
    int rc = SQ.set_throttle(s, n, throttle, e);
    free(n);
    return rc;
}

static int br_writer_open(struct store *s, const struct projection_spec *p, bool rebuild,
                          struct proj_writer **out, err *e)
{
    return SQ.writer_open(s, R(s, p), rebuild, out, e);
}

static int br_rebuild_reset(struct store *s, const struct projection_spec *p, err *e)
{
    return SQ.rebuild_reset(s, R(s, p), e);
}

static int br_rebuild_drop(struct store *s, const struct projection_spec *p, err *e)
{
    return SQ.rebuild_drop(s, R(s, p), e);
}

static int br_rebuild_swap(struct store *s, const struct projection_spec *p, err *e)
{
    return SQ.rebuild_swap(s, R(s, p), e);
}

static int br_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                      size_t offset, size_t limit, value *rows, int64_t *count, err *e)
{
    return SQ.rows_at(s, R(s, p), key, at, offset, limit, rows, count, e);
}

static int br_history_walk(struct store *s, const struct projection_spec *p, const char *key,
                           int64_t at,
                           int (*fn)(void *ctx, int64_t position, const value *row, err *e),
                           void *ctx, err *e)
{
    return SQ.history_walk(s, R(s, p), key, at, fn, ctx, e);
}

static int br_skip_add(struct store *s, const char *name, int64_t position, const char *reason,
                       err *e)
{
    char *n = branch_name(s, name);
    int rc = SQ.skip_add(s, n, position, reason, e);
    free(n);
    return rc;
}

static int br_skips_get(struct store *s, const char *name, int64_t **positions, size_t *n, err *e)
{
    char *bn = branch_name(s, name);
    int rc = SQ.skips_get(s, bn, positions, n, e);
    free(bn);
    return rc;
}

static int br_skips_count(struct store *s, const char *name, int64_t *count, err *e)
{
    char *n = branch_name(s, name);
    int rc = SQ.skips_count(s, n, count, e);
    free(n);
    return rc;
}

static int br_row_get(struct proj_writer *w, const char *key, value *row, bool *found, err *e)
{
    return SQ.row_get(w, key, row, found, e);
}

static int br_history_put(struct proj_writer *w, const char *key, int64_t position,
                          const value *prev, const value *row, bool is_new, err *e)
{
    return SQ.history_put(w, key, position, prev, row, is_new, e);
}

static int br_row_store(struct proj_writer *w, const char *key, const value *row, err *e)
{
    return SQ.row_store(w, key, row, e);
}

static void br_writer_close(struct proj_writer *w)
{
    SQ.writer_close(w);
}

static void br_batches_begin(struct store *s, int *saved)
{
    SQ.batches_begin(s, saved);
}

static void br_batches_end(struct store *s, int saved)
{
    SQ.batches_end(s, saved);
}

static int br_read_begin(struct store *s, bool *began, err *e)
{
    return SQ.read_begin(s, began, e);
}

static void br_read_end(struct store *s, bool began)
{
    SQ.read_end(s, began);
}

const struct proj_backend proj_backend_branch = {
    .name = "sqlite branch",
    .ensure = br_ensure,
    .record_get = br_record_get,
    .record_put = br_record_put,
    .set_paused = br_set_paused,
    .set_throttle = br_set_throttle,
    .writer_open = br_writer_open,
    .row_get = br_row_get,
    .history_put = br_history_put,
    .row_store = br_row_store,
    .writer_close = br_writer_close,
    .rebuild_reset = br_rebuild_reset,
    .rebuild_drop = br_rebuild_drop,
    .rebuild_swap = br_rebuild_swap,
    .batches_begin = br_batches_begin,
    .batches_end = br_batches_end,
    .read_begin = br_read_begin,
    .read_end = br_read_end,
    .rows_at = br_rows_at,
    .history_walk = br_history_walk,
    .skip_add = br_skip_add,
    .skips_get = br_skips_get,
    .skips_count = br_skips_count,
};

/* ---- dropping a branch's read models ---- */

/* True when table is one of a branch's read-model tables: proj_X@BRANCH plus one
 * of the backend's suffixes. */
static bool branch_table(const char *table, const char *branch)
{
    static const char *const suffixes[] = {
        "",          "_history",          "_keys",          "_counts",
        "__rebuild", "__rebuild_history", "__rebuild_keys", "__rebuild_counts"};
    if (strncmp(table, "proj_", 5) != 0)
        return false;
    size_t bl = strlen(branch);
    for (const char *at = strchr(table, '@'); at; at = strchr(at + 1, '@')) {
        if (strncmp(at + 1, branch, bl) != 0)
            continue;
        for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
            if (strcmp(at + 1 + bl, suffixes[i]) == 0)
                return true;
    }
    return false;
}

int projection_branch_drop(struct store *main, const char *branch, err *e)
{
    sqlite3 *db = store_sqlite_db(main);
    if (!db)
        return err_set(e, ST_ERR, "branches are not yet supported on %s stores", main->ops->name);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &st,
                                NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_error(main, rc, e, "finding a branch's read models");
    char **names = NULL;
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t && branch_table(t, branch)) {
            names = xrealloc(names, (n + 1) * sizeof *names);
            names[n++] = xstrdup(t);
        }
    }
    sqlite3_finalize(st);
    int out = ST_OK;
    for (size_t i = 0; i < n; i++) {
        strbuf sql;
        sb_init(&sql);
        sb_adds(&sql, "DROP TABLE IF EXISTS ");
        sqlu_add_ident(&sql, "", names[i], "");
        if (out == ST_OK && (rc = sqlite3_exec(db, sql.buf, NULL, NULL, NULL)) != SQLITE_OK)
            out = store_sqlite_error(main, rc, e, "dropping a branch's read models");
        sb_done(&sql);
        free(names[i]);
    }
    free(names);
    if (out != ST_OK)
        return out;
    /* Their records and skips, if those tables exist. */
    static const char *const cleanup[] = {
        "DELETE FROM projections WHERE substr(name, -length(?1)) = ?1",
        "DELETE FROM projection_skips WHERE substr(projection, -length(?1)) = ?1"};
    char *suffix = xasprintf("@%s", branch);
    for (size_t i = 0; out == ST_OK && i < 2; i++) {
        if (sqlite3_prepare_v2(db, cleanup[i], -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            continue; /* no such table: nothing to clean */
        }
        sqlite3_bind_text(st, 1, suffix, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            out = store_sqlite_error(main, rc, e, "dropping a branch's read models");
        sqlite3_finalize(st);
    }
    free(suffix);
    return out;
}
