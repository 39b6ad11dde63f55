/* test_import_identity.c: the import ledger's identities (core/import_identity.h):
 * MurmurHash3 x64-128 against its reference values, identities that separate
 * mappings, scopes and occurrences (and a CloudEvent's, which ignores the
 * mapping), and the per-file occurrence count through a table that grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/import_identity.h"
#include "core/import_ledger.h"
#include "core/store.h"

static void hex(const unsigned char *b, char *out)
{
    for (int i = 0; i < IDENTITY_LEN; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* Reference values (the C++ reference implementation, little-endian output). */
static void test_hash_reference(void **st)
{
    unsigned char h[IDENTITY_LEN];
    char s[2 * IDENTITY_LEN + 1];
    hash128("", 0, 0, h);
    hex(h, s);
    assert_string_equal(s, "00000000000000000000000000000000");
    /* every tail length and one full block give different, stable hashes */
    unsigned char seen[40][IDENTITY_LEN];
    const char *text = "The quick brown fox jumps over the lazy dog";
    for (size_t n = 0; n < 40; n++) {
        hash128(text, n, 0, seen[n]);
        unsigned char again[IDENTITY_LEN];
        hash128(text, n, 0, again);
        assert_memory_equal(seen[n], again, IDENTITY_LEN);
        for (size_t m = 0; m < n; m++)
            assert_memory_not_equal(seen[m], seen[n], IDENTITY_LEN);
    }
    hash128(text, strlen(text), 0, h);
    hex(h, s);
    assert_string_equal(s, "6c1b07bc7bbc4be347939ac4a93c437a"); /* h1 e34bbc7b..., h2 7a433ca9... */
}

static void test_identities_separate(void **st)
{
    unsigned char a[IDENTITY_LEN], b[IDENTITY_LEN], raw[IDENTITY_LEN];
    identity_of_text("orders", "id", "42", 2, a);
    identity_of_text("orders", "id", "42", 2, b);
    assert_memory_equal(a, b, IDENTITY_LEN);
    identity_of_text("payments", "id", "42", 2, b);
    assert_memory_not_equal(a, b, IDENTITY_LEN); /* ids are a mapping's own */
    identity_of_text("ab", "id", "c", 1, a);
    identity_of_text("a", "id", "bc", 2, b);
    assert_memory_not_equal(a, b, IDENTITY_LEN); /* the name's end is marked */
    identity_of_text("orders", "ce", "/shop\ne-1", 9, a);
    identity_of_text("other", "ce", "/shop\ne-1", 9, b);
    assert_memory_equal(a, b, IDENTITY_LEN); /* source+id is global */
    hash128("line", 4, 0, raw);
    identity_of_raw("m", raw, 1, a);
    identity_of_raw("m", raw, 2, b);
    assert_memory_not_equal(a, b, IDENTITY_LEN);
    identity_of_raw("m", raw, 1, b);
    assert_memory_equal(a, b, IDENTITY_LEN);
}

/* raw_identity_of (the source's part written once, import.c) gives identity_of_raw's
 * identity: names empty, absent, short and longer than identity_of's stack buffer,
 * occurrences small and large. */
static void test_raw_identity_as_identity_of_raw(void **st)
{
    char longname[700];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *names[] = {NULL, "", "m", "legacy-csv", longname};
    const uint32_t occ[] = {1, 2, 255, 256, 65537, 0xffffffffu};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct raw_identity ri;
        raw_identity_init(&ri, names[i]);
        for (int r = 0; r < 20; r++) {
            unsigned char raw[IDENTITY_LEN], a[IDENTITY_LEN], b[IDENTITY_LEN];
            hash128(&r, sizeof r, 3, raw);
            for (size_t k = 0; k < sizeof occ / sizeof occ[0]; k++) {
                identity_of_raw(names[i], raw, occ[k], a);
                raw_identity_of(&ri, raw, occ[k], b);
                assert_memory_equal(a, b, IDENTITY_LEN);
            }
        }
        raw_identity_done(&ri);
    }
}

static void test_occurrences(void **st)
{
    struct occurrences *o = occurrences_new();
    unsigned char h[IDENTITY_LEN], first[IDENTITY_LEN];
    hash128("same", 4, 0, first);
    assert_int_equal(occurrences_next(o, first), 1);
    char buf[32];
    for (int i = 0; i < 5000; i++) { /* past several doublings */
        snprintf(buf, sizeof buf, "record %d", i);
        hash128(buf, strlen(buf), 0, h);
        assert_int_equal(occurrences_next(o, h), 1);
    }
    assert_int_equal(occurrences_next(o, first), 2);
    assert_int_equal(occurrences_next(o, first), 3);
    occurrences_reset(o); /* a new file counts again */
    assert_int_equal(occurrences_next(o, first), 1);
    occurrences_free(o);
}

/* Claims held back: found before they are written, duplicates kept once, the
 * table grows past its first size, and a clear forgets them. */
static void test_ledger_batch(void **st)
{
    (void)st;
    struct ledger_batch *b = ledger_batch_new(false);
    assert_false(ledger_batch_knows_all(b));
    unsigned char id[IDENTITY_LEN];
    for (uint32_t i = 0; i < 5000; i++) {
        hash128(&i, sizeof i, 7, id);
        assert_false(ledger_batch_has(b, id));
        ledger_batch_add(b, id, i + 1);
        ledger_batch_add(b, id, i + 1); /* again: kept once */
        assert_true(ledger_batch_has(b, id));
    }
    assert_int_equal(ledger_batch_len(b), 5000);
    for (uint32_t i = 0; i < 5000; i++) {
        hash128(&i, sizeof i, 7, id);
        assert_true(ledger_batch_has(b, id));
    }
    uint32_t other = 99999;
    hash128(&other, sizeof other, 7, id);
    assert_false(ledger_batch_has(b, id));
    ledger_batch_clear(b);
    assert_int_equal(ledger_batch_len(b), 0);
    hash128(&other, sizeof other, 7, id);
    assert_false(ledger_batch_has(b, id));
    ledger_batch_free(b);
    b = ledger_batch_new(true);
    assert_true(ledger_batch_knows_all(b));
    /* has-then-add in one look: the same answers as the two */
    for (uint32_t i = 0; i < 5000; i++) {
        hash128(&i, sizeof i, 9, id);
        assert_true(ledger_batch_add_new(b, id, i + 1));
        assert_false(ledger_batch_add_new(b, id, i + 2)); /* held: not added again */
        assert_true(ledger_batch_has(b, id));
    }
    assert_int_equal(ledger_batch_len(b), 5000);
    ledger_batch_free(b);
}

/* Claims written to a store: every one lands (in 64-row statements and the rest
 * one by one), the sort handles identities sharing their first 8 bytes, and a
 * batch that remembers everything still finds them after the write sorted them. */
static void test_ledger_write(void **st)
{
    (void)st;
    err e;
    err_clear(&e);
    struct store_options o = STORE_OPTIONS_DEFAULT;
    struct store *s = store_open(":memory:", &o, &e);
    if (!s)
        fail_msg("store: %s", e.msg);
    enum { N = 5000, SAME = 150 };
    for (int keep = 0; keep < 2; keep++) {
        struct ledger_batch *b = ledger_batch_new(keep == 1);
        unsigned char id[IDENTITY_LEN];
        assert_int_equal(store_begin(s, &e), ST_OK);
        for (uint32_t i = 0; i < N + SAME; i++) {
            uint32_t k = i + (uint32_t)keep * 1000000u;
            hash128(&k, sizeof k, 11, id);
            if (i >= N) { /* the same first 8 bytes, the last ones different */
                memset(id, keep ? 0x5a : 0xa5, 8);
                id[15] = (unsigned char)(255 - (i - N));
            }
            ledger_batch_add(b, id, i + 1);
        }
        assert_int_equal(ledger_batch_write(b, s, &e), ST_OK);
        assert_int_equal(store_commit(s, &e), ST_OK);
        for (uint32_t i = 0; i < N + SAME; i++) {
            uint32_t k = i + (uint32_t)keep * 1000000u;
            hash128(&k, sizeof k, 11, id);
            if (i >= N) {
                memset(id, keep ? 0x5a : 0xa5, 8);
                id[15] = (unsigned char)(255 - (i - N));
            }
            bool present = false;
            assert_int_equal(store_ledger_has(s, id, &present, &e), ST_OK);
            assert_true(present);
            assert_true(ledger_batch_has(b, id) == (keep == 1));
        }
        ledger_batch_free(b);
    }
    store_close(s);
}

static int cmp_claim(const void *a, const void *b)
{
    const struct ledger_claim *x = a, *y = b;
    return memcmp(x->id, y->id, IDENTITY_LEN);
}

/* ledger_sort_claims (buckets of the top bits, insertion within) against qsort
 * and the plain radix sort: hashed identities of every count up to 300 and
 * 70,000; up to 300 identities sharing their first 8 bytes (a bucket past its insertion
 * limit: the radix sort takes it) or their first 2; identities equal but for
 * their last byte. Positions travel with their identities. */
static void test_ledger_sort(void **st)
{
    (void)st;
    size_t sizes[] = {0, 1, 2, 3, 17, 255, 256, 257, 300, 70000};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (int shape = 0; shape < 4; shape++) {
            size_t n = sizes[si];
            if ((shape == 1 || shape == 3) && n > 300)
                continue; /* runs sharing 8 bytes go by insertion: quadratic */
            struct ledger_claim *a = calloc(n ? n : 1, sizeof *a),
                                *b = calloc(n ? n : 1, sizeof *b),
                                *c = calloc(n ? n : 1, sizeof *c);
            for (size_t i = 0; i < n; i++) {
                char text[32];
                int len = snprintf(text, sizeof text, "record %zu", i);
                hash128(text, (size_t)len, (uint32_t)shape, a[i].id);
                if (shape == 1) /* the first 8 bytes shared by all */
                    memset(a[i].id, 0xab, 8);
                else if (shape == 2) /* the first 2 shared */
                    memset(a[i].id, 0x00, 2);
                else if (shape == 3) { /* all equal but the last byte (distinct below 256) */
                    memset(a[i].id, 0x5c, IDENTITY_LEN - 1);
                    a[i].id[IDENTITY_LEN - 1] = (unsigned char)(i * 37);
                    a[i].id[IDENTITY_LEN - 2] = (unsigned char)(i / 256);
                }
                a[i].position = (int64_t)i + 1;
            }
            memcpy(b, a, n * sizeof *a);
            memcpy(c, a, n * sizeof *a);
            ledger_sort_claims(a, n);
            ledger_sort_claims_radix(b, n);
            if (n)
                qsort(c, n, sizeof *c, cmp_claim);
            for (size_t i = 0; i < n; i++) {
                if (memcmp(a[i].id, c[i].id, IDENTITY_LEN) != 0 ||
                    memcmp(b[i].id, c[i].id, IDENTITY_LEN) != 0)
                    fail_msg("n %zu shape %d: claim %zu out of order", n, shape, i);
                /* identities are distinct here: each keeps its position */
                if (a[i].position != c[i].position || b[i].position != c[i].position)
                    fail_msg("n %zu shape %d: claim %zu lost its position", n, shape, i);
            }
            free(a);
            free(b);
            free(c);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_reference),
        cmocka_unit_test(test_identities_separate),
        cmocka_unit_test(test_ledger_batch),
        cmocka_unit_test(test_ledger_write),
        cmocka_unit_test(test_occurrences),
        cmocka_unit_test(test_ledger_sort),
        cmocka_unit_test(test_raw_identity_as_identity_of_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
