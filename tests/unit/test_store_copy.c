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

/* The source's commands are read a window at a time (store_copy.c): with windows
 * of 4 commands and batches smaller, equal to and larger than a command, or than
 * a window, every event and every command id arrives, each command's events
 * appended as one. */
static void test_copy_command_windows(void **state)
{
    char *src_path = xasprintf("%s/src-%d.db", tmpdir, ++file_counter);
    struct store *src = open_ok(src_path);
    err e = {0};
    int ncommands = 0;
    for (int i = 0; i < 40; i++) {
        char stream[16], id[16];
        snprintf(stream, sizeof stream, "S-%d", i % 3);
        if (i % 5 == 4) { /* an event of no command */
            append1(src, stream, "Noted", "{}", NULL);
            continue;
        }
        struct new_event evs[3] = {{"A", 1, NULL, "{\"k\":1}", NULL},
                                   {"B", 1, NULL, "{\"k\":2}", NULL},
                                   {"C", 1, NULL, "{\"k\":3}", NULL}};
        snprintf(id, sizeof id, "c-%02d", i);
        assert_int_equal(
            store_append(src, stream, STORE_ANY_VERSION, id, evs, 1 + (size_t)i % 3, NULL, &e),
            ST_OK);
        ncommands++;
    }
    setenv("STRATA_COPY_COMMAND_WINDOW", "4", 1);
    const int64_t batches[] = {1, 2, 3, 7, 1000};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        char *dst_path = fresh_path("win.db");
        struct store *dst = open_ok(dst_path);
        struct store_copy_stats st;
        if (store_copy(src, dst, batches[b], NULL, NULL, &st, &e) != ST_OK)
            fail_msg("batch %lld: %s", (long long)batches[b], e.msg);
        assert_int_equal(st.commands, ncommands);
        same_events(src, dst);
        for (int i = 0; i < 40; i++) {
            if (i % 5 == 4)
                continue;
            char id[16];
            snprintf(id, sizeof id, "c-%02d", i);
            struct event_list x, y;
            event_list_init(&x);
            event_list_init(&y);
            assert_int_equal(store_command_events(src, id, &x, &e), ST_OK);
            assert_int_equal(store_command_events(dst, id, &y, &e), ST_OK);
            assert_int_equal(x.len, y.len);
            assert_int_equal(x.items[0].position, y.items[0].position);
            event_list_done(&x);
            event_list_done(&y);
        }
        store_close(dst);
        free(dst_path);
    }
    unsetenv("STRATA_COPY_COMMAND_WINDOW");
    store_close(src);
    free(src_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_carries_everything),
        cmocka_unit_test(test_copy_resumes_and_refuses),
        cmocka_unit_test(test_copy_command_windows),
    };
    int failed = cmocka_run_group_tests_name("copy to sqlite", tests, setup_dir, teardown_dir);
    if (pg_base_uri())
        failed += cmocka_run_group_tests_name("copy to postgresql", tests, setup_pg, teardown_pg);
    else
        printf("# STRATA_TEST_PG_URI is not set: the PostgreSQL run is left out\n");
    return failed;
}
