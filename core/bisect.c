/* bisect.c: the first position at which a condition or a fold breaks (see
 * bisect.h for why each search is a single forward pass). */
#include "bisect.h"

#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "projection_backend.h"
#include "projection_fold.h"
#include "provenance.h"

#define PAGE 512
#define STOP 100 /* a walk's callback found the answer: not an error */

void bisect_result_init(struct bisect_result *r)
{
    memset(r, 0, sizeof *r);
    r->holds = true;
    r->before = value_null();
    r->after = value_null();
}

void bisect_result_done(struct bisect_result *r)
{
    free(r->type);
    free(r->stream);
    free(r->error);
    value_free(r->before);
    value_free(r->after);
    bisect_result_init(r);
}

expr *bisect_compile(const struct projection_spec *p, const struct aggregate_spec *a,
                     const char *src, err *e)
{
    size_t n = p ? p->ncolumns : a->nstate;
    const char **names = xcalloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = p ? p->columns[i] : a->state[i].name;
    struct expr_schema schema = {.fields = names, .nfields = n};
    struct expr_env env;
    memset(&env, 0, sizeof env);
    enum expr_root root = p ? ROOT_ROW : ROOT_STATE;
    env.allowed = ROOT_BIT(root);
    env.schema[root] = &schema;
    env.slot = "condition";
    err ee;
    err_clear(&ee);
    expr *x = expr_compile(src, strlen(src), &env, &ee);
    free(names);
    if (!x) {
        err_set(e, ST_ERR, "`%s`: column %d: %s", src, ee.col, ee.msg);
        return NULL;
    }
    expr_type t = expr_result_type(x);
    if (t != EXPR_T_ANY && t != EXPR_T_BOOL) {
        err_set(e, ST_ERR, "`%s`: column 1: this is not a condition (it must be true or false)",
                src);
        expr_free(x);
        return NULL;
    }
    return x;
}

/* Evaluates cond with root set to v. */
static int test(const expr *cond, enum expr_root root, const value *v, int64_t position,
                bool *holds, err *e)
{
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    vars.roots[root] = *v;
    if (expr_eval_bool(cond, &vars, holds, e) != ST_OK)
        return err_prefix(e, "at position %lld", (long long)position), ST_ERR;
    return ST_OK;
}

/* Fills the event's type and stream in r. */
static int name_event(struct store *s, struct bisect_result *r, err *e)
{
    struct event_list evs;
    event_list_init(&evs);
    int rc = store_event_at(s, r->position, &evs, e);
    if (rc == ST_OK) {
        r->type = xstrdup(evs.items[0].type);
        r->stream = xstrdup(evs.items[0].stream);
    }
    event_list_done(&evs);
    return rc;
}

/* Where "holds" ends: `at`, else the head. */
static int through(struct store *s, int64_t at, struct bisect_result *r, err *e)
{
    r->holds = true;
    if (at) {
        r->position = at;
        return ST_OK;
    }
    return store_head(s, &r->position, e);
}

/* ---- a row's condition ---- */

struct row_walk {
    const expr *cond;
    struct bisect_result *r;
    value prev;
};

static int row_entry(void *ctx, int64_t position, const value *row, err *e)
{
    struct row_walk *w = ctx;
    w->r->events++;
    bool holds = true;
    if (row && test(w->cond, ROOT_ROW, row, position, &holds, e) != ST_OK)
        return ST_ERR;
    if (!holds) {
        w->r->holds = false;
        w->r->position = position;
        w->r->before = value_ref(&w->prev);
        w->r->after = value_ref(row);
        return STOP;
    }
    value_free(w->prev);
    w->prev = row ? value_ref(row) : value_null();
    return ST_OK;
}

int bisect_projection(struct store *s, const struct domain *d, const struct projection_spec *p,
                      const char *key, const expr *cond, int64_t at, struct bisect_result *r,
                      err *e)
{
    bisect_result_init(r);
    struct row_walk w = {cond, r, p->key ? value_null() : proj_defaults_row(p)};
    int rc = projection_history_of_key(s, d, p, key, at, row_entry, &w, e);
    value_free(w.prev);
    if (rc == STOP)
        return name_event(s, r, e);
    if (rc == ST_OK && p->key && r->events == 0)
        return err_set(e, ST_NOT_FOUND, "%s has no row with key '%s'", p->name, key);
    return rc == ST_OK ? through(s, at, r, e) : rc;
}

/* ---- an instance's condition ---- */

struct agg_bisect {
    const expr *cond;
    struct bisect_result *r;
};

static int agg_step(void *ctx, const struct event *ev, const value *before, const value *after,
                    err *e)
{
    struct agg_bisect *b = ctx;
    struct bisect_result *r = b->r;
    bool holds = true;
    int rc = test(b->cond, ROOT_STATE, after, ev->position, &holds, e);
    r->events++;
    if (rc != ST_OK || holds)
        return rc;
    r->holds = false;
    r->position = ev->position;
    r->type = xstrdup(ev->type);
    r->stream = xstrdup(ev->stream);
    r->before = value_ref(before);
    r->after = value_ref(after);
    return STOP;
}

int bisect_aggregate(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                     const char *id, const expr *cond, int64_t at, struct bisect_result *r, err *e)
{
    bisect_result_init(r);
    char *stream = aggregate_stream(a, id);
    struct agg_bisect b = {cond, r};
    int64_t version;
    int rc = provenance_fold_stream(s, d, a, stream, at, agg_step, &b, &version, e);
    if (rc == ST_OK && version == 0)
        rc = err_set(e, ST_NOT_FOUND, "stream %s has no events", stream);
    free(stream);
    if (rc == STOP)
        return ST_OK;
    return rc == ST_OK ? through(s, at, r, e) : rc;
}

/* ---- folds that fail ---- */

static void failed_at(struct bisect_result *r, const struct event *ev, value before, const err *why)
{
    r->holds = false;
    r->position = ev->position;
    r->type = xstrdup(ev->type);
    r->stream = xstrdup(ev->stream);
    r->before = before;
    r->after = value_null();
    r->error = xstrdup(why->msg);
}

int bisect_projection_fails(struct store *s, const struct domain *d,
                            const struct projection_spec *p, int64_t at, struct bisect_result *r,
                            err *e)
{
    bisect_result_init(r);
    const struct proj_backend *be = proj_backend_for(s, e);
    if (!be)
        return ST_ERR;
    struct fold f;
    fold_init(&f, be, d, p, false); /* no writer: fold_dry_event keeps rows in memory */
    struct event_filter flt;
    memset(&flt, 0, sizeof flt);
    flt.to = at;
    struct event_iter *it = store_iter_open(s, &flt, 4096);
    const struct event *ev;
    int rc = ST_OK, got;
    while ((got = store_iter_next(it, &ev, e)) == 1) {
        r->events++;
        bool touched;
        err why;
        err_clear(&why);
        if (fold_dry_event(&f, ev, &touched, &why) != ST_OK) {
            const char *key = f.key.buf ? f.key.buf : "";
            const value *row = value_map_getn(&f.cache, key, f.key.len);
            value before = row ? value_ref(row) : p->key ? value_null() : proj_defaults_row(p);
            failed_at(r, ev, before, &why);
            break;
        }
    }
    if (got < 0)
        rc = ST_ERR;
    store_iter_close(it);
    fold_done(&f);
    if (rc == ST_OK && r->holds)
        rc = through(s, at, r, e);
    return rc;
}

/* Folds ev into *state; on failure fills r (the state is left as it was). */
static bool fold_or_fail(const struct domain *d, const struct aggregate_spec *a,
                         const struct event *ev, value *state, struct bisect_result *r)
{
    err why;
    err_clear(&why);
    r->events++;
    if (aggregate_fold(d, a, ev, state, &why) == ST_OK)
        return true;
    failed_at(r, ev, value_ref(state), &why);
    return false;
}

int bisect_aggregate_fails(struct store *s, const struct domain *d, const struct aggregate_spec *a,
                           const char *id, int64_t at, struct bisect_result *r, err *e)
{
    bisect_result_init(r);
    int rc = ST_OK;
    if (id) {
        char *stream = aggregate_stream(a, id);
        value state = aggregate_initial_state(a);
        struct event_list page;
        event_list_init(&page);
        int64_t version = 0;
        bool going = true;
        while (going) {
            event_list_clear(&page);
            if ((rc = store_read_stream(s, stream, version + 1, at, PAGE, &page, e)) != ST_OK)
                break;
            for (size_t i = 0; going && i < page.len; i++) {
                going = fold_or_fail(d, a, &page.items[i], &state, r);
                version = page.items[i].version;
            }
            going = going && page.len == PAGE;
        }
        event_list_done(&page);
        value_free(state);
        free(stream);
    } else {
        /* Every stream of a at once, in position order, so the first failure
         * found is the first in the store: one state per stream in a map. */
        value states = value_map(64);
        struct event_filter flt;
        memset(&flt, 0, sizeof flt);
        flt.to = at;
        struct event_iter *it = store_iter_open(s, &flt, 4096);
        const struct event *ev;
        int got;
        while ((got = store_iter_next(it, &ev, e)) == 1) {
            const char *sid;
            if (aggregate_for_stream(d, ev->stream, &sid) != a)
                continue;
            size_t len = strlen(ev->stream);
            const value *cur = value_map_getn(&states, ev->stream, len);
            value state = cur ? value_ref(cur) : aggregate_initial_state(a);
            /* Out of the map while folding, so the fold need not copy it. */
            if (cur)
                value_map_setn(&states, ev->stream, len, value_null());
            bool ok = fold_or_fail(d, a, ev, &state, r);
            value_map_setn(&states, ev->stream, len, state);
            if (!ok)
                break;
        }
        if (got < 0)
            rc = ST_ERR;
        store_iter_close(it);
        value_free(states);
    }
    if (rc == ST_OK && r->holds)
        rc = through(s, at, r, e);
    return rc;
}
