/* fuzz_reader_ndjson.c: libFuzzer target for the NDJSON reader (core/reader.c)
 * and the canonical event line checks (core/mapping.c canonical_parse).
 *
 * Whatever the bytes: no crash, leak or out-of-bounds read; line numbers increase;
 * a bad line says why. For every line that is an acceptable canonical event, the
 * data and meta texts kept byte for byte must parse as JSON to the same values
 * the line parsed to (the raw-member scanner must never cut a value wrong). A
 * line read from its text alone (canonical_parse_raw) must be one the full path
 * takes, giving the very same event.
 *
 *   FUZZ_TARGETS=reader_ndjson make fuzz */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mapping.h"
#include "core/reader.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_reader_ndjson: %s\n", what);
        abort();
    }
}

static void same_json(const char *text, const value *want)
{
    value v;
    check(json_parse(text, strlen(text), &v, NULL) == ST_OK, "kept text is not JSON");
    check(value_equal(&v, want), "kept text differs from the parsed value");
    value_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader_options o = {SRC_NDJSON, NULL, 0, false};
    err e;
    err_clear(&e);
    struct reader *r = reader_open_buffer("fuzz.ndjson", data, size, &o, &e);
    check(r != NULL, "an NDJSON reader opens on any buffer");
    struct record rec;
    int rc;
    int64_t last_line = 0;
    while ((rc = reader_next(r, &rec, &e)) == 1) {
        check(rec.line > last_line, "line numbers must increase");
        last_line = rec.line;
        struct mapped_event fast;
        bool took = rec.raw && canonical_parse_raw(rec.raw, rec.raw_len, &fast);
        if (rec.bad) {
            check(!took, "the fast reader took a line that is not JSON");
            check(rec.reason.msg[0] != '\0', "a bad record without a reason");
            continue;
        }
        check(rec.raw != NULL, "a line-based record keeps its text");
        struct mapped_event ev;
        char reason[512];
        int m = canonical_parse(&rec.v, rec.raw, rec.raw_len, &ev, reason, sizeof reason);
        check(!took || m == MAP_OK, "the fast reader took a line the full path refuses");
        if (took) {
            check(strcmp(fast.stream, ev.stream) == 0 && strcmp(fast.type, ev.type) == 0 &&
                      fast.version == ev.version && fast.schema == ev.schema &&
                      fast.time_ms == ev.time_ms && strcmp(fast.time, ev.time) == 0 &&
                      strcmp(fast.data, ev.data) == 0 && !fast.meta == !ev.meta &&
                      (!fast.meta || strcmp(fast.meta, ev.meta) == 0),
                  "the fast reader's event differs from the full path's");
            mapped_event_done(&fast);
        }
        if (m == MAP_OK) {
            same_json(ev.data, value_map_get(&rec.v, "data"));
            if (ev.meta)
                same_json(ev.meta, value_map_get(&rec.v, "meta"));
            check(strlen(ev.time) == TIME_TEXT_LEN, "time in the contract's form");
            mapped_event_done(&ev);
        } else {
            check(reason[0] != '\0', "a refused event without a reason");
        }
    }
    check(rc == 0 || e.msg[0] != '\0', "an error without a message");
    reader_close(r);
    return 0;
}
