/* expr_lex.h: the expression language's lexer (core/expr_lex.c): source bytes
 * to tokens, one at a time, on demand of the parser. */
#ifndef STRATA_EXPR_LEX_H
#define STRATA_EXPR_LEX_H

#include "expr_types.h"
#include "util.h"

enum expr_tok {
    T_EOF,
    T_IDENT,
    T_INT,
    T_DOUBLE,
    T_STRING,
    T_LPAREN,
    T_RPAREN,
    T_LBRACKET,
    T_RBRACKET,
    T_LBRACE,
    T_RBRACE,
    T_DOT,
    T_COMMA,
    T_COLON,
    T_QUESTION,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PERCENT,
    T_NOT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_IN,
    T_TRUE,
    T_FALSE,
    T_NULL,
};

struct expr_token {
    enum expr_tok t;
    size_t start, end; /* byte span in the source */
    uint64_t ival;     /* T_INT (up to 2^63, the magnitude of INT64_MIN) */
    double dval;       /* T_DOUBLE */
    strbuf str;        /* T_STRING: the decoded text; T_IDENT: the name */
};

struct expr_lexer {
    const char *src;
    size_t len;
    size_t pos;               /* where the next token starts looking */
    struct expr_token tok;    /* the current token */
    struct expr_errsink *err; /* lexical errors go here; a failed lexer stays at its token */
};

/* Starts lexing src[0..len) (no NUL bytes: the caller refuses them). Call
 * expr_lex_next for the first token. */
void expr_lex_init(struct expr_lexer *lx, const char *src, size_t len, struct expr_errsink *sink);
void expr_lex_done(struct expr_lexer *lx);
/* Reads the next token into lx->tok. On a lexical error sets lx->err->failed;
 * does nothing once it is set. */
void expr_lex_next(struct expr_lexer *lx);
/* How a token kind is named in messages: "a name", "')'", "the end". */
const char *expr_tok_desc(enum expr_tok t);

#endif
