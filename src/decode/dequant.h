/* dequant.h - CPU dequantization of ggml blocks to FP32.
 *
 * Every routine here is bit-identical (memcmp, signed zeros and NaN payloads
 * included) to ggml's CPU reference `to_float` for the same type. The scalar
 * routines are the reference; vector fast paths (dequant_simd.c) are chosen
 * once, at first use, from the CPU's features, and must produce the same bits.
 *
 * dequant_set_simd_cap() caps the level chosen (main.c passes GGUFFS_SIMD
 * from the environment, for tests and benchmarks); a level the CPU lacks is
 * ignored.
 *
 * No state but the cap and the dispatch table, which is written once under
 * pthread_once.
 */
#ifndef GGUFFS_DEQUANT_H
#define GGUFFS_DEQUANT_H

#include <stdbool.h>
#include <stdint.h>

/* Cap the vector level at "scalar", "sse4.1", "avx2" or "avx512" (NULL: no
 * cap). Call before the first decode: the choice is made once. Returns 0,
 * or -1 for an unknown spelling (then nothing changes). */
int dequant_set_simd_cap(const char *level);

/* True if dequant_blocks() can decode `type`. */
bool dequant_supported(uint32_t type);

/* Decode `nblocks` whole blocks of `type` from `src` into `dst`
 * (nblocks * block_elems floats). Returns 0, or -1 if the type has no CPU
 * decoder. src needs no alignment. Output larger than DQ_STREAM_MIN_BYTES
 * (8 MiB, see dequant_internal.h) is written past the caches with
 * non-temporal stores where dst's alignment allows; smaller output is left
 * in cache. The same holds for dequant_range(). */
int dequant_blocks(uint32_t type, const void *src, uint64_t nblocks, float *dst);

/* The same through the scalar reference only. */
int dequant_blocks_scalar(uint32_t type, const void *src, uint64_t nblocks, float *dst);

/* Decode elements [first, first + count) of a run of blocks that starts at
 * `src` (src is the first block, element 0 of it is element 0 here). Partial
 * first and last blocks are handled. Returns 0 or -1 as above. */
int dequant_range(uint32_t type, const void *src, uint64_t first, uint64_t count, float *dst);

/* The vector level in use for `type`: "avx512", "avx2", "sse4.1" or "scalar". */
const char *dequant_isa(uint32_t type);

#endif
