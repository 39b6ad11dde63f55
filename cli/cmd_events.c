/* cmd_events.c: `strata events [--stream S] [--type T] [--from P] [--to P]
 * [--limit N] [--raw]`: lists events as canonical NDJSON, in global order.
 *
 * With a domain, each event is upcast to its type's current version (design.md:
 * "upcast unless --raw"); without one, or with --raw, events are printed exactly
 * as stored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/aggregate.h"
#include "core/event_format.h"
#include "core/json.h"

static const char usage[] =
    "usage: strata events [--stream S] [--type T] [--from P] [--to P] [--limit N] [--raw]\n"
    "\n"
    "Lists events as NDJSON (Strata's event file format), in global order.\n"
    "\n"
    "  --stream S        only the events of stream S\n"
    "  --type T          only events of type T\n"
    "  --from P, --to P  positions to start and end at (inclusive)\n"
    "  --limit N         at most N events\n"
    "  --raw             the events exactly as stored (no upcasting)\n"
    "\n"
    "exit status: 0 ok, 1 the store cannot be read, 2 usage\n";

enum { OPT_LIMIT = OPT_FIRST_FREE, OPT_RAW };

int cmd_events(int argc, char **argv)
{
    static const struct option opts[] = {
        FILTER_OPTIONS,
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"raw", no_argument, NULL, OPT_RAW},
        COMMON_OPTIONS,
        {0, 0, 0, 0},
    };
    struct cli c;
    cli_init(&c, "events", usage);
    struct event_filter f;
    memset(&f, 0, sizeof f);
    int64_t limit = -1;
    bool raw = false;
    int opt;
    int handled;
    while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if ((handled = cli_filter_option(&c, opt, optarg, &f)) != 0) {
            if (handled != 1)
                return handled;
            continue;
        }
        switch (opt) {
        case OPT_LIMIT:
            if (!cli_parse_count(optarg, &limit))
                return cli_usage_error(&c, "--limit takes a whole number, not '%s'", optarg);
            break;
        case OPT_RAW:
            raw = true;
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
    int rc = raw ? ST_OK : cli_load_domain(&c, false);
    if (rc != ST_OK)
        return rc;
    rc = cli_open_store(&c, false, true);
    if (rc != ST_OK) {
        cli_done(&c);
        return rc;
    }
    err e;
    err_clear(&e);
    strbuf sb;
    sb_init(&sb);
    size_t page = limit >= 0 && limit < 1000 ? (size_t)(limit ? limit : 1) : 1000;
    struct event_iter *it = store_iter_open(c.store, &f, page);
    const struct event *ev;
    int n = 0;
    strbuf data;
    sb_init(&data);
    for (int64_t count = 0; limit < 0 || count < limit; count++) {
        if ((n = store_iter_next(it, &ev, &e)) != 1)
            break;
        const struct event_spec *spec = c.domain ? domain_event(c.domain, ev->type) : NULL;
        struct decoded_event de;
        err why;
        err_clear(&why);
        if (spec && event_decode(c.domain, ev, true, &de, &why) != ST_OK) {
            /* A poison event (the domain cannot read it) is listed as stored, with
             * the reason on stderr: one bad event must not hide the others. */
            if (sb.len) {
                fwrite(sb.buf, 1, sb.len, stdout);
                sb_reset(&sb);
            }
            fflush(stdout);
            fprintf(stderr, "strata events: warning: %s (shown as stored)\n", why.msg);
            event_write_ndjson(&sb, ev, NULL, 0);
        } else if (spec && ev->schema != spec->version) {
            sb_reset(&data);
            json_write(&data, &de.data);
            event_write_ndjson(&sb, ev, data.buf, de.schema);
            decoded_event_done(&de);
        } else {
            if (spec)
                decoded_event_done(&de);
            event_write_ndjson(&sb, ev, NULL, 0);
        }
        if (sb.len >= 1 << 16) {
            fwrite(sb.buf, 1, sb.len, stdout);
            sb_reset(&sb);
        }
    }
    store_iter_close(it);
    sb_done(&data);
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
