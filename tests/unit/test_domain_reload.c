/* test_domain_reload.c: unit tests for the live domain reload's decisions
 * (core/domain_reload.h): a watch sees a saved file (not a vanished one, and not
 * the same file twice); a reload with errors keeps the domain in force and says
 * where (FILE:LINE:COL); another domain name is refused; one that loads lists
 * the commands and projections added and removed and the projections whose rules
 * changed (stale), and not those whose rules did not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/domain_reload.h"

static char tmpdir[256], path[400];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/strata-reload-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(path, sizeof path, "%s/d.yaml", tmpdir);
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A small domain: one aggregate with `commands` (extra YAML lines under
 * commands:), and projections (YAML lines under projections:). */
static void write_domain(const char *name, const char *commands, const char *projections)
{
    char *text = xasprintf("domain: %s\n"
                           "aggregates:\n"
                           "  Note:\n"
                           "    id: noteId\n"
                           "    state: {text: {type: string, default: \"\"}}\n"
                           "    events:\n"
                           "      Written: {fields: {text: string}, apply: {text: event.text}}\n"
                           "    commands:\n"
                           "      Write:\n"
                           "        payload: {noteId: string, text: string}\n"
                           "        emit:\n"
                           "          - Written: {text: payload.text}\n"
                           "%s"
                           "projections:\n"
                           "%s",
                           name, commands, projections);
    write_file(text);
    free(text);
}

static const char *const NOTES = "  Notes:\n"
                                 "    key: meta.aggregateId\n"
                                 "    columns: {text: \"\"}\n"
                                 "    on:\n"
                                 "      Written: {text: event.text}\n";
static const char *const COUNT = "  Count:\n"
                                 "    columns: {n: 0}\n"
                                 "    on:\n"
                                 "      Written: {n: \"row.n + 1\"}\n";
static const char *const COUNT2 = "  Count:\n"
                                  "    columns: {n: 0}\n"
                                  "    on:\n"
                                  "      Written: {n: \"row.n + 2\"}\n";
static const char *const ERASE = "      Erase:\n"
                                 "        payload: {noteId: string}\n"
                                 "        emit:\n"
                                 "          - Written: {text: \"''\"}\n";

static struct domain *load_now(void)
{
    struct domain_reload r;
    assert_int_equal(domain_reload(path, NULL, &r), ST_OK);
    struct domain *d = r.domain;
    r.domain = NULL;
    domain_reload_done(&r);
    return d;
}

static char *joined(char **list, size_t n)
{
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < n; i++)
        sb_addf(&sb, "%s%s", i ? "," : "", list[i]);
    char *s = xstrdup(sb.buf ? sb.buf : "");
    sb_done(&sb);
    return s;
}

static void watch_sees_saves(void **state)
{
    write_domain("notes", "", NOTES);
    struct domain_watch w;
    domain_watch_init(&w, path);
    assert_false(domain_watch_changed(&w)); /* as it was when the watch began */
    write_domain("notes", ERASE, NOTES);    /* saved: longer */
    assert_true(domain_watch_changed(&w));
    assert_false(domain_watch_changed(&w)); /* the same change is seen once */
    unlink(path);                           /* an editor's rename: gone for a moment */
    assert_false(domain_watch_changed(&w));
    write_domain("notes", "", NOTES); /* back */
    assert_true(domain_watch_changed(&w));
    domain_watch_done(&w);
}

static void errors_keep_the_domain(void **state)
{
    write_domain("notes", "", NOTES);
    struct domain *old = load_now();
    write_file("domain: notes\naggregates:\n  Note:\n    id: noteId\n    state: {text: \"\"\n");
    struct domain_reload r;
    assert_int_equal(domain_reload(path, old, &r), ST_ERR);
    assert_null(r.domain);
    assert_true(r.diags.len > 0);
    assert_true(r.diags.items[0].line > 0); /* placed: FILE:LINE:COL */
    strbuf sb;
    sb_init(&sb);
    domain_reload_summary(&r, "d.yaml", &sb);
    assert_non_null(strstr(sb.buf, "the domain in force stays"));
    assert_non_null(strstr(sb.buf, "error:"));
    sb_done(&sb);
    domain_reload_done(&r);
    /* Another name: the store records the domain it is used with. */
    write_domain("other", "", NOTES);
    assert_int_equal(domain_reload(path, old, &r), ST_ERR);
    assert_null(r.domain);
    assert_non_null(strstr(r.diags.items[0].message, "now called 'other'"));
    domain_reload_done(&r);
    domain_free(old);
}

static void changes_are_listed(void **state)
{
    write_domain("notes", "",
                 "  Notes:\n    key: meta.aggregateId\n    columns: {text: \"\"}\n"
                 "    on:\n      Written: {text: event.text}\n"
                 "  Count:\n    columns: {n: 0}\n    on:\n"
                 "      Written: {n: \"row.n + 1\"}\n");
    struct domain *old = load_now();
    /* Count's rule changes (stale), Notes stays as it was, Erase is new. */
    char *projs = xasprintf("%s%s", NOTES, COUNT2);
    write_domain("notes", ERASE, projs);
    free(projs);
    struct domain_reload r;
    assert_int_equal(domain_reload(path, old, &r), ST_OK);
    assert_non_null(r.domain);
    char *s = joined(r.stale, r.nstale);
    assert_string_equal(s, "Count");
    free(s);
    s = joined(r.commands_added, r.ncommands_added);
    assert_string_equal(s, "Note.Erase");
    free(s);
    assert_int_equal(r.nadded, 0);
    assert_int_equal(r.nremoved, 0);
    assert_false(r.same);
    strbuf sb;
    sb_init(&sb);
    domain_reload_summary(&r, "d.yaml", &sb);
    assert_string_equal(sb.buf, "d.yaml reloaded: command Note.Erase added; projection Count "
                                "stale (its rules changed: rebuild it)");
    sb_done(&sb);
    struct domain *mid = r.domain;
    r.domain = NULL;
    domain_reload_done(&r);

    /* Back: Erase removed, Count dropped, Notes unchanged; nothing stale. */
    write_domain("notes", "", NOTES);
    assert_int_equal(domain_reload(path, mid, &r), ST_OK);
    assert_int_equal(r.nstale, 0);
    s = joined(r.removed, r.nremoved);
    assert_string_equal(s, "Count");
    free(s);
    s = joined(r.commands_removed, r.ncommands_removed);
    assert_string_equal(s, "Note.Erase");
    free(s);
    domain_reload_done(&r);

    /* The same file again: nothing changed. */
    write_domain("notes", "", NOTES);
    struct domain *last = load_now();
    assert_int_equal(domain_reload(path, last, &r), ST_OK);
    assert_true(r.same);
    sb_init(&sb);
    domain_reload_summary(&r, "d.yaml", &sb);
    assert_string_equal(sb.buf, "d.yaml reloaded: no command or projection changed");
    sb_done(&sb);
    domain_reload_done(&r);
    (void)COUNT;
    domain_free(last);
    domain_free(mid);
    domain_free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(watch_sees_saves),
        cmocka_unit_test(errors_keep_the_domain),
        cmocka_unit_test(changes_are_listed),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
