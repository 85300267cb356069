/* sim_libcuda - a libcuda.so.1 whose device is the host: the CUDA driver
 * entry points gguffs resolves, over plain memory, with the kernels' own
 * source (kernels/dequant.hip) built as host C++ and run synchronously, every
 * NaN canonical as on a GPU (the shim of tests/gpu/kernel_host.h).
 *
 * With it, the whole GPU path (backend, module and kernel lookup, lanes,
 * the chunked pipeline, GPU windows in the read path, .control) runs on a
 * machine without a GPU: test-gpu-mount.sh runs against it as
 * gpu-mount-simulated. It proves the host side and the kernels' logic, not
 * a device compiler or a real driver's timing; gpu-mount is for those.
 * Device pointers are host pointers; streams and events are bookkeeping.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kernel_host.h"

typedef void (*kernel_fn)(const uint8_t *, float *, uint64_t);

static const struct {
    const char *name;
    kernel_fn fn;
} kernels[] = {
    {"q4_0_to_fp32_kernel", q4_0_to_fp32_kernel}, {"q4_1_to_fp32_kernel", q4_1_to_fp32_kernel},
    {"q5_0_to_fp32_kernel", q5_0_to_fp32_kernel}, {"q5_1_to_fp32_kernel", q5_1_to_fp32_kernel},
    {"q8_0_to_fp32_kernel", q8_0_to_fp32_kernel}, {"q4_k_to_fp32_kernel", q4_k_to_fp32_kernel},
    {"q5_k_to_fp32_kernel", q5_k_to_fp32_kernel}, {"q6_k_to_fp32_kernel", q6_k_to_fp32_kernel},
};

#define NOT_FOUND 500
#define OUT_OF_MEMORY 2

extern "C" {
int cuInit(unsigned flags)
{
    (void)flags;
    return 0;
}

int cuDeviceGetCount(int *count)
{
    *count = 1;
    return 0;
}

int cuDeviceGet(int *dev, int ordinal)
{
    *dev = ordinal;
    return ordinal == 0 ? 0 : 101; /* invalid device */
}

int cuDeviceGetName(char *buf, int len, int dev)
{
    (void)dev;
    snprintf(buf, (size_t)len, "simulated (host)");
    return 0;
}

int cuDevicePrimaryCtxRetain(void **ctx, int dev)
{
    (void)dev;
    *ctx = (void *)kernels;
    return 0;
}

int cuDevicePrimaryCtxRelease_v2(int dev)
{
    (void)dev;
    return 0;
}

int cuCtxSetCurrent(void *ctx)
{
    (void)ctx;
    return 0;
}

int cuGetErrorName(int code, const char **name)
{
    *name = code == NOT_FOUND ? "CUDA_ERROR_NOT_FOUND" : "CUDA_ERROR_OUT_OF_MEMORY";
    return 0;
}

int cuModuleLoadData(void **mod, const void *image)
{
    (void)image;
    *mod = (void *)kernels;
    return 0;
}

int cuModuleUnload(void *mod)
{
    (void)mod;
    return 0;
}

int cuModuleGetFunction(void **fn, void *mod, const char *name)
{
    (void)mod;
    for (const auto &k : kernels) {
        if (strcmp(k.name, name) == 0) {
            *fn = (void *)k.fn;
            return 0;
        }
    }
    return NOT_FOUND;
}

int cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                   unsigned bz, unsigned shared, void *stream, void **args, void **extra)
{
    (void)gy, (void)gz, (void)by, (void)bz, (void)shared, (void)stream, (void)extra;
    const uint8_t *src = *(const uint8_t **)args[0];
    float *dst = *(float **)args[1];
    uint64_t nblocks = *(uint64_t *)args[2];
    gridDim.x = gx;
    blockDim.x = bx;
    for (blockIdx.x = 0; blockIdx.x < gx; blockIdx.x++)
        for (threadIdx.x = 0; threadIdx.x < bx; threadIdx.x++)
            ((kernel_fn)fn)(src, dst, nblocks);
    return 0;
}

int cuMemAlloc_v2(uint64_t *p, size_t n)
{
    void *q = aligned_alloc(256, (n + 255) / 256 * 256);
    *p = (uint64_t)(uintptr_t)q;
    return q ? 0 : OUT_OF_MEMORY;
}

int cuMemFree_v2(uint64_t p)
{
    free((void *)(uintptr_t)p);
    return 0;
}

int cuMemHostAlloc(void **p, size_t n, unsigned flags)
{
    (void)flags;
    *p = malloc(n);
    return *p ? 0 : OUT_OF_MEMORY;
}

int cuMemFreeHost(void *p)
{
    free(p);
    return 0;
}

int cuStreamCreate(void **s, unsigned flags)
{
    (void)flags;
    *s = malloc(1);
    return *s ? 0 : OUT_OF_MEMORY;
}

int cuStreamDestroy_v2(void *s)
{
    free(s);
    return 0;
}

int cuStreamSynchronize(void *s)
{
    (void)s;
    return 0;
}

int cuMemcpyHtoDAsync_v2(uint64_t dst, const void *src, size_t n, void *s)
{
    (void)s;
    memcpy((void *)(uintptr_t)dst, src, n);
    return 0;
}

int cuMemcpyDtoHAsync_v2(void *dst, uint64_t src, size_t n, void *s)
{
    (void)s;
    memcpy(dst, (const void *)(uintptr_t)src, n);
    return 0;
}

int cuMemcpyDtoDAsync_v2(uint64_t dst, uint64_t src, size_t n, void *s)
{
    (void)s;
    memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
    return 0;
}

int cuEventCreate(void **e, unsigned flags)
{
    (void)flags;
    *e = calloc(1, sizeof(double));
    return *e ? 0 : OUT_OF_MEMORY;
}

int cuEventDestroy_v2(void *e)
{
    free(e);
    return 0;
}

int cuEventRecord(void *e, void *s)
{
    (void)s;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    *(double *)e = (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
    return 0;
}

int cuEventSynchronize(void *e)
{
    (void)e;
    return 0;
}

int cuEventElapsedTime(float *ms, void *start, void *stop)
{
    *ms = (float)(*(double *)stop - *(double *)start);
    return 0;
}
}
