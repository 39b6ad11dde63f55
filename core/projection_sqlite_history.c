/* projection_sqlite_history.c: reading read-model rows back from their history
 * (projection_sqlite.c's first comment says how it is laid out and why): one
 * key's row at a position, whole entries plus the change entries after them, and
 * every row (or a page of them) as it was right after a position, with the count. */
#include "projection_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Applies one change entry {"set": {col: value}, "append": {col: [items]}} to row. */
static bool changes_apply(value *row, const value *ch)
{
    if (ch->type != V_MAP || row->type != V_MAP)
        return false;
    const value *set = value_map_get(ch, "set"), *app = value_map_get(ch, "append");
    if ((set && set->type != V_MAP) || (app && app->type != V_MAP))
        return false;
    for (size_t i = 0; set && i < value_map_len(set); i++) {
        const value *k = value_map_key_at(set, i);
        value_map_setn(row, value_str(k), value_strlen(k), value_ref(value_map_val_at(set, i)));
    }
    for (size_t i = 0; app && i < value_map_len(app); i++) {
        const value *k = value_map_key_at(app, i), *items = value_map_val_at(app, i);
        const value *cur = value_map_getn(row, value_str(k), value_strlen(k));
        if (!cur || cur->type != V_LIST || items->type != V_LIST)
            return false;
        /* Take the list out of the row so that pushing does not copy it. */
        value list = value_ref(cur);
        value_map_setn(row, value_str(k), value_strlen(k), value_null());
        for (size_t j = 0; j < value_list_len(items); j++)
            value_list_push(&list, value_ref(value_list_at(items, j)));
        value_map_setn(row, value_str(k), value_strlen(k), list);
    }
    return true;
}

int psq_walk_open(struct store *s, const struct projection_spec *p, bool rebuild,
                  struct psq_walk *w, err *e)
{
    *w = (struct psq_walk){.epochs = psq_epochs(s)};
    strbuf sql;
    sb_init(&sql);
    psq_add_history_walk_sql(&sql, p, rebuild, w->epochs);
    w->entries = psq_prepare(s, sql.buf, e, "reading a projection row");
    if (w->entries && w->epochs) {
        sb_reset(&sql);
        sb_adds(&sql, "SELECT row FROM ");
        psq_add_table(&sql, p->name, rebuild, T_CK_ROWS);
        sb_adds(&sql, " WHERE at = ?1 AND key = ?2");
        w->base = psq_prepare(s, sql.buf, e, "reading a projection row");
    }
    sb_done(&sql);
    if (!w->entries || (w->epochs && !w->base)) {
        psq_walk_close(w);
        return err_prefix(e, "projection %s", p->name), ST_ERR;
    }
    return ST_OK;
}

int psq_walk_to(struct store *s, const struct projection_spec *p, bool rebuild, struct psq_walk *w,
                int64_t at, err *e)
{
    w->epoch = 0;
    if (!w->epochs)
        return ST_OK;
    int64_t hr, n;
    bool found;
    return psq_ck_find(s, p, rebuild, at, &w->epoch, &hr, &n, &found, e);
}

void psq_walk_close(struct psq_walk *w)
{
    sqlite3_finalize(w->entries);
    sqlite3_finalize(w->base);
    w->entries = w->base = NULL;
}

/* Key's row in the checkpoint at w's epoch, as JSON text in *t (NULL: none).
 * The text lives until w->base is reset. */
static int base_row(struct store *s, struct psq_walk *w, const char *key, const char **t,
                    size_t *len, err *e)
{
    *t = NULL;
    *len = 0;
    if (!w->epochs || w->epoch <= 0)
        return ST_OK;
    sqlite3_bind_int64(w->base, 1, w->epoch);
    sqlite3_bind_text(w->base, 2, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(w->base);
    if (step == SQLITE_ROW) {
        *t = (const char *)sqlite3_column_text(w->base, 0);
        *len = (size_t)sqlite3_column_bytes(w->base, 0);
    } else if (step != SQLITE_DONE) {
        return psq_error(s, e, "reading a projection's checkpoint");
    }
    return ST_OK;
}

/* The row of key right after position `at`, from its history through w: the
 * newest whole entry at or before `at` in w's run plus the change entries after
 * it, or, when the run has none, the checkpoint's row before them. *found false
 * (and *row null) when the key had no row then. chain (may be NULL) receives the
 * entries that took. */
int psq_history_row_at(struct store *s, struct psq_walk *w, const struct projection_spec *p,
                       const char *key, int64_t at, value *row, bool *found, struct chain *chain,
                       err *e)
{
    *row = value_null();
    *found = false;
    struct chain ch = {0, 0, 0};
    value changes = value_list(0); /* newest first */
    sqlite3_stmt *st = w->entries;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    if (w->epochs)
        sqlite3_bind_int64(st, 3, w->epoch);
    int rc = ST_OK, step;
    bool bad = false, ended = false; /* ended: a whole entry or a delete ends the run */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int col = sqlite3_column_type(st, 0) != SQLITE_NULL   ? 0
                  : sqlite3_column_type(st, 1) != SQLITE_NULL ? 1
                                                              : -1;
        if (col < 0) {
            bad = value_list_len(&changes) > 0; /* a change entry right after a delete */
            ended = true;
            break;
        }
        const char *t = (const char *)sqlite3_column_text(st, col);
        size_t len = (size_t)sqlite3_column_bytes(st, col);
        value v;
        err je;
        if (json_parse(t, len, &v, &je) != ST_OK) {
            rc = err_set(e, ST_ERR,
                         "projection %s: a stored history entry of key '%s' is not JSON: %s",
                         p->name, key, je.msg);
            break;
        }
        if (col == 0) {
            *row = v;
            *found = true;
            ch.full_len = len;
            ended = true;
            break;
        }
        value_list_push(&changes, v);
        ch.n++;
        ch.bytes += len;
    }
    if (rc == ST_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = psq_error(s, e, "reading a projection row");
    if (rc == ST_OK && !ended) {
        /* The run began after the checkpoint: its row, if it had one, is the
         * whole entry the changes apply to. */
        const char *t;
        size_t len;
        rc = base_row(s, w, key, &t, &len, e);
        err je;
        if (rc == ST_OK && t && json_parse(t, len, row, &je) != ST_OK)
            rc = err_set(e, ST_ERR,
                         "projection %s: a stored checkpoint row of key '%s' is not JSON: %s",
                         p->name, key, je.msg);
        else if (rc == ST_OK && t) {
            *found = true;
            ch.full_len = len;
        }
        if (w->base)
            sqlite3_reset(w->base);
    }
    if (rc == ST_OK && !*found && value_list_len(&changes) > 0)
        bad = true; /* change entries with no whole row before them */
    for (size_t i = value_list_len(&changes); rc == ST_OK && !bad && i > 0; i--)
        if (!changes_apply(row, value_list_at(&changes, i - 1)))
            bad = true;
    if (rc == ST_OK && bad)
        rc = err_set(e, ST_ERR,
                     "projection %s: the stored history of key '%s' is damaged "
                     "(rebuild the projection)",
                     p->name, key);
    if (rc != ST_OK) {
        value_free(*row);
        *row = value_null();
        *found = false;
    }
    value_free(changes);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (chain)
        *chain = ch;
    return rc;
}

void psq_sink_values(struct psq_sink *k, const struct projection_spec *p, value *rows)
{
    *k = (struct psq_sink){.p = p, .rows = rows};
    sb_init(&k->tmp);
}

void psq_sink_json(struct psq_sink *k, const struct projection_spec *p, proj_json_fn fn, void *ctx)
{
    /* No column is called "key" (the tables refuse it), so the spliced key is
     * the map's only one of that name. */
    *k = (struct psq_sink){.p = p, .fn = fn, .ctx = ctx};
    sb_init(&k->tmp);
}

void psq_sink_done(struct psq_sink *k)
{
    sb_done(&k->tmp);
}

int psq_sink_value(struct psq_sink *k, value row, err *e)
{
    if (k->rows) {
        value_list_push(k->rows, row);
        return ST_OK;
    }
    sb_reset(&k->tmp);
    json_write(&k->tmp, &row);
    value_free(row);
    return k->fn(k->ctx, k->tmp.buf, k->tmp.len, e);
}

/* A stored row as {"key": key, ...row}: the key is spliced into the row's JSON
 * text, which is then parsed once into one map (a read of 10,000 rows spends
 * much of its time allocating), or, on the text path, lent as it is: the row
 * was written by json_write, so the splice is what json_write gives for the map
 * (json.h: what the writer wrote, parsed and written again, is the same bytes). */
int psq_sink_stored(struct psq_sink *k, const char *key, const char *text, size_t len, err *e)
{
    strbuf *tmp = &k->tmp;
    sb_reset(tmp);
    sb_add(tmp, "{\"key\":", 7);
    json_write_string(tmp, key, strlen(key));
    size_t i = 0;
    while (i < len && text[i] != '{')
        i++;
    i++; /* past '{' */
    size_t j = i;
    while (j < len && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t' || text[j] == '\r'))
        j++;
    if (j < len && text[j] != '}')
        sb_addc(tmp, ',');
    if (i <= len)
        sb_add(tmp, text + i, len - i);
    if (!k->rows && i <= len && tmp->buf[tmp->len - 1] == '}')
        return k->fn(k->ctx, tmp->buf, tmp->len, e);
    value row;
    err je;
    if (i > len || json_parse(tmp->buf, tmp->len, &row, &je) != ST_OK)
        return err_set(e, ST_ERR, "projection %s: the stored row of key '%s' is not a JSON object",
                       k->p->name, key);
    return psq_sink_value(k, row, e);
}

/* {"key": key, ...row} for a key whose newest entry at `at` is a change entry:
 * its history walked back to the whole row (*walk is prepared on first use). */
int psq_walked_keyed_row(struct store *s, struct psq_walk *walk, const struct projection_spec *p,
                         const char *key, int64_t at, value *out, err *e)
{
    if (!walk->entries && (psq_walk_open(s, p, false, walk, e) != ST_OK ||
                           psq_walk_to(s, p, false, walk, at, e) != ST_OK))
        return ST_ERR;
    value row;
    bool found;
    int rc = psq_history_row_at(s, walk, p, key, at, &row, &found, NULL, e);
    if (rc != ST_OK)
        return rc;
    if (!found || row.type != V_MAP) {
        value_free(row);
        return err_set(e, ST_ERR,
                       "projection %s: the stored history of key '%s' is damaged "
                       "(rebuild the projection)",
                       p->name, key);
    }
    *out = value_map(value_map_len(&row) + 1);
    value_map_set(out, "key", value_cstring(key));
    for (size_t i = 0; i < value_map_len(&row); i++) {
        const value *k = value_map_key_at(&row, i);
        value_map_setn(out, value_str(k), value_strlen(k), value_ref(value_map_val_at(&row, i)));
    }
    value_free(row);
    return ST_OK;
}

int psq_count_at(struct store *s, const struct projection_spec *p, int64_t at, int64_t *count,
                 err *e)
{
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT n FROM ");
    psq_add_table(&sql, p->name, false, T_COUNTS);
    sb_adds(&sql, " WHERE valid_from <= ?1 ORDER BY valid_from DESC LIMIT 1");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "counting a projection's rows");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, at);
    int step = sqlite3_step(st);
    int rc = ST_OK;
    *count = 0;
    if (step == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        rc = psq_error(s, e, "counting a projection's rows");
    sqlite3_finalize(st);
    return rc;
}

int psq_rows_at_seek(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     size_t offset, size_t limit, value *rows, int64_t *count, err *e)
{
    struct psq_sink out;
    psq_sink_values(&out, p, rows);
    int rc = psq_rows_at_seek_to(s, p, key, at, offset, limit, &out, count, e);
    psq_sink_done(&out);
    return rc;
}

int psq_rows_at_seek_to(struct store *s, const struct projection_spec *p, const char *key,
                        int64_t at, size_t offset, size_t limit, struct psq_sink *out,
                        int64_t *count, err *e)
{
    if (!p->keyed) {
        /* The single row always exists: defaults until an event changed it, and
         * defaults again after a delete. */
        struct psq_walk walk;
        value row = value_null();
        bool found;
        int rc = psq_walk_open(s, p, false, &walk, e);
        if (rc == ST_OK && (rc = psq_walk_to(s, p, false, &walk, at, e)) == ST_OK)
            rc = psq_history_row_at(s, &walk, p, "", at, &row, &found, NULL, e);
        psq_walk_close(&walk);
        if (rc != ST_OK)
            return rc;
        if (row.type == V_NULL)
            row = proj_defaults_row(p);
        if (count)
            *count = 1;
        if (offset == 0)
            return psq_sink_value(out, row, e);
        value_free(row);
        return ST_OK;
    }
    /* One pass over the keys in key order, one descending seek in the history per
     * key (see the comment at the top of this file). The seek gives the newest
     * entry's whole row, '-' when deleted, or '' when it is a change entry: then
     * that key's history is walked back to its whole row. With epochs the seek is
     * into the run after the newest checkpoint at or before `at` (?3), and a key
     * with no entry in it has its checkpoint row, if any. */
    struct psq_walk walk = {0};
    bool epochs = psq_epochs(s);
    int64_t epoch = 0;
    if (epochs) {
        int64_t hr, nck;
        bool found;
        if (psq_ck_find(s, p, false, at, &epoch, &hr, &nck, &found, e) != ST_OK)
            return ST_ERR;
    }
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, epochs ? "SELECT k.key, coalesce((SELECT " : "SELECT k.key, (SELECT ");
    sb_adds(&sql, "CASE WHEN h.row IS NOT NULL THEN h.row WHEN h.changes IS NOT NULL THEN '' "
                  "ELSE '-' END FROM ");
    psq_add_table(&sql, p->name, false, T_HISTORY);
    sb_adds(&sql, epochs ? " h WHERE h.epoch = ?3 AND h.key = k.key" : " h WHERE h.key = k.key");
    sb_adds(&sql, " AND h.valid_from <= ?1 ORDER BY h.valid_from DESC LIMIT 1)");
    if (epochs) {
        sb_adds(&sql, ", (SELECT c.row FROM ");
        psq_add_table(&sql, p->name, false, T_CK_ROWS);
        sb_adds(&sql, " c WHERE c.at = ?3 AND c.key = k.key))");
    }
    sb_adds(&sql, " FROM ");
    psq_add_table(&sql, p->name, false, T_KEYS);
    sb_adds(&sql, " k WHERE k.first_position <= ?1");
    if (key)
        sb_adds(&sql, " AND k.key = ?2");
    sb_adds(&sql, " ORDER BY k.key");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection");
    sb_done(&sql);
    if (!st)
        return err_prefix(e, "projection %s", p->name), ST_ERR;
    sqlite3_bind_int64(st, 1, at);
    if (key)
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (epochs)
        sqlite3_bind_int64(st, 3, epoch);

    int rc = ST_OK;
    int64_t n = 0;
    /* The count comes from the counts table in one seek, so the walk over the
     * keys can stop at the end of the page asked for. */
    bool counted = false;
    if (count && !key) {
        if ((rc = psq_count_at(s, p, at, count, e)) != ST_OK)
            goto finish;
        counted = true;
    }
    int step = SQLITE_DONE;
    bool more = !counted || (uint64_t)*count > (uint64_t)offset;
    while (more && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (!text || (len == 1 && text[0] == '-'))
            continue; /* not there at `at`, or deleted by then */
        n++;
        if ((size_t)(n - 1) < offset)
            continue;
        if (limit && (size_t)(n - 1) >= offset + limit) {
            if (counted || !count)
                break;
            continue;
        }
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (len > 0) {
            rc = psq_sink_stored(out, k, text, len, e);
        } else {
            value row;
            if ((rc = psq_walked_keyed_row(s, &walk, p, k, at, &row, e)) == ST_OK)
                rc = psq_sink_value(out, row, e);
        }
        if (rc != ST_OK)
            break;
    }
    if (rc == ST_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = psq_error(s, e, "reading a projection");
    if (counted)
        n = *count;
finish:
    sqlite3_finalize(st);
    psq_walk_close(&walk);
    if (count)
        *count = n;
    return rc;
}

/* The epochs of p's history up to position `at`, oldest first (0 always first:
 * the entries before any checkpoint), into *out (free it). */
static int epochs_to(struct store *s, const struct projection_spec *p, int64_t at, int64_t **out,
                     size_t *n, err *e)
{
    *out = xmalloc(sizeof **out);
    (*out)[0] = 0;
    *n = 1;
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT at FROM ");
    psq_add_table(&sql, p->name, false, T_CK_AT);
    sb_adds(&sql, " WHERE at > 0 AND at <= ?1 ORDER BY at");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's checkpoints");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, at);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    int rc = step == SQLITE_DONE ? ST_OK : psq_error(s, e, "reading a projection's checkpoints");
    sqlite3_finalize(st);
    return rc;
}

int psq_history_walk(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     int (*fn)(void *ctx, int64_t position, const value *row, err *e), void *ctx,
                     err *e)
{
    /* Oldest first: the key's entries of each epoch in turn, each run one seek
     * and a scan of the (epoch, key, valid_from) index; without epochs the
     * (key, valid_from) index gives the whole history in order. */
    if (at <= 0)
        at = INT64_MAX;
    bool epochs = psq_epochs(s);
    int64_t *eps = NULL;
    size_t neps = 1;
    if (epochs && epochs_to(s, p, at, &eps, &neps, e) != ST_OK) {
        free(eps);
        return err_prefix(e, "projection %s", p->name), ST_ERR;
    }
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT valid_from, row, changes FROM ");
    psq_add_table(&sql, p->name, false, T_HISTORY);
    sb_adds(&sql, epochs ? " WHERE epoch = ?3 AND key = ?1" : " WHERE key = ?1");
    sb_adds(&sql, " AND valid_from <= ?2 ORDER BY valid_from");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's history");
    sb_done(&sql);
    if (!st) {
        free(eps);
        return err_prefix(e, "projection %s", p->name), ST_ERR;
    }
    value row = value_null(); /* null: no row (not yet, or deleted) */
    int rc = ST_OK, step = SQLITE_DONE;
    for (size_t i = 0; rc == ST_OK && i < neps; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, at);
        if (epochs)
            sqlite3_bind_int64(st, 3, eps[i]);
        while (rc == ST_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t pos = sqlite3_column_int64(st, 0);
            int col = sqlite3_column_type(st, 1) != SQLITE_NULL   ? 1
                      : sqlite3_column_type(st, 2) != SQLITE_NULL ? 2
                                                                  : -1;
            if (col < 0) {
                value_free(row);
                row = value_null();
                rc = fn(ctx, pos, NULL, e);
                continue;
            }
            value v;
            err je;
            const char *t = (const char *)sqlite3_column_text(st, col);
            if (json_parse(t, (size_t)sqlite3_column_bytes(st, col), &v, &je) != ST_OK) {
                rc = err_set(e, ST_ERR,
                             "projection %s: a stored history entry of key '%s' is not JSON: %s",
                             p->name, key, je.msg);
                break;
            }
            if (col == 1) {
                value_free(row);
                row = v;
            } else {
                bool ok = row.type == V_MAP && changes_apply(&row, &v);
                value_free(v);
                if (!ok) {
                    rc = err_set(e, ST_ERR,
                                 "projection %s: the stored history of key '%s' is damaged "
                                 "(rebuild the projection)",
                                 p->name, key);
                    break;
                }
            }
            rc = fn(ctx, pos, &row, e);
        }
        if (rc == ST_OK && step != SQLITE_DONE)
            rc = psq_error(s, e, "reading a projection's history");
    }
    value_free(row);
    free(eps);
    sqlite3_finalize(st);
    return rc;
}

int psq_keys_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                value *out, err *e)
{
    *out = value_map(16);
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT key FROM ");
    psq_add_table(&sql, p->name, false, T_KEYS);
    sb_adds(&sql, key ? " WHERE first_position <= ?1 AND key = ?2" : " WHERE first_position <= ?1");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a branch's read model");
    sb_done(&sql);
    if (!st)
        return ST_ERR;
    sqlite3_bind_int64(st, 1, at > 0 ? at : INT64_MAX);
    if (key)
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        value_map_set(out, k ? k : "", value_bool(true));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return psq_error(s, e, "reading a branch's read model");
    return ST_OK;
}
