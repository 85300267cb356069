/* knob.h - tuning knobs read from the environment.
 *
 * For benchmarks and experiments only (docs/PERFORMANCE.md names each knob):
 * the defaults are what the measurements chose, and a knob that is unset,
 * not a plain decimal number, or out of its range leaves the default.
 */
#ifndef GGUFFS_KNOB_H
#define GGUFFS_KNOB_H

#include <stdint.h>

/* The value of environment variable `name` if it is a decimal number in
 * [min, max], else `dflt`. */
uint64_t knob_get(const char *name, uint64_t dflt, uint64_t min, uint64_t max);

#endif
