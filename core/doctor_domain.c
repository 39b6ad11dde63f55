/* doctor_domain.c: the doctor's items about the domain's coverage (doctor.h):
 * scenarios for every command and projection, event types nothing produces,
 * handlers for types nothing produces. */
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "expr.h"

static void report(doctor_fn fn, void *ctx, int *fails, enum doctor_level l, const char *item,
                   const char *found, const char *fix)
{
    struct doctor_item it = {l, item, found, l == DOCTOR_OK ? NULL : fix};
    fn(&it, ctx);
    if (l == DOCTOR_FAIL)
        (*fails)++;
}

static bool command_has_scenario(const struct domain *d, const char *name)
{
    for (size_t i = 0; i < d->nscenarios; i++)
        if (d->scenarios[i].has_when && strcmp(d->scenarios[i].when_command, name) == 0)
            return true;
    return false;
}

static bool projection_has_scenario(const struct domain *d, const char *name)
{
    for (size_t i = 0; i < d->nscenarios; i++)
        if (d->scenarios[i].has_then_projections &&
            value_map_get(&d->scenarios[i].then_projections, name))
            return true;
    return false;
}

/* Something produces events of this type: a command emits it, the store holds
 * it, or a source's type expression names it (a source is read by `import`). */
static bool produced(const struct domain *d, const char *type, const struct type_count *tc,
                     size_t ntc)
{
    for (size_t i = 0; i < ntc; i++)
        if (strcmp(tc[i].type, type) == 0)
            return true;
    for (size_t a = 0; a < d->naggregates; a++)
        for (size_t c = 0; c < d->aggregates[a].ncommands; c++) {
            const struct command_spec *cs = &d->aggregates[a].commands[c];
            for (size_t k = 0; k < cs->nemits; k++)
                if (strcmp(cs->emits[k].event->name, type) == 0)
                    return true;
        }
    for (size_t i = 0; i < d->nsources; i++) {
        const expr *t = d->sources[i].type;
        if (!t || strstr(expr_source(t), type))
            return true; /* no type expression: the record says, any type may come */
    }
    return false;
}

void doctor_coverage(const struct domain *d, const struct type_count *tc, size_t ntc, doctor_fn fn,
                     void *ctx, int *fails)
{
    strbuf miss;
    sb_init(&miss);
    /* scenarios */
    size_t ncommands = 0, uncovered = 0;
    for (size_t a = 0; a < d->naggregates; a++)
        for (size_t c = 0; c < d->aggregates[a].ncommands; c++, ncommands++)
            if (!command_has_scenario(d, d->aggregates[a].commands[c].name)) {
                sb_addf(&miss, "%scommand %s", uncovered++ ? ", " : "",
                        d->aggregates[a].commands[c].name);
            }
    for (size_t p = 0; p < d->nprojections; p++)
        if (!projection_has_scenario(d, d->projections[p].name))
            sb_addf(&miss, "%sprojection %s", uncovered++ ? ", " : "", d->projections[p].name);
    char *found;
    if (d->nscenarios == 0) {
        found = xasprintf("the domain has no scenarios (%zu commands, %zu projections untested)",
                          ncommands, d->nprojections);
        report(fn, ctx, fails, DOCTOR_WARN, "scenarios", found,
               "add `scenarios:` (given, when, then) and run `strata test`");
    } else if (uncovered) {
        found = xasprintf("%zu scenarios; without one: %s", d->nscenarios, miss.buf);
        report(fn, ctx, fails, DOCTOR_WARN, "scenarios", found,
               "add a scenario whose `when` runs each command, and one whose `then` checks each "
               "projection");
    } else {
        found = xasprintf("%zu scenarios cover every command (%zu) and projection (%zu)",
                          d->nscenarios, ncommands, d->nprojections);
        report(fn, ctx, fails, DOCTOR_OK, "scenarios", found, NULL);
    }
    free(found);

    /* event types nothing produces */
    sb_reset(&miss);
    size_t nevents = 0, idle = 0;
    for (size_t a = 0; a < d->naggregates; a++)
        for (size_t i = 0; i < d->aggregates[a].nevents; i++, nevents++)
            if (!produced(d, d->aggregates[a].events[i].name, tc, ntc))
                sb_addf(&miss, "%s%s", idle++ ? ", " : "", d->aggregates[a].events[i].name);
    if (idle) {
        found = xasprintf("no command emits and the store holds none of: %s", miss.buf);
        report(fn, ctx, fails, DOCTOR_WARN, "event types", found,
               "emit it from a command, or remove it from the domain");
    } else {
        found = xasprintf("each of the %zu event types is emitted by a command or stored", nevents);
        report(fn, ctx, fails, DOCTOR_OK, "event types", found, NULL);
    }
    free(found);

    /* handlers for types nothing produces */
    sb_reset(&miss);
    size_t nhandlers = 0, dead = 0;
    for (size_t p = 0; p < d->nprojections; p++)
        for (size_t h = 0; h < d->projections[p].nhandlers; h++, nhandlers++)
            if (!produced(d, d->projections[p].handlers[h].event_type, tc, ntc))
                sb_addf(&miss, "%s%s.%s", dead++ ? ", " : "", d->projections[p].name,
                        d->projections[p].handlers[h].event_type);
    if (dead) {
        found = xasprintf("handlers for types nothing produces: %s", miss.buf);
        report(fn, ctx, fails, DOCTOR_WARN, "handlers", found,
               "remove the handler, or emit the type from a command");
    } else {
        found = xasprintf("each of the %zu projection handlers has events to fold", nhandlers);
        report(fn, ctx, fails, DOCTOR_OK, "handlers", found, NULL);
    }
    free(found);
    sb_done(&miss);
}
