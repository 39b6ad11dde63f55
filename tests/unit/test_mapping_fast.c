/* test_mapping_fast.c: a source's simple expressions evaluated without the
 * evaluator (core/expr_fast.c) against expr_eval, record by record; and a CSV
 * import through both paths (import_options.slow_paths), which must leave the
 * same store and say the same things about bad records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/event_format.h"
#include "core/expr.h"
#include "core/import.h"
#include "core/json.h"
#include "core/mapping.h"

#include "test_import_fixture.h"

static const char *const planned[] = {
    "record.kind",
    "'Account-' + record.account",
    "record.a + '-' + record.b + '/' + 'x'",
    "{'amount': int(record.amount)}",
    "{'amount': int(record.amount), 'kind': record.kind, 'n': record.n}",
};

static const char *const unplanned[] = {
    "record.kind.size()",
    "int(record.amount)",
    "{'a': double(record.amount)}",
    "record['kind']",
    "{1: record.kind}",
    "{'a': record.kind, 'a': record.n}",
    "'x' + 'y'",
    "record.n + 1",
    "{'a': int(record.amount) + 1}",
    "payload.kind",
    "{}",
};

static const char *const records[] = {
    "{\"kind\":\"MoneyDeposited\",\"account\":\"42\",\"a\":\"A\",\"b\":\"B\",\"amount\":\"392\","
    "\"n\":7}",
    "{\"kind\":\"\",\"account\":\"\",\"a\":\"\",\"b\":\"\",\"amount\":\"0\",\"n\":null}",
    "{\"kind\":\"K\",\"account\":\"é\",\"a\":\"1\",\"b\":\"2\",\"amount\":\"-17\",\"n\":1.5}",
    "{\"kind\":\"K\",\"account\":\"1\",\"a\":\"1\",\"b\":\"2\",\"amount\":\"+0017\",\"n\":true}",
    "{\"kind\":\"K\",\"account\":\"1\",\"a\":\"1\",\"b\":\"2\",\"amount\":17,\"n\":\"s\"}",
    "{\"kind\":\"K\",\"account\":\"1\",\"a\":\"1\",\"b\":\"2\",\"amount\":\"1x\",\"n\":[1]}",
    "{\"kind\":\"K\",\"account\":\"1\",\"a\":\"1\",\"b\":\"2\",\"amount\":\"99999999999999999999\","
    "\"n\":{\"x\":1}}",
    "{\"kind\":\"K\",\"account\":\"1\",\"a\":\"1\",\"b\":\"2\",\"amount\":\"-\",\"n\":0}",
    "{\"kind\":\"K\",\"account\":\"1\",\"a\":\"1\",\"b\":\"2\",\"amount\":1.5,\"n\":0}",
    "{\"kind\":1,\"account\":2,\"a\":null,\"b\":\"2\",\"amount\":\"\",\"n\":0}",
    "{\"amount\":\"5\",\"kind\":\"K\",\"n\":2,\"account\":\"9\",\"b\":\"y\",\"a\":\"x\"}",
    "{\"n\":3,\"b\":\"q\",\"a\":\"p\",\"amount\":\"6\",\"account\":\"8\",\"kind\":\"L\"}",
    "{\"account\":\"1\"}",
    "{}",
    "[1,2]",
    "\"text\"",
};

/* Every planned expression against every record: where the fast form takes the
 * record, its value is expr_eval's; where it does not, expr_eval decides. */
static void test_fast_as_the_evaluator(void **st)
{
    size_t taken = 0, jsoned = 0, texted = 0;
    for (size_t i = 0; i < sizeof planned / sizeof planned[0]; i++) {
        expr *x = compile(planned[i]);
        struct expr_fast *f = expr_fast_plan(x, ROOT_RECORD);
        if (!f)
            fail_msg("no plan for %s", planned[i]);
        for (size_t j = 0; j < sizeof records / sizeof records[0]; j++) {
            value rec = parse(records[j]);
            struct expr_vars vars;
            memset(&vars, 0, sizeof vars);
            for (int k = 0; k < ROOT_COUNT; k++)
                vars.roots[k] = value_null();
            vars.roots[ROOT_RECORD] = rec;
            value slow, fast;
            err e;
            err_clear(&e);
            int rc = expr_eval(x, &vars, &slow, &e);
            /* a string's text without the value: the evaluator's string */
            char buf[EXPR_FAST_TEXT_MAX];
            size_t len = 0;
            const char *text = expr_fast_text(f, &rec, buf, &len);
            if (text) {
                texted++;
                if (rc != ST_OK || slow.type != V_STRING || value_strlen(&slow) != len ||
                    memcmp(value_str(&slow), text, len) != 0)
                    fail_msg("%s on %s: fast text and evaluator differ", planned[i], records[j]);
                assert_true(expr_fast_eval(f, &rec, &fast));
                value_free(fast);
            }
            if (expr_fast_eval(f, &rec, &fast)) {
                taken++;
                if (rc != ST_OK)
                    fail_msg("%s on %s: fast took what the evaluator refuses (%s)", planned[i],
                             records[j], e.msg);
                if (!value_equal(&fast, &slow))
                    fail_msg("%s on %s: fast and evaluator differ", planned[i], records[j]);
                char *a = json_to_string(&fast), *b = json_to_string(&slow);
                assert_string_equal(a, b);
                /* a map's text written straight, as json_write writes the value */
                strbuf sb;
                sb_init(&sb);
                if (expr_fast_json(f, &rec, &sb)) {
                    assert_int_equal(slow.type, V_MAP);
                    assert_string_equal(sb.buf, b);
                    jsoned++;
                } else {
                    assert_int_not_equal(slow.type, V_MAP);
                    assert_int_equal(sb.len, 0);
                }
                sb_done(&sb);
                free(a);
                free(b);
                value_free(fast);
            }
            if (rc == ST_OK)
                value_free(slow);
            value_free(rec);
        }
        expr_fast_free(f);
        expr_free(x);
    }
    assert_true(taken >= 20); /* the fast form is used, not always refused */
    assert_true(jsoned >= 8);
    assert_true(texted >= 12);
    for (size_t i = 0; i < sizeof unplanned / sizeof unplanned[0]; i++) {
        expr *x = compile(unplanned[i]);
        struct expr_fast *f = expr_fast_plan(x, ROOT_RECORD);
        if (f)
            fail_msg("a plan for %s", unplanned[i]);
        expr_free(x);
    }
    assert_null(expr_fast_plan(NULL, ROOT_RECORD));
}

static char *run(const struct source_spec *src, char *file, bool skip_bad, bool slow)
{
    err e;
    err_clear(&e);
    struct store_options so = STORE_OPTIONS_DEFAULT;
    struct store *s = store_open(":memory:", &so, &e);
    assert_non_null(s);
    FILE *errs = tmpfile();
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.source = src;
    o.errors = errs;
    o.skip_bad = skip_bad;
    o.slow_paths = slow;
    struct import_result res;
    char *files[] = {file};
    int rc = import_files(s, files, 1, &o, &res, &e);
    strbuf sb;
    sb_init(&sb);
    rewind(errs);
    char buf[1024];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, errs)) > 0)
        sb_add(&sb, buf, got);
    fclose(errs);
    sb_addf(&sb, "status %d %s; records %lld imported %lld bad %lld present %lld skipped %lld\n",
            rc, rc == ST_OK ? "" : e.msg, (long long)res.records, (long long)res.imported,
            (long long)res.bad, (long long)res.present, (long long)res.skipped);
    char *exported = export_all(s, EXPORT_NDJSON);
    sb_adds(&sb, exported);
    free(exported);
    store_close(s);
    return sb_steal(&sb);
}

static void test_csv_import_both_paths_alike(void **st)
{
    char *file = write_temp("account,kind,ts,amount\r\n"
                            "1,MoneyDeposited,2026-01-01T00:00:00.000Z,392\r\n"
                            "22,MoneyWithdrawn,2026-01-01T00:00:01Z,17\r\n"
                            "1,MoneyDeposited,2026-01-01T00:00:00.000Z,392\r\n"
                            "3,MoneyDeposited,2026-01-01 00:00:02,+05\r\n"
                            "4,MoneyDeposited,2026-01-01T00:00:03Z,12x\r\n"
                            "5,,2026-01-01T00:00:04Z,1\r\n"
                            "6,MoneyDeposited,yesterday,1\r\n"
                            "7,MoneyDeposited,2026-01-01T00:00:05Z,99999999999999999999\r\n"
                            "8,MoneyDeposited,2026-01-01T00:00:06Z,-3\r\n"
                            "1,MoneyDeposited,2026-01-01T00:00:00.000Z,392\r\n"
                            /* canonical-looking times, in range or not (mapping.c takes a
                             * canonical one without parsing it) */
                            "9,MoneyDeposited,2024-02-29T23:59:59.999Z,1\r\n"
                            "9,MoneyDeposited,2023-02-29T00:00:00.000Z,1\r\n"
                            "9,MoneyDeposited,2026-13-01T00:00:00.000Z,1\r\n"
                            "9,MoneyDeposited,2026-01-01T24:00:00.000Z,1\r\n"
                            "9,MoneyDeposited,2026-01-01T00:00:60.000Z,1\r\n"
                            "9,MoneyDeposited,0000-01-01T00:00:00.000Z,1\r\n"
                            "9,MoneyDeposited,2026-01-01T00:00:00.000z,1\r\n"
                            "9,MoneyDeposited, 2026-01-01T00:00:00.000Z,1\r\n"
                            /* a type given as a number in the text is still a string */
                            "10,17,2026-01-01T00:00:07.000Z,1\r\n");
    struct source_spec src;
    memset(&src, 0, sizeof src);
    src.name = "legacy-csv";
    src.format = SRC_CSV;
    src.stream = compile("'Account-' + record.account");
    src.type = compile("record.kind");
    src.time = compile("record.ts");
    src.data = compile("{'amount': int(record.amount), 'kind': record.kind}");
    for (int skip = 0; skip < 2; skip++) {
        char *fast = run(&src, file, skip, false), *slow = run(&src, file, skip, true);
        assert_string_equal(fast, slow);
        if (skip) /* the good rows were imported, the bad ones named */
            assert_non_null(strstr(fast, "imported 11 bad 8 present 0"));
        free(fast);
        free(slow);
    }
    expr_free(src.stream);
    expr_free(src.type);
    expr_free(src.time);
    expr_free(src.data);
    unlink(file);
    free(file);
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* mapping_apply_bufs, one set of buffers reused record after record (strings
 * longer, then shorter, fast paths and the evaluator's), gives what
 * mapping_apply_planned gives with strings of the event's own. */
static void test_bufs_as_owned(void **st)
{
    static const char *const slots[][5] = {
        /* stream, type, time, data, meta */
        {"'Account-' + record.account", "record.kind", NULL, "{'amount': int(record.amount)}",
         NULL},
        {"record.a + '-' + record.b + '/' + 'x'", "record.kind", NULL, NULL, "{'n': record.n}"},
        {"record.account", "record.kind.size()", NULL, "int(record.amount)", "{}"},
        {"record['kind']", "record.n + 1", NULL, "{'a': record.kind, 'a': record.n}", NULL},
        {"record.kind", "record.account", NULL, "record.n", "record.n"},
    };
    size_t ok = 0, bad_ones = 0;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        struct source_spec src;
        memset(&src, 0, sizeof src);
        src.name = "m";
        src.format = SRC_NDJSON;
        src.stream = compile(slots[i][0]);
        src.type = compile(slots[i][1]);
        src.data = slots[i][3] ? compile(slots[i][3]) : NULL;
        src.meta = slots[i][4] ? compile(slots[i][4]) : NULL;
        struct mapping_plan plan;
        mapping_plan_init(&plan, &src);
        struct mapped_bufs bufs;
        mapped_bufs_init(&bufs);
        for (int round = 0; round < 2; round++)
            for (size_t j = 0; j < sizeof records / sizeof records[0]; j++) {
                value rec = parse(records[j]);
                struct mapped_event a, b;
                char ra[256] = "", rb[256] = "";
                int ca = mapping_apply_planned(&src, &plan, &rec, 1000, &a, ra, sizeof ra);
                int cb = mapping_apply_bufs(&src, &plan, &rec, 1000, &bufs, &b, rb, sizeof rb);
                assert_int_equal(ca, cb);
                assert_string_equal(ra, rb);
                if (ca == MAP_OK) {
                    ok++;
                    assert_false(a.borrowed);
                    assert_true(b.borrowed);
                    assert_string_equal(a.stream, b.stream);
                    assert_string_equal(a.type, b.type);
                    assert_string_equal(a.time, b.time);
                    assert_true(a.time_ms == b.time_ms && a.schema == b.schema);
                    assert_string_equal(a.data, b.data);
                    assert_true(same_text(a.meta, b.meta));
                } else {
                    bad_ones++;
                }
                mapped_event_done(&a);
                mapped_event_done(&b); /* frees nothing: the strings are the buffers' */
                value_free(rec);
            }
        mapped_bufs_done(&bufs);
        mapping_plan_done(&plan);
        expr_free(src.stream);
        expr_free(src.type);
        expr_free(src.data);
        expr_free(src.meta);
    }
    assert_true(ok >= 20);
    assert_true(bad_ones >= 10);
}

/* Runs of one stream longer than a batch (BATCH_MAX, import.c), of one row, and
 * of a few, so that events wait in batches of every size with their strings in
 * the importer's reused buffers: the same store as with strings of their own. */
static void test_csv_import_batches_both_paths_alike(void **st)
{
    strbuf csv;
    sb_init(&csv);
    sb_adds(&csv, "account,kind,ts,amount\n");
    static const int runs[] = {1, 1, 3, 700, 1, 513, 512, 2, 1, 40, 1};
    int row = 0;
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
        for (int k = 0; k < runs[r]; k++, row++)
            sb_addf(&csv, "%s%zu,%s,2026-01-01T00:%02d:%02d.%03dZ,%d\n", r % 2 ? "long-name-" : "",
                    r % 4, k % 3 ? "MoneyDeposited" : "Opened", row / 3600 % 60, row / 60 % 60,
                    row % 1000, row % 7 == 0 ? 1 : row);
    char *file = write_temp(csv.buf);
    sb_done(&csv);
    struct source_spec src;
    memset(&src, 0, sizeof src);
    src.name = "legacy-csv";
    src.format = SRC_CSV;
    src.stream = compile("'Account-' + record.account");
    src.type = compile("record.kind");
    src.time = compile("record.ts");
    src.data = compile("{'amount': int(record.amount), 'kind': record.kind}");
    char *fast = run(&src, file, false, false), *slow = run(&src, file, false, true);
    assert_string_equal(fast, slow);
    assert_non_null(strstr(fast, "imported 1775 bad 0"));
    free(fast);
    free(slow);
    expr_free(src.stream);
    expr_free(src.type);
    expr_free(src.time);
    expr_free(src.data);
    unlink(file);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_as_the_evaluator),
        cmocka_unit_test(test_csv_import_both_paths_alike),
        cmocka_unit_test(test_bufs_as_owned),
        cmocka_unit_test(test_csv_import_batches_both_paths_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
