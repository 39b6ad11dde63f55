/* test_canonical_raw.c: canonical lines read straight from their text
 * (core/canonical_raw.c) against the full path (json_parse, then
 * canonical_parse): whatever the fast reader takes, it must take exactly as the
 * full path does; what it refuses, the full path judges. And the import engine
 * through both paths (import_options.slow_paths) must leave identical stores and
 * say identical things about bad lines. */
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
#include "core/json.h"
#include "core/mapping.h"

#include "test_import_fixture.h"

#define HEAD "{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","

/* Lines the fast reader must take (and the full path too, identically). */
static const char *const taken[] = {
    HEAD "\"data\":{}}",
    HEAD "\"data\":{\"amount\":392}}",
    "{\"position\":7,\"stream\":\"Account-9\",\"version\":12,\"type\":\"MoneyDeposited\","
    "\"schema\":3,\"time\":\"2023-11-14T22:13:21.101Z\",\"data\":{\"amount\":392},"
    "\"meta\":{\"user\":\"ann\",\"n\":-0.25}}",
    HEAD "\"data\":{ \"a\" : [1, {\"}\":\"\\\"]\"}] },\"meta\":null}",
    " { \"data\" : {\"x\":[true,false,null,\"\\n\\t\\/\"]} , \"time\":\"2026-01-01 "
    "10:00:00+01:00\","
    "\"type\":\"T\",\"version\":3,\"stream\":\"Ströme\"}\t",
    HEAD "\"data\":{\"x\":1,\"x\":2},\"meta\":{}}",
    HEAD "\"data\":{\"deep\":[[[[{\"a\":[]}]]]],\"s\":\"héllo €\"}}",
    HEAD "\"data\":{\"big\":123456789012345678,\"neg\":-123456789012345678,\"z\":0,\"f\":0.5}}",
};

/* Lines it must leave to the full path (some good, some bad there). */
static const char *const refused[] = {
    "",
    "not json",
    "[1,2]",
    HEAD "\"data\":{}",                           /* unterminated */
    HEAD "\"data\":{}} x",                        /* trailing text */
    HEAD "\"data\":{}}}",                         /* trailing text */
    HEAD "\"data\":[]}",                          /* data not an object */
    HEAD "\"data\":{},\"meta\":[1]}",             /* meta not an object */
    HEAD "\"data\":{},\"meta\":nul}",             /* not JSON */
    HEAD "\"data\":{\"u\":\"\\u00e9\"}}",         /* \u escape */
    HEAD "\"data\":{\"e\":1e5}}",                 /* exponent */
    HEAD "\"data\":{\"n\":1234567890123456789}}", /* 19 digits */
    HEAD "\"data\":{\"n\":01}}",                  /* leading zero */
    HEAD "\"data\":{\"n\":1.}}",                  /* no fraction digit */
    HEAD "\"data\":{\"n\":-}}",
    HEAD "\"data\":{\"s\":\"a\x01\"}}", /* control character */
    HEAD "\"data\":{\"s\":\"\xff\"}}",  /* invalid UTF-8 */
    HEAD "\"data\":{\"s\":\"\\x\"}}",   /* bad escape */
    HEAD "\"data\":{,}}",
    HEAD "\"data\":{\"a\":1,}}",
    HEAD "\"data\":{\"a\" 1}}",
    HEAD "\"data\":{},\"data\":{}}",       /* duplicate key */
    HEAD "\"data\":{},\"strem\":1}",       /* unknown key */
    HEAD "\"data\":{},\"d\\u0061ta\":{}}", /* escaped key */
    "{\"stream\":\"S\\n\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
    "\"data\":{}}", /* escape in a name */
    "{\"stream\":\"\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\",\"data\":{}}",
    "{\"stream\":\"S\",\"version\":0,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\",\"data\":{}}",
    "{\"stream\":\"S\",\"version\":1.0,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
    "\"data\":{}}",
    "{\"stream\":\"S\",\"version\":-1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\",\"data\":{}"
    "}",
    "{\"stream\":1,\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\",\"data\":{}}",
    HEAD "\"schema\":1000001,\"data\":{}}",
    HEAD "\"position\":0,\"data\":{}}",
    "{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"time\":\"yesterday\",\"data\":{}}",
    "{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"data\":{}}", /* no time */
    "{\"stream\":\"S\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\"}",
};

/* The full path's answer for a line: MAP_OK with *out, MAP_BAD, or -1 when the
 * line is not JSON. */
static int full(const char *line, struct mapped_event *out)
{
    value v;
    err je;
    if (json_parse(line, strlen(line), &v, &je) != ST_OK)
        return -1;
    char reason[512];
    int rc = canonical_parse(&v, line, strlen(line), out, reason, sizeof reason);
    value_free(v);
    return rc;
}

static void same_event(const struct mapped_event *a, const struct mapped_event *b)
{
    assert_string_equal(a->stream, b->stream);
    assert_string_equal(a->type, b->type);
    assert_int_equal(a->schema, b->schema);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->time_ms, b->time_ms);
    assert_string_equal(a->time, b->time);
    assert_string_equal(a->data, b->data);
    if (a->meta || b->meta) {
        assert_non_null(a->meta);
        assert_non_null(b->meta);
        assert_string_equal(a->meta, b->meta);
    }
}

static void test_taken_as_the_full_path_takes(void **st)
{
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        struct mapped_event fast, slow;
        if (!canonical_parse_raw(taken[i], strlen(taken[i]), &fast))
            fail_msg("the fast reader refused line %zu: %s", i, taken[i]);
        assert_int_equal(full(taken[i], &slow), MAP_OK);
        same_event(&fast, &slow);
        mapped_event_done(&fast);
        mapped_event_done(&slow);
    }
}

static void test_refused_left_to_the_full_path(void **st)
{
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        struct mapped_event fast;
        if (canonical_parse_raw(refused[i], strlen(refused[i]), &fast))
            fail_msg("the fast reader took line %zu: %s", i, refused[i]);
        assert_null(fast.stream);
        assert_null(fast.data);
    }
    /* every prefix of a good line too (a cut line), never read past its end */
    const char *line = taken[2];
    size_t n = strlen(line);
    for (size_t k = 0; k < n; k++) {
        char *cut = xstrndup(line, k);
        struct mapped_event fast;
        assert_false(canonical_parse_raw(cut, k, &fast));
        free(cut);
    }
}

/* One import of files through one path: its status, result, messages and store. */
struct outcome {
    int rc;
    struct import_result res;
    char *errors, *exported;
};

static struct outcome run(char **files, size_t n, const struct domain *d, bool skip_bad,
                          bool slow_paths)
{
    err e;
    err_clear(&e);
    struct store_options so = STORE_OPTIONS_DEFAULT;
    struct store *s = store_open(":memory:", &so, &e);
    assert_non_null(s);
    /* a stream already in the store, so that versions continue it */
    struct new_event ne = {"T", 1, "2026-01-01T00:00:00.000Z", "{\"n\":1}", NULL};
    assert_int_equal(store_append(s, "Pre", STORE_ANY_VERSION, NULL, &ne, 1, NULL, &e), ST_OK);
    FILE *errs = tmpfile();
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.errors = errs;
    o.domain = d;
    o.skip_bad = skip_bad;
    o.slow_paths = slow_paths;
    struct outcome out;
    out.rc = import_files(s, files, n, &o, &out.res, &e);
    out.res.seconds = 0;
    strbuf sb;
    sb_init(&sb);
    rewind(errs);
    char buf[1024];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, errs)) > 0)
        sb_add(&sb, buf, got);
    sb_addf(&sb, "status %d: %s\n", out.rc, out.rc == ST_OK ? "" : e.msg);
    fclose(errs);
    out.errors = sb_steal(&sb);
    out.exported = export_all(s, EXPORT_NDJSON);
    store_close(s);
    return out;
}

static void same_outcome(char **files, size_t n, const struct domain *d, bool skip_bad)
{
    struct outcome fast = run(files, n, d, skip_bad, false);
    struct outcome slow = run(files, n, d, skip_bad, true);
    assert_int_equal(fast.rc, slow.rc);
    assert_memory_equal(&fast.res, &slow.res, sizeof fast.res);
    assert_string_equal(fast.errors, slow.errors);
    assert_string_equal(fast.exported, slow.exported);
    free(fast.errors);
    free(slow.errors);
    free(fast.exported);
    free(slow.exported);
}

static void test_import_both_paths_alike(void **st)
{
    struct domain *d = domain_t();
    /* Good lines both paths read, good lines only the full path reads, and every
     * kind of bad line: not JSON, not an event, a version gap or repeat, a line
     * already present, data the domain refuses. */
    char *good = write_temp(
        "{\"position\":1,\"stream\":\"Pre\",\"version\":1,\"type\":\"T\",\"schema\":1,"
        "\"time\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"n\":1}}\n"
        "{\"stream\":\"A-1\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:01Z\","
        "\"data\":{\"n\":1},\"meta\":{\"by\":\"ann\"}}\r\n"
        "\n"
        "{\"stream\":\"A-1\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-01T00:00:02Z\","
        "\"data\":{\"n\":2,\"note\":\"\\u00e9t\\u00e9\"}}\n"
        "{\"stream\":\"A\\u002d2\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:03Z\","
        "\"data\":{\"n\":3e0}}\n"
        "{\"stream\":\"A-2\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-01T00:00:04Z\","
        "\"data\":{\"n\":4}}\n"
        "{\"stream\":\"Pre\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-01T00:00:05Z\","
        "\"data\":{\"n\":5},\"meta\":null}");
    char *bad = write_temp(
        "{\"stream\":\"B\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"data\":{\"n\":1}}\n"
        "{\"stream\":\"B\",\"version\":1,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"data\":{\"n\":2}}\n"
        "{\"stream\":\"B\",\"version\":3,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"data\":{\"n\":1}}\n"
        "{\"stream\":\"B\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"data\":{\"n\":0}}\n"
        "{\"stream\":\"B\",\"version\":2,\"type\":\"U\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"data\":{\"n\":1}}\n"
        "{\"stream\":\"B\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"data\":{\"n\":1}, \"strem\":1}\n"
        "{\"stream\":\"B\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"data\":{\"n\":1}\n"
        "{\"stream\":\"B\",\"version\":2,\"type\":\"T\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"data\":{\"n\":1}}\n");
    char *files[] = {good, bad};
    for (int with_domain = 0; with_domain < 2; with_domain++)
        for (int skip = 0; skip < 2; skip++) {
            same_outcome(files, 1, with_domain ? d : NULL, skip);
            same_outcome(files, 2, with_domain ? d : NULL, skip);
        }
    /* the good file, imported, exported and imported again: taken, identical */
    struct outcome once = run(files, 1, NULL, false, false);
    assert_int_equal(once.rc, ST_OK);
    assert_int_equal(once.res.imported, 5);
    assert_int_equal(once.res.present, 1);
    char *again = write_temp(once.exported);
    char *files2[] = {again};
    same_outcome(files2, 1, NULL, false);
    same_outcome(files2, 1, d, false);
    free(once.errors);
    free(once.exported);
    unlink(good);
    unlink(bad);
    unlink(again);
    free(good);
    free(bad);
    free(again);
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taken_as_the_full_path_takes),
        cmocka_unit_test(test_refused_left_to_the_full_path),
        cmocka_unit_test(test_import_both_paths_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
