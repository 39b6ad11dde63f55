/* fuzz_reader_cloudevents.c: libFuzzer target for the CloudEvents reader
 * (core/reader.c: single events, batches, NDJSON; core/cloudevents.c) and the
 * CloudEvents defaults of core/mapping.c.
 *
 * Whatever the bytes: no crash, leak or out-of-bounds read; every accepted event
 * passes cloudevents_check again and maps to an event whose data is a JSON
 * object; every refused one says why.
 *
 *   FUZZ_TARGETS=reader_cloudevents make fuzz */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cloudevents.h"
#include "core/json.h"
#include "core/mapping.h"
#include "core/reader.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_reader_cloudevents: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader_options o = {SRC_CLOUDEVENTS, NULL, 0, false};
    struct source_spec src;
    memset(&src, 0, sizeof src);
    src.format = SRC_CLOUDEVENTS;
    err e;
    err_clear(&e);
    struct reader *r = reader_open_buffer("fuzz.ce", data, size, &o, &e);
    if (!r) {
        check(e.msg[0] != '\0', "open failed without a message");
        return 0;
    }
    struct record rec;
    int rc;
    while ((rc = reader_next(r, &rec, &e)) == 1) {
        char reason[512];
        if (rec.bad) {
            check(rec.reason.msg[0] != '\0', "a refused event without a reason");
            continue;
        }
        check(cloudevents_check(&rec.v, NULL), "an accepted event fails the check");
        struct mapped_event ev;
        int m = mapping_apply(&src, &rec.v, 0, &ev, reason, sizeof reason);
        if (m == MAP_OK) {
            value d;
            check(json_parse(ev.data, strlen(ev.data), &d, NULL) == ST_OK && d.type == V_MAP,
                  "data is a JSON object");
            value_free(d);
            check(ev.stream[0] && ev.type[0], "stream and type are set");
            mapped_event_done(&ev);
        } else {
            check(m == MAP_BAD && reason[0], "a mapping failure says why");
        }
    }
    check(rc == 0 || e.msg[0] != '\0', "an error without a message");
    reader_close(r);
    return 0;
}
