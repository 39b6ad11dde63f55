/* request.h: the workbench's actions (requests), their default keys and their help
 * text, all in one X-macro table, tig's way: the enum, the key bindings and the
 * `?` help are generated from it, so the help cannot drift from what the keys do.
 *
 * Each row: R(KEYMAP, NAME, "keys", "help"). Keys are names as scripts write them
 * (`j`, `<Down>`, `<C-f>`, `<S-Tab>`), separated by blanks. A view's keymap is
 * looked up first, then the generic one; a view that does not handle a request
 * hands it back to the generic handler. */
#ifndef STRATA_TUI_REQUEST_H
#define STRATA_TUI_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "tui/view_table.h"

/* One row a line: clang-format would reflow these rows differently on every run. */
// clang-format off
#define TUI_KEYMAPS(K)                                                                             \
    K(GENERIC, "Everywhere")                                                                       \
    K(DOMAIN, "Domain view")                                                                       \
    K(EVENTS, "Events view")                                                                       \
    K(STREAMS, "Streams view")                                                                     \
    K(PROJECTIONS, "Projections view")                                                             \
    K(FORM, "Command form")                                                                        \
    K(SQL, "SQL view")
// clang-format on

enum keymap {
#define KM_ENUM(n, title) KM_##n,
    TUI_KEYMAPS(KM_ENUM)
#undef KM_ENUM
        KM_COUNT
};

/* The view requests (REQ_VIEW_DOMAIN ...) come first, one per row of TUI_VIEWS. */
#define TUI_VIEW_REQUEST(R, id, name, title, keys, help) R(GENERIC, VIEW_##id, keys, help)

#define TUI_REQUESTS(R)                                                                            \
    TUI_VIEWS(TUI_VIEW_REQUEST, R)                                                                 \
    R(GENERIC, VIEW_NEXT, "<Tab>", "Next pane (dashboard) or next view")                           \
    R(GENERIC, VIEW_PREV, "<S-Tab>", "Previous pane or previous view")                             \
    R(GENERIC, ZOOM, "z",                                                                          \
      "Zoom: the focused pane over the whole screen, or back to the dashboard")                    \
    R(GENERIC, PROMPT, ":", "Command palette (:exec, :goto, :query ... Tab completes)")            \
    R(GENERIC, SQL_PROMPT, ";", "SQL prompt: one read-only statement, its rows in a table")        \
    R(GENERIC, QUIT, "q", "Quit (the store is left as it is)")                                     \
    R(GENERIC, INTERRUPT, "<C-c>", "Cancel the palette or the edit; outside them, quit")           \
    R(GENERIC, BACK, "<Esc> <Backspace>", "Close the detail / go back")                            \
    R(GENERIC, MOVE_UP, "k <Up>", "Move up")                                                       \
    R(GENERIC, MOVE_DOWN, "j <Down>", "Move down")                                                 \
    R(GENERIC, PAGE_UP, "<PgUp> <C-b>", "Page up")                                                 \
    R(GENERIC, PAGE_DOWN, "<PgDown> <C-f> <Space>", "Page down")                                   \
    R(GENERIC, MOVE_FIRST, "<Home>", "First line (newest event)")                                  \
    R(GENERIC, MOVE_LAST, "<End> G", "Last line (oldest event)")                                   \
    R(GENERIC, ENTER, "<Enter>", "Open the selected item")                                         \
    R(GENERIC, REFRESH, "<C-l>", "Redraw the screen")                                              \
    R(GENERIC, SCRUB_BACK, "[", "Time travel: one event back")                                     \
    R(GENERIC, SCRUB_FORWARD, "]", "Time travel: one event forward")                               \
    R(GENERIC, SCRUB_PAGE_BACK, "{", "Time travel: one scrubber column back")                      \
    R(GENERIC, SCRUB_PAGE_FORWARD, "}", "Time travel: one scrubber column forward")                \
    R(GENERIC, SCRUB_GOTO, "@", "Time travel: go to a position or a time (:goto)")                 \
    R(GENERIC, SCRUB_LIVE, "L", "Back to live: leave \"as of\" mode")                              \
    R(GENERIC, REBUILD_STALE, "B", "Rebuild stale projections (rules changed by a reload)")        \
    R(DOMAIN, DOMAIN_OPEN, "<Enter> e", "On a command: open its form")                             \
    R(EVENTS, EVENTS_DETAIL, "<Enter>", "Show or hide the detail pane (data and meta)")            \
    R(EVENTS, EVENTS_RAW, "r", "Detail: raw as stored / upcast to the current version")            \
    R(EVENTS, EVENTS_DETAIL_DOWN, "J", "Scroll the detail pane down")                              \
    R(EVENTS, EVENTS_DETAIL_UP, "K", "Scroll the detail pane up")                                  \
    R(EVENTS, EVENTS_FILTER_STREAM, "s", "Filter by stream (:events --stream S)")                  \
    R(EVENTS, EVENTS_FILTER_TYPE, "t", "Filter by type (:events --type T)")                        \
    R(EVENTS, EVENTS_FILTER_TEXT, "/", "Filter by text (:events --text X)")                        \
    R(EVENTS, EVENTS_FILTER_CLEAR, "c", "Clear the filters")                                       \
    R(EVENTS, EVENTS_STREAM, "S", "Open the selected event's stream")                              \
    R(EVENTS, EVENTS_TRACE, "T", "Trace: the causation tree under the selected event (:trace)")    \
    R(EVENTS, EVENTS_UPCAST, "U",                                                                  \
      "Upcast: the selected event's chain step by step, field by field (:upcast)")                 \
    R(STREAMS, STREAMS_OPEN, "<Enter>",                                                            \
      "Open the stream: state, history, what each event changed")                                  \
    R(STREAMS, STREAMS_RAW, "r", "History: what each event changed / its data raw, as stored")     \
    R(PROJECTIONS, PROJ_NEXT, "<Right> l", "Next projection")                                      \
    R(PROJECTIONS, PROJ_PREV, "<Left> h", "Previous projection")                                   \
    R(PROJECTIONS, PROJ_PAUSE, "p", "Pause or resume the projection")                              \
    R(PROJECTIONS, PROJ_THROTTLE, "t", "Throttle the projection (events per second, 0 = off)")     \
    R(PROJECTIONS, PROJ_REBUILD, "R", "Rebuild the projection from the first event")               \
    R(PROJECTIONS, PROJ_SORT, "o", "Sort the rows by the next column")                             \
    R(PROJECTIONS, PROJ_SORT_REVERSE, "O", "Reverse the sort")                                     \
    R(FORM, FORM_NEXT_FIELD, "j <Down>", "Next field")                                             \
    R(FORM, FORM_PREV_FIELD, "k <Up>", "Previous field")                                           \
    R(FORM, FORM_EDIT, "<Enter> e i",                                                              \
      "Edit the field (-- EDIT --): type; Enter ends, Esc or C-c restores, Tab moves on")          \
    R(FORM, FORM_SUBMIT, "s",                                                                      \
      "Send the command with the values shown (the preview says what it will append)")             \
    R(FORM, FORM_CLEAR_FIELD, "<C-u>", "Clear the field")                                          \
    R(FORM, FORM_LEAVE, "<Esc>", "Leave the form (back to the domain)")                            \
    R(SQL, SQL_LEFT, "<Left> h", "Scroll the columns left")                                        \
    R(SQL, SQL_RIGHT, "<Right> l", "Scroll the columns right")

enum request {
    REQ_NONE = 0,
#define REQ_ENUM(km, name, keys, help) REQ_##name,
    TUI_REQUESTS(REQ_ENUM)
#undef REQ_ENUM
        REQ_COUNT
};

struct request_info {
    enum keymap keymap;
    enum request request;
    const char *name; /* "EVENTS_FILTER_TYPE": bound in the keys file as events-filter-type
                         or, in its own keymap, filter-type */
    const char *keys; /* default keys, as in the table */
    const char *help;
};
/* Every row of the table, in order; n in *count. */
const struct request_info *request_table(size_t *count);
const char *keymap_title(enum keymap km);

/* Builds the binding table from the request table (once, at startup); an
 * unknown key name in the table is an error, not a key left unbound. */
int keys_init(err *e);
/* Reads a key-binding file (tig's ~/.tigrc way), one binding a line:
 *   bind KEYMAP KEY REQUEST     e.g. bind events t filter-type, bind generic J move-down
 * KEYMAP is generic, domain, events, streams, projections or form; KEY a key name
 * as scripts write them; REQUEST a request's name in lower case with dashes, the
 * keymap's prefix optional. `#` starts a comment. A binding from the file comes
 * before the defaults. Every problem is appended to problems as "FILE:LINE: ..."
 * (one a line) and parsing goes on; a missing file is no problem. */
void keys_load_file(const char *path, strbuf *problems);
/* Frees the binding table. */
void keys_done(void);
/* The request bound to key in keymap km (then in the generic keymap); REQ_NONE if
 * none. */
enum request keys_lookup(enum keymap km, int key);

/* Parses one key name at *p (`j`, `<Enter>`, `<C-x>`, `<lt>` for '<') and advances
 * *p past it. Returns the curses key code, or -1 for an unknown name (then *p is
 * advanced past the bad name). */
int key_parse(const char **p);
/* The display name of a key code ("<Down>", "j"), in a static buffer. */
const char *key_name(int key);

#endif
