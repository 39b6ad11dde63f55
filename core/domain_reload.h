/* domain_reload.h: editing the domain while something runs on it (the
 * workbench, `strata project --follow`). A watch notices that the domain's file
 * changed (its size, modification time or inode, polled); domain_reload loads
 * the new file and decides what it means against the domain in force:
 *
 *  - the new file has errors (or names another domain): nothing changes, the
 *    problems are in diags (each with FILE:LINE:COL), the old domain stays;
 *  - it loads: the caller switches to it; what changed is listed, and the
 *    projections whose rules changed (their rules hash) are stale: their tables
 *    were folded by the old rules and wait for a rebuild (never refolded with
 *    mixed rules; core/projection.h marks them when set up with the new domain).
 *
 * Both front ends use it, so they decide the same way and say the same thing. */
#ifndef STRATA_DOMAIN_RELOAD_H
#define STRATA_DOMAIN_RELOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "domain.h"
#include "util.h"

/* What the file looked like when last seen. */
struct domain_watch {
    char *path;
    bool seen; /* the file existed at the last look */
    int64_t mtime_ns, size, ino;
};

/* Starts watching path (as it is now: no change yet). */
void domain_watch_init(struct domain_watch *w, const char *path);
void domain_watch_done(struct domain_watch *w);
/* True when the file changed since the last look (or since init), and
 * remembers how it looks now. A file that vanished is not a change (an editor
 * saving by rename removes it for a moment); its return is. */
bool domain_watch_changed(struct domain_watch *w);

struct domain_reload {
    struct domain *domain; /* the new domain (the caller takes it), or NULL */
    struct diag_list diags;
    /* Projections: stale (in both, rules changed), added, removed. Commands:
     * added, removed (AGGREGATE.COMMAND). Names owned here. */
    char **stale, **added, **removed, **commands_added, **commands_removed;
    size_t nstale, nadded, nremoved, ncommands_added, ncommands_removed;
    bool same; /* loaded and nothing a run depends on changed */
};

/* Loads path and compares it with old. Returns ST_OK when it loaded (r->domain
 * set, the lists filled), ST_ERR when not (r->diags says why, each problem with
 * its place; a file naming another domain than old is refused, since the store
 * records the domain it is used with). Free r with domain_reload_done. */
int domain_reload(const char *path, const struct domain *old, struct domain_reload *r);
/* Frees the lists and diags, and the domain unless the caller took it (set
 * r->domain to NULL after taking it). */
void domain_reload_done(struct domain_reload *r);
/* One line that says what happened: "bank.yaml reloaded: command Account.Close
 * added; projection AccountList stale (its rules changed: rebuild it)", or
 * "bank.yaml has 2 errors: the domain in force stays (first: FILE:LINE:COL: ...)". */
void domain_reload_summary(const struct domain_reload *r, const char *path, strbuf *sb);

#endif
