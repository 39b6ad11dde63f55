/* expr_parse.c: the expression language's front end: lexer, recursive-descent
 * parser (the EBNF in domain-language.md), and the compile step that follows it:
 * names resolved to root slots and macro locals, static checks against the
 * expression's environment (roots a slot may not use, now() outside emit, unknown
 * fields of a root whose schema is known, types that are certainly wrong), and
 * folding of constant subtrees.
 *
 * Everything here works on a byte buffer with an explicit length (the fuzzer
 * calls it directly), stops at the first error, and reports it as a column and a
 * message. Parser recursion is capped at EXPR_MAX_DEPTH and so is the height of
 * the tree built, which bounds the C stack both here and in the evaluator. */
#include "expr_internal.h"
#include "utf8.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const root_names[ROOT_COUNT] = {"payload", "state", "event", "row", "meta", "record"};

/* ---- tokens ---- */

enum tok {
    T_EOF, T_IDENT, T_INT, T_DOUBLE, T_STRING,
    T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_LBRACE, T_RBRACE,
    T_DOT, T_COMMA, T_COLON, T_QUESTION,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_NOT,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_AND, T_OR, T_IN,
    T_TRUE, T_FALSE, T_NULL,
};

struct token {
    enum tok t;
    size_t start, end; /* byte span in the source */
    uint64_t ival;     /* T_INT (up to 2^63, the magnitude of INT64_MIN) */
    double dval;       /* T_DOUBLE */
    strbuf str;        /* T_STRING: the decoded text; T_IDENT: the name */
};

struct scope_var {
    const char *name;
    size_t len;
};

struct parser {
    const char *src;
    size_t len;
    size_t pos; /* the lexer's position */
    struct token tok;
    const struct expr_env *env;
    struct expr_error *ee;
    bool failed;
    int depth;
    struct scope_var locals[EXPR_MAX_DEPTH];
    int nlocals;
    struct expr *x; /* owns the nodes */
    size_t nodes_cap;
};

/* Records the first error; later ones are consequences and are dropped. */
static void __attribute__((format(printf, 3, 4))) fail(struct parser *p, size_t at, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    p->ee->column = (int)at + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->ee->msg, sizeof p->ee->msg, fmt, ap);
    va_end(ap);
}

static bool is_ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_ident_char(int c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static int hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool lex_string(struct parser *p, size_t start, bool raw)
{
    const char *s = p->src;
    size_t i = p->pos;
    char q = s[i];
    bool triple = i + 2 < p->len && s[i + 1] == q && s[i + 2] == q;
    i += triple ? 3 : 1;
    strbuf *sb = &p->tok.str;
    for (;;) {
        if (i >= p->len) {
            fail(p, start, "unterminated string");
            return false;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q) {
            if (!triple) {
                i++;
                break;
            }
            if (i + 2 < p->len && s[i + 1] == q && s[i + 2] == q) {
                i += 3;
                break;
            }
        }
        if ((c == '\n' || c == '\r') && !triple) {
            fail(p, start, "unterminated string (a newline inside quotes; use \\n)");
            return false;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq(s + i, p->len - i);
            if (!n) {
                fail(p, i, "invalid UTF-8 in string");
                return false;
            }
            sb_add(sb, s + i, n);
            i += n;
            continue;
        }
        if (c != '\\' || raw) {
            sb_addc(sb, (char)c);
            i++;
            continue;
        }
        size_t esc = i;
        if (i + 1 >= p->len) {
            fail(p, start, "unterminated string");
            return false;
        }
        char e = s[i + 1];
        i += 2;
        uint32_t cp;
        int ndig = 0;
        switch (e) {
        case 'a': sb_addc(sb, '\a'); continue;
        case 'b': sb_addc(sb, '\b'); continue;
        case 'f': sb_addc(sb, '\f'); continue;
        case 'n': sb_addc(sb, '\n'); continue;
        case 'r': sb_addc(sb, '\r'); continue;
        case 't': sb_addc(sb, '\t'); continue;
        case 'v': sb_addc(sb, '\v'); continue;
        case '\\': case '\'': case '"': case '`': case '?': sb_addc(sb, e); continue;
        case 'x': case 'X': ndig = 2; break;
        case 'u': ndig = 4; break;
        case 'U': ndig = 8; break;
        default:
            if (e >= '0' && e <= '3') {
                if (i + 1 < p->len && s[i] >= '0' && s[i] <= '7' && s[i + 1] >= '0' && s[i + 1] <= '7') {
                    cp = (uint32_t)((e - '0') * 64 + (s[i] - '0') * 8 + (s[i + 1] - '0'));
                    i += 2;
                    utf8_append(sb, cp);
                    continue;
                }
                fail(p, esc, "an octal escape needs three digits, like \\101");
                return false;
            }
            fail(p, esc, "unknown escape '\\%c' in string", (unsigned char)e >= 0x20 && (unsigned char)e < 0x7f ? e : '?');
            return false;
        }
        cp = 0;
        for (int k = 0; k < ndig; k++) {
            int h = i < p->len ? hex_val((unsigned char)s[i]) : -1;
            if (h < 0) {
                fail(p, esc, "escape '\\%c' needs %d hex digits", e, ndig);
                return false;
            }
            cp = cp * 16 + (uint32_t)h;
            i++;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            fail(p, esc, "escape '\\%c' is not a valid code point", e);
            return false;
        }
        utf8_append(sb, cp);
    }
    p->pos = i;
    p->tok.t = T_STRING;
    p->tok.end = i;
    if (sb->len > EXPR_MAX_LENGTH) { /* cannot happen with the length cap; kept as a guard */
        fail(p, start, "string literal too long");
        return false;
    }
    return true;
}

static bool lex_number(struct parser *p, size_t start)
{
    const char *s = p->src;
    size_t i = start;
    if (s[i] == '0' && i + 1 < p->len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        i += 2;
        uint64_t v = 0;
        size_t digits = 0;
        while (i < p->len && hex_val((unsigned char)s[i]) >= 0) {
            if (v > (UINT64_C(1) << 63) >> 4) {
                fail(p, start, "integer literal out of range");
                return false;
            }
            v = v * 16 + (uint64_t)hex_val((unsigned char)s[i]);
            digits++;
            i++;
        }
        if (!digits) {
            fail(p, start, "hex literal needs digits after 0x");
            return false;
        }
        if (v > (UINT64_C(1) << 63)) {
            fail(p, start, "integer literal out of range");
            return false;
        }
        p->tok.t = T_INT;
        p->tok.ival = v;
    } else {
        while (i < p->len && is_digit((unsigned char)s[i]))
            i++;
        bool is_double = false;
        if (i + 1 < p->len && s[i] == '.' && is_digit((unsigned char)s[i + 1])) {
            is_double = true;
            i++;
            while (i < p->len && is_digit((unsigned char)s[i]))
                i++;
        }
        if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < p->len && (s[j] == '+' || s[j] == '-'))
                j++;
            if (j >= p->len || !is_digit((unsigned char)s[j])) {
                fail(p, i, "exponent needs digits");
                return false;
            }
            while (j < p->len && is_digit((unsigned char)s[j]))
                j++;
            i = j;
            is_double = true;
        }
        if (is_double) {
            char buf[128];
            size_t n = i - start;
            if (n >= sizeof buf) {
                fail(p, start, "number literal too long");
                return false;
            }
            memcpy(buf, s + start, n);
            buf[n] = 0;
            errno = 0;
            char *end;
            double d = strtod(buf, &end);
            if (isinf(d)) {
                fail(p, start, "number literal out of range");
                return false;
            }
            p->tok.t = T_DOUBLE;
            p->tok.dval = d;
        } else {
            uint64_t v = 0;
            for (size_t k = start; k < i; k++) {
                unsigned dgt = (unsigned)(s[k] - '0');
                if (v > ((UINT64_C(1) << 63) - dgt) / 10) {
                    fail(p, start, "integer literal out of range");
                    return false;
                }
                v = v * 10 + dgt;
            }
            p->tok.t = T_INT;
            p->tok.ival = v;
        }
    }
    if (i < p->len && (s[i] == 'u' || s[i] == 'U') && p->tok.t == T_INT) {
        fail(p, i, "unsigned integers are not supported; use int");
        return false;
    }
    if (i < p->len && is_ident_char((unsigned char)s[i])) {
        fail(p, i, "unexpected '%c' after a number", s[i]);
        return false;
    }
    p->pos = i;
    p->tok.end = i;
    return true;
}

static const char *const reserved[] = {"as", "break", "const", "continue", "else", "for", "function", "if",
                                       "import", "let", "loop", "package", "namespace", "return", "var",
                                       "void", "while"};

/* Reads the next token into p->tok. On a lexical error sets p->failed. */
static void advance(struct parser *p)
{
    if (p->failed)
        return;
    sb_reset(&p->tok.str);
    const char *s = p->src;
    /* whitespace and // comments */
    for (;;) {
        while (p->pos < p->len && (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' ||
                                   s[p->pos] == '\r' || s[p->pos] == '\f'))
            p->pos++;
        if (p->pos + 1 < p->len && s[p->pos] == '/' && s[p->pos + 1] == '/') {
            while (p->pos < p->len && s[p->pos] != '\n')
                p->pos++;
            continue;
        }
        break;
    }
    size_t i = p->pos;
    p->tok.start = i;
    p->tok.end = i;
    if (i >= p->len) {
        p->tok.t = T_EOF;
        return;
    }
    unsigned char c = (unsigned char)s[i];
    char c1 = i + 1 < p->len ? s[i + 1] : 0;
    if (is_ident_start(c)) {
        /* raw strings r'..' and (refused) bytes b'..' */
        if ((c == 'r' || c == 'R') && (c1 == '\'' || c1 == '"')) {
            p->pos = i + 1;
            lex_string(p, i, true);
            return;
        }
        if ((c == 'b' || c == 'B') && (c1 == '\'' || c1 == '"')) {
            fail(p, i, "bytes literals are not supported");
            return;
        }
        size_t j = i;
        while (j < p->len && is_ident_char((unsigned char)s[j]))
            j++;
        size_t n = j - i;
        p->pos = j;
        p->tok.end = j;
        if (n == 4 && memcmp(s + i, "true", 4) == 0)
            p->tok.t = T_TRUE;
        else if (n == 5 && memcmp(s + i, "false", 5) == 0)
            p->tok.t = T_FALSE;
        else if (n == 4 && memcmp(s + i, "null", 4) == 0)
            p->tok.t = T_NULL;
        else if (n == 2 && memcmp(s + i, "in", 2) == 0)
            p->tok.t = T_IN;
        else {
            for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++)
                if (strlen(reserved[k]) == n && memcmp(reserved[k], s + i, n) == 0) {
                    fail(p, i, "'%s' is a reserved word in CEL", reserved[k]);
                    return;
                }
            p->tok.t = T_IDENT;
            sb_add(&p->tok.str, s + i, n);
        }
        return;
    }
    if (is_digit(c)) {
        lex_number(p, i);
        return;
    }
    if (c == '\'' || c == '"') {
        lex_string(p, i, false);
        return;
    }
    enum tok t;
    size_t n = 1;
    switch (c) {
    case '(': t = T_LPAREN; break;
    case ')': t = T_RPAREN; break;
    case '[': t = T_LBRACKET; break;
    case ']': t = T_RBRACKET; break;
    case '{': t = T_LBRACE; break;
    case '}': t = T_RBRACE; break;
    case '.': t = T_DOT; break;
    case ',': t = T_COMMA; break;
    case ':': t = T_COLON; break;
    case '?': t = T_QUESTION; break;
    case '+': t = T_PLUS; break;
    case '-': t = T_MINUS; break;
    case '*': t = T_STAR; break;
    case '/': t = T_SLASH; break;
    case '%': t = T_PERCENT; break;
    case '!':
        if (c1 == '=') {
            t = T_NE;
            n = 2;
        } else {
            t = T_NOT;
        }
        break;
    case '=':
        if (c1 != '=') {
            fail(p, i, "'=' is not an operator; use '==' to compare");
            return;
        }
        t = T_EQ;
        n = 2;
        break;
    case '<':
        t = c1 == '=' ? T_LE : T_LT;
        n = c1 == '=' ? 2 : 1;
        break;
    case '>':
        t = c1 == '=' ? T_GE : T_GT;
        n = c1 == '=' ? 2 : 1;
        break;
    case '&':
        if (c1 != '&') {
            fail(p, i, "'&' is not an operator; use '&&'");
            return;
        }
        t = T_AND;
        n = 2;
        break;
    case '|':
        if (c1 != '|') {
            fail(p, i, "'|' is not an operator; use '||'");
            return;
        }
        t = T_OR;
        n = 2;
        break;
    default:
        if (c >= 0x20 && c < 0x7f)
            fail(p, i, "unexpected character '%c'", c);
        else
            fail(p, i, "unexpected byte 0x%02x (only strings may hold non-ASCII text)", c);
        return;
    }
    p->tok.t = t;
    p->pos = i + n;
    p->tok.end = i + n;
}

static const char *tok_desc(enum tok t)
{
    switch (t) {
    case T_EOF: return "the end";
    case T_IDENT: return "a name";
    case T_INT: return "a number";
    case T_DOUBLE: return "a number";
    case T_STRING: return "a string";
    case T_LPAREN: return "'('";
    case T_RPAREN: return "')'";
    case T_LBRACKET: return "'['";
    case T_RBRACKET: return "']'";
    case T_LBRACE: return "'{'";
    case T_RBRACE: return "'}'";
    case T_DOT: return "'.'";
    case T_COMMA: return "','";
    case T_COLON: return "':'";
    case T_QUESTION: return "'?'";
    case T_PLUS: return "'+'";
    case T_MINUS: return "'-'";
    case T_STAR: return "'*'";
    case T_SLASH: return "'/'";
    case T_PERCENT: return "'%'";
    case T_NOT: return "'!'";
    case T_EQ: return "'=='";
    case T_NE: return "'!='";
    case T_LT: return "'<'";
    case T_LE: return "'<='";
    case T_GT: return "'>'";
    case T_GE: return "'>='";
    case T_AND: return "'&&'";
    case T_OR: return "'||'";
    case T_IN: return "'in'";
    case T_TRUE: return "'true'";
    case T_FALSE: return "'false'";
    case T_NULL: return "'null'";
    }
    return "?";
}

static bool expect(struct parser *p, enum tok t, const char *what)
{
    if (p->failed)
        return false;
    if (p->tok.t != t) {
        fail(p, p->tok.start, "expected %s %s, found %s", tok_desc(t), what, tok_desc(p->tok.t));
        return false;
    }
    advance(p);
    return !p->failed;
}

/* ---- nodes ---- */

static struct node *node_new(struct parser *p, node_kind kind, size_t column_at, size_t start, size_t end)
{
    struct node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->column = (int)column_at + 1;
    n->start = (uint32_t)start;
    n->end = (uint32_t)end;
    n->height = 1;
    n->cval = value_null();
    struct expr *x = p->x;
    if (x->nnodes == p->nodes_cap) {
        p->nodes_cap = p->nodes_cap ? p->nodes_cap * 2 : 32;
        x->nodes = xrealloc(x->nodes, p->nodes_cap * sizeof *x->nodes);
    }
    x->nodes[x->nnodes++] = n;
    return n;
}

/* Adds a kid and keeps the height cap: a tall tree would mean deep recursion. */
static void node_add(struct parser *p, struct node *n, struct node *kid)
{
    n->kids = xrealloc(n->kids, (size_t)(n->nkids + 1) * sizeof *n->kids);
    n->kids[n->nkids++] = kid;
    if (kid->height + 1 > n->height) {
        n->height = kid->height + 1;
        if (n->height > EXPR_MAX_DEPTH)
            fail(p, n->column - 1, "expression nested too deeply (more than %d levels)", EXPR_MAX_DEPTH);
    }
    if (kid->start < n->start)
        n->start = kid->start;
    if (kid->end > n->end)
        n->end = kid->end;
}

static struct node *node_const(struct parser *p, value v, size_t start, size_t end)
{
    struct node *n = node_new(p, N_CONST, start, start, end);
    n->cval = v;
    return n;
}

static struct node *parse_expr(struct parser *p);

/* ---- functions ---- */

#define TM(t) (1u << (t))
#define TM_STRINGISH (TM(EXPR_T_STRING) | TM(EXPR_T_TIMESTAMP))

struct fninfo {
    const char *name;
    int fn;
    bool global, method;
    int min_args, max_args; /* not counting a method's receiver */
    unsigned recv;          /* types the first operand (receiver or first argument) may have */
};

static const struct fninfo functions[] = {
    {"size", F_SIZE, true, true, 0, 0, TM_STRINGISH | TM(EXPR_T_LIST) | TM(EXPR_T_MAP)},
    {"int", F_INT, true, false, 1, 1, TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM_STRINGISH},
    {"double", F_DOUBLE, true, false, 1, 1, TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM_STRINGISH},
    {"string", F_STRING, true, false, 1, 1,
     TM(EXPR_T_BOOL) | TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM_STRINGISH},
    {"now", F_NOW, true, false, 0, 0, 0},
    {"put", F_PUT, true, false, 3, 3, TM(EXPR_T_MAP)},
    {"remove", F_REMOVE, true, false, 2, 2, TM(EXPR_T_MAP) | TM(EXPR_T_LIST)},
    {"contains", F_CONTAINS, false, true, 1, 1, TM_STRINGISH},
    {"startsWith", F_STARTS_WITH, false, true, 1, 1, TM_STRINGISH},
    {"endsWith", F_ENDS_WITH, false, true, 1, 1, TM_STRINGISH},
    {"lowerAscii", F_LOWER_ASCII, false, true, 0, 0, TM_STRINGISH},
    {"upperAscii", F_UPPER_ASCII, false, true, 0, 0, TM_STRINGISH},
    {"trim", F_TRIM, false, true, 0, 0, TM_STRINGISH},
    {"substring", F_SUBSTRING, false, true, 1, 2, TM_STRINGISH},
    {"replace", F_REPLACE, false, true, 2, 2, TM_STRINGISH},
    {"split", F_SPLIT, false, true, 1, 1, TM_STRINGISH},
};
#define NFUNCTIONS (sizeof functions / sizeof functions[0])

static const char *const macro_names[] = {"all", "exists", "exists_one", "map", "filter"};

const char *expr_fn_name(int fn)
{
    for (size_t i = 0; i < NFUNCTIONS; i++)
        if (functions[i].fn == fn)
            return functions[i].name;
    return "?";
}

static const struct fninfo *fn_find(const char *name)
{
    for (size_t i = 0; i < NFUNCTIONS; i++)
        if (strcmp(functions[i].name, name) == 0)
            return &functions[i];
    return NULL;
}

/* "unknown function 'sise' (did you mean 'size'?)" */
static void fail_unknown_fn(struct parser *p, size_t at, const char *name, bool method)
{
    const char *cands[NFUNCTIONS + 6];
    size_t nc = 0;
    for (size_t i = 0; i < NFUNCTIONS; i++)
        if (method ? functions[i].method : functions[i].global)
            cands[nc++] = functions[i].name;
    if (method)
        for (size_t i = 0; i < sizeof macro_names / sizeof macro_names[0]; i++)
            cands[nc++] = macro_names[i];
    else
        cands[nc++] = "has";
    const char *dym = did_you_mean(name, cands, nc);
    const struct fninfo *other = fn_find(name);
    if (other && method)
        fail(p, at, "%s() is a function, not a method: write %s(x)", name, name);
    else if (other && !method)
        fail(p, at, "%s() is a method, not a function: write x.%s(...)", name, name);
    else if (dym)
        fail(p, at, "unknown %s '%s' (did you mean '%s'?)", method ? "method" : "function", name, dym);
    else
        fail(p, at, "unknown %s '%s'", method ? "method" : "function", name);
}

/* Parses "( [list] )" after a function name into n's kids; p->tok is at '('. */
static void parse_args(struct parser *p, struct node *n)
{
    if (!expect(p, T_LPAREN, "to start the arguments"))
        return;
    if (p->tok.t != T_RPAREN) {
        for (;;) {
            struct node *a = parse_expr(p);
            if (!a)
                return;
            node_add(p, n, a);
            if (p->tok.t != T_COMMA)
                break;
            advance(p);
        }
    }
    n->end = (uint32_t)p->tok.end;
    expect(p, T_RPAREN, "to close the arguments");
}

static void check_arity(struct parser *p, const struct node *n, const struct fninfo *f, size_t at)
{
    int got = n->nkids - (n->method ? 1 : 0);
    int lo = f->min_args, hi = f->max_args;
    if (f->fn == F_SIZE && !n->method)
        lo = hi = 1; /* size(x) and x.size() */
    if (got >= lo && got <= hi)
        return;
    if (lo == hi)
        fail(p, at, "%s() takes %d argument%s, got %d", f->name, lo, lo == 1 ? "" : "s", got);
    else
        fail(p, at, "%s() takes %d to %d arguments, got %d", f->name, lo, hi, got);
}

/* ---- names ---- */

static void root_list(unsigned allowed, strbuf *sb)
{
    int cnt = 0, total = 0;
    for (int r = 0; r < ROOT_COUNT; r++)
        if (allowed & ROOT_BIT(r))
            total++;
    for (int r = 0; r < ROOT_COUNT; r++) {
        if (!(allowed & ROOT_BIT(r)))
            continue;
        if (cnt)
            sb_adds(sb, cnt == total - 1 ? " or " : ", ");
        sb_adds(sb, root_names[r]);
        cnt++;
    }
}

static struct node *resolve_name(struct parser *p, const char *name, size_t len, size_t start, size_t end)
{
    for (int i = p->nlocals - 1; i >= 0; i--) {
        if (p->locals[i].len == len && memcmp(p->locals[i].name, name, len) == 0) {
            struct node *n = node_new(p, N_LOCAL, start, start, end);
            n->slot = i;
            return n;
        }
    }
    for (int r = 0; r < ROOT_COUNT; r++) {
        if (strlen(root_names[r]) != len || memcmp(root_names[r], name, len) != 0)
            continue;
        if (p->env && !(p->env->allowed & ROOT_BIT(r))) {
            strbuf sb;
            sb_init(&sb);
            unsigned roots = p->env->allowed & ((1u << ROOT_COUNT) - 1);
            if (roots) {
                sb_adds(&sb, "; use ");
                root_list(roots, &sb);
            }
            fail(p, start, "'%s' is not available in %s%s", root_names[r],
                 p->env->slot ? p->env->slot : "this expression", sb.buf ? sb.buf : "");
            sb_done(&sb);
            return NULL;
        }
        struct node *n = node_new(p, N_ROOT, start, start, end);
        n->slot = r;
        return n;
    }
    const char *cands[ROOT_COUNT + EXPR_MAX_DEPTH];
    size_t nc = 0;
    for (int r = 0; r < ROOT_COUNT; r++)
        if (!p->env || (p->env->allowed & ROOT_BIT(r)))
            cands[nc++] = root_names[r];
    const char *dym = did_you_mean(name, cands, nc);
    if (dym) {
        fail(p, start, "unknown name '%s' (did you mean '%s'?)", name, dym);
    } else {
        strbuf sb;
        sb_init(&sb);
        root_list(p->env ? p->env->allowed : (1u << ROOT_COUNT) - 1, &sb);
        fail(p, start, "unknown name '%s'%s%s", name, sb.len ? "; expressions start from " : "",
             sb.buf ? sb.buf : "");
        sb_done(&sb);
    }
    return NULL;
}

/* An unknown field of a root whose schema is known: "unknown field 'balanse' of
 * state (did you mean 'balance'?)". Sets n->type from the schema when it knows it. */
static void check_root_field(struct parser *p, struct node *n, const struct node *base, const char *field,
                             size_t at)
{
    if (!p->env || base->kind != N_ROOT)
        return;
    const struct expr_schema *sc = p->env->schema[base->slot];
    if (!sc || !sc->fields)
        return;
    for (size_t i = 0; i < sc->nfields; i++) {
        if (strcmp(sc->fields[i], field) == 0) {
            if (sc->types)
                n->type = sc->types[i];
            return;
        }
    }
    const char *dym = did_you_mean(field, sc->fields, sc->nfields);
    if (dym)
        fail(p, at, "unknown field '%s' of %s (did you mean '%s'?)", field, root_names[base->slot], dym);
    else
        fail(p, at, "unknown field '%s' of %s", field, root_names[base->slot]);
}

/* ---- grammar ---- */

static struct node *parse_macro(struct parser *p, struct node *range, int m, size_t name_at, size_t name_end)
{
    struct node *n = node_new(p, N_MACRO, name_at, range->start, name_end);
    n->op = m;
    node_add(p, n, range);
    if (!expect(p, T_LPAREN, "after the macro's name"))
        return NULL;
    if (p->tok.t != T_IDENT) {
        fail(p, p->tok.start, "%s() needs a variable name as its first argument, like l.%s(x, ...)",
             macro_names[m], macro_names[m]);
        return NULL;
    }
    if (p->nlocals >= EXPR_MAX_DEPTH) {
        fail(p, p->tok.start, "macros nested too deeply");
        return NULL;
    }
    size_t var_at = p->tok.start; /* the variable may shadow a root, as in CEL */
    char *var = xstrndup(p->tok.str.buf, p->tok.str.len);
    size_t varlen = p->tok.str.len;
    advance(p);
    if (p->tok.t != T_COMMA) {
        free(var);
        fail(p, p->failed ? var_at : p->tok.start,
             "%s() needs a variable name as its first argument, like l.%s(x, ...)", macro_names[m],
             macro_names[m]);
        return NULL;
    }
    advance(p);
    p->locals[p->nlocals].name = var;
    p->locals[p->nlocals].len = varlen;
    n->slot = p->nlocals++;
    int nbody = 0;
    for (;;) {
        struct node *b = parse_expr(p);
        if (!b)
            break;
        node_add(p, n, b);
        nbody++;
        if (p->tok.t != T_COMMA)
            break;
        advance(p);
    }
    p->nlocals--;
    free(var);
    if (p->failed)
        return NULL;
    if (!(nbody == 1 || (nbody == 2 && m == M_MAP))) {
        if (m == M_MAP)
            fail(p, name_at, "map() takes 2 or 3 arguments, got %d", nbody + 1);
        else
            fail(p, name_at, "%s() takes 2 arguments, got %d", macro_names[m], nbody + 1);
        return NULL;
    }
    n->end = (uint32_t)p->tok.end;
    if (!expect(p, T_RPAREN, "to close the macro"))
        return NULL;
    return n;
}

static struct node *parse_primary(struct parser *p)
{
    if (p->failed)
        return NULL;
    struct token *t = &p->tok;
    size_t start = t->start, end = t->end;
    switch (t->t) {
    case T_INT: {
        uint64_t v = t->ival;
        struct node *n = node_const(p, value_int(v > (uint64_t)INT64_MAX ? INT64_MIN : (int64_t)v), start, end);
        n->big_literal = v > (uint64_t)INT64_MAX;
        advance(p);
        return n;
    }
    case T_DOUBLE: {
        struct node *n = node_const(p, value_double(t->dval), start, end);
        advance(p);
        return n;
    }
    case T_STRING: {
        struct node *n = node_const(p, value_string(t->str.buf ? t->str.buf : "", t->str.len), start, end);
        advance(p);
        return n;
    }
    case T_TRUE:
    case T_FALSE: {
        struct node *n = node_const(p, value_bool(t->t == T_TRUE), start, end);
        advance(p);
        return n;
    }
    case T_NULL: {
        struct node *n = node_const(p, value_null(), start, end);
        advance(p);
        return n;
    }
    case T_LPAREN: {
        advance(p);
        struct node *n = parse_expr(p);
        if (!n)
            return NULL;
        size_t close = p->tok.end;
        if (!expect(p, T_RPAREN, "to close '('"))
            return NULL;
        /* the parenthesised span, so explanations quote what was written */
        if (start < n->start)
            n->start = (uint32_t)start;
        if (close > n->end)
            n->end = (uint32_t)close;
        return n;
    }
    case T_LBRACKET: {
        struct node *n = node_new(p, N_LIST, start, start, end);
        advance(p);
        while (p->tok.t != T_RBRACKET && !p->failed) {
            struct node *e = parse_expr(p);
            if (!e)
                return NULL;
            node_add(p, n, e);
            if (p->tok.t != T_COMMA)
                break;
            advance(p);
        }
        n->end = (uint32_t)p->tok.end;
        if (!expect(p, T_RBRACKET, "to close the list"))
            return NULL;
        return n;
    }
    case T_LBRACE: {
        struct node *n = node_new(p, N_MAP, start, start, end);
        advance(p);
        while (p->tok.t != T_RBRACE && !p->failed) {
            struct node *k = parse_expr(p);
            if (!k)
                return NULL;
            if (!expect(p, T_COLON, "between a key and its value"))
                return NULL;
            struct node *v = parse_expr(p);
            if (!v)
                return NULL;
            node_add(p, n, k);
            node_add(p, n, v);
            if (p->tok.t != T_COMMA)
                break;
            advance(p);
        }
        n->end = (uint32_t)p->tok.end;
        if (!expect(p, T_RBRACE, "to close the map"))
            return NULL;
        return n;
    }
    case T_IDENT: {
        char *name = xstrndup(t->str.buf, t->str.len);
        size_t len = t->str.len;
        advance(p);
        if (p->failed) {
            free(name);
            return NULL;
        }
        if (p->tok.t != T_LPAREN) {
            struct node *n = resolve_name(p, name, len, start, end);
            free(name);
            return n;
        }
        /* a global function call */
        if (strcmp(name, "has") == 0) {
            free(name);
            struct node *n = node_new(p, N_HAS, start, start, end);
            advance(p);
            struct node *arg = parse_expr(p);
            if (!arg)
                return NULL;
            if (arg->kind != N_SELECT) {
                fail(p, arg->start, "has() needs a field selection, like has(state.field)");
                return NULL;
            }
            n->end = (uint32_t)p->tok.end;
            if (p->tok.t == T_COMMA) {
                fail(p, start, "has() takes 1 argument");
                return NULL;
            }
            if (!expect(p, T_RPAREN, "to close has("))
                return NULL;
            /* has(a.f) tests a's field f: take over the selection's operand and name */
            n->name = arg->name;
            n->namelen = arg->namelen;
            arg->name = NULL;
            n->type = EXPR_T_BOOL;
            node_add(p, n, arg->kids[0]);
            n->column = arg->column;
            return n;
        }
        const struct fninfo *f = fn_find(name);
        if (!f || !f->global) {
            fail_unknown_fn(p, start, name, false);
            free(name);
            return NULL;
        }
        free(name);
        struct node *n = node_new(p, N_CALL, start, start, end);
        n->op = f->fn;
        if (f->fn == F_NOW && p->env && !(p->env->allowed & EXPR_ALLOW_NOW)) {
            fail(p, start, "now() is only allowed in emit");
            return NULL;
        }
        parse_args(p, n);
        if (p->failed)
            return NULL;
        check_arity(p, n, f, start);
        return p->failed ? NULL : n;
    }
    case T_EOF:
        fail(p, start, "expression ends too early");
        return NULL;
    default:
        fail(p, start, "expected a value, found %s", tok_desc(t->t));
        return NULL;
    }
}

static struct node *parse_member(struct parser *p)
{
    struct node *n = parse_primary(p);
    while (n && !p->failed) {
        if (p->tok.t == T_DOT) {
            advance(p);
            if (p->tok.t != T_IDENT) {
                fail(p, p->tok.start, "expected a field or method name after '.'");
                return NULL;
            }
            size_t at = p->tok.start, end = p->tok.end;
            char *name = xstrndup(p->tok.str.buf, p->tok.str.len);
            size_t len = p->tok.str.len;
            advance(p);
            if (p->failed) {
                free(name);
                return NULL;
            }
            if (n->big_literal) {
                free(name);
                fail(p, n->start, "integer literal out of range");
                return NULL;
            }
            if (p->tok.t == T_LPAREN) {
                int m = -1;
                for (int k = 0; k < (int)(sizeof macro_names / sizeof macro_names[0]); k++)
                    if (strcmp(name, macro_names[k]) == 0)
                        m = k;
                if (m >= 0) {
                    free(name);
                    n = parse_macro(p, n, m, at, end);
                    continue;
                }
                const struct fninfo *f = fn_find(name);
                if (!f || !f->method) {
                    fail_unknown_fn(p, at, name, true);
                    free(name);
                    return NULL;
                }
                free(name);
                struct node *c = node_new(p, N_CALL, at, n->start, end);
                c->op = f->fn;
                c->method = true;
                node_add(p, c, n);
                parse_args(p, c);
                if (p->failed)
                    return NULL;
                check_arity(p, c, f, at);
                n = c;
                continue;
            }
            struct node *s = node_new(p, N_SELECT, at, n->start, end);
            s->name = name;
            s->namelen = len;
            node_add(p, s, n);
            check_root_field(p, s, n, name, at);
            n = s;
        } else if (p->tok.t == T_LBRACKET) {
            size_t at = p->tok.start;
            if (n->big_literal) {
                fail(p, n->start, "integer literal out of range");
                return NULL;
            }
            advance(p);
            struct node *k = parse_expr(p);
            if (!k)
                return NULL;
            struct node *ix = node_new(p, N_INDEX, at, n->start, p->tok.end);
            node_add(p, ix, n);
            node_add(p, ix, k);
            ix->end = (uint32_t)p->tok.end;
            if (!expect(p, T_RBRACKET, "to close '['"))
                return NULL;
            if (k->kind == N_CONST && k->cval.type == V_STRING && memchr(value_str(&k->cval), 0, value_strlen(&k->cval)) == NULL)
                check_root_field(p, ix, n, value_str(&k->cval), k->start);
            n = ix;
        } else {
            break;
        }
    }
    return p->failed ? NULL : n;
}

static struct node *parse_unary(struct parser *p)
{
    size_t ops[EXPR_MAX_DEPTH + 1];
    enum tok kinds[EXPR_MAX_DEPTH + 1];
    int nops = 0;
    while (p->tok.t == T_NOT || p->tok.t == T_MINUS) {
        if (nops == EXPR_MAX_DEPTH) {
            fail(p, p->tok.start, "expression nested too deeply (more than %d levels)", EXPR_MAX_DEPTH);
            return NULL;
        }
        ops[nops] = p->tok.start;
        kinds[nops++] = p->tok.t;
        advance(p);
    }
    if (p->failed)
        return NULL;
    struct node *n = parse_member(p);
    if (!n)
        return NULL;
    if (n->big_literal) {
        /* -9223372036854775808 is INT64_MIN; the literal alone does not fit */
        if (nops == 0 || kinds[nops - 1] != T_MINUS) {
            fail(p, n->start, "integer literal out of range");
            return NULL;
        }
        n->big_literal = false;
        n->start = (uint32_t)ops[nops - 1];
        n->column = (int)ops[nops - 1] + 1;
        nops--;
    }
    while (nops > 0) {
        nops--;
        struct node *u = node_new(p, kinds[nops] == T_NOT ? N_NOT : N_NEG, ops[nops], ops[nops], n->end);
        node_add(p, u, n);
        n = u;
    }
    return p->failed ? NULL : n;
}

static struct node *binary(struct parser *p, node_kind kind, int op, size_t at, struct node *l, struct node *r)
{
    struct node *n = node_new(p, kind, at, l->start, r->end);
    n->op = op;
    node_add(p, n, l);
    node_add(p, n, r);
    return p->failed ? NULL : n;
}

static struct node *parse_mul(struct parser *p)
{
    struct node *l = parse_unary(p);
    while (l && (p->tok.t == T_STAR || p->tok.t == T_SLASH || p->tok.t == T_PERCENT)) {
        int op = p->tok.t == T_STAR ? OP_MUL : p->tok.t == T_SLASH ? OP_DIV : OP_MOD;
        size_t at = p->tok.start;
        advance(p);
        struct node *r = parse_unary(p);
        if (!r)
            return NULL;
        l = binary(p, N_BIN, op, at, l, r);
    }
    return l;
}

static struct node *parse_add(struct parser *p)
{
    struct node *l = parse_mul(p);
    while (l && (p->tok.t == T_PLUS || p->tok.t == T_MINUS)) {
        int op = p->tok.t == T_PLUS ? OP_ADD : OP_SUB;
        size_t at = p->tok.start;
        advance(p);
        struct node *r = parse_mul(p);
        if (!r)
            return NULL;
        l = binary(p, N_BIN, op, at, l, r);
    }
    return l;
}

static int relop(enum tok t)
{
    switch (t) {
    case T_EQ: return OP_EQ;
    case T_NE: return OP_NE;
    case T_LT: return OP_LT;
    case T_LE: return OP_LE;
    case T_GT: return OP_GT;
    case T_GE: return OP_GE;
    case T_IN: return OP_IN;
    default: return -1;
    }
}

static struct node *parse_rel(struct parser *p)
{
    struct node *l = parse_add(p);
    int op = l ? relop(p->tok.t) : -1;
    if (op < 0)
        return l;
    size_t at = p->tok.start;
    advance(p);
    struct node *r = parse_add(p);
    if (!r)
        return NULL;
    l = binary(p, N_BIN, op, at, l, r);
    if (l && relop(p->tok.t) >= 0) {
        fail(p, p->tok.start, "comparisons do not chain; add parentheses, or use &&");
        return NULL;
    }
    return l;
}

static struct node *parse_and(struct parser *p)
{
    struct node *l = parse_rel(p);
    while (l && p->tok.t == T_AND) {
        size_t at = p->tok.start;
        advance(p);
        struct node *r = parse_rel(p);
        if (!r)
            return NULL;
        l = binary(p, N_AND, 0, at, l, r);
    }
    return l;
}

static struct node *parse_or(struct parser *p)
{
    struct node *l = parse_and(p);
    while (l && p->tok.t == T_OR) {
        size_t at = p->tok.start;
        advance(p);
        struct node *r = parse_and(p);
        if (!r)
            return NULL;
        l = binary(p, N_OR, 0, at, l, r);
    }
    return l;
}

static struct node *parse_expr(struct parser *p)
{
    if (p->failed)
        return NULL;
    if (++p->depth > EXPR_MAX_DEPTH) {
        fail(p, p->tok.start, "expression nested too deeply (more than %d levels)", EXPR_MAX_DEPTH);
        return NULL;
    }
    struct node *c = parse_or(p);
    if (c && p->tok.t == T_QUESTION) {
        size_t at = p->tok.start;
        advance(p);
        struct node *a = parse_or(p);
        if (!a || !expect(p, T_COLON, "in '? :'")) {
            p->depth--;
            return NULL;
        }
        struct node *b = parse_expr(p);
        if (!b) {
            p->depth--;
            return NULL;
        }
        struct node *n = node_new(p, N_COND, at, c->start, b->end);
        node_add(p, n, c);
        node_add(p, n, a);
        node_add(p, n, b);
        c = n;
    }
    p->depth--;
    return p->failed ? NULL : c;
}

/* ---- the compile step: static types, checks, folding ---- */

const char *expr_type_name(expr_type t)
{
    switch (t) {
    case EXPR_T_ANY: return "dyn";
    case EXPR_T_NULL: return "null";
    case EXPR_T_BOOL: return "bool";
    case EXPR_T_INT: return "int";
    case EXPR_T_DOUBLE: return "double";
    case EXPR_T_STRING: return "string";
    case EXPR_T_TIMESTAMP: return "timestamp";
    case EXPR_T_LIST: return "list";
    case EXPR_T_MAP: return "map";
    }
    return "?";
}

expr_type expr_type_of(const value *v)
{
    switch (v->type) {
    case V_NULL: return EXPR_T_NULL;
    case V_BOOL: return EXPR_T_BOOL;
    case V_INT: return EXPR_T_INT;
    case V_DOUBLE: return EXPR_T_DOUBLE;
    case V_STRING: return EXPR_T_STRING;
    case V_LIST: return EXPR_T_LIST;
    case V_MAP: return EXPR_T_MAP;
    }
    return EXPR_T_ANY;
}

/* A timestamp is ISO text at run time: a string for every operator. */
static expr_type norm(expr_type t) { return t == EXPR_T_TIMESTAMP ? EXPR_T_STRING : t; }

static const char *const op_text[] = {"+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in"};

/* The types each operator accepts (both operands the same type). */
static unsigned op_types(int op)
{
    switch (op) {
    case OP_ADD: return TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM(EXPR_T_STRING) | TM(EXPR_T_LIST);
    case OP_SUB:
    case OP_MUL:
    case OP_DIV: return TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE);
    case OP_MOD: return TM(EXPR_T_INT);
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: return TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM(EXPR_T_STRING) | TM(EXPR_T_BOOL);
    default: return ~0u;
    }
}

static void check_bool_operand(struct parser *p, const struct node *n, const struct node *k, const char *what)
{
    expr_type t = norm(k->type);
    if (t != EXPR_T_ANY && t != EXPR_T_BOOL)
        fail(p, (size_t)n->column - 1, "%s needs a bool, got %s", what, expr_type_name(k->type));
}

static void type_bin(struct parser *p, struct node *n)
{
    expr_type a = norm(n->kids[0]->type), b = norm(n->kids[1]->type);
    int op = n->op;
    size_t at = (size_t)n->column - 1;
    if (op == OP_EQ || op == OP_NE) {
        n->type = EXPR_T_BOOL;
        return;
    }
    if (op == OP_IN) {
        if (b != EXPR_T_ANY && b != EXPR_T_LIST && b != EXPR_T_MAP)
            fail(p, at, "no such overload: %s in %s", expr_type_name(a), expr_type_name(b));
        n->type = EXPR_T_BOOL;
        return;
    }
    unsigned ok = op_types(op);
    bool cmp = op >= OP_LT;
    if ((a != EXPR_T_ANY && !(ok & TM(a))) || (b != EXPR_T_ANY && !(ok & TM(b))) ||
        (a != EXPR_T_ANY && b != EXPR_T_ANY && a != b)) {
        fail(p, at, "no such overload: %s %s %s", expr_type_name(a), op_text[op], expr_type_name(b));
        return;
    }
    if (cmp)
        n->type = EXPR_T_BOOL;
    else if (a != EXPR_T_ANY)
        n->type = a;
    else
        n->type = b;
}

static void type_call(struct parser *p, struct node *n)
{
    const struct fninfo *f = NULL;
    for (size_t i = 0; i < NFUNCTIONS; i++)
        if (functions[i].fn == n->op)
            f = &functions[i];
    expr_type r = n->nkids ? n->kids[0]->type : EXPR_T_ANY;
    if (n->nkids && r != EXPR_T_ANY && !(f->recv & TM(r))) {
        if (n->method)
            fail(p, (size_t)n->column - 1, "no such overload: %s.%s()", expr_type_name(r), f->name);
        else
            fail(p, (size_t)n->column - 1, "no such overload: %s(%s%s)", f->name, expr_type_name(r),
                 n->nkids > 1 ? ", ..." : "");
        return;
    }
    /* argument types of the string methods and of put's key */
    for (int i = 1; i < n->nkids; i++) {
        expr_type t = norm(n->kids[i]->type);
        if (t == EXPR_T_ANY)
            continue;
        expr_type want = EXPR_T_ANY;
        switch (n->op) {
        case F_CONTAINS:
        case F_STARTS_WITH:
        case F_ENDS_WITH:
        case F_REPLACE:
        case F_SPLIT: want = EXPR_T_STRING; break;
        case F_SUBSTRING: want = EXPR_T_INT; break;
        case F_PUT:
            if (i == 1)
                want = EXPR_T_STRING;
            break;
        default: break;
        }
        if (want != EXPR_T_ANY && t != want) {
            fail(p, n->kids[i]->start, "%s() needs %s %s here, got %s", f->name,
                 want == EXPR_T_INT ? "an" : "a", expr_type_name(want), expr_type_name(t));
            return;
        }
    }
    switch (n->op) {
    case F_SIZE: n->type = EXPR_T_INT; break;
    case F_INT: n->type = EXPR_T_INT; break;
    case F_DOUBLE: n->type = EXPR_T_DOUBLE; break;
    case F_STRING: n->type = EXPR_T_STRING; break;
    case F_NOW: n->type = EXPR_T_TIMESTAMP; break;
    case F_PUT: n->type = EXPR_T_MAP; break;
    case F_REMOVE: n->type = r == EXPR_T_LIST || r == EXPR_T_MAP ? r : EXPR_T_ANY; break;
    case F_CONTAINS:
    case F_STARTS_WITH:
    case F_ENDS_WITH: n->type = EXPR_T_BOOL; break;
    case F_SPLIT: n->type = EXPR_T_LIST; break;
    default: n->type = EXPR_T_STRING; break;
    }
}

/* Bottom-up: the kids' types are known when their parent is typed, and a parent
 * whose kids all folded to constants may fold too. The recursion is bounded by
 * the tree's height cap. */
static void compile_node(struct parser *p, struct node *n)
{
    for (int i = 0; i < n->nkids && !p->failed; i++)
        compile_node(p, n->kids[i]);
    if (p->failed)
        return;
    bool foldable = true;
    switch (n->kind) {
    case N_CONST:
        n->type = expr_type_of(&n->cval);
        n->borrow = true;
        return;
    case N_ROOT:
        n->type = n->slot == ROOT_RECORD ? EXPR_T_ANY : EXPR_T_MAP;
        n->borrow = true;
        return;
    case N_LOCAL:
        n->type = EXPR_T_ANY;
        n->borrow = true;
        return;
    case N_LIST:
        n->type = EXPR_T_LIST;
        break;
    case N_MAP:
        n->type = EXPR_T_MAP;
        for (int i = 0; i < n->nkids; i += 2) {
            expr_type t = norm(n->kids[i]->type);
            if (t != EXPR_T_ANY && t != EXPR_T_STRING) {
                fail(p, n->kids[i]->start, "map keys must be strings, got %s", expr_type_name(t));
                return;
            }
        }
        break;
    case N_SELECT:
    case N_HAS: {
        expr_type t = n->kids[0]->type;
        if (t != EXPR_T_ANY && t != EXPR_T_MAP) {
            fail(p, (size_t)n->column - 1, "cannot select field '%s' of %s", n->name, expr_type_name(t));
            return;
        }
        if (n->kind == N_HAS)
            n->type = EXPR_T_BOOL;
        break;
    }
    case N_INDEX: {
        expr_type t = norm(n->kids[0]->type), k = norm(n->kids[1]->type);
        if ((t == EXPR_T_LIST && k != EXPR_T_ANY && k != EXPR_T_INT) ||
            (t == EXPR_T_MAP && k != EXPR_T_ANY && k != EXPR_T_STRING) ||
            (t != EXPR_T_ANY && t != EXPR_T_LIST && t != EXPR_T_MAP)) {
            fail(p, (size_t)n->column - 1, "no such overload: %s[%s]", expr_type_name(t), expr_type_name(k));
            return;
        }
        break;
    }
    case N_NOT:
        check_bool_operand(p, n, n->kids[0], "'!'");
        n->type = EXPR_T_BOOL;
        break;
    case N_NEG: {
        expr_type t = n->kids[0]->type;
        if (t != EXPR_T_ANY && t != EXPR_T_INT && t != EXPR_T_DOUBLE) {
            fail(p, (size_t)n->column - 1, "no such overload: -%s", expr_type_name(t));
            return;
        }
        n->type = t;
        break;
    }
    case N_BIN:
        type_bin(p, n);
        break;
    case N_AND:
    case N_OR:
        check_bool_operand(p, n, n->kids[0], n->kind == N_AND ? "'&&'" : "'||'");
        check_bool_operand(p, n, n->kids[1], n->kind == N_AND ? "'&&'" : "'||'");
        n->type = EXPR_T_BOOL;
        break;
    case N_COND:
        check_bool_operand(p, n, n->kids[0], "the condition of '? :'");
        n->type = n->kids[1]->type == n->kids[2]->type ? n->kids[1]->type : EXPR_T_ANY;
        break;
    case N_CALL:
        type_call(p, n);
        if (n->op == F_NOW)
            return; /* the clock is not a constant */
        break;
    case N_MACRO: {
        expr_type t = n->kids[0]->type;
        if (t != EXPR_T_ANY && t != EXPR_T_LIST && t != EXPR_T_MAP) {
            fail(p, (size_t)n->column - 1, "%s() ranges over a list or a map, not %s", macro_names[n->op],
                 expr_type_name(t));
            return;
        }
        if (n->op != M_MAP || n->nkids == 3)
            check_bool_operand(p, n, n->kids[1], n->op == M_MAP ? "map()'s filter" : "the macro's predicate");
        n->type = n->op == M_MAP || n->op == M_FILTER ? EXPR_T_LIST : EXPR_T_BOOL;
        foldable = false; /* its body refers to the variable */
        break;
    }
    }
    if (p->failed)
        return;
    if (n->kind == N_SELECT)
        n->borrow = n->kids[0]->borrow;
    else if (n->kind == N_INDEX)
        n->borrow = n->kids[0]->borrow && n->kids[1]->borrow;
    if (!foldable)
        return;
    for (int i = 0; i < n->nkids; i++)
        if (n->kids[i]->kind != N_CONST)
            return;
    value v;
    if (!expr_fold(n, &v))
        return; /* left for run time, where the error is reported in context */
    for (int i = 0; i < n->nkids; i++) {
        value_free(n->kids[i]->cval);
        n->kids[i]->cval = value_null();
    }
    free(n->kids);
    n->kids = NULL;
    n->nkids = 0;
    free(n->name);
    n->name = NULL;
    n->kind = N_CONST;
    n->cval = v;
    n->type = expr_type_of(&v);
    n->borrow = true;
}

expr *expr_compile(const char *src, size_t len, const struct expr_env *env, struct expr_error *ee)
{
    struct expr_error dummy;
    if (!ee)
        ee = &dummy;
    if (!src) {
        src = "";
        len = 0;
    }
    ee->column = 0;
    ee->msg[0] = 0;
    if (len > EXPR_MAX_LENGTH) {
        ee->column = 1;
        snprintf(ee->msg, sizeof ee->msg, "expression too long (%zu bytes; at most %d)", len, EXPR_MAX_LENGTH);
        return NULL;
    }
    struct expr *x = xcalloc(1, sizeof *x);
    x->src = xstrndup(src, len);
    x->len = len;
    struct parser p;
    memset(&p, 0, sizeof p);
    p.src = x->src;
    p.len = len;
    p.env = env;
    p.ee = ee;
    p.x = x;
    sb_init(&p.tok.str);
    /* NUL bytes would make the copy above shorter than len */
    if (memchr(src, 0, len)) {
        fail(&p, (size_t)((const char *)memchr(src, 0, len) - src), "unexpected NUL byte");
    } else {
        advance(&p);
        if (!p.failed && p.tok.t == T_EOF)
            fail(&p, 0, "empty expression");
        struct node *root = parse_expr(&p);
        if (root && !p.failed && p.tok.t != T_EOF)
            fail(&p, p.tok.start, "unexpected %s after the expression", tok_desc(p.tok.t));
        if (!p.failed) {
            compile_node(&p, root);
            x->root = root;
        }
    }
    sb_done(&p.tok.str);
    if (p.failed) {
        expr_free(x);
        return NULL;
    }
    return x;
}

void expr_free(expr *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nnodes; i++) {
        struct node *n = x->nodes[i];
        value_free(n->cval);
        free(n->kids);
        free(n->name);
        free(n);
    }
    free(x->nodes);
    free(x->src);
    free(x);
}

const char *expr_source(const expr *x) { return x->src; }

bool expr_uses_root(const expr *x, enum expr_root r)
{
    /* Every node ever made is listed, folded-away ones too: a conservative answer. */
    for (size_t i = 0; i < x->nnodes; i++)
        if (x->nodes[i]->kind == N_ROOT && x->nodes[i]->slot == (int)r)
            return true;
    return false;
}

expr_type expr_result_type(const expr *x) { return x->root->type; }
