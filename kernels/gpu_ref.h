/* gpu_ref.h - ggml's CPU arithmetic, bit for bit, on a GPU.
 *
 * The reference is ggml's scalar dequantization as compiled for x86 (the
 * only hosts these GPUs are served from here). Finite results of one IEEE
 * operation are the same everywhere, so the kernels do each operation the
 * reference does, in its order, with contraction off (-fmad=false,
 * -ffp-contract=off: a fused multiply-add rounds once where the reference
 * rounds twice) and denormals kept. What differs is NaN: a GPU returns a
 * canonical NaN, x86 SSE returns the first NaN operand made quiet (sign and
 * payload kept), else the second, and for an invalid operation on numbers
 * (Inf * 0, Inf - Inf) its "indefinite" NaN 0xffc00000. ref_mul/ref_add/
 * ref_sub give x86's NaN.
 *
 * Operand order matters for NaN only where both operands can be NaN; the
 * kernels write each operation with the operands in the order the
 * reference's compiled code has them (docs/gpu.md, "Bit-exactness").
 */
#ifndef GGUFFS_GPU_REF_H
#define GGUFFS_GPU_REF_H

#include "gpu_compat.h"

/* The device's own result of one operation. tests/gpu/kernel_on_host.cpp
 * builds these kernels as host C++ and defines it to turn every NaN into
 * the canonical one, as a GPU does, to check the NaN rules below on any
 * machine. */
#ifndef GPU_RAW
#define GPU_RAW(x) (x)
#endif

#define REF_QUIET 0x00400000u
#define REF_INDEFINITE 0xffc00000u

static __device__ __forceinline__ bool ref_isnan_bits(uint32_t u)
{
    return (u & 0x7fffffffu) > 0x7f800000u;
}

/* fp16 -> fp32 as ggml's CPU conversion (and F16C) gives it: exact for
 * every input, subnormals normalised, NaN sign and payload kept with the
 * quiet bit set. Integer operations only, so no vendor conversion
 * instruction or flush-to-zero mode can change a bit. */
static __device__ __forceinline__ float ref_fp16(uint32_t h)
{
    uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1fu)
        return gguffs_as_float(sign | 0x7f800000u | (mant << 13) | (mant ? REF_QUIET : 0u));
    if (exp != 0)
        return gguffs_as_float(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0)
        return gguffs_as_float(sign);
    /* subnormal fp16: normal in fp32; shift the leading one into bit 10 */
    uint32_t e = 113u;
    while ((mant & 0x400u) == 0) {
        mant <<= 1;
        e--;
    }
    return gguffs_as_float(sign | (e << 23) | ((mant & 0x3ffu) << 13));
}

/* The NaN x86 returns for an operation on a and b whose result is NaN. */
static __device__ __forceinline__ float ref_nan(float a, float b)
{
    uint32_t ua = gguffs_as_uint(a), ub = gguffs_as_uint(b);
    if (ref_isnan_bits(ua))
        return gguffs_as_float(ua | REF_QUIET);
    if (ref_isnan_bits(ub))
        return gguffs_as_float(ub | REF_QUIET);
    return gguffs_as_float(REF_INDEFINITE);
}

static __device__ __forceinline__ float ref_mul(float a, float b)
{
    float r = GPU_RAW(a * b);
    return ref_isnan_bits(gguffs_as_uint(r)) ? ref_nan(a, b) : r;
}

static __device__ __forceinline__ float ref_add(float a, float b)
{
    float r = GPU_RAW(a + b);
    return ref_isnan_bits(gguffs_as_uint(r)) ? ref_nan(a, b) : r;
}

static __device__ __forceinline__ float ref_sub(float a, float b)
{
    float r = GPU_RAW(a - b);
    return ref_isnan_bits(gguffs_as_uint(r)) ? ref_nan(a, b) : r;
}

/* The arithmetic of a kernel's two passes. Pass R = false is the device's
 * own, which is right unless a value comes out NaN; NaN propagates through
 * every later operation, so one look at the final values tells, and only
 * then (rarely: a NaN or infinite scale) the item is decoded again with
 * R = true, x86's NaN rules. The common path pays one compare per value. */
template <bool R> static __device__ __forceinline__ float xmul(float a, float b)
{
    return R ? ref_mul(a, b) : GPU_RAW(a * b);
}

template <bool R> static __device__ __forceinline__ float xadd(float a, float b)
{
    return R ? ref_add(a, b) : GPU_RAW(a + b);
}

template <bool R> static __device__ __forceinline__ float xsub(float a, float b)
{
    return R ? ref_sub(a, b) : GPU_RAW(a - b);
}

/* An fp16 scale in pass R: the device's conversion instruction in the
 * common pass (exact unless the input is NaN), ref_fp16's integer path in
 * the NaN pass. A NaN scale makes every value it scales NaN (d * sc,
 * then minus dmin * m), so the common pass never keeps a value that a NaN
 * scale produced: the NaN pass redoes the item, and exactly. */
template <bool R> static __device__ __forceinline__ float xfp16(uint32_t h)
{
    return R ? ref_fp16(h) : gguffs_fp16_hw(h);
}

static __device__ __forceinline__ uint32_t umax32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

/* Whether any of the four is NaN: the largest magnitude's bits, once. */
static __device__ __forceinline__ bool any_nan(float4 v)
{
    uint32_t m =
        umax32(umax32(gguffs_as_uint(v.x) & 0x7fffffffu, gguffs_as_uint(v.y) & 0x7fffffffu),
               umax32(gguffs_as_uint(v.z) & 0x7fffffffu, gguffs_as_uint(v.w) & 0x7fffffffu));
    return m > 0x7f800000u;
}

/* Little-endian loads from blocks that are only 2-byte aligned. */
static __device__ __forceinline__ uint32_t ld16(const uint8_t *p)
{
    return *(const uint16_t *)p;
}

static __device__ __forceinline__ uint32_t ld32_2(const uint8_t *p)
{
    const uint16_t *w = (const uint16_t *)p;
    return (uint32_t)w[0] | ((uint32_t)w[1] << 16);
}

/* Byte k (0-3) of a word. */
static __device__ __forceinline__ uint32_t byte_of(uint32_t w, int k)
{
    return (w >> (8 * k)) & 0xffu;
}

#endif
