/* registry.c: the list of verbs (verb.h), one file each in verbs/. A new verb is
 * its file and one line here; both front ends pick it up. */
#include <string.h>

#include "verbs/verb.h"

/* One verb per line (clang-format off keeps it so: merges then add lines). */
/* clang-format off */
static const struct verb_def *const verbs[] = {
    &verb_exec,
    &verb_events,
    &verb_state,
    &verb_query,
    &verb_export,
    &verb_why,
    &verb_bisect,
    &verb_trace,
    &verb_doctor,
    &verb_stats,
    &verb_variants,
    &verb_flow,
    &verb_durations,
    &verb_sql,
    &verb_upcast,
    &verb_snapshots,
    &verb_race,
    &verb_project,
    &verb_import,
    &verb_replay,
    &verb_check,
    &verb_branch,
    &verb_diff,
    &verb_copy,
};
/* clang-format on */

const struct verb_def *const *verb_list(size_t *n)
{
    *n = sizeof verbs / sizeof verbs[0];
    return verbs;
}

const struct verb_def *verb_find(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verbs[i]->name, name) == 0)
            return verbs[i];
    return NULL;
}
