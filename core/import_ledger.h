/* import_ledger.h: an import's claims on the ledger, held back and written sorted.
 *
 * A mapped import claims each record's 16-byte identity in the store's ledger
 * (store.h, ledger_claim). Claimed one by one in file order, the identities
 * (hashes, so random) land all over the ledger's B-tree: every claim dirtied a
 * page somewhere, and with the event log's pages spilling from the cache during a
 * large import, the same ledger pages were written to the log again and again
 * (the ledger made a mapped import about 1.4 times slower). So an import asks the
 * ledger only whether an identity is there (a read: ledger_has), keeps the ones
 * it appends here, and writes them in identity order every LEDGER_BATCH_MAX
 * records and before it commits: each write walks the B-tree once, front to
 * back. A record repeated within the import is found here before it is written.
 * When the ledger was empty as the import began (a first import), every identity
 * claimed is also remembered here (up to LEDGER_KEEP_MAX), so that no record needs
 * a look at the ledger at all; and since all of them are held here anyway, they
 * are written once, before the commit (or when LEDGER_KEEP_MAX is reached), in
 * one sorted pass: into a ledger that was empty, every claim then lands at the
 * right edge of the B-tree (full pages, no splits in the middle), which cut the
 * ledger's share of a first mapped import by about half. */
#ifndef STRATA_IMPORT_LEDGER_H
#define STRATA_IMPORT_LEDGER_H

#include "import_identity.h"
#include "store.h"

#define LEDGER_BATCH_MAX 65536  /* claims held back at most */
#define LEDGER_KEEP_MAX 2000000 /* identities remembered at most (about 70 MB) */

struct ledger_batch;

/* keep_all: remember every identity written (the ledger was empty before). */
struct ledger_batch *ledger_batch_new(bool keep_all);
/* Does the batch alone know whether id was claimed (so the ledger need not be
 * asked)? True while it remembers everything this import claimed. */
bool ledger_batch_knows_all(const struct ledger_batch *b);
void ledger_batch_free(struct ledger_batch *b);
size_t ledger_batch_len(const struct ledger_batch *b);
/* Is it time to write the claims held back (ledger_batch_write)? Every
 * LEDGER_BATCH_MAX claims; with keep_all, only when LEDGER_KEEP_MAX are held. */
bool ledger_batch_due(const struct ledger_batch *b);
/* Is id among the claims held back? */
bool ledger_batch_has(const struct ledger_batch *b, const unsigned char id[IDENTITY_LEN]);
/* Holds back a claim of id for the event at position. */
void ledger_batch_add(struct ledger_batch *b, const unsigned char id[IDENTITY_LEN],
                      int64_t position);
/* ledger_batch_has and ledger_batch_add in one look: false (nothing added) when
 * id is held back already, else adds it and gives true. */
bool ledger_batch_add_new(struct ledger_batch *b, const unsigned char id[IDENTITY_LEN],
                          int64_t position);
/* Writes the claims held back, in identity order, inside the caller's
 * transaction, and forgets them. */
int ledger_batch_write(struct ledger_batch *b, struct store *s, err *e);
/* Sorts claims by identity, memcmp order (what ledger_batch_write writes in);
 * the _radix one is the plain radix sort it falls back on, kept for the test
 * that compares them. */
void ledger_sort_claims(struct ledger_claim *c, size_t n);
void ledger_sort_claims_radix(struct ledger_claim *c, size_t n);
/* Forgets them unwritten (the import is rolled back). */
void ledger_batch_clear(struct ledger_batch *b);

#endif
