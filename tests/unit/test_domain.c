/* test_domain.c: unit tests for the domain loader (core/domain_load.c,
 * domain_parts.c, field.c, yaml_tree.c): the shipped domains load; the bank
 * model, state zero values, rules hashes; field_check, stand-alone source maps,
 * diagnostics printing, where an evaluation error stands in the file, and the
 * did_you_mean and domain_find_* lookups. The loader's error cases (one broken
 * domain per kind of mistake, YAML hazards) are in test_domain_checks.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/domain.h"
#include "core/domain_schema.h"
#include "test_domain_fixture.h"

static void test_shipped_domains_load(void **st)
{
    const char *files[] = {"domains/bank.yaml", "domains/cart.yaml", "domains/library.yaml"};
    for (size_t i = 0; i < 3; i++) {
        struct diag_list dl;
        diag_list_init(&dl);
        struct domain *d = domain_load(files[i], &dl);
        if (!d) {
            diag_list_print(&dl, stderr);
            fail_msg("%s did not load", files[i]);
        }
        assert_true(d->naggregates >= 1);
        assert_true(d->nscenarios >= 6);
        assert_int_equal(strlen(d->aggregates[0].rules_hash), 16);
        domain_free(d);
        diag_list_done(&dl);
    }
}

static void test_bank_model(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load("domains/bank.yaml", &dl);
    assert_non_null(d);
    assert_string_equal(d->name, "bank");
    struct aggregate_spec *a = domain_aggregate(d, "Account");
    assert_non_null(a);
    assert_string_equal(a->id_field, "accountId");
    assert_int_equal(a->snapshot_every, 50);
    assert_int_equal(a->ncommands, 4);
    assert_int_equal(a->nevents, 5);
    struct command_spec *w = domain_command(d, "Withdraw");
    assert_non_null(w);
    assert_ptr_equal(w->aggregate, a);
    assert_int_equal(w->nrequire, 2);
    assert_string_equal(w->require[1].message, "insufficient funds");
    assert_int_equal(w->nemits, 2);
    assert_non_null(w->emits[1].when);
    assert_string_equal(w->emits[1].event->name, "LowBalanceWarned");
    struct command_spec *o = domain_command(d, "OpenAccount");
    assert_true(o->payload[0].required);  /* accountId: string */
    assert_false(o->payload[2].required); /* initialDeposit has a default */
    assert_true(o->payload[2].has_min && o->payload[2].min.u.i == 0);
    assert_int_equal(o->payload[1].min_length, 1);
    struct event_spec *e = domain_event(d, "AccountOpened");
    assert_int_equal(e->version, 2);
    assert_int_equal(e->nupcasts, 1);
    assert_int_equal(e->upcasts[0].from, 1);
    assert_string_equal(e->upcasts[0].rename_from[0], "name");
    assert_string_equal(e->upcasts[0].rename_to[0], "owner");
    assert_string_equal(value_str(&e->upcasts[0].default_values[0]), "EUR");
    assert_string_equal(e->upcasts[0].drop[0], "deposit");
    assert_int_equal(domain_event(d, "MoneyDeposited")->version, 1);
    struct projection_spec *p = domain_projection(d, "BankStats");
    assert_null(p->key);
    assert_int_equal(p->ncolumns, 3);
    assert_int_equal(p->defaults[2].type, V_LIST);
    assert_non_null(p->handlers[3].when);
    struct projection_spec *al = domain_projection(d, "AccountList");
    assert_non_null(al->key);
    assert_int_equal(al->defaults[3].type, V_NULL);
    assert_true(al->handlers[3].delete_row);
    struct source_spec *s = domain_source(d, "legacy-csv");
    assert_int_equal(s->format, SRC_CSV);
    assert_int_equal(s->delimiter, ',');
    assert_non_null(s->stream);
    assert_null(s->skip);
    assert_int_equal(d->nscenarios, 13);
    assert_string_equal(d->scenarios[0].then_rejected, "insufficient funds");
    assert_int_equal(d->scenarios[1].given[0].schema, 1);
    assert_true(d->scenarios[1].has_then_events && d->scenarios[1].has_then_state);
    assert_false(d->scenarios[12].has_when);
    assert_null(domain_command(d, "Nope"));
    assert_null(domain_event(d, "Nope"));
    domain_free(d);
    diag_list_done(&dl);
}

static void test_state_zero_values(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    const char *text = "aggregates:\n  A:\n    id: x\n    state:\n"
                       "      s: string\n      i: int\n      f: float\n      b: bool\n"
                       "      l: list\n      m: map\n      t: timestamp\n      a: any\n"
                       "      g: {type: float, default: 2}\n";
    struct domain *d = domain_load_buffer("z.yaml", text, strlen(text), &dl);
    assert_non_null(d);
    struct aggregate_spec *a = &d->aggregates[0];
    assert_int_equal(a->nstate, 9);
    assert_int_equal(a->state[0].def.type, V_STRING);
    assert_int_equal(a->state[1].def.type, V_INT);
    assert_int_equal(a->state[2].def.type, V_DOUBLE);
    assert_int_equal(a->state[3].def.type, V_BOOL);
    assert_int_equal(a->state[4].def.type, V_LIST);
    assert_int_equal(a->state[5].def.type, V_MAP);
    assert_int_equal(a->state[6].def.type, V_NULL);
    assert_int_equal(a->state[7].def.type, V_NULL);
    assert_int_equal(a->state[8].def.type, V_DOUBLE); /* default 2 on a float field reads as 2.0 */
    assert_string_equal(d->name, "z");                /* no `domain:`: the file's name */
    domain_free(d);
    diag_list_done(&dl);
}

/* What a fold builds of `meta`: the parts its expressions read, set at load. */
static void test_meta_need(void **st)
{
    (void)st;
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load("domains/bank.yaml", &dl);
    assert_non_null(d);
    const struct projection_spec *list = NULL, *stats = NULL;
    for (size_t i = 0; i < d->nprojections; i++) {
        if (strcmp(d->projections[i].name, "AccountList") == 0)
            list = &d->projections[i];
        if (strcmp(d->projections[i].name, "BankStats") == 0)
            stats = &d->projections[i];
    }
    assert_non_null(list);
    assert_non_null(stats);
    for (size_t i = 0; i < list->nhandlers; i++) {
        const struct handler_spec *h = &list->handlers[i];
        assert_true(h->meta_known);
        /* key: meta.aggregateId; deposits and withdrawals set lastActivity: meta.time */
        unsigned want = META_AGGREGATE_ID;
        if (strcmp(h->event_type, "MoneyDeposited") == 0 ||
            strcmp(h->event_type, "MoneyWithdrawn") == 0)
            want |= META_TIME;
        assert_int_equal(h->meta_need, want);
    }
    for (size_t i = 0; i < stats->nhandlers; i++) /* keyless: only bigWithdrawals reads meta */
        assert_int_equal(
            stats->handlers[i].meta_need,
            strcmp(stats->handlers[i].event_type, "MoneyWithdrawn") == 0 ? META_AGGREGATE_ID : 0);
    for (size_t i = 0; i < d->naggregates; i++)
        for (size_t j = 0; j < d->aggregates[i].nevents; j++) {
            assert_true(d->aggregates[i].events[j].meta_known);
            assert_int_equal(d->aggregates[i].events[j].meta_need,
                             0); /* bank's apply never reads meta */
        }
    domain_free(d);

    /* the event's own meta, has(), and meta read whole or indexed */
    const char *src[] = {"meta.command",
                         "has(meta.commandId)",
                         "meta.version + 1",
                         "meta",
                         "meta['time']",
                         "size(meta)",
                         "has(meta.stream) && meta.position > 0"};
    unsigned want[] = {META_STORED,
                       META_STORED,
                       META_VERSION,
                       META_ALL,
                       META_ALL,
                       META_ALL,
                       META_STREAM | META_POSITION};
    for (size_t i = 0; i < sizeof src / sizeof *src; i++) {
        err ee;
        expr *x = expr_compile(src[i], strlen(src[i]), NULL, &ee);
        assert_non_null(x);
        if (meta_need_of(x) != want[i])
            fail_msg("%s: meta_need_of %#x, expected %#x", src[i], meta_need_of(x), want[i]);
        expr_free(x);
    }
    assert_int_equal(meta_need_of(NULL), 0);
    diag_list_done(&dl);
}

static void test_rules_hash(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    const char *b = BASE;
    struct domain *d1 = domain_load_buffer("a.yaml", b, strlen(b), &dl);
    struct domain *d2 = domain_load_buffer("b.yaml", b, strlen(b), &dl);
    assert_non_null(d1);
    assert_non_null(d2);
    assert_string_equal(d1->aggregates[0].rules_hash, d2->aggregates[0].rules_hash);
    /* A different apply changes the hash; a different require does not. */
    char *t3 = xstrdup(b);
    strstr(t3, "state.balance + event.amount")[14] = '-';
    struct domain *d3 = domain_load_buffer("c.yaml", t3, strlen(t3), &dl);
    assert_non_null(d3);
    assert_string_not_equal(d1->aggregates[0].rules_hash, d3->aggregates[0].rules_hash);
    char *t4 = subst(b, "account is not open", "account is NOT open");
    struct domain *d4 = domain_load_buffer("d.yaml", t4, strlen(t4), &dl);
    assert_non_null(d4);
    assert_string_equal(d1->aggregates[0].rules_hash, d4->aggregates[0].rules_hash);
    assert_int_equal(dl.len, 0);
    domain_free(d1);
    domain_free(d2);
    domain_free(d3);
    domain_free(d4);
    free(t3);
    free(t4);
    diag_list_done(&dl);
}

static void test_base_is_valid(void **st)
{
    expect_ok(BASE);
}

/* ---- field_check ---- */

static void test_field_check(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    const char *text = "aggregates:\n  A:\n    id: x\n    commands:\n      C:\n        payload:\n"
                       "          x: string\n"
                       "          amount: {type: int, min: 1, max: 1000}\n"
                       "          code: {type: string, pattern: \"^[A-Z]+$\", min_length: 2}\n"
                       "          kind: {type: string, enum: [a, b]}\n"
                       "          price: float\n"
                       "          at: {type: timestamp, optional: true}\n"
                       "          tags: {type: list, max_length: 2}\n";
    struct domain *d = domain_load_buffer("f.yaml", text, strlen(text), &dl);
    assert_non_null(d);
    const struct command_spec *c = &d->aggregates[0].commands[0];
    err e;
    value v = value_int(0);
    assert_int_equal(field_check(&c->payload[1], &v, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'amount': 0 is below the minimum 1");
    v = value_int(1001);
    assert_int_equal(field_check(&c->payload[1], &v, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'amount': 1001 is above the maximum 1000");
    v = value_int(5);
    assert_int_equal(field_check(&c->payload[1], &v, &e), ST_OK);
    value s = value_cstring("five");
    assert_int_equal(field_check(&c->payload[1], &s, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'amount': expected int, got string \"five\"");
    value_free(s);
    s = value_cstring("abc");
    assert_int_equal(field_check(&c->payload[2], &s, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'code': \"abc\" does not match the pattern \"^[A-Z]+$\"");
    value_free(s);
    s = value_cstring("A");
    assert_int_equal(field_check(&c->payload[2], &s, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'code': length 1 is below the minimum length 2 characters");
    value_free(s);
    s = value_cstring("AB");
    assert_int_equal(field_check(&c->payload[2], &s, &e), ST_OK);
    value_free(s);
    s = value_cstring("c");
    assert_int_equal(field_check(&c->payload[3], &s, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'kind': \"c\" is not one of [\"a\",\"b\"]");
    value_free(s);
    v = value_int(3);
    assert_int_equal(field_check(&c->payload[4], &v, &e), ST_ERR);
    assert_string_equal(e.msg,
                        "field 'price': expected float, got int 3 (write it with a decimal point)");
    v = value_double(3.5);
    assert_int_equal(field_check(&c->payload[4], &v, &e), ST_OK);
    s = value_cstring("yesterday");
    assert_int_equal(field_check(&c->payload[5], &s, &e), ST_ERR);
    assert_string_equal(
        e.msg, "field 'at': \"yesterday\" is not a timestamp (ISO-8601 with an offset or Z, e.g. "
               "2026-11-27T10:00:00Z)");
    value_free(s);
    /* an impossible date, impossible hours, a day without a time, a time without an offset */
    const char *refused[] = {"2026-02-30T10:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T25:00:00Z",
                             "2026-03-01", "2026-03-01T10:00:00"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        s = value_cstring(refused[i]);
        assert_int_equal(field_check(&c->payload[5], &s, &e), ST_ERR);
        assert_non_null(strstr(e.msg, "field 'at': "));
        value_free(s);
    }
    s = value_cstring("2026-03-01");
    assert_int_equal(field_check(&c->payload[5], &s, &e), ST_ERR);
    assert_non_null(strstr(e.msg, "is a date without a time"));
    value_free(s);
    s = value_cstring("2026-03-01T10:00:00.5+02:00");
    assert_int_equal(field_check(&c->payload[5], &s, &e), ST_OK);
    s = field_coerce(F_TIMESTAMP, s); /* what is stored */
    assert_string_equal(value_str(&s), "2026-03-01T08:00:00.500Z");
    value_free(s);
    s = value_cstring("2026-11-27T10:00:00Z");
    assert_int_equal(field_check(&c->payload[5], &s, &e), ST_OK);
    value_free(s);
    v = value_null();
    assert_int_equal(field_check(&c->payload[5], &v, &e), ST_OK); /* optional */
    assert_int_equal(field_check(&c->payload[0], &v, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'x': expected string, got null");
    value l = value_list(3);
    for (int i = 0; i < 3; i++)
        value_list_push(&l, value_int(i));
    assert_int_equal(field_check(&c->payload[6], &l, &e), ST_ERR);
    assert_string_equal(e.msg, "field 'tags': length 3 is above the maximum length 2 items");
    value_free(l);
    assert_string_equal(ftype_name(F_TIMESTAMP), "timestamp");
    domain_free(d);
    diag_list_done(&dl);
}

/* ---- files ---- */

static void test_source_map_file(void **st)
{
    char path[] = "/tmp/strata-test-map-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "format: json\nrecords: Records\nstream: record.repo\ntype: "
                       "record.type\ntimezone: \"+02:00\"\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct diag_list dl;
    diag_list_init(&dl);
    struct source_spec *s = source_load_map(path, &dl);
    assert_non_null(s);
    assert_int_equal(s->format, SRC_JSON);
    assert_string_equal(s->records, "Records");
    assert_true(s->has_timezone);
    assert_int_equal(s->timezone_min, 120);
    assert_non_null(s->type);
    assert_null(s->data);
    assert_string_equal(s->name, strrchr(path, '/') + 1);
    source_free(s);
    /* A bad one: the path of keys starts at the top. */
    FILE *f = fopen(path, "w");
    fputs("format: xml\nstream: payload.x\n", f);
    fclose(f);
    s = source_load_map(path, &dl);
    assert_null(s);
    assert_int_equal(dl.len, 2);
    assert_string_equal(dl.items[0].path, "format");
    assert_int_equal(dl.items[0].line, 1);
    assert_int_equal(dl.items[0].col, 9);
    assert_string_equal(dl.items[1].path, "stream");
    unlink(path);
    diag_list_done(&dl);
    s = source_load_map("/nonexistent/map.yaml", &dl);
    assert_null(s);
    assert_int_equal(dl.len, 1);
    assert_int_equal(dl.items[0].line, 0);
    diag_list_done(&dl);
}

static void test_diag_print(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    const char *text = "domain: t\naggregates:\n  A:\n    id: x\n    stat: {}\n";
    assert_null(domain_load_buffer("my.yaml", text, strlen(text), &dl));
    char buf[512] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    diag_list_print(&dl, f);
    fclose(f);
    assert_string_equal(
        buf, "my.yaml:5:5: error: aggregates.A.stat: unknown key 'stat' (did you mean 'state'?)\n");
    diag_list_done(&dl);
    assert_null(domain_load("/nonexistent/d.yaml", &dl));
    memset(buf, 0, sizeof buf);
    f = fmemopen(buf, sizeof buf - 1, "w");
    diag_list_print(&dl, f);
    fclose(f);
    /* The path once, not twice. */
    assert_string_equal(buf,
                        "/nonexistent/d.yaml: error: cannot open: No such file or directory\n");
    diag_list_done(&dl);
}

/* ---- where an evaluation error stands in the file ---- */

/* Evaluates the first require rule of command C of text with payload {n: 0} and
 * returns the error message (caller frees). */
static char *runtime_error_of(const char *text)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load_buffer("t.yaml", text, strlen(text), &dl);
    if (!d)
        diag_list_print(&dl, stderr);
    assert_non_null(d);
    const struct command_spec *c = domain_command(d, "C");
    assert_non_null(c);
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    value payload = value_map(1);
    value_map_set(&payload, "n", value_int(0));
    vars.roots[ROOT_PAYLOAD] = payload;
    vars.roots[ROOT_STATE] = value_map(0);
    bool ok;
    err e;
    err_clear(&e);
    assert_int_equal(expr_eval_bool(c->require[0].rule, &vars, &ok, &e), ST_ERR);
    value_free(payload);
    value_free(vars.roots[ROOT_STATE]);
    domain_free(d);
    diag_list_done(&dl);
    return xstrdup(e.msg);
}

#define RT_HEAD                                                                                    \
    "domain: t\naggregates:\n  A:\n    id: x\n    commands:\n      C:\n"                           \
    "        payload: {x: string, n: int}\n        require:\n"

static void test_runtime_error_position(void **st)
{
    /* A folded scalar: its lines were joined with spaces; the division is on the
     * third line (file line 12), its '/' at column 15. */
    char *m = runtime_error_of(RT_HEAD "          - rule: >-\n"
                                       "              payload.n >= 0 &&\n"
                                       "              payload.n < 5 &&\n"
                                       "              100 / payload.n > 1\n"
                                       "            message: m\n");
    assert_string_equal(m, "t.yaml:12:19: `payload.n >= 0 && payload.n < 5 && 100 / payload.n > "
                           "1`: division by zero");
    free(m);
    /* A literal scalar keeps its newlines; the indentation is not part of the text. */
    m = runtime_error_of(RT_HEAD "          - message: m\n"
                                 "            rule: |\n"
                                 "              payload.n >= 0 &&\n"
                                 "                 100 / payload.n > 1\n");
    assert_non_null(strstr(m, "t.yaml:12:22: `"));
    assert_non_null(strstr(m, "`: division by zero"));
    free(m);
    /* Plain and quoted scalars: the same line, the quote counted. */
    m = runtime_error_of(RT_HEAD "          - {rule: 1 / payload.n > 0, message: m}\n");
    assert_string_equal(m, "t.yaml:9:22: `1 / payload.n > 0`: division by zero");
    free(m);
    m = runtime_error_of(RT_HEAD "          - {rule: \"1 / payload.n > 0\", message: m}\n");
    assert_string_equal(m, "t.yaml:9:23: `1 / payload.n > 0`: division by zero");
    free(m);
}

/* ---- did_you_mean and the domain_find_* lookups ---- */

static void test_suggester(void **st)
{
    const char *const cmds[] = {"OpenAccount", "Deposit", "Withdraw", "CloseAccount"};
    assert_string_equal(did_you_mean("Depositt", cmds, 4), "Deposit");
    assert_string_equal(did_you_mean("Deopsit", cmds, 4), "Deposit"); /* a swap is one edit */
    assert_string_equal(did_you_mean("deposit", cmds, 4), "Deposit"); /* case only */
    assert_string_equal(did_you_mean("WITHDRAW", cmds, 4), "Withdraw");
    assert_string_equal(did_you_mean("close", cmds, 4), "CloseAccount"); /* a prefix */
    assert_string_equal(did_you_mean("Open", cmds, 4), "OpenAccount");
    assert_string_equal(did_you_mean("Withdrew", cmds, 4), "Withdraw");
    const char *const formats[] = {"ndjson", "json", "csv", "cloudevents"};
    assert_string_equal(did_you_mean("cvs", formats, 4), "csv");
    /* Not whatever is nearest: only a name close enough to be meant. */
    assert_null(did_you_mean("Transfer", cmds, 4));
    assert_null(did_you_mean("abcd", (const char *const[]){"wxyz"}, 1));
    assert_null(did_you_mean("Dx", cmds, 4)); /* two letters are no prefix to go on */
    assert_null(did_you_mean("", cmds, 4));
    assert_null(did_you_mean("Deposit", cmds, 0));
    /* A scenario key `open` where `when` is expected: one shared letter is not a
     * typo of it (issue 13: "unknown key 'open' (did you mean 'when'?)"). */
    const char *const scenario_keys[] = {"name", "given", "when", "then"};
    assert_null(did_you_mean("open", scenario_keys, 4));
    assert_string_equal(did_you_mean("wehn", scenario_keys, 4), "when");
    /* NULL entries are skipped; ties go to the earlier name. */
    const char *const holes[] = {NULL, "state", NULL, "stats"};
    assert_string_equal(did_you_mean("stat", holes, 4), "state");
    /* Long names: no cap on their length. */
    char longname[201], typo[201];
    memset(longname, 'a', 200);
    longname[200] = '\0';
    memcpy(typo, longname, sizeof typo);
    typo[100] = 'b';
    const char *const longs[] = {"short", longname};
    assert_ptr_equal(did_you_mean(typo, longs, 2), longname);
    assert_int_equal(edit_distance(typo, longname), 1);
    assert_int_equal(edit_distance("ca", "ac"), 1);
    assert_int_equal(edit_distance("kitten", "sitting"), 3);
}

static void test_domain_find(void **st)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load("domains/bank.yaml", &dl);
    assert_non_null(d);
    err e;
    err_clear(&e);
    /* Hits return what the plain lookups return, and leave e alone. */
    assert_ptr_equal(domain_find_command(d, "Deposit", &e), domain_command(d, "Deposit"));
    assert_ptr_equal(domain_find_aggregate(d, "Account", &e), &d->aggregates[0]);
    assert_ptr_equal(domain_find_event(d, "MoneyDeposited", &e), domain_event(d, "MoneyDeposited"));
    assert_ptr_equal(domain_find_projection(d, "BankStats", &e), domain_projection(d, "BankStats"));
    assert_int_equal(e.code, ST_OK);
    assert_string_equal(e.msg, "");

    assert_null(domain_find_command(d, "Depositt", &e));
    assert_int_equal(e.code, ST_NOT_FOUND);
    assert_string_equal(e.msg, "unknown command 'Depositt' (did you mean 'Deposit'?)");
    assert_null(domain_find_command(d, "Transfer", &e));
    assert_string_equal(e.msg, "unknown command 'Transfer' in domain bank");
    assert_null(domain_find_aggregate(d, "Acount", &e));
    assert_string_equal(e.msg, "unknown aggregate 'Acount' (did you mean 'Account'?)");
    assert_null(domain_find_event(d, "MoneyDeposit", &e));
    assert_string_equal(e.msg,
                        "unknown event type 'MoneyDeposit' (did you mean 'MoneyDeposited'?)");
    assert_null(domain_find_projection(d, "bankstats", &e));
    assert_string_equal(e.msg, "unknown projection 'bankstats' (did you mean 'BankStats'?)");
    assert_null(domain_find_projection(d, "Ledger", &e));
    assert_string_equal(e.msg, "unknown projection 'Ledger' in domain bank");
    assert_null(domain_find_command(d, NULL, &e));
    assert_string_equal(e.msg, "unknown command '' in domain bank");
    assert_null(domain_find_command(d, "Deposit2", NULL)); /* e may be NULL */
    domain_free(d);
    diag_list_done(&dl);
}

/* More names than any old fixed array held (the command line kept 256 commands,
 * 128 aggregates): the name meant is the 299th of 300, and is still found. */
static void test_domain_find_many(void **st)
{
    struct domain *d = xcalloc(1, sizeof *d);
    d->name = xstrdup("big");
    d->naggregates = 300;
    d->aggregates = xcalloc(300, sizeof *d->aggregates);
    d->aggregates[0].ncommands = 300;
    d->aggregates[0].commands = xcalloc(300, sizeof *d->aggregates[0].commands);
    for (size_t i = 0; i < 300; i++) {
        d->aggregates[i].name = xasprintf("Agg%03zu_Store", i + 1);
        d->aggregates[0].commands[i].name = xasprintf("C%03zu_Name", i + 1);
    }
    err e;
    err_clear(&e);
    assert_null(domain_find_command(d, "C299_Nmae", &e));
    assert_string_equal(e.msg, "unknown command 'C299_Nmae' (did you mean 'C299_Name'?)");
    assert_null(domain_find_aggregate(d, "Agg299_Stroe", &e));
    assert_string_equal(e.msg, "unknown aggregate 'Agg299_Stroe' (did you mean 'Agg299_Store'?)");
    assert_ptr_equal(domain_find_command(d, "C299_Name", &e), &d->aggregates[0].commands[298]);
    /* Far off: no suggestion, however many names there are to pick from. */
    assert_null(domain_find_command(d, "Withdraw", &e));
    assert_string_equal(e.msg, "unknown command 'Withdraw' in domain big");
    assert_null(domain_find_event(d, "Opened", &e));
    assert_string_equal(e.msg, "unknown event type 'Opened': domain big has no events");
    assert_null(domain_find_projection(d, "P", &e));
    assert_string_equal(e.msg, "unknown projection 'P': domain big has no projections");
    domain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_domains_load),
        cmocka_unit_test(test_bank_model),
        cmocka_unit_test(test_state_zero_values),
        cmocka_unit_test(test_rules_hash),
        cmocka_unit_test(test_base_is_valid),
        cmocka_unit_test(test_field_check),
        cmocka_unit_test(test_source_map_file),
        cmocka_unit_test(test_diag_print),
        cmocka_unit_test(test_runtime_error_position),
        cmocka_unit_test(test_suggester),
        cmocka_unit_test(test_domain_find),
        cmocka_unit_test(test_domain_find_many),
        cmocka_unit_test(test_meta_need),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
