/* poison.c: scanning a store for events its domain cannot read (see poison.h). */
#include "poison.h"

#include <stdio.h>
#include <string.h>

#include "aggregate.h"

#define PAGE 1000

/* The reason without the prefix that says which event (the caller lists that). */
static const char *bare_reason(const struct event *ev, const char *msg)
{
    char prefix[600];
    snprintf(prefix, sizeof prefix, "event %s at position %lld (stored at schema %d): ", ev->type,
             (long long)ev->position, ev->schema);
    size_t n = strlen(prefix);
    if (strncmp(msg, prefix, n) == 0)
        return msg + n;
    snprintf(prefix, sizeof prefix, "event %s at position %lld: ", ev->type,
             (long long)ev->position);
    n = strlen(prefix);
    if (strncmp(msg, prefix, n) == 0)
        return msg + n;
    return msg;
}

int poison_scan(struct store *s, const struct domain *d, poison_fn fn, void *ctx, int64_t *checked,
                int64_t *found, err *e)
{
    int64_t nchecked = 0, nfound = 0;
    struct event_filter f;
    memset(&f, 0, sizeof f);
    struct event_iter *it = store_iter_open(s, &f, PAGE);
    const struct event *ev;
    int n, rc = ST_OK;
    while ((n = store_iter_next(it, &ev, e)) == 1) {
        nchecked++;
        err why;
        err_clear(&why);
        if (event_validate(d, ev, NULL, true, &why) == ST_OK)
            continue;
        nfound++;
        struct poison p = {ev, bare_reason(ev, why.msg)};
        if ((rc = fn(&p, ctx)) != 0)
            break;
    }
    store_iter_close(it);
    if (n < 0)
        rc = ST_ERR;
    if (checked)
        *checked = nchecked;
    if (found)
        *found = nfound;
    return rc;
}
