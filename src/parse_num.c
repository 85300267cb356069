/* parse_num.c - see parse_num.h. */
#include "parse_num.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decimal integer in [min, max]: digits only, no sign, no blanks. */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out)
{
    char *end;

    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "256M", "1G", "4096", "512KiB" -> bytes, in [min, max]. */
int parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;

    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    const char *units = "KMGT", *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (errno != 0)
        return -1;
    if (u != NULL) {
        shift = 10 * (unsigned)(u - units + 1);
        end++;
    }
    if (shift != 0 && (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0))
        end += strlen(end);
    if (*end != '\0' || v > (SIZE_MAX >> shift))
        return -1;
    size_t bytes = (size_t)(v << shift);
    if (bytes < min || bytes > max)
        return -1;
    *out = bytes;
    return 0;
}
