/* project.h: what the `project` verb's files share (verbs/project.c, the verb;
 * verbs/project_follow.c, the command line's --follow loop). */
#ifndef STRATA_VERBS_PROJECT_H
#define STRATA_VERBS_PROJECT_H

#include "core/projection.h"
#include "verbs/verb.h"

enum project_rebuild { REBUILD_NONE, REBUILD_NAMED, REBUILD_ALL, REBUILD_STALE };

/* "4.2s", "3m05s", "1h02m", "-" for a negative (unknown) time. */
void project_fmt_seconds(char *buf, size_t cap, double s);
/* One projection's lag as a JSON object (no newline). */
void project_lag_json(strbuf *sb, const struct proj_lag *l);
/* The names of the stale projections of d in s (caller frees each and the list). */
int project_stale_names(struct store *s, const struct domain *d, char ***names, size_t *n, err *e);
/* `project --follow`: a status line every second until SIGINT or SIGTERM, the
 * domain file reloaded when it changes (core/domain_reload.h). */
int project_follow(struct verb_ctx *c, bool json);

#endif
