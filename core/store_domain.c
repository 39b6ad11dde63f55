/* store_domain.c: the domain a store records (store_domain.h): comparing it with
 * the domain a front end is about to write with, the question to put to the
 * user, and recording the answer. */
#include "store_domain.h"

#include <stdlib.h>
#include <string.h>

#define META_DOMAIN "domain"

int store_domain_check(struct store *s, const char *name, struct store_domain_check *out, err *e)
{
    memset(out, 0, sizeof *out);
    int rc = store_meta_get(s, META_DOMAIN, &out->recorded, e);
    if (rc != ST_OK && rc != ST_NOT_FOUND)
        return rc;
    if (store_head(s, &out->head, e) != ST_OK) {
        store_domain_check_done(out);
        return ST_ERR;
    }
    if (out->recorded)
        out->fit = strcmp(out->recorded, name) == 0 ? STORE_DOMAIN_SAME : STORE_DOMAIN_OTHER;
    else
        out->fit = out->head == 0 ? STORE_DOMAIN_FRESH : STORE_DOMAIN_NONE;
    return ST_OK;
}

void store_domain_check_done(struct store_domain_check *c)
{
    free(c->recorded);
    c->recorded = NULL;
}

char *store_domain_question(const struct store_domain_check *c, const char *db_path,
                            const char *name)
{
    if (c->fit == STORE_DOMAIN_OTHER)
        return xasprintf("%s was used with domain '%s', not '%s'", db_path, c->recorded, name);
    return xasprintf("%s has %lld event%s and no domain (an imported log?), not domain '%s'",
                     db_path, (long long)c->head, c->head == 1 ? "" : "s", name);
}

int store_domain_record(struct store *s, const char *name, err *e)
{
    return store_meta_set(s, META_DOMAIN, name, e);
}

int store_domain_claim(struct store *s, const char *name, bool force, err *e)
{
    struct store_domain_check c;
    int rc = store_domain_check(s, name, &c, e);
    if (rc != ST_OK)
        return rc;
    if (c.fit == STORE_DOMAIN_SAME) {
        store_domain_check_done(&c);
        return ST_OK;
    }
    if (c.fit == STORE_DOMAIN_FRESH || force) {
        store_domain_check_done(&c);
        return store_domain_record(s, name, e);
    }
    char *why = store_domain_question(&c, s->path, name);
    err_set(e, ST_ERR, "%s: nothing was written (--force uses it with '%s' and records that)", why,
            name);
    free(why);
    store_domain_check_done(&c);
    return ST_ERR;
}
