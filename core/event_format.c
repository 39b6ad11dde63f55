/* event_format.c: events written out as text: the canonical NDJSON line of one
 * event, and the export formats built on it (see event_format.h). */
#include "event_format.h"

#include <stdio.h>
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

/* ---- export ----------------------------------------------------------------------------- */

bool export_format_parse(const char *name, export_format *out)
{
    if (strcmp(name, "ndjson") == 0)
        *out = EXPORT_NDJSON;
    else if (strcmp(name, "cloudevents") == 0)
        *out = EXPORT_CLOUDEVENTS;
    else if (strcmp(name, "csv") == 0)
        *out = EXPORT_CSV;
    else
        return false;
    return true;
}

void export_begin(strbuf *sb, export_format f)
{
    if (f == EXPORT_CSV)
        sb_adds(sb, "position,stream,version,type,schema,time,data,meta\r\n");
}

static void csv_field(strbuf *sb, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        sb_adds(sb, s);
        return;
    }
    sb_addc(sb, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            sb_addc(sb, '"');
        sb_addc(sb, *p);
    }
    sb_addc(sb, '"');
}

/* A CloudEvents integer extension: a JSON number within 32 bits, else a string. */
static void ce_int(strbuf *sb, const char *name, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX)
        sb_addf(sb, ",\"%s\":%lld", name, (long long)v);
    else
        sb_addf(sb, ",\"%s\":\"%lld\"", name, (long long)v);
}

void export_event(strbuf *sb, export_format f, const struct event *ev)
{
    switch (f) {
    case EXPORT_NDJSON:
        event_write_ndjson(sb, ev, NULL, 0);
        return;
    case EXPORT_CLOUDEVENTS: {
        char id[64];
        snprintf(id, sizeof id, "-%lld", (long long)ev->version);
        sb_adds(sb, "{\"specversion\":\"1.0\",\"id\":");
        strbuf tmp;
        sb_init(&tmp);
        sb_adds(&tmp, ev->stream);
        sb_adds(&tmp, id);
        json_write_string(sb, tmp.buf, tmp.len);
        sb_done(&tmp);
        sb_adds(sb, ",\"source\":\"strata\",\"subject\":");
        json_write_string(sb, ev->stream, strlen(ev->stream));
        sb_adds(sb, ",\"type\":");
        json_write_string(sb, ev->type, strlen(ev->type));
        sb_adds(sb, ",\"time\":");
        json_write_string(sb, ev->time, strlen(ev->time));
        sb_adds(sb, ",\"datacontenttype\":\"application/json\"");
        ce_int(sb, "strataposition", ev->position);
        ce_int(sb, "strataversion", ev->version);
        ce_int(sb, "strataschema", ev->schema);
        if (ev->meta) {
            sb_adds(sb, ",\"stratameta\":");
            json_write_string(sb, ev->meta, strlen(ev->meta));
        }
        sb_adds(sb, ",\"data\":");
        sb_adds(sb, ev->data);
        sb_adds(sb, "}\n");
        return;
    }
    case EXPORT_CSV:
        sb_addf(sb, "%lld,", (long long)ev->position);
        csv_field(sb, ev->stream);
        sb_addf(sb, ",%lld,", (long long)ev->version);
        csv_field(sb, ev->type);
        sb_addf(sb, ",%d,", ev->schema);
        csv_field(sb, ev->time);
        sb_addc(sb, ',');
        csv_field(sb, ev->data);
        sb_addc(sb, ',');
        if (ev->meta)
            csv_field(sb, ev->meta);
        sb_adds(sb, "\r\n");
        return;
    }
}
