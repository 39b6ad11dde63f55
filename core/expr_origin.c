/* expr_origin.c: where a compiled expression's source stood in its file (the
 * origin the domain loader gives it, expr_set_origin in expr.h), and the mapping
 * of a byte offset in the source back to the file's line and column, so that an
 * error found at run time is placed as precisely as one found at load. */
#include <stdlib.h>
#include <string.h>

#include "expr_internal.h"
#include "utf8.h"

void expr_set_origin(expr *x, const char *file, const struct expr_span *spans, size_t n)
{
    free(x->file);
    free(x->spans);
    x->file = NULL;
    x->spans = NULL;
    x->nspans = 0;
    if (!file || !n)
        return;
    x->file = xstrdup(file);
    x->spans = xmalloc(n * sizeof *x->spans);
    memcpy(x->spans, spans, n * sizeof *x->spans);
    x->nspans = n;
}

bool expr_span_locate(const char *src, const struct expr_span *spans, size_t n, size_t off,
                      int *line, int *col)
{
    if (!n)
        return false;
    size_t lo = 0, hi = n; /* the last span that starts at or before off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (spans[mid].off <= off)
            lo = mid;
        else
            hi = mid;
    }
    const struct expr_span *s = &spans[lo];
    *line = s->line;
    *col = s->col + (off > s->off ? (int)utf8_count(src + s->off, off - s->off) : 0);
    return true;
}

bool expr_origin(const expr *x, const char **file, int *line, int *col)
{
    if (!x || !x->file || !x->nspans)
        return false;
    *file = x->file;
    return expr_span_locate(x->src, x->spans, x->nspans, 0, line, col);
}
