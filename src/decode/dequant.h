/* dequant.h - CPU dequantization of ggml blocks to FP32.
 *
 * Every routine here is bit-identical (memcmp, signed zeros and NaN payloads
 * included) to ggml's CPU reference `to_float` for the same type. The scalar
 * decoders (dequant_scalar.c) are the reference; the vector ones
 * (dequant_sse41.c, dequant_avx2.c, dequant_avx512.c) are chosen once, at
 * first use, from the CPU's features, and must produce the same bits. Which
 * decoders a type has is written in its row of the type table
 * (format/ggml_types.c).
 *
 * This module reads no environment: a caller that wants to cap the vector
 * level (the daemon's GGUFFS_SIMD, a test, a benchmark) says so through
 * dequant_set_cap() before the first decode.
 *
 * No state but the level cap and the choice made from it, both written once.
 */
#ifndef GGUFFS_DEQUANT_H
#define GGUFFS_DEQUANT_H

#include <stdbool.h>
#include <stdint.h>

/* Vector levels, in increasing order: a level implies every lower one. */
enum dequant_level {
    DQ_SCALAR = 0,
    DQ_SSE41 = 1,
    DQ_AVX2 = 2,
    DQ_AVX512 = 3,
    DQ_LEVELS = 4,
};

/* Caps the vector level used from now on (a level the CPU lacks is simply
 * not reached). Must come before the first decode: returns 0, or -1 when
 * the choice has already been made (the cap is then ignored). */
int dequant_set_cap(enum dequant_level cap);

/* The level spelled `name` ("scalar", "sse4.1", "avx2", "avx512", as
 * GGUFFS_SIMD spells it) into *out: 0, or -1 for any other spelling. */
int dequant_level_parse(const char *name, enum dequant_level *out);

/* The spelling of `level` ("scalar" for anything out of range). */
const char *dequant_level_name(enum dequant_level level);

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
