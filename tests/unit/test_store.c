/* test_store.c: unit tests for the event store (core/store.h), on both backends.
 *
 * Every operation of the table of operations and the guarantees store.h promises
 * (atomic appends, conflicts that append nothing, command-id repeats, gap-free
 * positions, paged reads, two writers), run once against SQLite and, when
 * STRATA_TEST_PG_URI names a PostgreSQL server, once more against PostgreSQL, each
 * test on a store of its own (store_backends.h). What only one backend has (its
 * files, its schema, its errors) is in test_store_sqlite.c and test_store_pg.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/store.h"
#include "store_backends.h"

static int64_t count_streams(struct store *s)
{
    int64_t n = -1;
    err e = {0};
    assert_int_equal(store_count_streams(s, &n, &e), ST_OK);
    return n;
}

static void read_all(struct store *s, struct event_list *out)
{
    err e = {0};
    assert_int_equal(store_read_page(s, NULL, 0, false, 0, out, &e), ST_OK);
}

/* ---- append and read back ---- */

static void test_append_read_back(void **state)
{
    struct store *s = open_fresh();
    struct new_event evs[3] = {
        {"Opened", 1, "2026-11-27T10:00:00.123Z", "{\"owner\":\"Ann\"}", "{\"commandId\":\"x\"}"},
        {"Deposited", 2, "2026-11-27T10:00:01Z", "{\"amount\":50}", NULL},
        {"Withdrawn", 1, NULL, "{\"amount\":20}", NULL},
    };
    struct event_list out;
    event_list_init(&out);
    err e = {0};
    assert_int_equal(store_append(s, "Account-A", STORE_NO_STREAM, NULL, evs, 3, &out, &e), ST_OK);
    assert_int_equal(out.len, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(out.items[i].position, i + 1);
        assert_int_equal(out.items[i].version, i + 1);
        assert_string_equal(out.items[i].stream, "Account-A");
    }
    assert_string_equal(out.items[1].time, "2026-11-27T10:00:01.000Z"); /* normalised */
    event_list_done(&out);

    event_list_init(&out);
    read_all(s, &out);
    assert_int_equal(out.len, 3);
    assert_string_equal(out.items[0].type, "Opened");
    assert_int_equal(out.items[0].schema, 1);
    assert_int_equal(out.items[1].schema, 2);
    assert_string_equal(out.items[0].time, "2026-11-27T10:00:00.123Z");
    assert_string_equal(out.items[0].data, "{\"owner\":\"Ann\"}");
    assert_string_equal(out.items[0].meta, "{\"commandId\":\"x\"}");
    assert_null(out.items[1].meta);
    assert_int_equal(strlen(out.items[2].time), TIME_TEXT_LEN);
    assert_int_equal(out.items[2].time[TIME_TEXT_LEN - 1], 'Z');
    event_list_done(&out);

    assert_int_equal(head_of(s), 3);
    assert_int_equal(version_of(s, "Account-A", 0), 3);
    assert_int_equal(version_of(s, "Nobody", 0), 0);
    assert_int_equal(count_streams(s), 1);
    store_close(s);
}

static void test_expected_versions(void **state)
{
    struct store *s = open_fresh();
    struct new_event n = ev("Deposited", "{\"amount\":1}");
    err e = {0};
    struct event_list out;
    event_list_init(&out);

    /* A stream that does not exist is at version 0. */
    assert_int_equal(store_append(s, "Account-A", 5, NULL, &n, 1, NULL, &e), ST_CONFLICT);
    assert_string_equal(e.msg, "stream Account-A is at version 0, expected 5");
    assert_int_equal(head_of(s), 0);
    assert_int_equal(count_streams(s), 0);

    assert_int_equal(store_append(s, "Account-A", STORE_NO_STREAM, NULL, &n, 1, NULL, &e), ST_OK);
    assert_int_equal(store_append(s, "Account-A", STORE_ANY_VERSION, NULL, &n, 1, NULL, &e), ST_OK);
    assert_int_equal(store_append(s, "Account-A", 2, NULL, &n, 1, NULL, &e), ST_OK);

    /* Wrong expected versions: conflict, nothing appended. */
    assert_int_equal(store_append(s, "Account-A", 2, NULL, &n, 1, &out, &e), ST_CONFLICT);
    assert_string_equal(e.msg, "stream Account-A is at version 3, expected 2");
    assert_int_equal(out.len, 0);
    assert_int_equal(store_append(s, "Account-A", STORE_NO_STREAM, NULL, &n, 1, &out, &e),
                     ST_CONFLICT);
    assert_string_equal(e.msg, "stream Account-A is at version 3, expected a new stream");
    assert_int_equal(store_append(s, "Account-A", 4, NULL, &n, 1, &out, &e), ST_CONFLICT);
    assert_int_equal(out.len, 0);
    assert_int_equal(head_of(s), 3);
    assert_int_equal(version_of(s, "Account-A", 0), 3);

    /* Bad arguments are usage errors that append nothing. */
    assert_int_equal(store_append(s, "Account-A", -2, NULL, &n, 1, NULL, &e), ST_USAGE);
    assert_int_equal(store_append(s, "", STORE_ANY_VERSION, NULL, &n, 1, NULL, &e), ST_USAGE);
    assert_int_equal(store_append(s, "Account-A", STORE_ANY_VERSION, NULL, &n, 0, NULL, &e),
                     ST_USAGE);
    struct new_event bad_time = {"T", 1, "yesterday", "{}", NULL};
    assert_int_equal(store_append(s, "Account-A", STORE_ANY_VERSION, NULL, &bad_time, 1, NULL, &e),
                     ST_USAGE);
    assert_non_null(strstr(e.msg, "bad time 'yesterday'"));

    /* The right version appends. */
    assert_int_equal(store_append(s, "Account-A", 3, NULL, &n, 1, &out, &e), ST_OK);
    assert_int_equal(out.items[0].version, 4);
    assert_int_equal(out.items[0].position, 4);
    event_list_done(&out);
    store_close(s);
}

static void test_invalid_batch(void **state)
{
    struct store *s = open_fresh();
    append1(s, "Account-A", "Opened", "{}", NULL);
    append1(s, "Account-B", "Opened", "{}", NULL);
    /* An invalid event in the middle of a batch: nothing of the batch is kept. */
    struct new_event batch[40];
    for (int i = 0; i < 40; i++)
        batch[i] = ev("Deposited", "{\"x\":1}");
    batch[20].type = NULL;
    err e = {0};
    assert_int_equal(store_append(s, "Account-A", STORE_ANY_VERSION, NULL, batch, 40, NULL, &e),
                     ST_USAGE);
    assert_string_equal(e.msg, "event 21 of the append to Account-A has no type");
    assert_int_equal(head_of(s), 2);
    batch[20].type = "Deposited";
    assert_int_equal(store_append(s, "Account-A", 1, NULL, batch, 40, NULL, &e), ST_OK);
    assert_int_equal(head_of(s), 42);
    store_close(s);
}

static void test_command_id_repeat(void **state)
{
    struct store *s = open_fresh();
    struct new_event first[2] = {ev("Opened", "{\"n\":1}"), ev("Deposited", "{\"n\":2}")};
    struct new_event again[1] = {ev("Other", "{\"n\":3}")};
    struct event_list out;
    event_list_init(&out);
    err e = {0};
    append1(s, "Account-Z", "Noise", "{}", NULL);
    assert_int_equal(store_append(s, "Account-A", STORE_NO_STREAM, "c-1", first, 2, NULL, &e),
                     ST_OK);
    /* Repeated with other events and a now-wrong expected version: still a repeat. */
    assert_int_equal(store_append(s, "Account-A", STORE_NO_STREAM, "c-1", again, 1, &out, &e),
                     ST_DUPLICATE);
    assert_string_equal(e.msg, "command c-1 was already processed (it appended positions 2..3)");
    assert_int_equal(out.len, 2);
    assert_int_equal(out.items[0].position, 2);
    assert_string_equal(out.items[0].type, "Opened");
    assert_string_equal(out.items[1].data, "{\"n\":2}");
    assert_string_equal(out.items[1].stream, "Account-A");
    assert_int_equal(head_of(s), 3);
    assert_int_equal(version_of(s, "Account-A", 0), 2);
    event_list_clear(&out);

    assert_int_equal(store_command_events(s, "c-1", &out, &e), ST_OK);
    assert_int_equal(out.len, 2);
    assert_int_equal(out.items[1].position, 3);
    event_list_clear(&out);
    assert_int_equal(store_command_events(s, "c-2", &out, &e), ST_NOT_FOUND);
    assert_int_equal(out.len, 0);

    /* A conflicting append does not record its command id. */
    assert_int_equal(store_append(s, "Account-A", 7, "c-3", again, 1, NULL, &e), ST_CONFLICT);
    assert_int_equal(store_append(s, "Account-A", 2, "c-3", again, 1, NULL, &e), ST_OK);
    assert_int_equal(store_command_events(s, "c-3", &out, &e), ST_OK);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.items[0].position, 4);
    event_list_done(&out);
    store_close(s);
}

/* ---- paging ---- */

static bool matches(const struct event *ev, const struct event_filter *f)
{
    if (f->from && ev->position < f->from)
        return false;
    if (f->to && ev->position > f->to)
        return false;
    if (f->stream && strcmp(ev->stream, f->stream) != 0)
        return false;
    if (f->type && strcmp(ev->type, f->type) != 0)
        return false;
    if (f->text && !strcasestr(ev->stream, f->text) && !strcasestr(ev->type, f->text) &&
        !strcasestr(ev->data, f->text) && !(ev->meta && strcasestr(ev->meta, f->text)))
        return false;
    return true;
}

/* Pages through f in both directions with several page sizes and compares with a
 * brute-force filter over all events. */
static void check_paging(struct store *s, const struct event_list *all,
                         const struct event_filter *f)
{
    size_t want = 0;
    for (size_t i = 0; i < all->len; i++)
        want += matches(&all->items[i], f);
    static const size_t sizes[] = {1, 3, 7, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        for (int backward = 0; backward <= 1; backward++) {
            size_t got = 0;
            int64_t after = 0;
            size_t idx = backward ? all->len : 0; /* next index in all to compare */
            for (;;) {
                struct event_list page;
                event_list_init(&page);
                err e = {0};
                assert_int_equal(store_read_page(s, f, after, backward, sizes[k], &page, &e),
                                 ST_OK);
                assert_true(page.len <= sizes[k]);
                for (size_t i = 0; i < page.len; i++) {
                    const struct event *x = &page.items[i];
                    /* The next matching event of `all` in this direction. */
                    const struct event *y = NULL;
                    while (!y) {
                        assert_true(backward ? idx > 0 : idx < all->len);
                        const struct event *c = &all->items[backward ? --idx : idx++];
                        if (matches(c, f))
                            y = c;
                    }
                    assert_int_equal(x->position, y->position);
                    assert_string_equal(x->data, y->data);
                    assert_string_equal(x->stream, y->stream);
                    got++;
                }
                size_t len = page.len;
                if (len)
                    after = page.items[len - 1].position;
                event_list_done(&page);
                if (len < sizes[k])
                    break;
            }
            assert_int_equal(got, want);
        }
    }
}

static void test_paging_filters(void **state)
{
    struct store *s = open_fresh();
    static const char *const streams[] = {"Account-A", "Account-B", "Order-1"};
    static const char *const types[] = {"Deposited", "Withdrawn", "Noted"};
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < 200; i++) {
        char data[100];
        snprintf(data, sizeof data, "{\"i\":%d,\"note\":\"%s\"}", i,
                 i % 17 == 0   ? "50% off"
                 : i % 13 == 0 ? "a_b"
                 : i % 11 == 0 ? "PerCent"
                               : "x");
        struct new_event n = {types[(i * 7) % 3], 1, NULL, data,
                              i % 5 == 0 ? "{\"m\":\"zz\"}" : NULL};
        assert_int_equal(
            store_append(s, streams[(i * i) % 3], STORE_ANY_VERSION, NULL, &n, 1, NULL, &e), ST_OK);
    }
    assert_int_equal(store_commit(s, &e), ST_OK);
    struct event_list all;
    event_list_init(&all);
    read_all(s, &all);
    assert_int_equal(all.len, 200);

    struct event_filter filters[] = {
        {0},
        {.from = 50},
        {.to = 120},
        {.from = 33, .to = 77},
        {.stream = "Account-A"},
        {.stream = "Account-B", .from = 10, .to = 150},
        {.stream = "Order-1", .from = 199},
        {.stream = "Nobody"},
        {.type = "Withdrawn"},
        {.type = "Noted", .from = 20, .to = 180},
        {.stream = "Account-A", .type = "Deposited"},
        {.text = "50%"}, /* the % is literal, not a wildcard */
        {.text = "0%"},
        {.text = "a_b"},     /* the _ is literal */
        {.text = "percent"}, /* LIKE is case-insensitive for ASCII */
        {.text = "zz"},      /* in meta */
        {.text = "Order"},   /* in stream */
        {.text = "draw"},    /* in type */
        {.text = "x", .stream = "Account-B", .type = "Noted", .from = 5, .to = 190},
        {.from = 300},
        {.from = 80, .to = 40},
    };
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        check_paging(s, &all, &filters[i]);

    /* The % and _ really are taken literally: exact counts. */
    struct event_list page;
    event_list_init(&page);
    struct event_filter pct = {.text = "50%"};
    assert_int_equal(store_read_page(s, &pct, 0, false, 0, &page, &e), ST_OK);
    assert_int_equal(page.len, 12); /* i = 0, 17, ..., 187 */
    event_list_clear(&page);
    /* Backward from the head, a page of 5: the last five. */
    assert_int_equal(store_read_page(s, NULL, 0, true, 5, &page, &e), ST_OK);
    assert_int_equal(page.len, 5);
    assert_int_equal(page.items[0].position, 200);
    assert_int_equal(page.items[4].position, 196);
    event_list_done(&page);
    event_list_done(&all);
    store_close(s);
}

static void test_iterator(void **state)
{
    char *path = fresh_path("iter.db");
    struct store *s = open_ok(path);
    err e = {0};
    assert_int_equal(store_begin(s, &e), ST_OK);
    for (int i = 0; i < 1000; i++) {
        char stream[32], data[10][32];
        struct new_event batch[10];
        snprintf(stream, sizeof stream, "S-%d", i % 100);
        for (int j = 0; j < 10; j++) {
            snprintf(data[j], sizeof data[j], "{\"i\":%d}", i * 10 + j);
            batch[j] = ev("Tick", data[j]);
        }
        assert_int_equal(store_append(s, stream, STORE_ANY_VERSION, NULL, batch, 10, NULL, &e),
                         ST_OK);
    }
    assert_int_equal(store_commit(s, &e), ST_OK);

    struct event_iter *it = store_iter_open(s, NULL, 100);
    const struct event *x;
    int64_t n = 0;
    int r;
    while ((r = store_iter_next(it, &x, &e)) == 1) {
        n++;
        assert_int_equal(x->position, n);
        char want[32];
        snprintf(want, sizeof want, "{\"i\":%lld}", (long long)n - 1);
        assert_string_equal(x->data, want);
    }
    assert_int_equal(r, 0);
    assert_int_equal(n, 10000);
    assert_int_equal(store_iter_next(it, &x, &e), 0); /* stays at the end */
    store_iter_close(it);

    /* With a filter, and a page size that divides the count exactly. */
    struct event_filter f = {.stream = "S-7"};
    it = store_iter_open(s, &f, 10);
    n = 0;
    int64_t last = 0;
    while ((r = store_iter_next(it, &x, &e)) == 1) {
        assert_string_equal(x->stream, "S-7");
        assert_true(x->position > last);
        last = x->position;
        assert_int_equal(x->version, ++n);
    }
    assert_int_equal(r, 0);
    assert_int_equal(n, 100);
    store_iter_close(it);

    /* Events appended while iterating are seen when the iterator gets there. */
    it = store_iter_open(s, NULL, 100);
    n = 0;
    while ((r = store_iter_next(it, &x, &e)) == 1)
        if (++n == 9950)
            append1(s, "S-late", "Tick", "{}", NULL);
    assert_int_equal(n, 10001);
    store_iter_close(it);
    store_close(s);
    free(path);
}

/* ---- reopen, exact text ---- */

static void test_reopen_keeps_everything(void **state)
{
    char *path = fresh_path("reopen.db");
    const char *exact = "{\"big\":9007199254740993,\"min\":-9223372036854775808,"
                        "\"max\":9223372036854775807,\"f\":1.50e0,\"s\":\"\\u00e9 \xc3\xa9\","
                        "\"nested\":{ \"a\" : [1 ,2] }}";
    struct store *s = open_ok(path);
    struct new_event n = {"Exact", 3, "2026-01-02T03:04:05.678Z", exact, "{\"commandId\":\"k\"}"};
    err e = {0};
    assert_int_equal(store_append(s, "Num-1", STORE_NO_STREAM, "k", &n, 1, NULL, &e), ST_OK);
    append1(s, "Num-2", "Other", "{\"n\":-0}", NULL);
    struct snapshot snap = {1, 1, "{\"state\":9007199254740993}"};
    assert_int_equal(store_snapshot_put(s, "Num-1", "h", &snap, &e), ST_OK);
    store_close(s);

    s = open_ok(path);
    struct event_list all;
    event_list_init(&all);
    read_all(s, &all);
    assert_int_equal(all.len, 2);
    assert_string_equal(all.items[0].data, exact);
    assert_string_equal(all.items[0].meta, "{\"commandId\":\"k\"}");
    assert_string_equal(all.items[0].time, "2026-01-02T03:04:05.678Z");
    assert_int_equal(all.items[0].schema, 3);
    assert_string_equal(all.items[1].data, "{\"n\":-0}");
    event_list_clear(&all);
    assert_int_equal(store_append(s, "Num-1", 1, "k", &n, 1, &all, &e), ST_DUPLICATE);
    assert_int_equal(all.len, 1);
    assert_string_equal(all.items[0].data, exact);
    event_list_done(&all);
    struct snapshot got;
    assert_int_equal(store_snapshot_get(s, "Num-1", "h", 0, &got, &e), ST_OK);
    assert_string_equal(got.state, "{\"state\":9007199254740993}");
    snapshot_done(&got);
    assert_int_equal(count_streams(s), 2);
    assert_int_equal(head_of(s), 2);
    assert_int_equal(append1(s, "Num-1", "More", "{}", NULL), 3);
    store_close(s);
    free(path);
}

static void check_read_only(struct store *s)
{
    char want[600];
    snprintf(want, sizeof want, "the store is read-only: %s", s->path);
    err e = {0};
    struct new_event n = ev("T", "{}");
    assert_int_equal(store_append(s, "Account-A", STORE_ANY_VERSION, NULL, &n, 1, NULL, &e),
                     ST_ERR);
    assert_string_equal(e.msg, want);
    err_clear(&e);
    assert_int_equal(store_begin(s, &e), ST_ERR);
    assert_string_equal(e.msg, want);
    struct snapshot snap = {1, 1, "{}"};
    assert_int_equal(store_snapshot_put(s, "Account-A", "h", &snap, &e), ST_ERR);
    assert_string_equal(e.msg, want);
    /* Reads work. */
    assert_int_equal(head_of(s), 1);
    struct event_list all;
    event_list_init(&all);
    read_all(s, &all);
    assert_int_equal(all.len, 1);
    event_list_done(&all);
}

static void test_read_only(void **state)
{
    char *path = fresh_path("ro.db");
    struct store *s = open_ok(path);
    append1(s, "Account-A", "Opened", "{}", NULL);
    store_close(s);

    struct store_options ro = STORE_OPTIONS_DEFAULT;
    ro.read_only = true;
    err e = {0};
    s = store_open(path, &ro, &e);
    assert_non_null(s);
    check_read_only(s);
    store_close(s);

    /* A file the user may not write opens read-only by itself (root may write
     * anything, so this part only runs for other users). */
    if (geteuid() != 0 && !pg_mode) {
        assert_int_equal(chmod(path, 0444), 0);
        s = open_ok(path);
        check_read_only(s);
        store_close(s);
        chmod(path, 0644);
    }
    free(path);
}

/* ---- two handles on one file ---- */

struct holder {
    const char *path;
    int hold_ms;
    int64_t expected; /* the version the holder's append expects */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool locked;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Holds the write lock (an open transaction with one append) for hold_ms. */
static void *hold_lock(void *arg)
{
    struct holder *h = arg;
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    err e = {0};
    struct store *s = store_open(h->path, &opt, &e);
    bool ok = s && store_begin(s, &e) == ST_OK;
    struct new_event n = ev("Held", "{}");
    ok = ok && store_append(s, "Account-A", h->expected, NULL, &n, 1, NULL, &e) == ST_OK;
    pthread_mutex_lock(&h->mu);
    h->locked = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    sleep_ms(h->hold_ms);
    ok = ok && store_commit(s, &e) == ST_OK;
    store_close(s);
    return ok ? NULL : (void *)1;
}

static void start_holder(struct holder *h, pthread_t *t)
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->locked = false;
    assert_int_equal(pthread_create(t, NULL, hold_lock, h), 0);
    pthread_mutex_lock(&h->mu);
    while (!h->locked)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void finish_holder(struct holder *h, pthread_t t)
{
    void *res;
    pthread_join(t, &res);
    assert_null(res);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

static void test_two_writers_wait(void **state)
{
    char *path = fresh_path("two.db");
    struct store *s = open_ok(path);
    append1(s, "Account-A", "Opened", "{}", NULL);

    /* The second writer waits for the first (holding the lock 200 ms), then
     * appends after its event. */
    struct holder h = {.path = path, .hold_ms = 200, .expected = 1};
    pthread_t t;
    start_holder(&h, &t);
    double t0 = now_s();
    struct new_event n = ev("After", "{}");
    err e = {0};
    assert_int_equal(store_append(s, "Account-A", 2, NULL, &n, 1, NULL, &e), ST_OK);
    double waited = now_s() - t0;
    finish_holder(&h, t);
    assert_true(waited > 0.1);
    assert_int_equal(version_of(s, "Account-A", 0), 3);

    /* Both expecting version 3: the holder wins, the one that waited conflicts. */
    h.expected = 3;
    start_holder(&h, &t);
    assert_int_equal(store_append(s, "Account-A", 3, NULL, &n, 1, NULL, &e), ST_CONFLICT);
    assert_string_equal(e.msg, "stream Account-A is at version 4, expected 3");
    finish_holder(&h, t);
    assert_int_equal(version_of(s, "Account-A", 0), 4);
    store_close(s);

    /* A short busy timeout turns a held lock into a plain error. */
    struct store_options quick = STORE_OPTIONS_DEFAULT;
    quick.busy_timeout_ms = 50;
    s = store_open(path, &quick, &e);
    assert_non_null(s);
    struct store *other = open_ok(path);
    assert_int_equal(store_begin(other, &e), ST_OK);
    assert_int_equal(store_append(s, "Account-A", STORE_ANY_VERSION, NULL, &n, 1, NULL, &e),
                     ST_ERR);
    assert_string_equal(e.msg, "the store is locked by another process (waited 0.05 s)");
    assert_int_equal(store_begin(s, &e), ST_ERR);
    assert_string_equal(e.msg, "the store is locked by another process (waited 0.05 s)");
    /* Reads go on while another process writes. */
    assert_int_equal(head_of(s), 4);
    store_rollback(other);
    store_close(other);
    assert_int_equal(store_append(s, "Account-A", 4, NULL, &n, 1, NULL, &e), ST_OK);
    store_close(s);
    free(path);
}

/* ---- waiting for the head ---- */

struct late_writer {
    const char *path;
    int delay_ms;
};

static void *append_later(void *arg)
{
    struct late_writer *w = arg;
    sleep_ms(w->delay_ms);
    struct store *s = open_ok(w->path);
    append1(s, "Account-W", "Late", "{}", NULL);
    store_close(s);
    return NULL;
}

static void test_wait_head(void **state)
{
    char *path = fresh_path("wait.db");
    struct store *s = open_ok(path);
    err e = {0};
    int64_t head = -1;
    /* Nothing comes: the wait takes its time and says where the head is. */
    double t0 = now_s();
    assert_int_equal(store_wait_head(s, 0, 150, &head, &e), ST_OK);
    assert_int_equal(head, 0);
    assert_true(now_s() - t0 >= 0.14);
    /* A look (no time) at a head already past: at once. */
    append1(s, "Account-A", "Opened", "{}", NULL);
    assert_int_equal(store_wait_head(s, 0, 0, &head, &e), ST_OK);
    assert_int_equal(head, 1);
    /* Another handle appends 200 ms from now: the wait ends soon after, far
     * before its 5 s. */
    struct late_writer w = {path, 200};
    pthread_t t;
    t0 = now_s();
    assert_int_equal(pthread_create(&t, NULL, append_later, &w), 0);
    assert_int_equal(store_wait_head(s, 1, 5000, &head, &e), ST_OK);
    double waited = now_s() - t0;
    pthread_join(t, NULL);
    assert_int_equal(head, 2);
    assert_true(waited >= 0.15);
    if (waited > 1.0)
        fail_msg("the wait heard of the append after %.2f s", waited);
    store_close(s);
    free(path);
}

/* ---- snapshots ---- */

static void test_snapshots(void **state)
{
    struct store *s = open_fresh();
    for (int i = 0; i < 10; i++)
        append1(s, i % 2 ? "Account-B" : "Account-A", "Tick", "{}", NULL);
    err e = {0};
    struct snapshot a2 = {2, 3, "{\"v\":2}"}, a4 = {4, 7, "{\"v\":4}"}, h2 = {3, 5, "{\"h\":2}"};
    assert_int_equal(store_snapshot_put(s, "Account-A", "h1", &a2, &e), ST_OK);
    assert_int_equal(store_snapshot_put(s, "Account-A", "h1", &a4, &e), ST_OK);
    assert_int_equal(store_snapshot_put(s, "Account-A", "h2", &h2, &e), ST_OK);

    struct snapshot got;
    assert_int_equal(store_snapshot_get(s, "Account-A", "h1", 0, &got, &e), ST_OK);
    assert_int_equal(got.version, 4);
    assert_int_equal(got.position, 7);
    assert_string_equal(got.state, "{\"v\":4}");
    snapshot_done(&got);
    assert_int_equal(store_snapshot_get(s, "Account-A", "h1", 6, &got, &e), ST_OK);
    assert_int_equal(got.version, 2);
    snapshot_done(&got);
    assert_int_equal(store_snapshot_get(s, "Account-A", "h1", 7, &got, &e), ST_OK);
    assert_int_equal(got.version, 4);
    snapshot_done(&got);
    assert_int_equal(store_snapshot_get(s, "Account-A", "h1", 2, &got, &e), ST_NOT_FOUND);
    assert_null(got.state);
    assert_int_equal(store_snapshot_get(s, "Account-A", "h2", 0, &got, &e), ST_OK);
    assert_string_equal(got.state, "{\"h\":2}");
    snapshot_done(&got);
    /* Another hash (changed rules) never serves an old snapshot. */
    assert_int_equal(store_snapshot_get(s, "Account-A", "h3", 0, &got, &e), ST_NOT_FOUND);
    assert_int_equal(store_snapshot_get(s, "Account-B", "h1", 0, &got, &e), ST_NOT_FOUND);
    assert_int_equal(store_snapshot_get(s, "Nobody", "h1", 0, &got, &e), ST_NOT_FOUND);
    assert_int_equal(store_snapshot_put(s, "Nobody", "h1", &a2, &e), ST_NOT_FOUND);

    /* The same key again replaces the state. */
    struct snapshot a4b = {4, 7, "{\"v\":\"again\"}"};
    assert_int_equal(store_snapshot_put(s, "Account-A", "h1", &a4b, &e), ST_OK);
    assert_int_equal(store_snapshot_get(s, "Account-A", "h1", 0, &got, &e), ST_OK);
    assert_string_equal(got.state, "{\"v\":\"again\"}");
    snapshot_done(&got);
    snapshot_done(NULL);
    store_close(s);
}

/* ---- time ---- */

static void test_position_at_time(void **state)
{
    struct store *s = open_fresh();
    int64_t pos = -1;
    err e = {0};
    assert_int_equal(store_position_at_time(s, "2030-01-01T00:00:00Z", &pos, &e), ST_OK);
    assert_int_equal(pos, 0); /* empty store */
    append1(s, "A", "T", "{}", "2026-11-27T10:00:00.000Z");
    append1(s, "A", "T", "{}", "2026-11-27T10:00:05.000Z");
    append1(s, "B", "T", "{}", "2026-11-27T10:00:05.000Z");
    append1(s, "B", "T", "{}", "2026-11-27T11:00:00+01:00"); /* 10:00:00Z, imported late */
    append1(s, "A", "T", "{}", "2026-11-27T10:01:00.000Z");

    struct {
        const char *at;
        int64_t want;
    } cases[] = {
        {"2026-11-27T09:59:59.999Z", 0},
        {"2026-11-27T10:00:00.000Z", 4}, /* ties: the later position */
        {"2026-11-27T10:00:04Z", 4},
        {"2026-11-27T10:00:05Z", 3},
        {"2026-11-27T11:00:30+01:00", 3},
        {"2026-11-27 10:02", 5},
        {"2026-11-28", 5},
        {"2026-11-27", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(store_position_at_time(s, cases[i].at, &pos, &e), ST_OK);
        if (pos != cases[i].want)
            fail_msg("position_at_time(%s) = %lld, want %lld", cases[i].at, (long long)pos,
                     (long long)cases[i].want);
    }
    assert_int_equal(store_position_at_time(s, "soon", &pos, &e), ST_USAGE);
    assert_non_null(strstr(e.msg, "bad time 'soon'"));
    store_close(s);
}

/* ---- streams ---- */

static void test_streams(void **state)
{
    struct store *s = open_fresh();
    /* PostgreSQL keeps text as UTF-8 only: there the last two are "Bÿÿ" and "Bÿ". */
    const char *names[] = {"Account-B", "Account-A", "Order-1",   "Account-C",
                           "Acc",       "Order-2",   "B\xff\xff", "B\xff"};
    if (pg_mode) {
        names[6] = "B\xc3\xbf\xc3\xbf";
        names[7] = "B\xc3\xbf";
    }
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (round == 0 || i % 2 == 0)
                append1(s, names[i], "T", "{}", NULL);
    assert_int_equal(count_streams(s), 8);

    struct stream_info *si;
    size_t n;
    err e = {0};
    assert_int_equal(store_list_streams(s, NULL, 0, 0, &si, &n, &e), ST_OK);
    assert_int_equal(n, 8);
    assert_string_equal(si[0].name, "Acc");
    assert_string_equal(si[1].name, "Account-A");
    assert_string_equal(si[7].name, "Order-2");
    assert_int_equal(si[1].version, 1);
    assert_int_equal(si[2].version, 3); /* Account-B */
    assert_int_equal(si[2].last_position, 13);
    stream_info_free(si, n);

    assert_int_equal(store_list_streams(s, "Account-", 0, 0, &si, &n, &e), ST_OK);
    assert_int_equal(n, 3);
    assert_string_equal(si[0].name, "Account-A");
    assert_string_equal(si[2].name, "Account-C");
    stream_info_free(si, n);
    assert_int_equal(store_list_streams(s, "Account-", 1, 1, &si, &n, &e), ST_OK);
    assert_int_equal(n, 1);
    assert_string_equal(si[0].name, "Account-B");
    stream_info_free(si, n);
    assert_int_equal(store_list_streams(s, "Account-", 3, 10, &si, &n, &e), ST_OK);
    assert_int_equal(n, 0);
    stream_info_free(si, n);
    assert_int_equal(store_list_streams(s, names[7], 0, 0, &si, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    stream_info_free(si, n);
    assert_int_equal(store_list_streams(s, "Zed", 0, 0, &si, &n, &e), ST_OK);
    assert_int_equal(n, 0);
    stream_info_free(si, n);
    store_close(s);
}

static void test_stream_reads(void **state)
{
    struct store *s = open_fresh();
    /* A at positions 1, 3, 5, ..., 39 (versions 1..20); B at the even ones. */
    for (int i = 0; i < 40; i++) {
        char data[32];
        snprintf(data, sizeof data, "{\"i\":%d}", i);
        append1(s, i % 2 ? "B" : "A", "T", data, NULL);
    }
    assert_int_equal(version_of(s, "A", 0), 20);
    assert_int_equal(version_of(s, "A", 1), 1);
    assert_int_equal(version_of(s, "A", 2), 1);
    assert_int_equal(version_of(s, "A", 20), 10);
    assert_int_equal(version_of(s, "A", 39), 20);
    assert_int_equal(version_of(s, "A", 1000), 20);
    assert_int_equal(version_of(s, "B", 1), 0);
    assert_int_equal(version_of(s, "B", 2), 1);
    assert_int_equal(version_of(s, "B", 39), 19);
    for (int64_t p = 1; p <= 40; p++)
        assert_int_equal(version_of(s, "A", p), (p + 1) / 2);

    struct event_list out;
    event_list_init(&out);
    err e = {0};
    assert_int_equal(store_read_stream(s, "A", 1, 0, 0, &out, &e), ST_OK);
    assert_int_equal(out.len, 20);
    for (size_t i = 0; i < out.len; i++) {
        assert_int_equal(out.items[i].version, i + 1);
        assert_int_equal(out.items[i].position, 2 * i + 1);
    }
    event_list_clear(&out);
    assert_int_equal(store_read_stream(s, "A", 5, 20, 0, &out, &e), ST_OK);
    assert_int_equal(out.len, 6); /* versions 5..10 */
    assert_int_equal(out.items[0].version, 5);
    assert_int_equal(out.items[5].position, 19);
    event_list_clear(&out);
    assert_int_equal(store_read_stream(s, "B", 3, 0, 4, &out, &e), ST_OK);
    assert_int_equal(out.len, 4);
    assert_int_equal(out.items[0].position, 6);
    assert_string_equal(out.items[0].data, "{\"i\":5}");
    event_list_clear(&out);
    assert_int_equal(store_read_stream(s, "Nobody", 1, 0, 0, &out, &e), ST_OK);
    assert_int_equal(out.len, 0);
    event_list_done(&out);
    store_close(s);
}

/* ---- transactions ---- */

static void test_transactions(void **state)
{
    char *path = fresh_path("tx.db");
    struct store *s = open_ok(path);
    err e = {0};
    struct new_event n = ev("T", "{}");
    assert_int_equal(store_commit(s, &e), ST_ERR);
    assert_int_equal(store_begin(s, &e), ST_OK);
    assert_int_equal(store_begin(s, &e), ST_ERR);
    for (int64_t v = 0; v < 50; v++)
        assert_int_equal(store_append(s, "A", v, NULL, &n, 1, NULL, &e), ST_OK);
    /* Reads inside the transaction see its appends. */
    assert_int_equal(version_of(s, "A", 0), 50);
    assert_int_equal(head_of(s), 50);
    store_rollback(s);
    assert_int_equal(head_of(s), 0);
    assert_int_equal(version_of(s, "A", 0), 0);

    /* After a rollback the stream cache must not remember version 50. */
    assert_int_equal(store_begin(s, &e), ST_OK);
    assert_int_equal(store_append(s, "A", 50, NULL, &n, 1, NULL, &e), ST_CONFLICT);
    assert_int_equal(store_append(s, "A", STORE_NO_STREAM, "c", &n, 1, NULL, &e), ST_OK);
    assert_int_equal(store_append(s, "A", 1, "c", &n, 1, NULL, &e), ST_DUPLICATE);
    /* A conflict writes nothing, so the transaction goes on. */
    assert_int_equal(store_append(s, "A", 7, NULL, &n, 1, NULL, &e), ST_CONFLICT);
    assert_int_equal(store_append(s, "A", 1, NULL, &n, 1, NULL, &e), ST_OK);
    assert_int_equal(store_append(s, "B", STORE_NO_STREAM, NULL, &n, 1, NULL, &e), ST_OK);
    struct stream_info *si;
    size_t count;
    assert_int_equal(store_list_streams(s, NULL, 0, 0, &si, &count, &e), ST_OK);
    assert_int_equal(count, 2);
    assert_int_equal(si[0].version, 2);
    assert_int_equal(si[0].last_position, 2);
    assert_int_equal(si[1].last_position, 3);
    stream_info_free(si, count);
    assert_int_equal(store_append(s, "A", 1, NULL, &n, 1, NULL, &e), ST_CONFLICT);

    /* Another handle does not see uncommitted events. */
    struct store *other = open_ok(path);
    assert_int_equal(head_of(other), 0);
    assert_int_equal(store_commit(s, &e), ST_OK);
    assert_int_equal(head_of(other), 3);
    assert_int_equal(version_of(other, "A", 0), 2);
    assert_int_equal(store_list_streams(other, "A", 0, 0, &si, &count, &e), ST_OK);
    assert_int_equal(count, 1);
    assert_int_equal(si[0].version, 2);
    assert_int_equal(si[0].last_position, 2);
    stream_info_free(si, count);
    store_close(other);

    /* Closing with a transaction open discards it. */
    assert_int_equal(store_begin(s, &e), ST_OK);
    append1(s, "C", "T", "{}", NULL);
    store_close(s);
    s = open_ok(path);
    assert_int_equal(head_of(s), 3);
    store_close(s);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_read_back),
        cmocka_unit_test(test_expected_versions),
        cmocka_unit_test(test_invalid_batch),
        cmocka_unit_test(test_command_id_repeat),
        cmocka_unit_test(test_paging_filters),
        cmocka_unit_test(test_iterator),
        cmocka_unit_test(test_reopen_keeps_everything),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_two_writers_wait),
        cmocka_unit_test(test_wait_head),
        cmocka_unit_test(test_snapshots),
        cmocka_unit_test(test_position_at_time),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_stream_reads),
        cmocka_unit_test(test_transactions),
    };
    int failed = cmocka_run_group_tests_name("store on sqlite", tests, setup_dir, teardown_dir);
    if (pg_base_uri())
        failed += cmocka_run_group_tests_name("store on postgresql", tests, setup_pg, teardown_pg);
    else
        printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL run is left out\n");
    return failed;
}
