/* state_cache.c: the states a store handle loaded (see state_cache.h). Open
 * addressing keyed by stream name and rules hash; emptied when it holds
 * STATE_CACHE_MAX entries. */
#include "state_cache.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define CAP (STATE_CACHE_MAX * 2) /* a power of two: load factor at most 1/2 */

struct state_entry {
    char *stream; /* NULL = empty */
    char rules_hash[17];
    value state;
    int64_t version, position;
};

struct state_cache {
    struct state_entry slots[CAP];
    size_t len;
};

static struct state_entry *slot(struct state_cache *c, const char *stream, const char *rules_hash)
{
    uint64_t h = hash_fnv1a(HASH_FNV_INIT, stream, strlen(stream));
    h = hash_fnv1a(h, rules_hash, strlen(rules_hash));
    size_t i = (size_t)h & (CAP - 1);
    while (c->slots[i].stream && (strcmp(c->slots[i].stream, stream) != 0 ||
                                  strcmp(c->slots[i].rules_hash, rules_hash) != 0))
        i = (i + 1) & (CAP - 1);
    return &c->slots[i];
}

bool state_cache_get(struct state_cache *c, const char *stream, const char *rules_hash,
                     value *state, int64_t *version, int64_t *position)
{
    if (!c)
        return false;
    struct state_entry *se = slot(c, stream, rules_hash);
    if (!se->stream)
        return false;
    *state = value_copy_deep(&se->state);
    *version = se->version;
    *position = se->position;
    return true;
}

static void empty(struct state_cache *c)
{
    for (size_t i = 0; i < CAP; i++) {
        if (c->slots[i].stream) {
            free(c->slots[i].stream);
            value_free(c->slots[i].state);
            c->slots[i].stream = NULL;
        }
    }
    c->len = 0;
}

void state_cache_put(struct state_cache **cp, const char *stream, const char *rules_hash,
                     const value *state, int64_t version, int64_t position)
{
    if (strlen(rules_hash) >= sizeof((struct state_entry *)0)->rules_hash)
        return;
    if (!*cp)
        *cp = xcalloc(1, sizeof **cp);
    struct state_cache *c = *cp;
    struct state_entry *se = slot(c, stream, rules_hash);
    if (se->stream) {
        if (se->version >= version)
            return;
        value_free(se->state);
    } else {
        if (c->len >= STATE_CACHE_MAX) {
            empty(c);
            se = slot(c, stream, rules_hash);
        }
        se->stream = xstrdup(stream);
        memcpy(se->rules_hash, rules_hash, strlen(rules_hash) + 1);
        c->len++;
    }
    se->state = value_copy_deep(state);
    se->version = version;
    se->position = position;
}

void state_cache_free(struct state_cache *c)
{
    if (!c)
        return;
    empty(c);
    free(c);
}
