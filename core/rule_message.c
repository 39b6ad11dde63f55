/* rule_message.c: formatting a failed rule's message (rule_message.h). */
#include "rule_message.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

char *rule_message(const struct rule_spec *r, const struct expr_vars *vars)
{
    if (!r->texts)
        return xstrdup(r->message ? r->message : "");
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < r->nholes; i++) {
        sb_adds(&sb, r->texts[i]);
        value v;
        err e;
        memset(&e, 0, sizeof e);
        if (!r->holes[i] || expr_eval(r->holes[i], vars, &v, &e) != ST_OK) {
            sb_adds(&sb, "{?}");
            continue;
        }
        if (v.type == V_STRING)
            sb_add(&sb, value_str(&v), value_strlen(&v));
        else
            json_write(&sb, &v);
        value_free(v);
    }
    sb_adds(&sb, r->texts[r->nholes]);
    return sb_steal(&sb);
}
