/* utf8.h: UTF-8, strictly as RFC 3629 defines it, in one place.
 *
 * Every byte sequence Strata accepts as text (event files, JSON, domain files,
 * expression literals) and every one it shows (the workbench) goes through these
 * functions, so "valid UTF-8" means the same everywhere: no overlong forms, no
 * UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF. NUL is a valid code
 * point here; callers that refuse it (domain files, expressions) check for it
 * themselves, because whether a NUL is allowed is their rule, not UTF-8's.
 *
 * Everything takes an explicit length and never reads past it. */
#ifndef STRATA_UTF8_H
#define STRATA_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Length (1..4) of the valid UTF-8 sequence at s[0..n), or 0 when the bytes there
 * do not start one (including n == 0 and a sequence cut short by n). */
size_t utf8_seq(const char *s, size_t n);

/* As utf8_seq, and stores the code point in *cp on success (*cp is untouched on
 * failure; callers that show text substitute something themselves). */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* True when all of s[0..n) is valid UTF-8. Fast on ASCII (eight bytes a step). */
bool utf8_valid(const char *s, size_t n);

/* Writes cp as UTF-8 into out and returns the length (1..4), or 0 when cp is not
 * a Unicode scalar value (a surrogate, or above U+10FFFF): nothing is written. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* Appends cp as UTF-8 to sb. cp must be a scalar value (utf8_encode's rule);
 * anything else appends nothing and returns false. */
bool utf8_append(strbuf *sb, uint32_t cp);

/* The number of code points in valid UTF-8 s[0..n). Counts the bytes that are not
 * continuation bytes (10xxxxxx), so on invalid input it is still defined (every
 * lead or stray ASCII byte counts one) and never reads past n. */
size_t utf8_count(const char *s, size_t n);

#endif
