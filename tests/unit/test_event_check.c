/* test_event_check.c: an event's data against its type's fields (core/event_check.c)
 * whatever the order of its keys: in the declared order (each field found at its
 * own place), in another order, with an optional field left out (the places after
 * it shift), with an undeclared key, and with a key that only starts like a field
 * (a NUL inside it): the same answers either way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/domain.h"
#include "core/event_check.h"
#include "core/json.h"

static const char yaml[] = "domain: t\n"
                           "aggregates:\n"
                           "  A:\n"
                           "    id: id\n"
                           "    commands:\n"
                           "      Put:\n"
                           "        payload: {id: string}\n"
                           "        emit:\n"
                           "          - Put: {a: '\"x\"', b: 1}\n"
                           "    events:\n"
                           "      Put:\n"
                           "        fields:\n"
                           "          a: string\n"
                           "          o: {type: int, optional: true}\n"
                           "          b: {type: int, min: 1}\n";

static int check(const struct event_spec *spec, const char *json, err *e)
{
    value v;
    err je;
    assert_int_equal(json_parse(json, strlen(json), &v, &je), ST_OK);
    err_clear(e);
    int rc = event_check_fields(spec, spec->version, &v, true, e);
    value_free(v);
    return rc;
}

static void test_any_order(void **unused)
{
    (void)unused;
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("t.yaml", yaml, sizeof yaml - 1, &diags);
    if (!d)
        diag_list_print(&diags, stderr);
    diag_list_done(&diags);
    assert_non_null(d);
    const struct event_spec *spec = domain_event(d, "Put");
    assert_non_null(spec);
    err e;
    assert_int_equal(check(spec, "{\"a\":\"x\",\"o\":2,\"b\":3}", &e), ST_OK);
    assert_int_equal(check(spec, "{\"b\":3,\"a\":\"x\",\"o\":2}", &e), ST_OK);
    assert_int_equal(check(spec, "{\"a\":\"x\",\"b\":3}", &e), ST_OK); /* o left out */
    assert_int_equal(check(spec, "{\"b\":3,\"a\":\"x\"}", &e), ST_OK);
    assert_int_equal(check(spec, "{\"a\":\"x\",\"o\":2,\"b\":0}", &e), ST_ERR);
    assert_non_null(strstr(e.msg, "field 'b'"));
    assert_int_equal(check(spec, "{\"b\":0,\"o\":2,\"a\":\"x\"}", &e), ST_ERR);
    assert_non_null(strstr(e.msg, "field 'b'"));
    assert_int_equal(check(spec, "{\"a\":7,\"o\":2,\"b\":3}", &e), ST_ERR);
    assert_non_null(strstr(e.msg, "field 'a'"));
    assert_int_equal(check(spec, "{\"a\":\"x\",\"o\":2}", &e), ST_ERR);
    assert_non_null(strstr(e.msg, "missing field 'b'"));
    assert_int_equal(check(spec, "{\"a\":\"x\",\"o\":2,\"b\":3,\"z\":1}", &e), ST_ERR);
    assert_non_null(strstr(e.msg, "unknown field 'z'"));
    /* "a\u0000b" is not "a": a is missing, and the key is not declared. */
    assert_int_equal(check(spec, "{\"a\\u0000b\":\"x\",\"o\":2,\"b\":3}", &e), ST_ERR);
    assert_non_null(strstr(e.msg, "missing field 'a'"));
    assert_int_equal(check(spec, "{\"a\\u0000b\":\"x\",\"a\":\"y\",\"b\":3}", &e), ST_ERR);
    assert_non_null(strstr(e.msg, "unknown field"));
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
