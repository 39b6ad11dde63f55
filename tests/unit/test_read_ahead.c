/* test_read_ahead.c: the next page of events read on a thread of its own
 * (core/read_ahead.c) is always the page an in-place read gives, whether it is
 * taken from the thread or read again; and folding with it gives the same read
 * models as folding without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/read_ahead.h"
#include "test_projection_fixture.h"

/* Two pages are the same events (position, stream, type, data). */
static void same_page(const struct event_list *a, const struct event_list *b)
{
    assert_int_equal(a->len, b->len);
    for (size_t i = 0; i < a->len; i++) {
        assert_int_equal(a->items[i].position, b->items[i].position);
        assert_string_equal(a->items[i].stream, b->items[i].stream);
        assert_string_equal(a->items[i].type, b->items[i].type);
        assert_string_equal(a->items[i].data, b->items[i].data);
    }
}

/* The page store_read_page gives in place. */
static void in_place(struct store *s, int64_t after, int64_t to, size_t limit,
                     struct event_list *out)
{
    struct event_filter f;
    memset(&f, 0, sizeof f);
    f.to = to;
    err e = {0};
    event_list_clear(out);
    if (store_read_page(s, &f, after, false, limit, out, &e) != ST_OK)
        fail_msg("read: %s", e.msg);
}

/* Reading a log page after page: each page read ahead is taken, and equals the
 * page read in place; the last, short page is read in place. */
static void test_pages_equal_in_place(void **state)
{
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 7;
    deposits(s, 1050, 20, &seed, NULL);
    struct read_ahead *ra = read_ahead_open(s);
    assert_non_null(ra);
    struct event_list got, want;
    event_list_init(&got);
    event_list_init(&want);
    err e = {0};
    int64_t after = 0;
    size_t pages = 0;
    for (;;) {
        event_list_clear(&got);
        assert_int_equal(read_ahead_page(ra, s, after, 0, 100, true, &got, &e), ST_OK);
        in_place(s, after, 0, 100, &want);
        same_page(&got, &want);
        if (got.len == 0)
            break;
        after = got.items[got.len - 1].position;
        pages++;
    }
    assert_int_equal(pages, 11);
    /* pages 2..10 were full and read ahead; page 11 (50 events) was short */
    assert_int_equal(read_ahead_taken(ra), 9);
    read_ahead_close(ra);
    event_list_done(&got);
    event_list_done(&want);
    store_close(s);
    free(path);
}

/* A page read ahead is not taken when it may be stale (short: events appended
 * since) or is not the one asked for (another start, limit or end): those are
 * read in place, and are right. */
static void test_stale_or_other_pages_read_in_place(void **state)
{
    char *path = new_path();
    struct store *s = open_ok(path);
    unsigned seed = 11;
    deposits(s, 150, 5, &seed, NULL);
    struct read_ahead *ra = read_ahead_open(s);
    assert_non_null(ra);
    struct event_list got, want;
    event_list_init(&got);
    event_list_init(&want);
    err e = {0};
    assert_int_equal(read_ahead_page(ra, s, 0, 0, 100, true, &got, &e), ST_OK);
    assert_int_equal(got.len, 100);
    /* The thread reads 101..150 (short); 100 more are appended after. */
    read_ahead_wait(ra);
    deposits(s, 100, 5, &seed, NULL);
    event_list_clear(&got);
    assert_int_equal(read_ahead_page(ra, s, 100, 0, 100, true, &got, &e), ST_OK);
    in_place(s, 100, 0, 100, &want);
    same_page(&got, &want);
    assert_int_equal(got.len, 100);
    assert_int_equal(read_ahead_taken(ra), 0);
    /* The thread has 201..250 (short again); ask for another start, then for
     * another end. */
    read_ahead_wait(ra);
    event_list_clear(&got);
    assert_int_equal(read_ahead_page(ra, s, 150, 0, 100, true, &got, &e), ST_OK);
    in_place(s, 150, 0, 100, &want);
    same_page(&got, &want);
    event_list_clear(&got);
    assert_int_equal(read_ahead_page(ra, s, 250, 230, 100, true, &got, &e), ST_OK);
    assert_int_equal(got.len, 0);
    event_list_clear(&got);
    assert_int_equal(read_ahead_page(ra, s, 20, 60, 10, false, &got, &e), ST_OK);
    in_place(s, 20, 60, 10, &want);
    same_page(&got, &want);
    assert_int_equal(read_ahead_taken(ra), 0);
    read_ahead_close(ra);
    /* No reader: in place. */
    event_list_clear(&got);
    assert_int_equal(read_ahead_page(NULL, s, 20, 60, 10, true, &got, &e), ST_OK);
    same_page(&got, &want);
    event_list_done(&got);
    event_list_done(&want);
    store_close(s);
    free(path);
}

/* Only an SQLite file's main log is read ahead. */
static void test_only_sqlite_files(void **state)
{
    struct store *m = open_ok(":memory:");
    assert_null(read_ahead_open(m));
    store_close(m);
    read_ahead_close(NULL);
    assert_int_equal(read_ahead_taken(NULL), 0);
}

/* Catching up with every batch read ahead (and batches as small as they come)
 * gives the same read models, now and at every past position, as without. */
static void test_fold_with_read_ahead_equals_without(void **state)
{
    struct domain *d = load_domain(DOMAIN_V1);
    char *pa = new_path(), *pb = new_path();
    struct store *a = open_ok(pa), *b = open_ok(pb);
    unsigned sa = 99, sb = 99;
    for (int round = 0; round < 3; round++) {
        deposits(a, 700, 12, &sa, NULL);
        deposits(b, 700, 12, &sb, NULL);
        close_account(a, round, "done");
        close_account(b, round, "done");
        setenv("STRATA_PROJECTION_READ_AHEAD", "1", 1);
        catch_up_all(a, d);
        unsetenv("STRATA_PROJECTION_READ_AHEAD");
        catch_up_all(b, d);
    }
    int64_t head = 0;
    store_head(a, &head, NULL);
    const char *names[] = {"Balances", "Totals", "Ratio"};
    for (size_t n = 0; n < 3; n++)
        for (int64_t p = 0; p <= head; p += head / 7) {
            char *x = query_json(a, d, names[n], p), *y = query_json(b, d, names[n], p);
            assert_string_equal(x, y);
            free(x);
            free(y);
        }
    store_close(a);
    store_close(b);
    free(pa);
    free(pb);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_equal_in_place),
        cmocka_unit_test(test_stale_or_other_pages_read_in_place),
        cmocka_unit_test(test_only_sqlite_files),
        cmocka_unit_test(test_fold_with_read_ahead_equals_without),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
