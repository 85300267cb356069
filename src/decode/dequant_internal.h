/* dequant_internal.h - what the decoders share (block field loads, ggml's
 * fp16 conversion, the unpacking of packed scales, codebooks), the streaming
 * threshold, and the test hooks that reach each vector level directly.
 *
 * Not part of the public API: only the decode module's files, the unit
 * tests, the conformance checker and the benchmarks include it.
 */
#ifndef GGUFFS_DEQUANT_INTERNAL_H
#define GGUFFS_DEQUANT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "decode/dequant.h"
#include "decode/dequant_decoders.h"

/* A single call whose FP32 output is larger than this writes it with
 * streaming (non-temporal) stores, which bypass the caches.
 *
 * Why a fixed 8 MiB: output that large does not stay in one core's share of
 * the cache (L2 plus a slice of the LLC: a few MiB on current x86 server
 * parts), so its first lines are evicted before anyone reads them, and
 * ordinary stores only double the memory traffic (each line is read for
 * ownership before it is written). Smaller outputs stay in cache for whoever
 * reads them next: the mount decodes 128 KiB requests, and passes of a few
 * MiB split over its workers, into buffers it copies out straight after.
 * Measured on a 2-vCPU EPYC with 32 MiB of L3, decoding one buffer over and
 * over: ordinary stores win up to about 10 MiB (twice as fast at 4 and
 * 8 MiB, where the buffer stays in L3), streaming wins from about 12 MiB
 * (1.1x to 1.6x at 16 to 64 MiB). Not sysconf(_SC_LEVEL3_CACHE_SIZE): that
 * is the whole LLC, shared by every core, and in a VM it is what the
 * hypervisor reports (256 MiB on that 32 MiB EPYC). */
#define DQ_STREAM_MIN_BYTES ((uint64_t)8 << 20)

/* The highest level this CPU runs, from its feature flags (and the OS's
 * support for the wider registers). */
enum dequant_level dequant_cpu_level(void);

/* Test hook: decode through `level` exactly, falling back to lower levels only
 * where `level` has no decoder for `type`. Returns -1 if the type has no
 * decoder or the CPU lacks the level. */
int dequant_blocks_at(uint32_t type, enum dequant_level level, const void *src, uint64_t nblocks,
                      float *dst);

/* For the small helpers whose inlining the vector code depends on. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Little-endian loads from unaligned block bytes. */
static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Q3_K's twelve bytes of 6-bit scales as sixteen signed bytes. Always
 * inlined: each vector level's file compiles it with its own instruction
 * set (a legacy-SSE copy called from AVX code stalls on the transition). */
static ALWAYS_INLINE void q3_k_scales(const uint8_t *packed, int8_t out[16])
{
    const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
    uint32_t aux[4];
    memcpy(aux, packed, 12);
    const uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    memcpy(out, aux, 16);
}

/* ggml's get_scale_min_k4: 6-bit scale and min number j of Q4_K/Q5_K. */
static ALWAYS_INLINE void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

/* ggml's IQ4_NL / IQ4_XS codebook (kvalues_iq4nl), 16 bytes: the vector
 * code loads it whole as a pshufb table. */
static const int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                         1,    13,   25,  38,  53,  69,  89,  113};

/* IQ1_M's four u16 scale words (bytes 48-55 of a block) into sc, and the
 * fp16 super-block scale their top nibbles spell. */
static inline uint16_t iq1_m_scales(const uint8_t *blk, uint16_t sc[4])
{
    for (int k = 0; k < 4; k++)
        sc[k] = rd16(blk + 48 + 2 * k);
    return (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) |
                      (sc[3] & 0xf000));
}

/* ggml_e8m0_to_fp32_half: MXFP4's scale 2^(e - 127) halved (its codebook
 * is doubled), as bits: subnormal for e < 2; e = 255 gives +Inf, as in ggml
 * (which does not treat it as NaN). */
static inline float e8m0_half(uint8_t e)
{
    const uint32_t bits = e < 2 ? UINT32_C(0x00200000) << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ggml_ue4m3_to_fp32 (NVFP4's scale: unsigned E4M3, bias 7, bit 7 ignored,
 * 0 and 0x7F are zero, halved for the doubled codebook) built from bits:
 * (1 + man/8) * 2^(exp - 8), or man * 2^-10 for exp 0. Every value is a
 * normal float, so this is exactly what ggml's ldexpf computes (the scalar
 * decoder keeps ggml's own form; the tests compare the two). */
static inline float ue4m3_half(uint8_t x)
{
    const uint32_t exp = (x >> 3) & 0xF, man = x & 0x7;
    if (x == 0x7F || exp == 0)
        return x == 0x7F ? 0.0f : (float)man * 0x1p-10f;
    const uint32_t bits = (exp - 8 + 127) << 23 | man << 20;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ggml's fp16 -> fp32, bit for bit (subnormals, Inf, NaN payloads). */
static inline float dequant_fp16(uint16_t h)
{
    /* ggml's portable conversion: exact for every input, and the same bits as
     * F16C's vcvtph2ps (signalling NaNs come out quiet in both). */
    const uint32_t w = (uint32_t)h << 16;
    const uint32_t sign = w & UINT32_C(0x80000000);
    const uint32_t two_w = w + w;
    union {
        uint32_t u;
        float f;
    } norm, denorm, out;
    norm.u = (two_w >> 4) + (UINT32_C(0xE0) << 23);
    norm.f *= 0x1.0p-112f;
    denorm.u = (two_w >> 17) | (UINT32_C(126) << 23);
    denorm.f -= 0.5f;
    out.u = sign | (two_w < (UINT32_C(1) << 27) ? denorm.u : norm.u);
    return out.f;
}

#endif
