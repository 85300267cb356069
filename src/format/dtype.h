/* dtype.h - the output dtypes a mount serves tensors in.
 *
 * A mount has one output dtype (-o dtype=, default f32): tensor files and
 * views hold every decodable tensor in it. DTYPE_STORED is not a mount
 * option: it asks for a plain (non-block) tensor's own bytes, which the
 * views use to keep integer and f64 tensors in their own dtype.
 * Conversions from FP32 are PyTorch's CPU .to(float16 / bfloat16): round to
 * nearest even; f16 overflow to +-inf; NaN to 0x7E00 | sign (f16) and
 * 0x7FC0 (bf16). Pure functions, no state.
 */
#ifndef GGUFFS_DTYPE_H
#define GGUFFS_DTYPE_H

#include <stdint.h>

enum dtype {
    DTYPE_F32,
    DTYPE_F16,
    DTYPE_BF16,
    DTYPE_STORED,
};

/* "f32", "f16", "bf16", "stored". */
const char *dtype_name(enum dtype d);

/* Parse "f32", "f16" or "bf16" (the mount option's values). 0, or -1. */
int dtype_parse(const char *s, enum dtype *out);

/* Bytes per element of a tensor of ggml type `type` served as `d`; 0 when
 * the tensor cannot be served so (DTYPE_STORED of a block type, or a type
 * the table does not know). */
uint32_t dtype_elem_bytes(enum dtype d, uint32_t type);

#endif
