/* common.c: timing, quantiles, figure lines, the generated data set and the raw
 * SQLite baseline writer shared by the benchmark programs (see bench.h). */
#include "bench/bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/aggregate.h"
#include "core/domain.h"
#include "core/util.h"
#include "core/value.h"

int64_t bench_scale(void)
{
    const char *s = getenv("BENCH_SCALE");
    if (!s || !*s)
        return 1000000;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 1000)
        bench_die("BENCH_SCALE must be a whole number of events, at least 1000 (got '%s')", s);
    return v;
}

int bench_reps(void)
{
    const char *s = getenv("BENCH_REPS");
    int v = s && *s ? atoi(s) : 3;
    return v < 1 ? 1 : v;
}

const char *bench_dir(void)
{
    static char *dir;
    if (!dir) {
        const char *s = getenv("BENCH_DIR");
        dir = xstrdup(s && *s ? s : "build/bench/data");
        /* mkdir -p */
        for (char *p = dir + 1; *p; p++) {
            if (*p != '/')
                continue;
            *p = 0;
            if (mkdir(dir, 0777) != 0 && errno != EEXIST)
                bench_die("cannot create %s: %s", dir, strerror(errno));
            *p = '/';
        }
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            bench_die("cannot create %s: %s", dir, strerror(errno));
    }
    return dir;
}

char *bench_path(const char *name)
{
    return xasprintf("%s/%s", bench_dir(), name);
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void bench_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("  (", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(")\n", stderr);
    va_end(ap);
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_quantile(double *xs, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(xs, n, sizeof *xs, cmp_double);
    /* nearest rank: the smallest value with at least q of the samples at or below it */
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return xs[rank - 1];
}

double bench_median(double *xs, size_t n)
{
    if (n == 0)
        return 0;
    qsort(xs, n, sizeof *xs, cmp_double);
    return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

/* Plain decimal with about four significant digits: no exponent, so that the lines
 * stay easy to parse with a regular expression. */
static void fmt_num(char *out, size_t cap, double v)
{
    if (v >= 1000)
        snprintf(out, cap, "%.0f", v);
    else if (v >= 10)
        snprintf(out, cap, "%.1f", v);
    else if (v >= 1)
        snprintf(out, cap, "%.2f", v);
    else if (v >= 0.01)
        snprintf(out, cap, "%.4f", v);
    else
        snprintf(out, cap, "%.6f", v);
}

void bench_line(const char *name, double strata, const char *unit, double baseline,
                const char *bunit, double ratio)
{
    char a[64], b[64];
    fmt_num(a, sizeof a, strata);
    fmt_num(b, sizeof b, baseline);
    /* Three decimals, more when the ratio is small, never an exponent. */
    const char *rf = ratio >= 0.1 ? "%.3f" : ratio >= 0.001 ? "%.5f" : "%.7f";
    char r[64];
    snprintf(r, sizeof r, rf, ratio);
    printf("bench: %s strata=%s %s baseline=%s %s ratio=%s\n", name, a, unit, b, bunit, r);
    fflush(stdout);
}

void bench_throughput(const char *name, double strata, double baseline, const char *unit)
{
    bench_line(name, strata, unit, baseline, unit, baseline > 0 ? strata / baseline : 0);
}

struct rate bench_rate(double items, double wall0, double cpu0)
{
    double w = bench_now() - wall0, c = bench_cpu() - cpu0;
    struct rate r = {w > 0 ? items / w : 0, c > 0 ? items / c : 0};
    return r;
}

void bench_rates(const char *name, const struct rate *strata, const struct rate *base, int reps,
                 const char *unit)
{
    double *xs = xcalloc((size_t)reps * 4, sizeof *xs);
    for (int i = 0; i < reps; i++) {
        xs[i] = strata[i].wall;
        xs[reps + i] = base[i].wall;
        xs[2 * reps + i] = strata[i].cpu;
        xs[3 * reps + i] = base[i].cpu;
    }
    double sw = bench_median(xs, (size_t)reps), bw = bench_median(xs + reps, (size_t)reps);
    double sc = bench_median(xs + 2 * reps, (size_t)reps),
           bc = bench_median(xs + 3 * reps, (size_t)reps);
    bench_throughput(name, sw, bw, unit);
    bench_note("%s per CPU second: strata %.0f baseline %.0f ratio %.3f", name, sc, bc,
               bc > 0 ? sc / bc : 0);
    free(xs);
}

void bench_latency(const char *name, double strata_ms, double baseline_ms)
{
    bench_line(name, strata_ms, "ms", baseline_ms, "ms",
               strata_ms > 0 ? baseline_ms / strata_ms : 0);
}

void bench_latency_pair(const char *name, double *strata_ms, size_t ns, double *base_ms, size_t nb)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s_p50", name);
    bench_latency(buf, bench_quantile(strata_ms, ns, 0.50), bench_quantile(base_ms, nb, 0.50));
    snprintf(buf, sizeof buf, "%s_p99", name);
    bench_latency(buf, bench_quantile(strata_ms, ns, 0.99), bench_quantile(base_ms, nb, 0.99));
}

static int by_slower(const void *a, const void *b, void *ctx)
{
    const double *xs = ctx;
    double x = xs[*(const size_t *)a], y = xs[*(const size_t *)b];
    return (x < y) - (x > y);
}

/* xs's k slowest samples, slowest first, as text: "0.588 (#321) 0.579 (#15) ...",
 * with each one's place in the run when `places`. */
static void tail_text(const double *xs, size_t n, size_t k, bool places, char *out, size_t cap)
{
    size_t *ix = xcalloc(n, sizeof *ix);
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    qsort_r(ix, n, sizeof *ix, by_slower, (void *)xs);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k && i < n && len < cap; i++) {
        int w =
            places ? snprintf(out + len, cap - len, "%s%.3f (#%zu)", i ? " " : "", xs[ix[i]], ix[i])
                   : snprintf(out + len, cap - len, "%s%.3f", i ? " " : "", xs[ix[i]]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    free(ix);
}

void bench_note_tail(const char *name, const double *strata_ms, const double *base_ms, size_t n)
{
    size_t k = n / 100 < 3 ? 3 : n / 100;
    char st[1024], bt[512];
    tail_text(strata_ms, n, k, true, st, sizeof st);
    tail_text(base_ms, n, k, false, bt, sizeof bt);
    bench_note("%s slowest %zu of %zu, ms: strata %s; baseline %s", name, k, n, st, bt);
}

uint64_t bench_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

/* ---- the data set ---- */

/* Strings are carved out of 16 MB chunks that never move, so pointers stay valid. */
#define CHUNK (16u << 20)
struct chunk {
    struct chunk *next;
    size_t used;
    char text[];
};
static struct chunk *chunks;

static char *arena_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *arena_printf(const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        bench_die("generated string too long");
    if (!chunks || chunks->used + (size_t)n + 1 > CHUNK) {
        struct chunk *c = xmalloc(sizeof *c + CHUNK);
        c->next = chunks;
        c->used = 0;
        chunks = c;
    }
    char *p = chunks->text + chunks->used;
    memcpy(p, tmp, (size_t)n + 1);
    chunks->used += (size_t)n + 1;
    return p;
}

void dataset_make(struct dataset *ds, size_t n)
{
    memset(ds, 0, sizeof *ds);
    if (n < 1000)
        bench_die("the data set needs at least 1000 events");
    ds->n = n;
    ds->hot_len = n / 10 < 10000 ? n / 10 : 10000;
    ds->naccounts = n / 100 < 10 ? 10 : n / 100 > 10000 ? 10000 : n / 100;
    ds->nstreams = ds->naccounts + 1;
    ds->stream_names = xcalloc(ds->nstreams, sizeof *ds->stream_names);
    for (size_t k = 0; k < ds->naccounts; k++)
        ds->stream_names[k] = arena_printf("Account-%zu", k);
    ds->stream_names[ds->naccounts] = arena_printf("%s", HOT_STREAM);
    ds->stream = xcalloc(n, sizeof *ds->stream);
    ds->version = xcalloc(n, sizeof *ds->version);
    ds->type = xcalloc(n, sizeof *ds->type);
    ds->schema = xcalloc(n, sizeof *ds->schema);
    ds->time = xcalloc(n, sizeof *ds->time);
    ds->data = xcalloc(n, sizeof *ds->data);
    ds->meta = xcalloc(n, sizeof *ds->meta);
    uint32_t *versions = xcalloc(ds->nstreams, sizeof *versions);
    uint64_t rng = 0x5eed5eed12345678ULL;
    int64_t t0 = 1767225600000LL; /* 2026-01-01T00:00:00.000Z */
    size_t opened = 0;
    for (size_t i = 0; i < n; i++) {
        bool hot = (i + 1) * ds->hot_len / n > i * ds->hot_len / n;
        uint64_t r = bench_rand(&rng);
        char tm[TIME_TEXT_LEN + 1];
        time_format_ms(t0 + (int64_t)i * 1000 + (int64_t)(r % 1000), tm);
        ds->time[i] = arena_printf("%s", tm);
        uint32_t si;
        const char *command;
        if (hot) {
            si = (uint32_t)ds->naccounts;
            ds->type[i] = "Added";
            ds->schema[i] = 1;
            ds->data[i] = arena_printf("{\"amount\":%u}", (unsigned)(1 + r % 9));
            command = "Add";
            if (!ds->first_hot)
                ds->first_hot = (int64_t)i + 1;
        } else if (opened < ds->naccounts) {
            si = (uint32_t)opened++;
            ds->type[i] = "AccountOpened";
            ds->schema[i] = 2;
            ds->data[i] = arena_printf(
                "{\"owner\":\"Owner %u\",\"initialDeposit\":1000,\"currency\":\"EUR\"}", si);
            command = "OpenAccount";
        } else {
            si = (uint32_t)((r >> 20) % ds->naccounts);
            /* Amounts stay below 1000 so BankStats' bigWithdrawals list stays empty:
             * a list that grows with every event would measure list copying. */
            if (r % 3 == 0) {
                ds->type[i] = "MoneyWithdrawn";
                ds->data[i] = arena_printf("{\"amount\":%u}", (unsigned)(1 + (r >> 8) % 200));
                command = "Withdraw";
            } else {
                ds->type[i] = "MoneyDeposited";
                ds->data[i] = arena_printf("{\"amount\":%u}", (unsigned)(1 + (r >> 8) % 500));
                command = "Deposit";
            }
            ds->schema[i] = 1;
        }
        ds->stream[i] = si;
        ds->version[i] = ++versions[si];
        ds->meta[i] = arena_printf("{\"command\":\"%s\",\"commandId\":\"c-%016llx\"}", command,
                                   (unsigned long long)bench_rand(&rng));
    }
    free(versions);
}

void dataset_done(struct dataset *ds)
{
    free(ds->stream_names);
    free(ds->stream);
    free(ds->version);
    free(ds->type);
    free(ds->schema);
    free(ds->time);
    free(ds->data);
    free(ds->meta);
    while (chunks) {
        struct chunk *c = chunks->next;
        free(chunks);
        chunks = c;
    }
    memset(ds, 0, sizeof *ds);
}

/* ---- raw SQLite ---- */

sqlite3 *raw_open(const char *path, int synchronous)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        bench_die("%s: %s", path, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 10000);
    raw_exec(db, "PRAGMA journal_mode=WAL");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA synchronous=%d", synchronous);
    raw_exec(db, sql);
    /* The same cache and checkpoint settings as the store's own connection
     * (store_sqlite.c), so that the ratio measures Strata's work, not a pragma. */
    raw_exec(db, "PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=16384");
    return db;
}

void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        bench_die("%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
}

sqlite3_stmt *raw_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        bench_die("%s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static volatile size_t sink; /* keeps the compiler from dropping the reads */

int64_t raw_read_all(sqlite3_stmt *st)
{
    int64_t rows = 0;
    size_t bytes = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(st);
        for (int c = 0; c < nc; c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            bytes += (size_t)sqlite3_column_bytes(st, c) + (t ? t[0] : 0);
        }
        rows++;
    }
    if (rc != SQLITE_DONE)
        bench_die("read: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
    sqlite3_reset(st);
    sink += bytes;
    return rows;
}

static void step_done(sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        bench_die("%s: %s", sqlite3_sql(st), sqlite3_errmsg(sqlite3_db_handle(st)));
    sqlite3_reset(st);
}

void raw_writer_open(struct raw_writer *w, const char *path, int synchronous, size_t nstreams)
{
    memset(w, 0, sizeof *w);
    w->db = raw_open(path, synchronous);
    w->ins_event = raw_prepare(w->db, "INSERT INTO event_log(stream_id, version, type, schema, "
                                      "time, data, meta) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    w->ins_stream = raw_prepare(w->db, "INSERT INTO streams(name, version, last_position) "
                                       "VALUES(?1, 0, 0)");
    w->upd_stream = raw_prepare(w->db, "UPDATE streams SET version = ?2, last_position = ?3 "
                                       "WHERE id = ?1");
    w->begin = raw_prepare(w->db, "BEGIN IMMEDIATE");
    w->commit = raw_prepare(w->db, "COMMIT");
    w->nstreams = nstreams;
    w->ids = xcalloc(nstreams, sizeof *w->ids);
    w->versions = xcalloc(nstreams, sizeof *w->versions);
    w->last_pos = xcalloc(nstreams, sizeof *w->last_pos);
    w->dirty = xcalloc(nstreams, sizeof *w->dirty);
    w->dirty_list = xcalloc(nstreams, sizeof *w->dirty_list);
    sqlite3_stmt *head = raw_prepare(w->db, "SELECT coalesce(max(position), 0) FROM event_log");
    if (sqlite3_step(head) == SQLITE_ROW)
        w->position = sqlite3_column_int64(head, 0);
    sqlite3_finalize(head);
}

void raw_writer_begin(struct raw_writer *w)
{
    step_done(w->begin);
}

void raw_writer_add(struct raw_writer *w, uint32_t si, const char *name, const char *type,
                    int schema, const char *time, const char *data, const char *meta)
{
    if (si >= w->nstreams)
        bench_die("raw writer: stream index %u out of range", si);
    if (!w->ids[si]) {
        sqlite3_bind_text(w->ins_stream, 1, name, -1, SQLITE_STATIC);
        step_done(w->ins_stream);
        w->ids[si] = sqlite3_last_insert_rowid(w->db);
    }
    sqlite3_stmt *st = w->ins_event;
    sqlite3_bind_int64(st, 1, w->ids[si]);
    sqlite3_bind_int64(st, 2, ++w->versions[si]);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, schema);
    sqlite3_bind_text(st, 5, time, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, data, -1, SQLITE_STATIC);
    if (meta)
        sqlite3_bind_text(st, 7, meta, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    step_done(st);
    w->last_pos[si] = ++w->position;
    if (!w->dirty[si]) {
        w->dirty[si] = true;
        w->dirty_list[w->ndirty++] = si;
    }
}

void raw_writer_commit(struct raw_writer *w)
{
    for (size_t i = 0; i < w->ndirty; i++) {
        uint32_t si = w->dirty_list[i];
        sqlite3_bind_int64(w->upd_stream, 1, w->ids[si]);
        sqlite3_bind_int64(w->upd_stream, 2, w->versions[si]);
        sqlite3_bind_int64(w->upd_stream, 3, w->last_pos[si]);
        step_done(w->upd_stream);
        w->dirty[si] = false;
    }
    w->ndirty = 0;
    step_done(w->commit);
}

void raw_writer_close(struct raw_writer *w)
{
    sqlite3_finalize(w->ins_event);
    sqlite3_finalize(w->ins_stream);
    sqlite3_finalize(w->upd_stream);
    sqlite3_finalize(w->begin);
    sqlite3_finalize(w->commit);
    if (sqlite3_close(w->db) != SQLITE_OK)
        bench_die("close: %s", sqlite3_errmsg(w->db));
    free(w->ids);
    free(w->versions);
    free(w->last_pos);
    free(w->dirty);
    free(w->dirty_list);
    memset(w, 0, sizeof *w);
}

void bench_remove_db(const char *path)
{
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        char *p = xasprintf("%s%s", path, suffix[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            bench_die("cannot remove %s: %s", p, strerror(errno));
        free(p);
    }
}

void bench_fresh_store(const char *path)
{
    bench_remove_db(path);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    err e;
    err_clear(&e);
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        bench_die("%s: %s", path, e.msg);
    store_close(s);
}

/* ---- exec_latency baseline: one raw insert transaction, synchronous=FULL ---- */

void raw_step(sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        bench_die("%s: %s", sqlite3_sql(st), sqlite3_errmsg(sqlite3_db_handle(st)));
    sqlite3_reset(st);
}

void raw_deposit_open(struct raw_deposit *r, const char *path)
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

double raw_deposit_once(struct raw_deposit *r)
{
    char tm[TIME_TEXT_LEN + 1];
    double t0 = bench_now();
    time_format_ms(time_now_ms(), tm);
    raw_step(r->begin);
    r->version++;
    sqlite3_bind_int64(r->ins, 1, r->stream_id);
    sqlite3_bind_int64(r->ins, 2, r->version);
    sqlite3_bind_text(r->ins, 3, tm, -1, SQLITE_TRANSIENT);
    raw_step(r->ins);
    sqlite3_bind_int64(r->upd, 1, r->stream_id);
    sqlite3_bind_int64(r->upd, 2, r->version);
    raw_step(r->upd);
    raw_step(r->commit);
    return (bench_now() - t0) * 1000;
}

void raw_deposit_close(struct raw_deposit *r)
{
    sqlite3_finalize(r->begin);
    sqlite3_finalize(r->ins);
    sqlite3_finalize(r->upd);
    sqlite3_finalize(r->commit);
    sqlite3_close(r->db);
}

/* ---- Strata-side helpers shared by bench_core and bench_pg ---- */

struct domain *bench_load_domain(const char *path)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load(path, &dl);
    if (!d) {
        diag_list_print(&dl, stderr);
        bench_die("cannot load %s", path);
    }
    diag_list_done(&dl);
    return d;
}

struct store *bench_open_store(const char *path, bool create)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = create;
    err e;
    err_clear(&e);
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        bench_die("%s: %s", path, e.msg);
    return s;
}

double bench_deposit(struct store *s, const struct domain *bank, const char *id, err *e)
{
    value payload = value_map(2);
    value_map_set(&payload, "accountId", value_cstring(id));
    value_map_set(&payload, "amount", value_int(5));
    struct command_request req;
    memset(&req, 0, sizeof req);
    req.command = domain_command(bank, "Deposit");
    req.payload = payload;
    req.expected_version = STORE_ANY_VERSION;
    struct command_result res;
    command_result_init(&res);
    double t0 = bench_now();
    int rc = command_execute(s, bank, &req, &res, e);
    double ms = (bench_now() - t0) * 1000;
    command_result_done(&res);
    value_free(payload);
    return rc == ST_OK ? ms : -1;
}

int bench_samples(int dflt)
{
    const char *s = getenv("BENCH_SAMPLES");
    int v = s && *s ? atoi(s) : dflt;
    return v < 10 ? 10 : v;
}

struct rate bench_append(struct store *s, const struct dataset *ds)
{
    enum { TXN = 10000 }; /* events a transaction */
    err e;
    err_clear(&e);
    double t0 = bench_now(), c0 = bench_cpu();
    for (size_t i = 0; i < ds->n; i += TXN) {
        if (store_begin(s, &e) != ST_OK)
            bench_die("begin: %s", e.msg);
        size_t end = i + TXN < ds->n ? i + TXN : ds->n;
        for (size_t j = i; j < end; j++) {
            struct new_event ne = {ds->type[j], ds->schema[j], ds->time[j], ds->data[j],
                                   ds->meta[j]};
            if (store_append(s, ds->stream_names[ds->stream[j]], STORE_ANY_VERSION, NULL, &ne, 1,
                             NULL, &e) != ST_OK)
                bench_die("append %zu: %s", j + 1, e.msg);
        }
        if (store_commit(s, &e) != ST_OK)
            bench_die("commit: %s", e.msg);
    }
    return bench_rate((double)ds->n, t0, c0);
}

/* The replay's per-stream states: an open-addressed table keyed by stream name. */
struct state_slot {
    char *stream; /* NULL = empty */
    const struct aggregate_spec *agg;
    const struct domain *dom;
    value state;
};

struct state_table {
    struct state_slot *slots;
    size_t cap, len;
};

static struct state_slot *state_lookup(struct state_table *t, const char *stream,
                                       const struct domain *const *doms, size_t ndoms)
{
    if (t->len * 2 >= t->cap) {
        struct state_table bigger = {xcalloc(t->cap ? t->cap * 2 : 1024, sizeof *t->slots),
                                     t->cap ? t->cap * 2 : 1024, 0};
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].stream)
                continue;
            uint64_t h = hash_fnv1a(HASH_FNV_INIT, t->slots[i].stream, strlen(t->slots[i].stream));
            size_t j = h & (bigger.cap - 1);
            while (bigger.slots[j].stream)
                j = (j + 1) & (bigger.cap - 1);
            bigger.slots[j] = t->slots[i];
            bigger.len++;
        }
        free(t->slots);
        *t = bigger;
    }
    size_t n = strlen(stream);
    uint64_t h = hash_fnv1a(HASH_FNV_INIT, stream, n);
    size_t j = h & (t->cap - 1);
    while (t->slots[j].stream) {
        if (strcmp(t->slots[j].stream, stream) == 0)
            return &t->slots[j];
        j = (j + 1) & (t->cap - 1);
    }
    const struct aggregate_spec *a = NULL;
    const struct domain *dom = NULL;
    for (size_t k = 0; k < ndoms && !a; k++) {
        const char *id;
        a = aggregate_for_stream(doms[k], stream, &id);
        dom = doms[k];
    }
    if (!a)
        bench_die("replay: no aggregate owns stream %s", stream);
    struct state_slot *sl = &t->slots[j];
    sl->stream = xstrdup(stream);
    sl->agg = a;
    sl->dom = dom;
    sl->state = aggregate_initial_state(a);
    t->len++;
    return sl;
}

static void state_table_done(struct state_table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].stream) {
            free(t->slots[i].stream);
            value_free(t->slots[i].state);
        }
    free(t->slots);
}

struct rate bench_replay(struct store *s, const struct domain *const *doms, size_t ndoms,
                         int64_t *folded)
{
    struct state_table tab = {NULL, 0, 0};
    struct event_filter f;
    memset(&f, 0, sizeof f);
    err e;
    err_clear(&e);
    int64_t n = 0;
    double t0 = bench_now(), c0 = bench_cpu();
    struct event_iter *it = store_iter_open(s, &f, 1000 /* events a page */);
    const struct event *ev;
    int rc;
    while ((rc = store_iter_next(it, &ev, &e)) == 1) {
        struct state_slot *sl = state_lookup(&tab, ev->stream, doms, ndoms);
        if (aggregate_fold(sl->dom, sl->agg, ev, &sl->state, &e) != ST_OK)
            bench_die("replay: fold %lld: %s", (long long)ev->position, e.msg);
        n++;
    }
    if (rc < 0)
        bench_die("replay: %s", e.msg);
    store_iter_close(it);
    struct rate rt = bench_rate((double)n, t0, c0);
    state_table_done(&tab);
    *folded = n;
    return rt;
}
