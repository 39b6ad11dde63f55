/* test_value.c: unit tests for core/value.c: every type, reference counting and
 * copy on write, insertion-ordered maps with their hash index (100k keys, remove),
 * exact and CEL equality, the total order, deep copies, and freeing deeply nested values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/value.h"

static void test_scalars(void **state)
{
    value n = value_null(), t = value_bool(true), f = value_bool(false);
    value i = value_int(INT64_MIN), d = value_double(1.5);
    assert_int_equal(n.type, V_NULL);
    assert_int_equal(t.type, V_BOOL);
    assert_true(t.u.b);
    assert_false(f.u.b);
    assert_true(i.u.i == INT64_MIN);
    assert_true(d.u.d == 1.5);
    assert_string_equal(vtype_name(V_NULL), "null");
    assert_string_equal(vtype_name(V_BOOL), "bool");
    assert_string_equal(vtype_name(V_INT), "int");
    assert_string_equal(vtype_name(V_DOUBLE), "double");
    assert_string_equal(vtype_name(V_STRING), "string");
    assert_string_equal(vtype_name(V_LIST), "list");
    assert_string_equal(vtype_name(V_MAP), "map");
    /* Freeing and referencing scalars is a no-op. */
    value r = value_ref(&i);
    assert_true(r.u.i == INT64_MIN);
    value_free(n);
    value_free(r);
    value_free(d);
}

static void test_strings(void **state)
{
    value s = value_string("a\0b", 3);
    assert_int_equal(s.type, V_STRING);
    assert_int_equal(value_strlen(&s), 3);
    assert_memory_equal(value_str(&s), "a\0b", 4); /* NUL-terminated after len bytes */
    value c = value_cstring("hello");
    assert_int_equal(value_strlen(&c), 5);
    assert_string_equal(value_str(&c), "hello");
    value e = value_string(NULL, 0);
    assert_int_equal(value_strlen(&e), 0);
    assert_string_equal(value_str(&e), "");

    value c2 = value_cstring("hello");
    assert_true(value_string_hash(&c) == value_string_hash(&c2));
    assert_true(value_string_hash(&c) != 0);
    assert_true(c.u.s->hash != 0); /* cached */

    value r = value_ref(&c);
    assert_ptr_equal(r.u.s, c.u.s);
    assert_int_equal(c.u.s->refs, 2);
    value_free(r);
    assert_int_equal(c.u.s->refs, 1);
    value_free(s);
    value_free(c);
    value_free(c2);
    value_free(e);
}

static void test_list_push_and_cow(void **state)
{
    value l = value_list(0);
    for (int i = 0; i < 100; i++)
        value_list_push(&l, value_int(i));
    value_list_push(&l, value_cstring("x"));
    assert_int_equal(value_list_len(&l), 101);
    assert_true(value_list_at(&l, 42)->u.i == 42);

    value other = value_ref(&l);
    value_list_push(&other, value_cstring("only in other"));
    assert_int_equal(value_list_len(&l), 101);
    assert_int_equal(value_list_len(&other), 102);
    assert_ptr_not_equal(l.u.l, other.u.l);
    assert_int_equal(l.u.l->refs, 1);
    /* The string item is now shared by both lists, not copied. */
    assert_ptr_equal(value_list_at(&l, 100)->u.s, value_list_at(&other, 100)->u.s);
    assert_int_equal(value_list_at(&l, 100)->u.s->refs, 2);
    value_free(other);
    assert_int_equal(value_list_at(&l, 100)->u.s->refs, 1);

    /* An inline (hinted) list growing past its hint. */
    value h = value_list(2);
    for (int i = 0; i < 10; i++)
        value_list_push(&h, value_int(i * 10));
    assert_int_equal(value_list_len(&h), 10);
    assert_true(value_list_at(&h, 9)->u.i == 90);
    value_free(h);
    value_free(l);
}

static void test_map_basic(void **state)
{
    value m = value_map(0);
    value_map_set(&m, "b", value_int(1));
    value_map_set(&m, "a", value_int(2));
    value_map_setn(&m, "c\0d", 3, value_int(3));
    value_map_setv(&m, value_cstring("z"), value_cstring("zz"));
    assert_int_equal(value_map_len(&m), 4);
    assert_string_equal(value_str(value_map_key_at(&m, 0)), "b");
    assert_string_equal(value_str(value_map_key_at(&m, 1)), "a");
    assert_true(value_map_get(&m, "a")->u.i == 2);
    assert_null(value_map_get(&m, "c")); /* the key has a NUL inside */
    assert_true(value_map_getn(&m, "c\0d", 3)->u.i == 3);
    assert_null(value_map_get(&m, "missing"));

    /* Setting an existing key keeps its place. */
    value_map_set(&m, "b", value_cstring("new"));
    value_map_setv(&m, value_cstring("a"), value_int(20));
    assert_int_equal(value_map_len(&m), 4);
    assert_string_equal(value_str(value_map_key_at(&m, 0)), "b");
    assert_string_equal(value_str(value_map_val_at(&m, 0)), "new");
    assert_true(value_map_val_at(&m, 1)->u.i == 20);

    assert_true(value_map_remove(&m, "a", 1));
    assert_false(value_map_remove(&m, "a", 1));
    assert_int_equal(value_map_len(&m), 3);
    assert_string_equal(value_str(value_map_key_at(&m, 1)), "c");
    assert_string_equal(value_str(value_map_key_at(&m, 2)), "z");
    assert_null(value_map_get(&m, "a"));
    value_free(m);
}

static void test_map_cow(void **state)
{
    value m = value_map(0);
    value_map_set(&m, "x", value_int(1));
    value inner = value_list(0);
    value_list_push(&inner, value_int(7));
    value_map_set(&m, "lines", inner);

    value held = value_ref(&m);
    value_map_set(&m, "x", value_int(2));
    value_map_set(&m, "y", value_int(3));
    assert_true(value_map_get(&held, "x")->u.i == 1);
    assert_null(value_map_get(&held, "y"));
    assert_true(value_map_get(&m, "x")->u.i == 2);

    /* Remove on a shared map leaves the other holder alone. */
    value held2 = value_ref(&m);
    assert_true(value_map_remove(&m, "x", 1));
    assert_non_null(value_map_get(&held2, "x"));
    assert_null(value_map_get(&m, "x"));

    /* A nested list shared between maps: changing it through one copy (ref then
     * push then set) does not show in the other. */
    value lines = value_ref(value_map_get(&m, "lines"));
    value_list_push(&lines, value_int(8));
    value_map_set(&m, "lines", lines);
    assert_int_equal(value_list_len(value_map_get(&m, "lines")), 2);
    assert_int_equal(value_list_len(value_map_get(&held, "lines")), 1);
    assert_int_equal(value_list_len(value_map_get(&held2, "lines")), 1);

    /* COW on a large (indexed) map keeps lookups working on both sides. */
    value big = value_map(0);
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        value_map_set(&big, key, value_int(i));
    }
    value big2 = value_ref(&big);
    value_map_set(&big2, "k5", value_int(-5));
    value_map_set(&big2, "new", value_int(100));
    assert_true(value_map_remove(&big2, "k0", 2));
    assert_true(value_map_get(&big, "k5")->u.i == 5);
    assert_non_null(value_map_get(&big, "k0"));
    assert_null(value_map_get(&big, "new"));
    assert_true(value_map_get(&big2, "k5")->u.i == -5);
    assert_true(value_map_get(&big2, "k99")->u.i == 99);
    assert_null(value_map_get(&big2, "k0"));
    value_free(big);
    value_free(big2);
    value_free(held);
    value_free(held2);
    value_free(m);
}

static void test_map_large(void **state)
{
    enum { N = 100000 };
    value m = value_map(0);
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        value_map_set(&m, key, value_int(i));
    }
    assert_int_equal(value_map_len(&m), N);
    assert_non_null(m.u.m->index);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        const value *v = value_map_get(&m, key);
        assert_non_null(v);
        assert_true(v->u.i == i);
    }
    /* Overwrite keeps the count and the place. */
    value_map_set(&m, "key-500", value_int(-1));
    assert_int_equal(value_map_len(&m), N);
    assert_true(value_map_val_at(&m, 500)->u.i == -1);
    /* Remove a few (each removal is O(n), so not every third of 100k). */
    for (int i = 0; i < N; i += 9973) {
        snprintf(key, sizeof key, "key-%d", i);
        assert_true(value_map_remove(&m, key, strlen(key)));
    }
    size_t removed = (N + 9972) / 9973;
    assert_int_equal(value_map_len(&m), N - removed);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        const value *v = value_map_get(&m, key);
        if (i % 9973 == 0)
            assert_null(v);
        else
            assert_non_null(v);
    }
    /* Insertion order survives the removals. */
    assert_string_equal(value_str(value_map_key_at(&m, 0)), "key-1");
    assert_string_equal(value_str(value_map_key_at(&m, value_map_len(&m) - 1)), "key-99999");
    value_map_set(&m, "key-0", value_int(0)); /* re-added: goes to the end */
    assert_string_equal(value_str(value_map_key_at(&m, value_map_len(&m) - 1)), "key-0");
    value_free(m);
}

/* Around the size where the hash index appears and disappears. */
static void test_map_index_boundary(void **state)
{
    char key[16];
    value m = value_map(0);
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "%d", i);
        value_map_set(&m, key, value_int(i));
        for (int j = 0; j <= i; j++) {
            snprintf(key, sizeof key, "%d", j);
            assert_true(value_map_get(&m, key)->u.i == j);
        }
    }
    for (int i = 39; i >= 0; i -= 2) {
        snprintf(key, sizeof key, "%d", i);
        assert_true(value_map_remove(&m, key, strlen(key)));
        for (int j = 0; j < 40; j++) {
            snprintf(key, sizeof key, "%d", j);
            const value *v = value_map_get(&m, key);
            if (j % 2 == 1 && j >= i)
                assert_null(v);
            else
                assert_true(v && v->u.i == j);
        }
    }
    assert_int_equal(value_map_len(&m), 20);
    assert_non_null(m.u.m->index);
    for (int j = 0; j < 12; j += 2) {
        snprintf(key, sizeof key, "%d", j);
        assert_true(value_map_remove(&m, key, strlen(key)));
    }
    assert_int_equal(value_map_len(&m), 14);
    assert_null(m.u.m->index); /* back to a linear map */
    assert_true(value_map_get(&m, "12")->u.i == 12);
    assert_null(value_map_get(&m, "10"));
    value_free(m);
}

/* Keys whose 32-bit hashes are the same ("k32728" and "k261234" under FNV-1a):
 * the index tells them apart by their text. */
static void test_map_index_same_hash(void **state)
{
    char key[16];
    value m = value_map(0);
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "f%d", i);
        value_map_set(&m, key, value_int(i));
    }
    assert_non_null(m.u.m->index);
    assert_null(value_map_get(&m, "k32728"));
    value_map_set(&m, "k32728", value_int(1));
    assert_null(value_map_get(&m, "k261234")); /* the same hash, another key */
    assert_true(value_map_find_at(&m, "k261234", 7) < 0);
    value_map_set(&m, "k261234", value_int(2));
    assert_int_equal(value_map_len(&m), 32);
    assert_true(value_map_get(&m, "k32728")->u.i == 1);
    assert_true(value_map_get(&m, "k261234")->u.i == 2);
    assert_true(value_map_remove(&m, "k32728", 6));
    assert_null(value_map_get(&m, "k32728"));
    assert_true(value_map_get(&m, "k261234")->u.i == 2);
    value_map_set(&m, "k32728", value_int(3)); /* back, at the end */
    assert_int_equal(value_map_find_at(&m, "k32728", 6), 31);
    assert_true(value_map_get(&m, "k261234")->u.i == 2);
    /* A copy (deep, or by copy on write) finds both too. */
    value deep = value_copy_deep(&m);
    value held = value_ref(&m);
    value_map_set(&m, "k32729", value_int(4));
    assert_true(value_map_get(&deep, "k32728")->u.i == 3);
    assert_true(value_map_get(&deep, "k261234")->u.i == 2);
    assert_null(value_map_get(&held, "k32729"));
    assert_true(value_map_get(&m, "k32729")->u.i == 4);
    value_free(deep);
    value_free(held);
    value_free(m);
}

/* value_map_setn says where the key sits; value_map_find_at finds it there, and
 * value_map_set_at by that place still sets it after the map (and its index)
 * grew many times over; an int key added to an indexed map of strings. */
static void test_map_place(void **state)
{
    char key[16];
    value m = value_map(0);
    size_t at[3000];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "r%d", i);
        at[i] = value_map_setn(&m, key, strlen(key), value_int(i));
        assert_int_equal(at[i], i);
    }
    assert_int_equal(value_map_setn(&m, "r7", 2, value_int(-7)), 7); /* kept its place */
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "r%d", i);
        assert_int_equal(value_map_find_at(&m, key, strlen(key)), (ptrdiff_t)at[i]);
    }
    value_map_set_at(&m, at[5], value_int(55));
    assert_true(value_map_get(&m, "r5")->u.i == 55);
    value one = value_int(1);
    value_map_set_key(&m, &one, value_cstring("int"));
    assert_null(value_map_get(&m, "1"));
    assert_string_equal(value_str(value_map_find(&m, &one)), "int");
    value_map_set(&m, "1", value_cstring("text"));
    assert_string_equal(value_str(value_map_find(&m, &one)), "int");
    assert_string_equal(value_str(value_map_get(&m, "1")), "text");
    for (int i = 0; i < 100; i++) { /* grows the index again, kinds and all */
        snprintf(key, sizeof key, "s%d", i);
        value_map_set(&m, key, value_int(i));
    }
    assert_string_equal(value_str(value_map_find(&m, &one)), "int");
    assert_int_equal(value_map_find_at(&m, "r2999", 5), 2999);
    assert_true(value_map_find_at(&m, "r3000", 5) < 0);
    value_free(m);
}

static value make_sample(int variant)
{
    value m = value_map(0);
    value_map_set(&m, "id", value_cstring("A-1"));
    value_map_set(&m, "n", value_int(3));
    value l = value_list(0);
    value_list_push(&l, value_double(1.5));
    value_list_push(&l, value_null());
    value_list_push(&l, value_bool(variant == 1));
    value_map_set(&m, "l", l);
    return m;
}

static void test_equal(void **state)
{
    value i1 = value_int(1), d1 = value_double(1.0);
    assert_false(value_equal(&i1, &d1)); /* exact: int and double never equal */
    value nan = value_double(NAN);
    assert_false(value_equal(&nan, &nan));
    value pz = value_double(0.0), nz = value_double(-0.0);
    assert_true(value_equal(&pz, &nz));
    value n1 = value_null(), n2 = value_null(), f = value_bool(false);
    assert_true(value_equal(&n1, &n2));
    assert_false(value_equal(&n1, &f));

    value s1 = value_string("a\0b", 3), s2 = value_string("a\0c", 3), s3 = value_string("a\0b", 3);
    assert_false(value_equal(&s1, &s2));
    assert_true(value_equal(&s1, &s3));

    /* Maps regardless of order. */
    value a = value_map(0), b = value_map(0);
    value_map_set(&a, "x", value_int(1));
    value_map_set(&a, "y", value_int(2));
    value_map_set(&b, "y", value_int(2));
    value_map_set(&b, "x", value_int(1));
    assert_true(value_equal(&a, &b));
    value_map_set(&b, "x", value_double(1.0));
    assert_false(value_equal(&a, &b));
    value_map_set(&b, "x", value_int(1));
    value_map_set(&b, "z", value_null());
    assert_false(value_equal(&a, &b));

    /* Lists in order. */
    value l1 = value_list(0), l2 = value_list(0);
    value_list_push(&l1, value_int(1));
    value_list_push(&l1, value_int(2));
    value_list_push(&l2, value_int(2));
    value_list_push(&l2, value_int(1));
    assert_false(value_equal(&l1, &l2));

    value x = make_sample(0), y = make_sample(0), z = make_sample(1);
    assert_true(value_equal(&x, &y));
    assert_false(value_equal(&x, &z));

    /* A list holding NaN is not equal to itself (no identity shortcut). */
    value ln = value_list(0);
    value_list_push(&ln, value_double(NAN));
    assert_false(value_equal(&ln, &ln));

    value_free(s1);
    value_free(s2);
    value_free(s3);
    value_free(a);
    value_free(b);
    value_free(l1);
    value_free(l2);
    value_free(x);
    value_free(y);
    value_free(z);
    value_free(ln);
}

/* CEL's == (heterogeneous numeric equality) and the order of numbers. */
static void test_equal_cel(void **state)
{
    value i1 = value_int(1), d1 = value_double(1.0), d15 = value_double(1.5),
          s1 = value_cstring("1");
    value nan = value_double(NAN), t = value_bool(true);
    assert_true(value_equal_cel(&i1, &d1));
    assert_true(value_equal_cel(&d1, &i1));
    assert_false(value_equal_cel(&i1, &d15));
    assert_false(value_equal_cel(&i1, &s1));
    assert_false(value_equal_cel(&i1, &t));
    assert_false(value_equal_cel(&i1, &nan));
    assert_false(value_equal(&i1, &d1)); /* value_equal stays exact */

    /* at any depth: lists and map values */
    value l1 = value_list(0), l2 = value_list(0);
    value_list_push(&l1, value_int(1));
    value_list_push(&l2, value_double(1.0));
    assert_true(value_equal_cel(&l1, &l2));
    assert_false(value_equal(&l1, &l2));
    value m1 = value_map(0), m2 = value_map(0);
    value_map_set(&m1, "a", value_ref(&l1));
    value_map_set(&m2, "a", value_ref(&l2));
    assert_true(value_equal_cel(&m1, &m2));
    assert_false(value_equal(&m1, &m2));

    /* the order: -1, 0, 1, or 2 for a NaN */
    value big = value_int(INT64_MAX), two63 = value_double(9223372036854775808.0);
    value huge = value_double(1e300), small = value_int(INT64_MIN), nhuge = value_double(-1e300);
    assert_int_equal(value_num_cmp(&i1, &d15), -1);
    assert_int_equal(value_num_cmp(&d15, &i1), 1);
    assert_int_equal(value_num_cmp(&i1, &d1), 0);
    assert_int_equal(value_num_cmp(&i1, &nan), 2);
    assert_int_equal(value_num_cmp(&nan, &i1), 2);
    assert_int_equal(value_num_cmp(&nan, &nan), 2);
    assert_int_equal(value_num_cmp(&big, &two63), 0); /* INT64_MAX as a double is 2^63 (cel-go) */
    assert_int_equal(value_num_cmp(&big, &huge), -1);
    assert_int_equal(value_num_cmp(&small, &nhuge), 1);
    assert_int_equal(value_num_cmp(&huge, &small), 1);
    assert_int_equal(value_num_cmp(&small, &big), -1);

    value_free(s1);
    value_free(l1);
    value_free(l2);
    value_free(m1);
    value_free(m2);
}

/* Int and bool keys (CEL map literals): text plus a kind beside the entry. */
static void test_map_typed_keys(void **state)
{
    value one = value_int(1), t = value_bool(true), s1 = value_cstring("1"), d1 = value_double(1.0);
    value m = value_map(0);
    assert_false(value_has_typed_keys(&m));
    value_map_set(&m, "a", value_int(0));
    assert_null(m.u.m->kinds); /* no kinds while every key is a string */
    value_map_set_key(&m, &one, value_cstring("int"));
    value_map_set_key(&m, &s1, value_cstring("string"));
    value_map_set_key(&m, &t, value_cstring("bool"));
    assert_int_equal(value_map_len(&m), 4);
    assert_true(value_has_typed_keys(&m));
    /* every key is still a string, for the code that reads keys as text */
    assert_string_equal(value_str(value_map_key_at(&m, 1)), "1");
    assert_string_equal(value_str(value_map_key_at(&m, 3)), "true");
    assert_int_equal(value_map_key_kind(&m, 0), VKEY_STRING);
    assert_int_equal(value_map_key_kind(&m, 1), VKEY_INT);
    assert_int_equal(value_map_key_kind(&m, 2), VKEY_STRING);
    assert_int_equal(value_map_key_kind(&m, 3), VKEY_BOOL);
    value scratch;
    const value *k = value_map_key_cel(&m, 1, &scratch);
    assert_int_equal(k->type, V_INT);
    assert_true(k->u.i == 1);
    k = value_map_key_cel(&m, 3, &scratch);
    assert_int_equal(k->type, V_BOOL);
    assert_true(k->u.b);
    assert_int_equal(value_map_key_cel(&m, 2, &scratch)->type, V_STRING);
    /* lookups tell 1 from '1'; text lookups see string keys only */
    assert_string_equal(value_str(value_map_find(&m, &one)), "int");
    assert_string_equal(value_str(value_map_find(&m, &d1)), "int");
    assert_string_equal(value_str(value_map_find(&m, &s1)), "string");
    assert_string_equal(value_str(value_map_find(&m, &t)), "bool");
    assert_string_equal(value_str(value_map_get(&m, "1")), "string");
    assert_null(value_map_get(&m, "true"));
    value d15 = value_double(1.5), nul = value_null();
    assert_null(value_map_find(&m, &d15));
    assert_null(value_map_find(&m, &nul));
    /* setting an existing key keeps its place */
    value_map_set_key(&m, &one, value_cstring("int2"));
    assert_int_equal(value_map_len(&m), 4);
    assert_string_equal(value_str(value_map_val_at(&m, 1)), "int2");

    /* copy on write, deep copies and equality keep the kinds */
    value shared = value_ref(&m);
    value_map_set(&m, "b", value_int(2));
    assert_int_equal(value_map_len(&shared), 4);
    assert_int_equal(value_map_key_kind(&m, 1), VKEY_INT);
    value copy = value_copy_deep(&m);
    assert_true(value_equal(&m, &copy));
    assert_int_equal(value_compare(&m, &copy), 0);
    assert_int_equal(value_map_key_kind(&copy, 3), VKEY_BOOL);
    /* the same texts with other kinds: a different map */
    value mi = value_map(0), other = value_map(0);
    value_map_set_key(&mi, &one, value_int(0));
    value_map_set(&other, "1", value_int(0));
    assert_false(value_equal(&mi, &other));
    assert_false(value_equal_cel(&mi, &other));
    assert_true(value_compare(&mi, &other) != 0);
    assert_int_equal(value_compare(&mi, &other), -value_compare(&other, &mi));
    value_free(mi);

    /* removal, by text (string keys only) and by key */
    assert_false(value_map_remove(&m, "true", 4));
    assert_true(value_map_remove_key(&m, &t));
    assert_true(value_map_remove(&m, "1", 1)); /* the string key */
    assert_int_equal(value_map_len(&m), 3);
    assert_int_equal(value_map_key_kind(&m, 1), VKEY_INT);
    assert_int_equal(value_map_key_kind(&m, 2), VKEY_STRING); /* "b" moved down with its kind */
    assert_true(value_map_remove_key(&m, &one));
    assert_false(value_has_typed_keys(&m));

    /* nested, and past the hash index threshold */
    value big = value_map(0);
    for (int i = 0; i < 100; i++) {
        value ki = value_int(i);
        char buf[16];
        snprintf(buf, sizeof buf, "%d", i);
        value_map_set_key(&big, &ki, value_int(i * 2));
        value_map_set(&big, buf, value_int(-i)); /* the same text as a string key */
    }
    assert_int_equal(value_map_len(&big), 200);
    value k77 = value_int(77);
    assert_true(value_map_find(&big, &k77)->u.i == 154);
    assert_true(value_map_get(&big, "77")->u.i == -77);
    value outer = value_list(0);
    value_list_push(&outer, value_map(0));
    assert_false(value_has_typed_keys(&outer));
    value_list_push(&outer, value_ref(&big));
    assert_true(value_has_typed_keys(&outer));

    value_free(s1);
    value_free(m);
    value_free(shared);
    value_free(copy);
    value_free(other);
    value_free(big);
    value_free(outer);
}

static int cmp_values(const void *a, const void *b)
{
    return value_compare(a, b);
}

static void test_compare(void **state)
{
    value vals[12];
    vals[0] = value_cstring("b");
    vals[1] = value_int(5);
    vals[2] = value_double(NAN);
    vals[3] = value_null();
    vals[4] = value_double(-1.5);
    vals[5] = value_bool(true);
    vals[6] = value_cstring("ab");
    vals[7] = value_int(-5);
    vals[8] = value_bool(false);
    vals[9] = value_list(0);
    vals[10] = value_map(0);
    vals[11] = value_cstring("a");
    qsort(vals, 12, sizeof vals[0], cmp_values);
    assert_int_equal(vals[0].type, V_NULL);
    assert_false(vals[1].u.b);
    assert_true(vals[2].u.b);
    assert_true(vals[3].u.i == -5);
    assert_true(vals[4].u.i == 5);
    assert_true(vals[5].u.d == -1.5);
    assert_true(isnan(vals[6].u.d)); /* NaN after every number */
    assert_string_equal(value_str(&vals[7]), "a");
    assert_string_equal(value_str(&vals[8]), "ab");
    assert_string_equal(value_str(&vals[9]), "b");
    assert_int_equal(vals[10].type, V_LIST);
    assert_int_equal(vals[11].type, V_MAP);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(value_compare(&vals[i], &vals[i]), 0);
        for (int j = i + 1; j < 12; j++) {
            assert_true(value_compare(&vals[i], &vals[j]) < 0);
            assert_true(value_compare(&vals[j], &vals[i]) > 0);
        }
    }
    for (int i = 0; i < 12; i++)
        value_free(vals[i]);

    /* Lists lexicographically, shorter first on a common prefix. */
    value l1 = value_list(0), l2 = value_list(0);
    value_list_push(&l1, value_int(1));
    value_list_push(&l2, value_int(1));
    value_list_push(&l2, value_int(0));
    assert_true(value_compare(&l1, &l2) < 0);
    /* Maps independent of order, and consistent with value_equal. */
    value a = value_map(0), b = value_map(0);
    value_map_set(&a, "x", value_int(1));
    value_map_set(&a, "y", value_int(2));
    value_map_set(&b, "y", value_int(2));
    value_map_set(&b, "x", value_int(1));
    assert_int_equal(value_compare(&a, &b), 0);
    value_map_set(&b, "y", value_int(3));
    assert_true(value_compare(&a, &b) < 0);
    assert_true(value_compare(&b, &a) > 0);
    value z1 = value_double(0.0), z2 = value_double(-0.0);
    assert_int_equal(value_compare(&z1, &z2), 0);
    value_free(l1);
    value_free(l2);
    value_free(a);
    value_free(b);
}

static void test_copy_deep(void **state)
{
    value m = make_sample(0);
    value big = value_map(0);
    char key[16];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "k%d", i);
        value_map_set(&big, key, value_int(i));
    }
    value_map_set(&m, "big", big);
    value c = value_copy_deep(&m);
    assert_true(value_equal(&m, &c));
    assert_ptr_not_equal(m.u.m, c.u.m);
    assert_ptr_not_equal(value_map_get(&m, "l")->u.l, value_map_get(&c, "l")->u.l);
    assert_ptr_not_equal(value_map_get(&m, "id")->u.s, value_map_get(&c, "id")->u.s);
    assert_ptr_not_equal(value_map_key_at(&m, 0)->u.s, value_map_key_at(&c, 0)->u.s);
    /* The copy's index works. */
    assert_true(value_map_get(value_map_get(&c, "big"), "k42")->u.i == 42);
    value s = value_cstring("x");
    value sc = value_copy_deep(&s);
    assert_ptr_not_equal(s.u.s, sc.u.s);
    value i = value_int(4), ic = value_copy_deep(&i);
    assert_true(ic.u.i == 4);
    value_free(s);
    value_free(sc);
    value_free(m);
    value_free(c);
}

/* value_free uses an explicit stack, so a value nested far deeper than any C stack
 * would allow is released without recursion (and without leaks under ASan). */
static void test_free_deep_nesting(void **state)
{
    value v = value_int(0);
    for (int i = 0; i < 200000; i++) {
        value outer = i % 2 ? value_list(1) : value_map(1);
        if (outer.type == V_LIST)
            value_list_push(&outer, v);
        else
            value_map_set(&outer, "k", v);
        v = outer;
    }
    value shared = value_ref(&v);
    value_free(v);
    value_free(shared);
}

/* Shared children are freed only with their last holder. */
static void test_refcount_shared_children(void **state)
{
    value s = value_cstring("shared");
    value a = value_list(0), b = value_map(0);
    value_list_push(&a, value_ref(&s));
    value_map_set(&b, "s", value_ref(&s));
    value_map_set(&b, "a", value_ref(&a));
    assert_int_equal(s.u.s->refs, 3);
    value_free(a);
    assert_int_equal(s.u.s->refs, 3); /* a is still held by b */
    value_free(b);
    assert_int_equal(s.u.s->refs, 1);
    assert_string_equal(value_str(&s), "shared");
    value_free(s);
}

/* value_map_set_at, value_map_slot_at and value_string_overwrite change nothing
 * another holder sees. */
static void test_in_place(void **st)
{
    (void)st;
    value m = value_map(4);
    value_map_set(&m, "a", value_int(1));
    value_map_set(&m, "b", value_cstring("xy"));
    value shared = value_ref(&m);
    value_map_set_at(&m, 0, value_int(2));
    assert_int_equal(value_map_get(&m, "a")->u.i, 2);
    assert_int_equal(value_map_get(&shared, "a")->u.i, 1); /* copied first */
    value *slot = value_map_slot_at(&m, 1);
    assert_false(value_string_overwrite(slot, "zz", 2)); /* the copy shares "xy" */
    assert_string_equal(value_str(value_map_get(&shared, "b")), "xy");
    value_free(shared);
    value held = value_ref(slot);
    assert_false(value_string_overwrite(slot, "zz", 2)); /* held elsewhere */
    value_free(held);
    assert_true(value_string_overwrite(slot, "zz", 2));
    assert_string_equal(value_str(value_map_get(&m, "b")), "zz");
    /* within its room (text and NUL in 8 bytes): longer or shorter, in place */
    assert_true(value_string_overwrite(slot, "zzzzzzz", 7));
    assert_int_equal(value_strlen(slot), 7);
    assert_true(value_string_overwrite(slot, "q", 1));
    assert_int_equal(value_strlen(slot), 1);
    assert_string_equal(value_str(slot), "q");
    value q = value_cstring("q");
    assert_true(value_equal(slot, &q)); /* and its hash is made again */
    assert_int_equal(value_string_hash(slot), value_string_hash(&q));
    value_free(q);
    assert_false(value_string_overwrite(slot, "zzzzzzzz", 8)); /* past its room */
    assert_string_equal(value_str(slot), "q");
    assert_true(value_string_overwrite(slot, "zz", 2));
    assert_string_equal(value_str(value_map_key_at(&m, 1)), "b");
    value_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_list_push_and_cow),
        cmocka_unit_test(test_map_basic),
        cmocka_unit_test(test_map_cow),
        cmocka_unit_test(test_map_large),
        cmocka_unit_test(test_map_index_boundary),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_equal_cel),
        cmocka_unit_test(test_map_typed_keys),
        cmocka_unit_test(test_map_index_same_hash),
        cmocka_unit_test(test_map_place),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_copy_deep),
        cmocka_unit_test(test_free_deep_nesting),
        cmocka_unit_test(test_refcount_shared_children),
        cmocka_unit_test(test_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
