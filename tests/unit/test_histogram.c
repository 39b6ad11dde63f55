/* test_histogram.c: the log-bucketed histogram (core/histogram.c) against exact
 * percentiles (nearest rank, core/inspect_cases.c's quantile_sorted) on random
 * data of several shapes, with a fixed seed so a failure repeats: every estimate
 * must be within 1% of the exact value. Also the interning table it is used with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/histogram.h"
#include "core/inspect_cases.h"
#include "core/intern.h"

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double uniform(void)
{
    return (double)(next() >> 11) / 9007199254740992.0;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* shape 0: uniform 0..1e6; 1: log-normal around a minute (ms); 2: log-uniform
 * from 1 ms to a year; 3: small values 0..300 (the exact region and its edge). */
static int64_t draw(int shape)
{
    switch (shape) {
    case 0:
        return (int64_t)(uniform() * 1e6);
    case 1: {
        double u1 = uniform() + 1e-12, u2 = uniform();
        double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        return (int64_t)exp(log(60000.0) + 2 * z);
    }
    case 2:
        return (int64_t)exp(uniform() * log(3.2e10));
    default:
        return (int64_t)(uniform() * 300);
    }
}

static void test_quantiles_within_one_percent(void **st)
{
    static const double ps[] = {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0};
    static const size_t sizes[] = {1, 2, 7, 100, 5000, 200000};
    for (int shape = 0; shape < 4; shape++) {
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            size_t n = sizes[si];
            int64_t *v = malloc(n * sizeof *v);
            struct histogram h;
            hist_init(&h);
            for (size_t i = 0; i < n; i++) {
                v[i] = draw(shape);
                hist_add(&h, v[i]);
            }
            qsort(v, n, sizeof *v, cmp);
            for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
                int64_t exact = quantile_sorted(v, n, ps[k]);
                int64_t est = hist_quantile(&h, ps[k]);
                double rel = exact ? fabs((double)(est - exact)) / (double)exact : (double)est;
                if (rel > 0.01)
                    fail_msg("shape %d n %zu p %g: exact %lld, estimate %lld (%.3f%%)", shape, n,
                             ps[k], (long long)exact, (long long)est, rel * 100);
            }
            assert_int_equal(h.n, n);
            assert_int_equal(h.min, v[0]);
            assert_int_equal(h.max, v[n - 1]);
            hist_done(&h);
            free(v);
        }
    }
}

static void test_empty_and_negative(void **st)
{
    struct histogram h;
    hist_init(&h);
    assert_int_equal(hist_quantile(&h, 0.5), 0);
    hist_add(&h, -5); /* a log out of time order: counted as 0 */
    assert_int_equal(hist_quantile(&h, 0.5), 0);
    hist_done(&h);
}

static void test_intern(void **st)
{
    struct intern t;
    intern_init(&t);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "type-%d", i);
        int added;
        assert_int_equal(intern_put(&t, key, strlen(key), &added), (uint32_t)i);
        assert_true(added);
    }
    for (int i = 0; i < 10000; i += 97) {
        snprintf(key, sizeof key, "type-%d", i);
        int added;
        assert_int_equal(intern_put(&t, key, strlen(key), &added), (uint32_t)i);
        assert_false(added);
        assert_int_equal(intern_find(&t, key, strlen(key)), i);
    }
    assert_int_equal(intern_find(&t, "nope", 4), -1);
    uint32_t seq[2] = {0, 7}; /* bytes keys: a sequence of ids */
    assert_int_equal(intern_put(&t, seq, sizeof seq, NULL), 10000);
    assert_int_equal(intern_find(&t, seq, sizeof seq), 10000);
    intern_done(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles_within_one_percent),
        cmocka_unit_test(test_empty_and_negative),
        cmocka_unit_test(test_intern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
