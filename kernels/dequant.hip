/* dequant.hip - GGUF quantized blocks to FP32, for hipcc and nvcc alike.
 *
 * One kernel per ggml type, all in this one code object (loaded once, the
 * kernels looked up by the names the type table gives). Each follows ggml's
 * CPU dequantize_row_* (and src/decode/dequant.c, which mirrors it)
 * operation for operation (xmul, xadd, xsub of gpu_ref.h): the quant as
 * an integer, converted to float at the point the reference converts it,
 * then the same multiplies and subtractions in the same order. Never fold them:
 * Q4_0 as d * q + (-8 * d) gives +0.0 where the reference gives -0.0, and
 * Q4_K as fma(d1, q, -m1) rounds once where the reference rounds twice.
 *
 * Launch shape, the same for every type: one item is four consecutive
 * output values, decoded by one thread and written with one 16-byte
 * streaming store (the output is never read back on the device), so a warp
 * writes 512 contiguous bytes. A block of 32 values is 8 items, one of 256
 * is 64. A thread reads its block's scales (the threads of a block share
 * them through the cache) and the four values' quant bytes. Indices are
 * 64-bit and the grid strides, so any block count works with any grid; the
 * host caps the grid (docs/gpu.md has the measurements).
 *
 * Blocks of 18, 22, 34 and 210 bytes are only 2-byte aligned on the device
 * (a chunk's blocks are packed), so those are read as 16-bit words; Q4_1
 * (20 bytes) and Q5_1 (24) are 4-byte aligned, Q4_K (144) and Q5_K (176)
 * 16-byte aligned.
 */
#include "gpu_ref.h"

/* A grid-strided loop over nblocks * per items of four values, each
 * decoded with the device's arithmetic and, only if a value came out NaN,
 * again with the reference's NaN rules (gpu_ref.h). */
#define ITEMS_KERNEL(name, per, decode)                                                            \
    GGUFFS_KERNEL void name(const uint8_t *__restrict__ src, float *__restrict__ dst,              \
                            uint64_t nblocks)                                                      \
    {                                                                                              \
        uint64_t total = nblocks * (per);                                                          \
        uint64_t stride = (uint64_t)gridDim.x * blockDim.x;                                        \
        float4 *out = (float4 *)dst;                                                               \
        for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;              \
             i += stride) {                                                                        \
            uint64_t b = i / (per);                                                                \
            uint32_t t = (uint32_t)(i % (per));                                                    \
            float4 v = decode<false>(src, b, t);                                                   \
            if (any_nan(v))                                                                        \
                v = decode<true>(src, b, t);                                                       \
            gguffs_store_stream(out + i, v);                                                       \
        }                                                                                          \
    }

/* The same for the K-quants with a scale and a min per sub-block, two
 * items a thread: the 32 lanes of a group take one block's 64 items, lane
 * u items first(u) and second(u), decoded by fast (the device's
 * arithmetic; it may need the whole group) and, when a value came out NaN,
 * by slow (x86's NaN rules, the lane alone). A group never straddles two
 * blocks: the grid's threads and its stride are multiples of 32. Each
 * store of a group still covers whole 128-byte lines. One item a thread
 * ran Q4_K and Q5_K at 69% of the device copy's bandwidth; two adjacent
 * items a thread at 82%, four at 48% (the stores no longer coalesce);
 * items u and u + 32 at 82%: docs/gpu.md. */
#define KQ_KERNEL(name, fast, slow, first, second)                                                 \
    GGUFFS_KERNEL void KQ_BOUNDS name(const uint8_t *__restrict__ src, float *__restrict__ dst,    \
                                      uint64_t nblocks)                                            \
    {                                                                                              \
        uint64_t total = nblocks * 32;                                                             \
        uint64_t stride = (uint64_t)gridDim.x * blockDim.x;                                        \
        float4 *out = (float4 *)dst;                                                               \
        for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;              \
             i += stride) {                                                                        \
            uint64_t b = i / 32;                                                                   \
            uint32_t u = (uint32_t)(i % 32);                                                       \
            float4 v[2];                                                                           \
            fast(src, b, u, v);                                                                    \
            if (any_nan(v[0]) || any_nan(v[1]))                                                    \
                slow(src, b, u, v);                                                                \
            gguffs_store_stream(out + 64 * b + first(u), v[0]);                                    \
            gguffs_store_stream(out + 64 * b + second(u), v[1]);                                   \
        }                                                                                          \
    }

/* ------------------------------------------------------ 32-value blocks --
 * Item t (0-7) of a 32-value block: items 0-3 are outputs 4t.. from the low
 * nibbles of quant bytes 4t..4t+3, items 4-7 outputs 16 + 4(t-4).. from the
 * high nibbles of bytes 4(t-4)..; Q8_0 takes bytes 4t..4t+3 whole. */

/* Four nibbles of the item from the 16 quant bytes at qs. */
static __device__ __forceinline__ uint32_t nibbles(const uint8_t *qs, uint32_t t)
{
    uint32_t q = ld32_2(qs + 4 * (t & 3u));
    return t >= 4 ? (q >> 4) & 0x0f0f0f0fu : q & 0x0f0f0f0fu;
}

/* Q4_0 (18 bytes: d, qs[16]): (nibble - 8) * d. */
template <bool R>
static __device__ __forceinline__ float4 q4_0_item(const uint8_t *src, uint64_t b, uint32_t t)
{
    const uint8_t *blk = src + b * 18;
    float d = ref_fp16(ld16(blk));
    uint32_t q = nibbles(blk + 2, t);
    float4 v;
    v.x = xmul<R>((float)((int)byte_of(q, 0) - 8), d);
    v.y = xmul<R>((float)((int)byte_of(q, 1) - 8), d);
    v.z = xmul<R>((float)((int)byte_of(q, 2) - 8), d);
    v.w = xmul<R>((float)((int)byte_of(q, 3) - 8), d);
    return v;
}

/* Q4_1 (20 bytes: d, m, qs[16]): nibble * d + m. */
template <bool R>
static __device__ __forceinline__ float4 q4_1_item(const uint8_t *src, uint64_t b, uint32_t t)
{
    const uint8_t *blk = src + b * 20;
    float d = ref_fp16(ld16(blk)), m = ref_fp16(ld16(blk + 2));
    uint32_t q = nibbles(blk + 4, t);
    float4 v;
    v.x = xadd<R>(xmul<R>((float)byte_of(q, 0), d), m);
    v.y = xadd<R>(xmul<R>((float)byte_of(q, 1), d), m);
    v.z = xadd<R>(xmul<R>((float)byte_of(q, 2), d), m);
    v.w = xadd<R>(xmul<R>((float)byte_of(q, 3), d), m);
    return v;
}

/* The fifth bits of the item's four values, at bit 4 of each byte: bit j of
 * qh for output j < 16, bit j + 16 for output j + 16 (ggml's xh_0, xh_1). */
static __device__ __forceinline__ uint32_t fifth_bits(uint32_t qh, uint32_t t)
{
    uint32_t h = qh >> (4 * (t & 3u) + (t >= 4 ? 16 : 0));
    return ((h & 1u) << 4) | ((h & 2u) << 11) | ((h & 4u) << 18) | ((h & 8u) << 25);
}

/* Q5_0 (22 bytes: d, qh[4], qs[16]): (5-bit value - 16) * d. */
template <bool R>
static __device__ __forceinline__ float4 q5_0_item(const uint8_t *src, uint64_t b, uint32_t t)
{
    const uint8_t *blk = src + b * 22;
    float d = ref_fp16(ld16(blk));
    uint32_t q = nibbles(blk + 6, t) | fifth_bits(ld32_2(blk + 2), t);
    float4 v;
    v.x = xmul<R>((float)((int)byte_of(q, 0) - 16), d);
    v.y = xmul<R>((float)((int)byte_of(q, 1) - 16), d);
    v.z = xmul<R>((float)((int)byte_of(q, 2) - 16), d);
    v.w = xmul<R>((float)((int)byte_of(q, 3) - 16), d);
    return v;
}

/* Q5_1 (24 bytes: d, m, qh[4], qs[16]): 5-bit value * d + m. */
template <bool R>
static __device__ __forceinline__ float4 q5_1_item(const uint8_t *src, uint64_t b, uint32_t t)
{
    const uint8_t *blk = src + b * 24;
    float d = ref_fp16(ld16(blk)), m = ref_fp16(ld16(blk + 2));
    uint32_t q = nibbles(blk + 8, t) | fifth_bits(ld32_2(blk + 4), t);
    float4 v;
    v.x = xadd<R>(xmul<R>((float)byte_of(q, 0), d), m);
    v.y = xadd<R>(xmul<R>((float)byte_of(q, 1), d), m);
    v.z = xadd<R>(xmul<R>((float)byte_of(q, 2), d), m);
    v.w = xadd<R>(xmul<R>((float)byte_of(q, 3), d), m);
    return v;
}

/* Q8_0 (34 bytes: d, qs[32] signed): q * d. */
template <bool R>
static __device__ __forceinline__ float4 q8_0_item(const uint8_t *src, uint64_t b, uint32_t t)
{
    const uint8_t *blk = src + b * 34;
    float d = ref_fp16(ld16(blk));
    uint32_t q = ld32_2(blk + 2 + 4 * t);
    float4 v;
    v.x = xmul<R>((float)(int8_t)byte_of(q, 0), d);
    v.y = xmul<R>((float)(int8_t)byte_of(q, 1), d);
    v.z = xmul<R>((float)(int8_t)byte_of(q, 2), d);
    v.w = xmul<R>((float)(int8_t)byte_of(q, 3), d);
    return v;
}

/* ----------------------------------------------------- 256-value blocks --
 * Q4_K and Q5_K: eight sub-blocks of 32 values, each with a 6-bit scale
 * and min. Item t (0-63) is outputs 4t..4t+3: sub-block s = t / 8 (pairs
 * of sub-blocks share 32 quant bytes: even s the low nibbles, odd s the
 * high), at l = 4 (t % 8) within it.
 *
 * How a group of 32 lanes decodes a block is chosen at build time by
 * GGUFFS_KQ_VARIANT; bench/kernel_variants builds and measures each
 * (docs/gpu.md). All are bit-exact by the same two passes:
 *   KQ_HALVES  lane u: items u and u + 32 (sub-blocks s and s + 4), the
 *              scales read as bytes, fp16 widened with integer operations
 *   KQ_HWCVT   as KQ_HALVES, but the fp16 scales widened by the conversion
 *              instruction in the common pass (xfp16)
 *   KQ_HDR16   as KQ_HWCVT, the block's first 16 bytes (d, dmin, scales)
 *              in one load, the 6-bit scales and mins unpacked four a word
 *   KQ_SHFL    as KQ_HDR16, but lane u computes only sub-block u % 8's
 *              d * sc and dmin * m, and each lane takes its two by shuffles
 *   KQ_WORDS   as KQ_HDR16, lane u reading quant word u (so a group's quant
 *              loads are one 128-byte run) and decoding both its nibbles
 */
#define KQ_HALVES 0
#define KQ_HWCVT 1
#define KQ_HDR16 2
#define KQ_SHFL 3
#define KQ_WORDS 4
#ifndef GGUFFS_KQ_VARIANT
#define GGUFFS_KQ_VARIANT KQ_HALVES
#endif

/* GGUFFS_KQ_MIN_BLOCKS = N asks nvcc for N CTAs of 256 threads per SM
 * (registers capped to fit: 8 is every thread slot of an SM); unset, the
 * compiler chooses (40 registers for KQ_HALVES on sm_90: 6 CTAs). */
#if defined(GGUFFS_KQ_MIN_BLOCKS) && defined(__CUDACC__) && !defined(GGUFFS_WARP_SERIAL)
#define KQ_BOUNDS __launch_bounds__(256, GGUFFS_KQ_MIN_BLOCKS)
#else
#define KQ_BOUNDS
#endif

#if GGUFFS_KQ_VARIANT == KQ_HALVES
#define KQ_FP16(R, h) ref_fp16(h)
#else
#define KQ_FP16(R, h) xfp16<R>(h)
#endif

/* d1 * q - m1 for the four values in the bytes of q. */
template <bool R>
static __device__ __forceinline__ float4 scaled_minus(uint32_t q, float d1, float m1)
{
    float4 v;
    v.x = xsub<R>(xmul<R>(d1, (float)byte_of(q, 0)), m1);
    v.y = xsub<R>(xmul<R>(d1, (float)byte_of(q, 1)), m1);
    v.z = xsub<R>(xmul<R>(d1, (float)byte_of(q, 2)), m1);
    v.w = xsub<R>(xmul<R>(d1, (float)byte_of(q, 3)), m1);
    return v;
}

#if GGUFFS_KQ_VARIANT == KQ_HALVES || GGUFFS_KQ_VARIANT == KQ_HWCVT
/* ggml's get_scale_min_k4 for sub-block s, from the 12 scale bytes. */
static __device__ __forceinline__ void scale_min_k4(const uint8_t *q, uint32_t s, uint32_t *sc,
                                                    uint32_t *m)
{
    if (s < 4) {
        *sc = q[s] & 63u;
        *m = q[s + 4] & 63u;
    } else {
        *sc = (q[s + 4] & 0xfu) | ((uint32_t)(q[s - 4] >> 6) << 4);
        *m = (q[s + 4] >> 4) | ((uint32_t)(q[s] >> 6) << 4);
    }
}

/* Q4_K (144 bytes: d, dmin, scales[12], qs[128]): items u and u + 32. */
template <bool R>
static __device__ __forceinline__ void q4_k_halves(const uint8_t *src, uint64_t b, uint32_t u,
                                                   float4 *v)
{
    const uint8_t *blk = src + b * 144;
    uint32_t l = 4 * (u % 8);
    float d = KQ_FP16(R, ld16(blk)), dmin = KQ_FP16(R, ld16(blk + 2));
    for (uint32_t k = 0; k < 2; k++) {
        uint32_t s = u / 8 + 4 * k, sc, m;
        scale_min_k4(blk + 4, s, &sc, &m);
        uint32_t q = *(const uint32_t *)(blk + 16 + 32 * (s / 2) + l);
        q = (s & 1u) ? (q >> 4) & 0x0f0f0f0fu : q & 0x0f0f0f0fu;
        v[k] = scaled_minus<R>(q, xmul<R>(d, (float)sc), xmul<R>(dmin, (float)m));
    }
}

/* Q5_K (176 bytes: d, dmin, scales[12], qh[32], qs[128]): the fifth bit of
 * output l of sub-block s is bit s of qh[l] (ggml's u1, u2), adding 16. */
template <bool R>
static __device__ __forceinline__ void q5_k_halves(const uint8_t *src, uint64_t b, uint32_t u,
                                                   float4 *v)
{
    const uint8_t *blk = src + b * 176;
    uint32_t l = 4 * (u % 8);
    float d = KQ_FP16(R, ld16(blk)), dmin = KQ_FP16(R, ld16(blk + 2));
    uint32_t h = *(const uint32_t *)(blk + 16 + l);
    for (uint32_t k = 0; k < 2; k++) {
        uint32_t s = u / 8 + 4 * k, sc, m;
        scale_min_k4(blk + 4, s, &sc, &m);
        uint32_t q = *(const uint32_t *)(blk + 48 + 32 * (s / 2) + l);
        q = (s & 1u) ? (q >> 4) & 0x0f0f0f0fu : q & 0x0f0f0f0fu;
        q |= ((h >> s) & 0x01010101u) << 4;
        v[k] = scaled_minus<R>(q, xmul<R>(d, (float)sc), xmul<R>(dmin, (float)m));
    }
}

#else

/* A block's first 16 bytes, d, dmin and the 12 scale bytes, with the eight
 * sub-blocks' 6-bit scales and mins unpacked four to a word: byte t of the
 * lo words is sub-block t's, of the hi words sub-block 4 + t's
 * (get_scale_min_k4 for all eight at once). */
struct kq_head {
    float d, dmin;
    uint32_t sc_lo, m_lo, sc_hi, m_hi;
};

template <bool R> static __device__ __forceinline__ kq_head kq_head_of(const uint8_t *blk)
{
    uint4 w = *(const uint4 *)blk;
    kq_head k;
    k.d = xfp16<R>(w.x & 0xffffu);
    k.dmin = xfp16<R>(w.x >> 16);
    k.sc_lo = w.y & 0x3f3f3f3fu;
    k.m_lo = w.z & 0x3f3f3f3fu;
    k.sc_hi = (w.w & 0x0f0f0f0fu) | ((w.y >> 2) & 0x30303030u);
    k.m_hi = ((w.w >> 4) & 0x0f0f0f0fu) | ((w.z >> 2) & 0x30303030u);
    return k;
}

/* d * sc and dmin * m of sub-block 4 hi + t. */
template <bool R>
static __device__ __forceinline__ void kq_sub(const kq_head &k, bool hi, uint32_t t, float *d1,
                                              float *m1)
{
    *d1 = xmul<R>(k.d, (float)byte_of(hi ? k.sc_hi : k.sc_lo, (int)t));
    *m1 = xmul<R>(k.dmin, (float)byte_of(hi ? k.m_hi : k.m_lo, (int)t));
}

/* The four quants at l of sub-block s: nibbles of qs, and for Q5_K the
 * fifth bits from qh. */
template <bool Q5>
static __device__ __forceinline__ uint32_t kq_quants(const uint8_t *blk, uint32_t s, uint32_t l)
{
    uint32_t q = *(const uint32_t *)(blk + (Q5 ? 48 : 16) + 32 * (s / 2) + l);
    q = (s & 1u) ? (q >> 4) & 0x0f0f0f0fu : q & 0x0f0f0f0fu;
    if (Q5)
        q |= ((*(const uint32_t *)(blk + 16 + l) >> s) & 0x01010101u) << 4;
    return q;
}

/* KQ_HDR16: items u and u + 32 (sub-blocks u / 8 and u / 8 + 4). */
template <bool R, bool Q5>
static __device__ __forceinline__ void kq_hdr16(const uint8_t *src, uint64_t b, uint32_t u,
                                                float4 *v)
{
    const uint8_t *blk = src + b * (Q5 ? 176 : 144);
    kq_head k = kq_head_of<R>(blk);
    for (uint32_t h = 0; h < 2; h++) {
        float d1, m1;
        kq_sub<R>(k, h == 1, u / 8, &d1, &m1);
        v[h] = scaled_minus<R>(kq_quants<Q5>(blk, u / 8 + 4 * h, 4 * (u % 8)), d1, m1);
    }
}

/* KQ_SHFL's common pass: the items of KQ_HDR16, with sub-block s's d1 and
 * m1 taken from lane s, which computed them as its own (u % 8). Needs all
 * 32 lanes, so the NaN pass, which only some may take, is kq_hdr16's. The
 * host build runs one lane at a time (GGUFFS_WARP_SERIAL): there a lane
 * computes what lane s would have. */
template <bool Q5>
static __device__ __forceinline__ void kq_shfl(const uint8_t *src, uint64_t b, uint32_t u,
                                               float4 *v)
{
    const uint8_t *blk = src + b * (Q5 ? 176 : 144);
    kq_head k = kq_head_of<false>(blk);
    float own_d1, own_m1;
    kq_sub<false>(k, u % 8 >= 4, u % 4, &own_d1, &own_m1);
    for (uint32_t h = 0; h < 2; h++) {
        float d1, m1;
#if defined(GGUFFS_WARP_SERIAL)
        kq_sub<false>(k, h == 1, u / 8, &d1, &m1);
        (void)own_d1;
        (void)own_m1;
#else
        d1 = gguffs_shfl32(own_d1, u / 8 + 4 * h);
        m1 = gguffs_shfl32(own_m1, u / 8 + 4 * h);
#endif
        v[h] = scaled_minus<false>(kq_quants<Q5>(blk, u / 8 + 4 * h, 4 * (u % 8)), d1, m1);
    }
}

/* KQ_WORDS: lane u takes quant word u (bytes 4u..4u+3 of qs): its low
 * nibbles are sub-block 2j's, its high 2j + 1's (j = u / 8) at l = 4 (u %
 * 8), so items 16j + u % 8 and 16j + 8 + u % 8. */
template <bool R, bool Q5>
static __device__ __forceinline__ void kq_words(const uint8_t *src, uint64_t b, uint32_t u,
                                                float4 *v)
{
    const uint8_t *blk = src + b * (Q5 ? 176 : 144);
    kq_head k = kq_head_of<R>(blk);
    uint32_t j = u / 8;
    for (uint32_t h = 0; h < 2; h++) {
        float d1, m1;
        kq_sub<R>(k, j >= 2, (2 * j + h) & 3u, &d1, &m1);
        v[h] = scaled_minus<R>(kq_quants<Q5>(blk, 2 * j + h, 4 * (u % 8)), d1, m1);
    }
}

#endif

/* The variant's two passes, and where lane u's two items go. */
#if GGUFFS_KQ_VARIANT == KQ_HALVES || GGUFFS_KQ_VARIANT == KQ_HWCVT
#define KQ_PASS(R, Q5, src, b, u, v)                                                               \
    ((Q5) ? q5_k_halves<R>(src, b, u, v) : q4_k_halves<R>(src, b, u, v))
#elif GGUFFS_KQ_VARIANT == KQ_HDR16
#define KQ_PASS(R, Q5, src, b, u, v) kq_hdr16<R, Q5>(src, b, u, v)
#elif GGUFFS_KQ_VARIANT == KQ_SHFL
#define KQ_PASS(R, Q5, src, b, u, v)                                                               \
    ((R) ? kq_hdr16<true, Q5>(src, b, u, v) : kq_shfl<Q5>(src, b, u, v))
#elif GGUFFS_KQ_VARIANT == KQ_WORDS
#define KQ_PASS(R, Q5, src, b, u, v) kq_words<R, Q5>(src, b, u, v)
#else
#error "GGUFFS_KQ_VARIANT is one of KQ_HALVES, KQ_HWCVT, KQ_HDR16, KQ_SHFL, KQ_WORDS"
#endif

#if GGUFFS_KQ_VARIANT == KQ_WORDS
#define KQ_FIRST(u) (16 * ((u) / 8) + (u) % 8)
#define KQ_SECOND(u) (16 * ((u) / 8) + 8 + (u) % 8)
#else
#define KQ_FIRST(u) (u)
#define KQ_SECOND(u) ((u) + 32)
#endif

template <bool R>
static __device__ __forceinline__ void q4_k_pass(const uint8_t *src, uint64_t b, uint32_t u,
                                                 float4 *v)
{
    KQ_PASS(R, false, src, b, u, v);
}

template <bool R>
static __device__ __forceinline__ void q5_k_pass(const uint8_t *src, uint64_t b, uint32_t u,
                                                 float4 *v)
{
    KQ_PASS(R, true, src, b, u, v);
}

/* Q6_K (210 bytes: ql[128], qh[64], scales[16] signed, d). Outputs come in
 * two halves of 128; in half n, quarter g (0-3) of 32 values at l takes the
 * low (g 0, 1) or high (g 2, 3) nibbles of ql[64n + l (+32 for g 1, 3)],
 * bits 2g, 2g+1 of qh[32n + l] above them, minus 32, times d * scales[8n +
 * l / 16 + 2g]: (d * sc) * q, as the reference multiplies. */
template <bool R>
static __device__ __forceinline__ float4 q6_k_item(const uint8_t *src, uint64_t b, uint32_t t)
{
    const uint8_t *blk = src + b * 210;
    uint32_t o = 4 * t, n = o / 128, g = (o % 128) / 32, l = o % 32;
    uint32_t ql = ld32_2(blk + 64 * n + l + 32 * (g & 1u));
    uint32_t qh = ld32_2(blk + 128 + 32 * n + l);
    uint32_t q = ((g >= 2 ? ql >> 4 : ql) & 0x0f0f0f0fu) | (((qh >> (2 * g)) & 0x03030303u) << 4);
    float d = ref_fp16(ld16(blk + 208));
    float ds = xmul<R>(d, (float)(int8_t)blk[192 + 8 * n + l / 16 + 2 * g]);
    float4 v;
    v.x = xmul<R>(ds, (float)((int)byte_of(q, 0) - 32));
    v.y = xmul<R>(ds, (float)((int)byte_of(q, 1) - 32));
    v.z = xmul<R>(ds, (float)((int)byte_of(q, 2) - 32));
    v.w = xmul<R>(ds, (float)((int)byte_of(q, 3) - 32));
    return v;
}

ITEMS_KERNEL(q4_0_to_fp32_kernel, 8, q4_0_item)
ITEMS_KERNEL(q4_1_to_fp32_kernel, 8, q4_1_item)
ITEMS_KERNEL(q5_0_to_fp32_kernel, 8, q5_0_item)
ITEMS_KERNEL(q5_1_to_fp32_kernel, 8, q5_1_item)
ITEMS_KERNEL(q8_0_to_fp32_kernel, 8, q8_0_item)
KQ_KERNEL(q4_k_to_fp32_kernel, q4_k_pass<false>, q4_k_pass<true>, KQ_FIRST, KQ_SECOND)
KQ_KERNEL(q5_k_to_fp32_kernel, q5_k_pass<false>, q5_k_pass<true>, KQ_FIRST, KQ_SECOND)
ITEMS_KERNEL(q6_k_to_fp32_kernel, 64, q6_k_item)
