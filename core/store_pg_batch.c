/* store_pg_batch.c: the events of a PostgreSQL transaction, held and sent as one
 * statement per batch rather than one per event.
 *
 * Inside a transaction that holds the append lock (store_pg.c), an append's
 * position, stream id and version are known without asking the server, and no
 * one else can append meanwhile, so nothing the server could say about the row
 * would change what the append returns: the rows are held here and sent, up to
 * PG_BATCH_ROWS at a time, as one INSERT ... SELECT FROM unnest(arrays), before
 * any other statement of the transaction (store_pg_conn.c), at commit, or when
 * the batch is full. A failure (the server's disk full, the connection lost) is
 * then reported by the statement that sent it, and ends the transaction as any
 * failure does: nothing of it is committed. The arrays go as text; each element is
 * quoted, with '"' and '\' escaped, so data and meta arrive byte for byte. */
#include "store_pg_batch.h"

#include <stdint.h>
#include <string.h>

static const char INSERT_SQL[] =
    "INSERT INTO event_log(position, stream_id, version, type, schema, time, data, meta) "
    "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::int[], "
    "$6::text[], $7::text[], $8::text[])";

void pg_batch_init(struct pg_batch *b)
{
    for (int i = 0; i < 8; i++)
        sb_init(&b->col[i]);
    b->n = 0;
}

void pg_batch_done(struct pg_batch *b)
{
    for (int i = 0; i < 8; i++)
        sb_done(&b->col[i]);
    b->n = 0;
}

void pg_batch_clear(struct pg_batch *b)
{
    for (int i = 0; i < 8; i++)
        sb_reset(&b->col[i]);
    b->n = 0;
}

static void add_int(strbuf *sb, bool first, int64_t v)
{
    char buf[24], *p = buf + sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    *--p = first ? '{' : ',';
    sb_add(sb, p, (size_t)(buf + sizeof buf - p));
}

static void add_text(strbuf *sb, bool first, const char *s)
{
    sb_addc(sb, first ? '{' : ',');
    if (!s) {
        sb_adds(sb, "NULL");
        return;
    }
    sb_addc(sb, '"');
    for (;;) {
        size_t run = strcspn(s, "\"\\");
        sb_add(sb, s, run);
        s += run;
        if (!*s)
            break;
        sb_addc(sb, '\\');
        sb_addc(sb, *s++);
    }
    sb_addc(sb, '"');
}

void pg_batch_add(struct pg_batch *b, int64_t position, int64_t stream_id, int64_t version,
                  const char *type, int schema, const char *time, const char *data,
                  const char *meta)
{
    bool first = b->n == 0;
    add_int(&b->col[0], first, position);
    add_int(&b->col[1], first, stream_id);
    add_int(&b->col[2], first, version);
    add_text(&b->col[3], first, type);
    add_int(&b->col[4], first, schema);
    add_text(&b->col[5], first, time);
    add_text(&b->col[6], first, data);
    add_text(&b->col[7], first, meta);
    b->n++;
}

bool pg_batch_full(const struct pg_batch *b)
{
    return b->n >= PG_BATCH_ROWS || b->col[6].len + b->col[7].len >= PG_BATCH_BYTES;
}

PGresult *pg_batch_send(struct pg_batch *b, PGconn *c)
{
    if (b->n == 0)
        return NULL;
    const char *params[8];
    for (int i = 0; i < 8; i++) {
        sb_addc(&b->col[i], '}');
        params[i] = b->col[i].buf;
    }
    PGresult *r = PQexecParams(c, INSERT_SQL, 8, NULL, params, NULL, NULL, 0);
    pg_batch_clear(b);
    return r;
}
