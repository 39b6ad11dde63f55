/* domain_load.c: reading a domain file into the model of domain.h, checking
 * everything the contract (domain-language.md) states and reporting every problem
 * (not only the first) as FILE:LINE:COL: error: PATH: message.
 *
 * This part holds the top level of the file, and aggregates with their state,
 * events, commands and invariants; an event's upcast steps are in
 * domain_upcast.c. The loader's helpers (paths, names, plain
 * values, expressions) are in domain_util.c; projections, sources and scenarios
 * in domain_parts.c; YAML itself is parsed by yaml_tree.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/domain_internal.h"
#include "core/expr_types.h"

/* ---- indentation slips ---- */

/* Entry i of map (an aggregate, a command, an event: its key is a name) may be a
 * key indented wrongly: one of `outer` (the keys beside the map's own key, at
 * outer_col) indented too deep, or one of `inner` (the keys of the entry before
 * it, an `inner_kind`) indented too little. Returns true when it was reported. */
static bool slipped_key(struct loader *L, const struct ynode *map, size_t i, const char *what,
                        const char *const *outer, size_t nouter, const char *outer_owner,
                        int outer_col, const char *const *inner, size_t ninner,
                        const char *inner_kind)
{
    const struct ynode *k = ynode_keynode(map, i);
    if (ld_misplaced_key(L, k, what, outer, nouter, outer_owner, outer_col))
        return true;
    if (i == 0)
        return false;
    char *owner = xasprintf("%s %s", inner_kind, ynode_key(map, i - 1));
    bool r = ld_misplaced_key(L, k, what, inner, ninner, owner, ld_keys_col(ynode_val(map, i - 1)));
    free(owner);
    return r;
}

#define NKEYS(a) (sizeof(a) / sizeof(a)[0])

/* ---- rules: {rule, message} ---- */

static void rules_load(struct loader *L, const struct ynode *seq, const struct expr_env *env,
                       struct rule_spec **out, size_t *nout)
{
    static const char *const keys[] = {"rule", "message"};
    *out = NULL;
    *nout = 0;
    if (!ld_expect_seq(L, seq, "a list of {rule, message}", true))
        return;
    *out = xcalloc(seq->n ? seq->n : 1, sizeof **out);
    *nout = seq->n;
    for (size_t i = 0; i < seq->n; i++) {
        const struct ynode *r = seq->items[i];
        struct rule_spec *rs = &(*out)[i];
        size_t m = ld_push_index(L, i);
        rs->pos.line = r->line;
        rs->pos.col = r->col;
        if (ld_expect_map(L, r, "a rule {rule: \"...\", message: \"...\"}", false)) {
            ld_check_keys(L, r, keys, 2);
            const struct ynode *rn = ynode_get(r, "rule"), *mn = ynode_get(r, "message");
            if (!rn)
                ld_diag(L, r, "a rule needs `rule:` (a condition)");
            if (!mn)
                ld_diag(L, r, "a rule needs `message:` (what a person is told when it fails)");
            if (rn) {
                size_t m2 = ld_push(L, "rule");
                rs->rule = ld_compile(L, rn, env, true);
                ld_pop(L, m2);
            }
            if (mn) {
                size_t m2 = ld_push(L, "message");
                const char *s = ld_string(L, mn, "a message (text)");
                if (s) {
                    rs->message = xstrdup(s);
                    message_load(L, mn, env, rs);
                }
                ld_pop(L, m2);
            }
        }
        ld_pop(L, m);
    }
}

/* ---- events ---- */

/* Reads `apply`-style assignments: each name must be one of targets, each value
 * an expression in env whose type (when known) fits the target field. */
static void assigns_load(struct loader *L, const struct ynode *map, const struct expr_env *env,
                         const struct field_spec *targets, size_t ntargets, const char *target_what,
                         struct assign **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!map->n)
        return;
    *out = xcalloc(map->n, sizeof **out);
    *nout = map->n;
    for (size_t i = 0; i < map->n; i++) {
        const struct ynode *k = ynode_keynode(map, i), *v = ynode_val(map, i);
        struct assign *a = &(*out)[i];
        a->name = xstrdup(k->text);
        a->pos.line = k->line;
        a->pos.col = k->col;
        size_t m = ld_push(L, k->text);
        const struct field_spec *f = fields_find(targets, ntargets, k->text);
        if (!f) {
            const char *s = fields_suggest(targets, ntargets, k->text);
            if (s)
                ld_diag(L, k, "unknown field '%s' of %s (did you mean '%s'?)", k->text, target_what,
                        s);
            else
                ld_diag(L, k, "unknown field '%s' of %s", k->text, target_what);
        }
        a->value = ld_compile(L, v, env, false);
        if (a->value && f) {
            expr_type t = expr_result_type(a->value);
            if (!ftype_accepts(f->type, t))
                ld_diag(L, v, "`%s` is %s %s, but field '%s' of %s is %s", v->text,
                        t == EXPR_T_INT ? "an" : "a", expr_type_name(t), f->name, target_what,
                        ftype_name(f->type));
        }
        ld_pop(L, m);
    }
}

static const char *const event_keys[] = {"version", "fields", "apply", "upcast", "description"};

/* Pass 1 for an event: name, version and fields, so commands can refer to it. */
static void event_load_fields(struct loader *L, const struct ynode *key, const struct ynode *val,
                              struct event_spec *e)
{
    e->version = 1;
    if (!ld_expect_map(L, val, "an event {fields, apply, version, upcast}", true))
        return;
    ld_check_keys(L, val, event_keys, sizeof event_keys / sizeof event_keys[0]);
    const struct ynode *x;
    if ((x = ynode_get(val, "version"))) {
        size_t m = ld_push(L, "version");
        int64_t v;
        if (ld_int(L, x, "version", 1, 1000, &v))
            e->version = (int)v;
        ld_pop(L, m);
    }
    if ((x = ynode_get(val, "fields"))) {
        size_t m = ld_push(L, "fields");
        if (ld_expect_map(L, x, "the event's fields", true))
            fields_parse(L, x, FIELD_EVENT, &e->fields, &e->nfields);
        ld_pop(L, m);
    }
}

/* Pass 2 for an event: apply and upcasts (they need the state's fields). */
static void event_load_rules(struct loader *L, const struct aggregate_spec *a,
                             const struct ynode *key, const struct ynode *val, struct event_spec *e,
                             const struct expr_schema *state_schema)
{
    if (!val || val->kind != YN_MAP)
        return;
    struct schema_buf es;
    schema_from_fields(&es, e->fields, e->nfields);
    const struct ynode *x;
    if ((x = ynode_get(val, "apply"))) {
        size_t m = ld_push(L, "apply");
        if (ld_expect_map(L, x, "a mapping state field: expression", true)) {
            struct expr_env env = {
                ROOT_BIT(ROOT_STATE) | ROOT_BIT(ROOT_EVENT) | ROOT_BIT(ROOT_META), {NULL}, "apply"};
            env.schema[ROOT_STATE] = state_schema;
            env.schema[ROOT_EVENT] = &es.s;
            env.schema[ROOT_META] = meta_schema();
            char *what = xasprintf("aggregate %s's state", a->name);
            assigns_load(L, x, &env, a->state, a->nstate, what, &e->apply, &e->napply);
            free(what);
        }
        ld_pop(L, m);
    }
    upcasts_load(L, ynode_get(val, "upcast"), key, e);
    schema_done(&es);
}

/* ---- commands ---- */

static void emit_load(struct loader *L, const struct aggregate_spec *a, const struct ynode *n,
                      struct emit_spec *em, const struct expr_env *env)
{
    em->pos.line = n->line;
    em->pos.col = n->col;
    if (!ld_expect_map(L, n,
                       "an emit entry `EventName: {field: expression}` (with an optional `when:`)",
                       false))
        return;
    const struct ynode *evkey = NULL, *evval = NULL;
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *k = ynode_keynode(n, i);
        if (strcmp(k->text, "when") == 0)
            continue;
        if (evkey) {
            ld_diag(L, k,
                    "an emit entry names one event, but this one names '%s' and '%s' (write each "
                    "as its own "
                    "`- Event: {...}` entry)",
                    evkey->text, k->text);
            continue;
        }
        evkey = k;
        evval = ynode_val(n, i);
    }
    const struct ynode *wn = ynode_get(n, "when");
    if (wn) {
        size_t m = ld_push(L, "when");
        em->when = ld_compile(L, wn, env, true);
        ld_pop(L, m);
    }
    if (!evkey) {
        ld_diag(L, n, "an emit entry names the event it emits: `- EventName: {field: expression}`");
        return;
    }
    size_t m = ld_push(L, evkey->text);
    struct event_spec *found = ld_event(L, evkey->text);
    em->event = found && found->aggregate == a ? found : NULL;
    if (!em->event) {
        const struct event_spec *other = found;
        if (other && other->aggregate) {
            ld_diag(L, evkey,
                    "event '%s' belongs to aggregate '%s'; a command emits only its own "
                    "aggregate's events",
                    evkey->text, other->aggregate->name);
        } else {
            const char **names = xcalloc(a->nevents ? a->nevents : 1, sizeof *names);
            size_t k = 0;
            for (size_t i = 0; i < a->nevents; i++)
                if (a->events[i].name)
                    names[k++] = a->events[i].name;
            const char *s = ld_suggest(evkey->text, names, k);
            if (s)
                ld_diag(L, evkey, "unknown event '%s' (did you mean '%s'?)", evkey->text, s);
            else
                ld_diag(L, evkey,
                        "unknown event '%s': aggregate %s has no such event under `events:`",
                        evkey->text, a->name);
            free(names);
        }
    }
    if (evval && !ynode_is_null(evval) && evval->kind != YN_MAP) {
        ld_diag(L, evval, "expected the event's fields as a mapping {field: expression}, got %s",
                ynode_kind_name(evval));
    } else if (evval && evval->kind == YN_MAP) {
        char *what = xasprintf("event '%s'", evkey->text);
        if (em->event) {
            assigns_load(L, evval, env, em->event->fields, em->event->nfields, what, &em->fields,
                         &em->nfields);
        } else {
            /* Still compile the values, to report their own problems. */
            em->fields = xcalloc(evval->n ? evval->n : 1, sizeof *em->fields);
            em->nfields = evval->n;
            for (size_t i = 0; i < evval->n; i++) {
                size_t m2 = ld_push(L, ynode_key(evval, i));
                em->fields[i].name = xstrdup(ynode_key(evval, i));
                em->fields[i].value = ld_compile(L, ynode_val(evval, i), env, false);
                ld_pop(L, m2);
            }
        }
        free(what);
    }
    if (em->event) {
        for (size_t i = 0; i < em->event->nfields; i++) {
            const struct field_spec *f = &em->event->fields[i];
            if (!f->name || !f->required)
                continue;
            bool given = evval && evval->kind == YN_MAP && ynode_get(evval, f->name);
            if (!given)
                ld_diag(L, evkey, "missing field '%s' of event '%s' (a required %s)", f->name,
                        evkey->text, ftype_name(f->type));
        }
    }
    ld_pop(L, m);
}

static const char *const command_keys[] = {"payload", "require", "emit", "description"};

static void command_load(struct loader *L, struct aggregate_spec *a, const struct ynode *key,
                         const struct ynode *val, struct command_spec *c,
                         const struct expr_schema *state_schema)
{
    c->name = xstrdup(key->text);
    c->aggregate = a;
    c->pos.line = key->line;
    c->pos.col = key->col;
    ld_check_name(L, key, "command");
    size_t m = ld_push(L, key->text);
    if (!ld_expect_map(L, val, "a command {payload, require, emit}", true)) {
        if (a->id_field)
            ld_diag(L, key,
                    "command '%s' has no payload field '%s', the aggregate's id: every command "
                    "needs it to "
                    "find its stream",
                    c->name, a->id_field);
        ld_pop(L, m);
        return;
    }
    ld_check_keys(L, val, command_keys, sizeof command_keys / sizeof command_keys[0]);
    const struct ynode *pn = ynode_get(val, "payload");
    if (pn) {
        size_t m2 = ld_push(L, "payload");
        if (ld_expect_map(L, pn, "the command's payload fields", true))
            fields_parse(L, pn, FIELD_PAYLOAD, &c->payload, &c->npayload);
        ld_pop(L, m2);
    }
    if (a->id_field) {
        const struct field_spec *idf = fields_find(c->payload, c->npayload, a->id_field);
        size_t m2 = ld_push(L, "payload");
        const struct ynode *at = pn && !ynode_is_null(pn) ? pn : key;
        if (!idf)
            ld_diag(L, at,
                    "command '%s' has no payload field '%s', the aggregate's id: every command "
                    "needs it to "
                    "find its stream",
                    c->name, a->id_field);
        else if (idf->type != F_STRING && idf->type != F_INT)
            ld_diag_at(L, idf->pos.line, idf->pos.col,
                       "the id field '%s' must be a string or an int, not %s", idf->name,
                       ftype_name(idf->type));
        else if (idf->optional && !idf->has_default)
            ld_diag_at(L, idf->pos.line, idf->pos.col, "the id field '%s' may not be optional",
                       idf->name);
        ld_pop(L, m2);
    }
    struct schema_buf ps;
    schema_from_fields(&ps, c->payload, c->npayload);
    /* now() is the command's clock, recorded as its events' time, so a replay that
     * reads those events reproduces what require saw. */
    struct expr_env env = {ROOT_BIT(ROOT_PAYLOAD) | ROOT_BIT(ROOT_STATE) | ROOT_BIT(ROOT_META) |
                               EXPR_ALLOW_NOW,
                           {NULL},
                           "require"};
    env.schema[ROOT_PAYLOAD] = &ps.s;
    env.schema[ROOT_STATE] = state_schema;
    env.schema[ROOT_META] = command_meta_schema();
    const struct ynode *x;
    if ((x = ynode_get(val, "require"))) {
        size_t m2 = ld_push(L, "require");
        rules_load(L, x, &env, &c->require, &c->nrequire);
        ld_pop(L, m2);
    }
    if ((x = ynode_get(val, "emit"))) {
        size_t m2 = ld_push(L, "emit");
        struct expr_env eenv = env;
        eenv.slot = "emit";
        if (ld_expect_seq(L, x, "a list of events to emit", true) && x->n) {
            c->emits = xcalloc(x->n, sizeof *c->emits);
            c->nemits = x->n;
            for (size_t i = 0; i < x->n; i++) {
                size_t m3 = ld_push_index(L, i);
                emit_load(L, a, x->items[i], &c->emits[i], &eenv);
                ld_pop(L, m3);
            }
        }
        ld_pop(L, m2);
    }
    schema_done(&ps);
    ld_pop(L, m);
}

/* ---- aggregates ---- */

static const char *const aggregate_keys[] = {
    "id", "snapshot_every", "state", "invariants", "commands", "events", "description"};

static void aggregate_hash(struct aggregate_spec *a)
{
    uint64_t h = HASH_FNV_INIT;
    for (size_t i = 0; i < a->nstate; i++) {
        h = hash_str(h, a->state[i].name);
        h = hash_str(h, ftype_name(a->state[i].type));
        h = hash_value(h, &a->state[i].def);
    }
    for (size_t i = 0; i < a->nevents; i++) {
        struct event_spec *e = &a->events[i];
        e->meta_need = 0;
        for (size_t j = 0; j < e->napply; j++)
            e->meta_need |= meta_need_of(e->apply[j].value);
        for (size_t j = 0; j < e->nupcasts; j++)
            for (size_t k = 0; k < e->upcasts[j].nset; k++)
                e->meta_need |= meta_need_of(e->upcasts[j].set[k].value);
        e->meta_known = true;
        char v[16];
        snprintf(v, sizeof v, "v%d", e->version);
        h = hash_str(h, "event");
        h = hash_str(h, e->name);
        h = hash_str(h, v);
        for (size_t j = 0; j < e->napply; j++) {
            h = hash_str(h, e->apply[j].name);
            h = hash_str(h, e->apply[j].value ? expr_source(e->apply[j].value) : NULL);
        }
        for (size_t j = 0; j < e->nupcasts; j++) {
            const struct upcast_step *u = &e->upcasts[j];
            snprintf(v, sizeof v, "from%d", u->from);
            h = hash_str(h, v);
            for (size_t k = 0; k < u->nrename; k++) {
                h = hash_str(h, u->rename_from[k]);
                h = hash_str(h, u->rename_to[k]);
            }
            h = hash_str(h, "default");
            for (size_t k = 0; k < u->ndefault; k++) {
                h = hash_str(h, u->default_names[k]);
                h = hash_value(h, &u->default_values[k]);
            }
            h = hash_str(h, "set");
            for (size_t k = 0; k < u->nset; k++) {
                h = hash_str(h, u->set[k].name);
                h = hash_str(h, u->set[k].value ? expr_source(u->set[k].value) : NULL);
            }
            h = hash_str(h, "drop");
            for (size_t k = 0; k < u->ndrop; k++)
                h = hash_str(h, u->drop[k]);
        }
    }
    hash_hex(h, a->rules_hash);
}

/* Pass 1: name, id, snapshot_every, state, and each event's name, version and fields. */
static void aggregate_load_shape(struct loader *L, const struct ynode *key, const struct ynode *val,
                                 struct aggregate_spec *a)
{
    a->name = xstrdup(key->text);
    a->pos.line = key->line;
    a->pos.col = key->col;
    ld_check_name(L, key, "aggregate");
    size_t m = ld_push(L, key->text);
    if (!ld_expect_map(L, val, "an aggregate {id, state, commands, events}", false)) {
        ld_pop(L, m);
        return;
    }
    ld_check_keys(L, val, aggregate_keys, sizeof aggregate_keys / sizeof aggregate_keys[0]);
    const struct ynode *x;
    if (!(x = ynode_get(val, "id"))) {
        ld_diag(L, val,
                "an aggregate needs `id:`, the payload field that names an instance (its stream is "
                "%s-<id>)",
                a->name);
    } else {
        size_t m2 = ld_push(L, "id");
        const char *s = ld_string(L, x, "the name of a payload field");
        if (s && !ld_valid_name(s))
            ld_diag(L, x,
                    "invalid field name '%s': a name is letters, digits and _, and does not start "
                    "with a digit",
                    s);
        else if (s)
            a->id_field = xstrdup(s);
        ld_pop(L, m2);
    }
    if ((x = ynode_get(val, "snapshot_every"))) {
        size_t m2 = ld_push(L, "snapshot_every");
        int64_t v;
        if (ld_int(L, x, "snapshot_every", 1, 1000000000, &v))
            a->snapshot_every = (int)v;
        ld_pop(L, m2);
    }
    if ((x = ynode_get(val, "state"))) {
        size_t m2 = ld_push(L, "state");
        if (ld_expect_map(L, x, "the state's fields", true))
            fields_parse(L, x, FIELD_STATE, &a->state, &a->nstate);
        ld_pop(L, m2);
    }
    if ((x = ynode_get(val, "events"))) {
        size_t m2 = ld_push(L, "events");
        if (ld_expect_map(L, x, "the aggregate's events", true) && x->n) {
            a->events = xcalloc(x->n, sizeof *a->events);
            a->nevents = x->n;
            for (size_t i = 0; i < x->n; i++) {
                const struct ynode *k = ynode_keynode(x, i);
                struct event_spec *e = &a->events[i];
                e->name = xstrdup(k->text);
                e->aggregate = a;
                e->pos.line = k->line;
                e->pos.col = k->col;
                ld_check_name(L, k, "event");
                char *owner = xasprintf("aggregate %s", a->name);
                slipped_key(L, x, i, "an event's name", aggregate_keys, NKEYS(aggregate_keys),
                            owner, ynode_getkey(val, "events")->col, event_keys, NKEYS(event_keys),
                            "event");
                free(owner);
                size_t m3 = ld_push(L, k->text);
                event_load_fields(L, k, ynode_val(x, i), e);
                ld_pop(L, m3);
            }
        }
        ld_pop(L, m2);
    }
    ld_pop(L, m);
}

/* Pass 2: applies, upcasts, commands and invariants (events of every aggregate
 * are known by now). */
static void aggregate_load_rules(struct loader *L, const struct ynode *key, const struct ynode *val,
                                 struct aggregate_spec *a)
{
    if (!val || val->kind != YN_MAP)
        return;
    size_t m = ld_push(L, key->text);
    struct schema_buf ss;
    schema_from_fields(&ss, a->state, a->nstate);
    const struct ynode *x;
    if ((x = ynode_get(val, "events")) && x->kind == YN_MAP) {
        size_t m2 = ld_push(L, "events");
        for (size_t i = 0; i < x->n && i < a->nevents; i++) {
            size_t m3 = ld_push(L, ynode_key(x, i));
            event_load_rules(L, a, ynode_keynode(x, i), ynode_val(x, i), &a->events[i], &ss.s);
            ld_pop(L, m3);
        }
        ld_pop(L, m2);
    }
    if ((x = ynode_get(val, "commands"))) {
        size_t m2 = ld_push(L, "commands");
        if (ld_expect_map(L, x, "the aggregate's commands", true) && x->n) {
            a->commands = xcalloc(x->n, sizeof *a->commands);
            a->ncommands = x->n;
            char *owner = xasprintf("aggregate %s", a->name);
            for (size_t i = 0; i < x->n; i++) {
                slipped_key(L, x, i, "a command's name", aggregate_keys, NKEYS(aggregate_keys),
                            owner, ynode_getkey(val, "commands")->col, command_keys,
                            NKEYS(command_keys), "command");
                command_load(L, a, ynode_keynode(x, i), ynode_val(x, i), &a->commands[i], &ss.s);
            }
            free(owner);
        }
        ld_pop(L, m2);
    }
    if ((x = ynode_get(val, "invariants"))) {
        size_t m2 = ld_push(L, "invariants");
        /* Invariants see the state after the command's events; `payload` is
         * allowed (it is the command's), but its fields vary by command. */
        struct expr_env env = {ROOT_BIT(ROOT_STATE) | ROOT_BIT(ROOT_PAYLOAD), {NULL}, "invariant"};
        env.schema[ROOT_STATE] = &ss.s;
        rules_load(L, x, &env, &a->invariants, &a->ninvariants);
        ld_pop(L, m2);
    }
    schema_done(&ss);
    aggregate_hash(a);
    ld_pop(L, m);
}

/* Indexes every event (or command) of the domain by name, and reports names
 * defined twice: event types and command names are unique across the domain. */
static void index_names(struct loader *L, bool events)
{
    struct domain *d = L->d;
    struct name_index *ix = events ? &L->events : &L->commands;
    size_t n = 0;
    for (size_t i = 0; i < d->naggregates; i++)
        n += events ? d->aggregates[i].nevents : d->aggregates[i].ncommands;
    ix->refs = xcalloc(n ? n : 1, sizeof *ix->refs);
    ix->n = 0;
    for (size_t i = 0; i < d->naggregates; i++) {
        struct aggregate_spec *a = &d->aggregates[i];
        size_t m = events ? a->nevents : a->ncommands;
        for (size_t j = 0; j < m; j++) {
            const char *name = events ? a->events[j].name : a->commands[j].name;
            if (!name)
                continue;
            struct name_ref *r = &ix->refs[ix->n];
            r->name = name;
            r->ptr = events ? (void *)&a->events[j] : (void *)&a->commands[j];
            r->ord = ix->n++;
        }
    }
    name_index_sort(ix);
    for (size_t k = 1; k < ix->n; k++) {
        if (strcmp(ix->refs[k].name, ix->refs[k - 1].name) != 0)
            continue;
        size_t first = k - 1;
        while (first > 0 && strcmp(ix->refs[first - 1].name, ix->refs[k].name) == 0)
            first--;
        const struct aggregate_spec *a, *fa;
        struct srcpos pos, fpos;
        if (events) {
            const struct event_spec *e = ix->refs[k].ptr, *f = ix->refs[first].ptr;
            a = e->aggregate, fa = f->aggregate, pos = e->pos, fpos = f->pos;
        } else {
            const struct command_spec *c = ix->refs[k].ptr, *f = ix->refs[first].ptr;
            a = c->aggregate, fa = f->aggregate, pos = c->pos, fpos = f->pos;
        }
        size_t m = ld_push(L, "aggregates");
        ld_push(L, a->name);
        ld_push(L, events ? "events" : "commands");
        ld_push(L, ix->refs[k].name);
        if (events)
            ld_diag_at(L, pos.line, pos.col,
                       "event type '%s' is also defined in aggregate '%s' (line %d); an event "
                       "type is unique across the domain",
                       ix->refs[k].name, fa->name, fpos.line);
        else
            ld_diag_at(L, pos.line, pos.col,
                       "command '%s' is also defined in aggregate '%s' (line %d); a command "
                       "name is unique across the domain",
                       ix->refs[k].name, fa->name, fpos.line);
        ld_pop(L, m);
    }
}

/* ---- the file ---- */

static const char *const top_keys[] = {"domain",     "description", "version", "types",
                                       "aggregates", "projections", "sources", "scenarios"};

static char *basename_noext(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    return xstrndup(b, n);
}

/* Copies the YAML layer's problems into diags. */
static void add_yproblems(const char *file, struct yproblems *yp, struct diag_list *diags)
{
    for (size_t i = 0; i < yp->len; i++) {
        diag_add(diags, file, yp->items[i].line, yp->items[i].col, yp->items[i].path,
                 yp->items[i].message);
        diags->items[diags->len - 1].structural = true;
    }
}

static void domain_read(struct loader *L, const struct ynode *root)
{
    struct domain *d = L->d;
    ld_check_keys(L, root, top_keys, sizeof top_keys / sizeof top_keys[0]);
    const struct ynode *x;
    if ((x = ynode_get(root, "domain"))) {
        size_t m = ld_push(L, "domain");
        const char *s = ld_string(L, x, "the domain's name");
        if (s)
            d->name = xstrdup(s);
        ld_pop(L, m);
    }
    if (!d->name)
        d->name = basename_noext(L->file);
    if ((x = ynode_get(root, "description"))) {
        size_t m = ld_push(L, "description");
        if (!ynode_is_null(x)) {
            const char *s = ld_string(L, x, "a description (text)");
            if (s)
                d->description = xstrdup(s);
        }
        ld_pop(L, m);
    }
    d->version = 1;
    if ((x = ynode_get(root, "version"))) {
        size_t m = ld_push(L, "version");
        int64_t v;
        if (ld_int(L, x, "version", 0, 1000000000, &v))
            d->version = (int)v;
        ld_pop(L, m);
    }
    if ((x = ynode_get(root, "types"))) {
        size_t m = ld_push(L, "types");
        types_load(L, x);
        ld_pop(L, m);
    }
    const struct ynode *aggs = ynode_get(root, "aggregates");
    size_t m = ld_push(L, "aggregates");
    bool have_aggs = ld_expect_map(L, aggs, "the aggregates", true) && aggs->n;
    if (have_aggs) {
        d->aggregates = xcalloc(aggs->n, sizeof *d->aggregates);
        d->naggregates = aggs->n;
        for (size_t i = 0; i < aggs->n; i++) {
            slipped_key(L, aggs, i, "an aggregate's name", top_keys, NKEYS(top_keys), "the domain",
                        ynode_getkey(root, "aggregates")->col, aggregate_keys,
                        NKEYS(aggregate_keys), "aggregate");
            aggregate_load_shape(L, ynode_keynode(aggs, i), ynode_val(aggs, i), &d->aggregates[i]);
        }
        ld_pop(L, m);
        index_names(L, true); /* every event is known before any command refers to one */
        m = ld_push(L, "aggregates");
        for (size_t i = 0; i < aggs->n; i++)
            aggregate_load_rules(L, ynode_keynode(aggs, i), ynode_val(aggs, i), &d->aggregates[i]);
    }
    ld_pop(L, m);
    index_names(L, false);
    if ((x = ynode_get(root, "projections"))) {
        m = ld_push(L, "projections");
        if (ld_expect_map(L, x, "the projections", true))
            projections_load(L, x);
        ld_pop(L, m);
    }
    if ((x = ynode_get(root, "sources"))) {
        m = ld_push(L, "sources");
        if (ld_expect_map(L, x, "the sources", true))
            sources_load(L, x);
        ld_pop(L, m);
    }
    if ((x = ynode_get(root, "scenarios"))) {
        m = ld_push(L, "scenarios");
        if (ld_expect_seq(L, x, "the scenarios", true))
            scenarios_load(L, x);
        ld_pop(L, m);
    }
}

/* Parses the YAML and checks the top level is a mapping; NULL on problems (added). */
static struct ynode *parse_top(const char *name, const char *text, size_t len, const char *what,
                               struct diag_list *diags)
{
    struct yproblems yp;
    memset(&yp, 0, sizeof yp);
    struct ynode *root = ytree_parse(text, len, &yp);
    add_yproblems(name, &yp, diags);
    yproblems_done(&yp);
    if (root && root->kind != YN_MAP) {
        char *msg = ynode_is_null(root) ? xasprintf("the file is empty; %s", what)
                                        : xasprintf("the top level must be a mapping, not %s; %s",
                                                    ynode_kind_name(root), what);
        diag_add(diags, name, root->line, root->col, "", msg);
        free(msg);
        ynode_free(root);
        return NULL;
    }
    return root;
}

struct domain *domain_load_buffer(const char *name, const char *text, size_t len,
                                  struct diag_list *diags)
{
    size_t before = diags->len;
    struct ynode *root = parse_top(
        name, text, len, "a domain file is a YAML mapping (domain:, aggregates:, ...)", diags);
    if (!root) {
        diag_list_sort(diags);
        return NULL;
    }
    struct loader L;
    memset(&L, 0, sizeof L);
    ld_suggest_reset();
    L.file = name;
    L.text = text;
    L.len = len;
    L.diags = diags;
    L.d = xcalloc(1, sizeof *L.d);
    L.d->file = xstrdup(name);
    sb_init(&L.path);
    domain_read(&L, root);
    sb_done(&L.path);
    free(L.events.refs);
    free(L.commands.refs);
    free(L.line_starts);
    ynode_free(root);
    if (diags->len > before) {
        domain_free(L.d);
        diag_list_sort(diags);
        return NULL;
    }
    return L.d;
}

/* Reads a file for loading, refusing one over the size cap before reading it. */
static char *read_source(const char *path, size_t *len, struct diag_list *diags)
{
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (unsigned long long)st.st_size > YTREE_MAX_BYTES) {
        char *msg = xasprintf("the file is %lld bytes; a domain file may be at most %u MB",
                              (long long)st.st_size, YTREE_MAX_BYTES / (1024u * 1024u));
        diag_add(diags, path, 0, 0, "", msg);
        free(msg);
        return NULL;
    }
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        diag_add(diags, path, 0, 0, "", "is a directory, not a domain file");
        return NULL;
    }
    char *text;
    err e;
    err_clear(&e);
    if (read_file(path, &text, len, &e) != ST_OK) {
        /* read_file says "PATH: cannot open: ..."; the diag prints PATH already. */
        const char *msg = e.msg;
        size_t pl = strlen(path);
        if (strncmp(msg, path, pl) == 0 && strncmp(msg + pl, ": ", 2) == 0)
            msg += pl + 2;
        diag_add(diags, path, 0, 0, "", msg[0] ? msg : "cannot read the file");
        return NULL;
    }
    return text;
}

struct domain *domain_load(const char *path, struct diag_list *diags)
{
    size_t len;
    char *text = read_source(path, &len, diags);
    if (!text)
        return NULL;
    struct domain *d = domain_load_buffer(path, text, len, diags);
    free(text);
    return d;
}

struct source_spec *source_load_map(const char *path, struct diag_list *diags)
{
    size_t len;
    char *text = read_source(path, &len, diags);
    if (!text)
        return NULL;
    size_t before = diags->len;
    struct ynode *root = parse_top(
        path, text, len, "a source map is a YAML mapping (format:, stream:, type:, ...)", diags);
    free(text);
    if (!root) {
        diag_list_sort(diags);
        return NULL;
    }
    struct loader L;
    memset(&L, 0, sizeof L);
    L.file = path;
    L.diags = diags;
    sb_init(&L.path);
    struct source_spec *s = xcalloc(1, sizeof *s);
    char *name = basename_noext(path);
    struct ynode key;
    memset(&key, 0, sizeof key);
    key.kind = YN_SCALAR;
    key.line = root->line;
    key.col = root->col;
    key.text = name;
    key.len = strlen(name);
    source_parse(&L, &key, root, s);
    free(name);
    sb_done(&L.path);
    ynode_free(root);
    if (diags->len > before) {
        source_free(s);
        diag_list_sort(diags);
        return NULL;
    }
    return s;
}

/* ---- a scenarios file, loaded against a domain ---- */

static const char *const scenario_file_keys[] = {"domain", "description", "scenarios"};

int domain_load_scenarios(struct domain *d, const char *path, struct diag_list *diags)
{
    size_t len;
    char *text = read_source(path, &len, diags);
    if (!text)
        return ST_ERR;
    size_t before = diags->len;
    struct ynode *root = parse_top(
        path, text, len, "a scenarios file is a YAML mapping (domain:, scenarios:)", diags);
    if (root) {
        struct loader L;
        memset(&L, 0, sizeof L);
        ld_suggest_reset();
        L.file = path;
        L.text = text;
        L.len = len;
        L.diags = diags;
        L.d = d;
        sb_init(&L.path);
        ld_check_keys(&L, root, scenario_file_keys, NKEYS(scenario_file_keys));
        const struct ynode *x = ynode_get(root, "domain");
        if (x && x->kind == YN_SCALAR && strcmp(x->text, d->name) != 0)
            ld_diag(&L, x, "these scenarios are for the domain '%s', not '%s' (%s)", x->text,
                    d->name, d->file);
        index_names(&L, true);
        index_names(&L, false);
        for (size_t i = 0; i < d->nscenarios; i++)
            scenario_spec_done(&d->scenarios[i]);
        free(d->scenarios);
        d->scenarios = NULL;
        d->nscenarios = 0;
        if ((x = ynode_get(root, "scenarios"))) {
            size_t m = ld_push(&L, "scenarios");
            if (ld_expect_seq(&L, x, "the scenarios", true))
                scenarios_load(&L, x);
            ld_pop(&L, m);
        }
        sb_done(&L.path);
        free(L.events.refs);
        free(L.commands.refs);
        free(L.line_starts);
        ynode_free(root);
    }
    free(text);
    if (diags->len > before) {
        diag_list_sort(diags);
        return ST_ERR;
    }
    return ST_OK;
}

bool domain_file_is_scenarios(const char *path)
{
    struct diag_list diags;
    diag_list_init(&diags);
    size_t len;
    char *text = read_source(path, &len, &diags);
    bool yes = false;
    if (text) {
        struct ynode *root = parse_top(path, text, len, "", &diags);
        yes = root && root->kind == YN_MAP && !ynode_get(root, "aggregates") &&
              ynode_get(root, "scenarios");
        ynode_free(root);
        free(text);
    }
    diag_list_done(&diags);
    return yes;
}
