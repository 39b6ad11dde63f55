/* import.c: the `import` and `replay` verbs: appending events from files
 * (core/import.h), at once or paced in time. Both front ends parse the same
 * options (--source, --map, --skip-bad, --sort time, --allow-duplicates; replay's
 * --speed and --rate) and check them the same way; the work itself is a task
 * (verb.h): the command line runs it at once, with a progress bar on a terminal
 * and Ctrl-C ending a replay cleanly; the workbench runs it as a background job
 * on its own store connection while the panes follow. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/import.h"
#include "verbs/verb.h"

static const char import_usage[] =
    "usage: strata import FILE... [--source NAME | --map FILE] [--skip-bad] [--sort time]\n"
    "                    [--allow-duplicates]\n"
    "\n"
    "Appends events from files to the store. With no source the files are Strata's\n"
    "own NDJSON (as `strata export` writes it): each stream's versions must continue\n"
    "the store's. With a source (a domain's `sources:` entry, or a stand-alone map\n"
    "file) records of NDJSON, JSON, CSV or CloudEvents files are mapped to events and\n"
    "appended at the end of their streams. Files ending in .gz are decompressed; -\n"
    "reads standard input.\n"
    "\n"
    "  --source NAME  read the files through the domain's source NAME (needs --domain)\n"
    "  --map FILE     read the files through the source described in FILE (YAML: the\n"
    "                 keys of one source at the top level: format, stream, type, ...)\n"
    "  --skip-bad     import the good records; report and count the bad ones\n"
    "                 (without it, one bad record means nothing is imported)\n"
    "  --sort time    append in time order (stable) instead of file order; holds\n"
    "                 every event in memory until the end of the files\n"
    "  --force        with a domain, import into a store used with another domain\n"
    "                 (or with none, but with events); it records this one\n"
    "  --allow-duplicates  append records already imported again (no ledger)\n"
    "\n"
    "Nothing is imported twice: a record already imported (known by the source's\n"
    "`id:`, a CloudEvent's source and id, or a hash of the record and how many\n"
    "identical ones came before it in its file) is counted as already present;\n"
    "a canonical line whose stream version holds the identical event likewise.\n"
    "\n"
    "Each bad record is reported as FILE:LINE: error: REASON (FILE:[INDEX] inside a\n"
    "JSON array). A progress bar is drawn on standard error when it is a terminal.\n"
    "In the workbench the import runs in the background and the panes follow.\n"
    "\n"
    "exit status: 0 imported, 1 bad records or unreadable files (nothing imported\n"
    "unless --skip-bad), 2 usage, 4 another writer took a version meanwhile\n";

static const char replay_usage[] =
    "usage: strata replay FILE... [--speed X | --rate N] [--source NAME | --map FILE]\n"
    "                             [--skip-bad] [--sort time]\n"
    "\n"
    "Appends the events of the files one at a time, each committed at once, paced in\n"
    "time so that a workbench open on the same store shows them arriving. Files are\n"
    "read as `strata import` reads them (canonical NDJSON, or through a source).\n"
    "\n"
    "  --speed X      follow the events' own time stamps, X times faster (default 1)\n"
    "  --rate N       append N events a second, whatever their time stamps\n"
    "  --source NAME  read the files through the domain's source NAME\n"
    "  --map FILE     read the files through the source described in FILE\n"
    "  --skip-bad     report bad records and go on (by default replay stops at the\n"
    "                 first one; what was appended before it stays)\n"
    "  --sort time    replay in time order; reads every file before the first append\n"
    "  --force        with a domain, replay into a store used with another domain\n"
    "                 (or with none, but with events); it records this one\n"
    "\n"
    "Ctrl-C stops it cleanly (\"stopped after N events\", exit 0); nothing is printed\n"
    "per event, a summary at the end. In the workbench it runs in the background.\n"
    "\n"
    "exit status: 0 done or stopped, 1 a bad record or an unreadable file, 2 usage,\n"
    "4 another writer took a version meanwhile\n";

enum {
    OPT_SOURCE = VOPT_FIRST_FREE,
    OPT_MAP,
    OPT_SKIP_BAD,
    OPT_SORT,
    OPT_ALLOW_DUPLICATES,
    OPT_SPEED,
    OPT_RATE
};
// clang-format off
#define FILE_OPTIONS                                                                               \
    {"source", required_argument, NULL, OPT_SOURCE}, {"map", required_argument, NULL, OPT_MAP},    \
        {"skip-bad", no_argument, NULL, OPT_SKIP_BAD}, {"sort", required_argument, NULL, OPT_SORT}
// clang-format on

static const struct option import_opts[] = {
    FILE_OPTIONS,
    {"allow-duplicates", no_argument, NULL, OPT_ALLOW_DUPLICATES},
    VERB_FORCE_OPTION,
    VERB_COMMON_OPTIONS,
    {0}};
static const struct option replay_opts[] = {FILE_OPTIONS,
                                            {"speed", required_argument, NULL, OPT_SPEED},
                                            {"rate", required_argument, NULL, OPT_RATE},
                                            VERB_FORCE_OPTION,
                                            VERB_COMMON_OPTIONS,
                                            {0}};

/* One import or replay, handed to the front end as a task. */
struct import_task {
    struct verb_task t; /* first: the task is the import_task */
    char **files;
    size_t nfiles;
    struct import_options o;
    struct source_spec *src; /* owned when it came from --map */
    bool owned;
    FILE *errors; /* the command line's standard error, or NULL */
};

static void task_done(struct verb_task *vt)
{
    struct import_task *it = (struct import_task *)vt;
    for (size_t i = 0; i < it->nfiles; i++)
        free(it->files[i]);
    free(it->files);
    if (it->owned)
        source_free(it->src);
    free(it);
}

static void on_progress(void *ctx, int64_t records, uint64_t bytes, uint64_t total)
{
    struct verb_task *t = ctx;
    t->progress_records = records;
    t->progress_bytes = (int64_t)bytes;
    t->progress_total = (int64_t)total;
}

/* The command line's replay: Ctrl-C (or SIGTERM) ends it after the append in
 * progress. */
static volatile sig_atomic_t *stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    if (stop_flag)
        *stop_flag = 1;
}

/* In the background the bad records went to a file: the first says why, the
 * error says what it meant. */
static void first_problem(FILE *errs, int rc, err *e)
{
    char line[512] = "";
    rewind(errs);
    if (fgets(line, sizeof line, errs))
        line[strcspn(line, "\n")] = 0;
    if (line[0] && e->msg[0] && !strstr(e->msg, line)) {
        char summary[sizeof e->msg];
        snprintf(summary, sizeof summary, "%s", e->msg);
        err_set(e, rc, "%s (%s)", line, summary);
    } else if (line[0] && !e->msg[0]) {
        err_set(e, rc, "%s", line);
    }
}

static int work(struct verb_task *vt, struct store *s, strbuf *result, err *e)
{
    struct import_task *it = (struct import_task *)vt;
    struct import_options o = it->o;
    o.stop = &vt->stop;
    FILE *tmp = NULL;
    if (vt->background) {
        tmp = tmpfile();
        o.errors = tmp ? tmp : stderr;
        o.on_progress = on_progress;
        o.progress_ctx = vt;
    } else {
        o.errors = it->errors ? it->errors : stderr;
        o.progress = it->errors && isatty(fileno(it->errors));
    }
    /* No SA_RESTART: a signal cuts the pacing sleep short; the append in
     * progress is not interrupted (SQLite retries its system calls). */
    struct sigaction sa, old_int, old_term;
    bool signals = o.replay && !vt->background;
    if (signals) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        stop_flag = &vt->stop;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    struct import_result res;
    memset(&res, 0, sizeof res);
    int rc = import_files(s, it->files, it->nfiles, &o, &res, e);
    if (o.replay && vt->stop)
        res.stopped = true;
    if (signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        stop_flag = NULL;
    }
    if (rc == ST_OK && vt->background) {
        /* The message line: what changed, without the timing (a script's
         * screens must not depend on the clock). */
        sb_addf(result, "%lld event%s appended", (long long)res.imported,
                res.imported == 1 ? "" : "s");
        if (res.imported > 0)
            sb_addf(result, " (positions %lld-%lld)", (long long)res.first_position,
                    (long long)res.last_position);
        if (res.present > 0)
            sb_addf(result, ", %lld already present", (long long)res.present);
        if (res.bad > 0)
            sb_addf(result, ", %lld bad record%s skipped", (long long)res.bad,
                    res.bad == 1 ? "" : "s");
        if (res.stopped)
            sb_adds(result, ", stopped early");
    } else if (rc == ST_OK) {
        import_format_summary(result, &res, it->nfiles, o.replay);
    } else {
        if (tmp)
            first_problem(tmp, rc, e);
        if (o.replay && res.imported > 0)
            snprintf(vt->after_error, sizeof vt->after_error,
                     "%lld events appended before that stay in the store", (long long)res.imported);
    }
    if (tmp)
        fclose(tmp);
    return rc;
}

static bool parse_positive(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 1e9)
        return false;
    *out = v;
    return true;
}

static int run_files(struct verb_ctx *c, int argc, char **argv, bool replay)
{
    const char *arg, *source = NULL, *map = NULL;
    struct import_options o;
    memset(&o, 0, sizeof o);
    bool have_speed = false;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_SOURCE:
            source = arg;
            break;
        case OPT_MAP:
            map = arg;
            break;
        case OPT_SKIP_BAD:
            o.skip_bad = true;
            break;
        case OPT_ALLOW_DUPLICATES:
            o.allow_duplicates = true;
            break;
        case OPT_SORT:
            if (strcmp(arg, "time") != 0)
                return verb_usage_error(c, "--sort takes 'time', not '%s'", arg);
            o.sort_time = true;
            break;
        case OPT_SPEED:
            if (!parse_positive(arg, &o.speed))
                return verb_usage_error(c, "--speed takes a number above 0, not '%s'", arg);
            have_speed = true;
            break;
        case OPT_RATE:
            if (!parse_positive(arg, &o.rate))
                return verb_usage_error(
                    c, "--rate takes a number of events a second above 0, not '%s'", arg);
            break;
        }
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (optind >= argc)
        return verb_usage_error(c, replay ? "no file given" : "no files given");
    if (have_speed && o.rate > 0)
        return verb_usage_error(c, "give --speed X or --rate N, not both");
    if (replay && !have_speed && o.rate <= 0)
        o.speed = 1.0;
    o.replay = replay;
    if (source && map)
        return verb_usage_error(c, "give --source NAME or --map FILE, not both");
    /* A --map import takes the events as they are: the domain is not used (nor
     * claimed for the store). */
    int rc = map ? ST_OK : verb_need_domain(c, source != NULL);
    if (rc != ST_OK)
        return rc;
    struct import_task *it = xcalloc(1, sizeof *it);
    it->t.work = work;
    it->t.done = task_done;
    err e;
    err_clear(&e);
    FILE *msgs = verb_errors_open(c);
    rc = import_pick_source(map ? NULL : c->domain, source, map, &it->src, &it->owned, msgs, &e);
    verb_errors_close(c, msgs);
    if (rc != ST_OK) {
        task_done(&it->t);
        return rc == ST_USAGE ? verb_usage_error(c, "%s", e.msg) : verb_fail(c, &e);
    }
    o.source = it->src;
    /* Otherwise a domain checks every record. */
    o.domain = map ? NULL : c->domain;
    it->o = o;
    it->errors = c->out->errors;
    if ((rc = verb_need_store(c, true, false)) != ST_OK) {
        task_done(&it->t);
        return rc;
    }
    it->nfiles = (size_t)(argc - optind);
    it->files = xcalloc(it->nfiles + 1, sizeof *it->files);
    for (size_t i = 0; i < it->nfiles; i++)
        it->files[i] = xstrdup(argv[optind + (int)i]);
    snprintf(it->t.what, sizeof it->t.what, "%s %s%s", replay ? "replay" : "import", argv[optind],
             it->nfiles > 1 ? " ..." : "");
    /* The workbench shows the events arriving. */
    static const struct event_filter none;
    verb_show(c, &(struct verb_view){.kind = VERB_VIEW_EVENTS, .filter = &none});
    return verb_task_run(c, &it->t);
}

static int run_import(struct verb_ctx *c, int argc, char **argv)
{
    return run_files(c, argc, argv, false);
}

static int run_replay(struct verb_ctx *c, int argc, char **argv)
{
    return run_files(c, argc, argv, true);
}

const struct verb_def verb_import = {
    .name = "import",
    .synopsis = "FILE... [--source NAME | --map FILE] [--skip-bad]",
    .summary = "append events from files (NDJSON, JSON, CSV, CloudEvents, .gz)",
    .usage = import_usage,
    .options = import_opts,
    .run = run_import,
};

const struct verb_def verb_replay = {
    .name = "replay",
    .synopsis = "FILE... [--speed X | --rate N] [--source NAME]",
    .summary = "append events from a file, paced in time",
    .usage = replay_usage,
    .options = replay_opts,
    .run = run_replay,
};
