/* bench_peers.c: Strata's side of `make bench-peers` (bench/peers.sh): the peers'
 * workload through Strata's own store, in process, printed as JSON lines like
 * bench/peers/emmett.mjs prints the peer's:
 *
 *   build/bench/bench_peers DBFILE EVENTS STREAMS SINGLES
 *
 *   append_batch   EVENTS events in 100-event appends (store_append, one
 *                  transaction each, synchronous=FULL), streams in turn
 *   append_single  SINGLES appends of one event each, one transaction each
 *   catchup_read   every event read back in global order (store_iter, 1,000 a page)
 *   state_p50      one 100-event stream folded into its state (aggregate_load,
 *                  no snapshots: the peer has none), median of 200 loads */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/aggregate.h"
#include "core/domain.h"
#include "core/util.h"

#define BATCH 100

static void out(const char *name, double v, const char *unit)
{
    printf("{\"name\":\"%s\",\"value\":%.6f,\"unit\":\"%s\"}\n", name, v, unit);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 5)
        bench_die("usage: bench_peers DBFILE EVENTS STREAMS SINGLES");
    const char *path = argv[1];
    long n = atol(argv[2]), nstreams = atol(argv[3]), nsingles = atol(argv[4]);
    bench_fresh_store(path);
    struct store_options opt = STORE_OPTIONS_DEFAULT; /* synchronous=FULL */
    err e;
    err_clear(&e);
    struct store *s = store_open(path, &opt, &e);
    if (!s)
        bench_die("%s: %s", path, e.msg);
    char data[BATCH][32], name[64];
    struct new_event evs[BATCH];
    for (int k = 0; k < BATCH; k++) {
        evs[k].type = "Added";
        evs[k].schema = 1;
        evs[k].time = NULL;
        evs[k].data = data[k];
        evs[k].meta = NULL;
    }

    double t0 = bench_now();
    long written = 0;
    while (written < n) {
        for (long si = 0; si < nstreams && written < n; si++) {
            long m = n - written < BATCH ? n - written : BATCH;
            for (long k = 0; k < m; k++)
                snprintf(data[k], sizeof data[k], "{\"amount\":%ld}", 1 + (written + k) % 9);
            snprintf(name, sizeof name, "Counter-%ld", si);
            if (store_append(s, name, STORE_ANY_VERSION, NULL, evs, (size_t)m, NULL, &e) != ST_OK)
                bench_die("append: %s", e.msg);
            written += m;
        }
    }
    out("append_batch", (double)written / (bench_now() - t0), "events/s");

    t0 = bench_now();
    for (long i = 0; i < nsingles; i++) {
        snprintf(data[0], sizeof data[0], "{\"amount\":%ld}", 1 + i % 9);
        snprintf(name, sizeof name, "Single-%ld", i % 100);
        if (store_append(s, name, STORE_ANY_VERSION, NULL, evs, 1, NULL, &e) != ST_OK)
            bench_die("append: %s", e.msg);
    }
    out("append_single", (double)nsingles / (bench_now() - t0), "events/s");

    t0 = bench_now();
    struct event_filter f;
    memset(&f, 0, sizeof f);
    struct event_iter *it = store_iter_open(s, &f, 1000);
    const struct event *ev;
    long read = 0;
    int rc;
    while ((rc = store_iter_next(it, &ev, &e)) == 1)
        read++;
    if (rc < 0)
        bench_die("read: %s", e.msg);
    store_iter_close(it);
    out("catchup_read", (double)read / (bench_now() - t0), "events/s");

    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load("bench/counter.yaml", &dl);
    if (!d) {
        diag_list_print(&dl, stderr);
        bench_die("cannot load bench/counter.yaml");
    }
    diag_list_done(&dl);
    const struct aggregate_spec *a = domain_aggregate(d, "Counter");
    double xs[200];
    long most = nstreams < 50 ? nstreams : 50;
    for (int i = 0; i < 200; i++) {
        char id[32];
        snprintf(id, sizeof id, "%ld", i % most);
        struct agg_state ag;
        double t = bench_now();
        if (aggregate_load(s, d, a, id, 0, false, &ag, &e) != ST_OK)
            bench_die("load %s: %s", id, e.msg);
        xs[i] = (bench_now() - t) * 1000;
        if (ag.version < 1)
            bench_die("empty stream Counter-%s", id);
        agg_state_done(&ag);
    }
    out("state_p50", bench_median(xs, 200), "ms");
    domain_free(d);
    store_close(s);
    return 0;
}
