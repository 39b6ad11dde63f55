/* test_reader.c: the record readers (core/reader.c, core/cloudevents.c): CSV
 * quoting and its broken forms, NDJSON lines, JSON documents, CloudEvents
 * validation (each rule, and the CloudEvents conformance files when
 * ../shared/data is present), .gz files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/cloudevents.h"
#include "core/json.h"
#include "core/reader.h"
#include "core/utf8.h"

/* Reads every record of buf and describes each as one line:
 * "WHERE: JSON" or "WHERE: bad: REASON"; a fatal error as "ERROR: MSG". */
static char *read_all(source_format fmt, const char *records, char delim, const char *buf,
                      size_t len)
{
    struct reader_options o = {fmt, records, delim, false};
    err e;
    err_clear(&e);
    strbuf out;
    sb_init(&out);
    struct reader *r = reader_open_buffer("t", buf, len, &o, &e);
    if (!r) {
        sb_addf(&out, "ERROR: %s\n", e.msg);
        return sb_steal(&out);
    }
    struct record rec;
    int rc;
    while ((rc = reader_next(r, &rec, &e)) == 1) {
        record_where(r, &rec, &out);
        if (rec.bad) {
            sb_addf(&out, ": bad: %s\n", rec.reason.msg);
        } else {
            sb_adds(&out, ": ");
            json_write(&out, &rec.v);
            sb_addc(&out, '\n');
        }
    }
    if (rc < 0)
        sb_addf(&out, "ERROR: %s\n", e.msg);
    reader_close(r);
    return sb_steal(&out);
}

static void expect_read(source_format fmt, const char *records, char delim, const char *in,
                        const char *want)
{
    char *got = read_all(fmt, records, delim, in, strlen(in));
    if (strcmp(got, want) != 0)
        fprintf(stderr, "input:\n%s\nwant:\n%s\ngot:\n%s\n", in, want, got);
    assert_string_equal(got, want);
    free(got);
}

#define CSV(in, want) expect_read(SRC_CSV, NULL, 0, in, want)
#define NDJ(in, want) expect_read(SRC_NDJSON, NULL, 0, in, want)

static void test_csv_basic(void **st)
{
    CSV("a,b\n1,2\n3,4\n", "t:2: {\"a\":\"1\",\"b\":\"2\"}\nt:3: {\"a\":\"3\",\"b\":\"4\"}\n");
    /* no final newline */
    CSV("a,b\n1,2", "t:2: {\"a\":\"1\",\"b\":\"2\"}\n");
    /* empty fields, and an empty last field */
    CSV("a,b,c\n,,\n1,,\n",
        "t:2: {\"a\":\"\",\"b\":\"\",\"c\":\"\"}\nt:3: {\"a\":\"1\",\"b\":\"\",\"c\":\"\"}\n");
    /* header only, empty file */
    CSV("a,b\n", "");
    CSV("", "");
    /* blank lines are skipped; line numbers stay true */
    CSV("a,b\n\n1,2\n\n\n3,4\n",
        "t:3: {\"a\":\"1\",\"b\":\"2\"}\nt:6: {\"a\":\"3\",\"b\":\"4\"}\n");
    /* a byte order mark is not part of the first column's name */
    CSV("\xEF\xBB\xBFid,x\n1,2\n", "t:2: {\"id\":\"1\",\"x\":\"2\"}\n");
}

static void test_csv_quoting(void **st)
{
    CSV("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", "t:2: {\"a\":\"x,y\",\"b\":\"say \\\"hi\\\"\"}\n");
    /* embedded line breaks: the record keeps the line it started on */
    CSV("a,b\n\"one\ntwo\",2\n3,4\n",
        "t:2: {\"a\":\"one\\ntwo\",\"b\":\"2\"}\nt:4: {\"a\":\"3\",\"b\":\"4\"}\n");
    /* quoted empty field, quoted header */
    CSV("\"a\",\"b c\"\n\"\",x\n", "t:2: {\"a\":\"\",\"b c\":\"x\"}\n");
    /* a quote inside an unquoted field is kept */
    CSV("a\n5\"x\n", "t:2: {\"a\":\"5\\\"x\"}\n");
    /* CRLF everywhere, and CRLF inside quotes kept as is */
    CSV("a,b\r\n1,2\r\n\"x\r\ny\",3\r\n",
        "t:2: {\"a\":\"1\",\"b\":\"2\"}\nt:3: {\"a\":\"x\\r\\ny\",\"b\":\"3\"}\n");
    /* UTF-8 passes */
    CSV("name\nZoë\n", "t:2: {\"name\":\"Zoë\"}\n");
}

static void test_csv_delimiter(void **st)
{
    expect_read(SRC_CSV, NULL, ';', "a;b\n1,5;\"x;y\"\n", "t:2: {\"a\":\"1,5\",\"b\":\"x;y\"}\n");
    expect_read(SRC_CSV, NULL, '\t', "a\tb\n1\t2\n", "t:2: {\"a\":\"1\",\"b\":\"2\"}\n");
    expect_read(SRC_CSV, NULL, '"', "a\n",
                "ERROR: t: error: a CSV delimiter may not be a quote or a line break\n");
}

/* The field scan (reader.c, csv_scan: eight bytes at a time, then bytes) ends
 * every field where a byte loop would: fields of every length 0..19 in both
 * columns, so that each delimiter and line end falls at every place of a word,
 * of bytes next to the delimiter's and the line feed's values (delim ^ 1, 0x0b,
 * delim + 1), with three delimiters; the file's end falls within the last word. */
static void test_csv_scan_every_place(void **st)
{
    (void)st;
    const char delims[] = {',', ';', '\t'};
    for (size_t k = 0; k < sizeof delims; k++) {
        char d = delims[k];
        char next = (char)(d + 1 == '\n' ? d + 2 : d + 1); /* a tab's next is a line feed */
        const char alphabet[] = {(char)(d ^ 1), '\x0b', next, 'x', '7'};
        strbuf in, want;
        sb_init(&in);
        sb_init(&want);
        sb_addf(&in, "a%cb\n", d);
        int line = 1, n = 0;
        for (int l1 = 0; l1 < 20; l1++)
            for (int l2 = 0; l2 < 20; l2++) {
                char f1[32], f2[32];
                for (int i = 0; i < l1; i++)
                    f1[i] = alphabet[(n + i) % 5];
                for (int i = 0; i < l2; i++)
                    f2[i] = alphabet[(n + 2 * i + 1) % 5];
                n++;
                line++;
                sb_add(&in, f1, (size_t)l1);
                sb_addc(&in, d);
                sb_add(&in, f2, (size_t)l2);
                sb_addc(&in, '\n');
                value m = value_map(2);
                value_map_set(&m, "a", value_string(f1, (size_t)l1));
                value_map_set(&m, "b", value_string(f2, (size_t)l2));
                sb_addf(&want, "t:%d: ", line);
                json_write(&want, &m);
                sb_addc(&want, '\n');
                value_free(m);
            }
        sb_adds(&in, "end");
        sb_addc(&in, d);
        sb_adds(&in, "x"); /* no final line feed */
        sb_addf(&want, "t:%d: {\"a\":\"end\",\"b\":\"x\"}\n", line + 1);
        expect_read(SRC_CSV, NULL, d, in.buf, want.buf);
        sb_done(&in);
        sb_done(&want);
    }
}

/* The UTF-8 check is skipped for a row none of whose bytes is >= 0x80 (reader.c,
 * bytes_or): a byte that is not UTF-8 (0xff) or a character that is (é) at every
 * place of fields of lengths 1..19, quoted or not, in either column, still makes
 * the row bad or not as utf8_valid says; an ASCII row after a bad one passes. */
static void test_csv_utf8_every_place(void **st)
{
    (void)st;
    strbuf in, want;
    sb_init(&in);
    sb_init(&want);
    sb_adds(&in, "a,b\n");
    int line = 1;
    for (int bad = 0; bad < 2; bad++)
        for (int quoted = 0; quoted < 2; quoted++)
            for (int col = 0; col < 2; col++)
                for (int len = 1; len < 20; len++)
                    for (int at = 0; at < len; at++) {
                        char f[2][64];
                        size_t fl[2];
                        for (int c = 0; c < 2; c++) {
                            size_t k = 0;
                            for (int i = 0; i < len; i++) {
                                if (c == col && i == at) {
                                    if (bad)
                                        f[c][k++] = '\xff';
                                    else {
                                        f[c][k++] = '\xc3';
                                        f[c][k++] = '\xa9';
                                    }
                                } else {
                                    f[c][k++] = (char)('a' + (i + c) % 26);
                                }
                            }
                            fl[c] = k;
                        }
                        line++;
                        for (int c = 0; c < 2; c++) {
                            if (quoted)
                                sb_addc(&in, '"');
                            sb_add(&in, f[c], fl[c]);
                            if (quoted)
                                sb_addc(&in, '"');
                            sb_addc(&in, c ? '\n' : ',');
                        }
                        if (bad) {
                            sb_addf(&want, "t:%d: bad: field '%s' is not valid UTF-8\n", line,
                                    col ? "b" : "a");
                        } else {
                            value m = value_map(2);
                            value_map_set(&m, "a", value_string(f[0], fl[0]));
                            value_map_set(&m, "b", value_string(f[1], fl[1]));
                            sb_addf(&want, "t:%d: ", line);
                            json_write(&want, &m);
                            sb_addc(&want, '\n');
                            value_free(m);
                        }
                        line++; /* an ASCII row after each */
                        sb_adds(&in, "plain,row\n");
                        sb_addf(&want, "t:%d: {\"a\":\"plain\",\"b\":\"row\"}\n", line);
                    }
    sb_adds(&in, "x,\xff"); /* in the last bytes of the file, no final line feed */
    sb_addf(&want, "t:%d: bad: field 'b' is not valid UTF-8\n", line + 1);
    expect_read(SRC_CSV, NULL, ',', in.buf, want.buf);
    sb_done(&in);
    sb_done(&want);
}

static void test_csv_bad(void **st)
{
    /* ragged rows */
    CSV("a,b\n1\n1,2,3\n4,5\n", "t:2: bad: row has 1 field, the header has 2\nt:3: bad: row has 3 "
                                "fields, the header has 2\n"
                                "t:4: {\"a\":\"4\",\"b\":\"5\"}\n");
    /* junk after a closing quote: reported, reading resumes at the next line */
    CSV("a,b\n\"x\"y,2\n3,4\n", "t:2: bad: unexpected 'y' after the closing quote of field 1 (a "
                                "quote inside a quoted field is written \"\")\n"
                                "t:3: {\"a\":\"3\",\"b\":\"4\"}\n");
    /* a quote left open to the end of the file */
    CSV("a,b\n1,2\n\"open,3\n4,5\n", "t:2: {\"a\":\"1\",\"b\":\"2\"}\nt:3: bad: unterminated "
                                     "quoted field (the quote opened at line 3)\n");
    /* invalid UTF-8 */
    CSV("a\n\xff\n", "t:2: bad: field 'a' is not valid UTF-8\n");
    /* a broken or duplicated header ends the file */
    CSV("a,a\n1,2\n",
        "ERROR: t:1: error: header row: duplicate column name 'a' (columns 1 and 2)\n");
    CSV("\"a\nb\n",
        "ERROR: t:2: error: header row: unterminated quoted field (the quote opened at line 1)\n");
}

static void test_ndjson(void **st)
{
    NDJ("{\"a\":1}\n\n  \n{\"a\":2}\n", "t:1: {\"a\":1}\nt:4: {\"a\":2}\n");
    NDJ("{\"a\":1}\r\n{\"a\":2}", "t:1: {\"a\":1}\nt:2: {\"a\":2}\n");
    NDJ("", "");
    NDJ("\n\n", "");
}

static void test_ndjson_bad_json_reason(void **st)
{
    /* a broken line is a bad record, placed at FILE:LINE:COL like a broken JSON
     * document; the next line is read as usual (the parser's own words follow) */
    const char *in = "{\"a\":1}\n{\"a\":\n[1,2]\n";
    char *got = read_all(SRC_NDJSON, NULL, 0, in, strlen(in));
    assert_true(strncmp(got, "t:1: {\"a\":1}\nt:2:6: bad: invalid JSON: ", 38) == 0);
    assert_non_null(strstr(got, "\nt:3: [1,2]\n"));
    free(got);
}

static void test_json_documents(void **st)
{
    const char *doc = "{\"Records\":[{\"n\":1},{\"n\":2}],\"x\":{\"y\":[3]}}";
    expect_read(SRC_JSON, "Records", 0, doc, "t:[0]: {\"n\":1}\nt:[1]: {\"n\":2}\n");
    expect_read(SRC_JSON, "x.y", 0, doc, "t:[0]: 3\n");
    expect_read(SRC_JSON, NULL, 0, "[{\"a\":1},\n {\"a\":2}]\n",
                "t:[0]: {\"a\":1}\nt:[1]: {\"a\":2}\n");
    expect_read(SRC_JSON, NULL, 0, "[]", "");
    expect_read(SRC_JSON, "records", 0, doc,
                "ERROR: t: error: records path 'records': no key 'records' in the document (did "
                "you mean 'Records'?)\n");
    expect_read(SRC_JSON, NULL, 0, doc,
                "ERROR: t: error: the document is an object, not an array of records; name the "
                "array with `records:` (arrays found at: 'Records')\n");
    expect_read(SRC_JSON, "Records.n", 0, doc,
                "ERROR: t: error: records path 'Records.n': 'n' is inside a list, not an object\n");
    expect_read(SRC_JSON, NULL, 0, "", "ERROR: t: error: empty file (expected a JSON document)\n");
    char *got = read_all(SRC_JSON, NULL, 0, "[1,\n2,\n", 7);
    assert_non_null(strstr(got, "ERROR: t:3:"));
    free(got);
}

/* ---- CloudEvents ---- */

static const char *ce_reason(const char *json)
{
    static err why;
    value v;
    assert_int_equal(json_parse(json, strlen(json), &v, NULL), ST_OK);
    bool ok = cloudevents_check(&v, &why);
    value_free(v);
    return ok ? NULL : why.msg;
}

#define CE_BASE "\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\""

static void test_cloudevents_rules(void **st)
{
    assert_null(ce_reason("{" CE_BASE "}"));
    assert_null(ce_reason(
        "{" CE_BASE ",\"time\":\"2018-04-05T17:31:00.123456789Z\",\"subject\":\"x\","
        "\"datacontenttype\":\"application/json; charset=utf-8\",\"dataschema\":\"https://x/y\","
        "\"data\":{\"a\":1},\"ext1\":5,\"flag\":true,\"note\":null}"));
    assert_null(ce_reason("{" CE_BASE ",\"data_base64\":\"eyAieHl6IjogMTIzIH0=\"}"));
    assert_null(ce_reason(
        "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"#fragment\",\"type\":\"t\"}"));
    assert_string_equal(ce_reason("[1]"), "a CloudEvent must be a JSON object, got list");
    assert_string_equal(ce_reason("{\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}"),
                        "missing required attribute 'specversion'");
    assert_string_equal(
        ce_reason("{\"specversion\":\"0.9\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}"),
        "unsupported specversion '0.9' (expected \"1.0\")");
    assert_string_equal(ce_reason("{\"specversion\":\"1.0\",\"source\":\"/s\",\"type\":\"t\"}"),
                        "missing required attribute 'id'");
    assert_string_equal(
        ce_reason("{\"specversion\":\"1.0\",\"id\":\"\",\"source\":\"/s\",\"type\":\"t\"}"),
        "attribute 'id' must not be empty");
    assert_string_equal(
        ce_reason("{\"specversion\":\"1.0\",\"id\":25,\"source\":\"/s\",\"type\":\"t\"}"),
        "attribute 'id' must be a string, got int");
    assert_string_equal(ce_reason("{\"specversion\":\"1.0\",\"id\":\"1\",\"type\":\"t\"}"),
                        "missing required attribute 'source'");
    assert_string_equal(
        ce_reason("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"a b\",\"type\":\"t\"}"),
        "attribute 'source' is not a URI-reference: 'a b'");
    assert_string_equal(ce_reason("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\"}"),
                        "missing required attribute 'type'");
    assert_string_equal(ce_reason("{" CE_BASE ",\"time\":\"2018-04-05T18:31Z\"}"),
                        "attribute 'time' is not an RFC 3339 timestamp: '2018-04-05T18:31Z'");
    assert_non_null(ce_reason("{" CE_BASE ",\"time\":\"2018-04-05T18:31:00+25:00\"}"));
    assert_non_null(ce_reason("{" CE_BASE ",\"time\":\"2018-04-05T18:31:00+05\"}"));
    assert_non_null(ce_reason("{" CE_BASE ",\"time\":\"2018-02-30T18:31:00Z\"}"));
    assert_string_equal(
        ce_reason("{" CE_BASE ",\"datacontenttype\":\"xyz\"}"),
        "attribute 'datacontenttype' is not a media type (RFC 2046 type/subtype): 'xyz'");
    assert_string_equal(ce_reason("{" CE_BASE ",\"dataschema\":\"\"}"),
                        "attribute 'dataschema' must not be empty");
    assert_string_equal(ce_reason("{" CE_BASE ",\"dataschema\":\"relative/path\"}"),
                        "attribute 'dataschema' is not an absolute URI: 'relative/path'");
    assert_string_equal(ce_reason("{" CE_BASE ",\"subject\":\"\"}"),
                        "attribute 'subject' must not be empty");
    assert_string_equal(ce_reason("{" CE_BASE ",\"MyExtension\":\"x\"}"),
                        "attribute name 'MyExtension' is not made of lowercase letters and digits");
    assert_string_equal(
        ce_reason("{" CE_BASE ",\"ext\":1.5}"),
        "extension attribute 'ext' must be a string, an integer or a boolean, got double");
    assert_string_equal(
        ce_reason("{" CE_BASE ",\"ext\":{\"a\":1}}"),
        "extension attribute 'ext' must be a string, an integer or a boolean, got map");
    assert_string_equal(ce_reason("{" CE_BASE ",\"ext\":4294967296}"),
                        "extension attribute 'ext' is an integer outside the 32-bit range");
    assert_string_equal(ce_reason("{" CE_BASE ",\"data\":\"x\",\"data_base64\":\"eA==\"}"),
                        "has both 'data' and 'data_base64' (at most one is allowed)");
    assert_string_equal(ce_reason("{" CE_BASE ",\"data_base64\":\"not base64!\"}"),
                        "'data_base64' must be a base64 string");
}

static void test_cloudevents_shapes(void **st)
{
    const char *one = "{" CE_BASE "}";
    /* NDJSON */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s\n\n%s\n{\"id\":\"x\"}\n", one, one);
    expect_read(SRC_CLOUDEVENTS, NULL, 0, buf,
                "t:1: {\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}\n"
                "t:3: {\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}\n"
                "t:4: bad: missing required attribute 'specversion'\n");
    /* a single event spread over lines */
    expect_read(SRC_CLOUDEVENTS, NULL, 0,
                "\n{\n  \"specversion\": \"1.0\", \"id\": \"1\",\n  \"source\": \"/s\", \"type\": "
                "\"t\"\n}\n",
                "t:2: {\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}\n");
    /* a batch, with a non-object and an invalid event */
    snprintf(buf, sizeof buf, "[%s, \"x\", {\"specversion\":\"0.9\"}]", one);
    expect_read(SRC_CLOUDEVENTS, NULL, 0, buf,
                "t:[0]: {\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}\n"
                "t:[1]: bad: a CloudEvent must be a JSON object, got string\n"
                "t:[2]: bad: unsupported specversion '0.9' (expected \"1.0\")\n");
    expect_read(SRC_CLOUDEVENTS, NULL, 0, "[]", "");
    expect_read(SRC_CLOUDEVENTS, NULL, 0, "", "");
}

static void test_rfc3339(void **st)
{
    assert_true(rfc3339_check("2018-04-05T17:31:00Z", 20));
    assert_true(rfc3339_check("2018-04-05t17:31:00.1+01:00", 27));
    assert_true(rfc3339_check("2016-12-31T23:59:60Z", 20)); /* a leap second */
    assert_false(rfc3339_check("2018-04-05 17:31:00Z", 20));
    assert_false(rfc3339_check("2018-04-05T17:31:00", 19));
    assert_false(rfc3339_check("2018-04-05T17:31:00.Z", 21));
    assert_false(rfc3339_check("2019-02-29T00:00:00Z", 20));
    assert_true(rfc3339_check("2020-02-29T00:00:00Z", 20));
}

static void test_utf8(void **st)
{
    assert_true(utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    assert_false(utf8_valid("\xc3", 1));
    assert_false(utf8_valid("\xc0\x80", 2));         /* overlong */
    assert_false(utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
}

/* The CloudEvents conformance files (cloudevents/conformance, format/json): every
 * valid event and batch passes, every invalid one is refused. */
static void conformance_file(const char *dir, const char *name, bool valid)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cloudevents/%s", dir, name);
    char *text;
    size_t len;
    err e;
    assert_int_equal(read_file(path, &text, &len, &e), ST_OK);
    value doc;
    assert_int_equal(json_parse(text, len, &doc, NULL), ST_OK);
    const value *tests = value_map_get(&doc, "tests");
    assert_non_null(tests);
    for (size_t i = 0; i < value_list_len(tests); i++) {
        const value *t = value_list_at(tests, i);
        const value *c = value_map_get(t, "extensionConstraints");
        if (c && c->type == V_BOOL && c->u.b)
            continue; /* needs extension definitions this reader does not have */
        const value *ev = value_map_get(t, "event");
        const value *batch = value_map_get(t, "batch");
        bool all_ok = true;
        if (ev) {
            all_ok = cloudevents_check(ev, NULL);
        } else {
            /* through the reader, as a file holding the batch */
            char *j = json_to_string(batch);
            struct reader_options o = {SRC_CLOUDEVENTS, NULL, 0, false};
            struct reader *r = reader_open_buffer(name, j, strlen(j), &o, &e);
            assert_non_null(r);
            struct record rec;
            while (reader_next(r, &rec, &e) == 1)
                if (rec.bad)
                    all_ok = false;
            reader_close(r);
            free(j);
        }
        if (all_ok != valid)
            fprintf(stderr, "%s: %s: expected %s\n", name, value_str(value_map_get(t, "id")),
                    valid ? "valid" : "invalid");
        assert_true(all_ok == valid);
    }
    value_free(doc);
    free(text);
}

static void test_cloudevents_conformance(void **st)
{
    const char *dir = getenv("STRATA_SHARED_DATA");
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/cloudevents/conformance_json_valid-events.json",
             dir ? dir : "");
    if (!dir || access(probe, R_OK) != 0) {
        skip(); /* shared data absent */
        return;
    }
    conformance_file(dir, "conformance_json_valid-events.json", true);
    conformance_file(dir, "conformance_json_valid-batches.json", true);
    conformance_file(dir, "conformance_json_invalid-events.json", false);
    conformance_file(dir, "conformance_json_invalid-batches.json", false);
}

static void test_gz_and_files(void **st)
{
    char path[] = "/tmp/strata-test-reader-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char gzpath[sizeof path + 3];
    snprintf(gzpath, sizeof gzpath, "%s.gz", path);
    gzFile gz = gzopen(gzpath, "wb");
    assert_non_null(gz);
    /* enough lines to cross the reader's 256 KB windows */
    for (int i = 0; i < 30000; i++)
        gzprintf(gz, "{\"i\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxx\"}\n", i);
    gzclose(gz);
    struct reader_options o = {SRC_NDJSON, NULL, 0, false};
    err e;
    struct reader *r = reader_open(gzpath, &o, &e);
    assert_non_null(r);
    struct record rec;
    int n = 0;
    while (reader_next(r, &rec, &e) == 1) {
        assert_false(rec.bad);
        assert_int_equal(value_map_get(&rec.v, "i")->u.i, n);
        assert_int_equal(rec.line, n + 1);
        n++;
    }
    assert_int_equal(n, 30000);
    uint64_t done, total;
    reader_progress(r, &done, &total);
    assert_true(total > 0 && done == total);
    reader_close(r);

    /* a truncated .gz is an error that says so, not a silent short read */
    FILE *f = fopen(gzpath, "r+");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    assert_int_equal(truncate(gzpath, size / 2), 0);
    r = reader_open(gzpath, &o, &e);
    assert_non_null(r);
    int rc;
    while ((rc = reader_next(r, &rec, &e)) == 1)
        ;
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, "error: cannot read"));
    reader_close(r);

    /* a plain CSV file with CRLF, a quoted field spanning a window boundary */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("a,b\r\n", f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "%d,\"q\"\"%d\nz\"\r\n", i, i);
    fclose(f);
    o.format = SRC_CSV;
    r = reader_open(path, &o, &e);
    assert_non_null(r);
    n = 0;
    char want[64];
    while (reader_next(r, &rec, &e) == 1) {
        assert_false(rec.bad);
        snprintf(want, sizeof want, "q\"%d\nz", n);
        assert_string_equal(value_str(value_map_get(&rec.v, "b")), want);
        assert_int_equal(rec.line, 2 + 2 * n);
        n++;
    }
    assert_int_equal(n, 20000);
    reader_close(r);
    unlink(path);
    unlink(gzpath);

    r = reader_open("/nonexistent/file.csv", &o, &e);
    assert_null(r);
    assert_string_equal(e.msg,
                        "/nonexistent/file.csv: error: cannot open: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_basic),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_delimiter),
        cmocka_unit_test(test_csv_scan_every_place),
        cmocka_unit_test(test_csv_bad),
        cmocka_unit_test(test_ndjson),
        cmocka_unit_test(test_ndjson_bad_json_reason),
        cmocka_unit_test(test_json_documents),
        cmocka_unit_test(test_cloudevents_rules),
        cmocka_unit_test(test_cloudevents_shapes),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_csv_utf8_every_place),
        cmocka_unit_test(test_cloudevents_conformance),
        cmocka_unit_test(test_gz_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
