/* race.c: two commands decided on one loaded state, the first appending, the
 * second meeting the conflict and retried on the fresh state (race.h). Built
 * from the pieces `strata exec` uses (command_preview to decide without
 * appending, command_execute with an expected version to append), and told
 * with command_narrate.h's lines. */
#include "race.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void race_result_init(struct race_result *r)
{
    memset(r, 0, sizeof *r);
    command_result_init(&r->first);
    command_result_init(&r->second);
}

void race_result_done(struct race_result *r)
{
    command_result_done(&r->first);
    command_result_done(&r->second);
}

/* A narrator that puts a prefix before each line of another one. */
struct prefixed {
    const struct command_narrator *to;
    const char *prefix;
};

static void prefixed_line(void *ctx, const char *text)
{
    struct prefixed *p = ctx;
    char *line = xasprintf("%s%s", p->prefix, text);
    p->to->line(p->to->ctx, line);
    free(line);
}

/* A narrator that keeps its lines, to be told after a line that must come first. */
struct kept {
    char **lines;
    size_t n;
};

static void kept_line(void *ctx, const char *text)
{
    struct kept *k = ctx;
    k->lines = xrealloc(k->lines, (k->n + 1) * sizeof *k->lines);
    k->lines[k->n++] = xstrdup(text);
}

static void kept_flush(struct kept *k, const struct command_narrator *n)
{
    for (size_t i = 0; i < k->n; i++) {
        if (n)
            n->line(n->ctx, k->lines[i]);
        free(k->lines[i]);
    }
    free(k->lines);
    memset(k, 0, sizeof *k);
}

/* The stream a command writes, named by its payload's id field (NULL when the
 * payload has no usable id: deciding it then fails and says why). */
static char *stream_of(const struct command_spec *c, const value *payload)
{
    const value *idv = value_map_get(payload, c->aggregate->id_field);
    if (idv && idv->type == V_STRING && value_strlen(idv)) {
        char *id = xstrndup(value_str(idv), value_strlen(idv));
        char *s = aggregate_stream(c->aggregate, id);
        free(id);
        return s;
    }
    if (idv && idv->type == V_INT) {
        char *id = xasprintf("%lld", (long long)idv->u.i);
        char *s = aggregate_stream(c->aggregate, id);
        free(id);
        return s;
    }
    return NULL;
}

/* Decides req on the state as it is now, appending nothing; tells the state it
 * loaded, the rules and the events, and the verdict. */
static int decide_now(struct store *s, const struct domain *d, const struct command_request *req,
                      const char *stream, const struct command_narrator *n, struct agg_state *st,
                      struct command_result *res, err *e)
{
    struct kept k = {NULL, 0};
    struct command_narrator kn = {kept_line, &k};
    struct command_request r = *req;
    r.narrate = n ? &kn : NULL;
    int rc = command_preview(s, d, &r, st, res, e);
    if (n && (rc == ST_OK || rc == ST_REJECTED))
        narrate_loaded(n, stream, st);
    kept_flush(&k, n);
    if (!n) {
    } else if (rc == ST_OK) {
        narrate_text(n, "decided on version %lld: %zu event%s to append", (long long)st->version,
                     res->appended.len, res->appended.len == 1 ? "" : "s");
    } else if (rc == ST_REJECTED) {
        narrate_text(n, "decided on version %lld: rejected (%s); nothing to append",
                     (long long)st->version, res->rejected ? res->rejected : "a rule");
    } else {
        narrate_text(n, "cannot be decided: %s", e->msg);
    }
    if (rc == ST_OK) { /* what it would append is not appended: the append says */
        command_result_done(res);
        command_result_init(res);
    }
    return rc;
}

int command_race(struct store *s, const struct domain *d, const struct command_request *a,
                 const struct command_request *b, bool retry, const struct command_narrator *n,
                 struct race_result *out, err *e)
{
    struct prefixed p1 = {n, "first: "}, p2 = {n, "second: "};
    struct command_narrator n1 = {prefixed_line, &p1}, n2 = {prefixed_line, &p2};
    const struct command_narrator *t1 = n ? &n1 : NULL, *t2 = n ? &n2 : NULL;
    struct command_request ra = *a, rb = *b;
    ra.now_ms = rb.now_ms = a->now_ms ? a->now_ms : time_now_ms();
    ra.narrate = rb.narrate = NULL;
    ra.expected_version = rb.expected_version = STORE_ANY_VERSION;
    char *sa_name = stream_of(a->command, &a->payload),
         *sb_name = stream_of(b->command, &b->payload);
    out->same_stream = sa_name && sb_name && strcmp(sa_name, sb_name) == 0;
    struct agg_state sa, sb;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    int rc;

    /* 1. Both decide on the state as loaded now: nothing is appended in between. */
    if (n && out->same_stream)
        narrate_text(n, "both commands load %s and decide on it before either appends", sa_name);
    else if (n && sa_name && sb_name)
        narrate_text(n, "the commands write different streams (%s, %s): they cannot conflict",
                     sa_name, sb_name);
    /* Under the write lock, so that no other writer appends between the two loads:
     * both see one state. Nothing is written; the lock is given back before the
     * appends. */
    if ((rc = store_begin(s, e)) != ST_OK)
        goto done;
    int pa = decide_now(s, d, &ra, sa_name, t1, &sa, &out->first, e);
    err e2;
    err_clear(&e2);
    int pb = pa == ST_OK || pa == ST_REJECTED
                 ? decide_now(s, d, &rb, sb_name, t2, &sb, &out->second, &e2)
                 : ST_ERR;
    store_rollback(s);
    if (pa != ST_OK && pa != ST_REJECTED) {
        rc = pa;
        goto done;
    }
    if (pb != ST_OK && pb != ST_REJECTED) {
        *e = e2;
        rc = pb;
        goto done;
    }
    out->version = sb.version;

    /* 2. The first appends with the version it decided on. */
    if (pa == ST_OK) {
        ra.expected_version = sa.version;
        err e1;
        err_clear(&e1);
        out->first_status = command_execute(s, d, &ra, &out->first, &e1);
        if (t1 && out->first_status == ST_OK && out->first.appended.len == 0)
            narrate_text(t1, "no events: nothing appended");
        else if (t1)
            narrate_append(t1, sa_name, sa.version, 1, out->first_status, &out->first.appended,
                           &e1);
    } else {
        out->first_status = pa;
        if (t1)
            narrate_text(t1, "appends nothing (rejected)");
    }

    /* 3. The second: rejected already, it has nothing to append and meets nothing. */
    if (pb == ST_REJECTED) {
        if (t2)
            narrate_text(t2, "outcome: rejected on the shared state; nothing to append, so no "
                             "conflict");
        rc = ST_REJECTED;
        goto done;
    }
    rb.expected_version = sb.version;
    err_clear(e);
    rc = command_execute(s, d, &rb, &out->second, e);
    if (rc == ST_OK) {
        if (t2 && out->second.appended.len == 0)
            narrate_text(t2, "no events: nothing appended");
        else if (t2)
            narrate_append(t2, sb_name, sb.version, 1, rc, &out->second.appended, e);
        if (t2)
            narrate_text(t2, "outcome: accepted without a conflict (%s)",
                         out->same_stream ? "the first appended nothing to the stream"
                                          : "another stream");
        goto done;
    }
    if (rc != ST_CONFLICT) {
        if (t2)
            narrate_append(t2, sb_name, sb.version, 1, rc, NULL, e);
        goto done;
    }
    out->conflicted = true;
    if (t2)
        narrate_append(t2, sb_name, sb.version, 1, rc, NULL, e);
    if (!retry) {
        if (t2)
            narrate_text(t2, "outcome: conflict, not retried; nothing appended");
        goto done;
    }

    /* 4. The retry: decided again on the fresh state, as exec does after a conflict. */
    out->retried = true;
    if (t2)
        narrate_text(t2, "retried: decided again on the fresh state");
    command_result_done(&out->second);
    command_result_init(&out->second);
    rb.expected_version = STORE_ANY_VERSION;
    rb.narrate = t2;
    err_clear(e);
    rc = command_execute(s, d, &rb, &out->second, e);
    if (!t2) {
    } else if (rc == ST_OK) {
        narrate_text(t2, "outcome: accepted after the conflict (retried on the fresh state)");
    } else if (rc == ST_REJECTED) {
        narrate_text(t2, "outcome: rejected on the fresh state (%s); nothing appended",
                     out->second.rejected ? out->second.rejected : "a rule");
    } else {
        narrate_text(t2, "outcome: %s; nothing appended", e->msg);
    }
done:
    agg_state_done(&sa);
    agg_state_done(&sb);
    free(sa_name);
    free(sb_name);
    return rc;
}
