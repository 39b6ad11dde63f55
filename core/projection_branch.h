/* projection_branch.h: the read models of what-if branches (core/store_branch.h):
 * a backend that keeps a branch's read model NAME as the projection
 * "NAME@BRANCH" of main's read-model backend (SQLite or PostgreSQL), seeded from
 * main's rows at the fork point, and dropping them with their branch.
 * proj_backend_for (projection_backend.h) picks it for a branch's store. */
#ifndef STRATA_PROJECTION_BRANCH_H
#define STRATA_PROJECTION_BRANCH_H

#include "projection_backend.h"

extern const struct proj_backend proj_backend_branch;

/* Drops every read-model table, record and skip of branch `branch` of the main
 * store `main`, inside the caller's transaction. */
int projection_branch_drop(struct store *main, const char *branch, err *e);

#endif
