/* verb.c: what every verb shares (verb.h): option parsing with the common
 * options and one message per problem, opening the domain and the store on
 * demand (or using the workbench's), --at/--at-time, and the output helpers. */
#include "verbs/verb.h"

#include "core/store_domain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/about.h"
#include "core/projection.h"
#include "core/utf8.h"

static void say(struct verb_ctx *c, enum verb_level level, const char *verb, const char *fmt,
                va_list ap)
{
    char text[2048];
    vsnprintf(text, sizeof text, fmt, ap);
    c->out->message(c->out->ctx, level, verb, text);
}

int verb_say(struct verb_ctx *c, enum verb_level level, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(c, level, c->def->name, fmt, ap);
    va_end(ap);
    return status;
}

int verb_usage_error(struct verb_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(c, VERB_ERROR, c->def->name, fmt, ap);
    va_end(ap);
    c->out->usage(c->out->ctx, c->def->name, c->def->usage);
    return ST_USAGE;
}

int verb_fail(struct verb_ctx *c, const err *e)
{
    verb_say(c, VERB_ERROR, 0, "%s", e->msg[0] ? e->msg : "failed");
    return e->code && e->code != ST_NOT_FOUND && e->code != ST_DUPLICATE ? e->code : ST_ERR;
}

bool verb_options_stop(struct verb_ctx *c, int opt, int argc, char **argv, int *rc)
{
    if (opt == -2)
        *rc = ST_USAGE;
    else if (c->want_help)
        *rc = verb_print_help(c);
    else if (optind < argc)
        *rc = verb_usage_error(c, "unexpected argument '%s'", argv[optind]);
    else
        return false;
    return true;
}

void verb_with_lag(struct verb_ctx *c, const char *name,
                   void (*fn)(struct verb_ctx *c, const struct proj_lag *l, void *ctx), void *ctx)
{
    struct proj_lag *lags;
    size_t n;
    err e;
    err_clear(&e);
    if (projection_status(c->store, c->domain, &lags, &n, &e) != ST_OK)
        return;
    for (size_t i = 0; i < n; i++)
        if (strcmp(lags[i].name, name) == 0)
            fn(c, &lags[i], ctx);
    proj_lag_free(lags, n);
}

int verb_print_help(struct verb_ctx *c)
{
    /* The usage is the result here: one line each, as a pane shows it. */
    const char *s = c->def->usage;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        c->out->line(c->out->ctx, s, n);
        s += n + (nl != NULL);
    }
    return ST_OK;
}

void verb_line(struct verb_ctx *c, const char *text, size_t len)
{
    c->out->line(c->out->ctx, text, len);
}

void verb_show(struct verb_ctx *c, const struct verb_view *v)
{
    if (c->out->show)
        c->out->show(c->out->ctx, v);
}

/* "--domian" -> "--domain": the closest long option of the verb, or NULL. */
static const char *suggest_option(const struct option *opts, const char *word)
{
    const char *names[128];
    size_t n = 0;
    while (*word == '-')
        word++;
    char bare[128];
    snprintf(bare, sizeof bare, "%.*s", (int)strcspn(word, "="), word);
    for (; opts[n].name && n < 128; n++)
        names[n] = opts[n].name;
    return did_you_mean(bare, names, n);
}

int verb_next_option(struct verb_ctx *c, int argc, char **argv, const char **arg)
{
    opterr = 0; /* each problem is said once, by us, in the verb's words */
    for (;;) {
        int opt = getopt_long(argc, argv, ":", c->def->options, NULL);
        *arg = optarg;
        switch (opt) {
        case -1:
            return -1;
        case ':':
            verb_usage_error(c, "option '%s' needs a value", argv[optind - 1]);
            return -2;
        case '?': {
            char word[128];
            if (optopt)
                snprintf(word, sizeof word, "-%c", optopt);
            else
                snprintf(word, sizeof word, "%.*s", (int)strcspn(argv[optind - 1], "="),
                         argv[optind - 1]);
            const char *dym = optopt ? NULL : suggest_option(c->def->options, word);
            verb_usage_error(c, "unknown option '%s'%s%s%s", word, dym ? " (did you mean '--" : "",
                             dym ? dym : "", dym ? "'?)" : "");
            return -2;
        }
        case VOPT_DOMAIN:
        case VOPT_DB:
            if (c->borrowed) {
                verb_usage_error(c, "--%s: the workbench works on the domain and store it opened",
                                 opt == VOPT_DB ? "db" : "domain");
                return -2;
            }
            if (opt == VOPT_DOMAIN)
                c->domain_path = strata_domain_path(optarg); /* `bank`: core/about.h */
            else
                c->db_path = optarg;
            c->db_given |= opt == VOPT_DB;
            continue;
        case VOPT_BRANCH:
            if (c->borrowed) {
                verb_usage_error(c, "--branch: the workbench switches branches with :branch NAME");
                return -2;
            }
            c->branch = optarg;
            continue;
        case VOPT_HELP:
            c->want_help = true;
            continue;
        case VOPT_FORCE:
            /* The workbench asked about its store when it opened it. */
            c->force = true;
            continue;
        default:
            return opt;
        }
    }
}

const char *verb_level_prefix(enum verb_level level)
{
    return level == VERB_NOTE ? "note: " : level == VERB_WARNING ? "warning: " : "";
}

int verb_need_domain(struct verb_ctx *c, bool required)
{
    if (c->domain)
        return ST_OK;
    if (!c->domain_path) {
        if (!required)
            return ST_OK;
        return verb_usage_error(c, "no domain: give --domain FILE or set STRATA_DOMAIN");
    }
    struct diag_list diags;
    diag_list_init(&diags);
    c->domain = domain_load(c->domain_path, &diags);
    if (!c->domain)
        verb_diags(c, &diags);
    diag_list_done(&diags);
    return c->domain ? ST_OK : ST_ERR;
}

void verb_diags(struct verb_ctx *c, const struct diag_list *diags)
{
    /* Each problem already says FILE:LINE:COL: error: ... */
    for (size_t i = 0; i < diags->len; i++) {
        const struct diag *g = &diags->items[i];
        char where[600];
        if (g->line > 0)
            snprintf(where, sizeof where, "%s:%d:%d", g->file, g->line, g->col);
        else
            snprintf(where, sizeof where, "%s", g->file);
        char text[1600];
        snprintf(text, sizeof text, "%s: error: %s%s%s", where, g->path, g->path[0] ? ": " : "",
                 g->message);
        c->out->message(c->out->ctx, VERB_ERROR, NULL, text);
    }
}

FILE *verb_errors_open(struct verb_ctx *c)
{
    if (c->out->errors)
        return c->out->errors;
    FILE *f = tmpfile();
    return f ? f : stderr;
}

void verb_errors_close(struct verb_ctx *c, FILE *f)
{
    if (f == c->out->errors || f == stderr)
        return;
    rewind(f);
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0])
            c->out->message(c->out->ctx, VERB_ERROR, NULL, line);
    }
    fclose(f);
}

char *verb_default_db(const char *domain_path)
{
    const char *base = strrchr(domain_path, '/');
    base = base ? base + 1 : domain_path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return xasprintf("%.*s.db", (int)n, base);
}

int verb_need_store(struct verb_ctx *c, bool create, bool read_only)
{
    if (c->store)
        return ST_OK;
    if (!c->db_path) {
        if (!c->domain_path)
            return verb_usage_error(
                c, "no store: give --db FILE (or --domain FILE, or set STRATA_DB)");
        free(c->owned_db_path);
        c->owned_db_path = verb_default_db(c->domain_path);
        c->db_path = c->owned_db_path;
    }
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = create;
    opt.read_only = read_only;
    opt.branch = c->branch;
    err e;
    err_clear(&e);
    c->store = store_open(c->db_path, &opt, &e);
    if (!c->store)
        return verb_fail(c, &e);
    /* Writing with a domain (appending, folding projections) to a store used
     * with another domain, or to an imported log, needs --force. */
    if (!read_only && c->domain && c->domain_path &&
        store_domain_claim(c->store, c->domain->name, c->force, &e) != ST_OK)
        return verb_fail(c, &e);
    return ST_OK;
}

bool verb_parse_count(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < 0)
        return false;
    *out = v;
    return true;
}

int verb_resolve_at(struct verb_ctx *c, const char *at, const char *at_time, int64_t *position)
{
    *position = c->as_of;
    if (at && at_time)
        return verb_usage_error(c, "give --at or --at-time, not both");
    err e;
    err_clear(&e);
    if (at) {
        if (!verb_parse_count(at, position) || *position < 1)
            return verb_usage_error(c, "--at wants a position (1 or more), not '%s'", at);
        int64_t head = 0;
        if (store_head(c->store, &head, &e) != ST_OK)
            return verb_fail(c, &e);
        /* Past the head there is nothing to show "as it was": refuse rather than
         * quietly show the present. */
        if (*position > head)
            return verb_say(c, VERB_ERROR, ST_ERR,
                            "position %lld is beyond the store's head (%lld)", (long long)*position,
                            (long long)head);
    } else if (at_time) {
        int64_t ms;
        if (!time_parse(at_time, strlen(at_time), 0, &ms))
            return verb_usage_error(c,
                                    "--at-time: '%s' is not an ISO-8601 time "
                                    "(e.g. 2026-11-27T10:00:00Z)",
                                    at_time);
        char text[TIME_TEXT_LEN + 1];
        time_format_ms(ms, text);
        if (store_position_at_time(c->store, text, position, &e) != ST_OK)
            return verb_fail(c, &e);
        if (*position == 0)
            return verb_say(c, VERB_ERROR, ST_ERR, "no events at or before %s", text);
    }
    return ST_OK;
}

int verb_task_run(struct verb_ctx *c, struct verb_task *t)
{
    if (c->out->background) {
        t->background = true;
        return c->out->background(c->out->ctx, t) ? ST_OK : ST_ERR;
    }
    strbuf result;
    sb_init(&result);
    err e;
    err_clear(&e);
    int rc = t->work(t, c->store, &result, &e);
    const char *s = result.buf ? result.buf : "";
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        verb_line(c, s, n);
        s += n + (nl != NULL);
    }
    sb_done(&result);
    if (rc != ST_OK)
        rc = e.msg[0] ? verb_fail(c, &e) : rc;
    if (rc != ST_OK && t->after_error[0])
        verb_say(c, VERB_ERROR, 0, "%s", t->after_error);
    t->done(t);
    return rc;
}

int verb_run(const struct verb_def *def, struct verb_ctx *c, int argc, char **argv)
{
    c->def = def;
    optind = 0; /* GNU getopt: start afresh (and re-initialise) for this argv */
    int rc = def->run(c, argc, argv);
    if (!c->borrowed) {
        if (c->store)
            store_close(c->store);
        if (c->domain)
            domain_free(c->domain);
        c->store = NULL;
        c->domain = NULL;
    }
    free(c->owned_db_path);
    c->owned_db_path = NULL;
    return rc;
}

void verb_add_safe_n(strbuf *sb, const char *s, size_t n, bool breaks_as_spaces)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (k == 0) {
            utf8_append(sb, 0xFFFD);
            i++;
            continue;
        }
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029)
            utf8_append(sb, breaks_as_spaces && (cp == '\t' || cp == '\n') ? ' ' : 0xFFFD);
        else
            sb_add(sb, s + i, k);
        i += k;
    }
}

void verb_add_safe(strbuf *sb, const char *s)
{
    verb_add_safe_n(sb, s, strlen(s), false);
}
