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

#endif
