/* store_sqlite_schema.c: opening an SQLite store (store_sqlite_open): says what
 * the file is (a Strata store of a format this build reads, an empty database, or
 * something else, each said plainly), creates a new store and upgrades an older
 * one (by store_migrate.c's migrations, in one transaction under the write lock),
 * and sets the connection up (WAL, durability, cache, size limit). The operations
 * on an open store are in store_sqlite.c. */
#include "store_sqlite.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlite_util.h"
#include "store_migrate.h"
#include "store_sqlite_internal.h"

/* What marks a Strata store: PRAGMA application_id (STRATA_APPLICATION_ID) and the
 * format version, in PRAGMA user_version and in strata_meta. The formats and the
 * migrations between them are in store_migrate.c. */

enum file_kind { FILE_STRATA, FILE_EMPTY };

/* Says what the open file is: a Strata store of a format we read, or an empty
 * database; anything else is an error. */
static int classify(struct sq_store *ss, enum file_kind *kind, int *format_out, err *e)
{
    const char *path = ss->base.path;
    int64_t app = 0, format = 0, tables = 0;
    int rc = sqlu_query_int(ss->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = sqlu_query_int(ss->db, "PRAGMA user_version", &format);
    if (rc == SQLITE_OK)
        rc = sqlu_query_int(ss->db, "SELECT count(*) FROM sqlite_master", &tables);
    if (rc != SQLITE_OK)
        return sq_fail(ss, rc, e, "opening the store");
    if (app == STRATA_APPLICATION_ID) {
        if (format > store_format_latest())
            return err_set(e, ST_ERR,
                           "%s was written by a newer Strata (store format %lld; this build "
                           "reads up to %d)",
                           path, (long long)format, store_format_latest());
        if (format < 1)
            return err_set(e, ST_ERR, "%s is a damaged Strata store (it records no format version)",
                           path);
        *kind = FILE_STRATA;
        *format_out = (int)format;
        return ST_OK;
    }
    if (app != 0 || tables > 0)
        return err_set(e, ST_ERR, "%s is an SQLite database but not a Strata store", path);
    *kind = FILE_EMPTY;
    *format_out = 0;
    return ST_OK;
}

static int exec(struct sq_store *ss, const char *sql, err *e, const char *doing)
{
    int rc = sqlite3_exec(ss->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(ss, rc, e, doing);
    return ST_OK;
}

/* Brings an empty database or an older store to the newest format: under the
 * write lock (BEGIN IMMEDIATE) it looks again, since another process may have
 * created or upgraded it meanwhile, then runs every pending migration and records
 * the new format, all in one transaction: a crash or an error leaves the store
 * as it was. */
static int upgrade(struct sq_store *ss, err *e)
{
    if (sq_tx_begin(ss, e) != ST_OK)
        return ST_ERR;
    enum file_kind kind;
    int format = 0;
    int rc = classify(ss, &kind, &format, e);
    if (rc == ST_OK && format < store_format_latest()) {
        rc = store_migrate_sqlite(ss->db, format, store_format_latest(), e);
        if (rc != ST_OK)
            err_prefix(e, "%s", ss->base.path);
    }
    if (rc != ST_OK) {
        sq_tx_rollback(ss);
        return rc;
    }
    if (sq_tx_commit(ss, e) != ST_OK)
        return ST_ERR;
    ss->format = store_format_latest();
    return ST_OK;
}

/* SQLite counts the memory it allocates under a global mutex, which a catch-up's
 * reader thread (read_ahead.c) and its fold then contend for at every allocation
 * (2% of a catch-up), and nothing here reads those counts. It must precede SQLite's
 * initialisation: a process that used SQLite before its first store keeps them. */
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *store_sqlite_open(const char *path, const struct store_options *opt, err *e)
{
    pthread_once(&sqlite_setup_once, sqlite_setup);
    bool memory = strcmp(path, ":memory:") == 0;
    bool read_only = opt->read_only;
    bool exists = false;
    if (!memory) {
        struct stat sb;
        if (stat(path, &sb) != 0) {
            if (errno != ENOENT) {
                err_set(e, ST_ERR, "cannot open store %s: %s", path, strerror(errno));
                return NULL;
            }
            if (!opt->create || read_only) {
                err_set(e, ST_ERR, "no such store: %s", path);
                return NULL;
            }
        } else {
            exists = true;
            if (S_ISDIR(sb.st_mode)) {
                err_set(e, ST_ERR, "%s is a directory, not a Strata store", path);
                return NULL;
            }
            /* The file is never opened here other than through SQLite: closing any
             * descriptor of a file drops every POSIX lock this process holds on it,
             * so a header check with open()/close() while another connection of this
             * process (the workbench's projection runner) is writing lets a third
             * process write at the same time and corrupts the store. SQLite itself
             * says SQLITE_NOTADB for a file that is not a database. */
            if (access(path, W_OK) != 0)
                read_only = true;
        }
    }

    struct sq_store *ss = xcalloc(1, sizeof *ss);
    ss->base.ops = &store_sqlite_ops;
    ss->base.path = xstrdup(path);
    ss->read_only = read_only;
    ss->busy_ms = opt->busy_timeout_ms >= 0 ? opt->busy_timeout_ms : STORE_BUSY_TIMEOUT_MS;
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY
                           : SQLITE_OPEN_READWRITE | (exists ? 0 : SQLITE_OPEN_CREATE));
    int rc = sqlite3_open_v2(path, &ss->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (ss->db)
            sq_fail(ss, rc, e, "opening it");
        else
            err_set(e, ST_ERR, "cannot open store %s: %s", path, sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(ss->db, 1);
    sqlite3_busy_timeout(ss->db, ss->busy_ms);

    enum file_kind kind;
    int format = 0;
    if (classify(ss, &kind, &format, e) != ST_OK)
        goto fail;
    if (kind == FILE_EMPTY && (read_only || (exists && !opt->create))) {
        err_set(e, ST_ERR, "%s is an empty SQLite database, not a Strata store", path);
        goto fail;
    }
    ss->format = format;
    /* Read-only, an older store is read as it is when what the newer formats add
     * can be read as empty; otherwise it has to be upgraded first, which needs
     * write access. Nothing is ever written through a read-only open. */
    if (read_only && format < store_format_latest() && !store_format_readable(format)) {
        err_set(e, ST_ERR,
                "%s is a store of format %d and this build reads format %d: open it once "
                "with write access (any command that writes, e.g. `strata project`) to "
                "upgrade it",
                path, format, store_format_latest());
        goto fail;
    }
    if (!read_only && !memory) {
        /* WAL is a property of the file; setting it again is a no-op. */
        int64_t ignored;
        if ((rc = sqlu_query_int(ss->db, "PRAGMA journal_mode=WAL", &ignored)) != SQLITE_OK) {
            sq_fail(ss, rc, e, "switching the store to WAL mode");
            goto fail;
        }
    }
    int sync = opt->synchronous < 0 ? 0 : opt->synchronous > 3 ? 3 : opt->synchronous;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%d", sync);
    if (exec(ss, pragma, e, "setting durability") != ST_OK)
        goto fail;
    /* Appends interleaved over many streams touch one (stream_id, version) index
     * page per stream in every commit. A 32 MB page cache keeps those pages from
     * being read back again and again, and checkpointing every 64 MB of WAL instead
     * of every 4 MB writes each hot page to the database once, not once per commit:
     * measured, a third fewer bytes written and a quarter faster imports. */
    if (exec(ss, sq_cache_pragma(), e, "setting the cache size") != ST_OK ||
        exec(ss, "PRAGMA wal_autocheckpoint=16384", e, "setting the checkpoints") != ST_OK)
        goto fail;
    if (opt->max_pages > 0) {
        snprintf(pragma, sizeof pragma, "PRAGMA max_page_count=%lld", (long long)opt->max_pages);
        if (exec(ss, pragma, e, "setting a size limit") != ST_OK)
            goto fail;
    }
    if (!read_only && format < store_format_latest() && upgrade(ss, e) != ST_OK)
        goto fail;
    return &ss->base;

fail:
    store_sqlite_ops.close(&ss->base);
    return NULL;
}

int store_sqlite_format(struct store *s)
{
    while (s && s->under) /* a branch: its main store's file */
        s = s->under;
    return s && s->ops == &store_sqlite_ops ? ((struct sq_store *)s)->format : 0;
}
