/* import_identity.c: record identities for the import ledger (see
 * import_identity.h): the hash, the identities, and the per-file occurrence
 * table (open addressing on 64-bit keys, grown at 1/2 full). */
#include "import_identity.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

void hash128(const void *data, size_t n, uint32_t seed, unsigned char out[IDENTITY_LEN])
{
    const unsigned char *p = data;
    size_t nblocks = n / 16;
    uint64_t h1 = seed, h2 = seed;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    for (size_t i = 0; i < nblocks; i++) {
        uint64_t k1, k2;
        memcpy(&k1, p + i * 16, 8);
        memcpy(&k2, p + i * 16 + 8, 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    const unsigned char *tail = p + nblocks * 16;
    uint64_t k1 = 0, k2 = 0;
    size_t rest = n & 15;
    for (size_t i = rest; i > 8; i--)
        k2 ^= (uint64_t)tail[i - 1] << ((i - 9) * 8);
    if (rest > 8) {
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    for (size_t i = rest < 8 ? rest : 8; i > 0; i--)
        k1 ^= (uint64_t)tail[i - 1] << ((i - 1) * 8);
    if (rest > 0) {
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= (uint64_t)n;
    h2 ^= (uint64_t)n;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    memcpy(out, &h1, 8);
    memcpy(out + 8, &h2, 8);
}

/* scope NUL mapping NUL payload: the NULs keep ("ab","c") apart from ("a","bc"). */
static void identity_of(const char *scope, const char *mapping, const void *payload, size_t len,
                        unsigned char out[IDENTITY_LEN])
{
    size_t ls = strlen(scope) + 1, lm = mapping ? strlen(mapping) : 0, n = ls + lm + 1 + len;
    unsigned char small[512];
    unsigned char *buf = n <= sizeof small ? small : xmalloc(n); /* most fit: no malloc */
    memcpy(buf, scope, ls);
    if (lm)
        memcpy(buf + ls, mapping, lm);
    buf[ls + lm] = '\0';
    memcpy(buf + ls + lm + 1, payload, len);
    hash128(buf, n, 0x5354524a, out);
    if (buf != small)
        free(buf);
}

void identity_of_text(const char *mapping, const char *scope, const char *text, size_t len,
                      unsigned char out[IDENTITY_LEN])
{
    identity_of(scope, strcmp(scope, "ce") == 0 ? NULL : mapping, text, len, out);
}

void identity_of_raw(const char *mapping, const unsigned char raw_hash[IDENTITY_LEN],
                     uint32_t occurrence, unsigned char out[IDENTITY_LEN])
{
    unsigned char buf[IDENTITY_LEN + 4];
    memcpy(buf, raw_hash, IDENTITY_LEN);
    for (int i = 0; i < 4; i++)
        buf[IDENTITY_LEN + i] = (unsigned char)(occurrence >> (8 * i));
    identity_of("raw", mapping, buf, sizeof buf, out);
}

void raw_identity_init(struct raw_identity *ri, const char *mapping)
{
    size_t lm = mapping ? strlen(mapping) : 0; /* as identity_of lays it out */
    ri->pre = 4 + lm + 1;
    ri->buf = xmalloc(ri->pre + IDENTITY_LEN + 4);
    memcpy(ri->buf, "raw", 4);
    if (lm)
        memcpy(ri->buf + 4, mapping, lm);
    ri->buf[4 + lm] = '\0';
}

void raw_identity_of(struct raw_identity *ri, const unsigned char raw_hash[IDENTITY_LEN],
                     uint32_t occurrence, unsigned char out[IDENTITY_LEN])
{
    unsigned char *p = ri->buf + ri->pre;
    memcpy(p, raw_hash, IDENTITY_LEN);
    for (int i = 0; i < 4; i++)
        p[IDENTITY_LEN + i] = (unsigned char)(occurrence >> (8 * i));
    hash128(ri->buf, ri->pre + IDENTITY_LEN + 4, 0x5354524a, out);
}

void raw_identity_done(struct raw_identity *ri)
{
    free(ri->buf);
    ri->buf = NULL;
}

/* ---- occurrences ---- */

struct slot {
    uint64_t key; /* 0 = empty (a key of 0 is stored as 1) */
    uint32_t count;
};

struct occurrences {
    struct slot *slots;
    size_t cap, len; /* cap a power of two */
};

struct occurrences *occurrences_new(void)
{
    struct occurrences *o = xcalloc(1, sizeof *o);
    o->cap = 1024;
    o->slots = xcalloc(o->cap, sizeof *o->slots);
    return o;
}

void occurrences_free(struct occurrences *o)
{
    if (!o)
        return;
    free(o->slots);
    free(o);
}

void occurrences_reset(struct occurrences *o)
{
    memset(o->slots, 0, o->cap * sizeof *o->slots);
    o->len = 0;
}

static struct slot *find(struct slot *slots, size_t cap, uint64_t key)
{
    size_t i = (size_t)(key ^ (key >> 29)) & (cap - 1);
    while (slots[i].key && slots[i].key != key)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

uint32_t occurrences_next(struct occurrences *o, const unsigned char raw_hash[IDENTITY_LEN])
{
    uint64_t key;
    memcpy(&key, raw_hash, 8);
    if (!key)
        key = 1;
    if ((o->len + 1) * 2 > o->cap) {
        size_t cap = o->cap * 2;
        struct slot *slots = xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < o->cap; i++)
            if (o->slots[i].key)
                *find(slots, cap, o->slots[i].key) = o->slots[i];
        free(o->slots);
        o->slots = slots;
        o->cap = cap;
    }
    struct slot *s = find(o->slots, o->cap, key);
    if (!s->key) {
        s->key = key;
        o->len++;
    }
    return ++s->count;
}
