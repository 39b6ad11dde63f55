/* pg_util.c: the PostgreSQL helpers of pg_util.h: quoting, reading results, and
 * libpq's failures in words a user can act on. */
#include "pg_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgu_add_ident(strbuf *sb, const char *prefix, const char *name, const char *suffix)
{
    sb_addc(sb, '"');
    const char *parts[3] = {prefix, name, suffix};
    for (int i = 0; i < 3; i++)
        for (const char *p = parts[i]; p && *p; p++) {
            if (*p == '"')
                sb_addc(sb, '"');
            sb_addc(sb, *p);
        }
    sb_addc(sb, '"');
}

bool pgu_ok(const PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* libpq's message without its "ERROR:  " and trailing newline. */
static void plain_message(char *out, size_t size, const char *msg)
{
    if (!msg || !*msg)
        msg = "unknown error";
    if (strncmp(msg, "ERROR:  ", 8) == 0)
        msg += 8;
    else if (strncmp(msg, "FATAL:  ", 8) == 0)
        msg += 8;
    snprintf(out, size, "%s", msg);
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    /* libpq's multi-line messages ("DETAIL: ...") read better on one line. */
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

int pgu_error(PGconn *c, const PGresult *r, const char *display, int busy_ms, err *e,
              const char *doing)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char msg[600];
    plain_message(msg, sizeof msg,
                  r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(c));
    if (PQstatus(c) == CONNECTION_BAD)
        return err_set(e, ST_ERR, "lost the connection to the store %s while %s: %s", display,
                       doing, msg);
    if (!state)
        return err_set(e, ST_ERR, "%s: %s: %s", display, doing, msg);
    if (strcmp(state, "55P03") == 0) /* lock_not_available: lock_timeout ran out */
        return err_set(e, ST_ERR, "the store is locked by another process (waited %g s)",
                       busy_ms / 1000.0);
    if (strcmp(state, "25006") == 0) /* read_only_sql_transaction */
        return err_set(e, ST_ERR, "the store is read-only: %s", display);
    if (strcmp(state, "53100") == 0) /* disk_full */
        return err_set(e, ST_ERR, "the disk is full: the PostgreSQL server of %s cannot write (%s)",
                       display, doing);
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return err_set(e, ST_CONFLICT, "%s: %s: %s", display, doing, msg);
    return err_set(e, ST_ERR, "%s: %s: %s", display, doing, msg);
}

int64_t pgu_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

char *pgu_dup(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return xstrndup(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

const char *pgu_i64(char *buf, int64_t v)
{
    snprintf(buf, 24, "%lld", (long long)v);
    return buf;
}
