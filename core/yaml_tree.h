/* yaml_tree.h: a YAML document as a small tree of nodes that remember where they
 * stood (line and column), built from libyaml's event parser.
 *
 * The domain loader needs positions for every message, which libyaml's own
 * document API does not keep for keys; it also needs YAML's hazards refused before
 * anything else looks at the data. ytree_parse therefore refuses, each with a
 * plain message and a position: files over YTREE_MAX_BYTES, NUL bytes, bytes that
 * are not UTF-8, an empty file, more than one document, tabs used for
 * indentation, duplicate keys (both places named), keys that are not scalars,
 * nesting deeper than YTREE_MAX_DEPTH, more than YTREE_MAX_NODES nodes, and
 * aliases whose expansion would copy more than YTREE_MAX_ALIAS_NODES nodes in
 * total (so a "billion laughs" file is refused after a few thousand copies).
 * Aliases within that bound are expanded into copies, so the tree stays a tree. */
#ifndef STRATA_YAML_TREE_H
#define STRATA_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#define YTREE_MAX_BYTES (16u * 1024u * 1024u)
#define YTREE_MAX_DEPTH 200
#define YTREE_MAX_NODES 2000000
#define YTREE_MAX_ALIAS_NODES 10000

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };
enum ynode_style { YS_PLAIN, YS_SINGLE, YS_DOUBLE, YS_LITERAL, YS_FOLDED };

struct ynode {
    enum ynode_kind kind;
    int line, col; /* 1-based, in characters, where the node starts */
    int end_line;  /* line where it ends (a scalar spanning lines has end_line > line) */
    /* scalars */
    char *text; /* NUL-terminated (the text itself has no NUL: the file has none) */
    size_t len;
    enum ynode_style style;
    bool str_tag; /* an explicit !!str: never a number, bool or null */
    /* sequences: items[0..n); mappings: items[2i] is a key (a scalar), items[2i+1] its value */
    struct ynode **items;
    size_t n; /* items in a sequence; key/value pairs in a mapping */
};

/* A problem found while parsing, with the path of keys that led to it
 * ("aggregates.Account.state", or "" at the top). */
struct yproblem {
    int line, col;
    char *path;
    char *message;
};

struct yproblems {
    struct yproblem *items;
    size_t len, cap;
};

/* Parses text[0..len) as one YAML document. Returns the root node (owned by the
 * caller, freed with ynode_free), or NULL with at least one problem appended to
 * probs (an empty file is a problem too). Duplicate keys are reported but do not
 * stop the parse: the tree is returned with only the first of each, so the caller
 * can go on checking; any problem appended means the file is not acceptable.
 * Safe on any bytes. */
struct ynode *ytree_parse(const char *text, size_t len, struct yproblems *probs);

void ynode_free(struct ynode *n);
void yproblems_done(struct yproblems *p);

/* Mapping helpers. ynode_key returns the key text of pair i, ynode_val its value. */
static inline const char *ynode_key(const struct ynode *map, size_t i)
{
    return map->items[2 * i]->text;
}
static inline struct ynode *ynode_keynode(const struct ynode *map, size_t i)
{
    return map->items[2 * i];
}
static inline struct ynode *ynode_val(const struct ynode *map, size_t i)
{
    return map->items[2 * i + 1];
}
/* The value for key in a mapping, or NULL. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
/* The key node for key in a mapping, or NULL. */
struct ynode *ynode_getkey(const struct ynode *map, const char *key);

/* "a mapping", "a list", "a string" (for "expected X, got Y" messages). */
const char *ynode_kind_name(const struct ynode *n);

/* True for a plain scalar that YAML's core schema reads as null (``, `~`, `null`). */
bool ynode_is_null(const struct ynode *n);

#endif
