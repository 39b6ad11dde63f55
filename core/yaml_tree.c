/* yaml_tree.c: libyaml events into a tree of positioned nodes, refusing YAML's
 * hazards with plain messages (see yaml_tree.h for the list and the limits). */
#include "core/yaml_tree.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/utf8.h"
#include "core/util.h"

struct frame {
    struct ynode *node;
    size_t cap;
    struct ynode *pending_key; /* mappings: the key whose value is being read */
    char *anchor;              /* the anchor this container defines, registered at its end */
};

struct anchor {
    char *name;
    struct ynode *node; /* owned: a private copy, so later edits of the tree cannot touch it */
};

struct builder {
    const char *text;
    size_t len;
    struct yproblems *probs;
    struct frame stack[YTREE_MAX_DEPTH + 1];
    int depth;
    struct anchor *anchors;
    size_t nanchors, capanchors;
    size_t nodes, alias_nodes;
    struct ynode *root;
    int documents;
    bool failed;
};

static void problem_add(struct yproblems *p, int line, int col, const char *path, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

static void problem_add(struct yproblems *p, int line, int col, const char *path, const char *fmt,
                        ...)
{
    if (p->len == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = xrealloc(p->items, p->cap * sizeof *p->items);
    }
    struct yproblem *y = &p->items[p->len++];
    y->line = line;
    y->col = col;
    y->path = xstrdup(path ? path : "");
    strbuf sb;
    sb_init(&sb);
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    y->message = sb_steal(&sb);
}

void yproblems_done(struct yproblems *p)
{
    for (size_t i = 0; i < p->len; i++) {
        free(p->items[i].path);
        free(p->items[i].message);
    }
    free(p->items);
    p->items = NULL;
    p->len = p->cap = 0;
}

void ynode_free(struct ynode *n)
{
    if (!n)
        return;
    if (n->kind == YN_SCALAR) {
        free(n->text);
    } else {
        size_t count = n->kind == YN_MAP ? 2 * n->n : n->n;
        for (size_t i = 0; i < count; i++)
            ynode_free(n->items[i]);
        free(n->items);
    }
    free(n);
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
    if (!map || map->kind != YN_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(ynode_key(map, i), key) == 0)
            return ynode_val(map, i);
    return NULL;
}

struct ynode *ynode_getkey(const struct ynode *map, const char *key)
{
    if (!map || map->kind != YN_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(ynode_key(map, i), key) == 0)
            return ynode_keynode(map, i);
    return NULL;
}

const char *ynode_kind_name(const struct ynode *n)
{
    if (!n)
        return "nothing";
    switch (n->kind) {
    case YN_MAP:
        return "a mapping";
    case YN_SEQ:
        return "a list";
    default:
        return ynode_is_null(n) ? "nothing (null)" : "a scalar";
    }
}

bool ynode_is_null(const struct ynode *n)
{
    if (!n || n->kind != YN_SCALAR || n->style != YS_PLAIN || n->str_tag)
        return false;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

/* ---- positions ---- */

/* Line and column (in characters, as libyaml counts them) of byte offset off. */
static void pos_of_offset(const char *text, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* The byte at 1-based line/column (column in characters), or -1 past the end. */
static int byte_at(const char *text, size_t len, int line, int col)
{
    size_t i = 0;
    for (int l = 1; l < line && i < len; i++)
        if (text[i] == '\n')
            l++;
    for (int c = 1; i < len && text[i] != '\n'; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80)
            continue;
        if (c == col)
            return (unsigned char)text[i];
        c++;
    }
    return i < len && col >= 1 ? (unsigned char)text[i] : -1;
}

/* Where the first tab of a line's leading blanks is, if any (0 when none). */
static int leading_tab_col(const char *text, size_t len, int line)
{
    size_t i = 0;
    for (int l = 1; l < line && i < len; i++)
        if (text[i] == '\n')
            l++;
    for (int c = 1; i < len && (text[i] == ' ' || text[i] == '\t'); i++, c++)
        if (text[i] == '\t')
            return c;
    return 0;
}

/* The checks on raw bytes, before libyaml sees them. */
static bool check_bytes(const char *text, size_t len, struct yproblems *probs)
{
    if (len > YTREE_MAX_BYTES) {
        problem_add(probs, 1, 1, "", "the file is %zu bytes; a domain file may be at most %u MB",
                    len, YTREE_MAX_BYTES / (1024u * 1024u));
        return false;
    }
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        if (s[i] == 0) {
            int l, c;
            pos_of_offset(text, len, i, &l, &c);
            problem_add(probs, l, c, "",
                        "the file contains a NUL byte; a domain file is UTF-8 text");
            return false;
        }
        size_t n = utf8_seq(text + i, len - i);
        if (n == 0) {
            int l, c;
            pos_of_offset(text, len, i, &l, &c);
            problem_add(probs, l, c, "",
                        "the file is not valid UTF-8 (byte 0x%02X); save it as UTF-8", s[i]);
            return false;
        }
        i += n;
    }
    return true;
}

/* ---- building ---- */

static void path_of(const struct builder *b, int upto, strbuf *sb)
{
    for (int i = 0; i < upto; i++) {
        const struct frame *f = &b->stack[i];
        if (f->node->kind == YN_SEQ) {
            sb_addf(sb, "[%zu]", f->node->n);
        } else if (f->pending_key) {
            if (sb->len)
                sb_addc(sb, '.');
            sb_adds(sb, f->pending_key->text);
        }
    }
}

static void fail_at(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_at(struct builder *b, int line, int col, const char *fmt, ...)
{
    strbuf path, msg;
    sb_init(&path);
    sb_init(&msg);
    path_of(b, b->depth, &path);
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&msg, fmt, ap);
    va_end(ap);
    problem_add(b->probs, line, col, path.buf, "%s", msg.buf);
    sb_done(&path);
    sb_done(&msg);
    b->failed = true;
}

static struct ynode *node_new(struct builder *b, enum ynode_kind kind, const yaml_mark_t *start)
{
    struct ynode *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->line = (int)start->line + 1;
    n->col = (int)start->column + 1;
    n->end_line = n->line;
    b->nodes++;
    return n;
}

/* Copies n, counting every node against the alias budget; NULL when over it. */
static struct ynode *node_copy(struct builder *b, const struct ynode *n)
{
    if (++b->alias_nodes > YTREE_MAX_ALIAS_NODES || ++b->nodes > YTREE_MAX_NODES)
        return NULL;
    struct ynode *c = xmalloc(sizeof *c);
    *c = *n;
    if (n->kind == YN_SCALAR) {
        c->text = xstrndup(n->text, n->len);
        return c;
    }
    size_t count = n->kind == YN_MAP ? 2 * n->n : n->n;
    c->items = count ? xmalloc(count * sizeof *c->items) : NULL;
    c->n = 0;
    for (size_t i = 0; i < count; i++) {
        c->items[i] = node_copy(b, n->items[i]);
        if (!c->items[i]) {
            for (size_t j = 0; j < i; j++)
                ynode_free(c->items[j]);
            free(c->items);
            free(c);
            return NULL;
        }
    }
    c->n = n->n;
    return c;
}

/* A plain copy (not counted): the anchor table keeps its own. */
static struct ynode *node_dup(const struct ynode *n)
{
    struct ynode *c = xmalloc(sizeof *c);
    *c = *n;
    if (n->kind == YN_SCALAR) {
        c->text = xstrndup(n->text, n->len);
        return c;
    }
    size_t count = n->kind == YN_MAP ? 2 * n->n : n->n;
    c->items = count ? xmalloc(count * sizeof *c->items) : NULL;
    for (size_t i = 0; i < count; i++)
        c->items[i] = node_dup(n->items[i]);
    return c;
}

static void anchor_define(struct builder *b, const char *name, const struct ynode *n)
{
    if (b->nanchors == b->capanchors) {
        b->capanchors = b->capanchors ? b->capanchors * 2 : 8;
        b->anchors = xrealloc(b->anchors, b->capanchors * sizeof *b->anchors);
    }
    b->anchors[b->nanchors].name = xstrdup(name);
    b->anchors[b->nanchors].node = node_dup(n);
    b->nanchors++;
}

static const struct ynode *anchor_find(const struct builder *b, const char *name)
{
    for (size_t i = b->nanchors; i-- > 0;) /* a later anchor of the same name wins */
        if (strcmp(b->anchors[i].name, name) == 0)
            return b->anchors[i].node;
    return NULL;
}

static void items_push(struct frame *f, struct ynode *n)
{
    size_t count = f->node->kind == YN_MAP ? 2 * f->node->n : f->node->n;
    if (count + 2 > f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->node->items = xrealloc(f->node->items, f->cap * sizeof *f->node->items);
    }
    f->node->items[count] = n;
}

/* Hands a finished node to its parent (or makes it the root). Takes n. */
static void attach(struct builder *b, struct ynode *n)
{
    if (b->depth == 0) {
        ynode_free(b->root);
        b->root = n;
        return;
    }
    struct frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == YN_SEQ) {
        items_push(f, n);
        f->node->n++;
    } else if (!f->pending_key) {
        if (n->kind != YN_SCALAR) {
            fail_at(b, n->line, n->col, "a key must be a plain name, not %s", ynode_kind_name(n));
            ynode_free(n);
            return;
        }
        f->pending_key = n;
    } else {
        items_push(f, f->pending_key);
        f->node->items[2 * f->node->n + 1] = n;
        f->node->n++;
        f->pending_key = NULL;
    }
}

struct keyref {
    const char *text;
    size_t index;
};

static int keyref_cmp(const void *a, const void *b)
{
    const struct keyref *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Reports every repeated key of the finished mapping at the top of the stack
 * (naming both places) and keeps only the first of each. */
static void map_check_duplicates(struct builder *b)
{
    struct ynode *m = b->stack[b->depth - 1].node;
    if (m->n < 2)
        return;
    struct keyref *refs = xmalloc(m->n * sizeof *refs);
    for (size_t i = 0; i < m->n; i++) {
        refs[i].text = ynode_key(m, i);
        refs[i].index = i;
    }
    qsort(refs, m->n, sizeof *refs, keyref_cmp);
    bool *drop = xcalloc(m->n, sizeof *drop);
    bool any = false;
    strbuf path;
    sb_init(&path);
    path_of(b, b->depth - 1, &path);
    size_t base = path.len;
    for (size_t i = 1; i < m->n; i++) {
        if (strcmp(refs[i].text, refs[i - 1].text) != 0)
            continue;
        size_t first = refs[i].index, j = i;
        while (j > 0 && strcmp(refs[j - 1].text, refs[i].text) == 0)
            first = refs[--j].index;
        const struct ynode *k1 = ynode_keynode(m, first), *k2 = ynode_keynode(m, refs[i].index);
        path.len = base;
        if (path.buf)
            path.buf[base] = '\0';
        if (base)
            sb_addc(&path, '.');
        sb_adds(&path, k2->text);
        problem_add(
            b->probs, k2->line, k2->col, path.buf,
            "duplicate key '%s' (first defined at line %d, column %d); a key may appear only once",
            k2->text, k1->line, k1->col);
        drop[refs[i].index] = true;
        any = true;
    }
    sb_done(&path);
    if (any) {
        size_t w = 0;
        for (size_t i = 0; i < m->n; i++) {
            if (drop[i]) {
                ynode_free(m->items[2 * i]);
                ynode_free(m->items[2 * i + 1]);
                continue;
            }
            m->items[2 * w] = m->items[2 * i];
            m->items[2 * w + 1] = m->items[2 * i + 1];
            w++;
        }
        m->n = w;
    }
    free(drop);
    free(refs);
}

static bool push_container(struct builder *b, enum ynode_kind kind, const yaml_event_t *ev,
                           const char *anchor)
{
    if (b->depth >= YTREE_MAX_DEPTH) {
        fail_at(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                "nesting is deeper than %d levels", YTREE_MAX_DEPTH);
        return false;
    }
    struct frame *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = node_new(b, kind, &ev->start_mark);
    f->anchor = anchor ? xstrdup(anchor) : NULL;
    return true;
}

static void pop_container(struct builder *b, const yaml_event_t *ev)
{
    struct frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == YN_MAP)
        map_check_duplicates(b);
    struct ynode *n = f->node;
    n->end_line = (int)ev->end_mark.line + 1;
    if (f->anchor)
        anchor_define(b, f->anchor, n);
    free(f->anchor);
    ynode_free(f->pending_key); /* only set when the mapping was cut short */
    b->depth--;
    attach(b, n);
}

static void on_scalar(struct builder *b, const yaml_event_t *ev)
{
    struct ynode *n = node_new(b, YN_SCALAR, &ev->start_mark);
    n->end_line = (int)ev->end_mark.line + 1;
    n->text = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
    n->len = ev->data.scalar.length;
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        n->style = YS_SINGLE;
        break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        n->style = YS_DOUBLE;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
        n->style = YS_LITERAL;
        break;
    case YAML_FOLDED_SCALAR_STYLE:
        n->style = YS_FOLDED;
        break;
    default:
        n->style = YS_PLAIN;
    }
    const char *tag = (const char *)ev->data.scalar.tag;
    n->str_tag = tag && (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "!") == 0);
    if (ev->data.scalar.anchor)
        anchor_define(b, (const char *)ev->data.scalar.anchor, n);
    attach(b, n);
}

static void on_alias(struct builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const struct ynode *target = anchor_find(b, name);
    if (!target) {
        fail_at(b, line, col,
                "alias '*%s' refers to no anchor '&%s' defined before it (or to the node that "
                "contains it)",
                name, name);
        return;
    }
    struct ynode *c = node_copy(b, target);
    if (!c) {
        fail_at(b, line, col,
                "aliases expand to more than %d nodes; this looks like an alias bomb (\"billion "
                "laughs\"), "
                "so the file is refused: write the values out instead",
                YTREE_MAX_ALIAS_NODES);
        return;
    }
    c->line = line;
    c->col = col;
    c->end_line = line;
    attach(b, c);
}

static void syntax_error(struct builder *b, yaml_parser_t *p)
{
    int line, col;
    if (p->error == YAML_READER_ERROR) {
        pos_of_offset(b->text, b->len, p->problem_offset, &line, &col);
        fail_at(b, line, col, "the file cannot be read as YAML text: %s",
                p->problem ? p->problem : "unknown error");
        return;
    }
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    const char *problem = p->problem ? p->problem : "syntax error";
    int tabcol = leading_tab_col(b->text, b->len, line);
    if (byte_at(b->text, b->len, line, col) == '\t' || strstr(problem, "tab") ||
        (tabcol && tabcol <= col)) {
        if (tabcol)
            col = tabcol;
        fail_at(b, line, col,
                "a tab is used for indentation; YAML allows only spaces there (replace the tab "
                "with spaces)");
        return;
    }
    if (p->context)
        fail_at(b, line, col, "YAML syntax error: %s (%s started at line %d, column %d)", problem,
                p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    else
        fail_at(b, line, col, "YAML syntax error: %s", problem);
}

struct ynode *ytree_parse(const char *text, size_t len, struct yproblems *probs)
{
    if (!check_bytes(text, len, probs))
        return NULL;
    struct builder b;
    memset(&b, 0, sizeof b);
    b.text = text;
    b.len = len;
    b.probs = probs;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        problem_add(probs, 0, 0, "", "could not start the YAML parser (out of memory)");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    bool done = false;
    while (!done && !b.failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(&b, &parser);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++b.documents > 1)
                fail_at(&b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                        "a second YAML document starts here; a domain file holds exactly one");
            break;
        case YAML_SEQUENCE_START_EVENT:
            push_container(&b, YN_SEQ, &ev, (const char *)ev.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_START_EVENT:
            push_container(&b, YN_MAP, &ev, (const char *)ev.data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (b.depth > 0)
                pop_container(&b, &ev);
            break;
        case YAML_SCALAR_EVENT:
            on_scalar(&b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            on_alias(&b, &ev);
            break;
        default:
            break;
        }
        if (!b.failed && b.nodes > YTREE_MAX_NODES)
            fail_at(&b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                    "the file has more than %d YAML nodes", YTREE_MAX_NODES);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    /* Unwind whatever was left open by an error. */
    while (b.depth > 0) {
        struct frame *f = &b.stack[--b.depth];
        ynode_free(f->pending_key);
        free(f->anchor);
        ynode_free(f->node);
    }
    for (size_t i = 0; i < b.nanchors; i++) {
        free(b.anchors[i].name);
        ynode_free(b.anchors[i].node);
    }
    free(b.anchors);
    if (b.failed) {
        ynode_free(b.root);
        return NULL;
    }
    if (!b.root) {
        problem_add(
            probs, 1, 1, "",
            "the file is empty; a domain file is a YAML mapping (domain:, aggregates:, ...)");
        return NULL;
    }
    return b.root;
}
