/* test_domain_fixture.h: helpers shared by test_domain.c, test_domain_checks.c,
 * test_domain_types.c and the projection tests: load a domain from text (or fail the
 * test), open an in-memory store, collect its problems as "LINE:COL: PATH: MESSAGE"
 * lines, expect a problem or none, substitute text, and BASE, a small valid
 * domain. Include after cmocka.h (and the headers it needs). */
#ifndef STRATA_TEST_DOMAIN_FIXTURE_H
#define STRATA_TEST_DOMAIN_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "core/domain.h"
#include "core/domain_schema.h"
#include "core/store.h"

/* Loads a test domain from text; fails the test (printing the problems) if it does
 * not load. */
static inline struct domain *load_domain(const char *text)
{
    struct diag_list diags;
    diag_list_init(&diags);
    struct domain *d = domain_load_buffer("t.yaml", text, strlen(text), &diags);
    if (!d) {
        diag_list_print(&diags, stderr);
        diag_list_done(&diags);
        fail_msg("the test domain did not load");
    }
    diag_list_done(&diags);
    return d;
}

/* An in-memory SQLite store; synchronous as in struct store_options (2, FULL, is the
 * default; 0 skips the syncs a memory store does not need anyway). */
static inline struct store *open_mem_store(int synchronous)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.synchronous = synchronous;
    err e;
    err_clear(&e);
    struct store *s = store_open(":memory:", &opt, &e);
    if (!s)
        fail_msg("store_open: %s", e.msg);
    return s;
}

/* Loads text and returns every problem as "LINE:COL: PATH: MESSAGE\n" lines
 * (caller frees); "" when the domain loaded. */
static inline char *problems_of(const char *text, size_t len)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load_buffer("t.yaml", text, len, &dl);
    strbuf sb;
    sb_init(&sb);
    sb_addc(&sb, '\n');
    for (size_t i = 0; i < dl.len; i++)
        sb_addf(&sb, "%d:%d: %s%s%s\n", dl.items[i].line, dl.items[i].col, dl.items[i].path,
                dl.items[i].path[0] ? ": " : "", dl.items[i].message);
    if (d)
        assert_int_equal(dl.len, 0);
    else
        assert_true(dl.len > 0); /* a failed load always says why */
    domain_free(d);
    diag_list_done(&dl);
    return sb_steal(&sb);
}

/* Asserts that loading text fails with exactly `want` as one of its problems. */
static inline void expect_problem_n(const char *text, size_t len, const char *want)
{
    char *all = problems_of(text, len);
    char *needle = xasprintf("\n%s\n", want);
    if (!strstr(all, needle))
        fail_msg("expected the problem\n  %s\namong:%s", want, all);
    free(needle);
    free(all);
}

static inline void expect_problem(const char *text, const char *want)
{
    expect_problem_n(text, strlen(text), want);
}

static inline size_t count_problems(const char *text)
{
    char *all = problems_of(text, strlen(text));
    size_t n = 0;
    for (const char *p = all + 1; *p; p++)
        n += *p == '\n';
    free(all);
    return n;
}

static inline void expect_ok(const char *text)
{
    char *all = problems_of(text, strlen(text));
    if (strcmp(all, "\n") != 0)
        fail_msg("expected no problems, got:%s", all);
    free(all);
}

/* A copy of text with the first `from` replaced by `to` (which must be there). */
static inline char *subst(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p)
        fail_msg("test setup: '%s' not found", from);
    return xasprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

/* A small valid domain; tests append to it or replace parts. */
#define BASE                                                                                       \
    "domain: t\n"                                                                                  \
    "aggregates:\n"                                                                                \
    "  Account:\n"                                                                                 \
    "    id: accountId\n"                                                                          \
    "    state:\n"                                                                                 \
    "      status: {type: string, default: none}\n"                                                \
    "      balance: {type: int, default: 0}\n"                                                     \
    "    commands:\n"                                                                              \
    "      Deposit:\n"                                                                             \
    "        payload: {accountId: string, amount: {type: int, min: 1}}\n"                          \
    "        require:\n"                                                                           \
    "          - {rule: \"state.status == 'open'\", message: \"account is not open\"}\n"           \
    "        emit:\n"                                                                              \
    "          - MoneyDeposited: {amount: payload.amount}\n"                                       \
    "    events:\n"                                                                                \
    "      MoneyDeposited:\n"                                                                      \
    "        fields: {amount: int}\n"                                                              \
    "        apply: {balance: \"state.balance + event.amount\"}\n"

#endif
