/* words.c: command lines split into words (words.h). */
#include "tui/words.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void words_push(struct words *w, char *s)
{
    if (w->n + 1 >= w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->v = xrealloc(w->v, (size_t)w->cap * sizeof *w->v);
    }
    w->v[w->n++] = s;
    w->v[w->n] = NULL;
}

void words_done(struct words *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    memset(w, 0, sizeof *w);
}

bool split_words(const char *line, struct words *w, const char **bad)
{
    const char *p = line;
    memset(w, 0, sizeof *w);
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return true;
        strbuf sb;
        sb_init(&sb);
        char q = 0;
        while (*p && (q || (*p != ' ' && *p != '\t'))) {
            if (q == 0 && (*p == '"' || *p == '\'')) {
                q = *p++;
            } else if (q && *p == q) {
                q = 0;
                p++;
            } else if (*p == '\\' && q != '\'' && p[1]) {
                sb_addc(&sb, p[1]);
                p += 2;
            } else {
                sb_addc(&sb, *p++);
            }
        }
        if (q) {
            *bad = "a quote is left open";
            sb_done(&sb);
            return false;
        }
        words_push(w, sb_steal(&sb));
    }
}
