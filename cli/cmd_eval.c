/* cmd_eval.c: `strata eval EXPR [--vars JSON]`: evaluates one expression and
 * prints its value as canonical JSON (an int never with a '.', a double always
 * with a '.' or an exponent). For learning the expression language and for
 * checking the evaluator against CEL's published semantics. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/expr.h"
#include "core/json.h"

static const char usage[] =
    "usage: strata eval EXPR [--vars JSON]\n"
    "\n"
    "Evaluates one expression of the domain language (a strict subset of CEL) and\n"
    "prints its value as JSON: an int never has a '.', a double always has a '.' or\n"
    "an exponent (1.0, 1e+300); infinities and NaN print as null, as JSON has none.\n"
    "\n"
    "  --vars JSON   values for the names an expression starts from, as one JSON\n"
    "                object: {\"state\": {...}, \"payload\": {...}}. The names are\n"
    "                payload, state, event, row, meta and record; names not given\n"
    "                are null. now() is the current time.\n"
    "\n"
    "Semantics are CEL's: ints (64-bit) and doubles are distinct and never convert\n"
    "implicitly in arithmetic (1 + 1.5 is an error; double(1) + 1.5 is not), but\n"
    "compare as numbers (1 == 1.0 and [1] == [1.0] are true, 1 < 1.5 is true);\n"
    "other values of different types are never equal ('1' == 1 is false). Overflow\n"
    "and division by zero are errors; && and || stop early and absorb an error on\n"
    "the side that does not matter. Map literals may have string, int or bool keys\n"
    "({1: 'a'}[1]); such a map prints with its keys as JSON text ({\"1\":\"a\"}), but\n"
    "cannot be stored by a domain (events, state and rows have string keys).\n"
    "Timestamps and durations are CEL's (timestamp('2026-03-01T10:00:00+02:00'),\n"
    "duration('90m'), now()) and print as their stored text: \"2026-03-01T08:00:00.000Z\",\n"
    "\"5400s\". --vars is JSON, so a time given there is text: timestamp(meta.time).\n"
    "\n"
    "examples:\n"
    "  strata eval '1 + 2 * 3'\n"
    "  strata eval 'state.balance >= payload.amount' --vars "
    "'{\"state\":{\"balance\":150},\"payload\":{\"amount\":151}}'\n"
    "  strata eval \"[1, 2, 3].map(x, x * x)\"\n"
    "\n"
    "exit status: 0 ok, 1 the expression or --vars is wrong (message on stderr), 2 usage\n";

/* The roots eval knows (ROOT_DEFAULT_BITS: the envelope's are for log filters). */
static const char *const root_names[] = {"payload", "state", "event", "row", "meta", "record"};
enum { NROOT_NAMES = sizeof root_names / sizeof root_names[0] };

/* Fills vars from a JSON object of root names; on error fills e. */
static int load_vars(const char *text, struct expr_vars *vars, value *holder, err *e)
{
    err je;
    if (json_parse(text, strlen(text), holder, &je) != ST_OK)
        return err_set(e, ST_ERR, "--vars: invalid JSON at column %d: %s", je.col, je.msg);
    if (holder->type != V_MAP)
        return err_set(e, ST_ERR,
                       "--vars: expected a JSON object such as {\"state\": {...}}, got %s",
                       vtype_name(holder->type));
    for (size_t i = 0; i < value_map_len(holder); i++) {
        const char *k = value_str(value_map_key_at(holder, i));
        int r;
        for (r = 0; r < NROOT_NAMES; r++)
            if (strcmp(k, root_names[r]) == 0)
                break;
        if (r == NROOT_NAMES) {
            const char *dym = did_you_mean(k, root_names, NROOT_NAMES);
            if (dym)
                return err_set(e, ST_ERR, "--vars: unknown name '%s' (did you mean '%s'?)", k, dym);
            return err_set(e, ST_ERR,
                           "--vars: unknown name '%s'; the names are payload, state, event, row, "
                           "meta, record, key",
                           k);
        }
        vars->roots[r] = *value_map_val_at(holder, i); /* borrowed from holder */
    }
    return ST_OK;
}

int cmd_eval(int argc, char **argv)
{
    struct cli c;
    cli_init(&c, "eval", usage);
    /* Arguments are read by hand, not with getopt: an expression may begin with
     * '-' ("-1 + 2", "-x.y"), which getopt would take for options. An argument
     * is an option only when it is "--" followed by a letter. */
    const char *vars_text = NULL;
    const char *src = NULL;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool is_opt = !only_positional && a[0] == '-' && a[1] == '-' &&
                      ((a[2] >= 'a' && a[2] <= 'z') || (a[2] >= 'A' && a[2] <= 'Z'));
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = true;
        } else if (is_opt && strcmp(a, "--vars") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error(&c, "option --vars needs a value");
            vars_text = argv[++i];
        } else if (is_opt && strncmp(a, "--vars=", 7) == 0) {
            vars_text = a + 7;
        } else if (is_opt && strcmp(a, "--help") == 0) {
            c.want_help = true;
        } else if (is_opt && (strcmp(a, "--domain") == 0 || strcmp(a, "--db") == 0)) {
            if (i + 1 >= argc)
                return cli_usage_error(&c, "option %s needs a value", a);
            i++; /* the common options mean nothing to eval; accepted so scripts may pass them */
        } else if (is_opt && (strncmp(a, "--domain=", 9) == 0 || strncmp(a, "--db=", 5) == 0)) {
            continue;
        } else if (is_opt) {
            return cli_usage_error(&c, "unknown option '%s'", a);
        } else if (src) {
            return cli_usage_error(
                &c, "unexpected argument '%s' (quote the whole expression as one argument)", a);
        } else {
            src = a;
        }
    }
    if (c.want_help)
        return cli_help(&c);
    if (!src)
        return cli_usage_error(&c, "no expression given");

    err e;
    err_clear(&e);
    err ee;
    expr *x = expr_compile(src, strlen(src), NULL, &ee);
    if (!x) {
        fprintf(stderr, "strata eval: `%s`: column %d: %s\n", src, ee.col, ee.msg);
        return ST_ERR;
    }
    struct expr_vars vars;
    memset(&vars, 0, sizeof vars);
    for (int r = 0; r < ROOT_COUNT; r++)
        vars.roots[r] = value_null();
    vars.now_ms = time_now_ms();
    value holder = value_null();
    int rc = ST_OK;
    if (vars_text && load_vars(vars_text, &vars, &holder, &e) != ST_OK) {
        rc = cli_fail(&c, &e);
    } else {
        value out;
        if (expr_eval(x, &vars, &out, &e) != ST_OK) {
            rc = cli_fail(&c, &e);
        } else {
            strbuf sb;
            sb_init(&sb);
            json_write(&sb, &out);
            sb_addc(&sb, '\n');
            fwrite(sb.buf, 1, sb.len, stdout);
            sb_done(&sb);
            value_free(out);
        }
    }
    value_free(holder);
    expr_free(x);
    if (fflush(stdout) != 0 && rc == ST_OK) {
        perror("strata eval: stdout");
        rc = ST_ERR;
    }
    return rc;
}
