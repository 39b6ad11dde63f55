/* store_pg_batch.h: the events a PostgreSQL transaction has appended but not yet
 * sent (store_pg_batch.c), private to the PostgreSQL store's files. */
#ifndef STRATA_STORE_PG_BATCH_H
#define STRATA_STORE_PG_BATCH_H

#include <libpq-fe.h>

#include "util.h"

/* One column of event_log per array, each an array literal being built. */
struct pg_batch {
    strbuf col[8]; /* position, stream_id, version, type, schema, time, data, meta */
    size_t n;      /* rows held */
};

/* Rows held before they are sent on their own, and bytes. */
#define PG_BATCH_ROWS 1000
#define PG_BATCH_BYTES (1 << 20)

void pg_batch_init(struct pg_batch *b);
void pg_batch_done(struct pg_batch *b);
/* Forgets the rows held (a rollback). */
void pg_batch_clear(struct pg_batch *b);
/* Adds one event_log row; meta may be NULL. */
void pg_batch_add(struct pg_batch *b, int64_t position, int64_t stream_id, int64_t version,
                  const char *type, int schema, const char *time, const char *data,
                  const char *meta);
/* True when the batch is big enough to be sent now. */
bool pg_batch_full(const struct pg_batch *b);
/* Sends the rows held as one INSERT (unnest of eight arrays) and forgets them;
 * returns its result, which the caller checks and PQclear()s, or NULL when there
 * was nothing to send. */
PGresult *pg_batch_send(struct pg_batch *b, PGconn *c);

#endif
