/* view_table.h: the one list of the workbench's views, as an X-macro. The view
 * enum (views.h), the view requests and their keys (request.h), the tab bar and
 * the mouse's tabs (frame.c), the :view names and the ops table (tui.c) are all
 * generated from it, so adding a view is one row here and one module.
 *
 * Each row: V(X, ID, name, "Tab", "keys", "help"). name is the :view name and the
 * module's ops (view_<name>_ops); "Tab" is the tab's title, NULL for a view
 * without a tab; "keys" and "help" make the request that shows it (REQ_VIEW_ID).
 * X is passed through untouched, so that another table can expand this one with
 * its own row macro. Tabs are numbered in this order. */
#ifndef STRATA_TUI_VIEW_TABLE_H
#define STRATA_TUI_VIEW_TABLE_H

#define TUI_VIEWS(V, X)                                                                            \
    V(X, DOMAIN, domain, "Domain", "1", "Domain: aggregates, commands, events, projections")       \
    V(X, EVENTS, events, "Events", "2", "Events: every event in the store, newest first")          \
    V(X, STREAMS, streams, "Streams", "3", "Streams: each instance's state and history")           \
    V(X, PROJECTIONS, projections, "Projections", "4",                                             \
      "Projections: read models and their lag gauges")                                             \
    V(X, FORM, form, "Form", "5", "Command form (the last command chosen)")                        \
    V(X, HELP, help, NULL, "? <F1>", "This help")                                                  \
    V(X, OUTPUT, output, NULL, "", "Output of the palette's last command (:view output)")          \
    V(X, LOG, log, NULL, "N", "Log: every command narrated step by step (:view log)")              \
    V(X, SQL, sql, NULL, "", "SQL: the rows of the last `;` statement (:view sql)")                \
    V(X, INSIGHTS, insights, NULL, "6",                                                            \
      "Insights: types, variants, flow and case durations, as of the timeline")                    \
    V(X, COMPARE, compare, NULL, "", "Compare: main and a branch side by side (:compare ...)")

#endif
