/* domain_lookup.c: finding an aggregate, command, event, projection or source of
 * a loaded domain by name; and, for names typed by a user, the "unknown command
 * 'Depositt' (did you mean 'Deposit'?)" message, written once here for every
 * caller (command line and workbench) with util.c's one did_you_mean. */
#include <stdlib.h>
#include <string.h>

#include "core/domain.h"

struct aggregate_spec *domain_aggregate(const struct domain *d, const char *name)
{
    for (size_t i = 0; d && name && i < d->naggregates; i++)
        if (d->aggregates[i].name && strcmp(d->aggregates[i].name, name) == 0)
            return &d->aggregates[i];
    return NULL;
}

struct command_spec *domain_command(const struct domain *d, const char *name)
{
    for (size_t i = 0; d && name && i < d->naggregates; i++)
        for (size_t j = 0; j < d->aggregates[i].ncommands; j++)
            if (d->aggregates[i].commands[j].name &&
                strcmp(d->aggregates[i].commands[j].name, name) == 0)
                return &d->aggregates[i].commands[j];
    return NULL;
}

struct event_spec *domain_event(const struct domain *d, const char *type)
{
    for (size_t i = 0; d && type && i < d->naggregates; i++)
        for (size_t j = 0; j < d->aggregates[i].nevents; j++)
            if (d->aggregates[i].events[j].name &&
                strcmp(d->aggregates[i].events[j].name, type) == 0)
                return &d->aggregates[i].events[j];
    return NULL;
}

struct projection_spec *domain_projection(const struct domain *d, const char *name)
{
    for (size_t i = 0; d && name && i < d->nprojections; i++)
        if (d->projections[i].name && strcmp(d->projections[i].name, name) == 0)
            return &d->projections[i];
    return NULL;
}

struct source_spec *domain_source(const struct domain *d, const char *name)
{
    for (size_t i = 0; d && name && i < d->nsources; i++)
        if (d->sources[i].name && strcmp(d->sources[i].name, name) == 0)
            return &d->sources[i];
    return NULL;
}

/* ---- lookups for names a user typed ---- */

/* Collects names as they are visited, into an array that grows as needed (no cap:
 * a domain may have any number of commands). */
struct names {
    const char **v;
    size_t n, cap;
};

static void names_add(struct names *ns, const char *name)
{
    if (!name)
        return;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 16;
        ns->v = xrealloc(ns->v, ns->cap * sizeof *ns->v);
    }
    ns->v[ns->n++] = name;
}

/* Fills e for a name that is not there: "unknown KIND 'NAME' (did you mean
 * 'NEAR'?)" when one is close enough; otherwise where it was looked for. Takes the
 * candidates. Returns NULL so that callers can return it. */
static void *unknown(const struct domain *d, const char *kind, const char *plural, const char *name,
                     struct names *ns, err *e)
{
    const char *dname = d && d->name ? d->name : "";
    const char *near = did_you_mean(name, ns->v, ns->n);
    if (near)
        err_set(e, ST_NOT_FOUND, "unknown %s '%s' (did you mean '%s'?)", kind, name, near);
    else if (ns->n == 0)
        err_set(e, ST_NOT_FOUND, "unknown %s '%s': domain %s has no %s", kind, name, dname, plural);
    else
        err_set(e, ST_NOT_FOUND, "unknown %s '%s' in domain %s", kind, name, dname);
    free(ns->v);
    return NULL;
}

struct aggregate_spec *domain_find_aggregate(const struct domain *d, const char *name, err *e)
{
    struct aggregate_spec *a = domain_aggregate(d, name);
    if (a)
        return a;
    struct names ns = {0};
    for (size_t i = 0; d && i < d->naggregates; i++)
        names_add(&ns, d->aggregates[i].name);
    return unknown(d, "aggregate", "aggregates", name ? name : "", &ns, e);
}

struct command_spec *domain_find_command(const struct domain *d, const char *name, err *e)
{
    struct command_spec *c = domain_command(d, name);
    if (c)
        return c;
    struct names ns = {0};
    for (size_t i = 0; d && i < d->naggregates; i++)
        for (size_t j = 0; j < d->aggregates[i].ncommands; j++)
            names_add(&ns, d->aggregates[i].commands[j].name);
    return unknown(d, "command", "commands", name ? name : "", &ns, e);
}

struct event_spec *domain_find_event(const struct domain *d, const char *type, err *e)
{
    struct event_spec *ev = domain_event(d, type);
    if (ev)
        return ev;
    struct names ns = {0};
    for (size_t i = 0; d && i < d->naggregates; i++)
        for (size_t j = 0; j < d->aggregates[i].nevents; j++)
            names_add(&ns, d->aggregates[i].events[j].name);
    return unknown(d, "event type", "events", type ? type : "", &ns, e);
}

struct projection_spec *domain_find_projection(const struct domain *d, const char *name, err *e)
{
    struct projection_spec *p = domain_projection(d, name);
    if (p)
        return p;
    struct names ns = {0};
    for (size_t i = 0; d && i < d->nprojections; i++)
        names_add(&ns, d->projections[i].name);
    return unknown(d, "projection", "projections", name ? name : "", &ns, e);
}
