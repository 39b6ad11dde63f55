/* command_narrate.c: the lines of a narrated command (command_narrate.h). Only
 * reached when a narrator was given, so the formatting here costs nothing to a
 * command that is not narrated. */
#include "command_narrate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void say(const struct command_narrator *n, strbuf *sb)
{
    n->line(n->ctx, sb->buf ? sb->buf : "");
    sb_reset(sb);
}

void narrate_text(const struct command_narrator *n, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    n->line(n->ctx, buf);
}

void narrate_payload(const struct command_narrator *n, const struct command_spec *c,
                     const value *given, const value *validated)
{
    strbuf sb;
    sb_init(&sb);
    sb_addf(&sb, "payload validated: ");
    json_write(&sb, validated);
    size_t filled = 0;
    for (size_t i = 0; i < c->npayload; i++) {
        const struct field_spec *f = &c->payload[i];
        if (!f->has_default || value_map_get(given, f->name))
            continue;
        sb_addf(&sb, "%s%s=", filled++ ? ", " : " (defaults filled: ", f->name);
        json_write(&sb, &f->def);
    }
    if (filled)
        sb_addc(&sb, ')');
    say(n, &sb);
    sb_done(&sb);
}

void narrate_loaded(const struct command_narrator *n, const char *stream,
                    const struct agg_state *st)
{
    if (st->version == 0)
        narrate_text(n, "state loaded: %s is new (no events; every field at its default)", stream);
    else if (st->from_snapshot)
        narrate_text(n,
                     "state loaded: %s at version %lld, from the snapshot at version %lld plus "
                     "%lld event%s",
                     stream, (long long)st->version, (long long)(st->version - st->replayed),
                     (long long)st->replayed, st->replayed == 1 ? "" : "s");
    else
        narrate_text(n, "state loaded: %s at version %lld, no snapshot: %lld event%s replayed",
                     stream, (long long)st->version, (long long)st->replayed,
                     st->replayed == 1 ? "" : "s");
}

void narrate_rule(const struct command_narrator *n, const char *kind, const struct rule_spec *r,
                  const struct expr_vars *vars, int rc)
{
    strbuf sb;
    sb_init(&sb);
    sb_addf(&sb, "%s %s: ", kind, expr_source(r->rule));
    if (rc == ST_OK || rc == ST_REJECTED) {
        /* expr_explain names the values the rule read and the verdict. */
        expr_explain(r->rule, vars, &sb);
        sb_addf(&sb, rc == ST_OK ? " -> holds" : " -> rejected: %s", r->message);
    } else {
        sb_addf(&sb, "could not be evaluated");
    }
    say(n, &sb);
    sb_done(&sb);
}

void narrate_emitted(const struct command_narrator *n, const value *before, const value *after,
                     const struct event_spec *const *specs, char *const *data, size_t count)
{
    strbuf sb;
    sb_init(&sb);
    if (count == 0)
        narrate_text(n, "emit: no events (nothing to record)");
    for (size_t i = 0; i < count; i++) {
        sb_addf(&sb, "emit %s %s", specs[i]->name, data[i]);
        say(n, &sb);
    }
    size_t changed = 0;
    for (size_t i = 0; after && after->type == V_MAP && i < value_map_len(after); i++) {
        const value *k = value_map_key_at(after, i);
        const value *now = value_map_val_at(after, i);
        const value *was = before && before->type == V_MAP
                               ? value_map_getn(before, value_str(k), value_strlen(k))
                               : NULL;
        if (was && value_equal(was, now))
            continue;
        sb_addf(&sb, "state %.*s: ", (int)value_strlen(k), value_str(k));
        if (was)
            json_write(&sb, was);
        else
            sb_adds(&sb, "(none)");
        sb_adds(&sb, " -> ");
        json_write(&sb, now);
        say(n, &sb);
        changed++;
    }
    if (count && !changed)
        narrate_text(n, "state: unchanged");
    sb_done(&sb);
}

void narrate_append(const struct command_narrator *n, const char *stream, int64_t expected,
                    int attempt, int rc, const struct event_list *appended, const err *e)
{
    char exp[48];
    if (expected == STORE_ANY_VERSION)
        snprintf(exp, sizeof exp, "any version");
    else
        snprintf(exp, sizeof exp, "version %lld", (long long)expected);
    if (rc == ST_OK && appended && appended->len) {
        const struct event *a = &appended->items[0], *z = &appended->items[appended->len - 1];
        narrate_text(n, "append to %s expecting %s: positions %lld-%lld (versions %lld-%lld)",
                     stream, exp, (long long)a->position, (long long)z->position,
                     (long long)a->version, (long long)z->version);
    } else if (rc == ST_CONFLICT) {
        narrate_text(n, "append to %s expecting %s: conflict on attempt %d: %s", stream, exp,
                     attempt, e ? e->msg : "another writer appended first");
    } else if (rc == ST_DUPLICATE) {
        narrate_text(n, "append to %s: the command id was processed meanwhile; nothing appended",
                     stream);
    } else {
        narrate_text(n, "append to %s expecting %s: failed: %s", stream, exp, e ? e->msg : "error");
    }
}

void narrate_locked(const struct command_narrator *n, int conflicts)
{
    narrate_text(n,
                 "after %d conflicts: decided under the write lock (loading, deciding and "
                 "appending with no one able to append in between)",
                 conflicts);
}

void narrate_snapshot(const struct command_narrator *n, const char *stream, int64_t version)
{
    narrate_text(n, "snapshot written: %s at version %lld", stream, (long long)version);
}
