/* command_args.c: a command's arguments as the verbs that run commands read them
 * (exec, race): field=value words typed by the command's schema over an optional
 * --payload object, and a quote-aware split of one `CMD ARGS` string. */
#include <stdlib.h>
#include <string.h>

#include "core/aggregate.h"
#include "core/json.h"
#include "verbs/verb.h"

int verb_command_payload(struct verb_ctx *c, const struct command_spec *cmd, const char *json,
                         char **words, int nwords, value *out)
{
    value payload = value_map(0);
    if (json) {
        err je;
        value_free(payload);
        if (json_parse(json, strlen(json), &payload, &je) != ST_OK)
            return verb_say(c, VERB_ERROR, ST_ERR, "--payload: invalid JSON at column %d: %s",
                            je.col, je.msg);
        if (payload.type != V_MAP) {
            value_free(payload);
            return verb_say(c, VERB_ERROR, ST_ERR, "--payload must be a JSON object");
        }
    }
    value from_args;
    err e;
    err_clear(&e);
    int rc = command_payload_from_args(cmd, words, nwords, &from_args, &e);
    if (rc != ST_OK) {
        value_free(payload);
        return rc == ST_USAGE ? verb_usage_error(c, "%s", e.msg) : verb_fail(c, &e);
    }
    for (size_t i = 0; i < value_map_len(&from_args); i++) {
        const value *k = value_map_key_at(&from_args, i);
        value_map_setn(&payload, value_str(k), value_strlen(k),
                       value_ref(value_map_val_at(&from_args, i)));
    }
    value_free(from_args);
    *out = payload;
    return ST_OK;
}

void verb_words_free(char **w)
{
    for (size_t i = 0; w && w[i]; i++)
        free(w[i]);
    free(w);
}

char **verb_split_words(const char *line, int *n, const char **bad)
{
    size_t cap = 8, len = 0;
    char **w = xcalloc(cap, sizeof *w);
    const char *p = line;
    *bad = NULL;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        strbuf sb;
        sb_init(&sb);
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                const char *open = p - 1;
                while (*p && *p != q) {
                    if (q == '"' && *p == '\\' && p[1])
                        p++;
                    sb_addc(&sb, *p++);
                }
                if (!*p) {
                    *bad = open;
                    sb_done(&sb);
                    verb_words_free(w);
                    return NULL;
                }
                p++;
            } else if (*p == '\\' && p[1]) {
                sb_addc(&sb, p[1]);
                p += 2;
            } else {
                sb_addc(&sb, *p++);
            }
        }
        if (len + 2 > cap)
            w = xrealloc(w, (cap *= 2) * sizeof *w);
        w[len++] = xstrdup(sb.buf ? sb.buf : ""); /* '' is a word too */
        w[len] = NULL;
        sb_done(&sb);
    }
    *n = (int)len;
    return w;
}
