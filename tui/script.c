/* script.c: the script player (script.h). A line is either keys (`j`, `<Enter>`,
 * `<C-x>`, see key_parse) fed to the workbench as if typed, or a `:` command run as
 * typed in the palette, or `:mouse X Y ACTION` (click, press, drag, release,
 * wheel-up, wheel-down at column X, row Y), a mouse event played as if the
 * terminal had sent it. Before each line it waits until background jobs are done
 * and every projection has caught up with the head, so screens are reproducible. */
#include "tui/script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/jobs.h"
#include "tui/palette_verbs.h"
#include "tui/terminal.h"
#include "tui/tui.h"

static bool settled(struct tui *app)
{
    if (tui_jobs_running(app))
        return false;
    if (app->runner && !projection_runner_settled(app->runner))
        return false;
    for (size_t i = 0; i < app->nlags; i++) {
        const struct proj_lag *l = &app->lags[i];
        if (l->status == PROJ_PAUSED || l->status == PROJ_FAILED)
            continue;
        if (l->checkpoint < app->head || l->status == PROJ_REBUILDING)
            return false;
    }
    return true;
}

static void wait_settled(struct tui *app, int64_t timeout_ms)
{
    int64_t deadline = time_now_ms() + timeout_ms;
    for (;;) {
        tui_poll(app, true);
        if (settled(app) || terminal_stop_signal())
            break;
        if (time_now_ms() > deadline) {
            tui_error(app, "script: gave up waiting for projections to settle");
            break;
        }
        if (app->runner)
            projection_runner_poke(app->runner);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    tui_poll(app, true);
}

/* ":copy-file FROM TO" (after the ":copy-file "): TO gets FROM's bytes, as an
 * editor saving TO would (scripts test the live domain reload with it). */
static bool copy_file(const char *args, char *problem, size_t cap)
{
    char from[200], to[200];
    if (sscanf(args, "%199s %199s", from, to) != 2) {
        snprintf(problem, cap, ":copy-file FROM TO");
        return false;
    }
    FILE *in = fopen(from, "rb");
    FILE *out = in ? fopen(to, "wb") : NULL;
    bool ok = in && out;
    char buf[8192];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (out && fclose(out) != 0)
        ok = false;
    if (in)
        fclose(in);
    if (!ok)
        snprintf(problem, cap, ":copy-file %s %s: %s", from, to, strerror(errno));
    return ok;
}

/* ":mouse X Y ACTION" (after the ":mouse "); false when malformed. */
static bool play_mouse(struct tui *app, const char *args)
{
    static const struct {
        const char *name;
        mmask_t bstate;
    } actions[] = {
        {"click", BUTTON1_CLICKED},      {"press", BUTTON1_PRESSED},
        {"drag", REPORT_MOUSE_POSITION}, {"release", BUTTON1_RELEASED},
        {"wheel-up", BUTTON4_PRESSED},   {"wheel-down", BUTTON5_PRESSED},
    };
    int x, y;
    char what[16];
    if (sscanf(args, "%d %d %15s", &x, &y, what) != 3)
        return false;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(actions[i].name, what) == 0) {
            tui_mouse(app, y, x, actions[i].bstate);
            return true;
        }
    return false;
}

int script_run(struct tui *app, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(app->script_problem, sizeof app->script_problem, "STRATA_SCRIPT: %s: %s", path,
                 strerror(errno));
        return ST_ERR;
    }
    const char *to = getenv("STRATA_SCRIPT_TIMEOUT");
    int64_t timeout_ms = to && atoi(to) > 0 ? (int64_t)atoi(to) * 1000 : 20000;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    int status = ST_OK;
    while (!app->quit && !terminal_stop_signal() && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        wait_settled(app, timeout_ms);
        tui_reload_domain(app, false); /* between steps, as the main loop does between keys */
        if (strncmp(line, ":mouse ", 7) == 0) {
            if (!play_mouse(app, line + 7) && !app->script_problem[0]) {
                snprintf(app->script_problem, sizeof app->script_problem,
                         "%s:%d: :mouse X Y click|press|drag|release|wheel-up|wheel-down", path,
                         lineno);
                status = ST_ERR;
            }
        } else if (strncmp(line, ":copy-file ", 11) == 0) {
            char problem[500];
            if (!copy_file(line + 11, problem, sizeof problem)) {
                if (!app->script_problem[0])
                    snprintf(app->script_problem, sizeof app->script_problem, "%s:%d: %s", path,
                             lineno, problem);
                status = ST_ERR;
            }
            tui_reload_domain(app, false); /* noticed at once, as on the next idle tick */
        } else if (line[0] == ':') {
            /* A command line runs as typed in the palette; a palette the script
             * opened with <Colon> stays open (so its line can be saved). */
            palette_run(app, line + 1);
        } else {
            const char *p = line;
            while (*p && !app->quit) {
                const char *at = p;
                int k = key_parse(&p);
                if (k < 0) {
                    if (!app->script_problem[0])
                        snprintf(app->script_problem, sizeof app->script_problem,
                                 "%s:%d: unknown key name '%.*s' (keys: j, <Enter>, <C-x>, "
                                 "<Down>, <Esc>, <Tab>, <lt> ...)",
                                 path, lineno, (int)(p - at), at);
                    status = ST_ERR;
                    continue;
                }
                tui_handle_key(app, k);
            }
        }
        if (app->dirty)
            tui_draw(app);
    }
    free(line);
    fclose(f);
    return status;
}
