/* fuzz_json.c: libFuzzer target for core/json.c.
 *
 * Whatever the bytes, json_parse must not crash, leak or read out of bounds. When
 * it accepts, the canonical writer's output must parse again, to an equal value,
 * and writing that gives the same bytes (the writer is canonical); the pretty
 * form must parse back to an equal value too. Any broken promise aborts, which
 * libFuzzer reports as a crash with the input saved.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       core/util.c core/value.c core/json.c tests/fuzz/fuzz_json.c -o fuzz_json -lpthread -lm
 *   ./fuzz_json -max_total_time=60 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_json: %s\n%s\n", what, detail ? detail : "");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    value v;
    err je;
    if (json_parse((const char *)data, size, &v, &je) != ST_OK) {
        check(je.line >= 1 && je.col >= 1 && je.offset <= size && je.msg[0], "bad error position",
              je.msg);
        return 0;
    }
    strbuf w1, w2, pretty;
    sb_init(&w1);
    sb_init(&w2);
    sb_init(&pretty);
    json_write(&w1, &v);

    value again;
    err je2;
    int rc = json_parse(w1.buf, w1.len, &again, &je2);
    check(rc == ST_OK, "canonical output does not parse", je2.msg);
    json_write(&w2, &again);
    check(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0, "writing twice differs", w1.buf);
    /* Parsed values never hold NaN, so equality is reflexive here. */
    check(value_equal(&v, &again), "re-parsed value differs", w1.buf);

    json_write_pretty(&pretty, &v);
    value from_pretty;
    rc = json_parse(pretty.buf, pretty.len, &from_pretty, &je2);
    check(rc == ST_OK, "pretty output does not parse", je2.msg);
    check(value_equal(&v, &from_pretty), "pretty output reads back differently", pretty.buf);
    check(value_compare(&v, &from_pretty) == 0, "value_compare disagrees with value_equal",
          pretty.buf);

    value copy = value_copy_deep(&v);
    check(value_equal(&v, &copy), "deep copy differs", w1.buf);

    value_free(copy);
    value_free(from_pretty);
    value_free(again);
    value_free(v);
    sb_done(&w1);
    sb_done(&w2);
    sb_done(&pretty);
    return 0;
}
