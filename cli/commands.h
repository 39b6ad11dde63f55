/* commands.h: the subcommands of `strata` that are the command line's own, one
 * file each (cli/cmd_NAME.c); the verbs shared with the workbench's palette live
 * in verbs/ and run through cli/verb_out.h. Each takes the argv after the program name (argv[0] is
 * the subcommand's name) and returns the exit code (enum status values). */
#ifndef STRATA_CLI_COMMANDS_H
#define STRATA_CLI_COMMANDS_H

int cmd_tui(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_complete(int argc, char **argv);

#endif
