/* event_format.c: the canonical NDJSON line of one event (see event_format.h). */
#include "event_format.h"

#include <string.h>

#include "json.h"

void event_write_ndjson(strbuf *sb, const struct event *ev, const char *data_override,
                        int schema_override)
{
    sb_addf(sb, "{\"position\":%lld,\"stream\":", (long long)ev->position);
    json_write_string(sb, ev->stream, strlen(ev->stream));
    sb_addf(sb, ",\"version\":%lld,\"type\":", (long long)ev->version);
    json_write_string(sb, ev->type, strlen(ev->type));
    sb_addf(sb, ",\"schema\":%d,\"time\":", schema_override > 0 ? schema_override : ev->schema);
    json_write_string(sb, ev->time, strlen(ev->time));
    sb_adds(sb, ",\"data\":");
    sb_adds(sb, data_override ? data_override : ev->data);
    if (ev->meta) {
        sb_adds(sb, ",\"meta\":");
        sb_adds(sb, ev->meta);
    }
    sb_adds(sb, "}\n");
}
