/* import_ledger.c: an import's claims on the ledger, held back and written
 * sorted (see import_ledger.h). */
#include "import_ledger.h"

#include <stdlib.h>
#include <string.h>

struct ledger_batch {
    struct ledger_claim *claims;
    size_t n, cap;
    uint32_t *slots; /* open addressing: index + 1 into claims, 0 = empty */
    size_t nslots;   /* a power of two, at least twice cap */
    size_t written;  /* claims[0..written) are in the ledger already (keep_all) */
    bool keep_all;   /* remember every claim, written or not */
};

struct ledger_batch *ledger_batch_new(bool keep_all)
{
    struct ledger_batch *b = xcalloc(1, sizeof *b);
    b->keep_all = keep_all;
    b->cap = 1024;
    b->claims = xcalloc(b->cap, sizeof *b->claims);
    b->nslots = 2048;
    b->slots = xcalloc(b->nslots, sizeof *b->slots);
    return b;
}

void ledger_batch_free(struct ledger_batch *b)
{
    if (!b)
        return;
    free(b->claims);
    free(b->slots);
    free(b);
}

size_t ledger_batch_len(const struct ledger_batch *b)
{
    return b->n - b->written;
}

bool ledger_batch_knows_all(const struct ledger_batch *b)
{
    return b->keep_all;
}

bool ledger_batch_due(const struct ledger_batch *b)
{
    return b->keep_all ? b->n >= LEDGER_KEEP_MAX : b->n - b->written >= LEDGER_BATCH_MAX;
}

/* Identities are hashes already: their first bytes serve as the hash. */
static size_t slot_of(const struct ledger_batch *b, const unsigned char id[IDENTITY_LEN])
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    size_t i = (size_t)h & (b->nslots - 1);
    while (b->slots[i] && memcmp(b->claims[b->slots[i] - 1].id, id, IDENTITY_LEN) != 0)
        i = (i + 1) & (b->nslots - 1);
    return i;
}

bool ledger_batch_has(const struct ledger_batch *b, const unsigned char id[IDENTITY_LEN])
{
    return b->slots[slot_of(b, id)] != 0;
}

/* Indexes claims[0..n) into slots that are all empty: the claims are distinct, so
 * each takes the first empty slot from its own, no identity compared. */
static void index_all(struct ledger_batch *b)
{
    for (size_t k = 0; k < b->n; k++) {
        uint64_t h;
        memcpy(&h, b->claims[k].id, sizeof h);
        size_t i = (size_t)h & (b->nslots - 1);
        while (b->slots[i])
            i = (i + 1) & (b->nslots - 1);
        b->slots[i] = (uint32_t)(k + 1);
    }
}

static void rehash(struct ledger_batch *b)
{
    memset(b->slots, 0, b->nslots * sizeof *b->slots);
    index_all(b);
}

void ledger_batch_add(struct ledger_batch *b, const unsigned char id[IDENTITY_LEN],
                      int64_t position)
{
    ledger_batch_add_new(b, id, position);
}

bool ledger_batch_add_new(struct ledger_batch *b, const unsigned char id[IDENTITY_LEN],
                          int64_t position)
{
    if (b->n == b->cap) {
        b->cap *= 2;
        b->claims = xrealloc(b->claims, b->cap * sizeof *b->claims);
        free(b->slots);
        b->nslots = b->cap * 2;
        b->slots = xcalloc(b->nslots, sizeof *b->slots);
        index_all(b); /* calloc's slots are empty already */
    }
    size_t i = slot_of(b, id);
    if (b->slots[i])
        return false; /* held back already */
    memcpy(b->claims[b->n].id, id, IDENTITY_LEN);
    b->claims[b->n].position = position;
    b->slots[i] = (uint32_t)(++b->n);
    return true;
}

static uint64_t prefix_of(const struct ledger_claim *c)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t k;
    memcpy(&k, c->id, 8);
    return __builtin_bswap64(k); /* the first byte the most significant */
#else
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | c->id[i];
    return k;
#endif
}

/* Sorts claims by identity (memcmp order): a radix sort on the first 8 bytes, then
 * the rare runs sharing those by insertion on the whole identity. qsort's calls
 * of a comparison were a third of the ledger's write. */
static void sort_claims_radix(struct ledger_claim *c, size_t n)
{
    if (n < 2)
        return;
    struct ledger_claim *tmp = xmalloc(n * sizeof *tmp);
    uint64_t *key = xmalloc(n * sizeof *key), *tkey = xmalloc(n * sizeof *tkey);
    for (size_t i = 0; i < n; i++)
        key[i] = prefix_of(&c[i]);
    struct ledger_claim *src = c, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[(key[i] >> shift & 0xff) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) {
            size_t at = count[key[i] >> shift & 0xff]++;
            dst[at] = src[i];
            tkey[at] = key[i];
        }
        struct ledger_claim *sw = src;
        src = dst;
        dst = sw;
        uint64_t *kw = key;
        key = tkey;
        tkey = kw;
    }
    /* eight passes: the sorted claims are back in c */
    for (size_t i = 1; i < n; i++) {
        if (key[i] != key[i - 1])
            continue;
        for (size_t j = i;
             j > 0 && key[j] == key[j - 1] && memcmp(c[j].id, c[j - 1].id, IDENTITY_LEN) < 0; j--) {
            struct ledger_claim t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
    }
    free(tmp);
    free(key);
    free(tkey);
}

#define BUCKET_RUN_MAX 32 /* a larger bucket (identities made to collide) goes by radix */

static bool claim_less(const struct ledger_claim *a, uint64_t ka, const struct ledger_claim *b,
                       uint64_t kb)
{
    return ka != kb ? ka < kb : memcmp(a->id, b->id, IDENTITY_LEN) < 0;
}

/* Identities are hashes, spread evenly: one pass puts each claim in the bucket
 * of its top bits (about one claim a bucket), then each bucket is sorted by
 * insertion, or by sort_claims_radix when it is large. Eight radix passes were
 * ~260 instructions a claim. */
void ledger_sort_claims(struct ledger_claim *c, size_t n)
{
    if (n < 2)
        return;
    int bits = 8;
    while (bits < 20 && ((size_t)1 << bits) < n)
        bits++;
    size_t nb = (size_t)1 << bits;
    size_t *start = xcalloc(nb + 1, sizeof *start);
    struct ledger_claim *tmp = xmalloc(n * sizeof *tmp);
    uint64_t *key = xmalloc(n * sizeof *key), *ck = xmalloc(n * sizeof *ck);
    for (size_t i = 0; i < n; i++) {
        ck[i] = prefix_of(&c[i]);
        start[(ck[i] >> (64 - bits)) + 1]++;
    }
    for (size_t b = 0; b < nb; b++)
        start[b + 1] += start[b];
    for (size_t i = 0; i < n; i++) { /* start[b] moves to the bucket's end */
        uint64_t k = ck[i];
        size_t at = start[k >> (64 - bits)]++;
        tmp[at] = c[i];
        key[at] = k;
    }
    for (size_t b = 0, lo = 0; b < nb; lo = start[b++]) {
        size_t hi = start[b];
        if (hi - lo > BUCKET_RUN_MAX) {
            sort_claims_radix(tmp + lo, hi - lo);
            continue;
        }
        for (size_t i = lo + 1; i < hi; i++)
            for (size_t j = i; j > lo && claim_less(&tmp[j], key[j], &tmp[j - 1], key[j - 1]);
                 j--) {
                struct ledger_claim t = tmp[j];
                tmp[j] = tmp[j - 1];
                tmp[j - 1] = t;
                uint64_t tk = key[j];
                key[j] = key[j - 1];
                key[j - 1] = tk;
            }
    }
    memcpy(c, tmp, n * sizeof *c);
    free(start);
    free(tmp);
    free(key);
    free(ck);
}

void ledger_sort_claims_radix(struct ledger_claim *c, size_t n)
{
    sort_claims_radix(c, n);
}

void ledger_batch_clear(struct ledger_batch *b)
{
    b->n = b->written = 0;
    memset(b->slots, 0, b->nslots * sizeof *b->slots);
}

int ledger_batch_write(struct ledger_batch *b, struct store *s, err *e)
{
    struct ledger_claim *todo = b->claims + b->written;
    size_t n = b->n - b->written;
    ledger_sort_claims(todo, n);
    int rc = store_ledger_claim_many(s, todo, n, e);
    if (b->keep_all && b->n < LEDGER_KEEP_MAX) {
        b->written = b->n; /* remembered: the sort moved them, so index them again */
        rehash(b);
    } else {
        b->keep_all = false; /* too many to remember: the ledger is asked from now on */
        ledger_batch_clear(b);
    }
    return rc;
}
