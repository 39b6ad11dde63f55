/* test_pg_fixture.h: the PostgreSQL side of the unit tests' stores, shared by
 * store_backends.h and test_projection_branch.c: the test server from
 * STRATA_TEST_PG_URI, a database of the run's own on it (made at setup, dropped
 * WITH (FORCE) at teardown) and a new empty schema per store, named by a URI
 * whose options set search_path. Include after cmocka.h. */
#ifndef STRATA_TEST_PG_FIXTURE_H
#define STRATA_TEST_PG_FIXTURE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

/* The test server's URI, or NULL when none is named. */
__attribute__((unused)) static const char *pg_base_uri(void)
{
    const char *u = getenv("STRATA_TEST_PG_URI");
    return u && *u ? u : NULL;
}

__attribute__((unused)) static bool admin_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

/* A URI of the test server's database `db`, with search_path `schema` (NULL: the
 * default). libpq lets the query's dbname= override the path. */
__attribute__((unused)) static char *pg_uri_of(const char *db, const char *schema)
{
    const char *base = pg_base_uri();
    char sep = strchr(base, '?') ? '&' : '?';
    if (!schema)
        return xasprintf("%s%cdbname=%s", base, sep, db);
    return xasprintf("%s%cdbname=%s&options=-csearch_path%%3D%s", base, sep, db, schema);
}

/* Creates the run's database PREFIX_PID (its name into db[n]) and connects *admin
 * to it: 0, or -1 having said why. */
__attribute__((unused)) static int pg_run_db_create(const char *prefix, char *db, size_t n,
                                                    PGconn **admin)
{
    PGconn *c = PQconnectdb(pg_base_uri());
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "cannot reach the test server: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    snprintf(db, n, "%s_%d", prefix, (int)getpid());
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    bool ok = admin_exec(c, sql);
    PQfinish(c);
    if (!ok)
        return -1;
    char *uri = pg_uri_of(db, NULL);
    *admin = PQconnectdb(uri);
    free(uri);
    return PQstatus(*admin) == CONNECTION_OK ? 0 : -1;
}

/* Closes *admin and drops the run's database: whether the drop went. */
__attribute__((unused)) static bool pg_run_db_drop(const char *db, PGconn **admin)
{
    PQfinish(*admin);
    *admin = NULL;
    PGconn *c = PQconnectdb(pg_base_uri());
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    bool ok = admin_exec(c, sql);
    PQfinish(c);
    return ok;
}

/* A new empty schema s<++*counter> in the run's database, and its store's URI. */
__attribute__((unused)) static char *pg_fresh_schema(PGconn *admin, const char *db, int *counter)
{
    char schema[32], sql[64];
    snprintf(schema, sizeof schema, "s%d", ++*counter);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    if (!admin_exec(admin, sql))
        abort();
    return pg_uri_of(db, schema);
}

#endif
