/* exec_probe.c: bench_core's exec_latency alone, on an existing store, with the
 * knobs that take it apart (bench/RESULTS.md, "hl: what exec_latency measures").
 * Not built by run.sh; build it by hand after `make all`:
 *
 *   P="ncursesw sqlite3 yaml-0.1 zlib libpq"
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -g -I. $(pkg-config --cflags $P) -o build/bench/exec_probe \
 *       bench/exec_probe.c bench/common.c build/libstrata.a $(pkg-config --libs $P) -lpthread -lm
 *   exec_probe STORE SAMPLES [pair|strata|raw]
 *
 * STORE is a bench_core store (BENCH_KEEP=1 leaves one; copy it first, the probe
 * appends to it). As bench_core does, it warms SAMPLES random accounts with
 * aggregate_load, then runs SAMPLES Deposits, each after one raw SQLite
 * transaction appending the equivalent event, and prints p50/p99 of both sides.
 * Environment:
 *   PROBE_RAWDB=FILE   the raw transactions go to FILE (a copy of the store)
 *                      instead of the same file
 *   PROBE_PRAGMA=SQL   run on the store's connection before the warm-up (e.g.
 *                      "PRAGMA cache_size=-2000")
 *   PROBE_FRAMES=1     print the WAL frames written per iteration (to stderr)
 * For instruction counts: valgrind --tool=callgrind --toggle-collect=bench_deposit
 * --toggle-collect=raw_deposit_once exec_probe ... (both sides are bench_core's
 * own, from bench/common.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/bench.h"
#include "core/aggregate.h"
#include "core/domain.h"
#include "core/store.h"
#include "core/store_sqlite.h"
#include "core/util.h"
#include "core/value.h"

static long wal_size(const char *db)
{
    char path[1024];
    snprintf(path, sizeof path, "%s-wal", db);
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: exec_probe STORE SAMPLES [pair|strata|raw]");
    const char *db = argv[1];
    int ns = atoi(argv[2]);
    const char *mode = argc > 3 ? argv[3] : "pair";
    bool do_strata = strcmp(mode, "raw") != 0, do_raw = strcmp(mode, "strata") != 0;
    const char *rawdb = getenv("PROBE_RAWDB"), *pragma = getenv("PROBE_PRAGMA");
    struct domain *bank = bench_load_domain("domains/bank.yaml");
    struct store *s = bench_open_store(db, false);
    if (pragma && *pragma && sqlite3_exec(store_sqlite_db(s), pragma, NULL, NULL, NULL))
        bench_die("%s: %s", pragma, sqlite3_errmsg(store_sqlite_db(s)));
    err e;
    err_clear(&e);
    const struct aggregate_spec *acc = domain_aggregate(bank, "Account");
    int64_t accounts = 0;
    sqlite3_stmt *cnt = raw_prepare(
        store_sqlite_db(s), "SELECT count(*) FROM streams WHERE name GLOB 'Account-[0-9]*'");
    if (sqlite3_step(cnt) == SQLITE_ROW)
        accounts = sqlite3_column_int64(cnt, 0);
    sqlite3_finalize(cnt);
    if (accounts < 1)
        bench_die("%s has no accounts", db);
    uint64_t rng = 88172645463325252ULL;
    char **ids = xcalloc((size_t)ns + 1, sizeof *ids);
    for (int i = 0; i < ns; i++) {
        ids[i] = xasprintf("%llu", (unsigned long long)(bench_rand(&rng) % (uint64_t)accounts));
        struct agg_state ag;
        if (aggregate_load(s, bank, acc, ids[i], 0, true, &ag, &e) != ST_OK)
            bench_die("load account %s: %s", ids[i], e.msg);
        agg_state_done(&ag);
    }
    double *st = xcalloc((size_t)ns + 1, sizeof *st), *bt = xcalloc((size_t)ns + 1, sizeof *bt);
    struct raw_deposit r;
    raw_deposit_open(&r, rawdb && *rawdb ? rawdb : db);
    long wal0 = wal_size(db);
    for (int i = 0; i < ns; i++) {
        if (do_raw)
            bt[i] = raw_deposit_once(&r);
        if (do_strata)
            if ((st[i] = bench_deposit(s, bank, ids[i], &e)) < 0)
                bench_die("exec Deposit %s: %s", ids[i], e.msg);
    }
    if (getenv("PROBE_FRAMES"))
        fprintf(stderr, "probe: %.2f WAL frames per iteration\n",
                (double)(wal_size(db) - wal0) / (4096 + 24) / (ns ? ns : 1));
    if (do_strata && do_raw)
        bench_latency_pair("exec_latency", st, (size_t)ns, bt, (size_t)ns);
    raw_deposit_close(&r);
    store_close(s);
    for (int i = 0; i < ns; i++)
        free(ids[i]);
    free(ids);
    free(st);
    free(bt);
    domain_free(bank);
    return 0;
}
