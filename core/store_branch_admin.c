/* store_branch_admin.c: creating, listing and dropping what-if branches
 * (store_branch.h): rows of the branches table in main's store, SQLite or
 * PostgreSQL (store_branch_sql.h). Opening one and its operations are in
 * store_branch.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "store_branch.h"
#include "store_branch_sql.h"
#include "store_migrate.h"

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

/* How statements run on main, or NULL with e set (a branch, a backend without
 * branches, an old read-only store). */
static const struct br_sql *main_sql(struct store *s, err *e)
{
    if (s->under) {
        err_set(e, ST_USAGE, "a branch is made from main, not from another branch");
        return NULL;
    }
    const struct br_sql *sql = br_sql_for(s);
    if (!sql) {
        err_set(e, ST_ERR, "branches are not supported on %s stores", s->ops->name);
        return NULL;
    }
    if (sql->format(s) < store_migration_number("branches")) {
        err_set(e, ST_ERR,
                "%s is an older store without branches (open it for writing once to "
                "upgrade it)",
                s->path);
        return NULL;
    }
    return sql;
}

static const char INFO_SQL[] =
    "SELECT b.name, b.fork_position, b.created_at, "
    "(SELECT count(*) FROM branch_events e WHERE e.branch = b.name), "
    "(SELECT max(position) FROM branch_events e WHERE e.branch = b.name) FROM branches b ";

static int64_t num(const char *cell)
{
    return cell ? strtoll(cell, NULL, 10) : 0;
}

struct infos {
    struct branch_info *items;
    size_t n;
};

static int info_row(void *ctx, const char *const *c, int n, err *e)
{
    (void)n;
    (void)e;
    struct infos *in = ctx;
    in->items = xrealloc(in->items, (in->n + 1) * sizeof *in->items);
    struct branch_info *bi = &in->items[in->n++];
    bi->name = xstrdup(c[0] ? c[0] : "");
    bi->fork = num(c[1]);
    bi->created_at = xstrdup(c[2] ? c[2] : "");
    bi->events = num(c[3]);
    bi->head = c[4] ? num(c[4]) : bi->fork;
    return ST_OK;
}

int store_branch_list(struct store *s, struct branch_info **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    const struct br_sql *sql = main_sql(s, e);
    if (!sql)
        return ST_ERR;
    char text[sizeof INFO_SQL + 32];
    snprintf(text, sizeof text, "%sORDER BY b.name", INFO_SQL);
    struct infos in = {NULL, 0};
    if (sql->run(s, text, NULL, 0, info_row, &in, NULL, e, "listing branches") != ST_OK) {
        branch_info_free(in.items, in.n);
        return ST_ERR;
    }
    *out = in.items;
    *n = in.n;
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
    const struct br_sql *sql = main_sql(s, e);
    if (!sql)
        return ST_ERR;
    char text[sizeof INFO_SQL + 32];
    snprintf(text, sizeof text, "%sWHERE b.name = ?", INFO_SQL);
    struct infos in = {NULL, 0};
    struct br_arg args[] = {BA_T(name)};
    if (sql->run(s, text, args, 1, info_row, &in, NULL, e, "reading a branch") != ST_OK) {
        branch_info_free(in.items, in.n);
        return ST_ERR;
    }
    if (in.n == 0)
        return no_branch(s, name, e);
    *out = in.items[0];
    for (size_t i = 1; i < in.n; i++)
        branch_info_free_one(&in.items[i]);
    free(in.items);
    return ST_OK;
}

int store_branch_create(struct store *s, const char *name, int64_t at, int64_t *fork, err *e)
{
    if (!store_branch_name_ok(name))
        return err_set(e, ST_USAGE,
                       "bad branch name '%s': 1 to 64 letters, digits, '_', '-' or '.', and "
                       "not 'main'",
                       name ? name : "");
    const struct br_sql *sql = main_sql(s, e);
    if (!sql)
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
    struct br_arg args[] = {BA_T(name), BA_N(*fork), BA_T(now)};
    int rc = sql->run(s, "INSERT INTO branches(name, fork_position, created_at) VALUES(?, ?, ?)",
                      args, 3, NULL, NULL, NULL, e, "creating a branch");
    if (rc == ST_DUPLICATE)
        return err_set(e, ST_ERR, "branch '%s' exists already (strata branch drop %s first)", name,
                       name);
    return rc;
}

int store_branch_drop(struct store *s, const char *name, err *e)
{
    const struct br_sql *sql = main_sql(s, e);
    if (!sql)
        return ST_ERR;
    struct br_arg args[] = {BA_T(name)};
    int64_t changed = 0;
    if (sql->run(s, "DELETE FROM branches WHERE name = ?", args, 1, NULL, NULL, &changed, e,
                 "dropping a branch") != ST_OK)
        return ST_ERR;
    if (changed == 0)
        return no_branch(s, name, e);
    return sql->run(s, "DELETE FROM branch_events WHERE branch = ?", args, 1, NULL, NULL, NULL, e,
                    "dropping a branch's events");
}
