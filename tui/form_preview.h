/* form_preview.h: what the command form teaches while it is typed: the payload
 * that would be sent, each `require` rule evaluated live against the current
 * state (✓ holds, ✗ fails with the values involved), and the events the command
 * would append, decided by core's command_preview without appending anything. */
#ifndef STRATA_TUI_FORM_PREVIEW_H
#define STRATA_TUI_FORM_PREVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "core/domain.h"
#include "tui/lines.h"

struct tui;

/* Fills out (cleared first) with the preview of command c with the field texts
 * text[0..n) (one per payload field, "" = not given). Reads the state at the
 * head; appends nothing. Returns true when the payload is complete and valid (so
 * that what the preview calls "will send" is what submitting sends). */
bool form_preview_build(struct tui *app, const struct command_spec *c, char *const *text, size_t n,
                        struct lines *out);

#endif
