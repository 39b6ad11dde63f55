/* verb_out.c: see verb_out.h. Output is written as it comes, except a table,
 * which is held until its end to align the columns. */
#include "cli/verb_out.h"
#include "core/about.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/utf8.h"

struct cli_out {
    char ***rows; /* rows[0] is the header */
    size_t *ncells;
    size_t nrows;
};

static void out_line(void *ctx, const char *text, size_t len)
{
    fwrite(text, 1, len, stdout);
    putchar('\n');
}

static void out_table_row(void *ctx, const char *const *cells, size_t n)
{
    struct cli_out *o = ctx;
    o->rows = xrealloc(o->rows, (o->nrows + 1) * sizeof *o->rows);
    o->ncells = xrealloc(o->ncells, (o->nrows + 1) * sizeof *o->ncells);
    o->rows[o->nrows] = xcalloc(n + 1, sizeof **o->rows);
    for (size_t i = 0; i < n; i++)
        o->rows[o->nrows][i] = xstrdup(cells[i] ? cells[i] : "");
    o->ncells[o->nrows++] = n;
}

static void out_table_begin(void *ctx, const char *const *columns, size_t n)
{
    out_table_row(ctx, columns, n);
}

static void out_table_end(void *ctx)
{
    struct cli_out *o = ctx;
    size_t ncols = 0;
    for (size_t r = 0; r < o->nrows; r++)
        ncols = o->ncells[r] > ncols ? o->ncells[r] : ncols;
    int *width = xcalloc(ncols + 1, sizeof *width);
    for (size_t r = 0; r < o->nrows; r++)
        for (size_t i = 0; i < o->ncells[r]; i++) {
            int w = (int)utf8_count(o->rows[r][i], strlen(o->rows[r][i]));
            width[i] = w > width[i] ? w : width[i];
        }
    for (size_t r = 0; r < o->nrows; r++) {
        for (size_t i = 0; i < o->ncells[r]; i++) {
            const char *s = o->rows[r][i];
            bool last = i + 1 == o->ncells[r];
            int pad = last ? 0 : width[i] - (int)utf8_count(s, strlen(s)) + 2;
            printf("%s%*s", s, pad, "");
            free(o->rows[r][i]);
        }
        putchar('\n');
        free(o->rows[r]);
    }
    free(width);
    free(o->rows);
    free(o->ncells);
    memset(o, 0, sizeof *o);
}

static void out_message(void *ctx, enum verb_level level, const char *verb, const char *text)
{
    if (level == VERB_INFO)
        return; /* the result on standard output says it */
    if (level == VERB_REJECTED || !verb)
        fprintf(stderr, "%s\n", text); /* says what it is: "rejected: ...", "FILE:LINE: ..." */
    else
        fprintf(stderr, "strata %s: %s%s\n", verb, verb_level_prefix(level), text);
}

static void out_flush(void *ctx)
{
    fflush(stdout);
}

static void out_usage(void *ctx, const char *verb, const char *usage_text)
{
    fputs(usage_text, stderr);
}

int cli_run_verb(const struct verb_def *def, int argc, char **argv)
{
    struct cli_out o;
    memset(&o, 0, sizeof o);
    const struct verb_out out = {
        .ctx = &o,
        .line = out_line,
        .table_begin = out_table_begin,
        .table_row = out_table_row,
        .table_end = out_table_end,
        .message = out_message,
        .usage = out_usage,
        .flush = out_flush,
        .errors = stderr,
        .tty = isatty(STDOUT_FILENO) == 1,
    };
    struct verb_ctx c;
    memset(&c, 0, sizeof c);
    c.out = &out;
    const char *d = getenv("STRATA_DOMAIN"), *db = getenv("STRATA_DB");
    c.domain_path = d && *d ? strata_domain_path(d) : NULL; /* `bank`: core/about.h */
    c.db_path = db && *db ? db : NULL;
    const char *branch = getenv("STRATA_BRANCH");
    c.branch = branch && *branch ? branch : NULL;
    int rc = verb_run(def, &c, argc, argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "strata %s: cannot write the output\n", def->name);
        return ST_ERR;
    }
    return rc;
}
