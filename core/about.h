/* about.h: where Strata's shared data lives and what it was built with.
 *
 * An installed strata finds its example domains and samples without the checkout:
 * beside the executable, as ../share/strata relative to /proc/self/exe, so that a
 * DESTDIR install or a prefix moved elsewhere still finds them (tig and git find
 * their share folders the same way). Run from a checkout, the checkout itself is
 * the data folder. */
#ifndef STRATA_ABOUT_H
#define STRATA_ABOUT_H

#include <stdbool.h>

/* The folder holding the running executable (no trailing slash), or NULL when it
 * cannot be read (no /proc). Computed once; owned by the module. */
const char *strata_exe_dir(void);
/* The folder with Strata's shared data (domains/, samples/): $STRATA_DATA_DIR when
 * set, else the first of EXE/../share/strata, EXE (a checkout's ./strata) and
 * EXE/../.. (a checkout's build/asan/strata) that holds a domains/ folder. NULL
 * when there is none. Computed once; owned by the module. */
const char *strata_data_dir(void);
/* What --domain NAME means. A bare name (no '/', not ending in .yaml or .yml) that
 * is no file here is looked up as NAME.yaml in the current folder, then as an
 * installed example, DATA/domains/NAME.yaml; anything else is returned as given.
 * The result is path itself or a string that lives until the next call. */
const char *strata_domain_path(const char *path);

/* The libraries' versions as they run (not as built). */
const char *strata_sqlite_version(void);
const char *strata_yaml_version(void);
/* The store format this build writes (PRAGMA user_version of a new store). */
int strata_store_format(void);

#endif
