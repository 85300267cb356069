/* parse_num.h - numbers and sizes from the command line, parsed whole.
 *
 * strtoull() alone takes "-1" as a huge number, skips leading blanks and
 * stops quietly at the first non-digit; these refuse all of that and check
 * the range, so a bad value is an error and never a wrapped or partial one.
 * Both return 0 with *out set, or -1 with *out untouched.
 */
#ifndef GGUFFS_PARSE_NUM_H
#define GGUFFS_PARSE_NUM_H

#include <stddef.h>

/* A decimal integer in [min, max]: digits only, no sign, no blanks. */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out);

/* "256M", "1G", "4096", "512KiB" -> bytes, in [min, max]. */
int parse_size(const char *s, size_t min, size_t max, size_t *out);

#endif
