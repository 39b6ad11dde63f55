/* query_at_paths.c: the CPU time of one read of every row of AccountList at a
 * random past position, through the SQLite backend's paths on the same store:
 * from the newest full checkpoint into values (psq_rows_at, what
 * projection_query uses), by one seek into the history per key
 * (psq_rows_at_seek), as JSON text without values (projection_query_json, what
 * `strata query --at` and the benchmark's query_at use), and the benchmark's
 * baseline (a raw read of the table now). Not run by `make bench`; built by
 * bench/run.sh, for the figures in bench/RESULTS.md:
 *
 *   BENCH_KEEP=1 BENCH_SCALE=1000000 BENCH_REPS=1 build/bench/bench_core
 *   build/bench/query_at_paths build/bench/data/bench.db 30 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "core/domain.h"
#include "core/projection.h"
#include "core/store.h"
#include "core/store_sqlite.h"

/* private to core/projection_sqlite*.c (projection_sqlite_internal.h) */
int psq_rows_at(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                size_t offset, size_t limit, value *rows, int64_t *count, err *e);
int psq_rows_at_seek(struct store *s, const struct projection_spec *p, const char *key, int64_t at,
                     size_t offset, size_t limit, value *rows, int64_t *count, err *e);
int psq_rows_at_ck(struct store *s, const struct projection_spec *p, int64_t at, size_t offset,
                   size_t limit, value *rows, int64_t *count, bool *done, err *e);

static int count_row(void *ctx, const char *json, size_t len, err *e)
{
    size_t *n = ctx;
    (void)json;
    (void)len;
    (void)e;
    (*n)++;
    return ST_OK;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The count and a page of 20 rows at offsets 0, 1/8, 2/8 ... of the rows, by
 * seeks and from the checkpoint, at `reads` random positions. */
static int pages(struct store *s, const struct projection_spec *p, int64_t head, int reads)
{
    err e;
    err_clear(&e);
    for (int eighth = 0; eighth <= 8; eighth++) {
        double cost[2] = {0, 0};
        for (int way = 0; way < 2; way++) {
            unsigned seed = 42;
            for (int i = 0; i < reads; i++) {
                int64_t at = 1 + (int64_t)(rand_r(&seed) % (unsigned)head);
                int64_t n = 0;
                value none = value_list(0);
                if (psq_rows_at_seek(s, p, NULL, at, SIZE_MAX, 0, &none, &n, &e) != ST_OK)
                    return fprintf(stderr, "at %lld: %s\n", (long long)at, e.msg), 1;
                value_free(none);
                size_t off = (size_t)n * (size_t)eighth / 8;
                off = off >= 20 ? off - 20 : 0;
                value rows = value_list(0);
                bool done = true;
                double t0 = cpu_now();
                int rc = way == 0 ? psq_rows_at_seek(s, p, NULL, at, off, 20, &rows, NULL, &e)
                                  : psq_rows_at_ck(s, p, at, off, 20, &rows, NULL, &done, &e);
                cost[way] += cpu_now() - t0;
                if (rc != ST_OK || !done || value_list_len(&rows) != 20)
                    return fprintf(stderr, "at %lld: %s\n", (long long)at, e.msg), 1;
                value_free(rows);
            }
        }
        printf("query_at_paths page at %d/8 of the rows: seeks %.2f ms, checkpoint %.2f ms CPU "
               "(%d reads)\n",
               eighth, cost[0] / reads * 1000, cost[1] / reads * 1000, reads);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: query_at_paths STORE [READS]\n");
        return 2;
    }
    int reads = argc > 2 ? atoi(argv[2]) : 30;
    bool by_page = argc > 3 && strcmp(argv[3], "pages") == 0;
    if (by_page)
        store_set_cache_kib(1024); /* the workbench's (cli/cmd_tui.c) */
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load("domains/bank.yaml", &dl);
    if (!d) {
        diag_list_print(&dl, stderr);
        return 1;
    }
    diag_list_done(&dl);
    const struct projection_spec *p = domain_projection(d, "AccountList");
    struct store_options o = STORE_OPTIONS_DEFAULT;
    o.create = false;
    err e;
    err_clear(&e);
    struct store *s = store_open(argv[1], &o, &e);
    int64_t head = 0;
    if (!s || store_head(s, &head, &e) != ST_OK || head < 1) {
        fprintf(stderr, "%s: %s\n", argv[1], e.msg);
        return 1;
    }
    if (by_page) {
        int rc = pages(s, p, head, reads);
        store_close(s);
        domain_free(d);
        return rc;
    }
    static const char *const names[] = {"checkpoints", "seeks", "json", "baseline"};
    sqlite3_stmt *now = NULL;
    if (sqlite3_prepare_v2((sqlite3 *)store_sqlite_db(s),
                           "SELECT * FROM \"proj_AccountList\" ORDER BY key", -1, &now,
                           NULL) != SQLITE_OK)
        return 1;
    const char *only = getenv("QUERY_AT_PATH"); /* one of names: only that one */
    for (int path = 0; path < 4; path++) {
        if (only && strcmp(only, names[path]) != 0)
            continue;
        unsigned seed = 42;
        double total = 0;
        size_t nrows = 0;
        for (int i = 0; i < reads; i++) {
            int64_t at = 1 + (int64_t)(rand_r(&seed) % (unsigned)head);
            value rows = value_list(0);
            size_t n = 0;
            int rc = ST_OK;
            double t0 = cpu_now();
            if (path == 0)
                rc = psq_rows_at(s, p, NULL, at, 0, 0, &rows, NULL, &e);
            else if (path == 1)
                rc = psq_rows_at_seek(s, p, NULL, at, 0, 0, &rows, NULL, &e);
            else if (path == 2)
                rc = projection_query_json(s, d, "AccountList", NULL, at, 0, 0, count_row, &n, &e);
            else
                for (; sqlite3_step(now) == SQLITE_ROW; n++)
                    for (int c = 0; c < sqlite3_column_count(now); c++)
                        (void)sqlite3_column_text(now, c);
            total += cpu_now() - t0;
            sqlite3_reset(now);
            if (rc != ST_OK) {
                fprintf(stderr, "at %lld: %s\n", (long long)at, e.msg);
                return 1;
            }
            nrows += path < 2 ? value_list_len(&rows) : n;
            value_free(rows);
        }
        printf("query_at_paths %s: %.2f ms CPU per read of %zu rows on average (%d reads)\n",
               names[path], total / reads * 1000, nrows / (size_t)reads, reads);
    }
    sqlite3_finalize(now);
    store_close(s);
    domain_free(d);
    return 0;
}
