/* fuzz_expr.c: libFuzzer target for the expression language (core/expr_*.c).
 *
 * The input is compiled as an expression with no environment (as `strata eval`
 * does) and, when it compiles, evaluated against fixed vars with a small budget,
 * then explained. Whatever the bytes, nothing may crash, leak, read out of bounds,
 * recurse without bound or run long. Broken promises abort: a compile error must
 * have a column inside the source (or just past it) and a message; an evaluation
 * error must quote the expression.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       core/util.c core/value.c core/json.c core/expr_parse.c core/expr_eval.c \
 *       tests/fuzz/fuzz_expr.c -o fuzz_expr -lpthread -lm
 *   ./fuzz_expr -max_total_time=60 -max_len=512 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/expr.h"
#include "core/json.h"

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_expr: %s\n%s\n", what, detail ? detail : "");
        abort();
    }
}

static struct expr_vars vars;
static bool vars_made;

static void make_vars(void)
{
    static const char *const roots[ROOT_COUNT] = {
        "{\"accountId\":\"A\",\"amount\":151,\"n\":0,\"tags\":[\"x\",\"y\"]}",
        "{\"status\":\"open\",\"balance\":150,\"lines\":{\"p1\":2,\"p2\":3},\"rate\":1.5,\"none\":"
        "null}",
        "{\"amount\":5,\"note\":\"h\\u00e9\"}",
        "{\"open\":1,\"big\":[1,2,3]}",
        "{\"aggregateId\":\"A\",\"version\":3,\"time\":\"2026-11-27T10:00:00.000Z\"}",
        "[1,\"two\",{\"three\":3.0}]",
    };
    for (int r = 0; r < ROOT_COUNT; r++) {
        err je;
        if (!roots[r]) { /* the envelope's roots: not in a NULL env */
            vars.roots[r] = value_null();
            continue;
        }
        if (json_parse(roots[r], strlen(roots[r]), &vars.roots[r], &je) != ST_OK)
            abort();
    }
    vars.now_ms = 1795773600123LL;
    vars.budget = 5000;
    vars_made = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vars_made)
        make_vars();
    err ee;
    expr *x = expr_compile((const char *)data, size, NULL, &ee);
    if (!x) {
        char detail[600];
        snprintf(detail, sizeof detail, "column %d: %s", ee.col, ee.msg);
        check(ee.col >= 1 && (size_t)ee.col <= size + 1 && ee.msg[0], "bad compile error", detail);
        return 0;
    }
    value v;
    err e;
    err_clear(&e);
    if (expr_eval(x, &vars, &v, &e) == ST_OK) {
        strbuf sb;
        sb_init(&sb);
        json_write(&sb, &v);
        sb_done(&sb);
        value_free(v);
    } else {
        check(e.msg[0] == '`' && strstr(e.msg, ": column ") != NULL, "bad evaluation error", e.msg);
    }
    bool b;
    (void)expr_eval_bool(x, &vars, &b, &e);
    strbuf sb;
    sb_init(&sb);
    expr_explain(x, &vars, &sb);
    sb_done(&sb);
    (void)expr_result_type(x);
    expr_free(x);
    return 0;
}
