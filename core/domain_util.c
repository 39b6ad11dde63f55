/* domain_util.c: the domain loader's helpers: recording problems with the path
 * of keys that led to them, checking shapes, keys and names (with "did you
 * mean"), reading YAML scalars as plain values by YAML's core schema, compiling
 * expressions with their errors placed at the right column of the file, and the
 * schemas that tell the expression compiler which fields each root has. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/domain_internal.h"
#include "core/expr_types.h"
#include "core/utf8.h"

/* ---- what expressions read of meta ---- */

static void meta_field(void *ctx, const char *name, size_t len)
{
    static const char *const names[] = {"stream",   "aggregate", "aggregateId", "version",
                                        "position", "time",      "type",        "schema"};
    unsigned *need = ctx;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) {
            *need |= 1u << i;
            return;
        }
    *need |= META_STORED; /* command, commandId, ...: from the event's own meta */
}

unsigned meta_need_of(const expr *x)
{
    if (!x || !expr_uses_root(x, ROOT_META))
        return 0;
    unsigned need = 0;
    return expr_root_fields(x, ROOT_META, meta_field, &need) ? need : META_ALL;
}

/* ---- problems and paths ---- */

static void diag_vat(struct loader *L, int line, int col, const char *fmt, va_list ap)
{
    strbuf sb;
    sb_init(&sb);
    sb_vaddf(&sb, fmt, ap);
    diag_add(L->diags, L->file, line, col, L->path.buf ? L->path.buf : "", sb.buf);
    sb_done(&sb);
}

void ld_diag_at(struct loader *L, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vat(L, line, col, fmt, ap);
    va_end(ap);
}

void ld_diag(struct loader *L, const struct ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vat(L, n ? n->line : 0, n ? n->col : 0, fmt, ap);
    va_end(ap);
}

size_t ld_push(struct loader *L, const char *key)
{
    size_t mark = L->path.len;
    if (L->path.len)
        sb_addc(&L->path, '.');
    sb_adds(&L->path, key);
    return mark;
}

size_t ld_push_index(struct loader *L, size_t i)
{
    size_t mark = L->path.len;
    sb_addf(&L->path, "[%zu]", i);
    return mark;
}

void ld_pop(struct loader *L, size_t mark)
{
    L->path.len = mark;
    if (L->path.buf)
        L->path.buf[mark] = '\0';
}

/* ---- shapes, names and scalars ---- */

bool ld_expect_map(struct loader *L, const struct ynode *n, const char *what, bool allow_null)
{
    if (n && n->kind == YN_MAP)
        return true;
    if (allow_null && (!n || ynode_is_null(n)))
        return false; /* nothing to read, and nothing wrong */
    ld_diag(L, n, "expected %s (a mapping), got %s", what, ynode_kind_name(n));
    return false;
}

bool ld_expect_seq(struct loader *L, const struct ynode *n, const char *what, bool allow_null)
{
    if (n && n->kind == YN_SEQ)
        return true;
    if (allow_null && (!n || ynode_is_null(n)))
        return false;
    ld_diag(L, n, "expected %s (a list), got %s", what, ynode_kind_name(n));
    return false;
}

void ld_check_keys(struct loader *L, const struct ynode *map, const char *const *allowed, size_t n)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct ynode *k = ynode_keynode(map, i);
        bool known = false;
        for (size_t j = 0; j < n && !known; j++)
            known = strcmp(k->text, allowed[j]) == 0;
        if (known)
            continue;
        size_t m = ld_push(L, k->text);
        const char *s = ld_suggest(k->text, allowed, n);
        if (s) {
            ld_diag(L, k, "unknown key '%s' (did you mean '%s'?)", k->text, s);
        } else {
            strbuf sb;
            sb_init(&sb);
            for (size_t j = 0; j < n; j++)
                sb_addf(&sb, "%s%s", j ? ", " : "", allowed[j]);
            ld_diag(L, k, "unknown key '%s'; expected one of: %s", k->text, sb.buf);
            sb_done(&sb);
        }
        ld_pop(L, m);
    }
}

bool ld_misplaced_key(struct loader *L, const struct ynode *k, const char *what,
                      const char *const *keys, size_t n, const char *owner, int owner_col)
{
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = strcmp(k->text, keys[i]) == 0;
    if (!found || owner_col <= 0 || owner_col == k->col)
        return false;
    int d = k->col > owner_col ? k->col - owner_col : owner_col - k->col;
    size_t m = ld_push(L, k->text);
    ld_diag(L, k,
            "'%s' stands where %s goes (column %d), but it is a key of %s (column %d): indent it "
            "%d space%s %s",
            k->text, what, k->col, owner, owner_col, d, d == 1 ? "" : "s",
            k->col > owner_col ? "less" : "more");
    L->diags->items[L->diags->len - 1].structural = true;
    ld_pop(L, m);
    return true;
}

int ld_keys_col(const struct ynode *map)
{
    return map && map->kind == YN_MAP && map->n ? ynode_keynode(map, 0)->col : 0;
}

/* Suggestions cost an edit distance per candidate; a hostile file with many
 * unknown names and many candidates must not make loading quadratic, so the
 * work per file is bounded (suggestions simply stop when it runs out). */
static _Thread_local long suggest_budget = 50000000;

void ld_suggest_reset(void)
{
    suggest_budget = 50000000;
}

static int ref_cmp(const void *a, const void *b)
{
    const struct name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static void *index_find(const struct name_index *ix, const char *name)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) { /* the first entry >= name */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->refs[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n && strcmp(ix->refs[lo].name, name) == 0 ? ix->refs[lo].ptr : NULL;
}

void name_index_sort(struct name_index *ix)
{
    if (ix->n > 1)
        qsort(ix->refs, ix->n, sizeof *ix->refs, ref_cmp);
}

struct event_spec *ld_event(const struct loader *L, const char *name)
{
    return index_find(&L->events, name);
}

struct command_spec *ld_command(const struct loader *L, const char *name)
{
    return index_find(&L->commands, name);
}

const char *ld_suggest(const char *word, const char *const *candidates, size_t n)
{
    long cost = (long)n * (long)(strlen(word) + 1) * 16;
    if (cost > suggest_budget)
        return NULL;
    suggest_budget -= cost;
    return did_you_mean(word, candidates, n);
}

bool ld_valid_name(const char *s)
{
    if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

bool ld_check_name(struct loader *L, const struct ynode *keynode, const char *kind)
{
    if (ld_valid_name(keynode->text))
        return true;
    size_t m = ld_push(L, keynode->text);
    ld_diag(
        L, keynode,
        "invalid %s name '%s': a name is letters, digits and _, and does not start with a digit",
        kind, keynode->text);
    ld_pop(L, m);
    return false;
}

const char *ld_string(struct loader *L, const struct ynode *n, const char *what)
{
    if (n && n->kind == YN_SCALAR && !ynode_is_null(n))
        return n->text;
    ld_diag(L, n, "expected %s, got %s", what, ynode_kind_name(n));
    return NULL;
}

/* Parses YAML core-schema integers: decimal, 0x hex, 0o octal. */
static bool parse_int(const char *s, int64_t *out, bool *overflow)
{
    *overflow = false;
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
        if (neg || p != s)
            return false;
        base = p[1] == 'x' ? 16 : 8;
        p += 2;
    }
    if (!*p)
        return false;
    for (const char *q = p; *q; q++) {
        int dv = *q >= '0' && *q <= '9'   ? *q - '0'
                 : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
                 : *q >= 'A' && *q <= 'F' ? *q - 'A' + 10
                                          : 99;
        if (dv >= base)
            return false;
    }
    errno = 0;
    char *end;
    if (base == 10) {
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE) {
            *overflow = true;
            return false;
        }
        *out = v;
    } else {
        unsigned long long v = strtoull(p, &end, base);
        if (errno == ERANGE || v > INT64_MAX) {
            *overflow = true;
            return false;
        }
        *out = (int64_t)v;
    }
    return true;
}

static bool parse_float(const char *s, double *out)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"};
    static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF"};
    for (size_t i = 0; i < sizeof inf / sizeof inf[0]; i++)
        if (strcmp(s, inf[i]) == 0) {
            *out = INFINITY;
            return true;
        }
    for (size_t i = 0; i < sizeof ninf / sizeof ninf[0]; i++)
        if (strcmp(s, ninf[i]) == 0) {
            *out = -INFINITY;
            return true;
        }
    if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0) {
        *out = NAN;
        return true;
    }
    /* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    bool digits = false;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
            digits = true;
        }
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    *out = strtod(s, NULL);
    return true;
}

bool ld_int(struct loader *L, const struct ynode *n, const char *what, int64_t min, int64_t max,
            int64_t *out)
{
    int64_t v;
    bool overflow;
    if (!n || n->kind != YN_SCALAR || n->style != YS_PLAIN || !parse_int(n->text, &v, &overflow)) {
        ld_diag(L, n, "%s must be an integer, got %s%s%s", what,
                n && n->kind == YN_SCALAR ? "'" : "",
                n && n->kind == YN_SCALAR ? n->text : ynode_kind_name(n),
                n && n->kind == YN_SCALAR ? "'" : "");
        return false;
    }
    if (v < min || v > max) {
        if (max == INT64_MAX)
            ld_diag(L, n, "%s must be at least %lld, got %lld", what, (long long)min, (long long)v);
        else
            ld_diag(L, n, "%s must be between %lld and %lld, got %lld", what, (long long)min,
                    (long long)max, (long long)v);
        return false;
    }
    *out = v;
    return true;
}

bool ld_bool(struct loader *L, const struct ynode *n, const char *what, bool *out)
{
    if (n && n->kind == YN_SCALAR && n->style == YS_PLAIN) {
        const char *s = n->text;
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
            *out = true;
            return true;
        }
        if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            *out = false;
            return true;
        }
    }
    ld_diag(L, n, "%s must be true or false, got %s%s%s", what,
            n && n->kind == YN_SCALAR ? "'" : "",
            n && n->kind == YN_SCALAR ? n->text : ynode_kind_name(n),
            n && n->kind == YN_SCALAR ? "'" : "");
    return false;
}

bool ld_value(struct loader *L, const struct ynode *n, value *out)
{
    if (!n) {
        *out = value_null();
        return true;
    }
    if (n->kind == YN_SCALAR) {
        if (n->style != YS_PLAIN || n->str_tag) {
            *out = value_string(n->text, n->len);
            return true;
        }
        const char *s = n->text;
        if (ynode_is_null(n)) {
            *out = value_null();
        } else if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
            *out = value_bool(true);
        } else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            *out = value_bool(false);
        } else {
            int64_t i;
            double d;
            bool overflow;
            if (parse_int(s, &i, &overflow)) {
                *out = value_int(i);
            } else if (overflow) {
                ld_diag(L, n, "the integer %s does not fit in 64 bits", s);
                *out = value_null();
                return false;
            } else if (parse_float(s, &d)) {
                *out = value_double(d);
            } else {
                *out = value_string(n->text, n->len);
            }
        }
        return true;
    }
    bool ok = true;
    if (n->kind == YN_SEQ) {
        *out = value_list(n->n);
        for (size_t i = 0; i < n->n; i++) {
            value v;
            ok = ld_value(L, n->items[i], &v) && ok;
            value_list_push(out, v);
        }
        return ok;
    }
    *out = value_map(n->n);
    for (size_t i = 0; i < n->n; i++) {
        value v;
        ok = ld_value(L, ynode_val(n, i), &v) && ok;
        value_map_setn(out, ynode_key(n, i), ynode_keynode(n, i)->len, v);
    }
    return ok;
}

/* ---- expressions ---- */

/* Byte offset of 1-based line/col (col in characters), or (size_t)-1. */
static size_t file_offset(struct loader *L, int line, int col)
{
    if (!L->text || line < 1)
        return (size_t)-1;
    if (!L->line_starts) {
        size_t n = 1;
        for (size_t i = 0; i < L->len; i++)
            n += L->text[i] == '\n';
        L->line_starts = xmalloc(n * sizeof *L->line_starts);
        L->nlines = 0;
        L->line_starts[L->nlines++] = 0;
        for (size_t i = 0; i < L->len; i++)
            if (L->text[i] == '\n')
                L->line_starts[L->nlines++] = i + 1;
    }
    if ((size_t)line > L->nlines)
        return (size_t)-1;
    size_t i = L->line_starts[line - 1];
    for (int c = 1; c < col && i < L->len && L->text[i] != '\n'; c++) {
        i++;
        while (i < L->len && ((unsigned char)L->text[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

/* The span (expr.h) that starts at file byte fi for source byte off. */
static struct expr_span span_at(struct loader *L, size_t fi, size_t off)
{
    size_t lo = 0, hi = L->nlines;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (L->line_starts[mid] <= fi)
            lo = mid;
        else
            hi = mid;
    }
    struct expr_span s = {
        off, (int)lo + 1,
        1 + (int)utf8_count(L->text + L->line_starts[lo], fi - L->line_starts[lo])};
    return s;
}

/* Where a scalar's text stands in the file, as spans (one per line it runs
 * over): walks the file from the scalar's start alongside the text, treating a
 * line break plus the next line's indentation as what YAML folded it into (a
 * space or a newline). Returns how many spans, 0 when the two do not line up (an
 * escape in a double-quoted scalar); *out is then NULL. */
static size_t scalar_spans(struct loader *L, const struct ynode *n, struct expr_span **out)
{
    *out = NULL;
    size_t fi = file_offset(L, n->line, n->col);
    if (fi == (size_t)-1)
        return 0;
    const char *t = L->text;
    if (n->style == YS_LITERAL || n->style == YS_FOLDED) {
        while (fi < L->len && t[fi] != '\n') /* the indicator line: `|`, `>-`, a comment */
            fi++;
    } else if (n->style == YS_SINGLE || n->style == YS_DOUBLE) {
        fi++;
    }
    bool at_line_start = n->style == YS_LITERAL || n->style == YS_FOLDED;
    if (at_line_start && fi < L->len)
        fi++; /* the indicator line's break */
    size_t cap = 4, ns = 0;
    struct expr_span *sp = xmalloc(cap * sizeof *sp);
    if (!at_line_start)
        sp[ns++] = span_at(L, fi < L->len ? fi : L->len - 1, 0);
    for (size_t ei = 0;; ei++) {
        if (at_line_start) { /* indentation and blank lines are not part of the text */
            while (fi < L->len && (t[fi] == ' ' || t[fi] == '\t' || t[fi] == '\n'))
                fi++;
            /* (what YAML kept of them: a literal's deeper indentation, a folded
             * scalar's blank lines) */
            while (ei < n->len &&
                   (n->text[ei] == ' ' || n->text[ei] == '\t' || n->text[ei] == '\n'))
                ei++;
            at_line_start = false;
            if (fi >= L->len)
                break;
            if (ns == cap)
                sp = xrealloc(sp, (cap *= 2) * sizeof *sp);
            sp[ns++] = span_at(L, fi, ei);
        }
        if (ei >= n->len)
            break;
        char c = n->text[ei];
        if (fi < L->len && t[fi] == c) {
            fi++;
            at_line_start = c == '\n';
        } else if ((c == ' ' || c == '\n') && fi < L->len && t[fi] == '\n') {
            fi++; /* a line break YAML folded into c */
            at_line_start = true;
        } else if (c != ' ' && c != '\n') {
            free(sp); /* an escape sequence, or something else that does not line up */
            return 0;
        }
    }
    *out = sp;
    return ns;
}

expr *ld_compile(struct loader *L, const struct ynode *n, const struct expr_env *env, bool cond)
{
    return ld_compile_for(L, n, env, cond, NULL);
}

expr *ld_compile_for(struct loader *L, const struct ynode *n, const struct expr_env *env, bool cond,
                     const char *note)
{
    if (!n || n->kind != YN_SCALAR) {
        ld_diag(L, n, "expected an expression (a string), got %s", ynode_kind_name(n));
        return NULL;
    }
    err ee;
    memset(&ee, 0, sizeof ee);
    expr *x = expr_compile(n->text, n->len, env, &ee);
    bool one_line = n->end_line == n->line && n->style != YS_LITERAL && n->style != YS_FOLDED &&
                    !memchr(n->text, '\n', n->len);
    struct expr_span *spans;
    size_t nspans = scalar_spans(L, n, &spans);
    struct expr_span first = {0, n->line,
                              n->col + (n->style == YS_SINGLE || n->style == YS_DOUBLE ? 1 : 0)};
    if (!nspans && one_line) { /* (an escape only shifts the columns after it a little) */
        free(spans);
        spans = xmalloc(sizeof *spans);
        spans[0] = first;
        nspans = 1;
    }
    if (!x) {
        size_t off = ee.col > 1 ? (size_t)ee.col - 1 : 0;
        if (off > n->len)
            off = n->len;
        int line = n->line, col = 0;
        if (!expr_span_locate(n->text, spans, nspans, off, &line, &col))
            col = 0;
        free(spans);
        const char *msg = ee.msg[0] ? ee.msg : "invalid expression";
        if (col > 0)
            ld_diag_at(L, line, col, "%s%s", msg, note ? note : "");
        else
            ld_diag(L, n, "%s (at column %d of the expression)%s", msg, ee.col, note ? note : "");
        return NULL;
    }
    /* So that an error at run time names its place in the file too. */
    expr_set_origin(x, L->file, spans, nspans);
    free(spans);
    if (cond) {
        expr_type t = expr_result_type(x);
        if (t != EXPR_T_ANY && t != EXPR_T_BOOL) {
            ld_diag(L, n, "`%s` is %s %s, not a condition (it must be true or false)", n->text,
                    t == EXPR_T_INT ? "an" : "a", expr_type_name(t));
            expr_free(x);
            return NULL;
        }
    }
    return x;
}

void schema_from_fields(struct schema_buf *sb, const struct field_spec *f, size_t n)
{
    memset(sb, 0, sizeof *sb);
    sb->names = xcalloc(n ? n : 1, sizeof *sb->names);
    sb->types = xcalloc(n ? n : 1, sizeof *sb->types);
    sb->subs = xcalloc(n ? n : 1, sizeof *sb->subs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!f[i].name)
            continue;
        sb->names[k] = f[i].name;
        sb->types[k] = ftype_expr_type(f[i].type);
        sb->subs[k] = field_shape(&f[i]);
        k++;
    }
    sb->s.fields = sb->names;
    sb->s.types = sb->types;
    sb->s.nfields = k;
    sb->s.subs = sb->subs;
}

static expr_type value_expr_type(const value *v)
{
    expr_type t = expr_type_of(v);
    return t == EXPR_T_NULL ? EXPR_T_ANY : t; /* a null default says nothing of what comes later */
}

void schema_from_names(struct schema_buf *sb, char *const *names, const value *defaults, size_t n)
{
    memset(sb, 0, sizeof *sb);
    sb->names = xcalloc(n ? n : 1, sizeof *sb->names);
    sb->types = xcalloc(n ? n : 1, sizeof *sb->types);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        sb->names[k] = names[i];
        sb->types[k] = defaults ? value_expr_type(&defaults[i]) : EXPR_T_ANY;
        k++;
    }
    sb->s.fields = sb->names;
    sb->s.types = sb->types;
    sb->s.nfields = k;
}

void schema_done(struct schema_buf *sb)
{
    free(sb->names);
    free(sb->types);
    free(sb->subs);
    memset(sb, 0, sizeof *sb);
}

const struct expr_schema *meta_schema(void)
{
    static const char *const names[] = {"stream",   "aggregate", "aggregateId",   "version",
                                        "position", "time",      "type",          "schema",
                                        "command",  "commandId", "correlationId", "causationId"};
    static const expr_type types[] = {EXPR_T_STRING, EXPR_T_STRING,    EXPR_T_STRING, EXPR_T_INT,
                                      EXPR_T_INT,    EXPR_T_TIMESTAMP, EXPR_T_STRING, EXPR_T_INT,
                                      EXPR_T_ANY,    EXPR_T_ANY,       EXPR_T_ANY,    EXPR_T_ANY};
    static const struct expr_schema s = {
        .fields = names, .types = types, .nfields = sizeof names / sizeof names[0]};
    return &s;
}

const struct expr_schema *command_meta_schema(void)
{
    static const char *const names[] = {"stream", "version"};
    static const expr_type types[] = {EXPR_T_STRING, EXPR_T_INT};
    static const struct expr_schema s = {.fields = names, .types = types, .nfields = 2};
    return &s;
}

/* did_you_mean over every event type of the domain. */
static const char *suggest_event(const struct domain *d, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < d->naggregates; i++)
        n += d->aggregates[i].nevents;
    const char **names = xcalloc(n ? n : 1, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < d->naggregates; i++)
        for (size_t j = 0; j < d->aggregates[i].nevents; j++)
            if (d->aggregates[i].events[j].name)
                names[k++] = d->aggregates[i].events[j].name;
    const char *s = ld_suggest(name, names, k);
    free(names);
    return s;
}

void ld_unknown_event(struct loader *L, const struct ynode *at, const char *name)
{
    const char *s = suggest_event(L->d, name);
    if (s)
        ld_diag(L, at, "unknown event type '%s' (did you mean '%s'?)", name, s);
    else
        ld_diag(L, at, "unknown event type '%s': no aggregate of the domain defines it", name);
}

const char *ld_suggest_names(const char *word, char *const *names, size_t n)
{
    const char **v = xcalloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (names[i])
            v[k++] = names[i];
    const char *s = ld_suggest(word, v, k);
    free(v);
    return s;
}

const struct record_type *ld_record(const struct loader *L, const char *name)
{
    for (size_t i = 0; i < L->d->ntypes; i++)
        if (L->d->types[i].name && strcmp(L->d->types[i].name, name) == 0)
            return &L->d->types[i];
    return NULL;
}
