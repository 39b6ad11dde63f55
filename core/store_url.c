/* store_url.c: what a --db value names and how it may be shown (store.h's
 * store_kind_of, store_display_path, and store_pg.h's store_pg_conninfo).
 *
 * A PostgreSQL store is named the way libpq names a database, so that every libpq
 * option (sslmode, host lists, service files, ...) passes through untouched: a URI
 * (postgresql://user:secret@host:5432/bank?sslmode=require, or postgres://...) or a
 * key=value conninfo string after "postgresql:" ("postgresql:host=/run/pg
 * dbname=bank"). Nothing here connects; libpq does the parsing that matters, and
 * this file only has to find the passwords in the same places libpq looks for
 * them, so that none is ever printed. */
#include "store.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

static const char *const URI_PREFIXES[] = {"postgresql://", "postgres://"};
static const char *const CONNINFO_PREFIXES[] = {"postgresql:", "postgres:"};

static const char *after_prefix(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

static bool is_uri(const char *path)
{
    for (size_t i = 0; i < sizeof URI_PREFIXES / sizeof *URI_PREFIXES; i++)
        if (after_prefix(path, URI_PREFIXES[i]))
            return true;
    return false;
}

enum store_kind store_kind_of(const char *path)
{
    if (!path)
        return STORE_SQLITE;
    for (size_t i = 0; i < sizeof CONNINFO_PREFIXES / sizeof *CONNINFO_PREFIXES; i++)
        if (after_prefix(path, CONNINFO_PREFIXES[i]))
            return STORE_POSTGRESQL;
    return STORE_SQLITE;
}

const char *store_pg_conninfo(const char *path)
{
    if (is_uri(path))
        return path; /* libpq reads URIs as they are */
    for (size_t i = 0; i < sizeof CONNINFO_PREFIXES / sizeof *CONNINFO_PREFIXES; i++) {
        const char *rest = after_prefix(path, CONNINFO_PREFIXES[i]);
        if (rest)
            return rest;
    }
    return path;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Is [k, k + n) (percent-decoded, as libpq decodes a URI's parameter names) the name
 * of a parameter that holds a secret? */
static bool secret_key(const char *k, size_t n)
{
    char name[32];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)k[i];
        if (c == '%' && i + 2 < n && hexval(k[i + 1]) >= 0 && hexval(k[i + 2]) >= 0) {
            c = hexval(k[i + 1]) * 16 + hexval(k[i + 2]);
            i += 2;
        }
        if (len + 1 >= sizeof name)
            return false;
        name[len++] = (char)c;
    }
    name[len] = '\0';
    return strcmp(name, "password") == 0 || strcmp(name, "sslpassword") == 0;
}

/* A URI: the user info ends at the first '@' before any '/' (libpq's rule), its
 * password after the first ':'; the query's parameters are split at '&'. */
static void redact_uri(strbuf *sb, const char *uri)
{
    const char *auth = strstr(uri, "://") + 3;
    sb_add(sb, uri, (size_t)(auth - uri));
    const char *p = auth;
    while (*p && *p != '@' && *p != '/')
        p++;
    if (*p == '@') {
        const char *colon = memchr(auth, ':', (size_t)(p - auth));
        if (colon) {
            sb_add(sb, auth, (size_t)(colon - auth));
            sb_adds(sb, ":***");
        } else {
            sb_add(sb, auth, (size_t)(p - auth));
        }
        auth = p;
    }
    const char *q = strchr(auth, '?');
    if (!q) {
        sb_adds(sb, auth);
        return;
    }
    sb_add(sb, auth, (size_t)(q + 1 - auth));
    p = q + 1;
    while (*p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        if (eq && secret_key(p, (size_t)(eq - p))) {
            sb_add(sb, p, (size_t)(eq + 1 - p));
            sb_adds(sb, "***");
        } else {
            sb_add(sb, p, len);
        }
        p += len;
        if (*p == '&')
            sb_addc(sb, *p++);
    }
}

/* A conninfo string: key = value pairs separated by white space, a value either
 * single-quoted (backslash escapes inside) or running to the next white space. */
static void redact_conninfo(strbuf *sb, const char *s)
{
    const char *p = s;
    while (*p) {
        if (isspace((unsigned char)*p)) {
            sb_addc(sb, *p++);
            continue;
        }
        const char *key = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t klen = (size_t)(p - key);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=') { /* not key=value: libpq refuses it; show it as it is */
            sb_add(sb, key, (size_t)(p - key));
            continue;
        }
        p++;
        while (isspace((unsigned char)*p))
            p++;
        const char *val = p;
        if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (*p == '\'')
                p++;
        } else {
            for (; *p && !isspace((unsigned char)*p); p++)
                if (*p == '\\' && p[1])
                    p++;
        }
        sb_add(sb, key, (size_t)(val - key));
        if (secret_key(key, klen))
            sb_adds(sb, "***");
        else
            sb_add(sb, val, (size_t)(p - val));
    }
}

char *store_display_path(const char *path)
{
    if (!path)
        return xstrdup("");
    if (store_kind_of(path) != STORE_POSTGRESQL)
        return xstrdup(path);
    strbuf sb;
    sb_init(&sb);
    if (is_uri(path)) {
        redact_uri(&sb, path);
    } else {
        const char *rest = store_pg_conninfo(path);
        sb_add(&sb, path, (size_t)(rest - path));
        redact_conninfo(&sb, rest);
    }
    return sb_steal(&sb);
}
