/* file_options.h: the options `strata import` and `strata replay` share (--source,
 * --map, --skip-bad, --sort time, --allow-duplicates) and the choice of the source they name. */
#ifndef STRATA_CLI_FILE_OPTIONS_H
#define STRATA_CLI_FILE_OPTIONS_H

#include "cli/common.h"
#include "core/import.h"

enum { OPT_SOURCE = OPT_FIRST_FREE + 50, OPT_MAP, OPT_SKIP_BAD, OPT_SORT, OPT_ALLOW_DUPLICATES };
#define FILE_OPTIONS                                                                               \
    {"source", required_argument, NULL, OPT_SOURCE}, {"map", required_argument, NULL, OPT_MAP},    \
        {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},                                             \
        {"sort", required_argument, NULL, OPT_SORT},                                               \
    {                                                                                              \
        "allow-duplicates", no_argument, NULL, OPT_ALLOW_DUPLICATES                                \
    }

struct file_options {
    const char *source;      /* --source NAME, or NULL */
    const char *map;         /* --map FILE, or NULL */
    struct import_options o; /* skip_bad and sort_time filled in */
    struct source_spec *src; /* after file_options_source: the source, or NULL (canonical) */
    bool owned;              /* src is ours to free (it came from --map) */
};

/* Handles one getopt code. Returns 1 when it was a file option, 0 when it was not,
 * and ST_USAGE (after printing the problem) when its value was wrong. */
int file_option(struct cli *c, struct file_options *fo, int opt, const char *arg);
/* After the options: checks they fit together, loads the domain (needed by
 * --source) and picks the source. Returns a status, the problem printed. */
int file_options_source(struct cli *c, struct file_options *fo);
void file_options_done(struct file_options *fo);

#endif
