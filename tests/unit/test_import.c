/* test_import.c: mapping records to events (core/mapping.c), the canonical line
 * checks, version continuity, the import engine's all-or-nothing transaction and
 * --sort time (core/import.c), and the export formats. */
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
#include "core/import.h"
#include "core/import_identity.h"
#include "core/json.h"
#include "core/mapping.h"
#include "core/reader.h"

#include "test_import_fixture.h"

static void source_clear(struct source_spec *s)
{
    expr *xs[] = {s->skip, s->stream, s->type, s->time, s->data, s->meta};
    for (size_t i = 0; i < 6; i++)
        if (xs[i])
            expr_free(xs[i]);
    memset(s, 0, sizeof *s);
}

static void test_canonical_keeps_bytes(void **st)
{
    const char *line =
        "{\"position\":7,\"stream\":\"S\",\"version\":2,\"type\":\"T\",\"schema\":3,"
        "\"time\":\"2026-01-01 10:00:00+01:00\",\"data\":{ \"a\" : [1, {\"}\":\"\\\"]\"}] },"
        "\"meta\":{\"k\":1.50}}";
    value v = parse(line);
    struct mapped_event ev;
    char reason[512];
    assert_int_equal(canonical_parse(&v, line, strlen(line), &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.stream, "S");
    assert_int_equal(ev.version, 2);
    assert_int_equal(ev.schema, 3);
    assert_string_equal(ev.time, "2026-01-01T09:00:00.000Z");
    assert_string_equal(ev.data, "{ \"a\" : [1, {\"}\":\"\\\"]\"}] }");
    assert_string_equal(ev.meta, "{\"k\":1.50}");
    mapped_event_done(&ev);
    value_free(v);

    /* duplicate keys: the last wins, as in the parsed value */
    line = "{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
           "\"data\":{\"x\":1},\"data\":{\"y\":2}}";
    v = parse(line);
    assert_int_equal(canonical_parse(&v, line, strlen(line), &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.data, "{\"y\":2}");
    assert_null(ev.meta);
    mapped_event_done(&ev);
    value_free(v);
}

static void expect_canonical_bad(const char *line, const char *want)
{
    value v = parse(line);
    struct mapped_event ev;
    char reason[512];
    assert_int_equal(canonical_parse(&v, line, strlen(line), &ev, reason, sizeof reason), MAP_BAD);
    assert_string_equal(reason, want);
    value_free(v);
}

static void test_canonical_errors(void **st)
{
    expect_canonical_bad("{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:"
                         "00:00Z\",\"data\":{},\"strem\":1}",
                         "unknown key 'strem' (did you mean 'stream'?) (an event has position, "
                         "stream, version, type, schema, time, data, meta)");
    expect_canonical_bad(
        "{\"stream\":\"S\",\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\",\"data\":{}}",
        "missing key 'version'");
    expect_canonical_bad("{\"stream\":\"S\",\"version\":0,\"type\":\"T\",\"time\":\"2026-01-01T00:"
                         "00:00Z\",\"data\":{}}",
                         "'version' must be an integer >= 1, got a smaller one");
    expect_canonical_bad(
        "{\"stream\":\"S\",\"version\":1,\"type\":3,\"time\":\"2026-01-01T00:00:00Z\",\"data\":{}}",
        "'type' must be a non-empty string, got int");
    expect_canonical_bad("{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"time\":\"2026-13-01T00:"
                         "00:00Z\",\"data\":{}}",
                         "unreadable time '2026-13-01T00:00:00Z' (expected ISO-8601, e.g. "
                         "2026-11-27T10:00:00.123Z)");
    expect_canonical_bad("{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:"
                         "00:00Z\",\"data\":\"x\"}",
                         "'data' must be a JSON object, got string");
    expect_canonical_bad("{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"position\":-1,\"time\":"
                         "\"2026-01-01T00:00:00Z\",\"data\":{}}",
                         "'position' must be an integer >= 1, got a smaller one");
}

static void test_mapping_expressions(void **st)
{
    struct source_spec s;
    memset(&s, 0, sizeof s);
    s.format = SRC_CSV;
    s.skip = compile("record.kind == 'noise'");
    s.stream = compile("'Account-' + record.account");
    s.type = compile("record.kind");
    s.time = compile("record.ts");
    s.data = compile("{'amount': int(record.amount)}");
    s.timezone_min = 120;
    struct mapped_event ev;
    char reason[512];

    value r = parse(
        "{\"account\":\"A\",\"kind\":\"Dep\",\"ts\":\"2026-01-01 12:00:00\",\"amount\":\"5\"}");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.stream, "Account-A");
    assert_string_equal(ev.type, "Dep");
    assert_string_equal(ev.time, "2026-01-01T10:00:00.000Z"); /* the source's +02:00 */
    assert_string_equal(ev.data, "{\"amount\":5}");
    assert_null(ev.meta);
    assert_int_equal(ev.version, 0);
    mapped_event_done(&ev);
    value_free(r);

    r = parse("{\"account\":\"A\",\"kind\":\"noise\",\"ts\":\"x\",\"amount\":\"5\"}");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_SKIP);
    value_free(r);

    r = parse("{\"account\":\"A\",\"kind\":\"Dep\",\"ts\":\"2026-01-01\",\"amount\":\"five\"}");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_BAD);
    assert_true(strncmp(reason, "data: ", 6) == 0);
    value_free(r);

    r = parse("{\"account\":\"A\",\"kind\":7,\"ts\":\"2026-01-01\",\"amount\":\"5\"}");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.type, "7"); /* an int names a type in decimal */
    mapped_event_done(&ev);
    value_free(r);

    r = parse("{\"account\":\"A\",\"kind\":[1],\"ts\":\"2026-01-01\",\"amount\":\"5\"}");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_BAD);
    assert_string_equal(reason, "type must be a string, got list");
    value_free(r);

    /* no time expression: the import's time; no data expression: the whole record,
     * wrapped when it is not an object */
    expr_free(s.time);
    s.time = NULL;
    expr_free(s.data);
    s.data = NULL;
    r = parse("{\"account\":\"B\",\"kind\":\"K\"}");
    assert_int_equal(mapping_apply(&s, &r, 86400000, &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.time, "1970-01-02T00:00:00.000Z");
    assert_string_equal(ev.data, "{\"account\":\"B\",\"kind\":\"K\"}");
    mapped_event_done(&ev);
    value_free(r);
    source_clear(&s);

    s.format = SRC_NDJSON;
    s.stream = compile("'s'");
    s.type = compile("'t'");
    s.data = compile("record");
    r = parse("[1,2]");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.data, "{\"value\":[1,2]}");
    mapped_event_done(&ev);
    value_free(r);
    r = parse("null");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.data, "{}");
    mapped_event_done(&ev);
    value_free(r);
    source_clear(&s);

    err e;
    s.format = SRC_CSV;
    assert_int_equal(mapping_check_source(&s, &e), ST_USAGE);
    s.format = SRC_CLOUDEVENTS;
    assert_int_equal(mapping_check_source(&s, &e), ST_OK);
}

static void test_mapping_cloudevents_defaults(void **st)
{
    struct source_spec s;
    memset(&s, 0, sizeof s);
    s.format = SRC_CLOUDEVENTS;
    struct mapped_event ev;
    char reason[512];
    value r =
        parse("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/"
              "shop\",\"subject\":\"o-1\",\"type\":\"placed\","
              "\"time\":\"2026-03-01T09:00:00+01:00\",\"ext\":5,\"note\":null,\"data\":{\"n\":1}}");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.stream, "/shop/o-1");
    assert_string_equal(ev.type, "placed");
    assert_string_equal(ev.time, "2026-03-01T08:00:00.000Z");
    assert_string_equal(ev.data, "{\"n\":1}");
    assert_string_equal(ev.meta, "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/"
                                 "shop\",\"subject\":\"o-1\",\"ext\":5}");
    mapped_event_done(&ev);
    value_free(r);

    r = parse("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/"
              "shop\",\"type\":\"t\",\"data_base64\":\"AA==\"}");
    assert_int_equal(mapping_apply(&s, &r, 5, &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.stream, "/shop");
    assert_string_equal(ev.time, "1970-01-01T00:00:00.005Z"); /* no time: the import's */
    assert_string_equal(ev.data, "{\"data_base64\":\"AA==\"}");
    mapped_event_done(&ev);
    value_free(r);

    /* an expression overrides a default */
    s.stream = compile("record.subject");
    r = parse("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/"
              "shop\",\"subject\":\"o-9\",\"type\":\"t\"}");
    assert_int_equal(mapping_apply(&s, &r, 0, &ev, reason, sizeof reason), MAP_OK);
    assert_string_equal(ev.stream, "o-9");
    mapped_event_done(&ev);
    value_free(r);
    source_clear(&s);
}

static struct store *mem_store(void)
{
    err e;
    struct store_options o = STORE_OPTIONS_DEFAULT;
    struct store *s = store_open(":memory:", &o, &e);
    if (!s)
        fail_msg("store: %s", e.msg);
    return s;
}

/* A CSV row's identity is the mapping's name, the hash of its names and fields
 * laid out as name 0x1f field 0x1e (import.c, record_text) and its occurrence:
 * pinned here byte for byte, empty fields and names included, so that a faster
 * way of writing that text cannot change which rows count as imported. */
static void test_csv_identity_bytes(void **st)
{
    char *file = write_temp("a,,c\n1,,\xc3\xa9\n,x,\n1,,\xc3\xa9\n");
    struct source_spec src;
    memset(&src, 0, sizeof src);
    src.name = "ids";
    src.format = SRC_CSV;
    src.stream = compile("'S'");
    src.type = compile("'T'");
    struct store *s = mem_store();
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.source = &src;
    o.errors = stderr;
    struct import_result res;
    err e;
    err_clear(&e);
    char *files[] = {file};
    assert_int_equal(import_files(s, files, 1, &o, &res, &e), ST_OK);
    assert_int_equal(res.imported, 3);
    static const struct {
        const char *text;
        uint32_t occ;
    } rows[] = {
        {"a\x1f"
         "1\x1e\x1f\x1e"
         "c\x1f\xc3\xa9\x1e",
         1},
        {"a\x1f\x1e\x1fx\x1e"
         "c\x1f\x1e",
         1},
        {"a\x1f"
         "1\x1e\x1f\x1e"
         "c\x1f\xc3\xa9\x1e",
         2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        unsigned char h[IDENTITY_LEN], id[IDENTITY_LEN];
        hash128(rows[i].text, strlen(rows[i].text), 0, h);
        identity_of_raw("ids", h, rows[i].occ, id);
        bool present = false;
        assert_int_equal(store_ledger_has(s, id, &present, &e), ST_OK);
        assert_true(present);
        identity_of_raw("ids", h, 3, id); /* no third of either row */
        assert_int_equal(store_ledger_has(s, id, &present, &e), ST_OK);
        assert_false(present);
    }
    store_close(s);
    expr_free(src.stream);
    expr_free(src.type);
    unlink(file);
    free(file);
}

static void test_version_check(void **st)
{
    struct store *s = mem_store();
    err e;
    struct new_event ne = {"T", 1, NULL, "{}", NULL};
    assert_int_equal(store_append(s, "S", STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e), ST_OK);
    struct version_check vc;
    version_check_init(&vc);
    char reason[512];
    assert_int_equal(version_check_next(&vc, s, "S", 1, reason, sizeof reason, &e), MAP_BAD);
    assert_string_equal(reason, "version 1 of S is already taken (the stream is at version 1)");
    assert_int_equal(version_check_next(&vc, s, "S", 2, reason, sizeof reason, &e), MAP_OK);
    assert_int_equal(version_check_next(&vc, s, "S", 2, reason, sizeof reason, &e), MAP_BAD);
    assert_int_equal(version_check_next(&vc, s, "S", 4, reason, sizeof reason, &e), MAP_BAD);
    assert_string_equal(reason,
                        "version 4 of S leaves a gap (the stream is at version 2; expected 3)");
    assert_int_equal(version_check_next(&vc, s, "New", 1, reason, sizeof reason, &e), MAP_OK);
    version_check_done(&vc);
    store_close(s);
}

static void test_import_all_or_nothing(void **st)
{
    struct store *s = mem_store();
    char *good = write_temp("{\"stream\":\"A\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-"
                            "01T00:00:00Z\",\"data\":{}}\n"
                            "{\"stream\":\"A\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-"
                            "01T00:00:01Z\",\"data\":{}}\n");
    char *bad = write_temp("{\"stream\":\"B\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-"
                           "01T00:00:00Z\",\"data\":{}}\n"
                           "not json\n");
    char *files[] = {good, bad};
    FILE *errs = tmpfile();
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.errors = errs;
    struct import_result res;
    err e;
    err_clear(&e);
    assert_int_equal(import_files(s, files, 2, &o, &res, &e), ST_ERR);
    assert_int_equal(res.bad, 1);
    assert_int_equal(res.imported, 0);
    int64_t head;
    assert_int_equal(store_head(s, &head, &e), ST_OK);
    assert_int_equal(head, 0);
    char text[512] = "";
    rewind(errs);
    assert_non_null(fgets(text, sizeof text, errs));
    assert_non_null(strstr(text, ":2:1: error: invalid JSON: "));

    o.skip_bad = true;
    assert_int_equal(import_files(s, files, 2, &o, &res, &e), ST_OK);
    assert_int_equal(res.imported, 3);
    assert_int_equal(res.first_position, 1);
    assert_int_equal(res.last_position, 3);
    assert_int_equal(store_head(s, &head, &e), ST_OK);
    assert_int_equal(head, 3);
    fclose(errs);
    unlink(good);
    unlink(bad);
    free(good);
    free(bad);
    store_close(s);
}

/* With a domain, a record the domain cannot read is a bad record with FILE:LINE,
 * and with --skip-bad the rest is imported. */
static void test_import_checks_domain(void **st)
{
    struct domain *d = domain_t();
    struct store *s = mem_store();
    char *file = write_temp("{\"stream\":\"A-1\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-"
                            "01T00:00:00Z\",\"data\":{\"n\":1}}\n"
                            "{\"stream\":\"A-1\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-"
                            "01T00:00:01Z\",\"data\":{\"n\":0}}\n"
                            "{\"stream\":\"A-2\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-"
                            "01T00:00:02Z\",\"data\":{\"n\":2}}\n");
    char *files[] = {file};
    FILE *errs = tmpfile();
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.errors = errs;
    o.domain = d;
    struct import_result res;
    err e;
    err_clear(&e);
    assert_int_equal(import_files(s, files, 1, &o, &res, &e), ST_ERR);
    assert_int_equal(res.bad, 1);
    int64_t head;
    assert_int_equal(store_head(s, &head, &e), ST_OK);
    assert_int_equal(head, 0);
    char text[512] = "";
    rewind(errs);
    assert_non_null(fgets(text, sizeof text, errs));
    assert_non_null(strstr(text, ":2: error: event T: field 'n': 0 is below the minimum 1"));
    o.skip_bad = true;
    assert_int_equal(import_files(s, files, 1, &o, &res, &e), ST_OK);
    assert_int_equal(res.imported, 2);
    /* Without the domain the same file is taken as it is. */
    struct store *s2 = mem_store();
    o.domain = NULL;
    o.skip_bad = false;
    assert_int_equal(import_files(s2, files, 1, &o, &res, &e), ST_OK);
    assert_int_equal(res.imported, 3);
    fclose(errs);
    unlink(file);
    free(file);
    store_close(s);
    store_close(s2);
    domain_free(d);
}

/* A mapped NDJSON source whose lines look like canonical events: every line still
 * goes through the mapping (the canonical fast reader is for unmapped files). */
static void test_mapped_ndjson_goes_through_its_map(void **st)
{
    (void)st;
    struct store *s = mem_store();
    char *file = write_temp("{\"stream\":\"A\",\"version\":1,\"type\":\"T\",\"time\":"
                            "\"2026-01-01T00:00:00.000Z\",\"data\":{},\"meta\":{}}\n");
    struct source_spec src;
    memset(&src, 0, sizeof src);
    src.format = SRC_NDJSON;
    src.stream = compile("'Mapped-' + record.stream");
    src.type = compile("'M'");
    src.time = compile("record.time");
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.source = &src;
    struct import_result res;
    err e;
    assert_int_equal(import_files(s, &file, 1, &o, &res, &e), ST_OK);
    assert_int_equal(res.imported, 1);
    char *out = export_all(s, EXPORT_NDJSON);
    assert_non_null(strstr(out, "\"stream\":\"Mapped-A\""));
    assert_non_null(strstr(out, "\"type\":\"M\""));
    free(out);
    source_clear(&src);
    unlink(file);
    free(file);
    store_close(s);
}

static void test_import_sort_time_and_export(void **st)
{
    struct store *s = mem_store();
    char *csv = write_temp("id,t\n1,2026-01-01T00:00:03Z\n2,2026-01-01T00:00:01Z\n3,2026-01-01T00:"
                           "00:03Z\n4,2026-01-01T00:00:02Z\n");
    struct source_spec src;
    memset(&src, 0, sizeof src);
    src.format = SRC_CSV;
    src.stream = compile("'S'");
    src.type = compile("'T' + record.id");
    src.time = compile("record.t");
    src.meta = compile("{'id': record.id}");
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.source = &src;
    o.sort_time = true;
    struct import_result res;
    err e;
    assert_int_equal(import_files(s, &csv, 1, &o, &res, &e), ST_OK);
    assert_int_equal(res.imported, 4);
    char *out = export_all(s, EXPORT_CSV);
    /* stable: T1 and T3 share a time and keep their file order */
    assert_string_equal(out,
                        "position,stream,version,type,schema,time,data,meta\r\n"
                        "1,S,1,T2,1,2026-01-01T00:00:01.000Z,\"{\"\"id\"\":\"\"2\"\",\"\"t\"\":"
                        "\"\"2026-01-01T00:00:01Z\"\"}\",\"{\"\"id\"\":\"\"2\"\"}\"\r\n"
                        "2,S,2,T4,1,2026-01-01T00:00:02.000Z,\"{\"\"id\"\":\"\"4\"\",\"\"t\"\":"
                        "\"\"2026-01-01T00:00:02Z\"\"}\",\"{\"\"id\"\":\"\"4\"\"}\"\r\n"
                        "3,S,3,T1,1,2026-01-01T00:00:03.000Z,\"{\"\"id\"\":\"\"1\"\",\"\"t\"\":"
                        "\"\"2026-01-01T00:00:03Z\"\"}\",\"{\"\"id\"\":\"\"1\"\"}\"\r\n"
                        "4,S,4,T3,1,2026-01-01T00:00:03.000Z,\"{\"\"id\"\":\"\"3\"\",\"\"t\"\":"
                        "\"\"2026-01-01T00:00:03Z\"\"}\",\"{\"\"id\"\":\"\"3\"\"}\"\r\n");
    free(out);
    out = export_all(s, EXPORT_CLOUDEVENTS);
    const char *prefix =
        "{\"specversion\":\"1.0\",\"id\":\"S-1\",\"source\":\"strata\",\"subject\":\"S\",\"type\":"
        "\"T2\","
        "\"time\":\"2026-01-01T00:00:01.000Z\",\"datacontenttype\":\"application/json\","
        "\"strataposition\":1,\"strataversion\":1,\"strataschema\":1,"
        "\"stratameta\":\"{\\\"id\\\":\\\"2\\\"}\",\"data\":{";
    assert_true(strncmp(out, prefix, strlen(prefix)) == 0);
    /* every exported line is a valid CloudEvent */
    struct reader_options ro = {SRC_CLOUDEVENTS, NULL, 0, false};
    struct reader *r = reader_open_buffer("export", out, strlen(out), &ro, &e);
    assert_non_null(r);
    struct record rec;
    int n = 0;
    while (reader_next(r, &rec, &e) == 1) {
        assert_false(rec.bad);
        n++;
    }
    assert_int_equal(n, 4);
    reader_close(r);
    free(out);
    source_clear(&src);
    unlink(csv);
    free(csv);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_keeps_bytes),
        cmocka_unit_test(test_canonical_errors),
        cmocka_unit_test(test_mapping_expressions),
        cmocka_unit_test(test_mapping_cloudevents_defaults),
        cmocka_unit_test(test_version_check),
        cmocka_unit_test(test_csv_identity_bytes),
        cmocka_unit_test(test_import_all_or_nothing),
        cmocka_unit_test(test_import_checks_domain),
        cmocka_unit_test(test_mapped_ndjson_goes_through_its_map),
        cmocka_unit_test(test_import_sort_time_and_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
