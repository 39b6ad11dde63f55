/* import_identity.h: what makes an imported record "already imported": the
 * 16-byte identities the import ledger keeps (store.h, ledger_claim), and the
 * per-file count of identical records that tells two genuinely identical records
 * of one file apart.
 *
 * A mapped record's identity is, in order of preference (import.h):
 * - its source's `id:` value, scoped by the mapping's name (ids are unique
 *   within the system that wrote them, not across systems);
 * - a CloudEvent's source and id (unique by the CloudEvents spec, so not scoped);
 * - the mapping's name, a hash of the raw record (its line, or its JSON text when
 *   the format has no lines: CSV, JSON arrays) and its occurrence number among
 *   identical records of the same file: the 2nd identical line is occurrence 2,
 *   in this file and in any later file that repeats it.
 * The hash is MurmurHash3 x64-128: not cryptographic (a log is not an adversary
 * of its own import), fast enough that the ledger costs little. */
#ifndef STRATA_IMPORT_IDENTITY_H
#define STRATA_IMPORT_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define IDENTITY_LEN 16

/* MurmurHash3 x64-128 of data[0..n) with seed, into out[16]. */
void hash128(const void *data, size_t n, uint32_t seed, unsigned char out[IDENTITY_LEN]);

/* The identity of a record with an identity of its own: scope ("id" or "ce"),
 * mapping name (ignored for "ce") and the text. */
void identity_of_text(const char *mapping, const char *scope, const char *text, size_t len,
                      unsigned char out[IDENTITY_LEN]);

/* The identity of a record known by its raw text's hash and occurrence number. */
void identity_of_raw(const char *mapping, const unsigned char raw_hash[IDENTITY_LEN],
                     uint32_t occurrence, unsigned char out[IDENTITY_LEN]);

/* identity_of_raw in two steps, the mapping's part written once (an import's
 * source is the same for every record: no strlen and copy of its name a record):
 * the same identity as identity_of_raw(mapping, ...). */
struct raw_identity {
    unsigned char *buf; /* "raw" NUL mapping NUL, then room for the hash and occurrence */
    size_t pre;
};
void raw_identity_init(struct raw_identity *ri, const char *mapping);
void raw_identity_of(struct raw_identity *ri, const unsigned char raw_hash[IDENTITY_LEN],
                     uint32_t occurrence, unsigned char out[IDENTITY_LEN]);
void raw_identity_done(struct raw_identity *ri);

/* How many times each raw record hash was seen in one file: 16 bytes a distinct
 * record (the first 8 bytes of its hash as the key: a collision only renumbers,
 * the same way every time the same file is read). */
struct occurrences;
struct occurrences *occurrences_new(void);
void occurrences_free(struct occurrences *o);
void occurrences_reset(struct occurrences *o); /* a new file */
/* Counts one more record with this hash; returns its occurrence number (1, 2, ...). */
uint32_t occurrences_next(struct occurrences *o, const unsigned char raw_hash[IDENTITY_LEN]);

#endif
