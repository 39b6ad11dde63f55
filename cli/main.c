/* main.c: `strata`, one program with subcommands (design.md, "The command line").
 * A subcommand is either the command line's own (cli/cmd_NAME.c) or a verb shared
 * with the workbench's palette (verbs/, run through cli/verb_out.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/verb_out.h"
#include "core/util.h"

/* run NULL: a shared verb (verb_find(name)), whose summary is its own. */
struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"tui", cmd_tui, "open the workbench (default when standard output is a terminal)"},
    {"check", NULL, NULL},
    {"exec", NULL, NULL},
    {"events", NULL, NULL},
    {"state", NULL, NULL},
    {"project", NULL, NULL},
    {"query", NULL, NULL},
    {"why", NULL, NULL},
    {"bisect", NULL, NULL},
    {"trace", NULL, NULL},
    {"doctor", NULL, NULL},
    {"sql", NULL, NULL},
    {"upcast", NULL, NULL},
    {"snapshots", NULL, NULL},
    {"race", NULL, NULL},
    {"import", NULL, NULL},
    {"branch", NULL, NULL},
    {"diff", NULL, NULL},
    {"export", NULL, NULL},
    {"copy", NULL, NULL},
    {"test", cmd_test, "run a domain's scenarios"},
    {"eval", cmd_eval, "evaluate one expression"},
    {"replay", NULL, NULL},
    {"stats", NULL, NULL},
    {"variants", NULL, NULL},
    {"flow", NULL, NULL},
    {"durations", NULL, NULL},
    {"version", cmd_version, "print the version (--verbose: libraries, store format, data)"},
    {"__complete", cmd_complete, "names for the shell completions (hidden)"},
};

static const char *summary(const struct subcommand *s)
{
    const struct verb_def *v = s->run ? NULL : verb_find(s->name);
    return v ? v->summary : s->summary;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: strata [--domain FILE] [--db FILE] COMMAND [ARGS...]\n\n"
                 "Strata is an event-sourcing workbench for the terminal.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (subcommands[i].name[0] != '_') /* __complete is for the shell scripts */
            fprintf(out, "  %-9s %s\n", subcommands[i].name, summary(&subcommands[i]));
    fprintf(out, "\ncommon options:\n"
                 "  --domain FILE  the domain (or STRATA_DOMAIN)\n"
                 "  --db FILE      the store (or STRATA_DB; default <domain>.db here)\n"
                 "  --branch NAME  work on a what-if branch of the store (or STRATA_BRANCH)\n"
                 "  --help         help for a command: strata COMMAND --help\n"
                 "  --version      print the version\n"
                 "\nexit codes: 0 ok, 1 bad input or I/O error, 2 usage, 3 rejected by a rule,\n"
                 "4 concurrency conflict\n");
}

int main(int argc, char **argv)
{
    /* The subcommand is the first argument that is not an option (or an option's
     * value), so `strata --domain d.yaml exec ...` works as GNU getopt users expect. */
    int cmd_at = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0)
            return cmd_version(1, argv + i);
        if ((strcmp(argv[i], "--domain") == 0 || strcmp(argv[i], "--db") == 0 ||
             strcmp(argv[i], "--branch") == 0) &&
            i + 1 < argc) {
            i++;
            continue;
        }
        if (argv[i][0] == '-') {
            /* Before the command only the common options are known: a typo
             * here would otherwise make its value look like the command. */
            static const char *const common[] = {"--domain", "--db", "--branch", "--help",
                                                 "--version"};
            char word[128];
            snprintf(word, sizeof word, "%.*s", (int)strcspn(argv[i], "="), argv[i]);
            bool known = strcmp(word, "-h") == 0;
            for (size_t k = 0; k < 5; k++)
                known = known || strcmp(word, common[k]) == 0;
            if (!known) {
                const char *dym = did_you_mean(word, common, 5);
                fprintf(stderr, "strata: unknown option '%s'%s%s%s\n", word,
                        dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
                return ST_USAGE;
            }
            continue;
        }
        cmd_at = i;
        break;
    }
    if (cmd_at < 0) {
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                usage(stdout);
                return 0;
            }
        if (isatty(STDOUT_FILENO) && isatty(STDIN_FILENO))
            return cmd_tui(argc, argv);
        usage(stderr);
        return ST_USAGE;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        if (strcmp(argv[cmd_at], subcommands[i].name) == 0) {
            /* Hand the subcommand every argument, its own name first, with the
             * options that stood before it moved after it. */
            char *args[argc + 1];
            int n = 0;
            args[n++] = argv[cmd_at];
            for (int j = 1; j < argc; j++)
                if (j != cmd_at)
                    args[n++] = argv[j];
            args[n] = NULL;
            if (!subcommands[i].run)
                return cli_run_verb(verb_find(subcommands[i].name), n, args);
            return subcommands[i].run(n, args);
        }
    }
    const char *names[sizeof subcommands / sizeof subcommands[0]];
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        names[i] = subcommands[i].name;
    const char *dym = did_you_mean(argv[cmd_at], names, sizeof names / sizeof names[0]);
    fprintf(stderr, "strata: unknown command '%s'%s%s%s\n\n", argv[cmd_at],
            dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
    usage(stderr);
    return ST_USAGE;
}
