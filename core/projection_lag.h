/* projection_lag.h: private to projections: how far behind a projection is and
 * how fast it moves. Progress samples ([ms, checkpoint] pairs) are kept in each
 * projection's record, so every process sees the same rate whoever folded. */
#ifndef STRATA_PROJECTION_LAG_H
#define STRATA_PROJECTION_LAG_H

#include "projection.h"
#include "projection_backend.h"

/* Adds the progress of one batch, from (begin_ms, start) to (now_ms, checkpoint),
 * to the record's samples, keeping them a little apart and only as old as the
 * rate needs. */
void proj_samples_add(struct proj_record *r, int64_t begin_ms, int64_t start, int64_t now_ms,
                      int64_t checkpoint);

/* Measures p (whose record must exist) against the store's head at time now_ms, into
 * *out (owned; free with proj_lag_free). */
int proj_lag_measure(struct store *s, const struct proj_backend *be,
                     const struct projection_spec *p, int64_t head, int64_t now_ms,
                     struct proj_lag *out, err *e);

#endif
