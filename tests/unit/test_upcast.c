/* test_upcast.c: unit tests for the upcast dry run and one event's chain
 * (core/upcast_check.h, core/upcast_step.h) and for snapshot policies compared
 * (core/snapshot_compare.h):
 *
 * - each step's output, one at a time, ends where event_upcast's whole chain ends;
 * - the dry run sorts events into clean, failed (a set that fails, an unknown type
 *   or schema) and mismatched (output that does not match the fields), caps the
 *   problems it lists, keeps at most three samples, and writes nothing;
 * - snapshot policies: the counts of a simulation equal what the policy means
 *   (N / k snapshots, N mod k events read), and the bytes equal the states' JSON
 *   at those versions as aggregate_load folds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/domain.h"
#include "core/json.h"
#include "core/snapshot_compare.h"
#include "core/store.h"
#include "test_domain_fixture.h"
#include "core/upcast_check.h"
#include "core/upcast_step.h"

static const char DOMAIN[] =
    "domain: t\n"
    "aggregates:\n"
    "  Book:\n"
    "    id: isbn\n"
    "    state:\n"
    "      n: {type: int, default: 0}\n"
    "      days: {type: int, default: 0}\n"
    "    commands:\n"
    "      Lend:\n"
    "        payload: {isbn: string, member: string}\n"
    "        emit:\n"
    "          - Lent: {member: payload.member, days: 7, channel: \"'desk'\"}\n"
    "    events:\n"
    "      Lent:\n"
    "        version: 3\n"
    "        fields: {member: string, days: int, channel: string}\n"
    "        apply: {n: \"state.n + 1\", days: \"state.days + event.days\"}\n"
    "        upcast:\n"
    "          - from: 1\n"
    "            rename: {borrower: member}\n"
    "            set: {days: \"event.weeks * 7\"}\n"
    "            drop: [weeks]\n"
    "          - from: 2\n"
    "            default: {channel: desk}\n";

static void append(struct store *s, const char *stream, const char *type, int schema,
                   const char *data)
{
    struct new_event ne = {type, schema, "2026-01-01T00:00:00.000Z", data, NULL};
    err e = {0};
    if (store_append(s, stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e) != ST_OK)
        fail_msg("append: %s", e.msg);
}

static char *json_of(const value *v)
{
    return json_to_string(v);
}

static void test_steps_end_where_the_chain_ends(void **unused)
{
    struct domain *d = load_domain(DOMAIN);
    const struct event_spec *spec = domain_event(d, "Lent");
    assert_non_null(spec);
    const char *text = "{\"borrower\":\"ann\",\"weeks\":2}";
    value whole, step;
    err e = {0};
    assert_int_equal(json_parse(text, strlen(text), &whole, &e), ST_OK);
    step = value_copy_deep(&whole);
    assert_int_equal(event_upcast(spec, 1, &whole, NULL, &e), ST_OK);
    for (int v = 1; v < spec->version; v++) {
        const struct upcast_step *st = upcast_step_from(spec, v);
        assert_non_null(st);
        assert_int_equal(upcast_step_run(spec, st, &step, NULL, &e), ST_OK);
        char *t = json_of(&step);
        if (v == 1) /* rename, set, drop */
            assert_string_equal(t, "{\"member\":\"ann\",\"days\":14}");
        free(t);
    }
    upcast_order_fields(spec, &step);
    assert_true(value_equal(&whole, &step));
    char *t = json_of(&step);
    assert_string_equal(t, "{\"member\":\"ann\",\"days\":14,\"channel\":\"desk\"}");
    free(t);
    assert_null(upcast_step_from(spec, 3));
    char *said = upcast_step_describe(upcast_step_from(spec, 1));
    assert_string_equal(said, "rename borrower: member, set days, drop weeks");
    free(said);
    value_free(whole);
    value_free(step);
    domain_free(d);
}

static void test_trace_one_event(void **unused)
{
    struct domain *d = load_domain(DOMAIN);
    struct store *s = open_mem_store(2);
    append(s, "Book-1", "Lent", 1, "{\"borrower\":\"ann\",\"weeks\":2}");
    append(s, "Book-1", "Lent", 1, "{\"borrower\":\"bo\"}"); /* no weeks: the set fails */
    append(s, "Book-1", "Lent", 2, "{\"member\":\"cy\",\"days\":\"7\"}"); /* days a string */
    struct event_list l;
    event_list_init(&l);
    err e = {0};
    assert_int_equal(store_read_page(s, &(struct event_filter){0}, 0, false, 10, &l, &e), ST_OK);
    assert_int_equal(l.len, 3);

    struct upcast_trace t;
    assert_int_equal(upcast_trace_event(d, &l.items[0], &t, &e), ST_OK);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.stored, 1);
    assert_null(t.error);
    char *v2 = json_of(&t.data[1]), *v3 = json_of(&t.data[2]);
    assert_string_equal(v2, "{\"member\":\"ann\",\"days\":14}");
    assert_string_equal(v3, "{\"member\":\"ann\",\"days\":14,\"channel\":\"desk\"}");
    free(v2);
    free(v3);
    upcast_trace_done(&t);

    assert_int_equal(upcast_trace_event(d, &l.items[1], &t, &e), ST_OK);
    assert_int_equal(t.n, 1); /* the first step failed */
    assert_false(t.mismatch);
    assert_non_null(strstr(t.error, "upcasting Lent from version 1, set days"));
    upcast_trace_done(&t);

    assert_int_equal(upcast_trace_event(d, &l.items[2], &t, &e), ST_OK);
    assert_int_equal(t.n, 2);
    assert_true(t.mismatch);
    assert_non_null(strstr(t.error, "field 'days'"));
    upcast_trace_done(&t);
    event_list_done(&l);
    store_close(s);
    domain_free(d);
}

static void test_check_sorts_caps_and_writes_nothing(void **unused)
{
    struct domain *d = load_domain(DOMAIN);
    struct store *s = open_mem_store(2);
    for (int i = 0; i < 5; i++)
        append(s, "Book-1", "Lent", 1, "{\"borrower\":\"ann\",\"weeks\":1}"); /* clean */
    for (int i = 0; i < 4; i++)
        append(s, "Book-2", "Lent", 1, "{\"borrower\":\"bo\"}"); /* failed */
    append(s, "Book-3", "Lent", 2, "{\"member\":1,\"days\":7}"); /* mismatched */
    append(s, "Book-3", "Lent", 3, "{\"member\":\"x\",\"days\":1,\"channel\":\"web\"}");
    append(s, "Book-3", "Lent", 9, "{}");         /* a schema the domain does not know */
    append(s, "Other-1", "Gone", 1, "{\"a\":1}"); /* a type it does not declare */
    int64_t head = 0;
    err e = {0};
    assert_int_equal(store_head(s, &head, &e), ST_OK);

    struct upcast_report r;
    assert_int_equal(upcast_check(s, d, 2, &r, &e), ST_OK);
    assert_int_equal(r.events, 13);
    assert_int_equal(r.clean, 6);
    assert_int_equal(r.failed, 6);
    assert_int_equal(r.mismatched, 1);
    assert_int_equal(r.n, 5); /* Gone v1, Lent v1, v2, v3, v9 */
    assert_string_equal(r.groups[0].type, "Gone");
    assert_int_equal(r.groups[0].current, 0);
    const struct upcast_group *v1 = &r.groups[1];
    assert_int_equal(v1->schema, 1);
    assert_int_equal(v1->events, 9);
    assert_int_equal(v1->clean, 5);
    assert_int_equal(v1->failed, 4);
    assert_int_equal(v1->nproblems, 2); /* capped at 2 of the 4 */
    assert_int_equal(v1->problems[0].position, 6);
    assert_int_equal(v1->nsamples, UPCAST_SAMPLES);
    assert_string_equal(v1->samples[0].before, "{\"borrower\":\"ann\",\"weeks\":1}");
    assert_string_equal(v1->samples[0].after,
                        "{\"member\":\"ann\",\"days\":7,\"channel\":\"desk\"}");
    const struct upcast_group *v2 = &r.groups[2];
    assert_int_equal(v2->mismatched, 1);
    assert_true(v2->problems[0].mismatch);
    assert_int_equal(r.groups[3].clean, 1);
    assert_int_equal(r.groups[3].nsamples, 0); /* at the current version: nothing to show */
    assert_int_equal(r.groups[4].schema, 9);
    assert_non_null(strstr(r.groups[4].problems[0].error, "versions 1 to 3"));
    upcast_report_done(&r);

    int64_t after = 0;
    assert_int_equal(store_head(s, &after, &e), ST_OK);
    assert_int_equal(after, head);
    store_close(s);
    domain_free(d);
}

/* The state's JSON as aggregate_load folds it up to a position. */
static size_t state_bytes(struct store *s, const struct domain *d, const char *id, int64_t pos)
{
    struct agg_state st;
    err e = {0};
    if (aggregate_load(s, d, &d->aggregates[0], id, pos, false, &st, &e) != ST_OK)
        fail_msg("load: %s", e.msg);
    char *t = json_to_string(&st.state);
    size_t n = strlen(t);
    free(t);
    agg_state_done(&st);
    return n;
}

static void test_snapshot_policies(void **unused)
{
    struct domain *d = load_domain(DOMAIN);
    struct store *s = open_mem_store(2);
    /* Book-1: 23 events (positions 1..23), Book-2: 5 (24..28). */
    for (int i = 0; i < 23; i++)
        append(s, "Book-1", "Lent", 3, "{\"member\":\"a\",\"days\":3,\"channel\":\"web\"}");
    for (int i = 0; i < 5; i++)
        append(s, "Book-2", "Lent", 1, "{\"borrower\":\"b\",\"weeks\":1}");
    const int every[] = {0, 1, 5, 10, 100};
    struct snapshot_comparison c;
    err e = {0};
    assert_int_equal(snapshot_compare(s, d, every, 5, 1, &c, &e), ST_OK);
    assert_int_equal(c.streams, 2);
    assert_int_equal(c.events, 28);
    assert_int_equal(c.sampled, 1);
    assert_int_equal(c.failed_streams, 0);
    for (size_t p = 0; p < 5; p++) {
        int k = every[p];
        int64_t snaps = k ? 23 / k + 5 / k : 0;
        int64_t r1 = k ? 23 % k : 23, r2 = k ? 5 % k : 5;
        assert_int_equal(c.policies[p].every, k);
        assert_int_equal(c.policies[p].snapshots, snaps);
        assert_int_equal(c.policies[p].read_max, r1 > r2 ? r1 : r2);
        assert_true(c.policies[p].read_mean == (double)(r1 + r2) / 2);
        int64_t bytes = 0;
        for (int v = k; k && v <= 23; v += k)
            bytes += (int64_t)state_bytes(s, d, "1", v);
        for (int v = k; k && v <= 5; v += k)
            bytes += (int64_t)state_bytes(s, d, "2", 23 + v);
        assert_int_equal(c.policies[p].bytes, bytes);
        assert_true(c.policies[p].load_p99_ms >= c.policies[p].load_p50_ms);
    }
    snapshot_comparison_done(&c);
    /* Nothing written: a load finds no snapshot. */
    struct snapshot snap;
    assert_int_equal(store_snapshot_get(s, "Book-1", d->aggregates[0].rules_hash, 0, &snap, &e),
                     ST_NOT_FOUND);
    store_close(s);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_end_where_the_chain_ends),
        cmocka_unit_test(test_trace_one_event),
        cmocka_unit_test(test_check_sorts_caps_and_writes_nothing),
        cmocka_unit_test(test_snapshot_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
