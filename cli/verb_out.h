/* verb_out.h: the command line's side of the command layer (verbs/verb.h):
 * runs a shared verb with the options from the environment and prints its output,
 * NDJSON lines on standard output, messages on standard error as
 * "strata VERB: ...", tables aligned. */
#ifndef STRATA_CLI_VERB_OUT_H
#define STRATA_CLI_VERB_OUT_H

#include "verbs/verb.h"

/* Runs def on argv (argv[0] is the verb's name); returns the exit status. */
int cli_run_verb(const struct verb_def *def, int argc, char **argv);

#endif
