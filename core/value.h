/* value.h: the one value type used everywhere in Strata.
 *
 * Payloads, state, event data, projection rows and expression results are all
 * values: null, bool, int64, double, string, list or map (JSON's model, with ints
 * and doubles kept distinct so 9007199254740993 survives and 1 != 1.0 in type).
 * Expressions also make CEL's timestamps and durations (core/instant.h); they
 * never leave an evaluation as such (expr_eval turns them into their text), and
 * JSON writes them as that text.
 *
 * A `value` is a small handle passed by value. Scalars live inside it; strings,
 * lists and maps live on the heap with a reference count, so sharing a sub-value
 * (state.lines into the next state) is O(1). Heap parts are immutable once shared:
 * the mutating functions below copy first when the part is shared (copy on write),
 * so a caller can never change a value someone else holds.
 *
 * Ownership: a function that takes a `value` (not a pointer) takes ownership of
 * it; one that returns a `value` gives the caller a reference to release with
 * value_free. `const value *` arguments are borrowed. */
#ifndef STRATA_VALUE_H
#define STRATA_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum vtype {
    V_NULL = 0,
    V_BOOL,
    V_INT,
    V_DOUBLE,
    V_STRING,
    V_LIST,
    V_MAP,
    V_TIMESTAMP, /* u.i seconds since the epoch, ns the nanoseconds within it */
    V_DURATION,  /* u.i signed nanoseconds */
} vtype;

struct vstring;
struct vlist;
struct vmap;

typedef struct value {
    vtype type;
    uint32_t ns; /* V_TIMESTAMP only (it sits in what would be padding); else unset */
    union {
        bool b;
        int64_t i;
        double d;
        struct vstring *s;
        struct vlist *l;
        struct vmap *m;
    } u;
} value;

/* Heap parts. Read them through the accessors below; the layout is public only
 * so that hot loops can be inlined. */
struct vstring {
    uint32_t refs;
    uint32_t hash; /* 0 = not computed yet */
    size_t len;
    char text[]; /* len bytes, then a NUL; may contain NUL bytes */
};
struct vlist {
    uint32_t refs;
    size_t len, cap;
    value *items;
};
struct vmap_entry {
    value key; /* always a V_STRING (an int or bool key as its text: see enum vkey) */
    value val;
};
struct vmap {
    uint32_t refs;
    size_t len, cap;
    struct vmap_entry *entries; /* in insertion order */
    /* hash index, built when the map grows large; NULL when small. A slot is 0
     * (empty) or (key's hash << 32) | (entry index + 1): a probe compares hashes
     * without reading the entry or its key. */
    uint64_t *index;
    size_t index_cap;
    uint8_t *kinds; /* enum vkey of each entry (cap of them); NULL while every key
                       is a string, which is every map outside expressions */
};

/* Constructors. */
static inline value value_null(void)
{
    value v;
    v.type = V_NULL;
    v.u.i = 0;
    return v;
}
static inline value value_bool(bool b)
{
    value v;
    v.type = V_BOOL;
    v.u.i = 0;
    v.u.b = b;
    return v;
}
static inline value value_int(int64_t i)
{
    value v;
    v.type = V_INT;
    v.u.i = i;
    return v;
}
static inline value value_double(double d)
{
    value v;
    v.type = V_DOUBLE;
    v.u.d = d;
    return v;
}
static inline value value_timestamp(int64_t sec, uint32_t ns)
{
    value v;
    v.type = V_TIMESTAMP;
    v.ns = ns;
    v.u.i = sec;
    return v;
}
static inline value value_duration(int64_t ns)
{
    value v;
    v.type = V_DURATION;
    v.ns = 0;
    v.u.i = ns;
    return v;
}
value value_string(const char *s, size_t len); /* copies s */
value value_cstring(const char *s);            /* copies s up to its NUL */
value value_list(size_t capacity_hint);        /* empty list */
value value_map(size_t capacity_hint);         /* empty map */

/* Reference counting. value_ref returns another reference to the same value;
 * value_free releases one (nothing to do for a scalar; a heap part whose last
 * reference it was is freed by value_free_heap). */
static inline bool value_is_heap_(vtype t)
{
    return t == V_STRING || t == V_LIST || t == V_MAP;
}
/* The reference count of a heap part (each one's first member). */
static inline uint32_t *value_refs_(const value *v)
{
    return v->type == V_STRING ? &v->u.s->refs : v->type == V_LIST ? &v->u.l->refs : &v->u.m->refs;
}
void value_free_heap(value v);
static inline value value_ref(const value *v)
{
    if (value_is_heap_(v->type))
        __atomic_fetch_add(value_refs_(v), 1, __ATOMIC_RELAXED);
    return *v;
}
static inline void value_free(value v)
{
    if (value_is_heap_(v.type))
        value_free_heap(v);
}
value value_copy_deep(const value *v); /* an unshared copy of every level */

/* Strings. */
static inline const char *value_str(const value *v)
{
    return v->u.s->text;
}
static inline size_t value_strlen(const value *v)
{
    return v->u.s->len;
}

/* Lists. */
static inline size_t value_list_len(const value *l)
{
    return l->u.l->len;
}
static inline const value *value_list_at(const value *l, size_t i)
{
    return &l->u.l->items[i];
}
void value_list_push(value *list, value item); /* takes item; copies list if shared */

/* Maps: keys are strings, kept in insertion order; setting an existing key keeps
 * its place. Lookup is linear for small maps and hashed for large ones. The
 * functions below that take a key as text name a string key: they neither find
 * nor remove an int or bool key (see enum vkey). */
static inline size_t value_map_len(const value *m)
{
    return m->u.m->len;
}
static inline const value *value_map_key_at(const value *m, size_t i)
{
    return &m->u.m->entries[i].key;
}
static inline const value *value_map_val_at(const value *m, size_t i)
{
    return &m->u.m->entries[i].val;
}
const value *value_map_get(const value *map, const char *key); /* NULL when absent */
const value *value_map_getn(const value *map, const char *key, size_t klen);
void value_map_set(value *map, const char *key, value val); /* takes val */
/* Returns where key sits now (its place, or the end when it is new). */
size_t value_map_setn(value *map, const char *key, size_t klen, value val);
/* Where the string key sits (< value_map_len), or -1 when absent: a caller
 * that will set it again can do so by value_map_set_at, with no second search. */
ptrdiff_t value_map_find_at(const value *map, const char *key, size_t klen);
void value_map_setv(value *map, value key, value val); /* takes key (a string) and val */
/* Sets the value of entry i (< value_map_len) to val (taken), keeping its key: a
 * caller that knows where a key sits need not look for it. */
void value_map_set_at(value *map, size_t i, value val);
/* Entry i's value, to be changed in place (the map is unshared first). */
value *value_map_slot_at(value *map, size_t i);
/* Makes *v the string s[0..len) by writing over its text when *v is a string
 * no one else holds whose room takes len bytes (its text was allocated by
 * eights: any length whose text and NUL fit the same eights; nothing
 * allocated); false, and *v left alone, otherwise. */
bool value_string_overwrite(value *v, const char *s, size_t len);
bool value_map_remove(value *map, const char *key, size_t klen); /* true if it was there */

/* The kind of a map key. Stored data (JSON, events, state, rows) has string keys
 * only, but a CEL map literal may also have int and bool keys ({1: 'a'},
 * {true: 5}). Such a key is kept as its canonical text ("1", "true") with its
 * kind beside it (struct vmap.kinds), so that every key is still a V_STRING for
 * the code that reads keys as text (JSON prints {1: 'a'} as {"1":"a"}), while
 * lookups tell 1 from '1'. value_has_typed_keys finds such maps where they must
 * not go (into stored data). */
enum vkey { VKEY_STRING = 0, VKEY_INT, VKEY_BOOL };
static inline enum vkey value_map_key_kind(const value *m, size_t i)
{
    return m->u.m->kinds ? (enum vkey)m->u.m->kinds[i] : VKEY_STRING;
}
/* Sets key (a string, int or bool, borrowed) to val (taken). */
void value_map_set_key(value *map, const value *key, value val);
/* Removes key (a string, int or bool); true if it was there. */
bool value_map_remove_key(value *map, const value *key);
/* CEL's lookup: the value of key (a string, int or bool; or a double that is
 * an int's value exactly, as cel-spec's heterogeneous keys), or NULL when absent
 * or when key cannot be a key. */
const value *value_map_find(const value *map, const value *key);
/* Key i as CEL sees it: the string key itself, or an int or bool made in
 * *scratch (which needs no freeing). */
const value *value_map_key_cel(const value *map, size_t i, value *scratch);
/* True when v is or holds (at any depth) a map with an int or bool key. */
bool value_has_typed_keys(const value *v);

/* Comparison (a map's keys match by text and kind). value_equal is exact: an int and a double are
 * never equal (different types: 1 and 1.0 are different JSON and different stored data); lists and
 * maps compare element-wise, maps regardless of order. For stored data, JSON round trips and change
 * detection. */
bool value_equal(const value *a, const value *b);
/* CEL's `==` (cel-spec's heterogeneous equality): as value_equal, except that an
 * int and a double that are the same number are equal, at any depth (1 == 1.0,
 * [1] == [1.0]). For the expression language only. */
bool value_equal_cel(const value *a, const value *b);
/* CEL's order of two numbers (each an int or a double, in any mix): -1, 0 or 1,
 * or 2 when they are unordered (a NaN). An int and a double compare as cel-go
 * does: the int as a double, unless the double is beyond int64's range. */
int value_num_cmp(const value *a, const value *b);
/* For change detection: true when a and b are the same heap part (a column that
 * nothing touched still shares it with the row before: no look inside, so a long
 * list costs nothing), else value_equal. Unlike value_equal, a shared list holding
 * NaN is the same as itself. */
bool value_same(const value *a, const value *b);
/* A total order for sorting (type first, then content); not CEL's `<`. */
int value_compare(const value *a, const value *b);

const char *vtype_name(vtype t); /* "null", "bool", "int", "double", "string", "list", "map",
                                    "timestamp", "duration" */

/* Hash of a string's bytes (cached in the vstring). */
uint32_t value_string_hash(const value *s);

#endif
