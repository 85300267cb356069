/* q4_0_dequant.hip - GGUF Q4_0 blocks to FP32, for hipcc and nvcc alike.
 *
 * A Q4_0 block is 18 bytes: an fp16 scale d, then 16 bytes of 4-bit values.
 * Output j < 16 is ((qs[j] & 15) - 8) * d, output j + 16 is
 * ((qs[j] >> 4) - 8) * d. ggml's CPU reference converts the nibble to float
 * and does ONE multiply; the product of an 11-bit significand and a 4-bit
 * integer is exact in fp32, so any IEEE multiply gives the same bits. Never
 * rewrite it as d * q + (-8 * d): that yields +0.0 where the reference gives
 * -0.0 (nibble 8, negative d). The build passes -ffp-contract=off (hipcc) and
 * -fmad=false (nvcc) and keeps denormals, and there is no fma here.
 *
 * NaN is where GPUs and the x86 reference part ways: a GPU multiply returns a
 * canonical NaN, x86 returns the NaN operand made quiet (payload and sign
 * kept), and the invalid product Inf * 0 gives x86's "indefinite" 0xffc00000.
 * Those two cases are written out so the kernel matches the reference bits.
 *
 * Launch shape: eight threads per Q4_0 block, each decoding four values and
 * writing them with one 16-byte streaming store (the output is never read
 * back on the device), so a warp writes 512 contiguous bytes. One thread per
 * block leaves the memory system idle (measured: 303 GB/s vs 3.7 TB/s on an
 * H200). Indices are 64-bit and the grid strides, so any block count works
 * with any grid; the host caps the grid so that each thread takes a few
 * items (docs/gpu.md has the measurements). Unrolling several items per
 * thread measured slower.
 */
#include "gpu_compat.h"

#define Q4_0_BYTES 18
#define THREADS_PER_BLOCK 8

/* fp16 -> fp32 with integer operations only: exact for every input,
 * subnormals, infinities and NaN payloads included. */
static __device__ __forceinline__ uint32_t fp16_to_fp32_bits(uint32_t h)
{
    uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1fu)
        return sign | 0x7f800000u | (mant << 13);
    if (exp != 0)
        return sign | ((exp + 112u) << 23) | (mant << 13);
    if (mant == 0)
        return sign;
    /* subnormal fp16: normal in fp32; shift the leading one into bit 10 */
    uint32_t e = 113u;
    while ((mant & 0x400u) == 0) {
        mant <<= 1;
        e--;
    }
    return sign | (e << 23) | ((mant & 0x3ffu) << 13);
}

/* q * d as the x86 reference computes it (see the note on NaN above). */
static __device__ __forceinline__ uint32_t mul_ref(int q, float d, uint32_t dbits)
{
    uint32_t r = gguffs_as_uint((float)q * d);
    if ((dbits & 0x7fffffffu) > 0x7f800000u)
        r = dbits | 0x00400000u;
    else if ((dbits & 0x7fffffffu) == 0x7f800000u && q == 0)
        r = 0xffc00000u;
    return r;
}

/* Decode item i (block i / 8, quarter i % 8) into four floats. */
static __device__ __forceinline__ float4 decode_item(const uint8_t *__restrict__ src, uint64_t i)
{
    uint64_t b = i / THREADS_PER_BLOCK;
    uint32_t t = (uint32_t)(i % THREADS_PER_BLOCK);
    /* blocks are only 2-byte aligned: read 16-bit words */
    const uint16_t *w = (const uint16_t *)(src + b * Q4_0_BYTES);
    uint32_t dbits = fp16_to_fp32_bits(w[0]);
    float d = gguffs_as_float(dbits);
    /* items 0-3 take the low nibbles of qs[4t..4t+3] (outputs 4t..),
     * items 4-7 the high nibbles of qs[4(t-4)..] (outputs 16+4(t-4)..) */
    uint32_t k = t & 3u;
    uint32_t q = (uint32_t)w[1 + 2 * k] | ((uint32_t)w[2 + 2 * k] << 16);
    if (t >= 4)
        q >>= 4;
    float4 v;
    v.x = gguffs_as_float(mul_ref((int)(q & 15u) - 8, d, dbits));
    v.y = gguffs_as_float(mul_ref((int)((q >> 8) & 15u) - 8, d, dbits));
    v.z = gguffs_as_float(mul_ref((int)((q >> 16) & 15u) - 8, d, dbits));
    v.w = gguffs_as_float(mul_ref((int)((q >> 24) & 15u) - 8, d, dbits));
    return v;
}

GGUFFS_KERNEL void q4_0_to_fp32_kernel(const uint8_t *__restrict__ src, float *__restrict__ dst,
                                       uint64_t nblocks)
{
    uint64_t total = nblocks * THREADS_PER_BLOCK;
    uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    float4 *out = (float4 *)dst;
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride)
        gguffs_store_stream(out + i, decode_item(src, i));
}
