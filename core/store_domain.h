/* store_domain.h: which domain a store is used with (issue 14, defect 4).
 *
 * A store records the name of the domain it was written with (the domain's
 * `domain:` key, in the store's meta note "domain"): a name, not a hash, since
 * editing a domain is normal work and must not lock the user out. A front end
 * that is about to write with a domain (append, or create and fold projection
 * tables) asks store_domain_check first:
 *   - the same name recorded: go ahead;
 *   - nothing recorded and no events (a new store): go ahead, and record it;
 *   - nothing recorded but events (an imported log), or another name recorded:
 *     ask the user (the workbench), or refuse unless told to (--force), and
 *     record the name once the user said yes.
 * Reads never record anything and need no check. */
#ifndef STRATA_STORE_DOMAIN_H
#define STRATA_STORE_DOMAIN_H

#include "store.h"

enum store_domain_fit {
    STORE_DOMAIN_SAME,  /* the store records this domain's name */
    STORE_DOMAIN_FRESH, /* no name recorded and no events: it takes this one */
    STORE_DOMAIN_NONE,  /* no name recorded, but events (an imported log) */
    STORE_DOMAIN_OTHER, /* another domain's name recorded */
};

struct store_domain_check {
    enum store_domain_fit fit;
    char *recorded; /* the recorded name (STORE_DOMAIN_OTHER, SAME), or NULL; owned */
    int64_t head;   /* the store's head */
};

/* Compares the store's recorded domain with `name`. */
int store_domain_check(struct store *s, const char *name, struct store_domain_check *out, err *e);
void store_domain_check_done(struct store_domain_check *c);

/* Why using domain `name` on the store at db_path needs the user's word (for
 * NONE and OTHER), as a sentence without a final full stop; a new string. */
char *store_domain_question(const struct store_domain_check *c, const char *db_path,
                            const char *name);

/* Records `name` as the store's domain. */
int store_domain_record(struct store *s, const char *name, err *e);

/* The whole rule for a command about to write with domain `name`: SAME goes
 * ahead; FRESH records the name and goes ahead; NONE and OTHER record it when
 * force is true, and otherwise are refused (ST_ERR, e saying why and that
 * --force would go ahead). */
int store_domain_claim(struct store *s, const char *name, bool force, err *e);

#endif
