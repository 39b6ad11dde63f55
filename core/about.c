/* about.c: the data folder, found relative to the executable, and the versions of
 * the libraries Strata runs with (about.h). */
#include "core/about.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/store_migrate.h"
#include "core/util.h"

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

const char *strata_exe_dir(void)
{
    static char dir[PATH_MAX];
    static bool done;
    if (!done) {
        done = true;
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        if (n <= 0) {
            dir[0] = 0;
        } else {
            dir[n] = 0;
            char *slash = strrchr(dir, '/');
            if (slash)
                *(slash == dir ? slash + 1 : slash) = 0;
        }
    }
    return dir[0] ? dir : NULL;
}

/* dir/domains exists: dir is a data folder (installed or a checkout). */
static bool has_domains(const char *dir)
{
    char *d = xasprintf("%s/domains", dir);
    bool yes = is_dir(d);
    free(d);
    return yes;
}

const char *strata_data_dir(void)
{
    static char *found;
    static bool done;
    if (done)
        return found;
    done = true;
    const char *env = getenv("STRATA_DATA_DIR");
    if (env && *env) {
        found = xstrdup(env);
        return found;
    }
    const char *exe = strata_exe_dir();
    if (!exe)
        return NULL;
    /* Installed first: a checkout never has share/strata above its binary. */
    static const char *const rel[] = {"/../share/strata", "", "/../.."};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char *cand = xasprintf("%s%s", exe, rel[i]);
        char real[PATH_MAX];
        if (has_domains(cand) && realpath(cand, real)) {
            free(cand);
            found = xstrdup(real);
            return found;
        }
        free(cand);
    }
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *strata_domain_path(const char *path)
{
    static char *resolved; /* lives as long as the process, like argv */
    if (!path || !*path || strchr(path, '/') || ends_with(path, ".yaml") ||
        ends_with(path, ".yml") || is_file(path))
        return path;
    char *here = xasprintf("%s.yaml", path);
    if (is_file(here)) {
        free(resolved);
        resolved = here;
        return resolved;
    }
    free(here);
    const char *data = strata_data_dir();
    if (!data)
        return path;
    char *shared = xasprintf("%s/domains/%s.yaml", data, path);
    if (!is_file(shared)) {
        free(shared);
        return path;
    }
    free(resolved);
    resolved = shared;
    return resolved;
}

const char *strata_sqlite_version(void)
{
    return sqlite3_libversion();
}

const char *strata_yaml_version(void)
{
    return yaml_get_version_string();
}

int strata_store_format(void)
{
    return store_format_latest();
}
