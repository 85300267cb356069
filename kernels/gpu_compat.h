/* gpu_compat.h - the little that differs between hipcc and nvcc.
 *
 * The kernel source is plain CUDA-style C++; this header supplies the one
 * include each compiler wants and the few helpers both spell differently.
 * Everything numeric is written with integer operations so that the two
 * vendors cannot disagree on a bit.
 */
#ifndef GGUFFS_GPU_COMPAT_H
#define GGUFFS_GPU_COMPAT_H

#if defined(__HIPCC__)
#include <hip/hip_runtime.h>
#elif !defined(__CUDACC__)
#error "compile with hipcc or nvcc"
#endif

#include <stdint.h>
#include <string.h>

#define GGUFFS_KERNEL extern "C" __global__

static __device__ __forceinline__ float gguffs_as_float(uint32_t u)
{
    return __uint_as_float(u);
}

static __device__ __forceinline__ uint32_t gguffs_as_uint(float f)
{
    return __float_as_uint(f);
}

/* A 16-byte store that bypasses the caches where it can: the kernel's
 * output is written once and never read back on the device. */
static __device__ __forceinline__ void gguffs_store_stream(float4 *p, float4 v)
{
#if defined(__HIPCC__)
    __builtin_nontemporal_store(v.data, &p->data);
#else
    __stcs(p, v);
#endif
}

/* fp16 -> fp32 by the device's own conversion instruction (cvt.f32.f16,
 * v_cvt_f32_f16): a widening, so exact for every value that is not NaN,
 * subnormals included as long as nothing flushes them (nvcc -ftz=false,
 * hipcc -fno-gpu-flush-denormals-to-zero); a NaN comes out as some NaN,
 * not necessarily the reference's (gpu_ref.h's ref_fp16 is exact for all).
 * The host build of the kernels (tests/gpu/kernel_host.h) takes the host
 * compiler's _Float16 conversion. */
static __device__ __forceinline__ float gguffs_fp16_hw(uint32_t h)
{
#if defined(__HIPCC__)
    return (float)__builtin_bit_cast(_Float16, (uint16_t)h);
#elif defined(__CUDA_ARCH__)
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"((unsigned short)h));
    return f;
#else
    uint16_t b = (uint16_t)h;
    _Float16 x;
    memcpy(&x, &b, sizeof x);
    return (float)x;
#endif
}

#endif
