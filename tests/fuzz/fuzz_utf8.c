/* fuzz_utf8.c: libFuzzer target for core/utf8.c.
 *
 * Whatever the bytes, the module's functions must agree with each other and with
 * RFC 3629: utf8_valid is exactly "a walk with utf8_seq reaches the end"; every
 * sequence utf8_decode accepts is a scalar value (no surrogate, at most U+10FFFF)
 * that utf8_encode writes back as the same bytes (so no overlong form is ever
 * accepted: the encoder writes only the shortest form); on valid text utf8_count
 * is the number of sequences. Any broken promise aborts, which libFuzzer reports
 * as a crash with the input saved. (tests/unit/test_utf8.c compares the module
 * with the copies it replaced.)
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       core/util.c core/utf8.c tests/fuzz/fuzz_utf8.c -o fuzz_utf8
 *   ./fuzz_utf8 -max_total_time=60 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_utf8: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t i = 0, seqs = 0;
    bool walked = true;
    while (i < size) {
        uint32_t cp = 0;
        size_t n = utf8_decode(s + i, size - i, &cp);
        check(n == utf8_seq(s + i, size - i), "utf8_decode and utf8_seq disagree");
        if (n == 0) {
            walked = false;
            i++; /* go on: every later position must hold to the rules too */
            continue;
        }
        check(n <= 4 && n <= size - i, "a sequence longer than 4 bytes or than the input");
        check(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF), "decoded a non-scalar value");
        char b[4];
        size_t k = utf8_encode(cp, b);
        check(k == n && memcmp(b, s + i, n) == 0, "decoded bytes do not encode back the same");
        i += n;
        seqs++;
    }
    check(utf8_valid(s, size) == walked, "utf8_valid disagrees with a walk of utf8_seq");
    if (walked)
        check(utf8_count(s, size) == seqs, "utf8_count is not the number of sequences");
    return 0;
}
