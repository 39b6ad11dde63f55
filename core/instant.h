/* instant.h: instants and durations as CEL has them (core/instant.c): reading
 * and writing their text, the calendar fields of an instant, and checked
 * arithmetic. Below the expression module and the field checks, which both use
 * it; it knows nothing of values or domains.
 *
 * An instant is whole seconds since 1970-01-01T00:00:00Z (sec) and nanoseconds
 * within that second (ns, 0..999999999), within the years 0001 to 9999 as CEL
 * requires. A duration is signed nanoseconds in an int64 (about +-292 years, as
 * CEL's Go implementation has it). */
#ifndef STRATA_INSTANT_H
#define STRATA_INSTANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define INSTANT_MIN_SEC (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define INSTANT_MAX_SEC 253402300799LL   /* 9999-12-31T23:59:59Z */
#define NS_PER_SEC 1000000000LL

/* The canonical text of an instant, what the store keeps: 2026-03-01T08:00:00.000Z
 * (TIME_TEXT_LEN characters; finer than a millisecond is cut off). */
#define INSTANT_TEXT_LEN TIME_TEXT_LEN
/* Room for the longest duration text, "-9223372036.854775808s" and a NUL. */
#define DURATION_TEXT_MAX 32

/* Strict reading, for text that comes in (payloads, the command line, timestamp()):
 * YYYY-MM-DD, 'T' (or 't', or a space), hh:mm[:ss[.f{1,9}]], then 'Z' or an offset
 * +hh:mm, +hhmm or +hh. A date without a time, a time without an offset, an
 * impossible date (2026-02-30) or time (24:00, 23:59:60), a year outside
 * 0001..9999 are refused. */
bool instant_parse(const char *s, size_t len, int64_t *sec, int32_t *ns);
/* Lenient reading, for text already stored by an older Strata: also a bare date
 * (midnight UTC) or a date-time without an offset (UTC). */
bool instant_parse_stored(const char *s, size_t len, int64_t *sec, int32_t *ns);
/* True when sec lies within the years 0001..9999. */
bool instant_in_range(int64_t sec);
void instant_format(int64_t sec, int32_t ns, char out[INSTANT_TEXT_LEN + 1]);
/* True when s is exactly what instant_format writes for some instant (so reading
 * it and formatting it again gives s back): YYYY-MM-DDThh:mm:ss.mmmZ, a real date
 * of the years 0001..9999 and a time of day. */
bool instant_is_canonical(const char *s, size_t len);

/* The calendar fields of an instant seen at offset_sec east of UTC. Months and
 * days of the month are 1-based here; yday is 0-based, wday 0 = Sunday. */
struct instant_fields {
    int year, month, mday, yday, wday, hour, minute, second;
    int32_t ns;
};
void instant_split(int64_t sec, int32_t ns, int offset_sec, struct instant_fields *f);
/* A time zone argument of the accessors: "UTC", "Z", "GMT", or a fixed offset
 * "+02:00" / "-0530" / "+02". False for anything else (named zones need a tz
 * database, which Strata does not read so that results never depend on the host). */
bool instant_zone(const char *s, size_t len, int *offset_sec);

/* instant + d (d may be negative); false when the result leaves 0001..9999. */
bool instant_add(int64_t sec, int32_t ns, int64_t d, int64_t *osec, int32_t *ons);
/* a - b as a duration; false when it does not fit an int64 of nanoseconds. */
bool instant_diff(int64_t asec, int32_t ans, int64_t bsec, int32_t bns, int64_t *d);
/* -1, 0, 1. */
int instant_cmp(int64_t asec, int32_t ans, int64_t bsec, int32_t bns);

/* CEL's duration text (Go's time.ParseDuration): an optional sign, then one or
 * more decimal numbers, each with an optional fraction and a unit h, m, s, ms,
 * us (or µs) or ns: "36h", "1.5h", "-1s", "1h30m", "0.001s". A bare "0" is zero.
 * False when malformed or out of range. */
bool duration_parse(const char *s, size_t len, int64_t *ns);
/* CEL's string(duration): seconds with up to nine fraction digits, trailing zeros
 * dropped: "5400s", "1.5s", "-0.001s", "0s". Returns the length. */
size_t duration_format(int64_t ns, char out[DURATION_TEXT_MAX]);

#endif
