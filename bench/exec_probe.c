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
 * For instruction counts: valgrind --tool=callgrind --toggle-collect=strata_once
 * --toggle-collect=raw_once exec_probe ... */
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

struct raw {
    sqlite3 *db;
    sqlite3_stmt *begin, *ins, *upd, *commit;
    int64_t stream_id, version;
};

/* bench_core.c's raw_exec_open and raw_exec_once, unchanged */
static void raw_open_exec(struct raw *r, const char *path)
{
    r->db = raw_open(path, 2);
    raw_exec(r->db, "INSERT OR IGNORE INTO streams(name, version, last_position) "
                    "VALUES('Account-raw', 0, 0)");
    sqlite3_stmt *st =
        raw_prepare(r->db, "SELECT id, version FROM streams WHERE name = 'Account-raw'");
    if (sqlite3_step(st) != SQLITE_ROW)
        bench_die("exec raw: no stream");
    r->stream_id = sqlite3_column_int64(st, 0);
    r->version = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    r->begin = raw_prepare(r->db, "BEGIN IMMEDIATE");
    r->ins = raw_prepare(r->db, "INSERT INTO event_log(stream_id, version, type, schema, time, "
                                "data, meta) VALUES(?1, ?2, 'MoneyDeposited', 1, ?3, "
                                "'{\"amount\":5}', '{\"command\":\"Deposit\"}')");
    r->upd = raw_prepare(r->db, "UPDATE streams SET version = ?2, last_position = "
                                "last_insert_rowid() WHERE id = ?1");
    r->commit = raw_prepare(r->db, "COMMIT");
}

static void step_or_die(sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        bench_die("%s: %s", sqlite3_sql(st), sqlite3_errmsg(sqlite3_db_handle(st)));
    sqlite3_reset(st);
}

__attribute__((noinline)) double raw_once(struct raw *r)
{
    char tm[TIME_TEXT_LEN + 1];
    double t0 = bench_now();
    time_format_ms(time_now_ms(), tm);
    step_or_die(r->begin);
    r->version++;
    sqlite3_bind_int64(r->ins, 1, r->stream_id);
    sqlite3_bind_int64(r->ins, 2, r->version);
    sqlite3_bind_text(r->ins, 3, tm, -1, SQLITE_TRANSIENT);
    step_or_die(r->ins);
    sqlite3_bind_int64(r->upd, 1, r->stream_id);
    sqlite3_bind_int64(r->upd, 2, r->version);
    step_or_die(r->upd);
    step_or_die(r->commit);
    return (bench_now() - t0) * 1000;
}

__attribute__((noinline)) int strata_once(struct store *s, const struct domain *d,
                                          const struct command_request *req,
                                          struct command_result *res, err *e)
{
    return command_execute(s, d, req, res, e);
}

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
    const struct command_spec *dep = domain_command(bank, "Deposit");
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
    struct raw r;
    raw_open_exec(&r, rawdb && *rawdb ? rawdb : db);
    long wal0 = wal_size(db);
    for (int i = 0; i < ns; i++) {
        if (do_raw)
            bt[i] = raw_once(&r);
        if (!do_strata)
            continue;
        value payload = value_map(2);
        value_map_set(&payload, "accountId", value_cstring(ids[i]));
        value_map_set(&payload, "amount", value_int(5));
        struct command_request req;
        memset(&req, 0, sizeof req);
        req.command = dep;
        req.payload = payload;
        req.expected_version = STORE_ANY_VERSION;
        struct command_result res;
        command_result_init(&res);
        double t0 = bench_now();
        int rc = strata_once(s, bank, &req, &res, &e);
        st[i] = (bench_now() - t0) * 1000;
        if (rc != ST_OK)
            bench_die("exec Deposit %s: %s", ids[i], e.msg);
        command_result_done(&res);
        value_free(payload);
    }
    if (getenv("PROBE_FRAMES"))
        fprintf(stderr, "probe: %.2f WAL frames per iteration\n",
                (double)(wal_size(db) - wal0) / (4096 + 24) / (ns ? ns : 1));
    if (do_strata && do_raw)
        bench_latency_pair("exec_latency", st, (size_t)ns, bt, (size_t)ns);
    sqlite3_finalize(r.begin);
    sqlite3_finalize(r.ins);
    sqlite3_finalize(r.upd);
    sqlite3_finalize(r.commit);
    sqlite3_close(r.db);
    store_close(s);
    for (int i = 0; i < ns; i++)
        free(ids[i]);
    free(ids);
    free(st);
    free(bt);
    domain_free(bank);
    return 0;
}
