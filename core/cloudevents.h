/* cloudevents.h: is a structured CloudEvent valid? (CloudEvents 1.0, JSON format)
 *
 * The cloudevents reader (reader.h) checks every event it reads with
 * cloudevents_check, so that an invalid one is a bad record whose reason names the
 * rule it breaks; the checks are apart from the reader because they are about the
 * specification, not about files. */
#ifndef STRATA_CLOUDEVENTS_H
#define STRATA_CLOUDEVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "value.h"

/* Checks one structured CloudEvent against CloudEvents 1.0 (JSON format). Returns
 * true when valid; otherwise false with the rule it breaks in why (if not NULL),
 * e.g. "missing required attribute 'id'" (no place: the caller knows the record). */
bool cloudevents_check(const value *ev, err *why);
/* RFC 3339 date-time (what CloudEvents' `time` must be): seconds required, a
 * zone (Z or +hh:mm) required. */
bool rfc3339_check(const char *s, size_t len);

#endif
