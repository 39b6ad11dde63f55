/* cmd_complete.c: `strata __complete WHAT [ARG]`, hidden, the names the shell
 * completions (completion/strata.bash, completion/_strata) offer, one a line, so
 * that the scripts stay small and never parse YAML or help texts themselves.
 *
 * Subcommands and options are read from the program's own --help texts (running
 * itself), so a new subcommand or option is completed as soon as its help names
 * it. Names from the domain in effect (--domain, else STRATA_DOMAIN) are read
 * from the loaded domain. Problems print nothing: a completion must not scribble
 * over the command line being typed. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/about.h"

static const char usage[] =
    "usage: strata __complete [--domain FILE] WHAT [ARG]\n"
    "\n"
    "The names a shell completion offers, one a line (used by the completion\n"
    "scripts; not meant to be typed). WHAT is one of:\n"
    "  subcommands        the subcommands\n"
    "  options [SUB]      the long options of SUB (of strata itself without SUB)\n"
    "  commands           the domain's commands          aggregates   its aggregates\n"
    "  projections        its projections                types        its event types\n"
    "  fields COMMAND     COMMAND's payload fields, as field=\n"
    "  domains            the example domains installed with Strata (for --domain NAME)\n";

/* Runs this program with args and returns what it printed on standard output
 * (standard error discarded), or NULL. */
static char *run_self(char *const args[])
{
    const char *dir = strata_exe_dir();
    if (!dir)
        return NULL;
    int fd[2];
    if (pipe(fd) != 0)
        return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        if (!freopen("/dev/null", "w", stderr))
            _exit(127);
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(fd[1]);
    strbuf sb;
    sb_init(&sb);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd[0], buf, sizeof buf)) > 0)
        sb_add(&sb, buf, (size_t)n);
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return sb_steal(&sb);
}

/* The names in `strata --help`'s "commands:" list: lines "  NAME  summary". */
static void list_subcommands(void)
{
    char *args[] = {"strata", "--help", NULL};
    char *text = run_self(args);
    if (!text)
        return;
    bool in_list = false;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strcmp(line, "commands:") == 0) {
            in_list = true;
        } else if (in_list) {
            if (line[0] != ' ')
                break;
            size_t skip = strspn(line, " ");
            size_t len = strcspn(line + skip, " ");
            printf("%.*s\n", (int)len, line + skip);
        }
    }
    free(text);
}

/* Every distinct --long-option named in SUB's help (strata's own without SUB). */
static void list_options(const char *sub)
{
    char *args[] = {"strata", (char *)(sub ? sub : "--help"), sub ? "--help" : NULL, NULL};
    char *text = run_self(args);
    if (!text)
        return;
    /* strata's own options are those under "common options:"; the list of
     * subcommands above them may mention a subcommand's options. */
    const char *from = text;
    if (!sub && strstr(text, "common options:"))
        from = strstr(text, "common options:");
    strbuf seen;
    sb_init(&seen);
    sb_addc(&seen, ' ');
    /* Every subcommand takes the common options, whether its help says so or not. */
    if (sub)
        sb_adds(&seen, "--domain --db --help ");
    for (const char *p = from; (p = strstr(p, "--")) != NULL;) {
        const char *start = p;
        p += 2;
        size_t len = 0;
        while ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= '0' && p[len] <= '9') ||
               (p[len] == '-' && len > 0))
            len++;
        /* "--" inside a word (a-b--c) or a bare "--" is no option. */
        if (len == 0 || (start > text && start[-1] != ' ' && start[-1] != '[' && start[-1] != '(' &&
                         start[-1] != '|' && start[-1] != '`'))
            continue;
        char name[64], key[68];
        snprintf(name, sizeof name, "--%.*s", (int)(len < 50 ? len : 50), p);
        snprintf(key, sizeof key, " %s ", name);
        if (!strstr(seen.buf, key)) {
            sb_adds(&seen, key + 1);
            printf("%s\n", name);
        }
        p += len;
    }
    if (sub)
        printf("--domain\n--db\n--help\n");
    sb_done(&seen);
    free(text);
}

static void list_domains(void)
{
    const char *data = strata_data_dir();
    if (!data)
        return;
    char *dir = xasprintf("%s/domains", data);
    DIR *d = opendir(dir);
    free(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 5 && strcmp(de->d_name + n - 5, ".yaml") == 0)
            printf("%.*s\n", (int)(n - 5), de->d_name);
    }
    closedir(d);
}

static int list_domain_names(struct cli *c, const char *what, const char *arg)
{
    /* The domain's own messages would land on the line being completed. */
    if (!freopen("/dev/null", "w", stderr))
        return ST_ERR;
    int rc = cli_load_domain(c, true);
    if (rc != ST_OK)
        return rc;
    const struct domain *d = c->domain;
    bool found = strcmp(what, "fields") != 0;
    for (size_t i = 0; i < d->naggregates; i++) {
        const struct aggregate_spec *a = &d->aggregates[i];
        if (strcmp(what, "aggregates") == 0)
            printf("%s\n", a->name);
        for (size_t j = 0; j < a->ncommands; j++) {
            const struct command_spec *cmd = &a->commands[j];
            if (strcmp(what, "commands") == 0)
                printf("%s\n", cmd->name);
            if (strcmp(what, "fields") == 0 && arg && strcmp(arg, cmd->name) == 0) {
                found = true;
                for (size_t k = 0; k < cmd->npayload; k++)
                    printf("%s=\n", cmd->payload[k].name);
            }
        }
        if (strcmp(what, "types") == 0)
            for (size_t j = 0; j < a->nevents; j++)
                printf("%s\n", a->events[j].name);
    }
    if (strcmp(what, "projections") == 0)
        for (size_t i = 0; i < d->nprojections; i++)
            printf("%s\n", d->projections[i].name);
    return found ? ST_OK : ST_ERR;
}

int cmd_complete(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTIONS, {0, 0, 0, 0}};
    struct cli c;
    cli_init(&c, "__complete", usage);
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (!cli_common_option(&c, opt, optarg))
            return cli_usage_error(&c, "unknown option");
    }
    if (c.want_help)
        return cli_help(&c);
    if (optind >= argc)
        return cli_usage_error(&c, "what to complete?");
    const char *what = argv[optind];
    const char *arg = optind + 1 < argc ? argv[optind + 1] : NULL;
    int rc = ST_OK;
    if (strcmp(what, "subcommands") == 0) {
        list_subcommands();
    } else if (strcmp(what, "options") == 0) {
        list_options(arg);
    } else if (strcmp(what, "domains") == 0) {
        list_domains();
    } else if (strcmp(what, "commands") == 0 || strcmp(what, "aggregates") == 0 ||
               strcmp(what, "projections") == 0 || strcmp(what, "types") == 0 ||
               strcmp(what, "fields") == 0) {
        rc = list_domain_names(&c, what, arg);
    } else {
        return cli_usage_error(&c, "cannot complete '%s'", what);
    }
    cli_done(&c);
    return rc;
}
