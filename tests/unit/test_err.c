/* test_err.c: the error carrier (core/util.h, `err`): the place prefix and its
 * parts, the message without its place, context added on the way up (the place
 * stays in front), truncation, and errors that the JSON parser, the expression
 * compiler and the readers fill through it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/expr.h"
#include "core/json.h"
#include "core/reader.h"
#include "core/util.h"

static void test_place_forms(void **st)
{
    err e;
    err_clear(&e);
    assert_int_equal(err_set_at(&e, ST_ERR, "a.ndjson", 3, 7, "bad %s", "thing"), ST_ERR);
    assert_string_equal(e.msg, "a.ndjson:3:7: error: bad thing");
    assert_string_equal(err_what(&e), "bad thing");
    assert_string_equal(e.file, "a.ndjson");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 7);
    assert_int_equal(e.code, ST_ERR);

    /* unknown parts are left out */
    err_set_at(&e, ST_ERR, "a.ndjson", 3, 0, "x");
    assert_string_equal(e.msg, "a.ndjson:3: error: x");
    err_set_at(&e, ST_USAGE, "a.ndjson", 0, 0, "x");
    assert_string_equal(e.msg, "a.ndjson: error: x");
    assert_int_equal(e.code, ST_USAGE);
    /* a column without a line says nothing a reader could find */
    err_set_at(&e, ST_ERR, "a.ndjson", 0, 5, "x");
    assert_string_equal(e.msg, "a.ndjson: error: x");

    /* no file: the parts are kept, the message is the caller's to word */
    err_set_at(&e, ST_ERR, NULL, 2, 9, "unexpected '}'");
    assert_string_equal(e.msg, "unexpected '}'");
    assert_string_equal(e.file, "");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 9);
    assert_string_equal(err_what(&e), "unexpected '}'");

    /* the one renderer, for printers that keep their own parts (domain diagnostics) */
    strbuf sb;
    sb_init(&sb);
    err_format_place(&sb, "d.yaml", 12, 5);
    assert_string_equal(sb.buf, "d.yaml:12:5: error: ");
    sb_reset(&sb);
    err_format_place(&sb, "", 12, 5);
    assert_int_equal(sb.len, 0);
    sb_done(&sb);

    /* a NULL err is ignored, and the code still comes back */
    assert_int_equal(err_set_at(NULL, ST_CONFLICT, "f", 1, 1, "x"), ST_CONFLICT);
}

static void test_set_forgets_the_place(void **st)
{
    err e;
    err_clear(&e);
    err_set_at(&e, ST_ERR, "a.csv", 4, 2, "x");
    err_set(&e, ST_NOT_FOUND, "no stream %s", "S");
    assert_string_equal(e.msg, "no stream S");
    assert_string_equal(e.file, "");
    assert_int_equal(e.line, 0);
    assert_int_equal(e.col, 0);
    assert_string_equal(err_what(&e), "no stream S");
    err_set_at(&e, ST_ERR, "a.csv", 4, 2, "x");
    err_clear(&e);
    assert_int_equal(e.code, ST_OK);
    assert_string_equal(e.msg, "");
    assert_string_equal(e.file, "");
    assert_int_equal(e.line, 0);
}

static void test_prefix_keeps_the_place_in_front(void **st)
{
    err e;
    err_clear(&e);
    err_set(&e, ST_ERR, "division by zero");
    err_prefix(&e, "projection %s", "Balances");
    assert_string_equal(e.msg, "projection Balances: division by zero");

    err_set_at(&e, ST_ERR, "b.json", 2, 4, "unexpected end");
    err_prefix(&e, "invalid JSON");
    assert_string_equal(e.msg, "b.json:2:4: error: invalid JSON: unexpected end");
    assert_string_equal(err_what(&e), "invalid JSON: unexpected end");
    assert_int_equal(e.line, 2);
}

static void test_placing_again_and_long_names(void **st)
{
    err e;
    err_clear(&e);
    /* an error placed again with its own file name (the buffers overlap) */
    err_set_at(&e, ST_ERR, "c.ndjson", 1, 0, "first");
    err_set_at(&e, ST_ERR, e.file, 9, 0, "second");
    assert_string_equal(e.msg, "c.ndjson:9: error: second");

    /* a file name longer than the file buffer: msg keeps it whole, file is cut */
    char name[600];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    err_set_at(&e, ST_ERR, name, 1, 1, "x");
    assert_int_equal(strlen(e.file), ERR_FILE_MAX - 1);
    assert_int_equal(strncmp(e.msg, name, sizeof name - 1), 0);
    assert_string_equal(e.msg + sizeof name - 1, ":1:1: error: x");

    /* a message longer than msg is cut, still NUL-terminated, err_what inside it */
    char big[3000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_set_at(&e, ST_ERR, "f", 1, 1, "%s", big);
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
    assert_int_equal(strncmp(e.msg, "f:1:1: error: bbb", 17), 0);
    assert_true(err_what(&e) >= e.msg && err_what(&e) <= e.msg + strlen(e.msg));
    /* a place prefix that alone fills msg leaves an empty what, not one past the end */
    char huge[2000];
    memset(huge, 'h', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    err_set_at(&e, ST_ERR, huge, 1, 1, "lost");
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
    assert_string_equal(err_what(&e), "");
    err_prefix(&e, "ctx"); /* nothing to put it in front of, and nothing overflows */
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
}

/* The carriers that were separate structs before: each fills an err now. */
static void test_parsers_fill_err(void **st)
{
    err e;
    value v;
    assert_int_equal(json_parse("{\n  \"a\": }", 10, &v, &e), ST_ERR);
    assert_int_equal(e.code, ST_ERR);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 8);
    assert_int_equal(e.offset, 9);
    assert_string_equal(e.file, "");
    assert_non_null(strstr(e.msg, "expected a value"));

    assert_null(expr_compile("1 +", 3, NULL, &e));
    assert_int_equal(e.code, ST_ERR);
    assert_true(e.col >= 1 && e.col <= 4);
    assert_string_equal(e.file, "");
    assert_true(e.msg[0] != '\0');

    /* a reader's fatal error is placed in its file; a bad record's reason is not
     * (record_where says where), but keeps the column for it */
    struct reader_options o = {SRC_JSON, NULL, 0, false};
    const char *doc = "\n\n[1,\n 2 x]";
    assert_null(reader_open_buffer("d.json", doc, strlen(doc), &o, &e));
    assert_string_equal(e.file, "d.json");
    assert_int_equal(e.line, 4);
    assert_int_equal(e.col, 4);
    assert_non_null(strstr(e.msg, "d.json:4:4: error: invalid JSON: "));

    struct reader_options nd = {SRC_NDJSON, NULL, 0, false};
    const char *lines = "{\"a\":1}\n{\"a\" 1}\n";
    struct reader *r = reader_open_buffer("n.ndjson", lines, strlen(lines), &nd, &e);
    assert_non_null(r);
    struct record rec;
    assert_int_equal(reader_next(r, &rec, &e), 1);
    assert_false(rec.bad);
    assert_int_equal(reader_next(r, &rec, &e), 1);
    assert_true(rec.bad);
    assert_int_equal(rec.reason.line, 2);
    assert_int_equal(rec.reason.col, 6);
    assert_non_null(strstr(rec.reason.msg, "invalid JSON: "));
    strbuf where;
    sb_init(&where);
    record_where(r, &rec, &where);
    assert_string_equal(where.buf, "n.ndjson:2:6");
    sb_done(&where);
    reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place_forms),
        cmocka_unit_test(test_set_forgets_the_place),
        cmocka_unit_test(test_prefix_keeps_the_place_in_front),
        cmocka_unit_test(test_placing_again_and_long_names),
        cmocka_unit_test(test_parsers_fill_err),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
