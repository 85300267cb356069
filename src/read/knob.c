/* knob.c - tuning knobs read from the environment. See knob.h. */
#include "read/knob.h"

#include <stdlib.h>

uint64_t knob_get(const char *name, uint64_t dflt, uint64_t min, uint64_t max)
{
    const char *e = getenv(name);
    char *end;
    if (e == NULL || *e < '0' || *e > '9')
        return dflt;
    unsigned long long v = strtoull(e, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return dflt;
    return v;
}
