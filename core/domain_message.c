/* domain_message.c: a rule's message with {EXPR} placeholders, read when the
 * domain loads: the text split around its placeholders, each placeholder
 * compiled with the rule's names, so a misspelt field in a message is a load
 * error at its FILE:LINE:COL rather than a `{?}` on the day the rule fails.
 * `{{` and `}}` write a brace. Formatting at run time is rule_message.c's. */
#include <stdlib.h>
#include <string.h>

#include "core/domain_internal.h"

/* The end of the placeholder whose '{' is at s[i]: the index of its '}', or
 * 0 when it is not closed. Braces inside the expression (a map literal) nest,
 * and quoted strings are skipped, so `{ {'a': 1}['a'] }` and `{'}'}` work. */
static size_t hole_end(const char *s, size_t len, size_t i)
{
    int depth = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '\'' || c == '"') {
            for (i++; i < len && s[i] != c; i++)
                if (s[i] == '\\' && i + 1 < len)
                    i++;
            if (i >= len)
                return 0;
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && --depth == 0) {
            return i;
        }
    }
    return 0;
}

/* A scalar standing for the placeholder src[a..b) of message node mn, placed
 * where it stands in the file when the message is on one line, so ld_compile
 * reports an error at the placeholder's own column. */
static struct ynode hole_node(const struct ynode *mn, const char *src, size_t a, size_t b)
{
    struct ynode h;
    memset(&h, 0, sizeof h);
    h.kind = YN_SCALAR;
    h.style = YS_PLAIN;
    h.text = xstrndup(src + a, b - a);
    h.len = b - a;
    h.line = h.end_line = mn->line;
    h.col = mn->col;
    bool one_line = mn->end_line == mn->line && !memchr(src, '\n', mn->len);
    if (one_line) {
        int quote = mn->style == YS_SINGLE || mn->style == YS_DOUBLE ? 1 : 0;
        int chars = 0; /* columns count characters, not bytes */
        for (size_t i = 0; i < a; i++)
            if (((unsigned char)src[i] & 0xC0) != 0x80)
                chars++;
        h.col = mn->col + quote + chars;
    }
    return h;
}

void message_load(struct loader *L, const struct ynode *mn, const struct expr_env *env,
                  struct rule_spec *rs)
{
    const char *s = rs->message;
    size_t len = strlen(s);
    if (!strchr(s, '{') && !strchr(s, '}'))
        return; /* plain text: shown as written */
    strbuf lit;
    sb_init(&lit);
    size_t cap = 4;
    rs->texts = xcalloc(cap + 1, sizeof *rs->texts);
    rs->holes = xcalloc(cap, sizeof *rs->holes);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((c == '{' || c == '}') && i + 1 < len && s[i + 1] == c) {
            sb_add(&lit, &c, 1);
            i++;
            continue;
        }
        if (c == '}') {
            struct ynode h = hole_node(mn, s, i, i + 1);
            ld_diag(L, &h, "a lone '}' in a message: write }} for a brace");
            free(h.text);
            continue;
        }
        if (c != '{') {
            sb_add(&lit, &c, 1);
            continue;
        }
        size_t end = hole_end(s, len, i);
        if (!end) {
            struct ynode h = hole_node(mn, s, i, i + 1);
            ld_diag(L, &h, "'{' starts a placeholder that is not closed: write {{ for a brace");
            free(h.text);
            break;
        }
        struct ynode h = hole_node(mn, s, i + 1, end);
        expr *x = NULL;
        if (end == i + 1)
            ld_diag(L, &h, "an empty placeholder {}: put an expression in it, or write {{}}");
        else
            x = ld_compile(L, &h, env, false);
        free(h.text);
        if (rs->nholes == cap) {
            cap *= 2;
            rs->texts = xrealloc(rs->texts, (cap + 1) * sizeof *rs->texts);
            rs->holes = xrealloc(rs->holes, cap * sizeof *rs->holes);
        }
        rs->texts[rs->nholes] = xstrdup(lit.buf ? lit.buf : "");
        rs->holes[rs->nholes++] = x;
        sb_reset(&lit);
        i = end;
    }
    rs->texts[rs->nholes] = xstrdup(lit.buf ? lit.buf : "");
    sb_done(&lit);
}
