/* utf8.c: the one UTF-8 validator, decoder, encoder and code-point counter
 * (utf8.h). Strict RFC 3629: the byte ranges are those of Unicode's table of
 * well-formed sequences (Table 3-7), so overlongs, surrogates and values above
 * U+10FFFF are refused by looking at the first two bytes, never by decoding first
 * and range-checking after.
 *
 * Before this file there were ten hand-written copies (reader, JSON, expressions,
 * YAML, workbench, three counters, two encoders); tests/unit/test_utf8.c keeps
 * them as oracles and checks that this module agrees with each of them. */
#include "utf8.h"

#include <string.h>

static bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t utf8_seq(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0; /* a continuation byte, or the lead of an overlong 2-byte form */
    if (c < 0xE0)
        return n >= 2 && is_cont(s[1]) ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || !is_cont(s[1]) || !is_cont(s[2]))
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
            return 0; /* overlong, or a UTF-16 surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || !is_cont(s[1]) || !is_cont(s[2]) || !is_cont(s[3]))
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
            return 0; /* overlong, or above U+10FFFF */
        return 4;
    }
    return 0;
}

size_t utf8_decode(const char *str, size_t n, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t len = utf8_seq(str, n);
    switch (len) {
    case 1:
        *cp = s[0];
        break;
    case 2:
        *cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        break;
    case 3:
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        break;
    case 4:
        *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
              (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        break;
    default:
        break;
    }
    return len;
}

bool utf8_valid(const char *str, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII, the common case, eight bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, str + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if ((unsigned char)str[i] < 0x80) { /* an ASCII byte (a short tail): no call */
            i++;
            continue;
        }
        size_t k = utf8_seq(str + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0; /* surrogates are UTF-16's, never text */
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        return 0;
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool utf8_append(strbuf *sb, uint32_t cp)
{
    char b[4];
    size_t n = utf8_encode(cp, b);
    if (n)
        sb_add(sb, b, n);
    return n != 0;
}

size_t utf8_count(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_cont((unsigned char)s[i]))
            k++;
    return k;
}
