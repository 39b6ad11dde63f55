/* projection_pg_read.c: reading read-model rows back from their history in
 * PostgreSQL (projection_pg.c's first comment says how it is laid out): every row
 * (or a page of them) as it was right after a position, one key's history, and
 * the events each projection was told to pass over (projection_skips, a table of
 * the store's format; a store without it has skipped nothing). */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "projection_pg_internal.h"

/* {"key": key, ...row} from a stored row's JSON text. */
static int keyed_row(const struct projection_spec *p, const char *key, const char *text, size_t len,
                     value *out, err *e)
{
    value row;
    err je;
    if (json_parse(text, len, &row, &je) != ST_OK || row.type != V_MAP) {
        if (je.code == ST_OK)
            value_free(row);
        return err_set(e, ST_ERR, "projection %s: the stored row of key '%s' is not a JSON object",
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

int ppg_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                size_t offset, size_t limit, value *rows, int64_t *count, err *e)
{
    char atb[24], offb[24], limb[24];
    pgu_i64(atb, at);
    strbuf sql;
    sb_init(&sql);
    int rc = ST_OK;
    if (!p->keyed) {
        /* The single row always exists: defaults until an event changed it, and
         * defaults again after a delete. */
        sb_adds(&sql, "SELECT row FROM ");
        ppg_add_table(&sql, p->name, false, PPG_HISTORY);
        sb_adds(&sql, " WHERE key = '' AND valid_from <= $1 ORDER BY valid_from DESC LIMIT 1");
        const char *params[1] = {atb};
        PGresult *r = ppg_run(s, sql.buf, 1, params, e, "reading a projection");
        sb_done(&sql);
        if (!r)
            return err_prefix(e, "projection %s", p->name), ST_ERR;
        value row = value_null();
        if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
            err je;
            if (json_parse(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), &row, &je) != ST_OK)
                rc = err_set(e, ST_ERR, "projection %s: the stored row is not JSON: %s", p->name,
                             je.msg);
        }
        PQclear(r);
        if (rc != ST_OK)
            return rc;
        if (row.type == V_NULL)
            row = proj_defaults_row(p);
        if (offset == 0)
            value_list_push(rows, row);
        else
            value_free(row);
        if (count)
            *count = 1;
        return ST_OK;
    }
    /* One pass over the keys in key order, one backward seek in the history per
     * key; the window count says how many rows there were in all. */
    sb_adds(&sql, "SELECT k.key, h.row, count(*) OVER () FROM ");
    ppg_add_table(&sql, p->name, false, PPG_KEYS);
    sb_adds(&sql, " k CROSS JOIN LATERAL (SELECT row FROM ");
    ppg_add_table(&sql, p->name, false, PPG_HISTORY);
    sb_adds(&sql, " x WHERE x.key = k.key AND x.valid_from <= $1 ORDER BY x.valid_from DESC "
                  "LIMIT 1) h WHERE k.first_position <= $1 AND h.row IS NOT NULL");
    if (key)
        sb_adds(&sql, " AND k.key = $4");
    sb_adds(&sql, " ORDER BY k.key OFFSET $2 LIMIT $3");
    /* A page past any end (the workbench asks for one to learn the count) is one
     * PostgreSQL can say: its numbers are signed. */
    int64_t off = offset > (size_t)INT64_MAX ? INT64_MAX : (int64_t)offset;
    int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
    const char *params[4] = {atb, pgu_i64(offb, off), limit ? pgu_i64(limb, lim) : NULL, key};
    PGresult *r = ppg_run(s, sql.buf, key ? 4 : 3, params, e, "reading a projection");
    sb_done(&sql);
    if (!r)
        return err_prefix(e, "projection %s", p->name), ST_ERR;
    int n = PQntuples(r);
    int64_t total = n > 0 ? pgu_int(r, 0, 2) : 0;
    for (int i = 0; rc == ST_OK && i < n; i++) {
        value row;
        rc = keyed_row(p, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1),
                       &row, e);
        if (rc == ST_OK)
            value_list_push(rows, row);
    }
    PQclear(r);
    if (rc == ST_OK && n == 0 && offset > 0 && count) {
        /* A page past the end: the window saw no row, so count apart. */
        value none = value_list(0);
        rc = ppg_rows_at(s, p, key, at, 0, 1, &none, &total, e);
        value_free(none);
    }
    if (count)
        *count = total;
    return rc;
}

int ppg_history_walk(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     int (*fn)(void *ctx, int64_t position, const value *row, err *e), void *ctx,
                     err *e)
{
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT valid_from, row FROM ");
    ppg_add_table(&sql, p->name, false, PPG_HISTORY);
    sb_adds(&sql, " WHERE key = $1 AND valid_from <= $2 ORDER BY valid_from");
    char atb[24];
    const char *params[2] = {key, pgu_i64(atb, at > 0 ? at : INT64_MAX)};
    PGresult *r = ppg_run(s, sql.buf, 2, params, e, "reading a projection's history");
    sb_done(&sql);
    if (!r)
        return err_prefix(e, "projection %s", p->name), ST_ERR;
    int rc = ST_OK;
    for (int i = 0; rc == ST_OK && i < PQntuples(r); i++) {
        int64_t pos = pgu_int(r, i, 0);
        if (PQgetisnull(r, i, 1)) {
            rc = fn(ctx, pos, NULL, e);
            continue;
        }
        value row;
        err je;
        if (json_parse(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), &row, &je) != ST_OK) {
            rc = err_set(e, ST_ERR,
                         "projection %s: a stored history entry of key '%s' is not JSON: %s",
                         p->name, key, je.msg);
            break;
        }
        rc = fn(ctx, pos, &row, e);
        value_free(row);
    }
    PQclear(r);
    return rc;
}

/* ---- skipped events ---- */

static int have_skips(struct store *s, bool *have, err *e)
{
    PGresult *r = ppg_run(s, "SELECT to_regclass('projection_skips') IS NOT NULL", 0, NULL, e,
                          "looking for skipped events");
    if (!r)
        return ST_ERR;
    *have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return ST_OK;
}

int ppg_skip_add(struct store *s, const char *name, int64_t position, const char *reason, err *e)
{
    bool have;
    if (have_skips(s, &have, e) != ST_OK)
        return ST_ERR;
    if (!have)
        return err_set(e, ST_ERR,
                       "%s: this store's format records no skipped events; open it with write "
                       "access to upgrade it",
                       s->path);
    char now[TIME_TEXT_LEN + 1], pos[24];
    time_format_ms(time_now_ms(), now);
    const char *params[4] = {name, pgu_i64(pos, position), reason, now};
    PGresult *r = ppg_run(s,
                          "INSERT INTO projection_skips(projection, position, reason, skipped_at) "
                          "VALUES($1, $2, $3, $4) ON CONFLICT (projection, position) DO UPDATE "
                          "SET reason = EXCLUDED.reason, skipped_at = EXCLUDED.skipped_at",
                          4, params, e, "recording a skipped event");
    PQclear(r);
    return r ? ST_OK : ST_ERR;
}

int ppg_skips_get(struct store *s, const char *name, int64_t **positions, size_t *n, err *e)
{
    *positions = NULL;
    *n = 0;
    bool have;
    if (have_skips(s, &have, e) != ST_OK)
        return ST_ERR;
    if (!have)
        return ST_OK;
    const char *params[1] = {name};
    PGresult *r =
        ppg_run(s, "SELECT position FROM projection_skips WHERE projection = $1 ORDER BY position",
                1, params, e, "reading skipped events");
    if (!r)
        return ST_ERR;
    *n = (size_t)PQntuples(r);
    if (*n) {
        *positions = xcalloc(*n, sizeof **positions);
        for (size_t i = 0; i < *n; i++)
            (*positions)[i] = pgu_int(r, (int)i, 0);
    }
    PQclear(r);
    return ST_OK;
}

int ppg_skips_count(struct store *s, const char *name, int64_t *count, err *e)
{
    *count = 0;
    bool have;
    if (have_skips(s, &have, e) != ST_OK)
        return ST_ERR;
    if (!have)
        return ST_OK;
    const char *params[1] = {name};
    PGresult *r = ppg_run(s, "SELECT count(*) FROM projection_skips WHERE projection = $1", 1,
                          params, e, "counting skipped events");
    if (!r)
        return ST_ERR;
    *count = pgu_int(r, 0, 0);
    PQclear(r);
    return ST_OK;
}

int ppg_keys_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                value *out, err *e)
{
    *out = value_map(16);
    strbuf sql;
    sb_init(&sql);
    sb_adds(&sql, "SELECT key FROM ");
    ppg_add_table(&sql, p->name, false, PPG_KEYS);
    sb_adds(&sql, key ? " WHERE first_position <= $1 AND key = $2" : " WHERE first_position <= $1");
    char num[24];
    const char *params[2] = {pgu_i64(num, at > 0 ? at : INT64_MAX), key};
    PGresult *r = ppg_run(s, sql.buf, key ? 2 : 1, params, e, "reading a branch's read model");
    sb_done(&sql);
    if (!r)
        return ST_ERR;
    for (int i = 0; i < PQntuples(r); i++)
        value_map_set(out, PQgetvalue(r, i, 0), value_bool(true));
    PQclear(r);
    return ST_OK;
}
