/* views.h: what a view is. A view is a table of operations (tig's `struct
 * view_ops`), one module each (view_domain.c, view_events.c, view_streams.c,
 * view_projections.c, view_form.c, view_help.c); which views there are comes from
 * TUI_VIEWS (view_table.h). Requests come from request.h's table; a view that does
 * not handle one returns it and the generic handler in tui.c takes it. Other
 * modules never call into a view directly: they open it with an argument through
 * tui_open_view (tui.h), which hands the words to the view's open_with. */
#ifndef STRATA_TUI_VIEWS_H
#define STRATA_TUI_VIEWS_H

#include "core/util.h"
#include "tui/request.h"
#include "tui/view_table.h"

enum view_id {
#define VIEW_ENUM(X, id, name, title, keys, help) VIEW_##id,
    TUI_VIEWS(VIEW_ENUM, _)
#undef VIEW_ENUM
        VIEW_COUNT
};

struct tui;
struct view;

/* A rectangle of the screen given to a view to draw in. */
struct area {
    int y, x, h, w;
};

struct view_ops {
    enum keymap keymap; /* looked up before the generic keymap */
    /* True while the view takes typing (the form's editing mode): then every key
     * goes to `key` first, and keys it does not use are ignored. May be NULL. */
    bool (*typing)(struct view *v);
    void (*open)(struct view *v);                /* allocate v->priv */
    void (*close)(struct view *v);               /* free v->priv */
    void (*draw)(struct view *v, struct area a); /* draw the whole area */
    /* Handle a request; return REQ_NONE when handled, or the request to hand to
     * the generic handler. */
    enum request (*request)(struct view *v, enum request req);
    /* A key that is not bound (text input views); true when used. May be NULL. */
    bool (*key)(struct view *v, int key);
    /* A mouse click on row `row` of the area the view last drew. May be NULL. */
    void (*click)(struct view *v, int row);
    /* Points the view at what the words name (each view says which words it
     * takes: a stream, a projection and a key, a command and its fields...).
     * Returns ST_OK or an error in e. May be NULL (the view takes no argument). */
    int (*open_with)(struct view *v, int argc, const char *const *argv, err *e);
};

struct view {
    const struct view_ops *ops;
    struct tui *app;
    void *priv;
    struct area last; /* where it drew last time, for clicks */
};

#define VIEW_OPS_DECL(X, id, name, title, keys, help)                                              \
    extern const struct view_ops view_##name##_ops;
TUI_VIEWS(VIEW_OPS_DECL, _)
#undef VIEW_OPS_DECL

/* The view's :view name ("events"). */
static inline const char *view_name(enum view_id id)
{
    static const char *const names[VIEW_COUNT] = {
#define VIEW_NAME(X, id, name, title, keys, help) #name,
        TUI_VIEWS(VIEW_NAME, _)
#undef VIEW_NAME
    };
    return id < VIEW_COUNT ? names[id] : "?";
}

/* The view's tab title, NULL for a view without a tab (help). */
static inline const char *view_title(enum view_id id)
{
    static const char *const titles[VIEW_COUNT] = {
#define VIEW_TITLE(X, id, name, title, keys, help) title,
        TUI_VIEWS(VIEW_TITLE, _)
#undef VIEW_TITLE
    };
    return id < VIEW_COUNT ? titles[id] : NULL;
}

/* The request that shows a view. */
static inline enum request view_request(enum view_id id)
{
    static const enum request reqs[VIEW_COUNT] = {
#define VIEW_REQ(X, id, name, title, keys, help) REQ_VIEW_##id,
        TUI_VIEWS(VIEW_REQ, _)
#undef VIEW_REQ
    };
    return id < VIEW_COUNT ? reqs[id] : REQ_NONE;
}

#endif
