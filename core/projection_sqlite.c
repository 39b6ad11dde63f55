/* projection_sqlite.c: read-model tables in the store's own SQLite file (the
 * SQLite implementation of projection_backend.h).
 *
 * Per projection NAME (every identifier double-quoted, embedded quotes doubled,
 * since names come from domain files):
 *
 *   proj_NAME          (key TEXT PRIMARY KEY, one typed column per declared column)
 *                      the read model now, for anyone with sqlite3: INTEGER, REAL or
 *                      TEXT by the default's type, lists and maps as JSON text,
 *                      booleans as 0/1, no declared type when the default is null.
 *                      A projection without key keeps its one row under key ''.
 *   proj_NAME_history  (valid_from, key, row, changes, epoch)
 *                      one entry per change, at the position of the event that made
 *                      it: one per row the event changed (a handler with for_each
 *                      changes several rows at one position). Either `row`, the whole row as
 *                      JSON (exact types); or `changes`, what changed since the
 *                      key's previous entry: {"set": {column: value, ...},
 *                      "append": {column: [items added at the list's end], ...}};
 *                      or neither: the event deleted the row. `epoch`: the
 *                      position of the newest checkpoint written before the entry
 *                      (0: none yet, and always for a keyless projection).
 *     index proj_NAME_history_by_key (epoch, key, valid_from), unique: one entry
 *                      per key and position. The rowid is implicit, so entries are
 *                      still appended at the end (see below). Stores of format 2
 *                      had valid_from as the rowid (migration 4 re-keys them);
 *                      stores before format 7 had no epoch and an index on (key,
 *                      valid_from) (migration 7 adds them; opened read-only, such
 *                      a store is read by key alone: psq_epochs).
 *   proj_NAME_keys     (key PRIMARY KEY, first_position) every key ever seen.
 *   proj_NAME_counts   (valid_from PRIMARY KEY, n) the number of rows after each
 *                      event that added or removed some (the changes of one event
 *                      add up in its entry).
 *   proj_NAME_ck_rows, proj_NAME_ck_at  full checkpoints of a keyed read model
 *                      every so many history entries (projection_sqlite_ckpt.c):
 *                      a read of every row at P starts from the newest one.
 *
 * Why this design for reads at a past position P: the row of a key at P is its
 * row in the newest checkpoint C at or before P (none: no row), overridden by its
 * entries of epoch C up to P: the newest whole entry, or a delete, or, when that
 * is a change entry, the whole entry before it (or C's row) plus the change
 * entries after that. The index finds the newest entry of the epoch in one
 * descending seek, C's row is one seek in proj_NAME_ck_rows; a read of all keys
 * walks proj_NAME_keys in key order (the order the answer wants) with those seeks
 * per key inside one statement (correlated subqueries), and walks back only for
 * the keys whose newest entry is a change entry. --key is those seeks (plus that
 * walk). The cost is O(keys * log(history)), independent of how far back P is;
 * valid-from/valid-to ranges would update the previous entry on every change. A
 * read of every row (or of a long page) goes instead from C's rows plus the
 * history entries after it (projection_sqlite_ckpt.c): O(keys + interval), flat
 * as the history grows, where the seeks become page-cache misses. A key's whole
 * history (`why`) is one seek and scan per epoch.
 *
 * Why epochs: indexed by (key, valid_from), every batch of a catch-up put an index
 * entry beside each key it touched, all over an index as large as the history; at
 * 10,000,000 events that index outgrew the page cache and each batch read and
 * wrote back a page per key (10,000 pages for a batch of 65,536 events). Led by the
 * epoch, a batch's index entries go into the newest epoch's part of the index, a
 * few hundred pages however long the history is (bench/RESULTS.md, "Epochs").
 *
 * Why change entries: a row that keeps a growing list (a keyless statistics row
 * collecting ids, say) made every event write the whole row again, so catch-up
 * wrote O(events * row) bytes, quadratic in the list's length. A change entry
 * holds only the columns that changed, and a list that grew at its end only the
 * items added, so an event costs what it changed. A key gets a whole entry again
 * after full_len / CHANGE_BYTES_PER_ENTRY change entries (8 to 512), or sooner
 * when its change entries add up to the size of the whole row: whole entries then
 * cost at most CHANGE_BYTES_PER_ENTRY bytes per change, and a read replays at most
 * one whole row plus about as many bytes again of changes. Rows whose whole entry
 * is at most FULL_ROW_SMALL bytes are always written whole: for them a change
 * entry saves little, and a read of many keys stays one seek per key.
 *
 * Why the history is ordered by position, not by key: entries are appended at the
 * end of the table, so a batch dirties few pages; ordered by (key, valid_from), a
 * batch touching thousands of keys dirtied a page per event, and every commit
 * wrote that many pages to the log (the same reason the index leads with epochs).
 *
 * The history also serves the current row to the fold (row_get), so values come
 * back with their exact types (an int stays an int, a string that looks like JSON
 * stays a string), which the typed table cannot promise.
 *
 * While rebuilding, the same tables exist with the suffix __rebuild
 * (proj_NAME__rebuild, proj_NAME__rebuild_history, ...); the swap drops the live
 * ones and renames these in one transaction, so a reader sees the old read model
 * or the new one, never half of one.
 *
 * This file holds the records, writing rows and history, rebuilds and batches'
 * durability; reading rows back is in projection_sqlite_history.c, table names
 * and SQL helpers in projection_sqlite_sql.c. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "projection_sqlite_internal.h"
#include "sqlite_util.h"
#include "store_migrate.h"
#include "store_pg.h"
#include "store_sqlite.h"

static const char RECORD_TABLE_SQL[] =
    "CREATE TABLE IF NOT EXISTS projections(name TEXT PRIMARY KEY, checkpoint INTEGER NOT NULL "
    "DEFAULT 0, status TEXT, rules_hash TEXT, paused INTEGER NOT NULL DEFAULT 0, throttle INTEGER "
    "NOT NULL DEFAULT 0, error TEXT, error_position INTEGER, error_event TEXT, updated_at TEXT, "
    "rebuild_checkpoint INTEGER, rebuild_hash TEXT, rate_samples TEXT)";

/* The name of the index of p's history by key: proj_NAME_history_by_key, and
 * for a rebuild proj_NAME_history_by_key_<when it was made>. ALTER TABLE RENAME
 * keeps an index's name, so after a rebuild's swap the live history keeps the
 * rebuild's index; a name of its own per rebuild keeps the next rebuild's index
 * from meeting it (and no name says "rebuild" once swapped in). */
static void add_history_index(strbuf *sb, const char *name, bool rebuild)
{
    static unsigned counter;
    char suffix[64] = "_history_by_key";
    if (rebuild)
        snprintf(suffix, sizeof suffix, "_history_by_key_%llx_%x",
                 (unsigned long long)time_now_ms(),
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    sqlu_add_ident(sb, "proj_", name, suffix);
}

static const char *column_type(const value *def)
{
    switch (def->type) {
    case V_BOOL:
    case V_INT:
        return " INTEGER";
    case V_DOUBLE:
        return " REAL";
    case V_STRING:
    case V_LIST:
    case V_MAP:
        return " TEXT";
    default:
        return ""; /* a null default says nothing of the type: let SQLite keep any */
    }
}

/* Binds v to parameter i in the typed table's form. */
static void bind_value(sqlite3_stmt *st, int i, const value *v, strbuf *tmp)
{
    switch (v->type) {
    case V_NULL:
        sqlite3_bind_null(st, i);
        break;
    case V_BOOL:
        sqlite3_bind_int64(st, i, v->u.b ? 1 : 0);
        break;
    case V_INT:
        sqlite3_bind_int64(st, i, v->u.i);
        break;
    case V_DOUBLE:
        sqlite3_bind_double(st, i, v->u.d);
        break;
    case V_STRING:
        sqlite3_bind_text(st, i, value_str(v), (int)value_strlen(v), SQLITE_TRANSIENT);
        break;
    default:
        sb_reset(tmp);
        json_write(tmp, v);
        sqlite3_bind_text(st, i, tmp->buf, (int)tmp->len, SQLITE_TRANSIENT);
        break;
    }
}

static void add_create_ck_sql(strbuf *sql, const struct projection_spec *p, bool rebuild,
                              bool mark);

/* CREATE TABLE statements for p's tables (live or rebuild). */
static void add_create_sql(strbuf *sql, const struct projection_spec *p, bool rebuild)
{
    sb_adds(sql, "CREATE TABLE IF NOT EXISTS ");
    psq_add_table(sql, p->name, rebuild, T_ROWS);
    sb_adds(sql, "(key TEXT PRIMARY KEY NOT NULL");
    for (size_t i = 0; i < p->ncolumns; i++) {
        sb_adds(sql, ", ");
        sqlu_add_ident(sql, NULL, p->columns[i], NULL);
        sb_adds(sql, column_type(&p->defaults[i]));
    }
    sb_adds(sql, ") WITHOUT ROWID;\nCREATE TABLE IF NOT EXISTS ");
    psq_add_table(sql, p->name, rebuild, T_HISTORY);
    /* the shape migrations 4 and 7 (store_migrate.c) give an older table */
    sb_adds(sql, "(" STORE_HISTORY_COLUMNS ", " STORE_HISTORY_EPOCH ");\n"
                 "CREATE UNIQUE INDEX IF NOT EXISTS ");
    add_history_index(sql, p->name, rebuild);
    sb_adds(sql, " ON ");
    psq_add_table(sql, p->name, rebuild, T_HISTORY);
    sb_adds(sql, "(epoch, key, valid_from);\nCREATE TABLE IF NOT EXISTS ");
    psq_add_table(sql, p->name, rebuild, T_KEYS);
    sb_adds(sql, "(key TEXT PRIMARY KEY NOT NULL, first_position INTEGER NOT NULL) WITHOUT ROWID;\n"
                 "CREATE TABLE IF NOT EXISTS ");
    psq_add_table(sql, p->name, rebuild, T_COUNTS);
    sb_adds(sql, "(valid_from INTEGER PRIMARY KEY, n INTEGER NOT NULL);\n");
    add_create_ck_sql(sql, p, rebuild, true);
}

/* The checkpoint tables (projection_sqlite_ckpt.c), with the entry (0, 0, 0)
 * when the history is new. A store whose read model predates them gets them
 * from its next writer. */
static void add_create_ck_sql(strbuf *sql, const struct projection_spec *p, bool rebuild, bool mark)
{
    sb_adds(sql, "CREATE TABLE IF NOT EXISTS ");
    psq_add_table(sql, p->name, rebuild, T_CK_ROWS);
    sb_adds(sql, "(at INTEGER NOT NULL, key TEXT NOT NULL, row TEXT NOT NULL, "
                 "PRIMARY KEY(at, key)) WITHOUT ROWID;\nCREATE TABLE IF NOT EXISTS ");
    psq_add_table(sql, p->name, rebuild, T_CK_AT);
    sb_adds(sql, "(at INTEGER PRIMARY KEY, hist_rowid INTEGER NOT NULL, n INTEGER NOT NULL);\n");
    if (!mark)
        return;
    sb_adds(sql, "INSERT INTO ");
    psq_add_table(sql, p->name, rebuild, T_CK_AT);
    sb_adds(sql, " SELECT 0, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM ");
    psq_add_table(sql, p->name, rebuild, T_CK_AT);
    sb_adds(sql, ") AND NOT EXISTS (SELECT 1 FROM ");
    psq_add_table(sql, p->name, rebuild, T_HISTORY);
    sb_adds(sql, ");\n");
}

/* Gives a keyless projection its single row of defaults in the typed table. */
static int insert_keyless_row(struct store *s, const struct projection_spec *p, bool rebuild,
                              err *e)
{
    if (p->keyed)
        return ST_OK;
    strbuf sql, tmp;
    sb_init(&sql);
    sb_init(&tmp);
    sb_adds(&sql, "INSERT OR IGNORE INTO ");
    psq_add_table(&sql, p->name, rebuild, T_ROWS);
    sb_adds(&sql, " VALUES(''");
    for (size_t i = 0; i < p->ncolumns; i++)
        sb_adds(&sql, ", ?");
    sb_adds(&sql, ")");
    int rc = ST_ERR;
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "creating the row of a projection without key");
    if (st) {
        for (size_t i = 0; i < p->ncolumns; i++)
            bind_value(st, (int)i + 1, &p->defaults[i], &tmp);
        rc = sqlite3_step(st) == SQLITE_DONE ? ST_OK
                                             : psq_error(s, e, "creating the row of a projection");
        sqlite3_finalize(st);
    }
    sb_done(&sql);
    sb_done(&tmp);
    return rc;
}

/* Runs f inside a transaction of its own unless the caller has one open. */
static int in_transaction(struct store *s,
                          int (*f)(struct store *, const struct projection_spec *, err *),
                          const struct projection_spec *p, err *e)
{
    if (!sqlite3_get_autocommit(psq_db(s)))
        return f(s, p, e);
    int rc = store_begin(s, e);
    if (rc != ST_OK)
        return rc;
    rc = f(s, p, e);
    if (rc == ST_OK)
        return store_commit(s, e);
    store_rollback(s);
    return rc;
}

static int ensure_in_tx(struct store *s, const struct projection_spec *p, err *e)
{
    if (psq_exec(s, RECORD_TABLE_SQL, e, "creating the projections table") != ST_OK)
        return ST_ERR;
    strbuf sql;
    sb_init(&sql);
    add_create_sql(&sql, p, false);
    int rc = psq_exec(s, sql.buf, e, "creating a projection's tables");
    sb_done(&sql);
    if (rc != ST_OK)
        return err_prefix(e, "projection %s", p->name), rc;
    if ((rc = insert_keyless_row(s, p, false, e)) != ST_OK)
        return rc;
    sqlite3_stmt *st =
        psq_prepare(s,
                    "INSERT OR IGNORE INTO projections(name, checkpoint, status, "
                    "rules_hash, paused, throttle) VALUES(?, 0, 'catching up', ?, 0, 0)",
                    e, "creating a projection's record");
    if (!st)
        return ST_ERR;
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->rules_hash, -1, SQLITE_STATIC);
    rc =
        sqlite3_step(st) == SQLITE_DONE ? ST_OK : psq_error(s, e, "creating a projection's record");
    sqlite3_finalize(st);
    return rc;
}

static int sq_ensure(struct store *s, const struct projection_spec *p, err *e)
{
    return in_transaction(s, ensure_in_tx, p, e);
}

static void column_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static int sq_record_get(struct store *s, const char *name, struct proj_record *r, err *e)
{
    sqlite3 *db = psq_db(s);
    memset(r, 0, sizeof *r);
    r->rebuild_checkpoint = -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT checkpoint, status, rules_hash, paused, throttle, error, "
                           "error_position, error_event, updated_at, rebuild_checkpoint, "
                           "rebuild_hash, rate_samples FROM projections WHERE name = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        /* No projections table yet: no record either. */
        int nf = strstr(sqlite3_errmsg(db), "no such table") != NULL;
        sqlite3_finalize(st);
        return nf ? ST_NOT_FOUND : psq_error(s, e, "reading a projection's record");
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = ST_OK;
    if (step == SQLITE_ROW) {
        r->checkpoint = sqlite3_column_int64(st, 0);
        column_copy(st, 1, r->status, sizeof r->status);
        column_copy(st, 2, r->rules_hash, sizeof r->rules_hash);
        r->paused = sqlite3_column_int64(st, 3) != 0;
        r->throttle = sqlite3_column_int64(st, 4);
        r->error = sqlu_column_dup(st, 5);
        r->error_position = sqlite3_column_int64(st, 6);
        r->error_event = sqlu_column_dup(st, 7);
        const unsigned char *t = sqlite3_column_text(st, 8);
        int64_t ms = 0;
        if (t && time_parse((const char *)t, strlen((const char *)t), 0, &ms))
            r->updated_ms = ms;
        r->rebuild_checkpoint =
            sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 9);
        column_copy(st, 10, r->rebuild_hash, sizeof r->rebuild_hash);
        r->samples = sqlu_column_dup(st, 11);
    } else if (step == SQLITE_DONE) {
        rc = ST_NOT_FOUND;
    } else {
        rc = psq_error(s, e, "reading a projection's record");
    }
    sqlite3_finalize(st);
    return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *t)
{
    if (t && *t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int sq_record_put(struct store *s, const char *name, const struct proj_record *r, err *e)
{
    sqlite3_stmt *st =
        psq_prepare(s,
                    "UPDATE projections SET checkpoint = ?, status = ?, rules_hash = ?, "
                    "error = ?, error_position = ?, error_event = ?, updated_at = ?, "
                    "rebuild_checkpoint = ?, rebuild_hash = ?, rate_samples = ? "
                    "WHERE name = ?",
                    e, "writing a projection's record");
    if (!st)
        return ST_ERR;
    char when[TIME_TEXT_LEN + 1] = "";
    if (r->updated_ms > 0)
        time_format_ms(r->updated_ms, when);
    sqlite3_bind_int64(st, 1, r->checkpoint);
    sqlite3_bind_text(st, 2, r->status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->rules_hash, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 4, r->error);
    if (r->error_position > 0)
        sqlite3_bind_int64(st, 5, r->error_position);
    else
        sqlite3_bind_null(st, 5);
    bind_text_or_null(st, 6, r->error_event);
    bind_text_or_null(st, 7, when);
    if (r->rebuild_checkpoint >= 0)
        sqlite3_bind_int64(st, 8, r->rebuild_checkpoint);
    else
        sqlite3_bind_null(st, 8);
    bind_text_or_null(st, 9, r->rebuild_hash);
    bind_text_or_null(st, 10, r->samples);
    sqlite3_bind_text(st, 11, name, -1, SQLITE_STATIC);
    int rc =
        sqlite3_step(st) == SQLITE_DONE ? ST_OK : psq_error(s, e, "writing a projection's record");
    sqlite3_finalize(st);
    return rc;
}

static int set_control(struct store *s, const char *name, const char *sql, int64_t v, err *e)
{
    sqlite3_stmt *st = psq_prepare(s, sql, e, "changing a projection's controls");
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, v);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? ST_OK
                                             : psq_error(s, e, "changing a projection's controls");
    sqlite3_finalize(st);
    return rc;
}

static int sq_set_paused(struct store *s, const char *name, bool paused, err *e)
{
    return set_control(s, name, "UPDATE projections SET paused = ? WHERE name = ?", paused ? 1 : 0,
                       e);
}

static int sq_set_throttle(struct store *s, const char *name, int64_t throttle, err *e)
{
    return set_control(s, name, "UPDATE projections SET throttle = ? WHERE name = ?", throttle, e);
}

/* ---- the history: whole rows and change entries ---- */

/* Rows whose newest whole entry is at most this long are always written whole:
 * for them a change entry saves little, and a read stays one seek per key. */
#define FULL_ROW_SMALL 512
/* A key gets a new whole entry after full_len / CHANGE_BYTES_PER_ENTRY change
 * entries (within [CHANGES_MIN, CHANGES_MAX]), or sooner once its change entries
 * add up to as many bytes as the whole row: writing whole rows then costs at most
 * CHANGE_BYTES_PER_ENTRY bytes per change, and a read at most one whole row plus
 * about as many bytes again of changes. */
#define CHANGE_BYTES_PER_ENTRY 128
#define CHANGES_MIN 8
#define CHANGES_MAX 512

#define CHAIN_BITS 26
#define CHAIN_CAP (((uint64_t)1 << CHAIN_BITS) - 1)

static int64_t chain_pack(const struct chain *c)
{
    uint64_t n = c->n > 4095 ? 4095 : c->n;
    uint64_t b = c->bytes > CHAIN_CAP ? CHAIN_CAP : c->bytes;
    uint64_t f = c->full_len > CHAIN_CAP ? CHAIN_CAP : c->full_len;
    return (int64_t)((n << (2 * CHAIN_BITS)) | (b << CHAIN_BITS) | f);
}

static void chain_unpack(int64_t packed, struct chain *c)
{
    uint64_t u = (uint64_t)packed;
    c->n = (size_t)(u >> (2 * CHAIN_BITS));
    c->bytes = (size_t)((u >> CHAIN_BITS) & CHAIN_CAP);
    c->full_len = (size_t)(u & CHAIN_CAP);
}

/* When the list nv is the list pv with items added at its end: the index of the
 * first one added (> 0). Otherwise 0. */
static size_t appended_from(const value *pv, const value *nv)
{
    if (pv->type != V_LIST || nv->type != V_LIST)
        return 0;
    size_t n = value_list_len(pv);
    if (n == 0 || value_list_len(nv) <= n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!value_same(value_list_at(pv, i), value_list_at(nv, i)))
            return 0;
    return n;
}

/* ---- writing rows ---- */

struct proj_writer {
    struct store *s;
    sqlite3 *db;
    const struct projection_spec *p;
    struct psq_walk get; /* its epoch is the newest checkpoint's */
    sqlite3_stmt *hist, *key, *count, *upsert, *del;
    strbuf tmp;
    /* checkpoints (projection_sqlite_ckpt.c): one is due once the history has
     * grown by ck_every entries past ck_rowid, the newest one's; entries are
     * written in its epoch (get.epoch). stale: another process or a rolled-back
     * batch may have moved them (writer_forget): read them again before writing. */
    bool rebuild, ck_on, stale;
    int64_t ck_rowid, ck_every;
    /* Every entry written since the newest checkpoint, for the next one
     * (psq_ck_log_*); log_ok: it holds every entry after ck_rowid (all written by
     * this writer since it read the checkpoint state or wrote one). */
    struct psq_ck_log *log;
    bool log_ok;
    int64_t last_pos, last_rowid; /* of the newest entry this writer wrote */
    /* key -> its chain (chain_pack) since its newest whole-row entry, for the rows
     * big enough to get change entries; null (or absent): write the next entry
     * whole. Filled by row_get and history_put: the fold asks row_get for every
     * key it has not cached since its last rollback, so a chain here is never one
     * a rolled-back batch left. */
    value chains;
};

static bool chain_get(struct proj_writer *w, const char *key, struct chain *c)
{
    const value *v = value_map_get(&w->chains, key);
    if (!v || v->type != V_INT)
        return false;
    chain_unpack(v->u.i, c);
    return true;
}

/* Remembers key's chain (NULL: write its next entry whole). Small rows are not
 * remembered: they are always written whole. */
static void chain_set(struct proj_writer *w, const char *key, const struct chain *c)
{
    if (c && c->full_len > FULL_ROW_SMALL)
        value_map_set(&w->chains, key, value_int(chain_pack(c)));
    else if (value_map_len(&w->chains) > 0 && value_map_get(&w->chains, key))
        value_map_set(&w->chains, key, value_null());
}

/* Reads the newest checkpoint (*found false: none): where the next one is due,
 * and the epoch the entries written until then belong to. */
static int ck_state_read(struct proj_writer *w, bool *found, err *e)
{
    int64_t at = 0, rows = 0, rowid = 0;
    *found = false;
    if (w->ck_on &&
        psq_ck_find(w->s, w->p, w->rebuild, INT64_MAX, &at, &rowid, &rows, found, e) != ST_OK)
        return ST_ERR;
    w->ck_rowid = *found ? rowid : 0;
    w->ck_every = psq_ck_every(rows);
    w->get.epoch = *found && w->get.epochs ? at : 0;
    w->last_pos = w->last_rowid = 0;
    w->stale = false;
    /* The log can start empty only when no entry follows the checkpoint. */
    int64_t newest = -1;
    if (w->log) {
        psq_ck_log_clear(w->log);
        if (*found && psq_hist_max_rowid(w->s, w->p, w->rebuild, &newest, e) != ST_OK)
            return ST_ERR;
    }
    w->log_ok = w->log && *found && newest == w->ck_rowid;
    return ST_OK;
}

/* ck_state_read when writer_forget said to. */
static int ck_state_fresh(struct proj_writer *w, err *e)
{
    bool found;
    return w->stale ? ck_state_read(w, &found, e) : ST_OK;
}

/* The fold forgot its rows (another process moved the projection, or a batch
 * rolled back): so do the chains and the checkpoint this writer knew. */
static void sq_writer_forget(struct proj_writer *w)
{
    w->stale = true;
    w->log_ok = false;
    value_free(w->chains);
    w->chains = value_map(16);
}

static void sq_writer_close(struct proj_writer *w)
{
    if (!w)
        return;
    psq_walk_close(&w->get);
    sqlite3_finalize(w->hist);
    sqlite3_finalize(w->key);
    sqlite3_finalize(w->count);
    sqlite3_finalize(w->upsert);
    sqlite3_finalize(w->del);
    sb_done(&w->tmp);
    value_free(w->chains);
    psq_ck_log_free(w->log);
    free(w);
}

static int sq_writer_open(struct store *s, const struct projection_spec *p, bool rebuild,
                          struct proj_writer **out, err *e)
{
    struct proj_writer *w = xcalloc(1, sizeof *w);
    w->s = s;
    w->db = psq_db(s);
    w->p = p;
    sb_init(&w->tmp);
    w->chains = value_map(16);
    w->rebuild = rebuild;
    w->ck_on = p->keyed;
    /* STRATA_PROJECTION_CHECKPOINT_SCAN=1: no log, every checkpoint reads the
     * history back (for tests: both ways give the same checkpoints). */
    const char *scan = getenv("STRATA_PROJECTION_CHECKPOINT_SCAN");
    if (w->ck_on && !(scan && strcmp(scan, "1") == 0))
        w->log = psq_ck_log_new();
    if (w->ck_on) {
        strbuf ck;
        sb_init(&ck);
        add_create_ck_sql(&ck, p, rebuild, false);
        int crc = psq_exec(s, ck.buf, e, "creating a projection's checkpoint tables");
        sb_done(&ck);
        if (crc != ST_OK) {
            sq_writer_close(w);
            return ST_ERR;
        }
    }
    bool found;
    if (psq_walk_open(s, p, rebuild, &w->get, e) != ST_OK || ck_state_read(w, &found, e) != ST_OK) {
        sq_writer_close(w);
        return ST_ERR;
    }
    /* A rebuild's tables always have their first checkpoint (the mark (0, 0, 0));
     * live ones from before checkpoints get a first one made by seeks. */
    w->ck_on = w->ck_on && (found || !rebuild);
    strbuf sql;
    sb_init(&sql);

    /* A plain INSERT: fold_event writes one entry per key and event, so the
     * unique index never meets a duplicate (it would be an error). OR REPLACE made
     * SQLite look for a conflicting entry first and open a statement journal: it
     * cost a third of a catch-up. */
    sb_adds(&sql, "INSERT INTO ");
    psq_add_table(&sql, p->name, rebuild, T_HISTORY);
    sb_adds(&sql, "(key, valid_from, row, changes, epoch) VALUES(?, ?, ?, ?, ?)");
    w->hist = psq_prepare(w->s, sql.buf, e, "writing a projection's history");

    sb_reset(&sql);
    sb_adds(&sql, "INSERT OR IGNORE INTO ");
    psq_add_table(&sql, p->name, rebuild, T_KEYS);
    sb_adds(&sql, "(key, first_position) VALUES(?, ?)");
    if (w->hist)
        w->key = psq_prepare(w->s, sql.buf, e, "writing a projection's keys");

    /* The number of rows after a change that adds or removes one, read from the
     * previous entry inside the same transaction, so a rolled-back batch cannot
     * leave a count behind. */
    sb_reset(&sql);
    sb_adds(&sql, "INSERT OR REPLACE INTO ");
    psq_add_table(&sql, p->name, rebuild, T_COUNTS);
    sb_adds(&sql, "(valid_from, n) VALUES(?1, ?2 + coalesce((SELECT n FROM ");
    psq_add_table(&sql, p->name, rebuild, T_COUNTS);
    /* <= : an event that adds several rows adds to its own entry */
    sb_adds(&sql, " WHERE valid_from <= ?1 ORDER BY valid_from DESC LIMIT 1), 0))");
    if (w->key)
        w->count = psq_prepare(w->s, sql.buf, e, "writing a projection's row counts");

    sb_reset(&sql);
    sb_adds(&sql, "INSERT OR REPLACE INTO ");
    psq_add_table(&sql, p->name, rebuild, T_ROWS);
    sb_adds(&sql, "(key");
    for (size_t i = 0; i < p->ncolumns; i++) {
        sb_adds(&sql, ", ");
        sqlu_add_ident(&sql, NULL, p->columns[i], NULL);
    }
    sb_adds(&sql, ") VALUES(?");
    for (size_t i = 0; i < p->ncolumns; i++)
        sb_adds(&sql, ", ?");
    sb_adds(&sql, ")");
    if (w->count)
        w->upsert = psq_prepare(w->s, sql.buf, e, "writing a projection row");

    sb_reset(&sql);
    sb_adds(&sql, "DELETE FROM ");
    psq_add_table(&sql, p->name, rebuild, T_ROWS);
    sb_adds(&sql, " WHERE key = ?");
    if (w->upsert)
        w->del = psq_prepare(w->s, sql.buf, e, "deleting a projection row");
    sb_done(&sql);

    if (!w->del) {
        err_prefix(e, "projection %s", p->name);
        sq_writer_close(w);
        return ST_ERR;
    }
    *out = w;
    return ST_OK;
}

static int sq_row_get(struct proj_writer *w, const char *key, value *row, bool *found, err *e)
{
    if (ck_state_fresh(w, e) != ST_OK)
        return ST_ERR;
    struct chain ch;
    int rc = psq_history_row_at(w->s, &w->get, w->p, key, INT64_MAX, row, found, &ch, e);
    if (rc == ST_OK)
        chain_set(w, key, *found ? &ch : NULL);
    return rc;
}

static int step_done(struct proj_writer *w, sqlite3_stmt *st, err *e, const char *doing)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? ST_OK : psq_error(w->s, e, doing);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Writes into w->tmp the change entry that turns prev into row, or returns false
 * when a change entry cannot say it (the columns differ in name or order). */
static bool changes_write(const value *prev, const value *row, strbuf *out)
{
    size_t n = value_map_len(row);
    if (prev->type != V_MAP || row->type != V_MAP || value_map_len(prev) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const value *k = value_map_key_at(row, i), *pk = value_map_key_at(prev, i);
        if (value_strlen(k) != value_strlen(pk) ||
            memcmp(value_str(k), value_str(pk), value_strlen(k)) != 0)
            return false;
    }
    sb_reset(out);
    bool any_set = false, any_append = false;
    /* Two passes: first the columns set whole, then the lists that grew at their end. */
    for (int pass = 0; pass < 2; pass++) {
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            const value *pv = value_map_val_at(prev, i), *nv = value_map_val_at(row, i);
            if (value_same(pv, nv))
                continue;
            size_t from = appended_from(pv, nv);
            if ((pass == 1) != (from > 0))
                continue;
            if (!any) {
                sb_adds(out,
                        pass == 0 ? "{\"set\":{" : (any_set ? ",\"append\":{" : "{\"append\":{"));
                any = true;
            } else {
                sb_addc(out, ',');
            }
            const value *k = value_map_key_at(row, i);
            json_write_string(out, value_str(k), value_strlen(k));
            sb_addc(out, ':');
            if (pass == 0) {
                json_write(out, nv);
            } else {
                sb_addc(out, '[');
                for (size_t j = from; j < value_list_len(nv); j++) {
                    if (j > from)
                        sb_addc(out, ',');
                    json_write(out, value_list_at(nv, j));
                }
                sb_addc(out, ']');
            }
        }
        if (any)
            sb_addc(out, '}');
        if (pass == 0)
            any_set = any;
        else
            any_append = any;
    }
    if (!any_set && !any_append)
        sb_adds(out, "{}");
    else
        sb_addc(out, '}');
    return true;
}

static int sq_history_put(struct proj_writer *w, const char *key, int64_t position,
                          const value *prev, const value *row, bool is_new, err *e)
{
    if (ck_state_fresh(w, e) != ST_OK)
        return ST_ERR;
    if (w->ck_on && w->last_pos > 0 && position > w->last_pos &&
        w->last_rowid - w->ck_rowid >= w->ck_every) {
        /* Every entry up to last_pos is written and none after (positions only
         * grow): a checkpoint there, and the entries after it in its epoch. */
        int64_t rows = 0;
        bool there;
        if (psq_ck_write(w->s, w->p, w->rebuild, w->last_pos, w->log_ok ? w->log : NULL,
                         w->last_rowid, &rows, &w->ck_rowid, &there, e) != ST_OK)
            return err_prefix(e, "projection %s", w->p->name), ST_ERR;
        w->ck_every = psq_ck_every(rows);
        if (w->log)
            psq_ck_log_clear(w->log);
        w->log_ok = w->log && there;
        if (there && w->get.epochs)
            w->get.epoch = w->last_pos;
    }
    sqlite3_bind_text(w->hist, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(w->hist, 2, position);
    sqlite3_bind_int64(w->hist, 5, w->get.epoch);
    bool whole = row != NULL;
    if (row) {
        struct chain ch;
        if (prev && chain_get(w, key, &ch) && changes_write(prev, row, &w->tmp)) {
            size_t most = ch.full_len / CHANGE_BYTES_PER_ENTRY;
            most = most < CHANGES_MIN ? CHANGES_MIN : most > CHANGES_MAX ? CHANGES_MAX : most;
            if (ch.n + 1 <= most && ch.bytes + w->tmp.len < ch.full_len) {
                whole = false;
                ch.n++;
                ch.bytes += w->tmp.len;
                chain_set(w, key, &ch);
                sqlite3_bind_null(w->hist, 3);
                sqlite3_bind_text(w->hist, 4, w->tmp.buf, (int)w->tmp.len, SQLITE_STATIC);
            }
        }
        if (whole) {
            sb_reset(&w->tmp);
            json_write(&w->tmp, row);
            ch.n = 0;
            ch.bytes = 0;
            ch.full_len = w->tmp.len;
            chain_set(w, key, &ch);
            sqlite3_bind_text(w->hist, 3, w->tmp.buf, (int)w->tmp.len, SQLITE_STATIC);
            sqlite3_bind_null(w->hist, 4);
        }
    } else {
        chain_set(w, key, NULL);
        sqlite3_bind_null(w->hist, 3);
        sqlite3_bind_null(w->hist, 4);
    }
    /* Every parameter is bound above for every entry: no clear_bindings (half a
     * percent of a catch-up); the STATIC texts are not read after the step. */
    int rc = sqlite3_step(w->hist) == SQLITE_DONE
                 ? ST_OK
                 : psq_error(w->s, e, "writing a projection's history");
    sqlite3_reset(w->hist);
    if (rc != ST_OK)
        return rc;
    w->last_pos = position;
    w->last_rowid = sqlite3_last_insert_rowid(w->db);
    if (w->log_ok)
        w->log_ok = psq_ck_log_put(w->log, key, whole ? w->tmp.buf : NULL, w->tmp.len, !row);
    if (w->p->keyed && (!row || is_new)) {
        /* A row appeared or went away: the count changes at this position. */
        sqlite3_bind_int64(w->count, 1, position);
        sqlite3_bind_int64(w->count, 2, row ? 1 : -1);
        if ((rc = step_done(w, w->count, e, "writing a projection's row counts")) != ST_OK)
            return rc;
    }
    if (!is_new)
        return rc;
    sqlite3_bind_text(w->key, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(w->key, 2, position);
    return step_done(w, w->key, e, "writing a projection's keys");
}

static int sq_row_store(struct proj_writer *w, const char *key, const value *row, err *e)
{
    if (!row) {
        sqlite3_bind_text(w->del, 1, key, -1, SQLITE_STATIC);
        return step_done(w, w->del, e, "deleting a projection row");
    }
    sqlite3_bind_text(w->upsert, 1, key, -1, SQLITE_STATIC);
    for (size_t i = 0; i < w->p->ncolumns; i++) {
        const value *v = value_map_get(row, w->p->columns[i]);
        value nul = value_null();
        bind_value(w->upsert, (int)i + 2, v ? v : &nul, &w->tmp);
    }
    return step_done(w, w->upsert, e, "writing a projection row");
}

/* ---- rebuilding ---- */

/* Every table a read model has: dropped, and swapped in after a rebuild, together. */
static const enum table_kind all_tables[] = {T_ROWS,   T_HISTORY, T_KEYS,
                                             T_COUNTS, T_CK_ROWS, T_CK_AT};

static void add_drop_sql(strbuf *sql, const char *name, bool rebuild)
{
    for (size_t i = 0; i < sizeof all_tables / sizeof *all_tables; i++) {
        sb_adds(sql, "DROP TABLE IF EXISTS ");
        psq_add_table(sql, name, rebuild, all_tables[i]);
        sb_adds(sql, ";\n");
    }
}

static int sq_rebuild_drop(struct store *s, const struct projection_spec *p, err *e)
{
    strbuf sql;
    sb_init(&sql);
    add_drop_sql(&sql, p->name, true);
    int rc = psq_exec(s, sql.buf, e, "dropping a rebuild's tables");
    sb_done(&sql);
    return rc;
}

static int sq_rebuild_reset(struct store *s, const struct projection_spec *p, err *e)
{
    strbuf sql;
    sb_init(&sql);
    add_drop_sql(&sql, p->name, true);
    add_create_sql(&sql, p, true);
    int rc = psq_exec(s, sql.buf, e, "creating a rebuild's tables");
    sb_done(&sql);
    if (rc == ST_OK)
        rc = insert_keyless_row(s, p, true, e);
    return rc;
}

static int sq_rebuild_swap(struct store *s, const struct projection_spec *p, err *e)
{
    strbuf sql;
    sb_init(&sql);
    add_drop_sql(&sql, p->name, false);
    for (size_t i = 0; i < sizeof all_tables / sizeof *all_tables; i++) {
        sb_adds(&sql, "ALTER TABLE ");
        psq_add_table(&sql, p->name, true, all_tables[i]);
        sb_adds(&sql, " RENAME TO ");
        psq_add_table(&sql, p->name, false, all_tables[i]);
        sb_adds(&sql, ";\n");
    }
    int rc = psq_exec(s, sql.buf, e, "swapping a rebuilt projection in");
    sb_done(&sql);
    return rc;
}

/* ---- durability of batches ----
 *
 * The store commits events with synchronous=FULL by default, which costs an
 * fsync per commit: right for events, wasteful for projection batches, which are
 * derived and refolded if lost. In WAL mode synchronous=NORMAL keeps every commit
 * atomic and the file consistent after a power cut; only the newest batches may
 * roll back, and they take their checkpoint with them, so nothing is counted
 * twice. The next FULL commit of events makes them durable too. The setting is
 * the connection's, so it is put back after the run of batches. */

static int read_synchronous(sqlite3 *db)
{
    int64_t v = -1;
    return sqlu_query_int(db, "PRAGMA synchronous", &v) == SQLITE_OK ? (int)v : -1;
}

static void sq_batches_begin(struct store *s, int *saved)
{
    sqlite3 *db = psq_db(s);
    *saved = sqlite3_get_autocommit(db) ? read_synchronous(db) : -1;
    if (*saved > 1)
        sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
}

static void sq_batches_end(struct store *s, int saved)
{
    if (saved > 1) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA synchronous=%d", saved);
        sqlite3_exec(psq_db(s), sql, NULL, NULL, NULL);
    }
}

/* ---- reading ---- */

static int sq_read_begin(struct store *s, bool *began, err *e)
{
    *began = false;
    sqlite3 *db = psq_db(s);
    if (!sqlite3_get_autocommit(db))
        return ST_OK;
    if (psq_exec(s, "BEGIN", e, "starting a read") != ST_OK)
        return ST_ERR;
    *began = true;
    return ST_OK;
}

static void sq_read_end(struct store *s, bool began)
{
    if (began)
        sqlite3_exec(psq_db(s), "COMMIT", NULL, NULL, NULL);
}

const struct proj_backend proj_backend_sqlite = {
    .name = "sqlite",
    .ensure = sq_ensure,
    .record_get = sq_record_get,
    .record_put = sq_record_put,
    .set_paused = sq_set_paused,
    .set_throttle = sq_set_throttle,
    .writer_open = sq_writer_open,
    .row_get = sq_row_get,
    .history_put = sq_history_put,
    .row_store = sq_row_store,
    .writer_forget = sq_writer_forget,
    .writer_close = sq_writer_close,
    .rebuild_reset = sq_rebuild_reset,
    .rebuild_drop = sq_rebuild_drop,
    .rebuild_swap = sq_rebuild_swap,
    .batches_begin = sq_batches_begin,
    .batches_end = sq_batches_end,
    .read_begin = sq_read_begin,
    .read_end = sq_read_end,
    .rows_at = psq_rows_at,
    .rows_at_json = psq_rows_at_json,
    .history_walk = psq_history_walk,
    .skip_add = psq_skip_add,
    .skips_get = psq_skips_get,
    .skips_count = psq_skips_count,
    .keys_at = psq_keys_at,
};
