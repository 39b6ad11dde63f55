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

/* The row of key right after position `at`, from its history through st (a
 * statement of add_history_walk_sql): the newest whole entry at or before `at`
 * plus the change entries after it. *found false (and *row null) when the key had
 * no row then. chain (may be NULL) receives the entries that took. */
int psq_history_row_at(struct store *s, sqlite3_stmt *st, const struct projection_spec *p,
                       const char *key, int64_t at, value *row, bool *found, struct chain *chain,
                       err *e)
{
    *row = value_null();
    *found = false;
    struct chain ch = {0, 0, 0};
    value changes = value_list(0); /* newest first */
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    int rc = ST_OK, step;
    bool bad = false;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int col = sqlite3_column_type(st, 0) != SQLITE_NULL   ? 0
                  : sqlite3_column_type(st, 1) != SQLITE_NULL ? 1
                                                              : -1;
        if (col < 0) {
            bad = value_list_len(&changes) > 0; /* a change entry right after a delete */
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
            break;
        }
        value_list_push(&changes, v);
        ch.n++;
        ch.bytes += len;
    }
    if (rc == ST_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = psq_error(s, e, "reading a projection row");
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
int psq_walked_keyed_row(struct store *s, sqlite3_stmt **walk, const struct projection_spec *p,
                         const char *key, int64_t at, value *out, err *e)
{
    if (!*walk) {
        strbuf sql;
        sb_init(&sql);
        psq_add_history_walk_sql(&sql, p, false);
        *walk = psq_prepare(s, sql.buf, e, "reading a projection");
        sb_done(&sql);
        if (!*walk)
            return ST_ERR;
    }
    value row;
    bool found;
    int rc = psq_history_row_at(s, *walk, p, key, at, &row, &found, NULL, e);
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
    strbuf sql;
    sb_init(&sql);
    bool keyless = !p->keyed;
    if (keyless) {
        psq_add_history_walk_sql(&sql, p, false);
    } else {
        /* One pass over the keys in key order, one descending seek in the history
         * per key (see the comment at the top of this file). The seek gives the
         * newest entry's whole row, NULL when deleted, or '' when it is a change
         * entry: then that key's history is walked back to its whole row. */
        sb_adds(&sql, "SELECT k.key, (SELECT CASE WHEN h.row IS NOT NULL THEN h.row "
                      "WHEN h.changes IS NOT NULL THEN '' END FROM ");
        psq_add_table(&sql, p->name, false, T_HISTORY);
        sb_adds(&sql, " h WHERE h.key = k.key AND h.valid_from <= ?1 "
                      "ORDER BY h.valid_from DESC LIMIT 1) FROM ");
        psq_add_table(&sql, p->name, false, T_KEYS);
        sb_adds(&sql, " k WHERE k.first_position <= ?1");
        if (key)
            sb_adds(&sql, " AND k.key = ?2");
        sb_adds(&sql, " ORDER BY k.key");
    }
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection");
    sb_done(&sql);
    if (!st)
        return err_prefix(e, "projection %s", p->name), ST_ERR;
    if (!keyless) {
        sqlite3_bind_int64(st, 1, at);
        if (key)
            sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    }

    int rc = ST_OK;
    int64_t n = 0;
    sqlite3_stmt *walk_st = NULL; /* a key's history, for rows ending in change entries */
    if (keyless) {
        /* The single row always exists: defaults until an event changed it, and
         * defaults again after a delete. */
        value row = value_null();
        bool found;
        rc = psq_history_row_at(s, st, p, "", at, &row, &found, NULL, e);
        if (rc == ST_OK) {
            if (row.type == V_NULL)
                row = proj_defaults_row(p);
            n = 1;
            if (offset == 0)
                rc = psq_sink_value(out, row, e);
            else
                value_free(row);
        }
    } else {
        /* The count comes from the counts table in one seek, so the walk over the
         * keys can stop at the end of the page asked for. */
        bool counted = false;
        if (count && !key) {
            if ((rc = psq_count_at(s, p, at, count, e)) != ST_OK)
                goto finish;
            counted = true;
        }
        int step = SQLITE_DONE;
        bool walk = !counted || (uint64_t)*count > (uint64_t)offset;
        while (walk && (step = sqlite3_step(st)) == SQLITE_ROW) {
            if (sqlite3_column_type(st, 1) == SQLITE_NULL)
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
            if (sqlite3_column_bytes(st, 1) > 0) {
                rc = psq_sink_stored(out, k, (const char *)sqlite3_column_text(st, 1),
                                     (size_t)sqlite3_column_bytes(st, 1), e);
            } else {
                value row;
                if ((rc = psq_walked_keyed_row(s, &walk_st, p, k, at, &row, e)) == ST_OK)
                    rc = psq_sink_value(out, row, e);
            }
            if (rc != ST_OK)
                break;
        }
        if (rc == ST_OK && step != SQLITE_DONE && step != SQLITE_ROW)
            rc = psq_error(s, e, "reading a projection");
        if (counted)
            n = *count;
    }
finish:
    sqlite3_finalize(st);
    sqlite3_finalize(walk_st);
    if (count)
        *count = n;
    return rc;
}

int psq_history_walk(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     int (*fn)(void *ctx, int64_t position, const value *row, err *e), void *ctx,
                     err *e)
{
    /* Ascending by (key, valid_from): the by-key index gives this order. */
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT valid_from, row, changes FROM ");
    psq_add_table(&sql, p->name, false, T_HISTORY);
    sb_adds(&sql, " WHERE key = ?1 AND valid_from <= ?2 ORDER BY valid_from");
    sqlite3_stmt *st = psq_prepare(s, sql.buf, e, "reading a projection's history");
    sb_done(&sql);
    if (!st)
        return err_prefix(e, "projection %s", p->name), ST_ERR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at > 0 ? at : INT64_MAX);
    value row = value_null(); /* null: no row (not yet, or deleted) */
    int rc = ST_OK, step;
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
    value_free(row);
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
