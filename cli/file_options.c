/* file_options.c: see file_options.h. */
#include "cli/file_options.h"

#include <string.h>

int file_option(struct cli *c, struct file_options *fo, int opt, const char *arg)
{
    switch (opt) {
    case OPT_SOURCE:
        fo->source = arg;
        return 1;
    case OPT_MAP:
        fo->map = arg;
        return 1;
    case OPT_SKIP_BAD:
        fo->o.skip_bad = true;
        return 1;
    case OPT_ALLOW_DUPLICATES:
        fo->o.allow_duplicates = true;
        return 1;
    case OPT_SORT:
        if (strcmp(arg, "time") != 0)
            return cli_usage_error(c, "--sort takes 'time', not '%s'", arg);
        fo->o.sort_time = true;
        return 1;
    default:
        return 0;
    }
}

int file_options_source(struct cli *c, struct file_options *fo)
{
    if (fo->source && fo->map)
        return cli_usage_error(c, "give --source NAME or --map FILE, not both");
    int rc = cli_load_domain(c, fo->source != NULL);
    if (rc != ST_OK)
        return rc;
    err e;
    err_clear(&e);
    rc = import_pick_source(c->domain, fo->source, fo->map, &fo->src, &fo->owned, stderr, &e);
    if (rc != ST_OK)
        return rc == ST_USAGE ? cli_usage_error(c, "%s", e.msg) : cli_fail(c, &e);
    fo->o.source = fo->src;
    /* A --map import reads the map alone; otherwise a domain checks every record. */
    fo->o.domain = fo->map ? NULL : c->domain;
    return ST_OK;
}

void file_options_done(struct file_options *fo)
{
    if (fo->owned)
        source_free(fo->src);
    fo->src = NULL;
    fo->owned = false;
}
