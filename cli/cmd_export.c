/* cmd_export.c: `strata export [--from P] [--to P] [--stream S] [--type T]
 * [--format ndjson|cloudevents|csv]`: writes events to standard output, in pages,
 * so that exporting a store of any size takes little memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/event_format.h"

static const char usage[] =
    "usage: strata export [--from P] [--to P] [--stream S] [--type T]\n"
    "                     [--format ndjson|cloudevents|csv]\n"
    "\n"
    "Writes events to standard output in global order.\n"
    "\n"
    "  --from P, --to P   positions to start and end at (inclusive)\n"
    "  --stream S         only the events of stream S\n"
    "  --type T           only events of type T\n"
    "  --format F         ndjson (default): Strata's own event file format, one event a\n"
    "                     line, data and meta exactly as stored; `strata import` reads\n"
    "                     it back into an empty store and a second export is identical.\n"
    "                     cloudevents: one structured CloudEvent (JSON) a line: id\n"
    "                     STREAM-VERSION, source \"strata\", subject the stream, data,\n"
    "                     and strataposition, strataversion, strataschema, stratameta.\n"
    "                     csv: position,stream,version,type,schema,time,data,meta\n"
    "                     (RFC 4180 quoting).\n"
    "\n"
    "exit status: 0 ok, 1 the store cannot be read or output failed, 2 usage\n";

enum { OPT_FORMAT = OPT_FIRST_FREE };

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        FILTER_OPTIONS,
        {"format", required_argument, NULL, OPT_FORMAT},
        COMMON_OPTIONS,
        {0, 0, 0, 0},
    };
    struct cli c;
    cli_init(&c, "export", usage);
    struct event_filter f;
    memset(&f, 0, sizeof f);
    export_format fmt = EXPORT_NDJSON;
    int opt;
    int handled;
    while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if ((handled = cli_filter_option(&c, opt, optarg, &f)) != 0) {
            if (handled != 1)
                return handled;
            continue;
        }
        switch (opt) {
        case OPT_FORMAT:
            if (!export_format_parse(optarg, &fmt))
                return cli_usage_error(&c, "unknown format '%s' (ndjson, cloudevents or csv)", optarg);
            break;
        case ':':
            return cli_usage_error(&c, "option %s needs a value", argv[optind - 1]);
        case '?':
            return cli_usage_error(&c, "unknown option '%s'", argv[optind - 1]);
        default:
            if (!cli_common_option(&c, opt, optarg))
                return cli_usage_error(&c, "unknown option");
        }
    }
    if (c.want_help)
        return cli_help(&c);
    if (optind < argc)
        return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
    int rc = cli_open_store(&c, false, true);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    strbuf sb;
    sb_init(&sb);
    export_begin(&sb, fmt);
    struct event_iter *it = store_iter_open(c.store, &f, 1000);
    const struct event *ev;
    int n;
    while ((n = store_iter_next(it, &ev, &e)) == 1) {
        export_event(&sb, fmt, ev);
        if (sb.len >= 1 << 16) {
            fwrite(sb.buf, 1, sb.len, stdout);
            sb_reset(&sb);
        }
    }
    store_iter_close(it);
    if (sb.len)
        fwrite(sb.buf, 1, sb.len, stdout);
    sb_done(&sb);
    if (n < 0) {
        rc = cli_fail(&c, &e);
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        err_set(&e, ST_ERR, "cannot write the output: %s", strerror(errno));
        rc = cli_fail(&c, &e);
    }
    cli_done(&c);
    return rc;
}
