/* domain_upcast.c: an event's `upcast:` steps, read and checked. Each step is
 * loaded (from, rename, default, set, drop); the steps must go from every older
 * version to the current one, once each; and the chain's output is checked
 * statically against the current version's fields (Version 2 of the contract,
 * "Every appended event is valid"): a required field that a step removes and no
 * later step puts back, a default or a set whose type (or enum, range, pattern)
 * does not fit the field it ends up in, and a field a step makes (by rename,
 * default or set) that the current version does not declare. Older versions
 * declare no fields, so what a stored event already held is unknown here and
 * left to the run-time check when it is read. */
#include <stdlib.h>
#include <string.h>

#include "core/domain_internal.h"
#include "core/expr_types.h"

static char *name_of(struct loader *L, const struct ynode *n, const char *what)
{
    const char *s = ld_string(L, n, what);
    if (!s)
        return NULL;
    if (!ld_valid_name(s)) {
        ld_diag(L, n,
                "invalid field name '%s': a name is letters, digits and _, and does not start with "
                "a digit",
                s);
        return NULL;
    }
    return xstrdup(s);
}

static void upcast_load(struct loader *L, const struct ynode *n, struct event_spec *e,
                        struct upcast_step *u)
{
    static const char *const keys[] = {"from", "rename", "default", "set", "drop"};
    u->pos.line = n->line;
    u->pos.col = n->col;
    if (!ld_expect_map(L, n, "an upcast step {from: N, rename/default/set/drop}", false))
        return;
    ld_check_keys(L, n, keys, sizeof keys / sizeof keys[0]);
    const struct ynode *x;
    if (!(x = ynode_get(n, "from"))) {
        ld_diag(L, n, "an upcast step needs `from:` (the version it reads)");
    } else {
        size_t m = ld_push(L, "from");
        int64_t v;
        if (e->version <= 1)
            ld_diag(
                L, x,
                "the event is at version 1, so it has nothing to upcast; raise `version:` first");
        else if (ld_int(L, x, "from", 1, e->version - 1, &v))
            u->from = (int)v;
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "rename"))) {
        size_t m = ld_push(L, "rename");
        if (ld_expect_map(L, x, "a mapping old name: new name", true)) {
            u->rename_from = xcalloc(x->n, sizeof *u->rename_from);
            u->rename_to = xcalloc(x->n, sizeof *u->rename_to);
            u->nrename = x->n;
            for (size_t i = 0; i < x->n; i++) {
                size_t m2 = ld_push(L, ynode_key(x, i));
                u->rename_from[i] = xstrdup(ynode_key(x, i));
                u->rename_to[i] = name_of(L, ynode_val(x, i), "the new field name");
                ld_pop(L, m2);
            }
        }
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "default"))) {
        size_t m = ld_push(L, "default");
        if (ld_expect_map(L, x, "a mapping field: value", true)) {
            u->default_names = xcalloc(x->n, sizeof *u->default_names);
            u->default_values = xcalloc(x->n, sizeof *u->default_values);
            u->ndefault = x->n;
            for (size_t i = 0; i < x->n; i++) {
                ld_check_name(L, ynode_keynode(x, i), "field");
                u->default_names[i] = xstrdup(ynode_key(x, i));
                size_t m2 = ld_push(L, ynode_key(x, i));
                ld_value(L, ynode_val(x, i), &u->default_values[i]);
                ld_pop(L, m2);
            }
        }
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "set"))) {
        size_t m = ld_push(L, "set");
        if (ld_expect_map(L, x, "a mapping field: expression", true)) {
            struct expr_env env = {
                ROOT_BIT(ROOT_EVENT) | ROOT_BIT(ROOT_META), {NULL}, "upcast set"};
            env.schema[ROOT_META] = meta_schema();
            u->set = xcalloc(x->n, sizeof *u->set);
            u->nset = x->n;
            for (size_t i = 0; i < x->n; i++) {
                ld_check_name(L, ynode_keynode(x, i), "field");
                u->set[i].name = xstrdup(ynode_key(x, i));
                u->set[i].pos.line = ynode_keynode(x, i)->line;
                u->set[i].pos.col = ynode_keynode(x, i)->col;
                size_t m2 = ld_push(L, ynode_key(x, i));
                u->set[i].value = ld_compile(L, ynode_val(x, i), &env, false);
                ld_pop(L, m2);
            }
        }
        ld_pop(L, m);
    }
    if ((x = ynode_get(n, "drop"))) {
        size_t m = ld_push(L, "drop");
        if (ld_expect_seq(L, x, "a list of field names", true)) {
            u->drop = xcalloc(x->n ? x->n : 1, sizeof *u->drop);
            u->ndrop = x->n;
            for (size_t i = 0; i < x->n; i++) {
                size_t m2 = ld_push_index(L, i);
                u->drop[i] = name_of(L, x->items[i], "a field name");
                ld_pop(L, m2);
            }
        }
        ld_pop(L, m);
    }
}

/* ---- what the chain makes ---- */

/* The chain as one list of operations in the order they run: each step's
 * renames (one after the other), defaults, sets, then drops, steps by `from`. */
enum op_kind { OP_RENAME, OP_DEFAULT, OP_SET, OP_DROP };
struct upcast_op {
    enum op_kind kind;
    const char *name; /* the field it reads (rename: the old name) or writes */
    const char *to;   /* rename: the new name */
    const struct upcast_step *step;
    size_t item;            /* the step's index in the YAML list, for the path */
    const char *key;        /* rename/default/set: the key under the part, for the path */
    size_t index;           /* drop: the index in the list */
    const struct ynode *at; /* where a problem with it is shown */
    const value *def;       /* default: the value */
    const expr *set;        /* set: the expression */
};

enum fate { FATE_KEPT, FATE_GONE, FATE_REPLACED };

/* Follows field `*name` through ops[k..n): renamed (then *name changes), dropped,
 * or replaced by a set or by a rename onto it (then what it held is not what
 * the event ends with, so it is not checked against the current version). */
static enum fate follow(const struct upcast_op *ops, size_t n, size_t k, const char **name)
{
    for (; k < n; k++) {
        const struct upcast_op *o = &ops[k];
        if (o->kind == OP_RENAME && !strcmp(o->name, *name))
            *name = o->to;
        else if (o->kind == OP_RENAME && !strcmp(o->to, *name))
            return FATE_REPLACED;
        else if (o->kind == OP_SET && !strcmp(o->name, *name))
            return FATE_REPLACED;
        else if (o->kind == OP_DROP && !strcmp(o->name, *name))
            return FATE_GONE;
    }
    return FATE_KEPT;
}

/* True when an op after k writes field `name` (a rename onto it, a default, a set). */
static bool put_back(const struct upcast_op *ops, size_t n, size_t k, const char *name)
{
    for (k++; k < n; k++) {
        const struct upcast_op *o = &ops[k];
        if ((o->kind == OP_RENAME && !strcmp(o->to, name)) ||
            ((o->kind == OP_DEFAULT || o->kind == OP_SET) && !strcmp(o->name, name)))
            return true;
    }
    return false;
}

static const char *const op_part[] = {"rename", "default", "set", "drop"};

/* Reports msg at op's place: upcast[ITEM].PART.KEY (or drop[INDEX]). */
static void op_diag(struct loader *L, const struct upcast_op *o, const char *msg)
{
    size_t m = ld_push_index(L, o->item);
    ld_push(L, op_part[o->kind]);
    if (o->kind == OP_DROP)
        ld_push_index(L, o->index);
    else
        ld_push(L, o->key);
    ld_diag(L, o->at, "%s", msg);
    ld_pop(L, m);
}

/* " (did you mean 'x'?)" or "" into sb, for a field the current version lacks. */
static void add_suggestion(strbuf *sb, const struct event_spec *e, const char *name)
{
    const char *s = fields_suggest(e->fields, e->nfields, name);
    if (s)
        sb_addf(sb, " (did you mean '%s'?)", s);
}

static void check_op(struct loader *L, const struct event_spec *e, const struct upcast_op *ops,
                     size_t n, size_t k)
{
    const struct upcast_op *o = &ops[k];
    strbuf sb;
    sb_init(&sb);
    int from = o->step->from;
    /* A required field taken away (dropped, or renamed to another name) must be
     * put back later, or every event upcast through this step is invalid. */
    const char *gone = o->kind == OP_DROP ? o->name : o->kind == OP_RENAME ? o->to : NULL;
    if (gone && o->kind == OP_RENAME)
        gone = strcmp(o->name, o->to) ? o->name : NULL;
    const struct field_spec *rf = gone ? fields_find(e->fields, e->nfields, gone) : NULL;
    if (rf && rf->required && !put_back(ops, n, k, gone)) {
        if (o->kind == OP_DROP)
            sb_addf(&sb,
                    "the step from %d drops '%s', which version %d requires (a required %s), "
                    "and no later step puts it back",
                    from, gone, e->version, ftype_name(rf->type));
        else
            sb_addf(&sb,
                    "the step from %d renames '%s' to '%s', but version %d requires '%s' (a "
                    "required %s) and no later step puts it back",
                    from, gone, o->to, e->version, gone, ftype_name(rf->type));
        op_diag(L, o, sb.buf);
    }
    if (o->kind == OP_DROP) {
        sb_done(&sb);
        return;
    }
    /* What the op writes, followed to the end of the chain. */
    const char *made = o->kind == OP_RENAME ? o->to : o->name;
    const char *final = made;
    enum fate fate = follow(ops, n, k + 1, &final);
    const struct field_spec *f = fields_find(e->fields, e->nfields, final);
    sb_reset(&sb);
    if (fate != FATE_KEPT) {
        /* dropped or replaced later: nothing of it reaches the event */
    } else if (!f && final == made) {
        /* (renamed again later to an undeclared name: that rename is reported) */
        if (o->kind == OP_RENAME)
            sb_addf(&sb,
                    "the step from %d renames '%s' to '%s', a field version %d does not "
                    "declare",
                    from, o->name, made, e->version);
        else
            sb_addf(&sb, "the step from %d %s '%s', a field version %d does not declare", from,
                    o->kind == OP_SET ? "sets" : "defaults", made, e->version);
        add_suggestion(&sb, e, made);
        op_diag(L, o, sb.buf);
    } else if (f && o->kind == OP_DEFAULT) {
        value v = field_coerce(f->type, value_ref(o->def));
        err er;
        err_clear(&er);
        if (field_check(f, &v, &er) != ST_OK) {
            sb_addf(&sb, "the default for '%s' in the step from %d does not fit version %d: %s",
                    made, from, e->version, er.msg);
            op_diag(L, o, sb.buf);
        }
        value_free(v);
    } else if (f && o->kind == OP_SET && o->set) {
        expr_type t = expr_result_type(o->set);
        if (!ftype_accepts(f->type, t)) {
            sb_addf(&sb, "`%s` is %s %s, but field '%s' of version %d is %s", expr_source(o->set),
                    t == EXPR_T_INT ? "an" : "a", expr_type_name(t), f->name, e->version,
                    ftype_name(f->type));
            op_diag(L, o, sb.buf);
        }
    }
    sb_done(&sb);
}

/* Checks what the chain from each older version makes against the current
 * version's fields. Every older version's data passes through the later steps,
 * so checking each op against everything after it covers every start. */
static void chain_check(struct loader *L, const struct ynode *un, const struct event_spec *e)
{
    size_t nsteps = e->nupcasts, n = 0;
    size_t *order = xcalloc(nsteps ? nsteps : 1, sizeof *order);
    for (size_t i = 0; i < nsteps; i++)
        order[e->upcasts[i].from - 1] = i; /* complete: each from in 1..version-1 once */
    for (size_t i = 0; i < nsteps; i++) {
        const struct upcast_step *u = &e->upcasts[i];
        n += u->nrename + u->ndefault + u->nset + u->ndrop;
    }
    struct upcast_op *ops = xcalloc(n ? n : 1, sizeof *ops);
    n = 0;
    for (size_t s = 0; s < nsteps; s++) {
        size_t i = order[s];
        const struct upcast_step *u = &e->upcasts[i];
        const struct ynode *item = un->items[i];
        const struct ynode *rn = ynode_get(item, "rename"), *dn = ynode_get(item, "default");
        const struct ynode *sn = ynode_get(item, "set"), *xn = ynode_get(item, "drop");
        for (size_t j = 0; j < u->nrename; j++)
            ops[n++] = (struct upcast_op){OP_RENAME,
                                          u->rename_from[j],
                                          u->rename_to[j],
                                          u,
                                          i,
                                          u->rename_from[j],
                                          0,
                                          ynode_val(rn, j),
                                          NULL,
                                          NULL};
        for (size_t j = 0; j < u->ndefault; j++)
            ops[n++] = (struct upcast_op){
                OP_DEFAULT,       u->default_names[j],   NULL, u, i, u->default_names[j], 0,
                ynode_val(dn, j), &u->default_values[j], NULL};
        for (size_t j = 0; j < u->nset; j++)
            ops[n++] = (struct upcast_op){OP_SET, u->set[j].name, NULL, u,
                                          i,      u->set[j].name, 0,    ynode_val(sn, j),
                                          NULL,   u->set[j].value};
        for (size_t j = 0; j < u->ndrop; j++)
            ops[n++] = (struct upcast_op){OP_DROP, u->drop[j], NULL,         u,    i,
                                          NULL,    j,          xn->items[j], NULL, NULL};
    }
    for (size_t k = 0; k < n; k++)
        check_op(L, e, ops, n, k);
    free(ops);
    free(order);
}

static int upcast_cmp(const void *a, const void *b)
{
    const struct upcast_step *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

/* Checks that the steps go from 1 to version-1, each once, then (when they do,
 * and checkable: the steps loaded without problems) what the chain makes; sorts
 * the steps by `from`. */
static void upcasts_check(struct loader *L, const struct ynode *un, const struct ynode *evkey,
                          struct event_spec *e, bool checkable)
{
    if (e->version <= 1)
        return;
    size_t m = ld_push(L, "upcast");
    bool complete = true;
    for (size_t i = 0; i < e->nupcasts; i++)
        if (e->upcasts[i].from == 0)
            complete = false; /* already reported */
    for (size_t i = 0; i < e->nupcasts; i++)
        for (size_t j = 0; j < i; j++)
            if (e->upcasts[i].from && e->upcasts[i].from == e->upcasts[j].from) {
                size_t m2 = ld_push_index(L, i);
                ld_diag_at(L, e->upcasts[i].pos.line, e->upcasts[i].pos.col,
                           "a second upcast step from %d (the first is at line %d); each version "
                           "has one step",
                           e->upcasts[i].from, e->upcasts[j].pos.line);
                ld_pop(L, m2);
                complete = false;
            }
    if (complete) {
        strbuf missing;
        sb_init(&missing);
        int nmissing = 0;
        for (int v = 1; v < e->version; v++) {
            bool found = false;
            for (size_t i = 0; i < e->nupcasts && !found; i++)
                found = e->upcasts[i].from == v;
            if (!found) {
                sb_addf(&missing, "%s%d", nmissing ? ", " : "", v);
                nmissing++;
            }
        }
        complete = nmissing == 0;
        if (nmissing) {
            const struct ynode *at = un && !ynode_is_null(un) ? un : evkey;
            ld_diag(L, at,
                    "event '%s' is at version %d, so it needs an upcast step from each older "
                    "version (1 to %d); "
                    "missing from: %s",
                    e->name, e->version, e->version - 1, missing.buf);
        }
        sb_done(&missing);
    }
    if (complete && checkable)
        chain_check(L, un, e);
    if (e->nupcasts > 1)
        qsort(e->upcasts, e->nupcasts, sizeof *e->upcasts, upcast_cmp);
    ld_pop(L, m);
}

void upcasts_load(struct loader *L, const struct ynode *un, const struct ynode *evkey,
                  struct event_spec *e)
{
    size_t before = L->diags->len;
    if (un) {
        size_t m = ld_push(L, "upcast");
        if (ld_expect_seq(L, un, "a list of upcast steps", true) && un->n) {
            e->upcasts = xcalloc(un->n, sizeof *e->upcasts);
            e->nupcasts = un->n;
            for (size_t i = 0; i < un->n; i++) {
                size_t m2 = ld_push_index(L, i);
                upcast_load(L, un->items[i], e, &e->upcasts[i]);
                ld_pop(L, m2);
            }
        }
        ld_pop(L, m);
    }
    /* A step with problems of its own would only add guesses to them. */
    upcasts_check(L, un, evkey, e, L->diags->len == before);
}
