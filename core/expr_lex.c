/* expr_lex.c: the expression language's lexer (expr_lex.h): CEL's tokens from a
 * byte buffer with an explicit length: names and keywords (reserved words are
 * refused, except as a name after '.'), int and double literals (range-checked
 * here, so the parser never sees a number that does not fit), and string
 * literals in all of CEL's forms (quotes, triple quotes, raw strings, escapes),
 * decoded to UTF-8 with every byte checked (core/utf8.h). Its own file because
 * it is the one part of the front end that reads bytes; the parser above it
 * only sees tokens. */
#include "expr_lex.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Records a lexical error (the first error of the compilation wins). */
static void __attribute__((format(printf, 3, 4)))
fail(struct expr_lexer *p, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    expr_vfail(p->err, at, fmt, ap);
    va_end(ap);
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}
static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}
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

static bool lex_string(struct expr_lexer *p, size_t start, bool raw)
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
        case 'a':
            sb_addc(sb, '\a');
            continue;
        case 'b':
            sb_addc(sb, '\b');
            continue;
        case 'f':
            sb_addc(sb, '\f');
            continue;
        case 'n':
            sb_addc(sb, '\n');
            continue;
        case 'r':
            sb_addc(sb, '\r');
            continue;
        case 't':
            sb_addc(sb, '\t');
            continue;
        case 'v':
            sb_addc(sb, '\v');
            continue;
        case '\\':
        case '\'':
        case '"':
        case '`':
        case '?':
            sb_addc(sb, e);
            continue;
        case 'x':
        case 'X':
            ndig = 2;
            break;
        case 'u':
            ndig = 4;
            break;
        case 'U':
            ndig = 8;
            break;
        default:
            if (e >= '0' && e <= '3') {
                if (i + 1 < p->len && s[i] >= '0' && s[i] <= '7' && s[i + 1] >= '0' &&
                    s[i + 1] <= '7') {
                    cp = (uint32_t)((e - '0') * 64 + (s[i] - '0') * 8 + (s[i + 1] - '0'));
                    i += 2;
                    utf8_append(sb, cp);
                    continue;
                }
                fail(p, esc, "an octal escape needs three digits, like \\101");
                return false;
            }
            fail(p, esc, "unknown escape '\\%c' in string",
                 (unsigned char)e >= 0x20 && (unsigned char)e < 0x7f ? e : '?');
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

static bool lex_number(struct expr_lexer *p, size_t start)
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

static const char *const reserved[] = {
    "as",  "break", "const",   "continue",  "else",   "for", "function", "if",   "import",
    "let", "loop",  "package", "namespace", "return", "var", "void",     "while"};

void expr_lex_next(struct expr_lexer *p)
{
    if (p->err->failed)
        return;
    /* After a '.', a reserved word is a field or method name: CEL reserves the
     * words only as identifiers, so `{'if': 1}.if` is valid CEL. */
    bool after_dot = p->tok.t == T_DOT;
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
            for (size_t k = 0; k < sizeof reserved / sizeof reserved[0] && !after_dot; k++)
                if (strlen(reserved[k]) == n && memcmp(reserved[k], s + i, n) == 0) {
                    fail(p, i, "'%s' is a reserved word in CEL", reserved[k]);
                    return;
                }
            p->tok.t = T_IDENT;
            sb_add(&p->tok.str, s + i, n);
        }
        return;
    }
    if (is_digit(c) || (c == '.' && is_digit((unsigned char)c1))) { /* .99, as CEL writes it */
        lex_number(p, i);
        return;
    }
    if (c == '\'' || c == '"') {
        lex_string(p, i, false);
        return;
    }
    enum expr_tok t;
    size_t n = 1;
    switch (c) {
    case '(':
        t = T_LPAREN;
        break;
    case ')':
        t = T_RPAREN;
        break;
    case '[':
        t = T_LBRACKET;
        break;
    case ']':
        t = T_RBRACKET;
        break;
    case '{':
        t = T_LBRACE;
        break;
    case '}':
        t = T_RBRACE;
        break;
    case '.':
        t = T_DOT;
        break;
    case ',':
        t = T_COMMA;
        break;
    case ':':
        t = T_COLON;
        break;
    case '?':
        t = T_QUESTION;
        break;
    case '+':
        t = T_PLUS;
        break;
    case '-':
        t = T_MINUS;
        break;
    case '*':
        t = T_STAR;
        break;
    case '/':
        t = T_SLASH;
        break;
    case '%':
        t = T_PERCENT;
        break;
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

const char *expr_tok_desc(enum expr_tok t)
{
    switch (t) {
    case T_EOF:
        return "the end";
    case T_IDENT:
        return "a name";
    case T_INT:
        return "a number";
    case T_DOUBLE:
        return "a number";
    case T_STRING:
        return "a string";
    case T_LPAREN:
        return "'('";
    case T_RPAREN:
        return "')'";
    case T_LBRACKET:
        return "'['";
    case T_RBRACKET:
        return "']'";
    case T_LBRACE:
        return "'{'";
    case T_RBRACE:
        return "'}'";
    case T_DOT:
        return "'.'";
    case T_COMMA:
        return "','";
    case T_COLON:
        return "':'";
    case T_QUESTION:
        return "'?'";
    case T_PLUS:
        return "'+'";
    case T_MINUS:
        return "'-'";
    case T_STAR:
        return "'*'";
    case T_SLASH:
        return "'/'";
    case T_PERCENT:
        return "'%'";
    case T_NOT:
        return "'!'";
    case T_EQ:
        return "'=='";
    case T_NE:
        return "'!='";
    case T_LT:
        return "'<'";
    case T_LE:
        return "'<='";
    case T_GT:
        return "'>'";
    case T_GE:
        return "'>='";
    case T_AND:
        return "'&&'";
    case T_OR:
        return "'||'";
    case T_IN:
        return "'in'";
    case T_TRUE:
        return "'true'";
    case T_FALSE:
        return "'false'";
    case T_NULL:
        return "'null'";
    }
    return "?";
}

void expr_lex_init(struct expr_lexer *lx, const char *src, size_t len, struct expr_errsink *sink)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->err = sink;
    sb_init(&lx->tok.str);
}

void expr_lex_done(struct expr_lexer *lx)
{
    sb_done(&lx->tok.str);
}
