/* store_branch_admin.c: creating, listing and dropping what-if branches
 * (store_branch.h): rows of the branches table in main's SQLite file. Opening
 * one and its operations are in store_branch.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_util.h"
#include "store_backend.h"
#include "store_branch.h"
#include "store_migrate.h"
#include "store_sqlite.h"

static sqlite3_stmt *prepare(sqlite3 *db, struct store *main, const char *sql, err *e,
                             const char *doing)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        store_sqlite_error(main, rc, e, doing);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* ---- managing branches ---- */

void branch_info_free(struct branch_info *bi, size_t n)
{
    for (size_t i = 0; bi && i < n; i++) {
        free(bi[i].name);
        free(bi[i].created_at);
    }
    free(bi);
}

void branch_info_free_one(struct branch_info *bi)
{
    free(bi->name);
    free(bi->created_at);
    bi->name = bi->created_at = NULL;
}

bool store_branch_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64 || strcmp(name, "main") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* main's SQLite connection, or NULL with e set (a branch, PostgreSQL, an old
 * read-only store). */
static sqlite3 *main_db(struct store *s, err *e)
{
    if (s->under) {
        err_set(e, ST_USAGE, "a branch is made from main, not from another branch");
        return NULL;
    }
    sqlite3 *db = store_sqlite_db(s);
    if (!db) {
        err_set(e, ST_ERR, "branches are not yet supported on %s stores",
                store_kind_of(s->path) == STORE_POSTGRESQL ? "PostgreSQL" : s->ops->name);
        return NULL;
    }
    if (store_sqlite_format(s) < store_migration_number("branches")) {
        err_set(e, ST_ERR,
                "%s is an older store without branches (open it for writing once to "
                "upgrade it)",
                s->path);
        return NULL;
    }
    return db;
}

static const char INFO_SQL[] =
    "SELECT b.name, b.fork_position, b.created_at, "
    "(SELECT count(*) FROM branch_events e WHERE e.branch = b.name), "
    "(SELECT max(position) FROM branch_events e WHERE e.branch = b.name) FROM branches b ";

static void info_of(sqlite3_stmt *st, struct branch_info *bi)
{
    bi->name = sqlu_column_dup(st, 0);
    bi->fork = sqlite3_column_int64(st, 1);
    bi->created_at = sqlu_column_dup(st, 2);
    bi->events = sqlite3_column_int64(st, 3);
    bi->head = sqlite3_column_type(st, 4) == SQLITE_NULL ? bi->fork : sqlite3_column_int64(st, 4);
    if (!bi->name)
        bi->name = xstrdup("");
    if (!bi->created_at)
        bi->created_at = xstrdup("");
}

int store_branch_list(struct store *s, struct branch_info **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3 *db = main_db(s, e);
    if (!db)
        return ST_ERR;
    char sql[sizeof INFO_SQL + 32];
    snprintf(sql, sizeof sql, "%sORDER BY b.name", INFO_SQL);
    sqlite3_stmt *st = prepare(db, s, sql, e, "listing branches");
    if (!st)
        return ST_ERR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        info_of(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        branch_info_free(*out, *n);
        *out = NULL;
        *n = 0;
        return store_sqlite_error(s, rc, e, "listing branches");
    }
    return ST_OK;
}

static int no_branch(struct store *s, const char *name, err *e)
{
    return err_set(e, ST_NOT_FOUND, "no branch '%s' in %s (strata branch list shows them)", name,
                   s->path);
}

int store_branch_get(struct store *s, const char *name, struct branch_info *out, err *e)
{
    memset(out, 0, sizeof *out);
    sqlite3 *db = main_db(s, e);
    if (!db)
        return ST_ERR;
    char sql[sizeof INFO_SQL + 32];
    snprintf(sql, sizeof sql, "%sWHERE b.name = ?1", INFO_SQL);
    sqlite3_stmt *st = prepare(db, s, sql, e, "reading a branch");
    if (!st)
        return ST_ERR;
    bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        info_of(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return ST_OK;
    if (rc != SQLITE_DONE)
        return store_sqlite_error(s, rc, e, "reading a branch");
    return no_branch(s, name, e);
}

int store_branch_create(struct store *s, const char *name, int64_t at, int64_t *fork, err *e)
{
    if (!store_branch_name_ok(name))
        return err_set(e, ST_USAGE,
                       "bad branch name '%s': 1 to 64 letters, digits, '_', '-' or '.', and "
                       "not 'main'",
                       name ? name : "");
    sqlite3 *db = main_db(s, e);
    if (!db)
        return ST_ERR;
    int64_t head = 0;
    if (store_head(s, &head, e) != ST_OK)
        return ST_ERR;
    if (at < 0 || at > head)
        return err_set(e, ST_USAGE, "--at %lld is past the head (%lld)", (long long)at,
                       (long long)head);
    *fork = at > 0 ? at : head;
    char now[TIME_TEXT_LEN + 1];
    store_time_text(NULL, now);
    sqlite3_stmt *st = prepare(db, s,
                               "INSERT INTO branches(name, fork_position, created_at) "
                               "VALUES(?1, ?2, ?3)",
                               e, "creating a branch");
    if (!st)
        return ST_ERR;
    bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, *fork);
    bind_text(st, 3, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return err_set(e, ST_ERR, "branch '%s' exists already (strata branch drop %s first)", name,
                       name);
    if (rc != SQLITE_DONE)
        return store_sqlite_error(s, rc, e, "creating a branch");
    return ST_OK;
}

int store_branch_drop(struct store *s, const char *name, err *e)
{
    sqlite3 *db = main_db(s, e);
    if (!db)
        return ST_ERR;
    sqlite3_stmt *st =
        prepare(db, s, "DELETE FROM branches WHERE name = ?1", e, "dropping a branch");
    if (!st)
        return ST_ERR;
    bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_sqlite_error(s, rc, e, "dropping a branch");
    if (sqlite3_changes(db) == 0)
        return no_branch(s, name, e);
    if (!(st = prepare(db, s, "DELETE FROM branch_events WHERE branch = ?1", e,
                       "dropping a branch's events")))
        return ST_ERR;
    bind_text(st, 1, name);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_sqlite_error(s, rc, e, "dropping a branch's events");
    return ST_OK;
}
