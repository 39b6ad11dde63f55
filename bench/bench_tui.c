/* bench_tui.c: the workbench figures of `make bench` (bench/README.md).
 *
 *   scrub_frame  the workbench (script mode, in-memory 80x24 screen, projections
 *                view on AccountList) moving the scrubber one event back (`[`) on the
 *                BENCH_SCALE-event store that bench_core built: the time to draw the
 *                frame after the step, as the workbench itself reports it
 *                (STRATA_TUI_TIMING); p50 and p99.
 *                Baseline: raw SQLite reading what that frame shows (the row count,
 *                one screen of rows, the time of the event at P).
 *   tui_rss      peak RSS of the workbench running the same short script on the
 *                big store and on a 1,000-event store; ratio = small/large, so 1.0
 *                means the size of the store does not show in memory.
 *
 * Usage: bench_tui STRATA_BINARY (run from the repository's root). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/domain.h"
#include "core/projection.h"
#include "core/store.h"
#include "core/store_domain.h"
#include "core/util.h"

#define SCREEN_ROWS 20 /* rows of a read model one 80x24 screen shows, about */
#define SMALL_EVENTS 1000

static const char *strata_bin;

/* Starts `strata tui` on db with STRATA_SCRIPT=script, output to log. */
static pid_t spawn_tui(const char *db, const char *script, const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        setenv("STRATA_SCRIPT", script, 1);
        setenv("STRATA_NO_DISPLAY", "1", 1);
        setenv("STRATA_SCRIPT_TIMEOUT", "600", 1);
        setenv("LINES", "24", 1);
        setenv("COLUMNS", "80", 1);
        setenv("TERM", "xterm-256color", 1);
        setenv("NO_COLOR", "1", 1);
        setenv("TZ", "UTC", 1);
        execl(strata_bin, strata_bin, "tui", "--domain", "domains/bank.yaml", "--db", db,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void check_status(int status, const char *log)
{
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *text = NULL;
        size_t len;
        err e;
        if (read_file(log, &text, &len, &e) == ST_OK)
            fprintf(stderr, "%s", text);
        free(text);
        bench_die("the workbench ended with status %d (log: %s)", status, log);
    }
}

static void reap(pid_t pid, const char *log, struct rusage *ru)
{
    int status;
    struct rusage tmp;
    if (wait4(pid, &status, 0, ru ? ru : &tmp) < 0)
        bench_die("wait: %s", strerror(errno));
    check_status(status, log);
}

/* The launcher of the tui_rss runs. A child's ru_maxrss counts the pages it had
 * before its exec, that is the copy of its parent's memory made by fork: measured
 * from this process, the workbench's peak was max(this process's RSS, its own),
 * and this process holds more after the scrub_frame runs on a large store (13.0
 * MB "at 2M events" was that). So the workbench is started by a launcher forked
 * first thing, while this process is small and the same for every run: then
 * ru_maxrss is the workbench's own peak (bench/RESULTS.md, "Workbench memory"). */
struct launch_req {
    char db[1024], script[1024], log[1024];
};
struct launch_resp {
    int status;
    long maxrss_kb;
};
static int launch_req_fd = -1, launch_resp_fd = -1;
static pid_t launcher_pid;

static void launcher_start(void)
{
    int req[2], resp[2];
    if (pipe(req) != 0 || pipe(resp) != 0)
        bench_die("pipe: %s", strerror(errno));
    launcher_pid = fork();
    if (launcher_pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (launcher_pid == 0) {
        close(req[1]);
        close(resp[0]);
        struct launch_req r;
        while (read(req[0], &r, sizeof r) == (ssize_t)sizeof r) {
            struct launch_resp out = {0, 0};
            struct rusage ru;
            pid_t pid = spawn_tui(r.db, r.script, r.log);
            if (wait4(pid, &out.status, 0, &ru) < 0)
                out.status = -1;
            else
                out.maxrss_kb = ru.ru_maxrss;
            if (write(resp[1], &out, sizeof out) != (ssize_t)sizeof out)
                _exit(1);
        }
        _exit(0);
    }
    close(req[0]);
    close(resp[1]);
    launch_req_fd = req[1];
    launch_resp_fd = resp[0];
}

static void launcher_stop(void)
{
    close(launch_req_fd);
    close(launch_resp_fd);
    waitpid(launcher_pid, NULL, 0);
}

/* Runs the workbench through the launcher; returns its peak RSS in kB. */
static long launch_tui(const char *db, const char *script, const char *log)
{
    struct launch_req r;
    memset(&r, 0, sizeof r);
    if (strlen(db) >= sizeof r.db || strlen(script) >= sizeof r.script ||
        strlen(log) >= sizeof r.log)
        bench_die("a path is too long for the launcher: %s", db);
    strcpy(r.db, db);
    strcpy(r.script, script);
    strcpy(r.log, log);
    struct launch_resp out;
    if (write(launch_req_fd, &r, sizeof r) != (ssize_t)sizeof r ||
        read(launch_resp_fd, &out, sizeof out) != (ssize_t)sizeof out)
        bench_die("the launcher of the workbench is gone");
    if (out.status == -1)
        bench_die("wait: the launcher could not reap the workbench");
    check_status(out.status, log);
    return out.maxrss_kb;
}

/* The raw reads one frame of the projections view needs. */
struct raw_frame {
    sqlite3 *db;
    sqlite3_stmt *count, *page, *time;
};

static double raw_frame_once(struct raw_frame *r, int64_t pos)
{
    double t0 = bench_now();
    raw_read_all(r->count);
    raw_read_all(r->page);
    sqlite3_bind_int64(r->time, 1, pos);
    raw_read_all(r->time);
    return (bench_now() - t0) * 1000;
}

/* Plays `:goto P` then `[` steps from a few starting points over the upper half of
 * the store, with the workbench's frame timing on (STRATA_TUI_TIMING: one line
 * "draw MS ms view=NAME as_of=P head=H" per frame drawn). A step's frame is a
 * frame of the projections view whose as_of is one less than the frame's before. */
static void scrub_frame(const char *db, int64_t head, int steps)
{
    char *script = bench_path("scrub.script"), *timing = bench_path("scrub.timing");
    char *log = bench_path("scrub.log"), *screen = bench_path("scrub.screen");
    int starts = steps >= 50 ? 5 : 1;
    int per = steps / starts;
    uint64_t rng = 7;
    FILE *f = fopen(script, "w");
    if (!f)
        bench_die("%s: %s", script, strerror(errno));
    fprintf(f, "4\n");
    int64_t *from = xcalloc((size_t)starts, sizeof *from);
    for (int s = 0; s < starts; s++) {
        from[s] = head / 2 + per + 1 + (int64_t)(bench_rand(&rng) % (uint64_t)(head / 2 - per - 2));
        fprintf(f, ":goto %lld\n", (long long)from[s]);
        for (int i = 0; i < per; i++)
            fprintf(f, "[\n");
    }
    fprintf(f, ":save-display %s\n:quit\n", screen);
    fclose(f);
    unlink(timing);
    setenv("STRATA_TUI_TIMING", timing, 1);
    double t0 = bench_now();
    pid_t pid = spawn_tui(db, script, log);
    reap(pid, log, NULL);
    unsetenv("STRATA_TUI_TIMING");
    double total = bench_now() - t0;

    double *st = xcalloc((size_t)steps + 1, sizeof *st);
    double *cpu = xcalloc((size_t)steps + 1, sizeof *cpu);
    size_t k = 0, kc = 0;
    f = fopen(timing, "r");
    if (!f)
        bench_die("%s: the workbench wrote no frame timing (STRATA_TUI_TIMING): %s", timing,
                  strerror(errno));
    char line[512];
    long long prev = -1;
    while (fgets(line, sizeof line, f)) {
        double ms;
        char view[64];
        long long as_of, h;
        double cms;
        int got = sscanf(line, "draw %lf ms view=%63s as_of=%lld head=%lld cpu=%lf", &ms, view,
                         &as_of, &h, &cms);
        if (got < 4)
            continue;
        if (strcmp(view, "projections") == 0 && prev > 1 && as_of == prev - 1 &&
            k < (size_t)steps) {
            st[k++] = ms;
            if (got == 5)
                cpu[kc++] = cms;
        }
        prev = as_of;
    }
    fclose(f);
    if (k < (size_t)(starts * per) / 2)
        bench_die("scrub_frame: found %zu step frames of %d in %s", k, starts * per, timing);
    bench_note("scrub_frame: %zu steps timed by the workbench; the whole script took %.1f s", k,
               total);
    /* The frame's own CPU time (its thread's), which a busy machine's time slices
     * do not stretch: the figure to compare on a shared machine. */
    if (kc)
        bench_note("scrub_frame per CPU: p50 %.3f ms, p99 %.3f ms (the frame's thread)",
                   bench_quantile(cpu, kc, 0.5), bench_quantile(cpu, kc, 0.99));
    /* A fast frame that shows an error instead of rows would be a false figure. */
    char *text = NULL;
    size_t len;
    err e;
    if (read_file(screen, &text, &len, &e) != ST_OK)
        bench_die("scrub_frame: the workbench saved no screen: %s", e.msg);
    if (!strstr(text, "AccountList: ") || !strstr(text, "as of #"))
        bench_note("WARNING: scrub_frame: the last screen does not show AccountList's rows as of "
                   "a position:\n%s",
                   text);
    free(text);
    unlink(screen);
    free(screen);

    struct raw_frame rf;
    rf.db = raw_open(db, 1);
    rf.count = raw_prepare(rf.db, "SELECT count(*) FROM \"proj_AccountList\"");
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM \"proj_AccountList\" ORDER BY key LIMIT %d",
             SCREEN_ROWS);
    rf.page = raw_prepare(rf.db, sql);
    rf.time = raw_prepare(rf.db, "SELECT time FROM event_log WHERE position = ?1");
    double *bt = xcalloc(k, sizeof *bt);
    for (size_t i = 0; i < k; i++)
        bt[i] = raw_frame_once(&rf, from[(i / (size_t)per) % (size_t)starts] -
                                        (int64_t)(i % (size_t)per) - 1);
    bench_latency_pair("scrub_frame", st, k, bt, k);
    sqlite3_finalize(rf.count);
    sqlite3_finalize(rf.page);
    sqlite3_finalize(rf.time);
    sqlite3_close(rf.db);
    unlink(script);
    unlink(timing);
    unlink(log);
    free(from);
    free(st);
    free(cpu);
    free(bt);
    free(script);
    free(timing);
    free(log);
}

/* Peak RSS (MB) of the workbench playing a short tour on db. */
static double tui_peak_mb(const char *db, int64_t head)
{
    char *script = bench_path("rss.script"), *log = bench_path("rss.log");
    FILE *f = fopen(script, "w");
    if (!f)
        bench_die("%s: %s", script, strerror(errno));
    fprintf(f, "2\n<Down>\n<Enter>\n:goto %lld\n[\n3\n<Enter>\n4\n[\n]\n:goto end\n1\n:quit\n",
            (long long)(head / 2));
    fclose(f);
    long kb = launch_tui(db, script, log);
    unlink(script);
    unlink(log);
    free(script);
    free(log);
    return (double)kb / 1024.0;
}

static void build_small_store(const char *path)
{
    struct dataset ds;
    dataset_make(&ds, SMALL_EVENTS);
    bench_fresh_store(path);
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    err e;
    err_clear(&e);
    struct store *s = store_open(path, &opt, &e);
    if (!s || store_begin(s, &e) != ST_OK)
        bench_die("%s: %s", path, e.msg);
    for (size_t j = 0; j < ds.n; j++) {
        struct new_event ne = {ds.type[j], ds.schema[j], ds.time[j], ds.data[j], ds.meta[j]};
        if (store_append(s, ds.stream_names[ds.stream[j]], STORE_ANY_VERSION, NULL, &ne, 1, NULL,
                         &e) != ST_OK)
            bench_die("append: %s", e.msg);
    }
    if (store_commit(s, &e) != ST_OK)
        bench_die("commit: %s", e.msg);
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *bank = domain_load("domains/bank.yaml", &dl);
    if (!bank)
        bench_die("cannot load domains/bank.yaml");
    diag_list_done(&dl);
    if (projection_catch_up(s, bank, NULL, 0, true, NULL, &e) != ST_OK)
        bench_die("catch-up: %s", e.msg);
    /* The store records its domain, as `strata import --domain` would: the
     * workbench would otherwise ask before applying bank to it. */
    if (store_domain_record(s, bank->name, &e) != ST_OK)
        bench_die("recording the domain: %s", e.msg);
    domain_free(bank);
    store_close(s);
    dataset_done(&ds);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        bench_die("usage: bench_tui STRATA_BINARY");
    strata_bin = argv[1];
    launcher_start(); /* first, while this process is small (see launcher_start) */
    int reps = bench_reps();
    int64_t n = bench_scale();
    char *db = bench_path("bench.db");
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    err e;
    err_clear(&e);
    struct store *s = store_open(db, &opt, &e);
    int64_t head = 0;
    if (!s || store_head(s, &head, &e) != ST_OK)
        bench_die("%s: %s (bench_core builds it first)", db, e.msg);
    /* bench_core fills it through the library, which records no domain: record
     * the one the workbench is started with, or it would ask first. */
    if (store_domain_record(s, "bank", &e) != ST_OK)
        bench_die("%s: recording the domain: %s", db, e.msg);
    store_close(s);
    if (head < n)
        bench_die("%s holds %lld events, fewer than BENCH_SCALE (%lld): run bench_core first", db,
                  (long long)head, (long long)n);

    const char *ss = getenv("BENCH_SAMPLES");
    int steps = ss && *ss ? atoi(ss) : (n >= 100000 ? 200 : 40);
    if (steps < 10)
        steps = 10;
    scrub_frame(db, head, steps);

    char *small = bench_path("small.db");
    build_small_store(small);
    double *big_mb = xcalloc((size_t)reps, sizeof *big_mb);
    double *small_mb = xcalloc((size_t)reps, sizeof *small_mb);
    for (int r = 0; r < reps; r++) {
        small_mb[r] = tui_peak_mb(small, SMALL_EVENTS);
        big_mb[r] = tui_peak_mb(db, head);
        bench_note("tui_rss run %d: %.1f MB on %lld events, %.1f MB on %d", r + 1, big_mb[r],
                   (long long)head, small_mb[r], SMALL_EVENTS);
    }
    double big = bench_median(big_mb, (size_t)reps), sm = bench_median(small_mb, (size_t)reps);
    bench_line("tui_rss", big, "MB", sm, "MB", big > 0 ? sm / big : 0);
    launcher_stop();
    bench_remove_db(small);
    free(small);
    free(big_mb);
    free(small_mb);
    free(db);
    return 0;
}
