/* keys.c: key names, the binding table built from request.h and the user's
 * key-binding file, and lookup. */
#include "tui/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/draw.h"

static const struct request_info requests[] = {
#define REQ_ROW(km, name, keys, help) {KM_##km, REQ_##name, #name, keys, help},
    TUI_REQUESTS(REQ_ROW)
#undef REQ_ROW
};

static const char *const keymap_titles[KM_COUNT] = {
#define KM_TITLE(n, title) title,
    TUI_KEYMAPS(KM_TITLE)
#undef KM_TITLE
};

const struct request_info *request_table(size_t *count)
{
    *count = sizeof requests / sizeof requests[0];
    return requests;
}

const char *keymap_title(enum keymap km)
{
    return km < KM_COUNT ? keymap_titles[km] : "?";
}

static const struct {
    const char *name;
    int key;
} named_keys[] = {
    {"Enter", '\n'},      {"Esc", 27},         {"Tab", '\t'},
    {"S-Tab", KEY_BTAB},  {"Space", ' '},      {"Backspace", KEY_BACKSPACE},
    {"Up", KEY_UP},       {"Down", KEY_DOWN},  {"Left", KEY_LEFT},
    {"Right", KEY_RIGHT}, {"PgUp", KEY_PPAGE}, {"PgDown", KEY_NPAGE},
    {"Home", KEY_HOME},   {"End", KEY_END},    {"Del", KEY_DC},
    {"Ins", KEY_IC},      {"lt", '<'},         {"gt", '>'},
    {"Colon", ':'},       {"F1", KEY_F(1)},    {"F2", KEY_F(2)},
    {"F3", KEY_F(3)},     {"F4", KEY_F(4)},    {"F5", KEY_F(5)},
    {"F10", KEY_F(10)},
};

int key_parse(const char **p)
{
    const char *s = *p;
    if (*s == 0)
        return -1;
    if (*s != '<' || !strchr(s, '>')) {
        /* One character, possibly multibyte (UTF-8 text typed into a field). */
        unsigned char c = (unsigned char)*s;
        *p = s + 1;
        return c;
    }
    const char *end = strchr(s, '>');
    size_t n = (size_t)(end - s - 1);
    const char *name = s + 1;
    *p = end + 1;
    if (n == 3 && (name[0] == 'C' || name[0] == 'c') && name[1] == '-') {
        char c = name[2];
        if (c >= 'a' && c <= 'z')
            return c - 'a' + 1;
        if (c >= 'A' && c <= 'Z')
            return c - 'A' + 1;
        return -1;
    }
    for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
        if (strlen(named_keys[i].name) == n && strncasecmp(named_keys[i].name, name, n) == 0)
            return named_keys[i].key;
    return -1;
}

const char *key_name(int key)
{
    static char buf[16];
    for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
        if (named_keys[i].key == key) {
            snprintf(buf, sizeof buf, "<%s>", named_keys[i].name);
            return buf;
        }
    if (key >= 1 && key <= 26) {
        snprintf(buf, sizeof buf, "<C-%c>", 'a' + key - 1);
        return buf;
    }
    if (key > 32 && key < 127) {
        snprintf(buf, sizeof buf, "%c", key);
        return buf;
    }
    snprintf(buf, sizeof buf, "<%d>", key);
    return buf;
}

struct binding {
    enum keymap km;
    int key;
    enum request req;
};
/* Grows with the table (xrealloc fails fast), so no binding is ever dropped. */
static struct binding *bindings;
static size_t nbindings, cap_bindings;
static size_t nuser; /* bindings[0..nuser) come from the user's file */

static void bind_key(enum keymap km, int key, enum request req)
{
    if (nbindings == cap_bindings) {
        cap_bindings = cap_bindings ? cap_bindings * 2 : 128;
        bindings = xrealloc(bindings, cap_bindings * sizeof *bindings);
    }
    bindings[nbindings++] = (struct binding){km, key, req};
}

int keys_init(err *e)
{
    keys_done();
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        const char *p = requests[i].keys;
        while (*p) {
            while (*p == ' ')
                p++;
            if (!*p)
                break;
            const char *at = p;
            int k = key_parse(&p);
            if (k < 0) {
                /* A typo in request.h's table: say so rather than leave a key unbound. */
                keys_done();
                return err_set(e, ST_ERR, "request.h: unknown key name '%.*s' in \"%s\"",
                               (int)(p - at), at, requests[i].keys);
            }
            bind_key(requests[i].keymap, k, requests[i].request);
            /* Terminals disagree on what Enter and Backspace send. */
            if (k == '\n') {
                bind_key(requests[i].keymap, '\r', requests[i].request);
                bind_key(requests[i].keymap, KEY_ENTER, requests[i].request);
            }
            if (k == KEY_BACKSPACE) {
                bind_key(requests[i].keymap, 127, requests[i].request);
                bind_key(requests[i].keymap, 8, requests[i].request);
            }
        }
    }
    return ST_OK;
}

void keys_done(void)
{
    free(bindings);
    bindings = NULL;
    nbindings = cap_bindings = nuser = 0;
}

/* The view's keymap, then the generic one, within bindings[from..to). */
static enum request lookup_in(size_t from, size_t to, enum keymap km, int key)
{
    for (size_t i = from; i < to; i++)
        if (bindings[i].km == km && bindings[i].key == key)
            return bindings[i].req;
    for (size_t i = from; i < to; i++)
        if (bindings[i].km == KM_GENERIC && bindings[i].key == key)
            return bindings[i].req;
    return REQ_NONE;
}

enum request keys_lookup(enum keymap km, int key)
{
    /* What the user bound wins over every default, generic or not. */
    enum request r = lookup_in(0, nuser, km, key);
    return r != REQ_NONE ? r : lookup_in(nuser, nbindings, km, key);
}

/* "EVENTS_FILTER_TYPE" matches "events-filter-type", and "filter-type" when the
 * keymap is events. */
static bool request_named(const struct request_info *r, const char *kmname, const char *word)
{
    char full[96];
    size_t n = 0;
    for (const char *p = r->name; *p && n + 1 < sizeof full; p++)
        full[n++] = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    full[n] = 0;
    if (strcmp(full, word) == 0)
        return true;
    size_t kl = strlen(kmname);
    return strncmp(full, kmname, kl) == 0 && full[kl] == '-' && strcmp(full + kl + 1, word) == 0;
}

static void bind_first(enum keymap km, int key, enum request req)
{
    bind_key(km, key, req);
    /* The file's bindings are looked up before the defaults. */
    struct binding b = bindings[nbindings - 1];
    memmove(bindings + nuser + 1, bindings + nuser, (nbindings - 1 - nuser) * sizeof *bindings);
    bindings[nuser++] = b;
}

void keys_load_file(const char *file, strbuf *problems)
{
    /* Messages name the file as the user knows it: ~/.config/strata/keys. */
    const char *home = getenv("HOME");
    size_t hl = home ? strlen(home) : 0;
    char shown[600];
    if (hl > 1 && strncmp(file, home, hl) == 0 && file[hl] == '/')
        snprintf(shown, sizeof shown, "~%s", file + hl);
    else
        snprintf(shown, sizeof shown, "%s", file);
    const char *path = shown;
    FILE *f = fopen(file, "r");
    if (!f) {
        if (errno != ENOENT)
            sb_addf(problems, "%s: %s\n", path, strerror(errno));
        return;
    }
    /* One name per row of TUI_KEYMAPS (request.h), in its order. */
    static const char *const kmnames[] = {"generic",     "domain", "events", "streams",
                                          "projections", "form",   "sql"};
    _Static_assert(sizeof kmnames / sizeof kmnames[0] == KM_COUNT, "a name for every keymap");
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash && (hash == line || hash[-1] == ' ' || hash[-1] == '\t'))
            *hash = 0;
        char w[4][128];
        int n = sscanf(line, "%127s %127s %127s %127s", w[0], w[1], w[2], w[3]);
        if (n <= 0)
            continue;
        if (strcmp(w[0], "bind") != 0) {
            sb_addf(problems, "%s:%d: unknown command '%s' (only bind KEYMAP KEY REQUEST)\n", path,
                    lineno, w[0]);
            continue;
        }
        if (n != 4) {
            sb_addf(problems, "%s:%d: bind wants KEYMAP KEY REQUEST\n", path, lineno);
            continue;
        }
        int km = 0;
        while (km < KM_COUNT && strcmp(kmnames[km], w[1]) != 0)
            km++;
        if (km == KM_COUNT) {
            sb_addf(problems,
                    "%s:%d: unknown keymap '%s' (generic, domain, events, streams, "
                    "projections, form, sql)\n",
                    path, lineno, w[1]);
            continue;
        }
        const char *kp = w[2];
        int key = key_parse(&kp);
        if (key < 0 || *kp) {
            sb_addf(problems, "%s:%d: unknown key '%s' (j, <Enter>, <C-x>, <Down> ...)\n", path,
                    lineno, w[2]);
            continue;
        }
        const struct request_info *found = NULL;
        for (size_t i = 0; i < sizeof requests / sizeof requests[0] && !found; i++)
            if (request_named(&requests[i], kmnames[km], w[3]))
                found = &requests[i];
        if (!found) {
            sb_addf(problems, "%s:%d: unknown request '%s' (? lists them)\n", path, lineno, w[3]);
            continue;
        }
        if (found->keymap != KM_GENERIC && found->keymap != (enum keymap)km) {
            sb_addf(problems, "%s:%d: %s belongs to the %s keymap, not %s\n", path, lineno, w[3],
                    kmnames[found->keymap], w[1]);
            continue;
        }
        bind_first((enum keymap)km, key, found->request);
    }
    fclose(f);
}
