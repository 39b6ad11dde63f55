/* rule_message.h: the text of a failed rule's message, its {EXPR} placeholders
 * (compiled by the loader, domain_message.c) evaluated with the rule's own
 * names. */
#ifndef STRATA_RULE_MESSAGE_H
#define STRATA_RULE_MESSAGE_H

#include "domain.h"

/* The message of r with its placeholders filled from vars: a string bare, any
 * other value as JSON. A placeholder whose evaluation fails shows `{?}`: the
 * rule has failed either way, and the rejection must not turn into an error
 * because its explanation could not be written. Caller frees. */
char *rule_message(const struct rule_spec *r, const struct expr_vars *vars);

#endif
