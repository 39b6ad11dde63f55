/* projection_backend.c: the backend-independent helpers of projection_backend.h
 * that both the projection logic and every backend use: a status record's
 * lifetime and a projection's row of defaults. */
#include "projection_backend.h"

#include <stdlib.h>

void proj_record_done(struct proj_record *r)
{
    free(r->error);
    free(r->error_event);
    free(r->samples);
    r->error = r->error_event = r->samples = NULL;
}

void proj_record_clear_error(struct proj_record *r)
{
    free(r->error);
    free(r->error_event);
    r->error = r->error_event = NULL;
    r->error_position = 0;
}

value proj_defaults_row(const struct projection_spec *p)
{
    value row = value_map(p->ncolumns);
    for (size_t i = 0; i < p->ncolumns; i++)
        value_map_set(&row, p->columns[i], value_ref(&p->defaults[i]));
    return row;
}
