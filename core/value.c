/* value.c: Strata's one value type: refcounted strings, lists and maps with copy
 * on write, insertion-ordered maps with a hash index once they grow large (and,
 * for maps made by expressions, int and bool keys: enum vkey), exact and CEL
 * equality and a total order for sorting.
 *
 * Layout notes. A list or map made with a capacity hint gets its item array in the
 * same allocation as its header (one malloc instead of two; the JSON parser always
 * knows the exact size). Such an array is "inline": it is recognised by its address
 * (just after the header) and, when it must grow, it is moved to its own block
 * instead of being realloc'ed.
 *
 * Recursion. value_free never recurses (it keeps an explicit work stack), so
 * releasing a value nested arbitrarily deep is safe. value_copy_deep, value_equal
 * and value_compare do recurse, one frame per nesting level: values parsed from
 * JSON are at most JSON_MAX_DEPTH (512) deep, and values built in code are as deep
 * as the code makes them, which in Strata (state, payloads, rows) is shallow. */
#include "value.h"

#include "util.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A map builds its hash index when it grows past this many entries; below it a
 * linear scan (length first, then bytes) is faster than hashing. */
#define MAP_INDEX_MIN 16

/* ---- strings ---- */

/* A string's text bytes (with its NUL) rounded up to a multiple of 8: malloc
 * gives that much anyway (its sizes go by 16, the header is 16), and a string
 * may then be written over by a shorter or slightly longer one in place
 * (value_string_overwrite: a CSV reader's fields of varying length). */
static size_t vstring_room(size_t len)
{
    return (len + 1 + 7) & ~(size_t)7;
}

static struct vstring *vstring_alloc(size_t len)
{
    struct vstring *s = xmalloc(sizeof *s + vstring_room(len));
    s->refs = 1;
    s->hash = 0;
    s->len = len;
    s->text[len] = '\0';
    return s;
}

value value_string(const char *s, size_t len)
{
    struct vstring *vs = vstring_alloc(len);
    if (len)
        memcpy(vs->text, s, len);
    value v;
    v.type = V_STRING;
    v.u.s = vs;
    return v;
}

value value_cstring(const char *s)
{
    return value_string(s, strlen(s));
}

/* FNV-1a over the bytes, never 0 (0 in vstring.hash means "not computed"). */
static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h ? h : 1;
}

uint32_t value_string_hash(const value *s)
{
    assert(s->type == V_STRING);
    struct vstring *vs = s->u.s;
    if (!vs->hash)
        vs->hash = hash_bytes(vs->text, vs->len);
    return vs->hash;
}

/* ---- lists ---- */

static value *list_inline(struct vlist *l)
{
    return (value *)(l + 1);
}

value value_list(size_t capacity_hint)
{
    struct vlist *l = xmalloc(sizeof *l + capacity_hint * sizeof(value));
    l->refs = 1;
    l->len = 0;
    l->cap = capacity_hint;
    l->items = list_inline(l);
    value v;
    v.type = V_LIST;
    v.u.l = l;
    return v;
}

static void list_reserve(struct vlist *l, size_t need)
{
    if (need <= l->cap)
        return;
    size_t cap = l->cap < 4 ? 4 : l->cap * 2;
    while (cap < need)
        cap *= 2;
    if (l->items == list_inline(l)) {
        value *items = xmalloc(cap * sizeof(value));
        if (l->len)
            memcpy(items, l->items, l->len * sizeof(value));
        l->items = items;
    } else {
        l->items = xrealloc(l->items, cap * sizeof(value));
    }
    l->cap = cap;
}

/* Makes *list's heap part unshared: a new list holding new references to the
 * same items (shallow is enough, since shared items are themselves immutable). */
static void list_unshare(value *list, size_t extra)
{
    struct vlist *old = list->u.l;
    if (__atomic_load_n(&old->refs, __ATOMIC_ACQUIRE) == 1)
        return;
    value copy = value_list(old->len + extra);
    for (size_t i = 0; i < old->len; i++)
        copy.u.l->items[i] = value_ref(&old->items[i]);
    copy.u.l->len = old->len;
    value_free(*list); /* our reference to the shared original */
    *list = copy;
}

void value_list_push(value *list, value item)
{
    assert(list->type == V_LIST);
    list_unshare(list, 4);
    struct vlist *l = list->u.l;
    list_reserve(l, l->len + 1);
    l->items[l->len++] = item;
}

/* ---- maps ---- */

static struct vmap_entry *map_inline(struct vmap *m)
{
    return (struct vmap_entry *)(m + 1);
}

value value_map(size_t capacity_hint)
{
    struct vmap *m = xmalloc(sizeof *m + capacity_hint * sizeof(struct vmap_entry));
    m->refs = 1;
    m->len = 0;
    m->cap = capacity_hint;
    m->entries = map_inline(m);
    m->index = NULL;
    m->index_cap = 0;
    m->kinds = NULL;
    value v;
    v.type = V_MAP;
    v.u.m = m;
    return v;
}

/* (The first bytes are compared here: keys of one length mostly differ there,
 * and a call of memcmp costs more than most keys.) */
static bool key_is(const value *key, const char *s, size_t len)
{
    const struct vstring *k = key->u.s;
    return k->len == len && (len == 0 || (k->text[0] == s[0] && memcmp(k->text, s, len) == 0));
}

/* Puts entry i, whose key hashes to h, into the index (which has room:
 * index_cap > 2 * len). */
static void index_put(uint64_t *index, size_t cap, uint32_t h, size_t i)
{
    size_t mask = cap - 1;
    size_t slot = h & mask;
    while (index[slot])
        slot = (slot + 1) & mask;
    index[slot] = (uint64_t)h << 32 | (uint64_t)(i + 1);
}

/* (Re)builds the index for the current entries, or drops it for a small map.
 * same_places: the entries the old index names are where it says (the map only
 * grew), so their hashes are taken from it without reading a key. */
static void index_rebuild(struct vmap *m, bool same_places)
{
    uint64_t *old = m->index;
    size_t old_cap = m->index_cap;
    m->index = NULL;
    m->index_cap = 0;
    if (m->len <= MAP_INDEX_MIN) {
        free(old);
        return;
    }
    size_t cap = 64;
    while (cap < m->len * 2 + 2)
        cap *= 2;
    /* Slots hold entry index + 1 in their low 32 bits: maps are capped below 2^32 entries. */
    assert(m->len < UINT32_MAX);
    m->index = xcalloc(cap, sizeof *m->index);
    m->index_cap = cap;
    size_t from = 0; /* the entries from here on are put in by their keys */
    if (old && same_places) {
        for (size_t s = 0; s < old_cap; s++) {
            uint64_t e = old[s];
            if (!e)
                continue;
            size_t i = (size_t)(uint32_t)e - 1;
            index_put(m->index, cap, (uint32_t)(e >> 32), i);
            if (i + 1 > from)
                from = i + 1;
        }
    }
    free(old);
    for (size_t i = from; i < m->len; i++)
        index_put(m->index, cap, value_string_hash(&m->entries[i].key), i);
}

static enum vkey kind_at(const struct vmap *m, size_t i)
{
    return m->kinds ? (enum vkey)m->kinds[i] : VKEY_STRING;
}

/* Position of the key of that kind and text in m, or -1; *hash is the key's
 * hash when m has an index (else left alone). */
static ptrdiff_t map_find_h(const struct vmap *m, enum vkey kind, const char *key, size_t klen,
                            uint32_t *hash)
{
    if (!m->index) {
        if (kind != VKEY_STRING && !m->kinds)
            return -1;
        for (size_t i = 0; i < m->len; i++)
            if (key_is(&m->entries[i].key, key, klen) && kind_at(m, i) == kind)
                return (ptrdiff_t)i;
        return -1;
    }
    uint32_t h = hash_bytes(key, klen);
    *hash = h;
    if (kind != VKEY_STRING && !m->kinds)
        return -1;
    size_t mask = m->index_cap - 1;
    for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
        uint64_t e = m->index[slot];
        if (!e)
            return -1;
        if ((uint32_t)(e >> 32) != h)
            continue; /* another key: its entry is not read */
        size_t i = (size_t)(uint32_t)e - 1;
        if (key_is(&m->entries[i].key, key, klen) && kind_at(m, i) == kind)
            return (ptrdiff_t)i;
    }
}

static ptrdiff_t map_find(const struct vmap *m, enum vkey kind, const char *key, size_t klen)
{
    uint32_t h;
    return map_find_h(m, kind, key, klen, &h);
}

const value *value_map_getn(const value *map, const char *key, size_t klen)
{
    assert(map->type == V_MAP);
    ptrdiff_t i = map_find(map->u.m, VKEY_STRING, key, klen);
    return i < 0 ? NULL : &map->u.m->entries[i].val;
}

const value *value_map_get(const value *map, const char *key)
{
    return value_map_getn(map, key, strlen(key));
}

static void map_reserve(struct vmap *m, size_t need)
{
    if (need <= m->cap)
        return;
    size_t cap = m->cap < 4 ? 4 : m->cap * 2;
    while (cap < need)
        cap *= 2;
    if (m->entries == map_inline(m)) {
        struct vmap_entry *e = xmalloc(cap * sizeof *e);
        if (m->len)
            memcpy(e, m->entries, m->len * sizeof *e);
        m->entries = e;
    } else {
        m->entries = xrealloc(m->entries, cap * sizeof *m->entries);
    }
    if (m->kinds)
        m->kinds = xrealloc(m->kinds, cap);
    m->cap = cap;
}

static void map_copy(value *map);

/* Makes *map's heap part unshared (copied when someone else holds it). */
static inline void map_unshare(value *map)
{
    if (__atomic_load_n(&map->u.m->refs, __ATOMIC_ACQUIRE) != 1)
        map_copy(map);
}

static void map_copy(value *map)
{
    struct vmap *old = map->u.m;
    value copy = value_map(old->len + 1);
    struct vmap *m = copy.u.m;
    for (size_t i = 0; i < old->len; i++) {
        m->entries[i].key = value_ref(&old->entries[i].key);
        m->entries[i].val = value_ref(&old->entries[i].val);
    }
    m->len = old->len;
    if (old->index) {
        m->index = xmalloc(old->index_cap * sizeof *m->index);
        memcpy(m->index, old->index, old->index_cap * sizeof *m->index);
        m->index_cap = old->index_cap;
    }
    if (old->kinds) {
        m->kinds = xcalloc(m->cap, 1);
        memcpy(m->kinds, old->kinds, old->len);
    }
    value_free(*map); /* our reference to the shared original */
    *map = copy;
}

/* Sets key (an owned V_STRING, or NULL to make one from kbytes) of that kind to
 * val in an unshared map; returns its position. Shared by the setters. */
static size_t map_put(struct vmap *m, enum vkey kind, value *key, const char *kbytes, size_t klen,
                      value val)
{
    uint32_t h = 0;
    ptrdiff_t i = map_find_h(m, kind, kbytes, klen, &h);
    if (i >= 0) {
        value old = m->entries[i].val;
        m->entries[i].val = val;
        value_free(old);
        if (key)
            value_free(*key);
        return (size_t)i;
    }
    map_reserve(m, m->len + 1);
    if (kind != VKEY_STRING && !m->kinds)
        m->kinds = xcalloc(m->cap, 1); /* the first key that is not a string */
    if (m->kinds)
        m->kinds[m->len] = (uint8_t)kind;
    struct vmap_entry *e = &m->entries[m->len++];
    e->key = key ? *key : value_string(kbytes, klen);
    e->val = val;
    if (m->index && (m->len + 1) * 2 <= m->index_cap) {
        /* map_find_h hashed the key's text, as value_string_hash would */
        if (!e->key.u.s->hash)
            e->key.u.s->hash = h;
        index_put(m->index, m->index_cap, h, m->len - 1);
    } else if (m->len > MAP_INDEX_MIN) {
        index_rebuild(m, true);
    }
    return m->len - 1;
}

size_t value_map_setn(value *map, const char *key, size_t klen, value val)
{
    assert(map->type == V_MAP);
    map_unshare(map);
    return map_put(map->u.m, VKEY_STRING, NULL, key, klen, val);
}

ptrdiff_t value_map_find_at(const value *map, const char *key, size_t klen)
{
    assert(map->type == V_MAP);
    return map_find(map->u.m, VKEY_STRING, key, klen);
}

void value_map_set_at(value *map, size_t i, value val)
{
    assert(map->type == V_MAP && i < map->u.m->len);
    map_unshare(map);
    value old = map->u.m->entries[i].val;
    map->u.m->entries[i].val = val;
    value_free(old);
}

value *value_map_slot_at(value *map, size_t i)
{
    assert(map->type == V_MAP && i < map->u.m->len);
    map_unshare(map);
    return &map->u.m->entries[i].val;
}

bool value_string_overwrite(value *v, const char *s, size_t len)
{
    /* The room of its current length is at most what it was given (a string
     * only shrinks within its room). */
    if (v->type != V_STRING || vstring_room(len) > vstring_room(v->u.s->len) ||
        __atomic_load_n(&v->u.s->refs, __ATOMIC_ACQUIRE) != 1)
        return false;
    if (len) /* s may be NULL for an empty string, as in value_string */
        memcpy(v->u.s->text, s, len);
    v->u.s->text[len] = '\0';
    v->u.s->len = len;
    v->u.s->hash = 0;
    return true;
}

void value_map_set(value *map, const char *key, value val)
{
    value_map_setn(map, key, strlen(key), val);
}

void value_map_setv(value *map, value key, value val)
{
    assert(map->type == V_MAP && key.type == V_STRING);
    map_unshare(map);
    map_put(map->u.m, VKEY_STRING, &key, key.u.s->text, key.u.s->len, val);
}

/* The canonical text of an int or bool key; 0 for another type. */
static size_t key_text(const value *key, char buf[24])
{
    if (key->type == V_INT)
        return (size_t)snprintf(buf, 24, "%lld", (long long)key->u.i);
    if (key->type == V_BOOL) {
        strcpy(buf, key->u.b ? "true" : "false");
        return strlen(buf);
    }
    return 0;
}

void value_map_set_key(value *map, const value *key, value val)
{
    assert(map->type == V_MAP);
    if (key->type == V_STRING) {
        value_map_setv(map, value_ref(key), val);
        return;
    }
    char buf[24];
    size_t n = key_text(key, buf);
    assert(n > 0);
    map_unshare(map);
    map_put(map->u.m, key->type == V_INT ? VKEY_INT : VKEY_BOOL, NULL, buf, n, val);
}

const value *value_map_find(const value *map, const value *key)
{
    assert(map->type == V_MAP);
    if (key->type == V_STRING)
        return value_map_getn(map, key->u.s->text, key->u.s->len);
    value k = *key;
    if (k.type == V_DOUBLE) {
        /* a double finds the int key of the same value, when it is one exactly */
        double d = k.u.d;
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != trunc(d))
            return NULL;
        k = value_int((int64_t)d);
    }
    char buf[24];
    size_t n = key_text(&k, buf);
    if (!n)
        return NULL;
    ptrdiff_t i = map_find(map->u.m, k.type == V_INT ? VKEY_INT : VKEY_BOOL, buf, n);
    return i < 0 ? NULL : &map->u.m->entries[i].val;
}

const value *value_map_key_cel(const value *map, size_t i, value *scratch)
{
    const value *k = &map->u.m->entries[i].key;
    switch (kind_at(map->u.m, i)) {
    case VKEY_INT:
        *scratch = value_int(strtoll(k->u.s->text, NULL, 10)); /* its own canonical text */
        return scratch;
    case VKEY_BOOL:
        *scratch = value_bool(k->u.s->len == 4);
        return scratch;
    default:
        return k;
    }
}

bool value_has_typed_keys(const value *v)
{
    if (v->type == V_LIST) {
        for (size_t i = 0; i < v->u.l->len; i++)
            if (value_has_typed_keys(&v->u.l->items[i]))
                return true;
    } else if (v->type == V_MAP) {
        const struct vmap *m = v->u.m;
        for (size_t i = 0; i < m->len; i++)
            if (kind_at(m, i) != VKEY_STRING || value_has_typed_keys(&m->entries[i].val))
                return true;
    }
    return false;
}

static bool map_remove(value *map, enum vkey kind, const char *key, size_t klen)
{
    assert(map->type == V_MAP);
    if (map_find(map->u.m, kind, key, klen) < 0)
        return false;
    map_unshare(map);
    struct vmap *m = map->u.m;
    size_t i = (size_t)map_find(m, kind, key, klen);
    value k = m->entries[i].key, v = m->entries[i].val;
    memmove(&m->entries[i], &m->entries[i + 1], (m->len - i - 1) * sizeof *m->entries);
    if (m->kinds)
        memmove(&m->kinds[i], &m->kinds[i + 1], m->len - i - 1);
    m->len--;
    /* Entry positions after i moved down by one, so the index is rebuilt (removal
     * is O(n) anyway because insertion order is kept). */
    if (m->index)
        index_rebuild(m, false);
    value_free(k);
    value_free(v);
    return true;
}

bool value_map_remove(value *map, const char *key, size_t klen)
{
    return map_remove(map, VKEY_STRING, key, klen);
}

bool value_map_remove_key(value *map, const value *key)
{
    if (key->type == V_STRING)
        return map_remove(map, VKEY_STRING, key->u.s->text, key->u.s->len);
    char buf[24];
    size_t n = key_text(key, buf);
    return n && map_remove(map, key->type == V_INT ? VKEY_INT : VKEY_BOOL, buf, n);
}

/* ---- reference counting ----
 * Atomic, because a domain's values (defaults, constants inside compiled
 * expressions) are shared by the workbench and its projection runner thread. A
 * value that one thread mutates must still not be shared with another: copy on
 * write protects holders, not concurrent writers of one handle. */

/* Drops one reference of a heap part; true when that was the last one (the
 * caller frees). */
static inline bool release_heap(const value *v)
{
    return __atomic_sub_fetch(value_refs_(v), 1, __ATOMIC_ACQ_REL) == 0;
}

/* A work stack of heap parts whose last reference is gone. */
typedef struct free_stack {
    value *items;
    size_t len, cap;
    value small[32];
} free_stack;

static void free_stack_push(free_stack *st, value v)
{
    if (st->len == st->cap) {
        size_t cap = st->cap * 2;
        if (st->items == st->small) {
            st->items = xmalloc(cap * sizeof(value));
            memcpy(st->items, st->small, st->len * sizeof(value));
        } else {
            st->items = xrealloc(st->items, cap * sizeof(value));
        }
        st->cap = cap;
    }
    st->items[st->len++] = v;
}

/* Releases a child of a part being freed: a string whose last reference that
 * was is freed at once, a list or map goes on the stack. */
static inline void release_child(free_stack *st, const value *v)
{
    if (value_is_heap_(v->type) && release_heap(v)) {
        if (v->type == V_STRING)
            free(v->u.s);
        else
            free_stack_push(st, *v);
    }
}

void value_free_heap(value v)
{
    if (!release_heap(&v))
        return;
    if (v.type == V_STRING) { /* the common case, without the stack */
        free(v.u.s);
        return;
    }
    free_stack st;
    st.items = st.small;
    st.len = 0;
    st.cap = sizeof st.small / sizeof st.small[0];
    free_stack_push(&st, v);
    while (st.len) {
        value x = st.items[--st.len];
        if (x.type == V_STRING) {
            free(x.u.s);
        } else if (x.type == V_LIST) {
            struct vlist *l = x.u.l;
            for (size_t i = 0; i < l->len; i++)
                release_child(&st, &l->items[i]);
            if (l->items != list_inline(l))
                free(l->items);
            free(l);
        } else {
            struct vmap *m = x.u.m;
            for (size_t i = 0; i < m->len; i++) {
                release_child(&st, &m->entries[i].key);
                release_child(&st, &m->entries[i].val);
            }
            if (m->entries != map_inline(m))
                free(m->entries);
            free(m->index);
            free(m->kinds);
            free(m);
        }
    }
    if (st.items != st.small)
        free(st.items);
}

value value_copy_deep(const value *v)
{
    switch (v->type) {
    case V_STRING:
        return value_string(v->u.s->text, v->u.s->len);
    case V_LIST: {
        const struct vlist *l = v->u.l;
        value copy = value_list(l->len);
        for (size_t i = 0; i < l->len; i++)
            copy.u.l->items[i] = value_copy_deep(&l->items[i]);
        copy.u.l->len = l->len;
        return copy;
    }
    case V_MAP: {
        const struct vmap *m = v->u.m;
        value copy = value_map(m->len);
        struct vmap *c = copy.u.m;
        for (size_t i = 0; i < m->len; i++) {
            c->entries[i].key = value_copy_deep(&m->entries[i].key);
            c->entries[i].val = value_copy_deep(&m->entries[i].val);
        }
        c->len = m->len;
        if (m->kinds) {
            c->kinds = xcalloc(c->cap, 1);
            memcpy(c->kinds, m->kinds, m->len);
        }
        if (m->index)
            index_rebuild(c, false);
        return copy;
    }
    default:
        return *v;
    }
}

/* ---- comparison ---- */

/* An int and a double as cel-go compares them (compareIntDouble): a double
 * beyond int64's range decides alone; within it the int is compared as a double
 * (rounded), which is what cel-spec's cases expect (9223372036854775807 >=
 * 9223372036854775808.0 is true). 2 when d is NaN. */
static int cmp_int_double(int64_t i, double d)
{
    if (isnan(d))
        return 2;
    if (d < -9223372036854775808.0)
        return 1;
    if (d > 9223372036854775807.0) /* the double nearest INT64_MAX is 2^63 */
        return -1;
    double x = (double)i;
    return x < d ? -1 : x > d;
}

int value_num_cmp(const value *a, const value *b)
{
    assert((a->type == V_INT || a->type == V_DOUBLE) && (b->type == V_INT || b->type == V_DOUBLE));
    if (a->type == V_INT && b->type == V_INT)
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    if (a->type == V_DOUBLE && b->type == V_DOUBLE) {
        double x = a->u.d, y = b->u.d;
        return isnan(x) || isnan(y) ? 2 : x < y ? -1 : x > y;
    }
    if (a->type == V_INT)
        return cmp_int_double(a->u.i, b->u.d);
    int k = cmp_int_double(b->u.i, a->u.d);
    return k == 2 ? 2 : -k;
}

static bool is_num(const value *v)
{
    return v->type == V_INT || v->type == V_DOUBLE;
}

/* value_equal (cel false) and value_equal_cel (cel true) in one walk. */
static bool equal(const value *a, const value *b, bool cel)
{
    if (a->type != b->type)
        return cel && is_num(a) && is_num(b) && value_num_cmp(a, b) == 0;
    switch (a->type) {
    case V_NULL:
        return true;
    case V_BOOL:
        return a->u.b == b->u.b;
    case V_INT:
        return a->u.i == b->u.i;
    case V_DOUBLE:
        return a->u.d == b->u.d; /* NaN != NaN, -0.0 == 0.0, as in CEL */
    case V_TIMESTAMP:
        return a->u.i == b->u.i && a->ns == b->ns;
    case V_DURATION:
        return a->u.i == b->u.i;
    case V_STRING:
        return a->u.s == b->u.s ||
               (a->u.s->len == b->u.s->len && memcmp(a->u.s->text, b->u.s->text, a->u.s->len) == 0);
    case V_LIST: {
        /* No shortcut for the same heap part: a list holding NaN is not equal to itself. */
        const struct vlist *x = a->u.l, *y = b->u.l;
        if (x->len != y->len)
            return false;
        for (size_t i = 0; i < x->len; i++)
            if (!equal(&x->items[i], &y->items[i], cel))
                return false;
        return true;
    }
    case V_MAP: {
        const struct vmap *x = a->u.m, *y = b->u.m;
        if (x->len != y->len)
            return false;
        for (size_t i = 0; i < x->len; i++) {
            /* Same position first: maps built the same way usually share an order. */
            const value *k = &x->entries[i].key;
            enum vkey kind = kind_at(x, i);
            const value *other;
            if (i < y->len && key_is(&y->entries[i].key, k->u.s->text, k->u.s->len) &&
                kind_at(y, i) == kind) {
                other = &y->entries[i].val;
            } else {
                ptrdiff_t j = map_find(y, kind, k->u.s->text, k->u.s->len);
                if (j < 0)
                    return false;
                other = &y->entries[j].val;
            }
            if (!equal(&x->entries[i].val, other, cel))
                return false;
        }
        return true;
    }
    }
    return false;
}

bool value_equal(const value *a, const value *b)
{
    return equal(a, b, false);
}

bool value_equal_cel(const value *a, const value *b)
{
    return equal(a, b, true);
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* An entry with its key's kind, for sorting (the kind lives beside the entry). */
struct kentry {
    const struct vmap_entry *e;
    enum vkey kind;
};

static int cmp_entry_keys(const void *pa, const void *pb)
{
    const struct kentry *a = pa, *b = pb;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return cmp_bytes(a->e->key.u.s->text, a->e->key.u.s->len, b->e->key.u.s->text,
                     b->e->key.u.s->len);
}

static struct kentry *sorted_entries(const struct vmap *m)
{
    struct kentry *e = xmalloc((m->len ? m->len : 1) * sizeof *e);
    for (size_t i = 0; i < m->len; i++) {
        e[i].e = &m->entries[i];
        e[i].kind = kind_at(m, i);
    }
    qsort(e, m->len, sizeof *e, cmp_entry_keys);
    return e;
}

bool value_same(const value *a, const value *b)
{
    if (a->type != b->type)
        return false;
    if ((a->type == V_LIST && a->u.l == b->u.l) || (a->type == V_MAP && a->u.m == b->u.m) ||
        (a->type == V_STRING && a->u.s == b->u.s))
        return true;
    return value_equal(a, b);
}

int value_compare(const value *a, const value *b)
{
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    switch (a->type) {
    case V_NULL:
        return 0;
    case V_BOOL:
        return (int)a->u.b - (int)b->u.b;
    case V_INT:
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    case V_DOUBLE: {
        /* NaN sorts after every number and equal to itself, so the order is total. */
        double x = a->u.d, y = b->u.d;
        bool xn = isnan(x), yn = isnan(y);
        if (xn || yn)
            return xn == yn ? 0 : xn ? 1 : -1;
        return x < y ? -1 : x > y;
    }
    case V_STRING:
        return cmp_bytes(a->u.s->text, a->u.s->len, b->u.s->text, b->u.s->len);
    case V_TIMESTAMP:
        if (a->u.i != b->u.i)
            return a->u.i < b->u.i ? -1 : 1;
        return a->ns < b->ns ? -1 : a->ns > b->ns;
    case V_DURATION:
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    case V_LIST: {
        const struct vlist *x = a->u.l, *y = b->u.l;
        for (size_t i = 0; i < x->len && i < y->len; i++) {
            int c = value_compare(&x->items[i], &y->items[i]);
            if (c)
                return c;
        }
        return x->len < y->len ? -1 : x->len > y->len;
    }
    case V_MAP: {
        /* Order-independent, like value_equal: smaller maps first, then the
         * entries compared in key order. */
        const struct vmap *x = a->u.m, *y = b->u.m;
        if (x->len != y->len)
            return x->len < y->len ? -1 : 1;
        struct kentry *ex = sorted_entries(x), *ey = sorted_entries(y);
        int c = 0;
        for (size_t i = 0; i < x->len && !c; i++) {
            c = cmp_entry_keys(&ex[i], &ey[i]);
            if (!c)
                c = value_compare(&ex[i].e->val, &ey[i].e->val);
        }
        free(ex);
        free(ey);
        return c;
    }
    }
    return 0;
}

const char *vtype_name(vtype t)
{
    switch (t) {
    case V_NULL:
        return "null";
    case V_BOOL:
        return "bool";
    case V_INT:
        return "int";
    case V_DOUBLE:
        return "double";
    case V_STRING:
        return "string";
    case V_LIST:
        return "list";
    case V_MAP:
        return "map";
    case V_TIMESTAMP:
        return "timestamp";
    case V_DURATION:
        return "duration";
    }
    return "?";
}
