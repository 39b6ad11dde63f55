/* record.h: a session recorded as tests (`strata exec --record FILE`, the
 * workbench's `:record FILE`): each command issued becomes a scenario appended
 * to FILE in the domain language's format (domain-language.md, "Scenarios"):
 *   given  the stream's events before the command, each with its stored time
 *          (and schema when it is not the current one);
 *   when   the command, its payload and its clock as `time`, so that now()
 *          gives the same value when the scenario runs;
 *   then   the events it appended, or the rule's message that rejected it, and,
 *          under `projections: {P: {contains: [...]}}`, the rows it changed in
 *          read models that only this stream feeds (a row another stream also
 *          feeds would hold other values in a scenario with this stream alone).
 * The changed rows are found by running the scenario itself on an in-memory
 * store (given, then when: the rows before and after); whether another stream
 * feeds a row is read from the store's row history.
 *
 * The file is YAML a person keeps: a header saying what it is and how to run it,
 * `domain: NAME`, then `scenarios:`, each with a comment naming when and how it
 * was recorded, keys in a fixed order, plain scalars where YAML reads them back
 * as the same value. Appending keeps it valid; names are kept unique.
 * `strata test --domain DOMAIN FILE` runs it. */
#ifndef STRATA_RECORD_H
#define STRATA_RECORD_H

#include "aggregate.h"
#include "domain.h"
#include "store.h"

struct record_info {
    const char *domain_path; /* named in a new file's header (may be NULL) */
    const char *origin;      /* "strata exec --record", "the workbench" */
    bool fold;               /* catch the store's projections up first (the command line;
                              * the workbench's runner keeps them) */
    int64_t recorded_ms;     /* the date in the comment (0 = now) */
};

/* Checks that path can take recorded scenarios before a command runs: a file
 * that does not exist yet (its folder must), or one with `domain: NAME` for d
 * (or none) and `scenarios:` last at the top, as this module writes it. ST_ERR
 * with e saying what and where otherwise. */
int record_check_file(const char *path, const struct domain *d, err *e);

/* Appends the scenario of one command that ran: status ST_OK (res->appended) or
 * ST_REJECTED (res->rejected). req->now_ms must be the clock the command ran with
 * (set it before running). *name_out (may be NULL; caller frees) gets the
 * scenario's name. Any other status is ST_USAGE: nothing to record. */
int record_scenario(struct store *s, const struct domain *d, const char *path,
                    const struct command_request *req, int status, const struct command_result *res,
                    const struct record_info *info, char **name_out, err *e);

/* Writes v as YAML flow text: plain scalars where they read back as the same
 * value, JSON's double-quoted strings otherwise (for tests). */
void record_yaml_value(strbuf *sb, const value *v);

#endif
