/* random_blocks.h - random, valid ggml blocks with the hard cases planted.
 *
 * Shared by the conformance checker, the unit tests and the benchmark. A
 * block's quant bytes are random; nibble 8 (byte 0x88) is planted often (it
 * decodes to -0.0 under a negative Q4_0 scale); fp16/fp32 scales are drawn
 * from a mix of ordinary values, fully random bits and specials: +-0,
 * subnormals, +-Inf, quiet and signalling NaNs with payloads (IQ1_M's
 * scale, spread over four words, and MXFP4's E8M0 exponent included). F16
 * and BF16 data is random 16-bit patterns, and a buffer starting at element
 * 0 of at least 65536 elements holds every pattern once, in order. F64 data
 * plants doubles that overflow, tie or vanish as floats, and NaN payloads.
 * Random quant bytes reach grid indices and sign bits at random; the
 * conformance checker reaches every grid entry on purpose.
 *
 * Deterministic for a seed; no state outside the caller's rng.
 */
#ifndef GGUFFS_RANDOM_BLOCKS_H
#define GGUFFS_RANDOM_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

struct rb_rng {
    uint64_t s;
};

static inline uint64_t rb_next(struct rb_rng *r)
{
    /* splitmix64: tiny, fast, good enough for test data. */
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Block geometry of a type this generator knows, or 0 for an unknown type. */
uint32_t rb_block_elems(uint32_t type);
uint32_t rb_block_bytes(uint32_t type);

/* Fills `nblocks` blocks of `type` at `out` (nblocks * rb_block_bytes bytes).
 * Returns 0, or -1 for a type the generator does not know. */
int rb_fill(uint32_t type, uint64_t nblocks, struct rb_rng *rng, uint8_t *out);

#endif
