/* test_event_list.c: event lists (core/event_list.c) and who owns their strings.
 * Events a backend reads keep their strings in the list's arena, reused from page
 * to page; appended events and copies own theirs one by one; a list may hold both
 * (a branch reads main's events, then its own). Clearing, dropping the tail and
 * freeing must free each kind the right way (the sanitizer build checks that
 * nothing leaks or is freed twice), and a store's read must give the same events
 * whatever its list held before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store.h"
#include "core/store_backend.h"
#include "core/util.h"

/* Adds an event whose strings are in l's arena; data is n bytes of 'a'+i%26. */
static void add_read(struct event_list *l, int64_t pos, size_t n, const char *meta)
{
    char *data = xmalloc(n + 8); /* more than len: the copy must stop at len */
    for (size_t i = 0; i < n + 8; i++)
        data[i] = (char)('a' + (pos + (int64_t)i) % 26);
    char stream[32];
    snprintf(stream, sizeof stream, "Account-%lld", (long long)pos);
    const char *text[5] = {stream, "Deposited", "2026-01-01T00:00:00.000Z", data, meta};
    size_t len[5] = {strlen(stream), 9, 24, n, meta ? strlen(meta) : 0};
    struct event *ev = event_list_add(l);
    ev->position = pos;
    ev->version = 1;
    ev->schema = 1;
    event_list_set_strings(l, ev, text, len);
    free(data);
}

static void check_read(const struct event *ev, int64_t pos, size_t n, const char *meta)
{
    char stream[32];
    snprintf(stream, sizeof stream, "Account-%lld", (long long)pos);
    assert_int_equal(ev->position, pos);
    assert_string_equal(ev->stream, stream);
    assert_string_equal(ev->type, "Deposited");
    assert_string_equal(ev->time, "2026-01-01T00:00:00.000Z");
    assert_int_equal(strlen(ev->data), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ev->data[i], (char)('a' + (pos + (int64_t)i) % 26));
    if (meta)
        assert_string_equal(ev->meta, meta);
    else
        assert_null(ev->meta);
}

static void add_copy(struct event_list *l, int64_t pos)
{
    struct event ev = {pos,         1,          1, "Own-1", "Withdrawn", "2026-01-02T00:00:00.000Z",
                       "{\"n\":1}", "{\"m\":2}"};
    event_list_push_copy(l, &ev);
}

/* Strings copied with their lengths, NULL meta kept NULL, empty ones allowed. */
static void test_strings_in_the_arena(void **state)
{
    (void)state;
    struct event_list l;
    event_list_init(&l);
    add_read(&l, 1, 5, NULL);
    add_read(&l, 2, 0, "{}");
    const char *text[5] = {"", "", "", "{}", NULL};
    size_t len[5] = {0, 0, 0, 2, 0};
    struct event *ev = event_list_add(&l);
    ev->position = 3;
    event_list_set_strings(&l, ev, text, len);
    check_read(&l.items[0], 1, 5, NULL);
    check_read(&l.items[1], 2, 0, "{}");
    assert_string_equal(l.items[2].stream, "");
    assert_string_equal(l.items[2].data, "{}");
    assert_null(l.items[2].meta);
    event_list_done(&l);
    assert_null(l.items);
    assert_null(l.arena);
    assert_int_equal(l.len, 0);
}

/* Pages of many events read into one list, cleared in between: larger than one
 * block at first, then one block holds a page; every page reads back right. */
static void test_pages_reuse_the_arena(void **state)
{
    (void)state;
    struct event_list l;
    event_list_init(&l);
    for (int page = 0; page < 4; page++) {
        event_list_clear(&l);
        size_t n = page == 2 ? 5000 : 3000; /* a larger page in between */
        for (size_t i = 0; i < n; i++)
            add_read(&l, (int64_t)i + 1, 50 + i % 200, i % 3 ? "{\"user\":\"x\"}" : NULL);
        assert_int_equal(l.len, n);
        for (size_t i = 0; i < n; i++)
            check_read(&l.items[i], (int64_t)i + 1, 50 + i % 200,
                       i % 3 ? "{\"user\":\"x\"}" : NULL);
    }
    event_list_done(&l);
}

/* Read events and owned copies in one list, in any order: clear frees the copies
 * only, and the list reads back right after. */
static void test_mixed_lists(void **state)
{
    (void)state;
    struct event_list l;
    event_list_init(&l);
    for (int round = 0; round < 3; round++) {
        add_copy(&l, 100);
        for (int i = 0; i < 2000; i++) {
            add_read(&l, i + 1, 80, NULL);
            if (i % 500 == 0)
                add_copy(&l, 200 + i);
        }
        add_copy(&l, 300);
        assert_string_equal(l.items[0].stream, "Own-1");
        check_read(&l.items[1], 1, 80, NULL);
        assert_string_equal(l.items[l.len - 1].meta, "{\"m\":2}");
        if (round < 2)
            event_list_clear(&l);
    }
    event_list_done(&l);
    /* A copy of a read event owns its strings: it outlives the list's page. */
    struct event_list a, b;
    event_list_init(&a);
    event_list_init(&b);
    add_read(&a, 7, 30, "{}");
    event_list_push_copy(&b, &a.items[0]);
    event_list_done(&a);
    check_read(&b.items[0], 7, 30, "{}");
    event_list_done(&b);
}

/* Dropping the tail (an append that failed) frees what was dropped, whatever its
 * kind, and the rest stays. */
static void test_drop_tail(void **state)
{
    (void)state;
    struct event_list l;
    event_list_init(&l);
    add_read(&l, 1, 10, NULL);
    add_copy(&l, 2);
    add_read(&l, 3, 10, NULL);
    add_copy(&l, 4);
    add_read(&l, 5, 10, "{}");
    event_list_drop(&l, 2);
    assert_int_equal(l.len, 2);
    check_read(&l.items[0], 1, 10, NULL);
    assert_string_equal(l.items[1].stream, "Own-1");
    event_list_drop(&l, 0);
    assert_int_equal(l.len, 0);
    add_read(&l, 6, 10, NULL);
    event_list_clear(&l);
    add_copy(&l, 7);
    event_list_done(&l);
}

static void same_event(const struct event *a, const struct event *b)
{
    assert_int_equal(a->position, b->position);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->schema, b->schema);
    assert_string_equal(a->stream, b->stream);
    assert_string_equal(a->type, b->type);
    assert_string_equal(a->time, b->time);
    assert_string_equal(a->data, b->data);
    if (a->meta)
        assert_string_equal(a->meta, b->meta);
    else
        assert_null(b->meta);
}

/* Reads the store (with type, when not NULL) whole into a list holding a copy
 * already, in pages of `page` into one list, and in one page of `limit`: the same
 * events every way. Long pages read stream ids and look their names up; short ones
 * join; a long page of mostly new streams gives up the names half-way. */
static void same_reads(struct store *s, const char *type, size_t page, size_t limit, size_t want)
{
    err e = {0};
    struct event_filter f = {0};
    f.type = type;
    struct event_list all, paged, one;
    event_list_init(&all);
    event_list_init(&paged);
    event_list_init(&one);
    add_copy(&all, 0);
    assert_int_equal(store_read_page(s, &f, 0, false, 0, &all, &e), ST_OK);
    assert_int_equal(all.len, want + 1);
    int64_t after = 0;
    size_t seen = 0;
    for (;;) {
        event_list_clear(&paged);
        assert_int_equal(store_read_page(s, &f, after, false, page, &paged, &e), ST_OK);
        if (paged.len == 0)
            break;
        for (size_t i = 0; i < paged.len; i++)
            same_event(&all.items[1 + seen + i], &paged.items[i]);
        seen += paged.len;
        after = paged.items[paged.len - 1].position;
    }
    assert_int_equal(seen, want);
    assert_int_equal(store_read_page(s, &f, 3, false, limit, &one, &e), ST_OK);
    size_t k = 1; /* the first event after position 3 */
    while (k < all.len && all.items[k].position <= 3)
        k++;
    size_t left = all.len - k;
    assert_int_equal(one.len, limit && limit < left ? limit : left);
    for (size_t i = 0; i < one.len; i++)
        same_event(&all.items[k + i], &one.items[i]);
    event_list_done(&all);
    event_list_done(&paged);
    event_list_done(&one);
}

static struct store *fresh_store(char *path, int nevents, int nstreams)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    err e = {0};
    struct store *s = store_open(path, NULL, &e);
    assert_non_null(s);
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < nevents; i++) {
        char stream[32], data[64];
        snprintf(stream, sizeof stream, "Account-%d", i % nstreams);
        snprintf(data, sizeof data, "{\"amount\":%d}", i);
        struct new_event n = {i % 5 ? "Deposited" : "Withdrawn", 1, NULL, data,
                              i % 2 ? "{\"user\":\"u\"}" : NULL};
        assert_int_equal(store_append(s, stream, STORE_ANY_VERSION, NULL, &n, 1, NULL, &e), ST_OK);
    }
    assert_int_equal(store_commit(s, &e), ST_OK);
    return s;
}

static void drop_store(struct store *s, const char *path)
{
    store_close(s);
    char side[64];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* A few streams: long pages find most names in their table. */
static void test_store_reads_few_streams(void **state)
{
    (void)state;
    char path[] = "/tmp/strata-test-event-list-XXXXXX";
    struct store *s = fresh_store(path, 9000, 7);
    same_reads(s, NULL, 17, 5000, 9000);
    same_reads(s, "Withdrawn", 300, 4096, 1800);
    struct event_list l;
    event_list_init(&l);
    err e = {0};
    assert_int_equal(store_read_page(s, NULL, 0, false, 0, &l, &e), ST_OK);
    assert_string_equal(l.items[8999].stream, "Account-4");
    assert_string_equal(l.items[8999].data, "{\"amount\":8999}");
    assert_string_equal(l.items[8999].meta, "{\"user\":\"u\"}");
    assert_null(l.items[8998].meta);
    event_list_done(&l);
    drop_store(s, path);
}

/* A stream per event: a long page gives its names up half-way and reads the rest
 * with the join, from where it was, up to the page's limit. */
static void test_store_reads_new_streams(void **state)
{
    (void)state;
    char path[] = "/tmp/strata-test-event-list-XXXXXX";
    struct store *s = fresh_store(path, 9000, 9000);
    same_reads(s, NULL, 100, 6000, 9000);
    same_reads(s, NULL, 5000, 8997, 9000);
    same_reads(s, "Deposited", 4096, 0, 7200);
    drop_store(s, path);
}

/* An event whose streams row is gone (a damaged file): the join reads past it, and
 * so does a read by id. */
static void test_store_reads_without_a_stream_row(void **state)
{
    (void)state;
    char path[] = "/tmp/strata-test-event-list-XXXXXX";
    struct store *s = fresh_store(path, 6000, 7);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "DELETE FROM streams WHERE name = 'Account-3'", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    size_t want = 6000 - 6000 / 7; /* Account-3 had one event in 7 */
    same_reads(s, NULL, 100, 5000, want);
    struct event_list l;
    event_list_init(&l);
    err e = {0};
    assert_int_equal(store_read_page(s, NULL, 0, false, 0, &l, &e), ST_OK);
    assert_int_equal(l.len, want);
    for (size_t i = 0; i < l.len; i++)
        assert_string_not_equal(l.items[i].stream, "Account-3");
    event_list_done(&l);
    drop_store(s, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_in_the_arena),
        cmocka_unit_test(test_pages_reuse_the_arena),
        cmocka_unit_test(test_mixed_lists),
        cmocka_unit_test(test_drop_tail),
        cmocka_unit_test(test_store_reads_few_streams),
        cmocka_unit_test(test_store_reads_new_streams),
        cmocka_unit_test(test_store_reads_without_a_stream_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
