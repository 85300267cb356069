/* convert.h - FP32 to the 16-bit output dtypes, as PyTorch converts on the
 * CPU (tensor.to(torch.float16 / torch.bfloat16)).
 *
 *   f16:  IEEE round to nearest even; overflow to +-inf; subnormals kept;
 *         any NaN becomes 0x7E00 with the input's sign.
 *   bf16: round to nearest even on the upper 16 bits; any NaN becomes 0x7FC0
 *         (sign dropped); overflow rounds to +-inf as the bits carry.
 *
 * Outputs are little-endian u16 arrays; src and dst need no alignment and
 * may not overlap. Pure functions, no state.
 */
#ifndef GGUFFS_CONVERT_H
#define GGUFFS_CONVERT_H

#include <stdint.h>

void convert_f32_to_f16(const float *src, uint64_t n, uint16_t *dst);
void convert_f32_to_bf16(const float *src, uint64_t n, uint16_t *dst);

/* One value each, for tests and tails. */
uint16_t convert_one_f16(float f);
uint16_t convert_one_bf16(float f);

#endif
