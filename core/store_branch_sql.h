/* store_branch_sql.h: the few statements a what-if branch (store_branch.c,
 * store_branch_admin.c) runs on its main store's connection, whichever backend
 * main is: the branch's logic is written once, and each backend gives it one way
 * to run a statement (store_branch_sql.c for SQLite, store_pg_branch.c for
 * PostgreSQL). The statements are plain SQL both accept, with a '?' for each
 * parameter in order (PostgreSQL's $1, $2, ... are put in for them). Private to
 * the branch's files. */
#ifndef STRATA_STORE_BRANCH_SQL_H
#define STRATA_STORE_BRANCH_SQL_H

#include "store.h"

/* One parameter: text (NULL for SQL NULL) or, when is_num, an integer. */
struct br_arg {
    const char *text;
    int64_t num;
    bool is_num;
};
#define BA_T(s) ((struct br_arg){(s), 0, false})
#define BA_N(n) ((struct br_arg){NULL, (n), true})

/* One row of a result: its cells as text, NULL for SQL NULL, valid during the call. */
typedef int (*br_row_fn)(void *ctx, const char *const *cells, int n, err *e);

struct br_sql {
    /* Runs sql with its nargs parameters on main's connection, in main's open
     * transaction if there is one; fn (may be NULL) gets each row and ends the
     * walk by returning anything but ST_OK (which run then returns). *changes
     * (may be NULL) receives how many rows a write changed. A unique key broken
     * is ST_DUPLICATE; any other failure ST_ERR, in the store's words, saying
     * what was being done. */
    int (*run)(struct store *main, const char *sql, const struct br_arg *args, size_t nargs,
               br_row_fn fn, void *ctx, int64_t *changes, err *e, const char *doing);
    /* main's store format (store_migrate.h's numbers, the same on both backends). */
    int (*format)(struct store *main);
    /* LIKE that folds ASCII case as SQLite's LIKE does: "LIKE", or "ILIKE" (under
     * the "C" collation) on PostgreSQL. */
    const char *like;
};

extern const struct br_sql br_sql_sqlite, br_sql_pg;

/* The way for main (a main store, not a branch); NULL when its backend has none. */
const struct br_sql *br_sql_for(struct store *main);

#endif
