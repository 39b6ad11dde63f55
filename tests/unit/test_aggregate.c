/* test_aggregate.c: deciding, evolving, upcasting, snapshots and commands
 * (core/aggregate.c), against in-memory and on-disk stores. The property test at
 * the end checks that snapshot + tail equals a full replay for random streams and
 * random points. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/aggregate.h"
#include "core/json.h"
#include "test_domain_fixture.h"

static const char *counter_yaml =
    "domain: counters\n"
    "aggregates:\n"
    "  Counter:\n"
    "    id: counterId\n"
    "    snapshot_every: SNAP\n"
    "    state:\n"
    "      total: {type: int, default: 0}\n"
    "      count: {type: int, default: 0}\n"
    "      last: {type: string, default: \"\"}\n"
    "      seen: {type: list, default: []}\n"
    "    invariants:\n"
    "      - {rule: \"state.total <= 1000000\", message: \"total too large\"}\n"
    "    commands:\n"
    "      Add:\n"
    "        payload: {counterId: string, n: {type: int, min: 1, max: 1000}, tag: {type: string, "
    "default: x}}\n"
    "        require:\n"
    "          - {rule: \"payload.n != 13\", message: \"unlucky\"}\n"
    "          - {rule: \"state.total + payload.n <= 500000\", message: \"would overflow the "
    "counter\"}\n"
    "        emit:\n"
    "          - Added: {n: payload.n, tag: payload.tag}\n"
    "          - when: \"payload.n > 900\"\n"
    "            BigAdded: {n: payload.n}\n"
    "    events:\n"
    "      Added:\n"
    "        version: 3\n"
    "        fields: {n: int, tag: string}\n"
    "        apply: {total: \"state.total + event.n\", count: \"state.count + 1\", last: "
    "event.tag,\n"
    "                seen: \"state.seen + [event.n]\"}\n"
    "        upcast:\n"
    "          - from: 1\n"
    "            rename: {amount: n}\n"
    "          - from: 2\n"
    "            default: {tag: old}\n"
    "      BigAdded:\n"
    "        fields: {n: int}\n";

static struct domain *load_counter(int snapshot_every)
{
    /* snapshot_every: 0 means "no snapshots": the key is left out. */
    const char *line = "    snapshot_every: SNAP\n";
    char snap[64];
    if (snapshot_every > 0)
        snprintf(snap, sizeof snap, "    snapshot_every: %d\n", snapshot_every);
    else
        snap[0] = '\0';
    strbuf sb;
    sb_init(&sb);
    const char *p = counter_yaml, *at = strstr(p, line);
    sb_add(&sb, p, (size_t)(at - p));
    sb_adds(&sb, snap);
    sb_adds(&sb, at + strlen(line));
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("counter.yaml", sb.buf, sb.len, &diags);
    if (!d)
        diag_list_print(&diags, stderr);
    diag_list_done(&diags);
    sb_done(&sb);
    assert_non_null(d);
    return d;
}

/* Runs command `name` of d with payload (taken) and any expected version;
 * returns the status, e saying why. */
static int run_command(struct store *s, struct domain *d, const char *name, value payload,
                       const char *cmd_id, struct command_result *res, err *e)
{
    struct command_request req;
    memset(&req, 0, sizeof req);
    req.command = domain_command(d, name);
    req.payload = payload;
    req.command_id = cmd_id;
    req.expected_version = STORE_ANY_VERSION;
    err_clear(e);
    int rc = command_execute(s, d, &req, res, e);
    value_free(payload);
    return rc;
}

/* Runs Add on counter `id` with n; returns the status. */
static int add(struct store *s, struct domain *d, const char *id, int64_t n, const char *cmd_id,
               struct command_result *res)
{
    value payload = value_map(2);
    value_map_set(&payload, "counterId", value_cstring(id));
    value_map_set(&payload, "n", value_int(n));
    err e;
    return run_command(s, d, "Add", payload, cmd_id, res, &e);
}

static int64_t state_int(const struct agg_state *st, const char *field)
{
    const value *v = value_map_get(&st->state, field);
    assert_non_null(v);
    assert_int_equal(v->type, V_INT);
    return v->u.i;
}

static void test_execute_and_load(void **unused)
{
    struct domain *d = load_counter(0);
    struct store *s = open_mem_store(0);
    struct command_result res;
    command_result_init(&res);
    assert_int_equal(add(s, d, "A", 5, NULL, &res), ST_OK);
    assert_int_equal(res.appended.len, 1);
    assert_string_equal(res.appended.items[0].type, "Added");
    assert_string_equal(res.appended.items[0].stream, "Counter-A");
    assert_string_equal(res.appended.items[0].data, "{\"n\":5,\"tag\":\"x\"}");
    assert_int_equal(res.appended.items[0].schema, 3);
    assert_non_null(strstr(res.appended.items[0].meta, "\"command\":\"Add\""));
    assert_non_null(strstr(res.appended.items[0].meta, "\"commandId\":"));
    command_result_done(&res);

    command_result_init(&res);
    assert_int_equal(add(s, d, "A", 950, NULL, &res), ST_OK);
    assert_int_equal(res.appended.len, 2); /* Added and BigAdded (when) */
    assert_string_equal(res.appended.items[1].type, "BigAdded");
    command_result_done(&res);

    struct agg_state st;
    err e;
    err_clear(&e);
    assert_int_equal(aggregate_load(s, d, domain_aggregate(d, "Counter"), "A", 0, false, &st, &e),
                     ST_OK);
    assert_int_equal(state_int(&st, "total"), 955);
    assert_int_equal(state_int(&st, "count"), 2);
    assert_int_equal(st.version, 3);
    agg_state_done(&st);
    /* As of position 1: only the first event. */
    assert_int_equal(aggregate_load(s, d, domain_aggregate(d, "Counter"), "A", 1, false, &st, &e),
                     ST_OK);
    assert_int_equal(state_int(&st, "total"), 5);
    assert_int_equal(st.version, 1);
    agg_state_done(&st);
    store_close(s);
    domain_free(d);
}

static void test_rejections_and_validation(void **unused)
{
    struct domain *d = load_counter(0);
    struct store *s = open_mem_store(0);
    struct command_result res;
    command_result_init(&res);
    assert_int_equal(add(s, d, "A", 13, NULL, &res), ST_REJECTED);
    assert_string_equal(res.rejected, "unlucky");
    assert_non_null(res.explanation);
    assert_non_null(strstr(res.explanation, "13"));
    assert_int_equal(res.appended.len, 0);
    command_result_done(&res);

    command_result_init(&res);
    assert_int_equal(add(s, d, "A", 0, NULL, &res), ST_ERR); /* below min */
    command_result_done(&res);

    /* Nothing was appended by either. */
    int64_t head = -1;
    err e;
    err_clear(&e);
    assert_int_equal(store_head(s, &head, &e), ST_OK);
    assert_int_equal(head, 0);

    /* Payload from words, typed by the schema. */
    const struct command_spec *c = domain_command(d, "Add");
    char *good[] = {"counterId=B", "n=7"};
    value p;
    assert_int_equal(command_payload_from_args(c, good, 2, &p, &e), ST_OK);
    assert_int_equal(value_map_get(&p, "n")->type, V_INT);
    value_free(p);
    char *bad[] = {"counterId=B", "n=seven"};
    assert_int_equal(command_payload_from_args(c, bad, 2, &p, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "'n'"));
    char *typo[] = {"countrId=B"};
    assert_int_equal(command_payload_from_args(c, typo, 1, &p, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "did you mean 'counterId'"));
    store_close(s);
    domain_free(d);
}

static void test_idempotent_command_id(void **unused)
{
    struct domain *d = load_counter(0);
    struct store *s = open_mem_store(0);
    struct command_result res;
    command_result_init(&res);
    assert_int_equal(add(s, d, "A", 5, "cmd-1", &res), ST_OK);
    assert_false(res.duplicate);
    int64_t first = res.appended.items[0].position;
    command_result_done(&res);
    command_result_init(&res);
    assert_int_equal(add(s, d, "A", 5, "cmd-1", &res), ST_OK);
    assert_true(res.duplicate);
    assert_int_equal(res.appended.len, 1);
    assert_int_equal(res.appended.items[0].position, first);
    command_result_done(&res);
    int64_t head;
    err e;
    assert_int_equal(store_head(s, &head, &e), ST_OK);
    assert_int_equal(head, 1);
    store_close(s);
    domain_free(d);
}

static void test_expected_version(void **unused)
{
    struct domain *d = load_counter(0);
    struct store *s = open_mem_store(0);
    struct command_result res;
    command_result_init(&res);
    assert_int_equal(add(s, d, "A", 5, NULL, &res), ST_OK);
    command_result_done(&res);
    value payload = value_map(2);
    value_map_set(&payload, "counterId", value_cstring("A"));
    value_map_set(&payload, "n", value_int(1));
    struct command_request req;
    memset(&req, 0, sizeof req);
    req.command = domain_command(d, "Add");
    req.payload = payload;
    req.expected_version = 0; /* wrong: the stream is at 1 */
    err e;
    err_clear(&e);
    command_result_init(&res);
    assert_int_equal(command_execute(s, d, &req, &res, &e), ST_CONFLICT);
    assert_non_null(strstr(e.msg, "version 1"));
    command_result_done(&res);
    req.expected_version = 1;
    command_result_init(&res);
    assert_int_equal(command_execute(s, d, &req, &res, &e), ST_OK);
    command_result_done(&res);
    value_free(payload);
    store_close(s);
    domain_free(d);
}

static void test_upcast_chain(void **unused)
{
    struct domain *d = load_counter(0);
    struct store *s = open_mem_store(0);
    err e;
    err_clear(&e);
    /* Stored as v1 (amount), v2 (n, no tag) and v3. */
    struct new_event evs[] = {
        {"Added", 1, "2026-01-01T00:00:00.000Z", "{\"amount\":10}", NULL},
        {"Added", 2, "2026-01-01T00:00:01.000Z", "{\"n\":20}", NULL},
        {"Added", 3, "2026-01-01T00:00:02.000Z", "{\"n\":30,\"tag\":\"new\"}", NULL},
    };
    assert_int_equal(store_append(s, "Counter-U", STORE_ANY_VERSION, NULL, evs, 3, NULL, &e),
                     ST_OK);
    struct agg_state st;
    assert_int_equal(aggregate_load(s, d, domain_aggregate(d, "Counter"), "U", 0, false, &st, &e),
                     ST_OK);
    assert_int_equal(state_int(&st, "total"), 60);
    assert_string_equal(value_str(value_map_get(&st.state, "last")), "new");
    agg_state_done(&st);
    assert_int_equal(aggregate_load(s, d, domain_aggregate(d, "Counter"), "U", 2, false, &st, &e),
                     ST_OK);
    assert_string_equal(value_str(value_map_get(&st.state, "last")), "old");
    agg_state_done(&st);

    /* A schema the domain does not know is an error naming the event. */
    struct new_event future = {"Added", 9, NULL, "{\"n\":1}", NULL};
    assert_int_equal(store_append(s, "Counter-F", STORE_ANY_VERSION, NULL, &future, 1, NULL, &e),
                     ST_OK);
    assert_int_equal(aggregate_load(s, d, domain_aggregate(d, "Counter"), "F", 0, false, &st, &e),
                     ST_ERR);
    assert_non_null(strstr(e.msg, "Added"));
    assert_non_null(strstr(e.msg, "schema version 9"));
    store_close(s);
    domain_free(d);
}

/* Every event read back is valid after its upcasts, and every event checked before
 * it is appended (event_validate) too: a violation names the event, the upcast
 * step and the field. */
static void test_events_are_valid(void **unused)
{
    struct domain *d = load_counter(0);
    struct store *s = open_mem_store(0);
    err e;
    err_clear(&e);
    /* v1 whose `amount` is text: the rename carries the wrong type into `n`. */
    struct new_event evs[] = {
        {"Added", 1, "2026-01-01T00:00:00.000Z", "{\"amount\":\"ten\"}", NULL},
        {"Added", 3, "2026-01-01T00:00:01.000Z", "{\"n\":5,\"tag\":\"t\"}", NULL},
    };
    assert_int_equal(store_append(s, "Counter-U", STORE_ANY_VERSION, NULL, evs, 1, NULL, &e),
                     ST_OK);
    assert_int_equal(store_append(s, "Counter-V", STORE_ANY_VERSION, NULL, &evs[1], 1, NULL, &e),
                     ST_OK);
    struct agg_state st;
    const struct aggregate_spec *a = domain_aggregate(d, "Counter");
    assert_int_equal(aggregate_load(s, d, a, "U", 0, false, &st, &e), ST_ERR);
    assert_string_equal(e.msg, "event Added at position 1 (stored at schema 1): upcast step 1->2 "
                               "(rename amount: n): field 'n': expected int, got string \"ten\"");
    /* A missing field is blamed on the last step that should have made it. */
    struct event v1 = {0, 1, 1, "Counter-W", "Added", "2026-01-01T00:00:00.000Z", "{}", NULL};
    err_clear(&e);
    assert_int_equal(event_validate(d, &v1, NULL, false, &e), ST_ERR);
    assert_string_equal(e.msg, "event Added (stored at schema 1): upcast step 1->2 (rename "
                               "amount: n): missing field 'n' (int)");
    /* Stored at v2 without `n`: no step of the chain 2->3 sets it. */
    v1.schema = 2;
    assert_int_equal(event_validate(d, &v1, NULL, false, &e), ST_ERR);
    assert_string_equal(e.msg, "event Added (stored at schema 2): upcast 2->3 (no step sets 'n'): "
                               "missing field 'n' (int)");
    /* The current version: an undeclared field, with a suggestion. */
    struct event v3 = {0,
                       1,
                       3,
                       "Counter-W",
                       "Added",
                       "2026-01-01T00:00:00.000Z",
                       "{\"n\":1,\"tag\":\"x\",\"tga\":1}",
                       NULL};
    assert_int_equal(event_validate(d, &v3, NULL, false, &e), ST_ERR);
    assert_string_equal(e.msg,
                        "event Added: unknown field 'tga' of event Added (did you mean 'tag'?)");
    v3.data = "{\"n\":1,\"tag\":\"x\"}";
    assert_int_equal(event_validate(d, &v3, NULL, false, &e), ST_OK);
    v3.type = "Addded";
    assert_int_equal(event_validate(d, &v3, NULL, false, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "unknown event type 'Addded'"));
    /* Another stream still loads. */
    err_clear(&e);
    assert_int_equal(aggregate_load(s, d, a, "V", 0, false, &st, &e), ST_OK);
    assert_int_equal(state_int(&st, "total"), 5);
    agg_state_done(&st);
    store_close(s);
    domain_free(d);
}

/* An emit whose value breaks the event's fields is refused before anything is
 * appended, naming the command, the emit and the field. */
static void test_emit_is_checked(void **unused)
{
    static const char yaml[] = "domain: t\n"
                               "aggregates:\n"
                               "  A:\n"
                               "    id: id\n"
                               "    commands:\n"
                               "      Put:\n"
                               "        payload: {id: string, v: any, n: int}\n"
                               "        emit:\n"
                               "          - Put: {s: payload.v, n: payload.n}\n"
                               "    events:\n"
                               "      Put:\n"
                               "        fields: {s: string, n: {type: int, min: 1}}\n";
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("t.yaml", yaml, sizeof yaml - 1, &diags);
    if (!d)
        diag_list_print(&diags, stderr);
    diag_list_done(&diags);
    assert_non_null(d);
    struct store *s = open_mem_store(0);
    const char *cases[][3] = {
        {"[1]", "1", "Put: emit[0] Put: field 's': expected string, got list [1]"},
        {"\"x\"", "0", "Put: emit[0] Put: field 'n': 0 is below the minimum 1"},
        {"\"x\"", "1", NULL},
    };
    for (size_t i = 0; i < 3; i++) {
        value payload = value_map(3);
        value_map_set(&payload, "id", value_cstring("A"));
        value v, n;
        assert_int_equal(json_parse(cases[i][0], strlen(cases[i][0]), &v, NULL), ST_OK);
        assert_int_equal(json_parse(cases[i][1], strlen(cases[i][1]), &n, NULL), ST_OK);
        value_map_set(&payload, "v", v);
        value_map_set(&payload, "n", n);
        struct command_result res;
        command_result_init(&res);
        err e;
        int rc = run_command(s, d, "Put", payload, NULL, &res, &e);
        if (cases[i][2]) {
            assert_int_equal(rc, ST_ERR);
            assert_string_equal(e.msg, cases[i][2]);
            assert_int_equal(res.appended.len, 0);
        } else {
            assert_int_equal(rc, ST_OK);
        }
        command_result_done(&res);
    }
    int64_t head = -1;
    err e;
    assert_int_equal(store_head(s, &head, &e), ST_OK);
    assert_int_equal(head, 1); /* only the valid one */
    store_close(s);
    domain_free(d);
}

static void test_snapshots_bound_replay(void **unused)
{
    struct domain *d = load_counter(10);
    struct store *s = open_mem_store(0);
    struct command_result res;
    for (int i = 0; i < 95; i++) {
        command_result_init(&res);
        assert_int_equal(add(s, d, "S", 2 + i % 10, NULL, &res), ST_OK);
        command_result_done(&res);
    }
    struct agg_state st;
    err e;
    err_clear(&e);
    assert_int_equal(aggregate_load(s, d, domain_aggregate(d, "Counter"), "S", 0, false, &st, &e),
                     ST_OK);
    assert_true(st.from_snapshot);
    assert_int_equal(st.version, 95);
    assert_true(st.replayed <= 10);
    agg_state_done(&st);
    store_close(s);
    domain_free(d);
}

/* The property: for random streams and random points, the state from the newest
 * snapshot plus the tail equals a full replay from the first event. */
static void test_property_snapshot_equals_full_replay(void **unused)
{
    struct domain *with = load_counter(7);
    struct domain *without = load_counter(0);
    struct store *s = open_mem_store(0);
    srand(12345);
    const char *ids[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 600; i++) {
        struct command_result res;
        command_result_init(&res);
        int rc = add(s, with, ids[rand() % 4], 1 + rand() % 999, NULL, &res);
        assert_true(rc == ST_OK || rc == ST_REJECTED);
        command_result_done(&res);
    }
    int64_t head;
    err e;
    err_clear(&e);
    assert_int_equal(store_head(s, &head, &e), ST_OK);
    const struct aggregate_spec *aw = domain_aggregate(with, "Counter");
    const struct aggregate_spec *ao = domain_aggregate(without, "Counter");
    int used_snapshot = 0;
    for (int trial = 0; trial < 300; trial++) {
        const char *id = ids[rand() % 4];
        int64_t at = trial % 10 == 0 ? 0 : 1 + rand() % head;
        struct agg_state a, b;
        assert_int_equal(aggregate_load(s, with, aw, id, at, false, &a, &e), ST_OK);
        assert_int_equal(aggregate_load(s, without, ao, id, at, false, &b, &e), ST_OK);
        used_snapshot += a.from_snapshot;
        assert_false(b.from_snapshot);
        assert_int_equal(a.version, b.version);
        assert_int_equal(a.position, b.position);
        if (!value_equal(&a.state, &b.state)) {
            char *x = json_to_string(&a.state), *y = json_to_string(&b.state);
            fail_msg("stream %s at %lld: snapshot path %s != full replay %s", id, (long long)at, x,
                     y);
        }
        assert_true(a.replayed <= 7 + 1);
        agg_state_done(&a);
        agg_state_done(&b);
    }
    assert_true(used_snapshot > 100);
    store_close(s);
    domain_free(with);
    domain_free(without);
}

/* A changed domain (another rules hash) never serves a stale snapshot. */
static void test_snapshot_hash_guards_changes(void **unused)
{
    struct domain *d = load_counter(5);
    struct store *s = open_mem_store(0);
    struct command_result res;
    for (int i = 0; i < 12; i++) {
        command_result_init(&res);
        assert_int_equal(add(s, d, "H", 2, NULL, &res), ST_OK);
        command_result_done(&res);
    }
    /* Same shape, different apply: total counts double. */
    struct diag_list diags;
    diag_list_init(&diags);
    strbuf sb;
    sb_init(&sb);
    const char *p = counter_yaml, *at = strstr(p, "SNAP");
    sb_add(&sb, p, (size_t)(at - p));
    sb_adds(&sb, "5");
    sb_adds(&sb, at + 4);
    char *apply = strstr(sb.buf, "state.total + event.n");
    assert_non_null(apply);
    char *changed = xasprintf("%.*sstate.total + 2 * event.n%s", (int)(apply - sb.buf), sb.buf,
                              apply + strlen("state.total + event.n"));
    struct domain *d2 = domain_load_buffer("counter2.yaml", changed, strlen(changed), &diags);
    diag_list_done(&diags);
    assert_non_null(d2);
    assert_string_not_equal(domain_aggregate(d, "Counter")->rules_hash,
                            domain_aggregate(d2, "Counter")->rules_hash);
    struct agg_state st;
    err e;
    err_clear(&e);
    assert_int_equal(aggregate_load(s, d2, domain_aggregate(d2, "Counter"), "H", 0, false, &st, &e),
                     ST_OK);
    assert_false(st.from_snapshot);
    assert_int_equal(state_int(&st, "total"), 48);
    agg_state_done(&st);
    free(changed);
    sb_done(&sb);
    store_close(s);
    domain_free(d);
    domain_free(d2);
}

/* A command starts from the state its handle last loaded (core/state_cache.h)
 * instead of the snapshot; it must decide exactly as a fresh load would, also
 * when another handle appended in between or the rules changed. */
static void test_kept_state_is_exact(void **unused)
{
    char path[] = "/tmp/strata-aggcache-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.synchronous = 0; /* 500 commands: no fsync needed to test this */
    err e;
    err_clear(&e);
    struct store *a = store_open(path, &opt, &e), *b = store_open(path, &opt, &e);
    assert_non_null(a);
    assert_non_null(b);
    struct domain *d = load_counter(4);
    const struct aggregate_spec *agg = domain_aggregate(d, "Counter");
    struct command_result res;
    for (int i = 0; i < 6; i++) {
        command_result_init(&res);
        assert_int_equal(add(a, d, "K", 100, NULL, &res), ST_OK);
        command_result_done(&res);
    }
    struct agg_state st;
    assert_int_equal(aggregate_load(a, d, agg, "K", 0, false, &st, &e), ST_OK); /* kept: v6 */
    agg_state_done(&st);

    /* b appends 499,000 behind a's back: a's kept state (600) is stale. */
    for (int i = 0; i < 499; i++) {
        command_result_init(&res);
        assert_int_equal(add(b, d, "K", 1000, NULL, &res), ST_OK);
        command_result_done(&res);
    }
    /* 499,600 + 500 would pass on the stale state and must be refused. */
    command_result_init(&res);
    assert_int_equal(add(a, d, "K", 500, NULL, &res), ST_REJECTED);
    command_result_done(&res);
    command_result_init(&res);
    assert_int_equal(add(a, d, "K", 400, NULL, &res), ST_OK);
    command_result_done(&res);

    /* Both handles, and a load of b's that used no kept state, agree. */
    struct agg_state sa, sb;
    assert_int_equal(aggregate_load(a, d, agg, "K", 0, false, &sa, &e), ST_OK);
    assert_int_equal(aggregate_load(b, d, agg, "K", 0, false, &sb, &e), ST_OK);
    assert_int_equal(state_int(&sa, "total"), 500000);
    assert_int_equal(state_int(&sa, "count"), 506);
    assert_int_equal(sa.version, sb.version);
    assert_true(value_equal(&sa.state, &sb.state));
    agg_state_done(&sa);
    agg_state_done(&sb);

    /* Other rules (another rules_hash) never see the kept state. */
    char *changed = subst(counter_yaml, "state.count + 1", "state.count + 2");
    char *twice = subst(changed, "SNAP", "4");
    struct domain *d2 = load_domain(twice);
    command_result_init(&res);
    assert_int_equal(add(a, d2, "K", 1, NULL, &res), ST_REJECTED); /* total is at the limit */
    command_result_done(&res);
    assert_int_equal(aggregate_load(a, d2, domain_aggregate(d2, "Counter"), "K", 0, false, &st, &e),
                     ST_OK);
    assert_int_equal(state_int(&st, "count"), 1012);
    agg_state_done(&st);
    free(changed);
    free(twice);
    domain_free(d2);
    store_close(a);
    store_close(b);
    domain_free(d);
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
}

/* An apply that reads meta: deciding builds the meta the apply reads, as a fold
 * does, so the state a command snapshots equals the state a replay folds. */
static void test_apply_reading_meta(void **unused)
{
    static const char *yaml =
        "domain: m\n"
        "aggregates:\n"
        "  Box:\n"
        "    id: boxId\n"
        "    snapshot_every: SNAP\n"
        "    state:\n"
        "      v: {type: int, default: 0}\n"
        "      s: {type: string, default: \"\"}\n"
        "      by: {type: string, default: \"\"}\n"
        "    commands:\n"
        "      Put:\n"
        "        payload: {boxId: string}\n"
        "        emit:\n"
        "          - Put: {}\n"
        "    events:\n"
        "      Put:\n"
        "        fields: {}\n"
        "        apply: {v: meta.version, s: meta.stream, by: meta.command}\n";
    char *with_text = subst(yaml, "SNAP", "2"), *without_text = subst(yaml, "SNAP", "1000");
    struct domain *with = load_domain(with_text), *without = load_domain(without_text);
    struct store *s = open_mem_store(0);
    for (int i = 0; i < 3; i++) {
        value payload = value_map(1);
        value_map_set(&payload, "boxId", value_cstring("b"));
        struct command_result res;
        command_result_init(&res);
        err e;
        assert_int_equal(run_command(s, with, "Put", payload, NULL, &res, &e), ST_OK);
        command_result_done(&res);
    }
    struct agg_state a, b;
    err e;
    err_clear(&e);
    const struct aggregate_spec *box = domain_aggregate(with, "Box");
    /* As of position 2: exactly the snapshot made while deciding, nothing replayed. */
    assert_int_equal(aggregate_load(s, with, box, "b", 2, false, &a, &e), ST_OK);
    assert_true(a.from_snapshot);
    assert_int_equal(a.replayed, 0);
    assert_int_equal(state_int(&a, "v"), 2);
    assert_string_equal(value_str(value_map_get(&a.state, "s")), "Box-b");
    assert_string_equal(value_str(value_map_get(&a.state, "by")), "Put");
    /* A replay from the first event, with no snapshot at all, agrees. */
    struct event_list evs;
    event_list_init(&evs);
    assert_int_equal(store_read_stream(s, "Box-b", 1, 0, 0, &evs, &e), ST_OK);
    b.state = aggregate_initial_state(box);
    for (size_t i = 0; i < evs.len && i < 2; i++)
        assert_int_equal(
            aggregate_fold(without, domain_aggregate(without, "Box"), &evs.items[i], &b.state, &e),
            ST_OK);
    assert_true(value_equal(&a.state, &b.state));
    event_list_done(&evs);
    agg_state_done(&a);
    value_free(b.state);
    store_close(s);
    domain_free(with);
    domain_free(without);
    free(with_text);
    free(without_text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_execute_and_load),
        cmocka_unit_test(test_rejections_and_validation),
        cmocka_unit_test(test_idempotent_command_id),
        cmocka_unit_test(test_expected_version),
        cmocka_unit_test(test_upcast_chain),
        cmocka_unit_test(test_events_are_valid),
        cmocka_unit_test(test_emit_is_checked),
        cmocka_unit_test(test_snapshots_bound_replay),
        cmocka_unit_test(test_property_snapshot_equals_full_replay),
        cmocka_unit_test(test_snapshot_hash_guards_changes),
        cmocka_unit_test(test_kept_state_is_exact),
        cmocka_unit_test(test_apply_reading_meta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
