/* ask_domain.h: the question the workbench asks before it applies a domain to a
 * store that was used with another domain, or with none but has events (issue
 * 14, defect 4; the rule is core/store_domain.h). While app->ask is set, the
 * screen is the question and the keys are its answers; nothing is written. */
#ifndef STRATA_TUI_ASK_DOMAIN_H
#define STRATA_TUI_ASK_DOMAIN_H

struct tui;

/* Draws the question over the whole screen (the message line included). */
void ask_domain_draw(struct tui *app);
/* One key: y applies the domain (recording its name in the store), n opens the
 * store without a domain, q or Ctrl-C quits; anything else says so. */
void ask_domain_key(struct tui *app, int key);

#endif
