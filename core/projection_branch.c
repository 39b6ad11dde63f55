/* projection_branch.c: which read-model backend serves a store (proj_backend_for),
 * and the read models of a what-if branch (core/store_branch.h).
 *
 * A branch's read model NAME lives in tables of its own, those of a projection
 * called "NAME@BRANCH" (proj_NAME@BRANCH, its history, keys and counts, and its
 * record in `projections`), in the same store, through main's backend (SQLite
 * or PostgreSQL, IN below): this backend renames each projection and hands the
 * call on. On PostgreSQL the branch's folds run in that backend's batch
 * transactions, under the renamed projection's own fold lock. Rebuilding main's
 * read models does not touch them, and `branch drop` drops them
 * (projection_branch_drop).
 *
 * A branch's read model starts from main's rows as they were at the fork point P
 * (the row history gives them; projection.c first catches main's read model up
 * to P) without copying them: its tables hold only the rows its own events
 * changed, from P on, and reads look through to main's rows at P for the rest.
 * The fold's row_get finds an untouched key's row in main's history at P, and
 * its first history entry on the branch is then written whole; rows_at merges
 * main's rows at P with the branch's (a key the branch has, even deleted, is the
 * branch's); history_walk gives main's history up to P and then the branch's.
 * A keyless projection's one row is copied at P (one row). A rebuild of a
 * branch's read model folds from the first event and borrows nothing. */
#include "projection_branch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "json.h"
#include "pg_util.h"
#include "sqlite_util.h"
#include "store_branch.h"
#include "store_pg.h"
#include "store_sqlite.h"

const struct proj_backend *proj_backend_for(struct store *s, err *e)
{
    if (store_branch_of(s, NULL, NULL, NULL))
        return &proj_backend_branch;
    if (store_sqlite_db(s))
        return &proj_backend_sqlite;
    if (store_pg_conn(s))
        return &proj_backend_pg;
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

/* The backend of main's read models, which keeps the branch's too. */
static const struct proj_backend *IN(struct store *s)
{
    struct store *main = NULL;
    store_branch_of(s, NULL, NULL, &main);
    return store_sqlite_db(main ? main : s) ? &proj_backend_sqlite : &proj_backend_pg;
}

/* The writers open on branches: row_get and history_put get only the writer, and
 * need its store, projection and the keys it borrowed from main (guarded: the
 * projection runner's thread has writers of its own). */
struct bwriter {
    struct proj_writer *w;
    struct store *s;
    const struct projection_spec *p, *q;
    bool rebuild;
    value borrowed; /* key -> true: row_get gave main's row, no entry written yet */
    struct bwriter *next;
};
static struct bwriter *bwriters;
static pthread_mutex_t bwriters_lock = PTHREAD_MUTEX_INITIALIZER;

static struct bwriter *bwriter_of(struct proj_writer *w)
{
    pthread_mutex_lock(&bwriters_lock);
    struct bwriter *b = bwriters;
    while (b && b->w != w)
        b = b->next;
    pthread_mutex_unlock(&bwriters_lock);
    return b;
}

/* Whether the branch's read model q has key among its keys (changed, or deleted,
 * on the branch) by position at (0: ever). */
static int branch_has_key(struct store *s, const struct projection_spec *q, const char *key,
                          int64_t at, bool *has, err *e)
{
    value keys = value_null();
    int rc = IN(s)->keys_at(s, q, key, at, &keys, e);
    *has = rc == ST_OK && value_map_get(&keys, key);
    value_free(keys);
    return rc;
}

/* The branch's keys by position at, as a map key -> true. */
static int branch_keys(struct store *s, const struct projection_spec *q, int64_t at, value *out,
                       err *e)
{
    return IN(s)->keys_at(s, q, NULL, at, out, e);
}

static const char *row_key(const value *row)
{
    const value *k = value_map_get(row, "key");
    return k && k->type == V_STRING ? value_str(k) : "";
}

/* ---- seeding from main at the fork point ---- */

/* The branch's read model q starts at the fork point: its checkpoint, and a
 * keyless projection's row as main had it there. */
static int seed_rows(struct store *s, struct store *main, const struct projection_spec *p,
                     const struct projection_spec *q, int64_t fork, err *e)
{
    struct proj_record mrec;
    int rc = IN(s)->record_get(main, p->name, &mrec, e);
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
    if (!p->keyed && (rc = IN(s)->writer_open(s, q, false, &w, e)) != ST_OK)
        return rc;
    if (!p->keyed) { /* its one row, as it was at the fork point */
        value rows = value_list(0);
        int64_t count = 0;
        rc = IN(s)->rows_at(main, p, NULL, fork, 0, 0, &rows, &count, e);
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
            rc = IN(s)->history_put(w, key, fork, NULL, &row, true, e);
            if (rc == ST_OK)
                rc = IN(s)->row_store(w, key, &row, e);
            free(key);
            value_free(row);
        }
        value_free(rows);
    }
    struct proj_record rec;
    if (rc == ST_OK && (rc = IN(s)->record_get(s, q->name, &rec, e)) == ST_OK) {
        rec.checkpoint = fork;
        snprintf(rec.status, sizeof rec.status, "live");
        /* before the writer closes: a backend may hold its rows until then */
        rc = IN(s)->record_put(s, q->name, &rec, e);
        proj_record_done(&rec);
    }
    if (w)
        IN(s)->writer_close(w);
    return rc;
}

/* Whether no transaction is open on the branch's connection (main's). */
static bool no_transaction(struct store *s)
{
    sqlite3 *db = store_sqlite_db(s);
    if (db)
        return sqlite3_get_autocommit(db);
    return PQtransactionStatus((PGconn *)store_pg_conn(s)) == PQTRANS_IDLE;
}

static int br_ensure(struct store *s, const struct projection_spec *p, err *e)
{
    /* Keyed: nothing to copy, reads look through to main (see the top). */
    struct store *main = NULL;
    int64_t fork = 0;
    store_branch_of(s, NULL, &fork, &main);
    bool own = no_transaction(s);
    int rc = own ? store_begin(s, e) : ST_OK;
    if (rc != ST_OK)
        return rc;
    const struct projection_spec *q = R(s, p);
    rc = IN(s)->ensure(s, q, e);
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
    int rc = IN(s)->record_get(s, n, r, e);
    free(n);
    return rc;
}

static int br_record_put(struct store *s, const char *name, const struct proj_record *r, err *e)
{
    char *n = branch_name(s, name);
    int rc = IN(s)->record_put(s, n, r, e);
    free(n);
    return rc;
}

static int br_set_paused(struct store *s, const char *name, bool paused, err *e)
{
    char *n = branch_name(s, name);
    int rc = IN(s)->set_paused(s, n, paused, e);
    free(n);
    return rc;
}

static int br_set_throttle(struct store *s, const char *name, int64_t throttle, err *e)
{
    char *n = branch_name(s, name);
    int rc = IN(s)->set_throttle(s, n, throttle, e);
    free(n);
    return rc;
}

static int br_writer_open(struct store *s, const struct projection_spec *p, bool rebuild,
                          struct proj_writer **out, err *e)
{
    const struct projection_spec *q = R(s, p);
    int rc = IN(s)->writer_open(s, q, rebuild, out, e);
    if (rc != ST_OK)
        return rc;
    struct bwriter *b = xcalloc(1, sizeof *b);
    b->w = *out;
    b->s = s;
    b->p = p;
    b->q = q;
    b->rebuild = rebuild;
    b->borrowed = value_map(8);
    pthread_mutex_lock(&bwriters_lock);
    b->next = bwriters;
    bwriters = b;
    pthread_mutex_unlock(&bwriters_lock);
    return ST_OK;
}

static int br_rebuild_reset(struct store *s, const struct projection_spec *p, err *e)
{
    return IN(s)->rebuild_reset(s, R(s, p), e);
}

static int br_rebuild_drop(struct store *s, const struct projection_spec *p, err *e)
{
    return IN(s)->rebuild_drop(s, R(s, p), e);
}

static int br_rebuild_swap(struct store *s, const struct projection_spec *p, err *e)
{
    return IN(s)->rebuild_swap(s, R(s, p), e);
}

/* Main's rows at the fork point for the keys the branch has not touched, and
 * the branch's rows for those it has, merged in key order. */
static int br_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                      size_t offset, size_t limit, value *rows, int64_t *count, err *e)
{
    struct store *main = NULL;
    int64_t fork = 0;
    store_branch_of(s, NULL, &fork, &main);
    const struct projection_spec *q = R(s, p);
    if (at <= fork) /* before the branch: main's as it was */
        return IN(s)->rows_at(main, p, key, at, offset, limit, rows, count, e);
    if (!p->keyed)
        return IN(s)->rows_at(s, q, key, at, offset, limit, rows, count, e);
    value mine = value_list(0), theirs = value_list(0), keys = value_null();
    int rc = branch_keys(s, q, at, &keys, e);
    if (rc == ST_OK)
        rc = IN(s)->rows_at(s, q, key, at, 0, 0, &mine, NULL, e);
    if (rc == ST_OK && fork > 0)
        rc = IN(s)->rows_at(main, p, key, fork, 0, 0, &theirs, NULL, e);
    size_t i = 0, j = 0, nm = rc == ST_OK ? value_list_len(&mine) : 0,
           nt = rc == ST_OK ? value_list_len(&theirs) : 0;
    int64_t n = 0;
    while (i < nm || j < nt) {
        const value *a = i < nm ? value_list_at(&mine, i) : NULL;
        const value *b = j < nt ? value_list_at(&theirs, j) : NULL;
        if (b && value_map_get(&keys, row_key(b))) { /* the branch's, even deleted */
            j++;
            continue;
        }
        int cmp = !a ? 1 : !b ? -1 : strcmp(row_key(a), row_key(b));
        const value *take = cmp <= 0 ? a : b;
        i += cmp <= 0;
        j += cmp > 0;
        if ((size_t)n >= offset && (limit == 0 || (size_t)n < offset + limit))
            value_list_push(rows, value_ref(take));
        n++;
    }
    if (count)
        *count = n;
    value_free(mine);
    value_free(theirs);
    value_free(keys);
    return rc;
}

struct walk_after {
    int64_t fork;
    int (*fn)(void *ctx, int64_t position, const value *row, err *e);
    void *ctx;
};

static int walk_after_fork(void *ctx, int64_t position, const value *row, err *e)
{
    struct walk_after *w = ctx;
    return position > w->fork ? w->fn(w->ctx, position, row, e) : ST_OK;
}

/* Main's history up to the fork point, then the branch's after it. */
static int br_history_walk(struct store *s, const struct projection_spec *p, const char *key,
                           int64_t at,
                           int (*fn)(void *ctx, int64_t position, const value *row, err *e),
                           void *ctx, err *e)
{
    struct store *main = NULL;
    int64_t fork = 0;
    store_branch_of(s, NULL, &fork, &main);
    int rc = ST_OK;
    if (fork > 0)
        rc = IN(s)->history_walk(main, p, key, at > 0 && at < fork ? at : fork, fn, ctx, e);
    if (rc != ST_OK || (at > 0 && at <= fork))
        return rc;
    struct walk_after wa = {fork, fn, ctx};
    return IN(s)->history_walk(s, R(s, p), key, at, walk_after_fork, &wa, e);
}

static int br_skip_add(struct store *s, const char *name, int64_t position, const char *reason,
                       err *e)
{
    char *n = branch_name(s, name);
    int rc = IN(s)->skip_add(s, n, position, reason, e);
    free(n);
    return rc;
}

static int br_skips_get(struct store *s, const char *name, int64_t **positions, size_t *n, err *e)
{
    char *bn = branch_name(s, name);
    int rc = IN(s)->skips_get(s, bn, positions, n, e);
    free(bn);
    return rc;
}

static int br_skips_count(struct store *s, const char *name, int64_t *count, err *e)
{
    char *n = branch_name(s, name);
    int rc = IN(s)->skips_count(s, n, count, e);
    free(n);
    return rc;
}

/* A key the branch has not touched has main's row at the fork point. */
static int br_row_get(struct proj_writer *w, const char *key, value *row, bool *found, err *e)
{
    struct bwriter *b = bwriter_of(w);
    const struct proj_backend *in = IN(b->s);
    int rc = in->row_get(w, key, row, found, e);
    if (rc != ST_OK || *found || b->rebuild || !b->p->keyed)
        return rc;
    struct store *main = NULL;
    int64_t fork = 0;
    store_branch_of(b->s, NULL, &fork, &main);
    bool has = false;
    if (fork <= 0 || (rc = branch_has_key(b->s, b->q, key, 0, &has, e)) != ST_OK || has)
        return rc;
    value list = value_list(1);
    if ((rc = in->rows_at(main, b->p, key, fork, 0, 1, &list, NULL, e)) == ST_OK &&
        value_list_len(&list) == 1) {
        value_free(*row);
        *row = value_copy_deep(value_list_at(&list, 0));
        value_map_remove(row, "key", 3);
        *found = true;
        value_map_set(&b->borrowed, key, value_bool(true));
    }
    value_free(list);
    return rc;
}

/* A borrowed key's first entry on the branch: whole, and the key becomes the
 * branch's. */
static int br_history_put(struct proj_writer *w, const char *key, int64_t position,
                          const value *prev, const value *row, bool is_new, err *e)
{
    struct bwriter *b = bwriter_of(w);
    const struct proj_backend *in = IN(b->s);
    if (value_map_get(&b->borrowed, key)) {
        value_map_remove(&b->borrowed, key, strlen(key));
        return in->history_put(w, key, position, NULL, row, true, e);
    }
    return in->history_put(w, key, position, prev, row, is_new, e);
}

static int br_row_store(struct proj_writer *w, const char *key, const value *row, err *e)
{
    return IN(bwriter_of(w)->s)->row_store(w, key, row, e);
}

static void br_writer_forget(struct proj_writer *w)
{
    const struct proj_backend *in = IN(bwriter_of(w)->s);
    if (in->writer_forget)
        in->writer_forget(w);
}

static void br_writer_close(struct proj_writer *w)
{
    const struct proj_backend *in = &proj_backend_sqlite;
    pthread_mutex_lock(&bwriters_lock);
    for (struct bwriter **pp = &bwriters; *pp; pp = &(*pp)->next)
        if ((*pp)->w == w) {
            struct bwriter *b = *pp;
            *pp = b->next;
            in = IN(b->s);
            value_free(b->borrowed);
            free(b);
            break;
        }
    pthread_mutex_unlock(&bwriters_lock);
    in->writer_close(w);
}

static void br_batches_begin(struct store *s, int *saved)
{
    IN(s)->batches_begin(s, saved);
}

static void br_batches_end(struct store *s, int saved)
{
    IN(s)->batches_end(s, saved);
}

static int br_read_begin(struct store *s, bool *began, err *e)
{
    return IN(s)->read_begin(s, began, e);
}

static void br_read_end(struct store *s, bool began)
{
    IN(s)->read_end(s, began);
}

/* A fold batch: in the transaction main's backend gives its batches (the
 * branch's read models renamed), or else the store's. */
static int br_batch_begin(struct store *s, const struct projection_spec *const *ps, size_t n,
                          err *e)
{
    const struct proj_backend *in = IN(s);
    if (!in->batch_begin)
        return store_begin(s, e);
    const struct projection_spec **qs = xcalloc(n + 1, sizeof *qs);
    for (size_t i = 0; i < n; i++)
        qs[i] = R(s, ps[i]);
    int rc = in->batch_begin(s, qs, n, e);
    free(qs);
    return rc;
}

static int br_batch_commit(struct store *s, err *e)
{
    const struct proj_backend *in = IN(s);
    return in->batch_commit ? in->batch_commit(s, e) : store_commit(s, e);
}

static void br_batch_rollback(struct store *s)
{
    const struct proj_backend *in = IN(s);
    if (in->batch_rollback)
        in->batch_rollback(s);
    else
        store_rollback(s);
}

const struct proj_backend proj_backend_branch = {
    .name = "branch",
    .ensure = br_ensure,
    .record_get = br_record_get,
    .record_put = br_record_put,
    .set_paused = br_set_paused,
    .set_throttle = br_set_throttle,
    .writer_open = br_writer_open,
    .row_get = br_row_get,
    .history_put = br_history_put,
    .row_store = br_row_store,
    .writer_forget = br_writer_forget,
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
    .batch_begin = br_batch_begin,
    .batch_commit = br_batch_commit,
    .batch_rollback = br_batch_rollback,
};

/* ---- dropping a branch's read models ---- */

/* True when table is one of a branch's read-model tables: proj_X@BRANCH plus one
 * of the backend's suffixes. */
static bool branch_table(const char *table, const char *branch)
{
    static const char *const suffixes[] = {"",
                                           "_history",
                                           "_keys",
                                           "_counts",
                                           "_ck_rows",
                                           "_ck_at",
                                           "__rebuild",
                                           "__rebuild_history",
                                           "__rebuild_keys",
                                           "__rebuild_counts",
                                           "__rebuild_ck_rows",
                                           "__rebuild_ck_at"};
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

/* A PostgreSQL result's failure in the store's words (ST_ERR). */
static int pg_failed(struct store *main, PGconn *c, PGresult *r, err *e, const char *doing)
{
    int rc = pgu_error(c, r, main->path, STORE_BUSY_TIMEOUT_MS, e, doing);
    PQclear(r);
    return rc;
}

/* projection_branch_drop on PostgreSQL: the same tables, found in the store's
 * schema; then the records and skips whose names end in "@BRANCH". */
static int drop_pg(struct store *main, const char *branch, err *e)
{
    PGconn *c = (PGconn *)store_pg_conn(main);
    PGresult *r = PQexec(c, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()");
    if (!pgu_ok(r))
        return pg_failed(main, c, r, e, "finding a branch's read models");
    strbuf sql;
    sb_init(&sql);
    for (int i = 0; i < PQntuples(r); i++)
        if (branch_table(PQgetvalue(r, i, 0), branch)) {
            sb_adds(&sql, "DROP TABLE IF EXISTS ");
            pgu_add_ident(&sql, "", PQgetvalue(r, i, 0), "");
            sb_adds(&sql, ";\n");
        }
    PQclear(r);
    int out = ST_OK;
    if (sql.len) {
        r = PQexec(c, sql.buf);
        out = pgu_ok(r) ? (PQclear(r), ST_OK)
                        : pg_failed(main, c, r, e, "dropping a branch's read models");
    }
    sb_done(&sql);
    static const char *const cleanup[][2] = {
        {"projections", "DELETE FROM projections WHERE right(name, length($1)) = $1"},
        {"projection_skips",
         "DELETE FROM projection_skips WHERE right(projection, length($1)) = $1"}};
    char *suffix = xasprintf("@%s", branch);
    for (size_t i = 0; out == ST_OK && i < 2; i++) {
        const char *params[1] = {cleanup[i][0]};
        r = PQexecParams(c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params, NULL, NULL, 0);
        if (!pgu_ok(r)) {
            out = pg_failed(main, c, r, e, "dropping a branch's read models");
            break;
        }
        bool have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (!have)
            continue; /* no such table: nothing to clean */
        params[0] = suffix;
        r = PQexecParams(c, cleanup[i][1], 1, NULL, params, NULL, NULL, 0);
        out = pgu_ok(r) ? (PQclear(r), ST_OK)
                        : pg_failed(main, c, r, e, "dropping a branch's read models");
    }
    free(suffix);
    return out;
}

int projection_branch_drop(struct store *main, const char *branch, err *e)
{
    if (store_pg_conn(main))
        return drop_pg(main, branch, e);
    sqlite3 *db = store_sqlite_db(main);
    if (!db)
        return err_set(e, ST_ERR, "branches are not supported on %s stores", main->ops->name);
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
