/* bench.h: what the benchmark programs share (bench/README.md).
 *
 * Every figure is printed as one line, the format `make bench` promises:
 *   bench: NAME strata=VALUE UNIT baseline=VALUE UNIT ratio=R
 * where the baseline is the same work done with raw SQLite prepared statements (or
 * a plain read of the same rows) in the same run, and R is oriented so that higher
 * is better: strata/baseline for throughputs, baseline/strata for latencies.
 *
 * The data set is generated deterministically from BENCH_SCALE (events): a bank of
 * accounts (domains/bank.yaml, up to 10,000 of them) plus one hot counter stream
 * (bench/counter.yaml, up to 10,000 events) spread evenly through the store. */
#ifndef STRATA_BENCH_H
#define STRATA_BENCH_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/store.h"

/* Settings from the environment. */
int64_t bench_scale(void);   /* BENCH_SCALE, default 1,000,000 */
int bench_reps(void);        /* BENCH_REPS, default 3: repetitions of a throughput */
const char *bench_dir(void); /* BENCH_DIR, default build/bench/data (created) */
char *bench_path(const char *name); /* bench_dir()/name; caller frees */

/* Prints "bench: <what>" to stderr and exits 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Progress notes on stderr (so stdout holds only figure lines). */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

double bench_now(void); /* monotonic seconds */
/* CPU seconds (user + system) this process has used: on a machine shared with other
 * work, events per CPU second is the steadier measure, printed in the notes. */
double bench_cpu(void);

/* Sorts xs in place and returns the q-quantile (0..1, nearest rank). */
double bench_quantile(double *xs, size_t n, double q);
double bench_median(double *xs, size_t n);

/* A throughput measured both ways: per wall-clock second (the figure) and per CPU
 * second of this process (a note). */
struct rate {
    double wall, cpu;
};
struct rate bench_rate(double items, double wall0, double cpu0); /* since bench_now/bench_cpu */
/* Prints the figure from the medians of reps runs, and a note with the CPU-time
 * medians and their ratio. */
void bench_rates(const char *name, const struct rate *strata, const struct rate *base, int reps,
                 const char *unit);

/* The figure lines. */
void bench_throughput(const char *name, double strata, double baseline, const char *unit);
void bench_latency(const char *name, double strata_ms, double baseline_ms);
/* p50 and p99 lines (NAME_p50, NAME_p99) from samples in milliseconds. */
void bench_latency_pair(const char *name, double *strata_ms, size_t ns, double *base_ms, size_t nb);
/* A note of the slowest 1% of both sides' samples (at least 3), Strata's with their
 * places in the run, so that a tail can be told apart: the host's disk (both sides,
 * anywhere) from Strata's own work (its side, at a pattern). Before
 * bench_latency_pair, which sorts the samples. */
void bench_note_tail(const char *name, const double *strata_ms, const double *base_ms, size_t n);
/* A free-form line (tui_rss): values already oriented by the caller. */
void bench_line(const char *name, double strata, const char *unit, double baseline,
                const char *bunit, double ratio);

/* A small deterministic generator (xorshift64*). */
uint64_t bench_rand(uint64_t *state);

/* The generated events. Strings live in one arena; everything is owned here. */
struct dataset {
    size_t n;           /* events */
    size_t naccounts;   /* Account-0 .. Account-(naccounts-1) */
    size_t hot_len;     /* events of the hot counter stream */
    size_t nstreams;    /* naccounts + 1; stream index naccounts is the hot one */
    char **stream_names;
    uint32_t *stream;   /* stream index of each event */
    uint32_t *version;  /* 1-based version within its stream */
    const char **type;
    int *schema;
    char **time, **data, **meta;
    int64_t first_hot;  /* position of the hot stream's first event */
};
void dataset_make(struct dataset *ds, size_t n);
void dataset_done(struct dataset *ds);
#define HOT_STREAM "Counter-hot"

/* Raw SQLite. */
sqlite3 *raw_open(const char *path, int synchronous); /* WAL, the given synchronous */
void raw_exec(sqlite3 *db, const char *sql);
sqlite3_stmt *raw_prepare(sqlite3 *db, const char *sql);
/* Steps a SELECT to the end, touching every column as text (what a reader that
 * hands rows on must do); returns the rows. */
int64_t raw_read_all(sqlite3_stmt *st);

/* The baseline writer: inserts events into a store's own tables (the same schema,
 * the same rows) with prepared statements, tracking stream ids and versions in
 * memory; streams rows are written as they appear and updated at each commit. */
struct raw_writer {
    sqlite3 *db;
    sqlite3_stmt *ins_event, *ins_stream, *upd_stream, *begin, *commit;
    int64_t *ids, *versions, *last_pos;
    bool *dirty;
    uint32_t *dirty_list;
    size_t ndirty, nstreams;
    int64_t position;
};
void raw_writer_open(struct raw_writer *w, const char *path, int synchronous, size_t nstreams);
void raw_writer_begin(struct raw_writer *w);
/* Appends one event of local stream index `si` named `name`. */
void raw_writer_add(struct raw_writer *w, uint32_t si, const char *name, const char *type,
                    int schema, const char *time, const char *data, const char *meta);
void raw_writer_commit(struct raw_writer *w);
void raw_writer_close(struct raw_writer *w);

/* Steps a statement that returns no row, then resets it; dies on failure. */
void raw_step(sqlite3_stmt *st);

/* exec_latency's baseline (bench_core, bench/exec_probe.c): one raw transaction
 * appending a MoneyDeposited event to the stream Account-raw, synchronous=FULL. */
struct raw_deposit {
    sqlite3 *db;
    sqlite3_stmt *begin, *ins, *upd, *commit;
    int64_t stream_id, version;
};
void raw_deposit_open(struct raw_deposit *r, const char *path);
double raw_deposit_once(struct raw_deposit *r); /* its time, ms */
void raw_deposit_close(struct raw_deposit *r);

/* Creates an empty Strata store at path (removing any old one and its WAL). */
void bench_fresh_store(const char *path);
void bench_remove_db(const char *path);

/* Strata-side helpers shared by bench_core and bench_pg. */
struct domain;
struct domain *bench_load_domain(const char *path); /* dies with the diagnostics */
struct store *bench_open_store(const char *path, bool create); /* dies on failure */
/* exec_latency's Strata side (bench_core, bench_pg, exec_probe): the bank
 * domain's Deposit of 5 on account `id`, end to end; its time in ms, or -1 with
 * e set when it failed. */
double bench_deposit(struct store *s, const struct domain *bank, const char *id, err *e);
int bench_samples(int dflt); /* BENCH_SAMPLES, default dflt, at least 10 */
/* Appends the data set through store_append, 10,000 events a transaction; timed. */
struct rate bench_append(struct store *s, const struct dataset *ds);
/* Reads every event (pages of 1,000) and folds it into its stream's aggregate state;
 * timed. doms[0..ndoms) own the streams; *folded = events folded. */
struct rate bench_replay(struct store *s, const struct domain *const *doms, size_t ndoms,
                         int64_t *folded);

#endif
