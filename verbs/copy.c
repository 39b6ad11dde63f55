/* copy.c: the `copy` verb: --from SRC --to DST moves a store to another, SQLite
 * to PostgreSQL, back, or same to same (core/store_copy.h says what it carries and
 * how it resumes). The source is opened read-only; the destination is created
 * when missing. A progress bar goes to standard error when that is a terminal and
 * the verb runs from the command line (the workbench has its own screen). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store_copy.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata copy --from SRC --to DST [--batch N]\n"
    "Copies the store SRC into DST: an SQLite file or a PostgreSQL URI on either side.\n"
    "It carries what cannot be derived: the events (positions, versions and times\n"
    "kept), command ids, append times, the import ledger, snapshots, the store's\n"
    "notes (the domain it is used with), skipped events and branches. Read models are\n"
    "not copied: `strata project` (or the workbench) folds them at DST on first use.\n"
    "DST is created when missing. An interrupted copy keeps every batch it committed;\n"
    "run it again to resume. A DST that is not a copy of SRC's first events is\n"
    "refused. Afterwards `strata export` gives the same bytes from either store.\n"
    "  --from SRC   the store to copy (opened read-only)\n"
    "  --to DST     the store to copy into: new, or an interrupted copy of SRC\n"
    "  --batch N    events per transaction (default 1000)\n"
    "exit: 0 copied, 1 a store cannot be opened or read or written, 2 usage,\n"
    "4 DST is not a copy of SRC\n";

enum { OPT_FROM = VOPT_FIRST_FREE, OPT_TO, OPT_BATCH };
static const struct option opts[] = {{"from", required_argument, NULL, OPT_FROM},
                                     {"to", required_argument, NULL, OPT_TO},
                                     {"batch", required_argument, NULL, OPT_BATCH},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

struct bar {
    bool on;
    int64_t last_drawn;
};

static void draw(void *ctx, int64_t done, int64_t total)
{
    struct bar *b = ctx;
    if (!b->on || (done == b->last_drawn && done != 0))
        return;
    b->last_drawn = done;
    int width = 30;
    int fill = total > 0 ? (int)(done * width / total) : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\rcopy [%s] %lld/%lld events", bar, (long long)done, (long long)total);
    fflush(stderr);
}

static struct store *open_one(struct verb_ctx *c, const char *path, bool source, err *e)
{
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = !source;
    opt.read_only = source;
    struct store *s = store_open(path, &opt, e);
    if (!s)
        err_prefix(e, "%s", source ? "the source" : "the destination");
    return s;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *arg, *from = NULL, *to = NULL;
    int64_t batch = 0;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if (opt == OPT_FROM)
            from = arg;
        else if (opt == OPT_TO)
            to = arg;
        else if (opt == OPT_BATCH && (!verb_parse_count(arg, &batch) || batch == 0))
            return verb_usage_error(c, "--batch wants a number of events (1 or more), not '%s'",
                                    arg);
    }
    int rc;
    if (verb_options_stop(c, opt, argc, argv, &rc))
        return rc;
    if (!from || !to)
        return verb_usage_error(c, "copy needs --from SRC and --to DST");
    if (strcmp(from, to) == 0)
        return verb_usage_error(c, "--from and --to name the same store");
    err e;
    err_clear(&e);
    struct store *src = open_one(c, from, true, &e);
    struct store *dst = src ? open_one(c, to, false, &e) : NULL;
    if (!src || !dst) {
        store_close(src);
        return verb_fail(c, &e);
    }
    struct bar bar = {!c->borrowed && isatty(STDERR_FILENO), -1};
    struct store_copy_stats st;
    rc = store_copy(src, dst, batch, draw, &bar, &st, &e);
    if (bar.on)
        fputc('\n', stderr);
    if (rc == ST_OK) {
        char *line = xasprintf(
            "{\"from\":\"%s\",\"to\":\"%s\",\"resumed_at\":%lld,\"events\":%lld,"
            "\"commands\":%lld,\"append_times\":%lld,\"ledger\":%lld,\"snapshots\":%lld,"
            "\"notes\":%lld,\"rows\":%lld}",
            src->ops->name, dst->ops->name, (long long)st.resumed_at, (long long)st.events,
            (long long)st.commands, (long long)st.times, (long long)st.ledger,
            (long long)st.snapshots, (long long)st.notes, (long long)st.rows);
        verb_line(c, line, strlen(line));
        free(line);
        verb_say(c, VERB_INFO, 0, "copied %lld events from %s to %s%s", (long long)st.events,
                 src->path, dst->path, st.resumed_at ? " (resumed)" : "");
    }
    store_close(src);
    store_close(dst);
    return rc == ST_OK ? ST_OK : verb_fail(c, &e);
}

const struct verb_def verb_copy = {
    .name = "copy",
    .synopsis = "--from SRC --to DST [--batch N]",
    .summary = "copy a store to another (SQLite and PostgreSQL, either way)",
    .usage = usage,
    .options = opts,
    .run = run,
};
