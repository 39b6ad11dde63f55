/* theme.c: the themes (theme.h), one table each. A light-background theme
 * differs from the dark one only where a colour would vanish on white (yellow,
 * cyan, white text); the mono column is what each meaning becomes without colour. */
#include "tui/theme.h"

#include <stdlib.h>
#include <string.h>

/* One meaning: foreground, background (-1 = the terminal's default), extra
 * attributes, and what it becomes without colour. */
struct color_def {
    short fg, bg;
    attr_t extra;
    attr_t mono;
};

static const struct color_def dark_defs[TC_COUNT] = {
    [TC_NORMAL] = {-1, -1, 0, 0},
    [TC_HEADER] = {COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE},
    [TC_HEADER_KEY] = {COLOR_YELLOW, COLOR_BLUE, A_BOLD, A_REVERSE | A_BOLD},
    [TC_TAB] = {-1, -1, 0, 0},
    [TC_TAB_ACTIVE] = {COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD},
    [TC_TITLE] = {COLOR_CYAN, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [TC_CURSOR] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [TC_ASOF] = {COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD},
    [TC_ERROR] = {COLOR_RED, -1, A_BOLD, A_BOLD},
    [TC_OK] = {COLOR_GREEN, -1, 0, 0},
    [TC_DIM] = {-1, -1, A_DIM, A_DIM},
    [TC_KEY] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [TC_LABEL] = {COLOR_CYAN, -1, 0, A_BOLD},
    [TC_BAR_BORDER] = {-1, -1, A_BOLD, A_BOLD},
    [TC_BAR_FILL] = {COLOR_GREEN, -1, 0, 0},
    [TC_BAR_SHADOW] = {COLOR_BLACK, -1, A_BOLD, A_DIM},
    [TC_METER_TEXT] = {COLOR_CYAN, -1, 0, A_BOLD},
    [TC_STATUS_LIVE] = {COLOR_GREEN, -1, A_BOLD, 0},
    [TC_STATUS_BUSY] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [TC_STATUS_PAUSED] = {COLOR_MAGENTA, -1, A_BOLD, A_UNDERLINE},
    [TC_SCRUB_HIST] = {COLOR_BLUE, -1, 0, 0},
    [TC_SCRUB_MARK] = {COLOR_BLACK, COLOR_YELLOW, A_BOLD, A_REVERSE | A_BOLD},
    [TC_FIELD] = {-1, -1, A_UNDERLINE, A_UNDERLINE},
    [TC_FIELD_FOCUS] = {COLOR_BLACK, COLOR_WHITE, 0, A_REVERSE},
    [TC_CHANGE] = {COLOR_YELLOW, -1, 0, 0},
};

static const struct color_def light_defs[TC_COUNT] = {
    [TC_NORMAL] = {-1, -1, 0, 0},
    [TC_HEADER] = {COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE},
    [TC_HEADER_KEY] = {COLOR_YELLOW, COLOR_BLUE, A_BOLD, A_REVERSE | A_BOLD},
    [TC_TAB] = {-1, -1, 0, 0},
    [TC_TAB_ACTIVE] = {COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD},
    [TC_TITLE] = {COLOR_BLUE, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [TC_CURSOR] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [TC_ASOF] = {COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD},
    [TC_ERROR] = {COLOR_RED, -1, A_BOLD, A_BOLD},
    [TC_OK] = {COLOR_GREEN, -1, 0, 0},
    [TC_DIM] = {-1, -1, A_DIM, A_DIM},
    [TC_KEY] = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD},
    [TC_LABEL] = {COLOR_BLUE, -1, 0, A_BOLD},
    [TC_BAR_BORDER] = {-1, -1, A_BOLD, A_BOLD},
    [TC_BAR_FILL] = {COLOR_GREEN, -1, 0, 0},
    [TC_BAR_SHADOW] = {COLOR_WHITE, -1, 0, A_DIM},
    [TC_METER_TEXT] = {COLOR_BLUE, -1, 0, A_BOLD},
    [TC_STATUS_LIVE] = {COLOR_GREEN, -1, A_BOLD, 0},
    [TC_STATUS_BUSY] = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD},
    [TC_STATUS_PAUSED] = {COLOR_MAGENTA, -1, A_BOLD, A_UNDERLINE},
    [TC_SCRUB_HIST] = {COLOR_BLUE, -1, 0, 0},
    [TC_SCRUB_MARK] = {COLOR_BLACK, COLOR_YELLOW, A_BOLD, A_REVERSE | A_BOLD},
    [TC_FIELD] = {-1, -1, A_UNDERLINE, A_UNDERLINE},
    [TC_FIELD_FOCUS] = {COLOR_BLACK, COLOR_WHITE, 0, A_REVERSE},
    [TC_CHANGE] = {COLOR_MAGENTA, -1, 0, 0},
};

static attr_t scheme[TC_COUNT];

enum tui_theme theme_from_env(const char **bad)
{
    const char *nc = getenv("NO_COLOR");
    const char *t = getenv("STRATA_THEME");
    *bad = NULL;
    if (nc && *nc)
        return THEME_MONO;
    if (!t || !*t || strcmp(t, "dark") == 0)
        return THEME_DARK;
    if (strcmp(t, "light") == 0)
        return THEME_LIGHT;
    if (strcmp(t, "mono") == 0)
        return THEME_MONO;
    *bad = t;
    return THEME_DARK;
}

void tui_colors_init(enum tui_theme theme)
{
    const struct color_def *defs = theme == THEME_LIGHT ? light_defs : dark_defs;
    bool colors_on = theme != THEME_MONO && has_colors() && start_color() == OK;
    if (colors_on)
        use_default_colors();
    for (int i = 0; i < TC_COUNT; i++) {
        const struct color_def *d = &defs[i];
        if (!colors_on) {
            scheme[i] = d->mono;
        } else if (d->fg == -1 && d->bg == -1) {
            scheme[i] = d->extra;
        } else {
            init_pair((short)i, d->fg, d->bg);
            scheme[i] = COLOR_PAIR(i) | d->extra;
        }
    }
}

attr_t tui_attr(enum tui_color c)
{
    return c < TC_COUNT ? scheme[c] : 0;
}
