/* test_import_fixture.h: helpers shared by test_import.c, test_mapping_fast.c and
 * test_canonical_raw.c: JSON and expressions for fixtures, a small domain, a
 * temporary input file, and a store's events exported as text. Include after cmocka.h. */
#ifndef STRATA_TEST_IMPORT_FIXTURE_H
#define STRATA_TEST_IMPORT_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/domain.h"
#include "core/event_format.h"
#include "core/expr.h"
#include "core/json.h"
#include "core/store.h"

static __attribute__((unused)) value parse(const char *json)
{
    value v;
    err je;
    if (json_parse(json, strlen(json), &v, &je) != ST_OK)
        fail_msg("bad test JSON: %s", je.msg);
    return v;
}

static __attribute__((unused)) expr *compile(const char *src)
{
    err ee;
    expr *x = expr_compile(src, strlen(src), NULL, &ee);
    if (!x)
        fail_msg("bad test expression %s: %s", src, ee.msg);
    return x;
}

/* A file in /tmp holding text; the caller unlinks and frees the path. */
/* Domain t: aggregate A (id: id) with one event, T, whose n is an int >= 1. */
static __attribute__((unused)) struct domain *domain_t(void)
{
    static const char yaml[] = "domain: t\n"
                               "aggregates:\n"
                               "  A:\n"
                               "    id: id\n"
                               "    events:\n"
                               "      T:\n"
                               "        fields: {n: {type: int, min: 1}}\n";
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("t.yaml", yaml, sizeof yaml - 1, &diags);
    diag_list_done(&diags);
    assert_non_null(d);
    return d;
}

static __attribute__((unused)) char *write_temp(const char *text)
{
    char *path = xstrdup("/tmp/strata-test-import-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Every event of s written in format f ("" when there are none). */
static __attribute__((unused)) char *export_all(struct store *s, export_format f)
{
    strbuf sb;
    sb_init(&sb);
    export_begin(&sb, f);
    struct event_filter flt;
    memset(&flt, 0, sizeof flt);
    struct event_iter *it =
        store_iter_open(s, &flt, 2); /* small pages: the paging is exercised too */
    const struct event *ev;
    err e;
    while (store_iter_next(it, &ev, &e) == 1)
        export_event(&sb, f, ev);
    store_iter_close(it);
    if (!sb.buf)
        sb_adds(&sb, "");
    return sb_steal(&sb);
}

#endif
