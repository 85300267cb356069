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
 * u items u and u + 32, decoded by fast (the device's arithmetic) and,
 * when a value came out NaN, by slow (x86's NaN rules). A group never
 * straddles two blocks: the grid's threads and its stride are multiples of
 * 32, and each of a group's two stores covers whole 128-byte lines. One
 * item a thread ran Q4_K and Q5_K at 69% of the device copy's bandwidth;
 * two adjacent items a thread at 82%, four at 48% (the stores no longer
 * coalesce); items u and u + 32 at 82%, with the fp16 scales widened by
 * integer operations: docs/gpu.md. */
#define KQ_KERNEL(name, fast, slow)                                                                \
    GGUFFS_KERNEL void name(const uint8_t *__restrict__ src, float *__restrict__ dst,              \
                            uint64_t nblocks)                                                      \
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
            gguffs_store_stream(out + 64 * b + u, v[0]);                                           \
            gguffs_store_stream(out + 64 * b + u + 32, v[1]);                                      \
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
 * high), at l = 4 (t % 8) within it. Lane u of a group takes items u and
 * u + 32 (sub-blocks u / 8 and u / 8 + 4).
 *
 * The fp16 d and dmin are widened by the device's conversion instruction
 * in the common pass and by ref_fp16's integer path in the NaN pass
 * (xfp16): the instruction is exact but for NaN, and a NaN d or dmin makes
 * the whole item NaN, so the NaN pass redoes it. The integer path in both
 * passes ran at 81 % of a device copy, the instruction at 93 %; reading
 * the 16-byte header in one load, shuffling the scales between lanes or a
 * lane taking a whole quant word did no better (docs/gpu.md). */

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

/* Q4_K (144 bytes: d, dmin, scales[12], qs[128]): items u and u + 32. */
template <bool R>
static __device__ __forceinline__ void q4_k_pass(const uint8_t *src, uint64_t b, uint32_t u,
                                                 float4 *v)
{
    const uint8_t *blk = src + b * 144;
    uint32_t l = 4 * (u % 8);
    float d = xfp16<R>(ld16(blk)), dmin = xfp16<R>(ld16(blk + 2));
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
static __device__ __forceinline__ void q5_k_pass(const uint8_t *src, uint64_t b, uint32_t u,
                                                 float4 *v)
{
    const uint8_t *blk = src + b * 176;
    uint32_t l = 4 * (u % 8);
    float d = xfp16<R>(ld16(blk)), dmin = xfp16<R>(ld16(blk + 2));
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
KQ_KERNEL(q4_k_to_fp32_kernel, q4_k_pass<false>, q4_k_pass<true>)
KQ_KERNEL(q5_k_to_fp32_kernel, q5_k_pass<false>, q5_k_pass<true>)
ITEMS_KERNEL(q6_k_to_fp32_kernel, 64, q6_k_item)
