/* sqlite_util.c: the helpers both SQLite backends share (see sqlite_util.h): name
 * quoting, one-integer queries, column copies, and the one place where an SQLite
 * failure becomes a user-facing message. */
#include "sqlite_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void add_doubling_quotes(strbuf *sb, const char *s)
{
    for (const char *c = s; c && *c; c++) {
        if (*c == '"')
            sb_addc(sb, '"');
        sb_addc(sb, *c);
    }
}

void sqlu_add_ident(strbuf *sb, const char *prefix, const char *name, const char *suffix)
{
    sb_addc(sb, '"');
    add_doubling_quotes(sb, prefix);
    add_doubling_quotes(sb, name);
    add_doubling_quotes(sb, suffix);
    sb_addc(sb, '"');
}

/* SQLITE_CANTOPEN: SQLite's own errno is often that of the -wal or -shm file it
 * failed to create, so the folder itself is asked whether it is writable. */
static int cantopen_error(sqlite3 *db, const char *path, err *e, const char *doing)
{
    int sys = sqlite3_system_errno(db);
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    bool dir_ro = access(slash ? dir : ".", W_OK) != 0;
    free(dir);
    if (dir_ro)
        return err_set(e, ST_ERR,
                       "%s: cannot open the store while %s: its folder is read-only (SQLite "
                       "needs to create %s-wal and %s-shm beside it)",
                       path, doing, path, path);
    if (sys == EACCES || sys == EPERM || sys == EROFS)
        return err_set(e, ST_ERR,
                       "%s: cannot open the store while %s: %s: the store or its folder is "
                       "read-only (SQLite needs to create %s-wal and %s-shm beside it)",
                       path, doing, strerror(sys), path, path);
    return err_set(e, ST_ERR, "%s: cannot open the store while %s: %s", path, doing,
                   sys ? strerror(sys) : sqlite3_errmsg(db));
}

int sqlu_error(sqlite3 *db, int rc, const char *path, int busy_ms, err *e, const char *doing)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return err_set(e, ST_ERR, "the store is locked by another process (waited %g s)",
                       busy_ms / 1000.0);
    case SQLITE_FULL:
        return err_set(e, ST_ERR,
                       "%s: the disk is full (or the store reached its size limit) while %s; "
                       "nothing of it was written",
                       path, doing);
    case SQLITE_READONLY:
        return err_set(e, ST_ERR, "the store is read-only: %s", path);
    case SQLITE_CORRUPT:
        return err_set(e, ST_ERR, "%s is damaged (%s) while %s", path, sqlite3_errmsg(db), doing);
    case SQLITE_NOTADB:
        return err_set(e, ST_ERR, "%s is not a Strata store (not an SQLite database)", path);
    case SQLITE_IOERR:
        if (sqlite3_system_errno(db) == ENOSPC)
            return err_set(e, ST_ERR, "%s: the disk is full while %s; nothing of it was written",
                           path, doing);
        return err_set(e, ST_ERR, "%s: I/O error while %s (%s)", path, doing, sqlite3_errmsg(db));
    case SQLITE_CANTOPEN:
        return cantopen_error(db, path, e, doing);
    default:
        return err_set(e, ST_ERR, "%s: error while %s: %s", path, doing, sqlite3_errmsg(db));
    }
}

int sqlu_query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

char *sqlu_column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t)
        return NULL;
    return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

void sqlu_reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}
