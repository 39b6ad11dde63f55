/* ask_domain.c: the workbench's question before applying a domain to a store that
 * was used with another (ask_domain.h). It asks rather than refuses, as the
 * command line does without --force, because the workbench has someone to ask;
 * and 'n' still opens the store, as `strata tui --db FILE` would. */
#include "tui/ask_domain.h"

#include <stdio.h>

#include "core/projection.h"
#include "core/store_domain.h"
#include "tui/tui.h"

void ask_domain_draw(struct tui *app)
{
    attr_t h = tui_attr(TC_HEADER), hk = tui_attr(TC_HEADER_KEY), k = tui_attr(TC_KEY);
    const char *name = app->domain->name ? app->domain->name : "?";
    draw_blank(0, 0, COLS, h);
    int x = 1;
    x += draw_str(0, x, COLS - x, "Strata", hk) + 2;
    draw_str(0, x, COLS - x, app->db_path, h);
    int y = 2;
    draw_fmt(y++, 1, COLS - 2, tui_attr(TC_TITLE), "Apply domain '%s' to this store?", name);
    y++;
    y += draw_wrapped(y, 1, COLS - 2, 4, app->ask, 0) + 1;
    draw_str(y, 2, 3, "y", k);
    y += draw_wrapped(y, 5, COLS - 6, 3,
                      "apply it: the store records it from now on, its projection tables are "
                      "made and commands may append",
                      0);
    draw_str(y, 2, 3, "n", k);
    y += draw_wrapped(y, 5, COLS - 6, 3,
                      "open the store without a domain: events, streams and the timeline; "
                      "nothing is written",
                      0);
    draw_str(y, 2, 3, "q", k);
    draw_str(y, 5, COLS - 6, "quit", 0);
    draw_blank(LINES - 1, 0, COLS, 0);
    draw_str(LINES - 1, 0, COLS, app->message, app->message_error ? tui_attr(TC_ERROR) : 0);
}

static void apply(struct tui *app)
{
    err e;
    err_clear(&e);
    const char *name = app->domain->name;
    if (store_domain_record(app->store, name, &e) != ST_OK ||
        projection_setup(app->store, app->domain, &e) != ST_OK) {
        /* Whatever went wrong, the store is still readable without the domain. */
        char why[sizeof e.msg];
        snprintf(why, sizeof why, "%s", e.msg);
        app->domain = app->no_domain;
        app->domain_path = NULL;
        tui_begin(app, NULL);
        tui_error(app, "Domain '%s' not applied: %s", name, why);
        return;
    }
    char said[600];
    snprintf(said, sizeof said, "Domain '%s' applied: %s records it from now on.", name,
             app->db_path);
    tui_begin(app, said);
}

void ask_domain_key(struct tui *app, int key)
{
    char said[600];
    switch (key) {
    case 'y':
    case 'Y':
        apply(app);
        break;
    case 'n':
    case 'N':
    case 27: /* Esc: the answer that writes nothing */
        snprintf(said, sizeof said,
                 "Opened without domain '%s': nothing written; events, streams, timeline.",
                 app->domain->name ? app->domain->name : "?");
        app->domain = app->no_domain;
        app->domain_path = NULL;
        tui_begin(app, said);
        break;
    case 'q':
    case 3: /* Ctrl-C */
        app->quit = true;
        app->exit_status = key == 3 ? 130 : 0;
        break;
    default:
        tui_error(app, "y applies the domain, n opens the store without it, q quits");
        break;
    }
}
