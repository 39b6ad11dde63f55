/* sql.c: the `sql` verb: "SELECT ..." run against the store, read-only, under a
 * time limit (store.h's query operation says how it is kept from writing). Rows
 * come out as NDJSON objects keyed by column name, values typed (integer, float,
 * text, null; a blob as the string "x'HEX'", SQL's own literal form), or, on a
 * terminal without --json, as an aligned table whose cells are sanitized (the
 * text is the log's, and may hold escape sequences). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "verbs/verb.h"

static const char usage[] =
    "usage: strata sql \"SELECT ...\" [--json] [--timeout SECONDS]\n"
    "Runs one read-only SQL statement against the store and prints its rows as\n"
    "NDJSON, one object per row keyed by column name (an aligned table on a\n"
    "terminal, at most 10000 rows). The log is the `events` view: position, stream,\n"
    "version, type, schema, time, data, meta (data and meta are JSON text: use\n"
    "json_extract(data, '$.amount')).\n"
    "Refused: statements that write, more than one statement, ATTACH, DETACH and\n"
    "pragmas that set something. The statement runs on its own read-only\n"
    "connection; writers are not held up. On PostgreSQL it is PostgreSQL's SQL\n"
    "(data::jsonb->>'amount'), must be a query (SELECT, WITH, VALUES, TABLE,\n"
    "EXPLAIN, SHOW) and runs in a READ ONLY transaction with statement_timeout.\n"
    "  --json           NDJSON even on a terminal\n"
    "  --timeout S      stop the statement after S seconds (default 10; 0: no limit)\n";

enum { OPT_JSON = VOPT_FIRST_FREE, OPT_TIMEOUT };
static const struct option opts[] = {{"json", no_argument, NULL, OPT_JSON},
                                     {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                     VERB_COMMON_OPTIONS,
                                     {0}};

#define TABLE_ROWS_MAX 10000

struct sink_ctx {
    struct verb_ctx *c;
    bool table;
    char **names;
    size_t ncols;
    int64_t rows;
    strbuf line;
};

static void hex_blob(strbuf *sb, const struct store_cell *cell)
{
    static const char digits[] = "0123456789abcdef";
    sb_adds(sb, "x'");
    for (size_t i = 0; i < cell->len; i++) {
        unsigned char b = (unsigned char)cell->p[i];
        sb_addc(sb, digits[b >> 4]);
        sb_addc(sb, digits[b & 15]);
    }
    sb_addc(sb, '\'');
}

static void cell_text(strbuf *sb, const struct store_cell *cell, bool table)
{
    switch (cell->type) {
    case CELL_NULL:
        sb_adds(sb, "null");
        break;
    case CELL_INT:
        sb_addf(sb, "%lld", (long long)cell->i);
        break;
    case CELL_FLOAT:
        if (isfinite(cell->f))
            json_write_double(sb, cell->f);
        else
            sb_adds(sb, table ? (isnan(cell->f) ? "NaN" : cell->f > 0 ? "Inf" : "-Inf") : "null");
        break;
    case CELL_TEXT:
        if (table)
            verb_add_safe_n(sb, cell->p, cell->len, true);
        else
            json_write_string(sb, cell->p, cell->len);
        break;
    case CELL_BLOB:
        if (!table)
            sb_addc(sb, '"');
        hex_blob(sb, cell);
        if (!table)
            sb_addc(sb, '"');
        break;
    }
}

static void on_columns(void *ctx, const char *const *names, size_t n)
{
    struct sink_ctx *k = ctx;
    k->ncols = n;
    k->names = xcalloc(n + 1, sizeof *k->names);
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < n; i++) {
        sb_reset(&sb);
        verb_add_safe_n(&sb, names[i], strlen(names[i]), true);
        k->names[i] = k->table ? xstrdup(sb.buf ? sb.buf : "") : xstrdup(names[i]);
    }
    sb_done(&sb);
    if (k->table)
        k->c->out->table_begin(k->c->out->ctx, (const char *const *)k->names, n);
}

static int on_row(void *ctx, const struct store_cell *cells, size_t n)
{
    struct sink_ctx *k = ctx;
    if (k->table && k->rows == TABLE_ROWS_MAX) {
        k->rows++; /* one more than shown: says there were more */
        return 1;
    }
    k->rows++;
    sb_reset(&k->line);
    if (!k->table) {
        sb_addc(&k->line, '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_addc(&k->line, ',');
            json_write_string(&k->line, k->names[i], strlen(k->names[i]));
            sb_addc(&k->line, ':');
            cell_text(&k->line, &cells[i], false);
        }
        sb_addc(&k->line, '}');
        verb_line(k->c, k->line.buf, k->line.len);
        return 0;
    }
    /* cells as NUL-separated texts in one buffer, then pointers into it */
    size_t *off = xcalloc(n + 1, sizeof *off);
    for (size_t i = 0; i < n; i++) {
        off[i] = k->line.len;
        cell_text(&k->line, &cells[i], true);
        sb_addc(&k->line, '\0');
    }
    const char **texts = xcalloc(n + 1, sizeof *texts);
    for (size_t i = 0; i < n; i++)
        texts[i] = k->line.buf + off[i];
    k->c->out->table_row(k->c->out->ctx, texts, n);
    free(texts);
    free(off);
    return 0;
}

static int run(struct verb_ctx *c, int argc, char **argv)
{
    const char *arg;
    bool json = false;
    double timeout = 10;
    int opt;
    while ((opt = verb_next_option(c, argc, argv, &arg)) >= 0) {
        if (opt == OPT_JSON) {
            json = true;
        } else if (opt == OPT_TIMEOUT) {
            char *end;
            timeout = strtod(arg, &end);
            if (end == arg || *end || !(timeout >= 0) || timeout > 86400)
                return verb_usage_error(c, "--timeout takes seconds (0 to 86400), not '%s'", arg);
        }
    }
    if (opt == -2)
        return ST_USAGE;
    if (c->want_help)
        return verb_print_help(c);
    if (argc - optind != 1)
        return verb_usage_error(c, "give one SQL statement, quoted (strata sql \"SELECT ...\")");
    int rc = verb_need_store(c, false, true);
    if (rc != ST_OK)
        return rc;
    struct sink_ctx k;
    memset(&k, 0, sizeof k);
    k.c = c;
    k.table = !json && isatty(STDOUT_FILENO) && !c->borrowed;
    sb_init(&k.line);
    struct store_query_sink sink = {&k, on_columns, on_row};
    err e;
    err_clear(&e);
    rc = store_query(c->store, argv[optind], (int64_t)(timeout * 1000), &sink, &e);
    if (k.table && k.names)
        c->out->table_end(c->out->ctx);
    for (size_t i = 0; i < k.ncols; i++)
        free(k.names[i]);
    free(k.names);
    sb_done(&k.line);
    if (rc != ST_OK)
        return verb_fail(c, &e);
    if (k.table && k.rows > TABLE_ROWS_MAX)
        verb_say(c, VERB_NOTE, 0, "the first %d rows are shown; --json prints every row",
                 TABLE_ROWS_MAX);
    verb_say(c, VERB_INFO, 0, "%lld row%s",
             (long long)(k.rows > TABLE_ROWS_MAX && k.table ? TABLE_ROWS_MAX : k.rows),
             k.rows == 1 ? "" : "s");
    return ST_OK;
}

const struct verb_def verb_sql = {
    .name = "sql",
    .synopsis = "\"SELECT ...\" [--json] [--timeout S]",
    .summary = "run one read-only SQL statement against the store",
    .usage = usage,
    .options = opts,
    .run = run,
};
