/* command_ids.h: randomness for commands (aggregate.c): the pauses between
 * retries after a conflict, and generated command ids. */
#ifndef STRATA_COMMAND_IDS_H
#define STRATA_COMMAND_IDS_H

#include "util.h"

/* A random number for the retry backoff, from a per-thread splitmix64 state. */
uint64_t backoff_random(void);

/* A command id for a command the caller gave none: "c-" and 16 hex digits. */
char *make_command_id(void);

#endif
