/* test_store_domain.c: unit tests for the domain a store records
 * (core/store_domain.h): a new store takes the first domain it is written with;
 * the same name goes ahead; another name, or any name for a store with events and
 * no domain, is refused unless forced, and forcing records it; a read-only store
 * can be checked but records nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store.h"
#include "core/store_domain.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/strata-sdomain-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_at(const char *name, bool read_only)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.read_only = read_only;
    opt.create = !read_only;
    err e;
    err_clear(&e);
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        fail_msg("store_open(%s): %s", path, e.msg);
    return s;
}

static void append_one(struct store *s)
{
    struct new_event ev = {"T", 1, NULL, "{}", NULL};
    err e;
    err_clear(&e);
    assert_int_equal(store_append(s, "S-1", STORE_ANY_VERSION, NULL, &ev, 1, NULL, &e), ST_OK);
}

static char *recorded(struct store *s)
{
    char *v = NULL;
    err e;
    err_clear(&e);
    int rc = store_meta_get(s, "domain", &v, &e);
    assert_true(rc == ST_OK || rc == ST_NOT_FOUND);
    return v;
}

static void test_fresh_store_takes_the_domain(void **state)
{
    struct store *s = open_at("fresh.db", false);
    struct store_domain_check c;
    err e;
    err_clear(&e);
    assert_int_equal(store_domain_check(s, "bank", &c, &e), ST_OK);
    assert_int_equal(c.fit, STORE_DOMAIN_FRESH);
    store_domain_check_done(&c);
    assert_int_equal(store_domain_claim(s, "bank", false, &e), ST_OK);
    char *v = recorded(s);
    assert_string_equal(v, "bank");
    free(v);
    append_one(s);
    assert_int_equal(store_domain_claim(s, "bank", false, &e), ST_OK);
    store_close(s);
}

static void test_other_domain_refused_unless_forced(void **state)
{
    struct store *s = open_at("other.db", false);
    err e;
    err_clear(&e);
    assert_int_equal(store_domain_claim(s, "bank", false, &e), ST_OK);
    append_one(s);
    err_clear(&e);
    assert_int_equal(store_domain_claim(s, "cart", false, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "was used with domain 'bank', not 'cart'"));
    assert_non_null(strstr(e.msg, "--force"));
    char *v = recorded(s);
    assert_string_equal(v, "bank");
    free(v);
    err_clear(&e);
    assert_int_equal(store_domain_claim(s, "cart", true, &e), ST_OK);
    v = recorded(s);
    assert_string_equal(v, "cart");
    free(v);
    store_close(s);
}

static void test_imported_log_stays_without_one(void **state)
{
    struct store *s = open_at("log.db", false);
    append_one(s);
    append_one(s);
    err e;
    err_clear(&e);
    struct store_domain_check c;
    assert_int_equal(store_domain_check(s, "bank", &c, &e), ST_OK);
    assert_int_equal(c.fit, STORE_DOMAIN_NONE);
    assert_int_equal(c.head, 2);
    char *q = store_domain_question(&c, "log.db", "bank");
    assert_string_equal(q,
                        "log.db has 2 events and no domain (an imported log?), not domain 'bank'");
    free(q);
    store_domain_check_done(&c);
    assert_int_equal(store_domain_claim(s, "bank", false, &e), ST_ERR);
    assert_null(recorded(s));
    store_close(s);
    /* Read-only: it can be checked, and nothing can be recorded. */
    s = open_at("log.db", true);
    assert_int_equal(store_domain_check(s, "bank", &c, &e), ST_OK);
    assert_int_equal(c.fit, STORE_DOMAIN_NONE);
    store_domain_check_done(&c);
    err_clear(&e);
    assert_int_not_equal(store_domain_record(s, "bank", &e), ST_OK);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_store_takes_the_domain),
        cmocka_unit_test(test_other_domain_refused_unless_forced),
        cmocka_unit_test(test_imported_log_stays_without_one),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
