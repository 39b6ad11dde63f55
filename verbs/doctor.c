/* doctor.c: placeholder */
#include "verbs/verb.h"
static int run(struct verb_ctx *c, int argc, char **argv) { return 0; }
const struct verb_def verb_doctor = {.name = "doctor", .synopsis = "", .summary = "", .usage = "", .options = NULL, .run = run};
