/* request.c - see request.h. */
#include "read/request.h"

#include <stdarg.h>
#include <stdio.h>

void read_result_set(struct read_result *r, enum read_status status, int err, const char *fmt, ...)
{
    va_list ap;
    r->status = status;
    r->err = err;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
}
