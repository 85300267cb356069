/* kernel_host.h - the GPU kernels' source (kernels/dequant.hip) built as
 * host C++, for tests: the little of the CUDA runtime the source uses,
 * stood in for, with every NaN a multiply or add gives made canonical
 * (0x7fffffff) as a GPU's arithmetic makes it. Included by
 * kernel_on_host.cpp and sim/sim_libcuda.cpp; __CUDACC__ selects the CUDA
 * spelling in gpu_compat.h.
 */
#ifndef GGUFFS_KERNEL_HOST_H
#define GGUFFS_KERNEL_HOST_H

#include <stdint.h>
#include <string.h>

#define __CUDACC__ 1
#define __device__
#define __forceinline__ inline
#define __global__

struct float4 {
    float x, y, z, w;
};

static inline float __uint_as_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint32_t __float_as_uint(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline void __stcs(float4 *p, float4 v)
{
    *p = v;
}

/* Every NaN canonical, as the GPU's arithmetic gives it. */
static inline float gpu_canonical(float x)
{
    uint32_t u = __float_as_uint(x);
    return (u & 0x7fffffffu) > 0x7f800000u ? __uint_as_float(0x7fffffffu) : x;
}
#define GPU_RAW(x) gpu_canonical(x)

/* One "thread" at a time: the caller walks every (CTA, thread) of a grid,
 * setting these (per host thread: the simulated driver may run launches
 * on several). */
struct dim3 {
    unsigned x;
};
static thread_local dim3 gridDim, blockDim, blockIdx, threadIdx;

#include "dequant.hip"

#endif
