/* domain_reload.c: see domain_reload.h. */
#include "domain_reload.h"

#include "domain_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void look(struct domain_watch *w, bool *seen, int64_t *mtime, int64_t *size, int64_t *ino)
{
    struct stat st;
    *seen = stat(w->path, &st) == 0;
    *mtime = *seen ? (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec : 0;
    *size = *seen ? (int64_t)st.st_size : 0;
    *ino = *seen ? (int64_t)st.st_ino : 0;
}

void domain_watch_init(struct domain_watch *w, const char *path)
{
    memset(w, 0, sizeof *w);
    w->path = xstrdup(path);
    look(w, &w->seen, &w->mtime_ns, &w->size, &w->ino);
}

void domain_watch_done(struct domain_watch *w)
{
    free(w->path);
    w->path = NULL;
}

bool domain_watch_changed(struct domain_watch *w)
{
    bool seen;
    int64_t mtime, size, ino;
    look(w, &seen, &mtime, &size, &ino);
    if (!seen)
        return false; /* gone for now: wait for it to come back */
    bool changed = !w->seen || mtime != w->mtime_ns || size != w->size || ino != w->ino;
    w->seen = true;
    w->mtime_ns = mtime;
    w->size = size;
    w->ino = ino;
    return changed;
}

static void add(char ***list, size_t *n, const char *fmt, const char *a, const char *b)
{
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = b ? xasprintf(fmt, a, b) : xasprintf(fmt, a);
}

static const struct projection_spec *find_projection(const struct domain *d, const char *name)
{
    for (size_t i = 0; i < d->nprojections; i++)
        if (strcmp(d->projections[i].name, name) == 0)
            return &d->projections[i];
    return NULL;
}

static bool has_command(const struct domain *d, const char *agg, const char *cmd)
{
    for (size_t i = 0; i < d->naggregates; i++)
        if (strcmp(d->aggregates[i].name, agg) == 0)
            for (size_t j = 0; j < d->aggregates[i].ncommands; j++)
                if (strcmp(d->aggregates[i].commands[j].name, cmd) == 0)
                    return true;
    return false;
}

/* The commands of a that b has not, as AGGREGATE.COMMAND. */
static void commands_missing(const struct domain *a, const struct domain *b, char ***list,
                             size_t *n)
{
    for (size_t i = 0; i < a->naggregates; i++)
        for (size_t j = 0; j < a->aggregates[i].ncommands; j++)
            if (!has_command(b, a->aggregates[i].name, a->aggregates[i].commands[j].name))
                add(list, n, "%s.%s", a->aggregates[i].name, a->aggregates[i].commands[j].name);
}

int domain_reload(const char *path, const struct domain *old, struct domain_reload *r)
{
    memset(r, 0, sizeof *r);
    diag_list_init(&r->diags);
    r->domain = domain_load(path, &r->diags);
    if (!r->domain) {
        if (r->diags.len == 0)
            diag_add(&r->diags, path, 0, 0, "", "the domain could not be loaded");
        return ST_ERR;
    }
    if (old && strcmp(old->name, r->domain->name) != 0) {
        char *msg = xasprintf("the domain is now called '%s', not '%s': the store records the "
                              "domain it is used with, so a new name needs a restart",
                              r->domain->name, old->name);
        diag_add(&r->diags, path, 0, 0, "name", msg);
        free(msg);
        domain_free(r->domain);
        r->domain = NULL;
        return ST_ERR;
    }
    if (!old)
        return ST_OK;
    const struct domain *d = r->domain;
    for (size_t i = 0; i < d->nprojections; i++) {
        const struct projection_spec *was = find_projection(old, d->projections[i].name);
        if (!was)
            add(&r->added, &r->nadded, "%s", d->projections[i].name, NULL);
        else if (strcmp(was->rules_hash, d->projections[i].rules_hash) != 0)
            add(&r->stale, &r->nstale, "%s", d->projections[i].name, NULL);
    }
    for (size_t i = 0; i < old->nprojections; i++)
        if (!find_projection(d, old->projections[i].name))
            add(&r->removed, &r->nremoved, "%s", old->projections[i].name, NULL);
    commands_missing(d, old, &r->commands_added, &r->ncommands_added);
    commands_missing(old, d, &r->commands_removed, &r->ncommands_removed);
    r->same =
        !r->nstale && !r->nadded && !r->nremoved && !r->ncommands_added && !r->ncommands_removed;
    return ST_OK;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void domain_reload_done(struct domain_reload *r)
{
    if (r->domain)
        domain_free(r->domain);
    diag_list_done(&r->diags);
    free_list(r->stale, r->nstale);
    free_list(r->added, r->nadded);
    free_list(r->removed, r->nremoved);
    free_list(r->commands_added, r->ncommands_added);
    free_list(r->commands_removed, r->ncommands_removed);
    memset(r, 0, sizeof *r);
}

static void names(strbuf *sb, bool *first, const char *what, const char *whats, char **list,
                  size_t n, const char *tail)
{
    if (!n)
        return;
    sb_adds(sb, *first ? ": " : "; ");
    *first = false;
    sb_addf(sb, "%s ", n == 1 ? what : whats);
    for (size_t i = 0; i < n; i++)
        sb_addf(sb, "%s%s", i ? ", " : "", list[i]);
    sb_adds(sb, tail);
}

void domain_reload_summary(const struct domain_reload *r, const char *path, strbuf *sb)
{
    if (!r->domain && !r->diags.len) {
        sb_addf(sb, "%s: nothing reloaded", path);
        return;
    }
    if (!r->domain) {
        const struct diag *g = &r->diags.items[0];
        sb_addf(sb, "%s has %zu error%s: the domain in force stays (", path, r->diags.len,
                r->diags.len == 1 ? "" : "s");
        if (g->line > 0)
            sb_addf(sb, "%s:%d:%d: ", g->file, g->line, g->col);
        else
            sb_addf(sb, "%s: ", g->file);
        sb_addf(sb, "error: %s%s%s)", g->path, g->path[0] ? ": " : "", g->message);
        return;
    }
    sb_addf(sb, "%s reloaded", path);
    bool first = true;
    names(sb, &first, "command", "commands", r->commands_added, r->ncommands_added, " added");
    names(sb, &first, "command", "commands", r->commands_removed, r->ncommands_removed, " removed");
    names(sb, &first, "projection", "projections", r->added, r->nadded, " added");
    names(sb, &first, "projection", "projections", r->removed, r->nremoved, " removed");
    names(sb, &first, "projection", "projections", r->stale, r->nstale,
          r->nstale == 1 ? " stale (its rules changed: rebuild it)"
                         : " stale (their rules changed: rebuild them)");
    if (first)
        sb_adds(sb, r->same ? ": no command or projection changed" : "");
}
