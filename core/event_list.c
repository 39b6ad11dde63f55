/* event_list.c: lists of events (store.h) and who owns their strings.
 *
 * An event's five strings are either allocations of their own (an appended event,
 * a copy, a branch's row) or, for an event a backend read (event_list_set_strings),
 * bytes of the list's arena: a few large blocks reused from page to page, so that
 * reading a page costs no malloc and no free per string. event_list_clear frees the
 * first kind one by one and rewinds the arena. The rule that follows: an event is
 * copied out of a list with event_list_push_copy, never by copying the struct. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"
#include "util.h"

/* The first block of an arena; each next one is twice the last. */
#define ARENA_FIRST 4096

struct arena_block {
    char *mem;
    size_t used, cap;
};

struct event_arena {
    struct arena_block *blocks;
    size_t n, cap;
    size_t next_cap; /* after a clear that freed several blocks: the size of the next one */
    size_t nev;      /* events of the list whose strings are here */
};

void event_list_init(struct event_list *l)
{
    l->items = NULL;
    l->len = l->cap = 0;
    l->arena = NULL;
}

struct event *event_list_add(struct event_list *l)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    return &l->items[l->len++];
}

static bool in_arena(const struct event_arena *a, const char *p)
{
    for (size_t i = 0; a && i < a->n; i++)
        if ((uintptr_t)p - (uintptr_t)a->blocks[i].mem < a->blocks[i].cap)
            return true;
    return false;
}

static void free_unless_arena(const struct event_arena *a, char *p)
{
    if (p && !in_arena(a, p))
        free(p);
}

/* Frees ev's strings that are allocations of their own. */
static void event_free_strings(const struct event_arena *a, struct event *ev)
{
    free_unless_arena(a, ev->stream);
    free_unless_arena(a, ev->type);
    free_unless_arena(a, ev->time);
    free_unless_arena(a, ev->data);
    free_unless_arena(a, ev->meta);
}

static char *arena_take(struct event_list *l, size_t n)
{
    struct event_arena *a = l->arena;
    if (!a)
        a = l->arena = xcalloc(1, sizeof *a);
    struct arena_block *b = a->n ? &a->blocks[a->n - 1] : NULL;
    if (!b || b->cap - b->used < n) {
        size_t cap = b ? b->cap * 2 : a->next_cap > ARENA_FIRST ? a->next_cap : ARENA_FIRST;
        if (cap < n)
            cap = n;
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 4;
            a->blocks = xrealloc(a->blocks, a->cap * sizeof *a->blocks);
        }
        b = &a->blocks[a->n++];
        b->mem = xmalloc(cap);
        b->used = 0;
        b->cap = cap;
    }
    char *p = b->mem + b->used;
    b->used += n;
    return p;
}

void event_list_set_strings(struct event_list *l, struct event *ev, const char *const text[5],
                            const size_t len[5])
{
    size_t total = 0;
    for (int k = 0; k < 5; k++)
        total += text[k] ? len[k] + 1 : 0;
    char *p = arena_take(l, total ? total : 1);
    char **to[5] = {&ev->stream, &ev->type, &ev->time, &ev->data, &ev->meta};
    for (int k = 0; k < 5; k++) {
        if (!text[k]) {
            *to[k] = NULL;
            continue;
        }
        memcpy(p, text[k], len[k]);
        p[len[k]] = '\0';
        *to[k] = p;
        p += len[k] + 1;
    }
    l->arena->nev++;
}

/* Empties the arena for the next page: one block, as large as what they held and
 * an eighth more, is taken next time, so a page like the last needs one block. */
static void arena_rewind(struct event_arena *a)
{
    a->nev = 0;
    if (a->n == 1) {
        a->blocks[0].used = 0;
        return;
    }
    size_t sum = 0;
    for (size_t i = 0; i < a->n; i++) {
        sum += a->blocks[i].used;
        free(a->blocks[i].mem);
    }
    sum += sum / 8;
    a->n = 0;
    if (sum > a->next_cap)
        a->next_cap = sum;
}

void event_list_drop(struct event_list *l, size_t keep)
{
    while (l->len > keep) {
        struct event *ev = &l->items[--l->len];
        if (l->arena && in_arena(l->arena, ev->stream))
            l->arena->nev--;
        event_free_strings(l->arena, ev);
    }
}

void event_list_clear(struct event_list *l)
{
    struct event_arena *a = l->arena;
    if (!a || a->nev != l->len) /* else every string is in the arena */
        for (size_t i = 0; i < l->len; i++)
            event_free_strings(a, &l->items[i]);
    l->len = 0;
    if (a)
        arena_rewind(a);
}

void event_list_done(struct event_list *l)
{
    event_list_clear(l);
    if (l->arena) {
        for (size_t i = 0; i < l->arena->n; i++)
            free(l->arena->blocks[i].mem);
        free(l->arena->blocks);
        free(l->arena);
    }
    free(l->items);
    event_list_init(l);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void event_list_push_copy(struct event_list *l, const struct event *ev)
{
    struct event *d = event_list_add(l);
    d->position = ev->position;
    d->version = ev->version;
    d->schema = ev->schema;
    d->stream = dup_or_null(ev->stream);
    d->type = dup_or_null(ev->type);
    d->time = dup_or_null(ev->time);
    d->data = dup_or_null(ev->data);
    d->meta = dup_or_null(ev->meta);
}
