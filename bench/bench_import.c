/* bench_import.c: the import figures of `make bench` (bench/README.md).
 *
 *   import_csv     a CSV file read through domains/bank.yaml's `legacy-csv` source
 *                  (account,kind,ts,amount) into an empty store
 *   import_ndjson  a canonical NDJSON file (as `strata export` writes) into an empty store
 *
 * Each against raw SQLite inserting the very same rows (read back from the store
 * Strata imported into) into the same schema, in one transaction as import does.
 * Rows: min(BENCH_SCALE, 262,200), the size of issue 6's CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/domain.h"
#include "core/event_format.h"
#include "core/import.h"
#include "core/store.h"
#include "core/util.h"

#define ROWS_MAX 262200

static void write_file(const char *path, const strbuf *sb)
{
    FILE *f = fopen(path, "w");
    if (!f || fwrite(sb->buf, 1, sb->len, f) != sb->len || fclose(f) != 0)
        bench_die("cannot write %s", path);
}

/* Stream name -> dense index, for the raw writer. */
struct name_index {
    char **names;
    uint32_t *idx;
    size_t cap, len;
};

static uint32_t name_index_get(struct name_index *m, const char *name)
{
    if (m->len * 2 >= m->cap) {
        struct name_index b = {xcalloc(m->cap ? m->cap * 2 : 1024, sizeof(char *)),
                               xcalloc(m->cap ? m->cap * 2 : 1024, sizeof(uint32_t)),
                               m->cap ? m->cap * 2 : 1024, m->len};
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->names[i])
                continue;
            size_t j = hash_fnv1a(HASH_FNV_INIT, m->names[i], strlen(m->names[i])) & (b.cap - 1);
            while (b.names[j])
                j = (j + 1) & (b.cap - 1);
            b.names[j] = m->names[i];
            b.idx[j] = m->idx[i];
        }
        free(m->names);
        free(m->idx);
        *m = b;
    }
    size_t j = hash_fnv1a(HASH_FNV_INIT, name, strlen(name)) & (m->cap - 1);
    while (m->names[j]) {
        if (strcmp(m->names[j], name) == 0)
            return m->idx[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->names[j] = xstrdup(name);
    m->idx[j] = (uint32_t)m->len++;
    return m->idx[j];
}

static void name_index_done(struct name_index *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->names[i]);
    free(m->names);
    free(m->idx);
}

static struct rate import_strata(const char *db, const char *file, const struct source_spec *src,
                                 int64_t rows)
{
    bench_fresh_store(db);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    err e;
    err_clear(&e);
    struct store *s = store_open(db, &opt, &e);
    if (!s)
        bench_die("%s: %s", db, e.msg);
    struct import_options o;
    memset(&o, 0, sizeof o);
    o.source = src;
    o.errors = stderr;
    struct import_result res;
    char *files[1] = {(char *)file};
    double t0 = bench_now(), c0 = bench_cpu();
    int rc = import_files(s, files, 1, &o, &res, &e);
    struct rate rt = bench_rate((double)rows, t0, c0);
    if (rc != ST_OK)
        bench_die("import %s: %s", file, e.msg);
    if (res.imported != rows)
        bench_die("import %s: %lld events imported of %lld rows", file, (long long)res.imported,
                  (long long)rows);
    store_close(s);
    return rt;
}

/* The events of a store, in memory, to insert raw. */
static void read_back(const char *db, struct event_list *out)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    err e;
    err_clear(&e);
    struct store *s = store_open(db, &opt, &e);
    if (!s)
        bench_die("%s: %s", db, e.msg);
    struct event_filter f;
    memset(&f, 0, sizeof f);
    struct event_iter *it = store_iter_open(s, &f, 1000);
    const struct event *ev;
    int rc;
    while ((rc = store_iter_next(it, &ev, &e)) == 1)
        event_list_push_copy(out, ev);
    if (rc < 0)
        bench_die("read %s: %s", db, e.msg);
    store_iter_close(it);
    store_close(s);
}

static struct rate import_raw(const char *db, const struct event_list *evs, const uint32_t *si,
                              size_t nstreams)
{
    bench_fresh_store(db);
    struct raw_writer w;
    raw_writer_open(&w, db, 2, nstreams);
    double t0 = bench_now(), c0 = bench_cpu();
    raw_writer_begin(&w);
    for (size_t i = 0; i < evs->len; i++) {
        const struct event *ev = &evs->items[i];
        raw_writer_add(&w, si[i], ev->stream, ev->type, ev->schema, ev->time, ev->data, ev->meta);
    }
    raw_writer_commit(&w);
    struct rate rt = bench_rate((double)evs->len, t0, c0);
    raw_writer_close(&w);
    return rt;
}

static void figure(const char *name, const char *file, const struct source_spec *src, int64_t rows,
                   const char *db, int reps)
{
    struct rate *sa = xcalloc((size_t)reps, sizeof *sa), *ra = xcalloc((size_t)reps, sizeof *ra);
    struct event_list evs;
    event_list_init(&evs);
    uint32_t *si = NULL;
    struct name_index names = {NULL, NULL, 0, 0};
    for (int r = 0; r < reps; r++) {
        sa[r] = import_strata(db, file, src, rows);
        if (r == 0) {
            read_back(db, &evs);
            si = xcalloc(evs.len ? evs.len : 1, sizeof *si);
            for (size_t i = 0; i < evs.len; i++)
                si[i] = name_index_get(&names, evs.items[i].stream);
        }
        ra[r] = import_raw(db, &evs, si, names.len);
        bench_note("%s run %d: strata %.0f/s raw %.0f/s", name, r + 1, sa[r].wall, ra[r].wall);
    }
    bench_rates(name, sa, ra, reps, "events/s");
    bench_remove_db(db);
    name_index_done(&names);
    free(si);
    event_list_done(&evs);
    free(sa);
    free(ra);
}

int main(void)
{
    int64_t n = bench_scale();
    int64_t rows = n < ROWS_MAX ? n : ROWS_MAX;
    int reps = bench_reps();
    struct dataset ds;
    dataset_make(&ds, (size_t)rows);

    /* The CSV: the data set's account events as a legacy system would log them. */
    char *csv = bench_path("import.csv");
    strbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "account,kind,ts,amount\r\n");
    uint64_t rng = 42;
    for (int64_t i = 0; i < rows; i++) {
        uint64_t r = bench_rand(&rng);
        sb_addf(&sb, "%u,%s,%s,%u\r\n", (unsigned)((r >> 20) % ds.naccounts),
                r % 3 ? "MoneyDeposited" : "MoneyWithdrawn", ds.time[i],
                (unsigned)(1 + (r >> 8) % 500));
    }
    write_file(csv, &sb);

    /* The NDJSON: the data set's first rows, canonical. */
    char *nd = bench_path("import.ndjson");
    sb_reset(&sb);
    for (int64_t i = 0; i < rows; i++) {
        struct event ev = {i + 1,
                           ds.version[i],
                           ds.schema[i],
                           ds.stream_names[ds.stream[i]],
                           (char *)ds.type[i],
                           ds.time[i],
                           ds.data[i],
                           ds.meta[i]};
        export_event(&sb, EXPORT_NDJSON, &ev);
    }
    write_file(nd, &sb);
    sb_done(&sb);

    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *bank = domain_load("domains/bank.yaml", &dl);
    if (!bank) {
        diag_list_print(&dl, stderr);
        bench_die("cannot load domains/bank.yaml");
    }
    diag_list_done(&dl);
    const struct source_spec *src = domain_source(bank, "legacy-csv");
    if (!src)
        bench_die("domains/bank.yaml has no source legacy-csv");

    char *db = bench_path("import.db");
    figure("import_csv", csv, src, rows, db, reps);
    figure("import_ndjson", nd, NULL, rows, db, reps);

    unlink(csv);
    unlink(nd);
    free(csv);
    free(nd);
    free(db);
    domain_free(bank);
    dataset_done(&ds);
    return 0;
}
