/* fuzz_reader_csv.c: libFuzzer target for the CSV reader (core/reader.c).
 *
 * Whatever the bytes, reading must not crash, leak or read out of bounds; every
 * record must come with a line number that never goes backwards; a good record is
 * a map with one string per header column; a bad one says why. The first byte
 * picks the delimiter so that other separators are exercised too.
 *
 *   FUZZ_TARGETS=reader_csv make fuzz */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reader.h"
#include "core/utf8.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_reader_csv: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = {',', ';', '\t', '|'};
    if (size == 0)
        return 0;
    struct reader_options o = {SRC_CSV, NULL, delims[data[0] % 4], false};
    err e;
    err_clear(&e);
    struct reader *r = reader_open_buffer("fuzz.csv", data + 1, size - 1, &o, &e);
    if (!r) {
        check(e.msg[0] != '\0', "open failed without a message");
        return 0;
    }
    struct record rec;
    int rc;
    int64_t last_line = 0;
    size_t ncols = 0;
    while ((rc = reader_next(r, &rec, &e)) == 1) {
        check(rec.line > last_line, "line numbers must increase");
        last_line = rec.line;
        if (rec.bad) {
            check(rec.reason.msg[0] != '\0', "a bad record without a reason");
            continue;
        }
        check(rec.v.type == V_MAP, "a CSV record is a map");
        if (ncols == 0)
            ncols = value_map_len(&rec.v);
        check(value_map_len(&rec.v) == ncols, "every record has the header's columns");
        for (size_t i = 0; i < value_map_len(&rec.v); i++) {
            const value *v = value_map_val_at(&rec.v, i);
            check(v->type == V_STRING, "CSV fields are strings");
            check(utf8_valid(value_str(v), value_strlen(v)), "fields are UTF-8");
        }
    }
    check(rc == 0 || e.msg[0] != '\0', "an error without a message");
    reader_close(r);
    return 0;
}
