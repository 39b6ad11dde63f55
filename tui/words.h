/* words.h: a command line split into words, for the palette's editor (completion)
 * and its verbs (arguments). */
#ifndef STRATA_TUI_WORDS_H
#define STRATA_TUI_WORDS_H

#include <stdbool.h>

/* A NULL-terminated, owned list of words. */
struct words {
    char **v;
    int n, cap;
};

/* Appends s (taking it). */
void words_push(struct words *w, char *s);
void words_done(struct words *w);
/* Splits a line into words as a shell would for simple cases: blanks separate,
 * '...' and "..." quote, a backslash escapes the next character. Returns false
 * (with *bad set) when a quote is left open. */
bool split_words(const char *line, struct words *w, const char **bad);

#endif
