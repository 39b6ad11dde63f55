/* test_store_copy.c: core/store_copy.h: a store copied to another keeps its
 * events (positions, versions, times, data), command ids, append times, ledger,
 * snapshots and notes; a copy resumes from a destination that holds the source's
 * first events and refuses one that diverges. Run from SQLite to SQLite and, with
 * STRATA_TEST_PG_URI, from SQLite to PostgreSQL and back (store_backends.h gives
 * the destination's backend). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "core/store_copy.h"
#include "store_backends.h"

/* A source store (always an SQLite file): two commands with ids, one without, a
 * snapshot, a note, a ledger row. */
static char *make_source(void)
{
    char *path = xasprintf("%s/src-%d.db", tmpdir, ++file_counter);
    struct store *s = open_ok(path);
    err e = {0};
    struct new_event two[2] = {{"Opened", 1, "2026-01-01T10:00:00Z", "{\"n\":1}", "{\"m\":1}"},
                               {"Deposited", 2, "2026-01-01T10:00:01Z", "{\"n\":2}", NULL}};
    assert_int_equal(store_append(s, "A-1", STORE_NO_STREAM, "cmd-1", two, 2, NULL, &e), ST_OK);
    append1(s, "B-1", "Opened", "{}", "2026-01-02T00:00:00Z");
    struct new_event one = {"Deposited", 1, NULL, "{\"n\":3}", NULL};
    assert_int_equal(store_append(s, "A-1", 2, "cmd-2", &one, 1, NULL, &e), ST_OK);
    struct snapshot snap = {2, 2, "{\"balance\":3}"};
    assert_int_equal(store_snapshot_put(s, "A-1", "hash1", &snap, &e), ST_OK);
    assert_int_equal(store_meta_set(s, "domain", "bank", &e), ST_OK);
    unsigned char id[16] = {7, 7, 7};
    bool fresh;
    assert_int_equal(store_ledger_claim(s, id, 3, &fresh, &e), ST_OK);
    store_close(s);
    return path;
}

static void same_events(struct store *a, struct store *b)
{
    struct event_list x, y;
    event_list_init(&x);
    event_list_init(&y);
    err e = {0};
    assert_int_equal(store_read_page(a, NULL, 0, false, 0, &x, &e), ST_OK);
    assert_int_equal(store_read_page(b, NULL, 0, false, 0, &y, &e), ST_OK);
    assert_int_equal(x.len, y.len);
    for (size_t i = 0; i < x.len; i++) {
        assert_int_equal(x.items[i].position, y.items[i].position);
        assert_int_equal(x.items[i].version, y.items[i].version);
        assert_int_equal(x.items[i].schema, y.items[i].schema);
        assert_string_equal(x.items[i].stream, y.items[i].stream);
        assert_string_equal(x.items[i].type, y.items[i].type);
        assert_string_equal(x.items[i].time, y.items[i].time);
        assert_string_equal(x.items[i].data, y.items[i].data);
        if (x.items[i].meta || y.items[i].meta)
            assert_string_equal(x.items[i].meta, y.items[i].meta);
        int64_t ta = 0, tb = 0;
        assert_int_equal(store_append_time(a, x.items[i].position, &ta, &e), ST_OK);
        assert_int_equal(store_append_time(b, y.items[i].position, &tb, &e), ST_OK);
        assert_int_equal(ta, tb);
    }
    event_list_done(&x);
    event_list_done(&y);
}

static void test_copy_carries_everything(void **state)
{
    char *src_path = make_source();
    char *dst_path = fresh_path("dst.db");
    struct store *src = open_ok(src_path), *dst = open_ok(dst_path);
    struct store_copy_stats st;
    err e = {0};
    assert_int_equal(store_copy(src, dst, 2, NULL, NULL, &st, &e), ST_OK);
    assert_int_equal(st.events, 4);
    assert_int_equal(st.commands, 2);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.ledger, 1);
    same_events(src, dst);

    /* The command ids: a repeat is a duplicate with the first run's events. */
    struct new_event one = {"Deposited", 1, NULL, "{}", NULL};
    struct event_list out;
    event_list_init(&out);
    assert_int_equal(store_append(dst, "A-1", STORE_ANY_VERSION, "cmd-1", &one, 1, &out, &e),
                     ST_DUPLICATE);
    assert_int_equal(out.len, 2);
    event_list_done(&out);
    struct snapshot snap;
    assert_int_equal(store_snapshot_get(dst, "A-1", "hash1", 0, &snap, &e), ST_OK);
    assert_string_equal(snap.state, "{\"balance\":3}");
    snapshot_done(&snap);
    char *v = NULL;
    assert_int_equal(store_meta_get(dst, "domain", &v, &e), ST_OK);
    assert_string_equal(v, "bank");
    free(v);
    unsigned char id[16] = {7, 7, 7};
    bool fresh = true;
    assert_int_equal(store_ledger_claim(dst, id, 9, &fresh, &e), ST_OK);
    assert_false(fresh);

    /* Again onto the full copy: nothing appended. */
    assert_int_equal(store_copy(src, dst, 0, NULL, NULL, &st, &e), ST_OK);
    assert_int_equal(st.events, 0);
    assert_int_equal(st.resumed_at, 4);

    /* And back to SQLite, from whichever backend dst is. */
    char *back_path = xasprintf("%s/back-%d.db", tmpdir, ++file_counter);
    struct store *back = open_ok(back_path);
    assert_int_equal(store_copy(dst, back, 3, NULL, NULL, &st, &e), ST_OK);
    same_events(src, back);
    store_close(back);
    store_close(src);
    store_close(dst);
    free(src_path);
    free(dst_path);
    free(back_path);
}

static void test_copy_resumes_and_refuses(void **state)
{
    char *src_path = make_source();
    struct store *src = open_ok(src_path);
    err e = {0};
    /* A destination holding the first two events, as a cut copy leaves it. */
    char *dst_path = fresh_path("part.db");
    struct store *dst = open_ok(dst_path);
    struct event_list first;
    event_list_init(&first);
    assert_int_equal(store_read_page(src, NULL, 0, false, 2, &first, &e), ST_OK);
    struct new_event two[2];
    for (int i = 0; i < 2; i++)
        two[i] = (struct new_event){first.items[i].type, first.items[i].schema, first.items[i].time,
                                    first.items[i].data, first.items[i].meta};
    assert_int_equal(store_append(dst, "A-1", STORE_NO_STREAM, "cmd-1", two, 2, NULL, &e), ST_OK);
    event_list_done(&first);
    struct store_copy_stats st;
    assert_int_equal(store_copy(src, dst, 1, NULL, NULL, &st, &e), ST_OK);
    assert_int_equal(st.resumed_at, 2);
    assert_int_equal(st.events, 2);
    assert_int_equal(head_of(dst), 4);

    /* One that diverges is refused and left as it was. */
    char *other_path = fresh_path("other.db");
    struct store *other = open_ok(other_path);
    append1(other, "A-1", "Opened", "{\"n\":9}", "2026-01-01T10:00:00Z");
    e = (err){0};
    assert_int_equal(store_copy(src, other, 0, NULL, NULL, &st, &e), ST_CONFLICT);
    assert_non_null(strstr(e.msg, "is not a copy of"));
    assert_int_equal(head_of(other), 1);
    store_close(other);
    store_close(dst);
    store_close(src);
    free(src_path);
    free(dst_path);
    free(other_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_carries_everything),
        cmocka_unit_test(test_copy_resumes_and_refuses),
    };
    int failed = cmocka_run_group_tests_name("copy to sqlite", tests, setup_dir, teardown_dir);
    if (pg_base_uri())
        failed += cmocka_run_group_tests_name("copy to postgresql", tests, setup_pg, teardown_pg);
    else
        printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL run is left out\n");
    return failed;
}
