/* test_expr_fixture.h: helpers shared by test_expr.c and test_expr_cel.c: the
 * standard vars (state, payload, event, row, meta), running an expression, and
 * the EXPECT / EXPECT_ERR / EXPECT_COMPILE_ERR checks. Include after cmocka.h
 * (and the headers it needs). */
#ifndef STRATA_TEST_EXPR_FIXTURE_H
#define STRATA_TEST_EXPR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/expr.h"
#include "core/json.h"

/* ---- fixtures ---- */

static __attribute__((unused)) value test_root(const char *json)
{
    value v;
    err je;
    int rc = json_parse(json, strlen(json), &v, &je);
    if (rc != ST_OK)
        fail_msg("bad fixture JSON %s: %s", json, je.msg);
    return v;
}

/* Vars used by most tests: state, payload, event, row, meta set; record null. */
static __attribute__((unused)) struct expr_vars *std_vars(void)
{
    static struct expr_vars vars;
    static bool made;
    if (!made) {
        memset(&vars, 0, sizeof vars);
        vars.roots[ROOT_STATE] = test_root("{\"status\":\"open\",\"balance\":150,\"owner\":"
                                           "\"Alice\",\"lines\":{\"p1\":2,\"p2\":3},"
                                           "\"tags\":[\"a\",\"b\"],\"rate\":1.5,\"nothing\":null}");
        vars.roots[ROOT_PAYLOAD] = test_root("{\"amount\":151,\"n\":0,\"name\":\"  Bob  \"}");
        vars.roots[ROOT_EVENT] = test_root("{\"amount\":5}");
        vars.roots[ROOT_ROW] = test_root("{\"open\":1,\"big\":[]}");
        vars.roots[ROOT_META] = test_root("{\"aggregateId\":\"A\",\"version\":3}");
        vars.roots[ROOT_RECORD] = value_null();
        vars.now_ms = 1795773600123LL; /* 2026-11-27T10:00:00.123Z */
        made = true;
    }
    return &vars;
}

static __attribute__((unused)) int teardown_all(void **st)
{
    struct expr_vars *v = std_vars();
    for (int r = 0; r < ROOT_COUNT; r++)
        value_free(v->roots[r]);
    return 0;
}

/* Evaluates src (env NULL) with the standard vars; on success returns ST_OK and
 * the JSON of the result in out, else the status and the message in out. */
static __attribute__((unused)) int run_expr(const char *src, const struct expr_vars *vars,
                                            char *out, size_t outsz)
{
    err ee;
    expr *x = expr_compile(src, strlen(src), NULL, &ee);
    if (!x) {
        snprintf(out, outsz, "compile: column %d: %s", ee.col, ee.msg);
        return -1;
    }
    value v;
    err e;
    err_clear(&e);
    int rc = expr_eval(x, vars ? vars : std_vars(), &v, &e);
    if (rc == ST_OK) {
        char *j = json_to_string(&v);
        snprintf(out, outsz, "%s", j);
        free(j);
        value_free(v);
    } else {
        snprintf(out, outsz, "%s", e.msg);
    }
    expr_free(x);
    return rc;
}

#define EXPECT(src, json) want_value(__LINE__, src, json)
static __attribute__((unused)) void want_value(int line, const char *src, const char *json)
{
    char out[2048];
    int rc = run_expr(src, NULL, out, sizeof out);
    if (rc != ST_OK || strcmp(out, json) != 0)
        fail_msg("line %d: `%s`: expected %s, got %s", line, src, json, out);
}

/* An evaluation (or compile) error whose message contains `want`. */
#define EXPECT_ERR(src, want) want_error(__LINE__, src, want)
static __attribute__((unused)) void want_error(int line, const char *src, const char *want)
{
    char out[2048];
    int rc = run_expr(src, NULL, out, sizeof out);
    if (rc == ST_OK)
        fail_msg("line %d: `%s`: expected an error containing \"%s\", got value %s", line, src,
                 want, out);
    if (!strstr(out, want))
        fail_msg("line %d: `%s`: expected an error containing \"%s\", got \"%s\"", line, src, want,
                 out);
}

/* A compile error at `col` whose message contains `want`. */
static __attribute__((unused)) void
want_compile_error(int line, const char *src, const struct expr_env *env, int col, const char *want)
{
    err ee;
    expr *x = expr_compile(src, strlen(src), env, &ee);
    if (x) {
        expr_free(x);
        fail_msg("line %d: `%s`: expected a compile error \"%s\", but it compiled", line, src,
                 want);
    }
    if (!strstr(ee.msg, want) || (col && ee.col != col))
        fail_msg("line %d: `%s`: expected column %d \"%s\", got column %d \"%s\"", line, src, col,
                 want, ee.col, ee.msg);
}
#define EXPECT_COMPILE_ERR(src, col, want) want_compile_error(__LINE__, src, NULL, col, want)

#endif
