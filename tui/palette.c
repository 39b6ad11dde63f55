/* palette.c: the `:` command palette's line editor (palette.h): editing keys,
 * history (Up/Down) and the mechanics of Tab completion (the longest common
 * prefix, the list of choices). The same editor is the `;` SQL prompt, with a
 * history of its own; its line goes to the SQL view (view_sql.c). What the line means and what may
 * complete it belong to the verbs (palette_verbs.c). */
#include "tui/palette.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/palette_verbs.h"
#include "tui/tui.h"
#include "tui/words.h"

#define PAL_MAX 1024
#define PAL_HISTORY 100

/* One history per prompt: commands and SQL do not mix. */
struct history {
    char *hist[PAL_HISTORY];
    size_t nhist;
};

static struct {
    char buf[PAL_MAX];
    size_t len, cur;
    struct history h[2]; /* [0] the palette's, [1] the SQL prompt's */
    bool sql;            /* the `;` prompt */
    size_t hist_at;      /* nhist = the line being typed */
} pal;

#define HIST (pal.h[pal.sql].hist)
#define NHIST (pal.h[pal.sql].nhist)

void palette_init(void)
{
    memset(&pal, 0, sizeof pal);
}

void palette_done(void)
{
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < pal.h[k].nhist; i++)
            free(pal.h[k].hist[i]);
    memset(&pal, 0, sizeof pal);
}

static void history_add(const char *line)
{
    if (!*line)
        return;
    if (NHIST && strcmp(HIST[NHIST - 1], line) == 0)
        return;
    if (NHIST == PAL_HISTORY) {
        free(HIST[0]);
        memmove(HIST, HIST + 1, (PAL_HISTORY - 1) * sizeof HIST[0]);
        NHIST--;
    }
    HIST[NHIST++] = xstrdup(line);
}

void palette_open(struct tui *app, const char *prefill)
{
    snprintf(pal.buf, sizeof pal.buf, "%s", prefill ? prefill : "");
    pal.len = pal.cur = strlen(pal.buf);
    pal.sql = false;
    pal.hist_at = NHIST;
    app->palette_active = true;
    app->message[0] = 0;
    app->dirty = true;
}

void palette_open_sql(struct tui *app)
{
    palette_open(app, NULL);
    pal.sql = true;
    pal.hist_at = NHIST;
}

void palette_draw(struct tui *app, int y)
{
    draw_str(y, 0, 1, pal.sql ? ";" : ":", tui_attr(TC_KEY));
    char save = pal.buf[pal.cur];
    pal.buf[pal.cur] = 0;
    int before = text_width(pal.buf);
    pal.buf[pal.cur] = save;
    /* Scroll the line when the cursor would leave the screen. */
    int avail = COLS - 2;
    const char *shown = pal.buf;
    while (before >= avail && *shown) {
        shown++;
        while ((*shown & 0xC0) == 0x80)
            shown++;
        char s2 = pal.buf[pal.cur];
        pal.buf[pal.cur] = 0;
        before = text_width(shown);
        pal.buf[pal.cur] = s2;
    }
    draw_str(y, 1, avail, shown, 0);
    app->cursor_y = y;
    app->cursor_x = 1 + before;
}

static void complete(struct tui *app)
{
    /* The word being completed ends at the cursor. */
    char head[PAL_MAX];
    memcpy(head, pal.buf, pal.cur);
    head[pal.cur] = 0;
    size_t ws = pal.cur;
    while (ws > 0 && head[ws - 1] != ' ')
        ws--;
    const char *pre = head + ws;
    struct words w;
    const char *bad;
    char before[PAL_MAX];
    memcpy(before, head, ws);
    before[ws] = 0;
    if (!split_words(before, &w, &bad))
        return;
    int idx = w.n;
    struct words all, match;
    memset(&all, 0, sizeof all);
    memset(&match, 0, sizeof match);
    palette_candidates(app, &w, idx, pre, &all);
    size_t pl = strlen(pre);
    for (int i = 0; i < all.n; i++)
        if (strncmp(all.v[i], pre, pl) == 0) {
            bool dup = false;
            for (int j = 0; j < match.n; j++)
                dup = dup || strcmp(match.v[j], all.v[i]) == 0;
            if (!dup)
                words_push(&match, xstrdup(all.v[i]));
        }
    if (match.n == 0) {
        tui_message(app, "no completions");
    } else {
        size_t common = strlen(match.v[0]);
        for (int i = 1; i < match.n; i++) {
            size_t k = 0;
            while (k < common && match.v[i][k] == match.v[0][k])
                k++;
            common = k;
        }
        strbuf add;
        sb_init(&add);
        sb_add(&add, match.v[0] + pl, common - pl);
        char last = common ? match.v[0][common - 1] : 0;
        if (match.n == 1 && last != '=' && last != '/')
            sb_addc(&add, ' ');
        if (pal.len + add.len < PAL_MAX - 1) {
            memmove(pal.buf + pal.cur + add.len, pal.buf + pal.cur, pal.len - pal.cur + 1);
            memcpy(pal.buf + pal.cur, add.buf, add.len);
            pal.len += add.len;
            pal.cur += add.len;
        }
        sb_done(&add);
        if (match.n > 1) {
            strbuf m;
            sb_init(&m);
            for (int i = 0; i < match.n && i < 12; i++)
                sb_addf(&m, "%s%s", i ? "  " : "", match.v[i]);
            if (match.n > 12)
                sb_addf(&m, "  ... (%d)", match.n);
            tui_message(app, "%s", m.buf);
            sb_done(&m);
        } else {
            app->message[0] = 0;
        }
    }
    words_done(&w);
    words_done(&all);
    words_done(&match);
}

static void set_line(const char *s)
{
    snprintf(pal.buf, sizeof pal.buf, "%s", s);
    pal.len = pal.cur = strlen(pal.buf);
}

bool palette_key(struct tui *app, int key)
{
    app->dirty = true;
    switch (key) {
    case 27:
    case 7: /* C-g */
        app->palette_active = false;
        app->message[0] = 0;
        return false;
    case '\n':
    case '\r':
    case KEY_ENTER: {
        app->palette_active = false;
        char line[PAL_MAX];
        memcpy(line, pal.buf, pal.len + 1);
        history_add(line);
        if (pal.sql) {
            const char *argv[1] = {line};
            if (line[0])
                tui_open_view_words(app, VIEW_SQL, 1, argv);
        } else {
            palette_run(app, line);
        }
        return false;
    }
    case '\t':
        if (!pal.sql)
            complete(app);
        return true;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        if (pal.cur == 0) {
            if (pal.len == 0)
                app->palette_active = false;
            return app->palette_active;
        } else {
            size_t s = pal.cur - 1;
            while (s > 0 && (pal.buf[s] & 0xC0) == 0x80)
                s--;
            memmove(pal.buf + s, pal.buf + pal.cur, pal.len - pal.cur + 1);
            pal.len -= pal.cur - s;
            pal.cur = s;
        }
        return true;
    case KEY_DC:
        if (pal.cur < pal.len) {
            size_t e = pal.cur + 1;
            while (e < pal.len && (pal.buf[e] & 0xC0) == 0x80)
                e++;
            memmove(pal.buf + pal.cur, pal.buf + e, pal.len - e + 1);
            pal.len -= e - pal.cur;
        }
        return true;
    case KEY_LEFT:
        while (pal.cur > 0) {
            pal.cur--;
            if ((pal.buf[pal.cur] & 0xC0) != 0x80)
                break;
        }
        return true;
    case KEY_RIGHT:
        while (pal.cur < pal.len) {
            pal.cur++;
            if ((pal.buf[pal.cur] & 0xC0) != 0x80)
                break;
        }
        return true;
    case KEY_HOME:
    case 1: /* C-a */
        pal.cur = 0;
        return true;
    case KEY_END:
    case 5: /* C-e */
        pal.cur = pal.len;
        return true;
    case 21: /* C-u */
        memmove(pal.buf, pal.buf + pal.cur, pal.len - pal.cur + 1);
        pal.len -= pal.cur;
        pal.cur = 0;
        return true;
    case 23: { /* C-w: the word before the cursor */
        size_t s = pal.cur;
        while (s > 0 && pal.buf[s - 1] == ' ')
            s--;
        while (s > 0 && pal.buf[s - 1] != ' ')
            s--;
        memmove(pal.buf + s, pal.buf + pal.cur, pal.len - pal.cur + 1);
        pal.len -= pal.cur - s;
        pal.cur = s;
        return true;
    }
    case KEY_UP:
    case 16: /* C-p */
        if (pal.hist_at > 0)
            set_line(HIST[--pal.hist_at]);
        return true;
    case KEY_DOWN:
    case 14: /* C-n */
        if (pal.hist_at < NHIST) {
            pal.hist_at++;
            set_line(pal.hist_at < NHIST ? HIST[pal.hist_at] : "");
        }
        return true;
    case KEY_RESIZE:
        return true;
    default:
        if (key >= 32 && key < 256 && key != 127 && pal.len + 1 < PAL_MAX) {
            memmove(pal.buf + pal.cur + 1, pal.buf + pal.cur, pal.len - pal.cur + 1);
            pal.buf[pal.cur++] = (char)key;
            pal.len++;
        }
        return true;
    }
}
