/* test_domain_types.c: unit tests for what the language's second round added to
 * domains (kept apart from test_domain.c, which is long already): record types
 * declared under `types:` (values checked deeply, with the path to what is
 * wrong; fields checked in expressions through records, lists and maps of
 * them), and rule messages with {EXPR} placeholders (compiled at load, filled
 * when the rule fails, `{?}` for one that cannot be evaluated). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/domain.h"
#include "core/domain_schema.h"
#include "core/json.h"
#include "core/rule_message.h"
#include "test_domain_fixture.h"

static const char DOMAIN[] =
    "domain: t\n"
    "types:\n"
    "  Booking:\n"
    "    guest: string\n"
    "    from: timestamp\n"
    "    status: {type: string, enum: [held, in]}\n"
    "    note: {type: string, optional: true}\n"
    "  Stay: {booking: Booking, nights: list<int>}\n"
    "aggregates:\n"
    "  Room:\n"
    "    id: roomId\n"
    "    state:\n"
    "      bookings: {type: \"map<Booking>\", default: {}}\n"
    "    commands:\n"
    "      Book:\n"
    "        payload: {roomId: string, id: string, stays: list<Stay>, tags: \"map<int>\"}\n"
    "        require:\n"
    "          - rule: \"!(payload.id in state.bookings)\"\n"
    "            message: \"{payload.id} is {state.bookings[payload.id].status} for "
    "{state.bookings[payload.id].guest}, {{not}} {1 / 0}}} {size(payload.stays)}\"\n"
    "        emit:\n"
    "          - Booked: {id: payload.id}\n"
    "    events:\n"
    "      Booked:\n"
    "        fields: {id: string}\n";

/* DOMAIN with its rule replaced by rule. */
static char *with_rule(const char *rule)
{
    const char *old = "!(payload.id in state.bookings)";
    const char *at = strstr(DOMAIN, old);
    return xasprintf("%.*s%s%s", (int)(at - DOMAIN), DOMAIN, rule, at + strlen(old));
}

static char *first_problem(const char *text)
{
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("t.yaml", text, strlen(text), &diags);
    assert_null(d);
    assert_true(diags.len > 0);
    char *m = xasprintf("%d:%d: %s: %s", diags.items[0].line, diags.items[0].col,
                        diags.items[0].path, diags.items[0].message);
    diag_list_done(&diags);
    return m;
}

/* The message field_check gives for json against f, or "ok". */
static char *check_json(const struct field_spec *f, const char *json)
{
    value v;
    err e = {0};
    assert_int_equal(json_parse(json, strlen(json), &v, &e), ST_OK);
    char *out = field_check(f, &v, &e) == ST_OK ? xstrdup("ok") : xstrdup(e.msg);
    value_free(v);
    return out;
}

static void expect_field(const struct field_spec *f, const char *json, const char *want)
{
    char *got = check_json(f, json);
    if (strcmp(got, want) != 0)
        fail_msg("%s:\n  want %s\n  got  %s", json, want, got);
    free(got);
}

static void test_values_checked_deeply(void **state)
{
    struct domain *d = load_domain(DOMAIN);
    const struct aggregate_spec *a = domain_aggregate(d, "Room");
    const struct field_spec *bookings = fields_find(a->state, a->nstate, "bookings");
    assert_non_null(bookings);
    char buf[64];
    assert_string_equal(field_type_name(bookings, buf, sizeof buf), "map<Booking>");
    expect_field(bookings,
                 "{\"b1\":{\"guest\":\"ann\",\"from\":\"2026-03-01T10:00:00Z\","
                 "\"status\":\"held\"}}",
                 "ok");
    expect_field(bookings,
                 "{\"b1\":{\"guest\":\"ann\",\"from\":\"2026-03-01T10:00:00Z\","
                 "\"status\":\"x\"}}",
                 "field 'bookings': ['b1'].status: \"x\" is not one of [\"held\",\"in\"]");
    expect_field(bookings, "{\"b1\":{\"guest\":\"ann\",\"status\":\"in\"}}",
                 "field 'bookings': ['b1'].from: missing (a required timestamp of Booking)");
    expect_field(bookings, "{\"b1\":{\"guest\":\"ann\",\"from\":\"2026-03-01\",\"status\":\"in\"}}",
                 "field 'bookings': ['b1'].from: \"2026-03-01\" is a date without a time; a "
                 "timestamp is an instant (ISO-8601 date-time with an offset or Z, e.g. "
                 "2026-11-27T10:00:00Z)");
    expect_field(bookings,
                 "{\"b1\":{\"guest\":\"ann\",\"from\":\"2026-03-01T10:00:00Z\","
                 "\"status\":\"in\",\"too\":1}}",
                 "field 'bookings': ['b1']: unknown field 'too' of Booking");
    expect_field(bookings, "{\"b1\":7}", "field 'bookings': ['b1']: expected Booking, got int 7");
    const struct command_spec *c = domain_command(d, "Book");
    const struct field_spec *stays = fields_find(c->payload, c->npayload, "stays");
    const struct field_spec *tags = fields_find(c->payload, c->npayload, "tags");
    expect_field(stays,
                 "[{\"booking\":{\"guest\":\"a\",\"from\":\"2026-03-01T10:00:00Z\","
                 "\"status\":\"in\"},\"nights\":[1,\"2\"]}]",
                 "field 'stays': [0].nights[1]: expected int, got string \"2\"");
    expect_field(stays,
                 "[{\"booking\":{\"guest\":1,\"from\":\"2026-03-01T10:00:00Z\","
                 "\"status\":\"in\"},\"nights\":[]}]",
                 "field 'stays': [0].booking.guest: expected string, got int 1");
    /* Timestamps inside are stored as the canonical text, as top-level ones. */
    value v;
    err e = {0};
    const char *sj = "[{\"booking\":{\"guest\":\"a\",\"from\":\"2026-03-01T10:00:00+02:00\","
                     "\"status\":\"in\"},\"nights\":[1]}]";
    assert_int_equal(json_parse(sj, strlen(sj), &v, &e), ST_OK);
    v = field_coerce_spec(stays, v);
    char *js = json_to_string(&v);
    assert_string_equal(js, "[{\"booking\":{\"guest\":\"a\",\"from\":\"2026-03-01T08:00:00.000Z\","
                            "\"status\":\"in\"},\"nights\":[1]}]");
    free(js);
    value_free(v);
    expect_field(tags, "{\"a\":1,\"b\":2.5}", "field 'tags': ['b']: expected int, got float 2.5");
    domain_free(d);
}

static void test_fields_checked_in_expressions(void **state)
{
    char *text = with_rule("state.bookings['x'].sttus == 'in'");
    char *m = first_problem(text);
    assert_string_equal(m, "18:40: aggregates.Room.commands.Book.require[0].rule: unknown field "
                           "'sttus' of Booking (did you mean 'status'?)");
    free(m);
    free(text);
    /* Through a list of records to a record inside: types are known on the way. */
    /* A macro's variable over a list of records is one of them. */
    text = with_rule("payload.stays.all(s, s.booking.gest != '')");
    m = first_problem(text);
    assert_string_equal(m, "18:51: aggregates.Room.commands.Book.require[0].rule: unknown field "
                           "'gest' of Booking (did you mean 'guest'?)");
    free(m);
    free(text);
    text = with_rule("payload.stays.all(s, s.nights.all(n, n + 'x' != ''))");
    m = first_problem(text);
    assert_string_equal(m, "18:59: aggregates.Room.commands.Book.require[0].rule: no such "
                           "overload: int + string");
    free(m);
    free(text);
    text = with_rule("payload.stays[0].booking.from + 1 > now()");
    m = first_problem(text);
    assert_string_equal(m, "18:50: aggregates.Room.commands.Book.require[0].rule: no such "
                           "overload: timestamp + int");
    free(m);
    free(text);
}

static void test_message_placeholders(void **state)
{
    struct domain *d = load_domain(DOMAIN);
    const struct command_spec *c = domain_command(d, "Book");
    const struct rule_spec *r = &c->require[0];
    assert_int_equal(r->nholes, 5);
    value payload, st;
    err e = {0};
    const char *pj = "{\"roomId\":\"1\",\"id\":\"b1\",\"stays\":[1,2],\"tags\":{}}";
    const char *sj = "{\"bookings\":{\"b1\":{\"guest\":\"ann\",\"status\":\"held\"}}}";
    assert_int_equal(json_parse(pj, strlen(pj), &payload, &e), ST_OK);
    assert_int_equal(json_parse(sj, strlen(sj), &st, &e), ST_OK);
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[ROOT_PAYLOAD] = payload;
    vars.roots[ROOT_STATE] = st;
    char *m = rule_message(r, &vars);
    assert_string_equal(m, "b1 is held for ann, {not} {?}} 2");
    free(m);
    value_free(payload);
    value_free(st);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_checked_deeply),
        cmocka_unit_test(test_fields_checked_in_expressions),
        cmocka_unit_test(test_message_placeholders),
    };
    return cmocka_run_group_tests_name("domain_types", tests, NULL, NULL);
}
