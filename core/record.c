/* record.c: one command and its outcome appended to a file as a scenario
 * (record.h). The file is written here as text (a YAML emitter would lose the
 * comments and the layout a person keeps); what is read back is checked with the
 * same YAML tree the domain loader uses. */
#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "json.h"
#include "projection.h"
#include "provenance.h"
#include "yaml_tree.h"

/* ---- YAML flow text ---- */

/* A string YAML reads back as the same string when written plain: a letter first,
 * then letters, digits, blanks and _ . / - only, no blank at the end, and not a
 * word a YAML reader (or the domain loader) takes for a bool, a null or a number. */
static bool plain_ok(const char *s, size_t n)
{
    static const char *const words[] = {"true", "false", "null", "yes", "no",  "on",
                                        "off",  "y",     "n",    "inf", "nan", "infinity"};
    if (n == 0 || n > 80 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) ||
        s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '/' || ch == '-' ||
                  ch == ' ';
        if (!ok || (ch == ' ' && s[i + 1] == ' '))
            return false;
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && strncasecmp(words[i], s, n) == 0)
            return false;
    return true;
}

static void yaml_string(strbuf *sb, const char *s, size_t n)
{
    if (plain_ok(s, n)) {
        sb_addf(sb, "%.*s", (int)n, s);
        return;
    }
    value v = value_string(s, n);
    json_write(sb, &v); /* JSON's escapes are a subset of YAML's double-quoted ones */
    value_free(v);
}

void record_yaml_value(strbuf *sb, const value *v)
{
    switch (v->type) {
    case V_STRING:
        yaml_string(sb, value_str(v), value_strlen(v));
        break;
    case V_DOUBLE: {
        size_t at = sb->len;
        json_write(sb, v);
        if (!strpbrk(sb->buf + at, ".eEn")) /* 2.0 stays a double when read back */
            sb_adds(sb, ".0");
        break;
    }
    case V_LIST:
        sb_addc(sb, '[');
        for (size_t i = 0; i < value_list_len(v); i++) {
            if (i)
                sb_adds(sb, ", ");
            record_yaml_value(sb, value_list_at(v, i));
        }
        sb_addc(sb, ']');
        break;
    case V_MAP:
        sb_addc(sb, '{');
        for (size_t i = 0; i < value_map_len(v); i++) {
            if (i)
                sb_adds(sb, ", ");
            const value *k = value_map_key_at(v, i);
            if (k->type == V_STRING)
                yaml_string(sb, value_str(k), value_strlen(k));
            else
                record_yaml_value(sb, k);
            sb_adds(sb, ": ");
            record_yaml_value(sb, value_map_val_at(v, i));
        }
        sb_addc(sb, '}');
        break;
    default:
        json_write(sb, v);
    }
}

/* A JSON text written as YAML ("{}" when it does not parse). */
static void yaml_json_text(strbuf *sb, const char *json)
{
    value v;
    err e;
    if (!json || json_parse(json, strlen(json), &v, &e) != ST_OK) {
        sb_adds(sb, "{}");
        return;
    }
    record_yaml_value(sb, &v);
    value_free(v);
}

/* ---- the file as it is ---- */

struct file_info {
    bool exists;
    char **names; /* the scenarios' names, to keep new ones unique */
    size_t nnames;
    int indent;   /* where the scenarios' dashes stand */
    bool newline; /* the file ends with a newline */
};

static void file_info_done(struct file_info *fi)
{
    for (size_t i = 0; i < fi->nnames; i++)
        free(fi->names[i]);
    free(fi->names);
}

static int read_file_info(const char *path, const struct domain *d, struct file_info *fi, err *e)
{
    memset(fi, 0, sizeof *fi);
    fi->indent = 2;
    fi->newline = true;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT)
            return err_set(e, ST_ERR, "%s: %s", path, strerror(errno));
        char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        int rc = ST_OK;
        if (slash && slash != dir) {
            *slash = 0;
            if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
                rc = err_set(e, ST_ERR, "%s: the folder %s does not exist", path, dir);
        }
        free(dir);
        return rc;
    }
    if (!S_ISREG(st.st_mode))
        return err_set(e, ST_ERR, "%s: not a regular file", path);
    char *text;
    size_t len;
    if (read_file(path, &text, &len, e) != ST_OK)
        return ST_ERR;
    fi->exists = len > 0;
    fi->newline = len == 0 || text[len - 1] == '\n';
    int rc = ST_OK;
    struct yproblems yp;
    memset(&yp, 0, sizeof yp);
    struct ynode *root = len ? ytree_parse(text, len, &yp) : NULL;
    const char *want = "a YAML mapping with `domain:` and `scenarios:` last (as --record writes)";
    if (!len) {
    } else if (yp.len) {
        rc = err_set(e, ST_ERR, "%s:%d:%d: %s", path, yp.items[0].line, yp.items[0].col,
                     yp.items[0].message);
    } else if (!root || root->kind != YN_MAP || root->n == 0) {
        rc = err_set(e, ST_ERR, "%s: not a recorded scenarios file: want %s", path, want);
    } else if (ynode_get(root, "aggregates")) {
        rc = err_set(e, ST_ERR, "%s: is a domain file; record into a file of its own", path);
    } else if (strcmp(ynode_key(root, root->n - 1), "scenarios") != 0) {
        const struct ynode *k = ynode_keynode(root, root->n - 1);
        rc = err_set(e, ST_ERR, "%s:%d:%d: `%s` comes after `scenarios:`; want %s", path, k->line,
                     k->col, ynode_key(root, root->n - 1), want);
    } else {
        const struct ynode *dn = ynode_get(root, "domain");
        const struct ynode *sc = ynode_val(root, root->n - 1);
        const struct ynode *sk = ynode_keynode(root, root->n - 1);
        if (dn && (dn->kind != YN_SCALAR || strcmp(dn->text, d->name) != 0))
            rc = err_set(e, ST_ERR, "%s:%d:%d: these scenarios are for the domain '%s', not '%s'",
                         path, dn->line, dn->col, dn->kind == YN_SCALAR ? dn->text : "?", d->name);
        else if (!ynode_is_null(sc) && sc->kind != YN_SEQ)
            rc =
                err_set(e, ST_ERR, "%s:%d:%d: `scenarios:` is not a list", path, sc->line, sc->col);
        else if (sc->kind == YN_SEQ && sc->line == sk->line)
            rc = err_set(e, ST_ERR,
                         "%s:%d:%d: `scenarios:` is written inline; write its items one a line "
                         "(- name: ...) to append to it",
                         path, sc->line, sc->col);
        for (size_t i = 0; rc == ST_OK && sc->kind == YN_SEQ && i < sc->n; i++) {
            const struct ynode *item = sc->items[i];
            if (i == 0 && item->col >= 3)
                fi->indent = item->col - 3; /* "- " then the item */
            const struct ynode *nm = item->kind == YN_MAP ? ynode_get(item, "name") : NULL;
            if (nm && nm->kind == YN_SCALAR) {
                fi->names = xrealloc(fi->names, (fi->nnames + 1) * sizeof *fi->names);
                fi->names[fi->nnames++] = xstrdup(nm->text);
            }
        }
    }
    ynode_free(root);
    yproblems_done(&yp);
    free(text);
    return rc;
}

int record_check_file(const char *path, const struct domain *d, err *e)
{
    struct file_info fi;
    int rc = read_file_info(path, d, &fi, e);
    file_info_done(&fi);
    return rc;
}

/* ---- what the command changed in read models ---- */

/* The stream a command writes, from its payload's id field. */
static char *stream_of(const struct command_request *req)
{
    const struct aggregate_spec *a = req->command->aggregate;
    const value *idv = value_map_get(&req->payload, a->id_field);
    char *id = NULL;
    if (idv && idv->type == V_STRING)
        id = xstrndup(value_str(idv), value_strlen(idv));
    else if (idv && idv->type == V_INT)
        id = xasprintf("%lld", (long long)idv->u.i);
    if (!id)
        return NULL;
    char *s = aggregate_stream(a, id);
    free(id);
    return s;
}

/* Every projection's rows in m: a map name -> list of rows. */
static int all_rows(struct store *m, const struct domain *d, value *out, err *e)
{
    *out = value_map(d->nprojections);
    int rc = projection_catch_up(m, d, NULL, 0, true, NULL, e);
    for (size_t i = 0; rc == ST_OK && i < d->nprojections; i++) {
        value rows;
        rc = projection_query(m, d, d->projections[i].name, NULL, 0, 0, 0, &rows, e);
        if (rc == ST_OK)
            value_map_set(out, d->projections[i].name, rows);
    }
    return rc;
}

static const value *row_with_key(const value *rows, const value *key)
{
    for (size_t i = 0; i < value_list_len(rows); i++) {
        const value *r = value_list_at(rows, i), *k = value_map_get(r, "key");
        if ((!k && !key) || (k && key && value_equal(k, key)))
            return r;
    }
    return NULL;
}

/* Does a stream other than ours feed this row of the store? Read from its history. */
struct feed {
    struct store *s;
    const char *stream;
    bool other;
};

static int feed_step(void *ctx, int64_t position, const value *row, err *e)
{
    struct feed *f = ctx;
    struct event_list l;
    event_list_init(&l);
    int rc = store_event_at(f->s, position, &l, e);
    if (rc == ST_OK && strcmp(l.items[l.len - 1].stream, f->stream) != 0) {
        f->other = true;
        rc = ST_DUPLICATE; /* found: stop the walk */
    }
    event_list_done(&l);
    return rc;
}

static bool only_this_stream(struct store *s, const struct domain *d,
                             const struct projection_spec *p, const value *key, const char *stream)
{
    struct feed f = {s, stream, false};
    char *k = !key                    ? xstrdup("")
              : key->type == V_STRING ? xstrndup(value_str(key), value_strlen(key))
                                      : json_to_string(key);
    err e;
    err_clear(&e);
    int rc = projection_history_of_key(s, d, p, k, 0, feed_step, &f, &e);
    free(k);
    return !f.other && (rc == ST_OK || rc == ST_NOT_FOUND);
}

/* The scenario run on an in-memory store: given, then when; the rows it changed
 * (`then.projections`, contains and absent per projection) into *out. */
static int changed_rows(struct store *s, const struct domain *d, const struct event_list *given,
                        const struct command_request *req, const char *stream, value *out, err *e)
{
    *out = value_map(0);
    if (d->nprojections == 0)
        return ST_OK;
    struct store_options sopt = STORE_OPTIONS_DEFAULT;
    sopt.synchronous = 0;
    struct store *m = store_open(":memory:", &sopt, e);
    if (!m)
        return ST_ERR;
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < given->len; i++) {
        const struct event *g = &given->items[i];
        struct new_event ne = {g->type, g->schema, g->time, g->data, NULL};
        rc = store_append(m, g->stream, STORE_ANY_VERSION, NULL, &ne, 1, NULL, e);
    }
    value before = value_null(), after = value_null();
    if (rc == ST_OK)
        rc = all_rows(m, d, &before, e);
    if (rc == ST_OK) {
        struct command_request r = *req;
        r.command_id = r.correlation_id = r.causation_id = NULL;
        r.narrate = NULL;
        struct command_result res;
        command_result_init(&res);
        err ce;
        command_execute(m, d, &r, &res, &ce);
        command_result_done(&res);
        rc = all_rows(m, d, &after, e);
    }
    for (size_t i = 0; rc == ST_OK && i < d->nprojections; i++) {
        const struct projection_spec *p = &d->projections[i];
        const value *b = value_map_get(&before, p->name), *a = value_map_get(&after, p->name);
        value contains = value_list(0), absent = value_list(0);
        for (size_t j = 0; j < value_list_len(a); j++) {
            const value *row = value_list_at(a, j), *key = value_map_get(row, "key");
            const value *was = row_with_key(b, key);
            if ((!was || !value_equal(was, row)) && only_this_stream(s, d, p, key, stream))
                value_list_push(&contains, value_ref(row));
        }
        for (size_t j = 0; j < value_list_len(b); j++) {
            const value *key = value_map_get(value_list_at(b, j), "key");
            if (key && !row_with_key(a, key) && only_this_stream(s, d, p, key, stream))
                value_list_push(&absent, value_ref(key));
        }
        if (value_list_len(&contains) || value_list_len(&absent)) {
            value entry = value_map(2);
            if (value_list_len(&contains))
                value_map_set(&entry, "contains", value_ref(&contains));
            if (value_list_len(&absent))
                value_map_set(&entry, "absent", value_ref(&absent));
            value_map_set(out, p->name, entry);
        }
        value_free(contains);
        value_free(absent);
    }
    value_free(before);
    value_free(after);
    store_close(m);
    return rc;
}

/* ---- the scenario ---- */

static char *unique_name(const struct file_info *fi, const char *base)
{
    char *name = xstrdup(base);
    for (int n = 2;; n++) {
        bool taken = false;
        for (size_t i = 0; i < fi->nnames && !taken; i++)
            taken = strcmp(fi->names[i], name) == 0;
        if (!taken)
            return name;
        free(name);
        name = xasprintf("%s #%d", base, n);
    }
}

static void write_scenario(strbuf *sb, int ind, const char *name, const struct event_list *given,
                           const struct domain *d, const struct command_request *req, int status,
                           const struct command_result *res, const value *rows)
{
    char when_time[TIME_TEXT_LEN + 1];
    time_format_ms(req->now_ms, when_time);
    sb_addf(sb, "%*s- name: ", ind, "");
    yaml_string(sb, name, strlen(name));
    sb_addf(sb, "\n%*s  given:%s\n", ind, "", given->len ? "" : " []");
    for (size_t i = 0; i < given->len; i++) {
        const struct event *g = &given->items[i];
        const struct event_spec *spec = domain_event(d, g->type);
        sb_addf(sb, "%*s    - {stream: ", ind, "");
        yaml_string(sb, g->stream, strlen(g->stream));
        sb_adds(sb, ", type: ");
        yaml_string(sb, g->type, strlen(g->type));
        if (!spec || spec->version != g->schema)
            sb_addf(sb, ", schema: %d", g->schema);
        sb_addf(sb, ", time: \"%s\", data: ", g->time);
        yaml_json_text(sb, g->data);
        sb_adds(sb, "}\n");
    }
    sb_addf(sb, "%*s  when: {command: %s, time: \"%s\"", ind, "", req->command->name, when_time);
    if (req->expected_version != STORE_ANY_VERSION)
        sb_addf(sb, ", expect_version: %lld", (long long)req->expected_version);
    sb_adds(sb, ", payload: ");
    record_yaml_value(sb, &req->payload);
    sb_adds(sb, "}\n");
    if (status == ST_REJECTED) {
        sb_addf(sb, "%*s  then: {rejected: ", ind, "");
        const char *why = res->rejected ? res->rejected : "";
        yaml_string(sb, why, strlen(why));
        sb_adds(sb, "}\n");
        return;
    }
    sb_addf(sb, "%*s  then:\n%*s    events:%s\n", ind, "", ind, "", res->appended.len ? "" : " []");
    for (size_t i = 0; i < res->appended.len; i++) {
        sb_addf(sb, "%*s      - {type: %s, data: ", ind, "", res->appended.items[i].type);
        yaml_json_text(sb, res->appended.items[i].data);
        sb_adds(sb, "}\n");
    }
    if (value_map_len(rows) == 0)
        return;
    sb_addf(sb, "%*s    projections:   # rows it changed that only this stream feeds\n", ind, "");
    for (size_t i = 0; i < value_map_len(rows); i++) {
        const value *k = value_map_key_at(rows, i), *entry = value_map_val_at(rows, i);
        sb_addf(sb, "%*s      %.*s:\n", ind, "", (int)value_strlen(k), value_str(k));
        const value *c = value_map_get(entry, "contains"), *a = value_map_get(entry, "absent");
        if (c) {
            sb_addf(sb, "%*s        contains:\n", ind, "");
            for (size_t j = 0; j < value_list_len(c); j++) {
                sb_addf(sb, "%*s          - ", ind, "");
                record_yaml_value(sb, value_list_at(c, j));
                sb_addc(sb, '\n');
            }
        }
        if (a) {
            sb_addf(sb, "%*s        absent: ", ind, "");
            record_yaml_value(sb, a);
            sb_addc(sb, '\n');
        }
    }
}

int record_scenario(struct store *s, const struct domain *d, const char *path,
                    const struct command_request *req, int status, const struct command_result *res,
                    const struct record_info *info, char **name_out, err *e)
{
    if (status != ST_OK && status != ST_REJECTED)
        return err_set(e, ST_USAGE, "only an accepted or a rejected command is recorded");
    if (res->duplicate)
        return err_set(e, ST_USAGE, "a command id processed before is not recorded again");
    struct file_info fi;
    int rc = read_file_info(path, d, &fi, e);
    if (rc != ST_OK) {
        file_info_done(&fi);
        return rc;
    }
    /* The stream and its events before the command. */
    char *stream = res->appended.len ? xstrdup(res->appended.items[0].stream) : stream_of(req);
    int64_t upto = res->appended.len ? res->appended.items[0].version - 1 : -1;
    struct event_list given;
    event_list_init(&given);
    struct event_list page;
    event_list_init(&page);
    for (int64_t from = 1; rc == ST_OK && stream && (upto < 0 || from <= upto);) {
        event_list_clear(&page);
        rc = store_read_stream(s, stream, from, 0, 512, &page, e);
        if (rc != ST_OK || page.len == 0)
            break;
        for (size_t i = 0; i < page.len; i++)
            if (upto < 0 || page.items[i].version <= upto)
                event_list_push_copy(&given, &page.items[i]);
        from = page.items[page.len - 1].version + 1;
    }
    event_list_done(&page);
    value rows = value_map(0);
    if (rc == ST_OK && status == ST_OK && stream) {
        /* A store whose read models cannot be folded here (a backend without them)
         * gives no row history: then no row can be shown to be this stream's
         * alone, and `contains` is left out rather than guessed. */
        err ignored;
        if (info->fold && d->nprojections)
            projection_catch_up(s, d, NULL, 0, false, NULL, &ignored);
        value_free(rows);
        rc = changed_rows(s, d, &given, req, stream, &rows, e);
    }
    char *name = NULL;
    if (rc == ST_OK) {
        strbuf base;
        sb_init(&base);
        const value *idv = value_map_get(&req->payload, req->command->aggregate->id_field);
        sb_addf(&base, "%s ", req->command->name);
        if (idv && idv->type == V_STRING)
            sb_addf(&base, "%.*s", (int)value_strlen(idv), value_str(idv));
        else if (idv)
            json_write(&base, idv);
        if (status == ST_REJECTED)
            sb_addf(&base, ", rejected: %s", res->rejected ? res->rejected : "a rule");
        else if (!res->appended.len)
            sb_adds(&base, ", nothing appended");
        for (size_t i = 0; status == ST_OK && i < res->appended.len; i++)
            sb_addf(&base, "%s%s", i ? " + " : ", ", res->appended.items[i].type);
        name = unique_name(&fi, base.buf);
        sb_done(&base);

        strbuf sb;
        sb_init(&sb);
        if (!fi.exists) {
            sb_addf(&sb,
                    "# Scenarios recorded from Strata sessions with the domain %s.\n"
                    "# Each is one command as it was issued: the stream's events before it\n"
                    "# (given), the command at its clock (when), and what it appended or why it\n"
                    "# was refused (then), with the read-model rows it changed that only its\n"
                    "# stream feeds. Keep, rename and edit them as tests of the domain.\n"
                    "# Run them: strata test --domain %s FILE\n"
                    "domain: %s\nscenarios:\n",
                    d->name, info->domain_path ? info->domain_path : "DOMAIN.yaml", d->name);
        } else if (!fi.newline) {
            sb_addc(&sb, '\n');
        }
        char day[TIME_TEXT_LEN + 1];
        time_format_ms(info->recorded_ms ? info->recorded_ms : time_now_ms(), day);
        char *payload = json_to_string(&req->payload);
        sb_addf(&sb, "\n%*s# recorded %.10s %.8s UTC by %s: %s %s\n", fi.indent, "", day, day + 11,
                info->origin ? info->origin : "strata", req->command->name, payload);
        free(payload);
        write_scenario(&sb, fi.indent, name, &given, d, req, status, res, &rows);
        FILE *f = fopen(path, "a");
        bool written = f && fwrite(sb.buf, 1, sb.len, f) == sb.len;
        if (f && fclose(f) != 0)
            written = false;
        if (!written)
            rc = err_set(e, ST_ERR, "%s: cannot write: %s", path, strerror(errno));
        sb_done(&sb);
    }
    value_free(rows);
    event_list_done(&given);
    free(stream);
    file_info_done(&fi);
    if (rc == ST_OK && name_out)
        *name_out = name;
    else
        free(name);
    return rc;
}
