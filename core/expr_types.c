/* expr_types.c: the names and tables the expression module's parts share
 * (expr_types.h): the built-in functions with their arities and operand types,
 * the names of functions, macros, operators, roots and types, and the recorder
 * of a compilation's first error. Nothing here calls another expr_*.c file, so
 * the lexer, parser, checker and evaluator can all depend on it without
 * depending on each other. */
#include "expr_types.h"

#include <stdio.h>
#include <string.h>

#define TM EXPR_TM
#define TM_STRINGISH EXPR_TM_STRINGISH

static const struct expr_fninfo functions[] = {
    {"size", FN_SIZE, true, true, 0, 0, TM_STRINGISH | TM(EXPR_T_LIST) | TM(EXPR_T_MAP)},
    {"int", FN_INT, true, false, 1, 1,
     TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM_STRINGISH | TM(EXPR_T_TIMESTAMP)},
    {"double", FN_DOUBLE, true, false, 1, 1, TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM_STRINGISH},
    {"string", FN_STRING, true, false, 1, 1,
     TM(EXPR_T_BOOL) | TM(EXPR_T_INT) | TM(EXPR_T_DOUBLE) | TM_STRINGISH | EXPR_TM_TIME},
    {"bool", FN_BOOL, true, false, 1, 1, TM(EXPR_T_BOOL) | TM(EXPR_T_STRING)},
    {"now", FN_NOW, true, false, 0, 0, 0},
    {"timestamp", FN_TIMESTAMP, true, false, 1, 1,
     TM(EXPR_T_STRING) | TM(EXPR_T_INT) | TM(EXPR_T_TIMESTAMP)},
    {"duration", FN_DURATION, true, false, 1, 1, TM(EXPR_T_STRING) | TM(EXPR_T_DURATION)},
    /* the accessors take an optional time zone ("UTC", "+02:00") */
    {"getFullYear", FN_GET_FULL_YEAR, false, true, 0, 1, TM(EXPR_T_TIMESTAMP)},
    {"getMonth", FN_GET_MONTH, false, true, 0, 1, TM(EXPR_T_TIMESTAMP)},
    {"getDayOfMonth", FN_GET_DAY_OF_MONTH, false, true, 0, 1, TM(EXPR_T_TIMESTAMP)},
    {"getDate", FN_GET_DATE, false, true, 0, 1, TM(EXPR_T_TIMESTAMP)},
    {"getDayOfWeek", FN_GET_DAY_OF_WEEK, false, true, 0, 1, TM(EXPR_T_TIMESTAMP)},
    {"getDayOfYear", FN_GET_DAY_OF_YEAR, false, true, 0, 1, TM(EXPR_T_TIMESTAMP)},
    {"getHours", FN_GET_HOURS, false, true, 0, 1, EXPR_TM_TIME},
    {"getMinutes", FN_GET_MINUTES, false, true, 0, 1, EXPR_TM_TIME},
    {"getSeconds", FN_GET_SECONDS, false, true, 0, 1, EXPR_TM_TIME},
    {"getMilliseconds", FN_GET_MILLISECONDS, false, true, 0, 1, EXPR_TM_TIME},
    {"put", FN_PUT, true, false, 3, 3, TM(EXPR_T_MAP)},
    {"remove", FN_REMOVE, true, false, 2, 2, TM(EXPR_T_MAP) | TM(EXPR_T_LIST)},
    {"contains", FN_CONTAINS, false, true, 1, 1, TM_STRINGISH},
    {"startsWith", FN_STARTS_WITH, false, true, 1, 1, TM_STRINGISH},
    {"endsWith", FN_ENDS_WITH, false, true, 1, 1, TM_STRINGISH},
    {"lowerAscii", FN_LOWER_ASCII, false, true, 0, 0, TM_STRINGISH},
    {"upperAscii", FN_UPPER_ASCII, false, true, 0, 0, TM_STRINGISH},
    {"trim", FN_TRIM, false, true, 0, 0, TM_STRINGISH},
    {"substring", FN_SUBSTRING, false, true, 1, 2, TM_STRINGISH},
    {"replace", FN_REPLACE, false, true, 2, 3, TM_STRINGISH}, /* 3rd: CEL's limit */
    {"split", FN_SPLIT, false, true, 1, 2, TM_STRINGISH},     /* 2nd: CEL's limit */
};
#define NFUNCTIONS (sizeof functions / sizeof functions[0])

static const char *const macro_names[M_COUNT] = {"all", "exists", "exists_one", "map", "filter"};
static const char *const op_text[] = {
    "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in"};
static const char *const root_names[ROOT_COUNT] = {"payload", "state",  "event",   "row",
                                                   "meta",    "record", "key",     "type",
                                                   "stream",  "time",   "position"};

const struct expr_fninfo *expr_fn_find(const char *name)
{
    for (size_t i = 0; i < NFUNCTIONS; i++)
        if (strcmp(functions[i].name, name) == 0)
            return &functions[i];
    return NULL;
}

const struct expr_fninfo *expr_fn_info(int fn)
{
    for (size_t i = 0; i < NFUNCTIONS; i++)
        if (functions[i].fn == fn)
            return &functions[i];
    return NULL;
}

const struct expr_fninfo *expr_fn_table(size_t *n)
{
    *n = NFUNCTIONS;
    return functions;
}

const char *expr_fn_name(int fn)
{
    const struct expr_fninfo *f = expr_fn_info(fn);
    return f ? f->name : "?";
}

const char *expr_macro_name(int m)
{
    return m >= 0 && m < M_COUNT ? macro_names[m] : "?";
}

const char *expr_op_text(int op)
{
    return op >= 0 && op < (int)(sizeof op_text / sizeof op_text[0]) ? op_text[op] : "?";
}

const char *expr_root_name(int r)
{
    return r >= 0 && r < ROOT_COUNT ? root_names[r] : "?";
}

const char *expr_type_name(expr_type t)
{
    switch (t) {
    case EXPR_T_ANY:
        return "dyn";
    case EXPR_T_NULL:
        return "null";
    case EXPR_T_BOOL:
        return "bool";
    case EXPR_T_INT:
        return "int";
    case EXPR_T_DOUBLE:
        return "double";
    case EXPR_T_STRING:
        return "string";
    case EXPR_T_TIMESTAMP:
        return "timestamp";
    case EXPR_T_LIST:
        return "list";
    case EXPR_T_MAP:
        return "map";
    case EXPR_T_DURATION:
        return "duration";
    }
    return "?";
}

expr_type expr_type_of(const value *v)
{
    switch (v->type) {
    case V_NULL:
        return EXPR_T_NULL;
    case V_BOOL:
        return EXPR_T_BOOL;
    case V_INT:
        return EXPR_T_INT;
    case V_DOUBLE:
        return EXPR_T_DOUBLE;
    case V_STRING:
        return EXPR_T_STRING;
    case V_LIST:
        return EXPR_T_LIST;
    case V_MAP:
        return EXPR_T_MAP;
    case V_TIMESTAMP:
        return EXPR_T_TIMESTAMP;
    case V_DURATION:
        return EXPR_T_DURATION;
    }
    return EXPR_T_ANY;
}

void expr_vfail(struct expr_errsink *s, size_t at, const char *fmt, va_list ap)
{
    if (s->failed)
        return;
    s->failed = true;
    err_vset_at(s->ee, ST_ERR, NULL, 0, (int)at + 1, fmt, ap);
}

void expr_fail(struct expr_errsink *s, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    expr_vfail(s, at, fmt, ap);
    va_end(ap);
}
